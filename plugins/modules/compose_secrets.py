#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026 sutazai.consolidation contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: compose_secrets
short_description: Move literal secrets out of Docker Compose files into .env.master
version_added: 0.2.0
description:
  - Secrets part of the env phase (literal secrets in Compose files become environment variables).
  - >-
    Reads every Compose file under O(root) (C(docker-compose*.yml), C(compose*.yml), also C(.yaml);
    symlinks are read at their target). A literal value under a service's C(environment:) (mapping
    or C(KEY=value) list form, YAML merge keys followed) is a secret when its key looks secret
    (PASSWORD, SECRET, TOKEN, API_KEY, PRIVATE_KEY, JWT, ...), when the key holds a weaker keyword
    (AUTH, PASS, KEY, CRED, ...) and the value has high entropy, or when the value alone looks like a
    credential (URL with a password, long hex or base64-like token), in the manner of detect-secrets.
    Values that are already interpolated (C(${...})) are left alone.
  - >-
    Each secret is replaced by C("${NAME}") and C(NAME=value) is added to C(.env.master) (mode 0600)
    under C(# --- source: compose:<file> ---). NAME is the key, unless C(.env.master) or
    C(.env.production) hold that key with another value; then it is C(<SERVICE>_<KEY>). Only the
    changed scalars are edited, so comments, order and anchors of the Compose file stay as written.
  - The new keys are added to C(.env.local.example) (when it exists) with the value C(change-me).
  - >-
    Compose reads C(${...}) values from the C(.env) file of the Compose file's folder. A file is changed
    only when that C(.env) is a link to C(.env.master) (the env phase makes the root C(.env) one) or absent
    (a relative link is created); otherwise it is skipped and listed in RV(skipped).
  - >-
    Proof, checked before anything is written: for each service, the environment with C(${NAME}) read
    from the new C(.env.master) equals the environment before. The tests also prove it with
    C(docker compose config) on a real Docker engine.
  - Secret values never appear in the diff, the result or messages; a secret is shown as its key and a short sha256.
extends_documentation_fragment:
  - sutazai.consolidation.phase
  - sutazai.consolidation.phase.attributes
options:
  planned_links:
    description:
      - >-
        Root-relative C(.env) paths that an earlier task of the same run makes links to C(.env.master) (the
        C(relink) changes of M(sutazai.consolidation.env_files)). Only used in check mode, where that task wrote
        nothing, so the plan shows what the real run will do.
    type: list
    elements: str
    default: []
  exposure:
    description:
      - >-
        What to do when a service that loads C(.env.master) through C(env_file) would also receive a moved
        secret (Compose passes every key of an env_file to the container): V(warn) moves it and lists the
        services under RV(exposures); V(block) changes nothing (see O(strict)).
    type: str
    choices: [warn, block]
    default: warn
  on_invalid:
    description:
      - V(fail) blocks the phase (see O(strict)) when a Compose file cannot be read or is not valid YAML.
      - V(warn) skips such a file, lists it under RV(invalid) and goes on.
    type: str
    choices: [fail, warn]
    default: fail
notes:
  - A variable of the same name in the shell that runs C(docker compose) overrides C(.env); that was already true
    for every C(${...}) reference of the platform.
  - In check mode after an env phase that would change files, this module plans against the tree as it is.
seealso:
  - module: sutazai.consolidation.env_files
  - module: sutazai.consolidation.rollback
author:
  - SutazAI consolidation team (@sutazai)
"""

EXAMPLES = r"""
- name: Move literal secrets of the Compose files into .env.master
  sutazai.consolidation.compose_secrets:
    root: /opt/sutazaiapp

- name: Go on past Compose files that are not valid YAML
  sutazai.consolidation.compose_secrets:
    root: /opt/sutazaiapp
    on_invalid: warn
"""

RETURN = r"""
changed:
  description: Whether a file was (or, in check mode, would be) written or a link created.
  returned: always
  type: bool
blocked:
  description: True when the phase changed nothing because its input was not safe to use.
  returned: always
  type: bool
compose_files:
  description: Compose files read (root-relative).
  returned: always
  type: list
  elements: str
moved:
  description: Secrets moved, one per YAML value.
  returned: always
  type: list
  elements: dict
  contains:
    path:
      description: The Compose file, relative to O(root).
      type: str
    service:
      description: The service whose C(environment) held the value.
      type: str
    key:
      description: The environment key in the Compose file.
      type: str
    env_key:
      description: The C(.env.master) key that now holds the value (the Compose value becomes C(${env_key})).
      type: str
    fingerprint:
      description: C(sha256:) and the first 8 hex digits of the sha256 of the value (never the value).
      type: str
  sample: [{"path": "docker-compose.yml", "service": "postgres", "key": "POSTGRES_PASSWORD",
            "env_key": "POSTGRES_PASSWORD_2", "fingerprint": "sha256:1a2b3c4d"}]
exposures:
  description: New C(.env.master) keys that services loading C(.env.master) through C(env_file) also receive.
  returned: always
  type: list
  elements: dict
  contains:
    env_key:
      description: The new C(.env.master) key.
      type: str
    exposed_to:
      description: The services that receive it through C(env_file), as C(<compose file>:<service>).
      type: list
      elements: str
  sample: [{"env_key": "GF_SECURITY_ADMIN_PASSWORD", "exposed_to": ["docker-compose.yml:backend"]}]
skipped:
  description: Compose files with secrets that were not changed.
  returned: always
  type: list
  elements: dict
  contains:
    path:
      description: The Compose file, relative to O(root).
      type: str
    secrets:
      description: How many literal secrets it holds.
      type: int
    reason:
      description: Why it is not changed, for example a C(.env) beside it that is not a link to C(.env.master).
      type: str
invalid:
  description: Compose files that could not be read or parsed.
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
        Short machine-readable category, for example C(invalid_yaml), C(invalid_compose), C(not_utf8),
        C(unreadable), C(symlink_loop) or C(too_deep).
      type: str
    message:
      description: What is wrong; never holds a secret value.
      type: str
skipped_files:
  description:
    - Tree entries not read -- symlinked Compose files, unreadable folders, and names that are
      not valid UTF-8 (shown with C(\\xNN) escapes).
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
      sample: secrets
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
        Report sections built from RV(moved), RV(exposures), RV(skipped) and RV(invalid) (empty lists
        give no section).
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
  description:
    - When blocked, what stopped the phase -- the Compose files that could not be read or parsed
      (O(on_invalid=fail)), the moved keys that would reach C(env_file) consumers (O(exposure=block)),
      or the changes that would act outside the root through a symlink.
  returned: when blocked
  type: list
  elements: dict
  contains:
    path:
      description: The file concerned (C(.env.master) for an exposure), relative to O(root).
      type: str
    line:
      description: 1-based line of the problem, or null when unknown.
      returned: for a file that could not be read or parsed
      type: int
    column:
      description: 1-based column of the problem, or null when unknown.
      returned: for a file that could not be read or parsed
      type: int
    kind:
      description: >-
        Short machine-readable category, for example C(invalid_yaml), C(not_utf8), C(unreadable) or
        C(outside_root).
      returned: except for an exposure
      type: str
    message:
      description: What is wrong (for an exposure, the key and the services it would reach); never holds a secret value.
      type: str
"""


from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.sutazai.consolidation.plugins.module_utils import _compose, _env, _secrets
from ansible_collections.sutazai.consolidation.plugins.module_utils._changes import ChangeSet
from ansible_collections.sutazai.consolidation.plugins.module_utils._phase import (
    PHASE_ARGUMENT_SPEC, blocked, check_root, finish, phase_paths)
from ansible_collections.sutazai.consolidation.plugins.module_utils._errors import ConsolidationError
from ansible_collections.sutazai.consolidation.plugins.module_utils._fileio import read_text, text_or_none
from ansible_collections.sutazai.consolidation.plugins.module_utils._tree import safe_join, undecodable_warning

PHASE = "secrets"


def main():
    argument_spec = dict(PHASE_ARGUMENT_SPEC)
    argument_spec.update(on_invalid=dict(type="str", choices=["fail", "warn"], default="fail"),
                         exposure=dict(type="str", choices=["warn", "block"], default="warn"),
                         planned_links=dict(type="list", elements="str", default=[]))
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    if not _env.HAS_DOTENV:
        module.fail_json(msg=missing_required_lib("python-dotenv"))
    if not _compose.HAS_RUAMEL:
        module.fail_json(msg=missing_required_lib("ruamel.yaml"))
    p = module.params
    root, backup_root, report_dir = phase_paths(p)
    check_root(module, root)
    rels, walk_skipped = _compose.find_compose_files(root, (backup_root, report_dir))
    name_warning = undecodable_warning(walk_skipped, PHASE)
    if name_warning:
        module.warn(name_warning)
    base = dict(compose_files=rels, moved=[], exposures=[], skipped=[], invalid=[], changes=[], journal=None,
                skipped_files=walk_skipped)

    composes, invalid = [], []
    for rel in rels:
        try:
            text = read_text(safe_join(root, rel), rel)
            tree = _compose.compose_tree(text, rel)
        except ConsolidationError as exc:
            invalid.append(exc.as_dict())
            continue
        if tree is not None:
            composes.append((rel, text, tree))
    base["invalid"] = invalid
    if invalid and p["on_invalid"] == "fail":
        blocked(module, PHASE, "%d Compose file(s) could not be read or parsed (on_invalid=fail)" % len(invalid),
                invalid, **base)

    master_text = text_or_none(safe_join(root, _env.MASTER))
    production_text = text_or_none(safe_join(root, _env.PRODUCTION))
    try:
        planned = p["planned_links"] if module.check_mode else []
        plan = _secrets.plan_secrets(root, composes, master_text, production_text, planned)
    except ValueError as exc:
        module.fail_json(msg="secrets phase changed nothing: %s" % exc, **base)

    base["exposures"] = plan.exposures
    if plan.exposures and p["exposure"] == "block":
        blocked(module, PHASE, "%d moved secret(s) would reach services that load %s through env_file (exposure=block)"
                % (len(plan.exposures), _env.MASTER),
                [{"path": _env.MASTER, "message": "%s would reach %s" % (x["env_key"], ", ".join(x["exposed_to"]))}
                 for x in plan.exposures], **base)

    changes = ChangeSet(root)
    if plan.master is not None:
        changes.write(_env.MASTER, plan.master.encode("utf-8"), mode=0o600)
    example_text = text_or_none(safe_join(root, _env.EXAMPLE))
    if plan.new_keys and example_text is not None:
        changes.write(_env.EXAMPLE, _env.add_to_example(example_text, plan.new_keys).encode("utf-8"))
    for rel in sorted(plan.links):
        changes.symlink(rel, plan.links[rel])
    for rel in sorted(plan.edits):
        changes.write(rel, plan.edits[rel].encode("utf-8"))

    for x in plan.exposures:
        module.warn("%s (moved to %s) also reaches %s, which load(s) it through env_file"
                    % (x["env_key"], _env.MASTER, ", ".join(x["exposed_to"])))
    for s in plan.skipped:
        module.warn("%s: %d literal secret(s) not moved: %s" % (s["path"], s["secrets"], s["reason"]))
    for e in invalid:
        module.warn("skipped invalid file (on_invalid=warn): %s" % ConsolidationError(
            e["message"], e["path"], e.get("line"), e.get("column")))

    services = set((m["path"], m["service"]) for m in plan.moved)
    result = dict(base)
    result.update(changed=bool(len(changes)), blocked=False, moved=plan.moved, skipped=plan.skipped,
                  changes=changes.summary())
    rows = [
        {"item": "Compose files read", "before": len(rels), "after": len(composes)},
        {"item": "Literal secrets in compose (services)", "before": "%d (%d)" % (len(plan.moved), len(services)),
         "after": "0 (moved to %s)" % _env.MASTER},
        {"item": "Moved keys also reaching env_file consumers", "before": "-", "after": len(plan.exposures)},
        {"item": "Compose files with secrets skipped", "before": "-",
         "after": "%d (%d secrets)" % (len(plan.skipped), sum(s["secrets"] for s in plan.skipped))},
        {"item": "Invalid files skipped", "before": len(invalid), "after": "-"},
    ]

    def diff():
        known = set(plan.secret_values)
        if master_text:
            known.update(e.value for e in _env.parse_env_text(master_text, _env.MASTER)[0]
                         if e.value and _secrets.looks_secret(e.key, e.value))
        return changes.diffs(secrets=known)

    finish(module, PHASE, changes, root, backup_root, result, rows, base, diff=diff)


if __name__ == "__main__":
    main()
