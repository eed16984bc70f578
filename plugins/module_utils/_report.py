# -*- coding: utf-8 -*-
# Copyright (c) 2026 sutazai.consolidation contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The run summary: a before/after table built from the ``summary`` each phase returns.

A phase summary is ``{"phase": str, "status": "changed|unchanged|blocked|skipped",
"reason": str (optional), "rows": [{"item": str, "before": int|str, "after": int|str}],
"details": [section, ...] (optional)}``.

A detail section is ``{"title": str, "columns": [str, ...], "rows": [[cell, ...], ...],
"note": str (optional)}``: a table too long for the console (e.g. the scripts inventory).
It goes to the Markdown and JSON reports only, never to the console table. Cells are
str/int/float/None; like the rows, they never hold secret values.
"""

from __future__ import annotations

import json
import re
import textwrap


def _cell(value):
    return "-" if value is None else str(value)


TABLE_WIDTH = 100
"""Widest line of :func:`render_table` (characters): printed inside a callback's list (indent and
quotes), a line stays within 120 columns."""

# Role variable prefix of each phase: a blocked reason names ``on_invalid=fail``, the user sets
# ``<prefix>on_invalid``.
ROLE_PREFIX = {"agents": "agents_", "env": "env_", "secrets": "env_", "services": "services_", "config": "config_",
               "config (connections)": "config_connection_", "requirements": "requirements_",
               "dockerfiles": "dockerfiles_", "scripts": "scripts_", "terms": "terms_", "base_agent": "base_agent_"}
_OPTION_RE = re.compile(r"(?<![\w.-])(on_invalid|force|resolve|pins|strict|runtime_values|merge_duplicates|"
                        r"archive_unreferenced|remove_shims|remove_sources|keep_sources|move_secrets)=(\w+)")


def with_variables(phase, text):
    """``text`` with each module option written ``option=value`` (``on_invalid=fail``) named as
    the role variable a user sets (``services_on_invalid=fail``); str."""
    prefix = ROLE_PREFIX.get(phase)
    if not prefix or not text:
        return text
    return _OPTION_RE.sub(lambda m: "%s%s=%s" % (prefix, m.group(1), m.group(2)), text)


def one_line(text, limit=200, pointer=" ... (the whole text is in the run report)"):
    """``text`` on one line (runs of white space, newlines included, become one space) of at most
    ``limit`` characters: a longer text is cut at the last word boundary that leaves room for
    ``pointer``, which is appended. Returns str."""
    flat = " ".join(str(text).split())
    if len(flat) <= limit:
        return flat
    room = limit - len(pointer)
    cut = flat.rfind(" ", 0, room + 1)
    return flat[:cut if cut > room // 2 else room].rstrip() + pointer


def table_rows(summaries, full=True):
    """Flatten phase summaries into ``[phase, status, item, before, after]`` string rows; a
    blocked phase's reason names the role variables (:func:`with_variables`). ``full`` false
    (the console): a reason ends before its `` -- `` list of errors, with a pointer to the
    report, where the whole list is."""
    rows = []
    for s in summaries or []:
        phase = s.get("phase", "?")
        status = s.get("status", "?")
        items = s.get("rows") or []
        reason = with_variables(phase, s.get("reason", "") or "")
        if not full and " -- " in reason:
            reason = reason.split(" -- ", 1)[0] + " (the errors are listed in the run report)"
        if not items:
            rows.append([phase, status, reason or "-", "-", "-"])
        for r in items:
            rows.append([phase, status, _cell(r.get("item")), _cell(r.get("before")), _cell(r.get("after"))])
        if status == "blocked" and items:
            rows.append([phase, status, reason, "-", "-"])
    return rows


def _wrap(text, width):
    return textwrap.wrap(text, width, break_long_words=True, break_on_hyphens=False) or [""]


def render_table(summaries, title="SutazAI consolidation summary", width=TABLE_WIDTH):
    """Return the summary as a fixed-width text table (list of str lines, none longer than
    ``width``): the item column takes the room the others leave, and a longer item wraps at word
    boundaries onto continuation lines (nothing is cut); the title wraps too."""
    header = ["Phase", "Status", "Item", "Before", "After"]
    rows = table_rows(summaries, full=False)
    widths = [max([len(header[i])] + [len(r[i]) for r in rows]) for i in range(len(header))]
    for i, cap in ((0, 20), (1, 12), (3, 10), (4, 10)):
        widths[i] = min(widths[i], cap)
    widths[2] = max(20, min(widths[2], width - sum(widths[i] for i in (0, 1, 3, 4)) - 12))

    def fmt(cells):
        return " | ".join(c.ljust(widths[i]) if i < 3 else c.rjust(widths[i]) for i, c in enumerate(cells)).rstrip()

    lines = _wrap(title, width) + [fmt(header), "-+-".join("-" * w for w in widths)]
    for r in rows:
        cols = [_wrap(c, widths[i]) for i, c in enumerate(r)]
        for k in range(max(len(c) for c in cols)):
            lines.append(fmt([c[k] if k < len(c) else "" for c in cols]))
    if not rows:
        lines.append("(no phase ran)")
    return lines


def render_markdown(summaries, run_id, root, check_mode=False):
    """Return the report as Markdown text (str, trailing newline)."""
    out = ["# SutazAI consolidation run %s" % run_id, "", "- root: `%s`" % root,
           "- mode: %s" % ("check (nothing written)" if check_mode else "real"), "",
           "| Phase | Status | Item | Before | After |", "|---|---|---|---:|---:|"]
    for r in table_rows(summaries):
        out.append("| " + " | ".join(_md_cell(c) for c in r) + " |")
    for s in summaries or []:
        for section in s.get("details") or []:
            out.extend(render_section(s.get("phase", "?"), section))
        if s.get("warnings"):
            out.extend(["", "## %s: warnings" % s.get("phase", "?"), ""])
            out.extend("- %s" % " ".join(str(w).split()) for w in s["warnings"])
    return "\n".join(out) + "\n"


def _md_cell(value):
    return _cell(value).replace("|", "\\|").replace("\n", " ")


def render_section(phase, section):
    """Return one detail section (see module doc) as Markdown lines: a ``## phase: title``
    heading, the optional note, then a table (or ``(none)`` when it has no rows)."""
    columns = [str(c) for c in section.get("columns") or []]
    out = ["", "## %s: %s" % (phase, section.get("title", "details")), ""]
    if section.get("note"):
        out.extend([str(section["note"]), ""])
    rows = section.get("rows") or []
    if not rows or not columns:
        out.append("(none)")
        return out
    out.append("| " + " | ".join(_md_cell(c) for c in columns) + " |")
    out.append("|" + "---|" * len(columns))
    for r in rows:
        cells = list(r) + [None] * (len(columns) - len(r))
        out.append("| " + " | ".join(_md_cell(c) for c in cells[:len(columns)]) + " |")
    return out


def render_json(summaries, run_id, root, check_mode=False):
    """Return the report as JSON text (sorted keys, trailing newline)."""
    doc = {"run_id": run_id, "root": root, "check_mode": bool(check_mode), "phases": summaries or []}
    return json.dumps(doc, indent=2, sort_keys=True) + "\n"
