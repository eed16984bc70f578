# -*- coding: utf-8 -*-
# Copyright (c) 2026 sutazai.consolidation contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Errors raised by the consolidation logic.

Every error that concerns an input file names the file (relative to ``sutazai_root`` when
possible) and, when known, the 1-based line and column, so that modules can report
``path:line:col: message`` and write nothing.
"""

from __future__ import annotations

import ast


class ConsolidationError(Exception):
    """A problem with the platform tree that stops a phase.

    :param message: what is wrong, never containing a secret value.
    :param path: the file concerned (str, relative to the root when known) or None.
    :param line: 1-based line number or None.
    :param column: 1-based column number or None.
    :param kind: short machine-readable category, e.g. ``invalid_json``, ``unreadable``,
        ``symlink_loop``, ``not_utf8``, ``changed_since``.
    """

    def __init__(self, message, path=None, line=None, column=None, kind="error"):
        super(ConsolidationError, self).__init__(message)
        self.message = message
        self.path = path
        self.line = line
        self.column = column
        self.kind = kind

    def location(self):
        """Return ``path:line:col`` (the parts that are known), or an empty string."""
        parts = [p for p in (self.path, self.line, self.column) if p is not None]
        return ":".join(str(p) for p in parts)

    def __str__(self):
        loc = self.location()
        return "%s: %s" % (loc, self.message) if loc else self.message

    def as_dict(self):
        """Return the error as a JSON-safe dict: path, line, column, kind, message."""
        return {
            "path": self.path,
            "line": self.line,
            "column": self.column,
            "kind": self.kind,
            "message": self.message,
        }


def python_too_deep(source, display):
    """:func:`too_deep` for a Python file (``source`` str or bytes) nested deeper than Python's
    own parser follows (RecursionError, MemoryError, more than 200 nested brackets), else None.

    Call it before handing a file of the tree to libcst: libcst's native parser has no such
    guard and crashes the process (segmentation fault) or runs for minutes on such input."""
    try:
        ast.parse(source)
    except (RecursionError, MemoryError):
        return too_deep(display, "Python file")
    except SyntaxError as exc:
        if "too many nested" in str(exc.msg or ""):
            return too_deep(display, "Python file")
    except (ValueError, TypeError):
        pass
    return None


def too_deep(path, what="document"):
    """The error for a document nested deeper than its parser can follow (Python's JSON and
    YAML readers recurse once per level and stop with RecursionError): kind ``too_deep``,
    naming ``path``. Callers catch RecursionError around the parse and raise this instead."""
    return ConsolidationError("%s is nested too deeply to parse" % what, path, kind="too_deep")
