# -*- coding: utf-8 -*-
"""Unit tests: compose port/healthcheck parsing, the registry readers (on the real files when
the shared corpus is present, and on small fixtures), matching, conflicts and byte-stable output."""

from __future__ import annotations

import json
import os
import shutil

import pytest
import yaml

from ansible_collections.sutazai.consolidation.plugins.module_utils import _services as S
from ansible_collections.sutazai.consolidation.plugins.module_utils._errors import ConsolidationError
from helpers import CORPUS, write_demo

needs_corpus = pytest.mark.skipif(not os.path.isdir(CORPUS), reason="shared corpus not present")


def _m(published, target, protocol="tcp", host_ip=None):
    return {"host_ip": host_ip, "published": published, "target": target, "protocol": protocol,
            "name": None, "app_protocol": None}


# -- ports -------------------------------------------------------------------------------------
@pytest.mark.parametrize("entry, expected", [
    ("10010:8000", _m((10010, 10010), (8000, 8000))),
    ("8000", _m(None, (8000, 8000))),
    (8000, _m(None, (8000, 8000))),
    ("127.0.0.1:10010:8000", _m((10010, 10010), (8000, 8000), host_ip="127.0.0.1")),
    ("127.0.0.1::8000", _m(None, (8000, 8000), host_ip="127.0.0.1")),
    ("[::1]:10010:8000", _m((10010, 10010), (8000, 8000), host_ip="::1")),
    ("10206:9100/udp", _m((10206, 10206), (9100, 9100), "udp")),
    ("53:53/UDP", _m((53, 53), (53, 53), "udp")),
    ("11100-11199:11100-11199", _m((11100, 11199), (11100, 11199))),
    ("9000-9010:80", _m((9000, 9010), (80, 80))),
    ("8000-8002", _m(None, (8000, 8002))),
    (" 10011:8501 ", _m((10011, 10011), (8501, 8501))),
])
def test_parse_port_short_syntax(entry, expected):
    assert S.parse_port(entry) == expected


def test_parse_port_long_syntax():
    assert S.parse_port({"target": 3100, "published": "10202", "protocol": "tcp", "name": "http"}) == dict(
        _m((10202, 10202), (3100, 3100)), name="http")
    assert S.parse_port({"target": 80, "published": 8080, "host_ip": "127.0.0.1", "protocol": "udp",
                         "app_protocol": "http"}) == dict(_m((8080, 8080), (80, 80), "udp", "127.0.0.1"),
                                                          app_protocol="http")
    assert S.parse_port({"target": 80}) == _m(None, (80, 80))
    assert S.parse_port({"target": "8080", "published": "8000-8001"})["published"] == (8000, 8001)


def test_parse_port_interpolation():
    env = {"BACKEND_PORT": "10099", "EMPTY": ""}
    assert S.parse_port("${BACKEND_PORT:-10010}:8000", env.get)["published"] == (10099, 10099)
    assert S.parse_port("${UNSET:-10010}:8000", env.get)["published"] == (10010, 10010)
    assert S.parse_port("${EMPTY:-10010}:8000", env.get)["published"] == (10010, 10010)
    assert S.parse_port({"target": 3100, "published": "${LOKI_PORT:-10202}"})["published"] == (10202, 10202)
    assert S.parse_port("$BACKEND_PORT:8000", env.get)["published"] == (10099, 10099)


@pytest.mark.parametrize("entry, kind, text", [
    ("${PROMTAIL_PORT}:9080", "unresolved", "variable PROMTAIL_PORT has no value and no default"),
    ("${P:?set P}:80", "unresolved", "variable P has no value"),
    ({"target": 80, "published": "${NOPE}"}, "unresolved", "NOPE"),
    ("10010:http", "invalid", "'http' is not a port"),
    ("70000:80", "invalid", "out of range"),
    ("1:2:3:4", "invalid", "IPv6 host address must be in brackets"),
    ("host.example:80:80", "invalid", "not an IP address"),
    ("8000-8010:80-81", "invalid", "differ in size"),
    ("10010:8000/icmp", "invalid", "unknown protocol"),
    ("", "invalid", "empty port entry"),
    ({"published": 80}, "invalid", "without target"),
    (True, "invalid", "not a boolean"),
    ("${BROKEN:-80", "invalid", "unclosed"),
])
def test_parse_port_errors(entry, kind, text):
    with pytest.raises(S.PortError) as exc:
        S.parse_port(entry)
    assert exc.value.kind == kind
    assert text in str(exc.value)


def test_port_error_never_shows_an_interpolated_value():
    with pytest.raises(S.PortError) as exc:
        S.parse_port("${SECRETISH}:80", {"SECRETISH": "hunter2-not-a-port"}.get)
    assert "hunter2" not in str(exc.value) and "${SECRETISH}" in str(exc.value)


def test_interpolate_operators():
    env = {"A": "a", "E": ""}.get
    assert S.interpolate("$$A ${A} $A", env) == ("$A a a", [])
    assert S.interpolate("${E:-d} ${E-d} ${U-d}", env) == ("d  d", [])
    assert S.interpolate("${A:+x} ${E:+x} ${E+x} ${U+x}", env) == ("x  x ", [])
    assert S.interpolate("${U:-${A}-${V:-v}}", env) == ("a-v", [])
    assert S.interpolate("${U} ${E:?e}", env) == (" ", ["U", "E"])
    assert S.interpolate("cost $5", env) == ("cost $5", [])


def test_format_mapping_round_trips():
    for text in ("10010:8000", "127.0.0.1:10010:8000", "127.0.0.1::8000", "[::1]:1:2", "10206:9100/udp",
                 "11100-11199:11100-11199", "8000"):
        assert S.format_mapping(S.parse_port(text)) == text


# -- health checks ----------------------------------------------------------------------------
@pytest.mark.parametrize("hc, expected", [
    ({"test": ["CMD", "curl", "-f", "http://localhost:8000/health"]},
     {"type": "http", "endpoint": "/health", "port": 8000, "scheme": "http", "command": "curl"}),
    ({"test": ["CMD-SHELL", "curl -f http://localhost:3000/api/health || exit 1"]},
     {"type": "http", "endpoint": "/api/health", "port": 3000, "command": "curl"}),
    ({"test": "wget --spider -q http://localhost:9093/-/ready?x=1 || exit 1"},
     {"type": "http", "endpoint": "/-/ready?x=1", "port": 9093, "command": "wget"}),
    ({"test": ["CMD", "python", "-c", "import urllib.request; urllib.request.urlopen('http://localhost:8000/health').read()"]},
     {"type": "http", "endpoint": "/health", "port": 8000, "command": "python"}),
    ({"test": ["CMD", "wget", "--spider", "https://localhost/"]}, {"type": "http", "endpoint": "/", "port": 443}),
    ({"test": ["CMD", "nc", "-z", "localhost", "8080"]}, {"type": "tcp", "port": 8080, "command": "nc"}),
    ({"test": ["CMD", "python3", "-c", "import socket; s=socket.socket(); exit(s.connect_ex(('localhost', 8000)))"]},
     {"type": "tcp", "port": 8000, "command": "python3"}),
    ({"test": ["CMD-SHELL", "pg_isready -U ${POSTGRES_USER:-sutazai}"]}, {"type": "command", "command": "pg_isready"}),
    ({"test": ["CMD-SHELL", "redis-cli --pass S3cr3t ping"]}, {"type": "command", "command": "redis-cli"}),
    ({"test": ["NONE"]}, {"type": "disabled"}),
    ({"disable": True}, {"type": "disabled"}),
    ({"interval": "30s"}, {"type": "image"}),
])
def test_parse_healthcheck(hc, expected):
    out = S.parse_healthcheck(hc)
    for key, value in expected.items():
        assert out[key] == value, (key, out)
    assert "S3cr3t" not in json.dumps(out)


def test_parse_healthcheck_absent():
    assert S.parse_healthcheck(None) is None


# -- YAML / JSON -----------------------------------------------------------------------------
def test_load_yaml_errors_name_line_and_column():
    with pytest.raises(ConsolidationError) as exc:
        S.load_yaml("x.yml", "services:\n  a:\n    image: x\nEOF < /dev/null\n")
    assert exc.value.location() == "x.yml:4:1" and exc.value.kind == "invalid_yaml"
    with pytest.raises(ConsolidationError) as exc:
        S.load_yaml("x.yml", "a: [1,\n")
    assert exc.value.path == "x.yml" and exc.value.line == 2
    with pytest.raises(ConsolidationError) as exc:
        S.load_yaml("c.yml", "services:\n  a: {}\n  a: {}\n")
    assert exc.value.kind == "duplicate_key" and exc.value.location() == "c.yml:3:3"
    doc, warns = S.load_yaml("r.yml", "a:\n  x: 1\n  x: 2\n", duplicates="warn")
    assert doc["a"]["x"] == 1 and warns == ["r.yml:3:3: duplicate key 'x': the first value is kept"]


def test_load_yaml_is_yaml_1_2():
    doc, dummy = S.load_yaml("p.yml", "ports:\n  - 22:22\n  - yes\n")
    assert doc["ports"] == ["22:22", "yes"]


def test_load_json():
    with pytest.raises(ConsolidationError) as exc:
        S.load_json("c.json", '{\n  "services": [\n    {"name": "a",}\n  ]\n}\n')
    assert exc.value.location() == "c.json:3:18" and exc.value.kind == "invalid_json"
    doc, warns = S.load_json("c.json", '{"services": [], "services": [1]}')
    assert doc == {"services": [1]} and "duplicate key 'services'" in warns[0]
    assert S.load_json("c.json", "  \n") == (None, [])


# -- readers on fixtures ------------------------------------------------------------------------
def _yaml_doc(text):
    return S.load_yaml("f.yml", text, duplicates="warn")[0]


def test_read_port_registry_fixture():
    doc = _yaml_doc("port_ranges:\n  agents:\n    range: [11000, 11148]\n"
                    "infrastructure:\n  10010:\n    service: backend\n    container: sutazai-backend\n"
                    "    internal_port: 8000\n  10101:\n    service: qdrant\n  10102:\n    service: qdrant\n"
                    "migration_required:\n  8000:\n    current: backend\n    target_port: 10010\n"
                    "known_conflicts: []\n")
    entries = S.read_port_registry("pr.yaml", doc)
    assert [(e["name"], e["key"], e["line"]) for e in entries] == [
        ("backend", "infrastructure.10010", 5), ("qdrant", "infrastructure.10101", 9), ("qdrant", "infrastructure.10102", 11)]
    assert entries[0]["claims"] == [{"kind": "published", "port": 10010, "label": None},
                                    {"kind": "internal", "port": 8000, "label": None}]
    assert entries[0]["container"] == "sutazai-backend" and entries[0]["group_hint"] == "infrastructure"
    with pytest.raises(ConsolidationError) as exc:
        S.read_port_registry("pr.yaml", ["a"])
    assert exc.value.kind == "invalid_shape"


def test_read_port_registry_actual_fixture():
    doc = _yaml_doc("core_services:\n  backend: 10010\n  ollama: 10104  # TinyLlama\nvector_databases:\n"
                    "  qdrant:\n    http: 10101\n    grpc: 10102\nservice_mesh:\n  disabled: true\n"
                    "monitoring:\n  x: {disabled: true}\ntotal_containers: 8\nmodel: tinyllama\n")
    entries = S.read_port_registry_actual("a.yaml", doc)
    assert [(e["name"], [(c["label"], c["port"]) for c in e["claims"]]) for e in entries] == [
        ("backend", [(None, 10010)]), ("ollama", [(None, 10104)]), ("qdrant", [("http", 10101), ("grpc", 10102)])]


def test_read_consul_fixture():
    doc = {"services": [
        {"name": "backend-api", "address": "sutazai-backend", "port": 8000,
         "check": {"http": "http://sutazai-backend:8000/health"}},
        {"id": "postgresql-db", "address": "10.0.0.2", "port": 5432, "check": {"tcp": "sutazai-postgres:5432"}},
        {"port": 1}, "junk"]}
    entries = S.read_consul("consul_services_config", "c.json", doc)
    assert [(e["name"], e["host"], e["claims"][0]["kind"], e["claims"][0]["port"]) for e in entries] == [
        ("backend-api", "sutazai-backend", "internal", 8000), ("postgresql-db", "10.0.0.2", "internal", 5432)]
    assert entries[0]["health"]["endpoint"] == "/health" and entries[0]["health"]["port"] == 8000
    assert entries[1]["health"]["type"] == "tcp" and entries[1]["health"]["port"] == 5432
    single = S.read_consul("consul_services", "s.json", {"service": {"name": "web", "port": 80}})
    assert [e["name"] for e in single] == ["web"]
    with pytest.raises(ConsolidationError):
        S.read_consul("consul_services", "c.json", {"services": {"a": 1}})


def test_read_services_yaml_fixture():
    doc = _yaml_doc("services:\n  vector_databases:\n    chromadb:\n      config: {host: chromadb, port: 8000}\n"
                    "      health_check: {endpoint: api/v1/heartbeat}\n  agent_systems:\n    letta:\n"
                    "      enabled: false\n      config: {api_endpoint: 'http://user:pw@letta:8283/x'}\n"
                    "    local:\n      config: {base_url: 'http://localhost:9000'}\nservice_discovery:\n"
                    "  consul: {host: consul, port: 8500}\n")
    entries = S.read_services_yaml("s.yaml", doc)
    got = [(e["name"], e["host"], [(c["kind"], c["port"]) for c in e["claims"]], e["enabled"]) for e in entries]
    assert got == [("chromadb", "chromadb", [("internal", 8000)], True), ("letta", "letta", [("internal", 8283)], False),
                   ("local", "localhost", [("published", 9000)], True)]
    assert entries[0]["health"]["endpoint"] == "/api/v1/heartbeat"
    assert "pw" not in json.dumps(entries)


def test_read_compose_fixture():
    doc = _yaml_doc("x-common: &c\n  image: base:1\n  ports: ['9000:9000']\nservices:\n  web:\n    <<: *c\n"
                    "    container_name: sutazai-web\n    expose: ['8080']\n"
                    "    ports:\n      - '10010:8000'\n      - '${MISSING}:81'\n"
                    "    healthcheck:\n      test: [CMD, curl, -f, 'http://localhost:8000/health']\n  worker:\n"
                    "    <<: *c\n  empty:\n")
    services, reason = S.read_compose("docker-compose.yml", doc)
    assert reason is None
    web, worker, empty = services
    assert [S.format_mapping(m) for m in web["ports"]] == ["10010:8000"]
    assert web["port_errors"][0]["line"] == 11 and web["port_errors"][0]["kind"] == "unresolved"
    assert web["expose"] == [8080] and web["container_name"] == "sutazai-web" and web["image"] == "base:1"
    assert web["healthcheck"]["endpoint"] == "/health"
    # A merge key brings the anchor's ports and image along.
    assert [S.format_mapping(m) for m in worker["ports"]] == ["9000:9000"] and worker["image"] == "base:1"
    assert empty["ports"] is None
    assert S.read_compose("c.yml", _yaml_doc("docker/docker-compose.yml\n"))[1].startswith("not a compose document")
    assert S.read_compose("c.yml", _yaml_doc("version: '3'\n"))[1] == "no services key"
    with pytest.raises(ConsolidationError) as exc:
        S.read_compose("c.yml", _yaml_doc("services: [a]\n"))
    assert exc.value.location() == "c.yml:1"


def test_effective_services_precedence():
    def svc(name, rel, ports=None, image=None, hc=None):
        return {"name": name, "file": rel, "key": "services." + name, "line": 1,
                "ports": [dict(S.parse_port(p), key="k", line=1) for p in ports] if ports else None,
                "port_errors": [], "expose": [], "image": image, "container_name": None, "healthcheck": hc, "has_build": False}
    defs = {
        "docker/docker-compose.secure.yml": [svc("backend", "docker/docker-compose.secure.yml", ["10099:8000"], "secure:1")],
        "docker-compose.override.yml": [svc("backend", "docker-compose.override.yml", ["9229:9229"], "dev:1")],
        "docker-compose.yml": [svc("backend", "docker-compose.yml", ["10010:8000"], "base:1"),
                               svc("redis", "docker-compose.yml")],
        "docker/docker-compose.yml": [svc("redis", "docker/docker-compose.yml", ["10001:6379"], "redis:7")],
    }
    eff = S.effective_services(defs)
    backend = eff["backend"]
    # Root default project: override wins the image, its ports are appended (as docker compose does).
    assert backend["image"] == "dev:1"
    assert [S.format_mapping(m) for m in backend["ports"]] == ["10010:8000", "9229:9229"]
    assert backend["ports_file"] == "docker-compose.yml"
    assert [d["file"] for d in backend["definitions"]] == [
        "docker-compose.yml", "docker-compose.override.yml", "docker/docker-compose.secure.yml"]
    assert [v[0] for v in backend["variants"]] == ["docker-compose.yml", "docker/docker-compose.secure.yml"]
    # A service without ports in the first file takes them from the next one.
    assert eff["redis"]["ports_file"] == "docker/docker-compose.yml" and eff["redis"]["image"] == "redis:7"


@pytest.mark.parametrize("name, image, hints, expected", [
    ("postgres", "postgres:16", [], ("core", "name")),
    ("postgres-exporter", None, [], ("monitoring", "name")),
    ("mcp-monitoring-server", None, [], ("mcp", "name")),
    ("hardware-resource-optimizer", None, [], ("agents", "name")),
    ("db", "docker.io/library/postgres:16@sha256:abc", [], ("core", "image")),
    ("thing", None, ["core_services"], ("core", "registry:core_services")),
    ("thing", None, [], ("other", "default")),
])
def test_choose_group(name, image, hints, expected):
    assert S.choose_group(name, image, hints) == expected


def test_choose_group_overrides():
    assert S.choose_group("postgres", group_map={"postgres": "data"}) == ("data", "group_map")
    rules = [{"group": "databases", "pattern": "^(postgres|redis)$"}]
    assert S.choose_group("redis", rules=rules) == ("databases", "name")
    assert S.choose_group("backend", rules=rules) == ("other", "default")


def test_image_repository_and_check_kind():
    assert S.image_repository("registry.local:5000/org/app:1.0") == "org/app"
    assert S.image_repository("postgres:16.3-alpine") == "postgres"
    assert S.check_kind("db", "postgres:16", None, 10000) == "postgresql"
    assert S.check_kind("postgres-exporter", None, None, 10207) == "tcp"
    assert S.check_kind("cache", "redis:7", None, 1) == "redis"
    assert S.check_kind("web", None, {"type": "http", "endpoint": "/"}, 1) == "http"
    assert S.check_kind("worker", None, None, None) == "none"


# -- whole tree -------------------------------------------------------------------------------
def _write(root, rel, text):
    path = os.path.join(str(root), rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)


_MAIN = """services:
  web:
    image: nginx:1.27
    container_name: sutazai-web
    ports: ["10080:80"]
    healthcheck:
      test: ["CMD", "curl", "-f", "http://localhost:80/healthz"]
  db:
    image: postgres:16
    ports: ["10000:5432"]
  api:
    image: example/api:1
    ports: ["10010:8000"]
"""
_EXTRA = """services:
  web:
    ports: ["10081:80"]
  admin:
    image: example/admin:1
    ports: ["10080:9000", "127.0.0.2:10000:1"]
  sidecar:
    ports: ["127.0.0.1:10010:1", "127.0.0.2:10010:1/udp"]
"""


@pytest.fixture
def tree(tmp_path):
    root = tmp_path / "root"
    _write(root, "docker-compose.yml", _MAIN)
    _write(root, "stacks/docker-compose.extra.yml", _EXTRA)
    _write(root, "config/port-registry.yaml",
           "infrastructure:\n  10000:\n    service: db\n    internal_port: 5433\n  10005:\n    service: kong\n")
    _write(root, "config/consul-services-config.json", json.dumps({"services": [
        {"name": "frontend-web", "address": "sutazai-web", "port": 80, "check": {"http": "http://x:80/status"}},
        {"name": "api-server", "address": "10.0.0.1", "port": 8000}]}))
    return root


def test_build_registry_matching_conflicts_phantoms(tree):
    plan = S.build_registry(str(tree))
    doc = plan.document
    assert plan.invalid == [] and sorted(doc["groups"]) == ["core", "other"]
    assert sorted(n for g in doc["groups"].values() for n in g) == ["admin", "api", "db", "sidecar", "web"]
    web = doc["groups"]["core"]["web"]
    assert (web["host"], web["port"], web["internal_port"]) == ("127.0.0.1", 10080, 80)
    assert web["health_check"]["url"] == "http://127.0.0.1:10080/healthz"
    assert {"file": "config/consul-services-config.json", "key": "services[0]", "matched_by": "container"} in web["sources"]
    assert doc["phantoms"]["kong"]["ports"] == [10005]
    assert doc["phantoms"]["api-server"]["suggestion"] == "api"
    assert doc["unregistered"] == ["admin", "api", "sidecar"]
    kinds = [(c["kind"], c.get("port") or c.get("service")) for c in doc["conflicts"]]
    # 10080: web vs admin (wildcard overlaps); 10000: db (all addresses) vs admin on 127.0.0.2;
    # 10010: api vs sidecar on 127.0.0.1 (the udp one is another protocol).
    assert kinds == [("compose_ports", "web"), ("health_check", "web"), ("host_port", 10000), ("host_port", 10010),
                     ("host_port", 10080), ("registry_port", "db")]
    registry_port = doc["conflicts"][-1]
    assert (registry_port["field"], registry_port["compose"], registry_port["registry"]) == ("internal_port", [5432], 5433)
    services = dict((s["name"], s) for s in plan.services)
    assert services["db"]["check"] == "postgresql" and services["web"]["check"] == "http"
    # The config phase can rebuild the same targets from the written registry.
    assert S.connection_targets(yaml.safe_load(plan.text)) == plan.services


def test_build_registry_aliases_prefixes_and_groups(tree):
    plan = S.build_registry(str(tree), aliases={"api-server": "api"}, container_prefixes=[],
                            group_map={"sidecar": "agents"})
    doc = plan.document
    assert "api-server" not in doc["phantoms"] and "api" not in doc["unregistered"]
    assert {"file": "config/consul-services-config.json", "key": "services[1]", "matched_by": "alias"} in \
        doc["groups"]["other"]["api"]["sources"]
    assert "sidecar" in doc["groups"]["agents"]
    # Without the sutazai- prefix rule the explicit container_name still matches.
    assert "frontend-web" not in doc["phantoms"]


def test_build_registry_bytes_are_stable(tree, tmp_path):
    first = S.build_registry(str(tree))
    copy = tmp_path / "copy"
    # Same content, files created in another order.
    for rel in reversed(sorted(os.path.relpath(os.path.join(d, f), str(tree))
                               for d, dummy, fs in os.walk(str(tree)) for f in fs)):
        with open(os.path.join(str(tree), rel)) as f:
            _write(copy, rel, f.read())
    second = S.build_registry(str(copy))
    assert first.text == second.text and first.actual_text == second.actual_text
    assert first.text.startswith(S.REGISTRY_HEADER) and first.text.endswith("\n")
    # Any YAML reader, 1.1 included, reads back the same document.
    assert yaml.safe_load(first.text) == json.loads(json.dumps(first.document))


def test_dump_quotes_yaml11_specials():
    text = S.dump_registry({"a": ["yes", "on", "22:22", "1.0", "0x1F", "~", "", "2025-08-08", "plain", "10010:8000"]})
    assert yaml.safe_load(text) == {"a": ["yes", "on", "22:22", "1.0", "0x1F", "~", "", "2025-08-08", "plain", "10010:8000"]}


def test_invalid_sources_block_or_are_skipped(tree):
    _write(tree, "config/consul-services.json", '{\n  "services": [\n    {"name": "x",}\n  ]\n}\n')
    _write(tree, "stacks/docker-compose.bad.yml", "services:\n  a:\n    image: x\n  a:\n    image: y\n")
    plan = S.build_registry(str(tree), on_invalid="fail")
    assert plan.document is None and plan.text is None
    assert sorted("%s:%s:%s" % (e["path"], e["line"], e["column"]) for e in plan.invalid) == [
        "config/consul-services.json:3:18", "stacks/docker-compose.bad.yml:4:3"]
    warned = S.build_registry(str(tree), on_invalid="warn")
    assert warned.document is not None and len(warned.invalid) == 2
    assert "config/consul-services.json" not in [s["file"] for s in warned.document["sources"]]


def test_port_registry_actual_is_regenerated_and_its_original_archived(tree):
    _write(tree, "config/port-registry-actual.yaml", "core_services:\n  web: 10080\n  db: 9999\n")
    plan = S.build_registry(str(tree))
    assert [(a["path"], a["archive"], a["remove"]) for a in plan.archive] == [
        ("config/port-registry-actual.yaml", "config/archive/port-registry-actual.yaml", False)]
    assert plan.actual_text.startswith(S.ACTUAL_MARKER)
    regenerated = yaml.safe_load(plan.actual_text)
    assert regenerated["core"] == {"db": 10000, "web": 10080}
    assert regenerated["other"]["sidecar"] == {"port_1": 10010, "port_1_udp": 10010}
    assert any(c["kind"] == "registry_port" and c["registry"] == 9999 for c in plan.document["conflicts"])
    # After the write, the generated file is not a source; the archived original is, under its name.
    _write(tree, "config/archive/port-registry-actual.yaml", "core_services:\n  web: 10080\n  db: 9999\n")
    _write(tree, "config/port-registry-actual.yaml", plan.actual_text)
    again = S.build_registry(str(tree))
    assert again.text == plan.text and again.archive == []
    assert "config/archive/port-registry-actual.yaml" in again.input_files
    off = S.build_registry(str(tree), regenerate_actual=False)
    assert off.actual_text is None and off.archive == []


def test_mesh_files_archived_and_still_read(tree):
    _write(tree, "config/service-mesh.json", '{"mesh": {"enabled": true}}\n')
    plan = S.build_registry(str(tree), archive_mesh=True)
    assert sorted((a["path"], a["archive"], a["remove"]) for a in plan.archive) == [
        ("config/consul-services-config.json", "config/archive/consul-services-config.json", True),
        ("config/service-mesh.json", "config/archive/service-mesh.json", True)]
    os.makedirs(os.path.join(str(tree), "config/archive"))
    for a in plan.archive:
        shutil.move(os.path.join(str(tree), a["path"]), os.path.join(str(tree), a["archive"]))
    again = S.build_registry(str(tree), archive_mesh=True)
    assert again.text == plan.text and again.archive == []


def test_symlinked_and_non_compose_files(tree):
    os.symlink("docker-compose.yml", os.path.join(str(tree), "docker-compose.override.yml"))
    _write(tree, "config/docker-compose.yml", "docker/docker-compose.yml")
    _write(tree, "backups/run/docker-compose.yml", "services:\n  ghost:\n    image: x\n")
    plan = S.build_registry(str(tree), exclude_paths=(os.path.join(str(tree), "backups"),),
                            compose_exclude=[r"^stacks/"])
    assert {"path": "docker-compose.override.yml", "reason": "symlink to docker-compose.yml, read there"} in plan.skipped
    reasons = dict((s["path"], s["reason"]) for s in plan.skipped)
    assert "symlink stored as a text file" in reasons["config/docker-compose.yml"]
    assert reasons["stacks/docker-compose.extra.yml"] == "excluded by compose_exclude"
    names = [n for g in plan.document["groups"].values() for n in g]
    assert "ghost" not in names and "admin" not in names


def test_env_file_next_to_compose_sets_port_variables(tmp_path):
    root = tmp_path / "r"
    _write(root, "docker/docker-compose.yml", 'services:\n  api:\n    ports: ["${API_PORT:-10010}:8000"]\n')
    _write(root, "docker/.env", "API_PORT=10444\nDB_PASSWORD=never-shown\n")
    plan = S.build_registry(str(root))
    assert plan.document["groups"]["other"]["api"]["port"] == 10444
    assert "never-shown" not in plan.text


# -- the real corpus ----------------------------------------------------------------------------
@needs_corpus
def test_corpus_registry_readers():
    def load(rel):
        with open(os.path.join(CORPUS, rel)) as f:
            text = f.read()
        return S.load_json(rel, text) if rel.endswith(".json") else S.load_yaml(rel, text, duplicates="warn")

    doc, warns = load("config/port-registry.yaml")
    # The mis-indented "system:" range repeats three keys of "integrations".
    assert warns == ["config/port-registry.yaml:32:5: duplicate key 'range': the first value is kept",
                     "config/port-registry.yaml:33:5: duplicate key 'description': the first value is kept",
                     "config/port-registry.yaml:34:5: duplicate key 'reserved_for': the first value is kept"]
    entries = S.read_port_registry("config/port-registry.yaml", doc)
    assert len(entries) == 136
    qdrant = [e for e in entries if e["name"] == "qdrant"]
    assert [(e["key"], e["claims"][0]["port"], e["claims"][1]["port"]) for e in qdrant] == [
        ("infrastructure.10101", 10101, 6333), ("infrastructure.10102", 10102, 6334)]
    assert "system-architect" in [e["name"] for e in entries]  # "service:  system-architect" stripped

    doc, warns = load("config/port-registry-actual.yaml")
    actual = S.read_port_registry_actual("config/port-registry-actual.yaml", doc)
    assert [e["name"] for e in actual] == ["backend", "frontend", "postgres", "redis", "ollama", "qdrant",
                                           "prometheus", "grafana"]
    assert [(c["label"], c["port"]) for c in actual[5]["claims"]] == [("http", 10101), ("grpc", 10102)]

    doc, dummy = load("config/consul-services.json")
    consul = S.read_consul("consul_services", "config/consul-services.json", doc)
    assert len(consul) == 16 and consul[9]["name"] == "postgresql-db" and consul[9]["claims"][0]["port"] == 5432
    doc, dummy = load("config/consul-services-config.json")
    config = S.read_consul("consul_services_config", "config/consul-services-config.json", doc)
    assert len(config) == 11
    assert config[10]["health"]["endpoint"] == "/api/tags" and config[6]["health"]["type"] == "tcp"

    doc, dummy = load("config/services.yaml")
    services = S.read_services_yaml("config/services.yaml", doc)
    assert len(services) == 22
    chroma = services[0]
    assert (chroma["name"], chroma["host"], chroma["claims"][0]["port"], chroma["health"]["endpoint"]) == (
        "chromadb", "chromadb", 8000, "/api/v1/heartbeat")
    assert [e["enabled"] for e in services if e["name"] == "jax"] == [False]


@needs_corpus
def test_corpus_compose_files():
    with open(os.path.join(CORPUS, "docker/docker-compose.yml")) as f:
        doc, dummy = S.load_yaml("docker/docker-compose.yml", f.read())
    services, reason = S.read_compose("docker/docker-compose.yml", doc)
    assert reason is None and len(services) == 28
    by = dict((s["name"], s) for s in services)
    assert [S.format_mapping(m) for m in by["backend"]["ports"]] == ["10010:8000"]
    assert [S.format_mapping(m) for m in by["jaeger"]["ports"]] == [
        "10210:16686", "10211:14268", "10212:14250", "10213:9411", "10214:4317", "10215:4318"]
    # A Python socket connect: a TCP check of the container port.
    assert (by["backend"]["healthcheck"]["type"], by["backend"]["healthcheck"]["port"]) == ("tcp", 8000)
    assert by["ollama-integration"]["healthcheck"]["endpoint"] == "/health"
    with open(os.path.join(CORPUS, "docker/docker-compose.optimized.yml")) as f:
        text = f.read()
    with pytest.raises(ConsolidationError) as exc:
        S.load_yaml("docker/docker-compose.optimized.yml", text)
    assert exc.value.location() == "docker/docker-compose.optimized.yml:146:1"  # "EOF < /dev/null"
    with open(os.path.join(CORPUS, "docker/docker-compose.mcp-network.yml")) as f:
        doc, dummy = S.load_yaml("docker/docker-compose.mcp-network.yml", f.read())
    lb = [s for s in S.read_compose("docker/docker-compose.mcp-network.yml", doc)[0] if s["name"] == "mcp-load-balancer"][0]
    assert [S.format_mapping(m) for m in lb["ports"]] == ["11099:8080", "11100-11199:11100-11199"]


@needs_corpus
def test_corpus_registry(tmp_path):
    blocked = S.build_registry(CORPUS)
    assert blocked.document is None
    assert [(e["path"], e["line"], e["column"]) for e in blocked.invalid] == [("docker/docker-compose.optimized.yml", 146, 1)]
    plan = S.build_registry(CORPUS, on_invalid="warn")
    st = plan.stats
    assert (st["registry_files"], st["compose_files"], st["services"]) == (5, 20, 61)
    assert st["conflicts_per_kind"] == {"compose_ports": 5, "host_port": 10, "registry_port": 14}
    assert (st["phantoms"], st["unregistered"], st["unresolved_ports"]) == (134, 33, 0)
    host_ports = [(c["port"], c["services"]) for c in plan.document["conflicts"] if c["kind"] == "host_port"]
    assert (10204, ["blackbox-exporter", "mcp-monitoring-server"]) in host_ports
    assert (11110, ["hardware-resource-optimizer", "mcp-load-balancer"]) in host_ports
    phantoms = plan.document["phantoms"]
    assert phantoms["postgres-secure"]["port_in_use_by"] == ["postgres"]
    assert phantoms["backend-api"]["suggestion"] == "backend"
    # consul-services-config.json addresses containers: sutazai-backend is the backend service.
    backend = plan.document["groups"]["core"]["backend"]
    assert {"file": "config/consul-services-config.json", "key": "services[0]", "matched_by": "container"} in backend["sources"]
    assert backend["health_check"]["url"] == "http://127.0.0.1:10010/health"
    assert {"path": "config/docker-compose.yml",
            "reason": "not a compose document: a str (looks like a symlink stored as a text file pointing at "
                      "docker/docker-compose.yml)"} in plan.skipped
    assert S.build_registry(CORPUS, on_invalid="warn").text == plan.text


def test_demo_tree_shows_every_oddity(tmp_path):
    root = tmp_path / "demo"
    write_demo(str(root))
    plan = S.build_registry(str(root))
    doc = plan.document
    kinds = sorted(set(c["kind"] for c in doc["conflicts"]))
    assert kinds == ["health_check", "host_port", "registry_port"]
    assert [c["services"] for c in doc["conflicts"] if c["kind"] == "host_port"] == [["alertmanager", "grafana"]]
    assert {"kong", "backend-api", "consul-server", "letta"} <= set(doc["phantoms"])
    assert "neo4j" in doc["unregistered"]
    assert [u["service"] for u in doc["unresolved_ports"]] == ["promtail"]
    assert doc["groups"]["monitoring"]["loki"]["port"] == 10202
    assert [a["path"] for a in plan.archive] == ["config/port-registry-actual.yaml"]
    meshed = S.build_registry(str(root), archive_mesh=True)
    assert sorted(a["path"] for a in meshed.archive) == [
        "config/consul-services-config.json", "config/consul-services.json", "config/port-registry-actual.yaml",
        "config/service-mesh.json"]
