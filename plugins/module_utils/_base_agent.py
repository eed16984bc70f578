# -*- coding: utf-8 -*-
# Copyright (c) 2026 sutazai.consolidation contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The base_agent phase: one canonical ``base_agent.py``, every import of the others rewritten
to it with libcst, the others removed.

Rules (the module documentation of ``base_agent_canonical`` repeats them for users):

* **Copies.** Every file matching the glob (:func:`glob_match`, default ``**/base_agent.py``)
  plus the file at the canonical location, if any. A copy under a folder named in
  ``test_dirs`` (default ``tests``, ``test``) is a *test copy*: a test double that tests import
  on purpose; it is listed, never canonical, never removed, and imports of it are left alone.
  A copy that is itself a symlink is a *link*: never canonical, removed (only the link), its
  names read through it. A copy reached through a symlinked folder blocks the phase (removing
  it would remove the link's target).
* **Public names** (:func:`module_names`): names bound at module level (also inside
  module-level ``if``/``try``/``with``/``for``/``while`` blocks, never inside functions or
  classes) by ``def``, ``async def``, ``class``, assignments (plain, annotated with a value,
  tuple/list unpacking, walrus is ignored) that do not start with ``_``, plus every string of a
  literal ``__all__`` list or tuple (``__all__ = [...]``, ``__all__ += [...]``). Imports are
  not public unless ``__all__`` names them.
* **Canonical.** The copy with the most public names; tie: the larger file (bytes), then the
  copy already at ``canonical_path``, then the first path in sorted order. It ends up at ``canonical_path`` (default
  ``agents/core/base_agent.py``): when it is elsewhere, its bytes are written there (a copy
  already there is replaced) and the old file is removed, both journaled. Its module name is
  ``canonical_module`` or, by default, the canonical path relative to the tree root
  (``agents.core.base_agent``); every rewritten import names it (absolute import).
* **Missing names.** For each retiring copy (every copy but the canonical, the test copies and
  links to the canonical): its public names plus the names importers take from it
  (``from M import N``, ``alias.N`` after ``import M as alias``) that the canonical does not
  bind at module level in any way (def, class, assignment, import) nor list in ``__all__``; a
  ``from x import *`` in the canonical binds nothing we can name. Any such name blocks the
  phase unless ``force``. Functions and classes both define with other parameters (the class's
  ``__init__``; names and defaults, not annotations) are reported, not blocking: same names do
  not prove the same behaviour.
* **Imports** (:class:`_ImportRewriter`) in every ``*.py`` file that mentions a copy's module
  name (other files cannot import it). An absolute import ``a.b.c`` in a file in folder ``D``
  names the copy at ``R/a/b/c.py`` for every python root ``R`` and at ``D/a/b/c.py`` (the
  script's own folder is ``sys.path[0]`` when it runs as a script). Relative imports resolve
  against the file's package. An import is rewritten when it names a copy that disappears
  (removed, or the canonical's old location) and is not already the canonical module name:

  - ``from X import A, B as C`` -> ``from <canonical> import A, B as C`` (only the module
    changes; parentheses, comments and line breaks of the name list are kept);
  - ``from P import base_agent [as m]`` (submodule import, relative or absolute) ->
    ``from <canonical parent> import <canonical leaf> [as m]`` (``as`` added when the leaf
    differs); other names of that statement stay where they are and the new import is added
    to the same line after ``;``;
  - ``import X as m`` -> ``import <canonical> as m``; ``import base_agent`` (one part) ->
    ``import <canonical> as base_agent`` (binds the same name to the same module);
  - ``import a.b.base_agent`` (dotted, no ``as``) binds ``a`` and code reaches the module as
    ``a.b.base_agent.X``: rewriting the import alone would break those uses and rewriting the
    uses would change lines that are not imports, so the phase is **blocked** and names the
    file and line (a person adds ``as`` or rewrites the uses; ``force`` does not override it).
* **String references** (``importlib.import_module("...")``, ``__import__``, ``mock.patch("...")``,
  any dotted string or path string naming a disappearing copy; with ``text_references`` also
  lines of Dockerfiles, YAML, shell... naming its path or dotted module) are reported, never
  edited.
* **Unparsable files.** A Python file libcst cannot parse that mentions a copy's module name
  blocks the phase when a line of it looks like an import of it (``file:line:col``), else it
  is listed and left alone.
* **Packages.** The folders of the canonical path below the root its module name is counted
  from get an ``__init__.py`` (:data:`INIT_TEXT`, one comment line) when they have none
  (journaled), so ``agents`` is a regular package: a namespace package loses against a
  regular package of the same name anywhere on ``sys.path``.
* **Moving the canonical.** Its relative imports are rewritten to absolute ones, named from
  the deepest python root holding its old location (how that code was run); an absolute import
  of a module that sits only beside its old location (``from utils import x``) blocks.
* **Proof before writing** (:meth:`Planner.prove`): every changed Python file compiles
  (``compile()`` of the new bytes) when its original did; re-parsing every planned text finds
  no import that still names a removed module; the line diff of every rewritten file touches
  only the lines of the rewritten import statements.
"""

from __future__ import annotations

import ast
import difflib
import fnmatch
import os
import re

try:
    import libcst as cst
    from libcst.metadata import MetadataWrapper, PositionProvider
    HAS_LIBCST = True
    _Transformer = cst.CSTTransformer
    _METADATA = (PositionProvider,)
except ImportError:  # pragma: no cover - reported by the module
    HAS_LIBCST = False
    _Transformer = object
    _METADATA = ()

from ansible_collections.sutazai.consolidation.plugins.module_utils._errors import ConsolidationError, python_too_deep
from ansible_collections.sutazai.consolidation.plugins.module_utils._fileio import read_bytes
from ansible_collections.sutazai.consolidation.plugins.module_utils._python import (
    cyclic_gc_paused, import_from_parts, literal_parts, parse_python, walk)
from ansible_collections.sutazai.consolidation.plugins.module_utils._shims import TEXT_FILE_PATTERNS, MAX_TEXT_BYTES
from ansible_collections.sutazai.consolidation.plugins.module_utils._tree import glob_matcher, is_linked, walk_tree

_SYNTAX_AT_RE = re.compile(r"error at (\d+):(\d+)")


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


DEFAULT_GLOB = "**/base_agent.py"
DEFAULT_CANONICAL_PATH = "agents/core/base_agent.py"
DEFAULT_TEST_DIRS = ("tests", "test")
INIT_TEXT = b"# Package of the canonical BaseAgent (created by the sutazai.consolidation base_agent phase).\n"
"""Content of the ``__init__.py`` files the phase creates (a comment, so ``--diff`` shows them)."""
MAX_LISTED = 200
"""Rewrites and string references listed in the result (the totals are always given)."""

_DOTTED_RE = re.compile(r"^[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*(?::[A-Za-z_]\w*)?$")
_TEXT_DOTTED_RE = re.compile(r"(?<![\w./-])([A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+)")
_TEXT_PATH_RE = re.compile(r"(?<![\w.-])((?:[\w.-]*/)*)([A-Za-z_]\w*)\.py(?![\w])")


def glob_match(rel, pattern):
    """True when ``rel`` matches ``pattern`` in the collection's path-pattern dialect
    (:func:`_tree.glob_matcher`; ``**/base_agent.py`` also matches a copy at the top)."""
    return glob_matcher((pattern,))(rel)


def _parts(rel):
    """Module path parts of a ``.py`` path: ``a/b/c.py`` -> ``("a", "b", "c")``."""
    return tuple(rel[:-3].split("/"))


# -- public names -------------------------------------------------------------------------

def _target_names(node):
    if isinstance(node, cst.Name):
        return [node.value]
    if isinstance(node, (cst.Tuple, cst.List)):
        out = []
        for e in node.elements:
            out.extend(_target_names(e.value))
        return out
    if isinstance(node, cst.StarredElement):
        return _target_names(node.value)
    return []


def _string_list(node):
    if isinstance(node, (cst.List, cst.Tuple)):
        values = [_string_value(e.value) if isinstance(e, cst.Element) else None for e in node.elements]
        if all(v is not None for v in values):
            return values
    return None


class ModuleNames(object):
    """Names a module binds at module level (see :func:`module_names`).

    :ivar defined: names bound by def/class/assignments (set of str, private ones included).
    :ivar imported: names bound by imports (set of str).
    :ivar all_names: strings of a literal ``__all__`` (list) or None when there is none.
    :ivar star: True when the module holds ``from x import *``.
    :ivar signatures: ``{name: str}`` parameter lists of module-level functions and of the
        ``__init__`` of module-level classes (see :func:`signature`).
    """

    def __init__(self):
        self.defined = set()
        self.imported = set()
        self.all_names = None
        self.star = False
        self.signatures = {}

    @property
    def public(self):
        """Sorted public names: defined names not starting with ``_``, plus ``__all__``."""
        names = set(n for n in self.defined if not n.startswith("_"))
        names.update(self.all_names or ())
        return sorted(names)

    @property
    def bound(self):
        """Every name bound at module level (set)."""
        return self.defined | self.imported


def signature(params):
    """A libcst ``Parameters`` as text without annotations: ``self, config, *, timeout=...``."""
    out = []

    def one(p, prefix=""):
        return prefix + p.name.value + ("=..." if getattr(p, "default", None) is not None else "")

    out.extend(one(p) for p in params.posonly_params)
    if params.posonly_params:
        out.append("/")
    out.extend(one(p) for p in params.params)
    if isinstance(params.star_arg, cst.Param):
        out.append(one(params.star_arg, "*"))
    elif params.kwonly_params:
        out.append("*")
    out.extend(one(p) for p in params.kwonly_params)
    if params.star_kwarg is not None:
        out.append(one(params.star_kwarg, "**"))
    return ", ".join(out)


def _class_init(node):
    for stmt in node.body.body if isinstance(node.body, cst.IndentedBlock) else ():
        if isinstance(stmt, cst.FunctionDef) and stmt.name.value == "__init__":
            return signature(stmt.params)
    return None


def _small(stmt, out):
    if isinstance(stmt, cst.Assign):
        for t in stmt.targets:
            for name in _target_names(t.target):
                if name == "__all__":
                    values = _string_list(stmt.value)
                    if values is not None:
                        out.all_names = list(values)
                out.defined.add(name)
    elif isinstance(stmt, cst.AnnAssign):
        for name in _target_names(stmt.target):
            if stmt.value is not None or name == "__all__":
                out.defined.add(name)
    elif isinstance(stmt, cst.AugAssign):
        names = _target_names(stmt.target)
        if names == ["__all__"] and isinstance(stmt.operator, cst.AddAssign):
            values = _string_list(stmt.value)
            if values is not None:
                out.all_names = (out.all_names or []) + values
    elif isinstance(stmt, cst.Import):
        for a in stmt.names:
            out.imported.add(a.asname.name.value if a.asname is not None and isinstance(a.asname.name, cst.Name)
                             else (_dotted(a.name) or [""])[0])
    elif isinstance(stmt, cst.ImportFrom):
        if isinstance(stmt.names, cst.ImportStar):
            out.star = True
        else:
            for a in stmt.names:
                if a.asname is not None and isinstance(a.asname.name, cst.Name):
                    out.imported.add(a.asname.name.value)
                elif isinstance(a.name, cst.Name):
                    out.imported.add(a.name.value)


def _block(body, out):
    for stmt in body:
        if isinstance(stmt, cst.SimpleStatementLine):
            for small in stmt.body:
                _small(small, out)
        elif isinstance(stmt, cst.FunctionDef):
            out.defined.add(stmt.name.value)
            out.signatures[stmt.name.value] = signature(stmt.params)
        elif isinstance(stmt, cst.ClassDef):
            out.defined.add(stmt.name.value)
            init = _class_init(stmt)
            if init is not None:
                out.signatures[stmt.name.value] = init
        elif isinstance(stmt, cst.If):
            _block(stmt.body.body, out)
            orelse = stmt.orelse
            while orelse is not None:
                _block(orelse.body.body, out)
                orelse = orelse.orelse if isinstance(orelse, cst.If) else None
        elif isinstance(stmt, (cst.Try, cst.TryStar)):
            _block(stmt.body.body, out)
            for h in stmt.handlers:
                _block(h.body.body, out)
            for extra in (stmt.orelse, stmt.finalbody):
                if extra is not None:
                    _block(extra.body.body, out)
        elif isinstance(stmt, (cst.With, cst.For, cst.While)):
            _block(stmt.body.body, out)
            if getattr(stmt, "orelse", None) is not None:
                _block(stmt.orelse.body.body, out)


def module_names(module):
    """Return the :class:`ModuleNames` of a parsed libcst ``module`` (rules in the module doc)."""
    out = ModuleNames()
    _block(module.body, out)
    return out


# -- python roots and resolution -----------------------------------------------------------

def auto_python_roots(rel_paths):
    """The tree root plus every folder that holds a top-level package: a folder without
    ``__init__.py`` with a sub-folder that has one (``backend`` for ``backend/app/__init__.py``).

    :param rel_paths: relative paths of the tree's files (iterable of str).
    :returns: sorted list of part tuples (``()`` is the tree root).
    """
    packages = set()
    for rel in rel_paths:
        if rel == "__init__.py" or rel.endswith("/__init__.py"):
            packages.add(tuple(rel.split("/")[:-1]))
    roots = set([()])
    for pkg in packages:
        if pkg and pkg[:-1] not in packages:
            roots.add(pkg[:-1])
    return sorted(roots)


def parse_roots(python_roots):
    """Normalise configured python roots (``"."``, ``"backend/"``) to part tuples."""
    out = set()
    for r in python_roots:
        out.add(tuple(p for p in str(r).strip().strip("/").split("/") if p and p != "."))
    return sorted(out)


class Resolver(object):
    """Which copies an import names (rules in the module doc).

    :param copies: ``{parts: Copy}`` of every copy.
    :param roots: python roots as part tuples.
    """

    def __init__(self, copies, roots):
        self.copies = copies
        self.roots = roots

    def absolute(self, parts, importer_dir):
        """Copies the absolute dotted ``parts`` (tuple) names from a file in ``importer_dir``."""
        found = []
        if not parts:
            return found
        for base in self.roots + [importer_dir]:
            c = self.copies.get(base + parts)
            if c is not None and c not in found:
                found.append(c)
        return found

    @staticmethod
    def package(level, module, importer_dir):
        """Absolute parts of a relative import's module, or None when it leaves the tree."""
        if level - 1 > len(importer_dir):
            return None
        return importer_dir[:len(importer_dir) - (level - 1)] + module

    def relative(self, level, module, importer_dir):
        parts = self.package(level, module, importer_dir)
        if parts is None:
            return []
        c = self.copies.get(parts)
        return [c] if c is not None else []

    def dotted_string(self, value, importer_dir):
        """Copies named by a dotted string: the whole name or any leading part of it."""
        value = value.split(":", 1)[0]
        parts = tuple(p for p in value.split(".") if p)
        found = []
        for n in range(1, len(parts) + 1):
            for c in self.absolute(parts[:n], importer_dir):
                if c not in found:
                    found.append(c)
        return found

    def path_mentions(self, text, text_dir):
        """Copies named by a file path in ``text``: the path's folders and name end the copy's
        path (``agents/base_agent.py``), or a bare file name beside the mentioning file."""
        found = []
        for m in _TEXT_PATH_RE.finditer(text):
            folders = [p for p in m.group(1).split("/") if p and p not in (".", "..")]
            mentioned = tuple(folders) + (m.group(2),)
            for parts, c in self.copies.items():
                if parts[-1] != m.group(2):
                    continue
                if (folders and parts[-len(mentioned):] == mentioned) or (not folders and parts == text_dir + mentioned):
                    if c not in found:
                        found.append(c)
        return found


# -- copies ---------------------------------------------------------------------------------

class Copy(object):
    """One ``base_agent.py`` copy.

    :ivar rel: path relative to the root; ``parts`` its module path parts.
    :ivar role: ``canonical``, ``duplicate`` (removed), ``replaced`` (the file at the canonical
        location, overwritten by the canonical), ``test`` (left alone) or ``link`` (a symlink,
        removed).
    :ivar names: :class:`ModuleNames` (None when it could not be parsed).
    :ivar size: bytes; ``mode`` permission bits; ``data`` the bytes.
    """

    def __init__(self, tree_file, data, mode):
        self.rel = tree_file.rel
        self.parts = _parts(tree_file.rel)
        self.real = tree_file.real
        self.is_link = tree_file.is_symlink
        self.data = data
        self.size = len(data)
        self.mode = mode
        self.names = None
        self.module = None
        self.role = None
        self.is_test = False

    def __repr__(self):
        return "Copy(%r, %s)" % (self.rel, self.role)


# -- import rewriting --------------------------------------------------------------------------

def _dotted_node(dotted):
    return cst.parse_expression(dotted)


def _one_line(code):
    """A statement for the report: its first line, `` ...`` when it spans more."""
    lines = code.strip().split("\n")
    return lines[0].strip() + (" ..." if len(lines) > 1 else "")


class _ImportRewriter(_Transformer):
    """Rewrite the imports of one file that name disappearing copies (see the module doc).

    After ``visit``: ``edits`` (``{"line", "end_line", "old", "new"}``), ``bare`` (dotted
    imports without ``as``: ``{"line", "column", "text"}``), ``uses`` (``{copy_rel: [(name,
    line)]}`` of retiring copies), ``strings`` (``{"line", "kind", "text", "copies"}``),
    ``remaining`` (imports still naming a disappearing copy: ``{"line", "text"}``).
    """

    METADATA_DEPENDENCIES = _METADATA

    def __init__(self, rel, resolver, plan, rewrite=True):
        super(_ImportRewriter, self).__init__()
        self.rel = rel
        self.dir = tuple(rel.split("/")[:-1])
        self.resolver = resolver
        self.plan = plan
        self.rewrite = rewrite
        self.edits = []
        self.bare = []
        self.uses = {}
        self.strings = []
        self.remaining = []
        self.aliases = {}
        self._pending = []
        self._code = None

    # helpers
    def _pos(self, node):
        return self.get_metadata(PositionProvider, node)

    def _use(self, copies, name, line):
        for c in copies:
            if c.role in ("duplicate", "replaced", "link"):
                self.uses.setdefault(c.rel, []).append((name, line))

    def _disappearing(self, copies):
        return any(c.rel in self.plan.disappearing for c in copies)

    def _record(self, original, updated, code_for):
        pos = self._pos(original)
        self.edits.append({"line": pos.start.line, "end_line": pos.end.line,
                           "old": _one_line(code_for(original)), "new": _one_line(code_for(updated))})

    # imports
    def leave_Import(self, original_node, updated_node):
        new_names = list(updated_node.names)
        changed = False
        for i, a in enumerate(original_node.names):
            parts = tuple(_dotted(a.name) or [])
            copies = self.resolver.absolute(parts, self.dir)
            if not copies:
                continue
            alias = a.asname.name.value if a.asname is not None and isinstance(a.asname.name, cst.Name) else None
            if alias:
                self.aliases[alias] = copies
            elif len(parts) == 1:
                self.aliases[parts[0]] = copies
            if not self._disappearing(copies) or ".".join(parts) == self.plan.canonical_module:
                continue
            if not self.rewrite:
                self.remaining.append({"line": self._pos(original_node).start.line, "text": ".".join(parts)})
                continue
            if alias is None and len(parts) > 1:
                pos = self._pos(a)
                self.bare.append({"line": pos.start.line, "column": pos.start.column + 1, "text": ".".join(parts)})
                continue
            asname = a.asname if alias else cst.AsName(name=cst.Name(parts[0]))
            new_names[i] = new_names[i].with_changes(name=_dotted_node(self.plan.canonical_module), asname=asname)
            changed = True
        if not changed:
            return updated_node
        result = updated_node.with_changes(names=new_names)
        self._record(original_node, result, self._code.code_for_node)
        return result

    def leave_ImportFrom(self, original_node, updated_node):
        level = len(original_node.relative)
        module = tuple(_dotted(original_node.module) or [])
        if level == 0 and module == ("__future__",):
            return updated_node
        if level:
            mod_parts = self.resolver.package(level, module, self.dir)
            copies = self.resolver.relative(level, module, self.dir) if mod_parts is not None else []
        else:
            mod_parts = module
            copies = self.resolver.absolute(module, self.dir)
        line = self._pos(original_node).start.line
        star = isinstance(original_node.names, cst.ImportStar)
        if copies:
            # from <copy> import names
            if not star:
                for a in original_node.names:
                    if isinstance(a.name, cst.Name):
                        self._use(copies, a.name.value, line)
            if not self._disappearing(copies) or (level == 0 and ".".join(module) == self.plan.canonical_module):
                return updated_node
            if not self.rewrite:
                self.remaining.append({"line": line, "text": "." * level + ".".join(module)})
                return updated_node
            result = updated_node.with_changes(module=_dotted_node(self.plan.canonical_module), relative=[])
            self._record(original_node, result, self._code.code_for_node)
            return result
        if star or mod_parts is None:
            return updated_node
        # from <package> import base_agent [as m], other
        keep = []
        moved = []
        for orig, upd in zip(original_node.names, updated_node.names):
            sub = tuple(_dotted(orig.name) or [])
            subs = (self.resolver.relative(level, module + sub, self.dir) if level
                    else self.resolver.absolute(module + sub, self.dir))
            alias = orig.asname.name.value if orig.asname is not None and isinstance(orig.asname.name, cst.Name) else sub[-1]
            if subs:
                self.aliases[alias] = subs
            if subs and self._disappearing(subs):
                if not self.rewrite:
                    self.remaining.append({"line": line, "text": "." * level + ".".join(module + sub)})
                    keep.append(upd)
                else:
                    moved.append(alias)
            else:
                keep.append(upd)
        if not moved:
            return updated_node
        canon = self.plan.canonical_module.split(".")
        stmts = []
        for alias in moved:
            if len(canon) == 1:
                text = "import %s" % canon[0] + ("" if alias == canon[0] else " as %s" % alias)
            else:
                text = "from %s import %s" % (".".join(canon[:-1]), canon[-1]) + ("" if alias == canon[-1] else " as %s" % alias)
            stmts.append(cst.parse_statement(text + "\n").body[0])
        if keep:
            last = keep[-1]
            if original_node.lpar is None and not isinstance(last.comma, cst.MaybeSentinel):
                keep[-1] = last.with_changes(comma=cst.MaybeSentinel.DEFAULT)
            result = updated_node.with_changes(names=keep)
            self._pending.extend(stmts)
        else:
            result = stmts[0].with_changes(semicolon=updated_node.semicolon)
            self._pending.extend(stmts[1:])
        code_for = self._code.code_for_node
        pos = self._pos(original_node)
        new_text = "; ".join(_one_line(code_for(s)).rstrip(";") for s in ([result] if keep else []) + stmts)
        self.edits.append({"line": pos.start.line, "end_line": pos.end.line,
                           "old": _one_line(code_for(original_node)), "new": new_text})
        return result

    def leave_SimpleStatementLine(self, original_node, updated_node):
        return self._flush(updated_node)

    def leave_SimpleStatementSuite(self, original_node, updated_node):
        return self._flush(updated_node)

    def _flush(self, updated_node):
        """Append the imports planned by ``leave_ImportFrom`` to the same line, after ``;``."""
        if not self._pending:
            return updated_node
        body = list(updated_node.body)
        last = body[-1]
        if not isinstance(last.semicolon, cst.MaybeSentinel):
            body[-1] = last.with_changes(semicolon=cst.MaybeSentinel.DEFAULT)
        body.extend(self._pending)
        self._pending = []
        return updated_node.with_changes(body=body)

    # uses and strings
    def visit_Attribute(self, node):
        if isinstance(node.value, cst.Name) and node.value.value in self.aliases:
            self._use(self.aliases[node.value.value], node.attr.value, self._pos(node).start.line)

    def visit_Call(self, node):
        func = _dotted(node.func)
        if func and func[-1] in ("import_module", "__import__") and node.args:
            value = _string_value(node.args[0].value)
            if value:
                copies = self.resolver.dotted_string(value.lstrip("."), self.dir)
                if copies and self._disappearing(copies):
                    self.strings.append({"line": self._pos(node).start.line, "kind": "dynamic", "text": value,
                                         "copies": [c.rel for c in copies]})

    def visit_SimpleString(self, node):
        value = node.evaluated_value
        if not isinstance(value, str) or len(value) > 300 or not any(leaf in value for leaf in self.plan.leaves):
            return
        line = self._pos(node).start.line
        if any(s["line"] == line and s["text"] == value for s in self.strings):
            return
        if _DOTTED_RE.match(value):
            copies = self.resolver.dotted_string(value, self.dir)
            kind = "string"
        elif ".py" in value:
            copies = self.resolver.path_mentions(value, self.dir)
            kind = "path"
        else:
            return
        copies = [c for c in copies if c.rel in self.plan.disappearing]
        if copies:
            self.strings.append({"line": line, "kind": kind, "text": value, "copies": [c.rel for c in copies]})


def _absolutize(module, rel, root_parts):
    """Rewrite the relative imports of the canonical (moving away from ``rel``) to absolute
    ones named from ``root_parts``. Returns ``(new_module, edits, errors)``."""
    importer_dir = tuple(rel.split("/")[:-1])
    errors = []

    class _Abs(_Transformer):
        METADATA_DEPENDENCIES = _METADATA

        def __init__(self):
            super(_Abs, self).__init__()
            self.edits = []

        def leave_ImportFrom(self, original_node, updated_node):
            level = len(original_node.relative)
            if not level:
                return updated_node
            pos = self.get_metadata(PositionProvider, original_node)
            parts = Resolver.package(level, tuple(_dotted(original_node.module) or []), importer_dir)
            if parts is None or parts[:len(root_parts)] != root_parts or len(parts) <= len(root_parts):
                errors.append(ConsolidationError(
                    "relative import of the canonical leaves its python root %s; it cannot be moved"
                    % ("/".join(root_parts) or "."), rel, pos.start.line, pos.start.column + 1, kind="unmovable"))
                return updated_node
            name = ".".join(parts[len(root_parts):])
            result = updated_node.with_changes(module=_dotted_node(name), relative=[])
            self.edits.append({"line": pos.start.line, "end_line": pos.end.line,
                               "old": _one_line(module.code_for_node(original_node)),
                               "new": _one_line(module.code_for_node(result))})
            return result

    t = _Abs()
    new = MetadataWrapper(module, unsafe_skip_copy=True).visit(t)
    return new, t.edits, errors


def _sibling_imports(module, rel, new_rel, tree_files, dirs, roots):
    """Errors for absolute imports of the canonical that load a module found beside its old
    location only (``from utils import x`` run as a script); moving it would break them."""
    old_dir = tuple(rel.split("/")[:-1])
    new_dir = tuple(new_rel.split("/")[:-1])

    def exists(base, name):
        return "/".join(base + (name,)) + ".py" in tree_files or base + (name,) in dirs

    found = []
    positions = MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider)
    for node, pos in positions.items():
        if isinstance(node, cst.ImportFrom) and not node.relative and node.module is not None:
            firsts = [(_dotted(node.module) or [None])[0]]
        elif isinstance(node, cst.Import):
            firsts = [(_dotted(a.name) or [None])[0] for a in node.names]
        else:
            continue
        for first in firsts:
            if first and exists(old_dir, first) and not exists(new_dir, first) and not any(exists(r, first) for r in roots):
                found.append(ConsolidationError(
                    "the canonical imports %r, which sits beside it at %s only; moving it to %s would break that import"
                    % (first, "/".join(old_dir) or ".", new_rel), rel, pos.start.line, pos.start.column + 1,
                    kind="unmovable"))
    return sorted(found, key=lambda e: (e.line, e.column))


# -- the plan ----------------------------------------------------------------------------------

class Plan(object):
    """Result of :func:`plan` (all paths relative to the root, lists sorted).

    :ivar copies: list of :class:`Copy`; ``chosen`` the canonical copy (or None).
    :ivar canonical_rel, canonical_module: where the canonical ends up and its module name.
    :ivar disappearing: paths of copies that do not exist after the run (set).
    :ivar writes: ``{rel: (bytes, mode)}``; ``removes``: list of rel.
    :ivar rewrites: ``{"path", "line", "old", "new"}`` per rewritten import statement.
    :ivar strings: string references ``{"path", "line", "kind", "text", "copies"}``.
    :ivar missing: ``{"path", "names", "importers"}`` per retiring copy with names the canonical lacks.
    :ivar signatures: ``{"path", "name", "copy", "canonical"}`` for functions and classes (their
        ``__init__``) a retiring copy defines with other parameters than the canonical (reported).
    :ivar errors: ConsolidationError dicts that block the phase; ``block_reason`` a short reason.
    :ivar unparsed: Python files that mention a copy and cannot be parsed (listed, not blocking).
    :ivar created: ``__init__.py`` files to create; ``notes``: warnings (str).
    :ivar proof: ``{"compiled", "import_lines_only", "remaining_imports"}``.
    """

    def __init__(self):
        self.copies = []
        self.chosen = None
        self.canonical_rel = None
        self.canonical_module = None
        self.disappearing = set()
        self.leaves = set()
        self.writes = {}
        self.removes = []
        self.rewrites = []
        self.strings = []
        self.missing = []
        self.signatures = []
        self.errors = []
        self.block_reason = None
        self.unparsed = []
        self.created = []
        self.notes = []
        self.skipped = []
        self.unreadable = []
        self.python_files = 0
        self.scanned_files = 0
        self.text_files = 0
        self.roots = []
        self.proof = {"compiled": 0, "import_lines_only": True, "remaining_imports": 0}
        self.edit_lines = {}

    def block(self, reason, errors):
        if self.block_reason is None:
            self.block_reason = reason
        self.errors.extend(e.as_dict() if isinstance(e, ConsolidationError) else e for e in errors)


def _is_test(rel, test_dirs):
    return any(p in test_dirs for p in rel.split("/")[:-1])


def _compiles(data, rel):
    try:
        compile(data, rel, "exec", dont_inherit=True)
        return None
    except (SyntaxError, ValueError) as exc:
        return ConsolidationError("does not compile after the rewrite: %s" % getattr(exc, "msg", exc), rel,
                                  getattr(exc, "lineno", None), getattr(exc, "offset", None), kind="compile")


def _changed_lines_ok(old, new, ranges):
    """True when every line that differs between ``old`` and ``new`` (bytes) lies in one of
    ``ranges`` (1-based inclusive ``(start, end)`` line ranges of the old text)."""
    a = old.splitlines(True)
    b = new.splitlines(True)
    for tag, i1, i2, _j1, _j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if tag == "equal":
            continue
        lines = range(i1 + 1, i2 + 1) if i2 > i1 else [i1, i1 + 1]
        if tag == "insert":
            if not any(s - 1 <= i1 <= e for s, e in ranges):
                return False
            continue
        if not all(any(s <= ln <= e for s, e in ranges) for ln in lines):
            return False
    return True


_IMPORT_LINE_RE = r"^\s*(?:from\s+[\w.]*\b{0}\b|from\s+[\w.]+\s+import\b.*\b{0}\b|import\b.*\b{0}\b)"


class Planner(object):
    """Working state of :func:`plan` (one instance per call)."""

    def __init__(self, root, glob, canonical_path, canonical_module, python_roots, test_dirs, force,
                 text_references, exclude_paths):
        self.root = root
        self.glob = glob
        self.canonical_path = canonical_path.strip("/")
        self.canonical_module_opt = canonical_module
        self.python_roots = python_roots
        self.test_dirs = set(test_dirs)
        self.force = force
        self.text_references = text_references
        self.exclude_paths = exclude_paths
        self.out = Plan()
        self.texts = {}
        self.tree_files = set()
        self.dirs = set()
        self.uses = {}
        self.canon_root = ()

    # -- discovery
    def run(self):
        out = self.out
        if not self.canonical_path.endswith(".py"):
            raise ValueError("canonical_path must name a .py file: %s" % self.canonical_path)
        walk = walk_tree(self.root, exclude_paths=self.exclude_paths)
        for s in walk.skipped:
            if s["reason"].startswith("cannot"):
                out.unreadable.append({"path": s["path"], "line": None, "column": None, "kind": "unreadable",
                                       "message": s["reason"]})
            else:
                out.skipped.append(s)
        self.tree_files = set(f.rel for f in walk.files)
        for rel in self.tree_files:
            p = tuple(rel.split("/"))
            for i in range(1, len(p)):
                self.dirs.add(p[:i])
        out.roots = parse_roots(self.python_roots) if self.python_roots else auto_python_roots(self.tree_files)
        py = [f for f in walk.files if f.rel.endswith(".py")]
        out.python_files = len(py)
        self._copies([f for f in py if glob_match(f.rel, self.glob) or f.rel == self.canonical_path])
        if out.block_reason or not self._choose():
            return out
        resolver = Resolver(dict((c.parts, c) for c in out.copies), out.roots)
        self._importers(py, resolver)
        if self.text_references:
            self._text_files([f for f in walk.files if not f.rel.endswith(".py")], resolver)
        self._check_names()
        self._move()
        self._packages()
        if out.unreadable and not out.block_reason:
            out.block("%d file(s) or folder(s) cannot be read, so no import of a removed copy can be ruled out"
                      % len(out.unreadable), out.unreadable)
        if not out.block_reason:
            self.prove(resolver)
        return out

    def _copies(self, files):
        out = self.out
        for f in files:
            try:
                data = read_bytes(f.path, f.rel)
                mode = os.stat(f.path).st_mode & 0o7777
            except ConsolidationError as exc:
                out.block("a base_agent copy cannot be read", [exc])
                continue
            c = Copy(f, data, mode)
            c.is_test = _is_test(f.rel, self.test_dirs)
            if is_linked(f, self.root) and not f.is_symlink:
                out.block("a base_agent copy is reached through a symlinked folder", [ConsolidationError(
                    "reached through a symlinked folder; removing it would remove the link's target (resolve the link first)",
                    f.rel, kind="linked_copy")])
            deep = python_too_deep(data, f.rel)
            if deep is not None:
                if not c.is_test:
                    out.block("a base_agent copy cannot be parsed, so its public names are unknown", [deep])
                out.copies.append(c)
                out.leaves.add(c.parts[-1])
                continue
            try:
                c.module = cst.parse_module(data)
                c.names = module_names(c.module)
            except cst.ParserSyntaxError as exc:
                if not c.is_test:
                    out.block("a base_agent copy cannot be parsed, so its public names are unknown",
                              [syntax_error(exc, f.rel, data)])
            except (UnicodeDecodeError, LookupError, SyntaxError, ValueError) as exc:
                if not c.is_test:
                    out.block("a base_agent copy cannot be decoded", [ConsolidationError(
                        "cannot decode it: %s" % exc, f.rel, kind="not_decodable")])
            out.copies.append(c)
            out.leaves.add(c.parts[-1])
        out.leaves.add(_parts(self.canonical_path)[-1])

    def _choose(self):
        """Pick the canonical copy and the roles; False when there is nothing to do."""
        out = self.out
        candidates = [c for c in out.copies if not c.is_test and not c.is_link]
        for c in out.copies:
            if c.is_test:
                c.role = "test"
        if not candidates:
            for c in out.copies:
                if c.is_link:
                    c.role = "link"
            return False
        # Most public names, then the larger file, then the copy already at canonical_path (no
        # move for a tie), then the first path.
        chosen = sorted(candidates, key=lambda c: (-len(c.names.public), -c.size, c.rel != self.canonical_path,
                                                   c.rel))[0]
        out.chosen = chosen
        out.canonical_rel = self.canonical_path
        canon_parts = _parts(self.canonical_path)
        if self.canonical_module_opt:
            mod = tuple(self.canonical_module_opt.strip().split("."))
            if canon_parts[-len(mod):] != mod or not all(re.match(r"^[A-Za-z_]\w*$", p) for p in mod):
                raise ValueError("canonical_module %s does not name canonical_path %s (its parts must end the path)"
                                 % (self.canonical_module_opt, self.canonical_path))
        else:
            mod = canon_parts
            if not all(re.match(r"^[A-Za-z_]\w*$", p) for p in mod):
                raise ValueError("canonical_path %s is not an importable module path" % self.canonical_path)
        out.canonical_module = ".".join(mod)
        self.canon_root = canon_parts[:len(canon_parts) - len(mod)]
        for c in out.copies:
            if c.role == "test":
                continue
            if c is chosen:
                c.role = "canonical"
            elif c.is_link:
                c.role = "link"
            elif c.rel == self.canonical_path:
                c.role = "replaced"
            else:
                c.role = "duplicate"
        out.disappearing = set(c.rel for c in out.copies if c.role in ("duplicate", "link"))
        if chosen.rel != self.canonical_path:
            out.disappearing.add(chosen.rel)
        return bool(out.disappearing) or any(c.role == "replaced" for c in out.copies)

    # -- importers
    def _importers(self, py, resolver):
        out = self.out
        leaves = sorted(out.leaves)
        needles = [leaf.encode("utf-8") for leaf in leaves]
        import_re = re.compile(_IMPORT_LINE_RE.format("(?:%s)" % "|".join(re.escape(leaf) for leaf in leaves)))
        word_re = re.compile(r"\b(?:%s)\b" % "|".join(re.escape(leaf) for leaf in leaves))
        skip = set(c.rel for c in out.copies if c.role in ("duplicate", "replaced", "link"))
        seen_real = set()
        uses = {}
        for f in sorted(py, key=lambda x: (x.is_symlink, x.rel)):
            if f.real in seen_real or f.rel in skip:
                continue
            seen_real.add(f.real)
            try:
                data = read_bytes(f.path, f.rel)
            except ConsolidationError as exc:
                out.unreadable.append(exc.as_dict())
                continue
            if not any(n in data for n in needles):
                continue
            if f.is_symlink:
                continue
            out.scanned_files += 1
            tree, error = parse_python(data, f.rel)
            if error is not None and error.kind == "too_deep":
                self._unparsed(f.rel, data, error, import_re, word_re)
                continue
            if tree is not None:
                needs_rewriter, ast_uses = self._read_with_ast(tree, data, f.rel, resolver)
                if not needs_rewriter:
                    for rel_copy, items in ast_uses.items():
                        uses.setdefault(rel_copy, []).extend((name, f.rel, line) for name, line in items)
                    continue
            try:
                module = cst.parse_module(data)
            except (cst.ParserSyntaxError, UnicodeDecodeError, LookupError, SyntaxError, ValueError) as exc:
                self._unparsed(f.rel, data, exc, import_re, word_re)
                continue
            rw = _ImportRewriter(f.rel, resolver, out)
            rw._code = module
            new = MetadataWrapper(module, unsafe_skip_copy=True).visit(rw)
            for rel_copy, items in rw.uses.items():
                uses.setdefault(rel_copy, []).extend((name, f.rel, line) for name, line in items)
            for s in rw.strings:
                out.strings.append(dict(s, path=f.rel))
            if rw.bare:
                out.block("dotted imports without 'as' of a module that is removed need a person", [ConsolidationError(
                    "'import %s' binds %r and the code reaches the module through it; add 'as <name>' or "
                    "rewrite the uses, then run again" % (b["text"], b["text"].split(".")[0]), f.rel, b["line"], b["column"],
                    kind="bare_import") for b in rw.bare])
            if rw.edits:
                new_bytes = new.bytes
                self.texts[f.rel] = (data, new_bytes)
                out.edit_lines[f.rel] = [(e["line"], e["end_line"]) for e in rw.edits]
                for e in rw.edits:
                    out.rewrites.append({"path": f.rel, "line": e["line"], "old": e["old"], "new": e["new"]})
        self.uses = uses
        out.strings.sort(key=lambda s: (s["path"], s["line"], s["text"]))

    def _read_with_ast(self, tree, data, rel, resolver):
        """What libcst's pass over ``rel`` (:class:`_ImportRewriter`) would find, read from the
        file's :mod:`ast` tree ``tree`` where :mod:`ast` suffices.

        :returns: ``(needs_rewriter, uses)``. ``needs_rewriter`` is True when the file has an
            import naming a disappearing copy (to be rewritten, or a bare dotted import to
            report) or a string literal holding a copy's name that names a disappearing copy as
            a dotted name or a path: a superset of what the rewriter edits or reports, so such
            a file goes through it. Otherwise ``uses`` (``{copy_rel: [(name, line)]}``) are the
            names the file takes from copies that are removed, replaced or links -- from
            ``from <copy> import names`` and from ``alias.name`` after ``import <copy> as
            alias`` -- found in source order, as the rewriter finds them. Imports of the
            canonical module by its own name are left as they are, as the rewriter leaves them.
        """
        out = self.out
        importer_dir = tuple(rel.split("/")[:-1])
        moving = ("duplicate", "replaced", "link")
        uses = {}
        aliases = {}
        events = []
        raw_lines = None

        def use(copies, name, line):
            for c in copies:
                if c.role in moving:
                    uses.setdefault(c.rel, []).append((name, line))

        def disappearing(copies):
            return any(c.rel in out.disappearing for c in copies)

        for node, depth in walk(tree):
            if isinstance(node, (ast.Import, ast.ImportFrom, ast.Attribute)):
                events.append((node.lineno, node.col_offset, depth, node))
            elif isinstance(node, ast.Constant) and isinstance(node.value, str):
                if not any(leaf in node.value for leaf in out.leaves):
                    continue
                if raw_lines is None:
                    raw_lines = data.splitlines(True)
                for value in [node.value] + [v for dummy, v in literal_parts(node, raw_lines)]:
                    copies = (resolver.dotted_string(value.split(":", 1)[0].lstrip("."), importer_dir)
                              + resolver.path_mentions(value, importer_dir))
                    if disappearing(copies):
                        return True, {}
        events.sort(key=lambda e: e[:3])
        for line, dummy, dummy2, node in events:
            if isinstance(node, ast.Attribute):
                if isinstance(node.value, ast.Name) and node.value.id in aliases:
                    use(aliases[node.value.id], node.attr, line)
                continue
            # The dotted names of an import are Attribute chains to libcst, visited before it.
            dotted_names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
            for name in dotted_names:
                parts = name.split(".")
                if len(parts) > 1 and parts[0] in aliases:
                    use(aliases[parts[0]], parts[1], line)
            if isinstance(node, ast.Import):
                for a in node.names:
                    parts = tuple(a.name.split("."))
                    copies = resolver.absolute(parts, importer_dir)
                    if not copies:
                        continue
                    if a.asname:
                        aliases[a.asname] = copies
                    elif len(parts) == 1:
                        aliases[parts[0]] = copies
                    if disappearing(copies) and ".".join(parts) != out.canonical_module:
                        return True, {}
                continue
            level, module, names = import_from_parts(node)
            if level == 0 and module == ("__future__",):
                continue
            if level:
                mod_parts = resolver.package(level, module, importer_dir)
                copies = resolver.relative(level, module, importer_dir) if mod_parts is not None else []
            else:
                mod_parts = module
                copies = resolver.absolute(module, importer_dir)
            if copies:
                if disappearing(copies) and not (level == 0 and ".".join(module) == out.canonical_module):
                    return True, {}
                if "*" not in names:
                    for n in names:
                        use(copies, n, line)
                continue
            if "*" in names or mod_parts is None:
                continue
            for a in node.names:
                sub = tuple(a.name.split("."))
                subs = (resolver.relative(level, module + sub, importer_dir) if level
                        else resolver.absolute(module + sub, importer_dir))
                if subs:
                    aliases[a.asname or sub[-1]] = subs
                    if disappearing(subs):
                        return True, {}
        return False, uses

    def _unparsed(self, rel, data, exc, import_re, word_re):
        out = self.out
        if isinstance(exc, ConsolidationError):
            err = exc
        else:
            err = syntax_error(exc, rel, data) if isinstance(exc, cst.ParserSyntaxError) else ConsolidationError(
                "cannot decode it: %s" % exc, rel, kind="not_decodable")
        err.message = err.message.split(" (libcst:")[0] + (" at %s:%s" % (err.line, err.column) if err.line else "")
        text = data.decode("utf-8", "replace")
        first = None
        for i, line in enumerate(text.split("\n")):
            m = word_re.search(line)
            if not m:
                continue
            if import_re.search(line):
                out.block("a Python file libcst cannot parse imports a base_agent copy", [ConsolidationError(
                    "imports a base_agent copy (%r) but cannot be parsed, so the import cannot be rewritten: %s"
                    % (line.strip()[:80], err.message), rel, i + 1, m.start() + 1, kind="unparsed_importer")])
                return
            if first is None:
                first = (i + 1, m.start() + 1, line.strip()[:120])
        if first is not None:
            out.unparsed.append({"path": rel, "line": first[0], "column": first[1], "kind": "unparsed",
                                 "message": "mentions base_agent but no import of it; left alone (%s)" % err.message,
                                 "text": first[2]})

    def _text_files(self, files, resolver):
        out = self.out
        needles = [leaf.encode("utf-8") for leaf in sorted(out.leaves)]
        for f in files:
            base = f.rel.rsplit("/", 1)[-1]
            if not any(fnmatch.fnmatchcase(base, p) for p in TEXT_FILE_PATTERNS):
                continue
            try:
                if os.path.getsize(f.path) > MAX_TEXT_BYTES:
                    continue
                data = read_bytes(f.path, f.rel)
            except (OSError, ConsolidationError):
                continue
            out.text_files += 1
            if not any(n in data for n in needles):
                continue
            text_dir = tuple(f.rel.split("/")[:-1])
            for i, line in enumerate(data.decode("utf-8", "replace").split("\n")):
                if not any(leaf in line for leaf in out.leaves):
                    continue
                hits = resolver.path_mentions(line, text_dir)
                for m in _TEXT_DOTTED_RE.finditer(line):
                    hits.extend(resolver.dotted_string(m.group(1), text_dir))
                hits = sorted(set(c.rel for c in hits if c.rel in out.disappearing))
                if hits:
                    out.strings.append({"path": f.rel, "line": i + 1, "kind": "text", "text": line.strip()[:160],
                                        "copies": hits})
        out.strings.sort(key=lambda s: (s["path"], s["line"], s["text"]))

    # -- names
    def _check_names(self):
        out = self.out
        chosen = out.chosen
        present = set() if chosen.names.star else chosen.names.bound | set(chosen.names.all_names or ())
        for c in out.copies:
            if c.role not in ("duplicate", "replaced", "link") or c.real == chosen.real:
                continue
            used = self.uses.get(c.rel, [])
            need = set(c.names.public) | set(n for n, _p, _l in used)
            for name in sorted(need & set(c.names.signatures) & set(chosen.names.signatures)):
                if c.names.signatures[name] != chosen.names.signatures[name]:
                    out.signatures.append({"path": c.rel, "name": name, "copy": c.names.signatures[name],
                                           "canonical": chosen.names.signatures[name]})
            lacking = sorted(need - present)
            if not lacking:
                continue
            importers = sorted(set("%s:%d" % (p, ln) for n, p, ln in used if n in lacking))
            out.missing.append({"path": c.rel, "names": lacking, "importers": importers})
        if out.missing and not self.force:
            names = sorted(set(n for m in out.missing for n in m["names"]))
            out.block("other copies define names the canonical lacks: %s%s (force to go on)"
                      % (", ".join(names[:8]), ", ..." if len(names) > 8 else ""), [ConsolidationError(
                          "defines or is imported for names the canonical lacks: %s%s" % (
                              ", ".join(m["names"]), " (used at %s)" % ", ".join(m["importers"][:5]) if m["importers"] else ""),
                          m["path"], kind="missing_names") for m in out.missing])

    # -- the canonical and its package
    def _move(self):
        out = self.out
        chosen = out.chosen
        data = chosen.data
        ranges = out.edit_lines.pop(chosen.rel, [])
        if chosen.rel in self.texts:
            data = self.texts.pop(chosen.rel)[1]
        if chosen.rel != out.canonical_rel:
            module = cst.parse_module(data)
            old_root = max((r for r in out.roots if chosen.parts[:len(r)] == r), key=len, default=())
            module, edits, errors = _absolutize(module, chosen.rel, old_root)
            errors.extend(_sibling_imports(module, chosen.rel, out.canonical_rel, self.tree_files, self.dirs, out.roots))
            if errors:
                out.block("the canonical cannot be moved to %s as it is" % out.canonical_rel, errors)
            moved = "%s -> %s" % (chosen.rel, out.canonical_rel)
            for r in out.rewrites:
                if r["path"] == chosen.rel:
                    r["path"] = moved
            for e in edits:
                out.rewrites.append({"path": moved, "line": e["line"], "old": e["old"], "new": e["new"]})
            ranges = ranges + [(e["line"], e["end_line"]) for e in edits]
            data = module.bytes
            out.removes.append(chosen.rel)
        if data != chosen.data:
            self.texts[out.canonical_rel] = (chosen.data, data)
            out.edit_lines[out.canonical_rel] = ranges
        if data != chosen.data or chosen.rel != out.canonical_rel:
            out.writes[out.canonical_rel] = (data, chosen.mode)
        for c in out.copies:
            if c.role in ("duplicate", "link"):
                out.removes.append(c.rel)
        for rel, (_old, new) in self.texts.items():
            if rel != out.canonical_rel:
                out.writes[rel] = (new, None)
        out.removes.sort()
        out.rewrites.sort(key=lambda r: (r["path"], r["line"]))

    def _packages(self):
        out = self.out
        canon_parts = out.canonical_rel.split("/")
        start = len(self.canon_root)
        for i in range(start + 1, len(canon_parts)):
            init = "/".join(canon_parts[:i] + ["__init__.py"])
            if init not in self.tree_files:
                out.created.append(init)
                out.writes[init] = (INIT_TEXT, None)
        if len(canon_parts) > start + 1:
            top = canon_parts[start]
            for r in out.roots:
                if r != self.canon_root and r + (top,) in self.dirs:
                    out.notes.append("package name %r also exists under python root %s; which one Python loads "
                                     "depends on sys.path order" % (top, "/".join(r) or "."))

    # -- proof
    def prove(self, resolver):
        """Compile every changed Python file, re-scan the planned texts for imports of removed
        modules, and check the line diffs touch only the rewritten import statements.

        A planned text is re-scanned with :mod:`ast` first (:meth:`_read_with_ast`, a superset
        of what the rewriter finds): when that finds no import or string naming a disappearing
        copy, none is left; otherwise the rewriter itself, without rewriting, lists what is left."""
        out = self.out
        problems = []
        for rel in sorted(out.writes):
            new, _mode = out.writes[rel]
            old = self.texts.get(rel, (None, None))[0]
            if old is not None and _compiles(old, rel) is not None:
                continue
            err = _compiles(new, rel)
            if err is not None:
                problems.append(err)
            else:
                out.proof["compiled"] += 1
        removed = set(out.removes)
        for rel in sorted(self.texts):
            old, new = self.texts[rel]
            tree, error = parse_python(new, rel)
            if tree is not None and not self._read_with_ast(tree, new, rel, resolver)[0]:
                remaining = []
            else:
                module = cst.parse_module(new)
                rw = _ImportRewriter(rel, resolver, out, rewrite=False)
                rw._code = module
                MetadataWrapper(module, unsafe_skip_copy=True).visit(rw)
                remaining = rw.remaining
            for r in remaining:
                out.proof["remaining_imports"] += 1
                problems.append(ConsolidationError("the planned text still imports %s, which is removed" % r["text"], rel,
                                                   r["line"], kind="proof"))
            if not _changed_lines_ok(old, new, out.edit_lines.get(rel, [])):
                out.proof["import_lines_only"] = False
                problems.append(ConsolidationError("the rewrite changes lines that are not import statements", rel,
                                                   kind="proof"))
        if removed & set(out.writes):
            problems.append(ConsolidationError("planned both to write and to remove", sorted(removed & set(out.writes))[0],
                                               kind="proof"))
        if problems:
            out.block("the proof before writing failed", problems)


def plan(root, glob=DEFAULT_GLOB, canonical_path=DEFAULT_CANONICAL_PATH, canonical_module=None, python_roots=(),
         test_dirs=DEFAULT_TEST_DIRS, force=False, text_references=True, exclude_paths=()):
    """Plan the base_agent phase on ``root`` (rules in the module doc).

    :param glob: pattern of the copies (:func:`glob_match`).
    :param canonical_path: where the canonical ends up (relative, ``.py``).
    :param canonical_module: its dotted module name; None derives it from the path.
    :param python_roots: ``sys.path`` folders relative to the root; empty for
        :func:`auto_python_roots`.
    :param test_dirs: folder names whose copies are test doubles.
    :param force: go on when copies hold names the canonical lacks.
    :param text_references: also report mentions in non-Python text files.
    :param exclude_paths: absolute folders never walked (backups, reports).
    :returns: a :class:`Plan`; ``block_reason`` set means nothing may be written.
    :raises ValueError: for a bad ``canonical_path``/``canonical_module``.
    :raises ImportError: when libcst is missing.
    """
    if not HAS_LIBCST:
        raise ImportError("libcst")
    with cyclic_gc_paused():
        return Planner(root, glob, canonical_path, canonical_module, list(python_roots or ()), test_dirs, force,
                       text_references, exclude_paths).run()
