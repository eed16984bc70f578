# -*- coding: utf-8 -*-
"""Generated trees for the scripts phase (tests and benchmark). Deterministic: no clock; the
pseudo-random choices are seeded with fixed strings.

``generate(root, size)`` writes under ``root`` and returns the figures the phase must find:

* ``"small"`` -- the acceptance fixture: scripts with the same function names but different
  bodies (none may be lost), real duplicates (byte-identical, AST-equal with other
  comments/docstrings, shell equal modulo comments/whitespace) referenced from a Makefile, a
  compose file, CI files, a Dockerfile, docs and other scripts (relative, install-prefixed and
  variable-prefixed paths), and the cases that must not merge or must stay (whitespace inside
  quotes, a ``#`` line inside a heredoc, an executable copy of a non-executable canonical, a
  copy mounted through its folder, a symlinked script, ``__init__.py`` files, a Python 2 file).
* ``"v76"`` -- modeled on the real v76 tree: 444 scripts under ``scripts/`` (207 Python, 230
  ``.sh``, 7 ``.bash``) in 22 category folders, all byte-unique with no AST or shell-normal
  duplicate, planted near duplicates, 11 pairs of Python scripts with the same function names
  (the seed's grouping gives 196 groups for the 207), references from compose, Makefile,
  Dockerfiles, CI, cron, other scripts and docs, and a folder mount. Files written by it:
  ``scripts/**``, ``Makefile``, ``.github/workflows/*.yml``, ``.gitlab-ci.yml``,
  ``docker/compose/docker-compose.scripts.yml``, ``docker/script-images/*/Dockerfile``,
  ``config/cron/sutazai.cron``, ``docs/scripts/*.md``; the rest of a 5,400-file tree comes
  from the other generators (``files`` in the figures says how many this one wrote).
"""

from __future__ import annotations

import os
import random

SMALL = "small"
V76 = "v76"


def _write(root, rel, text, mode=0o644):
    path = os.path.join(root, *rel.split("/"))
    os.makedirs(os.path.dirname(path), exist_ok=True)
    data = text.encode("utf-8") if isinstance(text, str) else text
    with open(path, "wb") as f:
        f.write(data)
    os.chmod(path, mode)


# -- small: the acceptance fixture ------------------------------------------------------------
_START = """#!/bin/bash
# Purpose: start the SutazAI core services in order
set -euo pipefail

for svc in postgres redis backend frontend; do
  docker compose up -d "$svc"
done
echo "services started"
"""

_CLEANUP = '''#!/usr/bin/env python3
"""Remove log files older than the retention period."""

import os
import sys
import time

RETENTION_DAYS = 14  # keep two weeks


def old_files(folder, days):
    """Yield files older than ``days`` days."""
    limit = time.time() - days * 86400
    for name in sorted(os.listdir(folder)):
        path = os.path.join(folder, name)
        if os.path.isfile(path) and os.path.getmtime(path) < limit:
            yield path


def main(argv):
    folder = argv[1] if len(argv) > 1 else "/opt/sutazaiapp/logs"
    for path in old_files(folder, RETENTION_DAYS):
        os.remove(path)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
'''

_CLEANUP_V1 = '''#!/usr/bin/env python3
# Legacy copy kept "just in case" (2024 clean-up sprint).
"""Log clean-up (old location).

Deletes logs past retention. Same as the maintenance version.
"""

import os
import sys
import time

RETENTION_DAYS = 14


def old_files(folder, days):
    # files whose modification time is before the limit
    limit = time.time() - days * 86400
    for name in sorted(os.listdir(folder)):
        path = os.path.join(folder, name)
        if os.path.isfile(path) and os.path.getmtime(path) < limit:
            yield path


def main(argv):
    """Entry point."""
    folder = argv[1] if len(argv) > 1 else "/opt/sutazaiapp/logs"
    for path in old_files(folder, RETENTION_DAYS):
        os.remove(path)   # journal is elsewhere
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
'''

_BACKUP_DB = """#!/bin/bash
# Purpose: dump the SutazAI PostgreSQL database to /opt/sutazaiapp/backups/db
set -euo pipefail

DEST="${BACKUP_DIR:-/opt/sutazaiapp/backups/db}"
mkdir -p "$DEST"
stamp="$(date +%Y%m%d%H%M%S)"
docker compose exec -T postgres pg_dump -U "${POSTGRES_USER:-sutazai}" sutazai > "$DEST/sutazai-$stamp.sql"
echo "backup written: ${DEST}/sutazai-${stamp}.sql"
"""

_BACKUP_DB_OLD = """#!/bin/bash
#
# backup_database_old.sh -- the first version of the database backup
# (moved to scripts/backup/ later)
#
set -euo pipefail


DEST="${BACKUP_DIR:-/opt/sutazaiapp/backups/db}"   # where dumps go
  mkdir -p "$DEST"
stamp="$(date +%Y%m%d%H%M%S)"
\tdocker   compose exec -T postgres   pg_dump -U "${POSTGRES_USER:-sutazai}" sutazai > "$DEST/sutazai-$stamp.sql"

# done
echo "backup written: ${DEST}/sutazai-${stamp}.sql"
"""

# Same function names (main, check, report), different bodies: none may be merged.
_CHECK_HEALTH = '''#!/usr/bin/env python3
"""Check the HTTP health endpoints of the SutazAI services."""

import sys
import urllib.request

from common_checks import TIMEOUT

TARGETS = {"backend": "http://localhost:10010/health", "frontend": "http://localhost:10011/health"}


def check(name, url):
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT) as resp:
            return resp.status == 200
    except OSError:
        return False


def report(results):
    for name, ok in sorted(results.items()):
        print("%-10s %s" % (name, "ok" if ok else "DOWN"))


def main():
    results = dict((name, check(name, url)) for name, url in TARGETS.items())
    report(results)
    return 0 if all(results.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
'''

_CHECK_SERVICES = '''#!/usr/bin/env python3
"""Check that the SutazAI containers are running."""

import subprocess
import sys

EXPECTED = ["sutazai-postgres", "sutazai-redis", "sutazai-backend"]


def check(name, running):
    return name in running


def report(results):
    missing = [name for name, ok in results.items() if not ok]
    print("missing containers: %s" % (", ".join(missing) or "none"))


def main():
    out = subprocess.run(["docker", "ps", "--format", "{{.Names}}"], capture_output=True, text=True, check=False)
    running = set(out.stdout.split())
    results = dict((name, check(name, running)) for name in EXPECTED)
    report(results)
    return 0 if all(results.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
'''

_CHECK_DISK = '''"""Warn when a disk is almost full."""
import shutil


def check(path="/"):
    usage = shutil.disk_usage(path)
    return usage.used / usage.total


def main():
    print("disk used: %.0f%%" % (check() * 100))
'''

_CHECK_MEMORY = '''"""Warn when memory is almost used up."""


def check(path="/proc/meminfo"):
    with open(path) as f:
        fields = dict(line.split(":", 1) for line in f)
    return 1 - int(fields["MemAvailable"].split()[0]) / int(fields["MemTotal"].split()[0])


def main():
    print("memory used: %.0f%%" % (check() * 100))
'''

_COMMON_CHECKS = '''"""Shared settings of the health checks."""
TIMEOUT = 5
'''

_DEPLOY_SVC = """#!/bin/bash
# Purpose: build and deploy one SutazAI service, then wait until it is healthy
set -euo pipefail

SERVICE="{svc}"
COMPOSE_FILE="${{COMPOSE_FILE:-/opt/sutazaiapp/docker-compose.yml}}"
HEALTH_URL="http://localhost:{port}/health"
ATTEMPTS="${{ATTEMPTS:-10}}"
DELAY="${{DELAY:-3}}"

log() {{ echo "[$(date +%H:%M:%S)] $*"; }}

build_service() {{
  log "building ${{SERVICE}} from ${{COMPOSE_FILE}}"
  docker compose -f "$COMPOSE_FILE" build --pull "$SERVICE"
}}

start_service() {{
  log "starting ${{SERVICE}} without its dependencies"
  docker compose -f "$COMPOSE_FILE" up -d --no-deps "$SERVICE"
}}

wait_healthy() {{
  local attempt
  for attempt in $(seq 1 "$ATTEMPTS"); do
    if curl -fsS "$HEALTH_URL" >/dev/null; then
      log "${{SERVICE}} is healthy after ${{attempt}} attempt(s)"
      return 0
    fi
    sleep "$DELAY"
  done
  log "${{SERVICE}} did not become healthy at ${{HEALTH_URL}}"
  docker compose -f "$COMPOSE_FILE" logs --tail 50 "$SERVICE" >&2
  return 1
}}

build_service
start_service
wait_healthy
"""

_BANNER = """#!/bin/bash
# Purpose: print the SutazAI banner
set -euo pipefail
. "$(dirname "$0")/common.sh"
echo "{text}"
"""

_COMMON_SH = """#!/bin/bash
# Purpose: shared shell helpers
log() { echo "[$(date +%H:%M:%S)] $*"; }
"""

_WRITE_CONF = """#!/bin/bash
# Purpose: write the default agent configuration
set -euo pipefail
cat > /etc/sutazai/agents.conf <<EOF
{extra}max_agents = 8
timeout = 30
EOF
"""

_ROTATE = """#!/bin/sh
# Purpose: rotate the SutazAI logs
find /opt/sutazaiapp/logs -name '*.log' -size +50M -exec gzip {} \\;
"""

_WRAPPER = """#!/bin/bash
# Purpose: start an MCP server inside its container
set -euo pipefail
exec "$@"
"""

_PY2 = '''#!/usr/bin/env python2
"""Old report (Python 2)."""
print "report"
'''


def _small(root):
    files = {}
    modes = {}

    def add(rel, text, mode=0o644):
        files[rel] = text
        modes[rel] = mode

    add("scripts/deploy/start-services.sh", _START, 0o755)
    add("scripts/utils/start-services.sh", _START, 0o755)
    add("scripts/maintenance/cleanup_logs.py", _CLEANUP, 0o755)
    add("scripts/legacy/cleanup_logs_v1_backup.py", _CLEANUP_V1, 0o755)
    add("scripts/backup/backup-db.sh", _BACKUP_DB, 0o755)
    add("scripts/legacy/backup_database_old.sh", _BACKUP_DB_OLD, 0o755)
    add("scripts/monitoring/check_health.py", _CHECK_HEALTH)
    add("scripts/health/check_services.py", _CHECK_SERVICES)
    add("scripts/monitoring/check_disk.py", _CHECK_DISK)
    add("scripts/monitoring/check_memory.py", _CHECK_MEMORY)
    add("scripts/monitoring/common_checks.py", _COMMON_CHECKS)
    add("scripts/monitoring/__init__.py", "")
    add("scripts/health/__init__.py", "")
    add("scripts/deploy/deploy-backend.sh", _DEPLOY_SVC.format(svc="backend", port=10010), 0o755)
    add("scripts/deploy/deploy-frontend.sh", _DEPLOY_SVC.format(svc="frontend", port=10011), 0o755)
    add("scripts/utils/banner.sh", _BANNER.format(text="SutazAI  platform"), 0o755)
    add("scripts/utils/banner_compact.sh", _BANNER.format(text="SutazAI platform"), 0o755)
    add("scripts/utils/common.sh", _COMMON_SH)
    add("scripts/config/write_conf.sh", _WRITE_CONF.format(extra=""), 0o755)
    add("scripts/config/write_conf_annotated.sh", _WRITE_CONF.format(extra="# written by SutazAI\n"), 0o755)
    add("scripts/ops/rotate.sh", _ROTATE)
    add("scripts/tools/rotate.sh", _ROTATE, 0o755)
    add("scripts/mcp/wrappers/run.sh", _WRAPPER, 0o755)
    add("scripts/utils/run-wrapper.sh", _WRAPPER, 0o755)
    add("scripts/legacy/py2_tool.py", _PY2)
    add("scripts/old/one_off_fix.sh", "#!/bin/bash\n# Purpose: one-off fix of the 2024 agent ports\nsed -i 's/8080/8589/' /etc/sutazai/agents.conf\n")
    add("scripts/old/migrate_v1.py", '"""Migrate the v1 agent registry (done in 2024)."""\nprint("nothing to do")\n')

    add("Makefile", """# SutazAI tasks
.PHONY: start backup deploy-backend logs

start:
\t./scripts/deploy/start-services.sh

backup:
\tbash scripts/backup/backup-db.sh

deploy-backend:
\tscripts/deploy/deploy-backend.sh
\tscripts/deploy/deploy-frontend.sh

logs:
\tpython3 scripts/maintenance/cleanup_logs.py /opt/sutazaiapp/logs
\t$(ROOT)/scripts/ops/rotate.sh
""")
    add("docker-compose.yml", """services:
  backend:
    image: sutazai/backend:latest
    volumes:
      - ./scripts/utils/start-services.sh:/usr/local/bin/start-services.sh:ro
      - ./scripts/monitoring/check_health.py:/app/check_health.py:ro
  mcp:
    image: sutazai/mcp:latest
    volumes:
      - ./scripts/mcp/wrappers:/opt/mcp/wrappers:ro
""")
    add(".github/workflows/ci.yml", """name: ci
on: [push]
jobs:
  deploy:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - run: ./scripts/deploy/start-services.sh
      - run: bash scripts/config/write_conf.sh && bash scripts/config/write_conf_annotated.sh
      - run: scripts/utils/banner.sh && scripts/utils/banner_compact.sh
""")
    add(".gitlab-ci.yml", """nightly-backup:
  script:
    - /opt/sutazaiapp/scripts/legacy/backup_database_old.sh
    - /opt/sutazaiapp/scripts/tools/rotate.sh
""")
    add("docker/maintenance/Dockerfile", """FROM python:3.11-slim
COPY scripts/maintenance/cleanup_logs.py /app/cleanup_logs.py
CMD ["python", "/app/cleanup_logs.py"]
""")
    add("scripts/deploy/nightly.sh", """#!/bin/bash
# Purpose: nightly maintenance
set -euo pipefail
python3 "$(dirname "$0")/../legacy/cleanup_logs_v1_backup.py"
"${SUTAZAI_ROOT}/scripts/health/check_services.py"
python3 -m scripts.monitoring.check_disk
python3 -m scripts.monitoring.check_memory
""", 0o755)
    add("config/cron/sutazai.cron", "0 3 * * * root /opt/sutazaiapp/scripts/deploy/nightly.sh\n")
    add("README.md", """# SutazAI

Start everything with `scripts/utils/start-services.sh` (or `./scripts/deploy/start-services.sh`).
Old helpers: scripts/utils/run-wrapper.sh, one_off_fix.sh.
""")
    add("docs/scripts.md", """# Scripts

- [log clean-up](../scripts/legacy/cleanup_logs_v1_backup.py)
- [database backup](../scripts/legacy/backup_database_old.sh)
- [one-off fix](../scripts/old/one_off_fix.sh)
""")
    for rel, text in sorted(files.items()):
        _write(root, rel, text, modes[rel])
    link = os.path.join(root, "scripts", "deploy", "start.sh")
    os.symlink("../utils/start-services.sh", link)
    return {
        "files": len(files) + 1,
        "scripts": 29,
        "python": 10,
        "shell": 19,
        "duplicate_groups": 6,
        # canonical -> removed members
        "merged": {
            "scripts/utils/start-services.sh": ["scripts/deploy/start-services.sh"],
            "scripts/maintenance/cleanup_logs.py": ["scripts/legacy/cleanup_logs_v1_backup.py"],
            "scripts/backup/backup-db.sh": ["scripts/legacy/backup_database_old.sh"],
            "scripts/mcp/wrappers/run.sh": ["scripts/utils/run-wrapper.sh"],
        },
        # members proven equal but kept (path -> start of the reason)
        "kept": {"scripts/tools/rotate.sh": "executable", "scripts/monitoring/__init__.py": None},
        "same_function_names": [["scripts/health/check_services.py", "scripts/monitoring/check_health.py"],
                                ["scripts/monitoring/check_disk.py", "scripts/monitoring/check_memory.py"]],
        "not_merged": ["scripts/utils/banner.sh", "scripts/utils/banner_compact.sh", "scripts/config/write_conf.sh",
                       "scripts/config/write_conf_annotated.sh", "scripts/deploy/deploy-backend.sh",
                       "scripts/deploy/deploy-frontend.sh"],
        "near_pair": ["scripts/deploy/deploy-backend.sh", "scripts/deploy/deploy-frontend.sh"],
        "unparsed": ["scripts/legacy/py2_tool.py"],
        "rewritten": {
            "Makefile": ["scripts/utils/start-services.sh"],
            ".github/workflows/ci.yml": ["scripts/utils/start-services.sh"],
            "README.md": ["scripts/utils/start-services.sh"],
            "scripts/deploy/nightly.sh": ["../maintenance/cleanup_logs.py"],
            "docs/scripts.md": ["../scripts/maintenance/cleanup_logs.py", "../scripts/backup/backup-db.sh"],
            ".gitlab-ci.yml": ["/opt/sutazaiapp/scripts/backup/backup-db.sh"],
        },
        "archivable": ["scripts/legacy/py2_tool.py", "scripts/old/migrate_v1.py", "scripts/old/one_off_fix.sh"],
    }


# -- v76 ---------------------------------------------------------------------------------------
_CATEGORIES = [
    ("agents", 24), ("automation", 22), ("ci-cd", 18), ("database", 14), ("deployment", 38), ("devops", 16),
    ("documentation", 10), ("emergency_fixes", 12), ("hygiene", 20), ("maintenance", 40), ("mcp", 26),
    ("models", 12), ("monitoring", 42), ("onboarding", 6), ("performance", 18), ("pre-commit", 16),
    ("security", 26), ("sync", 8), ("testing", 30), ("utils", 28), ("validation", 14), ("network", 4),
]
_WORDS = ("agent backend frontend ollama redis postgres neo4j chroma qdrant kong consul rabbitmq grafana prometheus "
          "loki jaeger health status service container image volume network port memory cpu disk cache queue task "
          "model registry config secret token metric alert report log backup restore deploy rollback validate "
          "build compose swarm node cluster endpoint api request response payload schema index vector embedding "
          "session user role policy audit rule hygiene cleanup archive rotate compress sync mirror replica shard "
          "timeout retry limit budget threshold window batch stream worker scheduler job pipeline stage step "
          "artifact release version tag branch commit hook check lint format test coverage fixture mock sample "
          "baseline profile trace span latency throughput error warning notice debug trace").split()
_SERVICES = ["backend", "frontend", "ollama", "redis", "postgres", "neo4j", "chromadb", "qdrant", "kong", "consul",
             "rabbitmq", "grafana", "prometheus", "loki", "jaeger", "hardware-resource-optimizer", "ai-orchestrator"]
_VERBS = ["check", "collect", "compute", "build", "load", "save", "parse", "render", "fetch", "send", "scan",
          "apply", "verify", "merge", "split", "rotate", "prune", "sync", "export", "import", "restart", "probe"]


def _ident(rng, n=2):
    return "_".join(rng.choice(_WORDS) for dummy in range(n))


def _py_statement(rng, depth):
    pad = "    " * depth
    v, w, key = _ident(rng, 1), _ident(rng, 2), _ident(rng, 2)
    n = rng.randint(1, 9999)
    choice = rng.randint(0, 9)
    if choice == 0:
        return ["%s%s = %s(%s, timeout=%d)" % (pad, v, _ident(rng, 2), w, n % 120 + 1)]
    if choice == 1:
        return ["%sif %s > %d:" % (pad, v, n), "%s    LOG.warning(\"%s %s above %%s\", %s)" % (pad, _ident(rng, 1), key, v)]
    if choice == 2:
        return ["%sfor %s in %s:" % (pad, v, w), "%s    results.append(%s.get(\"%s\", %d))" % (pad, v, key, n)]
    if choice == 3:
        return ["%sresults.append({\"%s\": %s, \"port\": %d})" % (pad, key, v, 10000 + n % 1000)]
    if choice == 4:
        return ["%swith open(os.path.join(ROOT, \"%s.json\")) as handle:" % (pad, key),
                "%s    %s = json.load(handle)" % (pad, v)]
    if choice == 5:
        return ["%stry:" % pad, "%s    %s = %s(%s)" % (pad, v, _ident(rng, 2), n),
                "%sexcept (OSError, ValueError) as exc:" % pad,
                "%s    LOG.error(\"%s failed: %%s\", exc)" % (pad, key.replace("_", " ")),
                "%s    return %d" % (pad, n % 7)]
    if choice == 6:
        return ["%s%s = [item for item in %s if item.%s]" % (pad, v, w, _ident(rng, 1))]
    if choice == 7:
        return ["%sLOG.info(\"%s %s: %%d\", len(results))" % (pad, rng.choice(_VERBS), key.replace("_", " "))]
    if choice == 8:
        return ["%s%s = subprocess.run([\"docker\", \"inspect\", \"sutazai-%s\"], capture_output=True, text=True, "
                "check=False)" % (pad, v, rng.choice(_SERVICES))]
    url = "http://localhost:%d/%s" % (10000 + n % 1000, key.replace("_", "/"))
    return ["%s%s = requests.get(\"%s\", timeout=%d).json()" % (pad, v, url, n % 30 + 1)]


def _py_function(rng, name, size):
    lines = ["def %s(%s):" % (name, ", ".join(_ident(rng, 1) for dummy in range(rng.randint(0, 3)))),
             "    \"\"\"%s %s.\"\"\"" % (rng.choice(_VERBS).capitalize(), " ".join(rng.choice(_WORDS) for dummy in range(5))),
             "    results = []"]
    for dummy in range(size):
        lines.extend(_py_statement(rng, 1))
    lines.append("    return results")
    return lines


def _python_script(rng, rel, purpose, names, calls):
    stem = os.path.splitext(os.path.basename(rel))[0]
    lines = ["#!/usr/bin/env python3", '"""%s.' % purpose, ""]
    for dummy in range(rng.randint(2, 6)):
        lines.append(" ".join(rng.choice(_WORDS) for dummy2 in range(rng.randint(8, 14))).capitalize() + ".")
    lines += ['"""', "", "import argparse", "import json", "import logging", "import os", "import subprocess",
              "import sys", "", "import requests", "", 'LOG = logging.getLogger("%s")' % stem,
              'ROOT = os.environ.get("SUTAZAI_ROOT", "/opt/sutazaiapp")', ""]
    for dummy in range(rng.randint(1, 4)):
        lines.append("%s = %d" % (_ident(rng, 2).upper(), rng.randint(1, 100000)))
    for name in names:
        lines += ["", ""] + _py_function(rng, name, rng.randint(6, 22))
    lines += ["", "", "def main(argv=None):",
              '    parser = argparse.ArgumentParser(description="%s")' % purpose,
              '    parser.add_argument("--dry-run", action="store_true")',
              "    args = parser.parse_args(argv)"]
    for call in calls:
        lines.append('    subprocess.run([sys.executable, os.path.join(ROOT, "%s")], check=False)' % call)
    for name in names:
        lines.append("    %s()" % name if "(" not in name else "    pass")
    lines += ["    return 0 if not args.dry_run else 1", "", "", 'if __name__ == "__main__":', "    sys.exit(main())", ""]
    return "\n".join(lines)


def _sh_statement(rng):
    svc = rng.choice(_SERVICES)
    n = rng.randint(1, 9999)
    key = _ident(rng, 2)
    choice = rng.randint(0, 7)
    if choice == 0:
        return ['  docker compose -f "$PROJECT_ROOT/docker-compose.yml" up -d %s' % svc]
    if choice == 1:
        return ['  if ! curl -fsS "http://localhost:%d/health" >/dev/null; then' % (10000 + n % 1000),
                '    log "%s %s not healthy"' % (svc, key.replace("_", " ")), "    failures=$((failures + 1))", "  fi"]
    if choice == 2:
        return ["  for item in %s; do" % " ".join(rng.choice(_WORDS) for dummy in range(rng.randint(2, 5))),
                '    log "%s ${item}"' % rng.choice(_VERBS), "  done"]
    if choice == 3:
        return ['  if [[ -f "$PROJECT_ROOT/%s/%s.yml" ]]; then' % (rng.choice(["config", "docker", "monitoring"]), key),
                '    cp "$PROJECT_ROOT/%s.yml" "/tmp/%s.%d.yml"' % (key, key, n), "  fi"]
    if choice == 4:
        return ['  local %s="${%s:-%d}"' % (key, key.upper(), n)]
    if choice == 5:
        return ['  docker exec sutazai-%s sh -c "%s --%s=%d" || true' % (svc, rng.choice(_VERBS), key.replace("_", "-"), n)]
    if choice == 6:
        return ['  log "%s %s: $(date +%%s)"' % (rng.choice(_VERBS), key.replace("_", " "))]
    return ["  sleep %d" % (n % 10 + 1), '  du -sh "$PROJECT_ROOT/%s" 2>/dev/null || true' % rng.choice(["logs", "data", "backups"])]


def _shell_script(rng, rel, purpose, names, calls, shebang):
    lines = [shebang, "#", "# Purpose: %s" % purpose, "# Usage: ./%s [options]" % os.path.basename(rel)]
    for dummy in range(rng.randint(1, 4)):
        lines.append("# " + " ".join(rng.choice(_WORDS) for dummy2 in range(rng.randint(6, 12))))
    lines += ["#", "set -euo pipefail", "", 'SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"',
              'PROJECT_ROOT="${SUTAZAI_ROOT:-/opt/sutazaiapp}"',
              'LOG_FILE="${LOG_FILE:-/tmp/%s.log}"' % os.path.splitext(os.path.basename(rel))[0], "failures=0", "",
              'log() { echo "[$(date +%H:%M:%S)] $*" | tee -a "$LOG_FILE"; }', ""]
    for name in names:
        lines.append("%s() {" % name)
        for dummy in range(rng.randint(5, 18)):
            lines.extend(_sh_statement(rng))
        lines += ["}", ""]
    lines.append("main() {")
    for call in calls:
        lines.append('  "$PROJECT_ROOT/%s" "$@"' % call)
    for name in names:
        lines.append("  %s" % name)
    lines += ['  log "done with ${failures} failure(s)"', "}", "", 'main "$@"', ""]
    return "\n".join(lines)


def _purpose(rng, category):
    area = category.replace("_", " ").replace("-", " ")
    return "%s %s %s for the SutazAI %s" % (rng.choice(_VERBS).capitalize(), rng.choice(_WORDS), rng.choice(_WORDS), area)


def _v76(root):
    rng = random.Random("sutazai-v76-scripts")
    paths = []
    for category, count in _CATEGORIES:
        for i in range(count):
            paths.append((category, i))
    # 207 Python, 7 .bash, the rest .sh (444 in all).
    kinds = {}
    order = list(range(len(paths)))
    rng.shuffle(order)
    for k, idx in enumerate(order):
        kinds[idx] = "py" if k < 207 else ("bash" if k < 214 else "sh")
    scripts = []
    used = set()
    for idx, (category, i) in enumerate(paths):
        ext = kinds[idx]
        while True:
            stem = "%s_%s" % (rng.choice(_VERBS), _ident(rng, 2))
            if ext != "py":
                stem = stem.replace("_", "-")
            folder = "scripts/%s" % category
            if category == "mcp" and i < 10:
                folder = "scripts/mcp/wrappers"
            rel = "%s/%s.%s" % (folder, stem, ext)
            # Unique file names, none of the names found by pytest (test_*.py, *_test.py: kept by name).
            if rel not in used and os.path.basename(rel) not in set(os.path.basename(u) for u in used) \
                    and not stem.startswith("test_") and not stem.endswith("_test"):
                used.add(rel)
                break
        scripts.append({"rel": rel, "ext": ext, "category": category})
    scripts.sort(key=lambda s: s["rel"])
    py = [s for s in scripts if s["ext"] == "py"]
    # Function names: each script has its own names; 11 pairs share all their names (seed: 196 groups).
    for s in scripts:
        stem = os.path.splitext(os.path.basename(s["rel"]))[0].replace("-", "_")
        first = "%s_%s" % (rng.choice(_VERBS), stem)
        s["names"] = [first] + ["%s_%s" % (rng.choice(_VERBS), _ident(rng, 1)) for dummy in range(rng.randint(1, 4))]
    # 11 Python scripts share all their function names with another one (different bodies).
    pairs_same_names = []
    for k in range(11):
        a, b = py[100 + 2 * k], py[101 + 2 * k]
        b["names"] = list(a["names"])
        pairs_same_names.append((a["rel"], b["rel"]))
    # Calls between scripts (references from other scripts), by root-relative path.
    rels = [s["rel"] for s in scripts]
    called = set()
    for k, s in enumerate(scripts):
        s["calls"] = []
        if k % 7 == 0:
            target = rels[(k * 13 + 5) % len(rels)]
            if target != s["rel"]:
                s["calls"].append(target)
                called.add(target)
    texts = {}
    for s in scripts:
        srng = random.Random("v76:" + s["rel"])
        purpose = _purpose(srng, s["category"])
        s["purpose"] = purpose
        if s["ext"] == "py":
            texts[s["rel"]] = _python_script(srng, s["rel"], purpose, s["names"], s["calls"])
        else:
            texts[s["rel"]] = _shell_script(srng, s["rel"], purpose, s["names"], s["calls"],
                                            "#!/bin/bash" if s["ext"] == "bash" or srng.random() < 0.8 else "#!/usr/bin/env bash")
    # Near duplicates: 14 scripts rewritten as a small edit of another of the same kind.
    near = []
    sh = [s for s in scripts if s["ext"] == "sh"]
    for k in range(7):
        for group in (py, sh):
            a, b = group[10 + 9 * k], group[11 + 9 * k]
            text = texts[a["rel"]]
            for old, new in ((os.path.basename(a["rel"]), os.path.basename(b["rel"])),
                             (os.path.splitext(os.path.basename(a["rel"]))[0],
                              os.path.splitext(os.path.basename(b["rel"]))[0])):
                text = text.replace(old, new)
            lines = text.split("\n")
            cands = [j for j, line in enumerate(lines) if line.strip().startswith(("results.append(", 'log "'))]
            for j in cands[::6] or [len(lines) - 2]:
                lines[j] = lines[j].replace("results.append(", "results.insert(0, ").replace('log "', 'log "[%d] ' % k)
                if j == len(lines) - 2:
                    lines[j] += "  # edited"
            texts[b["rel"]] = "\n".join(lines)
            assert texts[b["rel"]] != texts[a["rel"]]
            b["calls"] = list(a["calls"])
            b["names"] = list(a["names"])
            near.append((a["rel"], b["rel"]))
    # Recompute calls after the near-duplicate copies (they take the calls of their original).
    called = set(c for s in scripts for c in s["calls"])
    files = dict(texts)
    modes = dict((rel, 0o755 if i % 3 else 0o644) for i, rel in enumerate(sorted(texts)))

    # References from other files.
    refs = {"makefile": [], "ci": [], "dockerfile": [], "compose": [], "config": [], "docs": []}
    for k, rel in enumerate(rels):
        if "/mcp/wrappers/" in rel:
            continue
        if k % 11 == 0:
            refs["makefile"].append(rel)
        elif k % 17 == 1:
            refs["ci"].append(rel)
        elif k % 23 == 2:
            refs["dockerfile"].append(rel)
        elif k % 19 == 3:
            refs["compose"].append(rel)
        elif k % 29 == 4:
            refs["config"].append(rel)
        if k % 3 == 0:
            refs["docs"].append(rel)
    mk = ["# SutazAI tasks (generated)", ".PHONY: all", ""]
    for k, rel in enumerate(refs["makefile"]):
        runner = "python3 " if rel.endswith(".py") else ("./" if k % 2 else "bash ")
        mk += ["task-%d:" % k, "\t%s%s" % (runner, rel), ""]
    files["Makefile"] = "\n".join(mk)
    wf = {}
    for k, rel in enumerate(refs["ci"]):
        wf.setdefault(["ci", "deploy", "security", "hygiene", "nightly"][k % 5], []).append(rel)
    for name, lst in sorted(wf.items()):
        body = ["name: %s" % name, "on: [push]", "jobs:", "  run:", "    runs-on: ubuntu-latest", "    steps:",
                "      - uses: actions/checkout@v4"]
        body += ["      - run: %s%s" % ("python " if rel.endswith(".py") else "", rel) for rel in lst]
        files[".github/workflows/%s.yml" % name] = "\n".join(body) + "\n"
    files[".gitlab-ci.yml"] = "stages: [test]\nhygiene:\n  stage: test\n  script:\n    - echo hygiene\n"
    for k, rel in enumerate(refs["dockerfile"]):
        name = os.path.splitext(os.path.basename(rel))[0]
        files["docker/script-images/%s/Dockerfile" % name] = (
            "FROM python:3.11-slim\nWORKDIR /app\nCOPY %s /app/%s\nCMD [\"/app/%s\"]\n"
            % (rel, os.path.basename(rel), os.path.basename(rel)))
    compose = ["services:"]
    for k, rel in enumerate(refs["compose"]):
        compose += ["  job-%d:" % k, "    image: sutazai/jobs:latest", "    volumes:",
                    "      - ../../%s:/app/%s:ro" % (rel, os.path.basename(rel))]
    compose += ["  mcp-servers:", "    image: sutazai/mcp:latest", "    volumes:",
                "      - ../../scripts/mcp/wrappers:/opt/mcp/wrappers:ro"]
    files["docker/compose/docker-compose.scripts.yml"] = "\n".join(compose) + "\n"
    files["config/cron/sutazai.cron"] = "".join("%d 4 * * * root /opt/sutazaiapp/%s\n" % (k, rel)
                                                for k, rel in enumerate(refs["config"]))
    docs = {}
    for k, rel in enumerate(refs["docs"]):
        docs.setdefault(rel.split("/")[1], []).append(rel)
    for category, lst in sorted(docs.items()):
        files["docs/scripts/%s.md" % category] = "# %s scripts\n\n" % category + "".join(
            "- [`%s`](../../%s)\n" % (os.path.basename(rel), rel) for rel in lst)
    for rel, text in sorted(files.items()):
        _write(root, rel, text, modes.get(rel, 0o644))

    wrappers = [s["rel"] for s in scripts if "/mcp/wrappers/" in s["rel"]]
    strong = set(refs["makefile"]) | set(refs["ci"]) | set(refs["dockerfile"]) | set(refs["compose"]) \
        | set(refs["config"]) | called | set(wrappers)
    return {
        "files": len(files),
        "scripts": len(scripts),
        "python": len(py),
        "shell": len(scripts) - len(py),
        "bash": sum(1 for s in scripts if s["ext"] == "bash"),
        "categories": len(_CATEGORIES),
        "dockerfiles": len(refs["dockerfile"]),
        "duplicate_groups": 0,
        "function_name_groups": len(py) - len(pairs_same_names),
        "same_function_names": pairs_same_names,
        "near_pairs": sorted(tuple(sorted(p)) for p in near),
        "referenced": len(strong),
        "unreferenced": len(scripts) - len(strong),
        "bytes": sum(len(t.encode("utf-8")) for t in texts.values()),
    }


def generate(root, size=SMALL):
    """Write the ``size`` tree (``"small"`` or ``"v76"``) under ``root``; return its figures (dict)."""
    os.makedirs(root, exist_ok=True)
    if size == SMALL:
        return _small(root)
    if size == V76:
        return _v76(root)
    raise ValueError("unknown size %r" % size)


if __name__ == "__main__":  # pragma: no cover - manual use
    import json
    import sys

    print(json.dumps(generate(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else SMALL), indent=2, default=list))
