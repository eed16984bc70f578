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
import math
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


_WEAK_KEY_RE = re.compile(r"(?i)(auth|pass|pwd|key|cred|private|cert|salt|dsn|conn)")
_TOKEN_RE = re.compile(r"^[A-Za-z0-9+/=_-]{20,}$")
_HEX_RE = re.compile(r"^[0-9a-fA-F]{32,}$")
_URL_PASSWORD_RE = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://[^/:@\s]*:([^@\s]+)@")
_NOT_SECRET_VALUES = frozenset(["", "true", "false", "yes", "no", "on", "off", "none", "null"])
# Placeholders written into example files: shown as they are.
PLACEHOLDERS = frozenset(["change-me", "changeme", "change_me", "CHANGE_ME", "CHANGEME"])


def shannon_entropy(value):
    """Shannon entropy of ``value`` (str) in bits per character (0.0 for an empty string)."""
    if not value:
        return 0.0
    counts = {}
    for ch in value:
        counts[ch] = counts.get(ch, 0) + 1
    n = float(len(value))
    return -sum((c / n) * math.log(c / n, 2) for c in counts.values())


def looks_secret(key, value):
    """True when the pair ``key``/``value`` (str, str or None) should be treated as a secret.

    The rules follow detect-secrets' keyword and high-entropy plugins:

    * the key names a secret (:data:`SECRET_KEY_RE`) and the value is not empty, a boolean word
      or an interpolation (``${...}``);
    * the key holds a weaker keyword (AUTH, PASS, KEY, CRED, ...) and the value has at least
      8 characters mixing digits, lower and upper case, no space, and an entropy of at least
      3.0 bits per character;
    * the value alone: a URL with a password (``scheme://user:pass@``), a hex string of 32+
      characters with entropy >= 3.0, or a base64-like token of 20+ characters mixing letters
      and digits with entropy >= 4.0.
    """
    if value is None:
        return False
    v = value.strip()
    if v.lower() in _NOT_SECRET_VALUES or v in PLACEHOLDERS or "${" in v or v.startswith("$"):
        return False
    if is_secret_key(key):
        return True
    ent = shannon_entropy(v)
    if key and _WEAK_KEY_RE.search(key) and len(v) >= 8 and ent >= 3.0 and " " not in v \
            and re.search(r"[0-9]", v) and re.search(r"[a-z]", v) and re.search(r"[A-Z]", v):
        return True
    m = _URL_PASSWORD_RE.match(v)
    if m and not m.group(1).startswith("$"):
        return True
    if _HEX_RE.match(v) and ent >= 3.0:
        return True
    return bool(_TOKEN_RE.match(v) and ent >= 4.0 and re.search(r"[0-9]", v) and re.search(r"[A-Za-z]", v))


def redact_text(text, secrets=()):
    """Return ``text`` with the values of secret-looking keys replaced (see module doc).

    Works line by line on env, YAML and JSON text; already interpolated values (``${...}``)
    and empty values are kept as they are. ``secrets`` (iterable of str): known secret values
    (found by a phase with :func:`looks_secret`) that are replaced wherever they occur, under
    any key; values shorter than 4 characters are only redacted through their key.
    """
    known = sorted((s for s in secrets if s and len(s) >= 4), key=len, reverse=True)
    if known:
        for value in known:
            if value in text:
                text = text.replace(value, redacted(value))
    out = []
    for line in text.split("\n"):
        if not SECRET_KEY_RE.search(line):
            out.append(line)
            continue
        m = _JSON_PAIR.search(line)
        if m:
            def _json(mm):
                if is_secret_key(mm.group(2)) and mm.group(3) and not mm.group(3).startswith("${") \
                        and not mm.group(3).startswith("<redacted sha256:"):
                    return '%s"%s"' % (mm.group(1), redacted(mm.group(3)))
                return mm.group(0)
            out.append(_JSON_PAIR.sub(_json, line))
            continue
        for rx in (_ENV_LINE, _YAML_LINE):
            m = rx.match(line)
            if m and not line.lstrip().startswith("#"):
                value = m.group(3).strip()
                comment = ""
                if value[:1] not in ("'", '"') and " #" in value:
                    value, sep, rest = value.partition(" #")
                    value, comment = value.rstrip(), "  #" + rest
                bare = value.strip("\"'")
                if is_secret_key(m.group(2)) and value and not bare.startswith("${") and bare not in PLACEHOLDERS \
                        and "<redacted sha256:" not in value:
                    line = m.group(1) + redacted(bare) + comment
                break
        out.append(line)
    return "\n".join(out)


def diff_payload(rel, before, after, secrets=()):
    """Return the Ansible diff dict for the file ``rel`` (str).

    :param before: old text (str) or None when the file does not exist.
    :param after: new text (str) or None when the file is removed.
    :param secrets: known secret values, see :func:`redact_text`.
    Values are redacted with :func:`redact_text`.
    """
    return {
        "before_header": "%s (%s)" % (rel, "absent" if before is None else "before"),
        "after_header": "%s (%s)" % (rel, "absent" if after is None else "after"),
        "before": redact_text(before or "", secrets),
        "after": redact_text(after or "", secrets),
    }
