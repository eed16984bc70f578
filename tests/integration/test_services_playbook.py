# -*- coding: utf-8 -*-
"""Integration: the services phase through consolidate.yml (--tags services) and rollback.yml,
on the demo tree and on a copy of the real corpus.

Order: check -> real -> idempotent check -> idempotent -> change input -> changed check ->
changed, then rollback of every run back to the original bytes.
"""

from __future__ import annotations

import json
import os

import pytest
import yaml

from helpers import CORPUS, copy_corpus, full_warnings, run_playbook, snapshot, write_demo

TASK = "Build the unified service registry"
MASTER = "config/services/master_registry.yaml"
ACTUAL = "config/port-registry-actual.yaml"
ARCHIVED_ACTUAL = "config/archive/port-registry-actual.yaml"
MESH = ["config/consul-services-config.json", "config/consul-services.json", "config/service-mesh.json"]


@pytest.fixture
def demo(tmp_path):
    root = tmp_path / "root"
    root.mkdir()
    write_demo(str(root))
    return str(root), dict(backup_root=str(tmp_path / "backups"), report_dir=str(tmp_path / "reports"))


def _read(root, rel):
    with open(os.path.join(root, rel), "rb") as f:
        return f.read()


def _master(root):
    return yaml.safe_load(_read(root, MASTER).decode("utf-8"))


def test_check_real_idempotent_changed_and_rollback(demo):
    root, kw = demo
    original = snapshot(root)

    check = run_playbook("consolidate.yml", root, check=True, diff=True, tags="services", **kw)
    assert check.rc == 0, check.text()
    result = check.task(TASK)
    assert result["changed"] is True and result["blocked"] is False
    assert [d["after_header"] for d in result["diff"]] == [
        ARCHIVED_ACTUAL + " (after)", MASTER + " (after)", ACTUAL + " (after)"]
    assert snapshot(root) == original
    assert not os.path.exists(kw["backup_root"]) and not os.path.exists(kw["report_dir"])
    summary = check.summary()
    assert "plan (check mode, nothing written)" in summary and "Host-port conflicts" in summary
    # The connection-check view: every compose service, with host, port and health URL.
    services = dict((s["name"], s) for s in result["services"])
    assert len(services) == 16
    assert services["backend"] == {
        "name": "backend", "group": "core", "host": "127.0.0.1", "port": 10010, "internal_port": 8000, "protocol": "tcp",
        "check": "http", "image": "sutazai/backend:latest",
        "health_check": {"type": "http", "endpoint": "/health", "port": 8000, "url": "http://127.0.0.1:10010/health",
                         "command": "curl", "source": "compose"}}
    assert (services["postgres"]["check"], services["redis"]["check"]) == ("postgresql", "redis")
    assert services["qdrant"]["health_check"]["url"] == "http://127.0.0.1:10101/healthz"
    assert any("10201/tcp (alertmanager, grafana)" in w for w in full_warnings(result))
    assert any("PROMTAIL_PORT" in w for w in full_warnings(result))

    real = run_playbook("consolidate.yml", root, tags="services", **kw)
    assert real.rc == 0 and real.changed == 1, real.text()
    master = _master(root)
    assert master["version"] == "2.0" and sorted(master["groups"]) == ["agents", "core", "llm", "monitoring", "vector"]
    assert master["groups"]["core"]["frontend"]["internal_port"] == 8501
    assert _read(root, ARCHIVED_ACTUAL) == original[ACTUAL][2]
    regenerated = yaml.safe_load(_read(root, ACTUAL))
    assert regenerated["llm"] == {"ollama": 10104} and regenerated["vector"]["qdrant"] == {"http": 10101, "grpc": 10102}
    for rel in MESH:
        assert _read(root, rel) == original[rel][2]  # archive_mesh is off by default
    runs = os.listdir(kw["backup_root"])
    assert len(runs) == 1
    with open(os.path.join(kw["report_dir"], runs[0] + ".json")) as f:
        assert [p["phase"] for p in json.load(f)["phases"] if p["ran"]] == ["services"]
    after_first = snapshot(root)

    # The regenerated port registry is not read back: the archived original is, so nothing changes.
    assert run_playbook("consolidate.yml", root, check=True, tags="services", **kw).changed == 0
    again = run_playbook("consolidate.yml", root, tags="services", **kw)
    assert again.rc == 0 and again.changed == 0, again.text()
    assert snapshot(root) == after_first and len(os.listdir(kw["backup_root"])) == 1

    # Change input: alertmanager moves off grafana's port.
    monitoring = os.path.join(root, "docker/docker-compose.monitoring.yml")
    with open(monitoring) as f:
        text = f.read()
    with open(monitoring, "w") as f:
        f.write(text.replace('"10201:9093"', '"10203:9093"'))
    changed_input = snapshot(root)
    changed_check = run_playbook("consolidate.yml", root, check=True, tags="services", **kw)
    assert changed_check.changed == 1 and snapshot(root) == changed_input
    changed = run_playbook("consolidate.yml", root, tags="services", **kw)
    assert changed.changed == 1
    assert [c for c in _master(root)["conflicts"] if c["kind"] == "host_port"] == []
    assert yaml.safe_load(_read(root, ACTUAL))["monitoring"]["alertmanager"] == 10203
    assert len(os.listdir(kw["backup_root"])) == 2

    for expected in (1, 1, 0):
        rb = run_playbook("rollback.yml", root, backup_root=kw["backup_root"])
        assert rb.rc == 0 and rb.changed == expected, rb.text()
    restored = snapshot(root)
    # The alertmanager edit was the user's, not a run's: it stays; everything else is back.
    assert restored.pop("docker/docker-compose.monitoring.yml") != original["docker/docker-compose.monitoring.yml"]
    original.pop("docker/docker-compose.monitoring.yml")
    assert restored == original
    assert not os.path.exists(os.path.join(root, "config/services")) and not os.path.exists(os.path.join(root, "config/archive"))


def test_archive_mesh_moves_journaled_idempotent_and_rolled_back(demo):
    root, kw = demo
    original = snapshot(root)
    plain = run_playbook("consolidate.yml", root, check=True, tags="services", **kw).task(TASK)
    first = run_playbook("consolidate.yml", root, "-e", "services_archive_mesh=true", tags="services", **kw)
    assert first.rc == 0 and first.changed == 1, first.text()
    result = first.task(TASK)
    actions = dict((c["path"], c["action"]) for c in result["changes"])
    for rel in MESH:
        archived = "config/archive/" + rel.rsplit("/", 1)[-1]
        assert actions[rel] == "delete" and actions[archived] == "create"
        assert not os.path.exists(os.path.join(root, rel))
        assert _read(root, archived) == original[rel][2]
        assert {"path": rel, "archive": archived, "removed": True} in result["archived"]
    # The archived consul files are still read, under their original names.
    assert result["services"] == plain["services"]
    assert "config/consul-services-config.json" in [s["file"] for s in _master(root)["sources"]]
    rows = dict((r["item"], (r["before"], r["after"])) for r in result["summary"]["rows"])
    assert rows["Mesh config files archived"] == (3, 3)
    with open(os.path.join(kw["backup_root"], os.listdir(kw["backup_root"])[0], "manifest.json")) as f:
        entries = json.load(f)["entries"]
    assert [e["action"] for e in entries if e["path"] in MESH] == ["delete"] * 3

    second = run_playbook("consolidate.yml", root, "-e", "services_archive_mesh=true", tags="services", **kw)
    assert second.rc == 0 and second.changed == 0, second.text()
    rb = run_playbook("rollback.yml", root, backup_root=kw["backup_root"])
    assert rb.rc == 0 and rb.changed == 1
    assert snapshot(root) == original


def _consul_json_error(root):
    with open(os.path.join(root, "config/consul-services-config.json"), "w") as f:
        f.write('{\n  "services": [\n    {"name": "backend",}\n  ]\n}\n')
    return "config/consul-services-config.json:3:24: invalid JSON"


def _compose_duplicate_key(root):
    path = os.path.join(root, "docker/docker-compose.monitoring.yml")
    with open(path, "a") as f:
        f.write("  loki:\n    image: grafana/loki:2.9.0\n")
    return "docker/docker-compose.monitoring.yml:37:3: duplicate key 'loki'"


def _registry_yaml_error(root):
    with open(os.path.join(root, "config/services.yaml"), "a") as f:
        f.write("broken: [unclosed\n")
    return "config/services.yaml:47:9: invalid yaml"


def _non_utf8(root):
    with open(os.path.join(root, "config/port-registry.yaml"), "ab") as f:
        f.write(b"# caf\xe9\n")
    return "config/port-registry.yaml:69:6: not valid UTF-8 (byte 0xe9)"


@pytest.mark.parametrize("breaker", [_consul_json_error, _compose_duplicate_key, _registry_yaml_error, _non_utf8])
def test_bad_input_blocks_phase_and_changes_nothing(demo, breaker):
    root, kw = demo
    expected = breaker(root)
    before = snapshot(root)

    res = run_playbook("consolidate.yml", root, tags="services", **kw)
    assert res.rc == 0, res.text()
    result = res.task(TASK)
    assert result["blocked"] is True and result["changed"] is False
    assert any(expected in w for w in full_warnings(result)), result["warnings"]
    assert snapshot(root) == before and not os.path.exists(kw["backup_root"])
    assert "blocked" in res.summary()

    strict = run_playbook("consolidate.yml", root, "-e", "services_strict=true", tags="services", **kw)
    assert strict.rc != 0 and expected in strict.task(TASK)["msg"]
    assert snapshot(root) == before

    warned = run_playbook("consolidate.yml", root, "-e", "services_on_invalid=warn", tags="services", **kw)
    assert warned.rc == 0 and warned.changed == 1, warned.text()
    result = warned.task(TASK)
    assert [e["path"] for e in result["invalid"]] == [expected.split(":")[0]]
    assert any("skipped invalid file" in w for w in full_warnings(result))


def test_role_options_reach_the_module(demo):
    root, kw = demo
    extra = json.dumps({"services_aliases": {"backend-api": "backend", "redis-cache": "redis"},
                        "services_group_map": {"neo4j": "graph"},
                        "services_group_rules": [{"group": "observability", "pattern": "prometheus|grafana|loki"}],
                        "services_regenerate_actual": False,
                        "services_output": "config/services/registry.yaml"})
    res = run_playbook("consolidate.yml", root, "-e", extra, tags="services", **kw)
    assert res.rc == 0 and res.changed == 1, res.text()
    result = res.task(TASK)
    assert [c["path"] for c in result["changes"]] == ["config/services/registry.yaml"]
    groups = dict((s["name"], s["group"]) for s in result["services"])
    assert groups["neo4j"] == "graph" and groups["grafana"] == "observability"
    # No rule matches: the registry section (infrastructure -> core) decides, else "other".
    assert groups["backend"] == "core" and groups["alertmanager"] == "other"
    assert "backend-api" not in result["phantoms"] and "redis-cache" not in result["phantoms"]


@pytest.mark.skipif(not os.path.isdir(CORPUS), reason="shared corpus not present")
def test_corpus_acceptance(tmp_path):
    root = str(tmp_path / "sutazaiapp")
    copy_corpus(root)
    original = snapshot(root)

    check = run_playbook("consolidate.yml", root, check=True, diff=True, tags="services")
    assert check.rc == 0, check.text()
    assert snapshot(root) == original
    assert not os.path.exists(os.path.join(root, "backups")) and not os.path.exists(os.path.join(root, "reports"))
    # The corpus has a compose file that is not valid YAML (a heredoc's "EOF" line): blocked by default.
    result = check.task(TASK)
    assert result["blocked"] is True
    assert any("docker/docker-compose.optimized.yml:146:1: invalid yaml" in w for w in full_warnings(result))

    warn = ("-e", "services_on_invalid=warn")
    check = run_playbook("consolidate.yml", root, *warn, check=True, diff=True, tags="services")
    assert check.rc == 0 and snapshot(root) == original
    diff = check.task(TASK)["diff"]
    assert [d["after_header"] for d in diff] == [ARCHIVED_ACTUAL + " (after)", MASTER + " (after)", ACTUAL + " (after)"]
    assert "version: '2.0'" in diff[1]["after"]

    real = run_playbook("consolidate.yml", root, *warn, tags="services")
    assert real.rc == 0 and real.changed == 1, real.text()
    stats = real.task(TASK)["stats"]
    assert (stats["services"], stats["phantoms"], stats["unregistered"], stats["conflicts"]) == (61, 134, 33, 29)
    assert sum(len(g) for g in _master(root)["groups"].values()) == 61

    second = run_playbook("consolidate.yml", root, *warn, tags="services")
    assert second.rc == 0 and second.changed == 0, second.text()

    rb = run_playbook("rollback.yml", root, backup_root=os.path.join(root, "backups"))
    assert rb.rc == 0 and rb.changed == 1
    assert snapshot(root, skip=("backups", "reports")) == original
