# -*- coding: utf-8 -*-
# Copyright (c) 2026 sutazai.consolidation contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""File reading and atomic writing shared by every phase.

Reading decodes UTF-8 (a leading BOM is dropped, CRLF and CR become LF) and reports
undecodable bytes with their line and column. Writing is atomic: a temporary file in the
same directory, fsync, rename over the target, fsync of the directory; the mode and owner
of a replaced file are kept.
"""

from __future__ import annotations

import hashlib
import os
import tempfile

from ansible_collections.sutazai.consolidation.plugins.module_utils._errors import ConsolidationError


def sha256_bytes(data):
    """Return the hex sha256 digest (64 chars) of ``data`` (bytes)."""
    return hashlib.sha256(data).hexdigest()


def sha256_file(path):
    """Return the hex sha256 digest of the file at ``path`` (read in 1 MiB blocks).

    Raises OSError when the file cannot be read.
    """
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def read_bytes(path, display=None):
    """Return the bytes of ``path``.

    :param display: the name to use in errors (defaults to ``path``).
    :raises ConsolidationError: kind ``unreadable`` (permission, directory, I/O error) or
        ``symlink_loop`` (ELOOP), naming the file.
    """
    name = display or path
    try:
        with open(path, "rb") as f:
            return f.read()
    except PermissionError as exc:
        raise ConsolidationError("cannot read file: permission denied (%s)" % exc.strerror, name, kind="unreadable")
    except IsADirectoryError:
        raise ConsolidationError("cannot read file: it is a directory", name, kind="unreadable")
    except OSError as exc:
        if exc.errno == 40:  # ELOOP
            raise ConsolidationError("cannot read file: symlink loop", name, kind="symlink_loop")
        raise ConsolidationError("cannot read file: %s" % (exc.strerror or exc), name, kind="unreadable")


def decode_text(data, display):
    """Decode ``data`` (bytes) as UTF-8 text with LF line ends.

    A leading UTF-8 BOM is dropped; CRLF and lone CR become LF.

    :raises ConsolidationError: kind ``not_utf8`` naming ``display`` with the line and
        column (1-based, in characters of the valid prefix) of the first bad byte.
    """
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        prefix = data[:exc.start].decode("utf-8", errors="replace")
        line = prefix.count("\n") + 1
        column = len(prefix) - (prefix.rfind("\n") + 1) + 1
        raise ConsolidationError(
            "not valid UTF-8 (byte 0x%02x)" % data[exc.start], display, line, column, kind="not_utf8"
        )
    return text.replace("\r\n", "\n").replace("\r", "\n")


def read_text(path, display=None):
    """Read ``path`` and return its text (see :func:`decode_text`).

    :raises ConsolidationError: see :func:`read_bytes` and :func:`decode_text`.
    """
    return decode_text(read_bytes(path, display), display or path)


def text_or_none(path):
    """Return the text of ``path`` for display in a diff, or None when it cannot be read.

    Undecodable content gives a one-line placeholder with its size (never its bytes).
    """
    try:
        with open(path, "rb") as f:
            data = f.read()
    except (OSError, IOError):
        return None
    try:
        return decode_text(data, path)
    except ConsolidationError:
        return "<binary or undecodable content, %d bytes>" % len(data)


# Every temporary file this collection creates carries this mark in its name:
# ``.<name>.sutazai-tmp.<random>``. A run killed between creating one and renaming it leaves it
# behind; rollback and the next run find and remove it (:func:`stray_temp_files`).
TEMP_MARK = ".sutazai-tmp."


def temp_prefix(path):
    """Return the prefix of temporary files made for ``path`` (``.<basename>.sutazai-tmp.``)."""
    return ".%s%s" % (os.path.basename(path), TEMP_MARK)


def stray_temp_files(path):
    """Return the absolute paths of leftover temporary files made for ``path`` (same folder,
    name starting with :func:`temp_prefix`), sorted; an unreadable or missing folder gives []."""
    directory = os.path.dirname(os.path.abspath(path))
    prefix = temp_prefix(path)
    try:
        names = os.listdir(directory)
    except OSError:
        return []
    return sorted(os.path.join(directory, n) for n in names if n.startswith(prefix))


def fault_point(step):
    """Fault-injection point for the kill tests; does nothing unless the environment sets
    ``SUTAZAI_FAULT_COUNTER`` (a file path).

    Each call adds one to the counter kept in that file; the call whose number equals
    ``SUTAZAI_FAULT_AT`` writes ``<counter>.paused`` (JSON: pid, step, number) and waits (at most
    ``SUTAZAI_FAULT_WAIT`` seconds, default 600) for the test to kill the process tree.

    :param step: name of the step just completed (``entry``, ``change``, ``temp``).
    """
    counter = os.environ.get("SUTAZAI_FAULT_COUNTER")
    if not counter:
        return
    import fcntl
    import json
    import time

    fd = os.open(counter, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        raw = os.read(fd, 64).strip()
        number = int(raw or b"0") + 1
        os.lseek(fd, 0, os.SEEK_SET)
        os.ftruncate(fd, 0)
        os.write(fd, str(number).encode("ascii"))
    finally:
        os.close(fd)
    if str(number) != os.environ.get("SUTAZAI_FAULT_AT"):
        return
    with open(counter + ".paused", "w") as f:
        json.dump({"pid": os.getpid(), "step": step, "number": number}, f)
    deadline = time.time() + float(os.environ.get("SUTAZAI_FAULT_WAIT", "600"))
    while time.time() < deadline:
        time.sleep(0.05)


def fsync_dir(path):
    """fsync the directory ``path`` so that a rename or unlink in it is durable."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write(path, data, mode=None):
    """Write ``data`` (bytes) to ``path`` atomically.

    A temporary file is created in the target's directory, written, fsynced and renamed
    over ``path``; the directory is then fsynced. When ``path`` exists its mode and owner are
    kept; otherwise ``mode`` (int, default 0o644) is used. ``path`` itself must not be a
    symlink (a symlink would be replaced by a regular file): callers resolve it first.
    A ``mode`` given explicitly is applied to an existing file too (e.g. 0o600 for env files).
    The temporary file is named ``.<name>.sutazai-tmp.<random>`` (see :data:`TEMP_MARK`).

    :raises OSError: when the directory is not writable; the target is then untouched and
        the temporary file removed.
    """
    directory = os.path.dirname(os.path.abspath(path))
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        st = None
    fd, tmp = tempfile.mkstemp(prefix=temp_prefix(path), dir=directory)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        if st is not None:
            os.chmod(tmp, st.st_mode & 0o7777 if mode is None else mode)
            if os.geteuid() == 0:
                os.chown(tmp, st.st_uid, st.st_gid)
        else:
            os.chmod(tmp, 0o644 if mode is None else mode)
        fault_point("temp")
        os.rename(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    fsync_dir(directory)
