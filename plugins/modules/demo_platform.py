#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026 sutazai.consolidation contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: demo_platform
short_description: Write the embedded SutazAI-like demo platform tree
version_added: 0.1.0
description:
  - Writes a small, realistic SutazAI tree (all agent registry shapes, nested and malformed agent
    markdown, duplicates and conflicts, a compose file and symlinks) under O(dest). It is the
    default target of C(make demo) and of the Molecule scenario.
  - Content is fixed, so the tree is the same on every machine. Files already holding the
    expected bytes are left alone; files of the demo that differ are rewritten.
  - This writes test fixtures, not platform changes, so it does not use the change journal.
    Never point O(dest) at a real platform.
attributes:
  check_mode:
    description: Reports which files would be written.
    support: full
  diff_mode:
    description: No diff is returned.
    support: none
  idempotent:
    description: A second run writes nothing.
    support: full
options:
  dest:
    description: Folder to create the demo tree in (created when absent).
    type: path
    required: true
  scale:
    description: Size factor; each step above 1 adds 40 generated agents (for benchmarks).
    type: int
    default: 1
author:
  - SutazAI consolidation team (@sutazai)
"""

EXAMPLES = r"""
- name: Create the demo platform
  sutazai.consolidation.demo_platform:
    dest: /tmp/sutazai-demo
"""

RETURN = r"""
written:
  description: Paths (relative to O(dest)) written or that would be written.
  returned: always
  type: list
  elements: str
files:
  description: Number of files and symlinks in the demo tree.
  returned: always
  type: int
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.sutazai.consolidation.plugins.module_utils.demo.tree import demo_files, write_demo


def main():
    module = AnsibleModule(
        argument_spec=dict(dest=dict(type="path", required=True), scale=dict(type="int", default=1)),
        supports_check_mode=True,
    )
    if module.params["scale"] < 1:
        module.fail_json(msg="scale must be >= 1")
    written = write_demo(module.params["dest"], module.params["scale"], module.check_mode)
    files, links = demo_files(module.params["scale"])
    module.exit_json(changed=bool(written), written=written, files=len(files) + len(links))


if __name__ == "__main__":
    main()
