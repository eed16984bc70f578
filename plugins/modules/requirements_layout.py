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
  - Requirements phase.
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
  - On a real SutazAI tree (13 files, 401 requirement lines) the module's own work takes well
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
  description:
    - The layout, one key per group (C(base), C(backend), ...).
  returned: always
  type: dict
  contains:
    <group>:
      description: One group of the layout.
      type: dict
      contains:
        file:
          description: The layout file of the group, relative to O(root).
          type: str
        sources:
          description: The source files of the group.
          type: list
          elements: str
        packages_before:
          description: Distinct package names in its source files.
          type: int
        packages:
          description: Requirement lines written to its layout file.
          type: int
        other_lines:
          description: Other lines written (options, editables, constraints).
          type: int
  sample:
    backend:
      file: requirements/backend.txt
      sources: [backend/requirements.txt]
      packages_before: 45
      packages: 10
      other_lines: 0
files:
  description: Source files read.
  returned: always
  type: list
  elements: dict
  contains:
    path:
      description: The source file, relative to O(root).
      type: str
    group:
      description: Its group.
      type: str
    requirements:
      description: Requirement lines read from it (includes read through C(-r) counted).
      type: int
    includes:
      description: The files it includes through C(-r), sorted.
      type: list
      elements: str
    unparsed:
      description: Lines of it that are not requirements (kept verbatim, commented out).
      type: int
  sample: [{path: backend/requirements.txt, group: backend, requirements: 45, includes: [], unparsed: 0}]
conflicts:
  description:
    - Unresolved conflicts, one per package and marker.
    - Non-empty means nothing was written.
  returned: always
  type: list
  elements: dict
  contains:
    package:
      description: The package name (canonicalized).
      type: str
    marker:
      description: The environment marker the conflict holds under; empty for unmarked lines.
      type: str
    reason:
      description: C(specifiers) (no version satisfies them all) or C(urls) (two different direct URLs).
      type: str
    groups:
      description: The groups in which the requirements cannot all hold.
      type: list
      elements: str
    requirements:
      description: The distinct requirements, one per specifier and URL.
      type: list
      elements: dict
      contains:
        specifier:
          description: The specifier set, for example C(==0.104.1); empty for any version.
          type: str
        url:
          description: The direct URL (C(name @ url)), or null.
          type: str
        sources:
          description: Where it is required, as C(file:line), with C( (via file)) for a line read through C(-r).
          type: list
          elements: str
  sample:
    - package: fastapi
      marker: ""
      reason: specifiers
      groups: [base, backend]
      requirements:
        - {specifier: "==0.104.1", url: null, sources: ["docker/base/base-requirements.txt:1"]}
        - {specifier: "==0.115.6", url: null, sources: ["backend/requirements.txt:6"]}
conflicts_found:
  description: All conflicts in the source files, before O(pins) and O(resolve) (the same shape as RV(conflicts)).
  returned: always
  type: list
  elements: dict
  contains:
    package:
      description: The package name (canonicalized).
      type: str
    marker:
      description: The environment marker the conflict holds under; empty for unmarked lines.
      type: str
    reason:
      description: C(specifiers) (no version satisfies them all) or C(urls) (two different direct URLs).
      type: str
    groups:
      description: The groups in which the requirements cannot all hold.
      type: list
      elements: str
    requirements:
      description: The distinct requirements, one per specifier and URL.
      type: list
      elements: dict
      contains:
        specifier:
          description: The specifier set, for example C(==0.104.1); empty for any version.
          type: str
        url:
          description: The direct URL (C(name @ url)), or null.
          type: str
        sources:
          description: Where it is required, as C(file:line), with C( (via file)) for a line read through C(-r).
          type: list
          elements: str
resolutions:
  description: Every pin or newest resolution.
  returned: always
  type: list
  elements: dict
  contains:
    package:
      description: The package name (canonicalized).
      type: str
    method:
      description: C(pin) (from O(pins)) or C(newest) (O(resolve=newest)).
      type: str
    specifier:
      description: The specifier written for every requirement of the package; empty for any version.
      type: str
    conflict:
      description: Whether the package had a conflict (false for a pin of a package without one).
      type: bool
    replaced:
      description: The requirements it replaced.
      type: list
      elements: dict
      contains:
        specifier:
          description: The specifier set, for example C(==0.104.1); empty for any version.
          type: str
        url:
          description: The direct URL (C(name @ url)), or null.
          type: str
        sources:
          description: Where it is required, as C(file:line), with C( (via file)) for a line read through C(-r).
          type: list
          elements: str
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
  description: Lines kept verbatim (commented out) because they are not requirements.
  returned: always
  type: list
  elements: dict
  contains:
    path:
      description: The file holding the line, relative to O(root).
      type: str
    line:
      description: 1-based line.
      type: int
    via:
      description: The source file that includes it through C(-r), or null when it is a source itself.
      type: str
    group:
      description: The group of its source.
      type: str
    text:
      description: The line as written (redacted when it looks like it holds a secret).
      type: str
    message:
      description: Why it is not a requirement (the parser's message).
      type: str
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
  description:
    - Per group and package, whether the layout still expresses what the sources asked for.
      Empty when the phase is blocked before the proof.
  returned: always
  type: list
  elements: dict
  contains:
    group:
      description: The group.
      type: str
    package:
      description: The package name (for a line that is not a requirement, its text or kind).
      type: str
    status:
      description: C(kept), C(resolved) (a pin or resolution replaced the specifier) or C(lost).
      type: str
    sources:
      description: Where the sources require it, as C(file:line).
      type: list
      elements: str
    required:
      description: The specifiers (or C(@ url)) the sources require.
      type: list
      elements: str
    written:
      description: >-
        The layout lines that express it, each as the layout file, a colon and the line.
      type: list
      elements: str
  sample:
    - group: backend
      package: fastapi
      status: kept
      sources: ["backend/requirements.txt:6"]
      required: ["==0.115.6"]
      written: ["requirements/base.txt: fastapi==0.115.6"]
dockerfile_references:
  description: Dockerfile instructions naming requirements files. Reported, not changed.
  returned: always
  type: list
  elements: dict
  contains:
    path:
      description: The Dockerfile, relative to O(root).
      type: str
    line:
      description: 1-based line of the instruction.
      type: int
    instruction:
      description: C(COPY), C(ADD) or C(RUN).
      type: str
    files:
      description: The requirements files as the instruction writes them.
      type: list
      elements: str
    sources:
      description: The source files they may name, relative to O(root).
      type: list
      elements: str
  sample: [{path: backend/Dockerfile, line: 4, instruction: COPY, files: [requirements.txt], sources: [backend/requirements.txt]}]
overwritten:
  description:
    - Layout paths that held an original file before the layout replaces it.
    - Empty once the layout files are in place (later runs).
  returned: always
  type: list
  elements: dict
  contains:
    path:
      description: The layout path, relative to O(root).
      type: str
    group:
      description: The group it is read as a source of; null when it is not a source itself.
      type: str
    constraints_only:
      description: Whether it is only used as constraints (C(-c)).
      type: bool
    preserved_as:
      description: The kept copy of the original (C(<name>.original.txt)), or null.
      type: str
    references:
      description: The files that name it.
      type: list
      elements: dict
      contains:
        path:
          description: The file, relative to O(root).
          type: str
        line:
          description: 1-based line, or null for a layout file that will name it.
          type: int
        option:
          description: C(-r) or C(-c).
          type: str
        action:
          description: What happens to the reference, for example C(names the copy requirements/base.original.txt).
          type: str
    dockerfile_references:
      description: The Dockerfile instructions that copy or install it, as C(path:line).
      type: list
      elements: str
  sample:
    - path: requirements/base.txt
      group: base
      constraints_only: false
      preserved_as: requirements/base.original.txt
      references: [{path: requirements/prod.txt, line: 6, option: "-r", action: "names the copy requirements/base.original.txt"}]
      dockerfile_references: ["frontend/Dockerfile:8"]
rewritten_references:
  description: C(-r)/C(-c) options of kept files rewritten to the copy of a replaced original.
  returned: always
  type: list
  elements: dict
  contains:
    path:
      description: The file, relative to O(root).
      type: str
    line:
      description: 1-based line.
      type: int
    option:
      description: C(include) (C(-r)) or C(constraint) (C(-c)).
      type: str
    old:
      description: The line before.
      type: str
    new:
      description: The line after.
      type: str
  sample: [{path: requirements/prod.txt, line: 6, option: include, old: "-r base.txt", new: "-r base.original.txt"}]
kept_sources:
  description: With O(remove_sources), sources not removed and why.
  returned: always
  type: list
  elements: dict
  contains:
    path:
      description: The source file, relative to O(root).
      type: str
    reason:
      description: Why it is kept, for example its use as a constraints file or a Dockerfile reference.
      type: str
notes:
  description: Other findings, e.g. hashes dropped for another version.
  returned: always
  type: list
  elements: dict
  contains:
    path:
      description: The file concerned, relative to O(root), or null.
      type: str
    message:
      description: The finding.
      type: str
skipped_files:
  description: Tree entries not read, e.g. symlink loops, symlinks read at their target.
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
stats:
  description: Counts; empty when the phase is blocked before counting (a source could not be read).
  returned: always
  type: dict
  contains:
    sources:
      description: Source files read.
      type: int
    layout_files:
      description: Layout files of an earlier run found in O(output_dir).
      type: int
    dockerfiles:
      description: Dockerfiles read for references.
      type: int
    included_files:
      description: Files read through C(-r) includes.
      type: int
    requirement_lines:
      description: Requirement lines read.
      type: int
    carried_over:
      description: Lines carried over from earlier layout files whose source is gone.
      type: int
    unparsed:
      description: Entries of RV(unparsed).
      type: int
    conflicts_found:
      description: Entries of RV(conflicts_found).
      type: int
    conflicts:
      description: Entries of RV(conflicts).
      type: int
    resolutions:
      description: Entries of RV(resolutions).
      type: int
    hoisted:
      description: Entries of RV(hoisted).
      type: int
    dockerfile_references:
      description: Entries of RV(dockerfile_references).
      type: int
    lost:
      description: Requirements the proof found missing from the layout (0, or nothing is written).
      type: int
    overwritten:
      description: Entries of RV(overwritten).
      type: int
    preserved:
      description: Kept copies of replaced originals (C(<name>.original.txt)), existing or planned.
      type: int
    rewritten_references:
      description: Entries of RV(rewritten_references).
      type: int
    packages:
      description: Requirement lines written, one key per group.
      type: dict
      contains:
        <group>:
          description: Requirement lines written to the group's layout file.
          type: int
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
  sample: [{path: requirements/base.txt, action: create}]
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
      sample: requirements
    status:
      description: C(would change) (check mode), C(changed), C(unchanged) or C(blocked).
      type: str
      sample: would change
    reason:
      description: >-
        Why the phase is blocked, followed by C( -- ) and the errors it found; C(no requirements file
        found) when there is nothing to consolidate.
      returned: when blocked or when no requirements file is found
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
        Report sections built from RV(conflicts), RV(unresolvable), RV(resolutions), RV(unparsed),
        RV(kept_sources) and RV(notes) (empty lists give no section).
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
      description: The file or folder, relative to O(root); null when the error concerns no single file.
      type: str
    line:
      description: 1-based line of the problem; null or absent when unknown.
      type: int
    column:
      description: 1-based column of the problem; null or absent when unknown.
      type: int
    kind:
      description: >-
        Short machine-readable category, for example C(unreadable), C(not_utf8), C(symlink_loop),
        C(outside_root), C(overwrite), C(reference), C(conflict) (a conflict no pin or resolution
        settles) or C(lost) (the proof found a requirement missing from the layout).
      type: str
    message:
      description: What is wrong; never holds a secret value.
      type: str
"""


from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.sutazai.consolidation.plugins.module_utils import _redaction, _requirements
from ansible_collections.sutazai.consolidation.plugins.module_utils._changes import ChangeSet
from ansible_collections.sutazai.consolidation.plugins.module_utils._phase import (
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
    base.update(_redaction.redact_data(dict(
        layout=plan.groups, files=plan.files, conflicts=plan.conflicts, conflicts_found=plan.all_conflicts,
        resolutions=plan.resolutions, unresolvable=plan.unresolvable, unused_pins=plan.unused_pins,
        unparsed=plan.unparsed, hoisted=plan.hoisted, proof=plan.proof,
        dockerfile_references=plan.dockerfile_references, kept_sources=plan.kept_sources, notes=plan.notes,
        skipped_files=plan.skipped, stats=plan.stats)))
    name_warning = undecodable_warning(plan.skipped, PHASE)
    if name_warning:
        module.warn(name_warning)
    base.update(_redaction.redact_data(dict(overwritten=plan.overwritten,
                                            rewritten_references=plan.rewritten_references)))

    if plan.errors:
        blocked(module, PHASE, "%d requirements file(s) could not be read" % len(plan.errors),
                _redaction.redact_data(plan.errors), _rows(plan, False, 0), **base)
    for u in plan.unparsed:
        module.warn(_redaction.redact_text("%s:%d: kept verbatim, commented out (%s): %s"
                                           % (u["path"], u["line"], u["message"], u["text"])))
    for n in plan.notes:
        module.warn(_redaction.redact_text("%s%s" % ("%s: " % n["path"] if n["path"] else "", n["message"])))
    if plan.blockers:
        blocked(module, PHASE, "%d file(s) the layout replaces or would have to rewrite cannot be handled "
                "safely" % len(plan.blockers), _redaction.redact_data(plan.blockers), _rows(plan, False, 0), **base)
    if plan.conflicts:
        errors = []
        for c in plan.conflicts:
            text = _redaction.redact_text(_requirements.conflict_text(c))
            module.warn("requirements conflict: %s" % text)
            first = c["requirements"][0]["sources"][0].split(" ")[0]
            path, line = first.rsplit(":", 1)
            short = "%s [%s]: %s cannot all hold" % (c["package"], ", ".join(c["groups"]), " | ".join(
                ("@ " + r["url"]) if r["url"] else (r["specifier"] or "(any version)") for r in c["requirements"]))
            errors.append({"path": path, "line": int(line), "column": None, "kind": "conflict",
                           "message": _redaction.redact_text(short)})
        hint = " (no file pins a version of: %s)" % ", ".join(plan.unresolvable) if plan.unresolvable else ""
        blocked(module, PHASE, "%d package(s) have requirements that cannot all hold; resolve them with "
                "requirements_pins or requirements_resolve=newest%s" % (len(plan.conflicts), hint),
                errors, _rows(plan, False, 0), **base)
    if plan.lost:
        errors = [{"path": None, "line": None, "column": None, "kind": "lost",
                   "message": "%s in group %s (%s)" % (x["package"], x["group"], ", ".join(x["sources"]))}
                  for x in plan.lost]
        blocked(module, PHASE, "the layout would lose %d requirement(s); nothing written" % len(plan.lost),
                _redaction.redact_data(errors), _rows(plan, False, 0), **base)

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
