#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026 sutazai.consolidation contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: env_files
short_description: Merge the SutazAI environment files into .env.master, .env.production and an example file
version_added: 0.2.0
description:
  - Env phase.
  - >-
    Finds every env file under O(root) matching O(patterns) (default C(.env), C(.env.*), C(*.env) in any
    folder and C(config/**/*.env*)). Files ending in C(.example) or C(.template) are not merged; they
    feed the example file. Symlinks are not read (their target is). Backups, reports, C(.git),
    C(node_modules) and virtualenvs are never read. A file or folder whose name is not valid UTF-8 is
    skipped and listed in RV(skipped_files) with C(\\xNN) escapes, with a warning.
  - >-
    Parses each file the way Docker Compose reads env files, with python-dotenv's parser and
    Compose's rules where they differ: single-quoted values are literal, an C(export) prefix is
    allowed, quoted values may span lines, C( #) starts a comment after an unquoted value. A key
    assigned twice in one file: the last assignment wins, with a warning. A line that is not an
    assignment is an error naming file and line (O(on_invalid)), and so is a control character (NUL or
    another C0 character but tab) anywhere in a file, named with file, line and column; such a file is
    never merged. Values are not interpolated.
  - >-
    Priority, highest first: the files in O(priority) (root-relative), then every other env file in path
    order. The value a key had before is the one from the highest-priority file that defines it.
  - >-
    Writes C(.env.master) (mode 0600): every key of every merged file but C(.env.production), each with
    the exact line of the file that won, grouped under C(# --- source: <path> ---) headers.
    Rewrites C(.env.production) (mode 0600) to the keys whose value differs from C(.env.master).
    Writes C(.env.local.example) with every key, secret values replaced by C(change-me).
    Makes C(.env) a relative symlink to C(.env.master). Removes the other merged files (O(keep_sources));
    a merged file named C(.env) in a sub-folder becomes a relative symlink to C(.env.master) instead, so
    Compose files in that folder still find their interpolation values.
  - >-
    Invariant, checked before anything is written: for every key, C(.env.master) overlaid with
    C(.env.production) gives exactly the value of the old priority order; otherwise the module fails
    and writes nothing.
  - >-
    C(env_file:) entries of Compose files (C(docker-compose*.yml), C(compose*.yml)) that point at a
    removed file are rewritten to C(.env.master), editing only those scalars so comments, order and
    anchors stay as they are. With no env file to merge the module changes nothing.
  - >-
    Secret values (keys like PASSWORD, SECRET, TOKEN, API_KEY, or values that look like secrets)
    never appear in the diff, the result or messages; the diff shows C(<redacted sha256:xxxxxxxx>).
extends_documentation_fragment:
  - sutazai.consolidation.phase
  - sutazai.consolidation.phase.attributes
  - sutazai.consolidation.path_patterns
options:
  patterns:
    description:
      - Path patterns of the env files (see the notes for the syntax); a pattern without C(/)
        matches the file name in any folder.
    type: list
    elements: str
    default: ['.env', '.env.*', '*.env', 'config/**/*.env*']
  priority:
    description:
      - Root-relative env files, highest priority first. Files not listed come after them in path order.
      - C(.env.production) is the production override file and C(.env.master) the merged output; keep both in the list.
    type: list
    elements: str
    default: ['.env.production', '.env.secure', '.env.master', '.env.consolidated', '.env']
  keep_sources:
    description:
      - Keep the merged files instead of removing them (C(.env) still becomes the symlink).
    type: bool
    default: false
  rewrite_compose:
    description:
      - Rewrite Compose C(env_file:) entries that point at removed files.
    type: bool
    default: true
  on_invalid:
    description:
      - V(fail) blocks the phase (see O(strict)) when a file cannot be read, has a line that is not an
        assignment or holds a control character, or a Compose file that must be checked is not valid YAML
        (or is nested too deeply to parse).
      - V(warn) skips such a file, lists it under RV(invalid) and goes on.
    type: str
    choices: [fail, warn]
    default: fail
notes:
  - Interpolation values of C(docker compose) come from the project folder's C(.env), which becomes the
    symlink to C(.env.master). For production, pass both files,
    C(docker compose --env-file .env.master --env-file .env.production).
  - A value that refers to another variable (C(${OTHER})) is moved as written; when the two keys came
    from different files, the value Compose computes can differ. Such keys are listed in RV(interpolated_keys).
seealso:
  - module: sutazai.consolidation.compose_secrets
  - module: sutazai.consolidation.rollback
author:
  - SutazAI consolidation team (@sutazai)
"""

EXAMPLES = r"""
- name: Merge the environment files (journaled, see rollback)
  sutazai.consolidation.env_files:
    root: /opt/sutazaiapp

- name: Preview only, keeping the old files when it runs for real
  sutazai.consolidation.env_files:
    root: /opt/sutazaiapp
    keep_sources: true
  check_mode: true
  diff: true
"""

RETURN = r"""
changed:
  description: Whether a file was (or, in check mode, would be) written, removed or relinked.
  returned: always
  type: bool
blocked:
  description: True when the phase changed nothing because its input was not safe to use.
  returned: always
  type: bool
sources:
  description: Merged env files, root-relative, highest priority first.
  returned: always
  type: list
  elements: str
  sample: ['.env.production', '.env.secure', '.env', 'config/environments/backend.env']
examples:
  description: Example and template files read for the example file.
  returned: always
  type: list
  elements: str
keys:
  description: Number of distinct keys over all merged files.
  returned: always
  type: int
overrides:
  description: Keys kept in C(.env.production) because their production value differs.
  returned: always
  type: list
  elements: str
secret_keys:
  description: Keys whose values are treated as secrets (values are never returned).
  returned: always
  type: list
  elements: str
duplicates:
  description: Keys assigned more than once in one file (the last assignment wins).
  returned: always
  type: list
  elements: dict
  contains:
    path:
      description: The env file, relative to O(root).
      type: str
    key:
      description: The key.
      type: str
    lines:
      description: The 1-based lines that assign it, in file order.
      type: list
      elements: int
  sample: [{"path": ".env", "key": "REDIS_HOST", "lines": [3, 9]}]
interpolated_keys:
  description: Keys whose winning value refers to another variable (C($)); see notes.
  returned: always
  type: list
  elements: str
compose_rewrites:
  description: C(env_file) entries rewritten.
  returned: always
  type: list
  elements: dict
  contains:
    path:
      description: The Compose file, relative to O(root).
      type: str
    service:
      description: The service.
      type: str
    from:
      description: The entry as written; it names an env file the phase removes.
      type: str
    to:
      description: >-
        The new entry, the path of C(.env.master) relative to the Compose file's folder; null when
        the entry was deleted because the list already names C(.env.master).
      type: str
  sample: [{"path": "docker-compose.yml", "service": "backend", "from": "config/environments/backend.env", "to": ".env.master"}]
invalid:
  description: Files that could not be used; never holds values.
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
        Short machine-readable category, for example C(invalid_env_line), C(control_character),
        C(not_utf8), C(unreadable), C(symlink_loop), or C(invalid_yaml) for a Compose file.
      type: str
    message:
      description: What is wrong; never holds a secret value.
      type: str
skipped_files:
  description:
    - Tree entries not read -- symlinks, unreadable folders, and names that are not valid
      UTF-8 (shown with C(\\xNN) escapes).
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
  description: Planned or made changes.
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
journal:
  description: Path of the run's journal manifest, or null when nothing was written.
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
      sample: env
    status:
      description: C(would change) (check mode), C(changed), C(unchanged) or C(blocked).
      type: str
      sample: would change
    reason:
      description: >-
        Why the phase is blocked, followed by C( -- ) and the errors it found; C(no env file to merge)
        when there is none.
      returned: when blocked or when there is no env file to merge
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
        Report sections built from RV(sources), RV(overrides), RV(duplicates), RV(interpolated_keys),
        RV(compose_rewrites) and RV(invalid) (empty lists give no section).
      returned: when not blocked and there is an env file to merge
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
      returned: when not blocked and there is an env file to merge
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
        Short machine-readable category, for example those of RV(invalid), or C(outside_root) for a
        change that would act outside the root through a symlink.
      type: str
    message:
      description: What is wrong; never holds a secret value.
      type: str
"""


from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.sutazai.consolidation.plugins.module_utils import _compose, _env
from ansible_collections.sutazai.consolidation.plugins.module_utils._changes import ChangeSet
from ansible_collections.sutazai.consolidation.plugins.module_utils._phase import (
    PHASE_ARGUMENT_SPEC, blocked, check_root, finish, phase_paths)
from ansible_collections.sutazai.consolidation.plugins.module_utils._errors import ConsolidationError
from ansible_collections.sutazai.consolidation.plugins.module_utils._fileio import read_text
from ansible_collections.sutazai.consolidation.plugins.module_utils._tree import (
    is_linked, safe_join, undecodable_warning, walk_tree)

PHASE = "env"


def discover(root, patterns, exclude_paths):
    """Return ``(merge, examples, skipped)``: root-relative env files to merge, example
    files, and ``{"path", "reason"}`` for symlinks and unreadable paths."""
    walk = walk_tree(root, exclude_paths=exclude_paths, match=lambda rel: _env.is_env_file(rel, patterns))
    merge, examples, skipped = [], [], list(walk.skipped)
    for f in walk.files:
        if is_linked(f, root, walk.root_real):
            skipped.append({"path": f.rel, "reason": "symlink (not read)"})
        elif f.rel == _env.EXAMPLE:
            continue
        elif _env.is_example(f.rel):
            examples.append(f.rel)
        else:
            merge.append(f.rel)
    return merge, examples, skipped


def read_env(root, rels, invalid):
    """Parse ``rels``; unreadable files and invalid lines go to ``invalid`` (error dicts)."""
    parsed, dups = {}, []
    for rel in rels:
        try:
            text = read_text(safe_join(root, rel), rel)
        except ConsolidationError as exc:
            invalid.append(exc.as_dict())
            continue
        entries, errors, d = _env.parse_env_text(text, rel)
        if errors:
            invalid.extend(e.as_dict() for e in errors)
            continue
        parsed[rel] = entries
        dups.extend(d)
    return parsed, dups


def _rows(n_before, n_after, plan, n_keys, n_entries, dups, rewrites, invalid, examples):
    return [
        {"item": "Env files", "before": n_before, "after": n_after},
        {"item": "Assignments -> distinct keys", "before": n_entries, "after": n_keys},
        {"item": "Production overrides (.env.production)", "before": "-", "after": len(plan.overrides)},
        {"item": "Secret keys (values redacted)", "before": "-", "after": len(plan.secret_keys)},
        {"item": "Example files", "before": len(examples), "after": "%d (+ %s)" % (len(examples), _env.EXAMPLE)},
        {"item": "Keys assigned twice in one file (last wins)", "before": len(dups), "after": "-"},
        {"item": "Compose env_file entries rewritten", "before": "-", "after": len(rewrites)},
        {"item": "Invalid files skipped", "before": len(invalid), "after": "-"},
    ]


def plan_compose(root, exclude_paths, removed, aliases, changes):
    """Rewrite ``env_file`` entries pointing at ``removed`` files; returns the rewrites."""
    rels, dummy = _compose.find_compose_files(root, exclude_paths)
    rewrites = []
    errors = []
    for rel in rels:
        try:
            text = read_text(safe_join(root, rel), rel)
            tree = _compose.compose_tree(text, rel)
        except ConsolidationError as exc:
            errors.append(exc.as_dict())
            continue
        if tree is None:
            continue
        new, rw = _compose.rewrite_env_files(text, rel, tree, removed, _env.MASTER, aliases)
        if new != text:
            changes.write(rel, new.encode("utf-8"))
        rewrites.extend(rw)
    return rewrites, errors


def main():
    argument_spec = dict(PHASE_ARGUMENT_SPEC)
    argument_spec.update(
        patterns=dict(type="list", elements="str", default=list(_env.DEFAULT_PATTERNS)),
        priority=dict(type="list", elements="str", default=list(_env.DEFAULT_PRIORITY)),
        keep_sources=dict(type="bool", default=False),
        rewrite_compose=dict(type="bool", default=True),
        on_invalid=dict(type="str", choices=["fail", "warn"], default="fail"),
    )
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    if not _env.HAS_DOTENV:
        module.fail_json(msg=missing_required_lib("python-dotenv"))
    if not _compose.HAS_RUAMEL:
        module.fail_json(msg=missing_required_lib("ruamel.yaml"))
    p = module.params
    root, backup_root, report_dir = phase_paths(p)
    check_root(module, root)
    exclude = (backup_root, report_dir)
    base = dict(sources=[], examples=[], keys=0, overrides=[], secret_keys=[], duplicates=[], interpolated_keys=[],
                compose_rewrites=[], invalid=[], skipped_files=[], changes=[], journal=None)

    merge, examples, skipped = discover(root, p["patterns"], exclude)
    base["skipped_files"] = skipped
    name_warning = undecodable_warning(skipped, PHASE)
    if name_warning:
        module.warn(name_warning)
    invalid = []
    parsed, dups = read_env(root, merge, invalid)
    ex_parsed, dummy = read_env(root, examples, invalid)
    base.update(examples=sorted(ex_parsed), invalid=invalid, duplicates=dups)
    if invalid and p["on_invalid"] == "fail":
        blocked(module, PHASE, "%d env file(s) could not be read or parsed (on_invalid=fail)" % len(invalid),
                invalid, **base)

    if not parsed:
        base["summary"] = {"phase": PHASE, "status": "unchanged", "reason": "no env file to merge",
                           "rows": [{"item": "Env files (none to merge)", "before": 0, "after": 0},
                                    {"item": "Example files", "before": len(ex_parsed), "after": len(ex_parsed)}]}
        module.exit_json(changed=False, blocked=False, **base)

    try:
        plan = _env.plan_env(parsed, ex_parsed, p["priority"])
    except ValueError as exc:
        module.fail_json(msg="env phase changed nothing: %s" % exc, **base)

    changes = ChangeSet(root)
    changes.write(_env.MASTER, plan.master.encode("utf-8"), mode=0o600)
    if plan.production is not None:
        changes.write(_env.PRODUCTION, plan.production.encode("utf-8"), mode=0o600)
    changes.write(_env.EXAMPLE, plan.example.encode("utf-8"), mode=0o644)
    changes.symlink(_env.LINK, _env.relative_link(_env.LINK, _env.MASTER))
    removed = set()
    aliases = set([_env.LINK])
    kept = []
    for rel in plan.sources:
        if rel in (_env.MASTER, _env.PRODUCTION, _env.LINK):
            continue
        if p["keep_sources"]:
            kept.append(rel)
        elif rel.rsplit("/", 1)[-1] == ".env":
            changes.symlink(rel, _env.relative_link(rel, _env.MASTER))
            aliases.add(rel)
        else:
            changes.remove(rel)
            removed.add(rel)

    rewrites = []
    if p["rewrite_compose"] and removed:
        rewrites, compose_errors = plan_compose(root, exclude, removed, aliases, changes)
        if compose_errors:
            invalid.extend(compose_errors)
            if p["on_invalid"] == "fail":
                blocked(module, PHASE, "%d Compose file(s) that may refer to removed env files are not valid YAML "
                        "(on_invalid=fail)" % len(compose_errors), compose_errors, **base)

    for d in dups:
        module.warn("%s: %s is assigned on lines %s; the last assignment wins"
                    % (d["path"], d["key"], ", ".join(str(n) for n in d["lines"])))
    for e in invalid:
        module.warn("skipped invalid file (on_invalid=warn): %s" % ConsolidationError(
            e["message"], e["path"], e.get("line"), e.get("column")))

    n_after = 1 + (plan.production is not None) + 1 + len(kept)
    n_entries = sum(len(v) for v in parsed.values())
    result = dict(base)
    result.update(
        changed=bool(len(changes)), blocked=False, sources=plan.sources, keys=len(plan.effective),
        overrides=plan.overrides, secret_keys=plan.secret_keys, interpolated_keys=plan.interpolated_keys,
        compose_rewrites=rewrites, changes=changes.summary(),
    )
    finish(module, PHASE, changes, root, backup_root, result,
           _rows(len(parsed), n_after, plan, len(plan.effective), n_entries, dups, rewrites, invalid, ex_parsed), base,
           diff=lambda: changes.diffs(secrets=plan.secret_values))


if __name__ == "__main__":
    main()
