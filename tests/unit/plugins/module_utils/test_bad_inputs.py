# -*- coding: utf-8 -*-
"""Unit tests: names that are not valid UTF-8, control characters in env files, documents and
Python files nested too deeply for their parsers."""

from __future__ import annotations

import json
import os

import pytest

from ansible_collections.sutazai.consolidation.plugins.module_utils import _agents, _compose, _env, _services
from ansible_collections.sutazai.consolidation.plugins.module_utils._errors import ConsolidationError, python_too_deep
from ansible_collections.sutazai.consolidation.plugins.module_utils._tree import (
    NOT_UTF8_NAME,
    display_path,
    is_decodable,
    undecodable_names,
    undecodable_warning,
    walk_tree,
)

DEEP = "[" * 200000


def _put(root, rel, data=b"x\n"):
    path = os.path.join(os.fsencode(str(root)), rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)
    return path


# -- walk_tree ----------------------------------------------------------------------------------
def test_display_path_escapes_only_the_bad_bytes():
    assert display_path(os.fsdecode(b"docs/bad\xff.md")) == "docs/bad\\xff.md"
    assert display_path("docs/caf\u00e9.md") == "docs/caf\u00e9.md"
    assert not is_decodable(os.fsdecode(b"bad\xff")) and is_decodable("caf\u00e9")
    json.dumps(display_path(os.fsdecode(b"\xfe\xff")), ensure_ascii=False).encode("utf-8")


def test_walk_skips_and_lists_undecodable_file_and_folder(tmp_path):
    _put(tmp_path, b"docs/good.md")
    _put(tmp_path, b"docs/bad\xff.md")
    _put(tmp_path, b"x\xfe/inside.md")
    _put(tmp_path, b"x\xfe/deeper/more.md")
    walk = walk_tree(str(tmp_path))
    assert [f.rel for f in walk.files] == ["docs/good.md"]
    assert walk.skipped == [{"path": "docs/bad\\xff.md", "reason": NOT_UTF8_NAME},
                            {"path": "x\\xfe", "reason": NOT_UTF8_NAME}]
    for s in walk.skipped:
        s["path"].encode("utf-8")
    assert undecodable_names(walk.skipped) == ["docs/bad\\xff.md", "x\\xfe"]
    msg = undecodable_warning(walk.skipped, "terms")
    assert msg.startswith("terms phase skipped 2 file(s) or folder(s) whose name is not valid UTF-8")
    assert "docs/bad\\xff.md, x\\xfe" in msg
    assert undecodable_warning([{"path": "a", "reason": "virtualenv"}], "terms") is None


def test_walk_lists_an_undecodable_file_only_when_it_matches(tmp_path):
    _put(tmp_path, b"bad\xff.md")
    _put(tmp_path, b"bad\xff.env")
    _put(tmp_path, b"f\xfe/x.env")
    walk = walk_tree(str(tmp_path), match=lambda rel: rel.endswith(".env"))
    assert walk.files == []
    assert [s["path"] for s in walk.skipped] == ["bad\\xff.env", "f\\xfe"]


def test_walk_skips_a_symlink_to_an_undecodable_name(tmp_path):
    target = _put(tmp_path, b"real\xff/file.md")
    os.symlink(os.path.dirname(target), os.path.join(str(tmp_path), "link"))
    walk = walk_tree(str(tmp_path))
    assert walk.files == []
    reasons = dict((s["path"], s["reason"]) for s in walk.skipped)
    assert reasons["real\\xff"] == NOT_UTF8_NAME
    assert NOT_UTF8_NAME in reasons["link"] and reasons["link"].startswith("symlink target")


# -- env control characters ---------------------------------------------------------------------
@pytest.mark.parametrize("char,name", [("\x00", "NUL"), ("\x01", "C0 control"), ("\x07", "BEL"), ("\x1b", "ESC"),
                                       ("\x0b", "VT"), ("\x0c", "FF")])
def test_env_control_character_is_an_error_with_line_and_column(char, name):
    entries, errors, dummy = _env.parse_env_text("A=1\nB=zq%sjw\nC=3\n" % char, "config/x.env")
    assert [e.key for e in entries] == ["A", "C"]
    assert [(e.path, e.line, e.column, e.kind) for e in errors] == [("config/x.env", 2, 5, "control_character")]
    assert "0x%02x (%s)" % (ord(char), name) in errors[0].message
    assert "zq" not in str(errors[0]) and "jw" not in str(errors[0])  # the value is never shown
    assert errors[0].as_dict()["column"] == 5


def test_env_tab_is_allowed_and_comment_lines_count():
    entries, errors, dummy = _env.parse_env_text("A=\tspaced\n# note\x00\nB=2\n", "x.env")
    assert [e.key for e in entries] == ["A", "B"] and entries[0].value == "spaced"
    assert [(e.line, e.column) for e in errors] == [(2, 7)]


def test_env_control_character_in_a_multi_line_value_names_its_line():
    errors = _env.parse_env_text('A=1\nB="first\nsec\x00ond"\n', "x.env")[1]
    assert [(e.line, e.column) for e in errors] == [(3, 4)]


def test_env_read_values_leaves_out_bindings_with_control_characters(tmp_path):
    p = tmp_path / ".env"
    p.write_bytes(b"PASS=se\x00cret\nPORT=5432\n")
    assert _env.read_values(str(p), ".env") == {"PORT": "5432"}


# -- too deep -----------------------------------------------------------------------------------
def _too_deep(call):
    with pytest.raises(ConsolidationError) as info:
        call()
    assert info.value.kind == "too_deep" and "nested too deeply" in info.value.message
    return info.value


def test_deep_json_registry_is_too_deep():
    err = _too_deep(lambda: _agents.load_json("agents/agent_registry.json", DEEP.encode()))
    assert err.path == "agents/agent_registry.json"
    assert _too_deep(lambda: _services.load_json("config/consul-services.json", DEEP)).path == "config/consul-services.json"


def test_deep_closed_json_is_too_deep_too():
    _too_deep(lambda: _services.load_json("c.json", "[" * 100000 + "]" * 100000))


def test_deep_yaml_is_too_deep():
    assert _too_deep(lambda: _services.load_yaml("config/services.yaml", DEEP)).path == "config/services.yaml"
    assert _too_deep(lambda: _compose.compose_tree("services:\n  x:\n    image: " + DEEP + "\n", "dc.yml")).path == "dc.yml"


def test_deep_front_matter_is_read_line_by_line():
    fm = _agents.parse_front_matter("---\nname: deep\nx: %s\n---\nbody\n" % DEEP)
    assert fm["mode"] == "lines" and fm["fields"]["name"] == "deep"


@pytest.mark.parametrize("source", [
    "x = " + "(" * 200000 + "\n",
    "x = a" + ".b" * 200000 + "\n",
    "x = " + "-" * 200000 + "1\n",
])
def test_python_nested_too_deeply(source):
    err = python_too_deep(source, "backend/deep.py")
    assert err is not None and err.kind == "too_deep" and err.path == "backend/deep.py"


def test_python_ordinary_files_are_not_too_deep():
    assert python_too_deep("x = ((1))\n", "a.py") is None
    assert python_too_deep(b"print 'python 2'\n", "a.py") is None  # a syntax error is libcst's to report


def test_agents_code_rewrite_refuses_a_deep_file():
    err = _too_deep(lambda: _agents.rewrite_registry_path("x = " + "(" * 500 + "\n", "/x", "AGENT_REGISTRY_PATH"))
    assert err.path is None
