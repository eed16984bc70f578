# -*- coding: utf-8 -*-
# Copyright (c) 2026 sutazai.consolidation contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Environment files: discovery, parsing the way Docker Compose reads them, merging by
priority, and the three outputs of the env phase (its secrets part, moving literal secrets out
of Compose files, is in ``_secrets``).

Parsing: python-dotenv's parser (``dotenv.parser.parse_stream``) reads every binding with its
line and original text; Compose's rules are applied where they differ: a single-quoted value
is literal (no backslash escapes), ``export`` prefixes, quoted multi-line values and `` #``
comments after unquoted values are accepted. Values are never interpolated here: a
``${VAR}`` inside a value is kept as written, so moving a line between files keeps it.
A control character (NUL or another C0 character but tab) anywhere in a file makes the file
invalid, reported as ``path:line:column`` (:func:`control_characters`); it is never merged.

Outputs (all relative to the root):

* ``.env.master`` (mode 0600): the merged base (every env file but ``.env.production``);
  each key keeps the exact line it had in the file that won, grouped under
  ``# --- source: <path> ---`` headers (these headers are read back, so a second run gives
  the same bytes);
* ``.env.production`` (mode 0600): only the keys whose value differs from ``.env.master``;
* ``.env.local.example`` (mode 0644): every key; secret values (``_redaction.looks_secret``)
  replaced by :data:`PLACEHOLDER`;
* ``.env``: a relative symlink to ``.env.master``.
"""

from __future__ import annotations

import io
import os
import re

from ansible_collections.sutazai.consolidation.plugins.module_utils._redaction import is_secret_key, looks_secret
from ansible_collections.sutazai.consolidation.plugins.module_utils._fileio import read_text
from ansible_collections.sutazai.consolidation.plugins.module_utils._tree import glob_matcher

try:
    from dotenv.parser import parse_stream

    HAS_DOTENV = True
except ImportError:  # pragma: no cover - reported by the module
    HAS_DOTENV = False

MASTER = ".env.master"
PRODUCTION = ".env.production"
EXAMPLE = ".env.local.example"
LINK = ".env"
PLACEHOLDER = "change-me"
DEFAULT_PRIORITY = (".env.production", ".env.secure", ".env.master", ".env.consolidated", ".env")
DEFAULT_PATTERNS = (".env", ".env.*", "*.env", "config/**/*.env*")
EXAMPLE_SUFFIXES = (".example", ".template")

_SOURCE_HEADER = re.compile(r"^# --- source: (.+) ---$")
_ASSIGN_PREFIX = re.compile(r"^[ \t]*(?:export[ \t]+)?([^=\s#]+)[ \t]*=[ \t]*")
_MASTER_HEADER = (
    "# Merged environment: the base for every deployment (sutazai.consolidation env phase).\n"
    "# Production values that differ live in .env.production; overlay it on this file, e.g.\n"
    "#   docker compose --env-file .env.master --env-file .env.production ...\n"
    "# Keys are grouped by the file they came from; keep the '# --- source: ... ---' lines.\n"
)
_PRODUCTION_HEADER = (
    "# Production overrides only: keys whose value differs from .env.master\n"
    "# (sutazai.consolidation env phase). Overlay this file on .env.master.\n"
)
_EXAMPLE_HEADER = (
    "# Every environment key of the platform (sutazai.consolidation env phase).\n"
    "# Copy to .env.local and fill in the values shown as '%s'.\n" % PLACEHOLDER
)


class EnvError(Exception):
    """A line of an env file that is not an assignment (``path``, ``line``, ``message``;
    ``column``, 1-based, and ``kind``, default ``invalid_env_line``)."""

    def __init__(self, path, line, message, column=1, kind="invalid_env_line"):
        Exception.__init__(self, "%s:%d:%d: %s" % (path, line, column, message))
        self.path = path
        self.line = line
        self.column = column
        self.kind = kind
        self.message = message

    def as_dict(self):
        """Return ``{"path", "line", "column", "kind", "message"}``."""
        return {"path": self.path, "line": self.line, "column": self.column, "kind": self.kind,
                "message": self.message}


# C0 control characters other than tab and the line feed (a CR is a line end: see
# ``_fileio.decode_text``). Compose refuses them and they are never merged.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f]")
_CONTROL_NAMES = {0: "NUL", 0x1b: "ESC", 0x7: "BEL", 0x8: "BS", 0xb: "VT", 0xc: "FF"}


def control_characters(text, path, line=1):
    """:class:`EnvError` (kind ``control_character``) for the first control character of
    every line of ``text`` that holds one (NUL and the other C0 characters except tab; the
    value is never shown), ``line`` being the number of the first line of ``text``."""
    errors = []
    if not _CONTROL.search(text):
        return errors
    for n, row in enumerate(text.split("\n"), line):
        m = _CONTROL.search(row)
        if m:
            code = ord(m.group(0))
            errors.append(EnvError(path, n, "control character 0x%02x (%s): env files must hold text only "
                                   "(tab is the only one allowed); the file is not merged"
                                   % (code, _CONTROL_NAMES.get(code, "C0 control")),
                                   column=m.start() + 1, kind="control_character"))
    return errors


class EnvEntry(object):
    """One assignment: ``key`` (str), ``value`` (str, or None for a bare ``KEY``), ``text``
    (the original line(s), newline-terminated), ``path`` and ``line`` (1-based) where it was
    read, and ``origin`` (the file it first came from: ``path``, or the source header it sat
    under in ``.env.master``)."""

    __slots__ = ("key", "value", "text", "path", "line", "origin")

    def __init__(self, key, value, text, path, line, origin):
        self.key = key
        self.value = value
        self.text = text
        self.path = path
        self.line = line
        self.origin = origin


def is_env_file(rel, patterns=DEFAULT_PATTERNS):
    """True when ``rel`` (root-relative path) matches one of the env file ``patterns``
    (:func:`_tree.glob_matcher`)."""
    return glob_matcher(tuple(patterns))(rel)


def is_example(rel):
    """True for example/template env files (``*.example``, ``*.template``): never merged."""
    return rel.endswith(EXAMPLE_SUFFIXES)


def _single_quoted(raw, path, line):
    """Compose reads ``'...'`` literally: return the text between the quotes, or raise
    :class:`EnvError` when the quote is not closed, text other than a comment follows, or a
    backslash stands before a quote (python-dotenv reads ``\\'`` as an escaped quote, Compose
    ends the value there: the two readers disagree, so the line is refused)."""
    end = raw.find("'", 1)
    if "\\'" in raw[:end + 1] or raw.rstrip().endswith("\\'"):
        raise EnvError(path, line, "backslash before a quote in a single-quoted value (read differently "
                                   "by Compose and python-dotenv)")
    if end < 0:
        raise EnvError(path, line, "single-quoted value is not closed")
    rest = raw[end + 1:]
    if rest.strip() and not re.match(r"^[ \t]+#", rest) and not rest.strip().startswith("#"):
        raise EnvError(path, line, "unexpected text after the single-quoted value")
    return raw[1:end]


def parse_env_text(text, path, origin=None):
    """Parse env file ``text`` (str, LF line ends).

    :param path: the file's root-relative path (for errors and ``EnvEntry.path``).
    :param origin: default ``EnvEntry.origin``; when None it is ``path``. In ``.env.master``
        a ``# --- source: X ---`` header sets the origin of the entries below it.
    :returns: ``(entries, errors, duplicates)``: ``entries`` is a list of :class:`EnvEntry`
        in file order with only the last assignment of a key kept, ``errors`` a list of
        :class:`EnvError` (lines that are not assignments), ``duplicates`` a list of
        ``{"path", "key", "lines": [int, ...]}`` for keys assigned more than once (last wins).
    """
    current_origin = origin or path
    by_key = {}
    order = []
    lines_of = {}
    errors = []
    for binding in parse_stream(io.StringIO(text)):
        raw = binding.original.string
        line = binding.original.line
        bad = control_characters(raw, path, line)
        if bad:
            errors.extend(bad)
            continue
        m = _ASSIGN_PREFIX.match(raw)
        if binding.error and m and raw[m.end():].startswith("'"):
            try:
                _single_quoted(raw[m.end():].rstrip("\n"), path, line)
            except EnvError as exc:
                errors.append(exc)
                continue
        if binding.error:
            errors.append(EnvError(path, line, "not an assignment (KEY=value): %r"
                                   % raw.strip()[:40].split("=", 1)[0]))
            continue
        if binding.key is None:
            m = _SOURCE_HEADER.match(raw.strip())
            if m and path == MASTER:
                current_origin = m.group(1)
            continue
        value = binding.value
        if m and raw[m.end():].startswith("'"):
            try:
                value = _single_quoted(raw[m.end():].rstrip("\n"), path, line)
            except EnvError as exc:
                errors.append(exc)
                continue
        body = raw.strip("\n") + "\n"
        entry = EnvEntry(binding.key, value, body, path, line, current_origin)
        if binding.key in by_key:
            lines_of[binding.key].append(line)
            order.remove(binding.key)
        else:
            lines_of[binding.key] = [line]
        by_key[binding.key] = entry
        order.append(binding.key)
    dups = [{"path": path, "key": k, "lines": lines_of[k]} for k in sorted(lines_of) if len(lines_of[k]) > 1]
    return [by_key[k] for k in order], errors, dups


def read_values(path, display):
    """``{key: value}`` of the env file at ``path``, read with Compose's rules (see
    :func:`parse_env_text`; last assignment wins, values not interpolated, keys without a
    value and lines that are not assignments left out). For lookups (port variables,
    passwords): values are never reported.

    :param display: the path shown in errors.
    :raises ConsolidationError: when the file cannot be read or decoded (names the file only).
    """
    entries = parse_env_text(read_text(path, display), display)[0]
    return dict((e.key, e.value) for e in entries if e.value is not None)


def interpolates(entry):
    """True when Compose would substitute a ``$`` reference in ``entry``'s value (the value
    is not single-quoted and holds ``$`` other than the ``$$`` escape)."""
    m = _ASSIGN_PREFIX.match(entry.text)
    if entry.value is None or (m and entry.text[m.end():].startswith("'")):
        return False
    return "$" in entry.value.replace("$$", "")


def rank(rel, priority=DEFAULT_PRIORITY):
    """Sort key of an env file or source label: files in ``priority`` first (in that order),
    then every other env file in path order, then secrets moved from compose files
    (labels ``compose:<path>``)."""
    if rel in priority:
        return (0, list(priority).index(rel), rel)
    if rel.startswith("compose:"):
        return (2, 0, rel)
    return (1, 0, rel)


def _winners(parsed, files):
    """First definition of each key over ``files`` (already in priority order)."""
    out = {}
    for rel in files:
        for entry in parsed[rel]:
            if entry.key not in out:
                out[entry.key] = entry
    return out


def effective_values(parsed, priority=DEFAULT_PRIORITY):
    """The value each key had under the old priority order.

    :param parsed: ``{rel: [EnvEntry]}`` of every merged file.
    :returns: ``{key: value}`` (value str or None).
    """
    files = sorted(parsed, key=lambda r: rank(r, priority))
    return dict((k, e.value) for k, e in _winners(parsed, files).items())


def render_master(entries, priority=DEFAULT_PRIORITY):
    """Render ``.env.master`` from the winning entries (list of :class:`EnvEntry`).

    Groups by ``origin`` ordered with :func:`rank`; inside a group entries keep the order
    they are given in. Returns str.
    """
    groups = {}
    for e in entries:
        groups.setdefault(e.origin, []).append(e)
    out = [_MASTER_HEADER]
    for origin in sorted(groups, key=lambda r: rank(r, priority)):
        out.append("\n# --- source: %s ---\n" % origin)
        out.extend(e.text for e in groups[origin])
    return "".join(out)


def render_production(entries):
    """Render ``.env.production`` from its override entries (list of :class:`EnvEntry`)."""
    return _PRODUCTION_HEADER + "\n" + "".join(e.text for e in entries)


def render_value(value):
    """Quote ``value`` (str) for an env file the way Compose reads it back unchanged:
    unquoted when only safe characters occur, single quotes (literal) when possible,
    else double quotes with ``\\``, ``"`` and newline escaped and ``$`` doubled."""
    if re.match(r"^[A-Za-z0-9_./:@%+,=-]*$", value):
        return value
    if "'" not in value and "\n" not in value:
        return "'%s'" % value
    esc = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("$", "$$")
    return '"%s"' % esc


def render_example(winners, examples, secret_keys):
    """Render ``.env.local.example``: every key, sorted.

    :param winners: ``{key: EnvEntry}`` of the merged files (overrides included).
    :param examples: ``{key: EnvEntry}`` from example/template files (used for keys that
        only they define).
    :param secret_keys: set of keys whose value is replaced by :data:`PLACEHOLDER` (so is
        the value of every key that names a secret, even an empty one).
    """
    out = [_EXAMPLE_HEADER, "\n"]
    keys = sorted(set(winners) | set(examples))
    for k in keys:
        entry = winners.get(k) or examples[k]
        if k in secret_keys or is_secret_key(k) or looks_secret(k, entry.value):
            out.append("%s=%s\n" % (k, PLACEHOLDER))
        else:
            out.append(entry.text)
    return "".join(out)


def add_to_example(example_text, keys):
    """Return ``.env.local.example`` text with ``keys`` (secret keys, shown as
    :data:`PLACEHOLDER`) added: the same bytes :func:`render_example` gives once the env
    phase reads them back from ``.env.master``."""
    entries = dict((e.key, e) for e in parse_env_text(example_text, EXAMPLE)[0])
    for k in keys:
        entries.setdefault(k, EnvEntry(k, PLACEHOLDER, "%s=%s\n" % (k, PLACEHOLDER), EXAMPLE, 0, EXAMPLE))
    return _EXAMPLE_HEADER + "\n" + "".join(entries[k].text for k in sorted(entries))


class EnvPlan(object):
    """Result of :func:`plan_env`.

    :ivar master: text of ``.env.master`` (str).
    :ivar production: text of ``.env.production`` or None when there is none.
    :ivar example: text of ``.env.local.example``.
    :ivar effective: ``{key: value}`` under the old priority order.
    :ivar secret_values: set of values judged secret (for redaction; never returned).
    :ivar secret_keys: sorted list of keys judged secret.
    :ivar overrides: sorted list of keys kept in ``.env.production``.
    :ivar sources: merged files in priority order (list of rel).
    :ivar interpolated_keys: sorted keys whose winning value refers to another variable.
    """

    def __init__(self):
        self.master = None
        self.production = None
        self.example = None
        self.effective = {}
        self.secret_values = set()
        self.secret_keys = []
        self.overrides = []
        self.sources = []
        self.interpolated_keys = []


def plan_env(parsed, examples, priority=DEFAULT_PRIORITY):
    """Merge the env files.

    :param parsed: ``{rel: [EnvEntry]}`` of every merged file (not examples).
    :param examples: ``{rel: [EnvEntry]}`` of example/template files.
    :param priority: highest first; see :func:`rank`.
    :returns: :class:`EnvPlan`.
    :raises ValueError: when the overlay invariant does not hold (a bug; names keys only).
    """
    plan = EnvPlan()
    files = sorted(parsed, key=lambda r: rank(r, priority))
    plan.sources = files
    plan.effective = effective_values(parsed, priority)
    plan.interpolated_keys = sorted(k for k, e in _winners(parsed, files).items() if interpolates(e))
    base_files = [r for r in files if r != PRODUCTION]
    base = _winners(parsed, base_files)
    # Keep each file's order inside its group: walk files in rank order, entries in file order.
    ordered = []
    seen = set()
    for rel in base_files:
        for e in parsed[rel]:
            if base.get(e.key) is e and e.key not in seen:
                ordered.append(e)
                seen.add(e.key)
    plan.master = render_master(ordered, priority)
    overrides = [e for e in parsed.get(PRODUCTION, []) if e.key not in base or base[e.key].value != e.value]
    if PRODUCTION in parsed:
        plan.production = render_production(overrides)
    plan.overrides = sorted(e.key for e in overrides)
    all_entries = [e for rel in files for e in parsed[rel]]
    ex_entries = [e for rel in sorted(examples) for e in examples[rel]]
    # The example takes each line from the base (what .env.master holds), production-only keys
    # from .env.production: the same lines on the next run, when .env.master is the input.
    ex_winners = dict(base)
    for e in parsed.get(PRODUCTION, []):
        ex_winners.setdefault(e.key, e)
    # Which keys are secret is decided on the values that survive (same answer next run);
    # every value that looks secret anywhere is redacted in diffs.
    kept = list(ex_winners.values()) + list(parsed.get(PRODUCTION, [])) + ex_entries
    secret_keys = set(e.key for e in kept if looks_secret(e.key, e.value) or is_secret_key(e.key))
    plan.secret_keys = sorted(secret_keys)
    plan.secret_values = set(e.value for e in all_entries if e.value and (e.key in secret_keys or looks_secret(e.key, e.value)))
    ex_first = {}
    for e in ex_entries:
        ex_first.setdefault(e.key, e)
    plan.example = render_example(ex_winners, ex_first, secret_keys)
    check_overlay(plan.master, plan.production, plan.effective)
    return plan


def overlay(master_text, production_text):
    """Values of ``.env.master`` overlaid with ``.env.production`` (texts as written)."""
    values = dict((e.key, e.value) for e in parse_env_text(master_text, MASTER)[0])
    if production_text is not None:
        values.update((e.key, e.value) for e in parse_env_text(production_text, PRODUCTION)[0])
    return values


def check_overlay(master_text, production_text, effective):
    """Raise ValueError (naming keys, never values) unless master + production overlay gives
    exactly ``effective`` ({key: value}) for every key."""
    got = overlay(master_text, production_text)
    missing = sorted(set(effective) - set(got))
    extra = sorted(set(got) - set(effective))
    differ = sorted(k for k in effective if k in got and got[k] != effective[k])
    if missing or extra or differ:
        raise ValueError("overlay invariant broken: missing %s, extra %s, different %s" % (missing, extra, differ))


def relative_link(from_rel, to_rel):
    """Target of a relative symlink at ``from_rel`` pointing at ``to_rel`` (both root-relative)."""
    return os.path.relpath(to_rel, os.path.dirname(from_rel) or ".")
