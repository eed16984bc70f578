# -*- coding: utf-8 -*-
"""Integration: the base_agent phase through consolidate.yml on localhost.

Order for the changing task: check -> real -> idempotent check -> idempotent -> change input ->
changed check -> changed, then rollback of both runs back to the original bytes. Proofs after
the real run: ``python -m compileall`` passes (the Python 2 files apart, which never compiled),
the line diff of every rewritten file touches only import lines, and the rewritten code imports
and runs.
"""

from __future__ import annotations

import difflib
import json
import os
import re
import shutil
import subprocess
import sys

import pytest

import gen_base_agent
from helpers import CORPUS, copy_corpus, full_warnings, run_playbook, snapshot, write_demo

TASK = "Keep one canonical base_agent.py"
CANONICAL = "agents/core/base_agent.py"


@pytest.fixture
def generated(tmp_path):
    root = tmp_path / "root"
    root.mkdir()
    figures = gen_base_agent.generate(str(root), "small")
    return str(root), str(tmp_path / "backups"), str(tmp_path / "reports"), figures


@pytest.fixture
def demo(tmp_path):
    root = tmp_path / "root"
    root.mkdir()
    write_demo(str(root))
    return str(root), str(tmp_path / "backups"), str(tmp_path / "reports")


def _text(snap, rel):
    return snap[rel][2].decode("utf-8")


def _changed_lines(old, new):
    return [ln[1:] for ln in difflib.unified_diff(old.splitlines(), new.splitlines(), lineterm="", n=0)
            if ln[:1] in "+-" and not ln.startswith(("+++", "---"))]


def _only_import_lines(old, new):
    lines = _changed_lines(old, new)
    return bool(lines) and all(re.match(r"^\s*(from|import)\s", ln) for ln in lines), lines


def _compileall(root, tmp, skip):
    """``python -m compileall -q`` on ``root`` (bytecode under ``tmp``, not in the tree),
    leaving out the files in ``skip`` (Python 2 files that never compiled)."""
    cmd = [sys.executable, "-m", "compileall", "-q"]
    if skip:
        cmd += ["-x", "|".join(re.escape(s) for s in skip)]
    env = dict(os.environ, PYTHONPYCACHEPREFIX=str(tmp))
    return subprocess.run(cmd + [root], capture_output=True, text=True, env=env, check=False)


def _not_compiling(root, tmp):
    """Python files of ``root`` that compile() rejects (relative paths)."""
    bad = []
    for d, _dirs, files in os.walk(root):
        for name in files:
            if name.endswith(".py"):
                path = os.path.join(d, name)
                with open(path, "rb") as f:
                    try:
                        compile(f.read(), path, "exec", dont_inherit=True)
                    except SyntaxError:
                        bad.append(os.path.relpath(path, root))
    return sorted(bad)


def _run_python(root, code):
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([root, os.path.join(root, "backend")]), PYTHONDONTWRITEBYTECODE="1")
    return subprocess.run([sys.executable, "-c", code], cwd=root, env=env, capture_output=True, text=True, check=False)


def test_generated_tree_check_real_idempotent_changed_and_rollback(generated, tmp_path):
    root, backups, reports, fig = generated
    original = snapshot(root)
    kw = dict(backup_root=backups, report_dir=reports, tags="base_agent")

    check = run_playbook("consolidate.yml", root, check=True, diff=True, **kw)
    assert check.rc == 0, check.text()
    result = check.task(TASK)
    assert result["changed"] is True and result["blocked"] is False
    assert snapshot(root) == original
    assert not os.path.exists(backups) and not os.path.exists(reports)
    assert result["canonical"] == {"from": "backend/app/agents/core/base_agent.py", "path": CANONICAL,
                                   "module": "agents.core.base_agent", "moved": True,
                                   "python_roots": [".", "agents", "backend"]}
    stats = result["stats"]
    for key in ("python_files", "copies", "test_copies", "rewrites", "rewritten_files", "string_references", "removed", "created"):
        assert stats[key] == fig[key], key
    changes = dict((c["path"], c["action"]) for c in result["changes"])
    assert changes == dict([(p, "delete") for p in fig["removed_paths"]] + [(p, "modify") for p in fig["rewritten"]]
                           + [(CANONICAL, "modify"), ("agents/__init__.py", "create")])
    assert result["proof"] == {"compiled": len(fig["rewritten"]) + 2, "import_lines_only": True, "remaining_imports": 0}
    # The diff shows every rewritten file; only import lines differ.
    diffs = dict((d["before_header"].rsplit(" (", 1)[0], d) for d in result["diff"])
    for rel in fig["rewritten"]:
        ok, lines = _only_import_lines(diffs[rel]["before"], diffs[rel]["after"])
        assert ok, (rel, lines)
    assert [(s["path"], s["kind"]) for s in result["string_references"]] == [
        ("tests/test_gen_0000.py", "string"), ("tests/test_gen_0001.py", "string")]
    assert [u["path"] for u in result["unparsed"]] == ["legacy/report_py2.py"]
    assert any("tests/test_gen_0000.py:8: string reference" in w for w in full_warnings(result))
    assert result["summary"]["status"] == "would change"
    rows = dict((r["item"], (r["before"], r["after"])) for r in result["summary"]["rows"])
    assert rows["base_agent.py copies (test doubles apart)"] == (4, 1)
    assert rows["Imports of other copies (files)"] == ("%d (%d)" % (fig["rewrites"] - 1, fig["rewritten_files"]), 0)
    assert "base_agent | would change | base_agent.py copies (test doubles apart)" in check.summary()

    not_compiling = _not_compiling(root, tmp_path)
    assert not_compiling == ["legacy/report_py2.py"]
    real = run_playbook("consolidate.yml", root, **kw)
    assert real.rc == 0 and real.changed == 1, real.text()
    after_first = snapshot(root)
    for rel in fig["removed_paths"]:
        assert rel not in after_first
    assert after_first["agents/__init__.py"][2].startswith(b"# Package of the canonical BaseAgent")
    rich = _text(original, "backend/app/agents/core/base_agent.py")
    assert _text(after_first, CANONICAL) == rich.replace("from ...core.config import", "from app.core.config import")
    for rel in fig["rewritten"]:
        ok, lines = _only_import_lines(_text(original, rel), _text(after_first, rel))
        assert ok, (rel, lines)
    for rel in set(original) - set(fig["rewritten"]) - set(fig["removed_paths"]) - {CANONICAL}:
        assert after_first[rel] == original[rel], rel
    proc = _compileall(root, tmp_path / "pycache", not_compiling)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert _not_compiling(root, tmp_path) == not_compiling
    # The rewritten importers load the canonical (root and backend/ on sys.path, as before).
    proc = _run_python(root, "import app.services.svc_0000 as s, backend.ai_agents.legacy_0004 as l, "
                             "app.agents.tool_0003 as t, agents.core.base_agent as c; "
                             "assert s.BaseAgent is c.BaseAgent and l.legacy is c and t.ba is c; print('ok')")
    assert proc.stdout == "ok\n", proc.stderr
    runs = os.listdir(backups)
    assert len(runs) == 1
    with open(os.path.join(reports, runs[0] + ".json")) as f:
        (phase,) = [p for p in json.load(f)["phases"] if p["ran"]]
    assert phase["phase"] == "base_agent" and phase["status"] == "changed"
    titles = [s["title"] for s in phase["details"]]
    assert titles[:3] == ["base_agent copies", "rewritten imports", "string references to removed copies (not edited)"]
    with open(os.path.join(reports, runs[0] + ".md")) as f:
        md = f.read()
    assert "| backend/app/services/svc_0000.py:2 | from app.agents.core.base_agent import BaseAgent, AgentStatus as Status |" in md

    assert run_playbook("consolidate.yml", root, check=True, **kw).changed == 0
    again = run_playbook("consolidate.yml", root, **kw)
    assert again.rc == 0 and again.changed == 0
    assert again.task(TASK)["summary"]["status"] == "unchanged"
    assert len(os.listdir(backups)) == 1 and snapshot(root) == after_first

    # Changed input: a new copy appears with an importer of it.
    added = {"services/extra/base_agent.py": "class BaseAgent:\n    pass\n",
             "services/extra/use.py": "from services.extra.base_agent import BaseAgent\n\n\ndef f():\n    return BaseAgent\n"}
    for rel, text in added.items():
        os.makedirs(os.path.dirname(os.path.join(root, rel)), exist_ok=True)
        with open(os.path.join(root, rel), "w") as f:
            f.write(text)
    changed_input = snapshot(root)
    changed_check = run_playbook("consolidate.yml", root, check=True, **kw)
    assert changed_check.changed == 1 and snapshot(root) == changed_input
    assert changed_check.task(TASK)["changes"] == [{"path": "services/extra/use.py", "action": "modify"},
                                                   {"path": "services/extra/base_agent.py", "action": "delete"}]
    changed = run_playbook("consolidate.yml", root, **kw)
    assert changed.rc == 0 and changed.changed == 1, changed.text()
    with open(os.path.join(root, "services/extra/use.py")) as f:
        assert f.read().startswith("from agents.core.base_agent import BaseAgent\n")
    assert len(os.listdir(backups)) == 2

    rb1 = run_playbook("rollback.yml", root, backup_root=backups)
    assert rb1.rc == 0 and rb1.changed == 1, rb1.text()
    assert snapshot(root) == changed_input
    rb2 = run_playbook("rollback.yml", root, backup_root=backups)
    assert rb2.rc == 0 and rb2.changed == 1
    restored = snapshot(root)
    for rel in added:
        del restored[rel]
    del restored["services/extra"]
    assert restored == original
    assert run_playbook("rollback.yml", root, backup_root=backups).changed == 0


def test_demo_is_blocked_by_the_extra_name_and_goes_on_with_force(demo, tmp_path):
    root, backups, reports = demo
    original = snapshot(root)
    kw = dict(backup_root=backups, report_dir=reports, tags="base_agent")

    check = run_playbook("consolidate.yml", root, check=True, diff=True, **kw)
    assert check.rc == 0, check.text()
    result = check.task(TASK)
    assert result["blocked"] is True and result["changed"] is False
    assert result["missing_names"] == [{"path": "backend/ai_agents/core/base_agent.py", "names": ["AgentRegistry"],
                                        "importers": []}]
    assert any("other copies define names the canonical lacks: AgentRegistry (force to go on)" in w
               and "backend/ai_agents/core/base_agent.py: defines or is imported for names the canonical lacks" in w
               for w in full_warnings(result)), result["warnings"]
    assert result["summary"]["status"] == "blocked"
    assert [s["title"] for s in result["summary"]["details"]][0] == "what blocks the phase"
    assert "base_agent | blocked" in check.summary()
    assert snapshot(root) == original and not os.path.exists(backups)
    real_blocked = run_playbook("consolidate.yml", root, **kw)
    assert real_blocked.rc == 0 and real_blocked.changed == 0 and snapshot(root, skip=("reports",)) == original
    strict = run_playbook("consolidate.yml", root, "-e", "base_agent_strict=true", **kw)
    assert strict.rc != 0 and "AgentRegistry" in strict.task(TASK)["msg"]
    assert snapshot(root, skip=("reports",)) == original and not os.path.exists(backups)

    not_compiling_before = _not_compiling(root, tmp_path)
    assert "backend/legacy/agent_report_py2.py" in not_compiling_before
    forced = run_playbook("consolidate.yml", root, "-e", "base_agent_force=true", **kw)
    assert forced.rc == 0 and forced.changed == 1, forced.text()
    result = forced.task(TASK)
    assert [(c["path"], c["role"], len(c["public_names"])) for c in result["copies"]] == [
        ("agents/core/base_agent.py", "replaced", 2), ("backend/ai_agents/core/base_agent.py", "duplicate", 3),
        ("backend/app/agents/core/base_agent.py", "canonical", 7), ("docker/agents/base_agent.py", "duplicate", 5),
        ("tests/fakes/base_agent.py", "test", 1)]
    assert [(r["path"], r["line"]) for r in result["rewrites"]] == [
        ("backend/ai_agents/orchestrator.py", 2), ("backend/ai_agents/orchestrator.py", 3),
        ("backend/app/agents/core/__init__.py", 2),
        ("backend/app/agents/core/base_agent.py -> agents/core/base_agent.py", 8),
        ("backend/app/agents/orchestrator.py", 2), ("backend/app/agents/orchestrator.py", 3),
        ("backend/app/api/agents.py", 2), ("docker/agents/health_agent.py", 3), ("docker/agents/runner.py", 5)]
    assert [(s["path"], s["line"], s["kind"]) for s in result["string_references"]] == [
        ("tests/test_agents.py", 15, "string"), ("tests/test_agents.py", 16, "dynamic")]
    assert result["signature_differences"] == [{"path": "backend/ai_agents/core/base_agent.py", "name": "BaseAgent",
                                                "copy": "self, name", "canonical": "self, config"}]
    assert [(u["path"], u["line"], u["column"]) for u in result["unparsed"]] == [("backend/legacy/agent_report_py2.py", 1, 61)]
    after = snapshot(root)
    assert "tests/fakes/base_agent.py" in after and after["tests/test_agents.py"] == original["tests/test_agents.py"]
    for rel in ("backend/ai_agents/orchestrator.py", "backend/app/agents/core/__init__.py", "backend/app/agents/orchestrator.py",
                "backend/app/api/agents.py", "docker/agents/health_agent.py", "docker/agents/runner.py"):
        ok, lines = _only_import_lines(_text(original, rel), _text(after, rel))
        assert ok, (rel, lines)
    ok, lines = _only_import_lines(_text(original, "backend/app/agents/core/base_agent.py"), _text(after, CANONICAL))
    assert ok and lines == ["from ...core.config import OLLAMA_URL", "from app.core.config import OLLAMA_URL"]
    # The same files fail to compile as before: the demo's Python 2 files, which never did.
    skip = _not_compiling(root, tmp_path)
    assert skip == not_compiling_before
    proc = _compileall(root, tmp_path / "pycache", skip)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    proc = _run_python(root, "import app.api.agents as api, app.agents.orchestrator as o, backend.ai_agents.orchestrator as l; "
                             "print(o.Orchestrator().idle(), l.make('x')[2], api.list_statuses())")
    assert proc.stdout == "AgentStatus.IDLE 30.0 ['idle', 'running', 'failed']\n", proc.stderr
    # The container script now needs the root (agents.core) and backend/ (app.core.config, the
    # canonical's own import) on sys.path instead of its own folder.
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([root, os.path.join(root, "backend")]), PYTHONDONTWRITEBYTECODE="1")
    proc = subprocess.run([sys.executable, "docker/agents/runner.py", "probe"], cwd=root, env=env, capture_output=True, text=True, check=False)
    assert proc.stdout == "probe\n", proc.stderr

    assert run_playbook("consolidate.yml", root, "-e", "base_agent_force=true", **kw).changed == 0
    assert run_playbook("rollback.yml", root, backup_root=backups).changed == 1
    assert snapshot(root, skip=("reports",)) == original


def test_unparsable_importer_and_dotted_import_block_with_file_line_col(generated):
    root, backups, reports, _fig = generated
    with open(os.path.join(root, "legacy/agent_py2.py"), "w") as f:
        f.write("import os\nfrom backend.ai_agents.core.base_agent import BaseAgent\nprint 'x'\n")
    with open(os.path.join(root, "backend/app/dotted.py"), "w") as f:
        f.write('"""Dotted."""\nimport backend.ai_agents.core.base_agent\n\n\ndef f():\n'
                '    return backend.ai_agents.core.base_agent.BaseAgent\n')
    original = snapshot(root)
    kw = dict(backup_root=backups, report_dir=reports, tags="base_agent")
    res = run_playbook("consolidate.yml", root, "-e", "base_agent_force=true", **kw)
    assert res.rc == 0 and res.changed == 0, res.text()
    result = res.task(TASK)
    assert result["blocked"] is True
    assert [(e["path"], e["line"], e["column"], e["kind"]) for e in result["errors"]] == [
        ("backend/app/dotted.py", 2, 8, "bare_import"), ("legacy/agent_py2.py", 2, 29, "unparsed_importer")]
    warning = [w for w in full_warnings(result) if "base_agent phase changed nothing" in w][0]
    assert "backend/app/dotted.py:2:8: 'import backend.ai_agents.core.base_agent' binds 'backend'" in warning
    assert "legacy/agent_py2.py:2:29: imports a base_agent copy" in warning
    assert snapshot(root, skip=("reports",)) == original and not os.path.exists(backups)
    strict = run_playbook("consolidate.yml", root, "-e", "base_agent_strict=true", **kw)
    assert strict.rc != 0 and "legacy/agent_py2.py:2:29" in strict.task(TASK)["msg"]


def _run_without_dac(root, backups, reports, *extra):
    """consolidate.yml --tags base_agent as root without the capabilities to read any file."""
    return run_playbook("consolidate.yml", root, *extra, tags="base_agent", backup_root=backups, report_dir=reports,
                        without_dac=True)


@pytest.mark.skipif(shutil.which("setpriv") is None or os.geteuid() != 0, reason="needs root and setpriv (util-linux)")
def test_an_unreadable_python_file_blocks(generated):
    root, backups, reports, _fig = generated
    hidden = os.path.join(root, "backend/app/private.py")
    with open(hidden, "w") as f:
        f.write("from app.agents.core.base_agent import BaseAgent\n")
    os.chmod(hidden, 0)
    before = snapshot(root)
    res = _run_without_dac(root, backups, reports)
    assert res.rc == 0, res.text()
    result = res.task(TASK)
    assert result["blocked"] is True and result["summary"]["status"] == "blocked"
    assert any("no import of a removed copy can be ruled out" in w and "backend/app/private.py" in w
               for w in full_warnings(result)), result["warnings"]
    assert snapshot(root) == before and not os.path.exists(backups)


@pytest.mark.skipif(not os.path.isdir(CORPUS), reason="shared corpus not present")
def test_corpus_has_no_base_agent_and_stays_byte_identical(tmp_path):
    root = str(tmp_path / "sutazaiapp")
    copy_corpus(root)
    original = snapshot(root)
    check = run_playbook("consolidate.yml", root, check=True, diff=True, tags="base_agent")
    assert check.rc == 0, check.text()
    result = check.task(TASK)
    assert result["changed"] is False and result["blocked"] is False
    assert result["copies"] == [] and result["canonical"] is None and result["stats"]["python_files"] == 0
    real = run_playbook("consolidate.yml", root, tags="base_agent")
    assert real.rc == 0 and real.changed == 0
    assert snapshot(root, skip=("backups", "reports")) == original
