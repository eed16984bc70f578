# -*- coding: utf-8 -*-
# Copyright (c) 2026 sutazai.consolidation contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The embedded demo platform: a small SutazAI-like tree with the real tree's oddities.

It is the default target of ``make demo`` and of the Molecule scenario. Content is fixed
(no clock, no randomness): the same ``scale`` always gives the same bytes. What it holds
for the agents phase:

* all four JSON registry shapes, with overlapping agents and conflicting fields, a
  stringified Python ``capabilities`` list, literal ``\\n`` in descriptions, a duplicate
  JSON key, ``claude_``/``container_`` prefixed ids, ``"---"`` descriptions, an agent
  marked experimental;
* ``.claude/agents`` markdown: valid YAML front matter, front matter that is not valid YAML
  (unquoted ``: ``), front matter in a leading fence, an unterminated one, nested category
  folders, README/MIGRATION_SUMMARY files without front matter, a symlinked agent file;
* ``backend/app/core/config.py`` with a module-level ``AGENT_REGISTRY_PATH``;
* a compose file, a symlinked compose file, an ``.env.example``.

``scale`` (int >= 1) adds ``(scale - 1) * 40`` generated agents across the sources, for
benchmarks.
"""

from __future__ import annotations

import json
import os

from ansible_collections.sutazai.consolidation.plugins.module_utils.demo import (
    base_agent as demo_base_agent, config as demo_config, dockerfiles as demo_dockerfiles, env as demo_env,
    requirements as demo_requirements, scripts as demo_scripts, services as demo_services, terms as demo_terms)
from ansible_collections.sutazai.consolidation.plugins.module_utils._fileio import atomic_write
from ansible_collections.sutazai.consolidation.plugins.module_utils._tree import safe_join

_MD_VALID = """---
name: {name}
description: "{desc}"
model: sonnet
tools: Read, Edit, Bash, Grep
color: blue
---

# {title}

You are the {name} agent of SutazAI.
"""

_MD_INVALID_YAML = """---
name: {name}
description: Use this agent when: you need {desc}; it handles: planning, routing
model: opus
proactive_triggers:
  - {name}_needed
  - {name}_requested
tools: Read, Write, Task
---

## Rules
Follow the codebase rules.
"""

_MD_FENCED = """```yaml
---
name: {name}
description: {desc}
model: sonnet
tools: Read, Grep
---
```

# {title}
"""

_MD_UNTERMINATED = """---
name: {name}
description: {desc}
model: sonnet
proactive_triggers:

{name}_pipeline_needed
{name}_quality_checks
tools: Read, Edit, Bash
color: green


MANDATORY RULE ENFORCEMENT SYSTEM
Load and validate /opt/sutazaiapp/CLAUDE.md before any action.
"""

_README = """# SutazAI agents

This folder holds the Claude agent definitions. Files here have no front matter.
"""

_MIGRATION = """# Claude Flow Commands to Agent System Migration Summary

Moved 12 commands to agents: see the table below.
"""

_CONFIG_PY = '''"""Backend settings."""
import os

# Where the agent definitions live.
AGENT_REGISTRY_PATH = "/opt/sutazaiapp/agents/agent_registry.json"  # legacy registry
OLLAMA_URL = os.environ.get("OLLAMA_URL", "http://ollama:11434")


def registry_path():
    return AGENT_REGISTRY_PATH
'''

_COMPOSE = """# SutazAI demo platform
x-common-env: &common-env
  TZ: UTC
  LOG_LEVEL: INFO

services:
  postgres:
    image: postgres:16.3-alpine
    env_file: .env
    environment:
      POSTGRES_USER: sutazai
      POSTGRES_PASSWORD: Demo-Pg-Pass-7f3a91c2  # literal secret (moved by the secrets phase)
      POSTGRES_DB: sutazai
    ports:
      - "10000:5432"
    healthcheck:
      test: ["CMD-SHELL", "pg_isready -U sutazai"]
      interval: 10s
  redis:
    image: redis:7.2-alpine
    command: ["redis-server", "--requirepass", "${REDIS_PASSWORD}"]
    ports:
      - "10001:6379"
    healthcheck:
      test: ["CMD", "redis-cli", "ping"]
  neo4j:
    image: neo4j:5.13-community
    environment:
      NEO4J_AUTH: neo4j/Zq8vN2xLw4Rt6Yp0Ks3M
    ports:
      - "10002:7474"
      - "10003:7687"
  backend:
    image: sutazai/backend:latest
    env_file:
      - .env
      - config/environments/backend.env
    environment:
      <<: *common-env
      AGENT_REGISTRY: /opt/sutazaiapp/config/agents/master_registry.json
      DATABASE_URL: postgresql://sutazai:${POSTGRES_PASSWORD}@postgres:5432/sutazai
      JWT_SECRET_KEY: "b7e1c9a04f2d4e8a9c3f5d7b1a6e2c40"
      OLLAMA_URL: http://ollama:11434
    ports:
      - "10010:8000"
    depends_on: [postgres, redis]
    healthcheck:
      test: ["CMD", "curl", "-f", "http://localhost:8000/health"]
  frontend:
    image: sutazai/frontend:latest
    env_file: config/environments/frontend.env
    environment:
      - BACKEND_URL=http://backend:8000
      - STREAMLIT_API_TOKEN=st-9Hq2Lm7Xc4Vb8Nz1Kd6Pw3Rt
    ports:
      - "10011:8501"
  ollama:
    image: ollama/ollama:latest
    ports:
      - "10104:11434"
  chromadb:
    image: chromadb/chroma:0.5.0
    environment:
      CHROMA_SERVER_AUTH_CREDENTIALS: ${CHROMA_TOKEN}
    ports:
      - "10100:8000"
  qdrant:
    image: qdrant/qdrant:v1.9.2
    ports:
      - "10101:6333"
      - "10102:6334"
  prometheus:
    image: prom/prometheus:v2.53.0
    ports:
      - "10200:9090"
  grafana:
    image: grafana/grafana:11.1.0
    environment:
      GF_SECURITY_ADMIN_PASSWORD: Graf-Admin-4c8e2a
      GF_USERS_ALLOW_SIGN_UP: "false"
    ports:
      - "10201:3000"
  ai-agent-orchestrator:
    image: sutazai/agent-orchestrator:latest
    environment:
      <<: *common-env
      AGENT_ID: ai-agent-orchestrator
    ports:
      - "8589:8589"
  hardware-resource-optimizer:
    image: sutazai/hardware-optimizer:latest
    ports:
      - "11110:8080"
"""

_ENV_EXAMPLE = """# Copy to .env and fill in.
POSTGRES_USER=sutazai
POSTGRES_PASSWORD=change-me
OLLAMA_URL=http://ollama:11434
"""

_TITLES = ["ai-agent-orchestrator", "backend-api-architect", "data-pipeline-engineer", "sql-pro",
           "deployment-engineer", "security-auditor", "code-reviewer", "ollama-integration-specialist",
           "hardware-resource-optimizer", "qa-team-lead", "system-architect", "document-knowledge-manager"]


def _json(doc):
    return (json.dumps(doc, indent=2, sort_keys=False) + "\n").encode("utf-8")


def _extra_names(scale):
    return ["generated-agent-%03d" % i for i in range((max(scale, 1) - 1) * 40)]


def demo_files(scale=1):
    """Return the demo tree as ``{rel: bytes}`` for files and ``{rel: target}`` for symlinks.

    :param scale: int >= 1, see module doc.
    :returns: ``(files, symlinks)``, two dicts keyed by path relative to the root.
    """
    files = {}
    links = {}
    extra = _extra_names(scale)

    files["config/agents/essential_agents.json"] = _json({"agents": [
        {"id": "general-assistant", "name": "General AI Assistant", "type": "general", "model": "tinyllama:latest",
         "capabilities": ["conversation", "analysis", "planning"],
         "system_prompt": "You are a helpful AI assistant."},
        {"id": "code-assistant", "name": "Code Assistant", "type": "code", "model": "tinyllama:latest",
         "capabilities": ["code_generation", "debugging"]},
        {"id": "ai-agent-orchestrator", "name": "AI Agent Orchestrator", "type": "orchestrator",
         "model": "tinyllama:latest", "capabilities": ["orchestration"]},
    ]})

    registry = {}
    for i, name in enumerate(_TITLES[:8] + extra[: len(extra) // 2]):
        registry[name] = {
            "name": name,
            "description": "%s agent\\n\\nUse this agent when you need:\\n- %s work" % (name, name),
            "capabilities": "['analysis', 'automation']" if i % 2 else ["analysis", "monitoring"],
            "config_path": "configs/%s_universal.json" % name,
        }
    registry["container_hardware-resource-optimizer"] = {
        "name": "container_hardware-resource-optimizer", "description": "Hardware optimizer (container)",
        "capabilities": ["resource_optimization"]}
    text = json.dumps({"agents": registry, "version": "1.0", "provider": "universal"}, indent=2)
    # A duplicate key, as in the real agents/agent_registry.json.
    text = text.replace('"version": "1.0"', '"version": "0.9",\n  "version": "1.0"', 1)
    files["agents/agent_registry.json"] = (text + "\n").encode("utf-8")

    files["config/universal_agents.json"] = _json({
        "redis": {"host": "redis", "port": 6379},
        "ollama": {"base_url": "http://ollama:11434", "default_model": "tinyllama"},
        "initial_agents": [
            {"id": "orchestrator-001", "type": "orchestrator", "name": "Master Orchestrator",
             "description": "Primary orchestration agent",
             "config": {"model": "tinyllama", "max_concurrent_tasks": 10,
                        "capabilities": ["orchestration", "reasoning"]}},
            {"id": "quantum-planner", "type": "planner", "name": "Quantum Planner", "status": "experimental",
             "description": "Experimental planner", "config": {"model": "tinyllama", "capabilities": ["planning"]}},
        ],
        "logging": {"level": "INFO"},
    })

    unified = {}
    for name in _TITLES + extra:
        unified["claude_" + name] = {
            "id": "claude_" + name, "name": name, "type": "claude", "description": "---",
            "capabilities": ["deployment"], "priority": 5,
            "deployment_info": {"method": "task_tool", "agent_file": "/opt/sutazaiapp/.claude/agents/%s.md" % name},
            "metadata": {},
        }
    files["config/agents/unified_agent_registry.json"] = _json(
        {"version": "2.0", "last_updated": "/opt/sutazaiapp/config/agents", "agents": unified})

    layouts = [_MD_VALID, _MD_INVALID_YAML, _MD_FENCED, _MD_VALID]
    for i, name in enumerate(_TITLES + extra):
        layout = layouts[i % len(layouts)]
        if name == "data-pipeline-engineer":
            layout = _MD_UNTERMINATED
        desc = "Handles %s tasks for the SutazAI platform" % name.replace("-", " ")
        files[".claude/agents/%s.md" % name] = layout.format(
            name=name, desc=desc, title=name.replace("-", " ").title()).encode("utf-8")
    for folder, names in (("optimization", ["load-balancer", "topology-optimizer"]),
                          ("development/backend", ["dev-backend-api"]),
                          ("testing/unit", ["tdd-london-swarm"])):
        for name in names:
            files[".claude/agents/%s/%s.md" % (folder, name)] = _MD_VALID.format(
                name=name, desc="%s specialist" % name, title=name).encode("utf-8")
    files[".claude/agents/README.md"] = _README.encode("utf-8")
    files[".claude/agents/MIGRATION_SUMMARY.md"] = _MIGRATION.encode("utf-8")
    files[".claude/agents/optimization/README.md"] = b"# Performance Optimization Agents\n"
    links[".claude/agents/core/sql-pro.md"] = "../sql-pro.md"

    files["backend/app/core/config.py"] = _CONFIG_PY.encode("utf-8")
    files["docker-compose.yml"] = _COMPOSE.encode("utf-8")
    links["docker-compose.override.yml"] = "docker-compose.yml"
    files[".env.example"] = _ENV_EXAMPLE.encode("utf-8")
    # Files of the later phases, one generator per phase, in the play's order.
    for add in (demo_env.add_demo_files, demo_services.add_demo_files, demo_config.add_demo_files,
                demo_requirements.add_demo_files, demo_dockerfiles.add_demo_files, demo_scripts.add_demo_files,
                demo_terms.add_demo_files, demo_base_agent.add_demo_files):
        add(files, links, scale)
    return files, links


def write_demo(dest, scale=1, check_mode=False):
    """Write the demo tree under ``dest``; files and symlinks already as expected are left alone.

    :param dest: target folder (created when absent).
    :param scale: see :func:`demo_files`.
    :param check_mode: when true, only compute what would be written.
    :returns: sorted list of relative paths written (or that would be).
    """
    files, links = demo_files(scale)
    written = []
    entries = [(rel, files[rel], None) for rel in files] + [(rel, None, links[rel]) for rel in links]
    for rel, data, target in sorted(entries, key=lambda e: e[0]):
        path = safe_join(dest, rel)
        if target is None and os.path.isfile(path) and not os.path.islink(path):
            with open(path, "rb") as f:
                if f.read() == data:
                    continue
        if target is not None and os.path.islink(path) and os.readlink(path) == target:
            continue
        written.append(rel)
        if check_mode:
            continue
        os.makedirs(os.path.dirname(path), exist_ok=True)
        if os.path.islink(path) or (target is not None and os.path.lexists(path)):
            os.unlink(path)
        if target is None:
            atomic_write(path, data, mode=0o644)
        else:
            os.symlink(target, path)
    return written
