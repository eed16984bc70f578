# -*- coding: utf-8 -*-
# Copyright (c) 2026 sutazai.consolidation contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The run summary: a before/after table built from the ``summary`` each phase returns.

A phase summary is ``{"phase": str, "status": "changed|unchanged|blocked|skipped",
"reason": str (optional), "rows": [{"item": str, "before": int|str, "after": int|str}],
"details": [section, ...] (optional), "files": [{"path", "action"}] (the files the phase
changes or would change), "decisions": [str] (optional), "warnings": [str] (optional)}``.

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
ROLE_PREFIX = {"backup": "backup_", "agents": "agents_", "env": "env_", "secrets": "env_", "services": "services_", "config": "config_",
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


PHASES = ("backup", "agents", "env", "secrets", "services", "config", "requirements", "dockerfiles", "scripts",
          "terms", "base_agent")
"""The phases, in the play's order: the backup of the running platform's data, then the ten that
change the tree; the report has a section for each (``not run`` when the play's tags left it out)."""

REPORT_FORMAT = 1
"""Version of the JSON report layout (``schemas/run_report.schema.json`` in the collection)."""

# Sections a person must decide on, by phase: their rows are counted under "Needs your decision".
DECISION_SECTIONS = {
    "secrets": ("Moved keys also reaching env_file consumers", "Compose files with secrets skipped"),
    "services": ("Registry conflicts with compose", "Ports not resolved"),
    "requirements": ("Specifier conflicts", "Conflicts no version satisfies"),
    "dockerfiles": ("Families needing a person's decision", "Dynamic Dockerfile references (not followed)"),
    "base_agent": ("names missing from the canonical", "definitions with other parameters than the canonical's"),
}

# Report sections built from a phase's result keys, for the phases that do not build their own:
# (title, result key, note). A list of dicts becomes a table of its keys; a list of str one column.
RESULT_SECTIONS = {
    "agents": (("Code files that name the registry", "code_files", None),
               ("Invalid files skipped", "invalid", None)),
    "env": (("Env files merged, in order (a later file wins)", "sources", None),
            ("Keys whose value differs between files (the later file wins)", "overrides", None),
            ("Keys assigned twice in one file (the last assignment wins)", "duplicates", None),
            ("Keys whose value references another variable", "interpolated_keys", None),
            ("Compose env_file entries rewritten", "compose_rewrites", None),
            ("Invalid files skipped", "invalid", None)),
    "secrets": (("Literal secrets moved to .env.master (fingerprints, never values)", "moved", None),
                ("Moved keys also reaching env_file consumers", "exposures",
                 "These services also read the key from an env_file: check that they get the value they expect."),
                ("Compose files with secrets skipped", "skipped", None),
                ("Invalid files skipped", "invalid", None)),
    "services": (("Registry conflicts with compose", "conflicts", "Compose wins; fix the registry entry or the compose file."),
                 ("Services in compose that no registry lists", "unregistered", None),
                 ("Ports not resolved", "unresolved_ports", None),
                 ("Registry entries without a compose service", "phantoms", None),
                 ("Registries archived", "archived", None)),
    "config": (("Shim modules (removed or kept, with why)", "shims", None),),
    "requirements": (("Specifier conflicts", "conflicts", "Set requirements_pins or requirements_resolve to decide."),
                     ("Conflicts no version satisfies", "unresolvable", None),
                     ("Conflicts resolved", "resolutions", None),
                     ("Lines not parsed", "unparsed", None),
                     ("Source files kept", "kept_sources", None),
                     ("Notes", "notes", None)),
}

CELL_WIDTH = 300
"""Longest cell text of a section built from a result (characters); longer ones end with ``...``."""


def _result_cell(value):
    if value is None or isinstance(value, (str, int, float, bool)):
        text = _cell(value)
    else:
        text = json.dumps(value, sort_keys=True, default=str)
    return text if len(text) <= CELL_WIDTH else text[:CELL_WIDTH - 3] + "..."


def result_sections(phase, result):
    """The report sections (see module doc) of ``phase`` built from its module ``result`` keys
    listed in :data:`RESULT_SECTIONS`: a list of dicts becomes a table of the union of their
    keys, a dict of dicts a table keyed by name, a list of scalars one column. Absent or empty
    keys give no section. Returns a list of section dicts."""
    out = []
    for title, key, note in RESULT_SECTIONS.get(phase, ()):
        value = result.get(key)
        if not value:
            continue
        if isinstance(value, dict):
            value = [dict({"name": k}, **(v if isinstance(v, dict) else {"value": v})) for k, v in sorted(value.items())]
        if all(isinstance(v, dict) for v in value):
            columns = []
            for v in value:
                columns.extend(k for k in v if k not in columns)
            rows = [[_result_cell(v.get(c)) for c in columns] for v in value]
        else:
            columns = [key.replace("_", " ")]
            rows = [[_result_cell(v)] for v in value]
        section = {"title": title, "columns": columns, "rows": rows}
        if note:
            section["note"] = note
        out.append(section)
    return out


def result_decisions(phase, result):
    """Texts for "Needs your decision" that only a phase's result counts (list of str): the
    agent fields on which the registries disagree."""
    stats = result.get("stats") or {}
    if phase == "agents" and stats.get("conflicts"):
        return ["%d field(s) of %d agent(s) differ between the registries; the merged value follows the source "
                "order. Review them under conflicts in config/agents/master_registry.json."
                % (stats["conflicts"], stats.get("agents_with_conflicts", 0))]
    return []


def _is_decision(phase, section):
    return bool(section.get("decision")) or section.get("title") in DECISION_SECTIONS.get(phase, ())


def needs_decision(summaries):
    """What a person must decide, from the summaries: each blocked phase (its reason, naming the
    role variables) and each non-empty decision section (:data:`DECISION_SECTIONS`) and
    ``decisions`` text of a summary. Returns ``[{"phase", "kind": "blocked|section|note",
    "text"}]``."""
    out = []
    for s in summaries or []:
        phase = s.get("phase", "?")
        if s.get("status") == "blocked":
            reason = with_variables(phase, s.get("reason") or "blocked")
            if " -- " in reason:
                reason = reason.split(" -- ", 1)[0] + " (the errors are listed in the phase's section)"
            out.append({"phase": phase, "kind": "blocked", "text": reason})
        for section in s.get("details") or []:
            if _is_decision(phase, section) and section.get("rows"):
                out.append({"phase": phase, "kind": "section", "text": "%s: %d (see the %s section)"
                            % (section.get("title"), len(section["rows"]), phase)})
        for text in s.get("decisions") or []:
            out.append({"phase": phase, "kind": "note", "text": with_variables(phase, str(text))})
    return out


def report_document(summaries, run_id, root, check_mode=False, rollback_command=None):
    """The run report as one dict, the content of both report files (JSON Schema:
    ``schemas/run_report.schema.json``)::

        {"format": 1, "run_id": str, "root": str, "check_mode": bool,
         "needs_decision": [see needs_decision],
         "phases": [{"phase", "status", "ran": bool, "reason", "rows", "details", "files",
                     "warnings"}],   # one per phase of PHASES (in order), then any other
         "changed_files": [{"path", "action", "phase"}],
         "rollback_command": str or null}

    A phase the play did not run has ``ran: false``, status ``not run`` and empty lists.
    """
    by_phase = {}
    for s in summaries or []:
        by_phase.setdefault(s.get("phase", "?"), []).append(s)
    names = list(PHASES) + [n for n in by_phase if n not in PHASES]
    phases, changed = [], []
    for name in names:
        for s in by_phase.get(name) or [{"phase": name, "status": "not run", "ran": False}]:
            entry = {"phase": name, "status": s.get("status", "?"), "ran": s.get("ran", True),
                     "reason": with_variables(name, s.get("reason") or "") or None,
                     "rows": s.get("rows") or [], "details": s.get("details") or [],
                     "files": s.get("files") or [], "warnings": [str(w) for w in s.get("warnings") or []]}
            phases.append(entry)
            changed.extend({"path": f.get("path"), "action": f.get("action"), "phase": name} for f in entry["files"])
    return {"format": REPORT_FORMAT, "run_id": run_id, "root": root, "check_mode": bool(check_mode),
            "needs_decision": needs_decision(summaries), "phases": phases, "changed_files": changed,
            "rollback_command": rollback_command}


def render_markdown(summaries, run_id, root, check_mode=False, rollback_command=None):
    """Return the report as Markdown text (str, trailing newline): "Needs your decision", the
    summary table, the changed files, how to roll back, then a section per phase (its rows,
    detail sections, files and warnings), from :func:`report_document`."""
    doc = report_document(summaries, run_id, root, check_mode, rollback_command)
    out = ["# SutazAI consolidation run %s" % run_id, "", "- root: `%s`" % root,
           "- mode: %s" % ("check (nothing written)" if check_mode else "real"), "", "## Needs your decision", ""]
    if doc["needs_decision"]:
        out.extend("- **%s** (%s): %s" % (d["phase"], d["kind"], " ".join(d["text"].split()))
                   for d in doc["needs_decision"])
    else:
        out.append("Nothing: no phase is blocked and no finding waits for a person.")
    out.extend(["", "## Summary", "", "| Phase | Status | Item | Before | After |", "|---|---|---|---:|---:|"])
    for r in table_rows(summaries):
        out.append("| " + " | ".join(_md_cell(c) for c in r) + " |")
    out.extend(["", "## Changed files", ""])
    if doc["changed_files"]:
        out.extend(["| Path | Action | Phase |", "|---|---|---|"])
        out.extend("| %s | %s | %s |" % (_md_cell(f["path"]), _md_cell(f["action"]), _md_cell(f["phase"]))
                   for f in doc["changed_files"])
    else:
        out.append("(none)")
    out.extend(["", "## Roll back", ""])
    if doc["rollback_command"] and doc["changed_files"] and not check_mode:
        out.extend(["```", doc["rollback_command"], "```"])
    else:
        out.append("Nothing to roll back: this run wrote nothing to the tree.")
    for ph in doc["phases"]:
        out.extend(["", "## Phase %s: %s" % (ph["phase"], ph["status"]), ""])
        if not ph["ran"]:
            out.append("Not run in this play (left out by its tags).")
            continue
        if ph["reason"]:
            out.extend([" ".join(ph["reason"].split()), ""])
        if ph["rows"]:
            out.extend(["| Item | Before | After |", "|---|---:|---:|"])
            out.extend("| %s | %s | %s |" % (_md_cell(r.get("item")), _md_cell(r.get("before")), _md_cell(r.get("after")))
                       for r in ph["rows"])
        for section in ph["details"]:
            out.extend(render_section(ph["phase"], section))
        if ph["files"]:
            files = {"title": "files", "columns": ["path", "action"],
                     "rows": [[f.get("path"), f.get("action")] for f in ph["files"]]}
            out.extend(render_section(ph["phase"], files))
        if ph["warnings"]:
            out.extend(["", "### %s: warnings" % ph["phase"], ""])
            out.extend("- %s" % " ".join(w.split()) for w in ph["warnings"])
    return "\n".join(out) + "\n"


def _md_cell(value):
    return _cell(value).replace("|", "\\|").replace("\n", " ")


def render_section(phase, section):
    """Return one detail section (see module doc) as Markdown lines: a ``### phase: title``
    heading, the optional note, then a table (or ``(none)`` when it has no rows)."""
    columns = [str(c) for c in section.get("columns") or []]
    out = ["", "### %s: %s" % (phase, section.get("title", "details")), ""]
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


def render_json(summaries, run_id, root, check_mode=False, rollback_command=None):
    """Return the report (:func:`report_document`) as JSON text (sorted keys, trailing newline)."""
    doc = report_document(summaries, run_id, root, check_mode, rollback_command)
    return json.dumps(doc, indent=2, sort_keys=True) + "\n"
