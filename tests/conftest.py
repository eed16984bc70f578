# -*- coding: utf-8 -*-
"""Make the checkout importable as ``ansible_collections.sutazai.consolidation`` for pytest.

A link ``.build/pytest/ansible_collections/sutazai/consolidation`` -> the checkout is created
once; ``ansible_collections`` and ``sutazai`` are namespace packages, so the ``ansible``
package's bundled collections stay importable beside it.
"""

from __future__ import annotations

import os
import sys

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LINK_BASE = os.path.join(REPO, ".build", "pytest")
_link = os.path.join(LINK_BASE, "ansible_collections", "sutazai", "consolidation")
if not os.path.islink(_link):
    os.makedirs(os.path.dirname(_link), exist_ok=True)
    try:
        os.symlink(REPO, _link)
    except FileExistsError:  # another pytest-xdist worker made it first
        pass
if LINK_BASE not in sys.path:
    sys.path.insert(0, LINK_BASE)

# Shared test helpers (tests/helpers.py) are importable from every test folder.
_TESTS = os.path.dirname(os.path.abspath(__file__))
if _TESTS not in sys.path:
    sys.path.insert(0, _TESTS)


import pytest  # noqa: E402  (after the sys.path set-up above)


@pytest.fixture(scope="session")
def docker_engine():
    """The test bed's Docker engine (tests/testbed/setup-docker.sh). Without one the test is
    skipped with the reason, except under CI (``CI`` or ``SUTAZAI_TESTBED_REQUIRED`` set, as
    ``make unit`` does), where a missing engine fails."""
    from testbed.services import engine_problem

    problem = engine_problem()
    if problem:
        if os.environ.get("CI") or os.environ.get("SUTAZAI_TESTBED_REQUIRED"):
            pytest.fail("Docker engine required under CI: %s" % problem)
        pytest.skip(problem)
    return True


@pytest.fixture(scope="session")
def live_stack(docker_engine):
    """The default live test stack (tests/testbed/stack.py: project ``sutazai``), started and
    seeded when it is not (``make testbed`` starts it ahead). Tests must not change it: those
    that change or break a stack start an instance of their own (``testbed.stack.instance``)."""
    from testbed import stack

    lock_dir = os.path.dirname(stack.DEFAULT_ROOT)
    os.makedirs(lock_dir, exist_ok=True)
    import fcntl

    with open(os.path.join(lock_dir, "stack.lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        return stack.seed(stack.up(stack.default_stack()))
