"""Every module's EXAMPLES block, as pasted, runs in check mode on the demo platform tree: the
examples' platform root (/opt/sutazaiapp) becomes a demo tree, nothing else is edited. The tree
stays byte-identical."""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys

import pytest
import yaml

from helpers import BIN, REPO, snapshot, write_demo

MODULES = sorted(f[:-3] for f in os.listdir(os.path.join(REPO, "plugins", "modules")) if f.endswith(".py"))


def examples(module):
    """The EXAMPLES text of ``plugins/modules/<module>.py`` (str)."""
    with open(os.path.join(REPO, "plugins", "modules", module + ".py")) as f:
        tree = ast.parse(f.read())
    for node in tree.body:
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == "EXAMPLES":
            return node.value.value
    raise AssertionError("%s has no EXAMPLES" % module)


@pytest.mark.parametrize("module", MODULES)
def test_examples_run_as_pasted_in_check_mode(module, tmp_path):
    root = str(tmp_path / "sutazaiapp")
    write_demo(root)
    before = snapshot(root)
    text = examples(module)
    tasks = yaml.safe_load(text)
    assert isinstance(tasks, list) and tasks, text
    assert any(("sutazai.consolidation.%s" % module) in t for t in tasks), tasks
    playbook = tmp_path / "examples.yml"
    playbook.write_text(yaml.safe_dump([{"name": "EXAMPLES of %s" % module, "hosts": "localhost",
                                         "gather_facts": False, "tasks": yaml.safe_load(text.replace("/opt/sutazaiapp", root))}]))
    env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(REPO, "ansible.cfg"),
               ANSIBLE_COLLECTIONS_PATH=os.path.join(REPO, ".build", "pytest"), ANSIBLE_NOCOLOR="1")
    run = subprocess.run([os.path.join(BIN, "ansible-playbook"), "-i", "localhost,", "-c", "local",
                          "-e", "ansible_python_interpreter=%s" % sys.executable, "--check", str(playbook)],
                         capture_output=True, text=True, env=env, cwd=str(tmp_path), check=False)
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    # Every example task ran (a module may report itself skipped: compose_secrets without .env.master).
    recap = re.search(r"localhost\s+: ok=(\d+)\s+changed=\d+\s+unreachable=0\s+failed=0\s+skipped=(\d+)", run.stdout)
    assert recap and int(recap.group(1)) + int(recap.group(2)) == len(tasks), run.stdout[-2000:]
    assert snapshot(root) == before
