# -*- coding: utf-8 -*-
# Copyright (c) 2026 sutazai.consolidation contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment(object):
    """The one dialect of every path-pattern option of sutazai.consolidation."""

    DOCUMENTATION = r"""
options: {}
notes:
  - >-
    Path patterns (every option that takes them) follow one dialect, the C(glob) of the
    wcmatch library with GLOBSTAR, MATCHBASE, DOTGLOB and BRACE, matched case-sensitively against
    the path relative to O(root) with C(/) separators. C(*), C(?) and C([...]) never cross C(/);
    C(**) as a whole path part matches zero or more folders (C(config/**/*.env) matches
    C(config/a.env) and C(config/x/y/a.env)). A pattern without C(/) matches the file or folder
    name at any depth (C(*.env) matches C(docker/app.env)); one with C(/) matches the whole path
    from the root. C(*) also matches a leading dot; C({a,b}) matches either. Blanks and leading or
    trailing C(/) are dropped. In an exclude list, a pattern that matches a folder also matches
    everything in it.
"""
