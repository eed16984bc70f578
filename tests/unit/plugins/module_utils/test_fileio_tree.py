# -*- coding: utf-8 -*-
"""Unit tests: atomic write, text decoding and the tree walker, on real files."""

from __future__ import annotations

import os
import stat

import pytest

from ansible_collections.sutazai.consolidation.plugins.module_utils._errors import ConsolidationError
from ansible_collections.sutazai.consolidation.plugins.module_utils._fileio import (
    atomic_write,
    decode_text,
    read_text,
)
from ansible_collections.sutazai.consolidation.plugins.module_utils._tree import safe_join, walk_tree


def test_atomic_write_keeps_mode_and_leaves_no_temp(tmp_path):
    target = tmp_path / "a.txt"
    target.write_bytes(b"old")
    os.chmod(target, 0o640)
    atomic_write(str(target), b"new")
    assert target.read_bytes() == b"new"
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o640
    assert sorted(os.listdir(tmp_path)) == ["a.txt"]


def test_atomic_write_new_file_gets_requested_mode(tmp_path):
    target = tmp_path / "b.txt"
    atomic_write(str(target), b"x", mode=0o600)
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o600


def test_atomic_write_failure_leaves_target(tmp_path):
    target = tmp_path / "missing-dir" / "c.txt"
    with pytest.raises(OSError):
        atomic_write(str(target), b"x")
    assert not target.exists()


def test_decode_bom_crlf():
    assert decode_text(b"\xef\xbb\xbfa\r\nb\rc", "f") == "a\nb\nc"


def test_decode_non_utf8_names_line_and_column():
    with pytest.raises(ConsolidationError) as err:
        decode_text(b"ok\nab\xffcd", "x/f.md")
    assert (err.value.path, err.value.line, err.value.column, err.value.kind) == ("x/f.md", 2, 3, "not_utf8")
    assert str(err.value).startswith("x/f.md:2:3: not valid UTF-8")


def test_read_text_directory_is_unreadable(tmp_path):
    with pytest.raises(ConsolidationError) as err:
        read_text(str(tmp_path), "dir.json")
    assert err.value.kind == "unreadable"


def _tree(tmp_path):
    root = tmp_path / "root"
    (root / "a" / "b").mkdir(parents=True)
    (root / "a" / "b" / "f.md").write_text("x")
    (root / "a" / "g.md").write_text("y")
    (root / ".git").mkdir()
    (root / ".git" / "h.md").write_text("z")
    (root / "node_modules").mkdir()
    (root / "node_modules" / "i.md").write_text("z")
    (root / "venv").mkdir()
    (root / "venv" / "pyvenv.cfg").write_text("home = /usr")
    (root / "venv" / "j.md").write_text("z")
    (root / "backups").mkdir()
    (root / "backups" / "k.md").write_text("z")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "o.md").write_text("o")
    return root, outside


def test_walk_excludes_and_order(tmp_path):
    root = _tree(tmp_path)[0]
    walk = walk_tree(str(root), exclude_paths=[str(root / "backups")])
    assert [f.rel for f in walk.files] == ["a/b/f.md", "a/g.md"]
    assert {"path": "venv", "reason": "virtualenv"} in walk.skipped


def test_walk_never_leaves_root_and_detects_loops(tmp_path):
    root, outside = _tree(tmp_path)
    os.symlink(str(outside), str(root / "a" / "out"))
    os.symlink(str(outside / "o.md"), str(root / "a" / "o.md"))
    os.symlink("..", str(root / "a" / "b" / "up"))  # loop: a/b/up -> a
    os.symlink("loop2", str(root / "a" / "loop1"))
    os.symlink("loop1", str(root / "a" / "loop2"))
    os.symlink("g.md", str(root / "a" / "g-link.md"))
    walk = walk_tree(str(root), exclude_paths=[str(root / "backups")])
    rels = [f.rel for f in walk.files]
    assert rels == ["a/b/f.md", "a/g-link.md", "a/g.md"]
    reasons = dict((s["path"], s["reason"]) for s in walk.skipped)
    assert reasons["a/out"] == "symlink points outside the root"
    assert reasons["a/o.md"] == "symlink points outside the root"
    assert reasons["a/b/up"] == "symlink loop"
    assert reasons["a/loop1"] == "symlink loop"
    link = [f for f in walk.files if f.rel == "a/g-link.md"][0]
    assert link.is_symlink and link.real == os.path.realpath(str(root / "a" / "g.md"))


def test_walk_missing_subdir_is_empty(tmp_path):
    assert walk_tree(str(tmp_path), "nope").files == []


def test_safe_join_refuses_escape(tmp_path):
    with pytest.raises(ValueError):
        safe_join(str(tmp_path), "../etc/passwd")
    with pytest.raises(ValueError):
        safe_join(str(tmp_path), "/etc/passwd")
    assert safe_join(str(tmp_path), "a/b") == os.path.join(str(tmp_path), "a", "b")


def test_text_or_none_for_diffs(tmp_path):
    from ansible_collections.sutazai.consolidation.plugins.module_utils._fileio import text_or_none

    good = tmp_path / "g.txt"
    good.write_bytes(b"a\r\nb")
    bad = tmp_path / "b.bin"
    bad.write_bytes(b"\xff\xfe\x00")
    assert text_or_none(str(good)) == "a\nb"
    assert text_or_none(str(bad)) == "<binary or undecodable content, 3 bytes>"
    assert text_or_none(str(tmp_path / "missing")) is None


def test_is_linked_marks_files_reached_through_links(tmp_path):
    from ansible_collections.sutazai.consolidation.plugins.module_utils._tree import is_linked

    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "x.env").write_text("A=1\n")
    (tmp_path / "b").symlink_to("a")
    (tmp_path / "y.env").symlink_to("a/x.env")
    walk = walk_tree(str(tmp_path))
    linked = dict((f.rel, is_linked(f, str(tmp_path))) for f in walk.files)
    # b/ is the same folder as a/ and is walked once, under a/.
    assert linked == {"a/x.env": False, "y.env": True}
    assert walk.root_real == os.path.realpath(str(tmp_path))
    assert dict((f.rel, is_linked(f, str(tmp_path), walk.root_real)) for f in walk.files) == linked
