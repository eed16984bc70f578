# -*- coding: utf-8 -*-
"""Integration: hostile and broken input through the whole play (consolidate.yml, every phase).

One test per bad input: control characters in an env file, file and folder names that are not
valid UTF-8 in every folder the phases read, JSON and YAML documents nested 200,000 levels deep,
a Python file nested too deeply for libcst, list/dict arguments given as JSON strings and
arguments of the wrong type. For each: a clear message naming the file (or the variable), no
traceback, nothing changed by the phase that refuses the input, and the rest of the play goes
on (every later phase still reports and the run report is written). A bad argument stops the
play at preflight with the tree byte-identical.
"""

from __future__ import annotations

import glob
import json
import os

import pytest

from helpers import run_playbook, snapshot, write_demo

PHASES = ("agents", "env", "secrets", "services", "config", "requirements", "dockerfiles", "scripts", "terms",
          "base_agent")
TASKS = {
    "agents": "Merge the agent registries",
    "env": "Merge the environment files into",
    "services": "Build the unified service registry",
    "config": "Remove unused shim modules",
    "requirements": "Merge the requirements files",
    "dockerfiles": "Merge identical Dockerfiles",
    "scripts": "Catalog the scripts",
    "terms": "Report fantasy terms",
    "base_agent": "Keep one canonical base_agent.py",
}
DEEP = b"[" * 200000


@pytest.fixture
def demo(tmp_path):
    root = str(tmp_path / "root")
    os.mkdir(root)
    write_demo(root)
    return root, dict(backup_root=str(tmp_path / "backups"), report_dir=str(tmp_path / "reports"))


def put(root, rel, data):
    """Write ``data`` at ``rel`` (str or bytes, bytes for names that are not valid UTF-8)."""
    path = os.path.join(os.fsencode(root), rel if isinstance(rel, bytes) else rel.encode())
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)
    return path


def read(path):
    with open(path, "rb") as f:
        return f.read()


def phases_of(run):
    summaries = run.task("Write the run report")["invocation"]["module_args"]["summaries"]
    return dict((s["phase"], s) for s in summaries)


def assert_play_went_on(run, kw):
    """rc 0, no traceback, every phase reported, the run report written."""
    assert run.rc == 0, run.text()
    assert "Traceback" not in run.text()
    assert "surrogates not allowed" not in run.text()
    phases = phases_of(run)
    assert all(p in phases for p in PHASES), sorted(phases)
    assert glob.glob(os.path.join(kw["report_dir"], "*.json")), "no run report written"
    return phases


def journal_paths(kw, phase):
    """Paths the journal recorded for ``phase`` over every run folder."""
    out = []
    for manifest in glob.glob(os.path.join(kw["backup_root"], "*", "manifest.json")):
        with open(manifest, "rb") as f:
            doc = json.loads(f.read().decode("utf-8"))
        out.extend(e["path"] for e in doc.get("entries", []) if e.get("phase") == phase)
    return out


# -- env files with control characters ----------------------------------------------------------
@pytest.mark.parametrize("char,name", [(b"\x00", "NUL"), (b"\x07", "BEL")])
def test_env_file_with_control_character_blocks_the_env_phase(demo, char, name):
    root, kw = demo
    bad = put(root, ".env.staging", b"STAGING_HOST=db\nSTAGING_KEY=ab" + char + b"cd\n")
    env_before = dict((p, read(p)) for p in glob.glob(os.path.join(root, ".env*")))

    run = run_playbook("consolidate.yml", root, **kw)
    phases = assert_play_went_on(run, kw)
    env = run.task(TASKS["env"])
    assert env["blocked"] is True and phases["env"]["status"] == "blocked"
    err = [e for e in env["errors"] if e["path"] == ".env.staging"]
    assert err and err[0]["kind"] == "control_character" and (err[0]["line"], err[0]["column"]) == (2, 15)
    assert ".env.staging:2:15: control character 0x%02x (%s)" % (ord(char), name) in run.text()
    # The env phase changed nothing: every env file as it was, no .env.master.
    assert dict((p, read(p)) for p in glob.glob(os.path.join(root, ".env*"))) == env_before
    assert not os.path.exists(os.path.join(root, ".env.master"))
    assert journal_paths(kw, "env") == []
    assert read(bad) == b"STAGING_HOST=db\nSTAGING_KEY=ab" + char + b"cd\n"


def test_env_file_with_nul_is_skipped_and_listed_with_on_invalid_warn(demo):
    root, kw = demo
    bad = put(root, ".env.staging", b"STAGING_HOST=db\nSTAGING_KEY=ab\x00cd\n")
    run = run_playbook("consolidate.yml", root, "-e", "env_on_invalid=warn", **kw)
    assert_play_went_on(run, kw)
    env = run.task(TASKS["env"])
    assert env["blocked"] is False and ".env.staging" not in env["sources"]
    assert [e["path"] for e in env["invalid"]] == [".env.staging"]
    assert "skipped invalid file (on_invalid=warn): .env.staging:2:15: control character 0x00" in run.text()
    master = read(os.path.join(root, ".env.master"))
    assert b"\x00" not in master and b"STAGING_" not in master
    assert read(bad) == b"STAGING_HOST=db\nSTAGING_KEY=ab\x00cd\n"


# -- names that are not valid UTF-8 -------------------------------------------------------------
# Folders the phases read, with a name each phase would take as its input.
BAD_NAMES = [
    (b".claude/agents/bad\xff.md", b"---\nname: bad\ndescription: quantum\n---\n", ("agents", "terms")),
    (b"bad\xff.env", b"BAD_KEY=1\n", ("env",)),
    (b"config/bad\xff.yaml", b"services: {}\n# quantum\n", ("terms", "config")),
    (b"scripts/utils/bad\xff.sh", b"#!/bin/sh\n# quantum\necho hi\n", ("scripts", "terms")),
    (b"docs/bad\xff.md", b"# Quantum docs\n", ("terms",)),
    (b"requirements/requirements-bad\xff.txt", b"requests==2.31.0\n", ("requirements",)),
    (b"backend/app/bad\xff.py", b"from core.config import settings  # quantum\n", ("config", "base_agent", "terms")),
    (b"x\xfe/Dockerfile", b"FROM python:3.11-slim\n", ("dockerfiles", "scripts", "services")),
]


@pytest.mark.parametrize("rel,data,readers", BAD_NAMES, ids=[r[0].decode("utf-8", "backslashreplace") for r in BAD_NAMES])
def test_name_not_utf8_is_skipped_and_listed_by_every_phase(demo, rel, data, readers):
    root, kw = demo
    bad = put(root, rel, data)
    shown = rel.decode("utf-8", "backslashreplace")
    listed = shown.split("/")[0] if rel.startswith(b"x\xfe/") else shown
    original = snapshot(root)

    run = run_playbook("consolidate.yml", root, **kw)
    phases = assert_play_went_on(run, kw)
    assert read(bad) == data
    for phase in readers:
        result = run.task(TASKS[phase])
        assert any(s["path"] == listed and "not valid UTF-8" in s["reason"] for s in result["skipped_files"]), \
            (phase, result["skipped_files"])
        assert phases[phase]["status"] in ("changed", "unchanged", "blocked"), phases[phase]
    assert json.dumps(listed)[1:-1] in run.stdout  # the JSON output escapes the backslash once more

    # The run is journaled as usual: rollback restores the tree byte-identical, the odd name included.
    rb = run_playbook("rollback.yml", root, backup_root=kw["backup_root"])
    assert rb.rc == 0 and "Traceback" not in rb.text(), rb.text()
    assert snapshot(root) == original


def test_names_not_utf8_everywhere_check_mode(demo):
    root, kw = demo
    for rel, data, dummy in BAD_NAMES:
        put(root, rel, data)
    before = snapshot(root)
    run = run_playbook("consolidate.yml", root, check=True, diff=True, **kw)
    assert run.rc == 0 and "Traceback" not in run.text(), run.text()
    assert snapshot(root) == before
    assert all(p in phases_of(run) for p in PHASES)
    assert "phase skipped" in run.text() and "whose name is not valid UTF-8" in run.text()


# -- documents nested too deeply ----------------------------------------------------------------
def test_deep_json_registry_blocks_the_agents_phase(demo):
    root, kw = demo
    bad = put(root, "agents/agent_registry.json", DEEP)
    run = run_playbook("consolidate.yml", root, **kw)
    phases = assert_play_went_on(run, kw)
    agents = run.task(TASKS["agents"])
    assert agents["blocked"] is True and phases["agents"]["status"] == "blocked"
    assert [(e["path"], e["kind"]) for e in agents["errors"]] == [("agents/agent_registry.json", "too_deep")]
    assert "agents/agent_registry.json: JSON document is nested too deeply to parse" in run.text()
    assert not os.path.exists(os.path.join(root, "config/agents/master_registry.json"))
    assert journal_paths(kw, "agents") == []
    assert read(bad) == DEEP
    assert phases["services"]["status"] == "changed"


@pytest.mark.parametrize("on_invalid", ["fail", "warn"])
def test_deep_json_config_blocks_or_is_skipped_by_the_services_phase(demo, on_invalid):
    root, kw = demo
    bad = put(root, "config/consul-services.json", DEEP)
    run = run_playbook("consolidate.yml", root, "-e", "services_on_invalid=%s" % on_invalid, **kw)
    phases = assert_play_went_on(run, kw)
    services = run.task(TASKS["services"])
    assert [(e["path"], e["kind"]) for e in services["invalid"]] == [("config/consul-services.json", "too_deep")]
    assert "config/consul-services.json: JSON document is nested too deeply to parse" in run.text()
    registry = os.path.join(root, "config/services/master_registry.yaml")
    if on_invalid == "fail":
        assert services["blocked"] is True and phases["services"]["status"] == "blocked"
        assert not os.path.exists(registry) and journal_paths(kw, "services") == []
    else:
        assert services["blocked"] is False and os.path.exists(registry)
    assert read(bad) == DEEP


def test_deep_yaml_compose_file_is_invalid_for_every_compose_reader(demo):
    root, kw = demo
    data = b"services:\n  x:\n    image: " + DEEP + b"\n"
    bad = put(root, "docker-compose.deep.yml", data)
    run = run_playbook("consolidate.yml", root, "-e", "env_on_invalid=warn", "-e", "services_on_invalid=warn",
                       "-e", "dockerfiles_on_invalid=warn", **kw)
    assert_play_went_on(run, kw)
    for phase in ("services", "dockerfiles"):
        assert ("docker-compose.deep.yml", "too_deep") in [(e["path"], e["kind"]) for e in run.task(TASKS[phase])["invalid"]]
    assert "docker-compose.deep.yml: YAML document is nested too deeply to parse" in run.text()
    assert read(bad) == data


def test_deep_python_file_is_left_alone(demo):
    # libcst crashes (segmentation fault) on such a file; Python's own parser stops first.
    root, kw = demo
    data = b"# quantum base_agent\nx = " + b"(" * 200000 + b"\n"
    bad = put(root, "backend/app/deep.py", data)
    run = run_playbook("consolidate.yml", root, **kw)
    assert_play_went_on(run, kw)
    assert "backend/app/deep.py: Python file is nested too deeply to parse" in run.text()
    assert ("backend/app/deep.py", "too_deep") in [(e["path"], e["kind"]) for e in run.task(TASKS["config"])["invalid"]]
    assert read(bad) == data


# -- arguments ----------------------------------------------------------------------------------
def test_json_string_terms_map_is_accepted(demo):
    root, kw = demo
    run = run_playbook("consolidate.yml", root, "-e", 'terms_map={"quantum":"theoretical"}', **kw)
    assert_play_went_on(run, kw)
    terms = run.task(TASKS["terms"])
    assert terms["invocation"]["module_args"]["term_map"] == {"quantum": "theoretical"}
    assert terms["stats"]["replaced"] > 0, terms["stats"]


def test_json_string_list_is_read_as_json(demo):
    root, kw = demo
    run = run_playbook("consolidate.yml", root, "-e", 'scripts_roots=["scripts/utils","deploy"]', check=True,
                       tags="scripts", **kw)
    assert run.rc == 0, run.text()
    assert run.task(TASKS["scripts"])["invocation"]["module_args"]["roots"] == ["scripts/utils", "deploy"]


BAD_ARGUMENTS = [
    (("-e", "scripts_near_threshold=abc"), "scripts_near_threshold", None),
    (("-e", "terms_scope=bogus"), "value of terms_scope must be one of: docs, all, got: bogus", None),
    (("-e", "agents_strict=maybe"), "agents_strict", None),
    # Ansible's -e key=value parser cuts this at the space: refused with the way to pass it.
    (("-e", 'terms_map={"quantum": "theoretical"}'), "terms_map is not valid JSON",
     """-e '{"terms_map": {"quantum": "theoretical"}}'"""),
    (("-e", 'services_aliases=["a"]'), "services_aliases must be an object; the JSON value is a list", None),
    (("-e", 'config_connection_targets=[{"name":"pg","type":"postgres"}]'), "config_connection_targets given as a string",
     """-e '{"config_connection_targets": [{"name": "pg", "type": "postgres"}]}'"""),
]


@pytest.mark.parametrize("extra,message,hint", BAD_ARGUMENTS, ids=[a[0][1].split("=")[0] for a in BAD_ARGUMENTS])
def test_bad_argument_is_refused_at_preflight_with_the_tree_untouched(demo, extra, message, hint):
    root, kw = demo
    before = snapshot(os.path.dirname(root))
    run = run_playbook("consolidate.yml", root, *extra, callback="default", **kw)
    assert run.rc != 0
    text = run.text()
    assert "Invalid arguments (nothing was changed)" in text and message in text, text
    if hint:
        assert hint in text.replace("\n        ", " "), text
    assert "Traceback" not in text
    assert "sutazai.consolidation.agents : Merge the agent registries" not in text
    assert snapshot(os.path.dirname(root)) == before


def test_every_phase_not_skipped_is_checked(demo):
    # Ansible checks every role's arguments at its start even when --tags leaves the role out
    # (that check is tagged always): preflight refuses the same values before any change.
    root, kw = demo
    before = snapshot(os.path.dirname(root))
    refused = run_playbook("consolidate.yml", root, "-e", "scripts_near_threshold=abc", tags="agents",
                           callback="default", **kw)
    assert refused.rc != 0 and "Invalid arguments (nothing was changed)" in refused.text(), refused.text()
    assert "scripts_near_threshold" in refused.text()
    assert snapshot(os.path.dirname(root)) == before
    skipped = run_playbook("consolidate.yml", root, "-e", "scripts_near_threshold=abc", "--skip-tags", "scripts",
                           check=True, **kw)
    assert skipped.rc == 0, skipped.text()
    assert "scripts" not in phases_of(skipped) and "terms" in phases_of(skipped)
