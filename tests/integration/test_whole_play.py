# -*- coding: utf-8 -*-
"""The whole play, every phase in one run (no ``--tags``), on the demo platform and on a copy
of the real corpus: ``--check --diff`` leaves the tree byte-identical and writes no backup or
report; a real run changes it; a second run has ``changed=0``; ``rollback.yml`` restores it
byte-identical (one journal holds every phase's changes). Phases must not undo each other's
work: an idempotence failure here (and not in a phase's own test) means two phases disagree.
"""

from __future__ import annotations

import glob
import json
import os
import re

import jsonschema
import pytest

from helpers import CORPUS, REPO, copy_corpus, run_playbook, snapshot, write_demo

PHASES = ("agents", "env", "secrets", "services", "config", "requirements", "dockerfiles", "scripts", "terms",
          "base_agent")
# The report's phases: the backup of the running platform's data first, then the ten tree phases.
REPORT_PHASES = ("backup",) + PHASES


def _reports(report_dir):
    """Every JSON report under ``report_dir``, validated against the collection's schema; with
    the Markdown text next to each: ``[(doc, markdown)]``."""
    with open(os.path.join(REPO, "schemas", "run_report.schema.json")) as f:
        schema = json.load(f)
    jsonschema.Draft202012Validator.check_schema(schema)
    out = []
    for path in sorted(glob.glob(os.path.join(report_dir, "*.json"))):
        with open(path) as f:
            doc = json.load(f)
        jsonschema.validate(doc, schema, cls=jsonschema.Draft202012Validator)
        with open(path[:-len(".json")] + ".md") as f:
            out.append((doc, f.read()))
    assert out, "no report in %s" % report_dir
    return out


# The corpus needs the choices the README names for the real tree.
CORPUS_ACTING = ("-e", "env_on_invalid=warn", "-e", "services_on_invalid=warn", "-e", "requirements_resolve=newest",
                 "-e", "dockerfiles_on_invalid=warn")
# The demo: go on with the base_agent copies (one defines a name the canonical lacks) and let
# the terms phase replace two terms rather than only report them.
DEMO_ACTING = ("-e", "base_agent_force=true", "-e", json.dumps({"terms_map": {"quantum": "theoretical", "magic": None}}))

CODE_PHASES = ("dockerfiles", "scripts", "terms", "base_agent")


def _phases(run):
    report = run.task("Write the run report")
    assert report is not None, run.text()
    return {s["phase"]: s for s in report["invocation"]["module_args"]["summaries"]}


def _check_real_idempotent_rollback(root, kw, acting):
    original = snapshot(root)
    check = run_playbook("consolidate.yml", root, *acting, check=True, diff=True, **kw)
    assert check.rc == 0, check.text()
    assert snapshot(root) == original
    assert not os.path.exists(kw["backup_root"]) and not os.path.exists(kw["report_dir"])
    planned = _phases(check)
    assert all(p in planned for p in CODE_PHASES), sorted(planned)

    real = run_playbook("consolidate.yml", root, *acting, **kw)
    assert real.rc == 0, real.text()
    assert real.changed >= 1
    after_first = snapshot(root)
    assert after_first != original

    again = run_playbook("consolidate.yml", root, *acting, **kw)
    assert again.rc == 0 and again.changed == 0, again.text()
    assert snapshot(root) == after_first
    # No platform runs beside these trees: the backup phase finds nothing to back up, every run.
    assert all(s["status"] == "nothing to back up" for p, s in _phases(again).items() if p == "backup"), _phases(again)
    assert all(s["status"] in ("unchanged", "blocked") for p, s in _phases(again).items() if p != "backup"), _phases(again)

    reports = {d["run_id"]: (d, m) for d, m in _reports(kw["report_dir"])}  # one per run, both validated
    assert len(reports) == 2
    doc, md = reports[real.task("Write the run report")["invocation"]["module_args"]["run_id"]]
    assert [p["phase"] for p in doc["phases"]][:len(REPORT_PHASES)] == list(REPORT_PHASES)
    assert [p["ran"] for p in doc["phases"]][:len(REPORT_PHASES)] == [True] * len(REPORT_PHASES)
    assert {f["phase"] for f in doc["changed_files"]} == {p for p, s in _phases(real).items() if s["status"] == "changed"}
    assert "sutazai.consolidation.rollback" in doc["rollback_command"] and doc["run_id"] in doc["rollback_command"]
    for phase in REPORT_PHASES:
        assert "\n## Phase %s: " % phase in md
    assert md.index("## Needs your decision") < md.index("## Summary") < md.index("## Changed files") < md.index("## Roll back")

    rb = run_playbook("rollback.yml", root, backup_root=kw["backup_root"])
    assert rb.rc == 0, rb.text()
    assert snapshot(root, skip=("backups", "reports")) == {
        k: v for k, v in original.items() if not k.startswith(("backups", "reports"))}
    return planned, _phases(real)


@pytest.fixture
def paths(tmp_path):
    return str(tmp_path / "root"), dict(backup_root=str(tmp_path / "backups"), report_dir=str(tmp_path / "reports"))


def test_whole_play_on_the_demo(paths):
    root, kw = paths
    write_demo(root)
    planned, real = _check_real_idempotent_rollback(root, kw, DEMO_ACTING)
    for phase in CODE_PHASES:
        assert planned[phase]["status"] == "would change", planned[phase]
        assert real[phase]["status"] == "changed", real[phase]


@pytest.mark.skipif(not os.path.isdir(CORPUS), reason="shared corpus not present: %s" % CORPUS)
def test_whole_play_on_the_corpus(paths):
    root, kw = paths
    copy_corpus(root)
    planned, real = _check_real_idempotent_rollback(root, kw, CORPUS_ACTING)
    # The corpus has no Dockerfile, no base_agent.py and no duplicate script; the terms only
    # get reported; scripts writes the deployment script.
    assert real["dockerfiles"]["status"] == "unchanged", real["dockerfiles"]
    assert real["base_agent"]["status"] == "unchanged", real["base_agent"]
    assert real["terms"]["status"] == "unchanged", real["terms"]
    assert real["scripts"]["status"] == "changed", real["scripts"]


@pytest.mark.skipif(not os.path.isdir(CORPUS), reason="shared corpus not present: %s" % CORPUS)
def test_report_of_a_default_run_on_the_corpus_names_the_decisions(paths):
    """With the defaults, the real corpus blocks the phases whose input a person must judge; the
    report opens with them and the variable to set, and still has a section for each phase."""
    root, kw = paths
    copy_corpus(root)
    real = run_playbook("consolidate.yml", root, **kw)
    assert real.rc == 0, real.text()
    blocked = sorted(p for p, s in _phases(real).items() if s["status"] == "blocked")
    assert blocked, _phases(real)
    (doc, md), = _reports(kw["report_dir"])
    decisions = md[md.index("## Needs your decision"):md.index("## Summary")]
    for phase in blocked:
        line = [x for x in decisions.splitlines() if x.startswith("- **%s** (blocked)" % phase)]
        assert len(line) == 1, decisions
        assert re.search(r"\b%s_\w+=" % phase.split()[0].replace("secrets", "env"), line[0]), line[0]
    for phase in PHASES:
        assert "\n## Phase %s: " % phase in md
    assert sorted(d["phase"] for d in doc["needs_decision"] if d["kind"] == "blocked") == blocked
