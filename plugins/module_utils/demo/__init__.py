# -*- coding: utf-8 -*-
# Copyright (c) 2026 sutazai.consolidation contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Generators of the embedded demo platform (the ``sutazai.consolidation.demo_platform`` module).

``tree`` writes the whole tree (``tree.write_demo``, ``tree.demo_files``); each other module adds the
files one phase needs (``add_demo_files(files, links, scale)``): ``env``, ``services``, ``config``,
``requirements``, ``dockerfiles``, ``scripts``, ``terms`` and ``base_agent``. Nothing here is used by a
phase module: these files exist only to build the demo tree and the tests' trees.
"""
