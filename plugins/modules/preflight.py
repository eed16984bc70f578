#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026 sutazai.consolidation contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: preflight
short_description: Check a SutazAI target before consolidation and name the run
version_added: 0.1.0
description:
  - Read-only. Checks that O(root) is a folder, that the backup root is not the root itself,
    finds which Python libraries of the collection's modules are missing for the interpreter
    that runs it, checks that the collection's own virtualenv O(venv) lies outside O(root), and
    returns the run id (the given one, or a new C(YYYYMMDDTHHMMSSZ-xxxxxx) one).
  - The C(sutazai.consolidation.preflight) role creates O(venv) and installs the missing
    libraries there when this module reports some, then runs the phases with its interpreter.
attributes:
  check_mode:
    description: Read-only; runs the same in check mode.
    support: full
  diff_mode:
    description: No diff.
    support: none
  idempotent:
    description: Changes nothing.
    support: full
options:
  root:
    description: Root folder of the SutazAI platform tree.
    type: path
    required: true
  backup_root:
    description: Journal folder of the runs; must not be O(root) itself.
    type: path
  run_id:
    description: Run id to use; a new one is made when not given.
    type: str
  venv:
    description:
      - The collection's own virtualenv on the target (its folder; need not exist yet).
      - Must not lie inside O(root) (resolved through symlinks); the module fails otherwise.
    type: path
  python_modules:
    description:
      - Import names to check, mapped to the requirement (pip syntax) to install when missing.
      - >-
        A module that imports but whose installed distribution does not satisfy the requirement's
        version specifier (checked with C(packaging) when it is importable) counts as missing.
    type: dict
    default: {yaml: PyYAML>=6.0, ruamel.yaml: ruamel.yaml>=0.18, libcst: libcst>=1.1, dotenv: python-dotenv>=1.0,
      packaging: packaging>=26.3, redis: redis>=5.0, pg8000: pg8000>=1.30, dockerfile_parse: dockerfile-parse>=2.0,
      wcmatch: wcmatch>=8.5}
author:
  - SutazAI consolidation team (@sutazai)
"""

EXAMPLES = r"""
- name: Check the target
  sutazai.consolidation.preflight:
    root: /opt/sutazaiapp
  register: preflight

- name: Check the target and where the collection's virtualenv would go
  sutazai.consolidation.preflight:
    root: /opt/sutazaiapp
    backup_root: /var/backups/sutazai-consolidation
    venv: /var/lib/sutazai-consolidation/venv
  register: preflight
"""

RETURN = r"""
run_id:
  description: The run id for this play.
  returned: always
  type: str
  sample: 20261121T101500Z-3fa2c1
missing:
  description: Requirements (as in requirements.txt) whose import failed.
  returned: always
  type: list
  elements: str
  sample: ["libcst>=1.1", "ruamel.yaml>=0.18"]
python:
  description: Interpreter running this module on the target (absolute path).
  returned: always
  type: str
  sample: /usr/bin/python3
venv_python:
  description: Interpreter of O(venv) (C(bin/python) inside it), whether or not it exists yet.
  returned: when O(venv) is given
  type: str
  sample: /var/lib/sutazai-consolidation/venv/bin/python
venv_exists:
  description: Whether RV(venv_python) exists.
  returned: when O(venv) is given
  type: bool
  sample: false
"""

import importlib
import os
import sys

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.sutazai.consolidation.plugins.module_utils._lock import new_run_id


DEFAULT_MODULES = {
    "yaml": "PyYAML>=6.0", "ruamel.yaml": "ruamel.yaml>=0.18", "libcst": "libcst>=1.1", "dotenv": "python-dotenv>=1.0",
    "packaging": "packaging>=26.3", "redis": "redis>=5.0", "pg8000": "pg8000>=1.30",
    "dockerfile_parse": "dockerfile-parse>=2.0", "wcmatch": "wcmatch>=8.5",
}


def _satisfied(requirement):
    """True when the installed distribution named in ``requirement`` (pip syntax) satisfies
    its version specifier; True when that cannot be checked (packaging absent, or the
    distribution has no metadata)."""
    try:
        from importlib.metadata import PackageNotFoundError, version
        from packaging.requirements import InvalidRequirement, Requirement
    except ImportError:
        return True
    try:
        req = Requirement(requirement)
    except InvalidRequirement:
        return True
    if not req.specifier:
        return True
    try:
        return req.specifier.contains(version(req.name), prereleases=True)
    except PackageNotFoundError:
        return True


def main():
    module = AnsibleModule(
        argument_spec=dict(
            root=dict(type="path", required=True),
            backup_root=dict(type="path"),
            run_id=dict(type="str"),
            venv=dict(type="path"),
            python_modules=dict(type="dict", default=dict(DEFAULT_MODULES)),
        ),
        supports_check_mode=True,
    )
    root = os.path.abspath(module.params["root"])
    if not os.path.isdir(root):
        module.fail_json(msg="sutazai_root %s is not a directory on the target" % root)
    backup_root = module.params["backup_root"]
    if backup_root and os.path.realpath(backup_root) == os.path.realpath(root):
        module.fail_json(msg="sutazai_backup_root must not be sutazai_root itself (%s)" % root)
    extra = {}
    if module.params["venv"]:
        venv = os.path.abspath(module.params["venv"])
        real_root, real_venv = os.path.realpath(root), os.path.realpath(venv)
        if real_venv == real_root or real_venv.startswith(real_root.rstrip(os.sep) + os.sep):
            module.fail_json(msg="preflight_venv %s lies inside sutazai_root %s: the collection's virtualenv must "
                                 "live outside the platform tree" % (venv, root))
        extra = dict(venv_python=os.path.join(venv, "bin", "python"),
                     venv_exists=os.path.isfile(os.path.join(venv, "bin", "python")))
    missing = []
    for name, requirement in sorted(module.params["python_modules"].items()):
        try:
            importlib.import_module(name)
        except ImportError:
            missing.append(requirement)
            continue
        if not _satisfied(requirement):
            missing.append(requirement)
    run_id = module.params["run_id"]
    if run_id and ("/" in run_id or run_id in (".", "..")):
        module.fail_json(msg="invalid run id %r" % run_id)
    if not run_id:
        run_id = new_run_id()
    module.exit_json(changed=False, run_id=run_id, missing=missing, python=sys.executable, **extra)


if __name__ == "__main__":
    main()
