# -*- coding: utf-8 -*-
# Copyright (c) 2026 sutazai.consolidation contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Demo-platform files of the config phase (see ``demo.tree.demo_files``).

Four shim modules (files that only re-export another module) and the code around them:

* ``backend/app/core/settings.py`` -- re-exports two names of ``app.core.config``; still
  imported by ``backend/app/main.py`` (``from app.core.settings import ...``): kept, reported;
* ``backend/app/core/db.py`` -- re-exports with ``try``/``except ImportError``; only loaded
  through ``importlib.import_module("app.core.db")``: kept (a dynamic reference counts);
* ``backend/core/config.py`` -- ``from app.core.config import *`` (the typical shim), imported
  only by the next shim: removed;
* ``backend/core/legacy_config.py`` -- ``from .config import *`` (a shim of a shim), imported
  by nothing: removed together with the previous one;
* ``scripts/legacy/py2_report.py`` -- Python 2 syntax libcst cannot parse: listed, never removed;
* ``backend/app/__init__.py`` -- only imports, but never a shim candidate (package file).

``scale`` > 1 adds ``(scale - 1) * 20`` generated modules under ``backend/app/plugins/``
(every fifth one an unused shim), for benchmarks.
"""

from __future__ import annotations

_SETTINGS_SHIM = '''"""Legacy settings module: the settings moved to app.core.config."""
from __future__ import annotations

from app.core.config import AGENT_REGISTRY_PATH, OLLAMA_URL as _OLLAMA_URL

OLLAMA_URL = _OLLAMA_URL

__all__ = ["AGENT_REGISTRY_PATH", "OLLAMA_URL"]
'''

_DB_SHIM = '''"""Database helpers moved to app.db.session; kept for old imports."""
try:
    from app.db.session import SessionLocal, engine  # noqa: F401
except ImportError:  # running from the repository root
    from backend.app.db.session import SessionLocal, engine  # noqa: F401
'''

_DB_SESSION = '''"""Database session (demo)."""
import os

DATABASE_URL = os.environ.get("DATABASE_URL", "postgresql://sutazai@postgres:5432/sutazai")
engine = None


def SessionLocal():
    return {"url": DATABASE_URL}
'''

_CORE_CONFIG_SHIM = '''"""
Compatibility shim for legacy imports.
"""
from app.core.config import *  # noqa: F401,F403
'''

_LEGACY_CONFIG_SHIM = '''# Older still: kept "just in case".
from .config import *  # noqa: F401,F403
'''

_MAIN = '''"""SutazAI backend entry point (demo)."""
import importlib

from app.core.settings import OLLAMA_URL


def create_app():
    db = importlib.import_module("app.core.db")
    return {"ollama": OLLAMA_URL, "db": db.SessionLocal()}
'''

_APP_INIT = '''"""SutazAI backend package."""
from app.core import config  # noqa: F401
'''

_PY2 = '''#!/usr/bin/env python
# Legacy report script (Python 2), never ported.
import sys

print "SutazAI legacy report"
sys.exit(0)
'''

_PLUGIN = '''"""Generated plugin {i} (demo scale)."""
from app.core.settings import OLLAMA_URL


def run():
    return "{i}:" + OLLAMA_URL
'''

_PLUGIN_SHIM = '''"""Generated compatibility shim {i}."""
from app.plugins.plugin_{j} import run  # noqa: F401
'''


def add_demo_files(files, links, scale=1):
    """Add this phase's demo files to ``files`` (rel -> bytes) and ``links`` (rel -> target).

    :param scale: int >= 1, as in ``demo.tree.demo_files``.
    """
    files["backend/app/__init__.py"] = _APP_INIT.encode("utf-8")
    files["backend/app/main.py"] = _MAIN.encode("utf-8")
    files["backend/app/core/settings.py"] = _SETTINGS_SHIM.encode("utf-8")
    files["backend/app/core/db.py"] = _DB_SHIM.encode("utf-8")
    files["backend/app/db/session.py"] = _DB_SESSION.encode("utf-8")
    files["backend/core/config.py"] = _CORE_CONFIG_SHIM.encode("utf-8")
    files["backend/core/legacy_config.py"] = _LEGACY_CONFIG_SHIM.encode("utf-8")
    files["scripts/legacy/py2_report.py"] = _PY2.encode("utf-8")
    for i in range((scale - 1) * 20):
        if i % 5 == 4:
            files["backend/app/plugins/compat_%d.py" % i] = _PLUGIN_SHIM.format(i=i, j=i - 1).encode("utf-8")
        else:
            files["backend/app/plugins/plugin_%d.py" % i] = _PLUGIN.format(i=i).encode("utf-8")
    return None
