# -*- coding: utf-8 -*-
# Copyright (c) 2026 sutazai.consolidation contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""One run at a time on a platform tree: the run lock.

The lock is the file ``<root>/.sutazai-consolidation.lock`` (mode 0600), created with
``O_CREAT | O_EXCL`` so that exactly one of two runs started together gets it. It holds one
JSON object::

    {"format": 1, "run_id": str, "root": abs path, "backup_root": abs path,
     "host": str, "pid": int, "pid_start": int or null, "started": ISO-8601 UTC,
     "kind": "consolidate" | "rollback" | "phase"}

``pid`` is the ``ansible-playbook`` process that runs the play (the nearest ancestor of the
module whose command line names ``ansible-playbook``; the module's parent when there is
none) and ``pid_start`` its start time in clock ticks since boot (``/proc/<pid>/stat`` field
22), so that a reused PID is not taken for the holder. A lock whose holder process is gone
(same host, PID absent or started at another time) is *stale*: the run was interrupted.

Tree walkers never read the lock file (:data:`LOCK_NAME` is skipped at the top of the root).
"""

from __future__ import annotations

import binascii
import datetime
import json
import os
import socket

from ansible_collections.sutazai.consolidation.plugins.module_utils._errors import ConsolidationError
from ansible_collections.sutazai.consolidation.plugins.module_utils._fileio import fsync_dir
from ansible_collections.sutazai.consolidation.plugins.module_utils._tree import LOCK_NAME

FORMAT = 1


def lock_path(root):
    """Return the absolute path of the lock file of ``root``."""
    return os.path.join(os.path.abspath(root), LOCK_NAME)


def process_start(pid):
    """Return the start time of process ``pid`` (int, clock ticks since boot), or None when
    the process does not exist or its ``/proc`` entry cannot be read."""
    try:
        with open("/proc/%d/stat" % pid, "rb") as f:
            data = f.read().decode("ascii", "replace")
    except (OSError, ValueError):
        return None
    # The command name (field 2) is in parentheses and may hold spaces: split after it.
    rest = data[data.rfind(")") + 2:].split()
    try:
        return int(rest[19])
    except (IndexError, ValueError):
        return None


def process_alive(pid, start):
    """True when process ``pid`` runs and (when ``start`` is given) started at ``start``."""
    if not pid:
        return False
    now = process_start(pid)
    if now is None:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return start is None
    return start is None or now == start


def _cmdline(pid):
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            return f.read().replace(b"\0", b" ").decode("utf-8", "replace")
    except OSError:
        return ""


def _ppid(pid):
    try:
        with open("/proc/%d/stat" % pid, "rb") as f:
            data = f.read().decode("ascii", "replace")
        return int(data[data.rfind(")") + 2:].split()[1])
    except (OSError, ValueError, IndexError):
        return 0


def controller_pid():
    """Return the PID of the ``ansible-playbook`` process running this module (nearest
    ancestor whose command line names it), else the parent PID."""
    pid = os.getpid()
    for _step in range(64):
        pid = _ppid(pid)
        if pid <= 1:
            break
        if "ansible-playbook" in _cmdline(pid):
            return pid
    return os.getppid()


def read_lock(root):
    """Return the lock dict of ``root`` (see module doc), or None when there is no lock.

    A lock file that is not valid JSON (e.g. a run killed while writing it) is returned as
    ``{"run_id": None, "corrupt": True}``.
    """
    try:
        with open(lock_path(root), "rb") as f:
            data = f.read()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise ConsolidationError("cannot read the run lock: %s" % exc.strerror, lock_path(root), kind="lock")
    try:
        doc = json.loads(data.decode("utf-8"))
        if not isinstance(doc, dict):
            raise ValueError("not an object")
    except ValueError:
        return {"run_id": None, "corrupt": True}
    return doc


def is_stale(lock):
    """True when the holder of ``lock`` (a dict from :func:`read_lock`) is gone: same host and
    its process is not running any more (or the lock file is corrupt)."""
    if lock.get("corrupt"):
        return True
    if lock.get("host") != socket.gethostname():
        return False
    return not process_alive(lock.get("pid"), lock.get("pid_start"))


def describe(lock):
    """Return a one-line description of the holder of ``lock`` for messages."""
    if lock.get("corrupt"):
        return "an unreadable lock file"
    return "run %s (%s, pid %s on %s, since %s)" % (lock.get("run_id"), lock.get("kind", "consolidate"),
                                                    lock.get("pid"), lock.get("host"), lock.get("started"))


def new_run_id():
    """A new run id: ``YYYYMMDDTHHMMSSZ-xxxxxx`` (UTC time, then 6 random hex digits; str)."""
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    return "%s-%s" % (now, binascii.hexlify(os.urandom(3)).decode("ascii"))


def acquire(root, backup_root, run_id, started, kind="consolidate", pid=None):
    """Take the lock of ``root`` for ``run_id``; return the lock dict.

    Taking it again for the same ``run_id`` is a no-op (returns the existing lock).

    :param started: ISO-8601 UTC time of the start (str).
    :param kind: ``consolidate``, ``rollback`` or ``phase`` (one phase module called without a
        run id, holding the lock for its own call).
    :param pid: the holder process (default :func:`controller_pid`).
    :raises ConsolidationError: kind ``locked`` when another run holds it (``stale`` when
        that run's process is gone), naming the holder.
    """
    path = lock_path(root)
    holder_pid = pid or controller_pid()
    doc = {"format": FORMAT, "run_id": run_id, "root": os.path.abspath(root),
           "backup_root": os.path.abspath(backup_root) if backup_root else None,
           "host": socket.gethostname(), "pid": holder_pid, "pid_start": process_start(holder_pid),
           "started": started, "kind": kind}
    data = json.dumps(doc, indent=2, sort_keys=True).encode("utf-8") + b"\n"
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    except FileExistsError:
        current = read_lock(root)
        if current is None:
            return acquire(root, backup_root, run_id, started, kind, pid)
        if current.get("run_id") == run_id and not current.get("corrupt"):
            return current
        raise_held(root, current)
    except OSError as exc:
        raise ConsolidationError("cannot create the run lock: %s" % exc.strerror, path, kind="lock")
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    fsync_dir(os.path.dirname(path))
    return doc


def raise_held(root, current):
    """Raise the error for a lock of ``root`` held by ``current`` (another run)."""
    path = lock_path(root)
    if is_stale(current):
        raise ConsolidationError(
            "the tree is locked by %s, whose process is gone: that run was interrupted. Roll it back with "
            "sutazai.consolidation.rollback (it takes over the lock of the run it undoes), or, if you are sure no "
            "run is active, break the lock with -e sutazai_break_lock=true" % describe(current),
            path, kind="stale_lock")
    raise ConsolidationError(
        "the tree is locked by %s: one run at a time; wait for it to end" % describe(current), path, kind="locked")


def release(root, run_id):
    """Remove the lock of ``root`` when ``run_id`` holds it; return True when removed.

    A lock held by another run is left alone (returns False)."""
    current = read_lock(root)
    if current is None or current.get("run_id") != run_id:
        return False
    os.unlink(lock_path(root))
    fsync_dir(os.path.abspath(root))
    return True


def break_lock(root):
    """Remove the lock of ``root`` whoever holds it; return the removed lock dict or None."""
    current = read_lock(root)
    if current is None:
        return None
    os.unlink(lock_path(root))
    fsync_dir(os.path.abspath(root))
    return current


def verify(root, run_id):
    """Raise unless ``run_id`` holds the lock of ``root`` (checked before a module's first change).

    :raises ConsolidationError: kind ``not_locked`` (no lock: the play did not run preflight)
        or ``locked`` / ``stale_lock`` (another run holds it).
    """
    current = read_lock(root)
    if current is None:
        raise ConsolidationError(
            "run %s does not hold the run lock of %s: changes are made only by a play that took it "
            "(the preflight role of consolidate.yml takes it)" % (run_id, os.path.abspath(root)),
            lock_path(root), kind="not_locked")
    if current.get("run_id") != run_id:
        raise_held(root, current)
    return current
