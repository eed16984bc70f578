# -*- coding: utf-8 -*-
"""Integration: connection_check against live PostgreSQL, Redis and HTTP servers in containers
on the test bed (images from tests/testbed/images, built FROM the base image with Debian's
packages; see tests/testbed/services.py).

The module runs through ansible-playbook (a small playbook, and the config role of
consolidate.yml), so the real module code path is exercised. Every output (stdout/stderr of
``-v --diff`` runs) is searched for every password and must not hold any.

Skips only when no Docker engine answers; with SUTAZAI_TESTBED_REQUIRED=1 (or CI set) that
fails instead, so CI cannot pass without running these tests.
"""

from __future__ import annotations

import importlib.util
import json
import os
import socket
import uuid

import pytest

from helpers import REPO, run_playbook, write_demo

_spec = importlib.util.spec_from_file_location("sutazai_testbed_services", os.path.join(REPO, "tests", "testbed", "services.py"))
testbed = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(testbed)

RUN = uuid.uuid4().hex[:10]
PG_PASSWORD = "Tb-Pg-Pass-%s'\"$x" % RUN
REDIS_PASSWORD = "Tb-Redis-Pass-%s" % RUN
WRONG_PASSWORD = "Tb-Wrong-Pass-%s" % RUN
HTTP_PASSWORD = "Tb-Http-Pass-%s" % RUN
SECRETS = [PG_PASSWORD, REDIS_PASSWORD, WRONG_PASSWORD, HTTP_PASSWORD, RUN]

PLAYBOOK = """---
- name: Connection checks
  hosts: localhost
  gather_facts: false
  vars:
    ansible_python_interpreter: "{{ ansible_playbook_python }}"
  tasks:
    - name: Check connections
      sutazai.consolidation.connection_check:
        root: "{{ cc_root | default(omit) }}"
        targets: "{{ cc_targets | default([]) }}"
        env_file: "{{ cc_env_file | default('.env.master') }}"
        timeout: "{{ cc_timeout | default(5.0) }}"
        fail_on_error: "{{ cc_fail_on_error | default(false) }}"
      register: cc
"""


@pytest.fixture(scope="module")
def servers():
    problem = testbed.engine_problem()
    if problem:
        if os.environ.get("SUTAZAI_TESTBED_REQUIRED") or os.environ.get("CI"):
            pytest.fail("Docker test bed required (SUTAZAI_TESTBED_REQUIRED/CI): %s" % problem)
        pytest.skip(problem)
    for name in testbed.NAMES:
        testbed.build(name)
    started = []
    try:
        started.append(testbed.start("postgres", [5432], {"POSTGRES_PASSWORD": PG_PASSWORD, "POSTGRES_USER": "sutazai",
                                                          "POSTGRES_DB": "sutazai"}))
        started.append(testbed.start("redis", [6379], {"REDIS_PASSWORD": REDIS_PASSWORD}))
        started.append(testbed.start("http", [8080, 9000]))
        yield dict((s.name, s) for s in started)
    finally:
        for s in started:
            s.stop()


def _closed_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def _run(tmp_path, extra, check=False):
    book = tmp_path / "cc.yml"
    book.write_text(PLAYBOOK)
    varfile = tmp_path / "vars.json"
    varfile.write_text(json.dumps(extra))
    return run_playbook(str(book), str(tmp_path), "-v", "-e", "@%s" % varfile, check=check, diff=True)


def _no_secret(run):
    text = run.text()
    for secret in SECRETS:
        assert secret not in text, "a password leaked into the output"


def _by_name(result):
    return dict((c["name"], c) for c in result["checks"])


def test_live_servers_pass_in_check_mode_and_real(servers, tmp_path):
    pg, rd, web = servers["postgres"], servers["redis"], servers["http"]
    targets = [
        {"name": "postgres", "type": "postgres", "port": pg.port(5432), "user": "sutazai", "database": "sutazai",
         "password": PG_PASSWORD},
        {"name": "redis", "type": "redis", "port": rd.port(6379), "password": REDIS_PASSWORD},
        {"name": "ollama", "type": "http", "port": web.port(8080), "path": "/api/tags"},
        {"name": "chromadb", "type": "http", "port": web.port(8080), "path": "/api/v1/heartbeat"},
        {"name": "chromadb-v2", "type": "http", "url": "http://127.0.0.1:%d/api/v2/heartbeat" % web.port(8080)},
        {"name": "qdrant", "type": "http", "port": web.port(8080), "path": "/healthz"},
        {"name": "neo4j", "type": "http", "port": web.port(8080), "path": "/", "expect_status": [200]},
    ]
    for check in (True, False):
        run = _run(tmp_path, {"cc_targets": targets, "cc_fail_on_error": True}, check=check)
        assert run.rc == 0, run.text()
        result = run.task("Check connections")
        assert result["changed"] is False
        assert (result["ok_count"], result["failed_count"]) == (7, 0)
        checks = _by_name(result)
        assert checks["postgres"]["detail"].startswith("SELECT 1 ok (PostgreSQL 15")
        assert checks["redis"]["detail"] == "PING -> PONG (AUTH ok)"
        assert checks["ollama"]["detail"] == "GET /api/tags -> HTTP 200"
        assert checks["chromadb-v2"]["port"] == web.port(8080)
        for c in result["checks"]:
            assert c["status"] == "ok" and c["error"] is None and 0 < c["latency_ms"] < 5000, c
        rows = result["summary"]["rows"]
        assert rows[0] == {"item": "Connection checks passed", "before": "-", "after": "7/7"}
        assert rows[1]["item"] == "postgres postgres (127.0.0.1:%d)" % pg.port(5432) and rows[1]["after"].startswith("ok ")
        _no_secret(run)


def test_wrong_password_closed_port_timeout_and_status(servers, tmp_path):
    pg, rd, web = servers["postgres"], servers["redis"], servers["http"]
    closed = _closed_port()
    targets = [
        {"name": "pg-wrong", "type": "postgres", "port": pg.port(5432), "user": "sutazai", "password": WRONG_PASSWORD},
        {"name": "pg-none", "type": "postgres", "port": pg.port(5432), "user": "sutazai"},
        {"name": "pg-nodb", "type": "postgres", "port": pg.port(5432), "user": "sutazai", "database": "nodb", "password": PG_PASSWORD},
        {"name": "pg-closed", "type": "postgres", "port": closed, "password": PG_PASSWORD},
        {"name": "pg-hung", "type": "postgres", "port": web.port(9000), "password": PG_PASSWORD, "timeout": 1},
        {"name": "redis-wrong", "type": "redis", "port": rd.port(6379), "password": WRONG_PASSWORD},
        {"name": "redis-none", "type": "redis", "port": rd.port(6379)},
        {"name": "redis-closed", "type": "redis", "port": closed, "password": REDIS_PASSWORD},
        {"name": "redis-hung", "type": "redis", "port": web.port(9000), "timeout": 1},
        {"name": "http-closed", "type": "http", "port": closed},
        {"name": "http-503", "type": "http", "port": web.port(8080), "path": "/status/503"},
        {"name": "http-401", "type": "http", "port": web.port(8080), "path": "/status/401", "user": "u", "password": HTTP_PASSWORD},
        {"name": "http-slow", "type": "http", "port": web.port(8080), "path": "/slow/3", "timeout": 1},
        {"name": "http-404-expected", "type": "http", "port": web.port(8080), "path": "/nope", "expect_status": [404]},
    ]
    run = _run(tmp_path, {"cc_targets": targets})
    assert run.rc == 0, run.text()
    result = run.task("Check connections")
    checks = _by_name(result)
    kinds = dict((n, c["error_kind"]) for n, c in checks.items())
    assert kinds == {
        "pg-wrong": "authentication_failed", "pg-none": "authentication_failed", "pg-nodb": "database_missing",
        "pg-closed": "connection_refused", "pg-hung": "timeout",
        "redis-wrong": "authentication_failed", "redis-none": "authentication_failed",
        "redis-closed": "connection_refused", "redis-hung": "timeout",
        "http-closed": "connection_refused", "http-503": "unexpected_status", "http-401": "authentication_failed",
        "http-slow": "timeout", "http-404-expected": None,
    }
    assert (result["ok_count"], result["failed_count"]) == (1, 13)
    # The documented failures: target named (type, name, host:port), then the cause.
    pg_port, rd_port = pg.port(5432), rd.port(6379)
    assert checks["pg-wrong"]["error"] == (
        "postgres target 'pg-wrong' (127.0.0.1:%d): authentication failed: "
        "FATAL 28P01 password authentication failed for user \"sutazai\"" % pg_port)
    assert checks["pg-none"]["error"].endswith("(no password was given: set password or password_env_key)")
    assert checks["redis-wrong"]["error"].startswith("redis target 'redis-wrong' (127.0.0.1:%d): authentication failed: " % rd_port)
    assert checks["pg-closed"]["error"].startswith("postgres target 'pg-closed' (127.0.0.1:%d): connection refused: " % closed)
    assert checks["redis-closed"]["error"].startswith("redis target 'redis-closed' (127.0.0.1:%d): connection refused: " % closed)
    assert checks["http-closed"]["error"].startswith("http target 'http-closed' (127.0.0.1:%d): connection refused: " % closed)
    assert "timed out after 1 s" in checks["pg-hung"]["error"] and "timed out after 1 s" in checks["http-slow"]["error"]
    assert 900 < checks["pg-hung"]["latency_ms"] < 4000 and 900 < checks["redis-hung"]["latency_ms"] < 4000
    assert "HTTP 503 Service Unavailable from GET /status/503 (expected 2xx)" in checks["http-503"]["error"]
    assert len(result["warnings"]) == 13
    assert result["summary"]["rows"][0]["after"] == "1/14"
    _no_secret(run)

    failing = _run(tmp_path, {"cc_targets": targets[:1] + targets[3:4], "cc_fail_on_error": True})
    assert failing.rc != 0
    msg = failing.task("Check connections")["msg"]
    assert msg.startswith("2 of 2 connection check(s) failed: postgres target 'pg-wrong'")
    assert "connection refused" in msg
    _no_secret(failing)


def test_role_reads_passwords_from_env_master_and_targets_from_the_registry(servers, tmp_path):
    pg, rd, web = servers["postgres"], servers["redis"], servers["http"]
    root = tmp_path / "root"
    (root / "config" / "services").mkdir(parents=True)
    # python-dotenv reads a double-quoted value with \" escapes (and no $x interpolation); the password holds ' " $.
    quoted = PG_PASSWORD.replace("\\", "\\\\").replace('"', '\\"')
    (root / ".env.master").write_text('# merged base\nPOSTGRES_USER=sutazai\nPOSTGRES_PASSWORD="%s"\nPOSTGRES_DB=sutazai\n'
                                      'REDIS_PASSWORD=%s\n' % (quoted, REDIS_PASSWORD))
    # The shape the services phase writes (groups -> services with host, port, internal_port, check, health_check).
    registry = {"version": "2.0", "groups": {
        "core": {
            "postgres": {"host": "127.0.0.1", "port": pg.port(5432), "internal_port": 5432, "check": "postgresql",
                         "health_check": {"type": "command", "endpoint": None, "port": None, "url": None}},
            "redis": {"host": "127.0.0.1", "port": rd.port(6379), "internal_port": 6379, "check": "redis",
                      "health_check": {"type": "command"}},
            "backend": {"host": "127.0.0.1", "port": 1, "internal_port": 8000, "check": "http",
                        "health_check": {"type": "http", "endpoint": "/healthz", "port": 8080,
                                         "url": "http://127.0.0.1:%d/healthz" % web.port(8080)}},
        },
        "vector": {
            "ollama": {"host": "127.0.0.1", "port": web.port(8080), "internal_port": 11434, "check": "tcp",
                       "health_check": {"type": "none"}},
            "grafana": {"host": "127.0.0.1", "port": 3000, "internal_port": 3000, "check": "none"},
        },
    }}
    (root / "config" / "services" / "master_registry.yaml").write_text(json.dumps(registry, indent=2))
    kw = dict(tags="config", backup_root=str(tmp_path / "backups"), report_dir=str(tmp_path / "reports"))
    for check in (True, False):
        run = run_playbook("consolidate.yml", str(root), "-v", "-e", "config_check_connections=true",
                           "-e", "config_connection_fail_on_error=true", check=check, diff=True, **kw)
        assert run.rc == 0, run.text()
        result = run.task("Check live connections")
        assert [(c["name"], c["type"], c["status"], c["source"]) for c in result["checks"]] == [
            ("backend", "http", "ok", "registry:core"), ("postgres", "postgres", "ok", "registry:core"),
            ("redis", "redis", "ok", "registry:core"), ("ollama", "http", "ok", "registry:vector")]
        assert _by_name(result)["ollama"]["detail"] == "GET /api/tags -> HTTP 200"
        assert result["skipped_services"] == [{"name": "grafana", "reason": "no known check (registry check: none)"}]
        table = run.summary()
        line = [t for t in table.split("\n") if "Connection checks passed" in t]
        assert len(line) == 1 and line[0].startswith("config (connections) | unchanged") and line[0].endswith("4/4")
        _no_secret(run)

    # Explicit targets from the role variable, password by env key; a missing key fails by name.
    targets = [{"name": "db", "type": "postgres", "port": pg.port(5432), "user": "sutazai", "database": "sutazai",
                "password_env_key": "POSTGRES_PASSWORD"},
               {"name": "cache", "type": "redis", "port": rd.port(6379), "password_env_key": "REDIS_PASS"}]
    varfile = tmp_path / "targets.json"
    varfile.write_text(json.dumps({"config_connection_targets": targets, "config_check_connections": True}))
    run = run_playbook("consolidate.yml", str(root), "-v", "-e", "@%s" % varfile, check=True, diff=True, **kw)
    assert run.rc == 0, run.text()
    checks = _by_name(run.task("Check live connections"))
    assert checks["db"]["status"] == "ok"
    assert checks["cache"]["error"] == ("redis target 'cache' (127.0.0.1:%d): configuration error: "
                                        "password_env_key REDIS_PASS not found in .env.master" % rd.port(6379))
    _no_secret(run)


@pytest.mark.skipif(not os.path.isdir(os.path.join(REPO, "roles", "services")), reason="services role not present")
def test_registry_written_by_the_services_phase_is_read(servers, tmp_path):
    """Alignment with the services phase: its registry of the demo tree gives check targets.
    Nothing listens on the demo's ports, so the checks fail; the play goes on."""
    root = tmp_path / "root"
    root.mkdir()
    write_demo(str(root))
    kw = dict(backup_root=str(tmp_path / "backups"), report_dir=str(tmp_path / "reports"))
    services = run_playbook("consolidate.yml", str(root), tags="services", **kw)
    assert services.rc == 0, services.text()
    assert os.path.exists(str(root / "config" / "services" / "master_registry.yaml"))
    run = run_playbook("consolidate.yml", str(root), "-e", "config_check_connections=true",
                       "-e", "config_connection_timeout=1", check=True, tags="config", **kw)
    assert run.rc == 0, run.text()
    result = run.task("Check live connections")
    types = dict((c["name"], c["type"]) for c in result["checks"])
    assert types.get("postgres") == "postgres" and types.get("redis") == "redis"
    assert types.get("ollama") == "http" and types.get("qdrant") == "http"
    for c in result["checks"]:
        assert c["status"] in ("ok", "failed") and c["error_kind"] in (None, "connection_refused", "timeout",
                                                                       "authentication_failed", "unexpected_status")
