#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026 sutazai.consolidation contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: data_backup
short_description: Back up the databases and volumes of a running SutazAI Compose project, each backup restore-tested
version_added: 0.6.0
description:
  - Reads the Compose model of the platform (C(docker compose config)) and finds the project's
    containers by their Compose labels. Each service that has a container gets a backup method,
    from a word of its image's repository name (of the service name for a service built without an C(image)) unless O(methods) names one.
  - C(pg_dumpall) (images named postgres, postgresql, postgis, timescaledb) runs C(pg_dumpall)
    inside the container over 127.0.0.1 as its C(POSTGRES_USER) and streams it into
    C(<service>.pg_dumpall.sql.gz). The password (C(POSTGRES_PASSWORD) of the container's
    environment) reaches the tool through the environment of C(docker exec), never a command line.
  - C(redis_rdb) (redis, valkey) asks for C(BGSAVE), polls C(INFO persistence) until a new
    snapshot is recorded with C(rdb_bgsave_in_progress:0) and C(rdb_last_bgsave_status:ok), and
    copies the RDB file (C(CONFIG GET dir) and C(dbfilename)) out as C(<service>.dump.rdb).
  - C(offline) (neo4j, rabbitmq) stops the container, archives each of its named volumes, starts
    it again and waits until it runs and, when it has a healthcheck, is healthy. The downtime is
    measured and returned.
  - C(volume) (any other service with named volumes) archives each named volume with C(tar) in a
    throwaway container of the service's image (no network, the volume read-only) as
    C(<service>.<volume>.tar.gz).
  - "Restore test (O(restore_test), on by default): a PostgreSQL dump is restored into a throwaway
    container of the same image and environment (no network, no published port, none of the
    service's volumes) and every table's row count and row checksum must equal the live ones; an
    RDB file is loaded by a throwaway Redis of the same image and C(DBSIZE) and a digest over all
    keys with their types and values (hash fields and set members sorted) must equal the live ones; a volume archive is extracted into a
    throwaway volume whose files and their sha256 must equal the archive's and the live volume's.
    A failed test fails the task."
  - Files go to C(<backup_root>/<run_id>/data/) (folder 0700, files 0600) with C(manifest.json)
    listing service, kind, file, bytes, sha256, seconds and the restore test of each file.
  - A backup does not change the platform, so the task reports C(changed=false).
  - With no Docker engine, no Compose file or no container of the project there is nothing to back
    up; the task says so and succeeds.
options:
  root:
    description:
      - Root folder of the SutazAI platform tree (C(sutazai_root)); the Compose project folder.
    type: path
    required: true
  compose_files:
    description:
      - Compose files of the project, relative to O(root), in the order C(docker compose -f) takes them.
      - Files that do not exist are left out; with none left there is nothing to back up.
    type: list
    elements: str
    default: [docker-compose.yml]
  project_name:
    description:
      - Compose project name. Default is the one Compose uses without C(-p), that is
        C(COMPOSE_PROJECT_NAME) in the C(.env) of O(root), else the top-level C(name) of the Compose
        files, else the folder name of O(root) (lower-cased, only C(a-z), C(0-9), C(_) and C(-) kept).
        Set it when the project is started with C(-p).
    type: str
  methods:
    description:
      - Backup method by service name, overriding the image rule. One of C(pg_dumpall),
        C(redis_rdb), C(offline), C(volume), C(none).
    type: dict
    default: {}
  exclude:
    description:
      - Services never backed up.
    type: list
    elements: str
    default: []
  restore_test:
    description:
      - Restore every backup into a throwaway container or volume and compare it with the live data.
    type: bool
    default: true
  timeout:
    description:
      - Seconds each step may take (a dump, a snapshot, a container getting ready) before the task fails.
    type: int
    default: 600
  helper_image:
    description:
      - Image of the throwaway containers that archive volumes; it needs C(tar). Default is the
        service's own image (nothing is pulled).
    type: str
  backup_root:
    description:
      - Folder holding one folder per run; the backups go to C(<backup_root>/<run_id>/data/).
        Default is C(<root>/backups).
    type: path
  report_dir:
    description:
      - Folder of the run reports (not written by this module). Default is C(<root>/reports).
    type: path
  run_id:
    description:
      - Identifier of the run; names the run folder. Without it the module makes a new one.
    type: str
  strict:
    description:
      - Accepted for the shared phase options; a backup that cannot be made always fails the task.
    type: bool
    default: false
attributes:
  check_mode:
    description: Lists what would be backed up and its size from read-only queries (database sizes,
      Redis memory, volume sizes); starts, stops, creates and writes nothing.
    support: full
  diff_mode:
    description: No file of the tree changes, so there is no diff.
    support: none
  idempotent:
    description: Each run makes a new backup under its own run folder; the platform is not changed.
    support: full
requirements:
  - the docker CLI with the Compose v2 plugin on the target, talking to the engine that runs the platform
  - python-dotenv
  - ruamel.yaml
notes:
  - Live data may change between the backup and the comparison of its restore test; on a busy
    platform exclude the services whose data cannot hold still, or run the backup in a quiet period.
  - Keys whose names hold a newline are not compared by the Redis restore test.
seealso:
  - module: sutazai.consolidation.rollback
author:
  - SutazAI consolidation team (@sutazai)
"""

EXAMPLES = r"""
- name: Back up the platform's databases and volumes, each restore-tested
  sutazai.consolidation.data_backup:
    root: /opt/sutazaiapp
    backup_root: /var/backups/sutazai
  register: backup

- name: Show what would be backed up, without touching anything
  sutazai.consolidation.data_backup:
    root: /opt/sutazaiapp
  check_mode: true

- name: Treat a self-built graph database as offline-only, skip the model cache
  sutazai.consolidation.data_backup:
    root: /opt/sutazaiapp
    methods:
      sutazai-graph: offline
    exclude: [ollama]
"""

RETURN = r"""
changed:
  description: Always false; backups do not change the platform.
  returned: always
  type: bool
  sample: false
run_id:
  description: Run the backups belong to.
  returned: always
  type: str
  sample: 20261208T010000Z-1234
data_dir:
  description: Folder of the backups (absent in check mode and when there is nothing to back up).
  returned: success
  type: str
  sample: /var/backups/sutazai/20261208T010000Z-1234/data
manifest:
  description: Path of C(manifest.json) in RV(data_dir).
  returned: success
  type: str
  sample: /var/backups/sutazai/20261208T010000Z-1234/data/manifest.json
plan:
  description: What is (or would be) backed up, one item per service.
  returned: always
  type: list
  elements: dict
  contains:
    service: {description: Compose service., type: str, sample: postgres}
    method: {description: Backup method., type: str, sample: pg_dumpall}
    container: {description: Container name., type: str, sample: sutazai-postgres}
    why: {description: Why this method., type: str, sample: image postgres:16.3-alpine}
    volumes: {description: Docker names of the named volumes the service mounts., type: list, elements: str,
              sample: [sutazai_postgres_data]}
    bytes: {description: Estimated size in bytes (check mode only)., type: int, sample: 104857600}
backups:
  description: The manifest's entries, one per file.
  returned: success
  type: list
  elements: dict
  contains:
    service: {description: Compose service., type: str, sample: postgres}
    kind: {description: "C(pg_dumpall), C(redis_rdb) or C(volume).", type: str, sample: pg_dumpall}
    file: {description: File name in RV(data_dir)., type: str, sample: postgres.pg_dumpall.sql.gz}
    bytes: {description: Size of the file in bytes., type: int, sample: 2254112}
    sha256: {description: sha256 of the file (hex)., type: str, sample: 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08}
    seconds: {description: Seconds the backup took., type: float, sample: 1.8}
    volume: {description: Docker volume archived (kind C(volume))., type: str, sample: sutazai_rabbitmq_data}
    downtime_seconds: {description: "Seconds from stop to healthy, for an offline backup.", type: float, sample: 6.2}
    restore_test:
      description: "The restore test: C(passed), C(seconds), C(checked) (databases, tables and rows;
        keys; or files) and C(differences) (list of str)."
      type: dict
      sample: {passed: true, seconds: 4.1, checked: {databases: 2, tables: 5, rows: 111001}, differences: []}
summary:
  description: Phase summary for the run report (phase C(backup); status C(backed up), C(would back up)
    or C(nothing to back up); rows of services, files, bytes and restore tests).
  returned: always
  type: dict
  sample: {phase: backup, status: backed up, rows: [{item: Backups (files), before: 0, after: 5}]}
msg:
  description: One line saying what was backed up, or why nothing was.
  returned: always
  type: str
  sample: "5 backups of 4 services (118.2 MB), every restore test passed"
"""

import os
import shutil
import subprocess

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.sutazai.consolidation.plugins.module_utils import _backup
from ansible_collections.sutazai.consolidation.plugins.module_utils._journal import _RUN_ID_RE
from ansible_collections.sutazai.consolidation.plugins.module_utils._lock import new_run_id
from ansible_collections.sutazai.consolidation.plugins.module_utils._phase import PHASE_ARGUMENT_SPEC, check_root, phase_paths, redact_output

PHASE = "backup"


def _size(n):
    for unit, div in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n >= div:
            return "%.1f %s" % (n / div, unit)
    return "%d B" % n


def _nothing(module, run_id, why):
    summary = {"phase": PHASE, "status": "nothing to back up", "reason": why, "rows": []}
    module.exit_json(changed=False, run_id=run_id, plan=[], msg="nothing to back up: %s" % why, summary=summary)


def main():
    spec = dict(PHASE_ARGUMENT_SPEC)
    spec.update(
        compose_files=dict(type="list", elements="str", default=["docker-compose.yml"]),
        project_name=dict(type="str"),
        methods=dict(type="dict", default={}),
        exclude=dict(type="list", elements="str", default=[]),
        restore_test=dict(type="bool", default=True),
        timeout=dict(type="int", default=600),
        helper_image=dict(type="str"),
    )
    module = AnsibleModule(argument_spec=spec, supports_check_mode=True)
    if not _backup.HAS_LIBS:
        module.fail_json(msg=missing_required_lib("python-dotenv and ruamel.yaml (the preflight role installs them)"))
    p = module.params
    root, backup_root, _reports = phase_paths(p)
    check_root(module, root)
    run_id = p["run_id"] or new_run_id()
    if not _RUN_ID_RE.match(run_id):
        module.fail_json(msg="run_id %r is not a run folder name (letters, digits, '.', '_', '-'; not starting with '.' or '-')"
                         % run_id)
    if p["timeout"] < 1:
        module.fail_json(msg="timeout must be at least 1 second, got %d" % p["timeout"])

    files = [f for f in p["compose_files"] if os.path.isfile(os.path.join(root, f))]
    if not files:
        _nothing(module, run_id, "no Compose file (%s) in %s" % (", ".join(p["compose_files"]), root))
    if shutil.which("docker") is None:
        _nothing(module, run_id, "no docker CLI on this host")
    info = _backup.docker(["info", "--format", "{{.ServerVersion}}"], timeout=60, check=False)
    if info.returncode != 0:
        _nothing(module, run_id, "no Docker engine answers on this host")
    try:
        # Containers first: a tree whose platform does not run here (a copy, a checkout) needs no
        # Compose model, which may not even resolve without the platform's env files.
        project = p["project_name"] or _backup.default_project_name(root, files)
        containers = _backup.project_containers(project)
        if not containers:
            _nothing(module, run_id, "no container of Compose project %s on this host" % project)
        model = _backup.compose_model(root, files, project)
        items = _backup.plan(model, containers, p["methods"], set(p["exclude"]))
        secrets = []
        for item in items:
            secrets.extend(_backup.secret_values(_backup.inspect(item["container"])))
        redact_output(module, root, secrets)
    except _backup.BackupError as exc:
        module.fail_json(msg="backup phase: %s" % exc, run_id=run_id)
    if not items:
        _nothing(module, run_id, "no container of Compose project %s holds data" % project)

    plan_out = [dict(service=i["service"], method=i["method"], container=i["container"], why=i["why"],
                     volumes=[v["name"] for v in i["volumes"]]) for i in items]
    if module.check_mode:
        try:
            sizes = dict((e["service"], e["bytes"]) for e in _backup.estimate(items))
        except _backup.BackupError as exc:
            module.fail_json(msg="backup phase: %s" % exc, run_id=run_id, plan=plan_out)
        for row in plan_out:
            row["bytes"] = sizes.get(row["service"], 0)
        total = sum(sizes.values())
        rows = [{"item": "Services to back up", "before": len(items), "after": len(items)},
                {"item": "Estimated size", "before": _size(total), "after": _size(total)}]
        tested = ", each restore-tested" if p["restore_test"] else ""
        module.exit_json(changed=False, run_id=run_id, plan=plan_out,
                         msg="would back up %d services (about %s)%s" % (len(items), _size(total), tested),
                         summary={"phase": PHASE, "status": "would back up", "rows": rows})

    data_dir = os.path.join(backup_root, run_id, "data")
    for folder, own in ((backup_root, False), (os.path.dirname(data_dir), True)):
        # The backup root may be shared (its mode is kept); the run folder is ours (0700).
        if not os.path.isdir(folder):
            os.makedirs(folder, mode=0o700)
            os.chmod(folder, 0o700)
        elif own:
            os.chmod(folder, 0o700)
    try:
        manifest = _backup.run_backup(items, data_dir, run_id, project, p["timeout"], p["restore_test"], p["helper_image"])
    except _backup.BackupError as exc:
        module.fail_json(msg="backup phase failed, the platform is as it was: %s" % exc, run_id=run_id, plan=plan_out,
                         data_dir=data_dir)
    except (OSError, ValueError, subprocess.SubprocessError) as exc:
        # Disk full, an unreadable answer: named, redacted, no traceback.
        module.fail_json(msg="backup phase failed while writing to %s: %s: %s" % (data_dir, type(exc).__name__, exc),
                         run_id=run_id, plan=plan_out, data_dir=data_dir)
    entries = manifest["entries"]
    failed = _backup.failed_tests(manifest)
    total = sum(e["bytes"] for e in entries)
    rows = [{"item": "Services backed up", "before": 0, "after": len(items)},
            {"item": "Backups (files)", "before": 0, "after": len(entries)},
            {"item": "Size", "before": 0, "after": _size(total)},
            {"item": "Restore tests passed", "before": 0, "after": "%d/%d" % (len(entries) - len(failed), len(entries))}]
    result = dict(changed=False, run_id=run_id, plan=plan_out, data_dir=data_dir,
                  manifest=os.path.join(data_dir, "manifest.json"), backups=entries)
    if failed:
        detail = "; ".join("%s (%s): %s" % (s, f, ", ".join(d)) for s, f, d in failed)
        module.fail_json(msg="backup phase: %d backup(s) failed the restore test, nothing may change the platform: %s"
                         % (len(failed), detail), summary={"phase": PHASE, "status": "failed", "rows": rows}, **result)
    downtime = dict((e["service"], e["downtime_seconds"]) for e in entries if "downtime_seconds" in e)
    msg = "%d backups of %d services (%s)%s" % (len(entries), len(items), _size(total),
                                                ", every restore test passed" if p["restore_test"] else ", not restore-tested")
    if downtime:
        msg += "; offline: " + ", ".join("%s %.1f s" % kv for kv in sorted(downtime.items()))
    module.exit_json(msg=msg, summary={"phase": PHASE, "status": "backed up", "rows": rows}, **result)


if __name__ == "__main__":
    main()
