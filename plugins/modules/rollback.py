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

- name: Restore one run even over later edits
  sutazai.consolidation.rollback:
    root: /opt/sutazaiapp
    backup_root: /var/backups/sutazai
    run_id: 20261121T101500Z-3fa2c1
    force: true
"""

RETURN = r"""
run_id:
  description: The run restored (or that would be, in check mode); null when there is no run.
  returned: always
  type: str
actions:
  description: One item per path restored (path and action restore, remove, rmdir, relink or mkdir).
  returned: always
  type: list
  elements: dict
  sample: [{path: config/agents/master_registry.json, action: remove}]
conflicts:
  description: Paths changed since the run (path, expected and found type/sha256); empty when forced.
  returned: always
  type: list
  elements: dict
runs:
  description: Every run found under O(backup_root) (run_id, created, rolled_back, entries), oldest first.
  returned: always
  type: list
  elements: dict
"""

import os
import traceback

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.sutazai.consolidation.plugins.module_utils._diff import diff_payload
from ansible_collections.sutazai.consolidation.plugins.module_utils._errors import ConsolidationError
from ansible_collections.sutazai.consolidation.plugins.module_utils._fileio import text_or_none
from ansible_collections.sutazai.consolidation.plugins.module_utils._journal import (
    apply_rollback,
    list_runs,
    plan_rollback,
)
from ansible_collections.sutazai.consolidation.plugins.module_utils._tree import safe_join


def _short(state):
    if not state:
        return None
    return {"type": state.get("type"), "sha256": (state.get("sha256") or "")[:16] or None,
            "link_target": state.get("link_target")}


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
        if not runs:
            module.exit_json(changed=False, run_id=None, actions=[], conflicts=[], runs=runs,
                             msg="no run journal under %s: nothing to roll back" % backup_root)
        pending = [r for r in runs if not r["rolled_back"]]
        if not pending:
            module.exit_json(changed=False, run_id=None, actions=[], conflicts=[], runs=runs,
                             msg="every run under %s has been rolled back: nothing to do" % backup_root)
        run_id = pending[-1]["run_id"]
    try:
        actions, conflicts = plan_rollback(root, backup_root, run_id, force=module.params["force"])
    except ConsolidationError as exc:
        module.fail_json(msg=str(exc), run_id=run_id, runs=runs)
    short_conflicts = [{"path": c["path"], "expected": _short(c["expected"]), "found": _short(c["found"])}
                       for c in conflicts]
    listing = [{"path": a["path"], "action": a["action"]} for a in actions]
    if conflicts:
        module.fail_json(
            msg="refusing to roll back run %s: %d path(s) changed since the run (%s); nothing was "
                "restored; use force=true to overwrite them"
                % (run_id, len(conflicts), ", ".join(c["path"] for c in conflicts[:10])),
            run_id=run_id, actions=listing, conflicts=short_conflicts, runs=runs)
    result = dict(changed=bool(actions), run_id=run_id, actions=listing, conflicts=short_conflicts, runs=runs)
    if module._diff and actions:
        diffs = []
        for a in actions:
            path = safe_join(root, a["path"])
            before = text_or_none(path) if os.path.isfile(path) and not os.path.islink(path) else None
            after = None
            if a["action"] == "restore":
                after = text_or_none(os.path.join(backup_root, run_id, a["entry"]["backup"]))
            elif a["action"] == "relink":
                after = "symlink -> %s\n" % a["entry"]["before"]["link_target"]
            diffs.append(diff_payload(a["path"], before, after))
        result["diff"] = diffs
    if not module.check_mode and actions:
        try:
            apply_rollback(root, backup_root, run_id, actions)
        except (OSError, ConsolidationError) as exc:
            module.fail_json(msg="rollback of run %s stopped: %s" % (run_id, exc),
                             exception=traceback.format_exc(), **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
