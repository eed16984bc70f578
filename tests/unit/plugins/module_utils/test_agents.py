# -*- coding: utf-8 -*-
"""Unit tests: agent identity, front matter parsing, merge and bad input, on real files."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile

import pytest

from ansible_collections.sutazai.consolidation.plugins.module_utils import _agents
from helpers import write_demo as _write_demo

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))))


@pytest.mark.parametrize("raw, expected", [
    ("claude_research-orchestrator", "research-orchestrator"),
    ("  Container_Hardware_Resource  Optimizer ", "hardware-resource-optimizer"),
    ("claude_container_x", "container-x"),
    ("__a--b__", "a-b"),
    (" system-architect", "system-architect"),
    ("General AI Assistant", "general-ai-assistant"),
])
def test_normalize_id(raw, expected):
    assert _agents.normalize_id(raw) == expected


def test_as_string_list_shapes():
    assert _agents.as_string_list("['a', 'b']") == ["a", "b"]
    assert _agents.as_string_list("Read, Edit,  Bash") == ["Read", "Edit", "Bash"]
    assert _agents.as_string_list(["x", 1, "x"]) == ["x", "1"]
    assert _agents.as_string_list("[broken, 'list'") == ["[broken", "'list'"]
    assert _agents.as_string_list(None) == []


def test_front_matter_layouts():
    valid = _agents.parse_front_matter("---\nname: a\ntools: [Read]\n---\nbody")
    assert valid["mode"] == "yaml" and valid["fields"]["name"] == "a"
    invalid = _agents.parse_front_matter("---\nname: b\ndescription: Use when: x: y\nlist:\n  - one\n  - two\n---\n")
    assert invalid["mode"] == "lines"
    assert invalid["fields"] == {"name": "b", "description": "Use when: x: y", "list": ["one", "two"]}
    fenced = _agents.parse_front_matter("```yaml\n---\nname: c\n---\n```\n")
    assert fenced["fenced"] and fenced["fields"]["name"] == "c"
    open_ = _agents.parse_front_matter("---\nname: d\ntriggers:\n\nt_one\nt_two\ntools: Read\n\n\nBody text here.\n")
    assert not open_["terminated"]
    assert open_["fields"] == {"name": "d", "triggers": ["t_one", "t_two"], "tools": "Read"}
    assert _agents.parse_front_matter("# README\n\ntext") is None
    assert _agents.parse_front_matter("") is None


@pytest.fixture
def demo(tmp_path):
    root = tmp_path / "root"
    root.mkdir()
    _write_demo(str(root))
    return root


def test_demo_merge(demo):
    plan = _agents.build_registry(str(demo))
    doc = plan.document
    agents = dict((a["id"], a) for cat in doc["agents"].values() for a in cat)
    assert len(agents) == 20 == plan.stats["agents"]
    assert [a["id"] for a in doc["agents"]["essential"]] == ["ai-agent-orchestrator", "code-assistant", "general-assistant"]
    assert [a["id"] for a in doc["agents"]["experimental"]] == ["quantum-planner"]
    assert agents["load-balancer"]["category"] == "claude"
    assert agents["dev-backend-api"]["categories"] == ["development", "backend"]
    # essential wins over markdown for the model; the conflict is listed.
    assert agents["ai-agent-orchestrator"]["model"] == "tinyllama:latest"
    conflict = [c for c in doc["conflicts"] if c["agent"] == "ai-agent-orchestrator" and c["field"] == "model"][0]
    assert conflict["chosen"] == "config/agents/essential_agents.json#agents.2"
    # unified "---" descriptions are blank: agent_registry's (with real newlines) wins.
    assert agents["sql-pro"]["description"].startswith("sql-pro agent\n\nUse this agent")
    # stringified Python list became a list; container_ prefix merged.
    assert agents["backend-api-architect"]["capabilities"] == ["deployment"]
    hw = agents["hardware-resource-optimizer"]
    assert {"file": "agents/agent_registry.json", "key": "agents.container_hardware-resource-optimizer"} in hw["sources"]
    assert all(isinstance(t, str) for a in agents.values() for t in a.get("tools", []) + a.get("capabilities", []))
    # symlinked markdown is read once, at its target.
    assert {"path": ".claude/agents/core/sql-pro.md", "reason": "symlink to .claude/agents/sql-pro.md (read there)"} in plan.skipped
    assert sorted(s["path"] for s in plan.skipped if s["reason"] == "no front matter") == [
        ".claude/agents/MIGRATION_SUMMARY.md", ".claude/agents/README.md", ".claude/agents/optimization/README.md"]
    assert any("duplicate key 'version'" in w["message"] for w in plan.warnings)
    assert any("no closing" in w["message"] for w in plan.warnings if w["path"].endswith("data-pipeline-engineer.md"))


def test_byte_stable_and_precedence_option(demo):
    a = _agents.build_registry(str(demo)).text
    b = _agents.build_registry(str(demo)).text
    assert a == b and a.endswith("}\n")
    order = ["markdown", "essential", "unified", "agent_registry", "universal"]
    plan = _agents.build_registry(str(demo), precedence=order)
    agents = dict((x["id"], x) for cat in plan.document["agents"].values() for x in cat)
    assert agents["ai-agent-orchestrator"]["model"] == "sonnet"
    with pytest.raises(ValueError):
        _agents.build_registry(str(demo), precedence=["essential"])


def test_malformed_json_names_file_line_column(demo):
    (demo / "config/universal_agents.json").write_bytes(b'{\n  "initial_agents": [\n    {"id": "x",}\n  ]\n}\n')
    plan = _agents.build_registry(str(demo))
    assert plan.document is None
    assert plan.invalid == [{"path": "config/universal_agents.json", "line": 3, "column": 16,
                             "kind": "invalid_json", "message": "invalid JSON: Expecting property name enclosed in double quotes"}]
    warned = _agents.build_registry(str(demo), on_invalid="warn")
    assert warned.document is not None and warned.stats["json_files"] == 3
    assert "config/universal_agents.json" not in warned.document["generated_from"]


def test_wrong_shape_is_invalid(demo):
    (demo / "config/agents/essential_agents.json").write_text('{"agent": []}')
    plan = _agents.build_registry(str(demo))
    assert plan.invalid[0]["kind"] == "invalid_shape"


def test_empty_bom_crlf_non_utf8(demo):
    (demo / "config/universal_agents.json").write_bytes(b"")
    data = (demo / "config/agents/essential_agents.json").read_bytes()
    (demo / "config/agents/essential_agents.json").write_bytes(b"\xef\xbb\xbf" + data.replace(b"\n", b"\r\n"))
    (demo / ".claude/agents/sql-pro.md").write_bytes(b"---\nname: sql-pro\ndescription: caf\xe9\n---\n")
    plan = _agents.build_registry(str(demo), on_invalid="warn")
    assert {"path": "config/universal_agents.json", "message": "empty file: no agents read"} in plan.warnings
    assert len(plan.document["agents"]["essential"]) == 3
    assert plan.invalid == [{"path": ".claude/agents/sql-pro.md", "line": 3, "column": 17,
                             "kind": "not_utf8", "message": "not valid UTF-8 (byte 0xe9)"}]
    assert _agents.build_registry(str(demo)).document is None


def test_symlink_loop_in_markdown_and_json(demo):
    os.symlink("loop-b.md", str(demo / ".claude/agents/loop-a.md"))
    os.symlink("loop-a.md", str(demo / ".claude/agents/loop-b.md"))
    os.symlink("..", str(demo / ".claude/agents/optimization/up"))
    plan = _agents.build_registry(str(demo))
    assert plan.document is not None
    reasons = dict((s["path"], s["reason"]) for s in plan.skipped)
    assert reasons[".claude/agents/loop-a.md"] == "symlink loop"
    assert reasons[".claude/agents/optimization/up"] == "symlink loop"
    os.unlink(str(demo / "agents/agent_registry.json"))
    os.symlink("agent_registry.json", str(demo / "agents/agent_registry.json"))
    plan = _agents.build_registry(str(demo))
    assert plan.document is None and plan.invalid[0]["kind"] == "symlink_loop"


@pytest.mark.skipif(os.geteuid() != 0 or not os.path.exists("/usr/bin/setpriv"), reason="needs root and setpriv")
def test_unreadable_file_as_unprivileged_user():
    base = tempfile.mkdtemp(prefix="sutazai-unreadable-")
    try:
        os.chmod(base, 0o755)
        root = os.path.join(base, "root")
        os.mkdir(root)
        _write_demo(root)
        for d, dirs, files in os.walk(root):
            os.chmod(d, 0o755)
        os.chmod(os.path.join(root, ".claude/agents/sql-pro.md"), 0o000)
        # A copy of module_utils the unprivileged user can read (the checkout may sit in a 0700 folder).
        utils = os.path.join(base, "path", "ansible_collections", "sutazai", "consolidation", "plugins", "module_utils")
        shutil.copytree(os.path.join(REPO, "plugins", "module_utils"), utils,
                        ignore=shutil.ignore_patterns("__pycache__"))
        for d, dirs, files in os.walk(os.path.join(base, "path")):
            os.chmod(d, 0o755)
            for f in files:
                os.chmod(os.path.join(d, f), 0o644)
        code = ("import json, sys; sys.path.insert(0, %r)\n"
                "from ansible_collections.sutazai.consolidation.plugins.module_utils import _agents\n"
                "p = _agents.build_registry(%r)\n"
                "print(json.dumps([p.document is None, p.invalid]))" % (os.path.join(base, "path"), root))
        out = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "/usr/bin/python3", "-c", code],
                             capture_output=True, text=True, cwd=base, check=False)
        assert out.returncode == 0, out.stderr
        blocked, invalid = json.loads(out.stdout)
        assert blocked is True
        assert invalid[0]["path"] == ".claude/agents/sql-pro.md" and invalid[0]["kind"] == "unreadable"
        assert "permission denied" in invalid[0]["message"]
    finally:
        subprocess.run(["rm", "-rf", base], check=True)


def test_carry_over_after_remove_sources(demo):
    first = _agents.build_registry(str(demo))
    out = demo / _agents.DEFAULT_OUTPUT
    out.write_text(first.text)
    for rel in ("agents/agent_registry.json", "config/agents/unified_agent_registry.json",
                "config/agents/essential_agents.json", "config/universal_agents.json"):
        os.unlink(str(demo / rel))
    second = _agents.build_registry(str(demo))
    assert second.text == first.text
    assert second.stats["carried_over"] == 16


def test_rewrite_registry_path_keeps_everything_else():
    src = ('"""Doc."""\nimport os\n\nAGENT_REGISTRY_PATH = \'/old/path.json\'  # keep me\n\n'
           'def f():\n    AGENT_REGISTRY_PATH = "local"\n    return AGENT_REGISTRY_PATH\n')
    new, status = _agents.rewrite_registry_path(src, "/opt/sutazaiapp/config/agents/master_registry.json")
    assert status == "changed"
    assert new == src.replace("'/old/path.json'", "'/opt/sutazaiapp/config/agents/master_registry.json'")
    again, status = _agents.rewrite_registry_path(new, "/opt/sutazaiapp/config/agents/master_registry.json")
    assert (again, status) == (new, "unchanged")
    assert _agents.rewrite_registry_path("X = 1\n", "/p")[1] == "missing"
    typed, status = _agents.rewrite_registry_path("from pathlib import Path\nAGENT_REGISTRY_PATH: Path = Path('a') / 'b'\n", "/p")
    assert status == "changed" and typed.endswith('AGENT_REGISTRY_PATH: Path = "/p"\n')


def test_rewrite_registry_path_syntax_error_position():
    from ansible_collections.sutazai.consolidation.plugins.module_utils._errors import ConsolidationError
    with pytest.raises(ConsolidationError) as err:
        _agents.rewrite_registry_path("x = (\n", "/p")
    assert err.value.kind == "invalid_python" and err.value.line is not None
