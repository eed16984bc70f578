# -*- coding: utf-8 -*-
"""Unit tests: the change journal and rollback on real files."""

from __future__ import annotations

import json
import os
import stat

import pytest
from helpers import snapshot as _snapshot

from ansible_collections.sutazai.consolidation.plugins.module_utils._errors import ConsolidationError
from ansible_collections.sutazai.consolidation.plugins.module_utils._journal import (
    Journal,
    apply_rollback,
    list_runs,
    plan_rollback,
)


@pytest.fixture
def tree(tmp_path):
    root = tmp_path / "root"
    root.mkdir()
    (root / "keep.txt").write_bytes(b"keep\r\n")
    (root / "change.json").write_bytes(b'{"a": 1}\n')
    os.chmod(root / "change.json", 0o600)
    (root / "gone.env").write_bytes(b"SECRET=x\n")
    os.symlink("keep.txt", str(root / "link"))
    return root, tmp_path / "backups"


def test_journal_records_before_and_rollback_restores(tree):
    root, backups = tree
    before = _snapshot(str(root))
    j = Journal(str(root), str(backups), "run1", "test")
    j.write_file("change.json", b'{"a": 2}\n')
    j.write_file("new/deep/file.txt", b"new\n")
    j.remove("gone.env")
    j.symlink("link", "change.json")
    j.move("keep.txt", "moved/keep.txt")
    assert stat.S_IMODE(os.stat(root / "change.json").st_mode) == 0o600
    manifest = json.loads((backups / "run1" / "manifest.json").read_text())
    by_path = dict((e["path"], e) for e in manifest["entries"])
    assert by_path["change.json"]["before"]["mode"] == "0600"
    assert by_path["change.json"]["backup"] == "files/change.json"
    assert by_path["gone.env"]["action"] == "delete"
    assert by_path["link"]["before"]["link_target"] == "keep.txt"
    assert by_path["new"]["action"] == "create" and by_path["new"]["before"]["type"] == "absent"
    assert by_path["keep.txt"]["moved_to"] == "moved/keep.txt"
    assert all(e["after"] is not None for e in manifest["entries"])
    assert (backups / "run1" / "files" / "gone.env").read_bytes() == b"SECRET=x\n"
    for d in (backups, backups / "run1", backups / "run1" / "files"):
        assert stat.S_IMODE(os.stat(d).st_mode) == 0o700

    actions, conflicts = plan_rollback(str(root), str(backups), "run1")
    assert conflicts == []
    apply_rollback(str(root), str(backups), "run1", actions)
    assert _snapshot(str(root)) == before
    # A second rollback has nothing to do.
    assert plan_rollback(str(root), str(backups), "run1") == ([], [])
    assert list_runs(str(backups))[0]["rolled_back"]


def test_rollback_refuses_changed_since_unless_forced(tree):
    root, backups = tree
    j = Journal(str(root), str(backups), "run1", "test")
    j.write_file("change.json", b'{"a": 2}\n')
    (root / "change.json").write_bytes(b'{"a": 3}\n')  # someone edits after the run
    actions, conflicts = plan_rollback(str(root), str(backups), "run1")
    assert actions == [] and [c["path"] for c in conflicts] == ["change.json"]
    actions, conflicts = plan_rollback(str(root), str(backups), "run1", force=True)
    assert conflicts == [] and [a["action"] for a in actions] == ["restore"]
    apply_rollback(str(root), str(backups), "run1", actions)
    assert (root / "change.json").read_bytes() == b'{"a": 1}\n'


def test_same_path_twice_keeps_first_before(tree):
    root, backups = tree
    j = Journal(str(root), str(backups), "run1", "a")
    j.write_file("change.json", b"1\n")
    Journal(str(root), str(backups), "run1", "b").write_file("change.json", b"2\n")
    manifest = json.loads((backups / "run1" / "manifest.json").read_text())
    assert len(manifest["entries"]) == 1
    actions = plan_rollback(str(root), str(backups), "run1")[0]
    apply_rollback(str(root), str(backups), "run1", actions)
    assert (root / "change.json").read_bytes() == b'{"a": 1}\n'


def test_no_change_no_backup_folder(tree):
    root, backups = tree
    Journal(str(root), str(backups), "run1", "a")
    assert not backups.exists()
    assert list_runs(str(backups)) == []


def test_unknown_run_and_bad_run_id(tree):
    root, backups = tree
    with pytest.raises(ConsolidationError):
        plan_rollback(str(root), str(backups), "nope")
    with pytest.raises(ConsolidationError):
        Journal(str(root), str(backups), "../x", "a")


def test_refuses_to_replace_symlink_with_file(tree):
    root, backups = tree
    j = Journal(str(root), str(backups), "run1", "a")
    with pytest.raises(ConsolidationError):
        j.write_file("link", b"x")
    assert os.path.islink(root / "link")


def test_rollback_refuses_another_root(tree, tmp_path):
    root, backups = tree
    Journal(str(root), str(backups), "run1", "a").write_file("change.json", b"1\n")
    other = tmp_path / "other"
    other.mkdir()
    with pytest.raises(ConsolidationError) as err:
        plan_rollback(str(other), str(backups), "run1")
    assert err.value.kind == "root_mismatch"
