# -*- coding: utf-8 -*-
"""Unit tests: containment, kill-safety, manifest validation, backup modes and the run lock,
on real files."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys

import pytest
from helpers import snapshot

from ansible_collections.sutazai.consolidation.plugins.module_utils import _lock
from ansible_collections.sutazai.consolidation.plugins.module_utils._changes import ChangeSet
from ansible_collections.sutazai.consolidation.plugins.module_utils._errors import ConsolidationError
from ansible_collections.sutazai.consolidation.plugins.module_utils._fileio import stray_temp_files, temp_prefix
from ansible_collections.sutazai.consolidation.plugins.module_utils._journal import (
    Journal,
    apply_rollback,
    incomplete_runs,
    list_runs,
    mark_complete,
    plan_rollback,
)


@pytest.fixture
def tree(tmp_path):
    root = tmp_path / "root"
    (root / "config").mkdir(parents=True)
    (root / "config" / "a.yaml").write_bytes(b"a: 1\n")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "victim.txt").write_bytes(b"outside\n")
    return root, tmp_path / "backups", outside


def _manifest(backups, run_id="run1"):
    with open(os.path.join(str(backups), run_id, "manifest.json")) as f:
        return json.load(f)


def _save_manifest(backups, doc, run_id="run1"):
    with open(os.path.join(str(backups), run_id, "manifest.json"), "w") as f:
        json.dump(doc, f)


# -- containment --------------------------------------------------------------------------
def test_journal_refuses_a_write_through_a_symlinked_folder(tree):
    root, backups, outside = tree
    os.symlink(str(outside), str(root / "config" / "services"))
    before = snapshot(str(outside))
    j = Journal(str(root), str(backups), "run1", "t")
    with pytest.raises(ConsolidationError) as exc:
        j.write_file("config/services/victim.txt", b"pwned\n")
    assert exc.value.kind == "outside_root"
    assert "config/services is a symlink to %s" % outside in str(exc.value)
    for op in (lambda: j.remove("config/services/victim.txt"),
               lambda: j.symlink("config/services/x", "y"),
               lambda: j.move("config/a.yaml", "config/services/a.yaml")):
        with pytest.raises(ConsolidationError):
            op()
    assert snapshot(str(outside)) == before


def test_changeset_refuses_in_planning_like_the_journal(tree):
    root, outside = tree[0], tree[2]
    os.symlink(str(outside), str(root / "_archive"))
    os.symlink(str(outside / "victim.txt"), str(root / "config" / "final.txt"))
    changes = ChangeSet(str(root))
    assert not changes.write("_archive/victim.txt", b"x\n")
    assert not changes.remove("_archive/victim.txt")
    assert not changes.write("config/final.txt", b"x\n")
    assert changes.write("config/ok.txt", b"x\n")
    assert [r["path"] for r in changes.refused] == ["_archive/victim.txt", "_archive/victim.txt", "config/final.txt"]
    assert "is a symlink" in changes.refused[2]["message"]


def test_a_symlink_inside_the_root_is_followed(tree):
    root, backups = tree[0], tree[1]
    (root / "real").mkdir()
    os.symlink("real", str(root / "alias"))
    j = Journal(str(root), str(backups), "run1", "t")
    j.write_file("alias/f.txt", b"x\n")
    assert (root / "real" / "f.txt").read_bytes() == b"x\n"


def test_rollback_refuses_a_restore_through_a_folder_replaced_by_a_link(tree):
    root, backups, outside = tree
    j = Journal(str(root), str(backups), "run1", "t")
    j.write_file("config/a.yaml", b"a: 2\n")
    mark_complete(str(backups), "run1")
    os.rename(str(root / "config"), str(root / "config.moved"))
    os.symlink(str(outside), str(root / "config"))
    actions, conflicts = plan_rollback(str(root), str(backups), "run1", force=True)
    assert [c["path"] for c in conflicts] == ["config/a.yaml"]
    assert "outside the root" in conflicts[0]["reason"]
    assert not os.path.exists(str(outside / "a.yaml"))


# -- kill-safety --------------------------------------------------------------------------
def test_change_made_but_not_recorded_is_restored_without_force(tree):
    root, backups = tree[0], tree[1]
    before = snapshot(str(root))
    j = Journal(str(root), str(backups), "run1", "t")
    j.write_file("config/new.yaml", b"new\n")
    # Simulate a kill between the change and its record: entry written, change made, no _done.
    j.record("config/a.yaml", "modify", {"type": "file", "sha256": __import__("hashlib").sha256(b"a: 9\n").hexdigest(),
                                         "mode": "0644", "link_target": None})
    (root / "config" / "a.yaml").write_bytes(b"a: 9\n")
    entry = [e for e in _manifest(backups)["entries"] if e["path"] == "config/a.yaml"][0]
    assert entry["after"] is None and entry["planned"]["sha256"]
    actions, conflicts = plan_rollback(str(root), str(backups), "run1")
    assert conflicts == []
    apply_rollback(str(root), str(backups), "run1", actions)
    assert snapshot(str(root)) == before


def test_path_changed_twice_and_killed_before_the_second_change(tree):
    root, backups = tree[0], tree[1]
    before = snapshot(str(root))
    j = Journal(str(root), str(backups), "run1", "t")
    j.write_file("config/a.yaml", b"a: 2\n")
    j.record("config/a.yaml", "modify", {"type": "file", "sha256": "0" * 64, "mode": "0644", "link_target": None})
    actions, conflicts = plan_rollback(str(root), str(backups), "run1")
    assert conflicts == []
    apply_rollback(str(root), str(backups), "run1", actions)
    assert snapshot(str(root)) == before


def test_stray_temp_files_are_removed_by_rollback(tree):
    root, backups = tree[0], tree[1]
    before = snapshot(str(root))
    j = Journal(str(root), str(backups), "run1", "t")
    j.write_file("config/a.yaml", b"a: 2\n")
    stray = root / "config" / (temp_prefix("a.yaml") + "k3j2")
    stray.write_bytes(b"half")
    assert stray_temp_files(str(root / "config" / "a.yaml")) == [str(stray)]
    actions, conflicts = plan_rollback(str(root), str(backups), "run1")
    assert {"path": "config/" + stray.name, "action": "remove_temp"} in \
        [{"path": a["path"], "action": a["action"]} for a in actions]
    apply_rollback(str(root), str(backups), "run1", actions)
    assert snapshot(str(root)) == before


def test_incomplete_until_marked_complete(tree):
    root, backups = tree[0], tree[1]
    Journal(str(root), str(backups), "run1", "t").write_file("config/b.yaml", b"b\n")
    assert [r["run_id"] for r in incomplete_runs(str(backups), str(root))] == ["run1"]
    assert mark_complete(str(backups), "run1")
    assert incomplete_runs(str(backups), str(root)) == []


# -- backup folders -----------------------------------------------------------------------
def test_existing_backup_root_keeps_its_mode_and_copies_are_private(tree):
    root, backups = tree[0], tree[1]
    backups.mkdir()
    os.chmod(str(backups), 0o1777)
    (root / ".env").write_bytes(b"PASSWORD=x\n")
    os.chmod(str(root / ".env"), 0o644)
    Journal(str(root), str(backups), "run1", "t").write_file(".env", b"PASSWORD=y\n")
    assert stat.S_IMODE(os.stat(str(backups)).st_mode) == 0o1777
    assert stat.S_IMODE(os.stat(str(backups / "run1")).st_mode) == 0o700
    assert stat.S_IMODE(os.stat(str(backups / "run1" / "files" / ".env")).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(str(backups / "run1" / "manifest.json")).st_mode) == 0o600
    assert _manifest(backups)["entries"][0]["before"]["mode"] == "0644"
    actions = plan_rollback(str(root), str(backups), "run1")[0]
    apply_rollback(str(root), str(backups), "run1", actions)
    assert stat.S_IMODE(os.stat(str(root / ".env")).st_mode) == 0o644


# -- manifest validation ------------------------------------------------------------------
@pytest.mark.parametrize("tamper, words", [
    (lambda e: e.update(backup="/etc/passwd"), "is not files/<path>"),
    (lambda e: e.update(backup="files/../../../../etc/passwd"), "is not files/<path>"),
    (lambda e: e.update(path="../outside/victim.txt", backup="files/../outside/victim.txt"), "climbs"),
    (lambda e: e.update(path="/etc/passwd", backup="files//etc/passwd"), "not a relative path"),
    (lambda e: e["before"].update(mode="4755"), "more than permission bits"),
    (lambda e: e["before"].update(uid="root"), "is not an id"),
    (lambda e: e.update(action="chmod"), "unknown action"),
])
def test_tampered_entries_are_refused_naming_manifest_and_entry(tree, tamper, words):
    root, backups = tree[0], tree[1]
    Journal(str(root), str(backups), "run1", "t").write_file("config/a.yaml", b"a: 2\n")
    doc = _manifest(backups)
    tamper(doc["entries"][0])
    _save_manifest(backups, doc)
    with pytest.raises(ConsolidationError) as exc:
        plan_rollback(str(root), str(backups), "run1")
    assert exc.value.kind == "bad_manifest" and words in str(exc.value)
    assert "manifest.json" in str(exc.value) and "entry 1" in str(exc.value)


def test_symlink_entry_then_file_under_it_is_refused(tree):
    root, backups, outside = tree
    os.symlink("config", str(root / "link"))
    j = Journal(str(root), str(backups), "run1", "t")
    j.remove("link")
    j.write_file("link/evil.txt", b"x\n")
    doc = _manifest(backups)
    doc["entries"][0]["before"]["link_target"] = str(outside)
    _save_manifest(backups, doc)
    with pytest.raises(ConsolidationError) as exc:
        plan_rollback(str(root), str(backups), "run1")
    assert "restores as a symlink" in str(exc.value)


def test_corrupt_manifest_blocks_only_its_own_run(tree):
    root, backups = tree[0], tree[1]
    Journal(str(root), str(backups), "run1", "t").write_file("config/b.yaml", b"b\n")
    Journal(str(root), str(backups), "run2", "t").write_file("config/c.yaml", b"c\n")
    with open(str(backups / "run2" / "manifest.json"), "w") as f:
        f.write("{not json")
    runs = list_runs(str(backups))
    by_id = dict((r["run_id"], r) for r in runs)
    assert by_id["run1"]["error"] is None
    assert "run2/manifest.json" in by_id["run2"]["error"]
    actions, conflicts = plan_rollback(str(root), str(backups), "run1")
    assert conflicts == [] and actions


# -- the run lock -------------------------------------------------------------------------
def test_lock_one_holder_and_verify(tree):
    root, backups = tree[0], tree[1]
    _lock.acquire(str(root), str(backups), "run1", "t0")
    assert _lock.acquire(str(root), str(backups), "run1", "t0")["run_id"] == "run1"
    with pytest.raises(ConsolidationError) as exc:
        _lock.acquire(str(root), str(backups), "run2", "t1")
    assert exc.value.kind == "locked" and "run run1" in str(exc.value)
    _lock.verify(str(root), "run1")
    with pytest.raises(ConsolidationError):
        _lock.verify(str(root), "run2")
    assert not _lock.release(str(root), "run2")
    assert _lock.release(str(root), "run1")
    with pytest.raises(ConsolidationError) as exc:
        _lock.verify(str(root), "run1")
    assert exc.value.kind == "not_locked"


def test_lock_of_a_dead_process_is_stale(tree):
    root, backups = tree[0], tree[1]
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    _lock.acquire(str(root), str(backups), "run1", "t0", pid=proc.pid)
    lock = _lock.read_lock(str(root))
    assert _lock.is_stale(lock)
    with pytest.raises(ConsolidationError) as exc:
        _lock.acquire(str(root), str(backups), "run2", "t1")
    assert exc.value.kind == "stale_lock" and "sutazai_break_lock=true" in str(exc.value)


def test_lock_of_a_live_process_is_not_stale(tree):
    root, backups = tree[0], tree[1]
    _lock.acquire(str(root), str(backups), "run1", "t0", pid=os.getpid())
    assert not _lock.is_stale(_lock.read_lock(str(root)))
