# -*- coding: utf-8 -*-
"""Integration: consolidate.yml and rollback.yml on localhost, on the demo tree and the real corpus.

Order for the changing task: check -> real -> idempotent check -> idempotent -> change input ->
changed check -> changed, then rollback of both runs back to the original bytes.
"""

from __future__ import annotations

import json
import os

import pytest

from helpers import CORPUS, copy_corpus, full_warnings, master_agents, run_playbook, snapshot, write_demo

AGENTS_TASK = "Merge the agent registries"


@pytest.fixture
def demo(tmp_path):
    root = tmp_path / "root"
    root.mkdir()
    write_demo(str(root))
    return str(root), str(tmp_path / "backups"), str(tmp_path / "reports")


def test_check_real_idempotent_changed_and_rollback(demo):
    root, backups, reports = demo
    original = snapshot(root)
    kw = dict(backup_root=backups, report_dir=reports)

    check = run_playbook("consolidate.yml", root, check=True, diff=True, **kw, tags="agents")
    assert check.rc == 0, check.text()
    agents = check.task(AGENTS_TASK)
    assert agents["changed"] is True
    assert [d["after_header"] for d in agents["diff"]] == [
        "config/agents/master_registry.json (after)", "backend/app/core/config.py (after)"]
    assert snapshot(root) == original
    assert not os.path.exists(backups) and not os.path.exists(reports)
    assert "plan (check mode, nothing written)" in check.summary()

    real = run_playbook("consolidate.yml", root, **kw, tags="agents")
    assert real.rc == 0 and real.changed == 1, real.text()
    assert len(master_agents(root)) == 20
    runs = os.listdir(backups)
    assert len(runs) == 1
    assert sorted(os.listdir(reports)) == [runs[0] + ".json", runs[0] + ".md"]
    with open(os.path.join(reports, runs[0] + ".json")) as f:
        assert [p["phase"] for p in json.load(f)["phases"] if p["ran"]] == ["agents"]
    after_first = snapshot(root)

    assert run_playbook("consolidate.yml", root, check=True, **kw, tags="agents").changed == 0
    again = run_playbook("consolidate.yml", root, **kw, tags="agents")
    assert again.rc == 0 and again.changed == 0
    assert len(os.listdir(backups)) == 1
    assert snapshot(root) == after_first

    essential = os.path.join(root, "config/agents/essential_agents.json")
    with open(essential) as f:
        doc = json.load(f)
    doc["agents"].append({"id": "new-agent", "name": "New", "capabilities": "['x']"})
    with open(essential, "w") as f:
        json.dump(doc, f)
    changed_input = snapshot(root)
    changed_check = run_playbook("consolidate.yml", root, check=True, **kw, tags="agents")
    assert changed_check.changed == 1 and snapshot(root) == changed_input
    changed = run_playbook("consolidate.yml", root, **kw, tags="agents")
    assert changed.changed == 1
    assert len(master_agents(root)) == 21
    assert len(os.listdir(backups)) == 2

    # Undo the newest run, then the first: back to the original bytes, modes and symlinks.
    rb1 = run_playbook("rollback.yml", root, backup_root=backups)
    assert rb1.rc == 0 and rb1.changed == 1, rb1.text()
    assert len(master_agents(root)) == 20
    rb2 = run_playbook("rollback.yml", root, backup_root=backups)
    assert rb2.rc == 0 and rb2.changed == 1
    restored = snapshot(root)
    # The added agent stays in essential_agents.json: it was a user edit, not the run's.
    assert not os.path.exists(os.path.join(root, "config/agents/master_registry.json"))
    assert restored[".claude/agents/core/sql-pro.md"] == ("link", "../sql-pro.md")
    assert restored["backend/app/core/config.py"] == original["backend/app/core/config.py"]
    assert set(restored) == set(original)
    rb3 = run_playbook("rollback.yml", root, backup_root=backups)
    assert rb3.rc == 0 and rb3.changed == 0


def test_rollback_refuses_file_changed_since(demo):
    root, backups, reports = demo
    assert run_playbook("consolidate.yml", root, backup_root=backups, report_dir=reports, tags="agents").changed == 1
    registry = os.path.join(root, "config/agents/master_registry.json")
    with open(registry, "a") as f:
        f.write("\n")
    edited = snapshot(root)
    refused = run_playbook("rollback.yml", root, backup_root=backups)
    assert refused.rc != 0
    assert "changed since the run (config/agents/master_registry.json)" in refused.task("Restore the run")["msg"]
    assert snapshot(root) == edited
    forced = run_playbook("rollback.yml", root, "-e", "sutazai_rollback_force=true", backup_root=backups)
    assert forced.rc == 0 and not os.path.exists(registry)


def test_default_backup_and_report_folders_inside_root_are_not_input(demo):
    root = demo[0]
    assert run_playbook("consolidate.yml", root, tags="agents").changed == 1
    # A stray agent file inside the backup folder must not be read on the next run.
    os.makedirs(os.path.join(root, "backups", "x", ".claude", "agents"))
    with open(os.path.join(root, "backups", "x", ".claude", "agents", "ghost.md"), "w") as f:
        f.write("---\nname: ghost\n---\n")
    second = run_playbook("consolidate.yml", root, "-e", '{"agents_sources": {"markdown": "."}}', tags="agents")
    assert "ghost" not in [a["id"] for a in master_agents(root)]
    assert second.rc == 0


def _json_error(root):
    with open(os.path.join(root, "config/universal_agents.json"), "w") as f:
        f.write('{\n  "initial_agents": [\n    {"id": "x",}\n  ]\n}\n')
    return "config/universal_agents.json:3:16: invalid JSON"


def _non_utf8(root):
    with open(os.path.join(root, ".claude/agents/sql-pro.md"), "wb") as f:
        f.write(b"---\nname: sql-pro\ndescription: caf\xe9\n---\n")
    return ".claude/agents/sql-pro.md:3:17: not valid UTF-8 (byte 0xe9)"


def _unreadable(root):
    path = os.path.join(root, "agents/agent_registry.json")
    os.unlink(path)
    os.mkdir(path)
    return "agents/agent_registry.json: cannot read file: it is a directory"


def _json_symlink_loop(root):
    path = os.path.join(root, "agents/agent_registry.json")
    os.unlink(path)
    os.symlink("agent_registry.json", path)
    return "agents/agent_registry.json: cannot read file: symlink loop"


@pytest.mark.parametrize("breaker", [_json_error, _non_utf8, _unreadable, _json_symlink_loop])
def test_bad_input_blocks_phase_and_changes_nothing(demo, breaker):
    root, backups, reports = demo
    expected = breaker(root)
    before = snapshot(root)
    kw = dict(backup_root=backups, report_dir=reports)

    res = run_playbook("consolidate.yml", root, **kw, tags="agents")
    assert res.rc == 0, res.text()
    agents = res.task(AGENTS_TASK)
    assert agents["blocked"] is True and agents["changed"] is False
    assert any(expected in w for w in full_warnings(agents)), agents["warnings"]
    assert snapshot(root) == before
    assert not os.path.exists(backups)
    assert "blocked" in res.summary()

    strict = run_playbook("consolidate.yml", root, "-e", "agents_strict=true", **kw, tags="agents")
    assert strict.rc != 0 and expected in strict.task(AGENTS_TASK)["msg"]
    assert snapshot(root) == before

    warned = run_playbook("consolidate.yml", root, "-e", "agents_on_invalid=warn", **kw, tags="agents")
    assert warned.rc == 0 and warned.changed == 1
    result = warned.task(AGENTS_TASK)
    assert [e["path"] for e in result["invalid"]] == [expected.split(":")[0]]
    assert any("skipped invalid file" in w for w in full_warnings(result))


def test_markdown_oddities_warn_and_merge(demo):
    root, backups, reports = demo
    with open(os.path.join(root, ".claude/agents/broken.md"), "w") as f:
        f.write("---\n: : :\n  - [\n---\nbody\n")
    with open(os.path.join(root, ".claude/agents/open.md"), "w") as f:
        f.write("---\nname: open-ended\ndescription: no end\n\nBody starts here.\n")
    os.symlink("loop-b.md", os.path.join(root, ".claude/agents/loop-a.md"))
    os.symlink("loop-a.md", os.path.join(root, ".claude/agents/loop-b.md"))
    res = run_playbook("consolidate.yml", root, backup_root=backups, report_dir=reports, tags="agents")
    assert res.rc == 0 and res.changed == 1, res.text()
    ids = [a["id"] for a in master_agents(root)]
    assert "broken" in ids and "open-ended" in ids
    result = res.task(AGENTS_TASK)
    assert {"path": ".claude/agents/loop-a.md", "reason": "symlink loop"} in result["skipped_files"]
    assert any(w.startswith(".claude/agents/loop-a.md: not read: symlink loop") for w in full_warnings(result))


@pytest.mark.skipif(not os.path.isdir(CORPUS), reason="shared corpus not present")
def test_corpus_acceptance(tmp_path):
    root = str(tmp_path / "sutazaiapp")
    copy_corpus(root)
    original = snapshot(root)

    check = run_playbook("consolidate.yml", root, check=True, diff=True, tags="agents")
    assert check.rc == 0, check.text()
    assert snapshot(root) == original
    assert not os.path.exists(os.path.join(root, "backups")) and not os.path.exists(os.path.join(root, "reports"))
    diff = check.task(AGENTS_TASK)["diff"]
    assert diff[0]["after_header"] == "config/agents/master_registry.json (after)"
    assert '"registry_type": "master"' in diff[0]["after"]

    real = run_playbook("consolidate.yml", root, tags="agents")
    assert real.rc == 0 and real.changed == 1
    assert len(master_agents(root)) == 314
    assert real.task(AGENTS_TASK)["stats"]["agents"] == 314

    second = run_playbook("consolidate.yml", root, tags="agents")
    assert second.rc == 0 and second.changed == 0

    rb = run_playbook("rollback.yml", root, backup_root=os.path.join(root, "backups"))
    assert rb.rc == 0 and rb.changed == 1
    assert snapshot(root, skip=("backups", "reports")) == original


def test_remove_sources_is_journaled_idempotent_and_rolled_back(demo):
    root, backups, reports = demo
    original = snapshot(root)
    kw = dict(backup_root=backups, report_dir=reports)
    first = run_playbook("consolidate.yml", root, "-e", "agents_remove_sources=true", **kw, tags="agents")
    assert first.rc == 0 and first.changed == 1, first.text()
    actions = dict((c["path"], c["action"]) for c in first.task(AGENTS_TASK)["changes"])
    assert actions["agents/agent_registry.json"] == "delete"
    assert actions["config/universal_agents.json"] == "delete"
    assert not os.path.exists(os.path.join(root, "config/agents/essential_agents.json"))
    assert len(master_agents(root)) == 20
    second = run_playbook("consolidate.yml", root, "-e", "agents_remove_sources=true", **kw, tags="agents")
    assert second.rc == 0 and second.changed == 0, second.text()
    assert run_playbook("rollback.yml", root, backup_root=backups).changed == 1
    assert snapshot(root) == original
