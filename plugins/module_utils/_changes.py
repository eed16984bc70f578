# -*- coding: utf-8 -*-
# Copyright (c) 2026 sutazai.consolidation contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Planned changes of one phase: computed in full first (check mode stops there), then made
through the journal in one go.

A :class:`ChangeSet` holds write, remove and symlink operations on paths relative to the
root. ``diffs()`` gives the redacted Ansible diff payloads; ``apply(journal)`` makes the
changes, each one recorded and backed up by the journal before it happens.
"""

from __future__ import annotations

import os

from ansible_collections.sutazai.consolidation.plugins.module_utils._diff import diff_payload
from ansible_collections.sutazai.consolidation.plugins.module_utils._fileio import decode_text, text_or_none
from ansible_collections.sutazai.consolidation.plugins.module_utils._tree import safe_join


class ChangeSet(object):
    """Ordered list of planned changes under ``root``.

    Operations whose result equals the current state are dropped when added, so an empty
    change set means "nothing to do" (idempotence).
    """

    def __init__(self, root):
        self.root = root
        self.ops = []

    def __len__(self):
        return len(self.ops)

    def write(self, rel, data, mode=None):
        """Plan writing ``data`` (bytes) to the regular file ``rel``; skipped when the file
        already holds exactly these bytes (and ``mode``, when given)."""
        path = safe_join(self.root, rel)
        if os.path.isfile(path) and not os.path.islink(path):
            with open(path, "rb") as f:
                same = f.read() == data
            if same and (mode is None or (os.stat(path).st_mode & 0o7777) == mode):
                return False
        self.ops.append({"op": "write", "path": rel, "data": data, "mode": mode})
        return True

    def remove(self, rel):
        """Plan removing the file or symlink ``rel``; skipped when it does not exist."""
        if not os.path.lexists(safe_join(self.root, rel)):
            return False
        self.ops.append({"op": "remove", "path": rel})
        return True

    def symlink(self, rel, target):
        """Plan making ``rel`` a symlink to ``target``; skipped when it already is one."""
        path = safe_join(self.root, rel)
        if os.path.islink(path) and os.readlink(path) == target:
            return False
        self.ops.append({"op": "symlink", "path": rel, "target": target})
        return True

    def summary(self):
        """Return ``[{"path", "action"}]`` for the module result (no content)."""
        out = []
        for op in self.ops:
            path = safe_join(self.root, op["path"])
            if op["op"] == "write":
                action = "modify" if os.path.lexists(path) else "create"
            elif op["op"] == "remove":
                action = "delete"
            else:
                action = "relink"
            out.append({"path": op["path"], "action": action})
        return out

    def diffs(self, secrets=()):
        """Return the list of redacted diff payloads, one per operation.

        :param secrets: known secret values to redact under any key (see ``_diff.redact_text``).
        """
        out = []
        for op in self.ops:
            path = safe_join(self.root, op["path"])
            before = text_or_none(path) if os.path.lexists(path) and not os.path.islink(path) else None
            if os.path.islink(path):
                before = "symlink -> %s\n" % os.readlink(path)
            if op["op"] == "write":
                after = decode_text(op["data"], op["path"])
            elif op["op"] == "symlink":
                after = "symlink -> %s\n" % op["target"]
            else:
                after = None
            out.append(diff_payload(op["path"], before, after, secrets))
        return out

    def apply(self, journal):
        """Make every planned change through ``journal`` (a ``Journal``), in order."""
        for op in self.ops:
            if op["op"] == "write":
                journal.write_file(op["path"], op["data"], mode=op["mode"])
            elif op["op"] == "remove":
                journal.remove(op["path"])
            else:
                journal.symlink(op["path"], op["target"])
