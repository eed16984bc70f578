# -*- coding: utf-8 -*-
# Copyright (c) 2026 sutazai.consolidation contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment(object):
    """Options shared by every phase module of sutazai.consolidation."""

    DOCUMENTATION = r"""
options:
  root:
    description:
      - Root folder of the SutazAI platform tree (C(sutazai_root)).
      - Symlinks are never followed out of it.
    type: path
    required: true
  backup_root:
    description:
      - Folder holding one journal folder per run (C(<backup_root>/<run_id>/manifest.json) and
        C(files/), mode 0700, backup copies 0600); created with mode 0700 on the first change when
        absent (an existing folder keeps its mode).
      - Never read as input. Default is C(<root>/backups).
    type: path
  report_dir:
    description:
      - Folder of the run reports. Never read as input. Default is C(<root>/reports).
    type: path
  run_id:
    description:
      - Identifier of the run; names the journal folder. Required when a change is made
        (not in check mode). The playbooks set it once per play.
      - Before its first change the module checks that this run holds the run lock of O(root)
        (taken by the preflight role, see M(sutazai.consolidation.run_lock)); otherwise it fails
        and changes nothing.
      - A change whose path leads out of O(root) (a parent folder is a symlink to a folder
        outside it, or the file to write is itself a symlink) is refused, in check mode as in a
        real run; the phase is then blocked (see O(strict)) and changes nothing.
    type: str
  strict:
    description:
      - What to do when the phase cannot proceed safely (for example a malformed input file).
      - V(false) changes nothing, returns RV(blocked=true) with a warning, and the play goes on.
      - V(true) fails the task.
    type: bool
    default: false
"""

    ATTRIBUTES = r"""
attributes:
  check_mode:
    description: Computes the full plan and writes nothing, not even backups or reports.
    support: full
  diff_mode:
    description: Returns before/after of every file it would change, with secret values redacted.
    support: full
  idempotent:
    description: A second run on the same input changes nothing.
    support: full
"""
