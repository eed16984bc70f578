#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026 sutazai.consolidation contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: run_report
short_description: Write the run summary of a consolidation run as JSON and Markdown
version_added: 0.1.0
description:
  - Writes C(<report_dir>/<run_id>.json) and C(<report_dir>/<run_id>.md) from the phase summaries
    and returns the text table. The report folder is created with mode 0750.
  - Both files hold the same content. The Markdown report opens with C(Needs your decision)
    (blocked phases with the role variable to set, conflicts, Dockerfile families a person must
    decide, exposed secrets, dynamic references), then the summary table, the changed files
    (path, action, phase), the rollback command, and a section for each phase (the backup
    of the running platform's data and the ten that change the tree; C(not run) for a phase the
    play's tags left out) with its rows, detail tables, files and warnings.
  - The JSON report follows the JSON Schema C(schemas/run_report.schema.json) shipped in the
    collection (C(format) 1).
  - A report is a record of the run, not a change to the platform, so the task reports
    C(changed=false) and a second run of the play stays at C(changed=0).
  - Summaries never hold secret values (phases put only counts, keys and hashes in them).
  - The result echoes the summaries by phase and status only, in C(invocation.module_args.summaries)
    and RV(phases). On a real tree a phase's summary can be megabytes, and its whole text is in
    the phase's own result and in the report files.
attributes:
  check_mode:
    description: Returns the table and writes nothing.
    support: full
  diff_mode:
    description: No diff is returned (the report is not a platform file).
    support: none
  idempotent:
    description: Same summaries and run id give the same bytes.
    support: full
options:
  report_dir:
    description: Folder of the reports.
    type: path
    required: true
  run_id:
    description: Run identifier; names the report files.
    type: str
    required: true
  root:
    description: Platform root, recorded in the report.
    type: path
    required: true
  summaries:
    description:
      - Phase summaries as returned by the phase modules (C(summary)).
      - Each is a dict with C(phase), C(status), C(rows) (list of C(item)/C(before)/C(after))
        and optionally C(reason), C(details) (tables of C(title), C(columns), C(rows), C(note)),
        C(files) (C(path)/C(action)), C(decisions) and C(warnings).
    type: list
    elements: dict
    default: []
  rollback_command:
    description:
      - The command that rolls this run back, written into the report (after a real run that
        changed files).
    type: str
author:
  - SutazAI consolidation team (@sutazai)
"""

EXAMPLES = r"""
- name: Write the run report
  sutazai.consolidation.run_report:
    report_dir: /opt/sutazaiapp/reports
    run_id: 20261121T101500Z-3fa2c1
    root: /opt/sutazaiapp
    summaries:
      - phase: agents
        status: changed
        rows: [{item: Agent registry files (JSON), before: 4, after: 1}]
        files: [{path: config/agents/master_registry.json, action: create}]
    rollback_command: >-
      ansible-playbook -i inventory sutazai.consolidation.rollback
      -e sutazai_root=/opt/sutazaiapp -e sutazai_run_id=20261121T101500Z-3fa2c1
"""

RETURN = r"""
table:
  description: The summary table, one string per line.
  returned: always
  type: list
  elements: str
report_files:
  description: Paths written (empty in check mode).
  returned: always
  type: list
  elements: str
phases:
  description: The phase and status of each summary, in the order given.
  returned: always
  type: list
  elements: dict
  contains:
    phase:
      description: The phase name (C(agents), C(env), ...).
      type: str
    status:
      description: C(would change), C(changed), C(unchanged) or C(blocked).
      type: str
  sample: [{phase: agents, status: would change}, {phase: env, status: unchanged}]
"""

import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.sutazai.consolidation.plugins.module_utils._fileio import atomic_write
from ansible_collections.sutazai.consolidation.plugins.module_utils._report import (
    render_json,
    render_markdown,
    render_table,
)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            report_dir=dict(type="path", required=True),
            run_id=dict(type="str", required=True),
            root=dict(type="path", required=True),
            summaries=dict(type="list", elements="dict", default=[]),
            rollback_command=dict(type="str"),
        ),
        supports_check_mode=True,
    )
    p = module.params
    if "/" in p["run_id"] or p["run_id"] in (".", ".."):
        module.fail_json(msg="invalid run_id %r" % p["run_id"])
    table = render_table(p["summaries"])
    files = []
    if not module.check_mode:
        report_dir = os.path.abspath(p["report_dir"])
        if not os.path.isdir(report_dir):
            os.makedirs(report_dir, 0o750)
        base = os.path.join(report_dir, p["run_id"])
        command = p["rollback_command"]
        atomic_write(base + ".json", render_json(p["summaries"], p["run_id"], p["root"], rollback_command=command)
                     .encode("utf-8"), mode=0o640)
        markdown = render_markdown(p["summaries"], p["run_id"], p["root"], rollback_command=command)
        atomic_write(base + ".md", markdown.encode("utf-8"), mode=0o640)
        files = [base + ".json", base + ".md"]
    phases = [{"phase": s.get("phase"), "status": s.get("status")} for s in p["summaries"]]
    # The invocation Ansible would echo holds every summary again (megabytes on a real tree).
    invocation = {"module_args": dict(p, summaries=phases)}
    module.exit_json(changed=False, table=table, report_files=files, phases=phases, invocation=invocation)


if __name__ == "__main__":
    main()
