# -*- coding: utf-8 -*-
"""Adversarial scenarios on generated demo trees, shared by the tests (which assert on the
figures) and ``tests/bench/adversarial_figures.py`` (which prints them).

Each scenario writes its own demo tree (``demo.tree.write_demo``) under a base folder, with the
journal and the reports beside the tree (``<base>/backups``, ``<base>/reports``), and returns
a dict of figures.
"""

from __future__ import annotations

import glob
import hashlib
import json
import os
import shutil
import signal
import subprocess
import time

from helpers import REPO, playbook_command, run_playbook, snapshot, write_demo

# Options under which every phase of the demo does its whole work (and writes into every
# folder it can: archives on).
FULL = ("-e", "base_agent_force=true", "-e", "services_archive_mesh=true",
        "-e", "scripts_archive_unreferenced=true")


def demo(base):
    """Write a demo tree under ``base``; return ``(root, backups, reports)``."""
    root = os.path.join(base, "root")
    write_demo(root)
    return root, os.path.join(base, "backups"), os.path.join(base, "reports")


def tree_digest(path):
    """sha256 over :func:`helpers.snapshot` of ``path`` (types, modes, bytes, link targets)."""
    h = hashlib.sha256()
    for rel, value in sorted(snapshot(path).items()):
        h.update(repr((rel, value)).encode("utf-8", "surrogateescape"))
    return h.hexdigest()


def written_folders(manifest):
    """Folders (relative) that hold at least one path of the run's journal, sorted."""
    out = set()
    for entry in manifest["entries"]:
        d = os.path.dirname(entry["path"])
        while d:
            out.add(d)
            d = os.path.dirname(d)
    return sorted(out)


def manifests(backups):
    """Parsed manifests under ``backups``, oldest first."""
    out = []
    for path in sorted(glob.glob(os.path.join(backups, "*", "manifest.json"))):
        with open(path) as f:
            out.append(json.load(f))
    out.sort(key=lambda m: (m.get("created"), m.get("created_ns") or 0))
    return out


def reference_run(base):
    """A plain real run of the whole play on a fresh demo; returns its manifest."""
    root, backups, reports = demo(base)
    run = run_playbook("consolidate.yml", root, *FULL, backup_root=backups, report_dir=reports)
    assert run.rc == 0, run.text()[-3000:]
    return manifests(backups)[-1]


# -- writes outside the root ----------------------------------------------------------------
def containment(base, folder):
    """Replace ``folder`` of a fresh demo by a symlink to a canary folder outside the root
    (its former content moved there, plus a canary file), then run the whole play in check
    mode, for real, and roll back; return the figures:

    ``{"folder", "outside_changes": {"check", "real", "rollback"}, "blocked_check",
    "blocked_real" (phase names), "refusals" (messages naming the link), "rc": {...},
    "rollback_identical" (tree back to the state before the run)}``.
    """
    root, backups, reports = demo(base)
    target = os.path.join(base, "outside", folder.replace("/", "__"))
    os.makedirs(os.path.dirname(target), exist_ok=True)
    src = os.path.join(root, folder)
    if os.path.isdir(src):
        shutil.move(src, target)
    else:
        os.makedirs(target)
    with open(os.path.join(target, "CANARY.txt"), "w") as f:
        f.write("outside the root: must never change\n")
    os.makedirs(os.path.dirname(src), exist_ok=True)
    os.symlink(target, src)
    outside = os.path.join(base, "outside")
    digest0 = tree_digest(outside)
    before = snapshot(root)
    figures = {"folder": folder, "outside_changes": {}, "rc": {}}
    check = run_playbook("consolidate.yml", root, *FULL, check=True, backup_root=backups, report_dir=reports)
    figures["outside_changes"]["check"] = int(tree_digest(outside) != digest0)
    real = run_playbook("consolidate.yml", root, *FULL, backup_root=backups, report_dir=reports)
    figures["outside_changes"]["real"] = int(tree_digest(outside) != digest0)
    rollback = run_playbook("rollback.yml", root, backup_root=backups)
    figures["outside_changes"]["rollback"] = int(tree_digest(outside) != digest0)
    figures["rc"] = {"check": check.rc, "real": real.rc, "rollback": rollback.rc}
    figures["rollback_identical"] = snapshot(root) == before

    def blocked(run):
        names = []
        for name, result in run.tasks.items():
            summary = result.get("summary") if isinstance(result, dict) else None
            if isinstance(summary, dict) and summary.get("status") == "blocked" and \
                    "outside the root" in summary.get("reason", ""):
                names.append(summary["phase"])
        return sorted(names)
    figures["blocked_check"] = blocked(check)
    figures["blocked_real"] = blocked(real)
    figures["refusals"] = sorted(set(
        line.strip() for line in (check.text() + real.text()).split("\n")
        if "is a symlink to" in line and "outside the root" in line))[:3]
    return figures


# -- two runs at once -----------------------------------------------------------------------
def two_runs(base):
    """Start two real runs of the whole play together on one fresh demo; return the figures:
    ``{"rc": [a, b], "refused", "refused_message", "refused_journal" (entries the refused run
    wrote), "second_run_changed", "rollback_identical"}``."""
    root, backups, reports = demo(base)
    before = snapshot(root)
    procs = []
    for _run in range(2):
        cmd, env = playbook_command("consolidate.yml", root, *FULL, backup_root=backups, report_dir=reports,
                                    callback="default")
        procs.append(subprocess.Popen(cmd, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                      text=True))
    outs = [p.communicate(timeout=900)[0] for p in procs]
    rcs = [p.returncode for p in procs]
    refused = [i for i, rc in enumerate(rcs) if rc != 0]
    message = ""
    if refused:
        text = outs[refused[0]]
        for line in text.split("\n"):
            if "locked by" in line:
                message = line.strip()
                break
    runs = manifests(backups)
    again = run_playbook("consolidate.yml", root, *FULL, backup_root=backups, report_dir=reports)
    rollback = run_playbook("rollback.yml", root, backup_root=backups)
    return {"rc": rcs, "refused": len(refused), "refused_message": message[:300],
            "journals": len(runs), "second_run_changed": again.changed, "rollback_rc": rollback.rc,
            "rollback_identical": snapshot(root) == before}


# -- kill -9 at journal steps ------------------------------------------------------------------
def _children():
    out = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % name) as f:
                data = f.read()
        except OSError:
            continue
        ppid = int(data[data.rfind(")") + 2:].split()[1])
        out.setdefault(ppid, []).append(int(name))
    return out


def process_tree(pid):
    """PIDs of ``pid`` and all its descendants (by parent PID, whatever their session)."""
    children = _children()
    todo, seen = [pid], []
    while todo:
        p = todo.pop()
        seen.append(p)
        todo.extend(children.get(p, []))
    return seen


def count_steps(base):
    """Run the whole play once on a fresh demo with the fault counter on; return the number of
    fault points passed (journal entries written, changes made, temporary files written)."""
    root, backups, reports = demo(base)
    counter = os.path.join(base, "counter")
    run = run_playbook("consolidate.yml", root, *FULL, backup_root=backups, report_dir=reports,
                       env={"SUTAZAI_FAULT_COUNTER": counter, "SUTAZAI_FAULT_AT": "0"})
    assert run.rc == 0, run.text()[-3000:]
    with open(counter) as f:
        return int(f.read())


def kill_at(base, number, timeout=300, rollback=True, group_only=False):
    """Run the whole play on a fresh demo, kill -9 its whole process tree when fault point
    ``number`` is reached, then roll back without force; return the figures:
    ``{"point", "step", "killed", "refused_next_run", "rollback_rc", "rollback_msg",
    "identical", "stray_temp", "lock_left"}``. With ``rollback=False`` it stops after the kill.
    With ``group_only=True`` only the process group of ``ansible-playbook`` is killed (as a
    terminal's Ctrl-C or a CI job timeout would); the module process, which Ansible's worker
    moved to a session of its own, keeps waiting at the fault point: a rollback started then is
    refused (``"refused_while_alive"``, its message in ``"alive_msg"``); then the rest of the
    tree is killed and the rollback goes on as above."""
    root, backups, reports = demo(base)
    before = snapshot(root)
    counter = os.path.join(base, "counter")
    cmd, env = playbook_command("consolidate.yml", root, *FULL, backup_root=backups, report_dir=reports,
                                env={"SUTAZAI_FAULT_COUNTER": counter, "SUTAZAI_FAULT_AT": str(number)})
    proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    paused = counter + ".paused"
    deadline = time.time() + timeout
    while time.time() < deadline and not os.path.exists(paused) and proc.poll() is None:
        time.sleep(0.05)
    figures = {"point": number, "step": None, "killed": False}
    if os.path.exists(paused):
        time.sleep(0.05)
        with open(paused) as f:
            figures["step"] = json.load(f)["step"]
        pids = process_tree(proc.pid)
        if group_only:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=60)
            early = run_playbook("rollback.yml", root, backup_root=backups)
            figures["refused_while_alive"] = early.rc != 0
            try:
                figures["alive_msg"] = early.task("Restore the run").get("msg", "")[:300]
            except KeyError:
                figures["alive_msg"] = early.text()[-300:]
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        figures["killed"] = True
    proc.wait(timeout=60)
    if not rollback:
        return figures
    nxt = run_playbook("consolidate.yml", root, *FULL, check=True, backup_root=backups, report_dir=reports)
    figures["refused_next_run"] = nxt.rc != 0
    rb = run_playbook("rollback.yml", root, backup_root=backups)
    figures["rollback_rc"] = rb.rc
    try:
        figures["rollback_msg"] = rb.task("Restore the run").get("msg", "")[:300]
    except KeyError:
        figures["rollback_msg"] = rb.text()[-300:]
    after = snapshot(root)
    figures["identical"] = after == before
    figures["stray_temp"] = sorted(rel for rel in after if ".sutazai-tmp." in rel)
    figures["lock_left"] = os.path.lexists(os.path.join(root, ".sutazai-consolidation.lock"))
    return figures


def kill_points(total, wanted=26):
    """``wanted`` fault point numbers spread evenly over ``1..total`` (first and last included)."""
    if total <= wanted:
        return list(range(1, total + 1))
    step = (total - 1) / float(wanted - 1)
    return sorted(set(int(round(1 + i * step)) for i in range(wanted)))
