# -*- coding: utf-8 -*-
"""Integration: the test bed's live stack (tests/testbed/stack.py) has the real platform's shape,
runs healthy, holds its seed data and keeps its passwords off every command line.

Read-only on the default stack (``live_stack``): no test here changes it.
"""

from __future__ import annotations

import glob
import subprocess
import json
import os
import urllib.error
import urllib.request

from ruamel.yaml import YAML

from testbed import stack as testbed_stack


def _config(stack):
    return json.loads(stack.compose("config", "--format", "json", timeout=60).stdout)


def _get(url):
    try:
        with urllib.request.urlopen(url, timeout=5) as resp:
            return resp.status, resp.read().decode("utf-8")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode("utf-8")


def test_stack_is_shaped_like_the_platform(live_stack):
    model = _config(live_stack)
    services = model["services"]
    assert sorted(services) == ["backend", "frontend", "nginx", "postgres", "rabbitmq", "redis", "worker"]
    named = dict((n, s) for n, s in services.items() if "container_name" in s)
    # Every service but the stateless worker has a sutazai-* name and host ports on 127.0.0.1 only.
    assert sorted(set(services) - set(named)) == ["worker"]
    assert all(s["container_name"] == "sutazai-" + n for n, s in named.items())
    for name, svc in named.items():
        assert svc["ports"] and all(p["host_ip"] == "127.0.0.1" for p in svc["ports"]), name
    assert "ports" not in services["worker"]
    # Healthchecks on some services, not all; locally built services; depends_on; named volumes.
    with_health = sorted(n for n, s in services.items() if "healthcheck" in s)
    assert with_health == ["backend", "postgres", "redis", "worker"]
    assert sorted(n for n, s in services.items() if "build" in s) == ["backend", "frontend", "nginx", "rabbitmq", "worker"]
    assert services["backend"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert sorted(model["volumes"]) == ["postgres_data", "rabbitmq_data", "redis_data"]
    assert all(list(s["networks"]) == ["sutazai-network"] for s in services.values())
    # Compose inlines env_file in its model; the file itself names .env, as the platform's does.
    with open(os.path.join(live_stack.root, "docker-compose.yml")) as f:
        raw = YAML(typ="safe").load(f)
    assert raw["services"]["backend"]["env_file"] == [".env"]
    assert services["backend"]["environment"]["POSTGRES_PASSWORD"] == live_stack.env["POSTGRES_PASSWORD"]


def test_stack_runs_healthy_and_holds_its_seed_data(live_stack):
    states = live_stack.services()
    assert sorted(states) == ["backend", "frontend", "nginx", "postgres", "rabbitmq", "redis", "worker"]
    for name, st in states.items():
        assert st["state"] == "running", (name, st)
        assert st["health"] == ("healthy" if name in ("backend", "postgres", "redis", "worker") else ""), (name, st)
    rows = {}
    for db, tables in testbed_stack.PG_ROWS.items():
        for table in tables:
            rows[(db, table)] = int(live_stack.psql("SELECT count(*) FROM %s;" % table, db=db))
    assert rows == dict(((db, t), n) for db, tables in testbed_stack.PG_ROWS.items() for t, n in tables.items())
    assert sum(rows.values()) >= 100000
    assert live_stack.redis("DBSIZE").strip() == "(integer) %d" % (testbed_stack.REDIS_KEYS + 1)
    assert "sutazai-agents" in live_stack.exec("rabbitmq", "rabbitmqctl -q list_vhosts", user="rabbitmq").stdout.split()
    status, body = _get("http://127.0.0.1:%d/health" % live_stack.port("BACKEND_HOST_PORT"))
    assert status == 200 and json.loads(body)["checks"] == {"postgres": "ok", "redis": "ok"}
    nginx = "http://127.0.0.1:%d" % live_stack.port("NGINX_HOST_PORT")
    assert _get(nginx + "/api/health")[0] == 200
    assert json.loads(_get(nginx + "/worker/")[1])["service"] == "worker"
    assert "<h1>SutazAI</h1>" in _get(nginx + "/")[1]
    assert _get("http://127.0.0.1:%d/" % live_stack.port("FRONTEND_HOST_PORT"))[0] == 200


def test_passwords_are_on_no_command_line(live_stack):
    passwords = [live_stack.env[k] for k in testbed_stack.SECRET_KEYS]
    assert all(len(p) == 32 for p in passwords)
    seen = 0
    for path in glob.glob("/proc/[0-9]*/cmdline"):
        try:
            with open(path, "rb") as f:
                argv = f.read().decode("utf-8", "replace")
        except OSError:
            continue
        seen += 1
        assert not any(p in argv for p in passwords), path
    assert seen > 10
    for name in ("postgres", "redis", "rabbitmq"):
        proc = subprocess.run(["docker", "inspect", "--format", "{{json .Config.Cmd}} {{json .Args}} {{json .Path}}",
                               live_stack.container(name)], capture_output=True, text=True, check=True)
        assert not any(p in proc.stdout for p in passwords), name
