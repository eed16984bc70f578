"""Each default value is written in several places: a role's ``defaults/main.yml`` and its
``meta/argument_specs.yml``, and, for a role variable handed to a module option, the module's
DOCUMENTATION and argument_spec (ansible-test's validate-modules keeps those two equal). This test
keeps the copies equal: role defaults == argument specs, and role default == module option
default wherever a role passes the variable straight to an option, except where the role
deliberately differs (:data:`ROLE_DIFFERS`, each with its reason)."""

from __future__ import annotations

import ast
import glob
import os
import re

import pytest
import yaml

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ROLES = sorted(os.path.basename(os.path.dirname(os.path.dirname(p)))
               for p in glob.glob(os.path.join(REPO, "roles", "*", "meta", "argument_specs.yml")))

# role variable -> why the role's default is not the module's.
ROLE_DIFFERS = {
}

# Role defaults that are not options of the role: computed from the options.
NOT_OPTIONS = {"sutazai_phase_module_defaults": "the module defaults of the phase action group, built from the settings"}

_PLAIN_VAR = re.compile(r"^\{\{\s*(?:sutazai_arguments\.(\w+)\s*\|\s*default\((\w+)\)|(\w+))\s*(?:\|\s*(bool|int|float))?\s*\}\}$")


def _load(path):
    with open(path) as f:
        return yaml.safe_load(f) or {}


def _module_doc_defaults(module):
    with open(os.path.join(REPO, "plugins", "modules", module + ".py")) as f:
        tree = ast.parse(f.read())
    doc = [n.value.value for n in tree.body if isinstance(n, ast.Assign) and getattr(n.targets[0], "id", "") == "DOCUMENTATION"][0]
    options = yaml.safe_load(doc).get("options") or {}
    return {k: v.get("default") for k, v in options.items()}


def _module_calls(tasks):
    """Yield ``(module, args)`` of every sutazai.consolidation module call in a task list (blocks too)."""
    for task in tasks or []:
        for key in ("block", "rescue", "always"):
            yield from _module_calls(task.get(key))
        for key, value in task.items():
            if key.startswith("sutazai.consolidation.") and isinstance(value, dict):
                yield key.split(".")[-1], value


@pytest.mark.parametrize("role", ROLES)
def test_role_defaults_equal_the_argument_specs(role):
    defaults = _load(os.path.join(REPO, "roles", role, "defaults", "main.yml")) if os.path.exists(
        os.path.join(REPO, "roles", role, "defaults", "main.yml")) else {}
    specs = _load(os.path.join(REPO, "roles", role, "meta", "argument_specs.yml"))["argument_specs"]["main"].get("options") or {}
    for name, spec in specs.items():
        if name in defaults and "default" in spec:
            assert spec["default"] == defaults[name], "%s: argument_specs default %r, defaults/main.yml %r" % (
                name, spec["default"], defaults[name])
    for name in defaults:
        if name in NOT_OPTIONS:
            continue
        assert name in specs, "%s of roles/%s/defaults/main.yml is not in its argument_specs" % (name, role)


@pytest.mark.parametrize("role", ROLES)
def test_role_defaults_equal_the_module_option_defaults(role):
    path = os.path.join(REPO, "roles", role, "defaults", "main.yml")
    if not os.path.exists(path):
        pytest.skip("roles/%s has no defaults" % role)
    defaults = _load(path)
    compared = 0
    for tasks_file in glob.glob(os.path.join(REPO, "roles", role, "tasks", "*.yml")):
        for module, args in _module_calls(_load(tasks_file) if isinstance(_load(tasks_file), list) else []):
            docs = _module_doc_defaults(module)
            for option, value in args.items():
                m = _PLAIN_VAR.match(str(value).strip()) if isinstance(value, str) else None
                if not m or option not in docs or docs[option] is None:
                    continue
                var = m.group(2) or m.group(3)
                if var not in defaults or var in ROLE_DIFFERS:
                    continue
                compared += 1
                assert defaults[var] == docs[option], "%s (roles/%s) = %r, but %s option %s defaults to %r" % (
                    var, role, defaults[var], module, option, docs[option])
    if role not in ("settings", "report", "preflight"):  # no module option mirrors their variables
        assert compared, "no role variable of roles/%s compared with a module default" % role
