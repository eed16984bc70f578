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
* a Python file libcst cannot parse (Python 2 syntax, broken file): any whole-word occurrence
  of the shim's module name counts (kind ``unparsed``), since its imports cannot be read.

A shim referenced only from shims that are themselves unused is unused too (chains of shims
go together).
"""

from __future__ import annotations

import ast
import fnmatch
import os
import re

try:
    import libcst as cst
    from libcst.metadata import MetadataWrapper, PositionProvider
    HAS_LIBCST = True
    _Visitor = cst.CSTVisitor
    _METADATA = (PositionProvider,)
except ImportError:  # pragma: no cover - reported by the module
    HAS_LIBCST = False
    _Visitor = object
    _METADATA = ()

from ansible_collections.sutazai.consolidation.plugins.module_utils._errors import ConsolidationError, python_too_deep
from ansible_collections.sutazai.consolidation.plugins.module_utils._fileio import read_bytes
from ansible_collections.sutazai.consolidation.plugins.module_utils._tree import walk_tree

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
_SYNTAX_AT_RE = re.compile(r"error at (\d+):(\d+)")


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
    :ivar invalid: files libcst could not parse or decode, as error dicts (path, line, column,
        kind, message); never removed, searched as text (kind ``unparsed``).
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


def _dotted(node):
    """Return the dotted name of a libcst Name/Attribute chain as a list of str (or None)."""
    if node is None:
        return []
    if isinstance(node, cst.Name):
        return [node.value]
    if isinstance(node, cst.Attribute):
        head = _dotted(node.value)
        return None if head is None else head + [node.attr.value]
    return None


def _string_value(node):
    """Return the str value of a SimpleString/ConcatenatedString without f-strings, else None."""
    if isinstance(node, cst.SimpleString):
        value = node.evaluated_value
        return value if isinstance(value, str) else None
    if isinstance(node, cst.ConcatenatedString):
        left = _string_value(node.left)
        right = _string_value(node.right)
        if left is None or right is None:
            return None
        return left + right
    return None


def _import_from_parts(node):
    level = len(node.relative)
    module = _dotted(node.module) or []
    if isinstance(node.names, cst.ImportStar):
        names = ["*"]
    else:
        names = [a.name.value if isinstance(a.name, cst.Name) else ".".join(_dotted(a.name) or []) for a in node.names]
    return level, tuple(module), tuple(names)


def _bound_names(node):
    """Names an Import/ImportFrom binds in the module namespace."""
    out = []
    if isinstance(node, cst.Import):
        for a in node.names:
            if a.asname is not None:
                out.append(a.asname.name.value)
            else:
                out.append((_dotted(a.name) or [""])[0])
    elif not isinstance(node.names, cst.ImportStar):
        for a in node.names:
            if a.asname is not None:
                out.append(a.asname.name.value)
            elif isinstance(a.name, cst.Name):
                out.append(a.name.value)
    return out


def _is_string_list(node):
    if isinstance(node, (cst.List, cst.Tuple)):
        return all(isinstance(e, cst.Element) and _string_value(e.value) is not None for e in node.elements)
    return False


class _NotShim(Exception):
    pass


def _check_small(stmt, state):
    """Accept one small statement of a shim or raise _NotShim; record imports in ``state``."""
    if isinstance(stmt, cst.Expr):
        if _string_value(stmt.value) is None:
            raise _NotShim()
        return
    if isinstance(stmt, cst.Pass):
        return
    if isinstance(stmt, cst.Import):
        for a in stmt.names:
            parts = tuple(_dotted(a.name) or [])
            state["imports"].append((0, parts, ()))
            state["targets"].append(".".join(parts))
        state["bound"].update(_bound_names(stmt))
        return
    if isinstance(stmt, cst.ImportFrom):
        level, module, names = _import_from_parts(stmt)
        if level == 0 and module == ("__future__",):
            return
        state["imports"].append((level, module, names))
        state["targets"].append("." * level + ".".join(module))
        state["bound"].update(_bound_names(stmt))
        return
    if isinstance(stmt, cst.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0].target, cst.Name):
        name = stmt.targets[0].target.value
        if name == "__all__":
            value = stmt.value
            if _is_string_list(value):
                return
            chain = _dotted(value)
            if chain and len(chain) >= 2 and chain[-1] == "__all__":
                return
            raise _NotShim()
        chain = _dotted(stmt.value)
        if chain and chain[0] in state["bound"]:
            state["bound"].add(name)
            return
        raise _NotShim()
    if isinstance(stmt, cst.AugAssign) and isinstance(stmt.target, cst.Name) and stmt.target.value == "__all__":
        if isinstance(stmt.operator, cst.AddAssign) and _is_string_list(stmt.value):
            return
    raise _NotShim()


def _check_block(body, state):
    for stmt in body:
        if isinstance(stmt, cst.SimpleStatementLine):
            for small in stmt.body:
                _check_small(small, state)
        elif isinstance(stmt, cst.Try) and not stmt.orelse and not stmt.finalbody:
            _check_block(stmt.body.body, state)
            for handler in stmt.handlers:
                caught = handler.type
                names = []
                if isinstance(caught, cst.Name):
                    names = [caught.value]
                elif isinstance(caught, cst.Tuple):
                    names = [e.value.value for e in caught.elements if isinstance(e.value, cst.Name)]
                    if len(names) != len(caught.elements):
                        raise _NotShim()
                if not names or any(n not in _IMPORT_ERRORS for n in names):
                    raise _NotShim()
                _check_block(handler.body.body, state)
        else:
            raise _NotShim()


def classify_shim(module):
    """Decide whether the parsed ``module`` (libcst Module) is a shim (see the module doc).

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


class _RefCollector(_Visitor):
    """Collect ``(kind, line, data)`` references of one parsed file.

    kinds: ``import`` (data: ``(level, module_parts, names)``), ``dynamic`` (data: dotted str
    from import_module/__import__), ``string`` (data: dotted str literal).
    """

    METADATA_DEPENDENCIES = _METADATA

    def __init__(self):
        super(_RefCollector, self).__init__()
        self.found = []

    def _line(self, node):
        return self.get_metadata(PositionProvider, node).start.line

    def visit_Import(self, node):
        line = self._line(node)
        for a in node.names:
            self.found.append(("import", line, (0, tuple(_dotted(a.name) or []), ())))

    def visit_ImportFrom(self, node):
        self.found.append(("import", self._line(node), _import_from_parts(node)))

    def visit_Call(self, node):
        func = _dotted(node.func)
        if func and func[-1] in ("import_module", "__import__") and node.args:
            value = _string_value(node.args[0].value)
            if value:
                self.found.append(("dynamic", self._line(node), value))

    def visit_SimpleString(self, node):
        value = node.evaluated_value
        if isinstance(value, str) and len(value) < 300:
            if _DOTTED_RE.match(value):
                self.found.append(("string", self._line(node), value))
            elif ".py" in value:
                self.found.append(("path", self._line(node), value))


def syntax_error(exc, rel, raw=None):
    """Return a ConsolidationError (kind ``syntax``) for a libcst ParserSyntaxError.

    The line and column (1-based) come from Python's own parser (:func:`ast.parse` of ``raw``)
    when it fails too, else from libcst's ``error at L:C`` message, else they are None.
    """
    message = str(getattr(exc, "message", "") or exc).strip().splitlines()[0]
    line = column = None
    if raw is not None:
        try:
            ast.parse(raw)
        except SyntaxError as err:
            line, column = err.lineno, err.offset
            message = "%s (libcst: %s)" % (err.msg, message if len(message) <= 80 else message[:77] + "...")
        except (ValueError, TypeError):
            pass
    if line is None:
        m = _SYNTAX_AT_RE.search(message)
        if m:
            line, column = int(m.group(1)), int(m.group(2)) + 1
    return ConsolidationError("cannot parse Python: %s" % message, rel, line, column, kind="syntax")


class _Matcher(object):
    """Match import targets against the shims (see the module doc for the rules)."""

    def __init__(self, shims, python_roots):
        # last name -> [(parts, shim)]: a shim under its own path and under each symlink to it.
        self.by_last = {}
        for s in shims:
            for parts in [s.parts] + s.aliases:
                self.by_last.setdefault(parts[-1], []).append((parts, s))
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
        out = []
        for sp, s in self.by_last.get(parts[-1], ()):
            if self.roots:
                if any(r + parts == sp for r in self.bases(importer_dir)):
                    out.append(s)
            elif len(parts) <= len(sp) and sp[-len(parts):] == parts:
                out.append(s)
        return out

    def by_path(self, parts):
        if not parts:
            return []
        return [s for sp, s in self.by_last.get(parts[-1], ()) if sp == parts]

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
    """True when ``rel`` matches one of the fnmatch ``patterns`` (case-sensitive)."""
    return any(fnmatch.fnmatchcase(rel, p) for p in patterns)


def _is_text_file(rel):
    base = rel.rsplit("/", 1)[-1]
    return any(fnmatch.fnmatchcase(base, p) for p in TEXT_FILE_PATTERNS)


def _word_re(names):
    return re.compile(r"(?<![\w])(%s)(?![\w])" % "|".join(re.escape(n) for n in sorted(names)))


def scan(root, python_roots=(), exclude_paths=(), text_references=True):
    """Find the shims under ``root`` and every reference to them.

    :param root: the platform root (str).
    :param python_roots: folders (relative to the root) that are the import roots of the code
        inside them; empty for the suffix rule (see the module doc).
    :param exclude_paths: absolute folders never walked (backup root, report folder).
    :param text_references: also search non-Python text files (:data:`TEXT_FILE_PATTERNS`).
    :returns: a :class:`ShimScan`; each shim's ``references`` is the list of
        ``{"path", "line", "kind", "text"}`` dicts (kinds ``import``, ``dynamic``, ``string``,
        ``text``, ``unparsed``), sorted by path and line.
    :raises ImportError: when libcst is missing.
    """
    if not HAS_LIBCST:
        raise ImportError("libcst")
    result = ScanState(root, python_roots, exclude_paths, text_references)
    return result.run()


class ScanState(object):
    """Working state of :func:`scan` (one instance per call)."""

    def __init__(self, root, python_roots, exclude_paths, text_references):
        self.root = root
        self.python_roots = list(python_roots or ())
        self.exclude_paths = exclude_paths
        self.text_references = text_references
        self.out = ShimScan()
        self.parsed = {}
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
            self._parse(f)
        if not out.shims:
            return out
        by_real = dict((s_real, s) for s_real, s in ((self.real[s.rel], s) for s in out.shims))
        for f in self.links:
            if f.real in by_real:
                by_real[f.real].aliases.append(tuple(f.rel[:-3].split("/")))
                by_real[f.real].links.append(f.rel)
        self._references(py_files, text_files)
        return out

    def _parse(self, f):
        out = self.out
        try:
            raw = read_bytes(f.path, f.rel)
        except ConsolidationError as exc:
            out.unreadable.append(exc.as_dict())
            return
        out.python_files.append(f.rel)
        self.real[f.rel] = f.real
        self.texts[f.rel] = raw.decode("utf-8", "replace")
        deep = python_too_deep(raw, f.rel)
        if deep is not None:
            out.invalid.append(deep.as_dict())
            return
        try:
            module = cst.parse_module(raw)
        except cst.ParserSyntaxError as exc:
            out.invalid.append(syntax_error(exc, f.rel, raw).as_dict())
            return
        except (UnicodeDecodeError, LookupError, SyntaxError, ValueError) as exc:
            out.invalid.append(ConsolidationError("cannot decode it: %s" % exc, f.rel, kind="not_decodable").as_dict())
            return
        self.parsed[f.rel] = module
        base = f.rel.rsplit("/", 1)[-1]
        if base in NEVER_SHIMS or f.is_symlink:
            return
        shape = classify_shim(module)
        if shape is not None:
            out.shims.append(Shim(f.rel, shape[0], shape[1], self.texts[f.rel].count("\n") + (0 if self.texts[f.rel].endswith("\n") else 1)))

    def _references(self, py_files, text_files):
        out = self.out
        matcher = _Matcher(out.shims, self.python_roots)
        names_re = _word_re(set(matcher.by_last))
        refs = {}
        # Import edges between shims, to let unused chains go together.
        for f in py_files:
            rel = f.rel
            if rel not in self.texts:
                continue
            text = self.texts[rel]
            if not names_re.search(text):
                continue
            importer_dir = tuple(rel.split("/")[:-1])
            lines = text.split("\n")
            if rel not in self.parsed:
                for i, line in enumerate(lines):
                    m = names_re.search(line)
                    if m:
                        for _parts, s in matcher.by_last.get(m.group(1), ()):
                            if s.rel != rel:
                                _add_ref(refs, s, rel, i + 1, "unparsed", line.strip())
                continue
            collector = _RefCollector()
            MetadataWrapper(self.parsed[rel], unsafe_skip_copy=True).visit(collector)
            for kind, line, data in collector.found:
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
        for s in out.shims:
            s.target_files = self._target_files(s, matcher)

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

    def _target_files(self, shim, matcher):
        """Files of the tree each re-exported module may be (for the report only)."""
        files = set(self.out.python_files)
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
                paths = []
                for c in cands:
                    paths.extend(["/".join(c) + ".py", "/".join(c + ("__init__.py",))])
                found.extend(p for p in paths if p in files)
            else:
                cands.append(module)
                cands.extend(module + (n,) for n in names if n != "*")
                for c in cands:
                    if not c:
                        continue
                    for p in files:
                        parts = tuple(p[:-3].split("/"))
                        if parts[-1] == "__init__":
                            parts = parts[:-1]
                        if len(c) <= len(parts) and parts[-len(c):] == c and p != shim.rel:
                            if matcher.roots and not any(r + c == parts for r in matcher.bases(shim_dir)):
                                continue
                            found.append(p)
        return sorted(set(found) - set([shim.rel]))


def unused_shims(shims, keep=()):
    """Return the set of shim paths that nothing refers to, except other unused shims.

    Iterates to a fixed point: a reference from a shim that is itself unused does not count.
    Shims matching a ``keep`` glob (fnmatch on the relative path) are never unused, and their
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
