# -*- coding: utf-8 -*-
# Copyright (c) 2026 sutazai.consolidation contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Errors raised by the consolidation logic.

Every error that concerns an input file names the file (relative to ``sutazai_root`` when
possible) and, when known, the 1-based line and column, so that modules can report
``path:line:col: message`` and write nothing.
"""

from __future__ import annotations


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
