# -*- coding: utf-8 -*-
# Copyright (c) 2026 sutazai.consolidation contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Demo-platform files of the dockerfiles phase (see ``demo.tree.demo_files``).

What the dockerfiles phase finds in the demo tree (besides ``backend/Dockerfile`` and
``frontend/Dockerfile`` of the requirements demo, which stay as they are):

* a family of agent Dockerfiles that differ only in build-time values (LABEL title, ENV, EXPOSE):
  ``agents/ai-agent-orchestrator/Dockerfile`` (Compose mapping form) and
  ``agents/hardware-resource-optimizer/Dockerfile`` (string form ``build: ../agents/...``) plus
  its exact copy ``docker/agents/hardware-resource-optimizer/Dockerfile`` -> one template
  ``docker/templates/agents-python-3.11-slim.Dockerfile``, ``build.args`` for both services;
* a member no Compose build uses (``agents/task-assignment-coordinator/Dockerfile``: no build
  args possible) and one a make file names (``agents/ollama-integration/Dockerfile``, named by
  ``docker/agents.mk``: kept, "rewrite by hand");
* an exact pair ``monitoring/Dockerfile`` / ``docker/monitoring/Dockerfile`` (comments differ)
  -> ``docker/templates/monitoring.Dockerfile``;
* a heredoc file (``docker/tools/Dockerfile.motd``) and one it cannot parse
  (``docker/legacy/Dockerfile.broken``): listed, left alone;
* an old copy under ``docker/archive/`` that is never read (archives are excluded).

The Compose file ``docker/docker-compose.build.yml`` only adds ``build:`` to services of the main
Compose file (no new service names). No Dockerfile here copies or installs a requirements file.
Content is fixed; ``scale`` adds nothing.
"""

from __future__ import annotations

_AGENT = """# {name}
FROM python:3.11-slim
LABEL org.opencontainers.image.title="{name}" org.opencontainers.image.vendor="SutazAI"
WORKDIR /app
RUN pip install --no-cache-dir fastapi==0.115.6 uvicorn==0.32.1
COPY app.py .
ENV AGENT_NAME={name} AGENT_PORT={port} PYTHONUNBUFFERED=1
EXPOSE {port}
HEALTHCHECK --interval=30s --timeout=5s CMD curl -fsS http://localhost:${{AGENT_PORT}}/health || exit 1
CMD ["python", "app.py"]
"""

_APP = '''"""{name}: a minimal agent process (demo)."""
import os

print("agent %s on port %s" % (os.environ.get("AGENT_NAME"), os.environ.get("AGENT_PORT")))
'''

_MONITORING = """FROM prom/prometheus:v2.53.0
# Scrape configuration of the platform
COPY prometheus.yml /etc/prometheus/prometheus.yml
EXPOSE 9090
"""

_PROMETHEUS = """global:
  scrape_interval: 15s
scrape_configs:
  - job_name: backend
    static_configs:
      - targets: ["backend:8000"]
"""

_HEREDOC = """# syntax=docker/dockerfile:1.4
FROM debian:bookworm-slim
RUN <<EOF
set -e
echo "SutazAI tools image" > /etc/motd
EOF
CMD ["cat", "/etc/motd"]
"""

_BROKEN = """FROM python:3.11-slim
WORKDIR /app
  && pip install flask
CMD ["python", "app.py"]
"""

_COMPOSE_BUILD = """# Image builds of the demo agents (standalone: docker compose -f docker/docker-compose.build.yml build).
# Paths are relative to this file's folder.
services:
  ai-agent-orchestrator:
    build:
      context: ../agents/ai-agent-orchestrator
      dockerfile: Dockerfile
    image: sutazai/agent-orchestrator:latest
  hardware-resource-optimizer:
    build: ../agents/hardware-resource-optimizer   # string form
    image: sutazai/hardware-optimizer:latest
"""

_MAKE = """# Build the Ollama integration agent by hand (names its Dockerfile: the phase keeps it).
ollama-agent:
\tdocker build -f agents/ollama-integration/Dockerfile -t sutazai/ollama-integration agents/ollama-integration
"""

_AGENTS = [("ai-agent-orchestrator", 8589), ("hardware-resource-optimizer", 8080),
           ("task-assignment-coordinator", 8551), ("ollama-integration", 8090)]


def add_demo_files(files, links, scale):
    """Add this phase's demo files to ``files`` ({rel: bytes}) and ``links`` ({rel: target}).

    :param scale: int >= 1 (see ``demo.tree.demo_files``); the Dockerfile demo does not grow with it.
    """
    text = {}
    for name, port in _AGENTS:
        text["agents/%s/Dockerfile" % name] = _AGENT.format(name=name, port=port)
        text["agents/%s/app.py" % name] = _APP.format(name=name)
    text["docker/agents/hardware-resource-optimizer/Dockerfile"] = _AGENT.format(
        name="hardware-resource-optimizer", port=8080).replace("# hardware-resource-optimizer", "# copy kept for docker/")
    text["docker/agents/hardware-resource-optimizer/app.py"] = _APP.format(name="hardware-resource-optimizer")
    text["monitoring/Dockerfile"] = _MONITORING
    text["monitoring/prometheus.yml"] = _PROMETHEUS
    text["docker/monitoring/Dockerfile"] = "# Prometheus image (copy)\n" + _MONITORING.replace("# Scrape configuration of the platform\n", "")
    text["docker/monitoring/prometheus.yml"] = _PROMETHEUS
    text["docker/tools/Dockerfile.motd"] = _HEREDOC
    text["docker/legacy/Dockerfile.broken"] = _BROKEN
    text["docker/docker-compose.build.yml"] = _COMPOSE_BUILD
    text["docker/agents.mk"] = _MAKE
    text["docker/archive/agents/ai-agent-orchestrator/Dockerfile"] = _AGENT.format(
        name="ai-agent-orchestrator", port=8589)
    for rel, body in text.items():
        files[rel] = body.encode("utf-8")
    return None
