# -*- coding: utf-8 -*-
# Copyright (c) 2026 sutazai.consolidation contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Shim modules of the config phase: Python files that only re-export another module, and
whether anything under the root still refers to them.

Shim rule (:func:`classify_shim`). A file is a shim when its module body holds nothing but

* docstrings (string expression statements) and ``pass``;
* ``import``/``from ... import`` statements, at least one of them not ``from __future__``;
* ``__all__ = [...]`` / ``(...)`` of string literals, ``__all__ += [...]``, or
  ``__all__ = <name>.__all__``;
* alias assignments ``Name = other`` / ``Name = mod.attr`` whose right-hand side starts with a
  name this file imported (``AppSettings = _AppSettings``);
* ``try:`` / ``except ImportError:`` (or ``ModuleNotFoundError``) blocks made only of the above.

A function, class, call, conditional or any other statement makes it a real module. Files
named in :data:`NEVER_SHIMS` (``__init__.py``: removing it turns a package into a namespace
package; ``conftest.py``, ``sitecustomize.py``...: loaded by tools by name, never imported)
are never candidates.

Reference rule (:func:`find_references`), deliberately conservative: a shim is "referenced"
when any of these points at it, from any file under the root other than itself:

* ``import``/``from ... import`` (also inside functions, ``try`` and ``if`` blocks).
  Relative imports resolve against the importing file's folder (namespace packages
  included). Absolute imports: with ``python_roots`` empty (default) an import of the dotted
  name ``a.b`` matches every shim whose path ends with ``a/b.py`` -- any folder of the tree
  could be on ``sys.path`` (Docker images copy ``backend/`` to ``/app``), so this is the
  safe reading. With ``python_roots`` set (folders that are the import roots of the code
  inside them), ``a.b`` in a file matches only ``<R>/a/b.py`` for the deepest python root
  ``R`` holding the file (the tree root for a file under none) or ``a/b.py`` beside the
  importing file (scripts run as ``python dir/file.py``). ``from p import n`` also matches
  the submodule ``p.n``.
* ``importlib.import_module("a.b")`` / ``__import__("a.b")`` with a literal argument, any
  Python string literal that is a dotted name of two or more parts whose leading parts name the
  shim (``"app.core.config"``, ``"app.core.config:settings"``, ``mock.patch("app.core.config.x")``),
  and any Python string literal holding a path to the shim's file (rule of the next point).
* non-Python text files (:data:`TEXT_FILE_PATTERNS`: Dockerfiles, compose/YAML, shell, TOML,
  INI, JSON, Makefile, Procfile, systemd units): a path ending in the shim's file name whose parent folder, when
  given, is the shim's (``COPY core/config.py``, ``python backend/core/config.py``); a dotted name
  as above; ``-m name``, ``-A name``, ``--app name`` or ``name:attr`` for the shim's module name.
* a Python file that does not parse (Python 2 syntax, broken file) and that :func:`may_refer`
  keeps (the name on an import line or in an import list, in a one-line dotted string literal,
  before ``.py``): every whole-word occurrence of the shim's module name in it counts (kind
  ``unparsed``), since its imports cannot be read.

A shim referenced only from shims that are themselves unused is unused too (chains of shims
go together).

Which files are parsed. Every ``*.py`` file is read once; Python's own parser (:mod:`ast`,
:func:`_python.parse_python`) runs at most once per file, and only where it is needed:

* shim candidates: files with no line at column 0 that opens a ``def``, ``class`` or decorator
  (:data:`_python.DEFINITION_RE`); a file with one defines something, or -- when the line is in
  a multi-line string -- is skipped, which can only keep a shim, never remove one;
* after the candidates are classified, the files whose text holds a shim's module name (or a
  symlink's) as a whole word, for their references; no other file can refer to a shim.

``check_syntax`` parses every file as well, for a complete ``invalid`` list. Lookups go through
indexes built once per scan (path suffixes of the shims and of the Python files), so the work
grows with the tree, not with the tree times the number of shims.
"""

from __future__ import annotations

import ast
import fnmatch
import os
import re

from ansible_collections.sutazai.consolidation.plugins.module_utils._errors import ConsolidationError
from ansible_collections.sutazai.consolidation.plugins.module_utils._fileio import read_bytes
from ansible_collections.sutazai.consolidation.plugins.module_utils._python import (
    DEFINITION_RE, bound_names, cyclic_gc_paused, dotted, import_from_parts, literal_parts, parse_python, string_value, walk)
from ansible_collections.sutazai.consolidation.plugins.module_utils._tree import glob_matcher, walk_tree

NEVER_SHIMS = frozenset(["__init__.py", "__main__.py", "conftest.py", "setup.py", "sitecustomize.py",
                         "usercustomize.py"])
"""File names never treated as shims (loaded by name or by package semantics)."""

TEXT_FILE_PATTERNS = ("Dockerfile*", "*.dockerfile", "*.yml", "*.yaml", "*.sh", "*.bash", "*.toml", "*.ini",
                      "*.cfg", "*.conf", "*.json", "Makefile", "*.mk", "Procfile", "*.service", "*.env")
"""Base-name patterns of the non-Python files searched for references."""

MAX_TEXT_BYTES = 1 << 20
"""Text files larger than this (1 MiB) are not searched (listed in ``skipped``)."""

MAX_REFERENCES = 50
"""References listed per shim (the total is always given)."""

_IMPORT_ERRORS = ("ImportError", "ModuleNotFoundError")
_DOTTED_RE = re.compile(r"^[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+(?::[A-Za-z_]\w*)?$")
_TEXT_DOTTED_RE = re.compile(r"(?<![\w./-])([A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+)")
_TEXT_PATH_RE = re.compile(r"(?<![\w.-])((?:[\w.-]*/)*)([A-Za-z_]\w*)\.py(?![\w])")


class Shim(object):
    """One shim file.

    :ivar rel: path relative to the root (str).
    :ivar parts: ``rel`` without ``.py``, split on ``/`` (tuple of str).
    :ivar targets: re-exported modules as written, relative ones with their leading dots (list of str).
    :ivar imports: the import statements as ``(level, module_parts, names)`` tuples.
    :ivar lines: number of lines of the file (int).
    :ivar aliases: ``parts`` of symlinks to this file (imports through them count).
    :ivar links: relative paths of those symlinks (removed with the shim).
    """

    def __init__(self, rel, targets, imports, lines):
        self.rel = rel
        self.parts = tuple(rel[:-3].split("/"))
        self.targets = targets
        self.imports = imports
        self.lines = lines
        self.references = []
        self.target_files = []
        self.aliases = []
        self.links = []


class ShimScan(object):
    """Result of :func:`scan`.

    :ivar python_files: relative paths of every ``*.py`` file read (sorted list).
    :ivar shims: list of :class:`Shim`, sorted by path.
    :ivar invalid: files parsed that do not parse or cannot be decoded, as error dicts (path,
        line, column, kind, message), sorted by path; never removed, searched as text (kind
        ``unparsed``).
    :ivar unreadable: error dicts of files or folders that could not be read at all; while any is
        listed no shim can be proven unused.
    :ivar skipped: tree entries not read (path, reason) from the walk and the text search.
    :ivar text_files: number of non-Python text files searched (int; 0 when there is no shim).
    """

    def __init__(self):
        self.python_files = []
        self.shims = []
        self.invalid = []
        self.unreadable = []
        self.skipped = []
        self.text_files = 0


def _is_string_list(node):
    if isinstance(node, (ast.List, ast.Tuple)):
        return all(string_value(e) is not None for e in node.elts)
    return False


class _NotShim(Exception):
    pass


def _check_statement(stmt, state):
    """Accept one statement of a shim or raise _NotShim; record imports in ``state``."""
    if isinstance(stmt, ast.Expr):
        if string_value(stmt.value) is None:
            raise _NotShim()
        return
    if isinstance(stmt, ast.Pass):
        return
    if isinstance(stmt, ast.Import):
        for a in stmt.names:
            parts = tuple(a.name.split("."))
            state["imports"].append((0, parts, ()))
            state["targets"].append(a.name)
        state["bound"].update(bound_names(stmt))
        return
    if isinstance(stmt, ast.ImportFrom):
        level, module, names = import_from_parts(stmt)
        if level == 0 and module == ("__future__",):
            return
        state["imports"].append((level, module, names))
        state["targets"].append("." * level + ".".join(module))
        state["bound"].update(bound_names(stmt))
        return
    if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name):
        name = stmt.targets[0].id
        if name == "__all__":
            if _is_string_list(stmt.value):
                return
            chain = dotted(stmt.value)
            if chain and len(chain) >= 2 and chain[-1] == "__all__":
                return
            raise _NotShim()
        chain = dotted(stmt.value)
        if chain and chain[0] in state["bound"]:
            state["bound"].add(name)
            return
        raise _NotShim()
    if isinstance(stmt, ast.AugAssign) and isinstance(stmt.target, ast.Name) and stmt.target.id == "__all__":
        if isinstance(stmt.op, ast.Add) and _is_string_list(stmt.value):
            return
    if isinstance(stmt, ast.Try) and not stmt.orelse and not stmt.finalbody:
        _check_block(stmt.body, state)
        for handler in stmt.handlers:
            caught = handler.type
            names = []
            if isinstance(caught, ast.Name):
                names = [caught.id]
            elif isinstance(caught, ast.Tuple):
                names = [e.id for e in caught.elts if isinstance(e, ast.Name)]
                if len(names) != len(caught.elts):
                    raise _NotShim()
            if not names or any(n not in _IMPORT_ERRORS for n in names):
                raise _NotShim()
            _check_block(handler.body, state)
        return
    raise _NotShim()


def _check_block(body, state):
    for stmt in body:
        _check_statement(stmt, state)


def classify_shim(module):
    """Decide whether the parsed ``module`` (:class:`ast.Module`) is a shim (see the module doc).

    :returns: ``(targets, imports)`` -- ``targets`` the re-exported modules as written (list of
        str, relative ones with leading dots, in file order, duplicates dropped) and ``imports``
        a list of ``(level, module_parts, names)`` -- or None when it is not a shim.
    """
    state = {"imports": [], "targets": [], "bound": set()}
    try:
        _check_block(module.body, state)
    except _NotShim:
        return None
    if not state["imports"]:
        return None
    targets = []
    for t in state["targets"]:
        if t not in targets:
            targets.append(t)
    return targets, state["imports"]


def collect_references(module, raw):
    """The places of the parsed file ``module`` (``raw``: its bytes) that may name a module, as
    ``(kind, line, data)`` in source order: ``import`` (data ``(level, module_parts, names)``,
    one per imported module of an ``import a, b``), ``dynamic`` (the literal first argument of
    an ``import_module``/``__import__`` call), ``string`` (a string literal under 300 characters
    that is a dotted name, optionally ``:attr``) and ``path`` (one holding ``.py``). Adjacent
    literals count one by one; f-string text does not count."""
    found = []
    raw_lines = None
    for node, depth in walk(module):
        if isinstance(node, ast.Import):
            for a in node.names:
                found.append((node.lineno, node.col_offset, depth, "import", (0, tuple(a.name.split(".")), ())))
        elif isinstance(node, ast.ImportFrom):
            found.append((node.lineno, node.col_offset, depth, "import", import_from_parts(node)))
        elif isinstance(node, ast.Call):
            func = dotted(node.func)
            if func and func[-1] in ("import_module", "__import__") and (node.args or node.keywords):
                value = string_value(node.args[0] if node.args else node.keywords[0].value)
                if value:
                    found.append((node.lineno, node.col_offset, depth, "dynamic", value))
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and "." in node.value:
            if raw_lines is None:
                raw_lines = raw.splitlines(True)
            for line, value in literal_parts(node, raw_lines):
                if len(value) < 300:
                    if _DOTTED_RE.match(value):
                        found.append((line, node.col_offset, depth, "string", value))
                    elif ".py" in value:
                        found.append((line, node.col_offset, depth, "path", value))
    found.sort(key=lambda f: (f[0], f[1], f[2]))
    return [(kind, line, data) for line, dummy, dummy2, kind, data in found]


class _Matcher(object):
    """Match import targets against the shims (see the module doc for the rules)."""

    def __init__(self, shims, python_roots):
        # last name -> [(parts, shim)]: a shim under its own path and under each symlink to it.
        self.by_last = {}
        # every path suffix (tuple) -> shims ending so; whole path (tuple) -> shims (indexes, so
        # that a lookup costs the same however many shims share a last name).
        self.by_suffix = {}
        self.by_full = {}
        for s in shims:
            for parts in [s.parts] + s.aliases:
                self.by_last.setdefault(parts[-1], []).append((parts, s))
                self.by_full.setdefault(parts, []).append(s)
                for n in range(1, len(parts) + 1):
                    self.by_suffix.setdefault(parts[-n:], []).append(s)
        self.roots = [tuple(p for p in r.strip("/").split("/") if p and p != ".") for r in python_roots]

    def bases(self, importer_dir):
        """``sys.path`` folders (tuples) for a file in ``importer_dir`` when python roots are set:
        the deepest python root holding the file (else the tree root), and the file's folder."""
        holding = [r for r in self.roots if importer_dir[:len(r)] == r]
        base = max(holding, key=len) if holding else ()
        return [base, importer_dir]

    def absolute(self, parts, importer_dir):
        """Shims the absolute dotted name ``parts`` (tuple) may load, for a file in ``importer_dir``."""
        if not parts:
            return []
        if not self.roots:
            return list(self.by_suffix.get(parts, ()))
        out = []
        for base in self.bases(importer_dir):
            for s in self.by_full.get(base + parts, ()):
                if s not in out:
                    out.append(s)
        return out

    def by_path(self, parts):
        if not parts:
            return []
        return list(self.by_full.get(parts, ()))

    def import_stmt(self, level, module, names, importer_dir):
        found = []
        if level == 0:
            found.extend(self.absolute(module, importer_dir))
            for n in names:
                if n != "*":
                    found.extend(self.absolute(module + tuple(n.split(".")), importer_dir))
            return found
        if level - 1 > len(importer_dir):
            return found
        base = importer_dir[:len(importer_dir) - (level - 1)]
        found.extend(self.by_path(base + module))
        for n in names:
            if n != "*":
                found.extend(self.by_path(base + module + tuple(n.split("."))))
        return found

    def path_mentions(self, text):
        """Shims named by a file path in ``text``: same file name and, when the path has a
        folder, the same parent folder name (``/app/core/config.py`` names ``backend/core/config.py``)."""
        found = []
        for m in _TEXT_PATH_RE.finditer(text):
            folders = [p for p in m.group(1).split("/") if p and p != "."]
            for sp, s in self.by_last.get(m.group(2), ()):
                if not folders or len(sp) < 2 or folders[-1] == sp[-2]:
                    found.append(s)
        return found

    def dotted_string(self, value, importer_dir):
        """Shims named by a dotted string: the whole name or any leading part of 2+ components."""
        value = value.split(":", 1)[0].lstrip(".")
        parts = tuple(p for p in value.split(".") if p)
        found = []
        for n in range(2, len(parts) + 1):
            found.extend(self.absolute(parts[:n], importer_dir))
        return found


def _add_ref(refs, shim, path, line, kind, text):
    key = (path, line)
    seen = refs.setdefault(shim.rel, {})
    if key not in seen:
        seen[key] = {"path": path, "line": line, "kind": kind, "text": text[:160]}


def _statement_text(lines, line):
    if 1 <= line <= len(lines):
        return lines[line - 1].strip()
    return ""


def matches_any(rel, patterns):
    """True when ``rel`` matches one of ``patterns`` (:func:`_tree.glob_matcher`)."""
    return glob_matcher(tuple(patterns))(rel)


def _is_text_file(rel):
    base = rel.rsplit("/", 1)[-1]
    return any(fnmatch.fnmatchcase(base, p) for p in TEXT_FILE_PATTERNS)


class NamePatterns(object):
    """The shim names of a scan, for :func:`may_refer` and the text searches (compiled once).

    :ivar names: the names (sorted list of str).
    :ivar word: pattern of a name as a whole word (group 1: the name).
    """

    def __init__(self, names):
        self.names = sorted(names)
        self.word = re.compile(r"(?<![\w])(%s)(?![\w])" % "|".join(re.escape(n) for n in self.names))


_DOTTED_TAIL_RE = re.compile(r"(?:\.\w+)*(?::\w+)?[\"']")
_DOTTED_HEAD_RE = re.compile(r"[A-Za-z_]\w*(?:\.\w+)*\.$")
_IMPORT_WORD_RE = re.compile(r"(?<![\w])import(?![\w])")
_IMPORT_PAREN_RE = re.compile(r"(?<![\w])import[ \t]*\(")
_WORD_OR_DOT = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.")


def may_refer(text, patterns):
    """Whether the Python source ``text`` (str) may refer to a module whose last name is one of
    the names of ``patterns`` (:class:`NamePatterns`), so that it must be parsed. Conservative:
    True when any occurrence of a name (as a whole word) is in one of these places, False only
    when none is:

    * in a string literal on one line whose whole value is a dotted name of two or more parts,
      the name not the first (``"app.metrics"``, ``'a.metrics.x:app'``): a string names a
      module only so, and a string spanning lines holds a newline, so it is no dotted name;
    * followed by ``.py`` (a path, also in a string spanning lines);
    * on a line holding the ``import`` keyword, on the line after one ending in a backslash
      (continuation), or inside a parenthesised ``import (...)`` list (from the ``(`` to the
      first ``)`` outside a comment; an import list holds no strings).

    So ``self.metrics.append(x)``, ``metrics = {}`` or ``{"metrics": self.metrics.x}`` alone do
    not make a file worth parsing; ``from app import metrics``, ``"app.metrics"`` or a line
    ``    metrics,`` inside an import list do. ``import_module``/``__import__`` take the same
    dotted literals. A file that does not parse is then searched as text (kind ``unparsed``)."""
    if not any(n in text for n in patterns.names):
        return False
    lists = None
    for m in patterns.word.finditer(text):
        start, end = m.start(), m.end()
        if text.startswith(".py", end):
            return True
        if start > 0 and text[start - 1] == ".":
            left = start - 1
            while left > 0 and text[left - 1] in _WORD_OR_DOT:
                left -= 1
            if (left > 0 and text[left - 1] in "'\"" and _DOTTED_HEAD_RE.match(text, left, start)
                    and _DOTTED_TAIL_RE.match(text, end)):
                return True
        line_start = text.rfind("\n", 0, start) + 1
        line_end = text.find("\n", end)
        if _IMPORT_WORD_RE.search(text, line_start, len(text) if line_end < 0 else line_end):
            return True
        if text[max(line_start - 2, 0):line_start] == "\\\n":
            return True
        if lists is None:
            lists = _import_lists(text) if "import" in text else []
        if any(a <= start < b for a, b in lists):
            return True
    return False


def _import_lists(text):
    """``(start, end)`` offsets of each parenthesised ``import (...)`` list of ``text``: from the
    ``(`` to the first ``)`` outside a ``#`` comment."""
    out = []
    for m in _IMPORT_PAREN_RE.finditer(text):
        pos = m.end()
        while True:
            end = text.find("\n", pos)
            line = text[pos:] if end < 0 else text[pos:end]
            close = line.split("#", 1)[0].find(")")
            if close >= 0:
                out.append((m.end(), pos + close))
                break
            if end < 0:
                out.append((m.end(), len(text)))
                break
            pos = end + 1
    return out


def scan(root, python_roots=(), exclude_paths=(), text_references=True, check_syntax=False):
    """Find the shims under ``root`` and every reference to them.

    :param root: the platform root (str).
    :param python_roots: folders (relative to the root) that are the import roots of the code
        inside them; empty for the suffix rule (see the module doc).
    :param exclude_paths: absolute folders never walked (backup root, report folder).
    :param text_references: also search non-Python text files (:data:`TEXT_FILE_PATTERNS`).
    :param check_syntax: parse every Python file, so that ``invalid`` lists every file of the
        tree that does not parse; by default only the files the scan needs are parsed (see
        "Which files are parsed" in the module doc).
    :returns: a :class:`ShimScan`; each shim's ``references`` is the list of
        ``{"path", "line", "kind", "text"}`` dicts (kinds ``import``, ``dynamic``, ``string``,
        ``text``, ``unparsed``), sorted by path and line.
    """
    with cyclic_gc_paused():
        return ScanState(root, python_roots, exclude_paths, text_references, check_syntax).run()


class ScanState(object):
    """Working state of :func:`scan` (one instance per call). Each Python file is read once
    (``raw``/``texts``) and parsed at most once (``parsed``: rel -> :class:`ast.Module`, or None
    when it does not parse)."""

    def __init__(self, root, python_roots, exclude_paths, text_references, check_syntax=False):
        self.root = root
        self.python_roots = list(python_roots or ())
        self.exclude_paths = exclude_paths
        self.text_references = text_references
        self.check_syntax = check_syntax
        self.out = ShimScan()
        self.parsed = {}
        self.raw = {}
        self.texts = {}
        self.links = []
        self.real = {}

    def run(self):
        walk = walk_tree(self.root, exclude_paths=self.exclude_paths)
        out = self.out
        for s in walk.skipped:
            if s["reason"].startswith("cannot"):
                out.unreadable.append({"path": s["path"], "line": None, "column": None, "kind": "unreadable",
                                       "message": s["reason"]})
            else:
                out.skipped.append(s)
        py_files = [f for f in walk.files if f.rel.endswith(".py")]
        text_files = [f for f in walk.files if self.text_references and not f.rel.endswith(".py") and _is_text_file(f.rel)]
        seen_real = set()
        # A file and a symlink to it: read the file itself (symlinks are never shim candidates).
        for f in sorted(py_files, key=lambda x: (x.is_symlink, x.rel)):
            if f.real in seen_real:
                out.skipped.append({"path": f.rel, "reason": "symlink to a Python file already read"})
                self.links.append(f)
                continue
            seen_real.add(f.real)
            self._read(f)
        if not out.shims:
            out.invalid.sort(key=lambda e: e["path"])
            return out
        by_real = dict((s_real, s) for s_real, s in ((self.real[s.rel], s) for s in out.shims))
        for f in self.links:
            if f.real in by_real:
                by_real[f.real].aliases.append(tuple(f.rel[:-3].split("/")))
                by_real[f.real].links.append(f.rel)
        self._references(py_files, text_files)
        out.invalid.sort(key=lambda e: e["path"])
        return out

    def _read(self, f):
        """Read one Python file; parse and classify it when it may be a shim (or always, with
        ``check_syntax``)."""
        out = self.out
        try:
            raw = read_bytes(f.path, f.rel)
        except ConsolidationError as exc:
            out.unreadable.append(exc.as_dict())
            return
        out.python_files.append(f.rel)
        self.real[f.rel] = f.real
        self.raw[f.rel] = raw
        self.texts[f.rel] = text = raw.decode("utf-8", "replace")
        candidate = not (f.rel.rsplit("/", 1)[-1] in NEVER_SHIMS or f.is_symlink or DEFINITION_RE.search(raw))
        if not (candidate or self.check_syntax):
            return
        module = self._parse(f.rel)
        if module is None or not candidate:
            return
        shape = classify_shim(module)
        if shape is not None:
            out.shims.append(Shim(f.rel, shape[0], shape[1], text.count("\n") + (0 if text.endswith("\n") else 1)))

    def _parse(self, rel):
        """The :class:`ast.Module` of ``rel`` (read by :meth:`_read`), parsed once; None when it
        does not parse (the error goes to ``invalid``)."""
        if rel not in self.parsed:
            module, error = parse_python(self.raw[rel], rel)
            if error is not None:
                self.out.invalid.append(error.as_dict())
            self.parsed[rel] = module
        return self.parsed[rel]

    def _references(self, py_files, text_files):
        out = self.out
        matcher = _Matcher(out.shims, self.python_roots)
        patterns = NamePatterns(set(matcher.by_last))
        names_re = patterns.word
        refs = {}
        # Import edges between shims, to let unused chains go together.
        for f in py_files:
            rel = f.rel
            if rel not in self.texts:
                continue
            text = self.texts[rel]
            if not may_refer(text, patterns):
                continue
            importer_dir = tuple(rel.split("/")[:-1])
            lines = text.split("\n")
            module = self._parse(rel)
            if module is None:
                for i, line in enumerate(lines):
                    m = names_re.search(line)
                    if m:
                        for _parts, s in matcher.by_last.get(m.group(1), ()):
                            if s.rel != rel:
                                _add_ref(refs, s, rel, i + 1, "unparsed", line.strip())
                continue
            for kind, line, data in collect_references(module, self.raw[rel]):
                if kind == "import":
                    hits = matcher.import_stmt(data[0], data[1], data[2], importer_dir)
                elif kind == "path":
                    hits = matcher.path_mentions(data)
                    kind = "string"
                else:
                    hits = matcher.dotted_string(data, importer_dir)
                for s in hits:
                    if s.rel != rel:
                        _add_ref(refs, s, rel, line, kind, _statement_text(lines, line))
        for f in text_files:
            self._text_file(f, matcher, names_re, refs)
        for s in out.shims:
            s.references = sorted(refs.get(s.rel, {}).values(), key=lambda r: (r["path"], r["line"], r["kind"]))
        files = _FileIndex(self.out.python_files)
        for s in out.shims:
            s.target_files = self._target_files(s, matcher, files)

    def _text_file(self, f, matcher, names_re, refs):
        try:
            if os.path.getsize(f.path) > MAX_TEXT_BYTES:
                self.out.skipped.append({"path": f.rel, "reason": "text file larger than 1 MiB not searched"})
                return
            raw = read_bytes(f.path, f.rel)
        except (OSError, ConsolidationError) as exc:
            self.out.unreadable.append({"path": f.rel, "line": None, "column": None, "kind": "unreadable",
                                        "message": "cannot read file: %s" % exc})
            return
        text = raw.decode("utf-8", "replace")
        self.out.text_files += 1
        if not names_re.search(text):
            return
        importer_dir = tuple(f.rel.split("/")[:-1])
        for i, line in enumerate(text.split("\n")):
            if not names_re.search(line):
                continue
            hits = matcher.path_mentions(line)
            for m in _TEXT_DOTTED_RE.finditer(line):
                hits.extend(matcher.dotted_string(m.group(1), importer_dir))
            for name in set(mm.group(1) for mm in names_re.finditer(line)):
                cmd = re.compile(r"(?:(?<!\S)(?:-m|-A|--app)[\s=]+%s(?![\w])|(?<![\w.])%s:[A-Za-z_])" % (
                    re.escape(name), re.escape(name)))
                if cmd.search(line):
                    hits.extend(s for _parts, s in matcher.by_last.get(name, ()))
            for s in hits:
                _add_ref(refs, s, f.rel, i + 1, "text", line.strip())

    def _target_files(self, shim, matcher, files):
        """Files of the tree each re-exported module may be (for the report only)."""
        shim_dir = shim.parts[:-1]
        found = []
        for level, module, names in shim.imports:
            cands = []
            if level:
                if level - 1 > len(shim_dir):
                    continue
                base = shim_dir[:len(shim_dir) - (level - 1)]
                cands.append(base + module)
                cands.extend(base + module + (n,) for n in names if n != "*")
                for c in cands:
                    found.extend(p for p in ("/".join(c) + ".py", "/".join(c + ("__init__.py",))) if p in files.paths)
            else:
                cands.append(module)
                cands.extend(module + (n,) for n in names if n != "*")
                for c in cands:
                    if not c:
                        continue
                    for p, parts in files.ending_with(c):
                        if p == shim.rel:
                            continue
                        if matcher.roots and not any(r + c == parts for r in matcher.bases(shim_dir)):
                            continue
                        found.append(p)
        return sorted(set(found) - set([shim.rel]))


class _FileIndex(object):
    """The Python files of a scan by module path: ``paths`` (set of relative paths) and, for
    every suffix of a file's module parts (``a/b/__init__.py`` is ``(a, b)``), the files ending
    so -- one dictionary lookup per question, whatever the size of the tree."""

    def __init__(self, paths):
        self.paths = set(paths)
        self._by_suffix = {}
        for p in sorted(self.paths):
            parts = tuple(p[:-3].split("/"))
            if parts[-1] == "__init__":
                parts = parts[:-1]
            for n in range(1, len(parts) + 1):
                self._by_suffix.setdefault(parts[-n:], []).append((p, parts))

    def ending_with(self, parts):
        """``(path, module parts)`` of the files whose module parts end with ``parts`` (tuple)."""
        return self._by_suffix.get(tuple(parts), ())


def unused_shims(shims, keep=()):
    """Return the set of shim paths that nothing refers to, except other unused shims.

    Iterates to a fixed point: a reference from a shim that is itself unused does not count.
    Shims matching a ``keep`` pattern (:func:`_tree.glob_matcher`) are never unused, and their
    references keep counting.
    """
    unused = set()
    by_rel = dict((s.rel, s) for s in shims)
    changed = True
    while changed:
        changed = False
        for s in shims:
            if s.rel in unused or matches_any(s.rel, keep):
                continue
            live = [r for r in s.references if not (r["path"] in by_rel and r["path"] in unused)]
            if not live:
                unused.add(s.rel)
                changed = True
    return unused
