# -*- coding: utf-8 -*-
"""Integration: the terms phase (term_scrub) through consolidate.yml on localhost.

Order for the changing task: check -> real -> idempotent check -> idempotent -> change input ->
changed check -> changed, then rollback of both runs back to the original bytes. The default
map only reports; a bad map fails before anything is read; the real corpus is searched in
report-only mode and, with a replacement map, edited, run again and rolled back.
"""

from __future__ import annotations

import json
import os
import py_compile

import pytest

from helpers import CORPUS, copy_corpus, full_warnings, run_playbook, snapshot, write_demo

TASK = "Report fantasy terms"
MAP = {"quantum": "theoretical", "AGI": "general AI", "magic": "heuristic", "dream": "goal", "teleportation": None}
EDITED = ["backend/app/services/dream_planner.py", "deploy/healthcheck.sh", "docs/architecture/VISION.md",
          "monitoring/alerts.yml"]


@pytest.fixture
def demo(tmp_path):
    root = tmp_path / "root"
    root.mkdir()
    write_demo(str(root))
    return str(root), str(tmp_path / "backups"), str(tmp_path / "reports")


def _extra(**variables):
    return ["-e", json.dumps(variables)]


def _read(root, rel):
    with open(os.path.join(root, rel), "rb") as f:
        return f.read().decode("utf-8")


def _rows(result):
    return dict((r["item"], (r["before"], r["after"])) for r in result["summary"]["rows"])


def _no_backup_files(root):
    return [os.path.join(d, n) for d, dirs, files in os.walk(root) for n in files
            if n.endswith((".bak", ".orig", "~")) or ".bak." in n]


def test_check_real_idempotent_changed_and_rollback(demo):
    root, backups, reports = demo
    original = snapshot(root)
    kw = dict(backup_root=backups, report_dir=reports, tags="terms")
    extra = _extra(terms_map=MAP)

    check = run_playbook("consolidate.yml", root, *extra, check=True, diff=True, **kw)
    assert check.rc == 0, check.text()
    result = check.task(TASK)
    assert result["changed"] is True and result["blocked"] is False
    assert result["changes"] == [{"path": p, "action": "modify"} for p in EDITED]
    assert [d["after_header"] for d in result["diff"]] == ["%s (after)" % p for p in EDITED]
    vision = [d for d in result["diff"] if d["after_header"].startswith("docs/")][0]
    assert "# Theoretical Roadmap" in vision["after"] and "# Quantum Roadmap" in vision["before"]
    assert result["stats"] == {"files_searched": result["stats"]["files_searched"], "files_with_terms": 5, "files_edited": 4,
                               "occurrences": 35, "replaced": 20, "report_only": 1, "left_alone": 14,
                               "invalid_files": 0, "skipped_files": 3}
    assert result["summary"]["status"] == "would change"
    assert _rows(result)["Occurrences replaced"] == (20, 0)
    assert [s["title"] for s in result["summary"]["details"]] == ["Terms", "Occurrences by file", "Files not searched"]
    assert snapshot(root) == original
    assert not os.path.exists(backups) and not os.path.exists(reports)
    assert "terms | would change | Term occurrences (files)" in check.summary()

    real = run_playbook("consolidate.yml", root, *extra, **kw)
    assert real.rc == 0 and real.changed == 1, real.text()
    result = real.task(TASK)
    assert [c["path"] for c in result["changes"]] == EDITED
    vision = _read(root, "docs/architecture/VISION.md")
    assert vision.startswith("# Theoretical Roadmap\n\nSutazAI will reach general AI through theoretical reasoning and a "
                             "little heuristic. THEORETICAL scale, Theoretical\nspeed: the goal is instant teleportation")
    # Link destinations, URLs, paths, code spans, code blocks and compounds are untouched.
    for kept in ("(../agents/quantum-planner.md)", "https://example.invalid/quantum/roadmap", "docs/quantum/notes.txt",
                 "`QUANTUM_MODE=quantum`", 'planner = QuantumPlanner(mode="quantum")  # quantum inside a code block stays',
                 "AGILE teams, magical thinking, python-magic, Quantum-Inspired search"):
        assert kept in vision
    planner = _read(root, "backend/app/services/dream_planner.py")
    assert planner.startswith('"""Theoretical planner service: schedules agent work (no theoretical hardware involved)."""')
    assert 'return "a quantum leap is not a plan"' in planner and "class QuantumPlanner:" in planner
    py_compile.compile(os.path.join(root, "backend/app/services/dream_planner.py"), doraise=True,
                       cfile=os.path.join(str(os.path.dirname(root)), "planner.pyc"))
    shell = _read(root, "deploy/healthcheck.sh")
    assert '"checking the planner # not a quantum comment"' in shell and "# quantum note inside a here-document" in shell
    assert "# Health check of the theoretical planner service." in shell
    assert "# quantum text inside a block scalar is data" in _read(root, "monitoring/alerts.yml")
    assert "quantum planner" in _read(root, "tests/README.md")
    assert _no_backup_files(root) == []
    runs = os.listdir(backups)
    assert len(runs) == 1
    with open(os.path.join(backups, runs[0], "manifest.json")) as f:
        assert sorted(e["path"] for e in json.load(f)["entries"]) == EDITED
    with open(os.path.join(reports, runs[0] + ".md")) as f:
        report = f.read()
    assert "## terms: Terms" in report and "## terms: Occurrences by file" in report
    assert "| docs/architecture/VISION.md | quantum | 8 | 5 | code (left alone) 2, compound (left alone) 1, prose 5 |" in report
    after_first = snapshot(root)

    assert run_playbook("consolidate.yml", root, *extra, check=True, **kw).changed == 0
    again = run_playbook("consolidate.yml", root, *extra, **kw)
    assert again.rc == 0 and again.changed == 0
    result = again.task(TASK)
    assert result["summary"]["status"] == "unchanged" and result["stats"]["replaced"] == 0
    assert result["stats"]["report_only"] == 1 and result["stats"]["left_alone"] == 14
    assert len(os.listdir(backups)) == 1 and snapshot(root) == after_first

    # Changed input: a new document with terms.
    with open(os.path.join(root, "docs/NOTES.md"), "w") as f:
        f.write("# Notes\n\nOur AGI dream, with magic.\n")
    changed_input = snapshot(root)
    changed_check = run_playbook("consolidate.yml", root, *extra, check=True, **kw)
    assert changed_check.changed == 1 and snapshot(root) == changed_input
    assert changed_check.task(TASK)["changes"] == [{"path": "docs/NOTES.md", "action": "modify"}]
    changed = run_playbook("consolidate.yml", root, *extra, **kw)
    assert changed.changed == 1
    assert _read(root, "docs/NOTES.md") == "# Notes\n\nOur general AI goal, with heuristic.\n"
    assert len(os.listdir(backups)) == 2

    rb1 = run_playbook("rollback.yml", root, backup_root=backups)
    assert rb1.rc == 0 and rb1.changed == 1, rb1.text()
    assert snapshot(root) == changed_input
    rb2 = run_playbook("rollback.yml", root, backup_root=backups)
    assert rb2.rc == 0 and rb2.changed == 1
    restored = snapshot(root)
    del restored["docs/NOTES.md"]
    assert restored == original
    assert run_playbook("rollback.yml", root, backup_root=backups).changed == 0


def test_default_map_reports_and_changes_nothing(demo):
    root, backups, reports = demo
    original = snapshot(root)
    res = run_playbook("consolidate.yml", root, backup_root=backups, report_dir=reports, tags="terms")
    assert res.rc == 0 and res.changed == 0, res.text()
    result = res.task(TASK)
    assert result["changes"] == [] and result["journal"] is None
    assert [t["term"] for t in result["term_map"]] == ["quantum", "AGI", "ASI", "telekinesis", "teleport", "teleportation",
                                                       "magic", "dream", "consciousness", "conscious"]
    counts = dict((t["term"], (t["occurrences"], t["report_only"], t["files"])) for t in result["terms"])
    assert counts["quantum"] == (21, 11, 5) and counts["AGI"] == (3, 2, 2) and counts["magic"] == (7, 4, 3)
    assert counts["dream"] == (3, 3, 2) and counts["teleportation"] == (1, 1, 1) and counts["ASI"] == (0, 0, 0)
    assert result["stats"]["replaced"] == 0 and result["stats"]["report_only"] == 21 and result["stats"]["occurrences"] == 35
    assert not any(o["path"].startswith("tests/") for o in result["occurrences"])
    assert _rows(result)["Report only / left alone"] == ("21 / 14", "21 / 14")
    assert result["summary"]["status"] == "unchanged"
    assert snapshot(root) == original and not os.path.exists(backups)
    runs = os.listdir(reports)
    with open(os.path.join(reports, [r for r in runs if r.endswith(".json")][0])) as f:
        phases = json.load(f)["phases"]
    terms = [p for p in phases if p["phase"] == "terms"][0]
    assert terms["details"][0]["rows"][0] == ["quantum", "(report only)", 21, 0, 11, 10, 5]


def test_a_bad_map_fails_and_changes_nothing(demo):
    root, backups, reports = demo
    original = snapshot(root)
    res = run_playbook("consolidate.yml", root, *_extra(terms_map={"quantum": "Quantum", "magic": "x", "MAGIC": "y",
                                                                   "dream": "quantum goal"}),
                       backup_root=backups, report_dir=reports, tags="terms")
    assert res.rc != 0
    msg = res.task(TASK)["msg"]
    assert msg.startswith("invalid term map: ")
    assert "'quantum': replacement 'Quantum' is the term itself (no-op entry)" in msg
    assert "terms 'magic' and 'MAGIC' differ only in case (duplicate)" in msg
    assert "'dream': replacement 'quantum goal' contains the mapped term 'quantum'" in msg
    assert snapshot(root) == original and not os.path.exists(backups)


def test_scope_all_strings_and_unparsable_files(demo):
    root, backups, reports = demo
    with open(os.path.join(root, "backend/legacy_quantum.py"), "w") as f:
        f.write("# quantum report (Python 2)\nprint 'quantum'\n")
    kw = dict(backup_root=backups, report_dir=reports, tags="terms")
    res = run_playbook("consolidate.yml", root, *_extra(terms_map=MAP, terms_scope="all",
                                                        terms_exclude=["tests", "docs", "monitoring"]), **kw)
    assert res.rc == 0 and res.changed == 1, res.text()
    result = res.task(TASK)
    assert [c["path"] for c in result["changes"]] == ["backend/app/services/dream_planner.py", "deploy/healthcheck.sh"]
    planner = _read(root, "backend/app/services/dream_planner.py")
    assert 'return "a theoretical leap is not a plan"' in planner
    assert 'return f"plan for {task} (theoretical mode {self.mode})"' in planner
    assert 'def __init__(self, mode="quantum"):' in planner and "class QuantumPlanner:" in planner
    assert "MAGIC_DELAY = 3" in planner
    names = sorted(set((o["found"], o["reason"]) for o in result["occurrences"] if o["kind"] == "identifier"))
    assert names == [("MAGIC", "identifier (would need a rename)"), ("Quantum", "identifier (would need a rename)")]
    assert [(e["path"], e["line"], e["column"], e["kind"]) for e in result["invalid"]] == [
        ("backend/legacy_quantum.py", 2, 1, "syntax")]
    assert any("not searched, left alone: backend/legacy_quantum.py:2:1:" in w for w in full_warnings(result))
    assert not any(o["path"].startswith(("docs/", "monitoring/")) for o in result["occurrences"])
    assert _rows(result)["Files not searched (invalid)"] == (1, "-")
    py_compile.compile(os.path.join(root, "backend/app/services/dream_planner.py"), doraise=True,
                       cfile=os.path.join(str(os.path.dirname(root)), "planner.pyc"))
    assert run_playbook("rollback.yml", root, backup_root=backups).changed == 1


@pytest.mark.skipif(not os.path.isdir(CORPUS), reason="shared corpus not present")
def test_corpus_report_and_replacement(tmp_path):
    root = str(tmp_path / "sutazaiapp")
    copy_corpus(root)
    original = snapshot(root)
    report = run_playbook("consolidate.yml", root, check=True, tags="terms")
    assert report.rc == 0 and report.changed == 0, report.text()
    result = report.task(TASK)
    assert result["stats"] == {"files_searched": 387, "files_with_terms": 18, "files_edited": 0, "occurrences": 42,
                               "replaced": 0, "report_only": 22, "left_alone": 20, "invalid_files": 0, "skipped_files": 0}
    counts = dict((t["term"], t["occurrences"]) for t in result["terms"] if t["occurrences"])
    assert counts == {"quantum": 18, "AGI": 12, "teleport": 1, "magic": 9, "consciousness": 1, "conscious": 1}
    assert snapshot(root) == original

    kw = dict(tags="terms")
    extra = _extra(terms_map={"AGI": "general AI", "magic": "heuristic", "quantum": "theoretical"})
    real = run_playbook("consolidate.yml", root, *extra, **kw)
    assert real.rc == 0 and real.changed == 1, real.text()
    result = real.task(TASK)
    assert result["stats"]["replaced"] == 20 and result["stats"]["files_edited"] == 6
    agi = _read(root, ".claude/agents/localagi-orchestration-manager.md")
    assert "**Rule 1: Real Implementation Only - Zero Fantasy general AI Orchestration**" in agi
    assert "description: Manages local AGI orchestration" in agi  # front matter is data
    assert "Magic strings or numbers" not in _read(root, ".claude/agents/rules-enforcer.md")
    assert _no_backup_files(root) == []
    after = snapshot(root, skip=("backups", "reports"))
    assert run_playbook("consolidate.yml", root, *extra, **kw).changed == 0
    assert snapshot(root, skip=("backups", "reports")) == after
    assert run_playbook("rollback.yml", root).changed == 1
    assert snapshot(root, skip=("backups", "reports")) == original
