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

from ansible_collections.sutazai.consolidation.plugins.module_utils._diff import payloads
from ansible_collections.sutazai.consolidation.plugins.module_utils._fileio import decode_text, text_or_none
from ansible_collections.sutazai.consolidation.plugins.module_utils._redaction import tree_secrets
from ansible_collections.sutazai.consolidation.plugins.module_utils._tree import link_leading_out, safe_join


class ChangeSet(object):
    """Ordered list of planned changes under ``root``.

    Operations whose result equals the current state are dropped when added, so an empty
    change set means "nothing to do" (idempotence). An operation whose path leads out of the
    root (a parent folder is a symlink to a folder outside it, or the target of a write is
    itself a symlink) is refused when added: it is listed in ``refused`` (``{"path",
    "message"}`` dicts) and never made; ``_phase.finish`` then blocks the phase, in check
    mode as in a real run.
    """

    def __init__(self, root):
        self.root = root
        self.ops = []
        self.refused = []

    def __len__(self):
        return len(self.ops)

    def _refuse(self, rel, op):
        """Return True (and list the refusal) when the operation ``op`` on ``rel`` would act
        outside the root."""
        try:
            problem = link_leading_out(self.root, rel)
        except ValueError as exc:
            problem = str(exc)
        if problem is None and op == "write" and os.path.islink(safe_join(self.root, rel)):
            problem = "%s is a symlink (to %s); a write would replace the link" % (
                rel, os.readlink(safe_join(self.root, rel)))
        if problem:
            self.refused.append({"path": rel, "message": "refusing a change outside the root: %s" % problem})
            return True
        return False

    def write(self, rel, data, mode=None):
        """Plan writing ``data`` (bytes) to the regular file ``rel``; skipped when the file
        already holds exactly these bytes (and ``mode``, when given)."""
        if self._refuse(rel, "write"):
            return False
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
        if self._refuse(rel, "remove"):
            return False
        if not os.path.lexists(safe_join(self.root, rel)):
            return False
        self.ops.append({"op": "remove", "path": rel})
        return True

    def symlink(self, rel, target):
        """Plan making ``rel`` a symlink to ``target``; skipped when it already is one."""
        if self._refuse(rel, "symlink"):
            return False
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

        Every payload is redacted with the secrets of the tree, of all the operations' texts
        (a value one file holds as a secret is hidden in every other file) and ``secrets``
        (see ``_diff.payloads`` and ``_redaction``).

        :param secrets: more known secret values to redact under any key.
        """
        items = []
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
            items.append((op["path"], before, after))
        return payloads(items, set(secrets or ()) | tree_secrets(self.root))

    def apply(self, journal):
        """Make every planned change through ``journal`` (a ``Journal``), in order."""
        for op in self.ops:
            if op["op"] == "write":
                journal.write_file(op["path"], op["data"], mode=op["mode"])
            elif op["op"] == "remove":
                journal.remove(op["path"])
            else:
                journal.symlink(op["path"], op["target"])
