# -*- coding: utf-8 -*-
"""Integration: the env phase (env files, secrets out of Compose) through consolidate.yml.

Order: check (nothing written) -> real -> idempotent -> changed input -> rollback; the
seed's 19-file case; no secret value in any output; the Compose proof with
``docker compose config`` on the test bed's Docker engine; bad input.
"""

from __future__ import annotations

import glob
import json
import os
import re
import stat
import subprocess

import pytest

from helpers import run_playbook, snapshot, write_demo

from ansible_collections.sutazai.consolidation.plugins.module_utils import _env

ENV_TASK = "Merge the environment files"
SECRETS_TASK = "Replace literal secrets"
OUTPUT_SKIP = ("backups", "reports")


def env_values(path, rel):
    with open(path) as f:
        entries, errors, dummy = _env.parse_env_text(f.read(), rel)
    assert not errors
    return dict((e.key, e.value) for e in entries)


@pytest.fixture
def demo(tmp_path):
    root = tmp_path / "root"
    root.mkdir()
    write_demo(str(root))
    return str(root), dict(backup_root=str(tmp_path / "backups"), report_dir=str(tmp_path / "reports"))


def test_check_real_idempotent_changed_rollback(demo):
    root, kw = demo
    original = snapshot(root)

    check = run_playbook("consolidate.yml", root, check=True, diff=True, tags="env", **kw)
    assert check.rc == 0, check.text()
    assert check.task(ENV_TASK)["changed"] is True
    headers = [d["after_header"] for d in check.task(ENV_TASK)["diff"]]
    assert ".env.master (after)" in headers and "docker-compose.yml (after)" in headers
    assert snapshot(root) == original
    assert not os.path.exists(kw["backup_root"])

    real = run_playbook("consolidate.yml", root, tags="env", **kw)
    assert real.rc == 0, real.text()
    assert real.task(ENV_TASK)["changed"] and real.task(SECRETS_TASK)["changed"]
    assert os.readlink(os.path.join(root, ".env")) == ".env.master"
    assert os.readlink(os.path.join(root, "agents/.env")) == "../.env.master"
    for rel, mode in ((".env.master", 0o600), (".env.production", 0o600), (".env.local.example", 0o644)):
        assert stat.S_IMODE(os.stat(os.path.join(root, rel)).st_mode) == mode, rel
    for rel in (".env.secure", ".env.consolidated", ".env.local", "config/environments/backend.env"):
        assert not os.path.lexists(os.path.join(root, rel))
    master = env_values(os.path.join(root, ".env.master"), ".env.master")
    production = env_values(os.path.join(root, ".env.production"), ".env.production")
    # Priority: .env.secure beats .env; .env.consolidated beats .env.local; production keeps differences only.
    assert master["POSTGRES_PASSWORD"] == "Secure-Pg-Pass-77cc88dd"
    assert master["OLLAMA_URL"] == "http://sutazai-ollama:11434"
    assert master["JWT_SECRET"] == "Jwt-$ecret-Literal-0a1b2c3d"
    assert master["TLS_PRIVATE_KEY"].count("\n") == 2
    assert sorted(production) == ["GRAFANA_ADMIN_PASSWORD", "LOG_LEVEL", "SUTAZAI_ENV"]
    # Secrets moved out of the compose file, with a prefixed name where the key was taken.
    with open(os.path.join(root, "docker-compose.yml")) as f:
        compose = f.read()
    assert "Demo-Pg-Pass-7f3a91c2" not in compose and 'POSTGRES_PASSWORD: "${POSTGRES_POSTGRES_PASSWORD}"' in compose
    assert master["POSTGRES_POSTGRES_PASSWORD"] == "Demo-Pg-Pass-7f3a91c2"
    assert "config/environments/backend.env" not in compose and "env_file: .env.master" in compose
    example = env_values(os.path.join(root, ".env.local.example"), _env.EXAMPLE)
    assert example["POSTGRES_PASSWORD"] == "change-me" and example["OLLAMA_MODEL"] == "tinyllama"
    assert example["POSTGRES_POSTGRES_PASSWORD"] == "change-me"
    rows = real.task(ENV_TASK)["summary"]["rows"]
    assert rows[0] == {"item": "Env files", "before": 8, "after": 3}
    after_first = snapshot(root, skip=OUTPUT_SKIP)

    again = run_playbook("consolidate.yml", root, tags="env", **kw)
    assert again.rc == 0 and again.changed == 0, again.text()
    assert snapshot(root, skip=OUTPUT_SKIP) == after_first

    # Changed input: a new env file and a new compose secret.
    with open(os.path.join(root, "docker-compose.yml")) as f:
        compose_after_first = f.read()
    with open(os.path.join(root, "config/late.env"), "w") as f:
        f.write("LATE_KEY=1\n")
    with open(os.path.join(root, "docker-compose.yml"), "a") as f:
        f.write("  late:\n    image: busybox\n    environment:\n      LATE_API_KEY: late-Key-0123456789abcdef\n")
    changed = run_playbook("consolidate.yml", root, tags="env", **kw)
    assert changed.rc == 0 and changed.task(ENV_TASK)["changed"] and changed.task(SECRETS_TASK)["changed"]
    master = env_values(os.path.join(root, ".env.master"), ".env.master")
    assert master["LATE_KEY"] == "1" and master["LATE_API_KEY"] == "late-Key-0123456789abcdef"

    rb = run_playbook("rollback.yml", root, backup_root=kw["backup_root"])
    assert rb.rc == 0, rb.text()
    # Rollback refuses to overwrite what changed after a run (our manual edits): undo them first.
    refused = run_playbook("rollback.yml", root, backup_root=kw["backup_root"])
    assert refused.rc != 0 and "docker-compose.yml" in refused.text()
    os.remove(os.path.join(root, "config/late.env"))
    with open(os.path.join(root, "docker-compose.yml"), "w") as f:
        f.write(compose_after_first)
    rb = run_playbook("rollback.yml", root, backup_root=kw["backup_root"])
    assert rb.rc == 0, rb.text()
    assert snapshot(root) == original


def _seed_fixture(root):
    """19 env files, as in the seed's count (none named plain .env in a sub-folder)."""
    names = [".env", ".env.production", ".env.secure", ".env.master", ".env.consolidated", ".env.local",
             ".env.development", ".env.staging", ".env.test", ".env.docker", ".env.ollama", ".env.agents",
             "docker/.env.monitoring", "backend/app.env", "frontend/ui.env", "config/environments/a.env",
             "config/environments/b.env", "config/security/vault.env.local", "monitoring.env"]
    secrets = set()
    for i, rel in enumerate(names):
        path = os.path.join(root, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        lines = ["# %s" % rel]
        for k in range(6):
            key = "KEY_%d" % ((i * 3 + k) % 14)
            lines.append("%s=value-%d-%d" % (key, i, k))
        secret = "Sec-%02d-%s" % (i, "qZ8xW3vL9kT2" if i % 2 else "mN4pR7sD1fG6")
        lines.append("SERVICE_%d_PASSWORD='%s'" % (i % 5, secret))
        lines.append("API_TOKEN_%d=\"tok-%02d-aB3dE6gH9jK2mN5p\"" % (i % 3, i))
        secrets.update([secret, "tok-%02d-aB3dE6gH9jK2mN5p" % i])
        with open(path, "w") as f:
            f.write("\n".join(lines) + "\n")
    return names, secrets


def test_seed_19_files_to_3_and_no_secret_in_outputs(tmp_path):
    root = str(tmp_path / "root")
    os.makedirs(root)
    names, secrets = _seed_fixture(root)
    with open(os.path.join(root, "docker-compose.yml"), "w") as f:
        f.write("services:\n  db:\n    image: postgres\n    env_file: config/environments/a.env\n"
                "    environment:\n      POSTGRES_PASSWORD: Compose-Literal-Pw-8866\n")
    secrets.add("Compose-Literal-Pw-8866")
    # The old priority order, computed independently: lowest first, later wins.
    expected = {}
    for rel in sorted(names, key=_env.rank, reverse=True):
        expected.update(env_values(os.path.join(root, rel), rel))
    backups, reports = str(tmp_path / "backups"), str(tmp_path / "reports")

    outputs = []
    check = run_playbook("consolidate.yml", root, "-v", check=True, diff=True, tags="env", callback="default",
                         backup_root=backups, report_dir=reports)
    assert check.rc == 0, check.text()
    outputs.append(check.text())
    real = run_playbook("consolidate.yml", root, "-v", diff=True, tags="env", callback="default",
                        backup_root=backups, report_dir=reports)
    assert real.rc == 0, real.text()
    outputs.append(real.text())
    assert re.search(r"Env files +\| +19 \| +3\b", real.text()), "summary row 19 -> 3 missing"

    left = sorted(os.path.relpath(p, root) for p in glob.glob(os.path.join(root, "**", "*env*"), recursive=True)
                  + glob.glob(os.path.join(root, "**", ".env*"), recursive=True) if os.path.isfile(p) or os.path.islink(p))
    assert sorted(set(left)) == [".env", ".env.local.example", ".env.master", ".env.production"]
    assert os.path.islink(os.path.join(root, ".env"))
    assert stat.S_IMODE(os.stat(os.path.join(root, ".env.master")).st_mode) == 0o600
    got = _env.overlay(open(os.path.join(root, ".env.master")).read(), open(os.path.join(root, ".env.production")).read())
    moved = got.pop("POSTGRES_PASSWORD")
    assert moved == "Compose-Literal-Pw-8866" and "POSTGRES_PASSWORD" not in expected
    assert got == expected

    for path in glob.glob(os.path.join(reports, "*")) + glob.glob(os.path.join(backups, "*", "manifest.json")):
        with open(path) as f:
            outputs.append(f.read())
    assert len(outputs) >= 4
    blob = "\n".join(outputs)
    leaked = sorted(s for s in secrets if s in blob)
    assert leaked == [], "secret values in output: %d" % len(leaked)
    assert "<redacted sha256:" in blob


def _compose_env(root, project_dir):
    proc = subprocess.run(["docker", "compose", "--project-directory", project_dir, "-f",
                           os.path.join(root, "docker-compose.yml"), "config", "--format", "json"],
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    return dict((name, svc.get("environment")) for name, svc in doc["services"].items())


COMPOSE_FIXTURE = """# Compose fixture for the secrets move
x-common: &common
  SHARED_SIGNING_KEY: shared-Sign-9f8e7d6c5b4a
  TZ: UTC
services:
  db:
    image: postgres:16
    environment:
      <<: *common
      POSTGRES_PASSWORD: 'pa$$word-Literal-42'
      POSTGRES_USER: sutazai
  api:
    image: sutazai/backend
    environment:
      - DATABASE_URL=postgresql://sutazai:${POSTGRES_PASSWORD:-x}@db/sutazai
      - API_TOKEN=api-Tok-3b2a1c0d9e8f7a6b
      - PLAIN=1
  ui:
    image: sutazai/frontend
    environment: {STREAMLIT_SECRET: "ui-Sec ret #1", MODE: prod}
  auth:
    image: neo4j
    environment:
      NEO4J_AUTH: neo4j/Zq8vN2xLw4Rt6Yp0Ks3M
"""


def test_compose_config_environment_identical(tmp_path, docker_engine):
    root = str(tmp_path / "root")
    os.makedirs(root)
    with open(os.path.join(root, "docker-compose.yml"), "w") as f:
        f.write(COMPOSE_FIXTURE)
    with open(os.path.join(root, ".env.master"), "w") as f:
        f.write("POSTGRES_PASSWORD=already-in-master\n")
    os.symlink(".env.master", os.path.join(root, ".env"))
    before = _compose_env(root, root)
    res = run_playbook("consolidate.yml", root, tags="secrets", backup_root=str(tmp_path / "b"),
                       report_dir=str(tmp_path / "r"))
    assert res.rc == 0 and res.task(SECRETS_TASK)["changed"], res.text()
    moved = res.task(SECRETS_TASK)["moved"]
    keys = sorted(m["key"] for m in moved)
    assert keys == ["API_TOKEN", "NEO4J_AUTH", "POSTGRES_PASSWORD", "SHARED_SIGNING_KEY", "STREAMLIT_SECRET"]
    with open(os.path.join(root, "docker-compose.yml")) as f:
        text = f.read()
    for value in ("pa$$word-Literal-42", "api-Tok-3b2a1c0d9e8f7a6b", "ui-Sec ret #1", "Zq8vN2xLw4Rt6Yp0Ks3M"):
        assert value not in text
    after = _compose_env(root, root)
    assert after == before
    assert run_playbook("consolidate.yml", root, tags="secrets", backup_root=str(tmp_path / "b"),
                        report_dir=str(tmp_path / "r")).changed == 0


def test_compose_in_subfolder_gets_env_link(tmp_path, docker_engine):
    root = str(tmp_path / "root")
    os.makedirs(os.path.join(root, "docker"))
    with open(os.path.join(root, "docker", "docker-compose.yml"), "w") as f:
        f.write("services:\n  grafana:\n    image: grafana/grafana\n    environment:\n"
                "      GF_SECURITY_ADMIN_PASSWORD: Graf-Admin-4c8e2a\n")
    proc = subprocess.run(["docker", "compose", "-f", os.path.join(root, "docker/docker-compose.yml"), "config",
                           "--format", "json"], capture_output=True, text=True, check=True)
    before = json.loads(proc.stdout)["services"]["grafana"]["environment"]
    res = run_playbook("consolidate.yml", root, tags="secrets", backup_root=str(tmp_path / "b"),
                       report_dir=str(tmp_path / "r"))
    assert res.rc == 0, res.text()
    assert os.readlink(os.path.join(root, "docker/.env")) == "../.env.master"
    proc = subprocess.run(["docker", "compose", "-f", os.path.join(root, "docker/docker-compose.yml"), "config",
                           "--format", "json"], capture_output=True, text=True, check=True)
    assert json.loads(proc.stdout)["services"]["grafana"]["environment"] == before


def test_bad_env_line_blocks_then_strict_fails_then_warn_skips(demo):
    root, kw = demo
    with open(os.path.join(root, "config/environments/backend.env"), "a") as f:
        f.write("this line is not an assignment\n")
    original = snapshot(root)
    res = run_playbook("consolidate.yml", root, tags="env", **kw)
    assert res.rc == 0, res.text()
    env = res.task(ENV_TASK)
    assert env["blocked"] is True and env["changed"] is False
    assert "config/environments/backend.env:5:1" in env["msg"]
    assert env["summary"]["status"] == "blocked"
    assert snapshot(root) == original

    strict = run_playbook("consolidate.yml", root, "-e", "env_strict=true", tags="env", **kw)
    assert strict.rc != 0 and "config/environments/backend.env:5" in strict.text()
    assert snapshot(root) == original

    warned = run_playbook("consolidate.yml", root, "-e", "env_on_invalid=warn", tags="env", **kw)
    assert warned.rc == 0, warned.text()
    env = warned.task(ENV_TASK)
    assert env["changed"] is True and [e["path"] for e in env["invalid"]] == ["config/environments/backend.env"]
    # The invalid file was not merged, so it is not removed either.
    assert os.path.exists(os.path.join(root, "config/environments/backend.env"))


def test_invalid_compose_blocks_secrets(demo):
    root, kw = demo
    with open(os.path.join(root, "docker-compose.yml"), "a") as f:
        f.write("  broken: [unclosed\n")
    res = run_playbook("consolidate.yml", root, tags="secrets", **kw)
    assert res.rc == 0, res.text()
    sec = res.task(SECRETS_TASK)
    assert sec["blocked"] is True and sec["invalid"][0]["path"] == "docker-compose.yml"
    assert sec["invalid"][0]["line"] and sec["invalid"][0]["column"]


def test_no_env_files_changes_nothing(tmp_path):
    root = str(tmp_path / "root")
    os.makedirs(root)
    with open(os.path.join(root, ".env.example"), "w") as f:
        f.write("A=1\n")
    res = run_playbook("consolidate.yml", root, tags="env", backup_root=str(tmp_path / "b"),
                       report_dir=str(tmp_path / "r"))
    assert res.rc == 0 and res.changed == 0, res.text()
    assert res.task(ENV_TASK)["summary"]["reason"] == "no env file to merge"
    assert sorted(os.listdir(root)) == [".env.example"]
