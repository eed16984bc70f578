# -*- coding: utf-8 -*-
"""Integration (adversarial): canary secrets in every form the platform stores them never show.

A generated tree (the demo platform plus files added here) holds 30+ distinct canary secrets:
passwords in DATABASE_URL/REDIS_URL values, an SMTP password with a trailing comment, quoted
and exported env values, .env variants, an env_file target with a non-env name, Compose
``environment`` in map and list form (quoted items too), anchors, aliases and ``<<`` merges,
an interpolation default, a ``--requirepass`` command, requirements index URLs with
credentials, a token in a URL path and in a query string, a webhook URL, JSON config
(archived by the services phase), Dockerfile ENV/ARG, a script exporting a password and a
private key block.

Whole play with every phase acting: ``consolidate.yml --check -vvv --diff``, then the real
run ``-vvv --diff``, then ``rollback.yml --check --diff`` and the real rollback ``--diff``.
stdout and stderr of every run, the report files and every journal manifest are searched
for each canary: none may appear. (Backup copies under the journal's ``files/`` keep the
original bytes by design; they are not searched.)
"""

from __future__ import annotations

import glob
import os
import random
import string

from helpers import run_playbook, snapshot, write_demo

# Options that make every phase do its full work on the demo tree.
FULL = ["-vvv",
        "-e", "env_on_invalid=warn", "-e", "services_on_invalid=warn", "-e", "agents_on_invalid=warn",
        "-e", "dockerfiles_on_invalid=warn", "-e", "services_archive_mesh=true",
        "-e", "requirements_remove_sources=true", "-e", "agents_remove_sources=true",
        "-e", "scripts_archive_unreferenced=true",
        "-e", '{"terms_map": {"quantum": "advanced", "magic": "automatic"}}']


def _canaries(count, seed=9):
    """Distinct random canaries shaped like real secrets: ``CANARY-<n>-<20 mixed characters>``."""
    rnd = random.Random(seed)
    out = []
    for n in range(count):
        while True:
            tail = "".join(rnd.choice(string.ascii_letters + string.digits) for dummy in range(20))
            if any(c.isdigit() for c in tail) and any(c.islower() for c in tail) and any(c.isupper() for c in tail):
                break
        out.append("CANARY-%02d-%s" % (n, tail))
    return out


def _append(root, rel, text):
    path = os.path.join(root, rel)
    os.makedirs(os.path.dirname(path) or root, exist_ok=True)
    with open(path, "a") as f:
        f.write(text)


def _json_insert(root, rel, marker, text):
    """Insert ``text`` after the first ``marker`` of the JSON file ``rel``."""
    path = os.path.join(root, rel)
    with open(path) as f:
        doc = f.read()
    assert marker in doc, (rel, marker)
    with open(path, "w") as f:
        f.write(doc.replace(marker, marker + text, 1))


def build_tree(root):
    """Write the demo and the canary files under ``root``; return ``{form: canary}``."""
    write_demo(root)
    c = iter(_canaries(40))
    forms = {}

    def canary(form):
        forms[form] = next(c)
        return forms[form]

    _append(root, ".env", "".join([
        "DATABASE_URL=postgresql://sutazai:%s@postgres:5432/sutazai\n" % canary("env DATABASE_URL password"),
        "REDIS_URL=redis://:%s@redis:6379/0\n" % canary("env REDIS_URL :pass@"),
        "SMTP_PASSWORD=%s # mail relay\n" % canary("env value with trailing comment"),
        "SLACK_WEBHOOK_URL=https://hooks.slack.com/services/T0A1B2C3D/B0A1B2C3D/%s\n" % canary("webhook path token"),
        "ALERT_WEBHOOK=https://alerts.example.com/hook?channel=ops&token=%s\n" % canary("query token"),
        "AUTH_SALT=%s\n" % canary("weak key with entropy"),
        "# OLD_DB_PASSWORD=%s\n" % canary("commented-out assignment"),
    ]))
    _append(root, ".env.secure", "export STRIPE_SECRET_KEY=%s\n" % canary("export KEY=value"))
    _append(root, ".env.local", 'API_TOKEN="%s"\n' % canary("double-quoted env value"))
    _append(root, ".env.production", "SENTRY_DSN=https://%s@o0.ingest.sentry.io/42\n" % canary("URL user-only token"))
    _append(root, ".env.agents", "OPENAI_API_KEY='%s'\nTLS_KEY=\"-----BEGIN PRIVATE KEY-----\n%s\n"
            "-----END PRIVATE KEY-----\"\n" % (canary("single-quoted env variant"), canary("private key block")))
    _append(root, "config/environments/backend.env", "SESSION_SECRET=%s\n" % canary("env_file target (env name)"))
    _append(root, "config/app.conf", "# loaded by docker-compose.canary.yml\nMAIL_API_KEY=%s\nAPP_NAME=canary\n"
            % canary("env_file target (other name)"))
    _append(root, "docker-compose.canary.yml", "\n".join([
        "# Canary services",
        "x-admin-pw: &admin_pw %s" % canary("YAML anchor scalar"),
        "x-canary-env: &canary-env",
        "  SHARED_API_KEY: %s" % canary("anchored mapping merged with <<"),
        "  TZ: UTC",
        "services:",
        "  canary-db:",
        "    image: postgres:16.3-alpine",
        "    env_file:",
        "      - config/app.conf",
        "    environment:",
        "      POSTGRES_PASSWORD: %s" % canary("Compose map environment"),
        "      ADMIN_PASSWORD: *admin_pw",
        "      NEO4J_AUTH: neo4j/%s" % canary("Compose NEO4J_AUTH user/pass"),
        "      DATABASE_URL: postgresql://app:%s@canary-db:5432/app" % canary("Compose DATABASE_URL password"),
        "      HEALTH_URL: https://status.example.com/api/%s/ping" % canary("token in a URL path").replace("-", ""),
        "      CACHE_PASSWORD: ${CANARY_CACHE_PASSWORD:-%s}" % canary("interpolation default"),
        "  canary-worker:",
        "    image: redis:7.2-alpine",
        '    command: ["redis-server", "--requirepass", "%s"]' % canary("--requirepass in command"),
        "    environment:",
        "      <<: *canary-env",
        "      WORKER_MODE: batch",
        "  canary-list:",
        "    image: sutazai/list:latest",
        "    environment:",
        "      - MINIO_SECRET_KEY=%s" % canary("Compose list environment"),
        '      - "RABBITMQ_DEFAULT_PASS=%s"' % canary("Compose quoted list item"),
        "      - LOG_LEVEL=INFO",
        ""]))
    # The path token is written without dashes (a real token in a path has none).
    forms["token in a URL path"] = forms["token in a URL path"].replace("-", "")
    _append(root, "backend/requirements.txt", "".join([
        "--index-url https://ci-user:%s@pypi.internal.example/simple\n" % canary("requirements --index-url user:pass"),
        "--extra-index-url https://%s@gitlab.example.com/api/v4/projects/42/packages/pypi/simple\n"
        % canary("requirements token as URL user"),
    ]))
    _append(root, "requirements/requirements-prod.in",
            "private-pkg @ git+https://x-access-token:%s@github.com/sutazai/private-pkg.git\n"
            % canary("requirements git+https credentials"))
    _json_insert(root, "config/consul-services.json", '"services": [',
                 '\n{"name": "vault", "id": "vault-1", "address": "172.29.0.20", "port": 8200, '
                 '"meta": {"acl_token": "%s"}},' % canary("JSON config token"))
    _json_insert(root, "config/service-mesh.json", "{",
                 '\n  "mesh_password": "%s",' % canary("JSON config password"))
    for rel in ("agents/hardware-resource-optimizer/Dockerfile", "docker/agents/hardware-resource-optimizer/Dockerfile"):
        _append(root, rel, "ARG DB_PASSWORD=%s\nENV API_TOKEN=%s\n" % (
            forms.get("Dockerfile ARG") or canary("Dockerfile ARG"), forms.get("Dockerfile ENV") or canary("Dockerfile ENV")))
    for rel in ("scripts/backup/db-backup.sh", "scripts/backup/db-backup-copy.sh"):
        _append(root, rel, 'export PGPASSWORD="%s"\n' % (forms.get("script export") or canary("script export")))
    path = os.path.join(root, "scripts/maintenance/nightly.sh")
    with open(path) as f:
        lines = f.read().split("\n")
    lines.insert(1, "# Purpose: rotate logs with API_TOKEN=%s" % canary("script purpose comment"))
    with open(path, "w") as f:
        f.write("\n".join(lines))
    return forms


def _leaks(forms, texts):
    """``{form: [where]}`` of every canary found in ``texts`` (``{where: text}``)."""
    found = {}
    for form, value in sorted(forms.items()):
        for where, text in texts.items():
            if value in text:
                found.setdefault(form, []).append(where)
    return found


def _files(pattern):
    out = {}
    for path in sorted(glob.glob(pattern, recursive=True)):
        if os.path.isfile(path):
            with open(path, errors="replace") as f:
                out[path] = f.read()
    return out


def test_no_canary_secret_is_ever_shown(tmp_path):
    root = str(tmp_path / "root")
    backups, reports = str(tmp_path / "backups"), str(tmp_path / "reports")
    forms = build_tree(root)
    assert len(set(forms.values())) >= 25 and len(set(forms.values())) == len(forms)
    original = snapshot(root)
    kw = dict(backup_root=backups, report_dir=reports, callback="default")

    check = run_playbook("consolidate.yml", root, *FULL, check=True, diff=True, **kw)
    assert check.rc == 0, check.text()[-3000:]
    assert snapshot(root) == original
    real = run_playbook("consolidate.yml", root, *FULL, diff=True, **kw)
    assert real.rc == 0, real.text()[-3000:]
    assert snapshot(root) != original
    # Every phase acted: the canaries went through real diffs, not around them.
    for marker in ("docker-compose.canary.yml (after)", ".env.master (after)", "requirements/", "config/archive/",
                   "docker/templates/", "scripts/backup/db-backup-copy.sh"):
        assert marker in real.stdout, marker
    roll_check = run_playbook("rollback.yml", root, "-e", "sutazai_backup_root=%s" % backups, check=True, diff=True,
                              callback="default")
    assert roll_check.rc == 0, roll_check.text()[-3000:]
    roll = run_playbook("rollback.yml", root, "-e", "sutazai_backup_root=%s" % backups, diff=True, callback="default")
    assert roll.rc == 0, roll.text()[-3000:]
    assert snapshot(root) == original
    assert "<redacted sha256:" in roll_check.stdout

    texts = {"check run": check.text(), "real run": real.text(), "rollback --check": roll_check.text(),
             "rollback": roll.text()}
    reports_found = _files(os.path.join(reports, "**", "*"))
    manifests = _files(os.path.join(backups, "**", "manifest.json"))
    assert reports_found and manifests
    texts.update(reports_found)
    texts.update(manifests)
    leaks = _leaks(forms, texts)
    assert not leaks, "canary secrets shown, by form: %s" % "; ".join(
        "%s in %s" % (form, ", ".join(where)) for form, where in sorted(leaks.items()))
    # The journal's backup copies keep the original bytes (rollback restored them exactly).
    copies = _files(os.path.join(backups, "*", "files", "**", "*"))
    assert any(forms["Compose map environment"] in text for text in copies.values())
