# -*- coding: utf-8 -*-
"""Unit tests: connection-check logic (config phase) -- scrubbing, error kinds on real sockets,
registry shapes, targets. The live servers are in tests/integration/test_connection_check.py."""

from __future__ import annotations

import socket

import pytest
import yaml

from ansible_collections.sutazai.consolidation.plugins.module_utils import _connections
from ansible_collections.sutazai.consolidation.plugins.module_utils._redaction import redacted


def test_scrub_replaces_every_form_of_the_secret():
    secret = "p@ss word/'\"\\x"
    text = ("raw %s | url postgresql://u:%s@h | plus %s | repr %r" % (
        secret, "p%40ss%20word%2F%27%22%5Cx", "p%40ss+word%2F%27%22%5Cx", secret))
    out = _connections.scrub(text, [secret, "", None])
    assert "p@ss" not in out and "p%40ss" not in out and "word" not in out
    assert out.count(redacted(secret)) == 4
    assert _connections.scrub(None, [secret]) is None
    # The longest secret goes first, so a secret holding another is not half replaced.
    assert _connections.scrub("abc-abcdef", ["abc", "abcdef"]) == "%s-%s" % (redacted("abc"), redacted("abcdef"))


def _free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def test_classify_real_socket_errors():
    port = _free_port()
    with pytest.raises(OSError) as refused:
        socket.create_connection(("127.0.0.1", port), timeout=2)
    assert _connections.classify_network(refused.value) == "connection_refused"

    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    try:
        client = socket.create_connection(server.getsockname(), timeout=0.2)
        with pytest.raises(OSError) as timed_out:
            client.recv(1)
        client.close()
    finally:
        server.close()
    assert _connections.classify_network(timed_out.value) == "timeout"

    # Wrapped the way libraries wrap them (raise ... from ...).
    try:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=2)
        except OSError as exc:
            raise RuntimeError("Can't create a connection") from exc
    except RuntimeError as wrapped:
        assert _connections.classify_network(wrapped) == "connection_refused"
    assert _connections.classify_network(ValueError("something else")) is None


def test_missing_env_key_fails_the_check_naming_key_and_file():
    env = {"POSTGRES_PASSWORD": "Env-Secret-Value-1"}
    t = _connections.normalize_target({"name": "db", "type": "postgres", "password_env_key": "PG_PASS"}, 5, env, ".env.master")
    result = _connections.check(t)
    assert result["status"] == "failed" and result["error_kind"] == "config"
    assert result["error"] == ("postgres target 'db' (127.0.0.1:5432): configuration error: "
                               "password_env_key PG_PASS not found in .env.master")
    ok = _connections.normalize_target({"name": "db", "type": "postgres", "password_env_key": "POSTGRES_PASSWORD"}, 5, env, ".env.master")
    assert ok["password"] == "Env-Secret-Value-1" and ok["config_error"] is None
    no_file = _connections.normalize_target({"name": "db", "type": "redis", "password_env_key": "X"}, 5, None, ".env.master")
    assert "cannot be read" in no_file["config_error"]
    optional = _connections.normalize_target({"name": "r", "type": "redis", "password_env_key": "REDIS_PASSWORD",
                                              "password_env_optional": True}, 5, {}, ".env.master")
    assert optional["config_error"] is None and optional["password"] is None


def test_target_defaults_and_url():
    t = _connections.normalize_target({"name": "q", "type": "http", "url": "https://[::1]/healthz"}, 2.5)
    assert (t["host"], t["port"], t["timeout"]) == ("::1", 443, 2.5)
    r = _connections.normalize_target({"name": "r", "type": "redis"}, 5)
    assert (r["host"], r["port"]) == ("127.0.0.1", 6379)
    bad = _connections.normalize_target({"name": "x", "type": "mysql"}, 5)
    assert bad["config_error"].startswith("type must be one of postgres, redis, http")


# A registry in the shape the services phase writes (plugins/module_utils/_services.py).
SERVICES_PHASE_REGISTRY = """
version: "2.0"
groups:
  core:
    postgres:
      host: 127.0.0.1
      port: 10000
      internal_port: 5432
      protocol: tcp
      check: postgresql
      health_check: {type: command, endpoint: null, port: null, url: null, command: pg_isready, source: compose}
      image: postgres:16.3-alpine
    redis:
      host: 127.0.0.1
      port: 10001
      internal_port: 6379
      check: redis
      health_check: {type: command, endpoint: null, port: null, url: null, command: redis-cli, source: compose}
    backend:
      host: 127.0.0.1
      port: 10010
      internal_port: 8000
      check: http
      health_check: {type: http, endpoint: /health, port: 8000, url: "http://127.0.0.1:10010/health", source: compose}
  vector:
    neo4j:
      host: 127.0.0.1
      port: 10002
      internal_port: 7474
      check: tcp
      health_check: {type: none, endpoint: null, port: null, url: null, command: null, source: null}
    ollama:
      host: 10.0.0.5
      port: 10104
      internal_port: 11434
      check: tcp
      health_check: {type: none}
  monitoring:
    postgres-exporter:
      host: 127.0.0.1
      port: 10207
      internal_port: 9187
      check: tcp
      image: prometheuscommunity/postgres-exporter
    grafana:
      host: null
      port: null
      internal_port: 3000
      check: none
"""


def test_registry_of_the_services_phase():
    doc = yaml.safe_load(SERVICES_PHASE_REGISTRY)
    targets, skipped = _connections.registry_targets(doc)
    got = [(t["name"], t["type"], t["host"], t["port"], t.get("path"), t["source"]) for t in targets]
    assert got == [
        ("backend", "http", "127.0.0.1", 10010, "/health", "registry:core"),
        ("postgres", "postgres", "127.0.0.1", 10000, None, "registry:core"),
        ("redis", "redis", "127.0.0.1", 10001, None, "registry:core"),
        ("neo4j", "http", "127.0.0.1", 10002, "/", "registry:vector"),
        ("ollama", "http", "10.0.0.5", 10104, "/api/tags", "registry:vector"),
    ]
    assert skipped == [{"name": "grafana", "reason": "no known check (registry check: none)"},
                       {"name": "postgres-exporter", "reason": "no known check (registry check: tcp)"}]
    pg = targets[1]
    assert (pg["password_env_key"], pg["user_env_key"], pg["database_env_key"]) == ("POSTGRES_PASSWORD", "POSTGRES_USER", "POSTGRES_DB")

    internal, internal_skipped = _connections.registry_targets(doc, address="internal", services=["backend", "neo4j", "ollama"])
    assert [(t["name"], t["host"], t["port"]) for t in internal] == [
        ("backend", "backend", 8000), ("neo4j", "neo4j", 7474), ("ollama", "ollama", 11434)]
    assert internal_skipped == []
    override, override_skipped = _connections.registry_targets(doc, host="192.0.2.7", services=["ollama"])
    assert [(t["host"], t["port"]) for t in override] == [("192.0.2.7", 10104)] and override_skipped == []


@pytest.mark.parametrize("doc", [
    {"services": {"chromadb": {"port": 10100, "health_check": "/api/v2/heartbeat"}}},
    {"services": [{"name": "chromadb", "port": "10100", "health_check": {"endpoint": "/api/v2/heartbeat"}}]},
    {"groups": {"vector": {"services": {"chromadb": {"port": 10100, "health_check": {"path": "/api/v2/heartbeat"}}}}}},
    {"groups": [{"name": "vector", "services": [{"name": "chromadb", "port": {"http": 10100, "grpc": 10103},
                                                 "healthcheck": {"test": ["CMD", "curl", "-f", "http://localhost:8000/api/v2/heartbeat"]}}]}]},
])
def test_registry_shapes_are_read_tolerantly(doc):
    targets, skipped = _connections.registry_targets(doc)
    assert [(t["name"], t["type"], t["port"], t["path"]) for t in targets] == [("chromadb", "http", 10100, "/api/v2/heartbeat")]
    assert skipped == []


def test_registry_without_check_field_uses_names_and_ports():
    doc = {"groups": {"core": {
        "db": {"port": 15432, "internal_port": 5432},
        "cache": {"port": 16379, "image": "redis:7.2-alpine"},
        "qdrant": {"port": 10101},
        "pgbouncer": {"port": 6432, "image": "edoburu/pgbouncer"},
        "no-port-redis": {"internal_port": 6379},
    }}}
    targets, skipped = _connections.registry_targets(doc)
    assert [(t["name"], t["type"], t.get("path")) for t in targets] == [
        ("cache", "redis", None), ("db", "postgres", None), ("qdrant", "http", "/healthz")]
    assert skipped == [{"name": "no-port-redis", "reason": "no published port in the registry"},
                       {"name": "pgbouncer", "reason": "no known check"}]
    assert _connections.registry_targets(None) == ([], [])
    assert _connections.registry_targets({"groups": "x"}) == ([], [])
