# -*- coding: utf-8 -*-
# Copyright (c) 2026 sutazai.consolidation contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters the preflight role uses to check the arguments of every phase before any phase runs
(``roles/preflight/tasks/arguments.yml``): which phase roles the tags select, their argument
specs, and list/dict values given as strings (JSON, as ``-e NAME='{...}'`` gives them)."""

from __future__ import annotations

import ast
import json

from ansible.errors import AnsibleFilterError
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.module_utils.common.validation import check_type_dict, check_type_list

try:
    import yaml
except ImportError:  # pragma: no cover - PyYAML ships with ansible-core
    yaml = None

# Variables every phase role declares but the play sets itself (preflight sets them after this check).
PLAY_SET = ("sutazai_run_id", "sutazai_phase_summaries")


def checked_phases(phases, run_tags=None, skip_tags=None):
    """Role names of ``phases`` (list of ``{role, tags}``, the first tag being the role's tag in
    the play) whose arguments Ansible checks in a run with these ``--tags``/``--skip-tags``.

    Ansible's own check at the start of a role is tagged ``always`` (besides the role's tag), so
    it runs for every role the skip tags leave in, also for roles ``--tags`` does not select:
    these are the roles whose arguments must be right before the first phase runs. The rules
    are those of Ansible's ``evaluate_tags`` for the tags ``{always, <role tag>}``."""
    skip = set(skip_tags or [])
    out = []
    for phase in phases:
        tags = set(["always", (phase.get("tags") or [phase["role"]])[0]])
        if "all" in skip:
            run = "always" not in skip
        elif skip & tags:
            run = False
        else:
            run = "tagged" not in skip
        if run:
            out.append(phase["role"])
    return out


def phase_argument_specs(texts, roles):
    """``{role: options}`` from the text of each role's ``meta/argument_specs.yml`` (``texts``,
    in the order of ``roles``); the variables the play sets itself are left out."""
    if yaml is None:  # pragma: no cover
        raise AnsibleFilterError("PyYAML is needed to read the argument specs")
    if len(texts) != len(roles):
        raise AnsibleFilterError("phase_argument_specs: %d texts for %d roles" % (len(texts), len(roles)))
    out = {}
    for role, text in zip(roles, texts):
        try:
            doc = yaml.safe_load(text)
            options = doc["argument_specs"]["main"].get("options") or {}
        except (yaml.YAMLError, KeyError, TypeError, AttributeError) as exc:
            raise AnsibleFilterError("roles/%s/meta/argument_specs.yml has no argument_specs.main: %s" % (role, exc))
        out[role] = dict((k, v) for k, v in options.items() if k not in PLAY_SET)
    return out


def _read_collection(text):
    """Parse ``text`` (starting with ``[`` or ``{``) as JSON, then as a YAML flow collection,
    then as a Python literal; return the value or raise ValueError."""
    for parse in (json.loads, _yaml_flow, ast.literal_eval):
        try:
            return parse(text)
        except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
            continue
    raise ValueError("not valid JSON")


def _yaml_flow(text):
    if yaml is None:  # pragma: no cover
        raise ValueError("no YAML")
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ValueError(str(exc))


def _kind(value):
    return {dict: "an object", list: "a list"}.get(type(value), "a %s" % type(value).__name__)


def parse_value(name, value, kind):
    """Return ``value`` (str) read as the option ``kind`` (``list`` or ``dict``) would take it.

    :raises ValueError: with a message naming ``name`` when it cannot be read."""
    text = value.strip()
    want = {"list": list, "dict": dict}[kind]
    if text[:1] in ("[", "{"):
        try:
            parsed = _read_collection(text)
        except ValueError:
            raise ValueError("%s is not valid JSON: %r" % (name, value if len(value) <= 60 else value[:57] + "..."))
        if not isinstance(parsed, want):
            raise ValueError("%s must be %s; the JSON value is %s" % (name, _kind(want()), _kind(parsed)))
        return parsed
    try:
        return check_type_list(value) if kind == "list" else check_type_dict(value)
    except TypeError as exc:
        raise ValueError("%s must be %s: %s" % (name, _kind(want()), exc))


def _role_entry_accepts(name, opt, value, role):
    """Raise ValueError when Ansible's own check at the start of ``role`` (which sees the string
    ``value``, not the value read here) would refuse it: a list option splits a string at commas,
    so a list of dicts given as a string cannot pass it."""
    spec = dict((k, v) for k, v in opt.items() if k in ("type", "elements", "options", "choices"))
    try:
        result = ArgumentSpecValidator({name: spec}).validate({name: str(value)}, validate_role_argument_spec=True)
        messages = result.error_messages
    except Exception as exc:  # pylint: disable=broad-except
        messages = [str(exc)]
    if messages:
        whole = parse_value(name, value, opt.get("type"))
        raise ValueError("%s given as a string is refused by Ansible's own check at the start of the %s role (a "
                         "string for a list option is split at commas); pass it as JSON extra vars: -e '%s' "
                         "(or in a vars file: -e @vars.yml)" % (name, role, json.dumps({name: whole})))


def _split_hint(name, value, raw_params, kind):
    """Explain a value that Ansible's ``-e key=value`` parser cut at a space (the rest went to
    ``_raw_params``) and show how to pass it."""
    msg = ("Ansible's -e key=value parsing cut the value at a space and assigned the rest (%r) to no variable"
           % (raw_params if len(raw_params) <= 60 else raw_params[:57] + "..."))
    try:
        whole = parse_value(name, "%s %s" % (value, raw_params), kind)
    except ValueError:
        return msg + ": pass it without spaces, quoted for Ansible (-e \"%s='...'\") or as JSON extra vars" % name
    compact = json.dumps(whole, separators=(",", ":"))
    if len(compact) > 120:
        return msg + ": pass it without spaces or as JSON extra vars (-e '{\"%s\": ...}')" % name
    return msg + ": pass it as -e '%s=%s' or -e '%s'" % (name, compact, json.dumps({name: whole}))


def phase_arguments(specs, values, raw_params=None):
    """See DOCUMENTATION. ``specs``: role -> options; ``values``: variable -> value."""
    provided, parsed, errors, warnings = {}, {}, [], []
    explained = False
    for role in sorted(specs):
        provided[role] = {}
        for name, opt in sorted((specs[role] or {}).items()):
            kind = (opt or {}).get("type", "str")
            if kind not in ("list", "dict") or name not in values:
                continue
            value = values[name]
            if not isinstance(value, str):
                continue
            if name in parsed:
                provided[role][name] = parsed[name]
                continue
            try:
                provided[role][name] = parsed[name] = parse_value(name, value, kind)
                _role_entry_accepts(name, opt, value, role)
            except ValueError as exc:
                msg = "%s (role %s)" % (exc, role)
                if raw_params and not explained and value.strip()[:1] in ("[", "{"):
                    explained = True
                    msg += "; " + _split_hint(name, value, raw_params, kind)
                errors.append(msg)
    if raw_params and not explained:
        warnings.append("-e words without '=' are assigned to no variable and ignored: %r (a value holding "
                        "spaces needs quotes for Ansible: -e \"name='a b'\")" % raw_params)
    return {"provided": provided, "parsed": parsed, "errors": errors, "warnings": warnings}


def argument_check_errors(results):
    """One message per distinct error of ``results`` (the registered loop results of
    ``validate_argument_spec``, ``item`` being the role), naming the roles it concerns."""
    roles_of = {}
    for r in results or []:
        for err in r.get("argument_errors") or []:
            roles_of.setdefault(err, [])
            if r.get("item") not in roles_of[err]:
                roles_of[err].append(r.get("item"))
    return ["%s (role%s %s)" % (err, "s" if len(roles) > 1 else "", ", ".join(str(x) for x in roles))
            for err, roles in roles_of.items()]


class FilterModule(object):
    """sutazai.consolidation argument filters."""

    def filters(self):
        return {
            "argument_check_errors": argument_check_errors,
            "phase_arguments": phase_arguments,
            "phase_argument_specs": phase_argument_specs,
            "checked_phases": checked_phases,
        }
