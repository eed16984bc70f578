# -*- coding: utf-8 -*-
# Copyright (c) 2026 sutazai.consolidation contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The change journal: every change to the platform tree goes through it, and rollback reads it.

Layout::

    <backup_root>/                  created 0700 when absent; an existing folder keeps its mode
      <run_id>/                     mode 0700, one folder per run
        manifest.json               the record of every change of the run (mode 0600)
        files/<path>                byte copy of each original file (mode 0600; the original
                                    mode is in the manifest and restored by rollback)
        processes/<pid>             one file per module process making changes (removed when
                                    it ends); rollback refuses while one of them still runs

``manifest.json``::

    {"format": 1, "run_id": str, "root": abs path, "created": ISO-8601 UTC,
     "created_ns": int (ns since the epoch, orders the runs), "complete": bool,
     "rolled_back": ISO-8601 UTC or null,
     "entries": [{"seq": int, "path": rel, "action": "create|modify|delete|relink|move",
                  "phase": str, "moved_to": rel or null,
                  "before": STATE, "backup": "files/<rel>" or null,
                  "planned": STATE or null, "after": STATE or null}]}

    STATE = {"type": "absent|file|symlink|dir", "mode": "0644", "uid": int, "gid": int,
             "sha256": hex or null, "link_target": str or null}

Kill-safety: the entry, with the ``planned`` after-state (type, sha256 of the new content,
mode, link target), and the backup copy are fsynced *before* the change is made; ``after`` is
filled in once the change is done. A run killed between the two leaves ``after`` as it was,
but rollback sees that the path is in its planned state ("changed by this run, record not
completed") and restores it without force. Temporary files of atomic writes are named
``.<name>.sutazai-tmp.<random>`` (``_fileio.TEMP_MARK``); rollback removes those left next to
the run's paths. ``complete`` is set when the play releases its lock (``_lock``): a run killed
halfway stays incomplete, and the next run refuses to start on that root until it is rolled
back or accepted. A path changed twice in one run keeps its first ``before`` (the state
before the run) and its last ``after``.

Containment: every change and every rollback restore checks, immediately before it acts,
that no existing parent folder of the path resolves outside the root (``_tree.
link_leading_out``); the final component is never followed. A manifest is validated
(:func:`validate_manifest`) before rollback plans anything from it.
"""

from __future__ import annotations

import datetime
import json
import os
import re
import shutil
import stat
import time

from ansible_collections.sutazai.consolidation.plugins.module_utils._errors import ConsolidationError
from ansible_collections.sutazai.consolidation.plugins.module_utils._fileio import (
    atomic_write,
    fault_point,
    fsync_dir,
    sha256_bytes,
    sha256_file,
    stray_temp_files,
    temp_prefix,
)
from ansible_collections.sutazai.consolidation.plugins.module_utils._tree import is_inside, link_leading_out, safe_join

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


def _mkdir_private(path, chmod_existing=True):
    """Create ``path`` (and missing parents) with mode 0700; an existing folder is set to 0700
    only when ``chmod_existing`` (run folders are ours; the backup root may be shared)."""
    if not os.path.isdir(path):
        os.makedirs(path, mode=0o700)
        os.chmod(path, 0o700)
    elif chmod_existing:
        os.chmod(path, 0o700)


def _contained(root, rel):
    """Return the absolute path of ``rel`` under ``root`` after checking, at this moment, that
    no existing parent folder leads out of the root.

    :raises ConsolidationError: kind ``outside_root`` naming the path and the link.
    """
    try:
        problem = link_leading_out(root, rel)
    except ValueError as exc:
        raise ConsolidationError("refusing a change outside the root: %s" % exc, rel, kind="outside_root")
    if problem:
        raise ConsolidationError("refusing a change outside the root: %s" % problem, rel, kind="outside_root")
    return safe_join(root, rel)


def planned_file(data, mode):
    """Return the planned STATE of a regular file that will hold ``data`` with ``mode`` (int)."""
    return {"type": "file", "sha256": sha256_bytes(data), "mode": "%04o" % mode, "link_target": None}


class Journal(object):
    """Journal of one run; make every change through its methods.

    :param root: the platform root (absolute path).
    :param backup_root: where run folders live (created 0700 on the first change when absent;
        an existing folder keeps its mode).
    :param run_id: identifier of the run (folder name; letters, digits, ``-``, ``_``, ``.``).
    :param phase: name of the phase making the changes (recorded on each entry).

    Nothing is written until the first change: a run that changes nothing leaves no folder.
    Every method raises ConsolidationError kind ``outside_root`` (nothing changed) when the
    path leads out of the root through a symlinked folder.
    """

    def __init__(self, root, backup_root, run_id, phase):
        if not run_id or not _RUN_ID_RE.match(run_id) or run_id in (".", ".."):
            raise ConsolidationError("invalid run id %r" % run_id, kind="invalid_run_id")
        self.root = os.path.abspath(root)
        self.backup_root = os.path.abspath(backup_root)
        self.run_id = run_id
        self.phase = phase
        self.run_dir = os.path.join(self.backup_root, run_id)
        self.manifest_path = os.path.join(self.run_dir, MANIFEST)
        self._manifest = None
        self._process_file = None

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
                    "created_ns": time.time_ns(),
                    "complete": False,
                    "rolled_back": None,
                    "entries": [],
                }
        return self._manifest

    def _prepare_dirs(self):
        _mkdir_private(self.backup_root, chmod_existing=False)
        _mkdir_private(self.run_dir)

    def _save(self):
        self._prepare_dirs()
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
        return _contained(self.root, rel)

    # -- processes ----------------------------------------------------------------------
    def begin(self):
        """Register this process as making changes for the run (``processes/<pid>``)."""
        from ansible_collections.sutazai.consolidation.plugins.module_utils._lock import process_start

        self._prepare_dirs()
        pdir = os.path.join(self.run_dir, "processes")
        _mkdir_private(pdir)
        self._process_file = os.path.join(pdir, str(os.getpid()))
        doc = {"pid": os.getpid(), "pid_start": process_start(os.getpid()), "phase": self.phase}
        atomic_write(self._process_file, json.dumps(doc, sort_keys=True).encode("utf-8") + b"\n", mode=0o600)

    def end(self):
        """Unregister this process (see :meth:`begin`)."""
        if self._process_file and os.path.exists(self._process_file):
            os.unlink(self._process_file)
        self._process_file = None

    # -- recording ----------------------------------------------------------------------
    def record(self, rel, action, planned=None):
        """Record ``rel`` before a change and back up its original; durable on return.

        :param rel: path relative to the root.
        :param action: one of ``create``, ``modify``, ``delete``, ``relink``, ``move``.
        :param planned: the STATE the change will leave (see module doc), or None.
        :returns: the entry dict.
        """
        path = self._path(rel)
        entry = self._entry(rel)
        if entry is not None:
            entry["planned"] = planned
            self._save()
            fault_point("entry")
            return entry
        before = file_state(path)
        manifest = self._load()
        backup = None
        if before["type"] == "file":
            backup = "files/" + rel
            dest = os.path.join(self.run_dir, "files", rel)
            parent = os.path.dirname(dest)
            self._prepare_dirs()
            d = parent
            todo = []
            while not os.path.isdir(d):
                todo.append(d)
                d = os.path.dirname(d)
            for d in reversed(todo):
                os.mkdir(d, 0o700)
            if not is_inside(os.path.realpath(parent), os.path.realpath(self.run_dir)):
                raise ConsolidationError("backup folder leads out of the run folder: %s" % parent, rel,
                                         kind="outside_root")
            with open(path, "rb") as f:
                data = f.read()
            if sha256_bytes(data) != before["sha256"]:
                raise ConsolidationError("file changed while it was being backed up", rel, kind="changed_since")
            atomic_write(dest, data, mode=0o600)
        entry = {
            "seq": len(manifest["entries"]) + 1,
            "path": rel,
            "action": action,
            "phase": self.phase,
            "moved_to": None,
            "before": before,
            "backup": backup,
            "planned": planned,
            "after": None,
        }
        manifest["entries"].append(entry)
        self._save()
        fault_point("entry")
        return entry

    def _done(self, rel):
        fault_point("change")
        entry = self._entry(rel)
        entry["after"] = file_state(safe_join(self.root, rel))
        entry["planned"] = None
        self._save()

    def _ensure_parent(self, rel):
        """Create missing parent folders of ``rel``, each journaled as created."""
        parts = rel.split("/")[:-1]
        for i in range(1, len(parts) + 1):
            d = "/".join(parts[:i])
            p = self._path(d)
            if not os.path.isdir(p):
                self.record(d, "create", {"type": "dir", "link_target": None, "sha256": None})
                os.mkdir(p, 0o755)
                fsync_dir(os.path.dirname(p))
                self._done(d)

    # -- changes ----------------------------------------------------------------------
    def write_file(self, rel, data, mode=None):
        """Create or replace the regular file ``rel`` with ``data`` (bytes), atomically.

        An existing file keeps its owner, and its mode unless ``mode`` is given; a new one gets
        ``mode`` (default 0o644).
        :raises ConsolidationError: when ``rel`` is a symlink or a directory, or leads out of
            the root.
        """
        path = self._path(rel)
        if os.path.islink(path) or os.path.isdir(path):
            raise ConsolidationError("refusing to replace a symlink or directory with a file", rel, kind="unsafe_target")
        self._ensure_parent(rel)
        exists = os.path.exists(path)
        final_mode = mode if mode is not None else (stat.S_IMODE(os.lstat(path).st_mode) if exists else 0o644)
        self.record(rel, "modify" if exists else "create", planned_file(data, final_mode))
        atomic_write(self._path(rel), data, mode=mode)
        self._done(rel)

    def remove(self, rel):
        """Delete the file or symlink ``rel`` (its original is kept in the backup)."""
        path = self._path(rel)
        self.record(rel, "delete", {"type": "absent"})
        os.unlink(self._path(rel))
        fsync_dir(os.path.dirname(path))
        self._done(rel)

    def symlink(self, rel, target):
        """Make ``rel`` a symlink to ``target`` (replacing a file or symlink there)."""
        path = self._path(rel)
        self._ensure_parent(rel)
        self.record(rel, "relink", {"type": "symlink", "link_target": target, "sha256": None})
        _replace_with_symlink(self._path(rel), target)
        self._done(rel)

    def move(self, rel, new_rel):
        """Move the file ``rel`` to ``new_rel`` (which must not exist)."""
        src = self._path(rel)
        dst = self._path(new_rel)
        if os.path.lexists(dst):
            raise ConsolidationError("move target exists: %s" % new_rel, rel, kind="unsafe_target")
        self._ensure_parent(new_rel)
        moved = file_state(src)
        entry = self.record(rel, "move", {"type": "absent"})
        entry["moved_to"] = new_rel
        self.record(new_rel, "create", dict(moved))
        os.rename(self._path(rel), self._path(new_rel))
        fsync_dir(os.path.dirname(src))
        fsync_dir(os.path.dirname(dst))
        self._done(rel)
        self._done(new_rel)


def _replace_with_symlink(path, target):
    tmp = os.path.join(os.path.dirname(path), temp_prefix(path) + "link")
    if os.path.lexists(tmp):
        os.unlink(tmp)
    os.symlink(target, tmp)
    os.rename(tmp, path)
    fsync_dir(os.path.dirname(path))


# -- completion and processes ---------------------------------------------------------------
def mark_complete(backup_root, run_id, how="complete"):
    """Mark the manifest of ``run_id`` complete (the play ended: ``how="complete"``; or the user
    accepted an interrupted run: ``how="accepted"``). No manifest: nothing to do; returns
    True when the manifest was changed."""
    path = os.path.join(backup_root, run_id, MANIFEST)
    if not _RUN_ID_RE.match(run_id or "") or not os.path.isfile(path):
        return False
    with open(path, "rb") as f:
        manifest = json.loads(f.read().decode("utf-8"))
    if manifest.get("complete", True) and how == "complete":
        return False
    manifest["complete"] = True
    if how == "accepted":
        manifest["accepted"] = utc_now()
    atomic_write(path, json.dumps(manifest, indent=2, sort_keys=True).encode("utf-8") + b"\n", mode=0o600)
    return True


def running_processes(backup_root, run_id):
    """Return the module processes of ``run_id`` that still run: list of ``{"pid", "phase"}``."""
    from ansible_collections.sutazai.consolidation.plugins.module_utils._lock import process_alive

    pdir = os.path.join(backup_root, run_id, "processes")
    out = []
    try:
        names = sorted(os.listdir(pdir))
    except OSError:
        return out
    for name in names:
        try:
            with open(os.path.join(pdir, name), "rb") as f:
                doc = json.loads(f.read().decode("utf-8"))
            if process_alive(int(doc["pid"]), doc.get("pid_start")):
                out.append({"pid": int(doc["pid"]), "phase": doc.get("phase")})
        except (OSError, ValueError, KeyError, TypeError):
            continue
    return out


# -- runs and rollback --------------------------------------------------------------------
def list_runs(backup_root):
    """Return the run folders under ``backup_root`` that hold a manifest, oldest first.

    :returns: list of dicts ``{"run_id", "created", "rolled_back", "complete", "entries",
        "root", "error"}`` (entries = count; ``error`` is the validation message of a corrupt
        or tampered manifest, else None; such a run is listed but never rolled back).
    """
    runs = []
    if not os.path.isdir(backup_root):
        return runs
    for name in sorted(os.listdir(backup_root)):
        manifest_path = os.path.join(backup_root, name, MANIFEST)
        if not os.path.isfile(manifest_path):
            continue
        try:
            manifest = load_manifest(backup_root, name)
            error = None
        except ConsolidationError as exc:
            manifest, error = {}, str(exc)
        runs.append({
            "run_id": manifest.get("run_id", name) if not error else name,
            "created": manifest.get("created", ""),
            "created_ns": manifest.get("created_ns") or 0,
            "rolled_back": manifest.get("rolled_back"),
            "complete": manifest.get("complete", True),
            "root": manifest.get("root"),
            "entries": len(manifest.get("entries", [])),
            "error": error,
        })
    runs.sort(key=lambda r: (r["created"], r["created_ns"], r["run_id"]))
    return runs


def incomplete_runs(backup_root, root):
    """Return the runs of :func:`list_runs` made on ``root`` that were interrupted: neither
    complete nor rolled back."""
    root_real = os.path.realpath(root)
    return [r for r in list_runs(backup_root)
            if not r["error"] and not r["complete"] and not r["rolled_back"]
            and r["root"] and os.path.realpath(r["root"]) == root_real]


_RUN_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
_MODE_RE = re.compile(r"^[0-7]{3,4}$")
_TYPES = ("absent", "file", "symlink", "dir")
_ACTIONS = ("create", "modify", "delete", "relink", "move")


def _bad(manifest_path, entry, what):
    where = "entry %s (%s)" % (entry.get("seq"), entry.get("path")) if isinstance(entry, dict) else "manifest"
    return ConsolidationError("tampered or corrupt journal, %s: %s; this run cannot be rolled back" % (where, what),
                              manifest_path, kind="bad_manifest")


def _check_state(manifest_path, entry, state, name, optional):
    if state is None:
        if optional:
            return
        raise _bad(manifest_path, entry, "%s is missing" % name)
    if not isinstance(state, dict) or state.get("type") not in _TYPES:
        raise _bad(manifest_path, entry, "%s has no valid type" % name)
    if state["type"] == "absent":
        return
    mode = state.get("mode")
    if mode is not None:
        if not isinstance(mode, str) or not _MODE_RE.match(mode):
            raise _bad(manifest_path, entry, "%s mode %r is not an octal mode" % (name, mode))
        if int(mode, 8) & ~0o1777:
            raise _bad(manifest_path, entry, "%s mode %s holds more than permission bits" % (name, mode))
    for key in ("uid", "gid"):
        v = state.get(key)
        if v is not None and (not isinstance(v, int) or isinstance(v, bool) or v < 0):
            raise _bad(manifest_path, entry, "%s %s %r is not an id" % (name, key, v))
    if state["type"] == "symlink" and not isinstance(state.get("link_target"), str):
        raise _bad(manifest_path, entry, "%s symlink has no target" % name)
    if state["type"] == "file" and state.get("sha256") is not None and \
            not re.match(r"^[0-9a-f]{64}$", str(state.get("sha256"))):
        raise _bad(manifest_path, entry, "%s sha256 is not a digest" % name)


def _check_rel(manifest_path, entry, rel, name):
    if not isinstance(rel, str) or not rel or "\0" in rel or rel.startswith("/") or "\\" in rel:
        raise _bad(manifest_path, entry, "%s %r is not a relative path" % (name, rel))
    if any(part in ("", ".", "..") for part in rel.split("/")):
        raise _bad(manifest_path, entry, "%s %r climbs or is not normalised" % (name, rel))


def validate_manifest(manifest, manifest_path, run_id):
    """Check ``manifest`` (the parsed ``manifest.json`` of ``run_id``) before rollback acts.

    Refused: a run id other than the folder's; a path that is absolute, holds ``..``/``.``
    or is empty; an unknown action or state type; a backup copy other than ``files/<path>``
    of the entry itself; a mode with more than permission bits (setuid/setgid); a uid/gid
    that is not a non-negative integer; a symlink state without a target; an entry under a
    path that another entry restores as a symlink (restoring it would write through the link);
    duplicate paths.

    :raises ConsolidationError: kind ``bad_manifest`` naming the manifest file and the entry.
    """
    if not isinstance(manifest, dict) or not isinstance(manifest.get("entries"), list):
        raise _bad(manifest_path, None, "no entries list")
    if manifest.get("run_id") != run_id:
        raise _bad(manifest_path, None, "it names run %r, its folder is %r" % (manifest.get("run_id"), run_id))
    if not isinstance(manifest.get("root"), str) or not os.path.isabs(manifest["root"]):
        raise _bad(manifest_path, None, "root is not an absolute path")
    seen = set()
    links = set()
    for entry in manifest["entries"]:
        if not isinstance(entry, dict):
            raise _bad(manifest_path, None, "an entry is not an object")
        rel = entry.get("path")
        _check_rel(manifest_path, entry, rel, "path")
        if rel in seen:
            raise _bad(manifest_path, entry, "path recorded twice")
        seen.add(rel)
        if entry.get("action") not in _ACTIONS:
            raise _bad(manifest_path, entry, "unknown action %r" % entry.get("action"))
        if not isinstance(entry.get("seq"), int):
            raise _bad(manifest_path, entry, "seq is not an integer")
        _check_state(manifest_path, entry, entry.get("before"), "before", False)
        _check_state(manifest_path, entry, entry.get("after"), "after", True)
        _check_state(manifest_path, entry, entry.get("planned"), "planned", True)
        before = entry["before"]
        backup = entry.get("backup")
        if before["type"] == "file":
            if backup != "files/" + rel:
                raise _bad(manifest_path, entry, "backup %r is not files/<path>" % (backup,))
        elif backup is not None:
            raise _bad(manifest_path, entry, "backup given for a %s" % before["type"])
        if entry.get("moved_to") is not None:
            _check_rel(manifest_path, entry, entry["moved_to"], "moved_to")
        if before["type"] == "symlink":
            links.add(rel)
    for rel in seen:
        parts = rel.split("/")
        for i in range(1, len(parts)):
            if "/".join(parts[:i]) in links:
                raise _bad(manifest_path, {"seq": None, "path": rel},
                           "it lies under %s, which the run restores as a symlink" % "/".join(parts[:i]))


def load_manifest(backup_root, run_id):
    """Return the validated manifest dict of ``run_id`` (see :func:`validate_manifest`).

    :raises ConsolidationError: kind ``no_run`` when the run has no manifest, ``bad_manifest``
        when it is not valid JSON or fails validation (naming the manifest file).
    """
    if not isinstance(run_id, str) or not _RUN_ID_RE.match(run_id):
        raise ConsolidationError("invalid run id %r" % (run_id,), kind="no_run")
    path = os.path.join(backup_root, run_id, MANIFEST)
    if not os.path.isfile(path):
        raise ConsolidationError("no journal for run %r under %s" % (run_id, backup_root), kind="no_run")
    try:
        with open(path, "rb") as f:
            manifest = json.loads(f.read().decode("utf-8"))
    except (OSError, ValueError, RecursionError) as exc:
        raise ConsolidationError("corrupt journal (%s); this run cannot be rolled back"
                                 % (getattr(exc, "strerror", None) or exc.__class__.__name__), path,
                                 kind="bad_manifest")
    validate_manifest(manifest, path, run_id)
    return manifest


def _acceptable(current, entry):
    """True when ``current`` is a state this run left (``after``) or was about to leave
    (``planned``: changed by this run, record not completed)."""
    return same_content(current, entry.get("after")) or same_content(current, entry.get("planned"))


def _rel_of(root, path):
    return os.path.relpath(path, root).replace(os.sep, "/")


def run_temp_files(root, manifest):
    """Return the leftover temporary files (relative paths, sorted) of the run ``manifest``:
    those next to its paths (see ``_fileio.stray_temp_files``), in folders inside the root."""
    strays = set()
    for entry in manifest["entries"]:
        rel = entry["path"]
        if link_leading_out(root, rel):
            continue
        for tmp in stray_temp_files(safe_join(root, rel)):
            strays.add(_rel_of(root, tmp))
    return sorted(strays)


def plan_rollback(root, backup_root, run_id, force=False):
    """Compute how to restore the tree to its state before ``run_id``.

    Entries are undone newest first. An entry needs no action when the path is already in
    its ``before`` state. When the path is neither in its ``after`` state (what the run
    left) nor in its ``planned`` state (what the run was changing it to when it was killed)
    nor in its ``before`` state, someone changed it since: it is a conflict unless ``force``
    is true. A path whose parent folders lead out of the root is always a conflict (never
    forced). Leftover temporary files of the run's atomic writes (next to its paths) are
    removed first (action ``remove_temp``).

    :returns: ``(actions, conflicts)``; each action ``{"path", "action": remove_temp|restore|
        remove|relink|rmdir|mkdir, "entry": entry or None}``; each conflict ``{"path",
        "expected", "found", "reason"}`` (STATE dicts, no content).
    :raises ConsolidationError: when the run is missing, its manifest corrupt or tampered, a
        backup copy missing, or (unless ``force``) the run was made on another root.
    """
    manifest = load_manifest(backup_root, run_id)
    if os.path.realpath(manifest.get("root", root)) != os.path.realpath(root) and not force:
        raise ConsolidationError("run %s changed the tree at %s, not %s (force to restore there anyway)"
                                 % (run_id, manifest.get("root"), root), kind="root_mismatch")
    run_dir = os.path.join(backup_root, run_id)
    actions = []
    conflicts = []
    for rel in run_temp_files(root, manifest):
        actions.append({"path": rel, "action": "remove_temp", "entry": None})
    for entry in sorted(manifest["entries"], key=lambda e: -e["seq"]):
        rel = entry["path"]
        problem = link_leading_out(root, rel)
        if problem:
            conflicts.append({"path": rel, "expected": entry.get("after"), "found": None,
                              "reason": "outside the root: %s" % problem})
            continue
        path = safe_join(root, rel)
        current = file_state(path)
        before = entry["before"]
        if same_content(current, before):
            continue
        if not _acceptable(current, entry) and not force:
            conflicts.append({"path": rel, "expected": entry.get("after") or entry.get("planned"),
                              "found": current, "reason": "changed since the run"})
            continue
        btype = before["type"]
        if btype == "absent":
            actions.append({"path": rel, "action": "rmdir" if current["type"] == "dir" else "remove", "entry": entry})
        elif btype == "file":
            src = os.path.join(run_dir, entry["backup"])
            if not os.path.isfile(src) or os.path.islink(src):
                raise ConsolidationError("backup copy missing: %s" % src, rel, kind="backup_missing")
            actions.append({"path": rel, "action": "restore", "entry": entry})
        elif btype == "symlink":
            actions.append({"path": rel, "action": "relink", "entry": entry})
        elif btype == "dir":
            actions.append({"path": rel, "action": "mkdir", "entry": entry})
    return actions, conflicts


def _restore_owner(path, before, follow):
    if os.geteuid() != 0 or before.get("uid") is None or before.get("gid") is None:
        return
    if follow:
        os.chown(path, before["uid"], before["gid"])
    else:
        os.lchown(path, before["uid"], before["gid"])


def apply_rollback(root, backup_root, run_id, actions):
    """Carry out ``actions`` from :func:`plan_rollback` and mark the run as rolled back.

    Restored files are byte-identical copies of the backup with the recorded permission bits
    and (as root) the recorded owner. Each action checks again, immediately before it acts,
    that the path does not lead out of the root.

    :raises ConsolidationError: kind ``outside_root`` when a path leads out (what was
        restored before stays restored; nothing outside is touched).
    """
    run_dir = os.path.join(backup_root, run_id)
    for act in actions:
        rel = act["path"]
        path = _contained(root, rel)
        parent = os.path.dirname(path)
        if act["action"] == "remove_temp":
            if os.path.lexists(path) and not os.path.isdir(path):
                os.unlink(path)
            fsync_dir(parent)
            continue
        entry = act["entry"]
        before = entry["before"]
        if act["action"] == "remove":
            if os.path.lexists(path):
                os.unlink(path)
        elif act["action"] == "rmdir":
            if os.path.isdir(path) and not os.path.islink(path) and not os.listdir(path):
                os.rmdir(path)
        elif act["action"] == "mkdir":
            if os.path.lexists(path) and not os.path.isdir(path):
                os.unlink(path)
            if not os.path.isdir(path):
                os.mkdir(path)
            os.chmod(path, int(before["mode"], 8) & 0o1777)
            _restore_owner(path, before, True)
        elif act["action"] == "restore":
            if not os.path.isdir(parent):
                os.makedirs(parent)
            if os.path.isdir(path) and not os.path.islink(path):
                shutil.rmtree(path)
            elif os.path.islink(path):
                os.unlink(path)
            with open(os.path.join(run_dir, entry["backup"]), "rb") as f:
                data = f.read()
            path = _contained(root, rel)
            atomic_write(path, data, mode=int(before["mode"], 8) & 0o1777)
            _restore_owner(path, before, True)
        elif act["action"] == "relink":
            if not os.path.isdir(parent):
                os.makedirs(parent)
            if os.path.isdir(path) and not os.path.islink(path):
                shutil.rmtree(path)
            _replace_with_symlink(path, before["link_target"])
            _restore_owner(path, before, False)
        if os.path.isdir(parent):
            fsync_dir(parent)
    path = os.path.join(run_dir, MANIFEST)
    with open(path, "rb") as f:
        manifest = json.loads(f.read().decode("utf-8"))
    manifest["rolled_back"] = utc_now()
    manifest["complete"] = True
    atomic_write(path, json.dumps(manifest, indent=2, sort_keys=True).encode("utf-8") + b"\n", mode=0o600)
    for tmp in stray_temp_files(path):
        os.unlink(tmp)
