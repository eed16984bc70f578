# -*- coding: utf-8 -*-
"""Integration: the play-wide settings are role defaults, so a user's inventory wins, and a phase
role works alone from a user's own playbook with only ``sutazai_root`` set.

Order: check (nothing written) -> real (journaled under a run of its own, lock released) ->
idempotent -> rollback byte-identical.
"""

from __future__ import annotations

import json
import os
import subprocess

from helpers import BIN, REPO, run_playbook, snapshot, write_demo


def _user_run(tmp_path, playbook_text, inventory_text, *extra):
    """Run ``playbook_text`` from an unrelated folder with the user's own inventory (its
    group_vars beside it); return the CompletedProcess (json callback)."""
    work = tmp_path / "user"
    (work / "inventory" / "group_vars").mkdir(parents=True, exist_ok=True)
    (work / "inventory" / "hosts.yml").write_text(inventory_text)
    (work / "site.yml").write_text(playbook_text)
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=os.path.join(REPO, ".build", "pytest"),
               ANSIBLE_STDOUT_CALLBACK="ansible.posix.json", ANSIBLE_NOCOLOR="1")
    env.pop("ANSIBLE_CONFIG", None)
    cmd = [os.path.join(BIN, "ansible-playbook"), "-i", str(work / "inventory"), "site.yml"] + list(extra)
    return subprocess.run(cmd, cwd=str(work), env=env, capture_output=True, text=True, check=False)


def _inventory(root, **group_vars):
    lines = ["all:", "  hosts:", "    localhost:", "      ansible_connection: local",
             "      ansible_python_interpreter: %s" % os.path.join(BIN, "python"), "  vars:",
             "    sutazai_root: %s" % root]
    lines += ["    %s: %s" % kv for kv in group_vars.items()]
    return "\n".join(lines) + "\n"


def _stats(proc):
    doc = json.loads(proc.stdout[proc.stdout.index("{"):])
    return doc["stats"]["localhost"], doc


def test_inventory_root_is_honoured_by_the_whole_play(tmp_path):
    root = tmp_path / "tree"
    root.mkdir()
    write_demo(str(root))
    original = snapshot(str(root))
    play = "- ansible.builtin.import_playbook: %s\n" % os.path.join(REPO, "playbooks", "consolidate.yml")
    proc = _user_run(tmp_path, play, _inventory(str(root)), "--check", "--tags", "agents")
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    stats, doc = _stats(proc)
    assert stats["changed"] >= 1  # the demo's registries would be merged: the inventory's root was used
    args = [t["hosts"]["localhost"].get("invocation", {}).get("module_args", {}) for t in doc["plays"][0]["tasks"]]
    assert any(a.get("root") == str(root) for a in args)
    assert not any(str(a.get("root", "")).startswith("/opt/sutazaiapp") for a in args)
    assert snapshot(str(root)) == original


def test_a_phase_role_alone_with_only_the_root_set(tmp_path):
    root = tmp_path / "tree"
    root.mkdir()
    write_demo(str(root))
    original = snapshot(str(root))
    play = ("- name: The user's own play\n  hosts: all\n  gather_facts: false\n  roles:\n"
            "    - role: sutazai.consolidation.agents\n")
    inventory = _inventory(str(root))

    check = _user_run(tmp_path, play, inventory, "--check")
    assert check.returncode == 0, check.stdout[-3000:] + check.stderr[-2000:]
    assert _stats(check)[0]["changed"] == 1
    assert snapshot(str(root)) == original

    real = _user_run(tmp_path, play, inventory)
    assert real.returncode == 0, real.stdout[-3000:] + real.stderr[-2000:]
    assert _stats(real)[0]["changed"] == 1
    backups = root / "backups"
    runs = [r for r in os.listdir(str(backups)) if not r.startswith(".")]
    assert len(runs) == 1
    with open(str(backups / runs[0] / "manifest.json")) as f:
        assert json.load(f)["complete"] is True
    assert not os.path.exists(str(root / ".sutazai-consolidation.lock"))

    again = _user_run(tmp_path, play, inventory)
    assert again.returncode == 0 and _stats(again)[0]["changed"] == 0

    back = run_playbook("rollback.yml", str(root), "-e", "sutazai_run_id=%s" % runs[0])
    assert back.rc == 0, back.text()
    assert snapshot(str(root), skip=("backups",)) == original
