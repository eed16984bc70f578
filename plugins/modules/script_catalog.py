#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026 sutazai.consolidation contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: script_catalog
short_description: Inventory the SutazAI scripts, merge proven duplicates, archive unused ones, generate the deploy script
version_added: 0.3.0
description:
  - Scripts phase. Scripts are merged only when they are proven equal; grouping Python scripts
    by function names or renaming them by md5 would merge different scripts and break
    references, so neither is done. On a real SutazAI tree (444 scripts, all byte-unique, no
    two with the same AST) this module merges nothing and shows purposes and near duplicates
    instead, so a person can see where purposes overlap.
  - >-
    Inventory: every C(*.py), C(*.sh) and C(*.bash) file under O(roots), with its purpose, category
    (the first folder under the root; C((top)) for files directly in it), size in bytes, mode and
    references. The inventory goes to the run report as a table (report detail sections).
  - >-
    Purpose, one line of at most 100 characters: the Python module docstring (first meaningful
    line); else the first comment block after the shebang (a C(Purpose:) or C(Description:) line
    wins; tool directives, copyright, author, date, version, usage lines and rulers are skipped);
    else the first argparse C(description=) string. Secret-looking C(KEY=value) pairs are redacted.
  - >-
    References are searched in one pass over the tree's files whose kind is known
    (compose, ci, makefile, dockerfile, script, config, docs; see the O(exclude_dirs) option for
    what is never read); symlinks to a script or to a folder above it count as references
    too. Rule: path-like tokens that end in C(.py)/C(.sh)/C(.bash) or contain a
    root are resolved, trailing dots and slashes dropped, relative to the platform root (with or
    without C(./)), relative to the referencing file's folder (C(../scripts/x.sh) from
    C(docker/)), after an install prefix from O(install_prefixes) (C(/opt/sutazaiapp/scripts/x.sh)),
    and after a variable (C($ROOT/), C(${DIR}/), C({root}/), C("$DIR"/), or a command
    substitution such as C(dirname "$0") in C($( )) followed by C(/)) relative to either. A token naming a script is a path reference; a token naming a folder
    strictly below a root is a folder reference to every script under it (the root itself is too
    broad to count); a dotted name under a root (C(scripts.tools.check)) is a module reference;
    a Python import of a sibling or root-relative module is an import reference. A bare file
    name (C(deploy.sh)) is not a reference, only a C(possible) one. A token resolving to two
    different existing files is ambiguous. Files do not reference themselves.
  - >-
    Duplicates are merged only when proven equal, by one of three rules: C(bytes)
    (byte-identical); C(python-ast) (same shebang line and the same C(ast.dump) without
    positions once every module, class and function docstring is removed; comments are not in
    the AST; when the file mentions C(__doc__) its docstrings are kept); C(shell-normal) (same
    shebang line and the same commands once comments and blank lines are dropped and runs of
    blanks outside quotes collapsed; a C(#) is a comment only where it starts a word outside
    quotes, C(${...}), arithmetic expansions and heredoc bodies, so C(${x#y}) and C("a # b") stay; text inside
    quotes, C(${...}), backquotes and heredocs is kept byte for byte; a carriage return is not
    a blank; the collection's one shell tokenizer reads the scripts, here-strings C(<<<) included). Python
    files that do not parse, non-UTF-8 files and shell files with an unterminated quote, expansion or
    heredoc, or a C(<<) inside an arithmetic expansion, are compared byte-wise only. Grouping by function names is
    never done. Symlinked scripts, files matching O(keep_names) and the generated deploy script
    are never grouped.
  - >-
    Canonical copy of a group: a member that has to stay anyway first (one with a reference that
    cannot be rewritten -- folder, module, import, ambiguous, a symlink to it or to a folder above
    it -- or named without a path outside docs), then one referenced by something other than docs, then one
    referenced by docs only, then the shortest path, then path order. Before a member is
    removed the module proves again, from the bytes, that it equals the canonical copy; a script
    that is neither byte-identical nor equal by those normal forms is never removed (the task
    fails instead). A member is kept, and listed with the reason, when it has to stay, or when it
    is executable and the canonical copy is not (modes are never changed; make the canonical copy
    executable and run again). Every path reference to a removed member, docs included, is
    rewritten in place to the canonical copy's path, written the same way (relative to the root
    or to the referencing file, C(./) kept); nothing else in those files changes, and a second
    scan of the new bytes proves no reference to a removed member is left.
  - >-
    Near duplicates: pairs whose shingle sets (5 consecutive words; words are runs of ASCII
    letters, digits and C(_)) have a Jaccard similarity at or above O(near_threshold) are
    reported with their score and purposes, never merged. Exact prefix filtering, so no pair is
    missed.
  - >-
    Archive (O(archive_unreferenced=true)): scripts referenced by nothing but docs -- and not
    named without a path outside docs -- move to O(archive_dir)C(/<path under the root>), with a
    move map in the report. References from removed or archived files do not count, computed to
    a fixed point, so a second run archives nothing more. Doc references are not rewritten.
    Files matching O(keep_names) (found by name, e.g. by pytest) are never moved. Scripts used
    only from outside the tree (cron on the host, systemd units elsewhere) look unreferenced:
    the archive is off by default.
  - >-
    Master deployment script (O(deploy_master=true)): O(deploy_master_path), mode 0755, bash
    with C(set -euo pipefail) and the actions C(deploy) (C(ansible-playbook <playbooks>.consolidate)),
    C(rollback) (C(<playbooks>.rollback)), C(validate) (C(consolidate --check --diff)) and C(help),
    passing C(sutazai_root) and C(sutazai_backup_root) and any further arguments; the root defaults
    to the folder the script belongs to. No C(git pull) self-update, no date in it: the same
    options give the same bytes. An existing file there is replaced only when it carries the
    generated marker line (an earlier version of this script); any other file is left alone
    with a warning and a summary row (the phase goes on).
  - >-
    A file that cannot be read (permissions, symlink loop) makes the phase change nothing
    (references could be missed); see O(strict). Every change is journaled under O(backup_root);
    see M(sutazai.consolidation.rollback).
extends_documentation_fragment:
  - sutazai.consolidation.phase
  - sutazai.consolidation.phase.attributes
  - sutazai.consolidation.path_patterns
options:
  roots:
    description: Script folders relative to O(root), searched recursively.
    type: list
    elements: str
    default: [scripts]
  exclude_dirs:
    description:
      - Folder names never entered, neither for scripts nor for references. O(backup_root),
        O(report_dir) and O(archive_dir) are never entered either. Files larger than 4 MiB and
        files with a NUL byte are not scanned for references.
    type: list
    elements: str
    default: [.git, node_modules, __pycache__, .tox, .mypy_cache, .pytest_cache, .venv, venv, site-packages, dist-packages, backups]
  install_prefixes:
    description: Absolute paths that stand for the platform root inside references.
    type: list
    elements: str
    default: [/opt/sutazaiapp]
  keep_names:
    description: Path patterns (see the notes; one without C(/) matches the file name in any folder) of scripts never merged, removed or archived.
    type: list
    elements: str
    default: [__init__.py, __main__.py, conftest.py, setup.py, test_*.py, '*_test.py']
  merge_duplicates:
    description: Remove proven duplicates and rewrite their references; V(false) only reports the groups.
    type: bool
    default: true
  near_threshold:
    description: Jaccard similarity (greater than 0, at most 1) from which two scripts are reported as near duplicates.
    type: float
    default: 0.8
  archive_unreferenced:
    description: Move scripts referenced by nothing but docs to O(archive_dir) (journaled).
    type: bool
    default: false
  archive_dir:
    description: Archive folder relative to O(root); must not lie under one of O(roots).
    type: str
    default: _archive/scripts
  deploy_master:
    description: Generate the master deployment script at O(deploy_master_path).
    type: bool
    default: true
  deploy_master_path:
    description: Path of the master deployment script relative to O(root).
    type: str
    default: scripts/deployment/deploy-master.sh
  deploy_master_playbooks:
    description:
      - What the deployment script runs - a collection name (playbooks C(<name>.consolidate) and
        C(<name>.rollback)) or a folder holding C(consolidate.yml) and C(rollback.yml). The
        environment variable C(SUTAZAI_PLAYBOOKS) overrides it when the script runs.
    type: str
    default: sutazai.consolidation
notes:
  - On a generated tree of about 5,400 files and 444 scripts the module works
    well under 2 seconds in check mode; see C(tests/bench/).
seealso:
  - module: sutazai.consolidation.rollback
author:
  - SutazAI consolidation team (@sutazai)
"""

EXAMPLES = r"""
- name: Plan the scripts phase (no change)
  sutazai.consolidation.script_catalog:
    root: /opt/sutazaiapp
  check_mode: true
  diff: true

- name: Merge proven duplicates, archive unused scripts, generate the deploy script
  sutazai.consolidation.script_catalog:
    root: /opt/sutazaiapp
    archive_unreferenced: true
    near_threshold: 0.85
    roots: [scripts, tools/scripts]
"""

RETURN = r"""
blocked:
  description: True when the phase could not proceed safely and changed nothing (O(strict=false)).
  returned: always
  type: bool
stats:
  description: Counts of the phase.
  returned: when not blocked
  type: dict
  contains:
    scripts:
      description: Scripts inventoried.
      type: int
    python:
      description: Python scripts among them.
      type: int
    shell:
      description: Shell scripts among them.
      type: int
    files_scanned:
      description: Files searched for references.
      type: int
    references:
      description: References found, over all scripts.
      type: int
    duplicate_groups:
      description: Groups of scripts proven equal (entries of RV(duplicates)).
      type: int
    removed:
      description: Duplicates removed (in check mode, that would be).
      type: int
    kept_duplicates:
      description: Duplicates kept, with the reason, in RV(duplicates).
      type: int
    references_rewritten:
      description: References rewritten to the canonical copy.
      type: int
    files_rewritten:
      description: Files whose references are rewritten.
      type: int
    near_duplicates:
      description: Near-duplicate pairs (entries of RV(near_duplicates)).
      type: int
    unreferenced:
      description: Scripts referenced by nothing but docs.
      type: int
    archived:
      description: Scripts moved to O(archive_dir) (in check mode, that would be).
      type: int
    unparsed:
      description: Python scripts that do not parse (entries of RV(unparsed)).
      type: int
    linked:
      description: Scripts reached through a symlink.
      type: int
  sample:
    scripts: 444
    python: 207
    shell: 237
    files_scanned: 3620
    references: 981
    duplicate_groups: 0
    removed: 0
    kept_duplicates: 0
    references_rewritten: 0
    files_rewritten: 0
    near_duplicates: 14
    unreferenced: 120
    archived: 0
    unparsed: 1
    linked: 0
inventory:
  description: One entry per script, path order.
  returned: when not blocked
  type: list
  elements: dict
  contains:
    path:
      description: The script, relative to O(root).
      type: str
    kind:
      description: C(python) or C(shell).
      type: str
    category:
      description: The first folder under the script root; C((top)) for a file directly in it.
      type: str
    size:
      description: Size in bytes.
      type: int
    mode:
      description: File mode, four octal digits.
      type: str
    purpose:
      description: One line (at most 100 characters) saying what the script does; empty when none is found.
      type: str
    references:
      description: Counts of the references to the script, one key per kind of referencing file.
      type: dict
      contains:
        <kind>:
          description: >-
            References from files of that kind (C(compose), C(ci), C(makefile), C(dockerfile), C(script),
            C(config), C(symlink), C(docs)), folder references included; C(possible) counts the mentions of
            the bare file name, which keep nothing in use.
          type: int
    linked:
      description: Whether the script is reached through a symlink.
      type: bool
    parse_error:
      description: Why a Python script does not parse, or null.
      type: dict
      contains:
        path:
          description: The script, relative to O(root).
          type: str
        line:
          description: 1-based line of the syntax error; null or absent when unknown.
          type: int
        column:
          description: 1-based column of the syntax error; null or absent when unknown.
          type: int
        kind:
          description: Always C(python_syntax).
          type: str
        message:
          description: The parser's message.
          type: str
  sample:
    - path: scripts/deployment/deploy.sh
      kind: shell
      category: deployment
      size: 5120
      mode: "0755"
      purpose: Deploy every SutazAI service with docker compose
      references: {ci: 1, makefile: 2, docs: 3, possible: 1}
      linked: false
      parse_error: null
duplicates:
  description: Groups proven equal, sorted by canonical path.
  returned: when not blocked
  type: list
  elements: dict
  contains:
    rule:
      description: >-
        The rule proven, C(bytes) (identical files), C(python-ast) or C(shell-normal); rules of several
        members are joined with C(+).
      type: str
    canonical:
      description: The copy that stays, relative to O(root).
      type: str
    members:
      description: Every member, the canonical copy first.
      type: list
      elements: dict
      contains:
        path:
          description: The member, relative to O(root).
          type: str
        action:
          description: C(canonical), C(removed) or C(kept).
          type: str
        proof:
          description: >-
            The rule proven for the member (C(bytes), C(python-ast) or C(shell-normal)); null for the
            canonical.
          type: str
        reason:
          description: Why the member is kept; null unless the action is C(kept).
          type: str
  sample:
    - rule: bytes
      canonical: scripts/utils/backup.sh
      members:
        - {path: scripts/utils/backup.sh, action: canonical, proof: null, reason: null}
        - {path: scripts/legacy/backup.sh, action: removed, proof: bytes, reason: null}
near_duplicates:
  description: Pairs with their Jaccard score (3 decimals), best first; never merged.
  returned: when not blocked
  type: list
  elements: dict
  contains:
    a:
      description: The first script, relative to O(root).
      type: str
    b:
      description: The second script.
      type: str
    score:
      description: Token-shingle Jaccard similarity, from O(near_threshold) to 1.
      type: float
  sample: [{a: scripts/monitoring/check_a.py, b: scripts/monitoring/check_b.py, score: 0.874}]
references_rewritten:
  description: Every rewritten reference.
  returned: when not blocked
  type: list
  elements: dict
  contains:
    file:
      description: The file holding the reference, relative to O(root).
      type: str
    line:
      description: 1-based line of the reference.
      type: int
    kind:
      description: Kind of the file (compose, ci, makefile, dockerfile, script, config, docs).
      type: str
    old:
      description: The path text before.
      type: str
    new:
      description: The path text after.
      type: str
  sample: [{file: Makefile, line: 12, kind: makefile, old: scripts/legacy/backup.sh, new: scripts/utils/backup.sh}]
references:
  description:
    - Every reference found, in script path order.
    - A reference that names one script has C(script). A C(folder) reference (a path to a folder
      above scripts, a dotted package name, a symlinked folder) counts for every script under the
      folder; it is listed once, with C(folder) and C(scripts) (the number of scripts under it) in
      place of C(script). C(inventory[].references) counts it for each script.
  returned: when not blocked
  type: list
  elements: dict
  contains:
    script:
      description: The script the reference names (absent for a folder reference).
      type: str
    folder:
      description: The folder a folder reference names (folder references only).
      type: str
    scripts:
      description: How many scripts are under that folder (folder references only).
      type: int
    source:
      description: The referencing file, relative to the root.
      type: str
    line:
      description: 1-based line of the reference in C(source).
      type: int
    kind:
      description: Kind of the referencing file (compose, ci, makefile, dockerfile, script, config, symlink, docs).
      type: str
    form:
      description: C(path), C(folder), C(module), C(import), C(link) or C(possible) (the bare file name, not counted).
      type: str
    rewritable:
      description: Whether the path text can be replaced by another script's path.
      type: bool
    note:
      description: Why it cannot be rewritten, or null.
      type: str
  sample:
    - {script: scripts/deploy.sh, source: Makefile, line: 12, kind: makefile, form: path, rewritable: true, note: null}
    - {folder: scripts/monitoring, scripts: 14, source: docker-compose.yml, line: 88, kind: compose, form: folder,
       rewritable: false, note: "folder reference (scripts/monitoring)"}
archive:
  description: Archive moves made or planned, and unreferenced scripts left in place.
  returned: when not blocked
  type: dict
  contains:
    moves:
      description: The scripts moved to O(archive_dir) (in check mode, that would be).
      type: list
      elements: dict
      contains:
        from:
          description: The script, relative to O(root).
          type: str
        to:
          description: Its path in the archive, relative to O(root).
          type: str
    left:
      description: Unreferenced scripts not moved, and why.
      type: list
      elements: dict
      contains:
        path:
          description: The script, relative to O(root).
          type: str
        reason:
          description: Why it stays.
          type: str
    unreferenced:
      description: Scripts referenced by nothing but docs (after the merge).
      type: list
      elements: str
  sample: {moves: [{from: scripts/old/x.sh, to: _archive/scripts/old/x.sh}], left: [], unreferenced: [scripts/old/x.sh]}
unparsed:
  description: Python scripts that do not parse; compared byte-wise only.
  returned: when not blocked
  type: list
  elements: dict
  contains:
    path:
      description: The script, relative to O(root).
      type: str
    line:
      description: 1-based line of the syntax error; null or absent when unknown.
      type: int
    column:
      description: 1-based column of the syntax error; null or absent when unknown.
      type: int
    kind:
      description: Always C(python_syntax).
      type: str
    message:
      description: The parser's message.
      type: str
deploy_master:
  description: The master deployment script (O(deploy_master_path)).
  returned: always
  type: dict
  contains:
    path:
      description: Its path, relative to O(root).
      type: str
    status:
      description: >-
        C(created), C(updated), C(unchanged) (in check mode, what would happen), C(left alone) (another
        file is there, or its folder leads out of the root) or C(disabled) (O(deploy_master=false)).
      type: str
    reason:
      description: Why it is left alone; null otherwise.
      type: str
  sample: {path: scripts/deployment/deploy-master.sh, status: created, reason: null}
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
skipped_files:
  description: Tree entries and files not read.
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
      sample: scripts
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
        Report sections, by title -- C(Script inventory), C(Duplicate groups (proven equal)),
        C(References rewritten), the near duplicates, C(Scripts stating the same purpose), C(Python
        scripts that do not parse (compared byte-wise only)), the archive move map or the unreferenced
        scripts, C(References) and C(Master deployment script).
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
        Short machine-readable category, for example C(unreadable), C(not_utf8), C(symlink_loop),
        C(proof_failed), or C(outside_root) for a change that would act outside the root through a
        symlink.
      type: str
    message:
      description: What is wrong; never holds a secret value.
      type: str
"""

import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.sutazai.consolidation.plugins.module_utils import _scripts
from ansible_collections.sutazai.consolidation.plugins.module_utils._changes import ChangeSet
from ansible_collections.sutazai.consolidation.plugins.module_utils._phase import (
    PHASE_ARGUMENT_SPEC, blocked, check_root, finish, phase_paths)
from ansible_collections.sutazai.consolidation.plugins.module_utils._diff import diff_payload
from ansible_collections.sutazai.consolidation.plugins.module_utils._errors import ConsolidationError
from ansible_collections.sutazai.consolidation.plugins.module_utils._fileio import read_bytes, text_or_none
from ansible_collections.sutazai.consolidation.plugins.module_utils._tree import is_inside, safe_join, undecodable_warning

PHASE = "scripts"


def _deploy_master(module, root, rel, changes):
    p = module.params
    if not p["deploy_master"]:
        return {"path": rel, "status": "disabled", "reason": None}
    data = _scripts.deploy_master_script(rel, p["deploy_master_playbooks"])
    path = safe_join(root, rel)
    parent = os.path.dirname(path)
    while not os.path.lexists(parent) and parent != root:
        parent = os.path.dirname(parent)
    if not is_inside(os.path.realpath(parent), os.path.realpath(root)):
        return {"path": rel, "status": "left alone", "reason": "its folder leads out of the root"}
    if os.path.islink(path) or os.path.isdir(path):
        return {"path": rel, "status": "left alone", "reason": "a symlink or folder is there"}
    if os.path.exists(path):
        try:
            existing = read_bytes(path, rel)
        except ConsolidationError as exc:
            return {"path": rel, "status": "left alone", "reason": exc.message}
        mode = os.stat(path).st_mode & 0o7777
        if existing == data and mode == 0o755:
            return {"path": rel, "status": "unchanged", "reason": None}
        head = existing.split(b"\n", 3)[:3]
        if _scripts.DEPLOY_MASTER_MARKER.encode("utf-8") not in head:
            return {"path": rel, "status": "left alone",
                    "reason": "another file is there (no generated marker line); remove or move it to generate the script"}
        changes.write(rel, data, mode=0o755)
        return {"path": rel, "status": "updated", "reason": None}
    changes.write(rel, data, mode=0o755)
    return {"path": rel, "status": "created", "reason": None}


def _diffs(changes, moves):
    move_from = dict((mv["from"], mv["to"]) for mv in moves)
    move_to = set(mv["to"] for mv in moves)
    out = []
    for op in changes.ops:
        rel = op["path"]
        if op["op"] == "write" and rel in move_to:
            continue
        if op["op"] == "remove" and rel in move_from:
            out.append({"before_header": "%s (before)" % rel, "after_header": "%s (after)" % move_from[rel],
                        "before": "moved: %s\n" % rel, "after": "moved: %s\n" % move_from[rel]})
            continue
        path = safe_join(changes.root, rel)
        before = text_or_none(path) if os.path.lexists(path) else None
        after = None
        if op["op"] == "write":
            try:
                after = op["data"].decode("utf-8")
            except UnicodeDecodeError:
                after = "<binary or undecodable content, %d bytes>" % len(op["data"])
        out.append(diff_payload(rel, before, after))
    return out


def _rows(plan, stats, deploy, archive):
    n = stats["scripts"]
    after = n - stats["removed"] - stats["archived"] + (1 if deploy["status"] == "created" else 0)
    by_rule = {}
    for g in plan.groups:
        by_rule[g["rule"]] = by_rule.get(g["rule"], 0) + 1
    rules = ", ".join("%s %d" % (k, by_rule[k]) for k in sorted(by_rule))
    rows = [
        {"item": "Scripts (py %d, shell %d)" % (stats["python"], stats["shell"]), "before": n, "after": after},
        {"item": "Proven duplicate groups%s" % (" (%s)" % rules if rules else ""), "before": stats["duplicate_groups"],
         "after": "-"},
        {"item": "Duplicates removed (kept, see report)", "before": "-",
         "after": "%d (%d)" % (stats["removed"], stats["kept_duplicates"])},
        {"item": "References rewritten (files)", "before": "-",
         "after": "%d (%d)" % (stats["references_rewritten"], stats["files_rewritten"])},
        {"item": "Near-duplicate pairs (reported only)", "before": stats["near_duplicates"], "after": "-"},
        {"item": "Unreferenced scripts (docs only)%s" % ("" if archive else ", archive off"),
         "before": stats["unreferenced"], "after": ("%d archived" % stats["archived"]) if archive else "-"},
        {"item": "Python scripts that do not parse", "before": stats["unparsed"], "after": "-"},
        {"item": "Master deployment script", "before": "-", "after": deploy["status"]},
    ]
    return rows


def main():
    argument_spec = dict(PHASE_ARGUMENT_SPEC)
    argument_spec.update(
        roots=dict(type="list", elements="str", default=list(_scripts.DEFAULT_ROOTS)),
        exclude_dirs=dict(type="list", elements="str", default=list(_scripts.DEFAULT_EXCLUDE_DIRS)),
        install_prefixes=dict(type="list", elements="str", default=list(_scripts.DEFAULT_INSTALL_PREFIXES)),
        keep_names=dict(type="list", elements="str", default=list(_scripts.DEFAULT_KEEP_NAMES)),
        merge_duplicates=dict(type="bool", default=True),
        near_threshold=dict(type="float", default=_scripts.DEFAULT_NEAR_THRESHOLD),
        archive_unreferenced=dict(type="bool", default=False),
        archive_dir=dict(type="str", default=_scripts.DEFAULT_ARCHIVE_DIR),
        deploy_master=dict(type="bool", default=True),
        deploy_master_path=dict(type="str", default=_scripts.DEFAULT_DEPLOY_MASTER),
        deploy_master_playbooks=dict(type="str", default=_scripts.DEFAULT_PLAYBOOKS),
    )
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    p = module.params
    root, backup_root, report_dir = phase_paths(p)
    check_root(module, root)
    base = dict(changes=[], skipped_files=[], journal=None,
                deploy_master={"path": p["deploy_master_path"], "status": "disabled", "reason": None})
    if not 0 < p["near_threshold"] <= 1:
        module.fail_json(msg="near_threshold must be greater than 0 and at most 1, got %s" % p["near_threshold"], **base)
    roots = [_scripts.norm_root(r) for r in p["roots"]]
    try:
        archive_dir = os.path.relpath(safe_join(root, p["archive_dir"]), root).replace(os.sep, "/")
        safe_join(root, p["deploy_master_path"])
        for r in roots:
            safe_join(root, r or ".")
    except ValueError as exc:
        module.fail_json(msg=str(exc), **base)
    if any(_scripts.under(archive_dir, r) for r in roots):
        module.fail_json(msg="archive_dir %s lies under a script root; archived scripts would be inventoried again"
                         % archive_dir, **base)
    deploy_rel = os.path.normpath(p["deploy_master_path"]).replace(os.sep, "/")
    try:
        _scripts.deploy_master_script(deploy_rel, p["deploy_master_playbooks"])
    except ValueError as exc:
        module.fail_json(msg=str(exc), **base)

    try:
        plan = _scripts.plan_scripts(
            root, roots=roots, exclude_dirs=p["exclude_dirs"],
            exclude_paths=(backup_root, report_dir, os.path.join(root, archive_dir)),
            install_prefixes=p["install_prefixes"], keep_names=p["keep_names"], near_threshold=p["near_threshold"],
            merge=p["merge_duplicates"], archive=p["archive_unreferenced"], archive_dir=archive_dir,
            protected=[deploy_rel] if p["deploy_master"] else [])
    except ConsolidationError as exc:
        module.fail_json(msg="scripts phase refused: %s" % exc, errors=[exc.as_dict()], **base)
    base["skipped_files"] = plan.skipped
    name_warning = undecodable_warning(plan.skipped, PHASE)
    if name_warning:
        module.warn(name_warning)
    if plan.errors:
        blocked(module, PHASE, "%d file(s) could not be read, so references could be missed" % len(plan.errors),
                plan.errors, **base)

    changes = ChangeSet(root)
    moved = dict((mv["from"], mv["to"]) for mv in plan.moves)
    for rel in sorted(plan.edits):
        if rel not in moved:
            changes.write(rel, plan.edits[rel])
    by_rel = dict((s.rel, s) for s in plan.scripts)
    for mv in plan.moves:
        s = by_rel[mv["from"]]
        changes.write(mv["to"], plan.edits.get(mv["from"], s.data), mode=s.mode)
        changes.remove(mv["from"])
    for rel in plan.removals:
        changes.remove(rel)
    deploy = _deploy_master(module, root, deploy_rel, changes)
    if deploy["status"] == "left alone":
        module.warn("scripts: %s left alone: %s" % (deploy["path"], deploy["reason"]))
    for g in plan.groups:
        for m in g["members"]:
            if m["action"] == "kept":
                module.warn("scripts: duplicate %s of %s kept: %s" % (m["path"], g["canonical"], m["reason"]))

    unparsed = [dict(s.parse_error, path=s.rel) for s in plan.scripts if s.parse_error]
    stats = {
        "scripts": len(plan.scripts),
        "python": sum(1 for s in plan.scripts if s.kind == "python"),
        "shell": sum(1 for s in plan.scripts if s.kind == "shell"),
        "files_scanned": plan.files_scanned,
        "references": sum(len(v) for v in plan.refs.values()),
        "duplicate_groups": len(plan.groups),
        "removed": len(plan.removals),
        "kept_duplicates": sum(1 for g in plan.groups for m in g["members"] if m["action"] == "kept"),
        "references_rewritten": len(plan.rewrites),
        "files_rewritten": len(plan.edits),
        "near_duplicates": len(plan.near),
        "unreferenced": len(plan.unreferenced),
        "archived": len(plan.moves),
        "unparsed": len(unparsed),
        "linked": sum(1 for s in plan.scripts if s.linked),
    }
    listing = _scripts.reference_listing(plan)
    summary = {"details": _scripts.details(plan, p["near_threshold"], p["archive_unreferenced"], deploy, listing)}
    result = dict(base)
    result.update(
        blocked=False,
        stats=stats,
        inventory=_scripts.inventory(plan),
        duplicates=plan.groups,
        near_duplicates=plan.near,
        references_rewritten=plan.rewrites,
        references=listing,
        archive={"moves": plan.moves, "left": plan.archive_left, "unreferenced": plan.unreferenced},
        unparsed=unparsed,
        deploy_master=deploy,
        changes=changes.summary(),
        summary=summary,
    )
    finish(module, PHASE, changes, root, backup_root, result, _rows(plan, stats, deploy, p["archive_unreferenced"]),
           base, diff=lambda: _diffs(changes, plan.moves))


if __name__ == "__main__":
    main()
