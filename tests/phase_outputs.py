# -*- coding: utf-8 -*-
"""What the whole play plans on a tree, in a form that two runs (two versions of the code) can be
compared by: ``consolidate.yml --check --diff`` through the ansible.posix.json callback, every
task's result and every report file, with what varies from run to run taken out.

Normalisation (:func:`normalise`): the root, backup and report folders and the checkout become
``<root>``, ``<backups>``, ``<reports>`` and ``<repo>`` in every string; keys of :data:`VOLATILE` (timings, run ids,
timestamps, Ansible's own bookkeeping) are dropped at any depth.

Used by ``tests/integration/test_phase_outputs.py`` (compares with ``tests/golden``) and
``tests/bench/bench_real.py``; ``python tests/phase_outputs.py write`` rewrites the golden
files after an intended change of output.
"""

from __future__ import annotations

import gzip
import json
import os
import re
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)
import conftest  # noqa: E402,F401 pylint: disable=unused-import
from helpers import REPO, copy_corpus, playbook_command, write_demo  # noqa: E402

GOLDEN = os.path.join(HERE, "golden")
CORPORA = os.path.normpath(os.path.join(REPO, "..", "shared", "corpus"))

# tree name -> extra -e arguments of its run (the corpora hold invalid files and conflicts).
TREES = {
    "demo": (),
    "sutazai-v78": ("env_on_invalid=warn", "services_on_invalid=warn", "dockerfiles_on_invalid=warn",
                    "requirements_resolve=newest"),
    "sutazai-v100": ("env_on_invalid=warn", "services_on_invalid=warn", "dockerfiles_on_invalid=warn",
                     "requirements_resolve=newest"),
}

VOLATILE = frozenset(["duration", "start", "end", "delta", "run_id", "started", "finished", "created",
                      "timestamp", "time", "elapsed", "_ansible_no_log", "_ansible_verbose_always",
                      "_ansible_verbose_override", "_ansible_delegated_vars", "ansible_facts", "seconds",
                      "lock", "holder"])
"""Result keys dropped before comparing (they differ between two runs of the same code)."""

_RUN_ID_RE = re.compile(r"\b\d{8}T\d{6}(?:\.\d+)?Z?(?:-[0-9a-f]+)?\b")


def normalise(value, paths):
    """Return ``value`` (JSON data) with the ``paths`` (real path -> placeholder) replaced in
    every string, run ids replaced by ``<run>`` and :data:`VOLATILE` keys dropped."""
    if isinstance(value, dict):
        return dict((k, normalise(v, paths)) for k, v in value.items() if k not in VOLATILE)
    if isinstance(value, list):
        return [normalise(v, paths) for v in value]
    if isinstance(value, str):
        for real, placeholder in paths:
            value = value.replace(real, placeholder)
        return _RUN_ID_RE.sub("<run>", value)
    return value


def tree(name, base):
    """Write the tree ``name`` (``demo`` or a corpus folder name) under ``base``/root; return
    ``(root, backups, reports)``."""
    root = os.path.join(base, "root")
    if name == "demo":
        os.makedirs(root)
        write_demo(root)
    else:
        copy_corpus(root, os.path.join(CORPORA, name))
    return root, os.path.join(base, "backups"), os.path.join(base, "reports")


def play_outputs(root, backups, reports, extra=()):
    """Run the whole play in check mode with diff on ``root``; return ``{"rc", "tasks",
    "reports"}``: ``tasks`` the list of ``{"task", "result"}`` in run order, ``reports`` the
    report folder's files (name -> parsed JSON, or text), all normalised."""
    args = []
    for e in extra:
        args += ["-e", e]
    cmd, env = playbook_command("consolidate.yml", root, *args, check=True, diff=True, backup_root=backups,
                                report_dir=reports)
    proc = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, check=False)
    paths = sorted(((root, "<root>"), (backups, "<backups>"), (reports, "<reports>"), (REPO, "<repo>")),
                   key=lambda p: -len(p[0]))
    doc = json.loads(proc.stdout[proc.stdout.index("{"):])
    tasks = []
    for play in doc.get("plays", []):
        for task in play.get("tasks", []):
            result = task["hosts"].get("localhost", {})
            tasks.append({"task": task["task"]["name"], "result": normalise(result, paths)})
    files = {}
    if os.path.isdir(reports):
        for name in sorted(os.listdir(reports)):
            with open(os.path.join(reports, name), "rb") as f:
                raw = f.read().decode("utf-8", "replace")
            try:
                files[_RUN_ID_RE.sub("<run>", name)] = normalise(json.loads(raw), paths)
            except ValueError:
                files[_RUN_ID_RE.sub("<run>", name)] = normalise(raw, paths)
    return {"rc": proc.returncode, "tasks": tasks, "reports": files}


def differences(old, new, path="", limit=20):
    """Where the JSON data ``old`` and ``new`` differ: a list of up to ``limit`` strings
    ``path: old -> new`` (task results are named by their task name)."""
    out = []

    def walk(a, b, where):
        if len(out) >= limit:
            return
        if isinstance(a, dict) and isinstance(b, dict):
            for k in sorted(set(a) | set(b)):
                if k not in a or k not in b:
                    out.append("%s/%s: %s -> %s" % (where, k, "absent" if k not in a else "present",
                                                    "absent" if k not in b else "present"))
                else:
                    walk(a[k], b[k], "%s/%s" % (where, k))
        elif isinstance(a, list) and isinstance(b, list):
            if len(a) != len(b):
                out.append("%s: %d items -> %d items" % (where, len(a), len(b)))
            for i, (x, y) in enumerate(zip(a, b)):
                name = x.get("task") if isinstance(x, dict) and "task" in x else i
                walk(x, y, "%s[%s]" % (where, name))
        elif a != b:
            out.append("%s: %.200r -> %.200r" % (where, a, b))

    walk(old, new, path)
    return out


def golden_path(name):
    return os.path.join(GOLDEN, "%s.json.gz" % name)


def read_golden(name):
    with gzip.open(golden_path(name), "rt", encoding="utf-8") as f:
        return json.load(f)


def outputs_of(name):
    """The normalised outputs of the whole play in check mode on a fresh copy of tree ``name``."""
    with tempfile.TemporaryDirectory() as tmp:
        return play_outputs(*tree(name, tmp), extra=TREES[name])


def main(argv):
    if argv[:1] != ["write"]:
        print("usage: python tests/phase_outputs.py write [TREE...]   (rewrites tests/golden)")
        return 2
    os.makedirs(GOLDEN, exist_ok=True)
    for name in argv[1:] or sorted(TREES):
        if name != "demo" and not os.path.isdir(os.path.join(CORPORA, name)):
            print("%s: corpus absent, skipped" % name)
            continue
        out = outputs_of(name)
        with gzip.open(golden_path(name), "wt", encoding="utf-8") as f:
            json.dump(out, f, indent=1, sort_keys=True)
        figures = (name, out["rc"], len(out["tasks"]), len(out["reports"]), golden_path(name))
        print("%s: rc=%d, %d tasks, %d report files -> %s" % figures)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
