#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026 sutazai.consolidation contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: config_cleanup
short_description: Find Python shim modules that only re-export another module and remove the unused ones
version_added: 0.2.0
description:
  - Config phase, first half; see
    M(sutazai.consolidation.connection_check) for the second.
  - >-
    Reads every C(*.py) file under O(root) once (not backups, reports, virtualenvs, C(.git),
    C(node_modules)) and parses with Python's own parser (C(ast)) only the files it needs: the
    shim candidates (files with no C(def), C(class) or decorator line at column 0) and the files
    whose text holds a shim's module name as a whole word (see O(check_syntax)). A shim is a
    file whose module body holds only docstrings,
    C(pass), imports (at least one not from C(__future__)), C(__all__) lists, alias assignments
    of imported names (C(AppSettings = _AppSettings)) and C(try)/C(except ImportError) blocks
    of these, for example a C(backend/core/config.py) holding C(from app.core.config import *).
    C(__init__.py), C(__main__.py), C(conftest.py), C(setup.py), C(sitecustomize.py) and
    C(usercustomize.py) are never shims (packages and tools load them by name).
  - >-
    A shim is removed (journaled) only when nothing under the root refers to it any more:
    no import statement (anywhere in a file, relative imports resolved against the importing
    file's folder), no C(importlib.import_module)/C(__import__) call, no Python string naming
    its dotted module name or its file path, no mention in Dockerfiles, YAML, shell, TOML, INI,
    JSON or Makefiles (see O(text_references)), and no word of its module name in a Python file
    that does not parse, when the word stands where a module can be named (an import line or
    import list, a one-line dotted string, before C(.py); C(self.config.x) is not such a place).
    References from other unused shims do not count, so chains of
    shims go together. Symlinks to a shim file count as the shim (imports through them keep it)
    and are removed with it.
  - >-
    Package roots: with O(python_roots) empty (default), any folder of the tree may be on
    C(sys.path) (Docker images often copy C(backend/) to C(/app)), so an import of C(a.b) keeps
    every shim whose path ends in C(a/b.py). This can keep a shim that is in fact unused, never
    the other way round. Set O(python_roots) to name the C(sys.path) folders and match exactly.
  - >-
    Files that cannot be parsed are listed in RV(invalid) with file, line and column and are
    never removed. When a Python file or a folder cannot be read at all, no shim can be proven
    unused; the phase then removes nothing and reports C(blocked) (see O(strict)).
  - Every change is journaled under O(backup_root) before it is made; see M(sutazai.consolidation.rollback).
extends_documentation_fragment:
  - sutazai.consolidation.phase
  - sutazai.consolidation.phase.attributes
  - sutazai.consolidation.path_patterns
options:
  remove_shims:
    description:
      - V(true) removes every unused shim (journaled; C(--check --diff) shows the list first, and
        M(sutazai.consolidation.rollback) restores them).
      - V(false) only reports; nothing is written.
    type: bool
    default: true
  python_roots:
    description:
      - Folders, relative to O(root), that are the import roots (C(sys.path) entries) of the
        Python code inside them, for example C(backend) and C(.). An absolute import C(a.b) in a
        file then refers to C(<R>/a/b.py) for the deepest listed folder C(R) holding the file
        (the tree root for a file under none of them), or to C(a/b.py) beside the importing file.
      - Empty (default) matches by path suffix (see the description); safer, may keep more shims.
    type: list
    elements: str
    default: []
  keep:
    description:
      - Path patterns (see the notes for the syntax) of shims never removed, for example
        C(backend/legacy/*.py). They are reported with status C(kept).
    type: list
    elements: str
    default: []
  check_syntax:
    description:
      - V(true) parses every Python file of the tree, so that RV(invalid) lists each file that
        does not parse (a lint of the whole tree; on a tree of 900 Python files it costs about
        2 seconds more).
      - V(false) (default) parses only the shim candidates and the files that name a shim;
        RV(invalid) then lists the files among those that do not parse. Which shims are found
        and which references keep them is the same either way.
    type: bool
    default: false
  text_references:
    description:
      - Also search non-Python text files (C(Dockerfile*), C(*.yml), C(*.yaml), C(*.sh), C(*.toml),
        C(*.ini), C(*.cfg), C(*.conf), C(*.json), C(Makefile), C(Procfile), C(*.service), C(*.env);
        up to 1 MiB each) for mentions of a shim's file or module name (a path ending in its file
        name with the same parent folder, its dotted module name, C(-m name), C(-A name),
        C(name:attr)). V(false) looks at Python code only.
    type: bool
    default: true
notes:
  - Read-only except for the removal of unused shims. Byte-stable report order (sorted paths).
seealso:
  - module: sutazai.consolidation.connection_check
  - module: sutazai.consolidation.rollback
author:
  - SutazAI consolidation team (@sutazai)
"""

EXAMPLES = r"""
- name: List the shim modules and who still imports them (no change)
  sutazai.consolidation.config_cleanup:
    root: /opt/sutazaiapp
    remove_shims: false

- name: Remove unused shims, with backend/ as the only import root
  sutazai.consolidation.config_cleanup:
    root: /opt/sutazaiapp
    python_roots: [backend]
    keep: ["backend/legacy/*"]
"""

RETURN = r"""
blocked:
  description: True when the phase could not proceed safely and changed nothing (O(strict=false)).
  returned: always
  type: bool
shims:
  description: One entry per shim, sorted by path.
  returned: always
  type: list
  elements: dict
  contains:
    path:
      description: The shim file, relative to O(root).
      type: str
    status:
      description: C(unused) (nothing refers to it), C(referenced) or C(kept) (matches O(keep)).
      type: str
    action:
      description: C(remove) (removed; in check mode, would be) or C(keep).
      type: str
    targets:
      description: The re-exported modules as written (relative ones with their leading dots).
      type: list
      elements: str
    target_files:
      description: The files of the tree the targets may be.
      type: list
      elements: str
    links:
      description: Symlinks to the shim file; they are removed with it.
      type: list
      elements: str
    lines:
      description: Number of lines of the shim file.
      type: int
    references_total:
      description: How many places refer to it.
      type: int
    references:
      description: Up to 50 places that refer to it, sorted by path and line.
      type: list
      elements: dict
      contains:
        path:
          description: The referring file, relative to O(root).
          type: str
        line:
          description: 1-based line of the reference.
          type: int
        kind:
          description: >-
            C(import), C(dynamic) (C(importlib.import_module)/C(__import__)), C(string) (a Python string
            naming its module or path), C(text) (a non-Python file) or C(unparsed) (a Python file that
            does not parse, searched as text).
          type: str
        text:
          description: The referring text (at most 160 characters).
          type: str
  sample:
    - path: backend/core/config.py
      status: referenced
      action: keep
      targets: [app.core.config]
      target_files: [backend/app/core/config.py]
      links: []
      lines: 3
      references_total: 1
      references: [{path: backend/app/main.py, line: 4, kind: import, text: "from core.config import settings"}]
stats:
  description: Counts of the scan.
  returned: always
  type: dict
  contains:
    python_files:
      description: Python files read.
      type: int
    invalid_files:
      description: Entries of RV(invalid).
      type: int
    text_files:
      description: Non-Python text files searched for the shims' names (0 when there is no shim).
      type: int
    shims:
      description: Shims found.
      type: int
    unused:
      description: Shims nothing refers to.
      type: int
    referenced:
      description: Shims still referenced (kept).
      type: int
    kept:
      description: Shims kept because they match O(keep).
      type: int
    removed:
      description: Shims removed (in check mode, that would be).
      type: int
  sample: {python_files: 120, invalid_files: 1, text_files: 30, shims: 3, unused: 1, referenced: 2, kept: 0, removed: 1}
invalid:
  description:
    - Python files that were parsed (see O(check_syntax)) and do not parse or cannot be decoded, sorted
      by path; never removed, searched as text for the shims' names.
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
        Short machine-readable category, for example C(syntax), C(not_decodable) or C(too_deep).
      type: str
    message:
      description: What is wrong; never holds a secret value.
      type: str
skipped_files:
  description: Tree entries not read, for example symlinks out of the root.
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
changes:
  description: Files deleted (or that would be, in check mode).
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
  sample: [{path: backend/legacy_settings.py, action: delete}]
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
      sample: config
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
        Report sections; one, C(Shim modules (removed or kept, with why)), built from RV(shims) when
        there is a shim.
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
  description: When blocked, the files or folders that could not be read.
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
        Short machine-readable category, for example C(unreadable), or C(outside_root) for a change that
        would act outside the root through a symlink.
      type: str
    message:
      description: What is wrong; never holds a secret value.
      type: str
"""


from ansible.module_utils.basic import AnsibleModule

from ansible_collections.sutazai.consolidation.plugins.module_utils import _shims
from ansible_collections.sutazai.consolidation.plugins.module_utils._changes import ChangeSet
from ansible_collections.sutazai.consolidation.plugins.module_utils._phase import (
    PHASE_ARGUMENT_SPEC, blocked, check_root, finish, phase_paths)
from ansible_collections.sutazai.consolidation.plugins.module_utils._errors import ConsolidationError
from ansible_collections.sutazai.consolidation.plugins.module_utils._tree import undecodable_warning

PHASE = "config"


def _shim_rows(scan, entries, removed):
    n_py = len(scan.python_files)
    unused = sum(1 for e in entries if e["status"] == "unused")
    referenced = sum(1 for e in entries if e["status"] == "referenced")
    kept = sum(1 for e in entries if e["status"] == "kept")
    return [
        {"item": "Python files", "before": n_py, "after": n_py - removed},
        {"item": "Shim modules (re-export only)", "before": len(entries), "after": len(entries) - removed},
        {"item": "Shims unused -> removed", "before": unused, "after": removed},
        {"item": "Shims still referenced (kept)", "before": referenced, "after": referenced},
        {"item": "Shims kept by pattern", "before": kept, "after": kept},
        {"item": "Python files that do not parse", "before": len(scan.invalid), "after": "-"},
    ]


def main():
    argument_spec = dict(PHASE_ARGUMENT_SPEC)
    argument_spec.update(
        remove_shims=dict(type="bool", default=True),
        python_roots=dict(type="list", elements="str", default=[]),
        keep=dict(type="list", elements="str", default=[]),
        text_references=dict(type="bool", default=True),
        check_syntax=dict(type="bool", default=False),
    )
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    p = module.params
    root, backup_root, report_dir = phase_paths(p)
    check_root(module, root)
    base = dict(shims=[], invalid=[], skipped_files=[], changes=[], journal=None, stats={})
    scan = _shims.scan(root, python_roots=p["python_roots"], exclude_paths=(backup_root, report_dir),
                       text_references=p["text_references"], check_syntax=p["check_syntax"])
    unused = _shims.unused_shims(scan.shims, keep=p["keep"])
    entries = []
    for s in scan.shims:
        if s.rel in unused:
            status = "unused"
        elif _shims.matches_any(s.rel, p["keep"]) and not s.references:
            status = "kept"
        else:
            status = "referenced"
        entries.append({
            "path": s.rel,
            "status": status,
            "action": "remove" if status == "unused" and p["remove_shims"] else "keep",
            "targets": s.targets,
            "links": s.links,
            "target_files": s.target_files,
            "lines": s.lines,
            "references_total": len(s.references),
            "references": s.references[:_shims.MAX_REFERENCES],
        })
    stats = {
        "python_files": len(scan.python_files),
        "invalid_files": len(scan.invalid),
        "text_files": scan.text_files,
        "shims": len(entries),
        "unused": len(unused),
        "referenced": sum(1 for e in entries if e["status"] == "referenced"),
        "kept": sum(1 for e in entries if e["status"] == "kept"),
        "removed": 0,
    }
    base.update(shims=entries, invalid=scan.invalid, skipped_files=scan.skipped, stats=stats)
    name_warning = undecodable_warning(scan.skipped, PHASE)
    if name_warning:
        module.warn(name_warning)
    to_remove = [e["path"] for e in entries if e["action"] == "remove"]
    if scan.unreadable and to_remove:
        for e in entries:
            e["action"] = "keep"
        blocked(module, PHASE, "%d file(s) or folder(s) cannot be read, so no shim can be proven unused"
                % len(scan.unreadable), scan.unreadable, summary_rows=_shim_rows(scan, entries, 0), **base)
    for e in scan.unreadable:
        module.warn("not read: %s" % ConsolidationError(e["message"], e["path"], e.get("line"), e.get("column")))

    changes = ChangeSet(root)
    links = dict((s.rel, s.links) for s in scan.shims)
    for rel in to_remove:
        changes.remove(rel)
        for link in links[rel]:
            changes.remove(link)
    stats["removed"] = sum(1 for op in changes.ops if op["path"] in to_remove)
    if scan.invalid:
        first = ["%s" % ConsolidationError(e["message"], e["path"], e["line"], e["column"]) for e in scan.invalid[:5]]
        module.warn("%d Python file(s) cannot be parsed; searched as text and never removed: %s%s" % (
            len(scan.invalid), "; ".join(first), "; ..." if len(scan.invalid) > 5 else ""))

    result = dict(base)
    result.update(changed=bool(len(changes)), blocked=False, changes=changes.summary())
    finish(module, PHASE, changes, root, backup_root, result, _shim_rows(scan, entries, stats["removed"]), base,
           what="removing shims")


if __name__ == "__main__":
    main()
