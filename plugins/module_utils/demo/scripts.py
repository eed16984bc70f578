# -*- coding: utf-8 -*-
# Copyright (c) 2026 sutazai.consolidation contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Demo-platform files of the scripts phase (see ``demo.tree.demo_files``).

What the scripts phase finds in the demo tree (with the config demo's unparseable
``scripts/legacy/py2_report.py``):

* a byte-identical pair ``scripts/utils/start-all.sh`` / ``scripts/deployment/start-all.sh``,
  referenced from the ``Makefile`` and a GitHub workflow: the shorter path stays, the workflow
  is rewritten;
* a Python pair equal once docstrings and comments are gone
  (``scripts/monitoring/health_check.py``, ``scripts/legacy/health_check_old.py``): the old copy
  goes, the docs link to it is rewritten;
* a shell pair equal once comments, blank lines and indentation are gone
  (``scripts/backup/db-backup.sh``, ``scripts/backup/db-backup-copy.sh``), called through
  ``/opt/sutazaiapp/...`` from the workflow and through ``"$(dirname "$0")"`` from another script;
* two scripts with the same function names (``main``, ``check``, ``report``) and different
  bodies (``check_redis.py``, ``check_postgres.py``): both stay (grouping by
  function names would merge them);
* near duplicates that are not equal (``deploy-backend.sh``, ``deploy-frontend.sh``);
* a pair that differs only in whitespace inside quotes (``banner.sh``, ``banner-wide.sh``):
  not merged;
* a script referenced only from docs (``scripts/maintenance/one-off-fix.sh``): unreferenced;
* no ``scripts/deployment/deploy-master.sh``: the phase generates it.

All demo files are written with mode 0644, so no executable-bit case appears here (the
generated tree of ``tests/gen_scripts.py`` has them). Content is fixed; ``scale`` adds nothing.
"""

from __future__ import annotations

_START_ALL = """#!/bin/bash
# Purpose: start the SutazAI core services in dependency order
set -euo pipefail

for svc in postgres redis ollama backend frontend; do
  docker compose up -d "$svc"
done
echo "SutazAI core services started"
"""

_HEALTH = '''#!/usr/bin/env python3
"""Check the health endpoints of the SutazAI backend and frontend."""

import subprocess
import sys

URLS = ["http://localhost:10010/health", "http://localhost:10011/_stcore/health"]


def healthy(url):
    """True when ``url`` answers with a success status within five seconds."""
    proc = subprocess.run(["curl", "-fsS", "--max-time", "5", "-o", "/dev/null", url], check=False)
    return proc.returncode == 0


def main():
    bad = [url for url in URLS if not healthy(url)]
    for url in bad:
        print("unhealthy: %s" % url)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
'''

_HEALTH_OLD = '''#!/usr/bin/env python3
# Old location of the health check, kept during the 2024 clean-up.
"""Health check (legacy copy)."""

import subprocess
import sys

URLS = ["http://localhost:10010/health", "http://localhost:10011/_stcore/health"]


def healthy(url):
    # a success status within five seconds counts as healthy
    proc = subprocess.run(["curl", "-fsS", "--max-time", "5", "-o", "/dev/null", url],
                          check=False)
    return proc.returncode == 0


def main():
    """Print the unhealthy URLs; exit 1 when there is one."""
    bad = [url for url in URLS if not healthy(url)]
    for url in bad:
        print("unhealthy: %s" % url)   # one line per URL
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
'''

_DB_BACKUP = """#!/bin/bash
# Purpose: dump the SutazAI PostgreSQL database
set -euo pipefail

DEST="${BACKUP_DIR:-/opt/sutazaiapp/data/db-dumps}"
mkdir -p "$DEST"
docker compose exec -T postgres pg_dump -U "${POSTGRES_USER:-sutazai}" sutazai > "$DEST/sutazai.sql"
echo "dump written to ${DEST}/sutazai.sql"
"""

_DB_BACKUP_COPY = """#!/bin/bash
#
# db-backup-copy.sh - copy of the database dump script
#
set -euo pipefail


DEST="${BACKUP_DIR:-/opt/sutazaiapp/data/db-dumps}"   # dump folder
    mkdir -p "$DEST"
docker compose   exec -T postgres pg_dump -U "${POSTGRES_USER:-sutazai}" sutazai > "$DEST/sutazai.sql"

echo "dump written to ${DEST}/sutazai.sql"
"""

_CHECK_REDIS = '''"""Check that Redis answers PING."""
import socket
import sys


def check(host="localhost", port=10001):
    with socket.create_connection((host, port), timeout=3) as conn:
        conn.sendall(b"PING\\r\\n")
        return conn.recv(16).startswith(b"+PONG") or conn.recv(16).startswith(b"-NOAUTH")


def report(ok):
    print("redis: %s" % ("ok" if ok else "no answer"))


def main():
    ok = check()
    report(ok)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
'''

_CHECK_POSTGRES = '''"""Check that PostgreSQL accepts connections."""
import subprocess
import sys


def check(container="sutazai-postgres"):
    proc = subprocess.run(["docker", "exec", container, "pg_isready", "-U", "sutazai"], check=False)
    return proc.returncode == 0


def report(ok):
    print("postgres: %s" % ("accepting connections" if ok else "not ready"))


def main():
    ok = check()
    report(ok)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
'''

_DEPLOY_ONE = """#!/bin/bash
# Purpose: rebuild one SutazAI service and wait until its health endpoint answers
set -euo pipefail

SERVICE="{svc}"
HEALTH_URL="http://localhost:{port}{path}"
ATTEMPTS="${{ATTEMPTS:-10}}"

log() {{ echo "[$(date +%H:%M:%S)] $*"; }}

log "rebuilding ${{SERVICE}}"
docker compose build --pull "$SERVICE"
docker compose up -d --no-deps "$SERVICE"
for attempt in $(seq 1 "$ATTEMPTS"); do
  if curl -fsS "$HEALTH_URL" >/dev/null; then
    log "${{SERVICE}} healthy after ${{attempt}} attempt(s)"
    exit 0
  fi
  sleep 3
done
log "${{SERVICE}} did not become healthy at ${{HEALTH_URL}}"
docker compose logs --tail 50 "$SERVICE" >&2
exit 1
"""

_BANNER = """#!/bin/bash
# Purpose: print the SutazAI banner
echo "{text}"
"""

_NIGHTLY = """#!/bin/bash
# Purpose: nightly maintenance of the SutazAI platform
set -euo pipefail
"$(dirname "$0")/../backup/db-backup-copy.sh"
python3 /opt/sutazaiapp/scripts/monitoring/check_redis.py
python3 /opt/sutazaiapp/scripts/monitoring/check_postgres.py
"""

_ONE_OFF = """#!/bin/bash
# Purpose: one-off fix of the agent ports after the 2024 port-registry change
sed -i 's/8080/8589/' /opt/sutazaiapp/config/agents.conf
"""

_MAKEFILE = """# SutazAI tasks
.PHONY: start health backup nightly

start:
\t./scripts/utils/start-all.sh

health:
\tpython3 scripts/monitoring/health_check.py

backup:
\tbash scripts/backup/db-backup.sh

nightly:
\tbash scripts/maintenance/nightly.sh
\tbash scripts/deployment/deploy-backend.sh
\tbash scripts/deployment/deploy-frontend.sh
\tbash scripts/utils/banner.sh
\tbash scripts/utils/banner-wide.sh
"""

_WORKFLOW = """name: deploy
on:
  push:
    branches: [main]
jobs:
  deploy:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - name: Start the core services
        run: bash scripts/deployment/start-all.sh
      - name: Back up the database first
        run: /opt/sutazaiapp/scripts/backup/db-backup-copy.sh
"""

_DOCS = """# Operations scripts

- Start everything: `scripts/utils/start-all.sh`
- Health: [health check](../../scripts/legacy/health_check_old.py)
- One-off fix (done): [one-off-fix.sh](../../scripts/maintenance/one-off-fix.sh)
- Deployment: run `scripts/deployment/deploy-master.sh validate` first.
"""


def add_demo_files(files, links, scale):
    """Add this phase's demo files to ``files`` ({rel: bytes}) and ``links`` ({rel: target}).

    :param scale: int >= 1 (see ``demo.tree.demo_files``); the scripts demo does not grow with it.
    """
    add = {
        "scripts/utils/start-all.sh": _START_ALL,
        "scripts/deployment/start-all.sh": _START_ALL,
        "scripts/monitoring/health_check.py": _HEALTH,
        "scripts/legacy/health_check_old.py": _HEALTH_OLD,
        "scripts/backup/db-backup.sh": _DB_BACKUP,
        "scripts/backup/db-backup-copy.sh": _DB_BACKUP_COPY,
        "scripts/monitoring/check_redis.py": _CHECK_REDIS,
        "scripts/monitoring/check_postgres.py": _CHECK_POSTGRES,
        "scripts/deployment/deploy-backend.sh": _DEPLOY_ONE.format(svc="backend", port=10010, path="/health"),
        "scripts/deployment/deploy-frontend.sh": _DEPLOY_ONE.format(svc="frontend", port=10011, path="/_stcore/health"),
        "scripts/utils/banner.sh": _BANNER.format(text="SutazAI  platform"),
        "scripts/utils/banner-wide.sh": _BANNER.format(text="SutazAI platform"),
        "scripts/maintenance/nightly.sh": _NIGHTLY,
        "scripts/maintenance/one-off-fix.sh": _ONE_OFF,
        "Makefile": _MAKEFILE,
        ".github/workflows/deploy.yml": _WORKFLOW,
        "docs/operations/scripts.md": _DOCS,
    }
    for rel, text in add.items():
        files[rel] = text.encode("utf-8")
    return None
