# -*- coding: utf-8 -*-
# Copyright (c) 2026 sutazai.consolidation contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Demo-platform files of the base_agent phase (see ``demo.tree.demo_files``).

Four ``base_agent.py`` copies where a real SutazAI tree has them, plus a test double:

* ``backend/app/agents/core/base_agent.py`` -- the richest copy (7 public names, an
  ``__all__``, a relative import ``from ...core.config import OLLAMA_URL``): the canonical,
  moved to ``agents/core/base_agent.py`` (its relative import becomes ``from app.core.config
  import OLLAMA_URL``, named from the ``backend`` python root);
* ``agents/core/base_agent.py`` -- a stripped older copy at the canonical location, replaced;
  ``agents/`` has no ``__init__.py`` (the phase creates it);
* ``backend/ai_agents/core/base_agent.py`` -- a copy with a public name the canonical lacks
  (``AgentRegistry``): the phase is blocked by default and goes on with ``base_agent_force``;
  its ``BaseAgent(name)`` takes other parameters than the canonical's ``BaseAgent(config)``
  (reported);
* ``docker/agents/base_agent.py`` -- a stripped copy beside the container scripts that import it
  as a script-folder module (``from base_agent import ...``, ``import base_agent``);
* ``tests/fakes/base_agent.py`` -- a test double: listed, left alone, imports of it untouched.

Importers use every form: ``from app.agents.core.base_agent import (...)`` over several
lines with ``as`` and a comment, relative ``from .core import base_agent`` and ``from
.core.base_agent import ...``, ``import backend.ai_agents.core.base_agent as legacy_base``,
``from backend.app.agents.core import base_agent as app_base``, ``import base_agent``; a test
holds ``mock.patch("backend.app.agents.core.base_agent.DEFAULT_TIMEOUT")`` and
``importlib.import_module("backend.ai_agents.core.base_agent")`` (reported, not edited), and
``backend/legacy/agent_report_py2.py`` is Python 2 that mentions ``base_agent.py`` without
importing it (listed, left alone).

``scale`` > 1 adds ``(scale - 1) * 10`` generated agent modules under
``backend/app/agents/generated/`` importing the canonical's old location.
"""

from __future__ import annotations

_RICH = '''"""BaseAgent: the shared base class of every SutazAI agent."""
from __future__ import annotations

import enum
import logging
import time

from ...core.config import OLLAMA_URL

__all__ = ["AgentCapability", "AgentConfig", "AgentStatus", "BaseAgent", "DEFAULT_TIMEOUT", "create_agent"]

logger = logging.getLogger(__name__)
DEFAULT_TIMEOUT = 30.0


class AgentStatus(enum.Enum):
    IDLE = "idle"
    RUNNING = "running"
    FAILED = "failed"


class AgentCapability(enum.Enum):
    REASONING = "reasoning"
    CODE = "code"


class AgentConfig:
    """Settings of one agent."""

    def __init__(self, name, model="tinyllama", timeout=DEFAULT_TIMEOUT, ollama_url=OLLAMA_URL):
        self.name = name
        self.model = model
        self.timeout = timeout
        self.ollama_url = ollama_url


class BaseAgent:
    """Base class: subclasses implement run()."""

    def __init__(self, config):
        self.config = config
        self.name = config.name
        self.status = AgentStatus.IDLE
        self.started = time.monotonic()

    def run(self, task):
        raise NotImplementedError

    def health(self):
        return {"name": self.name, "status": self.status.value}


def create_agent(name, **options):
    """Build a BaseAgent with an AgentConfig."""
    logger.debug("creating agent %s", name)
    return BaseAgent(AgentConfig(name, **options))
'''

_STRIPPED = '''"""Base class of the SutazAI agents (older copy)."""
import logging

logger = logging.getLogger(__name__)


class BaseAgent:
    """Minimal agent."""

    def __init__(self, config):
        self.config = config
        self.name = config.name

    def run(self, task):
        raise NotImplementedError
'''

_EXTRA = '''"""BaseAgent for the ai_agents package (copy with its own registry)."""
import enum


class AgentStatus(enum.Enum):
    IDLE = "idle"
    RUNNING = "running"


class BaseAgent:
    def __init__(self, name):
        self.name = name
        self.status = AgentStatus.IDLE


class AgentRegistry:
    """Agents by name (only this copy has it)."""

    def __init__(self):
        self.agents = {}

    def add(self, agent):
        self.agents[agent.name] = agent
'''

_DOCKER = '''"""BaseAgent copied next to the container scripts."""
import enum
import logging

DEFAULT_TIMEOUT = 30.0
logger = logging.getLogger("agent")


class AgentStatus(enum.Enum):
    IDLE = "idle"
    RUNNING = "running"


class AgentConfig:
    def __init__(self, name, model="tinyllama", timeout=DEFAULT_TIMEOUT, ollama_url="http://ollama:11434"):
        self.name = name
        self.model = model
        self.timeout = timeout
        self.ollama_url = ollama_url


class BaseAgent:
    def __init__(self, config):
        self.name = config.name
        self.status = AgentStatus.IDLE

    def run(self, task):
        raise NotImplementedError
'''

_FAKE = '''"""Test double of BaseAgent (imported by the tests on purpose)."""


class FakeAgent:
    def __init__(self, name="fake"):
        self.name = name

    def run(self, task):
        return "done: %s" % task
'''

_API = '''"""Agent API endpoints (demo)."""
from app.agents.core.base_agent import (
    AgentStatus as Status,  # exposed in the API
    BaseAgent,
)


def list_statuses():
    return [s.value for s in Status]


def describe(agent: BaseAgent):
    return {"name": agent.name}
'''

_CORE_INIT = '''"""Agent core package."""
from .base_agent import AgentStatus, BaseAgent  # noqa: F401

__all__ = ["AgentStatus", "BaseAgent"]
'''

_ORCHESTRATOR = '''"""Agent orchestrator (demo)."""
from .core import base_agent
from .core.base_agent import DEFAULT_TIMEOUT, create_agent


class Orchestrator:
    def __init__(self):
        self.agents = [create_agent("planner"), create_agent("coder")]
        self.timeout = DEFAULT_TIMEOUT

    def idle(self):
        return base_agent.AgentStatus.IDLE
'''

_AI_ORCHESTRATOR = '''"""Legacy orchestrator of the ai_agents package (demo)."""
import backend.ai_agents.core.base_agent as legacy_base
from backend.app.agents.core import base_agent as app_base


def make(name):
    return name, legacy_base.AgentStatus.IDLE, app_base.DEFAULT_TIMEOUT
'''

_HEALTH = '''#!/usr/bin/env python3
"""Health-check agent, run in its container as `python health_agent.py`."""
from base_agent import AgentStatus, BaseAgent


class HealthAgent(BaseAgent):
    def run(self, task):
        return AgentStatus.IDLE
'''

_RUNNER = '''#!/usr/bin/env python3
"""Starts an agent in its container."""
import sys

import base_agent


def main(argv):
    agent = base_agent.BaseAgent(base_agent.AgentConfig(argv[1] if len(argv) > 1 else "runner"))
    return agent.name


if __name__ == "__main__":
    print(main(sys.argv))
'''

_TEST = '''"""Agent tests (demo)."""
import importlib
from unittest import mock

from agents.core.base_agent import BaseAgent
from tests.fakes.base_agent import FakeAgent


def test_fake_agent_runs():
    if FakeAgent().run("x") != "done: x" or not BaseAgent:
        raise AssertionError("fake agent")


def test_timeout_is_patched():
    with mock.patch("backend.app.agents.core.base_agent.DEFAULT_TIMEOUT", 1):
        module = importlib.import_module("backend.ai_agents.core.base_agent")
        if not module.BaseAgent:
            raise AssertionError("no BaseAgent")
'''

_PY2 = '''# Legacy agent report (Python 2): lists the agents built on base_agent.py
import os

print "agents:", sorted(os.listdir("agents"))
'''

_GENERATED = '''"""Generated agent {i} (demo scale)."""
from app.agents.core.base_agent import BaseAgent


class Agent{i}(BaseAgent):
    def run(self, task):
        return "{i}:%s" % task
'''


def add_demo_files(files, links, scale=1):
    """Add this phase's demo files to ``files`` ({rel: bytes}) and ``links`` ({rel: target}).

    :param scale: int >= 1 (see ``demo.tree.demo_files``).
    """
    text = {
        "backend/app/agents/__init__.py": '"""SutazAI agents of the backend."""\n',
        "backend/app/agents/core/__init__.py": _CORE_INIT,
        "backend/app/agents/core/base_agent.py": _RICH,
        "backend/app/agents/orchestrator.py": _ORCHESTRATOR,
        "backend/app/api/__init__.py": "",
        "backend/app/api/agents.py": _API,
        "agents/core/__init__.py": '"""Shared agent core."""\n',
        "agents/core/base_agent.py": _STRIPPED,
        "backend/ai_agents/__init__.py": "",
        "backend/ai_agents/core/__init__.py": "",
        "backend/ai_agents/core/base_agent.py": _EXTRA,
        "backend/ai_agents/orchestrator.py": _AI_ORCHESTRATOR,
        "docker/agents/base_agent.py": _DOCKER,
        "docker/agents/health_agent.py": _HEALTH,
        "docker/agents/runner.py": _RUNNER,
        "tests/__init__.py": "",
        "tests/fakes/__init__.py": "",
        "tests/fakes/base_agent.py": _FAKE,
        "tests/test_agents.py": _TEST,
        "backend/legacy/agent_report_py2.py": _PY2,
    }
    for i in range((scale - 1) * 10):
        text["backend/app/agents/generated/agent_%03d.py" % i] = _GENERATED.format(i=i)
    for rel, body in text.items():
        files[rel] = body.encode("utf-8")
    return None
