# -*- coding: utf-8 -*-
"""Generated trees for the base_agent phase (deterministic: no clock, no randomness).

Modeled on the real v76 tree: four ``base_agent.py`` copies (``agents/core/``,
``backend/app/agents/core/``, ``backend/ai_agents/core/``, ``docker/agents/``), the richest
in ``backend/app`` (it moves to ``agents/core/``, its relative import made absolute), the
others stripped copies with no name the canonical lacks (so the phase goes on without force);
a test double under ``tests/``; importers in every form, cycling (8 forms, one of them already
naming the canonical module and left alone); test files with ``mock.patch`` string references;
a Python 2 file mentioning ``base_agent.py``; filler Python modules that never mention it, up
to the requested number of Python files.

``generate(root, size)`` returns the figures the phase must report (dict).
"""

from __future__ import annotations

import os

SIZES = {"small": {"python_files": 120, "importers": 16, "tests": 2},
         "v76": {"python_files": 3000, "importers": 160, "tests": 10}}

_RICH = '''"""BaseAgent: shared base class of the agents (generated)."""
import enum
import logging

from ...core.config import OLLAMA_URL

logger = logging.getLogger(__name__)
DEFAULT_TIMEOUT = 30.0


class AgentStatus(enum.Enum):
    IDLE = "idle"
    RUNNING = "running"


class AgentConfig:
    def __init__(self, name, timeout=DEFAULT_TIMEOUT, ollama_url=OLLAMA_URL):
        self.name = name
        self.timeout = timeout
        self.ollama_url = ollama_url


class BaseAgent:
    def __init__(self, config):
        self.config = config
        self.name = config.name
        self.status = AgentStatus.IDLE

    def run(self, task):
        raise NotImplementedError


def create_agent(name):
    return BaseAgent(AgentConfig(name))
'''

_STRIPPED = '''"""BaseAgent (stripped copy {n})."""
import enum


class AgentStatus(enum.Enum):
    IDLE = "idle"


class BaseAgent:
    def __init__(self, config):
        self.name = config.name
        self.status = AgentStatus.IDLE
'''

_FAKE = '''"""Test double."""


class FakeAgent:
    def run(self, task):
        return task
'''

_FORMS = [
    # (path pattern, import text, module body using the names, rewritten?)
    ("backend/app/services/svc_{i:04d}.py", "from app.agents.core.base_agent import BaseAgent, AgentStatus as Status",
     "Status.IDLE, BaseAgent", True),
    ("backend/ai_agents/workers/worker_{i:04d}.py", "from backend.ai_agents.core.base_agent import BaseAgent", "BaseAgent", True),
    ("backend/app/agents/impl/agent_{i:04d}.py", "from ..core.base_agent import BaseAgent", "BaseAgent", True),
    ("backend/app/agents/tool_{i:04d}.py", "from .core import base_agent as ba", "ba.BaseAgent", True),
    ("backend/ai_agents/legacy_{i:04d}.py", "import backend.ai_agents.core.base_agent as legacy", "legacy.AgentStatus", True),
    ("docker/agents/agent_{i:04d}.py", "from base_agent import BaseAgent", "BaseAgent", True),
    ("backend/app/api/route_{i:04d}.py", "from app.agents.core.base_agent import (\n    AgentStatus,  # status enum\n    BaseAgent,\n)",
     "AgentStatus, BaseAgent", True),
    ("services/agent_{i:04d}.py", "from agents.core.base_agent import BaseAgent", "BaseAgent", False),
]

_IMPORTER = '''"""Generated importer {i}."""
{imp}


def handle_{i}(task):
    return ({use}, task)
'''

_TEST = '''"""Generated test {i}."""
from unittest import mock

from agents.core.base_agent import BaseAgent


def test_{i}():
    with mock.patch("backend.app.agents.core.base_agent.DEFAULT_TIMEOUT", {i}):
        assert BaseAgent
'''

_FILLER = '''"""Filler module {i} of package {pkg} (never mentions the agent base)."""


def value_{i}():
    return {i}
'''

_PY2 = '''# Python 2 report over base_agent.py users
print "report"
'''


def _put(root, rel, text, written):
    path = os.path.join(root, rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
    written.add(rel)


def generate(root, size="small"):
    """Write the tree under ``root`` (created when absent).

    :param size: ``small`` (120 Python files, 16 importers) or ``v76`` (3,000 Python files,
        160 importers).
    :returns: dict of expected figures: ``python_files``, ``copies`` (5: the four copies and the
        test double), ``test_copies`` (1),
        ``importers`` (files importing a copy), ``rewrites`` (import statements the phase
        rewrites, the moved canonical's relative import included), ``rewritten_files``,
        ``string_references``, ``removed`` (3), ``created`` (``agents/__init__.py``), and
        ``rewritten`` (sorted paths of the files whose imports change) and ``removed_paths``.
    """
    spec = SIZES[size]
    written = set()
    for rel, text in (
        ("backend/app/__init__.py", ""),
        ("backend/app/core/__init__.py", ""),
        ("backend/app/core/config.py", 'OLLAMA_URL = "http://ollama:11434"\n'),
        ("backend/app/agents/__init__.py", ""),
        ("backend/app/agents/core/__init__.py", ""),
        ("backend/app/agents/impl/__init__.py", ""),
        ("backend/app/agents/core/base_agent.py", _RICH),
        ("backend/app/services/__init__.py", ""),
        ("backend/app/api/__init__.py", ""),
        ("backend/ai_agents/__init__.py", ""),
        ("backend/ai_agents/core/__init__.py", ""),
        ("backend/ai_agents/workers/__init__.py", ""),
        ("backend/ai_agents/core/base_agent.py", _STRIPPED.format(n=1)),
        ("agents/core/__init__.py", ""),
        ("agents/core/base_agent.py", _STRIPPED.format(n=2)),
        ("docker/agents/base_agent.py", _STRIPPED.format(n=3)),
        ("tests/__init__.py", ""),
        ("tests/fakes/__init__.py", ""),
        ("tests/fakes/base_agent.py", _FAKE),
        ("legacy/report_py2.py", _PY2),
    ):
        _put(root, rel, text, written)
    rewritten = set()
    rewrites = 1  # the canonical's relative import, made absolute when it moves
    for i in range(spec["importers"]):
        pattern, imp, use, changes = _FORMS[i % len(_FORMS)]
        rel = pattern.format(i=i)
        _put(root, rel, _IMPORTER.format(i=i, imp=imp, use=use), written)
        if changes:
            rewritten.add(rel)
            rewrites += 1
    for i in range(spec["tests"]):
        _put(root, "tests/test_gen_%04d.py" % i, _TEST.format(i=i), written)
    i = 0
    while len([w for w in written if w.endswith(".py")]) < spec["python_files"]:
        pkg = "pkg%02d" % (i % 40)
        _put(root, "backend/app/filler/%s/mod_%04d.py" % (pkg, i), _FILLER.format(i=i, pkg=pkg), written)
        i += 1
    return {
        "python_files": len([w for w in written if w.endswith(".py")]),
        "copies": 5,
        "test_copies": 1,
        "importers": spec["importers"],
        "rewrites": rewrites,
        "rewritten_files": len(rewritten),
        "rewritten": sorted(rewritten),
        "string_references": spec["tests"],
        "removed": 3,
        "removed_paths": ["backend/ai_agents/core/base_agent.py", "backend/app/agents/core/base_agent.py",
                          "docker/agents/base_agent.py"],
        "created": 1,
    }
