#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026 sutazai.consolidation contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: base_agent_canonical
short_description: Keep one canonical base_agent.py, rewrite every import of the other copies to it, remove them
version_added: 0.3.0
description:
  - BaseAgent phase. Needs libcst; every Python
    rewrite keeps the file byte for byte outside the edited import statements.
  - >-
    Copies: every file matching O(glob) (C(**/) also matches the top of the tree) plus the file at O(canonical_path), if any; backups, reports,
    virtualenvs, C(.git) and C(node_modules) are not walked. A copy under a folder named in
    O(test_dirs) is a test double: listed, never canonical, never removed, and imports of it are
    left alone (tests import their fakes on purpose). A copy that is a symlink is never
    canonical; the link is removed. A copy reached through a symlinked folder blocks the phase.
  - >-
    Public names of a copy: the names its module level binds (also inside module-level C(if),
    C(try), C(with), C(for) and C(while) blocks, never inside functions or classes) with C(def),
    C(async def), C(class) or an assignment (plain, annotated with a value, tuple unpacking)
    that do not start with C(_), plus every string of a literal C(__all__) list or tuple
    (C(__all__ = [...]), C(__all__ += [...])). Imported names count only when C(__all__) lists them.
  - >-
    Canonical: the copy with the most public names; tie: the larger file in bytes, then the copy
    already at O(canonical_path), then the first path in sorted order. It ends up at O(canonical_path): when it is elsewhere its bytes are
    written there (a copy already there is replaced) and the old file is removed; its relative
    imports become absolute imports named from the deepest python root holding its old location
    (C(from ...core.config import X) in C(backend/app/agents/core/) becomes
    C(from app.core.config import X) with C(backend) a python root). An absolute import of a module
    that sits only beside the old location (C(from utils import x)) blocks the phase.
    Every folder of the canonical path below the root its module name is counted from gets an
    C(__init__.py) holding one comment line when it has none (journaled), so the package is a regular one: a
    namespace package loses against a regular package of the same name anywhere on C(sys.path);
    a note warns when the top-level package name also exists under another python root.
  - >-
    Missing names: for every other copy (test doubles apart), its public names plus the names
    importers take from it (C(from M import N), C(alias.N) after C(import M as alias)) that the
    canonical does not bind at module level in any way (def, class, assignment or import; a
    C(from x import *) in the canonical binds nothing that can be named). When any copy has such
    a name the phase changes nothing, lists the names per copy with the importers using them,
    and reports C(blocked), unless O(force) is true. Functions and classes both define with other
    parameters (a class's C(__init__)) are reported in RV(signature_differences) with a warning,
    not blocking: same names do not prove the same behaviour.
  - >-
    Imports: every C(*.py) file that mentions a copy's module name is parsed with libcst (other
    files cannot import it). An absolute import C(a.b.c) in a file in folder C(D) names the copy
    C(R/a/b/c.py) for each python root C(R) (see O(python_roots)) and C(D/a/b/c.py) (the script's
    folder, C(sys.path[0])); relative imports resolve against the file's package. An import that
    names a copy which will not exist after the run (a removed copy, or the canonical's old
    location) is rewritten to the canonical module, as an absolute import. C(from X import A, B as C)
    becomes C(from agents.core.base_agent import A, B as C) (only the module changes; parentheses,
    comments and line breaks of the names stay). C(from ..core import base_agent [as m]) becomes
    C(from agents.core import base_agent [as m]); other names of that statement stay and the new
    import joins the same line after C(;). C(import X as m) becomes
    C(import agents.core.base_agent as m), and C(import base_agent) (one part) becomes
    C(import agents.core.base_agent as base_agent), which binds the same name to the same module.
    An import that already names the canonical module, or a copy that stays, is not changed.
  - >-
    C(import a.b.base_agent) (dotted, without C(as)) binds C(a), and the code reaches the module as
    C(a.b.base_agent.X); rewriting only the import would break those uses and rewriting the uses
    would change lines that are not imports. Such an import of a removed module blocks the phase
    with its file, line and column (a person adds C(as) or rewrites the uses); O(force) does not
    override this.
  - >-
    String references are reported with file and line, never edited: C(importlib.import_module()) and
    C(__import__()) arguments, any Python string that is a dotted name whose leading parts name a
    removed copy (C(mock.patch("backend.app.agents.core.base_agent.X"))) or a path to one, and, with
    O(text_references), lines of Dockerfiles, YAML, shell, TOML, INI, JSON and Makefiles naming its
    path or dotted module.
  - >-
    A Python file libcst cannot parse (Python 2 syntax) that mentions a copy's module name blocks
    the phase with file, line and column when one of its lines looks like an import of it
    (the import could not be rewritten); otherwise it is listed and left alone.
  - >-
    Proof before writing: every changed Python file compiles (C(compile()) of the new bytes, when
    the original compiled); re-parsing the planned text of every rewritten file finds no import of
    a removed module (files not rewritten had none); the line diff of every rewritten file touches
    only the lines of the rewritten import statements. A failed proof blocks the phase.
  - >-
    Removed copies leave their folders (and C(__init__.py) files) in place. Every change is
    journaled under O(backup_root) before it is made; see M(sutazai.consolidation.rollback).
extends_documentation_fragment:
  - sutazai.consolidation.phase
  - sutazai.consolidation.phase.attributes
  - sutazai.consolidation.path_patterns
options:
  glob:
    description:
      - Path pattern of the copies (see the notes for the syntax).
    type: str
    default: "**/base_agent.py"
  canonical_path:
    description:
      - Where the canonical copy ends up, relative to O(root); a C(.py) path whose parts are
        Python identifiers.
    type: str
    default: agents/core/base_agent.py
  canonical_module:
    description:
      - Dotted module name importers get; its parts must end O(canonical_path) (for example
        C(app.agents.core.base_agent) for C(backend/app/agents/core/base_agent.py) with C(backend)
        on C(sys.path)).
      - Unset derives it from O(canonical_path) relative to O(root) (C(agents.core.base_agent)).
    type: str
  python_roots:
    description:
      - Folders, relative to O(root), that are C(sys.path) entries of the platform's code
        (C(.) for the root itself). An absolute import is matched against each of them and the
        importing file's own folder.
      - Empty (default) uses the root plus every folder that holds a top-level package (a folder
        without C(__init__.py) with a sub-folder that has one, like C(backend) for
        C(backend/app/__init__.py)), so both C(backend.app.agents.core.base_agent) and
        C(app.agents.core.base_agent) are found.
    type: list
    elements: str
    default: []
  test_dirs:
    description:
      - Folder names; a copy with one of them in its path is a test double (listed, never
        canonical, never removed, imports of it left alone). Importers in these folders are
        rewritten like any other.
    type: list
    elements: str
    default: [tests, test]
  force:
    description:
      - Go on when other copies define or are imported for names the canonical lacks; they are
        still listed in RV(missing_names) and the summary, and those imports will fail at run time.
      - Does not override the other reasons to block (dotted imports without C(as), unparsable
        importers, unreadable files, a failed proof).
    type: bool
    default: false
  text_references:
    description:
      - Also report mentions of removed copies in non-Python text files (C(Dockerfile*), C(*.yml),
        C(*.yaml), C(*.sh), C(*.toml), C(*.ini), C(*.cfg), C(*.json), C(Makefile), C(Procfile),
        ...; up to 1 MiB each). Nothing in them is edited.
    type: bool
    default: true
notes:
  - >-
    Check mode on this project's 2-core machine takes about 0.05 s on the demo tree and about 0.5 s
    on a generated tree of 3,000 Python files with 160 importers (C(tests/gen_base_agent.py)); only
    files that mention a copy's module name are parsed.
  - String references to a removed copy are reported only in the run that removes it; later runs
    no longer know the module existed (the run report keeps the list).
seealso:
  - module: sutazai.consolidation.config_cleanup
  - module: sutazai.consolidation.rollback
author:
  - SutazAI consolidation team (@sutazai)
requirements:
  - libcst
"""

EXAMPLES = r"""
- name: Plan the canonical base_agent.py and the import rewrites (no change)
  sutazai.consolidation.base_agent_canonical:
    root: /opt/sutazaiapp
  check_mode: true
  diff: true

- name: Consolidate, accepting that names only a duplicate defines are dropped
  sutazai.consolidation.base_agent_canonical:
    root: /opt/sutazaiapp
    force: true
    python_roots: [".", backend]
"""

RETURN = r"""
blocked:
  description: True when the phase could not proceed safely and changed nothing (O(strict=false)).
  returned: always
  type: bool
canonical:
  description:
    - The canonical copy and where it ends up. Null when there is no copy to keep.
  returned: always
  type: dict
  contains:
    from:
      description: The copy chosen as canonical, relative to O(root).
      type: str
    path:
      description: Where it ends up (O(canonical_path)).
      type: str
    module:
      description: The dotted module name importers get.
      type: str
    moved:
      description: Whether the canonical moves (RV(canonical.from) differs from RV(canonical.path)).
      type: bool
    python_roots:
      description: The python roots used to resolve absolute imports (C(.) is the tree root).
      type: list
      elements: str
  sample: {from: backend/app/agents/core/base_agent.py, path: agents/core/base_agent.py,
           module: agents.core.base_agent, moved: true, python_roots: [".", agents, backend]}
copies:
  description: Every copy, sorted by path.
  returned: always
  type: list
  elements: dict
  contains:
    path:
      description: The copy, relative to O(root).
      type: str
    role:
      description:
        - C(canonical), C(duplicate) (removed), C(replaced) (by the canonical, at O(canonical_path)),
          C(test) (a test double, left alone) or C(link) (a symlink; the link is removed).
        - Null when the phase stopped before the roles were given.
      type: str
    public_names:
      description: The copy's public names, sorted; null for a copy that could not be parsed.
      type: list
      elements: str
    size:
      description: Size of the copy in bytes.
      type: int
  sample:
    - {path: backend/app/agents/core/base_agent.py, role: canonical, public_names: [AgentStatus, BaseAgent], size: 1650}
rewrites:
  description:
    - Rewritten import statements, sorted by file and line; at most 200 are listed, RV(stats) counts all.
    - When blocked, the rewrites the phase would make (nothing is written).
  returned: always
  type: list
  elements: dict
  contains:
    path:
      description: >-
        The importing file, relative to O(root); C(old -> new) for the relative imports of the
        canonical that become absolute as it moves.
      type: str
    line:
      description: 1-based line of the statement.
      type: int
    old:
      description: The first line of the statement as written (C(...) when it spans more).
      type: str
    new:
      description: The first line of the rewritten statement.
      type: str
  sample: [{path: docker/agents/runner.py, line: 5, old: import base_agent, new: import agents.core.base_agent as base_agent}]
string_references:
  description:
    - References to removed copies that are not imports (not edited); at most 200 are listed.
  returned: always
  type: list
  elements: dict
  contains:
    path:
      description: The file holding the reference, relative to O(root).
      type: str
    line:
      description: 1-based line of the reference.
      type: int
    kind:
      description: >-
        C(dynamic) (an argument of C(importlib.import_module()) or C(__import__())), C(string) (a dotted
        string), C(path) (a path string) or C(text) (a line of a non-Python file, see O(text_references)).
      type: str
    text:
      description: The string, or the stripped line of a text file (at most 160 characters).
      type: str
    copies:
      description: The removed copies it names.
      type: list
      elements: str
  sample: [{path: tests/test_agents.py, line: 15, kind: string, text: backend.app.agents.core.base_agent.DEFAULT_TIMEOUT,
            copies: [backend/app/agents/core/base_agent.py]}]
missing_names:
  description: Per copy, the names the canonical lacks and the importers using them.
  returned: always
  type: list
  elements: dict
  contains:
    path:
      description: The copy, relative to O(root).
      type: str
    names:
      description: Its public names, and the names importers take from it, that the canonical does not bind.
      type: list
      elements: str
    importers:
      description: Where those names are imported or used (C(file:line)), sorted.
      type: list
      elements: str
  sample: [{path: backend/ai_agents/core/base_agent.py, names: [AgentRegistry], importers: []}]
signature_differences:
  description: >-
    Functions and classes a copy defines with other parameters than the canonical (for a class,
    its C(__init__); parameter names, kinds and defaults, not annotations), per copy; reported,
    not blocking.
  returned: always
  type: list
  elements: dict
  contains:
    path:
      description: The copy, relative to O(root).
      type: str
    name:
      description: The function or class name.
      type: str
    copy:
      description: The copy's parameters, as written in its definition.
      type: str
    canonical:
      description: The canonical's parameters.
      type: str
  sample: [{path: backend/ai_agents/core/base_agent.py, name: BaseAgent, copy: "self, name", canonical: "self, config"}]
unparsed:
  description: Python files libcst cannot parse that mention a copy without importing it; left alone.
  returned: always
  type: list
  elements: dict
  contains:
    path:
      description: The file, relative to O(root).
      type: str
    line:
      description: 1-based line of the first mention of a copy.
      type: int
    column:
      description: 1-based column of that mention.
      type: int
    kind:
      description: Always C(unparsed).
      type: str
    message:
      description: Why it is left alone, with the parser's error.
      type: str
    text:
      description: The line of the first mention, stripped (at most 120 characters).
      type: str
created:
  description: C(__init__.py) files created (or that would be) on the canonical path.
  returned: always
  type: list
  elements: str
notes:
  description: Warnings about the result, for example a package name that exists under two python roots.
  returned: always
  type: list
  elements: str
proof:
  description: The checks made before writing.
  returned: always
  type: dict
  contains:
    compiled:
      description: Changed Python files that compile (C(compile()) of the new bytes).
      type: int
    import_lines_only:
      description: Whether the line diff of every rewritten file touches only rewritten import statements.
      type: bool
    remaining_imports:
      description: Imports of removed modules found in the planned texts (0 when the proof holds).
      type: int
  sample: {compiled: 8, import_lines_only: true, remaining_imports: 0}
stats:
  description: Counts.
  returned: always
  type: dict
  contains:
    python_files:
      description: Python files in the tree (backups, reports, virtualenvs, C(.git) and C(node_modules) apart).
      type: int
    scanned_files:
      description: Python files that mention a copy's module name, parsed for imports.
      type: int
    text_files:
      description: Non-Python text files searched (O(text_references)).
      type: int
    copies:
      description: Copies found, test doubles included.
      type: int
    test_copies:
      description: Test doubles among them.
      type: int
    removed:
      description: Files removed (in check mode, that would be).
      type: int
    rewrites:
      description: Import statements rewritten, all of them (RV(rewrites) lists at most 200).
      type: int
    rewritten_files:
      description: Files whose imports are rewritten.
      type: int
    string_references:
      description: String references to removed copies, all of them.
      type: int
    unparsed:
      description: Entries of RV(unparsed).
      type: int
    created:
      description: C(__init__.py) files created (in check mode, that would be).
      type: int
  sample: {python_files: 32, scanned_files: 14, text_files: 3, copies: 4, test_copies: 1, removed: 3,
           rewrites: 9, rewritten_files: 6, string_references: 2, unparsed: 1, created: 1}
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
  sample: [{path: agents/core/base_agent.py, action: modify}, {path: docker/agents/base_agent.py, action: delete}]
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
      sample: base_agent
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
        Report sections, by title -- C(what blocks the phase) (when blocked), C(base_agent copies),
        C(rewritten imports), C(string references to removed copies (not edited)), C(names missing from
        the canonical), C(definitions with other parameters than the canonical's) and C(files left
        alone, created, notes).
      returned: always
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
  description: When blocked, what stopped the phase.
  returned: when blocked
  type: list
  elements: dict
  contains:
    path:
      description: The file or folder, relative to O(root); null for a problem of no single file.
      type: str
    line:
      description: 1-based line of the problem; null or absent when unknown.
      type: int
    column:
      description: 1-based column of the problem; null or absent when unknown.
      type: int
    kind:
      description: >-
        Short machine-readable category, for example C(bare_import), C(unparsed_importer),
        C(missing_names), C(linked_copy), C(unmovable), C(not_decodable), C(unreadable), C(compile),
        C(proof) or C(outside_root) (a change that would act outside the root through a symlink).
      type: str
    message:
      description: What is wrong; never holds a secret value.
      type: str
"""

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.sutazai.consolidation.plugins.module_utils import _base_agent
from ansible_collections.sutazai.consolidation.plugins.module_utils._changes import ChangeSet
from ansible_collections.sutazai.consolidation.plugins.module_utils._phase import (
    PHASE_ARGUMENT_SPEC, blocked, check_root, finish, phase_paths)
from ansible_collections.sutazai.consolidation.plugins.module_utils._errors import ConsolidationError
from ansible_collections.sutazai.consolidation.plugins.module_utils._tree import undecodable_warning

PHASE = "base_agent"
_ACTIONS = {"canonical": "kept", "duplicate": "removed", "replaced": "replaced by the canonical",
            "test": "left alone (test double)", "link": "link removed"}


def _loc(item):
    return ":".join(str(item[k]) for k in ("path", "line", "column") if item.get(k) is not None)


def _rows(plan, applied):
    live = [c for c in plan.copies if c.role != "test"]
    tests = len(plan.copies) - len(live)
    imports = [r for r in plan.rewrites if " -> " not in r["path"]]
    files = len(set(r["path"] for r in imports))
    # Applied, every live copy but the canonical is removed or replaced by it.
    after_copies = min(len(live), 1) if applied else len(live)
    return [
        {"item": "base_agent.py copies (test doubles apart)", "before": len(live), "after": after_copies},
        {"item": "Imports of other copies (files)", "before": "%d (%d)" % (len(imports), files),
         "after": 0 if applied else "%d (%d)" % (len(imports), files)},
        {"item": "String references to removed copies (not edited)", "before": len(plan.strings), "after": len(plan.strings)},
        {"item": "Test doubles left alone", "before": tests, "after": tests},
        {"item": "Unparsable files mentioning base_agent", "before": len(plan.unparsed), "after": len(plan.unparsed)},
        {"item": "Package __init__.py files created", "before": "-", "after": len(plan.created) if applied else 0},
    ]


def _details(plan, errors=None):
    out = []
    if errors:
        out.append({"title": "what blocks the phase", "columns": ["location", "kind", "message"],
                    "rows": [[_loc(e), e.get("kind"), e["message"]] for e in errors]})
    canon = plan.canonical_rel
    copies = []
    for c in plan.copies:
        action = _ACTIONS.get(c.role, "-")
        if c.role == "canonical" and c.rel != canon:
            action = "moved to %s" % canon
        copies.append([c.rel, c.role or "-", len(c.names.public) if c.names else None,
                       ", ".join(c.names.public) if c.names else "(cannot be parsed)", c.size, action])
    note = None
    if plan.chosen is not None:
        note = ("Canonical: the copy with the most public names (tie: larger file, then the one already at the canonical path, then path order); "
                "importers get `%s`." % plan.canonical_module)
    out.append({"title": "base_agent copies", "columns": ["path", "role", "public names", "names", "bytes", "action"],
                "rows": copies, "note": note})
    out.append({"title": "rewritten imports", "columns": ["file:line", "old", "new"],
                "rows": [["%s:%d" % (r["path"], r["line"]), r["old"], r["new"]] for r in plan.rewrites]})
    out.append({"title": "string references to removed copies (not edited)", "columns": ["file:line", "kind", "text", "copies"],
                "rows": [["%s:%d" % (s["path"], s["line"]), s["kind"], s["text"], ", ".join(s["copies"])] for s in plan.strings]})
    out.append({"title": "names missing from the canonical", "columns": ["copy", "names", "used at"],
                "rows": [[m["path"], ", ".join(m["names"]), ", ".join(m["importers"]) or "-"] for m in plan.missing]})
    out.append({"title": "definitions with other parameters than the canonical's", "columns": ["copy", "name", "copy's", "canonical's"],
                "rows": [[d["path"], d["name"], "(%s)" % d["copy"], "(%s)" % d["canonical"]] for d in plan.signatures],
                "note": "Same names do not prove the same behaviour: callers of these may need a person."})
    left = [[_loc(u), u["message"]] for u in plan.unparsed] + [["-", n] for n in plan.notes]
    left += [[c, "created (package file)"] for c in plan.created]
    out.append({"title": "files left alone, created, notes", "columns": ["file", "why"], "rows": left})
    return out


def _copies(plan):
    return [{"path": c.rel, "role": c.role, "public_names": c.names.public if c.names else None, "size": c.size}
            for c in plan.copies]


def main():
    argument_spec = dict(PHASE_ARGUMENT_SPEC)
    argument_spec.update(
        glob=dict(type="str", default=_base_agent.DEFAULT_GLOB),
        canonical_path=dict(type="str", default=_base_agent.DEFAULT_CANONICAL_PATH),
        canonical_module=dict(type="str"),
        python_roots=dict(type="list", elements="str", default=[]),
        test_dirs=dict(type="list", elements="str", default=list(_base_agent.DEFAULT_TEST_DIRS)),
        force=dict(type="bool", default=False),
        text_references=dict(type="bool", default=True),
    )
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    if not _base_agent.HAS_LIBCST:
        module.fail_json(msg=missing_required_lib("libcst"))
    p = module.params
    root, backup_root, report_dir = phase_paths(p)
    check_root(module, root)
    try:
        plan = _base_agent.plan(root, glob=p["glob"], canonical_path=p["canonical_path"],
                                canonical_module=p["canonical_module"], python_roots=p["python_roots"],
                                test_dirs=p["test_dirs"], force=p["force"], text_references=p["text_references"],
                                exclude_paths=(backup_root, report_dir))
    except ValueError as exc:
        module.fail_json(msg=str(exc))
    limit = _base_agent.MAX_LISTED
    canonical = None
    if plan.chosen is not None:
        canonical = {"from": plan.chosen.rel, "path": plan.canonical_rel, "module": plan.canonical_module,
                     "moved": plan.chosen.rel != plan.canonical_rel,
                     "python_roots": ["/".join(r) or "." for r in plan.roots]}
    stats = {
        "python_files": plan.python_files, "scanned_files": plan.scanned_files, "text_files": plan.text_files,
        "copies": len(plan.copies), "test_copies": sum(1 for c in plan.copies if c.role == "test"),
        "removed": 0, "rewrites": len(plan.rewrites),
        "rewritten_files": len(set(r["path"] for r in plan.rewrites if " -> " not in r["path"])),
        "string_references": len(plan.strings), "unparsed": len(plan.unparsed), "created": 0,
    }
    base = dict(canonical=canonical, copies=_copies(plan), rewrites=plan.rewrites[:limit],
                string_references=plan.strings[:limit], missing_names=plan.missing,
                signature_differences=plan.signatures, unparsed=plan.unparsed,
                created=[], notes=plan.notes, proof=plan.proof, stats=stats, skipped_files=plan.skipped,
                changes=[], journal=None)
    name_warning = undecodable_warning(plan.skipped, PHASE)
    if name_warning:
        module.warn(name_warning)
    if plan.block_reason:
        blocked(module, PHASE, plan.block_reason, plan.errors, summary_rows=_rows(plan, False),
                details=_details(plan, plan.errors), **base)

    changes = ChangeSet(root)
    for rel in sorted(plan.writes):
        data, mode = plan.writes[rel]
        changes.write(rel, data, mode=mode)
    for rel in plan.removes:
        changes.remove(rel)
    stats["removed"] = sum(1 for op in changes.ops if op["op"] == "remove")
    created = [rel for rel in plan.created if any(op["path"] == rel for op in changes.ops)]
    stats["created"] = len(created)
    for m in plan.missing:
        module.warn("force: %s defines or is imported for names the canonical lacks: %s" % (m["path"], ", ".join(m["names"])))
    for d in plan.signatures:
        module.warn("%s: %s(%s) differs from the canonical's %s(%s); its callers may need a person" % (
            d["path"], d["name"], d["copy"], d["name"], d["canonical"]))
    for s in plan.strings[:10]:
        module.warn("%s:%d: %s reference to removed copy %s is not edited: %s" % (
            s["path"], s["line"], s["kind"], ", ".join(s["copies"]), s["text"]))
    if len(plan.strings) > 10:
        module.warn("%d more string references (see string_references)" % (len(plan.strings) - 10))
    for u in plan.unparsed:
        module.warn("%s: %s" % (ConsolidationError(u["message"], u["path"], u["line"], u["column"]).location(), u["message"]))
    for n in plan.notes:
        module.warn(n)

    result = dict(base)
    result.update(changed=bool(len(changes)), blocked=False, changes=changes.summary(), created=created,
                  summary={"details": _details(plan)})
    finish(module, PHASE, changes, root, backup_root, result, _rows(plan, True), base, what="rewriting imports")


if __name__ == "__main__":
    main()
