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
  - Config phase (seed BACKEND CONFIGURATION CONSOLIDATION), first half; see
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
  description:
    - One entry per shim, sorted by path.
    - C(status) is C(unused) (nothing refers to it), C(referenced) or C(kept) (matches O(keep)).
    - C(action) is C(remove) (removed; in check mode, would be) or C(keep).
    - C(targets) are the re-exported modules as written (relative ones with leading dots);
      C(target_files) the files of the tree they may be.
    - C(links) are symlinks to the shim file; they are removed with it.
    - C(references) lists up to 50 places that refer to it (path, line, kind, text), kinds
      C(import), C(dynamic), C(string), C(text), C(unparsed); C(references_total) counts all.
  returned: always
  type: list
  elements: dict
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
  sample: {python_files: 120, invalid_files: 1, text_files: 30, shims: 3, unused: 1, referenced: 2, kept: 0, removed: 1}
invalid:
  description:
    - Python files that were parsed (see O(check_syntax)) and do not parse or cannot be decoded
      (path, line, column, kind C(syntax), C(not_decodable) or C(too_deep), message), sorted by
      path; never removed, searched as text for the shims' names.
  returned: always
  type: list
  elements: dict
skipped_files:
  description: Tree entries not read (path, reason), for example symlinks out of the root.
  returned: always
  type: list
  elements: dict
changes:
  description: Files deleted (or that would be, in check mode).
  returned: always
  type: list
  elements: dict
  sample: [{path: backend/legacy_settings.py, action: delete}]
journal:
  description: Path of the run's journal manifest when changes were made, else null.
  returned: always
  type: str
summary:
  description: Rows for the run summary table (phase, status, rows of item/before/after).
  returned: always
  type: dict
errors:
  description: When blocked, the files or folders that could not be read (path, line, column, kind, message).
  returned: when blocked
  type: list
  elements: dict
"""


from ansible.module_utils.basic import AnsibleModule

from ansible_collections.sutazai.consolidation.plugins.module_utils import _shims
from ansible_collections.sutazai.consolidation.plugins.module_utils._changes import ChangeSet
from ansible_collections.sutazai.consolidation.plugins.module_utils._common import (
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
