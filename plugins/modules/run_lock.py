#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026 sutazai.consolidation contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: run_lock
short_description: Take or release the one-run-at-a-time lock of a SutazAI tree
version_added: 0.4.0
description:
  - >-
    One run at a time on a tree. O(state=locked) takes the lock file
    C(<root>/.sutazai-consolidation.lock) (mode 0600, created atomically with C(O_EXCL)) for
    O(run_id), recording the run id, host, the C(ansible-playbook) process id and its start time,
    and the start time of the run. Every module that changes the tree checks that the lock is
    held by its run id before its first change.
  - >-
    A lock held by another run refuses the run, naming the holder. When the holder's process is
    gone (same host), the lock is stale: the run was interrupted; the message says what to do
    (roll it back with C(rollback.yml), or break the lock with O(break_lock=true)).
  - >-
    Interrupted runs. A run whose play did not end (killed) stays incomplete in its journal. With
    O(state=locked) an incomplete run on the same root under O(backup_root) refuses the new run
    until it is rolled back, or accepted with O(accept_incomplete=true) (its journal is marked
    accepted and the temporary files it left next to its paths are removed).
  - >-
    O(state=unlocked) marks the run's journal complete and removes the lock when this run holds
    it (a lock of another run is left alone).
  - In check mode nothing is written; the same refusals are reported.
attributes:
  check_mode:
    description: Nothing is written; a lock held by another run or an incomplete run fails the same way.
    support: full
  diff_mode:
    description: No diff.
    support: none
  idempotent:
    description: Taking a lock the run already holds, or releasing one it does not hold, changes nothing.
    support: full
options:
  root:
    description: Root folder of the SutazAI platform tree.
    type: path
    required: true
  backup_root:
    description: Journal folder of the runs (default C(<root>/backups)).
    type: path
  run_id:
    description: The run taking or releasing the lock.
    type: str
    required: true
  state:
    description: V(locked) takes the lock, V(unlocked) marks the run complete and releases it.
    type: str
    choices: [locked, unlocked]
    default: locked
  break_lock:
    description:
      - Remove a lock held by another run before taking it (a warning names the holder). Refused
        while the holder's process still runs on this host.
    type: bool
    default: false
  accept_incomplete:
    description:
      - Go on although an earlier run on this root was interrupted and not rolled back; its
        journal is marked accepted (its changes stay) and its temporary files are removed.
    type: bool
    default: false
author:
  - SutazAI consolidation team (@sutazai)
"""

EXAMPLES = r"""
- name: Take the run lock
  sutazai.consolidation.run_lock:
    root: /opt/sutazaiapp
    backup_root: /opt/sutazaiapp/backups
    run_id: 20261121T101500Z-3fa2c1
    state: locked

- name: Release it at the end of the play
  sutazai.consolidation.run_lock:
    root: /opt/sutazaiapp
    backup_root: /opt/sutazaiapp/backups
    run_id: 20261121T101500Z-3fa2c1
    state: unlocked
"""

RETURN = r"""
lock:
  description:
    - The lock as held after the task.
    - Null after O(state=unlocked), unless another run holds the lock (then its lock), and null in
      check mode while this run does not hold it yet.
  returned: always
  type: dict
  contains:
    format:
      description: Version of the lock file layout (1).
      type: int
    run_id:
      description: Run holding the lock; null for a lock file that cannot be read.
      type: str
    root:
      description: The platform root it locks (absolute).
      type: str
    backup_root:
      description: The holder's backup folder (absolute), or null.
      type: str
    host:
      description: Host name of the holder.
      type: str
    pid:
      description: Process id of the holder's C(ansible-playbook).
      type: int
    pid_start:
      description: Start time of that process in clock ticks since boot (tells a reused PID apart), or null.
      type: int
    started:
      description: Start time of the holder (ISO-8601 UTC).
      type: str
    kind:
      description: >-
        C(consolidate) (a play), C(rollback) or C(phase) (a phase module called without a run id,
        holding the lock for its own call).
      type: str
    corrupt:
      description: True for a lock file that is not valid JSON (the other keys are then absent).
      returned: when the lock file cannot be read
      type: bool
  sample: {format: 1, run_id: 20261121T101500Z-3fa2c1, root: /opt/sutazaiapp, backup_root: /opt/sutazaiapp/backups,
           host: controller, pid: 4242, pid_start: 912345, started: "2026-11-21T10:15:00Z", kind: consolidate}
broken:
  description: The lock removed by O(break_lock) (in check mode, that would be), or null.
  returned: always
  type: dict
  contains:
    format:
      description: Version of the lock file layout (1).
      type: int
    run_id:
      description: Run holding the lock; null for a lock file that cannot be read.
      type: str
    root:
      description: The platform root it locks (absolute).
      type: str
    backup_root:
      description: The holder's backup folder (absolute), or null.
      type: str
    host:
      description: Host name of the holder.
      type: str
    pid:
      description: Process id of the holder's C(ansible-playbook).
      type: int
    pid_start:
      description: Start time of that process in clock ticks since boot (tells a reused PID apart), or null.
      type: int
    started:
      description: Start time of the holder (ISO-8601 UTC).
      type: str
    kind:
      description: >-
        C(consolidate) (a play), C(rollback) or C(phase) (a phase module called without a run id,
        holding the lock for its own call).
      type: str
    corrupt:
      description: True for a lock file that is not valid JSON (the other keys are then absent).
      returned: when the lock file cannot be read
      type: bool
accepted:
  description: Run ids of interrupted runs accepted by O(accept_incomplete).
  returned: always
  type: list
  elements: str
"""

import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.sutazai.consolidation.plugins.module_utils import _lock
from ansible_collections.sutazai.consolidation.plugins.module_utils._errors import ConsolidationError
from ansible_collections.sutazai.consolidation.plugins.module_utils._journal import (
    incomplete_runs,
    load_manifest,
    mark_complete,
    run_temp_files,
    utc_now,
)
from ansible_collections.sutazai.consolidation.plugins.module_utils._tree import safe_join


def _remove_strays(root, backup_root, run_id):
    removed = run_temp_files(root, load_manifest(backup_root, run_id))
    for rel in removed:
        os.unlink(safe_join(root, rel))
    return removed


def main():
    module = AnsibleModule(
        argument_spec=dict(
            root=dict(type="path", required=True),
            backup_root=dict(type="path"),
            run_id=dict(type="str", required=True),
            state=dict(type="str", choices=["locked", "unlocked"], default="locked"),
            break_lock=dict(type="bool", default=False),
            accept_incomplete=dict(type="bool", default=False),
        ),
        supports_check_mode=True,
    )
    p = module.params
    root = os.path.abspath(p["root"])
    backup_root = os.path.abspath(p["backup_root"] or os.path.join(root, "backups"))
    run_id = p["run_id"]
    if not os.path.isdir(root):
        module.fail_json(msg="sutazai_root %s is not a directory on the target" % root)
    result = dict(changed=False, lock=None, broken=None, accepted=[])
    try:
        current = _lock.read_lock(root)
        if p["state"] == "unlocked":
            if current is not None and current.get("run_id") == run_id:
                if not module.check_mode:
                    mark_complete(backup_root, run_id)
                    _lock.release(root, run_id)
                result["changed"] = False
            elif current is not None:
                result["lock"] = current
            module.exit_json(**result)
        if current is not None and current.get("run_id") != run_id:
            if not p["break_lock"]:
                _lock.raise_held(root, current)
            if not _lock.is_stale(current) and current.get("host") == _lock.socket.gethostname():
                module.fail_json(msg="refusing to break the lock: its holder %s still runs" % _lock.describe(current),
                                 lock=current)
            module.warn("breaking the run lock held by %s" % _lock.describe(current))
            result["broken"] = current
            if not module.check_mode:
                _lock.break_lock(root)
        interrupted = [r for r in incomplete_runs(backup_root, root) if r["run_id"] != run_id]
        if interrupted and not p["accept_incomplete"]:
            names = ", ".join(r["run_id"] for r in interrupted)
            module.fail_json(
                msg="run(s) %s on %s were interrupted and are incomplete (journal under %s): roll back with "
                    "ansible-playbook sutazai.consolidation.rollback -e sutazai_run_id=%s, or keep their changes with "
                    "-e sutazai_accept_incomplete=true; nothing was changed"
                    % (names, root, backup_root, interrupted[-1]["run_id"]),
                incomplete=[r["run_id"] for r in interrupted], **result)
        for r in interrupted:
            module.warn("accepting the interrupted run %s: its changes stay" % r["run_id"])
            result["accepted"].append(r["run_id"])
            if not module.check_mode:
                _remove_strays(root, backup_root, r["run_id"])
                mark_complete(backup_root, r["run_id"], how="accepted")
        if module.check_mode:
            result["lock"] = current if current and current.get("run_id") == run_id else None
        else:
            result["lock"] = _lock.acquire(root, backup_root, run_id, utc_now())
    except ConsolidationError as exc:
        module.fail_json(msg=str(exc), **result)
    except OSError as exc:
        module.fail_json(msg="run lock of %s: %s" % (root, exc), **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
