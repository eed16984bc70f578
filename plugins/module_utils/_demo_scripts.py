# -*- coding: utf-8 -*-
# Copyright (c) 2026 sutazai.consolidation contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Demo-platform files of the scripts phase (see ``_demo.demo_files``)."""

from __future__ import annotations


def add_demo_files(files, links, scale):
    """Add this phase's demo files to ``files`` ({rel: bytes}) and ``links`` ({rel: target}).

    :param scale: int >= 1 (see ``_demo.demo_files``).
    """
    return None
