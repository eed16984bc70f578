# -*- coding: utf-8 -*-
"""The whole play's plans, summaries and reports in check mode, on the demo and on both corpora,
equal the recorded ones (``tests/golden``, written by ``python tests/phase_outputs.py write``).

A difference is either a regression or an intended change of output; in the second case the
golden files are rewritten in the same commit, and the diff of the commit shows the change."""

from __future__ import annotations

import os

import phase_outputs
import pytest


@pytest.mark.parametrize("name", sorted(phase_outputs.TREES))
def test_whole_play_outputs_are_the_recorded_ones(name):
    if name != "demo" and not os.path.isdir(os.path.join(phase_outputs.CORPORA, name)):
        pytest.skip("corpus %s absent" % name)
    new = phase_outputs.outputs_of(name)
    assert new["rc"] == 0, new["tasks"][-3:]
    old = phase_outputs.read_golden(name)
    assert [t["task"] for t in new["tasks"]] == [t["task"] for t in old["tasks"]]
    diffs = phase_outputs.differences(old, new)
    assert diffs == [], "\n".join(diffs)
