# -*- coding: utf-8 -*-
# Copyright (c) 2026 sutazai.consolidation contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Reading Python files of the tree with the standard library's parser (:mod:`ast`).

The phases that only look at Python code (which files are shims, which files import a module)
parse with :func:`parse_python`; libcst, whose concrete syntax tree keeps every byte, is used only
for the files a phase rewrites. :mod:`ast` reads the grammar of the Python running the module
(3.11 on the supported controllers); a file it cannot parse is reported, never guessed at.
"""

from __future__ import annotations

import ast
import contextlib
import gc
import io
import re
import tokenize

from ansible_collections.sutazai.consolidation.plugins.module_utils._errors import ConsolidationError, too_deep

DEFINITION_RE = re.compile(rb"^(?:async[ \t]+def|def|class)[ \t]+[A-Za-z_]|^@[ \t]*[A-Za-z_]", re.M)
"""A line at column 0 that opens a function or class definition or a decorator (bytes). A file
holding one defines something at module level -- unless the line is inside a multi-line string,
so callers use it only to rule files out where ruling out is the safe side."""


@contextlib.contextmanager
def cyclic_gc_paused():
    """Pause Python's cyclic garbage collector inside the ``with`` block (the one it was in
    before is restored after).

    A phase that parses thousands of files allocates millions of tree nodes; each burst of
    allocations sets off a collection, and each full collection walks every object the phase
    holds, so the time spent grows faster than the tree (a third of the work of the scripts
    and base_agent phases on a tree ten times the real one). Syntax trees, texts and plans hold
    no reference cycle and are freed by reference counting whatever the collector does; the few
    cycles made inside the block wait for the collector's next run after it."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def parse_python(raw, rel):
    """Parse the bytes ``raw`` of the tree file ``rel`` (PEP 263 encoding cookie honoured).

    :returns: ``(module, None)`` with an :class:`ast.Module`, or ``(None, error)`` with a
        :class:`ConsolidationError` naming ``rel``: kind ``syntax`` (line and column 1-based,
        from Python's parser, when it gives them), ``not_decodable`` (bytes not in the file's
        encoding, unknown encoding) or ``too_deep`` (nesting beyond the parser's limits).
    """
    try:
        return ast.parse(raw, filename=rel), None
    except (RecursionError, MemoryError):
        return None, too_deep(rel, "Python file")
    except SyntaxError as exc:
        msg = str(exc.msg or "invalid syntax")
        if "too many nested" in msg:
            return None, too_deep(rel, "Python file")
        if "unicode error" in msg or "codec can't decode" in msg or "encoding" in msg:
            return None, ConsolidationError("cannot decode it: %s" % msg, rel, kind="not_decodable")
        return None, ConsolidationError("cannot parse Python: %s" % msg, rel, exc.lineno, exc.offset, kind="syntax")
    except (ValueError, TypeError) as exc:  # NUL bytes (Python 3.11), unusable source
        return None, ConsolidationError("cannot parse Python: %s" % exc, rel, kind="syntax")


def dotted(node):
    """The dotted name of an ``ast`` Name/Attribute chain as a list of str; ``[]`` for None;
    None for any other expression (a call, a subscript...)."""
    if node is None:
        return []
    if isinstance(node, ast.Name):
        return [node.id]
    if isinstance(node, ast.Attribute):
        head = dotted(node.value)
        return None if head is None else head + [node.attr]
    return None


def string_value(node):
    """The str value of a string literal node (adjacent literals joined, as Python does), else
    None (bytes, f-strings, any other expression)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    return None


def import_from_parts(node):
    """``(level, module_parts, names)`` of an :class:`ast.ImportFrom`: ``names`` the imported
    names as written (``("*",)`` for a star import)."""
    module = tuple(node.module.split(".")) if node.module else ()
    return node.level, module, tuple(a.name for a in node.names)


def bound_names(node):
    """Names an :class:`ast.Import` / :class:`ast.ImportFrom` binds in the module namespace."""
    out = []
    for a in node.names:
        if a.asname is not None:
            out.append(a.asname)
        elif isinstance(node, ast.Import):
            out.append(a.name.split(".")[0])
        elif a.name != "*":
            out.append(a.name)
    return out


def literal_parts(node, raw_lines):
    """The literals a str :class:`ast.Constant` is made of, as ``(line, value)`` pairs.

    Adjacent literals (``"app.core" ".config"``) are one Constant to :mod:`ast`; they are split
    again here by tokenizing the node's source text (``raw_lines``: the file's bytes split on
    newlines, keeping them), so each literal is judged on its own, as it is written. A node
    whose source cannot be read back (positions inside an f-string) counts as one literal.
    """
    value = node.value
    end = getattr(node, "end_lineno", None)
    if end is None or end - node.lineno > 10000:
        return [(node.lineno, value)]
    lines = raw_lines[node.lineno - 1:end]
    if not lines:
        return [(node.lineno, value)]
    if len(lines) == 1:
        seg = lines[0][node.col_offset:node.end_col_offset]
    else:
        seg = lines[0][node.col_offset:] + b"".join(lines[1:-1]) + lines[-1][:node.end_col_offset]
    if seg.count(b'"') + seg.count(b"'") <= 2:  # one short-quoted literal
        return [(node.lineno, value)]
    try:
        text = seg.decode("utf-8")
        toks = [t for t in tokenize.generate_tokens(io.StringIO(text).readline) if t.type == tokenize.STRING]
        if len(toks) < 2:
            return [(node.lineno, value)]
        out = []
        for t in toks:
            part = ast.literal_eval(t.string)
            if isinstance(part, str):
                out.append((node.lineno + t.start[0] - 1, part))
        if "".join(v for dummy, v in out) != value:  # positions did not lead back to this literal
            return [(node.lineno, value)]
        return out
    except (tokenize.TokenError, SyntaxError, ValueError, UnicodeDecodeError, IndentationError):
        return [(node.lineno, value)]


def walk(module):
    """Yield ``(node, depth)`` for every node of ``module`` (pre-order; depth 0 for the module),
    leaving out the literal text parts of f-strings: only the expressions inside the braces are
    visited, the text of an f-string is not a plain string literal. Children come in
    :func:`ast.iter_child_nodes` order; sort on ``(lineno, col_offset, depth)`` for source order."""
    stack = [(module, 0)]
    while stack:
        node, depth = stack.pop()
        yield node, depth
        if isinstance(node, ast.JoinedStr):
            stack.extend((v, depth + 1) for v in node.values if isinstance(v, ast.FormattedValue))
        else:
            stack.extend((c, depth + 1) for c in ast.iter_child_nodes(node))
