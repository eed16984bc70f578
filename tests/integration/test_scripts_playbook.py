# -*- coding: utf-8 -*-
"""Integration: the scripts phase through consolidate.yml (tag scripts) and rollback.yml, on the
acceptance fixture and the v76-sized tree of tests/gen_scripts.py, and on the demo tree.

Order for the changing task: check -> real -> idempotent check -> idempotent -> change input ->
changed check -> changed, then rollback back to the original bytes.
"""

from __future__ import annotations

import ast
import json
import os
import shutil
import stat
import subprocess
import sys

import pytest

import gen_scripts
from helpers import BIN, REPO, full_warnings, run_playbook, snapshot, write_demo

TASK = "Catalog the scripts"
TAG = "scripts"
DEPLOY = "scripts/deployment/deploy-master.sh"


def _read(root, rel):
    with open(os.path.join(root, rel), "rb") as f:
        return f.read().decode("utf-8")


def _exists(root, rel):
    return os.path.lexists(os.path.join(root, rel))


def _py_function_names(root, rel):
    tree = ast.parse(_read(root, rel))
    return sorted(n.name for n in ast.walk(tree) if isinstance(n, ast.FunctionDef))


@pytest.fixture
def small(tmp_path):
    root = str(tmp_path / "root")
    fig = gen_scripts.generate(root, "small")
    return root, str(tmp_path / "backups"), str(tmp_path / "reports"), fig


def test_small_check_real_idempotent_changed_and_rollback(small):
    root, backups, reports, fig = small
    original = snapshot(root)
    kw = dict(backup_root=backups, report_dir=reports, tags=TAG)

    check = run_playbook("consolidate.yml", root, check=True, diff=True, **kw)
    assert check.rc == 0, check.text()
    res = check.task(TASK)
    assert res["changed"] is True and res["blocked"] is False
    assert snapshot(root) == original and not os.path.exists(backups) and not os.path.exists(reports)
    removed = sorted(d for ds in fig["merged"].values() for d in ds)
    assert sorted(c["path"] for c in res["changes"] if c["action"] == "delete") == removed
    assert sorted(d["after_header"] for d in res["diff"] if d["after_header"].endswith("(absent)")) == \
        sorted(r + " (absent)" for r in removed)
    assert res["stats"]["scripts"] == fig["scripts"] and res["stats"]["duplicate_groups"] == 5
    assert res["deploy_master"] == {"path": DEPLOY, "status": "created", "reason": None}
    assert any("scripts/tools/rotate.sh of scripts/ops/rotate.sh kept: executable" in w for w in full_warnings(res))
    summary = check.summary()
    assert "Proven duplicate groups (bytes 3, python-ast 1, shell-normal 1)" in summary
    assert "Master deployment script" in summary and "Script inventory" not in summary

    real = run_playbook("consolidate.yml", root, **kw)
    assert real.rc == 0 and real.changed == 1, real.text()
    res = real.task(TASK)
    for canon, dups in fig["merged"].items():
        assert _exists(root, canon)
        for dup in dups:
            assert not _exists(root, dup)
    # Same function names, different bodies: all kept, bytes untouched.
    for pair in fig["same_function_names"]:
        assert _py_function_names(root, pair[0]) == _py_function_names(root, pair[1])
        for rel in pair:
            assert original[rel] == snapshot(root)[rel]
    for rel in fig["not_merged"] + ["scripts/tools/rotate.sh"]:
        assert _exists(root, rel)
    # References rewritten in place: grep the referencing files.
    for rel, new_paths in fig["rewritten"].items():
        text = _read(root, rel)
        for p in new_paths:
            assert p in text, (rel, p)
        for dup in removed:
            assert dup.split("/", 1)[1] not in text, (rel, dup)
    assert _read(root, "Makefile") == original["Makefile"][2].decode().replace(
        "./scripts/deploy/start-services.sh", "./scripts/utils/start-services.sh")
    assert "\"$(dirname \"$0\")/../maintenance/cleanup_logs.py\"" in _read(root, "scripts/deploy/nightly.sh")
    # The symlink to the canonical copy still resolves.
    assert os.path.realpath(os.path.join(root, "scripts/deploy/start.sh")) == \
        os.path.realpath(os.path.join(root, "scripts/utils/start-services.sh"))
    # The deployment script: 0755, valid bash, deterministic.
    st = os.stat(os.path.join(root, DEPLOY))
    assert stat.S_IMODE(st.st_mode) == 0o755
    assert subprocess.run(["bash", "-n", os.path.join(root, DEPLOY)], check=False).returncode == 0
    # The report holds the inventory, the groups and the near duplicates.
    md = [f for f in os.listdir(reports) if f.endswith(".md")]
    report = _read(reports, md[0])
    assert "## scripts: Script inventory" in report and "## scripts: Duplicate groups (proven equal)" in report
    assert "| scripts/monitoring/check_health.py | python | monitoring |" in report
    assert "| scripts/deploy/deploy-backend.sh | scripts/deploy/deploy-frontend.sh |" in report
    after_first = snapshot(root, skip=("backups", "reports"))

    assert run_playbook("consolidate.yml", root, check=True, **kw).changed == 0
    again = run_playbook("consolidate.yml", root, **kw)
    assert again.rc == 0 and again.changed == 0, again.text()
    res = again.task(TASK)
    assert res["deploy_master"]["status"] == "unchanged" and res["stats"]["removed"] == 0
    assert snapshot(root, skip=("backups", "reports")) == after_first and len(os.listdir(backups)) == 1

    # Changed input: a new byte-identical copy of the backup script, called from a new make file.
    shutil.copy(os.path.join(root, "scripts/backup/backup-db.sh"), os.path.join(root, "scripts/ops/backup-db-copy.sh"))
    os.makedirs(os.path.join(root, "mk"))
    with open(os.path.join(root, "mk/copy.mk"), "w") as f:
        f.write("copy:\n\tbash scripts/ops/backup-db-copy.sh\n")
    changed_input = snapshot(root)
    changed_check = run_playbook("consolidate.yml", root, check=True, diff=True, **kw)
    assert changed_check.rc == 0 and changed_check.changed == 1 and snapshot(root) == changed_input
    assert sorted(d["before_header"] for d in changed_check.task(TASK)["diff"]) == [
        "mk/copy.mk (before)", "scripts/ops/backup-db-copy.sh (before)"]
    changed = run_playbook("consolidate.yml", root, **kw)
    assert changed.rc == 0 and changed.changed == 1
    assert not _exists(root, "scripts/ops/backup-db-copy.sh")
    assert _read(root, "mk/copy.mk") == "copy:\n\tbash scripts/backup/backup-db.sh\n"

    for attempt in range(2):
        rb = run_playbook("rollback.yml", root, backup_root=backups)
        assert rb.rc == 0 and rb.changed == 1, (attempt, rb.text())
    # The copy and the make file were the test's own edits, not a run's: undo them by hand.
    os.unlink(os.path.join(root, "scripts/ops/backup-db-copy.sh"))
    shutil.rmtree(os.path.join(root, "mk"))
    assert snapshot(root) == original


def test_small_archive_is_journaled_idempotent_and_rolled_back(small):
    root, backups, reports, fig = small
    original = snapshot(root)
    kw = dict(backup_root=backups, report_dir=reports, tags=TAG)
    extra = ("-e", "scripts_archive_unreferenced=true")
    check = run_playbook("consolidate.yml", root, *extra, check=True, diff=True, **kw)
    assert check.rc == 0 and snapshot(root) == original
    moves = check.task(TASK)["archive"]["moves"]
    assert [m["from"] for m in moves] == fig["archivable"]
    assert {"before_header": "scripts/old/one_off_fix.sh (before)", "after_header": "_archive/scripts/old/one_off_fix.sh (after)",
            "before": "moved: scripts/old/one_off_fix.sh\n", "after": "moved: _archive/scripts/old/one_off_fix.sh\n"} \
        in check.task(TASK)["diff"]

    real = run_playbook("consolidate.yml", root, *extra, **kw)
    assert real.rc == 0 and real.changed == 1, real.text()
    for m in moves:
        assert not _exists(root, m["from"])
        assert snapshot(root)[m["to"]][1:] == original[m["from"]][1:]  # mode and bytes kept
    report = _read(reports, [f for f in os.listdir(reports) if f.endswith(".md")][0])
    assert "## scripts: Archive move map" in report and "| scripts/old/migrate_v1.py | _archive/scripts/old/migrate_v1.py |" in report

    again = run_playbook("consolidate.yml", root, *extra, **kw)
    assert again.rc == 0 and again.changed == 0, again.text()
    assert again.task(TASK)["archive"]["moves"] == []

    rb = run_playbook("rollback.yml", root, backup_root=backups)
    assert rb.rc == 0 and rb.changed == 1
    assert snapshot(root) == original


def test_existing_deploy_script_is_left_alone(small):
    root, backups, reports, fig = small
    os.makedirs(os.path.join(root, "scripts/deployment"))
    seed = "#!/bin/bash\n# SutazAI master deploy (seed)\ngit pull origin main\n./deploy.sh \"$@\"\n"
    with open(os.path.join(root, DEPLOY), "w") as f:
        f.write(seed)
    kw = dict(backup_root=backups, report_dir=reports, tags=TAG)
    run = run_playbook("consolidate.yml", root, **kw)
    assert run.rc == 0 and run.changed == 1, run.text()
    res = run.task(TASK)
    assert res["deploy_master"]["status"] == "left alone"
    assert any(DEPLOY + " left alone: another file is there" in w for w in full_warnings(res))
    assert _read(root, DEPLOY) == seed
    assert "left alone" in run.summary()
    # The merges went on.
    assert not _exists(root, "scripts/deploy/start-services.sh")
    # strict does not turn a left-alone file into a failure (only unsafe input does).
    assert run_playbook("consolidate.yml", root, "-e", "scripts_strict=true", **kw).rc == 0


def test_bad_options_fail_with_a_clear_message(small):
    root, backups, reports, fig = small
    before = snapshot(root)
    kw = dict(backup_root=backups, report_dir=reports, tags=TAG)
    run = run_playbook("consolidate.yml", root, "-e", "scripts_archive_dir=scripts/_archive", **kw)
    assert run.rc != 0 and "archive_dir scripts/_archive lies under a script root" in run.task(TASK)["msg"]
    run = run_playbook("consolidate.yml", root, "-e", "scripts_near_threshold=1.5", **kw)
    assert run.rc != 0 and "near_threshold must be greater than 0 and at most 1" in run.task(TASK)["msg"]
    assert snapshot(root) == before


def test_v76_reports_purposes_and_near_duplicates_and_merges_nothing(tmp_path):
    root = str(tmp_path / "root")
    fig = gen_scripts.generate(root, "v76")
    original = snapshot(root)
    kw = dict(backup_root=str(tmp_path / "b"), report_dir=str(tmp_path / "r"), tags=TAG)

    check = run_playbook("consolidate.yml", root, check=True, **kw)
    assert check.rc == 0 and snapshot(root) == original
    res = check.task(TASK)
    stats = res["stats"]
    assert (stats["scripts"], stats["python"], stats["shell"]) == (444, 207, 237)
    assert stats["duplicate_groups"] == 0 and stats["removed"] == 0 and stats["references_rewritten"] == 0
    assert sorted((p["a"], p["b"]) for p in res["near_duplicates"]) == [tuple(p) for p in fig["near_pairs"]]
    assert stats["unreferenced"] == fig["unreferenced"]
    assert [c["path"] for c in res["changes"]] == [DEPLOY]
    assert all(i["purpose"] for i in res["inventory"])
    # The seed's method (function names) would have merged 11 of these scripts.
    by_names = {}
    for s in res["inventory"]:
        if s["kind"] == "python":
            by_names.setdefault(tuple(_py_function_names(root, s["path"])), []).append(s["path"])
    assert len(by_names) == 196

    real = run_playbook("consolidate.yml", root, **kw)
    assert real.rc == 0 and real.changed == 1
    after = snapshot(root, skip=("b", "r"))
    assert DEPLOY in after and set(after) - set(original) <= {"scripts/deployment", DEPLOY}
    assert all(after[k] == original[k] for k in original)
    report = json.loads(_read(str(tmp_path / "r"), [f for f in os.listdir(str(tmp_path / "r")) if f.endswith(".json")][0]))
    (phase,) = [p for p in report["phases"] if p["phase"] == "scripts"]
    sections = dict((s["title"], s) for s in phase["details"])
    assert len(sections["Script inventory"]["rows"]) == 444
    assert sections["Duplicate groups (proven equal)"]["rows"] == []
    assert len(sections["Near duplicates (token-shingle Jaccard >= 0.8, never merged)"]["rows"]) == 14
    assert run_playbook("consolidate.yml", root, **kw).changed == 0


def test_demo_phase_and_deploy_script_validate(tmp_path):
    root = str(tmp_path / "root")
    os.makedirs(root)
    write_demo(root)
    original = snapshot(root)
    kw = dict(backup_root=str(tmp_path / "b"), report_dir=str(tmp_path / "r"), tags=TAG)
    check = run_playbook("consolidate.yml", root, check=True, diff=True, **kw)
    assert check.rc == 0 and snapshot(root) == original
    res = check.task(TASK)
    assert res["stats"]["removed"] == 3 and res["stats"]["near_duplicates"] == 2
    assert [u["path"] for u in res["unparsed"]] == ["scripts/legacy/py2_report.py"]

    real = run_playbook("consolidate.yml", root, **kw)
    assert real.rc == 0 and real.changed == 1, real.text()
    assert "scripts/utils/start-all.sh" in _read(root, ".github/workflows/deploy.yml")
    assert "(../../scripts/monitoring/health_check.py)" in _read(root, "docs/operations/scripts.md")
    for rel in ("scripts/monitoring/check_redis.py", "scripts/monitoring/check_postgres.py", "scripts/utils/banner.sh",
                "scripts/utils/banner-wide.sh"):
        assert _exists(root, rel)
    assert run_playbook("consolidate.yml", root, **kw).changed == 0

    # The generated script runs the collection's playbooks: validate = check mode, nothing changes.
    settled = snapshot(root)
    env = dict(os.environ, SUTAZAI_PLAYBOOKS=os.path.join(REPO, "playbooks"),
               ANSIBLE_PLAYBOOK=os.path.join(BIN, "ansible-playbook"), ANSIBLE_CONFIG=os.path.join(REPO, "ansible.cfg"),
               ANSIBLE_COLLECTIONS_PATH=os.path.join(REPO, ".build", "pytest"), ANSIBLE_NOCOLOR="1",
               PATH=BIN + os.pathsep + os.environ.get("PATH", ""))
    env.pop("SUTAZAI_ROOT", None)
    proc = subprocess.run([os.path.join(root, DEPLOY), "validate", "--tags", TAG, "-e", "sutazai_report_dir=%s" % kw["report_dir"],
                           "-e", "ansible_python_interpreter=%s" % sys.executable],
                          cwd=REPO, env=env, capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "-c local %s/consolidate.yml -e sutazai_root='%s'" % (env["SUTAZAI_PLAYBOOKS"], os.path.realpath(root)) in proc.stderr
    assert "--check --diff" in proc.stderr and "scripts | unchanged" in proc.stdout
    assert snapshot(root) == settled
