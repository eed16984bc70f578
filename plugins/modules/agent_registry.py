#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026 sutazai.consolidation contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: agent_registry
short_description: Merge the SutazAI agent registries and agent markdown files into one master registry
version_added: 0.1.0
description:
  - Agent-registry phase.
  - >-
    Reads the four JSON registry shapes of SutazAI and every C(.claude/agents/**/*.md) file with
    front matter, merges agents with the same normalized id field by field, and writes
    C(config/agents/master_registry.json) with sorted keys, two-space indent and a trailing
    newline, so the same input always gives the same bytes.
  - >-
    Agent markdown front matter is parsed as YAML, else line by line (C(key: value), C(- item)
    lists); a leading fenced block and a missing closing C(---) are accepted. Files without front
    matter (README.md) are skipped and counted. Sub-folders are recorded as C(categories).
    A symlinked markdown file whose target is also walked is read once, at its target.
  - >-
    Identity: the raw id is C(id), else C(name), else the JSON key (markdown: the front matter
    C(name), else the file stem); it is normalized by stripping, lower-casing, dropping one leading
    C(claude_) or C(container_), turning runs of C(_)/whitespace into C(-), collapsing and
    stripping C(-).
  - >-
    Merge: for each field, the first source in O(precedence) with a non-blank value wins
    (blank: null, empty, or only dashes like the unified registry's C(---) descriptions). Every
    field on which sources disagree is listed under C(conflicts). C(capabilities) and C(tools)
    are always lists of strings (stringified Python lists and comma separated strings are split);
    literal backslash-n sequences in descriptions become newlines. Every agent keeps C(sources)
    (file and key).
  - >-
    Category rule: C(essential) when the essential file defines the agent; else C(experimental)
    when any source marks it (C(experimental: true), or C(status)/C(type)/C(category)/C(tier)/C(stage)
    equal to C(experimental), or an C(experimental) tag); else C(claude) when only markdown files
    define it; else C(specialized).
  - >-
    Points Python code at the master registry by rewriting a module-level
    C(AGENT_REGISTRY_PATH = ...) assignment (libcst; nothing else in the file changes).
  - >-
    Every change is journaled under O(backup_root) before it is made; see
    M(sutazai.consolidation.rollback).
extends_documentation_fragment:
  - sutazai.consolidation.phase
  - sutazai.consolidation.phase.attributes
options:
  sources:
    description:
      - Input paths relative to O(root), by source name. Unset names keep their default;
        an empty string disables a source. Any source may be absent on disk.
    type: dict
    suboptions:
      essential:
        description: 'Essential agents, shaped C({"agents": [{"id": ...}]}).'
        type: str
        default: config/agents/essential_agents.json
      unified:
        description: 'Unified registry, shaped C({"version": "2.0", "agents": {id: {..., "deployment_info": {...}}}}).'
        type: str
        default: config/agents/unified_agent_registry.json
      agent_registry:
        description: 'Legacy registry, shaped C({"agents": {name: {...}}}).'
        type: str
        default: agents/agent_registry.json
      universal:
        description: Agents under C(initial_agents), with C(model) and C(capabilities) under C(config).
        type: str
        default: config/universal_agents.json
      markdown:
        description: Folder of agent markdown files, walked recursively.
        type: str
        default: .claude/agents
  precedence:
    description: The five source names, highest precedence first.
    type: list
    elements: str
    default: [essential, unified, agent_registry, universal, markdown]
  on_invalid:
    description:
      - V(fail) -- a source file that cannot be read or parsed (malformed JSON, wrong shape,
        non-UTF-8 bytes, unreadable, symlink loop) stops the phase; nothing is written and the
        error names the file, line and column (see O(strict)).
      - V(warn) -- such files are skipped and listed in RV(invalid); the merge goes on without them.
    type: str
    choices: [fail, warn]
    default: fail
  output:
    description: Path of the master registry, relative to O(root).
    type: str
    default: config/agents/master_registry.json
  code_files:
    description:
      - Python files (relative to O(root)) whose module-level O(code_variable) assignment is
        rewritten to point at the master registry. Missing files and files without the
        assignment are reported in RV(code_files), not changed.
    type: list
    elements: str
    default: [backend/app/core/config.py]
  code_variable:
    description: Name of the module-level variable to rewrite in O(code_files).
    type: str
    default: AGENT_REGISTRY_PATH
  code_value:
    description:
      - New value (a string literal) of O(code_variable).
      - Default is the absolute path of the master registry, C(<root>/<output>).
    type: str
  remove_sources:
    description:
      - Remove the merged JSON registry files after writing the master registry (journaled).
        Markdown agent files are never removed.
      - Agents whose JSON source is gone are carried over unchanged from the existing master
        registry on later runs, so a run after removal changes nothing.
    type: bool
    default: false
notes:
  - Parsing 300 markdown files and four registries takes well under a second; see
    C(tests/bench/bench_agents.py).
seealso:
  - module: sutazai.consolidation.rollback
author:
  - SutazAI consolidation team (@sutazai)
requirements:
  - PyYAML
  - libcst (only when O(code_files) name existing files)
"""

EXAMPLES = r"""
- name: Plan the master registry (no change)
  sutazai.consolidation.agent_registry:
    root: /opt/sutazaiapp
  check_mode: true
  diff: true

- name: Merge, with markdown winning over the old JSON registry
  sutazai.consolidation.agent_registry:
    root: /opt/sutazaiapp
    precedence: [essential, unified, markdown, agent_registry, universal]
    on_invalid: warn
    code_files:
      - backend/app/core/config.py
      - backend/ai_agents/orchestrator.py
"""

RETURN = r"""
blocked:
  description: True when the phase could not proceed safely and changed nothing (O(strict=false)).
  returned: always
  type: bool
master_registry:
  description: Absolute path of the master registry.
  returned: always
  type: str
  sample: /opt/sutazaiapp/config/agents/master_registry.json
stats:
  description: Counts from the merge.
  returned: when not blocked
  type: dict
  contains:
    json_files:
      description: JSON registry files read.
      type: int
    markdown_files:
      description: Agent markdown files read (with or without front matter).
      type: int
    markdown_agents:
      description: Markdown files read as agents (those with front matter).
      type: int
    markdown_without_front_matter:
      description: Markdown files without front matter (skipped, listed in RV(skipped_files)).
      type: int
    markdown_line_parsed:
      description: Markdown files whose front matter is not valid YAML or not closed, read line by line.
      type: int
    raw_entries:
      description: Agent entries over all sources, before agents with the same normalized id are merged.
      type: int
    agents:
      description: Agents in the master registry.
      type: int
    conflicts:
      description: Fields on which the sources of an agent disagree, over all agents.
      type: int
    agents_with_conflicts:
      description: Agents with at least one such field.
      type: int
    carried_over:
      description: >-
        Agents carried over unchanged from the existing master registry because their JSON source
        file is gone (after O(remove_sources)).
      type: int
    invalid_files:
      description: Source files skipped as invalid (O(on_invalid=warn)).
      type: int
    per_category:
      description: Agents per category.
      type: dict
      contains:
        essential:
          description: Agents the essential file defines.
          type: int
        specialized:
          description: Agents of no other category.
          type: int
        claude:
          description: Agents only markdown files define.
          type: int
        experimental:
          description: Agents a source marks experimental.
          type: int
  sample:
    json_files: 4
    markdown_files: 296
    markdown_agents: 286
    markdown_without_front_matter: 10
    markdown_line_parsed: 178
    raw_entries: 649
    agents: 314
    conflicts: 191
    agents_with_conflicts: 90
    carried_over: 0
    invalid_files: 0
    per_category: {essential: 3, specialized: 256, claude: 55, experimental: 0}
changes:
  description: Files created, modified or deleted (or that would be, in check mode).
  returned: always
  type: list
  elements: dict
  contains:
    path:
      description: Path of the file, relative to O(root).
      type: str
    action:
      description: C(create), C(modify), C(delete) or C(relink) (a symlink made or pointed elsewhere).
      type: str
      sample: create
  sample: [{path: config/agents/master_registry.json, action: create}]
code_files:
  description: Result per O(code_files) entry, in option order.
  returned: always
  type: list
  elements: dict
  contains:
    path:
      description: The O(code_files) entry, relative to O(root).
      type: str
    status:
      description: >-
        C(changed) (the assignment is rewritten; in check mode, would be), C(unchanged) (it already
        holds the value), C(missing) (no module-level O(code_variable) assignment), C(absent) (no
        such file) or C(invalid) (the file cannot be read or libcst cannot parse it).
      type: str
      sample: changed
    message:
      description: Why the file could not be used, with line and column when known.
      returned: when the status is C(invalid)
      type: str
  sample: [{path: backend/app/core/config.py, status: changed}]
invalid:
  description: Files that could not be read or parsed.
  returned: always
  type: list
  elements: dict
  contains:
    path:
      description: The file or folder, relative to O(root).
      type: str
    line:
      description: 1-based line of the problem; null or absent when unknown.
      type: int
    column:
      description: 1-based column of the problem; null or absent when unknown.
      type: int
    kind:
      description: >-
        Short machine-readable category, for example C(invalid_json), C(invalid_shape), C(not_utf8),
        C(unreadable), C(symlink_loop), C(outside_root) or C(too_deep).
      type: str
    message:
      description: What is wrong; never holds a secret value.
      type: str
skipped_files:
  description: Files and tree entries not read, e.g. markdown without front matter, symlinks read at their target.
  returned: always
  type: list
  elements: dict
  contains:
    path:
      description: >-
        The file or folder, relative to O(root); a name that is not valid UTF-8 is shown with
        C(\\xNN) escapes.
      type: str
    reason:
      description: >-
        Why it was not read, for example C(symlink loop), C(symlink points outside the root) or
        C(virtualenv).
      type: str
warnings_detail:
  description: Per-file notes, e.g. front matter read line by line, duplicate JSON keys, tree entries not read.
  returned: always
  type: list
  elements: dict
  contains:
    path:
      description: The file concerned, relative to O(root).
      type: str
    message:
      description: The note.
      type: str
      sample: front matter is not valid YAML; read line by line
journal:
  description: Path of the run's journal manifest when changes were made, else null.
  returned: always
  type: str
summary:
  description: The phase summary for the run report (M(sutazai.consolidation.run_report)).
  returned: always
  type: dict
  contains:
    phase:
      description: The phase name.
      type: str
      sample: agents
    status:
      description: C(would change) (check mode), C(changed), C(unchanged) or C(blocked).
      type: str
      sample: would change
    reason:
      description: >-
        Why the phase is blocked, followed by C( -- ) and the errors it found.
      returned: when blocked
      type: str
    rows:
      description: Rows of the summary table, in display order; empty when the phase stopped before counting.
      type: list
      elements: dict
      contains:
        item:
          description: What the row counts.
          type: str
        before:
          description: The value before the phase (int, or str such as C(3 (2)), or C(-) for no value).
          type: raw
        after:
          description: The value after the phase (in check mode, what it would be).
          type: raw
    details:
      description: >-
        Report sections built from RV(code_files) and RV(invalid) (absent or empty lists give no
        section).
      returned: when not blocked
      type: list
      elements: dict
      contains:
        title:
          description: Title of the section.
          type: str
        columns:
          description: Column headings.
          type: list
          elements: str
        rows:
          description: Table rows, one list of cells (str, int, float or null) per row; never secret values.
          type: list
          elements: list
        note:
          description: Text shown above the table.
          returned: when the section has one
          type: str
    files:
      description: The files the phase changes (in check mode, would change), as in RV(changes).
      returned: when not blocked
      type: list
      elements: dict
      contains:
        path:
          description: Path of the file, relative to O(root).
          type: str
        action:
          description: C(create), C(modify), C(delete) or C(relink).
          type: str
    decisions:
      description: >-
        Findings a person must review, for example the agent fields on which the registries disagree.
      returned: when sources disagree on a field
      type: list
      elements: str
    warnings:
      description: >-
        The whole text of every warning the module printed (the console shows each on one
        shortened line).
      returned: when the module warned
      type: list
      elements: str
errors:
  description: When blocked, the errors that stopped the phase.
  returned: when blocked
  type: list
  elements: dict
  contains:
    path:
      description: The file or folder, relative to O(root).
      type: str
    line:
      description: 1-based line of the problem; null or absent when unknown.
      type: int
    column:
      description: 1-based column of the problem; null or absent when unknown.
      type: int
    kind:
      description: >-
        Short machine-readable category, for example those of RV(invalid), or C(outside_root) for a
        change that would act outside the root through a symlink.
      type: str
    message:
      description: What is wrong; never holds a secret value.
      type: str
"""

import os
import traceback

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.sutazai.consolidation.plugins.module_utils import _agents
from ansible_collections.sutazai.consolidation.plugins.module_utils._changes import ChangeSet
from ansible_collections.sutazai.consolidation.plugins.module_utils._phase import (
    PHASE_ARGUMENT_SPEC, blocked, check_root, finish, phase_paths)
from ansible_collections.sutazai.consolidation.plugins.module_utils._errors import ConsolidationError
from ansible_collections.sutazai.consolidation.plugins.module_utils._fileio import decode_text, read_bytes
from ansible_collections.sutazai.consolidation.plugins.module_utils._tree import safe_join

PHASE = "agents"


def _code_rewrites(root, code_files, variable, value, changes):
    results = []
    for rel in code_files:
        path = safe_join(root, rel)
        if not os.path.isfile(path):
            results.append({"path": rel, "status": "absent"})
            continue
        try:
            raw = read_bytes(path, rel)
            new, status = _agents.rewrite_registry_path(decode_text(raw, rel), value, variable)
        except ConsolidationError as exc:
            exc.path = rel
            results.append({"path": rel, "status": "invalid", "message": str(exc)})
            continue
        if status == "changed":
            data = new.encode("utf-8")
            if b"\r\n" in raw:
                data = data.replace(b"\n", b"\r\n")
            if raw.startswith(b"\xef\xbb\xbf"):
                data = b"\xef\xbb\xbf" + data
            changes.write(rel, data)
        results.append({"path": rel, "status": status})
    return results


def _rows(stats, n_json, remove_sources, code_results, n_invalid):
    kept = "" if remove_sources or not n_json else " (+%d sources kept)" % n_json
    rows = [
        {"item": "Agent registry files (JSON)", "before": n_json, "after": "1%s" % kept},
        {"item": "Agent markdown files read", "before": stats["markdown_files"], "after": stats["markdown_files"]},
        {"item": "Agent entries -> agents", "before": stats["raw_entries"], "after": stats["agents"]},
    ]
    for cat in _agents.CATEGORIES:
        rows.append({"item": "Agents: %s" % cat, "before": "-", "after": stats["per_category"][cat]})
    rows.append({"item": "Conflicting fields (agents)", "before": "-",
                 "after": "%d (%d)" % (stats["conflicts"], stats["agents_with_conflicts"])})
    rows.append({"item": "Files skipped (no front matter)", "before": stats["markdown_without_front_matter"], "after": "-"})
    rows.append({"item": "Invalid files skipped", "before": n_invalid, "after": "-"})
    pointed = sum(1 for r in code_results if r["status"] in ("changed", "unchanged"))
    rows.append({"item": "Code pointed at master registry", "before": "-", "after": "%d/%d" % (pointed, len(code_results))})
    return rows


def main():
    argument_spec = dict(PHASE_ARGUMENT_SPEC)
    argument_spec.update(
        sources=dict(type="dict", options=dict(
            essential=dict(type="str", default=_agents.DEFAULT_SOURCES["essential"]),
            unified=dict(type="str", default=_agents.DEFAULT_SOURCES["unified"]),
            agent_registry=dict(type="str", default=_agents.DEFAULT_SOURCES["agent_registry"]),
            universal=dict(type="str", default=_agents.DEFAULT_SOURCES["universal"]),
            markdown=dict(type="str", default=_agents.DEFAULT_SOURCES["markdown"]),
        )),
        precedence=dict(type="list", elements="str", default=list(_agents.DEFAULT_PRECEDENCE)),
        on_invalid=dict(type="str", choices=["fail", "warn"], default="fail"),
        output=dict(type="str", default=_agents.DEFAULT_OUTPUT),
        code_files=dict(type="list", elements="str", default=["backend/app/core/config.py"]),
        code_variable=dict(type="str", default="AGENT_REGISTRY_PATH"),
        code_value=dict(type="str"),
        remove_sources=dict(type="bool", default=False),
    )
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    if not _agents.HAS_YAML:
        module.fail_json(msg=missing_required_lib("PyYAML"))
    p = module.params
    root, backup_root, report_dir = phase_paths(p)
    check_root(module, root)
    output_abs = safe_join(root, p["output"])
    base = dict(master_registry=output_abs, changes=[], code_files=[], invalid=[], skipped_files=[],
                warnings_detail=[], journal=None)
    try:
        plan = _agents.build_registry(
            root,
            sources=p["sources"] or {},
            precedence=p["precedence"],
            on_invalid=p["on_invalid"],
            exclude_paths=(backup_root, report_dir),
            output=p["output"],
        )
    except ValueError as exc:
        module.fail_json(msg=str(exc), **base)
    base.update(invalid=plan.invalid, skipped_files=plan.skipped, warnings_detail=plan.warnings)
    if plan.document is None:
        blocked(module, PHASE, "%d agent source file(s) could not be read or parsed (on_invalid=fail)"
                % len(plan.invalid), plan.invalid, **base)

    changes = ChangeSet(root)
    changes.write(p["output"], plan.text.encode("utf-8"), mode=None)
    code_value = p["code_value"] or output_abs
    try:
        code_results = _code_rewrites(root, p["code_files"], p["code_variable"], code_value, changes)
    except ImportError:
        module.fail_json(msg=missing_required_lib("libcst"), exception=traceback.format_exc(), **base)
    srcs = dict(_agents.DEFAULT_SOURCES)
    srcs.update(dict((k, v) for k, v in (p["sources"] or {}).items() if v is not None))
    json_read = [srcs[n] for n in _agents.JSON_SOURCES if srcs.get(n) and srcs[n] in plan.input_files]
    if p["remove_sources"]:
        for rel in json_read:
            changes.remove(rel)

    for w in plan.warnings:
        if "line by line" not in w["message"]:
            module.warn("%s: %s" % (w["path"], w["message"]))
    if plan.stats["markdown_line_parsed"]:
        module.warn("%d agent markdown file(s) have front matter that is not valid YAML or not closed; "
                    "read line by line (see warnings_detail)" % plan.stats["markdown_line_parsed"])
    for e in plan.invalid:
        module.warn("skipped invalid file (on_invalid=warn): %s" % ConsolidationError(
            e["message"], e["path"], e["line"], e["column"]))
    for r in code_results:
        if r["status"] in ("missing", "invalid"):
            module.warn("%s: %s not rewritten (%s)" % (r["path"], p["code_variable"], r.get("message", "no module-level assignment")))

    result = dict(base)
    result.update(
        changed=bool(len(changes)),
        blocked=False,
        stats=plan.stats,
        changes=changes.summary(),
        code_files=code_results,
    )
    n_json = plan.stats["json_files"]
    finish(module, PHASE, changes, root, backup_root, result,
           _rows(plan.stats, n_json, p["remove_sources"], code_results, len(plan.invalid)), base)


if __name__ == "__main__":
    main()
