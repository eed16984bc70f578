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


def _cell(value):
    return "-" if value is None else str(value)


def table_rows(summaries):
    """Flatten phase summaries into ``[phase, status, item, before, after]`` string rows."""
    rows = []
    for s in summaries or []:
        phase = s.get("phase", "?")
        status = s.get("status", "?")
        items = s.get("rows") or []
        if not items:
            rows.append([phase, status, s.get("reason", "") or "-", "-", "-"])
        for r in items:
            rows.append([phase, status, _cell(r.get("item")), _cell(r.get("before")), _cell(r.get("after"))])
        if status == "blocked" and items:
            rows.append([phase, status, s.get("reason", ""), "-", "-"])
    return rows


def render_table(summaries, title="SutazAI consolidation summary"):
    """Return the summary as a fixed-width text table (list of str lines)."""
    header = ["Phase", "Status", "Item", "Before", "After"]
    rows = table_rows(summaries)
    widths = [max([len(header[i])] + [len(r[i]) for r in rows]) for i in range(len(header))]
    widths[2] = min(widths[2], 100)

    def fmt(r):
        cells = [r[i][:widths[i]] if i == 2 else r[i] for i in range(len(r))]
        return " | ".join(c.ljust(widths[i]) if i < 3 else c.rjust(widths[i]) for i, c in enumerate(cells)).rstrip()

    sep = "-+-".join("-" * w for w in widths)
    lines = [title, fmt(header), sep]
    lines.extend(fmt(r) for r in rows)
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
