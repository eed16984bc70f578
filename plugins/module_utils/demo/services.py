# -*- coding: utf-8 -*-
# Copyright (c) 2026 sutazai.consolidation contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Demo-platform files of the services phase (see ``demo.tree.demo_files``).

The registries come in the real tree's shapes, with its oddities:

* ``config/port-registry.yaml`` -- sections keyed by host port, a mis-indented ``system:``
  range that duplicates keys (a warning), a phantom (``kong``, in no compose file), a
  container-port disagreement (frontend 3000, compose 8501) and a host-port disagreement
  (ai-agent-orchestrator "migrated" to 11000, compose still publishes 8589);
* ``config/port-registry-actual.yaml`` -- groups of ``name: port`` and ``name: {http, grpc}``,
  ``disabled: true`` groups, scalar metadata, and an ollama port that compose does not publish;
* ``config/consul-services.json`` -- registrations under other names (``backend-api``,
  ``redis-cache``: phantoms with a suggested compose service) and a ``consul-server`` phantom;
* ``config/consul-services-config.json`` -- definitions addressed by container name
  (``sutazai-backend``) with HTTP and TCP checks, one endpoint differing from compose;
* ``config/services.yaml`` -- nested groups with ``config.host/port``, ``base_url`` and
  ``health_check.endpoint``, a disabled phantom;
* ``config/service-mesh.json`` -- a mesh config for ``archive_mesh``;
* ``docker/docker-compose.monitoring.yml`` -- a second compose file: the same
  ``prometheus`` as the main file (one service, no conflict), ``alertmanager`` on host port
  10201 which grafana already publishes (a host-port conflict), long-syntax ports with a
  ``${VAR:-default}``, a port whose variable has no default (unresolved), a ``/udp`` port,
  and every healthcheck form (CMD, CMD-SHELL, string, disable). ``neo4j`` and the
  monitoring extras are in no registry (unregistered).
"""

from __future__ import annotations

import json

_PORT_REGISTRY = """# SUTAZAIAPP Port Registry (demo)
# Last Updated: 2025-08-05

port_ranges:
  infrastructure:
    range: [10000, 10199]
    description: "Core infrastructure services"
  integrations:
    range: [10300, 10499]
    description: "External tools and integrations"
    system:
    range: [10500, 10599]
    description: "system components"

infrastructure:
  10000:
    service: postgres
    container: sutazai-postgres
    description: "Main PostgreSQL database"
    internal_port: 5432
  10001:
    service: redis
    container: sutazai-redis
    internal_port: 6379
  10005:
    service: kong
    container: sutazaiapp-kong
    description: "Kong API Gateway - Proxy port"
    internal_port: 8000
  10010:
    service: backend
    container: sutazai-backend-secure
    description: "Main backend API"
    internal_port: 8000
  10011:
    service: frontend
    container: sutazai-frontend
    description: "Main frontend application"
    internal_port: 3000

monitoring:
  10200:
    service: prometheus
    container: sutazai-prometheus
    internal_port: 9090
  10201:
    service: grafana
    container: sutazai-grafana
    internal_port: 3000

agents:
  11000:
    service: ai-agent-orchestrator
    container: sutazai-ai-agent-orchestrator
    internal_port: 8589
    priority: critical
  11110:
    service: hardware-resource-optimizer
    container: sutazai-hardware-resource-optimizer
    internal_port: 8080
    priority: critical

migration_required:
  8589:
    migrated_to: "11000"
    status: "Completed 2025-08-16"

known_conflicts: []
"""

_PORT_REGISTRY_ACTUAL = """# SutazAI Actual Port Registry
# Based on real running containers (  stack)
# Updated: 2025-08-08

core_services:
  backend: 10010
  frontend: 10011
  postgres: 10000
  redis: 10001
  ollama: 11434  # TinyLlama model

vector_databases:
  qdrant:
    http: 10101
    grpc: 10102

service_mesh:
  disabled: true

monitoring:
  prometheus: 10200
  grafana: 10201

total_containers: 8
model: tinyllama
"""


def _consul_services():
    rows = [
        ("backend-api", "172.20.0.6", 8000, ["api", "backend", "core"]),
        ("consul-server", "172.29.0.9", 8500, ["consul", "discovery"]),
        ("frontend", "172.20.0.2", 8501, ["ui", "frontend", "streamlit"]),
        ("ollama-llm", "172.20.0.7172.29.0.10", 11434, ["llm", "ollama"]),
        ("redis-cache", "172.20.0.17", 6379, ["cache", "redis"]),
    ]
    services = [{"name": n, "id": "%s-%s" % (n, a.replace(".", "-")), "address": a, "port": p, "tags": t}
                for n, a, p, t in rows]
    # The real file's layout: the list items are not indented under "services".
    body = ",\n".join(json.dumps(s, indent=4) for s in services)
    return '{\n  "services": [\n%s\n  ]\n}' % body


_CONSUL_CONFIG = {"services": [
    {"id": "backend-api", "name": "backend-api", "tags": ["api", "backend", "fastapi"], "address": "sutazai-backend",
     "port": 8000, "check": {"id": "backend-health", "http": "http://sutazai-backend:8000/api/v1/health",
                             "interval": "10s", "timeout": "3s"}},
    {"id": "postgresql-db", "name": "postgresql", "tags": ["database", "postgres"], "address": "sutazai-postgres",
     "port": 5432, "check": {"id": "postgres-tcp", "tcp": "sutazai-postgres:5432", "interval": "30s"}},
    {"id": "qdrant-vectordb", "name": "qdrant", "tags": ["vectordb", "qdrant"], "address": "sutazai-qdrant",
     "port": 6333, "check": {"id": "qdrant-health", "http": "http://sutazai-qdrant:6333/healthz", "interval": "10s"}},
    {"id": "ollama-llm", "name": "ollama", "tags": ["llm", "tinyllama"], "address": "sutazai-ollama",
     "port": 11434, "check": {"id": "ollama-health", "http": "http://sutazai-ollama:11434/api/tags", "interval": "30s"}},
    {"id": "hardware-optimizer", "name": "hardware-optimizer", "tags": ["agent", "hardware"],
     "address": "sutazai-hardware-resource-optimizer", "port": 8080,
     "check": {"id": "hardware-health", "http": "http://sutazai-hardware-resource-optimizer:8080/health"}},
]}

_SERVICES_YAML = """# SutazAI Unified Service Registry Configuration (demo)
# This file defines all external AI services and their configurations

services:
  # Vector Databases
  vector_databases:
    chromadb:
      enabled: true
      adapter: "vector_db.chromadb_adapter.ChromaDBAdapter"
      config:
        host: "chromadb"
        port: 8000
        collection_name: "sutazai_vectors"
      health_check:
        endpoint: "/api/v1/heartbeat"
        interval: 30

    faiss:
      enabled: true
      adapter: "vector_db.faiss_adapter.FAISSAdapter"
      config:
        index_path: "/data/faiss/index.faiss"

    qdrant:
      enabled: true
      config:
        host: "qdrant"
        port: 6333
      health_check:
        endpoint: "/collections"

  # Agent Systems
  agent_systems:
    letta:
      enabled: false
      config:
        api_endpoint: "http://letta:8283"
      health_check:
        endpoint: "/api/health"

# Service Discovery Configuration
service_discovery:
  consul:
    enabled: true
    host: "consul"
    port: 8500
"""

_SERVICE_MESH = {
    "mesh": {"enabled": True, "provider": "consul-connect", "mtls": "strict"},
    "services": [{"name": "backend", "upstreams": [{"destination": "postgres", "local_port": 15432}]},
                 {"name": "frontend", "upstreams": [{"destination": "backend", "local_port": 18000}]}],
}

_COMPOSE_MONITORING = """# Monitoring stack (demo): docker compose -f docker-compose.yml -f docker/docker-compose.monitoring.yml
services:
  prometheus:
    image: prom/prometheus:v2.53.0
    ports:
      - "10200:9090"
    healthcheck:
      test: ["CMD", "wget", "--no-verbose", "--tries=1", "--spider", "http://localhost:9090/-/healthy"]
  alertmanager:
    image: prom/alertmanager:v0.27.0
    ports:
      - "10201:9093"    # clashes with grafana's 10201 in the main compose file
    healthcheck:
      test: wget --spider -q http://localhost:9093/-/ready || exit 1
  loki:
    image: grafana/loki:3.1.1
    ports:
      - target: 3100
        published: "${LOKI_PORT:-10202}"
        protocol: tcp
        name: http
    healthcheck:
      test: ["CMD-SHELL", "wget -q -O- http://localhost:3100/ready"]
  node-exporter:
    image: prom/node-exporter:v1.8.2
    ports:
      - "127.0.0.1:10205:9100"
      - "10206:9100/udp"
    healthcheck:
      disable: true
  promtail:
    image: grafana/promtail:3.1.1
    ports:
      - "${PROMTAIL_PORT}:9080"
    healthcheck:
      test: ["NONE"]
"""


def add_demo_files(files, links, scale=1):
    """Add this phase's demo files to ``files`` (rel -> bytes) and ``links`` (rel -> target).

    :param scale: int >= 1, as in ``demo.tree.demo_files`` (the services files do not grow with it).
    """
    files["config/port-registry.yaml"] = _PORT_REGISTRY.encode("utf-8")
    files["config/port-registry-actual.yaml"] = _PORT_REGISTRY_ACTUAL.encode("utf-8")
    files["config/consul-services.json"] = _consul_services().encode("utf-8")
    files["config/consul-services-config.json"] = (json.dumps(_CONSUL_CONFIG, indent=2) + "\n").encode("utf-8")
    files["config/services.yaml"] = _SERVICES_YAML.encode("utf-8")
    files["config/service-mesh.json"] = (json.dumps(_SERVICE_MESH, indent=2) + "\n").encode("utf-8")
    files["docker/docker-compose.monitoring.yml"] = _COMPOSE_MONITORING.encode("utf-8")
