# -*- coding: utf-8 -*-
# Copyright (c) 2026 sutazai.consolidation contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Demo-platform files of the terms phase (see ``demo.tree.demo_files``).

Fantasy terms where the term phase searches, and where it must not edit:

* ``docs/architecture/VISION.md`` -- prose with ``Quantum``, ``AGI``, ``magic``, ``dream``,
  ``teleportation`` in every case; a code span, a fenced code block, a link whose destination
  holds ``quantum`` (``quantum-planner.md``), a URL and a path with ``quantum``; whole-word traps
  (``AGILE``, ``magical``, ``python-magic``, ``Quantum-Inspired``);
* ``backend/app/services/dream_planner.py`` -- a module docstring, comments, a class and a
  function docstring with terms; string literals (a message, a key-like ``"quantum"``, an
  f-string) and identifiers (``QuantumPlanner``, ``MAGIC_DELAY``) left alone by default; a
  hyphenated compound (``AGI-free``) reported, never replaced;
* ``deploy/healthcheck.sh`` -- a ``#`` inside quotes and a here-document (not comments) beside
  real comments;
* ``monitoring/alerts.yml`` -- a YAML comment with ``quantum``, a block scalar holding ``# ...``
  and a value ``magic`` (data);
* ``tests/README.md`` -- terms in a test folder (excluded by default).

With the default map (report only) the phase changes nothing and reports the counts; the
integration tests run it with a replacement map.
"""

from __future__ import annotations

_VISION = """# Quantum Roadmap

SutazAI will reach AGI through quantum reasoning and a little magic. QUANTUM scale, Quantum
speed: the dream is instant teleportation of context between agents.

See [the Quantum planner](../agents/quantum-planner.md), https://example.invalid/quantum/roadmap
and docs/quantum/notes.txt for details; set `QUANTUM_MODE=quantum` to try it.

Not terms here: AGILE teams, magical thinking, python-magic, Quantum-Inspired search.

```python
planner = QuantumPlanner(mode="quantum")  # quantum inside a code block stays
```

- AGI milestones are a dream, not a plan.
"""

_PLANNER = '''"""Quantum planner service: schedules agent work (no quantum hardware involved)."""
from __future__ import annotations

# AGI-free planner: a magic number explained below.
MAGIC_DELAY = 3  # seconds; the magic is a retry delay


class QuantumPlanner:
    """Plans tasks; the quantum name is historical."""

    def __init__(self, mode="quantum"):
        self.mode = mode
        self.agi_mode = False

    def plan(self, task):
        """Return a plan for ``task``; a dream of a plan when the task is empty."""
        if not task:
            return "a quantum leap is not a plan"
        return f"plan for {task} (quantum mode {self.mode})"
'''

_HEALTHCHECK = """#!/bin/bash
# Health check of the quantum planner service.
set -euo pipefail
echo "checking the planner # not a quantum comment"
curl -fsS "http://localhost:8000/health" >/dev/null  # quantum endpoint alive
cat <<'EOF' > /tmp/planner-note.txt
# quantum note inside a here-document (data, not a comment)
EOF
"""

_ALERTS = """# Alert thresholds of the quantum planner (monitoring).
groups:
  - name: planner
    rules:
      - alert: PlannerSlow  # magic threshold below
        expr: planner_latency_seconds > 3
        annotations:
          description: |
            # quantum text inside a block scalar is data
            The planner is slow.
          mode: magic
"""

_TESTS_README = """# Planner tests

Tests for the quantum planner (tests folders are excluded from the term phase).
"""


def add_demo_files(files, links, scale):
    """Add this phase's demo files to ``files`` ({rel: bytes}) and ``links`` ({rel: target}).

    :param scale: int >= 1 (see ``demo.tree.demo_files``); the term phase adds no scaled files.
    """
    files["docs/architecture/VISION.md"] = _VISION.encode("utf-8")
    files["backend/app/services/dream_planner.py"] = _PLANNER.encode("utf-8")
    files["deploy/healthcheck.sh"] = _HEALTHCHECK.encode("utf-8")
    files["monitoring/alerts.yml"] = _ALERTS.encode("utf-8")
    files["tests/README.md"] = _TESTS_README.encode("utf-8")
