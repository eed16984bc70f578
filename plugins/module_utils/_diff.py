# -*- coding: utf-8 -*-
# Copyright (c) 2026 sutazai.consolidation contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Diff payloads for Ansible's ``--diff`` with secret values redacted.

A payload is the dict Ansible's callback renders: ``before``, ``after``, ``before_header``,
``after_header``. Modules build payloads only when ``module._diff`` is true.

Redaction replaces the value of every secret-looking key (:data:`SECRET_KEY_RE`) in
``KEY=value`` lines (env files), ``key: value`` lines (YAML) and ``"key": "value"`` pairs
(JSON) by ``<redacted sha256:XXXXXXXX>`` (first 8 hex digits of the value's sha256), so a
reader can tell that a value changed without seeing it.
"""

from __future__ import annotations

import hashlib
import re

SECRET_KEY_RE = re.compile(
    r"(?i)(passw(or)?d|passwd|secret|token|api[_-]?key|private[_-]?key|access[_-]?key|credentials?|"
    r"auth[_-]?key|client[_-]?secret|signing[_-]?key|encryption[_-]?key|jwt)"
)

_ENV_LINE = re.compile(r"^(\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_.-]*)\s*=\s*)(.*)$")
_YAML_LINE = re.compile(r"^(\s*-?\s*[\"']?([A-Za-z_][A-Za-z0-9_.-]*)[\"']?\s*:\s+)(?![|>]\s*$)(\S.*)$")
_JSON_PAIR = re.compile(r"(\"([A-Za-z_][A-Za-z0-9_.-]*)\"\s*:\s*)\"((?:[^\"\\]|\\.)*)\"")


def fingerprint(value):
    """Return ``sha256:XXXXXXXX`` for ``value`` (str): safe to show in place of a secret."""
    return "sha256:" + hashlib.sha256(value.encode("utf-8")).hexdigest()[:8]


def redacted(value):
    """Return the placeholder that stands for the secret ``value`` in diffs and reports."""
    return "<redacted %s>" % fingerprint(value)


def is_secret_key(key):
    """True when ``key`` (str) names a secret (PASSWORD, TOKEN, API_KEY, ...)."""
    return bool(SECRET_KEY_RE.search(key or ""))


def redact_text(text):
    """Return ``text`` with the values of secret-looking keys replaced (see module doc).

    Works line by line on env, YAML and JSON text; already interpolated values (``${...}``)
    and empty values are kept as they are.
    """
    out = []
    for line in text.split("\n"):
        if not SECRET_KEY_RE.search(line):
            out.append(line)
            continue
        m = _JSON_PAIR.search(line)
        if m:
            def _json(mm):
                if is_secret_key(mm.group(2)) and mm.group(3) and not mm.group(3).startswith("${"):
                    return '%s"%s"' % (mm.group(1), redacted(mm.group(3)))
                return mm.group(0)
            out.append(_JSON_PAIR.sub(_json, line))
            continue
        for rx in (_ENV_LINE, _YAML_LINE):
            m = rx.match(line)
            if m and not line.lstrip().startswith("#"):
                value = m.group(3).strip()
                if is_secret_key(m.group(2)) and value and not value.strip("\"'").startswith("${"):
                    line = m.group(1) + redacted(value)
                break
        out.append(line)
    return "\n".join(out)


def diff_payload(rel, before, after):
    """Return the Ansible diff dict for the file ``rel`` (str).

    :param before: old text (str) or None when the file does not exist.
    :param after: new text (str) or None when the file is removed.
    Values are redacted with :func:`redact_text`.
    """
    return {
        "before_header": "%s (%s)" % (rel, "absent" if before is None else "before"),
        "after_header": "%s (%s)" % (rel, "absent" if after is None else "after"),
        "before": redact_text(before or ""),
        "after": redact_text(after or ""),
    }
