# -*- coding: utf-8 -*-
"""Integration: the config phase (shim cleanup) through consolidate.yml on localhost.

Order for the changing task: check -> real -> idempotent check -> idempotent -> change input ->
changed check -> changed, then rollback of both runs back to the original bytes. The live
connection checks against real servers are in test_connection_check.py.
"""

from __future__ import annotations

import json
import os
import shutil

import pytest

from helpers import CORPUS, copy_corpus, full_warnings, run_playbook, snapshot, write_demo

TASK = "Remove unused shim modules"
REMOVED = ["backend/core/config.py", "backend/core/legacy_config.py"]


@pytest.fixture
def demo(tmp_path):
    root = tmp_path / "root"
    root.mkdir()
    write_demo(str(root))
    return str(root), str(tmp_path / "backups"), str(tmp_path / "reports")


def _shims(result):
    return dict((s["path"], s) for s in result["shims"])


def test_check_real_idempotent_changed_and_rollback(demo):
    root, backups, reports = demo
    original = snapshot(root)
    kw = dict(backup_root=backups, report_dir=reports, tags="config")

    check = run_playbook("consolidate.yml", root, check=True, diff=True, **kw)
    assert check.rc == 0, check.text()
    result = check.task(TASK)
    assert result["changed"] is True and result["blocked"] is False
    assert result["changes"] == [{"path": p, "action": "delete"} for p in REMOVED]
    assert [(d["before_header"], d["after_header"]) for d in result["diff"]] == [
        ("%s (before)" % p, "%s (absent)" % p) for p in REMOVED]
    assert "from app.core.config import *" in result["diff"][0]["before"]
    shims = _shims(result)
    assert sorted(shims) == ["backend/app/core/db.py", "backend/app/core/settings.py"] + REMOVED
    # The shim still imported is kept and reported with its importer (file:line).
    settings = shims["backend/app/core/settings.py"]
    assert (settings["status"], settings["action"]) == ("referenced", "keep")
    assert settings["targets"] == ["app.core.config"] and settings["target_files"] == ["backend/app/core/config.py"]
    assert settings["references"] == [{"path": "backend/app/main.py", "line": 4, "kind": "import",
                                       "text": "from app.core.settings import OLLAMA_URL"}]
    assert shims["backend/app/core/db.py"]["references"][0]["kind"] == "dynamic"
    # The shim of a shim goes with it; the seed's backend/core/config.py is imported only by it.
    assert shims["backend/core/config.py"]["references"][0]["path"] == "backend/core/legacy_config.py"
    assert [(s["status"], s["action"]) for p, s in sorted(shims.items()) if p in REMOVED] == [("unused", "remove")] * 2
    # The Python 2 files (this phase's and the base_agent phase's) are listed with their location, never removed.
    assert [(e["path"], e["line"], e["column"]) for e in result["invalid"]] == [
        ("backend/legacy/agent_report_py2.py", 4, 1), ("scripts/legacy/py2_report.py", 5, 1)]
    assert any("scripts/legacy/py2_report.py:5:1" in w for w in full_warnings(result))
    assert result["summary"]["status"] == "would change"
    assert snapshot(root) == original
    assert not os.path.exists(backups) and not os.path.exists(reports)
    table = check.summary()
    assert "config | would change | Shim modules (re-export only)" in table

    real = run_playbook("consolidate.yml", root, **kw)
    assert real.rc == 0 and real.changed == 1, real.text()
    python_files = sum(1 for rel in original if rel.endswith(".py"))
    assert real.task(TASK)["stats"] == {"python_files": python_files, "invalid_files": 2,
                                        "text_files": real.task(TASK)["stats"]["text_files"],
                                        "shims": 4, "unused": 2, "referenced": 2, "kept": 0, "removed": 2}
    for p in REMOVED:
        assert not os.path.exists(os.path.join(root, p))
    assert os.path.exists(os.path.join(root, "scripts/legacy/py2_report.py"))
    runs = os.listdir(backups)
    assert len(runs) == 1
    with open(os.path.join(reports, runs[0] + ".json")) as f:
        phases = [p for p in json.load(f)["phases"] if p["ran"]]
    assert [p["phase"] for p in phases] == ["config"] and phases[0]["status"] == "changed"
    after_first = snapshot(root)

    assert run_playbook("consolidate.yml", root, check=True, **kw).changed == 0
    again = run_playbook("consolidate.yml", root, **kw)
    assert again.rc == 0 and again.changed == 0
    assert again.task(TASK)["summary"]["status"] == "unchanged"
    assert len(os.listdir(backups)) == 1 and snapshot(root) == after_first

    # Changed input: main.py stops importing the settings shim, which becomes unused.
    main = os.path.join(root, "backend/app/main.py")
    with open(main) as f:
        text = f.read()
    with open(main, "w") as f:
        f.write(text.replace("from app.core.settings import OLLAMA_URL\n", "OLLAMA_URL = 'http://ollama:11434'\n"))
    changed_input = snapshot(root)
    changed_check = run_playbook("consolidate.yml", root, check=True, **kw)
    assert changed_check.changed == 1 and snapshot(root) == changed_input
    assert changed_check.task(TASK)["changes"] == [{"path": "backend/app/core/settings.py", "action": "delete"}]
    changed = run_playbook("consolidate.yml", root, **kw)
    assert changed.changed == 1 and not os.path.exists(os.path.join(root, "backend/app/core/settings.py"))
    assert len(os.listdir(backups)) == 2

    rb1 = run_playbook("rollback.yml", root, backup_root=backups)
    assert rb1.rc == 0 and rb1.changed == 1, rb1.text()
    assert snapshot(root) == changed_input
    rb2 = run_playbook("rollback.yml", root, backup_root=backups)
    assert rb2.rc == 0 and rb2.changed == 1
    restored = snapshot(root)
    # main.py keeps the user's edit (not the run's); everything the runs removed is back, byte for byte.
    for p in REMOVED + ["backend/app/core/settings.py"]:
        assert restored[p] == original[p]
    assert set(restored) == set(original)
    assert run_playbook("rollback.yml", root, backup_root=backups).changed == 0


def test_report_only_and_keep_patterns(demo):
    root, backups, reports = demo
    original = snapshot(root)
    kw = dict(backup_root=backups, report_dir=reports, tags="config")
    report = run_playbook("consolidate.yml", root, "-e", "config_remove_shims=false", **kw)
    assert report.rc == 0 and report.changed == 0, report.text()
    shims = _shims(report.task(TASK))
    assert [(shims[p]["status"], shims[p]["action"]) for p in REMOVED] == [("unused", "keep")] * 2
    rows = dict((r["item"], (r["before"], r["after"])) for r in report.task(TASK)["summary"]["rows"])
    assert rows["Shims unused -> removed"] == (2, 0)
    assert snapshot(root) == original and not os.path.exists(backups)

    kept = run_playbook("consolidate.yml", root, "-e", '{"config_keep": ["backend/core/config.py"]}', **kw)
    assert kept.rc == 0 and kept.changed == 1, kept.text()
    result = kept.task(TASK)
    assert result["changes"] == [{"path": "backend/core/legacy_config.py", "action": "delete"}]
    assert _shims(result)["backend/core/config.py"]["status"] == "referenced"
    assert os.path.exists(os.path.join(root, "backend/core/config.py"))


def test_python_roots_and_text_references(demo):
    root, backups, reports = demo
    kw = dict(backup_root=backups, report_dir=reports, tags="config", check=True)
    # A Dockerfile that runs the legacy module keeps it.
    os.makedirs(os.path.join(root, "docker/backend"))
    with open(os.path.join(root, "docker/backend/Dockerfile"), "w") as f:
        f.write("FROM python:3.11-slim\nCOPY backend /app\nCMD [\"python\", \"-m\", \"core.legacy_config\"]\n")
    res = run_playbook("consolidate.yml", root, **kw)
    assert res.task(TASK)["changes"] == []
    legacy = _shims(res.task(TASK))["backend/core/legacy_config.py"]
    assert legacy["references"] == [{"path": "docker/backend/Dockerfile", "line": 3, "kind": "text",
                                     "text": 'CMD ["python", "-m", "core.legacy_config"]'}]
    code_only = run_playbook("consolidate.yml", root, "-e", "config_text_references=false", **kw)
    assert [c["path"] for c in code_only.task(TASK)["changes"]] == REMOVED
    # backend/ as the import root: the settings importer still resolves, nothing else changes.
    rooted = run_playbook("consolidate.yml", root, "-e", '{"config_python_roots": ["backend"], "config_text_references": false}', **kw)
    assert [c["path"] for c in rooted.task(TASK)["changes"]] == REMOVED
    assert _shims(rooted.task(TASK))["backend/app/core/settings.py"]["status"] == "referenced"


def _run_without_dac(root, backups, reports, *extra):
    """consolidate.yml --tags config as root without the capabilities to read any file."""
    return run_playbook("consolidate.yml", root, *extra, tags="config", backup_root=backups, report_dir=reports,
                        without_dac=True)


@pytest.mark.skipif(shutil.which("setpriv") is None or os.geteuid() != 0, reason="needs root and setpriv (util-linux)")
def test_unreadable_python_file_blocks_removal(demo):
    root, backups, reports = demo
    secret_file = os.path.join(root, "backend/app/private.py")
    with open(secret_file, "w") as f:
        f.write("from core.config import x\n")
    os.chmod(secret_file, 0)
    before = snapshot(root)
    res = _run_without_dac(root, backups, reports)
    assert res.rc == 0, res.text()
    result = res.task(TASK)
    assert result["blocked"] is True and result["changed"] is False
    assert result["summary"]["status"] == "blocked"
    assert any("backend/app/private.py: cannot read file: permission denied" in w for w in full_warnings(result)), result["warnings"]
    assert all(s["action"] == "keep" for s in result["shims"])
    assert snapshot(root) == before and not os.path.exists(backups)
    assert "blocked" in res.summary()

    strict = _run_without_dac(root, backups, reports, "-e", "config_strict=true")
    assert strict.rc != 0 and "cannot be read, so no shim can be proven unused" in strict.task(TASK)["msg"]
    assert snapshot(root) == before

    # Report only: nothing to remove, so nothing to block; the file is still named.
    report = _run_without_dac(root, backups, reports, "-e", "config_remove_shims=false")
    assert report.rc == 0 and report.task(TASK)["blocked"] is False
    assert any("not read: backend/app/private.py" in w for w in full_warnings(report.task(TASK)))


def test_connection_checks_are_off_by_default_and_report_a_missing_registry(demo):
    root, backups, reports = demo
    kw = dict(backup_root=backups, report_dir=reports, tags="config", check=True)
    off = run_playbook("consolidate.yml", root, **kw)
    assert off.task("Check live connections")["skipped"] is True
    on = run_playbook("consolidate.yml", root, "-e", "config_check_connections=true", **kw)
    assert on.rc == 0, on.text()
    checks = on.task("Check live connections")
    assert checks["changed"] is False and checks["checks"] == []
    assert "no targets given and no registry at config/services/master_registry.yaml" in checks["warnings"][0]
    assert "config (connections)" in on.summary()
    failing = run_playbook("consolidate.yml", root, "-e", "config_check_connections=true",
                           "-e", "config_connection_fail_on_error=true", **kw)
    assert failing.rc != 0
    assert "0 of 0 connection check(s) failed: no targets given" in failing.task("Check live connections")["msg"]


@pytest.mark.skipif(not os.path.isdir(CORPUS), reason="shared corpus not present")
def test_corpus_has_no_python_and_stays_byte_identical(tmp_path):
    root = str(tmp_path / "sutazaiapp")
    copy_corpus(root)
    original = snapshot(root)
    check = run_playbook("consolidate.yml", root, check=True, diff=True, tags="config")
    assert check.rc == 0, check.text()
    result = check.task(TASK)
    assert result["changed"] is False and result["shims"] == [] and result["stats"]["python_files"] == 0
    real = run_playbook("consolidate.yml", root, tags="config")
    assert real.rc == 0 and real.changed == 0
    assert snapshot(root, skip=("backups", "reports")) == original


def test_symlink_to_an_unused_shim_goes_with_it_and_comes_back(demo):
    root, backups, reports = demo
    os.symlink("config.py", os.path.join(root, "backend/core/config_alias.py"))
    original = snapshot(root)
    kw = dict(backup_root=backups, report_dir=reports, tags="config")
    real = run_playbook("consolidate.yml", root, **kw)
    assert real.rc == 0 and real.changed == 1, real.text()
    result = real.task(TASK)
    assert result["changes"] == [{"path": "backend/core/config.py", "action": "delete"},
                                 {"path": "backend/core/config_alias.py", "action": "delete"},
                                 {"path": "backend/core/legacy_config.py", "action": "delete"}]
    assert _shims(result)["backend/core/config.py"]["links"] == ["backend/core/config_alias.py"]
    assert result["stats"]["removed"] == 2
    assert not os.path.lexists(os.path.join(root, "backend/core/config_alias.py"))
    assert run_playbook("rollback.yml", root, backup_root=backups).changed == 1
    assert snapshot(root) == original
