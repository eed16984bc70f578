#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026 sutazai.consolidation contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: requirements_layout
short_description: Merge the scattered pip requirements files into one layout under requirements/
version_added: 0.2.0
description:
  - Requirements phase (seed BACKEND CONFIGURATION CONSOLIDATION, Phase 5).
  - >-
    Finds every requirements file under O(root) (O(patterns)), never C(MANIFEST.in), never inside
    the backup and report folders, virtualenvs (folders holding C(pyvenv.cfg)) or the folders
    named in O(exclude_dirs). A symlinked file whose target is also found is read once.
  - >-
    Parses them the way pip reads requirements files (line continuations, comments, options),
    each requirement with C(packaging) (name, extras, specifiers, markers, C(name @ url)).
    C(-r) includes are read and belong to the including file; C(-c), C(-e), C(--index-url) and the
    other pip options are kept (paths rewritten for the new folder); C(--hash) options stay with
    their requirement. A line that is not a requirement is kept verbatim, commented out, and listed
    in RV(unparsed) with its file and line.
  - >-
    Each file gets a group from O(group_rules) (first matching rule wins; O(extra_group_rules) are
    tried first; no match gives O(default_group)) and the module writes one file per group,
    C(<output_dir>/<group>.txt), always the ones in O(groups). Every file but C(base.txt) starts
    with C(-r base.txt). A package that every group in O(app_groups) needs moves to C(base.txt)
    unless that would make some group conflict; a requirement C(base.txt) already satisfies stays
    in its group file as a comment only.
  - >-
    Default group rules, in order (a pattern without C(/) matches the file name; C(*) stays within
    one folder, C(**/) spans folders): C(*[-_.]dev*), C(dev[-_.]*), C(*[-_.]test*), C(test[-_.s]*),
    C(*[-_.]lint*), C(**/tests/**) -> C(dev); C(*[-_.]prod*), C(prod[-_.u]*) -> C(production);
    C(docker/base/**), C(requirements/*base*), C(requirements/*common*), C(requirements/*core*) -> C(base);
    C(backend/**), C(requirements/*backend*) -> C(backend); C(frontend/**), C(requirements/*frontend*)
    -> C(frontend); C(scripts/**), C(.mcp/**), C(tools/**) -> C(dev) (developer and automation tooling).
    Anything else (C(config/requirements/*.txt), agents, other images) -> O(default_group).
  - >-
    Conflicts: for every group, the specifiers it needs for a package (its own and base's; unmarked
    lines together with each environment marker's lines) must be satisfiable
    (C(SpecifierSet.is_unsatisfiable) of packaging 26); two different direct URLs for one package
    also conflict. Any unresolved conflict means the phase writes nothing at all (no half layout),
    warns once per conflict with the package, files and specifiers, adds summary rows and returns
    RV(blocked=true); with O(strict=true) it fails.
  - >-
    Resolutions, never silent: O(pins) replace every specifier of a package; O(resolve=newest)
    replaces every specifier of each conflicting package by C(==V), V being the highest version any
    file pins with C(==). Both apply to the package in every group and are listed in
    RV(resolutions), in the summary and as a comment above the line in the layout.
  - >-
    Proof before writing: the rendered layout is parsed back and every requirement a source file
    expressed must still be expressed for its group (package, extras, a specifier set allowing only
    versions the original allowed (C(SpecifierSet.is_subset)), marker, URL, hashes), or have a listed
    resolution. A requirement that would be lost blocks the phase. RV(proof) gives the result per
    group and package.
  - >-
    Provenance: each layout line is preceded by C(#   <- file:line: original line) comments. Later
    runs read them back, so requirements whose source files are gone (O(remove_sources)) are carried
    over and a second run writes the same bytes.
  - >-
    Outputs that are also inputs: the layout's own files (first line
    C(# sutazai.consolidation requirements layout:)) are never read as sources, neither in
    O(output_dir) nor through C(-r) (C(-r base.txt) of a layout file is implied, since every layout
    file installs C(base.txt); C(-r) of another layout file is kept as a comment and listed in
    RV(unparsed)). A file at a layout path that is not a layout file yet (a tree with its own
    C(requirements/base.txt), C(dev.txt)...) is read once as a source of its group, proven like any
    other source, and replaced; later runs carry its lines over from the provenance comments, so
    the second run changes nothing. Listed in RV(overwritten).
  - >-
    A file the run keeps (not replaced, not removed) that includes (C(-r), C(--requirement)) or
    constrains (C(-c), C(--constraint)) such an original would silently change meaning. When the
    original is C(base.txt) and the layout's C(base.txt) expresses exactly the same requirements
    (packages, extras, specifier sets, markers, URLs, hashes, options), the reference stays.
    Otherwise the original's content is kept next to it as C(<name>.original.txt) (first line
    C(# sutazai.consolidation requirements original:), never read as a source) and the reference is
    rewritten in place to name that copy (C(-r base.txt) -> C(-r base.original.txt), nothing else
    in the file changes), so the kept file installs exactly what it did; C(-c) lines the layout
    writes for the original name the copy too. Rewrites are listed in RV(rewritten_references) and
    journaled like every change. A reference that cannot be rewritten in place (continued or
    quoted line), a copy whose name is taken, or a file at a layout path that is not a
    requirements source blocks the phase naming the file. Dockerfiles that copy or install a
    replaced original are reported (a warning and RV(overwritten)); they get the layout's file.
  - >-
    Dockerfiles under O(root) that C(COPY)/C(ADD) a requirements file or C(RUN pip install -r) one
    are listed in RV(dockerfile_references) for the Dockerfile phase; they are not changed.
  - >-
    Every change is journaled under O(backup_root) before it is made; see
    M(sutazai.consolidation.rollback).
extends_documentation_fragment:
  - sutazai.consolidation.phase
  - sutazai.consolidation.phase.attributes
  - sutazai.consolidation.path_patterns
options:
  patterns:
    description:
      - Path patterns of the requirements files (see the notes for the syntax).
    type: list
    elements: str
    default: ["*requirements*.txt", "*requirements*.in", "**/requirements/**/*.txt", "**/requirements/**/*.in"]
  exclude_dirs:
    description: Folder names never entered (besides the backup and report folders and virtualenvs).
    type: list
    elements: str
    default: [.git, node_modules, __pycache__, .tox, .mypy_cache, .pytest_cache, backups, backup, site-packages, dist-packages, .venv, venv]
  output_dir:
    description: Folder of the layout, relative to O(root).
    type: str
    default: requirements
  group_rules:
    description:
      - Ordered rules giving each source file its group; the first whose pattern matches wins.
      - Default is the list in the description above.
    type: list
    elements: dict
    suboptions:
      pattern:
        description: Path pattern (same syntax as O(patterns)).
        type: str
        required: true
      group:
        description: Group name (lower-case letters, digits, C(.), C(_), C(-)); the layout file is C(<group>.txt).
        type: str
        required: true
  extra_group_rules:
    description: Rules tried before O(group_rules), to adjust the defaults without restating them.
    type: list
    elements: dict
    default: []
    suboptions:
      pattern:
        description: Path pattern.
        type: str
        required: true
      group:
        description: Group name.
        type: str
        required: true
  default_group:
    description: Group of files no rule matches.
    type: str
    default: production
  groups:
    description: Layout files always written (C(base) is required); groups that only rules name are written too.
    type: list
    elements: str
    default: [base, backend, frontend, dev, production]
  app_groups:
    description: Groups whose common packages move to C(base.txt).
    type: list
    elements: str
    default: [backend, frontend]
  pins:
    description:
      - >-
        Package name -> specifier (for example C({"fastapi": "==0.115.6"})). Replaces every
        specifier (and direct URL) of the package in every group, conflict or not; listed in
        RV(resolutions). Pins naming no requirement are listed in RV(unused_pins).
    type: dict
    default: {}
  resolve:
    description:
      - V(none) -- conflicts block the phase.
      - V(newest) -- each conflicting package gets C(==V), V the highest version any file pins
        with C(==); a package no file pins stays a conflict.
    type: str
    choices: [none, newest]
    default: none
  remove_sources:
    description:
      - After writing the layout, remove the source files (journaled). Files used as C(-c)
        constraints, layout files and files a Dockerfile references are kept (RV(kept_sources)).
    type: bool
    default: false
notes:
  - On the SutazAI v100 corpus (13 files, 401 requirement lines) the module's own work takes well
    under a second; see C(tests/bench).
seealso:
  - module: sutazai.consolidation.rollback
author:
  - SutazAI consolidation team (@sutazai)
requirements:
  - packaging >= 26.3
"""

EXAMPLES = r"""
- name: Plan the requirements layout (no change)
  sutazai.consolidation.requirements_layout:
    root: /opt/sutazaiapp
  check_mode: true
  diff: true

- name: Write the layout; the newest pinned version wins each conflict, fastapi pinned by hand
  sutazai.consolidation.requirements_layout:
    root: /opt/sutazaiapp
    resolve: newest
    pins:
      fastapi: "==0.115.6"
    extra_group_rules:
      - pattern: "agents/**"
        group: production
"""

RETURN = r"""
blocked:
  description: True when the phase could not proceed safely and changed nothing (O(strict=false)).
  returned: always
  type: bool
layout:
  description: Per group, the layout file, the source files, the packages before (distinct names
    in its source files) and the requirement lines written, and other lines (options, editables).
  returned: always
  type: dict
  sample:
    backend:
      file: requirements/backend.txt
      sources: [backend/requirements.txt]
      packages_before: 45
      packages: 10
      other_lines: 0
files:
  description: Source files read (path, group, requirements, includes, unparsed).
  returned: always
  type: list
  elements: dict
  sample: [{path: backend/requirements.txt, group: backend, requirements: 45, includes: [], unparsed: 0}]
conflicts:
  description:
    - Unresolved conflicts, one per package and marker (package, marker, reason C(specifiers) or
      C(urls), groups, requirements of specifier, url and sources C(file:line)).
    - Non-empty means nothing was written.
  returned: always
  type: list
  elements: dict
  sample:
    - package: fastapi
      marker: ""
      reason: specifiers
      groups: [base, backend]
      requirements:
        - {specifier: "==0.104.1", url: null, sources: ["docker/base/base-requirements.txt:1"]}
        - {specifier: "==0.115.6", url: null, sources: ["backend/requirements.txt:6"]}
conflicts_found:
  description: All conflicts in the source files, before O(pins) and O(resolve) (same shape as RV(conflicts)).
  returned: always
  type: list
  elements: dict
resolutions:
  description: Every pin or newest resolution (package, method, specifier, conflict, replaced
    specifiers with their sources).
  returned: always
  type: list
  elements: dict
  sample:
    - package: fastapi
      method: newest
      specifier: "==0.115.6"
      conflict: true
      replaced: [{specifier: "==0.104.1", url: null, sources: ["docker/base/base-requirements.txt:1"]}]
unresolvable:
  description: Conflicting packages O(resolve=newest) could not resolve (no file pins a version).
  returned: always
  type: list
  elements: str
unused_pins:
  description: O(pins) entries that match no requirement.
  returned: always
  type: list
  elements: str
unparsed:
  description: Lines kept verbatim (commented out) because they are not requirements (path, line,
    via, group, text, message).
  returned: always
  type: list
  elements: dict
  sample:
    - path: requirements/requirements-base.txt
      line: 78
      via: null
      group: base
      text: "pytest-Remove Remove Remove Mocks - Only use Real Tests==3.14.0"
      message: "packaging: Expected end or semicolon (after name and no valid version specifier)"
hoisted:
  description: Packages moved to C(base.txt) because every app group needs them.
  returned: always
  type: list
  elements: str
proof:
  description: Per group and package, whether the layout still expresses what the sources asked
    for (status C(kept), C(resolved) or C(lost)), with the sources, the specifiers required and the
    lines written. Empty when the phase is blocked before the proof.
  returned: always
  type: list
  elements: dict
  sample:
    - group: backend
      package: fastapi
      status: kept
      sources: ["backend/requirements.txt:6"]
      required: ["==0.115.6"]
      written: ["requirements/base.txt: fastapi==0.115.6"]
dockerfile_references:
  description: Dockerfile instructions naming requirements files (path, line, instruction
    C(COPY)/C(ADD)/C(RUN), files as written, sources they may name). Reported, not changed.
  returned: always
  type: list
  elements: dict
  sample: [{path: backend/Dockerfile, line: 4, instruction: COPY, files: [requirements.txt], sources: [backend/requirements.txt]}]
overwritten:
  description:
    - Layout paths that held an original file, read as a source (group) or used as constraints
      (constraints_only) before the layout replaces it; preserved_as names the kept copy (or null),
      references lists the files that name it (path, line, option C(-r)/C(-c), action), and
      dockerfile_references the Dockerfile instructions that copy or install it (C(path:line)).
    - Empty once the layout files are in place (later runs).
  returned: always
  type: list
  elements: dict
  sample:
    - path: requirements/base.txt
      group: base
      constraints_only: false
      preserved_as: requirements/base.original.txt
      references: [{path: requirements/prod.txt, line: 6, option: "-r", action: "names the copy requirements/base.original.txt"}]
      dockerfile_references: ["frontend/Dockerfile:8"]
rewritten_references:
  description: C(-r)/C(-c) options of kept files rewritten to the copy of a replaced original
    (path, line, option, old, new).
  returned: always
  type: list
  elements: dict
  sample: [{path: requirements/prod.txt, line: 6, option: include, old: "-r base.txt", new: "-r base.original.txt"}]
kept_sources:
  description: With O(remove_sources), sources not removed and why (path, reason).
  returned: always
  type: list
  elements: dict
notes:
  description: Other findings (path or null, message), e.g. hashes dropped for another version.
  returned: always
  type: list
  elements: dict
skipped_files:
  description: Tree entries not read (path, reason), e.g. symlink loops, symlinks read at their target.
  returned: always
  type: list
  elements: dict
stats:
  description: Counts (sources, layout_files, dockerfiles, included_files, requirement_lines,
    carried_over, unparsed, conflicts_found, conflicts, resolutions, hoisted,
    dockerfile_references, lost, overwritten, preserved, rewritten_references, packages per group).
  returned: always
  type: dict
changes:
  description: Files created, modified or deleted (or that would be, in check mode).
  returned: always
  type: list
  elements: dict
  sample: [{path: requirements/base.txt, action: create}]
journal:
  description: Path of the run's journal manifest when changes were made, else null.
  returned: always
  type: str
summary:
  description: Rows for the run summary table (phase, status, rows of item/before/after).
  returned: always
  type: dict
errors:
  description: When blocked, the errors that stopped the phase (path, line, column, kind, message).
  returned: when blocked
  type: list
  elements: dict
"""


from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.sutazai.consolidation.plugins.module_utils import _redact, _requirements
from ansible_collections.sutazai.consolidation.plugins.module_utils._changes import ChangeSet
from ansible_collections.sutazai.consolidation.plugins.module_utils._common import (
    PHASE_ARGUMENT_SPEC, blocked, check_root, finish, phase_paths)
from ansible_collections.sutazai.consolidation.plugins.module_utils._tree import undecodable_warning

PHASE = _requirements.PHASE
_RULE = dict(pattern=dict(type="str", required=True), group=dict(type="str", required=True))


def _conflict_row(c, resolutions):
    n_lines = sum(len(r["sources"]) for r in c["requirements"])
    after = "blocked"
    for r in resolutions:
        if r["package"] == c["package"]:
            after = "%s (%s)" % (r["specifier"] or "any version", r["method"])
    item = "Conflict: %s%s [%s]" % (c["package"], " ; " + c["marker"] if c["marker"] else "", ", ".join(c["groups"]))
    return {"item": item, "before": "%d specifiers, %d lines" % (len(c["requirements"]), n_lines), "after": after}


def _rows(plan, written, n_removed):
    st = plan.stats
    if not st:  # blocked before anything was counted (a source could not be read)
        return []
    kept = st["sources"] - n_removed
    groups = plan.groups
    rows = [{"item": "Requirements files (sources -> layout)", "before": st["sources"],
             "after": ("%d%s" % (len(groups), " (+%d sources kept)" % kept if kept else "")) if written else "-"},
            {"item": "Requirement lines parsed", "before": st["requirement_lines"], "after": "-"}]
    if st.get("overwritten") or st.get("preserved"):
        rows.append({"item": "Originals at layout paths (read as sources, then replaced)", "before": st["overwritten"],
                     "after": ("%d kept as .original.txt copies, %d reference(s) rewritten"
                               % (len(plan.preserved), st["rewritten_references"])) if written else "-"})
    for g in groups:
        rows.append({"item": "Packages: %s" % groups[g]["file"], "before": groups[g]["packages_before"],
                     "after": groups[g]["packages"] if written else "-"})
    rows.append({"item": "Packages moved to base (every app group needs them)", "before": "-",
                 "after": st["hoisted"] if written else "-"})
    rows.append({"item": "Conflicts (unresolved)", "before": st["conflicts_found"], "after": st["conflicts"]})
    seen = set((c["package"], c["marker"]) for c in plan.all_conflicts)
    for c in plan.all_conflicts + [c for c in plan.conflicts if (c["package"], c["marker"]) not in seen]:
        rows.append(_conflict_row(c, plan.resolutions))
    for r in plan.resolutions:
        if not r["conflict"]:
            rows.append({"item": "Pin: %s" % r["package"], "before": ", ".join(x["specifier"] or "any" for x in r["replaced"]),
                         "after": "%s (pin)" % (r["specifier"] or "any version")})
    rows.append({"item": "Lines kept verbatim (not requirements)", "before": st["unparsed"], "after": st["unparsed"]})
    rows.append({"item": "Dockerfile references (for the Dockerfile phase)", "before": st["dockerfile_references"], "after": "-"})
    rows.append({"item": "Requirements lost (proof)", "before": "-", "after": st["lost"] if plan.proof else "-"})
    return rows


def main():
    argument_spec = dict(PHASE_ARGUMENT_SPEC)
    argument_spec.update(
        patterns=dict(type="list", elements="str", default=list(_requirements.DEFAULT_PATTERNS)),
        exclude_dirs=dict(type="list", elements="str", default=list(_requirements.DEFAULT_EXCLUDE_DIRS)),
        output_dir=dict(type="str", default=_requirements.DEFAULT_OUTPUT_DIR),
        group_rules=dict(type="list", elements="dict", options=_RULE),
        extra_group_rules=dict(type="list", elements="dict", options=_RULE, default=[]),
        default_group=dict(type="str", default=_requirements.DEFAULT_GROUP),
        groups=dict(type="list", elements="str", default=list(_requirements.DEFAULT_GROUPS)),
        app_groups=dict(type="list", elements="str", default=list(_requirements.DEFAULT_APP_GROUPS)),
        pins=dict(type="dict", default={}),
        resolve=dict(type="str", choices=["none", "newest"], default="none"),
        remove_sources=dict(type="bool", default=False),
    )
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    if not _requirements.HAS_PACKAGING:
        module.fail_json(msg=missing_required_lib("packaging>=26.3"))
    p = module.params
    root, backup_root, report_dir = phase_paths(p)
    check_root(module, root)
    rules = list(p["extra_group_rules"] or []) + list(
        _requirements.DEFAULT_GROUP_RULES if p["group_rules"] is None else p["group_rules"])
    base = dict(layout={}, files=[], conflicts=[], conflicts_found=[], resolutions=[], unresolvable=[],
                unused_pins=[], unparsed=[], hoisted=[], proof=[], dockerfile_references=[], kept_sources=[],
                notes=[], skipped_files=[], stats={}, changes=[], journal=None, overwritten=[], rewritten_references=[])
    try:
        plan = _requirements.plan_layout(
            root, patterns=p["patterns"], exclude_dirs=p["exclude_dirs"], exclude_paths=(backup_root, report_dir),
            output_dir=p["output_dir"], group_rules=rules, default_group=p["default_group"], groups=p["groups"],
            app_groups=p["app_groups"], pins=p["pins"], resolve=p["resolve"], remove_sources=p["remove_sources"])
    except ValueError as exc:
        module.fail_json(msg="requirements phase: %s" % exc, **base)
    base.update(_redact.redact_data(dict(
        layout=plan.groups, files=plan.files, conflicts=plan.conflicts, conflicts_found=plan.all_conflicts,
        resolutions=plan.resolutions, unresolvable=plan.unresolvable, unused_pins=plan.unused_pins,
        unparsed=plan.unparsed, hoisted=plan.hoisted, proof=plan.proof,
        dockerfile_references=plan.dockerfile_references, kept_sources=plan.kept_sources, notes=plan.notes,
        skipped_files=plan.skipped, stats=plan.stats)))
    name_warning = undecodable_warning(plan.skipped, PHASE)
    if name_warning:
        module.warn(name_warning)
    base.update(_redact.redact_data(dict(overwritten=plan.overwritten,
                                         rewritten_references=plan.rewritten_references)))

    if plan.errors:
        blocked(module, PHASE, "%d requirements file(s) could not be read" % len(plan.errors),
                _redact.redact_data(plan.errors), _rows(plan, False, 0), **base)
    for u in plan.unparsed:
        module.warn(_redact.redact_text("%s:%d: kept verbatim, commented out (%s): %s"
                                        % (u["path"], u["line"], u["message"], u["text"])))
    for n in plan.notes:
        module.warn(_redact.redact_text("%s%s" % ("%s: " % n["path"] if n["path"] else "", n["message"])))
    if plan.blockers:
        blocked(module, PHASE, "%d file(s) the layout replaces or would have to rewrite cannot be handled "
                "safely" % len(plan.blockers), _redact.redact_data(plan.blockers), _rows(plan, False, 0), **base)
    if plan.conflicts:
        errors = []
        for c in plan.conflicts:
            text = _redact.redact_text(_requirements.conflict_text(c))
            module.warn("requirements conflict: %s" % text)
            first = c["requirements"][0]["sources"][0].split(" ")[0]
            path, line = first.rsplit(":", 1)
            short = "%s [%s]: %s cannot all hold" % (c["package"], ", ".join(c["groups"]), " | ".join(
                ("@ " + r["url"]) if r["url"] else (r["specifier"] or "(any version)") for r in c["requirements"]))
            errors.append({"path": path, "line": int(line), "column": None, "kind": "conflict",
                           "message": _redact.redact_text(short)})
        hint = " (no file pins a version of: %s)" % ", ".join(plan.unresolvable) if plan.unresolvable else ""
        blocked(module, PHASE, "%d package(s) have requirements that cannot all hold; resolve them with "
                "requirements_pins or requirements_resolve=newest%s" % (len(plan.conflicts), hint),
                errors, _rows(plan, False, 0), **base)
    if plan.lost:
        errors = [{"path": None, "line": None, "column": None, "kind": "lost",
                   "message": "%s in group %s (%s)" % (x["package"], x["group"], ", ".join(x["sources"]))}
                  for x in plan.lost]
        blocked(module, PHASE, "the layout would lose %d requirement(s); nothing written" % len(plan.lost),
                _redact.redact_data(errors), _rows(plan, False, 0), **base)

    changes = ChangeSet(root)
    for rel in sorted(plan.outputs):
        changes.write(rel, plan.outputs[rel])
    for rel in sorted(plan.preserved):
        changes.write(rel, plan.preserved[rel])
    for rel in sorted(plan.rewrites):
        changes.write(rel, plan.rewrites[rel])
    for rel in plan.remove:
        changes.remove(rel)

    result = dict(base)
    result.update(changed=bool(len(changes)), blocked=False, changes=changes.summary())
    written = bool(plan.outputs)
    if not written:
        result["summary"] = {"reason": "no requirements file found"}
    finish(module, PHASE, changes, root, backup_root, result,
           _rows(plan, written, len(set(plan.remove) & set(f["path"] for f in plan.files))), base,
           diff=changes.diffs)


if __name__ == "__main__":
    main()
