# -*- coding: utf-8 -*-
# Copyright (c) 2026 sutazai.consolidation contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The change journal: every change to the platform tree goes through it, and rollback reads it.

Layout (issue 2, module_utils core)::

    <backup_root>/                  mode 0700
      <run_id>/                     mode 0700, one folder per run
        manifest.json               the record of every change of the run (mode 0600)
        files/<path>                byte copy of each original file (mode kept)

``manifest.json``::

    {"format": 1, "run_id": str, "root": abs path, "created": ISO-8601 UTC,
     "rolled_back": ISO-8601 UTC or null,
     "entries": [{"seq": int, "path": rel, "action": "create|modify|delete|relink|move",
                  "phase": str, "moved_to": rel or null,
                  "before": STATE, "backup": "files/<rel>" or null,
                  "after": STATE or null}]}

    STATE = {"type": "absent|file|symlink|dir", "mode": "0644", "uid": int, "gid": int,
             "sha256": hex or null, "link_target": str or null}

The entry (with ``after: null``) and the backup copy are fsynced *before* the change is
made; ``after`` is filled in once the change is done. A path changed twice in one run keeps
its first ``before`` (the state before the run) and its last ``after``.
"""

from __future__ import annotations

import datetime
import json
import os
import shutil
import stat

from ansible_collections.sutazai.consolidation.plugins.module_utils._errors import ConsolidationError
from ansible_collections.sutazai.consolidation.plugins.module_utils._fileio import (
    atomic_write,
    fsync_dir,
    sha256_file,
)
from ansible_collections.sutazai.consolidation.plugins.module_utils._tree import safe_join

MANIFEST = "manifest.json"
FORMAT = 1


def utc_now():
    """Return the current UTC time as ``YYYY-MM-DDTHH:MM:SSZ``."""
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def file_state(path):
    """Return the STATE dict (see module doc) of ``path`` without following a final symlink."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return {"type": "absent"}
    state = {"mode": "%04o" % stat.S_IMODE(st.st_mode), "uid": st.st_uid, "gid": st.st_gid}
    if stat.S_ISLNK(st.st_mode):
        state.update(type="symlink", link_target=os.readlink(path), sha256=None)
    elif stat.S_ISDIR(st.st_mode):
        state.update(type="dir", link_target=None, sha256=None)
    else:
        state.update(type="file", link_target=None, sha256=sha256_file(path))
    return state


def same_content(a, b):
    """True when two STATE dicts describe the same content (type, sha256/link target, mode).

    Owners are not compared (a restored file gets its owner back, but a change of owner alone
    is not a content change)."""
    if a is None or b is None:
        return False
    if a.get("type") != b.get("type"):
        return False
    if a["type"] == "absent":
        return True
    if a["type"] == "symlink":
        return a.get("link_target") == b.get("link_target")
    if a["type"] == "dir":
        return True
    return a.get("sha256") == b.get("sha256") and a.get("mode") == b.get("mode")


def _mkdir_private(path):
    if not os.path.isdir(path):
        os.makedirs(path, mode=0o700)
    os.chmod(path, 0o700)


class Journal(object):
    """Journal of one run; make every change through its methods.

    :param root: the platform root (absolute path).
    :param backup_root: where run folders live (created 0700 on the first change).
    :param run_id: identifier of the run (folder name; letters, digits, ``-``, ``_``, ``.``).
    :param phase: name of the phase making the changes (recorded on each entry).

    Nothing is written until the first change: a run that changes nothing leaves no folder.
    """

    def __init__(self, root, backup_root, run_id, phase):
        if not run_id or "/" in run_id or run_id in (".", ".."):
            raise ConsolidationError("invalid run id %r" % run_id, kind="invalid_run_id")
        self.root = os.path.abspath(root)
        self.backup_root = os.path.abspath(backup_root)
        self.run_id = run_id
        self.phase = phase
        self.run_dir = os.path.join(self.backup_root, run_id)
        self.manifest_path = os.path.join(self.run_dir, MANIFEST)
        self._manifest = None

    # -- manifest -----------------------------------------------------------------------
    def _load(self):
        if self._manifest is None:
            if os.path.exists(self.manifest_path):
                with open(self.manifest_path, "rb") as f:
                    self._manifest = json.loads(f.read().decode("utf-8"))
            else:
                self._manifest = {
                    "format": FORMAT,
                    "run_id": self.run_id,
                    "root": self.root,
                    "created": utc_now(),
                    "rolled_back": None,
                    "entries": [],
                }
        return self._manifest

    def _save(self):
        _mkdir_private(self.backup_root)
        _mkdir_private(self.run_dir)
        data = json.dumps(self._manifest, indent=2, sort_keys=True).encode("utf-8") + b"\n"
        atomic_write(self.manifest_path, data, mode=0o600)

    def entries(self):
        """Return the list of entries recorded so far (see module doc)."""
        return list(self._load()["entries"])

    def _entry(self, rel):
        for entry in self._load()["entries"]:
            if entry["path"] == rel:
                return entry
        return None

    def _path(self, rel):
        return safe_join(self.root, rel)

    def record(self, rel, action):
        """Record ``rel`` before a change and back up its original; durable on return.

        :param rel: path relative to the root.
        :param action: one of ``create``, ``modify``, ``delete``, ``relink``, ``move``.
        :returns: the entry dict.
        """
        entry = self._entry(rel)
        if entry is not None:
            entry["after"] = None
            self._save()
            return entry
        path = self._path(rel)
        before = file_state(path)
        manifest = self._load()
        backup = None
        if before["type"] == "file":
            backup = "files/" + rel
            dest = os.path.join(self.run_dir, "files", rel)
            parent = os.path.dirname(dest)
            _mkdir_private(self.backup_root)
            _mkdir_private(self.run_dir)
            d = parent
            todo = []
            while not os.path.isdir(d):
                todo.append(d)
                d = os.path.dirname(d)
            for d in reversed(todo):
                os.mkdir(d, 0o700)
            shutil.copy2(path, dest)
            with open(dest, "rb") as f:
                os.fsync(f.fileno())
            fsync_dir(parent)
        entry = {
            "seq": len(manifest["entries"]) + 1,
            "path": rel,
            "action": action,
            "phase": self.phase,
            "moved_to": None,
            "before": before,
            "backup": backup,
            "after": None,
        }
        manifest["entries"].append(entry)
        self._save()
        return entry

    def _done(self, rel):
        entry = self._entry(rel)
        entry["after"] = file_state(self._path(rel))
        self._save()

    def _ensure_parent(self, rel):
        """Create missing parent folders of ``rel``, each journaled as created."""
        parts = rel.split("/")[:-1]
        for i in range(1, len(parts) + 1):
            d = "/".join(parts[:i])
            p = self._path(d)
            if not os.path.isdir(p):
                self.record(d, "create")
                os.mkdir(p, 0o755)
                self._done(d)

    # -- changes ----------------------------------------------------------------------
    def write_file(self, rel, data, mode=None):
        """Create or replace the regular file ``rel`` with ``data`` (bytes), atomically.

        An existing file keeps its owner, and its mode unless ``mode`` is given; a new one gets
        ``mode`` (default 0o644).
        :raises ConsolidationError: when ``rel`` is a symlink or a directory.
        """
        path = self._path(rel)
        if os.path.islink(path) or os.path.isdir(path):
            raise ConsolidationError("refusing to replace a symlink or directory with a file", rel, kind="unsafe_target")
        self._ensure_parent(rel)
        self.record(rel, "modify" if os.path.exists(path) else "create")
        atomic_write(path, data, mode=mode)
        self._done(rel)

    def remove(self, rel):
        """Delete the file or symlink ``rel`` (its original is kept in the backup)."""
        path = self._path(rel)
        self.record(rel, "delete")
        os.unlink(path)
        fsync_dir(os.path.dirname(path))
        self._done(rel)

    def symlink(self, rel, target):
        """Make ``rel`` a symlink to ``target`` (replacing a file or symlink there)."""
        path = self._path(rel)
        self._ensure_parent(rel)
        self.record(rel, "relink")
        tmp = path + ".sutazai-link.tmp"
        if os.path.lexists(tmp):
            os.unlink(tmp)
        os.symlink(target, tmp)
        os.rename(tmp, path)
        fsync_dir(os.path.dirname(path))
        self._done(rel)

    def move(self, rel, new_rel):
        """Move the file ``rel`` to ``new_rel`` (which must not exist)."""
        src = self._path(rel)
        dst = self._path(new_rel)
        if os.path.lexists(dst):
            raise ConsolidationError("move target exists: %s" % new_rel, rel, kind="unsafe_target")
        self._ensure_parent(new_rel)
        entry = self.record(rel, "move")
        entry["moved_to"] = new_rel
        self.record(new_rel, "create")
        os.rename(src, dst)
        fsync_dir(os.path.dirname(src))
        fsync_dir(os.path.dirname(dst))
        self._done(rel)
        self._done(new_rel)


# -- runs and rollback --------------------------------------------------------------------
def list_runs(backup_root):
    """Return the run folders under ``backup_root`` that hold a manifest, oldest first.

    :returns: list of dicts ``{"run_id", "created", "rolled_back", "entries"}`` (entries = count).
    """
    runs = []
    if not os.path.isdir(backup_root):
        return runs
    for name in sorted(os.listdir(backup_root)):
        manifest_path = os.path.join(backup_root, name, MANIFEST)
        if not os.path.isfile(manifest_path):
            continue
        with open(manifest_path, "rb") as f:
            manifest = json.loads(f.read().decode("utf-8"))
        runs.append({
            "run_id": manifest.get("run_id", name),
            "created": manifest.get("created", ""),
            "rolled_back": manifest.get("rolled_back"),
            "entries": len(manifest.get("entries", [])),
        })
    runs.sort(key=lambda r: (r["created"], r["run_id"]))
    return runs


def load_manifest(backup_root, run_id):
    """Return the manifest dict of ``run_id``.

    :raises ConsolidationError: kind ``no_run`` when the run has no manifest.
    """
    path = os.path.join(backup_root, run_id, MANIFEST)
    if "/" in run_id or not os.path.isfile(path):
        raise ConsolidationError("no journal for run %r under %s" % (run_id, backup_root), kind="no_run")
    with open(path, "rb") as f:
        return json.loads(f.read().decode("utf-8"))


def plan_rollback(root, backup_root, run_id, force=False):
    """Compute how to restore the tree to its state before ``run_id``.

    Entries are undone newest first. An entry needs no action when the path is already in
    its ``before`` state. When the path is neither in its ``after`` state (what the run
    left) nor in its ``before`` state, someone changed it since: it is a conflict unless
    ``force`` is true.

    :returns: ``(actions, conflicts)``; each action ``{"path", "action": restore|remove|
        relink|rmdir, "entry": entry}``; each conflict ``{"path", "expected", "found"}``
        (STATE dicts, no content).
    :raises ConsolidationError: when the run or a backup copy is missing, or (unless
        ``force``) when the run was made on another root.
    """
    manifest = load_manifest(backup_root, run_id)
    if os.path.realpath(manifest.get("root", root)) != os.path.realpath(root) and not force:
        raise ConsolidationError("run %s changed the tree at %s, not %s (force to restore there anyway)"
                                 % (run_id, manifest.get("root"), root), kind="root_mismatch")
    run_dir = os.path.join(backup_root, run_id)
    actions = []
    conflicts = []
    for entry in sorted(manifest["entries"], key=lambda e: -e["seq"]):
        rel = entry["path"]
        path = safe_join(root, rel)
        current = file_state(path)
        before = entry["before"]
        if same_content(current, before):
            continue
        after = entry.get("after")
        if not same_content(current, after) and not force:
            conflicts.append({"path": rel, "expected": after, "found": current})
            continue
        btype = before["type"]
        if btype == "absent":
            actions.append({"path": rel, "action": "rmdir" if current["type"] == "dir" else "remove", "entry": entry})
        elif btype == "file":
            src = os.path.join(run_dir, entry["backup"])
            if not os.path.isfile(src):
                raise ConsolidationError("backup copy missing: %s" % src, rel, kind="backup_missing")
            actions.append({"path": rel, "action": "restore", "entry": entry})
        elif btype == "symlink":
            actions.append({"path": rel, "action": "relink", "entry": entry})
        elif btype == "dir":
            actions.append({"path": rel, "action": "mkdir", "entry": entry})
    return actions, conflicts


def apply_rollback(root, backup_root, run_id, actions):
    """Carry out ``actions`` from :func:`plan_rollback` and mark the run as rolled back.

    Restored files are byte-identical copies of the backup with the recorded mode and owner.
    """
    run_dir = os.path.join(backup_root, run_id)
    for act in actions:
        rel = act["path"]
        entry = act["entry"]
        before = entry["before"]
        path = safe_join(root, rel)
        parent = os.path.dirname(path)
        if act["action"] == "remove":
            if os.path.lexists(path):
                os.unlink(path)
        elif act["action"] == "rmdir":
            if os.path.isdir(path) and not os.listdir(path):
                os.rmdir(path)
        elif act["action"] == "mkdir":
            if not os.path.isdir(path):
                os.makedirs(path)
            os.chmod(path, int(before["mode"], 8))
        elif act["action"] == "restore":
            if not os.path.isdir(parent):
                os.makedirs(parent)
            if os.path.isdir(path) and not os.path.islink(path):
                shutil.rmtree(path)
            elif os.path.islink(path):
                os.unlink(path)
            with open(os.path.join(run_dir, entry["backup"]), "rb") as f:
                data = f.read()
            atomic_write(path, data, mode=int(before["mode"], 8))
            os.chmod(path, int(before["mode"], 8))
            if os.geteuid() == 0:
                os.chown(path, before["uid"], before["gid"])
        elif act["action"] == "relink":
            if not os.path.isdir(parent):
                os.makedirs(parent)
            tmp = path + ".sutazai-link.tmp"
            if os.path.lexists(tmp):
                os.unlink(tmp)
            os.symlink(before["link_target"], tmp)
            os.rename(tmp, path)
            if os.geteuid() == 0:
                os.lchown(path, before["uid"], before["gid"])
        if os.path.isdir(parent):
            fsync_dir(parent)
    manifest = load_manifest(backup_root, run_id)
    manifest["rolled_back"] = utc_now()
    atomic_write(os.path.join(run_dir, MANIFEST),
                 json.dumps(manifest, indent=2, sort_keys=True).encode("utf-8") + b"\n", mode=0o600)
