#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026 sutazai.consolidation contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: dockerfile_templates
short_description: Merge identical Dockerfiles and turn families of similar ones into proven build-arg templates
version_added: 0.3.0
description:
  - Dockerfile phase.
  - >-
    Discovery: every C(Dockerfile), C(Dockerfile.*) and C(*.Dockerfile) under O(root), never inside
    the backup and report folders, virtualenvs or the folders named in O(exclude_dirs) and
    O(extra_excludes). Each file is parsed with dockerfile-parse from memory (the library is never
    given a path, so it cannot write one).
  - >-
    Normal form: instruction upper-case, line continuations joined as Docker joins them, comments
    dropped, JSON exec forms re-encoded, blanks outside quotes collapsed to one space. Parser
    directives (C(# syntax=), C(# check=)) are kept. Where Docker stores the text in the image as
    written (shell-form CMD and ENTRYPOINT, the HEALTHCHECK command, USER, WORKDIR, STOPSIGNAL,
    MAINTAINER, legacy C(ENV key value)) interior whitespace is kept, so two files with the same
    normal form build images with the same configuration.
  - >-
    Left alone and listed with the reason (RV(left_alone)): files with a heredoc (C(<<EOF) in
    RUN/COPY/ADD; dockerfile-parse cannot read them), files it cannot parse (unknown or empty
    instruction, no FROM, an C(escape) directive, not UTF-8), symlinks, and every file a
    non-Compose file names (Makefiles, shell/Python scripts, CI YAML, JSON, TOML, HCL; see
    O(reference_patterns); Markdown and text docs are not read) -- C(referenced by X, rewrite by
    hand): a build script is never broken. A path counts as named when it appears literally (also
    as the tail of an absolute path, or relative to the naming file's folder); a folder holding a
    C(Dockerfile) counts when it appears on a line containing C(build). Paths made from variables or
    globs are listed in RV(dynamic_references), not followed. Also kept: a file with its own
    C(<name>.dockerignore), the target of a symlink, and a file whose Compose entry cannot be
    edited in place (flow style, alias, merge key).
  - >-
    Exact groups: files with the same sha256 of their normal form. One canonical file is written to
    C(<output_dir>/<name>.Dockerfile) (the bytes of the member with the shortest path; a member
    already in O(output_dir) is the canonical one), the other members are removed (journaled) and every
    Compose C(build:) that pointed at a member -- string form C(build: ./dir) and mapping form with
    C(context) and C(dockerfile) -- keeps its C(context) (so COPY/ADD sources are found where they
    were) and gets C(dockerfile:) pointing at the canonical file, relative to the context as Compose
    resolves it. The string form becomes a mapping. A group is merged only when at least two of its
    files can go (or one can go and the canonical file already exists).
  - >-
    Names: the members' common label (C(x) of C(Dockerfile.x) and C(x.Dockerfile), else the folder
    name) or the leading segments all labels share (C(mcp) for C(mcp-files) and C(mcp-http)), else
    the last folder they share plus the base image (C(agents-python-3.11-slim)); a name in use gets
    C(-2), C(-3)... in the order of the first member's path.
  - >-
    Parametric templates (O(templates)): a family is the files (after exact grouping) with the same
    directives and sequence of instructions. Their tokens are aligned; a differing token (its
    common prefix and suffix cut back at C(/), C(:), C(=) and similar) becomes a build argument only
    where Docker substitutes build args at build time -- ADD, COPY, ENV, EXPOSE, FROM (the image;
    its ARG is declared before the first FROM), LABEL, STOPSIGNAL, USER, VOLUME, WORKDIR -- or in a
    shell-form RUN, where C(/bin/sh) expands the argument (a build-time environment variable), and
    only when the value is a plain token (C([A-Za-z0-9._/:-]+)), not inside single quotes, not
    escaped, not inside C(${...}), C($(...)) or backticks, not a flag, not a secret-looking value,
    and (RUN) not a reserved word, assignment name, redirection, tilde or brace expansion, with a
    POSIX shell and no IFS change. ARG and ONBUILD are never parametrized.
  - >-
    Run-time instructions (CMD, ENTRYPOINT, HEALTHCHECK, SHELL): with O(runtime_values=keep) a value
    that differs there splits the family; those files stay as they are and the family is listed in
    RV(decisions) (C(needs a person's decision), e.g. C(HEALTHCHECK (run-time))). With
    O(runtime_values=env) (opt-in) a shell-form value becomes C(${TPL_X}) set by C(ENV TPL_X=${TPL_X})
    from the argument: the container behaves the same, but the image Config changes (one more
    C(Env) entry, C(${TPL_X}) in the Cmd/Healthcheck text); the report says so.
  - >-
    Build args are named C(BASE_IMAGE)/C(BASE_TAG) (FROM), the ENV key for C(ENV KEY=value) when
    that is safe (C(ARG KEY) then C(ENV KEY=${KEY})), else C(TPL_<INSTRUCTION>); names in use in
    the family or its Compose C(build.args) are avoided. Each C(ARG) is declared right before the
    first instruction of its stage that uses it, so earlier RUN steps do not see it.
  - >-
    Proof: every template is parsed back and rendered for each member with its args following
    Docker's rules (substitution only in the instructions above, only with the ARG in scope); only
    members whose rendering equals their normal form are replaced, and the template is written only
    when at least two members are proven and each has a Compose C(build:) that can take
    C(build.args). Files no Compose build uses cannot get args and stay (listed).
  - >-
    Compose edits are minimal text edits anchored at ruamel.yaml's node marks (new keys, a scalar
    turned into a block mapping, values added to C(args)); every other byte of the file stays as it
    was. Each edited file is parsed again and must equal the intended data, else the phase changes
    nothing (blocked). Values under C(build.args) are always double-quoted strings.
  - >-
    A C(dockerfile:) outside the build context is relative to the context; verified with
    C(docker compose build) on Docker Engine 20.10.24 with Compose 2.26.1, with BuildKit and with the
    classic builder (C(DOCKER_BUILDKIT=0)).
  - >-
    Every change is journaled under O(backup_root) before it is made; see
    M(sutazai.consolidation.rollback).
extends_documentation_fragment:
  - sutazai.consolidation.phase
  - sutazai.consolidation.phase.attributes
  - sutazai.consolidation.path_patterns
options:
  output_dir:
    description: Folder of the canonical files and templates, relative to O(root).
    type: str
    default: docker/templates
  templates:
    description: Build parametric templates; V(false) merges exact groups only.
    type: bool
    default: true
  runtime_values:
    description:
      - V(keep) -- a value differing in CMD, ENTRYPOINT, HEALTHCHECK or SHELL leaves those files as they
        are (listed in RV(decisions)).
      - >-
        V(env) -- a shell-form value there goes through C(ENV TPL_X=${TPL_X}) set from a build arg;
        changes the image Config (Env, Cmd/Healthcheck text) though not what the container does.
    type: str
    choices: [keep, env]
    default: keep
  on_invalid:
    description:
      - >-
        V(fail) -- a Compose file that cannot be read or parsed blocks the phase (file:line:col, see
        O(strict)) when the phase would change anything, since it may build a Dockerfile this phase
        would remove.
      - V(warn) -- such files are listed in RV(invalid) and skipped; every Dockerfile or folder their text names is kept.
    type: str
    choices: [fail, warn]
    default: fail
  exclude_dirs:
    description: Folder names never entered (besides the backup and report folders and virtualenvs).
    type: list
    elements: str
    default: [.git, node_modules, __pycache__, .tox, .mypy_cache, .pytest_cache, backups, backup, archive, archives, _archive, reports]
  extra_excludes:
    description: More folders never entered, by name (no C(/)) or path relative to O(root).
    type: list
    elements: str
    default: []
  reference_patterns:
    description:
      - Path patterns (see the notes; one without C(/) matches the file name in any folder) of the files whose mention of a Dockerfile keeps it in place.
      - Compose files are not matched here; they are edited.
    type: list
    elements: str
    default: [Makefile, makefile, GNUmakefile, "*.mk", "*.sh", "*.bash", "*.py", Jenkinsfile, "*.yml", "*.yaml",
              "*.json", "*.toml", "*.cfg", "*.ini", "*.hcl", "*.tf", "*.ps1", Procfile, Vagrantfile]
notes:
  - >-
    Removing a Dockerfile from its build context also removes it from what C(COPY . .) copies into
    the image; nothing runs that file, and the image Config stays the same.
  - Compose paths are resolved relative to the folder of the Compose file that holds them.
  - On a generated tree of 581 Dockerfiles the module's check-mode work takes under 2 seconds.
seealso:
  - module: sutazai.consolidation.rollback
author:
  - SutazAI consolidation team (@sutazai)
requirements:
  - dockerfile-parse
  - ruamel.yaml
  - PyYAML (reads edited Compose files back for the check; Ansible needs it anyway)
"""

EXAMPLES = r"""
- name: Plan the Dockerfile consolidation (no change)
  sutazai.consolidation.dockerfile_templates:
    root: /opt/sutazaiapp
  check_mode: true
  diff: true

- name: Consolidate, skipping the Compose file that is not valid YAML
  sutazai.consolidation.dockerfile_templates:
    root: /opt/sutazaiapp
    on_invalid: warn
    extra_excludes: [legacy, docker/experimental]

- name: Also template families that differ in a HEALTHCHECK port (changes image Config)
  sutazai.consolidation.dockerfile_templates:
    root: /opt/sutazaiapp
    runtime_values: env
"""

RETURN = r"""
blocked:
  description: True when the phase could not proceed safely and changed nothing (O(strict=false)).
  returned: always
  type: bool
stats:
  description: Counts of the phase.
  returned: always
  type: dict
  contains:
    live:
      description: Dockerfiles found (backups, archives and reports are not counted).
      type: int
    parsed:
      description: Dockerfiles parsed into their normal form.
      type: int
    heredoc:
      description: Dockerfiles left alone because they hold a heredoc.
      type: int
    unparseable:
      description: Dockerfiles left alone because they cannot be parsed.
      type: int
    unreadable:
      description: Dockerfiles that cannot be read.
      type: int
    symlinks:
      description: Dockerfiles that are symlinks (left alone).
      type: int
    unique:
      description: Distinct normal forms, plus every file that was not parsed.
      type: int
    sequences:
      description: Distinct sequences of instruction keywords (with parser directives) among the parsed files.
      type: int
    single_sequences:
      description: Sequences only one parsed file has.
      type: int
    exact_groups_found:
      description: Normal forms two or more files share.
      type: int
    exact_groups:
      description: Exact groups merged (entries of RV(exact_groups)).
      type: int
    templates:
      description: Templates written (entries of RV(templates)).
      type: int
    members_templated:
      description: Dockerfiles replaced by a template.
      type: int
    removed:
      description: Dockerfiles removed (in check mode, that would be).
      type: int
    created:
      description: New files written in O(output_dir) (canonical copies and templates).
      type: int
    after:
      description: Dockerfiles after the phase (RV(stats.live) - RV(stats.removed) + RV(stats.created)).
      type: int
    compose_files:
      description: Compose files read.
      type: int
    compose_files_edited:
      description: Compose files whose C(build) entries are rewritten.
      type: int
    compose_rewrites:
      description: Compose C(build) entries rewritten (entries of RV(compose_rewrites)).
      type: int
    build_refs:
      description: Compose C(build) entries that name a parsed Dockerfile.
      type: int
    left_alone:
      description: Entries of RV(left_alone).
      type: int
    decisions:
      description: Entries of RV(decisions).
      type: int
    invalid_compose:
      description: Compose files that could not be read or parsed (entries of RV(invalid)).
      type: int
    base_images:
      description: Entries of RV(base_images).
      type: int
    dynamic_refs:
      description: Entries of RV(dynamic_references).
      type: int
  sample: {live: 245, parsed: 244, heredoc: 1, unique: 221, sequences: 119, single_sequences: 88, after: 120}
exact_groups:
  description: Merged exact groups (files with the same normal form), sorted by the path of the first member.
  returned: always
  type: list
  elements: dict
  contains:
    canonical:
      description: The one file the group keeps, relative to O(root).
      type: str
    created:
      description: >-
        Whether the canonical is a new file in O(output_dir) (false when a member already there is
        kept).
      type: bool
    files:
      description: Members of the group.
      type: int
    base_images:
      description: The group's base images (C(FROM)).
      type: list
      elements: str
    members:
      description: Every member of the group.
      type: list
      elements: dict
      contains:
        path:
          description: The member, relative to O(root).
          type: str
        action:
          description: C(canonical), C(removed) or C(kept).
          type: str
        reason:
          description: Why the member is kept.
          returned: when the action is C(kept)
          type: str
  sample:
    - canonical: docker/templates/monitoring.Dockerfile
      created: true
      files: 2
      base_images: [python:3.11-slim]
      members: [{path: docker/monitoring/Dockerfile, action: removed}, {path: monitoring/Dockerfile, action: removed}]
templates:
  description: Build-arg templates written, each proven for every member it replaces.
  returned: always
  type: list
  elements: dict
  contains:
    path:
      description: The template, relative to O(root).
      type: str
    units:
      description: Variants it renders (an exact group or a single file each).
      type: int
    files:
      description: Dockerfiles it replaces.
      type: int
    args:
      description: The build arguments of the template.
      type: list
      elements: dict
      contains:
        name:
          description: The build argument name.
          type: str
        instruction:
          description: The instruction it appears in (C(FROM), C(ENV), C(RUN), ...).
          type: str
        kind:
          description: C(from), C(env:<KEY>), C(build) or C(runtime) (a run-time value set through C(ENV)).
          type: str
        values:
          description: The distinct values over the members, sorted.
          type: list
          elements: str
    runtime_env:
      description: Whether the template sets run-time values through C(ENV) (O(runtime_values=env)).
      type: bool
    members:
      description: Every Dockerfile of the template.
      type: list
      elements: dict
      contains:
        path:
          description: The member, relative to O(root).
          type: str
        action:
          description: C(removed) or C(kept).
          type: str
        reason:
          description: Why the member is kept.
          returned: when the action is C(kept)
          type: str
        args:
          description: The build argument values that render the member, one key per argument.
          type: dict
          contains:
            <name>:
              description: The value of the build argument RV(templates[].args[].name).
              type: str
        services:
          description: The Compose services that build it, as C(<compose file>:<service>).
          returned: when the action is C(removed)
          type: list
          elements: str
  sample:
    - path: docker/templates/agents-python-3.11-slim.Dockerfile
      units: 3
      files: 4
      runtime_env: false
      args: [{name: PORT, instruction: ENV, kind: "env:PORT", values: ["8001", "8002", "8003"]}]
      members: [{path: agents/a/Dockerfile, action: removed, args: {PORT: "8001"}, services: ["docker-compose.yml:a"]}]
left_alone:
  description: Live Dockerfiles that stay where they are, with the reason.
  returned: always
  type: list
  elements: dict
  contains:
    path:
      description: The Dockerfile, relative to O(root).
      type: str
    status:
      description: >-
        C(heredoc), C(unparseable), C(unreadable) or C(symlink) (not parsed), C(kept) (other files name
        it) or C(unique) (parsed, but not merged or templated).
      type: str
    reason:
      description: Why it stays.
      type: str
  sample: [{path: agents/x/Dockerfile, status: kept, reason: "referenced by scripts/build.sh:3, rewrite by hand"}]
decisions:
  description: Families not fully templated and why -- what a person would have to decide to go further.
  returned: always
  type: list
  elements: dict
  contains:
    family:
      description: The family's first file, relative to O(root).
      type: str
    files:
      description: Dockerfiles in the family.
      type: int
    units:
      description: Variants in the family (an exact group or a single file each).
      type: int
    templated:
      description: Variants templated.
      type: int
    left:
      description: Variants left as they are.
      type: int
    differs_in:
      description: What keeps the others out of a template.
      type: list
      elements: str
    keywords:
      description: The family's instruction keywords, in order, separated by spaces.
      type: str
  sample: [{family: agents/a/Dockerfile, files: 3, units: 3, templated: 2, left: 1, differs_in: ["HEALTHCHECK (run-time)"]}]
compose_rewrites:
  description: Compose C(build) entries rewritten, sorted by file and line.
  returned: always
  type: list
  elements: dict
  contains:
    path:
      description: The Compose file, relative to O(root).
      type: str
    line:
      description: 1-based line of the C(build) key.
      type: int
    service:
      description: The service.
      type: str
    form:
      description: C(string) (C(build) is a path) or C(mapping).
      type: str
    from:
      description: The Dockerfile it built, relative to O(root).
      type: str
    to:
      description: The new C(dockerfile) value, relative to the build context.
      type: str
    args:
      description: Number of build arguments it passes.
      type: int
unresolved_builds:
  description: Compose C(build) entries whose Dockerfile could not be told (interpolated, absolute, remote, inline).
  returned: always
  type: list
  elements: dict
  contains:
    path:
      description: The Compose file, relative to O(root).
      type: str
    line:
      description: 1-based line of the C(build) key.
      type: int
    service:
      description: The service.
      type: str
    reason:
      description: Why the Dockerfile could not be told, for example C(interpolated path (${DOCKERFILE})).
      type: str
dynamic_references:
  description: Dockerfile paths built from variables or globs in other files; reported, not followed.
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
    token:
      description: The path as written.
      type: str
base_images:
  description: Distinct base images of the parsed Dockerfiles with the number of files using each, most used first.
  returned: always
  type: list
  elements: dict
  contains:
    image:
      description: The image reference of a C(FROM).
      type: str
    files:
      description: Parsed Dockerfiles using it.
      type: int
  sample: [{image: "python:3.11-slim", files: 189}]
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
        C(unreadable) or C(too_deep).
      type: str
    message:
      description: What is wrong; never holds a secret value.
      type: str
skipped_files:
  description: Tree entries not read, e.g. symlink loops.
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
  sample: [{path: docker/templates/agents-python-3.11-slim.Dockerfile, action: create}]
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
      sample: dockerfiles
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
        Report sections, by title -- C(Exact groups), C(Templates), C(Template members), C(Coverage),
        C(Dockerfiles left alone), C(Base images), C(Families needing a person's decision), C(Compose
        build entries rewritten) and C(Dynamic Dockerfile references (not followed)).
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
        Short machine-readable category, for example those of RV(invalid), C(compose_check) (an edited
        Compose file would not hold the intended data), or C(outside_root) for a change that would act
        outside the root through a symlink.
      type: str
    message:
      description: What is wrong; never holds a secret value.
      type: str
"""


from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.sutazai.consolidation.plugins.module_utils import _compose, _dockerfiles
from ansible_collections.sutazai.consolidation.plugins.module_utils._changes import ChangeSet
from ansible_collections.sutazai.consolidation.plugins.module_utils._phase import (
    PHASE_ARGUMENT_SPEC, blocked, check_root, finish, phase_paths)
from ansible_collections.sutazai.consolidation.plugins.module_utils._errors import ConsolidationError
from ansible_collections.sutazai.consolidation.plugins.module_utils._tree import undecodable_warning

PHASE = _dockerfiles.PHASE


def _rows(plan):
    st = plan.stats
    return [
        {"item": "Dockerfiles (live; backups/archives not counted)", "before": st["live"], "after": st["after"]},
        {"item": "Exact groups merged (files)", "before": st["exact_groups_found"],
         "after": "%d (%d)" % (st["exact_groups"], sum(g["files"] for g in plan.exact_groups))},
        {"item": "Templates (files templated)", "before": "-", "after": "%d (%d)" % (st["templates"], st["members_templated"])},
        {"item": "Compose build entries rewritten (files)", "before": st["build_refs"],
         "after": "%d (%d)" % (st["compose_rewrites"], st["compose_files_edited"])},
        {"item": "Dockerfiles left alone (heredoc/unparseable)", "before": "-",
         "after": "%d (%d/%d)" % (st["left_alone"], st["heredoc"], st["unparseable"] + st["unreadable"])},
        {"item": "Families needing a person's decision", "before": "-", "after": st["decisions"]},
        {"item": "Invalid Compose files skipped", "before": st["invalid_compose"], "after": "-"},
    ]


def _details(plan):
    st = plan.stats
    groups = []
    for g in plan.exact_groups:
        for m in g["members"]:
            groups.append([g["canonical"], m["path"], m["action"] + (": " + m["reason"] if m.get("reason") else "")])
    templates = []
    for t in plan.templates:
        args = "; ".join("%s (%s): %s" % (a["name"], a["instruction"], ", ".join(a["values"])) for a in t["args"])
        templates.append([t["path"], t["files"], t["units"], args, "yes" if t["runtime_env"] else "no"])
    members = []
    for t in plan.templates:
        for m in t["members"]:
            members.append([t["path"], m["path"], m["action"], ", ".join("%s=%s" % kv for kv in sorted(m["args"].items())),
                            ", ".join(m.get("services", []))])
    coverage = [[k, st[k]] for k in ("live", "parsed", "heredoc", "unparseable", "unreadable", "symlinks", "unique",
                                     "sequences", "single_sequences", "exact_groups_found", "exact_groups", "templates",
                                     "members_templated", "removed", "created", "after", "build_refs", "compose_rewrites",
                                     "left_alone", "decisions")]
    return [
        {"title": "Exact groups", "columns": ["canonical", "member", "action"], "rows": groups},
        {"title": "Templates", "columns": ["template", "files", "variants", "build args (values)", "ENV for run-time values"],
         "rows": templates,
         "note": "Every member is proven: the template rendered with its args (Docker's substitution rules) equals its "
                 "normal form. A 'yes' in the last column means the image Config gains Env entries (runtime_values=env)."},
        {"title": "Template members", "columns": ["template", "member", "action", "args", "Compose services"], "rows": members},
        {"title": "Coverage", "columns": ["item", "count"], "rows": coverage},
        {"title": "Dockerfiles left alone", "columns": ["path", "status", "reason"],
         "rows": [[x["path"], x["status"], x["reason"]] for x in plan.left_alone]},
        {"title": "Base images", "columns": ["image", "files"], "rows": [[b["image"], b["files"]] for b in plan.base_images],
         "note": "Input for shared base images."},
        {"title": "Families needing a person's decision",
         "columns": ["family (first file)", "files", "templated", "left", "differs in"],
         "rows": [[d["family"], d["files"], d["templated"], d["left"], "; ".join(d["differs_in"])] for d in plan.decisions],
         "note": "Going further changes what an image does (run-time values, non-substituted instructions) or needs a "
                 "Compose build to pass args; a person decides."},
        {"title": "Compose build entries rewritten", "columns": ["file", "line", "service", "form", "from", "dockerfile", "args"],
         "rows": [[r["path"], r["line"], r["service"], r["form"], r["from"], r["to"], r["args"]] for r in plan.rewrites]},
        {"title": "Dynamic Dockerfile references (not followed)", "columns": ["file", "line", "token"],
         "rows": [[d["path"], d["line"], d["token"]] for d in plan.dynamic_refs]},
    ]


def main():
    argument_spec = dict(PHASE_ARGUMENT_SPEC)
    argument_spec.update(
        output_dir=dict(type="str", default=_dockerfiles.DEFAULT_OUTPUT_DIR),
        templates=dict(type="bool", default=True),
        runtime_values=dict(type="str", choices=list(_dockerfiles.RUNTIME_VALUES), default="keep"),
        on_invalid=dict(type="str", choices=["fail", "warn"], default="fail"),
        exclude_dirs=dict(type="list", elements="str", default=list(_dockerfiles.DEFAULT_EXCLUDE_DIRS)),
        extra_excludes=dict(type="list", elements="str", default=[]),
        reference_patterns=dict(type="list", elements="str", default=list(_dockerfiles.DEFAULT_REFERENCE_PATTERNS)),
    )
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    if not _dockerfiles.HAS_DOCKERFILE_PARSE:
        module.fail_json(msg=missing_required_lib("dockerfile-parse"))
    if not _compose.HAS_RUAMEL:
        module.fail_json(msg=missing_required_lib("ruamel.yaml"))
    p = module.params
    root, backup_root, report_dir = phase_paths(p)
    check_root(module, root)
    if p["output_dir"].startswith("/") or ".." in p["output_dir"].split("/"):
        module.fail_json(msg="output_dir must be a folder inside the root: %s" % p["output_dir"])
    plan = _dockerfiles.plan_dockerfiles(
        root, exclude_dirs=p["exclude_dirs"], extra_excludes=p["extra_excludes"],
        exclude_paths=(backup_root, report_dir), output_dir=p["output_dir"], templates=p["templates"],
        runtime_values=p["runtime_values"], on_invalid=p["on_invalid"], reference_patterns=p["reference_patterns"])
    base = dict(stats=plan.stats, exact_groups=plan.exact_groups, templates=plan.templates, left_alone=plan.left_alone,
                decisions=plan.decisions, compose_rewrites=plan.rewrites, unresolved_builds=plan.unresolved,
                dynamic_references=plan.dynamic_refs, base_images=plan.base_images, invalid=plan.invalid,
                skipped_files=plan.skipped, changes=[], journal=None)
    name_warning = undecodable_warning(plan.skipped, PHASE)
    if name_warning:
        module.warn(name_warning)
    if plan.errors:
        invalid = [e for e in plan.errors if e.get("kind") != "compose_check"]
        reason = ("%d Compose file(s) could not be read or parsed (on_invalid=fail)" % len(invalid)) if invalid else \
            "an edited Compose file would not hold the intended data"
        blocked(module, PHASE, reason, plan.errors, _rows(plan), **base)

    changes = ChangeSet(root)
    for rel in sorted(plan.writes):
        changes.write(rel, plan.writes[rel])
    for rel in sorted(plan.compose_edits):
        changes.write(rel, plan.compose_edits[rel].encode("utf-8"))
    for rel in plan.removals:
        changes.remove(rel)

    for e in plan.invalid:
        module.warn("%s: %s" % ("skipped invalid file (on_invalid=warn)" if p["on_invalid"] == "warn" else
                                "invalid Compose file (not needed: the phase changes nothing)",
                                ConsolidationError(e["message"], e["path"], e.get("line"), e.get("column"))))
    kept = [x for x in plan.left_alone if x["status"] == "kept" and "referenced by" in x["reason"]]
    if kept:
        module.warn("%d Dockerfile(s) kept because other files name them (rewrite by hand; see left_alone): %s"
                    % (len(kept), ", ".join(x["path"] for x in kept[:10]) + (" ..." if len(kept) > 10 else "")))
    if any(t["runtime_env"] for t in plan.templates):
        module.warn("runtime_values=env: %d template(s) set run-time values through ENV; the image Config changes "
                    "(Env, Cmd/Healthcheck text), not what the container does"
                    % sum(1 for t in plan.templates if t["runtime_env"]))
    if plan.dynamic_refs:
        module.warn("%d Dockerfile path(s) built from variables or globs in other files are not followed "
                    "(see dynamic_references)" % len(plan.dynamic_refs))

    result = dict(base)
    result.update(changed=bool(len(changes)), blocked=False, changes=changes.summary(),
                  summary={"details": _details(plan)})
    finish(module, PHASE, changes, root, backup_root, result, _rows(plan), base,
           diff=lambda: changes.diffs(secrets=plan.secrets))


if __name__ == "__main__":
    main()
