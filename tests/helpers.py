# -*- coding: utf-8 -*-
"""Run the collection's playbooks on localhost and read their results (ansible.posix.json callback)."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.dirname(sys.executable)
CORPUS = os.path.normpath(os.path.join(REPO, "..", "shared", "corpus", "sutazai-v100"))


def full_warnings(result):
    """The whole texts of a phase task's warnings: the console gets one short line each
    (``result["warnings"]``), the summary (and the run report) the whole texts."""
    return (result.get("summary") or {}).get("warnings") or result.get("warnings") or []


class PlaybookRun(object):
    """Result of one ansible-playbook run: ``rc``, ``stats`` (changed/failed per host),
    ``tasks`` (task name -> localhost result dict) and the raw ``stdout``/``stderr``."""

    def __init__(self, proc):
        self.rc = proc.returncode
        self.stdout = proc.stdout
        self.stderr = proc.stderr
        self.tasks = {}
        self.stats = {}
        try:
            doc = json.loads(proc.stdout[proc.stdout.index("{"):])
        except ValueError:
            return
        for play in doc.get("plays", []):
            for task in play.get("tasks", []):
                name = task["task"]["name"]
                self.tasks[name] = task["hosts"].get("localhost", {})
        self.stats = doc.get("stats", {}).get("localhost", {})

    @property
    def changed(self):
        return self.stats.get("changed", 0)

    def task(self, prefix):
        for name, result in self.tasks.items():
            if prefix in name:
                return result
        raise KeyError(prefix)

    def text(self):
        return self.stdout + self.stderr

    def summary(self):
        """The lines the report role printed (its ``msg``: a list of str, or one str of lines under
        the yaml result format) joined by newlines, with
        each table row's wrapped item text joined back onto the row (continuation lines have an
        empty phase cell)."""
        out = []
        msg = self.task("Show the run summary")["msg"]
        for line in msg.split("\n") if isinstance(msg, str) else msg:
            cells = (line + "   ").split(" | ")  # fmt() strips the empty last cells
            if len(cells) == 5 and not cells[0].strip() and out and len(out[-1]) == 5:
                prev = out[-1]
                prev[2] = prev[2].rstrip() + " " + cells[2].strip()
                for i in (3, 4):
                    prev[i] = prev[i] if cells[i].strip() == "" else prev[i] + " " + cells[i].strip()
                continue
            out.append(cells if len(cells) == 5 else line)
        return "\n".join(" | ".join(x).rstrip() if isinstance(x, list) else x for x in out)


# setpriv arguments that drop root's capabilities to read and search any file, so that a
# mode-000 file is really unreadable to the play (plain root reads everything).
WITHOUT_DAC = ["setpriv", "--inh-caps=-dac_override,-dac_read_search", "--bounding-set=-dac_override,-dac_read_search"]


def playbook_command(playbook, root, *extra, check=False, diff=False, tags=None, backup_root=None, report_dir=None,
                     callback="ansible.posix.json", without_dac=False, env=None):
    """Return ``(argv, environ)`` running ``playbooks/<playbook>`` against localhost on ``root``
    (see :func:`run_playbook` for the options; ``env``: extra environment variables)."""
    cmd = list(WITHOUT_DAC) if without_dac else []
    cmd += [os.path.join(BIN, "ansible-playbook"), "-i", "localhost,", "-c", "local",
            os.path.join("playbooks", playbook), "-e", "sutazai_root=%s" % root,
            # The collection ships no host_vars: the tests run the modules with the project's
            # virtualenv (interpreter discovery picks a missing pyenv shim on these machines).
            "-e", "ansible_python_interpreter=%s" % os.path.join(BIN, "python")]
    if backup_root:
        cmd += ["-e", "sutazai_backup_root=%s" % backup_root]
    if report_dir:
        cmd += ["-e", "sutazai_report_dir=%s" % report_dir]
    if check:
        cmd.append("--check")
    if diff:
        cmd.append("--diff")
    if tags:
        cmd += ["--tags", tags]
    cmd += list(extra)
    # The checkout itself is the collection (tests/conftest.py links it under .build/pytest), so
    # tests see the working tree without `make collection`; Molecule tests the built artifact.
    environ = dict(os.environ, ANSIBLE_CONFIG=os.path.join(REPO, "ansible.cfg"),
                   ANSIBLE_COLLECTIONS_PATH=os.path.join(REPO, ".build", "pytest"),
                   ANSIBLE_STDOUT_CALLBACK=callback, ANSIBLE_NOCOLOR="1",
                   PATH=BIN + os.pathsep + os.environ.get("PATH", ""))
    environ.update(env or {})
    return cmd, environ


def run_playbook(playbook, root, *extra, check=False, diff=False, tags=None, backup_root=None, report_dir=None,
                 callback="ansible.posix.json", without_dac=False, env=None):
    """Run ``playbooks/<playbook>`` against localhost on ``root``; return a :class:`PlaybookRun`.

    ``callback``: stdout callback; the default (json) fills ``PlaybookRun.tasks``; pass
    ``"default"`` to get the text a user sees (``tasks`` is then empty).
    ``without_dac``: run as root without CAP_DAC_OVERRIDE/CAP_DAC_READ_SEARCH (:data:`WITHOUT_DAC`).
    ``env``: extra environment variables."""
    cmd, environ = playbook_command(playbook, root, *extra, check=check, diff=diff, tags=tags,
                                    backup_root=backup_root, report_dir=report_dir, callback=callback,
                                    without_dac=without_dac, env=env)
    proc = subprocess.run(cmd, cwd=REPO, env=environ, capture_output=True, text=True, check=False)
    return PlaybookRun(proc)


def snapshot(root, skip=()):
    """Map every path under ``root`` (not following symlinks) to its type, mode and content.

    ``skip``: top-level names left out (e.g. the backup and report folders)."""
    out = {}
    for d, dirs, files in os.walk(root):
        if d == root:
            dirs[:] = [x for x in dirs if x not in skip]
            files = [x for x in files if x not in skip]
        for name in dirs + files:
            p = os.path.join(d, name)
            st = os.lstat(p)
            rel = os.path.relpath(p, root)
            if stat.S_ISLNK(st.st_mode):
                out[rel] = ("link", os.readlink(p))
            elif stat.S_ISDIR(st.st_mode):
                out[rel] = ("dir", stat.S_IMODE(st.st_mode))
            else:
                with open(p, "rb") as f:
                    out[rel] = ("file", stat.S_IMODE(st.st_mode), f.read())
    return out


def write_demo(root, scale=1):
    """Write the embedded demo platform under ``root`` (the generator the demo_platform module uses)."""
    from ansible_collections.sutazai.consolidation.plugins.module_utils.demo.tree import write_demo as _write

    return _write(root, scale)


def copy_corpus(dest, source=CORPUS):
    """Copy the shared corpus ``source`` (default: sutazai-v100) to ``dest`` (writable copy); the
    corpus itself is never changed."""
    shutil.copytree(source, dest, symlinks=True)
    for d, dirs, files in os.walk(dest):
        os.chmod(d, 0o755)
        for f in files:
            p = os.path.join(d, f)
            if not os.path.islink(p):
                os.chmod(p, 0o644)


def master_agents(root):
    with open(os.path.join(root, "config/agents/master_registry.json"), "rb") as f:
        doc = json.loads(f.read().decode("utf-8"))
    return [a for cat in doc["agents"].values() for a in cat]
