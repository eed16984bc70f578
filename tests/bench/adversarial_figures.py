#!/usr/bin/env python
# -*- coding: utf-8 -*-
"""Print the figures of the adversarial scenarios (asserts nothing; the tests in
tests/integration/test_adversarial_*.py assert on the same scenarios).

    .venv/bin/python tests/bench/adversarial_figures.py [--points N|all] [--folders all|issue]
        [--only containment,two_runs,kill]

* containment: each folder the whole play writes into on the demo, in turn replaced by a symlink
  to a canary folder outside the root; changes outside after check, real run and rollback;
* two_runs: two real runs started together;
* kill: kill -9 of the whole process tree at N fault points (journal entry written, change made,
  temporary file written) spread over a whole-play real run, then rollback without force.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

# conftest makes the checkout importable as the collection.
import conftest  # noqa: E402,F401 pylint: disable=unused-import
import adversarial  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n", maxsplit=1)[0])
    parser.add_argument("--points", default="26", help="number of kill points, or 'all'")
    parser.add_argument("--folders", default="all", choices=["all", "tests"],
                        help="every folder written into (all) or the tests' list")
    parser.add_argument("--only", default="containment,two_runs,kill")
    args = parser.parse_args()
    only = set(args.only.split(","))
    base = tempfile.mkdtemp(prefix="sutazai-adversarial-")
    t0 = time.time()
    if "containment" in only:
        reference = adversarial.reference_run(os.path.join(base, "reference"))
        if args.folders == "all":
            folders = adversarial.written_folders(reference)
        else:
            sys.path.insert(0, os.path.join(os.path.dirname(HERE), "integration"))
            from test_adversarial_journal import FOLDERS as folders
        print("Writes outside the root (whole play on the demo, %d folders replaced in turn by a link out)"
              % len(folders))
        print("%-45s %5s %5s %8s %-30s %s" % ("folder", "check", "real", "rollback", "phases blocked", "rollback identical"))
        total = 0
        for i, folder in enumerate(folders):
            f = adversarial.containment(os.path.join(base, "c%d" % i), folder)
            oc = f["outside_changes"]
            total += oc["check"] + oc["real"] + oc["rollback"]
            row = (folder, oc["check"], oc["real"], oc["rollback"], ",".join(f["blocked_real"]) or "-",
                   f["rollback_identical"])
            print("%-45s %5d %5d %8d %-30s %s" % row)
        print("changes outside the root: %d\n" % total)
    if "two_runs" in only:
        f = adversarial.two_runs(os.path.join(base, "two"))
        row = (f["rc"], f["refused"], f["journals"], f["second_run_changed"], f["rollback_identical"])
        print("Two real runs started together: rc %s, refused %d, journals %d, next run changed=%d, "
              "rollback identical %s" % row)
        print("  refusal: %s\n" % f["refused_message"])
    if "kill" in only:
        steps = adversarial.count_steps(os.path.join(base, "count"))
        wanted = steps if args.points == "all" else int(args.points)
        points = adversarial.kill_points(steps, wanted)
        print("kill -9 at %d of %d fault points of a whole-play real run on the demo" % (len(points), steps))
        head = ("point", "step", "killed", "next run", "rollback", "identical", "stray temp / lock left")
        print("%6s %-7s %-7s %-10s %-9s %-10s %s" % head)
        ok = 0
        for n in points:
            f = adversarial.kill_at(os.path.join(base, "k%d" % n), n)
            good = f["killed"] and f["rollback_rc"] == 0 and f["identical"] and not f["stray_temp"] \
                and not f["lock_left"]
            ok += good
            row = (n, f["step"], f["killed"], "refused" if f["refused_next_run"] else "ran",
                   "rc %d" % f["rollback_rc"], f["identical"], len(f["stray_temp"]), f["lock_left"])
            print("%6d %-7s %-7s %-10s %-9s %-10s %d / %s" % row)
        print("restored byte-identical without force: %d of %d\n" % (ok, len(points)))
    print("(%.0f s; trees under %s)" % (time.time() - t0, base))


if __name__ == "__main__":
    main()
