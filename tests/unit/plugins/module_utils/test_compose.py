# -*- coding: utf-8 -*-
"""Unit tests: the two ways a Compose or registry file is composed (libyaml first, ruamel.yaml
when libyaml is absent or rejects the text) give the same nodes, offsets, data and errors, on
a file written like the real ones (anchors, merge keys, empty values, folded and quoted
scalars, non-ASCII text before the values) and on every YAML file of the shared corpora."""

from __future__ import annotations

import os

import pytest
from ruamel.yaml import YAML

from ansible_collections.sutazai.consolidation.plugins.module_utils import _compose, _services
from ansible_collections.sutazai.consolidation.plugins.module_utils._errors import ConsolidationError
from helpers import REPO

CORPORA = os.path.normpath(os.path.join(REPO, "..", "shared", "corpus"))

COMPOSE = u"""\
# Größe: the platform's main file (non-ASCII before every offset below)
version: '3.8'
x-common: &common
  restart: unless-stopped
  environment: &env
    TZ: UTC
    LOG_LEVEL: "info"
services:
  backend:
    <<: *common
    image: sutazai/backend:latest   # built in CI
    env_file:
    ports:
      - "10010:8000"
      - 127.0.0.1:10011:8001
    environment:
      <<: *env
      DATABASE_URL: postgresql://sutazai:${POSTGRES_PASSWORD}@postgres:5432/sutazai
      FEATURE_FLAG: yes
    command: >
      uvicorn app.main:app
      --host 0.0.0.0 --port 8000
  frontend:
    image: sutazai/frontend
    healthcheck: {test: ["CMD", "curl", "-f", "http://localhost:8501"], interval: 30s}
"""


def _shape(node, seen=None):
    """Every node as (kind, start, end, line, column, value, style, null) in document order;
    a repeated node (an alias) as ("alias",)."""
    seen = set() if seen is None else seen
    if id(node) in seen:
        return [("alias",)]
    seen.add(id(node))
    head = (node.id, node.start_mark.index, node.end_mark.index, node.start_mark.line, node.start_mark.column)
    if node.id == "scalar":
        return [head + (node.value.replace("\a", ""), node.style or None, _compose.is_null(node))]
    out = [head + (len(node.value), bool(node.flow_style))]
    for item in node.value:
        for n in (item if node.id == "mapping" else (item,)):
            out.extend(_shape(n, seen))
    return out


def _ruamel_tree(text):
    return YAML(typ="rt").compose(text)


def test_libyaml_is_used_and_gives_ruamel_offsets():
    tree = _compose.compose_tree(COMPOSE, "docker-compose.yml")
    assert type(tree).__module__.startswith("yaml"), "libyaml (PyYAML's C parser) is expected on this machine"
    ours = _shape(tree)
    theirs = _shape(_ruamel_tree(COMPOSE))
    # The one documented difference: an empty value (``env_file:``) sits after its colon
    # with libyaml, at the next token with ruamel.yaml.
    diff = [(a, b) for a, b in zip(ours, theirs) if a != b]
    assert len(ours) == len(theirs)
    assert len(diff) == 1 and diff[0][0][5] == "" and diff[0][0][7] and diff[0][1][7]
    for a in ours:
        if a[0] == "scalar" and a[5] and a[6] is None:
            # Offsets are in characters: the text at a plain scalar's offsets is its value.
            assert COMPOSE[a[1]:a[2]] == a[5]


def test_services_and_environment_read_through_merge_keys():
    tree = _compose.compose_tree(COMPOSE, "docker-compose.yml")
    names = [name for name, dummy in _compose.services(tree)]
    assert names == ["backend", "frontend"]
    backend = dict(_compose.services(tree))["backend"]
    env = dict((p["key"], p["value"]) for p in _compose.environment_pairs(backend))
    assert env["TZ"] == "UTC" and env["LOG_LEVEL"] == "info" and env["FEATURE_FLAG"] == "yes"
    assert _compose.get(backend, "restart").value == "unless-stopped"
    assert _compose.get(backend, "command").value == "uvicorn app.main:app --host 0.0.0.0 --port 8000\n"


def test_splicer_edits_at_the_same_bytes_with_either_composer():
    for tree in (_compose.compose_tree(COMPOSE, "docker-compose.yml"), _ruamel_tree(COMPOSE)):
        backend = dict(_compose.services(tree))["backend"]
        env = dict((p["key"], p) for p in _compose.environment_pairs(backend))
        sp = _compose.Splicer(COMPOSE)
        sp.replace(env["DATABASE_URL"]["node"], "${DATABASE_URL}")
        out = sp.apply()
        assert "      DATABASE_URL: ${DATABASE_URL}\n      FEATURE_FLAG: yes\n" in out
        assert out.count("\n") == COMPOSE.count("\n")
        # An empty value is never turned into a block, whatever composer placed it.
        items = dict((k, (kn, v)) for k, kn, v in _compose.map_items(backend))
        key_node, value_node = items["env_file"]
        assert _compose.Splicer(COMPOSE).scalar_to_block(key_node, value_node, ["- .env"]) is False


@pytest.mark.parametrize("text, line", [
    ("services:\n  a:\n    image: [x\n", 4),
    ("services:\n  a: *missing\n", 2),
    ("services:\n\tbackend: {}\n", 2),
])
def test_invalid_yaml_is_ruamel_error_with_position(text, line):
    with pytest.raises(ConsolidationError) as info:
        _compose.compose_tree(text, "docker/docker-compose.yml")
    err = info.value.as_dict()
    assert err["path"] == "docker/docker-compose.yml" and err["kind"] == "invalid_yaml"
    with pytest.raises(Exception) as theirs:
        _ruamel_tree(text)
    assert err["line"] == theirs.value.problem_mark.line + 1 == line
    assert theirs.value.problem in err["message"]


def test_top_level_not_a_mapping():
    with pytest.raises(ConsolidationError) as info:
        _compose.compose_tree("- a\n- b\n", "compose.yml")
    assert info.value.as_dict()["kind"] == "invalid_compose"
    assert _compose.compose_tree("", "compose.yml") is None
    assert _compose.compose_tree("# only a comment\n", "compose.yml") is None


def test_rt_compose_falls_back_where_libyaml_cannot_decide():
    y = YAML(typ="rt", pure=True)
    assert _compose.rt_compose("a: 1\n---\nb: 2\n", y.resolver) == (False, None)
    assert _compose.rt_compose("%YAML 1.1\n---\na: yes\n", y.resolver) == (False, None)
    assert _compose.rt_compose("a: *nowhere\n", y.resolver) == (False, None)
    assert _compose.rt_compose("a: [1,\n", y.resolver) == (False, None)
    assert _compose.rt_compose("", y.resolver) == (True, None)


def test_load_yaml_same_data_lines_and_warnings_as_ruamel():
    text = COMPOSE + "  frontend:\n    image: duplicate\n"

    def ruamel_only(rel, t):
        saved = _compose.rt_compose
        _compose.rt_compose = lambda t, r: (False, None)
        try:
            return _services.load_yaml(rel, t, duplicates="warn")
        finally:
            _compose.rt_compose = saved

    doc, warnings = _services.load_yaml("docker-compose.yml", text, duplicates="warn")
    ref, ref_warnings = ruamel_only("docker-compose.yml", text)
    assert _services.plain(doc) == _services.plain(ref)
    assert warnings == ref_warnings and len(warnings) == 1 and ":26:3: duplicate key 'frontend'" in warnings[0]
    ports = doc["services"]["backend"]["ports"]
    assert _services._line(ports, 1) == _services._line(ref["services"]["backend"]["ports"], 1) == 15
    assert doc["services"]["backend"]["environment"]["FEATURE_FLAG"] == "yes"  # YAML 1.2: a string
    assert _services.plain(doc)["services"]["backend"]["ports"][0] == "10010:8000"
    with pytest.raises(ConsolidationError) as info:
        _services.load_yaml("docker-compose.yml", text, duplicates="error")
    assert info.value.as_dict()["line"] == 26


def _corpus_yaml():
    if not os.path.isdir(CORPORA):
        return []
    out = []
    for d, dummy, files in os.walk(CORPORA):
        out.extend(os.path.join(d, f) for f in files if f.endswith((".yml", ".yaml"))
                   and not os.path.islink(os.path.join(d, f)))
    return sorted(out)


@pytest.mark.skipif(not _corpus_yaml(), reason="shared corpus not present")
def test_every_corpus_yaml_file_composes_alike():
    """Same offsets (empty values aside), values and loaded data on the real files."""
    checked = 0
    for path in _corpus_yaml():
        try:
            with open(path, encoding="utf-8") as f:
                text = f.read()
        except UnicodeDecodeError:
            continue
        try:
            theirs = _ruamel_tree(text)
        except Exception:  # pylint: disable=broad-except
            theirs = "error"
        try:
            ours = _compose.compose_tree(text, path)
        except ConsolidationError:
            ours = "error"
        if theirs == "error" or ours == "error" or not isinstance(theirs, _compose.MappingNode):
            assert (theirs == "error") == (ours == "error") or not isinstance(theirs, _compose.MappingNode), path
            continue
        a = [x for x in _shape(ours) if not (x[0] == "scalar" and x[1] == x[2])]
        b = [x for x in _shape(theirs) if not (x[0] == "scalar" and x[1] == x[2])]
        assert a == b, path
        checked += 1
    assert checked > 100
