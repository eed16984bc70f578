#!/usr/bin/env python
# -*- coding: utf-8 -*-
"""Benchmark of the agents phase (issue 2). Prints figures; asserts nothing about time.

For the real corpus (../shared/corpus/sutazai-v100, when present) and a generated tree ten
times its size (every JSON agent and markdown file replicated ten times under new ids), it prints:

* module work: the agent_registry module's own work in-process (read, parse, merge, serialize,
  plan changes, diff), best of 5 runs, in seconds;
* phase wall time: ``ansible-playbook consolidate.yml --check --tags agents`` end to end.

Without the corpus, the demo platform at scale 8 (about 330 agents) stands in for it.
Target (issue 2): module work under 1 s on the corpus; 10x input <= 12x time.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, "tests"))
# conftest makes ansible_collections.sutazai.consolidation importable.
import conftest  # noqa: E402,F401 pylint: disable=unused-import
from helpers import CORPUS, copy_corpus, write_demo  # noqa: E402

from ansible_collections.sutazai.consolidation.plugins.module_utils import _agents  # noqa: E402
from ansible_collections.sutazai.consolidation.plugins.module_utils._changes import ChangeSet  # noqa: E402


def module_work(root):
    plan = _agents.build_registry(root)
    changes = ChangeSet(root)
    changes.write(_agents.DEFAULT_OUTPUT, plan.text.encode("utf-8"))
    changes.diffs()
    return plan.stats["agents"]


def best_of(fn, n=5):
    times = []
    result = None
    for dummy in range(n):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return min(times), result


def phase_wall(root):
    env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(REPO, "ansible.cfg"))
    cmd = [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-i", "localhost,", "-c", "local",
           "playbooks/consolidate.yml", "-e", "sutazai_root=%s" % root, "--check", "--tags", "agents"]
    t0 = time.perf_counter()
    subprocess.run(cmd, cwd=REPO, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - t0


def replicate(src, dest, factor):
    """Make a tree ``factor`` times the size of ``src``: each JSON agent and markdown agent
    file is repeated under ids suffixed ``-rN`` (so the copies merge as the originals do)."""
    os.makedirs(dest)
    for name, rel in _agents.DEFAULT_SOURCES.items():
        if name == "markdown":
            continue
        path = os.path.join(src, rel)
        if not os.path.isfile(path):
            continue
        with open(path, "rb") as f:
            doc = json.loads(f.read().decode("utf-8"))
        key = "initial_agents" if name == "universal" else "agents"
        agents = doc[key]
        if isinstance(agents, list):
            doc[key] = [dict(a, id="%s-r%d" % (a.get("id") or a.get("name"), i)) for i in range(factor) for a in agents]
        else:
            doc[key] = dict(("%s-r%d" % (k, i), dict(v, id="%s-r%d" % (v.get("id") or v.get("name") or k, i)))
                            for i in range(factor) for k, v in agents.items())
        out = os.path.join(dest, rel)
        os.makedirs(os.path.dirname(out), exist_ok=True)
        with open(out, "w") as f:
            json.dump(doc, f, indent=2)
    md_src = os.path.join(src, _agents.DEFAULT_SOURCES["markdown"])
    for d, dirs, files in os.walk(md_src):
        for fname in files:
            if not fname.endswith(".md"):
                continue
            with open(os.path.join(d, fname), "rb") as f:
                data = f.read()
            sub = os.path.relpath(d, md_src)
            for i in range(factor):
                text = re.sub(rb"(?m)^name:[ \t]*(.*?)[ \t]*$", lambda m: b"name: %s-r%d" % (m.group(1), i), data, count=1)
                out = os.path.join(dest, _agents.DEFAULT_SOURCES["markdown"], "r%d" % i, sub,
                                   "%s-r%d.md" % (fname[:-3], i))
                os.makedirs(os.path.dirname(out), exist_ok=True)
                with open(out, "wb") as f:
                    f.write(text)


def main():
    work = tempfile.mkdtemp(prefix="sutazai-bench-")
    try:
        base = os.path.join(work, "base")
        if os.path.isdir(CORPUS):
            copy_corpus(base)
            label = "corpus sutazai-v100"
        else:
            os.makedirs(base)
            write_demo(base, scale=8)
            label = "demo platform scale 8 (corpus absent)"
        big = os.path.join(work, "x10")
        replicate(base, big, 10)
        rows = []
        for name, root in ((label, base), ("generated 10x", big)):
            n_files = sum(len(names) for dummy, dummy2, names in os.walk(root))
            t_mod, agents = best_of(lambda: module_work(root))
            t_wall = phase_wall(root)
            rows.append((name, n_files, agents, t_mod, t_wall))
        print("%-40s %7s %7s %12s %14s" % ("tree", "files", "agents", "module s", "phase wall s"))
        for r in rows:
            print("%-40s %7d %7d %12.3f %14.3f" % r)
        print("10x input: module time x%.1f, phase wall time x%.1f (target <= 12x); module on %s: %.3f s (target < 1 s)"
              % (rows[1][3] / rows[0][3], rows[1][4] / rows[0][4], label, rows[0][3]))
    finally:
        shutil.rmtree(work)


if __name__ == "__main__":
    main()
