# -*- coding: utf-8 -*-
"""Integration: the requirements phase through consolidate.yml (tag requirements) and rollback.yml,
on the demo tree, a conflict fixture and a copy of the real corpus.

Order for the changing task: check -> real -> idempotent check -> idempotent -> change input ->
changed check -> changed, then rollback back to the original bytes.
"""

from __future__ import annotations

import json
import os

import pytest

from helpers import CORPUS, copy_corpus, full_warnings, run_playbook, snapshot, write_demo

TASK = "Merge the requirements files"
TAG = "requirements"
LAYOUT = ["requirements/%s.txt" % g for g in ("base", "backend", "frontend", "dev", "production")]


def _files(root, files):
    for rel, text in files.items():
        path = os.path.join(root, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write(text)


def _read(root, rel):
    with open(os.path.join(root, rel)) as f:
        return f.read()


@pytest.fixture
def demo(tmp_path):
    root = tmp_path / "root"
    root.mkdir()
    write_demo(str(root))
    return str(root), str(tmp_path / "backups"), str(tmp_path / "reports")


def test_demo_check_real_idempotent_changed_and_rollback(demo):
    root, backups, reports = demo
    original = snapshot(root)
    kw = dict(backup_root=backups, report_dir=reports, tags=TAG)

    check = run_playbook("consolidate.yml", root, check=True, diff=True, **kw)
    assert check.rc == 0, check.text()
    res = check.task(TASK)
    assert res["changed"] is True and res["blocked"] is False
    assert [d["after_header"] for d in res["diff"]] == [rel + " (after)" for rel in sorted(LAYOUT)]
    assert snapshot(root) == original and not os.path.exists(backups) and not os.path.exists(reports)
    # The index URL's user-info never shows in the diff or the result.
    assert "ci-bot" not in json.dumps(res) and "<redacted sha256:" in json.dumps(res["diff"])
    assert res["hoisted"] == ["pydantic", "python-dotenv", "requests"]
    assert [u["path"] for u in res["unparsed"]] == ["agents/ai-agent-orchestrator/requirements.txt"]
    assert len(res["dockerfile_references"]) == 4
    assert any("--hash" in w for w in full_warnings(res))
    summary = check.summary()
    assert "Requirements files (sources -> layout)" in summary and "Requirements lost (proof)" in summary

    real = run_playbook("consolidate.yml", root, **kw)
    assert real.rc == 0 and real.changed == 1, real.text()
    for rel in LAYOUT:
        assert os.path.isfile(os.path.join(root, rel))
    assert _read(root, "requirements/backend.txt").startswith("# sutazai.consolidation requirements layout: group \"backend\"")
    assert "\n-r base.txt\n" in _read(root, "requirements/frontend.txt")
    proof = real.task(TASK)["proof"]
    assert proof and set(p["status"] for p in proof) == {"kept"}
    assert os.path.isfile(os.path.join(root, "backend/requirements.txt"))  # sources kept by default
    after_first = snapshot(root, skip=("backups", "reports"))

    assert run_playbook("consolidate.yml", root, check=True, **kw).changed == 0
    again = run_playbook("consolidate.yml", root, **kw)
    assert again.rc == 0 and again.changed == 0
    assert snapshot(root, skip=("backups", "reports")) == after_first and len(os.listdir(backups)) == 1

    with open(os.path.join(root, "frontend/requirements_optimized.txt"), "a") as f:
        f.write("plotly==5.24.1\n")
    changed_input = snapshot(root)
    changed_check = run_playbook("consolidate.yml", root, check=True, diff=True, **kw)
    assert changed_check.changed == 1 and snapshot(root) == changed_input
    assert [d["after_header"] for d in changed_check.task(TASK)["diff"]] == ["requirements/frontend.txt (after)"]
    changed = run_playbook("consolidate.yml", root, **kw)
    assert changed.changed == 1
    assert "\nplotly==5.24.1\n" in _read(root, "requirements/frontend.txt")

    for attempt in range(2):
        rb = run_playbook("rollback.yml", root, backup_root=backups)
        assert rb.rc == 0 and rb.changed == 1, (attempt, rb.text())
    restored = snapshot(root)
    assert not os.path.exists(os.path.join(root, "requirements/base.txt"))
    assert restored["docker/base/requirements.txt"] == ("link", "base-requirements.txt")
    # The plotly line stays in the source: it was a user edit, not the run's.
    del restored["frontend/requirements_optimized.txt"]
    expected = dict(original)
    del expected["frontend/requirements_optimized.txt"]
    assert restored == expected


def test_demo_remove_sources_is_journaled_idempotent_and_rolled_back(demo):
    root, backups, reports = demo
    original = snapshot(root)
    kw = dict(backup_root=backups, report_dir=reports, tags=TAG)
    real = run_playbook("consolidate.yml", root, "-e", "requirements_remove_sources=true", **kw)
    assert real.rc == 0 and real.changed == 1, real.text()
    res = real.task(TASK)
    removed = sorted(c["path"] for c in res["changes"] if c["action"] == "delete")
    assert removed == ["agents/ai-agent-orchestrator/requirements.txt", "docker/base/base-requirements.txt",
                       "docker/base/requirements.txt", "requirements/requirements-dev.txt",
                       "requirements/requirements-prod.in", "scripts/mcp/monitoring/requirements.txt"]
    assert [k["path"] for k in res["kept_sources"]] == ["backend/requirements.txt", "frontend/requirements_optimized.txt",
                                                        "requirements/requirements-common.txt"]
    for rel in removed:
        assert not os.path.lexists(os.path.join(root, rel))
    layout = dict((rel, _read(root, rel)) for rel in LAYOUT)

    again = run_playbook("consolidate.yml", root, "-e", "requirements_remove_sources=true", **kw)
    assert again.rc == 0 and again.changed == 0, again.text()
    assert again.task(TASK)["stats"]["carried_over"] > 0
    assert dict((rel, _read(root, rel)) for rel in LAYOUT) == layout

    rb = run_playbook("rollback.yml", root, backup_root=backups)
    assert rb.rc == 0 and rb.changed == 1
    assert snapshot(root) == original


def test_conflict_fixture_blocks_changes_nothing_and_play_goes_on(tmp_path):
    root = str(tmp_path / "root")
    _files(root, {"backend/requirements.txt": "fastapi==0.104.1\nuvicorn==0.24.0\n",
                  "requirements/requirements-base.txt": "fastapi>=0.110\n"})
    before = snapshot(root)
    kw = dict(backup_root=str(tmp_path / "b"), report_dir=str(tmp_path / "r"), tags=TAG)

    res = run_playbook("consolidate.yml", root, **kw)
    assert res.rc == 0, res.text()
    result = res.task(TASK)
    assert result["blocked"] is True and result["changed"] is False
    assert result["conflicts"][0]["package"] == "fastapi"
    assert any(w.startswith("requirements conflict: fastapi in group(s) backend: ==0.104.1 (backend/requirements.txt:1); "
                            ">=0.110 (requirements/requirements-base.txt:1)") for w in full_warnings(result)), result["warnings"]
    assert snapshot(root) == before and not os.path.exists(str(tmp_path / "b"))
    # The play went on: the report role (the phase after this one) ran and shows the blocked line.
    summary = res.summary()
    assert "Conflict: fastapi [backend]" in summary and "blocked" in summary

    strict = run_playbook("consolidate.yml", root, "-e", "requirements_strict=true", **kw)
    assert strict.rc != 0
    assert "backend/requirements.txt:1: fastapi [backend]: ==0.104.1 | >=0.110 cannot all hold" in strict.task(TASK)["msg"]
    assert snapshot(root) == before

    pinned = run_playbook("consolidate.yml", root, "-e", '{"requirements_pins": {"fastapi": "==0.110.0"}}', **kw)
    assert pinned.rc == 0 and pinned.changed == 1, pinned.text()
    assert pinned.task(TASK)["resolutions"][0]["specifier"] == "==0.110.0"
    assert "#   resolved (pin): ==0.110.0 over ==0.104.1, >=0.110\nfastapi==0.110.0\n" in _read(root, "requirements/base.txt")
    assert "Conflict: fastapi [backend]" in pinned.summary()


@pytest.mark.skipif(not os.path.isdir(CORPUS), reason="shared corpus not present")
def test_corpus_default_blocks_and_newest_writes_the_layout(tmp_path):
    root = str(tmp_path / "sutazaiapp")
    copy_corpus(root)
    original = snapshot(root)

    check = run_playbook("consolidate.yml", root, check=True, diff=True, tags=TAG)
    assert check.rc == 0 and snapshot(root) == original

    default = run_playbook("consolidate.yml", root, tags=TAG)
    assert default.rc == 0, default.text()
    res = default.task(TASK)
    assert res["blocked"] is True and res["changed"] is False
    assert len(res["conflicts"]) == 37
    assert any("fastapi" in w and "==0.104.1 (docker/base/base-requirements.txt:1" in w for w in full_warnings(res))
    assert snapshot(root, skip=("reports",)) == original
    for rel in LAYOUT:
        assert not os.path.exists(os.path.join(root, rel))

    newest = run_playbook("consolidate.yml", root, "-e", "requirements_resolve=newest", tags=TAG)
    assert newest.rc == 0 and newest.changed == 1, newest.text()
    res = newest.task(TASK)
    assert res["blocked"] is False and res["stats"]["lost"] == 0 and len(res["resolutions"]) == 37
    assert set(p["status"] for p in res["proof"]) == {"kept", "resolved"}
    assert "\nfastapi==0.115.6\n" in _read(root, "requirements/base.txt")
    assert [c["path"] for c in res["changes"]] == sorted(LAYOUT)

    again = run_playbook("consolidate.yml", root, "-e", "requirements_resolve=newest", tags=TAG)
    assert again.rc == 0 and again.changed == 0

    rb = run_playbook("rollback.yml", root, backup_root=os.path.join(root, "backups"))
    assert rb.rc == 0 and rb.changed == 1, rb.text()
    assert snapshot(root, skip=("backups", "reports")) == original
