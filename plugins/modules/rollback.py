#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026 sutazai.consolidation contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: rollback
short_description: Restore the SutazAI tree to its state before one consolidation run
version_added: 0.1.0
description:
  - Reads only the run's journal (C(<backup_root>/<run_id>/manifest.json)) and undoes its
    entries newest first. Changed files get their original bytes, mode and owner back; created
    files and folders are removed; deleted files and symlinks are restored.
  - >-
    A path that differs both from what the run left and from its original (someone changed it
    since) is a conflict: the module then changes nothing and fails, unless O(force=true).
  - Paths already in their original state are left alone, so a second rollback changes nothing.
  - A run recorded for another root is refused unless O(force=true).
  - >-
    Interrupted runs (killed, even between a change and its journal record) are restored
    without force: each entry records the state its change was about to leave, so a path in
    that state counts as changed by the run. Temporary files the run left next to its paths
    (C(.<name>.sutazai-tmp.<random>)) are removed (action C(remove_temp)).
  - >-
    One run at a time: rollback takes the run lock of O(root) (see M(sutazai.consolidation.run_lock))
    and refuses while another run holds it or while a module process of the run it would undo
    still runs. The stale lock of the run it undoes (its process is gone) is taken over and
    removed at the end.
  - >-
    The manifest is validated before anything is planned: backup copies only under the run's
    C(files/), paths relative and inside the root, no entry under a path that the run restores as
    a symlink, permission bits only, owners as recorded before the run. A tampered or corrupt
    manifest is refused naming the file and the entry; it blocks only its own run (without
    O(run_id) the latest valid run is chosen and the corrupt ones are named in a warning).
  - Every restore checks, immediately before it acts, that no parent folder of the path leads out
    of the root through a symlink; such a path is a conflict that O(force) does not override.
attributes:
  check_mode:
    description: Lists what would be restored and the conflicts; writes nothing.
    support: full
  diff_mode:
    description: Shows the file contents that would come back (secret values redacted).
    support: full
  idempotent:
    description: A second rollback of the same run changes nothing.
    support: full
options:
  root:
    description: Root folder of the SutazAI platform tree the run changed.
    type: path
    required: true
  backup_root:
    description: Folder of the run journals.
    type: path
    required: true
  run_id:
    description:
      - Run to restore. Default is the latest run (by the manifest's C(created) time) that
        has not been rolled back yet; when every run has been rolled back there is nothing to do.
      - Runs are undone newest first; rolling back an older run while a newer one is still in
        place reports the newer run's files as conflicts.
    type: str
  force:
    description: Restore paths changed since the run too (their current content is lost), and allow a root other than the recorded one.
    type: bool
    default: false
seealso:
  - module: sutazai.consolidation.agent_registry
author:
  - SutazAI consolidation team (@sutazai)
"""

EXAMPLES = r"""
- name: Restore the latest run
  sutazai.consolidation.rollback:
    root: /opt/sutazaiapp
    backup_root: /opt/sutazaiapp/backups

# With run_id (a folder name under backup_root), that run is restored instead of the latest.
- name: Restore the latest run even over later edits of its files
  sutazai.consolidation.rollback:
    root: /opt/sutazaiapp
    backup_root: /opt/sutazaiapp/backups
    force: true
"""

RETURN = r"""
run_id:
  description: The run restored (or that would be, in check mode); null when there is no run.
  returned: always
  type: str
actions:
  description: >-
    One item per path restored, in the order they are undone (temporary files first, then the
    newest change first).
  returned: always
  type: list
  elements: dict
  contains:
    path:
      description: The path, relative to O(root).
      type: str
    action:
      description: >-
        C(restore) (a file put back from its backup copy), C(remove) (a file or link the run
        created), C(rmdir) (a folder the run created), C(relink) (a symlink put back as it was),
        C(mkdir) (a folder made again) or C(remove_temp) (a temporary file an interrupted run left).
      type: str
  sample: [{path: config/agents/master_registry.json, action: remove}]
conflicts:
  description: Paths changed since the run or leading out of the root; nothing is restored while there is one.
  returned: always
  type: list
  elements: dict
  contains:
    path:
      description: The path, relative to O(root).
      type: str
    reason:
      description: C(changed since the run) (see O(force)), or C(outside the root) with what leads out.
      type: str
    expected:
      description: What the run left there; null when unknown.
      type: dict
      contains:
        type:
          description: C(absent), C(file), C(symlink) or C(dir).
          type: str
        sha256:
          description: The first 16 hex digits of the file's sha256, or null.
          type: str
        link_target:
          description: The symlink's target, or null.
          type: str
    found:
      description: What is there now; null when not examined (a path leading out of the root).
      type: dict
      contains:
        type:
          description: C(absent), C(file), C(symlink) or C(dir).
          type: str
        sha256:
          description: The first 16 hex digits of the file's sha256, or null.
          type: str
        link_target:
          description: The symlink's target, or null.
          type: str
runs:
  description: Every run found under O(backup_root), oldest first.
  returned: always
  type: list
  elements: dict
  contains:
    run_id:
      description: The run id (the folder name for a manifest that cannot be read).
      type: str
    created:
      description: When the run started (ISO-8601 UTC); empty when unknown.
      type: str
    created_ns:
      description: The start time in nanoseconds since the epoch (it orders the runs); 0 when unknown.
      type: int
    rolled_back:
      description: When the run was rolled back (ISO-8601 UTC), or null.
      type: str
    complete:
      description: Whether the run ended (false for an interrupted run).
      type: bool
    root:
      description: The root the run changed, or null when unknown.
      type: str
    entries:
      description: Number of changes the journal holds.
      type: int
    error:
      description: What is wrong with a corrupt or tampered manifest (such a run is never rolled back), else null.
      type: str
"""

import os
import traceback

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.sutazai.consolidation.plugins.module_utils import _lock
from ansible_collections.sutazai.consolidation.plugins.module_utils._diff import diff_payload
from ansible_collections.sutazai.consolidation.plugins.module_utils._errors import ConsolidationError
from ansible_collections.sutazai.consolidation.plugins.module_utils._fileio import text_or_none
from ansible_collections.sutazai.consolidation.plugins.module_utils._redaction import collect_tree_secrets, secrets_in_files
from ansible_collections.sutazai.consolidation.plugins.module_utils._journal import (
    apply_rollback,
    list_runs,
    plan_rollback,
    running_processes,
    utc_now,
)
from ansible_collections.sutazai.consolidation.plugins.module_utils._tree import safe_join


def _short(state):
    if not state:
        return None
    return {"type": state.get("type"), "sha256": (state.get("sha256") or "")[:16] or None,
            "link_target": state.get("link_target")}


def _diffs(root, backup_root, run_id, actions):
    # The secrets of the backup copies restored, of the files replaced and of the tree are
    # redacted in every diff (a value one file holds as a secret is hidden in all of them).
    secrets = secrets_in_files([(os.path.join(backup_root, run_id, a["entry"]["backup"]), a["path"])
                                for a in actions if a["action"] == "restore"]
                               + [(safe_join(root, a["path"]), a["path"]) for a in actions])
    secrets |= collect_tree_secrets(root, exclude_paths=(backup_root,))
    diffs = []
    for a in actions:
        path = safe_join(root, a["path"])
        before = text_or_none(path) if os.path.isfile(path) and not os.path.islink(path) else None
        after = None
        if a["action"] == "restore":
            after = text_or_none(os.path.join(backup_root, run_id, a["entry"]["backup"]))
        elif a["action"] == "relink":
            after = "symlink -> %s\n" % a["entry"]["before"]["link_target"]
        diffs.append(diff_payload(a["path"], before, after, secrets=secrets))
    return diffs


def _check_lock(module, root, run_id, runs):
    """Return the lock to take over (stale lock of ``run_id``) or None; fail when another run
    holds the lock or a process of ``run_id`` still runs."""
    current = _lock.read_lock(root)
    if current is None:
        return None
    if not _lock.is_stale(current):
        module.fail_json(msg="refusing to roll back while %s holds the run lock of %s; nothing was restored"
                             % (_lock.describe(current), root), run_id=run_id, runs=runs, lock=current)
    if current.get("run_id") not in (run_id, "rollback-%s" % run_id):
        module.fail_json(msg="refusing to roll back run %s: the tree is locked by %s, whose process is gone; roll "
                             "that run back first, or break its lock with -e sutazai_break_lock=true"
                             % (run_id, _lock.describe(current)), run_id=run_id, runs=runs, lock=current)
    return current


def main():
    module = AnsibleModule(
        argument_spec=dict(
            root=dict(type="path", required=True),
            backup_root=dict(type="path", required=True),
            run_id=dict(type="str"),
            force=dict(type="bool", default=False),
        ),
        supports_check_mode=True,
    )
    root = os.path.abspath(module.params["root"])
    backup_root = os.path.abspath(module.params["backup_root"])
    runs = list_runs(backup_root)
    run_id = module.params["run_id"]
    if not run_id:
        pending_ids = set(r["run_id"] for r in runs if not r["rolled_back"])
        current = _lock.read_lock(root)
        if current is not None and _lock.is_stale(current) and not current.get("corrupt") \
                and current.get("run_id") not in pending_ids:
            # An interrupted run that changed nothing (no journal) or is rolled back already.
            module.warn("removing the stale run lock of %s: that run left nothing to roll back"
                        % _lock.describe(current))
            if not module.check_mode:
                _lock.break_lock(root)
        if not runs:
            module.exit_json(changed=False, run_id=None, actions=[], conflicts=[], runs=runs,
                             msg="nothing to roll back under %s: no run journal there" % backup_root)
        for r in runs:
            if r["error"] and not r["rolled_back"]:
                module.warn("run %s cannot be rolled back: %s" % (r["run_id"], r["error"]))
        pending = [r for r in runs if not r["rolled_back"] and not r["error"]]
        if not pending:
            module.exit_json(changed=False, run_id=None, actions=[], conflicts=[], runs=runs,
                             msg="nothing to roll back under %s: every run is rolled back" % backup_root)
        run_id = pending[-1]["run_id"]
    try:
        stale = _check_lock(module, root, run_id, runs)
        alive = running_processes(backup_root, run_id)
        if alive:
            module.fail_json(msg="refusing to roll back run %s: its module process(es) %s still run; wait for "
                                 "them to end (or stop them) and roll back again; nothing was restored"
                                 % (run_id, ", ".join("%d (%s)" % (a["pid"], a["phase"]) for a in alive)),
                             run_id=run_id, runs=runs)
        actions, conflicts = plan_rollback(root, backup_root, run_id, force=module.params["force"])
    except ConsolidationError as exc:
        module.fail_json(msg=str(exc), run_id=run_id, runs=runs)
    short_conflicts = [{"path": c["path"], "reason": c.get("reason"), "expected": _short(c["expected"]),
                        "found": _short(c["found"])} for c in conflicts]
    listing = [{"path": a["path"], "action": a["action"]} for a in actions]
    if conflicts:
        changed = [c["path"] for c in conflicts if c.get("reason") == "changed since the run"]
        outside = ["%s (%s)" % (c["path"], c["reason"]) for c in conflicts if c.get("reason") != "changed since the run"]
        parts = []
        if changed:
            parts.append("%d path(s) changed since the run (%s); use force=true to overwrite them"
                         % (len(changed), ", ".join(changed[:10])))
        if outside:
            parts.append("%d path(s) lead out of the root: %s" % (len(outside), "; ".join(outside[:10])))
        module.fail_json(
            msg="refusing to roll back run %s: %s; nothing was restored" % (run_id, "; ".join(parts)),
            run_id=run_id, actions=listing, conflicts=short_conflicts, runs=runs)
    result = dict(changed=bool(actions), run_id=run_id, actions=listing, conflicts=short_conflicts, runs=runs)
    if module._diff and actions:
        result["diff"] = _diffs(root, backup_root, run_id, actions)
    if not module.check_mode and (actions or stale):
        holder = "rollback-%s" % run_id
        try:
            if stale is not None:
                _lock.break_lock(root)
            _lock.acquire(root, backup_root, holder, utc_now(), kind="rollback")
            try:
                apply_rollback(root, backup_root, run_id, actions)
            finally:
                _lock.release(root, holder)
        except (OSError, ConsolidationError) as exc:
            module.fail_json(msg="rollback of run %s stopped: %s" % (run_id, exc),
                             exception=traceback.format_exc(), **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
