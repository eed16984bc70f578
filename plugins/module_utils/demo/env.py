# -*- coding: utf-8 -*-
# Copyright (c) 2026 sutazai.consolidation contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Demo-platform files of the env phase (see ``demo.tree.demo_files``): eight env files in the
default merge priority order (``.env.production`` ... ``.env``, then others), with the real
tree's oddities: a key assigned twice in one file, ``export`` prefixes, a single-quoted
value holding ``$``, a quoted multi-line value, inline comments, production values equal to
the base, a sub-folder ``.env``, a template. The compose file (``demo.tree._COMPOSE``) refers to
two of them through ``env_file``. All values are demo values.
"""

from __future__ import annotations

_ENV = """# SutazAI local settings
POSTGRES_USER=sutazai
POSTGRES_PASSWORD=Base-Pg-Pass-11aa22bb
POSTGRES_DB=sutazai
REDIS_HOST=redis
REDIS_PASSWORD=Redis-Pass-5e6f7a8b
OLLAMA_URL=http://ollama:11434
LOG_LEVEL=DEBUG  # overridden by .env.production
CHROMA_TOKEN=chroma-9f8e7d6c5b4a3928
REDIS_HOST=redis-master
"""

_ENV_PRODUCTION = """# Production
LOG_LEVEL=WARNING
POSTGRES_DB=sutazai
SUTAZAI_ENV=production
GRAFANA_ADMIN_PASSWORD='Prod-Graf-$ecret-31c4'
"""

_ENV_SECURE = """# Hardened secrets
export POSTGRES_PASSWORD=Secure-Pg-Pass-77cc88dd
export JWT_SECRET='Jwt-$ecret-Literal-0a1b2c3d'
TLS_PRIVATE_KEY="-----BEGIN DEMO KEY-----
MIIBdemo0notreal0key0material
-----END DEMO KEY-----"
"""

_ENV_CONSOLIDATED = """# An earlier consolidation attempt
OLLAMA_URL=http://sutazai-ollama:11434
OLLAMA_MODEL=tinyllama
BACKEND_PORT=10010
"""

_ENV_LOCAL = """# Developer overrides
SUTAZAI_ENV=development
DEBUG=true
"""

_BACKEND_ENV = """# Backend service
BACKEND_WORKERS=4
DATABASE_POOL_SIZE=20
SECRET_KEY=backend-secret-4d5e6f708192a3b4
"""

_FRONTEND_ENV = """# Frontend service
STREAMLIT_SERVER_PORT=8501
BACKEND_URL=http://backend:8000
"""

_AGENTS_ENV = """# Agents
AGENT_CONCURRENCY=8
OLLAMA_MODEL=tinyllama:latest
"""

_SECRETS_TEMPLATE = """# Fill in and save as secrets.env
VAULT_TOKEN=
NEO4J_PASSWORD=change-me
"""


def add_demo_files(files, links, scale=1):
    """Add the env demo files to ``files`` (rel -> bytes); ``links`` and ``scale`` unused.

    :param scale: int >= 1, as in ``demo.tree.demo_files`` (env files do not grow with it).
    """
    for rel, text in ((".env", _ENV), (".env.production", _ENV_PRODUCTION), (".env.secure", _ENV_SECURE),
                      (".env.consolidated", _ENV_CONSOLIDATED), (".env.local", _ENV_LOCAL),
                      ("config/environments/backend.env", _BACKEND_ENV),
                      ("config/environments/frontend.env", _FRONTEND_ENV),
                      ("agents/.env", _AGENTS_ENV),
                      ("config/environments/secrets.env.template", _SECRETS_TEMPLATE)):
        files[rel] = text.encode("utf-8")
    return None
