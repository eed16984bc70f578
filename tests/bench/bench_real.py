#!/usr/bin/env python
# -*- coding: utf-8 -*-
"""Speed of the whole play on the real corpora. Prints figures; asserts nothing about time.

Three tables, each on fresh copies (the corpora in ``../shared/corpus`` are never changed):

1. **Whole play against Ansible's floor.** For each corpus, ``consolidate.yml --check`` (the
   options the corpora need: ``*_on_invalid=warn``, ``requirements_resolve=newest``), wall time,
   best of ``--runs``; then, in the same run, two no-op plays: *tasks* -- as many
   ``ansible.builtin.ping`` tasks as the real play has tasks (Ansible's cost of running that
   many module tasks; the ratio the speed target is stated in) -- and *shape* -- one task per
   task of the real play: ``ping`` where the real task ran a module on the host,
   ``ansible.builtin.set_fact`` where it ran on the controller only, a skipped ``debug`` where
   it was skipped (the stricter floor). Printed: the times and both ratios.
2. **Module work per phase on the v78 copy.** Every collection module the play ran, with the
   arguments it ran with (``invocation.module_args`` of the play's results), run in-process in
   check mode with diff (the code path under Ansible, without Python start-up), best of 3.
3. **Growth.** Generated trees 1x and 10x the v78 copy (:func:`scale_tree`: the corpus, and
   for 10x nine copies of each of its top-level folders, each inside the folder it copies, with
   the folder names inside renamed so that each copy is its own set of Python packages,
   Dockerfiles and scripts, except the names the phases exclude; each script under a script root
   made distinct from its other copies by a trailer of its own words, the corpus's own scripts
   included, so that the 10x tree holds ten times the 1x tree's script text; copies renamed):
   module work per phase at 1x and 10x and the ratio.

Usage: ``python tests/bench/bench_real.py [--runs N] [--scale K] [--skip-play]`` (``make bench``).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from bench_phases import REPO, best_of, run_module  # noqa: E402

sys.path.insert(0, os.path.join(REPO, "tests"))
import phase_outputs  # noqa: E402
from helpers import playbook_command  # noqa: E402

NOT_PHASES = ("run_lock",)
"""Modules of the play not timed in-process (they take and release the run lock)."""


def run_play(root, backups, reports, extra):
    """Run ``consolidate.yml --check`` on ``root``; return ``(seconds, json document)``."""
    args = []
    for e in extra:
        args += ["-e", e]
    cmd, env = playbook_command("consolidate.yml", root, *args, check=True, backup_root=backups, report_dir=reports)
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, check=False)
    secs = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit("consolidate.yml --check failed (rc %d): %s" % (proc.returncode, proc.stderr[-2000:]))
    return secs, json.loads(proc.stdout[proc.stdout.index("{"):])


def task_shape(doc):
    """The play's tasks as a list of ``(kind, action, module_args)``: kind ``module`` (ran a
    module on the host), ``controller`` or ``skipped``."""
    out = []
    for play in doc.get("plays", []):
        for task in play.get("tasks", []):
            res = task["hosts"].get("localhost", {})
            if res.get("skipped"):
                out.append(("skipped", res.get("action"), None))
            elif "invocation" in res:
                out.append(("module", res.get("action"), res["invocation"].get("module_args") or {}))
            else:
                out.append(("controller", res.get("action"), None))
    return out


NOOP_TASK = {
    "module": {"ansible.builtin.ping": {}},
    "controller": {"ansible.builtin.set_fact": {"bench_noop": True}},
    "skipped": {"ansible.builtin.debug": {"msg": "skipped"}, "when": False},
}


def noop_play(shape, path, same_shape=True):
    """Write the no-op play of ``shape`` (see the module doc) to ``path``: one ``ping`` per task
    (``same_shape`` false) or one task of the same kind per task."""
    tasks = []
    for i, (kind, dummy, dummy2) in enumerate(shape):
        kind = kind if same_shape else "module"
        task = {"name": "no-op %d (%s)" % (i, kind)}
        task.update(NOOP_TASK[kind])
        tasks.append(task)
    play = [{"name": "No-op play of the same shape", "hosts": "all", "gather_facts": False,
             # as tests/helpers.py sets it for the real play
             "vars": {"ansible_python_interpreter": "{{ ansible_playbook_python }}"}, "tasks": tasks}]
    with open(path, "w", encoding="utf-8") as f:
        json.dump(play, f, indent=1)  # JSON is YAML


def run_noop(path):
    cmd, env = playbook_command("consolidate.yml", "/nonexistent")
    cmd = cmd[:cmd.index(os.path.join("playbooks", "consolidate.yml"))] + [path]
    t0 = time.perf_counter()
    subprocess.run(cmd, cwd=REPO, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - t0


def modules_of(shape, root, at_root):
    """``(module name, args)`` for every collection module task of ``shape``, with the root the
    play ran on (``at_root``) replaced by ``root``."""
    out = []
    for kind, action, args in shape:
        if kind != "module" or not (action or "").startswith("sutazai.consolidation."):
            continue
        name = action.rsplit(".", 1)[-1]
        if name in NOT_PHASES:
            continue
        text = json.dumps(dict((k, v) for k, v in args.items() if v is not None)).replace(at_root, root)
        out.append((name, json.loads(text)))
    return out


def module_work(modules, runs=3):
    """Best-of-``runs`` seconds of each module run in-process: list of ``(name, seconds)``."""
    return [(name, best_of(lambda a=args, n=name: run_module(n, a), runs)[0]) for name, args in modules]


def _kept_names():
    """Folder names the phases treat by name (their default excludes: tests, backups, archives,
    node_modules...): a copy keeps them, so that it is excluded (or not) as the original is."""
    from ansible_collections.sutazai.consolidation.plugins.module_utils import (
        _dockerfiles, _requirements, _scripts, _terms, _tree)
    names = set(_tree.DEFAULT_EXCLUDES) | set(_dockerfiles.DEFAULT_EXCLUDE_DIRS)
    names |= set(_requirements.DEFAULT_EXCLUDE_DIRS) | set(_scripts.DEFAULT_EXCLUDE_DIRS)
    names |= set(p for p in _terms.DEFAULT_EXCLUDE if "/" not in p)
    return names


def copy_trailer(data, name, k):
    """The line appended to the Python or shell script ``name`` (bytes ``data``) in copy ``k``
    of :func:`scale_tree` (bytes; ``b""`` for other files): a no-op statement (``_bench_copy =
    "..."`` in Python, ``: '...'`` in shell) holding every third word of the file (words as the
    near-duplicate search counts them) and its first five, each reversed and prefixed ``x<k>``.
    Copies of one script are then distinct in their bytes, their normal form and their word
    shingles (Jaccard about 0.75 between copies, under the near-duplicate threshold), as the
    scripts of a larger real tree are, and about a third larger; scripts equal or alike inside
    one copy stay so, as in the corpus. The words never hold a path, a module or a term of the
    original."""
    from ansible_collections.sutazai.consolidation.plugins.module_utils import _scripts

    if name.endswith(".py"):
        head, tail = b'\n_bench_copy = "', b'"\n'
    elif name.endswith(".sh"):
        head, tail = b"\n: '", b"'\n"
    else:
        return b""
    prefix = b"x%d" % k
    words = _scripts._WORD.findall(data)
    return head + b" ".join(prefix + w[::-1] for w in words[::3] + words[:5]) + tail


def _copy_name(name, rel, k, script_roots, keep):
    """Name of file ``name`` of folder ``rel`` (list of parts from the root) in copy ``k``: a
    Python or shell script under a script root gets ``_x<k>`` after its stem, unless the
    scripts phase keeps it by name (``__init__.py``, ``test_*.py``...), so that the copies of
    a script do not share its name (a mention of ``deploy.sh`` names the original only, as in
    a larger real tree); other files keep their names."""
    stem, ext = os.path.splitext(name)
    from ansible_collections.sutazai.consolidation.plugins.module_utils import _scripts
    if ext not in (".py", ".sh") or rel[0] not in script_roots or _scripts._keep_by_name(name, keep):
        return name
    return "%s_x%d%s" % (stem, k, ext)


def scale_tree(src, dest, factor):
    """Write ``src`` (copy 0) and ``factor - 1`` copies of each of its top-level folders into ``dest``.

    Copy ``k`` of top-level folder ``D`` is ``D/D_x<k>`` (inside ``D``, so that it is under the
    same script root, excluded folder or phase folder as ``D``), and every folder inside it is
    renamed ``<name>_x<k>``, so that each copy holds its own Python packages (no import of one
    copy resolves into another), Dockerfiles, scripts, agent and config files; folder names the
    phases exclude by name (:func:`_kept_names`) are kept, so a copy of ``backend/tests`` is
    excluded like the original. The Python and shell files under a script root get
    :func:`copy_trailer` and are renamed by :func:`_copy_name`, so that the copies of a script
    are neither duplicates of each other nor namesakes (ten identical sets of scripts would be
    90 % duplicates, another mix than the corpus's); every other file is copied as it is.
    Copy 0 keeps its names and gets the trailers of ``k = 0`` (so the tree of ``factor`` 1 and
    each copy of a larger one hold the same amount of script text). Top-level files are not
    copied. Returns the number of files written (int)."""
    shutil.copytree(src, dest, symlinks=True)
    kept = _kept_names()
    from ansible_collections.sutazai.consolidation.plugins.module_utils import _scripts
    script_roots, keep = set(_scripts.DEFAULT_ROOTS), _scripts.DEFAULT_KEEP_NAMES
    tops = sorted(n for n in os.listdir(src) if os.path.isdir(os.path.join(src, n))
                  and not os.path.islink(os.path.join(src, n)))
    for k in range(factor):
        suffix = "_x%d" % k
        # Copy 0 is the tree copytree wrote: only its scripts are written again, with their trailers.
        for top in (sorted(script_roots & set(tops)) if k == 0 else tops):
            for d, dirs, files in os.walk(os.path.join(src, top)):
                rel = os.path.relpath(d, src).split(os.sep)
                if k == 0:
                    target = os.path.join(dest, *rel)
                else:
                    inner = [p if p in kept else p + suffix for p in rel[1:]]
                    target = os.path.join(dest, top, top + suffix, *inner)
                    os.makedirs(target, exist_ok=True)
                for name in files:
                    s = os.path.join(d, name)
                    if os.path.islink(s):
                        continue
                    with open(s, "rb") as fh:
                        data = fh.read()
                    out = os.path.join(target, name if k == 0 else _copy_name(name, rel, k, script_roots, keep))
                    with open(out, "wb") as fh:
                        fh.write(data + copy_trailer(data, name, k) if top in script_roots else data)
                    shutil.copymode(s, out)
    return sum(len(files) for dummy, dummy2, files in os.walk(dest))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1, help="whole-play runs per tree, best taken (default 1)")
    parser.add_argument("--scale", type=int, default=10, help="size of the generated tree, times v78 (default 10)")
    parser.add_argument("--skip-play", action="store_true", help="only the module tables")
    parser.add_argument("--skip-growth", action="store_true", help="no growth table")
    args = parser.parse_args(argv)
    v78 = os.path.join(phase_outputs.CORPORA, "sutazai-v78")
    if not os.path.isdir(v78):
        raise SystemExit("corpus %s absent" % v78)
    with tempfile.TemporaryDirectory() as tmp:
        shapes = {}
        print("1. Whole play --check against no-op plays (best of %d)" % args.runs)
        header = ("tree", "files", "py", "tasks", "play s", "tasks s", "ratio", "shape s", "ratio")
        print("%-14s %7s %7s %6s %8s %8s %7s %8s %7s" % header)
        for name in ("sutazai-v78", "sutazai-v100"):
            if not os.path.isdir(os.path.join(phase_outputs.CORPORA, name)):
                print("%-14s corpus absent" % name)
                continue
            root, backups, reports = phase_outputs.tree(name, os.path.join(tmp, name))
            files = [f for dummy, dummy2, fs in os.walk(root) for f in fs]
            times = []
            for dummy in range(1 if args.skip_play else args.runs):
                secs, doc = run_play(root, backups, reports, phase_outputs.TREES[name])
                times.append(secs)
            shapes[name] = (root, task_shape(doc))
            if args.skip_play:
                continue
            floors = []
            for same in (False, True):
                noop = os.path.join(tmp, "noop-%s-%s.yml" % (name, same))
                noop_play(shapes[name][1], noop, same_shape=same)
                floors.append(min(run_noop(noop) for dummy in range(args.runs)))
            play = min(times)
            print("%-14s %7d %7d %6d %8.1f %8.1f %6.2fx %8.1f %6.2fx" % (
                name, len(files), sum(1 for f in files if f.endswith(".py")), len(shapes[name][1]), play,
                floors[0], play / floors[0], floors[1], play / floors[1]))
        root, shape = shapes["sutazai-v78"]
        print()
        print("2. Module work per phase on the sutazai-v78 copy (in-process, check mode, diff, best of 3)")
        one = module_work(modules_of(shape, root, root))
        for name, secs in one:
            print("%-24s %7.2f s" % (name, secs))
        print("%-24s %7.2f s" % ("total", sum(s for dummy, s in one)))
        if args.skip_growth:
            return
        print()
        small, big = os.path.join(tmp, "scaled1", "root"), os.path.join(tmp, "scaled", "root")
        files = (scale_tree(root, small, 1), scale_tree(root, big, args.scale))
        print("3. Growth: module work on generated trees at 1x (%d files) and %dx (%d files), best of 3"
              % (files[0], args.scale, files[1]))
        one = module_work(modules_of(shape, small, root))
        many = module_work(modules_of(shape, big, root))
        print("%-24s %7s %7s %7s" % ("module", "1x s", "%dx s" % args.scale, "ratio"))
        for (name, a), (dummy, b) in zip(one, many):
            print("%-24s %7.2f %7.2f %6.1fx" % (name, a, b, b / a if a else float("nan")))


if __name__ == "__main__":
    main()
