# -*- coding: utf-8 -*-
# Copyright (c) 2026 sutazai.consolidation contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Walking the platform tree (``sutazai_root``) safely and in a stable order.

Rules:

* directories named in ``excludes`` (default :data:`DEFAULT_EXCLUDES`), every virtualenv
  (a directory holding ``pyvenv.cfg``) and every absolute path in ``exclude_paths`` (the
  backup root, the report folder) are never entered;
* a symlink is followed only when its target resolves inside the root; one pointing out of
  the root, a dangling one and a loop are skipped and listed with the reason;
* a directory reached twice (two links to one folder) is walked once;
* a file or folder whose name is not valid UTF-8 (``bad\\xff.md``, a folder ``x\\xfe/``) is
  skipped and listed under its escaped name (:func:`display_path`): such names cannot be
  reported or written back as text; a folder is not entered. So is a symlink whose target's
  resolved path is not valid UTF-8;
* entries are visited in sorted order, so results are byte-stable.
"""

from __future__ import annotations

import errno
import functools
import os
import stat

try:
    from wcmatch import glob as _wcglob

    HAS_WCMATCH = True
except ImportError:  # pragma: no cover - preflight installs it
    _wcglob = None
    HAS_WCMATCH = False

# The run lock at the top of the root (see ``_lock``): never an input of any phase.
LOCK_NAME = ".sutazai-consolidation.lock"

DEFAULT_EXCLUDES = (".git", "node_modules", "__pycache__", ".tox", ".mypy_cache", ".pytest_cache")


class TreeFile(object):
    """One regular file found by :func:`walk_tree`.

    :ivar rel: path relative to the root, with ``/`` separators (str).
    :ivar path: absolute path as reached through the tree (may contain symlinks).
    :ivar real: resolved absolute path (inside the root).
    :ivar is_symlink: True when ``rel`` itself is a symlink.
    """

    __slots__ = ("rel", "path", "real", "is_symlink")

    def __init__(self, rel, path, real, is_symlink):
        self.rel = rel
        self.path = path
        self.real = real
        self.is_symlink = is_symlink

    def __repr__(self):
        return "TreeFile(%r)" % self.rel


class TreeWalk(object):
    """Result of :func:`walk_tree`: ``files`` (list of :class:`TreeFile`, sorted by ``rel``),
    ``skipped`` (list of ``{"path": rel, "reason": str}`` dicts, sorted by path) and
    ``root_real`` (the root resolved when the walk began, str; None before)."""

    def __init__(self):
        self.files = []
        self.skipped = []
        self.root_real = None


# Reason of a skipped entry whose name is not valid UTF-8 (see :func:`undecodable_names`).
NOT_UTF8_NAME = "name is not valid UTF-8 (shown escaped; rename it to have it read)"


def is_decodable(name):
    """True when ``name`` (str from the file system, undecodable bytes held as surrogates) is
    valid UTF-8, i.e. can be reported and encoded again."""
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def display_path(name):
    """``name`` with every byte that is not valid UTF-8 shown as ``\\xNN`` (str, always
    encodable): ``b"bad\\xff.md"`` read by :func:`os.listdir` gives ``"bad\\\\xff.md"``."""
    return os.fsencode(name).decode("utf-8", "backslashreplace")


def undecodable_names(skipped):
    """The escaped paths of the entries of a walk's ``skipped`` list whose name is not valid
    UTF-8 (sorted)."""
    return sorted(s["path"] for s in skipped if NOT_UTF8_NAME in s.get("reason", ""))


def undecodable_warning(skipped, phase):
    """A warning naming the skipped entries whose name is not valid UTF-8, or None."""
    names = undecodable_names(skipped)
    if not names:
        return None
    shown = ", ".join(names[:10]) + (", ... (%d more)" % (len(names) - 10) if len(names) > 10 else "")
    return ("%s phase skipped %d file(s) or folder(s) whose name is not valid UTF-8 (not read, not changed): %s"
            % (phase, len(names), shown))


def is_inside(real, root_real):
    """True when the resolved path ``real`` is ``root_real`` or below it (both already resolved)."""
    return real == root_real or real.startswith(root_real.rstrip(os.sep) + os.sep)


def walk_tree(root, subdir="", excludes=DEFAULT_EXCLUDES, exclude_paths=(), match=None):
    """Walk ``root``/``subdir`` and return a :class:`TreeWalk`.

    :param root: the platform root (str); symlinks never lead out of it.
    :param subdir: relative folder to start from ("" for the whole root); a missing folder
        gives an empty result.
    :param excludes: directory base names never entered.
    :param exclude_paths: absolute paths never entered (backup root, report folder).
    :param match: optional callable ``match(rel) -> bool`` selecting files.
    """
    result = TreeWalk()
    root_real = result.root_real = os.path.realpath(root)
    excluded_real = set(os.path.realpath(p) for p in exclude_paths if p)
    start_rel = subdir.strip("/")
    start = os.path.join(root, start_rel) if start_rel else root
    try:
        st = os.stat(start)
    except OSError:
        return result
    if not stat.S_ISDIR(st.st_mode):
        return result
    start_real = os.path.realpath(start)
    if not is_inside(start_real, root_real):
        result.skipped.append({"path": start_rel, "reason": "symlink points outside the root"})
        return result
    seen_dirs = set([(st.st_dev, st.st_ino)])
    # Stack of (rel, path, resolved path, ancestry set of (dev, ino)). The resolved path of an
    # entry that is not a symlink is its folder's plus its name, so only symlinks are resolved.
    stack = [(start_rel, start, start_real, frozenset([(st.st_dev, st.st_ino)]))]
    while stack:
        rel_dir, path_dir, real_dir, ancestry = stack.pop()
        try:
            with os.scandir(path_dir) as it:
                entries = sorted(it, key=lambda e: e.name)
        except OSError as exc:
            result.skipped.append({"path": rel_dir or ".", "reason": "cannot list directory: %s" % exc.strerror})
            continue
        if rel_dir and any(e.name == "pyvenv.cfg" for e in entries):
            result.skipped.append({"path": rel_dir, "reason": "virtualenv"})
            continue
        subdirs = []
        for entry in entries:
            name = entry.name
            if not rel_dir and name == LOCK_NAME:
                continue
            rel = "%s/%s" % (rel_dir, name) if rel_dir else name
            path = os.path.join(path_dir, name)
            decodable = is_decodable(name)
            if decodable and entry.is_file(follow_symlinks=False):
                # A regular file (the directory entry's type; no stat needed).
                if match is None or match(rel):
                    result.files.append(TreeFile(rel, path, os.path.join(real_dir, name), False))
                continue
            try:
                lst = os.lstat(path)
            except OSError as exc:
                result.skipped.append({"path": display_path(rel), "reason": "cannot stat: %s" % exc.strerror})
                continue
            if not decodable:
                # Listed when it could matter: every folder, a file only when it matches.
                if stat.S_ISDIR(lst.st_mode) or stat.S_ISLNK(lst.st_mode) or match is None or _matches(match, rel):
                    result.skipped.append({"path": display_path(rel), "reason": NOT_UTF8_NAME})
                continue
            is_link = stat.S_ISLNK(lst.st_mode)
            if is_link:
                try:
                    tst = os.stat(path)
                except OSError as exc:
                    reason = "symlink loop" if exc.errno == errno.ELOOP else "dangling symlink"
                    result.skipped.append({"path": rel, "reason": reason})
                    continue
                real = os.path.realpath(path)
                if not is_inside(real, root_real):
                    result.skipped.append({"path": rel, "reason": "symlink points outside the root"})
                    continue
                if not is_decodable(real):
                    result.skipped.append({"path": rel, "reason": "symlink target %s" % NOT_UTF8_NAME})
                    continue
            else:
                tst = lst
                real = os.path.join(real_dir, name)
            if stat.S_ISDIR(tst.st_mode):
                if name in excludes:
                    continue
                if real in excluded_real:
                    continue
                key = (tst.st_dev, tst.st_ino)
                if key in ancestry:
                    result.skipped.append({"path": rel, "reason": "symlink loop"})
                    continue
                if key in seen_dirs:
                    result.skipped.append({"path": rel, "reason": "directory already walked through another path"})
                    continue
                seen_dirs.add(key)
                subdirs.append((rel, path, real, ancestry | frozenset([key])))
            elif stat.S_ISREG(tst.st_mode):
                if match is not None and not match(rel):
                    continue
                result.files.append(TreeFile(rel, path, real, is_link))
        stack.extend(reversed(subdirs))
    result.files.sort(key=lambda f: f.rel)
    result.skipped.sort(key=lambda s: s["path"])
    return result


def _matches(match, rel):
    try:
        return bool(match(rel))
    except (UnicodeError, ValueError):
        return True


def is_linked(tree_file, root, root_real=None):
    """True when the :class:`TreeFile` was reached through a symlink: the file itself or a
    folder on its path (its bytes are then read where the link points, if at all).

    :param root_real: ``root`` already resolved (the walk's :attr:`TreeWalk.root_real`), so
        that a loop over a walk's files resolves it once; resolved here when None.
    """
    if tree_file.is_symlink:
        return True
    if root_real is None:
        root_real = os.path.realpath(root)
    return tree_file.real != os.path.join(root_real, *tree_file.rel.split("/"))


def link_leading_out(root, rel):
    """Return why a change of ``rel`` would act outside ``root``, or None when it stays inside.

    Every parent folder of ``rel`` that exists is resolved at the moment of the call; the
    first one whose resolved path leaves the (resolved) root is named with its link target:
    ``"config/services is a symlink to /etc/x, outside the root"``. The final component is
    not followed (callers never write through it: a symlink there is replaced or refused).

    :param root: the platform root (str).
    :param rel: path relative to the root, ``/`` separated (str).
    :returns: str or None.
    :raises ValueError: when ``rel`` is absolute or climbs out lexically (see :func:`safe_join`).
    """
    safe_join(root, rel)
    root_real = os.path.realpath(root)
    parts = [p for p in rel.split("/") if p not in ("", ".")]
    if ".." in parts:
        return "%s holds a '..' component" % rel
    parts = parts[:-1]
    cur = root
    for i, part in enumerate(parts):
        cur = os.path.join(cur, part)
        try:
            st = os.lstat(cur)
        except FileNotFoundError:
            return None
        except OSError as exc:
            return "%s cannot be examined: %s" % ("/".join(parts[:i + 1]), exc.strerror)
        if stat.S_ISLNK(st.st_mode):
            real = os.path.realpath(cur)
            if not is_inside(real, root_real):
                return "%s is a symlink to %s, outside the root" % ("/".join(parts[:i + 1]), os.readlink(cur))
        elif not stat.S_ISDIR(st.st_mode):
            return None
    return None


def safe_join(root, rel):
    """Join ``rel`` (relative, ``/`` separated) to ``root`` and refuse to leave it.

    :raises ValueError: when ``rel`` is absolute or its normalised form escapes the root.
    """
    if os.path.isabs(rel):
        raise ValueError("path must be relative to the root: %s" % rel)
    joined = os.path.normpath(os.path.join(root, rel))
    if not is_inside(joined, os.path.normpath(root)):
        raise ValueError("path leaves the root: %s" % rel)
    return joined


GLOB_FLAGS = ("GLOBSTAR", "MATCHBASE", "DOTGLOB", "BRACE")
"""wcmatch.glob flags of the collection's one path-pattern dialect (see :func:`glob_matcher`)."""


@functools.lru_cache(maxsize=256)
def _compiled(patterns):
    if _wcglob is None:
        raise ImportError("the Python library wcmatch is required for path patterns (preflight installs it)")
    flags = 0
    for name in GLOB_FLAGS:
        flags |= getattr(_wcglob, name)
    return _wcglob.compile(list(patterns), flags=flags)


def glob_matcher(patterns, folders=False):
    """Return ``match(rel) -> bool`` for the path patterns ``patterns`` (list of str), the one
    dialect of every path-pattern option of the collection (wcmatch ``glob`` with GLOBSTAR,
    MATCHBASE, DOTGLOB and BRACE), matched against ``rel``, a path relative to the platform root
    with ``/`` separators, case-sensitive:

    * ``*``, ``?`` and ``[...]`` never cross ``/``; ``**`` as a whole path part matches zero or
      more folders (``config/**/*.env`` matches ``config/a.env`` and ``config/x/y/a.env``);
    * a pattern without ``/`` matches the file or folder name at any depth (``*.env`` matches
      ``docker/app.env``); one with ``/`` matches the whole path from the root;
    * ``*`` also matches a leading dot (``*.env*`` matches ``.env.local``); ``{a,b}`` is either;
    * blanks and leading or trailing ``/`` of a pattern are dropped; empty patterns match nothing.

    ``folders`` true (exclude lists): a pattern that matches a folder of ``rel`` matches
    everything in it too (``tests`` excludes ``backend/tests/x.md``, ``docker/templates``
    everything under it). The compiled patterns are cached.

    :raises ImportError: when wcmatch is not installed.
    """
    cleaned = tuple(p.strip().strip("/") for p in patterns or () if p and p.strip().strip("/"))
    if not cleaned:
        return lambda rel: False
    match = _compiled(cleaned).match
    if not folders:
        return match

    def match_or_under(rel):
        if match(rel):
            return True
        parts = rel.split("/")
        return any(match("/".join(parts[:i])) for i in range(1, len(parts)))
    return match_or_under
