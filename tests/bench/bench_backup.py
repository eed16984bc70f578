# -*- coding: utf-8 -*-
"""Benchmark: the PostgreSQL backup of data_backup against ``docker exec ... pg_dumpall | gzip``
alone, on the test bed's seeded default stack (``python3 tests/testbed/stack.py up``).

Prints, best of ``--runs`` each, in the same run: the module's dump (``_backup.backup_pg``:
pg_dumpall streamed through Python's gzip, level 6), the shell pipeline (gzip level 6), their
ratio (target <= 1.2), and the restore test's time (``_backup.verify_pg``) beside them. Asserts
nothing.

    .venv/bin/python tests/bench/bench_backup.py [--runs 3]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, "tests"))
sys.path.insert(0, os.path.join(REPO, ".build", "pytest"))

import conftest  # noqa: E402,F401 pylint: disable=unused-import
from ansible_collections.sutazai.consolidation.plugins.module_utils import _backup  # noqa: E402
from testbed import stack as testbed_stack  # noqa: E402


def best(fn, runs):
    times = []
    for _run in range(runs):
        start = time.monotonic()
        fn()
        times.append(time.monotonic() - start)
    return min(times)


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args(argv)
    st = testbed_stack.seed(testbed_stack.up(testbed_stack.default_stack()))
    item = {"service": "postgres", "container": st.container("postgres"), "volumes": []}
    info = _backup.inspect(item["container"])
    user = _backup.env_of(info).get("POSTGRES_USER", "postgres")
    tmp = tempfile.mkdtemp(prefix="bench-backup-")
    try:
        module = best(lambda: _backup.backup_pg(item, info, tmp, 3600), args.runs)
        path = os.path.join(tmp, "postgres.pg_dumpall.sql.gz")
        size = os.path.getsize(path)
        env = dict(os.environ, PGPASSWORD=_backup.env_of(info).get("POSTGRES_PASSWORD", ""))
        shell = "docker exec -i -e PGPASSWORD %s pg_dumpall -h 127.0.0.1 -U %s | gzip -6 > %s" % (
            item["container"], user, os.path.join(tmp, "shell.sql.gz"))
        alone = best(lambda: subprocess.run(["bash", "-o", "pipefail", "-c", shell], env=env, check=True), args.runs)
        live = _backup.pg_checksums(item["container"], info)
        rows = sum(r[0] for t in live.values() for r in t.values())
        verify = best(lambda: _backup.verify_pg(item, info, path, live, 600), 1)
    finally:
        shutil.rmtree(tmp)
    print("PostgreSQL backup on the seeded test stack (%d rows, dump %.1f MB gzip), best of %d:" % (rows, size / 1e6, args.runs))
    print("  data_backup (pg_dumpall streamed, gzip 6)   %6.2f s" % module)
    print("  docker exec pg_dumpall | gzip -6 alone      %6.2f s" % alone)
    print("  ratio                                       %6.2f   (target <= 1.2)" % (module / alone))
    print("  restore test (throwaway container, checksums) %4.2f s" % verify)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
