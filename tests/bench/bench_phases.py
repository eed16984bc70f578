#!/usr/bin/env python
# -*- coding: utf-8 -*-
"""Benchmark of the configuration phases (issue 3). Prints figures; asserts nothing about time.

On a copy of the real corpus (../shared/corpus/sutazai-v100; the demo platform stands in when it
is absent), for each phase (env, services, config, requirements) it prints:

* module work: each module of the phase run in-process in check mode with diff (the same
  code path as under Ansible, arguments passed the way AnsibleModule reads them), best of 3,
  in seconds;
* phase wall time: ``ansible-playbook consolidate.yml --check --tags <phase>`` end to end
  (includes Ansible start-up, preflight and report, about 1.5 s of the figure).

The corpus' invalid files are skipped (``*_on_invalid: warn``) and its requirement conflicts
resolved (``requirements_resolve: newest``) so every phase does its whole work.
"""

from __future__ import annotations

import contextlib
import importlib
import io
import json
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, "tests"))
import conftest  # noqa: E402,F401 pylint: disable=unused-import
from helpers import CORPUS, copy_corpus, write_demo  # noqa: E402

from ansible.module_utils import basic  # noqa: E402

# phase tag -> modules run by its role in a default check run, with their extra arguments.
PHASES = [
    ("env", [("env_files", {"on_invalid": "warn"}), ("compose_secrets", {"on_invalid": "warn"})]),
    ("services", [("service_registry", {"on_invalid": "warn"})]),
    ("config", [("config_cleanup", {})]),
    ("requirements", [("requirements_layout", {"resolve": "newest"})]),
]


def run_module(name, args):
    """Run ``sutazai.consolidation.<name>`` in-process; return its result dict."""
    mod = importlib.import_module("ansible_collections.sutazai.consolidation.plugins.modules.%s" % name)
    # Under Ansible every module call is a new process: nothing it computed once per process
    # (the tree's known secrets) is there from an earlier call.
    from ansible_collections.sutazai.consolidation.plugins.module_utils import _redaction
    _redaction._TREE_CACHE.clear()
    payload = dict(args, _ansible_check_mode=True, _ansible_diff=True, _ansible_remote_tmp="/tmp",
                   _ansible_keep_remote_files=False)
    basic._ANSIBLE_ARGS = json.dumps({"ANSIBLE_MODULE_ARGS": payload}).encode("utf-8")
    basic._ANSIBLE_PROFILE = "legacy"
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        try:
            mod.main()
        except SystemExit:
            pass
    text = out.getvalue()
    return json.loads(text[text.index("{"):])


def best_of(fn, n=3):
    times = []
    result = None
    for dummy in range(n):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return min(times), result


def phase_wall(root, tag):
    env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(REPO, "ansible.cfg"),
               ANSIBLE_COLLECTIONS_PATH=os.path.join(REPO, ".build", "pytest"))
    cmd = [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-i", "localhost,", "-c", "local",
           "playbooks/consolidate.yml", "-e", "sutazai_root=%s" % root, "-e",
           "ansible_python_interpreter=%s" % sys.executable, "-e", "env_on_invalid=warn", "-e", "services_on_invalid=warn",
           "-e", "requirements_resolve=newest", "--check", "--tags", tag]
    t0 = time.perf_counter()
    subprocess.run(cmd, cwd=REPO, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - t0


def main():
    with tempfile.TemporaryDirectory() as tmp:
        root = os.path.join(tmp, "root")
        if os.path.isdir(CORPUS):
            copy_corpus(root)
            label = "corpus sutazai-v100"
        else:
            os.makedirs(root)
            write_demo(root)
            label = "demo platform (corpus absent)"
        print("Configuration phases, check mode, on the %s" % label)
        print("%-13s %-20s %10s %10s  %s" % ("phase", "module", "module s", "phase s", "result"))
        for tag, modules in PHASES:
            wall = phase_wall(root, tag)
            for i, (name, extra) in enumerate(modules):
                try:
                    secs, res = best_of(lambda: run_module(name, dict(extra, root=root)))
                except ImportError:
                    print("%-13s %-20s %10s %10s  %s" % (tag, name, "-", "-", "module not present"))
                    continue
                note = "changed=%s%s" % (res.get("changed"), " blocked" if res.get("blocked") else "")
                print("%-13s %-20s %10.3f %10s  %s" % (tag, name, secs, "%.2f" % wall if i == 0 else "", note))


if __name__ == "__main__":
    main()
