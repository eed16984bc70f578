#!/usr/bin/env python
# -*- coding: utf-8 -*-
"""Benchmark of the code and build phases (issue 4). Prints figures; asserts nothing about time.

It generates a tree of the real v76 tree's size (about 5,400 files: about 580 Dockerfiles,
about 440 scripts, the rest filler: Markdown, Python, JSON and YAML files) from the test
generators ``tests/gen_dockerfiles.py`` and ``tests/gen_scripts.py`` plus
:func:`add_filler`, then prints for each phase:

* module work: the phase's module run in-process in check mode with diff (the same code path
  as under Ansible), best of 3, in seconds -- the issue's target is <= 2 s for the
  ``dockerfiles`` and ``scripts`` phases;
* phase wall time: ``ansible-playbook consolidate.yml --check --tags <phase>`` end to end
  (includes Ansible start-up, preflight and report, about 1.5 s of the figure);
* what the module found (its summary rows).

Usage: ``python tests/bench/bench_code.py [--files N]`` (``make bench`` runs it).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from bench_phases import REPO, best_of, phase_wall, run_module  # noqa: E402

sys.path.insert(0, os.path.join(REPO, "tests"))
import gen_dockerfiles  # noqa: E402
import gen_scripts  # noqa: E402

# phase tag -> (module, extra arguments) run by its role in a default check run.
PHASES = [
    ("dockerfiles", "dockerfile_templates", {}),
    ("scripts", "script_catalog", {}),
    ("terms", "term_scrub", {}),
    ("base_agent", "base_agent_canonical", {}),
]

_MD = """# {title}

Notes of the {name} component. See docs/{name}/README.md for details.
The {name} service reads its settings from config/{name}.yaml.
"""

_PY = '''"""{name}: helpers of the {pkg} package."""
from __future__ import annotations


def handle_{ident}(payload):
    """Return the payload of {name} unchanged (filler)."""
    return dict(payload, source="{name}")
'''


def count_files(root):
    """Number of regular files and symlinks under ``root`` (int)."""
    return sum(len(files) for dummy, dummy2, files in os.walk(root))


def add_filler(root, total):
    """Add deterministic filler files (Markdown under docs/, Python under backend/app/filler/,
    JSON under config/filler/) until ``root`` holds ``total`` files.

    :returns: number of files added (int, 0 when ``root`` already holds ``total`` or more).
    """
    missing = total - count_files(root)
    for i in range(max(missing, 0)):
        kind = i % 3
        name = "component-%04d" % i
        if kind == 0:
            rel, text = "docs/filler/%02d/%s.md" % (i % 40, name), _MD.format(title=name.title(), name=name)
        elif kind == 1:
            pkg = "pkg%02d" % (i % 30)
            rel = "backend/app/filler/%s/%s.py" % (pkg, name.replace("-", "_"))
            text = _PY.format(name=name, pkg=pkg, ident=name.replace("-", "_"))
        else:
            rel, text = "config/filler/%02d/%s.json" % (i % 20, name), '{"name": "%s", "enabled": true}\n' % name
        path = os.path.join(root, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
    return max(missing, 0)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=5400, help="total files of the generated tree (default 5400)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        root = os.path.join(tmp, "root")
        os.makedirs(root)
        dock = gen_dockerfiles.generate(root, "v76")
        scr = gen_scripts.generate(root, "v76")
        added = add_filler(root, args.files)
        dockerfiles = sum(1 for dummy, dummy2, files in os.walk(root) for f in files
                          if f == "Dockerfile" or f.startswith("Dockerfile.") or f.endswith(".Dockerfile"))
        scripts = sum(1 for dummy, dummy2, files in os.walk(os.path.join(root, "scripts"))
                      for f in files if f.endswith((".py", ".sh", ".bash")))
        print("Code and build phases, check mode, on a generated v76-size tree: %d files, %d Dockerfiles, "
              "%d scripts under scripts/ (%d filler files)" % (count_files(root), dockerfiles, scripts, added))
        print("generator figures: dockerfiles %s; scripts %s" % (
            ", ".join("%s=%s" % kv for kv in sorted(dock.items()) if not isinstance(kv[1], (list, dict))),
            ", ".join("%s=%s" % kv for kv in sorted(scr.items()) if not isinstance(kv[1], (list, dict)))))
        print("%-12s %-22s %9s %9s  %s" % ("phase", "module", "module s", "phase s", "result"))
        for tag, name, extra in PHASES:
            try:
                secs, res = best_of(lambda: run_module(name, dict(extra, root=root)))
            except ImportError:
                print("%-12s %-22s %9s %9s  %s" % (tag, name, "-", "-", "module not present"))
                continue
            wall = phase_wall(root, tag)
            summary = res.get("summary") or {}
            rows = "; ".join("%s %s->%s" % (r.get("item"), r.get("before"), r.get("after"))
                             for r in summary.get("rows") or [])
            note = "changed=%s%s %s" % (res.get("changed"), " BLOCKED" if res.get("blocked") else "", rows)
            print("%-12s %-22s %9.3f %9.2f  %s" % (tag, name, secs, wall, note))


if __name__ == "__main__":
    main()
