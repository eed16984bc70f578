# -*- coding: utf-8 -*-
# Copyright (c) 2026 sutazai.consolidation contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: summary_table
short_description: Render phase summaries as a before/after text table
version_added: 0.1.0
description:
  - Turns the list of C(summary) dicts returned by the phase modules into lines of a fixed-width
    table (Phase, Status, Item, Before, After), as printed by the C(report) role.
positional: _input
options:
  _input:
    description: List of phase summaries (C(phase), C(status), C(rows) of C(item)/C(before)/C(after)).
    type: list
    elements: dict
    required: true
  title:
    description: First line of the table.
    type: str
    default: SutazAI consolidation summary
author:
  - SutazAI consolidation team (@sutazai)
"""

EXAMPLES = r"""
- name: Print the summary
  ansible.builtin.debug:
    msg: "{{ sutazai_phase_summaries | sutazai.consolidation.summary_table }}"
"""

RETURN = r"""
_value:
  description: The table, one string per line.
  type: list
  elements: str
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.sutazai.consolidation.plugins.module_utils._report import render_table


def summary_table(summaries, title="SutazAI consolidation summary"):
    """Return ``render_table(summaries, title)``; raise AnsibleFilterError on a non-list."""
    if not isinstance(summaries, list):
        raise AnsibleFilterError("summary_table expects a list of phase summaries, got %s" % type(summaries).__name__)
    return render_table(summaries, title)


class FilterModule(object):
    """sutazai.consolidation filters."""

    def filters(self):
        return {"summary_table": summary_table}
