# -*- coding: utf-8 -*-
# Copyright (c) 2026 sutazai.consolidation contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Moving literal secrets out of Compose files into ``.env.master`` (secrets become
environment variables).

A literal ``environment`` value of a service is a secret when ``_redaction.looks_secret`` says
so (secret-looking key, or keyword + entropy, or a value that looks like a credential).
It is replaced by ``"${NAME}"`` and ``NAME=value`` is added to ``.env.master`` under
``# --- source: compose:<file> ---``. ``NAME`` is the key itself unless ``.env.master`` (or
``.env.production``) already holds that key with another value; then it is
``<SERVICE>_<KEY>`` (then ``_2``, ``_3`` ...). Values already interpolated (``${...}``) are
left alone.

A service that loads ``.env.master`` through ``env_file`` (the env phase points merged
``env_file`` entries there) also receives every key added to it: each new key lists those
services under ``exposed_to`` (the module warns, or blocks with ``exposure: block``).

Compose reads interpolation values from the ``.env`` of the project folder (the folder of
the Compose file). A file is only changed when that ``.env`` is a link to ``.env.master`` or
absent (a relative link is then created); otherwise it is skipped with the reason.
"""

from __future__ import annotations

import os
import re

from ansible_collections.sutazai.consolidation.plugins.module_utils import _compose, _env
from ansible_collections.sutazai.consolidation.plugins.module_utils._redaction import fingerprint, looks_secret
from ansible_collections.sutazai.consolidation.plugins.module_utils._tree import safe_join

_MISSING = object()
_TAGS = ("tag:yaml.org,2002:str", "tag:yaml.org,2002:int")


def link_state(root, link_rel, planned=()):
    """``"master"`` when ``link_rel`` resolves to the root's ``.env.master`` (or is in
    ``planned``, links an earlier task of the run makes), ``"absent"`` when nothing is there,
    ``"other"`` otherwise (a regular file or another link)."""
    if link_rel in planned:
        return "master"
    path = safe_join(root, link_rel)
    if not os.path.lexists(path):
        return "absent"
    if os.path.islink(path) and os.path.realpath(path) == os.path.realpath(os.path.join(root, _env.MASTER)):
        return "master"
    return "other"


def candidates(tree):
    """Literal secret ``environment`` entries of every service of a composed tree.

    :returns: list of ``{"service", "key", "value", "node", "form"}``; one entry per YAML
        node (a value in an anchored mapping shared by several services appears once, under
        the first service).
    """
    out = []
    seen = set()
    for name, svc in _compose.services(tree):
        for pair in _compose.environment_pairs(svc):
            node = pair["node"]
            if pair["value"] is None or id(node) in seen:
                continue
            if pair["form"] == "map" and node.tag not in _TAGS:
                continue
            value, interpolated = _compose.compose_value(pair["value"])
            if interpolated or not pair["key"] or not looks_secret(pair["key"], value):
                continue
            seen.add(id(node))
            out.append({"service": name, "key": pair["key"], "value": value, "node": node, "form": pair["form"]})
    return out


def _name(key, service, value, master, production, assigned):
    stem = re.sub(r"[^A-Za-z0-9]+", "_", "%s_%s" % (service, key)).strip("_").upper()
    names = [key, stem] + ["%s_%d" % (stem, i) for i in range(2, 100)]
    for cand in names:
        a = assigned.get(cand, _MISSING)
        if a is not _MISSING:
            if a == value:
                return cand, False
            continue
        m = master.get(cand, _MISSING)
        pv = production.get(cand, _MISSING)
        if m is _MISSING and pv is _MISSING:
            assigned[cand] = value
            return cand, True
        if m == value and pv in (_MISSING, value):
            return cand, False
    raise ValueError("no free environment key for %s of service %s" % (key, service))


def service_env(tree):
    """``{service: {key: raw value}}`` of every literal environment entry (for the proof)."""
    return dict((name, dict((p["key"], p["value"]) for p in _compose.environment_pairs(svc)))
                for name, svc in _compose.services(tree))


class SecretsPlan(object):
    """Result of :func:`plan_secrets`.

    :ivar edits: ``{rel: new text}`` of the Compose files to rewrite.
    :ivar master: new ``.env.master`` text, or None when unchanged.
    :ivar new_keys: keys added to ``.env.master`` (sorted list).
    :ivar links: ``{rel: target}`` of ``.env`` links to create.
    :ivar moved: list of ``{"path", "service", "key", "env_key", "fingerprint"}``.
    :ivar skipped: list of ``{"path", "reason", "secrets"}`` (files not changed).
    :ivar secret_values: set of the moved values (for redaction only; never returned).
    :ivar exposures: list of ``{"env_key", "exposed_to": ["<file>:<service>", ...]}`` for new
        keys that services loading ``.env.master`` through ``env_file`` will also receive.
    """

    def __init__(self):
        self.edits = {}
        self.master = None
        self.new_keys = []
        self.links = {}
        self.moved = []
        self.skipped = []
        self.secret_values = set()
        self.exposures = []


def master_consumers(root, composes):
    """``{"<file>:<service>": set of keys in its environment}`` for every service whose
    ``env_file`` list loads ``.env.master`` (directly or through a link to it)."""
    out = {}
    master_real = os.path.realpath(os.path.join(root, _env.MASTER))
    for rel, dummy, tree in composes:
        for name, svc in _compose.services(tree):
            for e in _compose.env_files_of(svc):
                target = _compose.resolve(rel, e["path"])
                if target and (target == _env.MASTER or os.path.realpath(os.path.join(root, target)) == master_real):
                    out["%s:%s" % (rel, name)] = set(p["key"] for p in _compose.environment_pairs(svc))
    return out


def plan_secrets(root, composes, master_text, production_text, planned_links=()):
    """Plan the move.

    :param composes: list of ``(rel, text, tree)`` of parsed Compose files.
    :param master_text: current ``.env.master`` text or None.
    :param production_text: current ``.env.production`` text or None.
    :param planned_links: root-relative ``.env`` paths that an earlier task of the same run
        makes links to ``.env.master`` (check mode, where that task wrote nothing).
    :returns: :class:`SecretsPlan`.
    :raises ValueError: when the proof fails (names files, services and keys only).
    """
    plan = SecretsPlan()
    master_entries = _env.parse_env_text(master_text, _env.MASTER)[0] if master_text else []
    master = dict((e.key, e.value) for e in master_entries)
    production = _env.overlay("", production_text) if production_text is not None else {}
    assigned = {}
    new_entries = []
    for rel, text, tree in composes:
        found = candidates(tree)
        if not found:
            continue
        link_rel = "/".join([d for d in [os.path.dirname(rel)] if d] + [".env"])
        state = link_state(root, link_rel, planned_links)
        if state == "other":
            plan.skipped.append({"path": rel, "secrets": len(found),
                                 "reason": "%s is not a link to %s (run the env phase first); Compose reads "
                                           "${...} values of this file from it" % (link_rel, _env.MASTER)})
            continue
        sp = _compose.Splicer(text)
        for c in found:
            name, new = _name(c["key"], c["service"], c["value"], master, production, assigned)
            if new:
                new_entries.append(_env.EnvEntry(name, c["value"], "%s=%s\n" % (name, _env.render_value(c["value"])),
                                                 _env.MASTER, 0, "compose:%s" % rel))
            ref = "${%s}" % name
            sp.replace(c["node"], '"%s"' % (ref if c["form"] == "map" else "%s=%s" % (c["key"], ref)))
            plan.moved.append({"path": rel, "service": c["service"], "key": c["key"], "env_key": name,
                               "fingerprint": fingerprint(c["value"])})
            plan.secret_values.add(c["value"])
        plan.edits[rel] = sp.apply()
        if state == "absent":
            plan.links[link_rel] = _env.relative_link(link_rel, _env.MASTER)
    if new_entries:
        plan.master = _env.render_master(master_entries + new_entries)
        plan.new_keys = sorted(e.key for e in new_entries)
        consumers = master_consumers(root, composes)
        for key in plan.new_keys:
            exposed = sorted(c for c, keys in consumers.items() if key not in keys)
            if exposed:
                plan.exposures.append({"env_key": key, "exposed_to": exposed})
    _prove(plan, composes, plan.master if plan.master is not None else master_text)
    return plan


def _prove(plan, composes, master_text):
    """Every service keeps the same environment once ``${NAME}`` is read from the new master."""
    values = dict((e.key, e.value) for e in _env.parse_env_text(master_text or "", _env.MASTER)[0])
    for rel, text, tree in composes:
        if rel not in plan.edits:
            continue
        before = service_env(tree)
        after = service_env(_compose.compose_tree(plan.edits[rel], rel))
        for svc, env in before.items():
            for key, raw in env.items():
                new = after.get(svc, {}).get(key, _MISSING)
                if new == raw:
                    continue
                m = re.match(r"^\$\{([A-Za-z0-9_]+)\}$", new if isinstance(new, str) else "")
                if not m or values.get(m.group(1)) != _compose.compose_value(raw)[0]:
                    raise ValueError("secrets move would change %s of service %s in %s" % (key, svc, rel))
