# -*- coding: utf-8 -*-
# Copyright (c) 2026 sutazai.consolidation contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Demo-platform files of the requirements phase (see ``demo.tree.demo_files``).

Eight requirements files across ``backend/``, ``frontend/``, ``docker/base/``,
``requirements/``, ``scripts/`` and ``agents/``, with the oddities the phase handles: a ``-r``
include, an ``-e`` editable path, compatible specifiers that merge (``pydantic>=2.9,<3`` and
``==2.10.4``; ``fastapi>=0.110,<1.0`` and ``==0.115.6``), environment markers, ``--hash``
options on continuation lines, an index URL with user-info, a ``name @ url`` reference, a
``.in`` file, a line that is not a requirement, a symlinked file, and files that must not be
read (``MANIFEST.in``, a virtualenv, ``node_modules``) whose content would conflict. Two
Dockerfiles copy and install requirements files. No conflict is left unresolved, so the demo
run writes the layout.
"""

from __future__ import annotations

import hashlib


def _demo_hash(label):
    """A fixed, obviously fake sha256 for demo ``--hash`` options."""
    return "sha256:" + hashlib.sha256(("sutazai-demo:" + label).encode("utf-8")).hexdigest()


_BACKEND = """# SutazAI Backend - production requirements
-r ../requirements/requirements-common.txt

# Core web framework
fastapi==0.115.6
uvicorn[standard]==0.32.1           # ASGI server with standard features
pydantic>=2.9,<3
sqlalchemy==2.0.36
redis==5.2.1
psycopg2-binary==2.9.10 ; sys_platform == "linux"
python-jose[cryptography]==3.3.0

# Local SDK, installed editable
-e ./sdk
"""

_COMMON = """# Shared by every SutazAI Python service
requests==2.32.3
python-dotenv>=1.0.0
pyyaml==6.0.2
"""

_FRONTEND = """# SutazAI Frontend - OPTIMIZED Requirements
streamlit==1.40.2                   # Main UI framework
requests==2.32.3                    # Fallback HTTP client
python-dotenv==1.0.1
httpx[http2]==0.27.2
pydantic==2.10.4                    # Data validation
"""

_DOCKER_BASE = """# Base image requirements (hash-checked)
--index-url https://pypi.org/simple
prometheus-client==0.21.1 \\
    --hash={h1} \\
    --hash={h2}
psutil==6.1.1 \\
    --hash={h3}
"""

_DEV = """# Development tools
-r requirements-common.txt
pytest==8.3.4
black==24.10.0
mypy>=1.10 ; python_version >= "3.10"
"""

_PROD_IN = """# pip-tools input for the production image
gunicorn>=22.0
uvicorn[standard]>=0.30
"""

_SCRIPTS = """# MCP automation monitoring
aiohttp==3.11.10
websockets>=12.0
"""

_AGENT = """# AI agent orchestrator
--extra-index-url https://ci-bot:${PIP_TOKEN}@pypi.sutazai.local/simple
fastapi>=0.110,<1.0
ollama==0.4.4
agent-toolkit @ https://downloads.sutazai.local/agent-toolkit-1.2.0.tar.gz
sutazai-utils (internal build) >= 1.0
"""

_BACKEND_DOCKERFILE = """FROM python:3.11-slim
WORKDIR /app
COPY requirements.txt .
RUN pip install --no-cache-dir \\
    -r requirements.txt
COPY . .
CMD ["uvicorn", "app.main:app", "--host", "0.0.0.0", "--port", "8000"]
"""

_FRONTEND_DOCKERFILE = """FROM python:3.11-slim
WORKDIR /app
# Requirements first, for the layer cache
COPY ["requirements_optimized.txt", "/app/"]
RUN pip install --no-cache-dir -r /app/requirements_optimized.txt
COPY . .
"""

_SDK_PYPROJECT = """[project]
name = "sutazai-sdk"
version = "0.1.0"
"""

# Never read: a conflicting pin inside a virtualenv and inside node_modules, and MANIFEST.in.
_VENV_REQUIREMENTS = "streamlit==1.0.0\n"
_NODE_REQUIREMENTS = "fastapi==0.1.0\n"
_MANIFEST = "include requirements.txt\n"


def add_demo_files(files, links, scale=1):
    """Add this phase's demo files to ``files`` (rel -> bytes) and ``links`` (rel -> target).

    :param scale: int >= 1, as in ``demo.tree.demo_files`` (the requirements files do not grow with it).
    """
    text = {
        "backend/requirements.txt": _BACKEND,
        "backend/Dockerfile": _BACKEND_DOCKERFILE,
        "backend/sdk/pyproject.toml": _SDK_PYPROJECT,
        "backend/sdk/MANIFEST.in": _MANIFEST,
        "requirements/requirements-common.txt": _COMMON,
        "requirements/requirements-dev.txt": _DEV,
        "requirements/requirements-prod.in": _PROD_IN,
        "frontend/requirements_optimized.txt": _FRONTEND,
        "frontend/Dockerfile": _FRONTEND_DOCKERFILE,
        "frontend/env/pyvenv.cfg": "home = /usr/bin\n",
        "frontend/env/requirements.txt": _VENV_REQUIREMENTS,
        "frontend/node_modules/streamlit-bridge/requirements.txt": _NODE_REQUIREMENTS,
        "docker/base/base-requirements.txt": _DOCKER_BASE.format(
            h1=_demo_hash("prometheus-client-0.21.1-py3-none-any.whl"),
            h2=_demo_hash("prometheus-client-0.21.1.tar.gz"),
            h3=_demo_hash("psutil-6.1.1-cp36-abi3-manylinux.whl")),
        "scripts/mcp/monitoring/requirements.txt": _SCRIPTS,
        "agents/ai-agent-orchestrator/requirements.txt": _AGENT,
    }
    for rel, body in text.items():
        files[rel] = body.encode("utf-8")
    links["docker/base/requirements.txt"] = "base-requirements.txt"
    return None
