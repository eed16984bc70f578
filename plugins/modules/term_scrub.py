#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026 sutazai.consolidation contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: term_scrub
short_description: Report fantasy terms in the SutazAI docs and comments, and replace them where a replacement is given
version_added: 0.3.0
description:
  - Term phase (term cleanup). Searches the
    tree for the terms of O(term_map) and reports every occurrence, per term and per file; replaces
    the terms that have a replacement, journaled, never leaving C(.bak) files.
  - >-
    Default: report only. Without O(term_map) the phase searches for C(quantum), C(AGI), C(ASI),
    C(telekinesis), C(teleport), C(teleportation), C(magic), C(dream), C(consciousness) and
    C(conscious) and changes nothing. Inflected forms are separate terms (C(dream) does not find
    C(dreams)); C(conscious) is there for "conscious AI" claims, and compounds such as
    C(cost-conscious) are not whole words (next point).
  - >-
    Whole words: an occurrence must not touch a letter, digit, C(_) or C(-) on either side, so
    C(AGI) is not found in C(AGILE) or C(LocalAGI), C(magic) not in C(magical) or C(python-magic),
    C(quantum) not in C(quantum-planner) or C(quantum_state). Nor may it follow C(=), C(@), C($),
    C(#), C(~), C(%), C(/) or a backslash, precede C(=), C(@), C(/), an opening parenthesis (a call)
    or a backslash, or sit next to C(.) or C(:) that joins it to a word (C(quantum.md), C(image:quantum)). A term of several words matches them separated by
    exactly one space, on one line. A term that is a part of a hyphenated compound which is itself
    a whole word (C(Quantum-Inspired), C(quantum-level), C(performance-conscious)) is reported and
    left alone, since ids and names are written so (C(quantum-planner)).
  - >-
    Case: a term written in lower case matches in any case and keeps it (C(quantum) -> C(theoretical),
    C(Quantum) -> C(Theoretical), C(QUANTUM) -> C(THEORETICAL), any other mix -> the replacement as
    written). A term holding a capital (an acronym such as C(AGI), a name) matches only exactly as
    written and gets the replacement as written.
  - >-
    Never edited, in any scope: URLs, e-mail addresses, whitespace-delimited chunks holding C(/) or
    a backslash (paths), Markdown link destinations and reference definitions (a link text is prose),
    HTML tags and autolinks, the content of HTML C(code), C(pre), C(kbd), C(samp), C(tt), C(script)
    and C(style) elements, C($VAR), C(${VAR}) and command substitutions; inline code spans, fenced and indented
    Markdown code blocks (reported as C(code)); Markdown YAML front matter (data the agents phase
    reads; a front matter block without its closing C(---) makes the whole file front matter);
    YAML scalar values and JSON (reported as C(data)); Python identifiers (reported as needing a
    rename, see O(scope)); bytes literals.
  - >-
    Files searched (base names): Markdown C(*.md), C(*.markdown) (prose); Python C(*.py) (comments,
    docstrings, and see O(scope); positions from Python's tokenizer, docstrings from its AST, the
    text parts of f-strings from libcst); shell C(*.sh), C(*.bash) (a C(#) where a new word
    starts, outside quotes, C(${...}) and arithmetic; here-document bodies
    (C(<<EOF), C(<<-EOF), C(<<'EOF'), C(<<"EOF"), C(<<\EOF)) are data and never edited); YAML C(*.yml), C(*.yaml) (a C(#) at a
    line start or after whitespace outside every scalar of the YAML scanner, block scalars included);
    Dockerfiles C(Dockerfile), C(Dockerfile.*), C(*.Dockerfile) (whole-line comments, not parser
    directives or here-document bodies); JSON C(*.json) (report only). Other files, binary files
    (NUL bytes), files over 4 MiB and files reached through a symlink (searched where they point)
    are not searched.
  - >-
    Files holding a term that cannot be read, decoded as UTF-8 or parsed (Python 2 or other invalid
    Python, invalid YAML, a shell quote or here-document never closed) are listed with file, line and column in RV(invalid), warned about and left
    alone; the other files are still searched and edited.
  - >-
    Edits change only the replaced words; every other byte (line ends, BOM, indentation) stays as
    it was. An edited Python file must still compile and keep the same AST once its docstrings are
    blanked (O(scope=all) -- once every string is blanked); when that proof fails the phase changes
    nothing (blocked, see O(strict)).
  - >-
    Every edited file is journaled under O(backup_root) before it is written; see
    M(sutazai.consolidation.rollback).
extends_documentation_fragment:
  - sutazai.consolidation.phase
  - sutazai.consolidation.phase.attributes
  - sutazai.consolidation.path_patterns
options:
  term_map:
    description:
      - Terms to search for, with their replacement; a null replacement reports the term and never
        edits it. Unset or empty -- the default report-only map of the description.
      - A term is words of letters and digits joined by single spaces or hyphens.
      - >-
        Refused (the module fails, nothing is searched): two terms equal but for case, a no-op entry
        (replacement equal to its term but for case), a replacement holding a mapped term as a whole
        word (the next run would find it again), an empty replacement, one with leading, trailing or
        doubled spaces, or with characters other than letters, digits, spaces, hyphens, full stops,
        commas, parentheses, C(&), C(+) and C(/).
        YAML keeps only the last of two equal keys, so exact duplicates never reach the module.
    type: dict
  scope:
    description:
      - V(docs) -- Markdown prose, and comments and docstrings of Python, shell, YAML and Dockerfiles.
        Occurrences in Python string literals and identifiers are reported as left alone.
      - >-
        V(all) -- also the text of Python string literals (f-strings: the literal parts only, never
        the expressions; not bytes; not a string without whitespace, which is a key or a name and is
        reported as left alone). Identifiers whose parts (split at C(_) and case changes, as in
        C(QuantumPlanner)) hold a term are reported as needing a rename and never edited: a safe rename
        would have to follow every import and dynamic reference of the tree.
    type: str
    choices: [docs, all]
    default: docs
  exclude:
    description:
      - Path patterns never searched (see the notes for the syntax). C(tests) leaves out every
        folder or file named so and everything in such a folder, C(*.min.md) those files,
        C(docs/legacy/*) matches from the root, C(docker/templates) the folder's content.
      - The default leaves out test folders, backups and archives, and the files other phases of
        the collection generate (their next run would rewrite an edit). O(backup_root) and
        O(report_dir) are never searched.
    type: list
    elements: str
    default: [tests, test, backups, backup, archive, archives, _archive, docker/templates,
              scripts/deployment/deploy-master.sh, config/agents/master_registry.json,
              config/services/master_registry.yaml, config/port-registry-actual.yaml]
notes:
  - Files holding none of the terms even as a substring are not parsed, so a tree of thousands of
    files is searched in well under a second; see RV(stats).
  - Terms that differ only in case and no-op entries (a term replaced by itself) are refused (see
    O(term_map)); edits are journaled and no C(.bak) files are left behind.
seealso:
  - module: sutazai.consolidation.rollback
author:
  - SutazAI consolidation team (@sutazai)
requirements:
  - libcst (f-strings)
  - PyYAML
"""

EXAMPLES = r"""
- name: Report the fantasy terms (default map, no change)
  sutazai.consolidation.term_scrub:
    root: /opt/sutazaiapp

- name: Replace two terms in docs and comments, report the others
  sutazai.consolidation.term_scrub:
    root: /opt/sutazaiapp
    term_map:
      quantum: theoretical
      AGI: general AI
      magic: null
      dream: null

- name: Also edit Python string literals, plan only
  sutazai.consolidation.term_scrub:
    root: /opt/sutazaiapp
    term_map: {quantum: theoretical}
    scope: all
    exclude: [tests, backups, docs/archive]
  check_mode: true
  diff: true
"""

RETURN = r"""
blocked:
  description: True when the phase could not proceed safely and changed nothing (O(strict=false)).
  returned: always
  type: bool
term_map:
  description: The term map used, in map order.
  returned: always
  type: list
  elements: dict
  contains:
    term:
      description: The term.
      type: str
    replacement:
      description: Its replacement; null for a term that is only reported.
      type: str
    exact_case:
      description: True for a term holding a capital (it matches exactly); lower-case terms match in any case.
      type: bool
  sample: [{term: quantum, replacement: theoretical, exact_case: false}, {term: AGI, replacement: null, exact_case: true}]
stats:
  description: Counts.
  returned: always
  type: dict
  contains:
    files_searched:
      description: Files searched.
      type: int
    files_with_terms:
      description: Files holding at least one term (entries of RV(files)).
      type: int
    files_edited:
      description: Files edited (in check mode, that would be).
      type: int
    occurrences:
      description: Occurrences found, all of them (RV(occurrences) lists at most 1000).
      type: int
    replaced:
      description: Occurrences replaced (in check mode, that would be).
      type: int
    report_only:
      description: Occurrences of terms without replacement in editable text.
      type: int
    left_alone:
      description: >-
        Occurrences in text the phase never edits (code, front matter, data, identifiers, strings
        outside the scope).
      type: int
    invalid_files:
      description: Entries of RV(invalid).
      type: int
    skipped_files:
      description: Entries of RV(skipped_files).
      type: int
  sample:
    files_searched: 372
    files_with_terms: 27
    files_edited: 0
    occurrences: 57
    replaced: 0
    report_only: 35
    left_alone: 22
    invalid_files: 1
    skipped_files: 1
terms:
  description: Per term, in map order.
  returned: always
  type: list
  elements: dict
  contains:
    term:
      description: The term.
      type: str
    replacement:
      description: Its replacement, or null.
      type: str
    occurrences:
      description: Its occurrences.
      type: int
    replaced:
      description: Occurrences replaced (in check mode, that would be).
      type: int
    report_only:
      description: Occurrences only reported.
      type: int
    left_alone:
      description: Occurrences left alone.
      type: int
    files:
      description: Files holding it.
      type: int
  sample: [{term: quantum, replacement: null, occurrences: 19, replaced: 0, report_only: 3, left_alone: 16, files: 9}]
files:
  description: Per file holding a term (path order), counts by term, by kind and by reason left alone.
  returned: always
  type: list
  elements: dict
  contains:
    path:
      description: The file, relative to O(root).
      type: str
    occurrences:
      description: Occurrences in the file.
      type: int
    replaced:
      description: Occurrences replaced (in check mode, that would be).
      type: int
    terms:
      description: Occurrences per term, one key per term found.
      type: dict
      contains:
        <term>:
          description: Occurrences of the term.
          type: int
    kinds:
      description: Occurrences per kind of text, one key per kind found (see RV(occurrences[].kind)).
      type: dict
      contains:
        <kind>:
          description: Occurrences in that kind of text.
          type: int
    left_alone:
      description: Occurrences left alone, one key per reason.
      type: dict
      contains:
        <reason>:
          description: Occurrences left alone for that reason.
          type: int
  sample:
    - path: docs/vision.md
      occurrences: 3
      replaced: 2
      terms: {quantum: 2, magic: 1}
      kinds: {prose: 2, code: 1}
      left_alone: {"code (Markdown code block or code span)": 1}
occurrences:
  description: Every occurrence, at most 1000 (the counts cover all), in path order.
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
    column:
      description: 1-based column, in characters.
      type: int
    term:
      description: The term, as in the map.
      type: str
    found:
      description: The text as written.
      type: str
    kind:
      description: C(prose), C(comment), C(docstring), C(string), C(identifier), C(code), C(front matter) or C(data).
      type: str
    action:
      description: C(replace), C(report) or C(leave).
      type: str
    reason:
      description: Why it is left alone or only reported; null for C(replace).
      type: str
    replacement:
      description: The text written, for C(replace); null otherwise.
      type: str
  sample: [{path: docs/vision.md, line: 3, column: 5, term: quantum, found: Quantum, kind: prose,
            action: replace, reason: null, replacement: Theoretical}]
changes:
  description: Files modified (or that would be, in check mode).
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
  sample: [{path: docs/vision.md, action: modify}]
invalid:
  description: Files that could not be read, decoded or parsed; not searched, left alone.
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
        Short machine-readable category, for example C(not_utf8), C(unreadable), C(syntax),
        C(invalid_yaml) or C(unparsed).
      type: str
    message:
      description: What is wrong; never holds a secret value.
      type: str
skipped_files:
  description: Files and tree entries not searched, e.g. binary files, files reached through a symlink.
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
      sample: terms
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
        Report sections -- the terms, the occurrences by file and term with kinds and lines, and the
        files not searched.
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
  description: When blocked, the edits that failed their proof.
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
        Short machine-readable category, for example C(proof) (an edit that could not be proven to leave
        the code as it was), or C(outside_root) for a change that would act outside the root through a
        symlink.
      type: str
    message:
      description: What is wrong; never holds a secret value.
      type: str
"""

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.sutazai.consolidation.plugins.module_utils import _terms
from ansible_collections.sutazai.consolidation.plugins.module_utils._changes import ChangeSet
from ansible_collections.sutazai.consolidation.plugins.module_utils._phase import (
    PHASE_ARGUMENT_SPEC, blocked, check_root, finish, phase_paths)
from ansible_collections.sutazai.consolidation.plugins.module_utils._errors import ConsolidationError
from ansible_collections.sutazai.consolidation.plugins.module_utils._tree import undecodable_warning

PHASE = "terms"
MAX_WARNINGS = 10


def _rows(stats):
    rows = [
        {"item": "Term occurrences (files)", "before": "%d (%d)" % (stats["occurrences"], stats["files_with_terms"]),
         "after": "%d" % (stats["occurrences"] - stats["replaced"])},
        {"item": "Occurrences replaced", "before": stats["replaced"], "after": 0},
        {"item": "Report only / left alone", "before": "%d / %d" % (stats["report_only"], stats["left_alone"]),
         "after": "%d / %d" % (stats["report_only"], stats["left_alone"])},
        {"item": "Files edited", "before": "-", "after": stats["files_edited"]},
    ]
    if stats["invalid_files"]:
        rows.append({"item": "Files not searched (invalid)", "before": stats["invalid_files"], "after": "-"})
    return rows


def main():
    argument_spec = dict(PHASE_ARGUMENT_SPEC)
    argument_spec.update(
        term_map=dict(type="dict"),
        scope=dict(type="str", choices=list(_terms.SCOPES), default="docs"),
        exclude=dict(type="list", elements="str", default=list(_terms.DEFAULT_EXCLUDE)),
    )
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    if not _terms.HAS_LIBCST:
        module.fail_json(msg=missing_required_lib("libcst"))
    if not _terms.HAS_YAML:
        module.fail_json(msg=missing_required_lib("PyYAML"))
    p = module.params
    root, backup_root, report_dir = phase_paths(p)
    check_root(module, root)
    base = dict(term_map=[], stats={}, terms=[], files=[], occurrences=[], changes=[], invalid=[], skipped_files=[],
                journal=None)
    try:
        tmap = _terms.build_term_map(p["term_map"])
    except ValueError as exc:
        module.fail_json(msg=str(exc), **base)
    base["term_map"] = tmap.as_list()
    plan = _terms.plan_scrub(root, tmap, scope=p["scope"], exclude=p["exclude"],
                             exclude_paths=(backup_root, report_dir))
    stats, per_term, per_file = _terms.tally(plan, tmap)
    base.update(stats=stats, terms=per_term, files=per_file, occurrences=_terms.occurrence_list(plan),
                invalid=plan.invalid, skipped_files=plan.skipped)
    name_warning = undecodable_warning(plan.skipped, PHASE)
    if name_warning:
        module.warn(name_warning)
    if plan.blocked:
        blocked(module, PHASE, "%d edit(s) could not be proven to leave the code as it was" % len(plan.blocked),
                plan.blocked, _rows(dict(stats, replaced=0, files_edited=0)), **base)

    for e in plan.invalid[:MAX_WARNINGS]:
        module.warn("not searched, left alone: %s" % ConsolidationError(e["message"], e["path"], e["line"], e["column"]))
    if len(plan.invalid) > MAX_WARNINGS:
        module.warn("%d more file(s) not searched (see invalid)" % (len(plan.invalid) - MAX_WARNINGS))

    changes = ChangeSet(root)
    for rel, data in plan.writes:
        changes.write(rel, data)
    result = dict(base)
    result.update(blocked=False, changes=changes.summary(),
                  summary={"details": _terms.details(plan, p["scope"], per_term, module.check_mode)})
    finish(module, PHASE, changes, root, backup_root, result, _rows(stats), base)


if __name__ == "__main__":
    main()
