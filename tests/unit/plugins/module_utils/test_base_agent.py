# -*- coding: utf-8 -*-
"""Unit tests: the base_agent phase plan (public names, canonical choice, import resolution and
rewriting, proofs, blocking rules), on real files in a temporary tree."""

from __future__ import annotations

import difflib
import os
import subprocess
import sys

import libcst as cst
import pytest

from ansible_collections.sutazai.consolidation.plugins.module_utils import _base_agent
from ansible_collections.sutazai.consolidation.plugins.module_utils.demo import base_agent as demo_base_agent

RICH = '''"""Rich copy."""
import enum

__all__ = ["Exported"]
DEFAULT_TIMEOUT = 30


class AgentStatus(enum.Enum):
    IDLE = "idle"


class BaseAgent:
    def run(self, task):
        raise NotImplementedError


def create_agent(name):
    return BaseAgent()
'''

POOR = '''class BaseAgent:
    pass
'''


def _write(root, files):
    for rel, text in files.items():
        path = os.path.join(str(root), rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        data = text if isinstance(text, bytes) else text.encode("utf-8")
        with open(path, "wb") as f:
            f.write(data)


def _read(root, rel):
    with open(os.path.join(str(root), rel), "rb") as f:
        return f.read()


def _apply(root, plan):
    """Make the planned changes directly (the module does it through the journal)."""
    for rel, (data, _mode) in plan.writes.items():
        _write(root, {rel: data})
    for rel in plan.removes:
        os.unlink(os.path.join(str(root), rel))


def _names(src):
    return _base_agent.module_names(cst.parse_module(src))


# -- public names -------------------------------------------------------------------------------

@pytest.mark.parametrize("src, public", [
    ("class A: pass\ndef b(): pass\nasync def c(): pass\nD = 1\n_e = 2\ndef _f(): pass\n", ["A", "D", "b", "c"]),
    ("x: int = 1\ny: int\nz, (w, *v) = 1, (2, 3)\n", ["v", "w", "x", "z"]),
    ("try:\n    import yaml\n    HAS_YAML = True\nexcept ImportError:\n    HAS_YAML = False\n", ["HAS_YAML"]),
    ("if True:\n    A = 1\nelif False:\n    B = 2\nelse:\n    C = 3\n", ["A", "B", "C"]),
    ("def f():\n    inner = 1\nclass K:\n    attr = 2\n", ["K", "f"]),
    ("from typing import Any\nimport os\n", []),
    ("from typing import Any\n__all__ = ['Any', 'later']\n__all__ += ('more',)\n", ["Any", "later", "more"]),
    ("__all__ = [name for name in ()]\nX = 1\n", ["X"]),
    # Loop and with targets are not assignments: not counted.
    ("with open('f') as fh:\n    DATA = 1\nfor i in range(2):\n    LAST = i\n", ["DATA", "LAST"]),
])
def test_public_names(src, public):
    assert _names(src).public == public


def test_signatures_of_functions_and_class_inits():
    n = _names("def f(a, /, b, c=1, *args, d, e=2, **kw): pass\nclass K:\n    def __init__(self, x: int = 0, *, y): pass\n"
               "class NoInit:\n    pass\n")
    assert n.signatures == {"f": "a, /, b, c=..., *args, d, e=..., **kw", "K": "self, x=..., *, y"}


def test_bound_names_include_imports_and_private_names():
    n = _names("import os.path\nfrom x import y as z, w\n_p = 1\nQ = 2\nfrom m import *\n")
    assert n.bound == {"os", "z", "w", "_p", "Q"}
    assert n.star is True


# -- glob, roots, resolution ----------------------------------------------------------------------

@pytest.mark.parametrize("rel, pattern, expected", [
    ("base_agent.py", "**/base_agent.py", True),
    ("a/b/base_agent.py", "**/base_agent.py", True),
    ("a/b/base_agent.pyc", "**/base_agent.py", False),
    ("a/my_base_agent.py", "**/base_agent.py", False),
    ("agents/x/base_agent.py", "agents/*/base_agent.py", True),
    ("backend/agents/x/base_agent.py", "agents/*/base_agent.py", False),
])
def test_glob_match(rel, pattern, expected):
    assert _base_agent.glob_match(rel, pattern) is expected


def test_auto_python_roots_are_the_root_and_folders_holding_top_level_packages():
    files = ["backend/app/__init__.py", "backend/app/core/__init__.py", "backend/app/main.py",
             "agents/core/__init__.py", "tests/__init__.py", "docker/agents/x.py", "__init__.py"]
    assert _base_agent.auto_python_roots(files) == [(), ("agents",), ("backend",)]
    assert _base_agent.parse_roots([".", "backend/", "./x/y"]) == [(), ("backend",), ("x", "y")]


@pytest.mark.parametrize("level, module, importer_dir, expected", [
    (1, ("base_agent",), ("a", "b"), ("a", "b", "base_agent")),
    (2, ("core",), ("a", "b"), ("a", "core")),
    (3, ("core", "config"), ("backend", "app", "agents", "core"), ("backend", "app", "core", "config")),
    (1, (), ("a",), ("a",)),
    (2, ("x",), ("a",), ("x",)),
    (3, ("x",), ("a",), None),
])
def test_relative_import_resolution(level, module, importer_dir, expected):
    assert _base_agent.Resolver.package(level, module, importer_dir) == expected


# -- canonical choice ---------------------------------------------------------------------------

def test_canonical_is_the_copy_with_most_public_names(tmp_path):
    _write(tmp_path, {"a/base_agent.py": POOR, "b/base_agent.py": RICH, "c/base_agent.py": POOR + "\nX = 1\n"})
    plan = _base_agent.plan(str(tmp_path), force=True)
    assert plan.chosen.rel == "b/base_agent.py"
    assert dict((c.rel, c.role) for c in plan.copies) == {
        "a/base_agent.py": "duplicate", "b/base_agent.py": "canonical", "c/base_agent.py": "duplicate"}
    # __all__ counts: Exported is public although nothing defines it.
    assert plan.chosen.names.public == ["AgentStatus", "BaseAgent", "DEFAULT_TIMEOUT", "Exported", "create_agent"]


def test_canonical_tie_breaks_on_size_then_path(tmp_path):
    _write(tmp_path, {"b/base_agent.py": "A = 1\n", "a/base_agent.py": "A = 1\n", "c/base_agent.py": "A = 100\n"})
    assert _base_agent.plan(str(tmp_path)).chosen.rel == "c/base_agent.py"
    _write(tmp_path, {"c/base_agent.py": "A = 1\n"})
    assert _base_agent.plan(str(tmp_path)).chosen.rel == "a/base_agent.py"


def test_a_tie_goes_to_the_copy_already_at_the_canonical_path(tmp_path):
    _write(tmp_path, {"agents/agents_b/base_agent.py": RICH, "agents/core/base_agent.py": RICH,
                      "x.py": "from agents.agents_b.base_agent import BaseAgent\n"})
    plan = _base_agent.plan(str(tmp_path))
    assert plan.chosen.rel == "agents/core/base_agent.py"
    assert plan.removes == ["agents/agents_b/base_agent.py"] and "x.py" in plan.writes
    assert "agents/core/base_agent.py" not in plan.writes
    # A larger copy elsewhere still wins, and moves.
    _write(tmp_path, {"agents/agents_b/base_agent.py": RICH + "\n# longer\n"})
    plan = _base_agent.plan(str(tmp_path))
    assert plan.chosen.rel == "agents/agents_b/base_agent.py" and "agents/core/base_agent.py" in plan.writes


def test_nothing_to_do_with_one_copy_at_the_canonical_location(tmp_path):
    _write(tmp_path, {"agents/core/base_agent.py": RICH, "x.py": "from agents.core.base_agent import BaseAgent\n",
                      "tests/fakes/base_agent.py": POOR})
    plan = _base_agent.plan(str(tmp_path))
    assert plan.block_reason is None and not plan.writes and not plan.removes
    assert [(c.rel, c.role) for c in plan.copies] == [("agents/core/base_agent.py", "canonical"),
                                                      ("tests/fakes/base_agent.py", "test")]


# -- every import form, only import lines change ---------------------------------------------------

FORMS = {
    "backend/app/__init__.py": "",
    "backend/app/agents/__init__.py": "",
    "backend/app/agents/core/__init__.py": "from .base_agent import BaseAgent  # re-export\n",
    "backend/app/agents/core/base_agent.py": POOR,
    "agents/core/__init__.py": "",
    "agents/core/base_agent.py": RICH,
    "backend/app/api.py": (
        '"""API."""\n'
        "import os\n"
        "from app.agents.core.base_agent import (\n"
        "    BaseAgent as Agent,  # the base\n"
        "    create_agent,\n"
        ")\n"
        "\n"
        "\n"
        "def make():\n"
        "    # uses app.agents.core.base_agent\n"
        "    return Agent, create_agent, os.sep\n"),
    "backend/app/agents/runner.py": (
        "from .core import base_agent\n"
        "from .core import base_agent as ba, something_else  # two names\n"
        "from ..agents.core.base_agent import DEFAULT_TIMEOUT\n"
        "import backend.app.agents.core.base_agent as full\n"
        "\n"
        "\n"
        "def run():\n"
        "    if True: from .core.base_agent import BaseAgent\n"
        "    return base_agent.BaseAgent, ba.BaseAgent, full.BaseAgent, DEFAULT_TIMEOUT, BaseAgent\n"),
    "backend/app/agents/core/something_else.py": "VALUE = 1\n",
    "docker/agents/base_agent.py": POOR,
    "docker/agents/main.py": "import sys, base_agent\n\n\ndef main():\n    return base_agent.BaseAgent(), sys.argv\n",
    "docker/agents/star.py": "from base_agent import *  # noqa\n\n\ndef f():\n    return BaseAgent\n",
    "tests/test_x.py": ("from unittest import mock\nimport importlib\n"
                        "from agents.core.base_agent import BaseAgent\n\n\n"
                        "@mock.patch('backend.app.agents.core.base_agent.BaseAgent.run')\n"
                        "def test_run(run):\n"
                        "    importlib.import_module('docker.agents.base_agent')\n"
                        "    assert open('docker/agents/base_agent.py')\n"),
    "docker/agents/Dockerfile": "FROM python:3.11-slim\nCOPY base_agent.py main.py /app/\nCMD [\"python\", \"/app/main.py\"]\n",
}

EXPECTED = {
    "backend/app/agents/core/__init__.py": "from agents.core.base_agent import BaseAgent  # re-export\n",
    "backend/app/api.py": FORMS["backend/app/api.py"].replace("from app.agents.core.base_agent import (",
                                                              "from agents.core.base_agent import ("),
    "backend/app/agents/runner.py": (
        "from agents.core import base_agent\n"
        "from .core import something_else; from agents.core import base_agent as ba  # two names\n"
        "from agents.core.base_agent import DEFAULT_TIMEOUT\n"
        "import agents.core.base_agent as full\n"
        "\n"
        "\n"
        "def run():\n"
        "    if True: from agents.core.base_agent import BaseAgent\n"
        "    return base_agent.BaseAgent, ba.BaseAgent, full.BaseAgent, DEFAULT_TIMEOUT, BaseAgent\n"),
    "docker/agents/main.py": "import sys, agents.core.base_agent as base_agent\n\n\ndef main():\n    return base_agent.BaseAgent(), sys.argv\n",
    "docker/agents/star.py": "from agents.core.base_agent import *  # noqa\n\n\ndef f():\n    return BaseAgent\n",
}


def test_every_import_form_is_rewritten_and_only_import_lines_change(tmp_path):
    _write(tmp_path, FORMS)
    plan = _base_agent.plan(str(tmp_path))
    assert plan.block_reason is None, plan.errors
    assert plan.chosen.rel == "agents/core/base_agent.py" and plan.canonical_module == "agents.core.base_agent"
    assert plan.removes == ["backend/app/agents/core/base_agent.py", "docker/agents/base_agent.py"]
    assert sorted(plan.writes) == sorted(list(EXPECTED) + ["agents/__init__.py"])
    assert plan.created == ["agents/__init__.py"]
    for rel, text in EXPECTED.items():
        assert plan.writes[rel][0] == text.encode("utf-8"), rel
        old = FORMS[rel].splitlines()
        new = text.splitlines()
        changed = [ln for ln in difflib.unified_diff(old, new, lineterm="", n=0)
                   if ln[:1] in "+-" and not ln.startswith(("+++", "---"))]
        assert changed and all(ln[1:].lstrip().startswith(("from ", "import ", "if True: from ")) for ln in changed), changed
    assert plan.proof == {"compiled": 6, "import_lines_only": True, "remaining_imports": 0}
    # Report rows: file:line, first line of multi-line statements.
    rw = dict(("%s:%d" % (r["path"], r["line"]), (r["old"], r["new"])) for r in plan.rewrites)
    assert rw["backend/app/api.py:3"] == ("from app.agents.core.base_agent import ( ...", "from agents.core.base_agent import ( ...")
    assert rw["backend/app/agents/runner.py:2"] == (
        "from .core import base_agent as ba, something_else",
        "from .core import something_else; from agents.core import base_agent as ba")
    assert rw["docker/agents/main.py:1"] == ("import sys, base_agent", "import sys, agents.core.base_agent as base_agent")
    assert len(plan.rewrites) == 9
    # String references: reported, not edited (tests/test_x.py is not in the writes).
    refs = [(s["path"], s["line"], s["kind"], s["copies"]) for s in plan.strings]
    assert refs == [
        ("docker/agents/Dockerfile", 2, "text", ["docker/agents/base_agent.py"]),
        ("tests/test_x.py", 6, "string", ["backend/app/agents/core/base_agent.py"]),
        ("tests/test_x.py", 8, "dynamic", ["docker/agents/base_agent.py"]),
        ("tests/test_x.py", 9, "path", ["docker/agents/base_agent.py"]),
    ]
    # Uses of the removed copies' names (from imports, attribute uses) are all in the canonical.
    assert plan.missing == []


def test_text_references_can_be_turned_off_and_the_glob_narrowed(tmp_path):
    _write(tmp_path, FORMS)
    plan = _base_agent.plan(str(tmp_path), text_references=False)
    assert "text" not in [s["kind"] for s in plan.strings] and plan.text_files == 0
    narrow = _base_agent.plan(str(tmp_path), glob="docker/**/base_agent.py")
    assert [c.rel for c in narrow.copies] == ["agents/core/base_agent.py", "docker/agents/base_agent.py"]
    assert narrow.removes == ["docker/agents/base_agent.py"]


def test_after_applying_the_plan_everything_compiles_and_a_second_plan_is_empty(tmp_path):
    _write(tmp_path, FORMS)
    _apply(tmp_path, _base_agent.plan(str(tmp_path)))
    proc = subprocess.run([sys.executable, "-m", "compileall", "-q", str(tmp_path)], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    again = _base_agent.plan(str(tmp_path))
    assert again.block_reason is None and not again.writes and not again.removes and not again.rewrites


def test_crlf_and_bom_survive_the_rewrite(tmp_path):
    src = b"\xef\xbb\xbf# -*- coding: utf-8 -*-\r\nfrom x.base_agent import A\r\nB = 'caf\xc3\xa9'\r\n"
    _write(tmp_path, {"agents/core/base_agent.py": "A = 1\nC = 2\n", "x/base_agent.py": "A = 1\n", "m.py": src})
    plan = _base_agent.plan(str(tmp_path))
    assert plan.writes["m.py"][0] == src.replace(b"from x.base_agent", b"from agents.core.base_agent")


# -- moving the canonical and packages ----------------------------------------------------------------

def test_the_canonical_moves_with_its_relative_imports_made_absolute(tmp_path):
    files = {}
    demo_base_agent.add_demo_files(files, {}, 1)
    files["backend/app/__init__.py"] = b"from app.core import config  # noqa\n"
    files["backend/app/core/config.py"] = b"OLLAMA_URL = 'http://ollama:11434'\n"
    _write(tmp_path, files)
    plan = _base_agent.plan(str(tmp_path), force=True)
    assert plan.block_reason is None, plan.errors
    assert plan.chosen.rel == "backend/app/agents/core/base_agent.py"
    rich = files["backend/app/agents/core/base_agent.py"]
    assert plan.writes["agents/core/base_agent.py"][0] == rich.replace(b"from ...core.config", b"from app.core.config")
    assert plan.created == ["agents/__init__.py"] and plan.writes["agents/__init__.py"][0] == _base_agent.INIT_TEXT
    assert "backend/app/agents/core/base_agent.py" in plan.removes
    moved = [r for r in plan.rewrites if " -> " in r["path"]]
    assert moved == [{"path": "backend/app/agents/core/base_agent.py -> agents/core/base_agent.py", "line": 8,
                      "old": "from ...core.config import OLLAMA_URL", "new": "from app.core.config import OLLAMA_URL"}]
    # The demo's copies: the extra-name copy is listed, the Python 2 file is listed, the test double kept.
    assert plan.missing == [{"path": "backend/ai_agents/core/base_agent.py", "names": ["AgentRegistry"], "importers": []}]
    assert plan.signatures == [{"path": "backend/ai_agents/core/base_agent.py", "name": "BaseAgent",
                                "copy": "self, name", "canonical": "self, config"}]
    assert [(u["path"], u["line"]) for u in plan.unparsed] == [("backend/legacy/agent_report_py2.py", 1)]
    roles = dict((c.rel, c.role) for c in plan.copies)
    assert roles["tests/fakes/base_agent.py"] == "test" and roles["agents/core/base_agent.py"] == "replaced"
    # After the run the backend code imports and runs with the root and backend/ on sys.path.
    _apply(tmp_path, plan)
    code = ("import app.api.agents, app.agents.orchestrator as o, backend.ai_agents.orchestrator as l; "
            "print(o.Orchestrator().idle(), l.make('x')[2], app.api.agents.list_statuses())")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(tmp_path), str(tmp_path / "backend")]))
    proc = subprocess.run([sys.executable, "-c", code], cwd=str(tmp_path), env=env, capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "AgentStatus.IDLE 30.0 ['idle', 'running', 'failed']\n"
    proc = subprocess.run([sys.executable, "docker/agents/runner.py", "probe"], cwd=str(tmp_path), env=env,
                          capture_output=True, text=True, check=False)
    assert (proc.returncode, proc.stdout) == (0, "probe\n"), proc.stderr


def test_a_sibling_import_of_the_canonical_blocks_its_move(tmp_path):
    _write(tmp_path, {"docker/agents/base_agent.py": RICH + "from utils import helper\n",
                      "docker/agents/utils.py": "def helper():\n    return 1\n",
                      "services/base_agent.py": POOR})
    plan = _base_agent.plan(str(tmp_path))
    assert plan.block_reason == "the canonical cannot be moved to agents/core/base_agent.py as it is"
    assert [(e["path"], e["line"], e["column"], e["kind"]) for e in plan.errors] == [
        ("docker/agents/base_agent.py", 19, 1, "unmovable")]


def test_packages_get_init_files_and_a_shadowing_name_is_noted(tmp_path):
    _write(tmp_path, {"x/base_agent.py": RICH, "backend/app/__init__.py": "", "backend/agents/tool.py": "T = 1\n"})
    plan = _base_agent.plan(str(tmp_path))
    assert plan.created == ["agents/__init__.py", "agents/core/__init__.py"]
    assert plan.notes == ["package name 'agents' also exists under python root backend; which one Python loads "
                          "depends on sys.path order"]
    plan = _base_agent.plan(str(tmp_path), canonical_path="backend/app/agents/base_agent.py",
                            canonical_module="app.agents.base_agent")
    assert plan.canonical_module == "app.agents.base_agent" and plan.created == ["backend/app/agents/__init__.py"]
    with pytest.raises(ValueError, match="does not name canonical_path"):
        _base_agent.plan(str(tmp_path), canonical_module="other.base_agent")
    with pytest.raises(ValueError, match="not an importable module path"):
        _base_agent.plan(str(tmp_path), canonical_path="my-agents/base_agent.py")


# -- blocking rules -----------------------------------------------------------------------------

def test_names_the_canonical_lacks_block_unless_forced(tmp_path):
    _write(tmp_path, {"agents/core/base_agent.py": RICH,
                      "old/base_agent.py": "class BaseAgent:\n    pass\n\n\nclass AgentRegistry:\n    pass\n\n_private = 1\n",
                      "old/use.py": "from old.base_agent import BaseAgent, _private\n\n\ndef f():\n    return BaseAgent, _private\n"})
    plan = _base_agent.plan(str(tmp_path))
    assert plan.block_reason == "other copies define names the canonical lacks: AgentRegistry, _private (force to go on)"
    assert plan.missing == [{"path": "old/base_agent.py", "names": ["AgentRegistry", "_private"], "importers": ["old/use.py:1"]}]
    assert plan.errors[0]["path"] == "old/base_agent.py" and plan.errors[0]["kind"] == "missing_names"
    forced = _base_agent.plan(str(tmp_path), force=True)
    assert forced.block_reason is None and forced.missing == plan.missing
    assert forced.removes == ["old/base_agent.py"]


def test_a_star_import_in_the_canonical_names_nothing(tmp_path):
    _write(tmp_path, {"agents/core/base_agent.py": "from .impl import *\nA = 1\nB = 2\n", "old/base_agent.py": "C = 1\n"})
    plan = _base_agent.plan(str(tmp_path))
    assert plan.missing[0]["names"] == ["C"]


def test_a_dotted_import_without_as_blocks_even_when_forced(tmp_path):
    _write(tmp_path, {"agents/core/base_agent.py": RICH, "old/core/base_agent.py": POOR,
                      "use.py": "import os\nimport old.core.base_agent\n\n\ndef f():\n    return old.core.base_agent.BaseAgent\n"})
    plan = _base_agent.plan(str(tmp_path), force=True)
    assert plan.block_reason == "dotted imports without 'as' of a module that is removed need a person"
    e = plan.errors[0]
    assert (e["path"], e["line"], e["column"], e["kind"]) == ("use.py", 2, 8, "bare_import")
    assert "add 'as <name>'" in e["message"]


def test_a_python2_importer_blocks_and_a_python2_mention_is_listed(tmp_path):
    files = {"agents/core/base_agent.py": RICH, "old/base_agent.py": POOR,
             "legacy/mention.py": "# reads old/base_agent.py\nprint 'hi'\n"}
    _write(tmp_path, files)
    plan = _base_agent.plan(str(tmp_path))
    assert plan.block_reason is None
    assert plan.unparsed == [{"path": "legacy/mention.py", "line": 1, "column": 13, "kind": "unparsed", "text": "# reads old/base_agent.py",
                              "message": "mentions base_agent but no import of it; left alone (cannot parse Python: "
                                         "Missing parentheses in call to 'print'. Did you mean print(...)? at 2:1)"}]
    _write(tmp_path, {"legacy/importer.py": "import os\nfrom old.base_agent import BaseAgent\nprint 'hi'\n"})
    plan = _base_agent.plan(str(tmp_path))
    assert plan.block_reason == "a Python file libcst cannot parse imports a base_agent copy"
    e = plan.errors[0]
    assert (e["path"], e["line"], e["column"], e["kind"]) == ("legacy/importer.py", 2, 10, "unparsed_importer")


def test_an_unparsable_copy_blocks(tmp_path):
    _write(tmp_path, {"agents/core/base_agent.py": RICH, "old/base_agent.py": "class A:\n    print 'x'\n"})
    plan = _base_agent.plan(str(tmp_path))
    assert plan.block_reason == "a base_agent copy cannot be parsed, so its public names are unknown"
    assert (plan.errors[0]["path"], plan.errors[0]["line"]) == ("old/base_agent.py", 2)


def test_test_doubles_are_never_canonical_nor_removed_and_their_importers_stay(tmp_path):
    _write(tmp_path, {"agents/core/base_agent.py": POOR, "tests/fakes/base_agent.py": RICH,
                      "old/base_agent.py": POOR,
                      "tests/test_a.py": "from tests.fakes.base_agent import BaseAgent\nfrom old.base_agent import BaseAgent as B\n"})
    plan = _base_agent.plan(str(tmp_path))
    assert plan.chosen.rel == "agents/core/base_agent.py"
    assert plan.writes["tests/test_a.py"][0] == (
        b"from tests.fakes.base_agent import BaseAgent\nfrom agents.core.base_agent import BaseAgent as B\n")
    assert plan.removes == ["old/base_agent.py"]
    assert _base_agent.plan(str(tmp_path), test_dirs=[]).chosen.rel == "tests/fakes/base_agent.py"


def test_a_symlinked_copy_is_removed_as_a_link(tmp_path):
    _write(tmp_path, {"agents/core/base_agent.py": RICH, "user.py": "from compat.base_agent import BaseAgent\n"})
    os.makedirs(str(tmp_path / "compat"))
    os.symlink("../agents/core/base_agent.py", str(tmp_path / "compat/base_agent.py"))
    plan = _base_agent.plan(str(tmp_path))
    assert [(c.rel, c.role) for c in plan.copies] == [("agents/core/base_agent.py", "canonical"), ("compat/base_agent.py", "link")]
    assert plan.removes == ["compat/base_agent.py"] and plan.missing == []
    assert plan.writes["user.py"][0] == b"from agents.core.base_agent import BaseAgent\n"


def test_explicit_python_roots_limit_what_an_import_names(tmp_path):
    _write(tmp_path, {"agents/core/base_agent.py": RICH, "backend/app/__init__.py": "",
                      "backend/app/base_agent.py": POOR, "backend/app/x.py": "from app.base_agent import BaseAgent\n"})
    auto = _base_agent.plan(str(tmp_path))
    assert "backend/app/x.py" in auto.writes
    rooted = _base_agent.plan(str(tmp_path), python_roots=["."])
    # Explicit roots are taken at their word: with only the root on sys.path, app.base_agent
    # names no file of the tree, so that import is not rewritten.
    assert "backend/app/x.py" not in rooted.writes


# -- proof helpers ----------------------------------------------------------------------------------

def test_changed_lines_check_and_compile_proof():
    old = b"import a\nx = 1\nfrom b import c\n"
    assert _base_agent._changed_lines_ok(old, b"import z\nx = 1\nfrom b import c\n", [(1, 1)])
    assert not _base_agent._changed_lines_ok(old, b"import a\nx = 2\nfrom b import c\n", [(1, 1), (3, 3)])
    assert not _base_agent._changed_lines_ok(old, b"import a\nx = 1\nfrom b import c\ny = 2\n", [(1, 1)])
    assert _base_agent._compiles(b"import a\n", "m.py") is None
    err = _base_agent._compiles(b"def f(:\n", "m.py")
    assert (err.path, err.line, err.kind) == ("m.py", 1, "compile")


def test_a_file_that_did_not_compile_before_is_rewritten_without_a_compile_proof(tmp_path):
    # libcst parses a module-level return; compile() rejects it before and after.
    _write(tmp_path, {"agents/core/base_agent.py": RICH, "old/base_agent.py": POOR,
                      "odd.py": "from old.base_agent import BaseAgent\nreturn BaseAgent\n"})
    plan = _base_agent.plan(str(tmp_path))
    assert plan.block_reason is None
    assert plan.writes["odd.py"][0] == b"from agents.core.base_agent import BaseAgent\nreturn BaseAgent\n"
    # Compiled: the two package files created; odd.py never compiled, so it is not counted.
    assert plan.created == ["agents/__init__.py", "agents/core/__init__.py"] and plan.proof["compiled"] == 2


def test_names_read_with_ast_are_the_rewriters(tmp_path, monkeypatch):
    """Files that only take names from copies are read with ast; the plan (missing names, who
    uses them, rewrites) is the one the libcst rewriter gives when it reads every file."""
    canonical = "class BaseAgent:\n    pass\n\n\ndef helper():\n    return 1\n"
    duplicate = canonical + "\n\ndef extra():\n    return 2\n\n\nLIMIT = 3\n"
    _write(tmp_path, {
        "agents/core/base_agent.py": canonical + "".join("\n\ndef more%d():\n    return 0\n" % i for i in range(3)),
        "agents/core/__init__.py": "",
        "agents/__init__.py": "",
        "vendor/agents/core/base_agent.py": duplicate,
        "vendor/agents/core/__init__.py": "",
        "vendor/agents/__init__.py": "",
        "vendor/run.py": "from agents.core.base_agent import extra, BaseAgent\n\n\ndef go():\n    return extra()\n",
        "vendor/use.py": "def early(ba):\n    return ba.LIMIT\n\n\nimport agents.core.base_agent as ba\n\n\n"
                         "def late():\n    return ba.LIMIT + ba.helper()\n",
        "vendor/pkg.py": "from agents.core import base_agent\n\n\ndef f():\n    return base_agent.extra()\n",
        "vendor/other.py": "import json\n\n\ndef g(self):\n    return self.base_agent.extra\n",
    })
    fast = _base_agent.plan(str(tmp_path), force=True)
    scanner = [v for v in vars(_base_agent).values() if isinstance(v, type) and hasattr(v, "_read_with_ast")][0]
    monkeypatch.setattr(scanner, "_read_with_ast", lambda self, tree, data, rel, resolver: (True, {}))
    slow = _base_agent.plan(str(tmp_path), force=True)
    assert fast.missing == slow.missing
    assert [(m["names"], m["importers"]) for m in fast.missing] == [
        (["LIMIT", "extra"], ["vendor/pkg.py:5", "vendor/run.py:1", "vendor/use.py:9"])]
    assert fast.rewrites == slow.rewrites and fast.strings == slow.strings
    assert fast.scanned_files == slow.scanned_files
