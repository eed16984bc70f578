# -*- coding: utf-8 -*-
# Copyright (c) 2026 sutazai.consolidation contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Secret detection and redaction: the one place that decides what is a secret and how it is
hidden in every output of the collection (diffs, warnings, errors, summaries, reports,
module results, the rollback diff).

Placeholder
    A secret value is replaced by ``<redacted sha256:XXXXXXXX>``: the first 8 hex digits of
    the sha256 of the value (:func:`redacted`). The same value gives the same placeholder in
    every file and every run, so a reader can tell that a value changed or moved without
    seeing it. Quotes around a value, the key, ``export``, a YAML anchor (``&name``) and a
    trailing ``# comment`` stay as written.

What is redacted (:func:`redact_text`, in this order)
    1. *Known secrets*: every value given in ``secrets`` (typically the secrets of the whole
       tree, :func:`tree_secrets`) wherever it occurs, under any key or none, also in its
       URL-quoted and JSON/``repr``-escaped forms. Only values that are specific enough to be
       searched for are replaced this way (:func:`propagates`: 6 or more characters mixing
       at least two of lower case, upper case, digits and symbols, not a placeholder); a
       value shorter than 10 characters or with fewer than three classes is only replaced
       where it stands as a word of its own. Weaker values are still redacted through rules
       2-4 where they stand under their key.
    2. *Private key blocks*: the body of ``-----BEGIN ... PRIVATE KEY-----`` (any ``BEGIN X
       KEY`` block except public keys and certificates) up to its ``END`` line.
    3. *Values under secret-looking keys* (:func:`looks_secret`: a key naming a password,
       secret, token, API key, credentials, JWT ...; a weaker keyword with a high-entropy
       value; or a value that alone looks like a credential), in these shapes:
       env ``KEY=value`` and ``export KEY=value`` (also commented out, and with a trailing
       `` # comment`` after an unquoted value); YAML ``key: value`` (also as a list item,
       after an anchor); Compose list-form environment ``- KEY=value`` and
       ``- "KEY=value"``; JSON ``"key": "value"`` pairs anywhere in a line; ``KEY=value``
       pairs inside a command line (shell, ``ENV``/``ARG`` of a Dockerfile, also the legacy
       ``ENV KEY value``); command-line flags ``--password=x`` / ``--requirepass x``. The
       default of an interpolation under a secret key or of a secret variable
       (``${POSTGRES_PASSWORD:-value}``) is redacted, the reference itself is kept. In
       source code (``.py``, ``.js`` ...) only quoted literals count as values.
    4. *Credentials in URLs* anywhere in the text: the password of ``scheme://user:pass@``
       and the account with it, each under its own placeholder (also ``redis://:pass@host``;
       the account is hidden when the password is a ``${...}`` reference too; a user part
       alone when it looks like a token, as in ``https://ghp_...@github.com``), the value of credential query or fragment
       parameters (``token``, ``access_token``, ``api_key``, ``key``, ``sig``,
       ``signature``, ``password``, ``secret``, ``auth``, ``code``, ``X-Amz-Signature``
       ...), and path segments that are tokens (20 or more characters holding a run of 16
       letters and digits that mixes both, with an entropy of at least 3.5 bits per
       character; git and sha256 digests, 40 and 64 hex digits, are not tokens) or that
       follow a known webhook prefix (Slack ``hooks.slack.com/services``, Discord
       ``/api/webhooks``).
    5. *Well-known token shapes* standing alone: GitHub (``ghp_``, ``github_pat_``), GitLab
       (``glpat-``), Slack (``xoxb-`` ...), OpenAI-style ``sk-``, AWS access key ids
       (``AKIA...``), Google API keys (``AIza...``), ``Bearer <token>``.

Never redacted: empty values, ``true``/``false``/``yes``/``no``/``none``/``null``,
interpolations (``${VAR}``, ``$VAR``), placeholders of example files (:data:`PLACEHOLDERS`),
text that already holds a placeholder, image digests (``image@sha256:...``), ordinary paths
and URLs (``https://github.com/org/repo/blob/main/README.md``).

Which values the tree holds as secrets (:func:`secrets_in_text`, :func:`collect_tree_secrets`)
    The values found by rules 2-5 in every file, plus what the parsers see: env files with
    python-dotenv (the project's ``_env`` reader: quoting, ``export``, multi-line values),
    YAML with its node graph (Compose ``environment:`` in map and list form, values reached
    through anchors, aliases and ``<<`` merge keys), JSON documents, and the ``env_file:``
    targets of every Compose service whatever their names. Each phase module's results,
    warnings, errors and diffs are redacted with the secrets of the whole tree (see
    ``_phase.check_root`` and ``_changes.ChangeSet.diffs``); rollback adds the secrets of
    the backup copies it restores (:func:`secrets_in_files`).

Journal backup copies keep the original bytes (rollback must restore them exactly); they are
never shown, only their redacted diff.
"""

from __future__ import annotations

import bisect
import hashlib
import json
import math
import os
import re

from urllib.parse import quote, quote_plus

PLACEHOLDER_PREFIX = "<redacted sha256:"
PLACEHOLDER_RE = re.compile(r"<redacted sha256:[0-9a-f]{8}>")

SECRET_KEY_RE = re.compile(
    r"(?i)(passw(or)?d|passwd|secret|token|api[_-]?key|private[_-]?key|access[_-]?key|credentials?|"
    r"auth[_-]?key|client[_-]?secret|signing[_-]?key|encryption[_-]?key|jwt)"
)

# Placeholders written into example files: shown as they are.
PLACEHOLDERS = frozenset(["change-me", "changeme", "change_me", "CHANGE_ME", "CHANGEME"])

_WEAK_KEY_RE = re.compile(r"(?i)(auth|pass|pwd|key|cred|private|cert|salt|dsn|conn)")
_TOKEN_RE = re.compile(r"^[A-Za-z0-9+/=_-]{20,}$")
_HEX_RE = re.compile(r"^[0-9a-fA-F]{32,}$")
_URL_PASSWORD_RE = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://[^/:@\s]*:([^@\s]+)@")
_NOT_SECRET_VALUES = frozenset(["", "true", "false", "yes", "no", "on", "off", "none", "null"])
# Keys whose values are digests or sizes, never secrets, whatever their shape.
_DIGEST_KEY_RE = re.compile(r"(?i)^(?:[\w.-]*[_.-])?(?:sha\d*|sha256sum|md5|digest|hash|checksum|etag|"
                            r"commit|revision|rev|git_sha|sha1)$")
# Values that stand for "fill me in" in templates: redacted where they stand (harmless) but
# never searched for elsewhere.
_PLACEHOLDER_LIKE = re.compile(r"(?i)change[-_]?me|your[-_]|_here$|replace[-_]?with|generate[-_]|<[^>]*>|^__.*__$|"
                               r"^\.\.\.$|^x{3,}$|^\*+$|example|dummy|placeholder|^(?:todo|tbd|secret|password|token)$")
_CODE_SUFFIXES = (".py", ".pyi", ".js", ".mjs", ".cjs", ".ts", ".tsx", ".jsx", ".go", ".rb", ".java", ".rs",
                  ".php", ".c", ".h", ".cpp", ".cs", ".kt", ".scala", ".swift")


# -- keys, values, placeholders --------------------------------------------------------------
def fingerprint(value):
    """Return ``sha256:XXXXXXXX`` for ``value`` (str): safe to show in place of a secret."""
    return "sha256:" + hashlib.sha256(value.encode("utf-8", "surrogateescape")).hexdigest()[:8]


def redacted(value):
    """Return the placeholder that stands for the secret ``value``: ``<redacted sha256:XXXXXXXX>``."""
    return "<redacted %s>" % fingerprint(value)


def is_secret_key(key):
    """True when ``key`` (str) names a secret (PASSWORD, TOKEN, API_KEY, ...)."""
    return bool(SECRET_KEY_RE.search(key or ""))


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
    if key and len(v) >= 8 and " " not in v and _WEAK_KEY_RE.search(key) and re.search(r"[0-9]", v) \
            and re.search(r"[a-z]", v) and re.search(r"[A-Z]", v) and shannon_entropy(v) >= 3.0:
        return True
    if len(v) < 20:
        m = _URL_PASSWORD_RE.match(v) if "://" in v else None
        return bool(m and not m.group(1).startswith("$"))
    m = _URL_PASSWORD_RE.match(v)
    if m and not m.group(1).startswith("$"):
        return True
    if _HEX_RE.match(v) and shannon_entropy(v) >= 3.0:
        return True
    return bool(_TOKEN_RE.match(v) and re.search(r"[0-9]", v) and re.search(r"[A-Za-z]", v)
                and shannon_entropy(v) >= 4.0)


def _classes(value):
    n = 0
    for rx in (r"[a-z]", r"[A-Z]", r"[0-9]", r"[^A-Za-z0-9\s_./:-]"):
        if re.search(rx, value):
            n += 1
    return n


def propagates(value):
    """True when the secret ``value`` is specific enough to be searched for and replaced in
    every text, under any key (rule 1 of the module doc): at least 6 characters, at least two
    character classes (lower, upper, digit, symbol), not a placeholder."""
    if not value or len(value) < 6 or PLACEHOLDER_PREFIX in value:
        return False
    v = value.strip()
    if v in PLACEHOLDERS or _PLACEHOLDER_LIKE.search(v) or v[:1] in ("$", "=") or not _is_literal(v):
        return False
    if re.search(r"[\s(){}]", v) and not v.startswith("-----BEGIN"):
        return False  # prose, code or a template expression
    if _NAME_LIKE.match(v) and all(p.isdigit() or p.isalpha() and (p.islower() or p.isupper())
                                   for p in re.split(r"[-_.]", v)):
        return False  # an identifier made of words and numbers (a service, volume or host name)
    if "/" in v and all(not _token_segment(p) for p in v.split("/")) and re.match(r"^[\w.@+~/-]+$", v):
        return False  # a path
    return _classes(v) >= 2 or (len(v) >= 16 and shannon_entropy(v) >= 3.5)


_NAME_LIKE = re.compile(r"^[A-Za-z0-9]+(?:[-_.][A-Za-z0-9]+)*$")


def _strong(value):
    return len(value) >= 10 and _classes(value) >= 3


_CODE_VALUE = re.compile(r"^(?:[A-Za-z_][\w.]*\(|[A-Za-z_]\w*(?:\[[^\]]*\])?\s*=\s)")


def _is_literal(value):
    """A value as written that can be a secret: not empty, not a boolean word, not a reference
    (``$``), not code (a call, an annotated assignment), not a placeholder, not already redacted."""
    v = value.strip()
    return bool(v) and v.lower() not in _NOT_SECRET_VALUES and v not in PLACEHOLDERS and not v.startswith("$") \
        and PLACEHOLDER_PREFIX not in v and not _CODE_VALUE.match(v)


def _secret_pair(key, value):
    """True when ``value`` (as written, without quotes) under ``key`` is redacted by rule 3."""
    if not _is_literal(value):
        return False
    if is_secret_key(key):
        return True
    if _DIGEST_KEY_RE.match(key or ""):
        return False
    if re.match(r"^[A-Za-z][A-Za-z0-9+.-]*://", value.strip()):
        return False  # URL: rule 4 redacts its credentials and keeps the rest readable
    return looks_secret(key, value)


# -- the span engine -------------------------------------------------------------------------
_KEY = r"[A-Za-z_][A-Za-z0-9_.-]*"
_ENV_LINE = re.compile(r"^(?P<pre>[ \t]*(?:#[ \t]*)?(?:export[ \t]+)?(?P<key>%s)[ \t]*=(?![=~])[ \t]*)(?P<rest>.*)$" % _KEY)
_YAML_LINE = re.compile(r"^(?P<pre>[ \t]*(?:#[ \t]*)?(?:-[ \t]+)?(?P<q>[\"']?)(?P<key>%s)(?P=q)[ \t]*:[ \t]+"
                        r"(?:&[^\s]+[ \t]+)?(?:!![A-Za-z]+[ \t]+)?)(?P<rest>[^&*|>\s].*)$" % _KEY)
_LIST_ITEM = re.compile(r"^(?P<pre>[ \t]*(?:#[ \t]*)?-[ \t]+(?P<q>[\"']?)(?P<key>%s)[ \t]*=)(?P<rest>.*)$" % _KEY)
_DOCKER_LEGACY = re.compile(r"^(?P<pre>[ \t]*(?:ENV|ARG)[ \t]+(?P<key>%s)[ \t]+)(?P<rest>[^=\s].*)$" % _KEY, re.I)
_JSON_PAIR = re.compile(r"\"(?P<key>[^\"\\]{1,120})\"\s*:\s*\"(?P<val>(?:[^\"\\]|\\.)*)\"")
_INLINE = re.compile(r"(?<![\w.$/-])(?P<key>[A-Za-z_][\w.-]*)=(?![=~])(?P<val>\"[^\"\n]*\"|'[^'\n]*'|[^\s,;\"'&|)(<>`]+)")
_FLAG = re.compile(r"(?<![\w-])--?(?P<key>[A-Za-z][\w-]*)(?:=|[ \t]+|\"[ \t]*,[ \t]*(?=\")|'[ \t]*,[ \t]*(?='))(?P<val>\"[^\"\n]*\"|'[^'\n]*'|[^\s\"'<>;&|`]+)")
_FLAG_KEY = re.compile(r"(?i)(passw(or)?d|passwd|requirepass|secret|token|api[_-]?key|auth[_-]?key|credentials?)$")
_INTERP_DEFAULT = re.compile(r"\$\{(?P<var>[A-Za-z_]\w*)(?::?[-=])(?P<val>[^}\s]*)\}")
_PEM = re.compile(r"-----BEGIN (?P<kind>[A-Z0-9 ]{0,40}KEY)-----(?P<body>.+?)-----END (?P=kind)-----", re.S)
_URL = re.compile(r"\b[A-Za-z][A-Za-z0-9+.-]*://[^\s\"'<>`\\]+")
_QUERY_KEYS = re.compile(r"(?i)^(?:key|sig|signature|auth|apikey|code|pass|pwd|session|sessionid|sid|"
                         r"x-(?:amz|goog)-(?:signature|credential|security-token)|[\w-]*token|[\w-]*secret|"
                         r"[\w-]*api[_-]?key|[\w-]*password|[\w-]*passwd)$")
_WEBHOOK = re.compile(r"(?i)^(?:hooks\.slack\.com/services|(?:[\w-]+\.)?discord(?:app)?\.com/api/webhooks)/")
_TOKEN_SHAPES = re.compile(
    r"(?<![A-Za-z0-9_])(?:gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{22,}|glpat-[A-Za-z0-9_-]{20,}|"
    r"xox[abprs]-[A-Za-z0-9-]{10,}|sk-[A-Za-z0-9_-]{20,}|AKIA[0-9A-Z]{16}|AIza[0-9A-Za-z_-]{35})(?![A-Za-z0-9_])")
# Cheap tests that decide which rules a line needs (most lines need none).
_KEY_WORDS = ("pass", "secret", "token", "key", "auth", "cred", "jwt", "private", "cert", "salt", "dsn", "conn", "pwd")
_LONG_RUN = re.compile(r"[A-Za-z0-9+=_-]{20,}")
_SHAPE_WORDS = ("gh", "github_pat_", "glpat-", "xox", "sk-", "akia", "aiza", "bearer")
# Something in a text that one of rules 2-5 looks at: a key word or shape word (the lines
# :func:`_spans` reads), a long run, a URL, an interpolation or a private key block. A text
# without any has no span, so :meth:`Redactor.text` skips it.
_ANY_HINT = re.compile(r"(?i)%s|://|\$\{|-----BEGIN|%s" % (
    "|".join(re.escape(w) for w in _KEY_WORDS + _SHAPE_WORDS), _LONG_RUN.pattern))
_SHAPE_HINT = re.compile(r"(?i)gh[pousr]_|github_pat_|glpat-|xox[abprs]-|sk-|AKIA|AIza|bearer")
_BEARER = re.compile(r"(?i)\bbearer[ \t]+(?P<val>[A-Za-z0-9._~+/=-]{16,})")


def _is_code(name):
    return bool(name) and name.lower().endswith(_CODE_SUFFIXES)


def _is_shell(name):
    """Shell-like files, where an unquoted value ends at the first blank."""
    base = (name or "").rsplit("/", 1)[-1].lower()
    return base.endswith((".sh", ".bash", ".zsh", ".mk")) or base.startswith(("dockerfile", "makefile")) \
        or base.endswith(".dockerfile")


def _value_of(rest, quote_char="", shell=False):
    """Split ``rest`` (the text after ``KEY=`` / ``key:``) into the value span.

    :returns: ``(start, end, quoted)`` offsets of the value inside ``rest`` (quotes excluded),
        or None when there is no value.
    """
    if quote_char:
        end = rest.find(quote_char)
        end = len(rest) if end < 0 else end
        return (0, end, True) if end > 0 else None
    if not rest:
        return None
    q = rest[0]
    if q in ("'", '"'):
        i = 1
        while i < len(rest):
            c = rest[i]
            if q == '"' and c == "\\":
                i += 2
                continue
            if c == q:
                if q == "'" and rest[i + 1:i + 2] == "'":
                    i += 2
                    continue
                return (1, i, True) if i > 1 else None
            i += 1
        return (1, len(rest), True) if len(rest) > 1 else None  # unclosed: to the end of the line
    m = re.search(r"[ \t]" if shell else r"[ \t]+#", rest)
    end = m.start() if m else len(rest)
    while end > 0 and rest[end - 1] in " \t":
        end -= 1
    return (0, end, False) if end > 0 else None


class _Spans(object):
    """Non-overlapping ``(start, end, value)`` spans of one text, first found first kept."""

    def __init__(self):
        self.items = []

    def add(self, start, end, value=None, text=None):
        if end <= start:
            return False
        for s, e, dummy in self.items:
            if start < e and s < end:
                return False
        self.items.append((start, end, value if value is not None else text[start:end]))
        return True


def _interp_default(value_text, offset, key, spans, text):
    """Spans of interpolation defaults inside a value: under a secret ``key`` any default,
    otherwise the defaults of secret-looking variables."""
    for m in _INTERP_DEFAULT.finditer(value_text):
        val = m.group("val")
        if val and _is_literal(val) and (is_secret_key(key) or is_secret_key(m.group("var"))):
            spans.add(offset + m.start("val"), offset + m.end("val"), text=text)


def _pair_span(key, rest, rest_offset, spans, text, code, quote_char="", shell=False):
    span = _value_of(rest, quote_char, shell)
    if span is None:
        return
    start, end, quoted = span
    value = rest[start:end]
    if code and not quoted:
        return
    if value.startswith("$"):
        _interp_default(value, rest_offset + start, key, spans, text)
        return
    if _secret_pair(key, value):
        spans.add(rest_offset + start, rest_offset + end, text=text)


def _split_userinfo(userinfo):
    """``(user, ":", password)`` of a URL's user-info; a colon inside ``${...}`` does not count."""
    depth = 0
    for i, c in enumerate(userinfo):
        if c == "{":
            depth += 1
        elif c == "}":
            depth = max(0, depth - 1)
        elif c == ":" and depth == 0:
            return userinfo[:i], ":", userinfo[i + 1:]
    return userinfo, "", ""


def _url_spans(url, offset, spans, text):
    """Rule 4 inside one URL found at ``offset`` of ``text``."""
    scheme_end = url.index("://") + 3
    rest = url[scheme_end:]
    m = re.match(r"[^/?#]*", rest)
    authority = m.group(0)
    at = authority.rfind("@")
    base = offset + scheme_end
    if at > 0:
        userinfo = authority[:at]
        user, sep, password = _split_userinfo(userinfo)
        if sep:
            if password and _is_literal(password):
                spans.add(base + len(user) + 1, base + at, text=text)
            elif password.startswith("${"):
                _interp_default(password, base + len(user) + 1, "password", spans, text)
            if password and user and _is_literal(user):
                spans.add(base, base + len(user), text=text)  # the account of a credential pair
        elif _is_literal(user) and (len(user) >= 16 or looks_secret("", user) or _TOKEN_SHAPES.match(user)):
            spans.add(base, base + at, text=text)
        if user.startswith("${"):
            _interp_default(user, base, "user", spans, text)
    path_start = len(authority)
    tail = rest[path_start:]
    pm = re.match(r"[^?#]*", tail)
    path = pm.group(0)
    host = authority[at + 1:] if at >= 0 else authority
    webhook = _WEBHOOK.match(host + path) is not None
    pos = base + path_start
    segments = path.split("/")
    last = len(segments) - 1
    while last > 0 and not segments[last]:
        last -= 1
    for i, seg in enumerate(segments):
        if seg and (_token_segment(seg) or (webhook and i == last and i >= 3)):
            spans.add(pos, pos + len(seg), text=text)
        pos += len(seg) + 1
    query = tail[len(path):]
    qpos = base + path_start + len(path)
    for qm in re.finditer(r"(?<=[?&;#])(?P<key>[A-Za-z0-9_.-]+)=(?P<val>[^&;#\s]*)", query):
        val = qm.group("val")
        if val and _is_literal(val) and _QUERY_KEYS.match(qm.group("key")):
            spans.add(qpos + qm.start("val"), qpos + qm.end("val"), text=text)


def _token_segment(seg):
    """A URL path segment that is a token (rule 4)."""
    if len(seg) < 20 or not re.match(r"^[A-Za-z0-9_.~+=-]+$", seg):
        return False
    if re.match(r"^(?:[0-9a-f]{40}|[0-9a-f]{64})$", seg, re.I):
        return False
    runs = re.findall(r"[A-Za-z0-9]{16,}", seg)
    if not any(re.search(r"[0-9]", r) and re.search(r"[A-Za-z]", r) for r in runs):
        return False
    return shannon_entropy(seg) >= 3.5


def _line_spans(line, offset, spans, text, code, shell, keyed, shaped):
    if keyed:
        _key_spans(line, offset, spans, text, code, shell)
    if "://" in line:
        for m in _URL.finditer(line):
            _url_spans(m.group(0), offset + m.start(), spans, text)
    if "${" in line:
        for m in _INTERP_DEFAULT.finditer(line):
            val = m.group("val")
            if val and _is_literal(val) and is_secret_key(m.group("var")):
                spans.add(offset + m.start("val"), offset + m.end("val"), text=text)
    if shaped:
        for m in _TOKEN_SHAPES.finditer(line):
            spans.add(offset + m.start(), offset + m.end(), text=text)
        for m in _BEARER.finditer(line):
            if _is_literal(m.group("val")):
                spans.add(offset + m.start("val"), offset + m.end("val"), text=text)


def _lines_with(text, lower, starts, words, run=None):
    """Indexes of the lines of ``text`` holding one of ``words`` (in ``lower``, the text in
    lower case) or a match of ``run``: found with whole-text searches, much faster than
    testing every line."""
    hits = set()
    for word in words:
        i = lower.find(word)
        while i >= 0:
            hits.add(bisect.bisect_right(starts, i) - 1)
            i = lower.find(word, i + 1)
    if run is not None:
        for m in run.finditer(text):
            hits.add(bisect.bisect_right(starts, m.start()) - 1)
    return hits


def _key_spans(line, offset, spans, text, code, shell):
    m = _ENV_LINE.match(line)
    if m:
        _pair_span(m.group("key"), m.group("rest"), offset + m.start("rest"), spans, text, code, shell=shell)
    else:
        m = _LIST_ITEM.match(line)
        if m:
            _pair_span(m.group("key"), m.group("rest"), offset + m.start("rest"), spans, text, code,
                       quote_char=m.group("q"))
        else:
            m = _YAML_LINE.match(line)
            if m:
                _pair_span(m.group("key"), m.group("rest"), offset + m.start("rest"), spans, text, code)
            else:
                m = _DOCKER_LEGACY.match(line)
                if m and not code:
                    _pair_span(m.group("key"), m.group("rest"), offset + m.start("rest"), spans, text, code,
                               shell=True)
    for m in _JSON_PAIR.finditer(line):
        val = m.group("val")
        if _secret_pair(m.group("key"), val):
            spans.add(offset + m.start("val"), offset + m.end("val"), text=text)
        elif val.startswith("$"):
            _interp_default(val, offset + m.start("val"), m.group("key"), spans, text)
    for m in _INLINE.finditer(line):
        raw = m.group("val")
        quoted = raw[:1] in ("'", '"')
        val = raw[1:-1] if quoted else raw
        if code and not quoted:
            continue
        start = offset + m.start("val") + (1 if quoted else 0)
        if val.startswith("$"):
            _interp_default(val, start, m.group("key"), spans, text)
        elif is_secret_key(m.group("key")) and _is_literal(val):
            spans.add(start, start + len(val), text=text)
    if not code:
        for m in _FLAG.finditer(line):
            raw = m.group("val")
            quoted = raw[:1] in ("'", '"')
            val = raw[1:-1] if quoted else raw
            if _FLAG_KEY.search(m.group("key")) and _is_literal(val) and not val.startswith("-"):
                start = offset + m.start("val") + (1 if quoted else 0)
                spans.add(start, start + len(val), text=text)


def _pem_spans(text, spans):
    for m in _PEM.finditer(text):
        if "PUBLIC" in m.group("kind"):
            continue
        body = m.group("body")
        inner = body.strip()
        if inner and PLACEHOLDER_PREFIX not in inner:
            start = m.start("body") + body.index(inner)
            spans.add(start, start + len(inner), text=text)


def _spans(text, name=""):
    """All spans of rules 2-5 in ``text`` (the file name ``name`` tells source code apart)."""
    spans = _Spans()
    code = _is_code(name)
    _pem_spans(text, spans)
    lines = text.split("\n")
    starts = []
    pos = 0
    for line in lines:
        starts.append(pos)
        pos += len(line) + 1
    lower = text.lower()
    keyed = _lines_with(text, lower, starts, _KEY_WORDS, _LONG_RUN)
    shaped = _lines_with(text, lower, starts, _SHAPE_WORDS)
    shell = _is_shell(name)
    for i, line in enumerate(lines):
        if i in keyed or i in shaped or "://" in line or "${" in line:
            _line_spans(line, starts[i], spans, text, code, shell, i in keyed, i in shaped)
    return spans.items


def _keyless_spans(text):
    """Spans of the rules that need no key (private key blocks, URLs, token shapes)."""
    spans = _Spans()
    _pem_spans(text, spans)
    if "://" in text:
        for m in _URL.finditer(text):
            _url_spans(m.group(0), m.start(), spans, text)
    if _SHAPE_HINT.search(text):
        for m in _TOKEN_SHAPES.finditer(text):
            spans.add(m.start(), m.end(), text=text)
        for m in _BEARER.finditer(text):
            if _is_literal(m.group("val")):
                spans.add(m.start("val"), m.end("val"), text=text)
    return spans.items


# -- known secrets ---------------------------------------------------------------------------
def _forms(secret):
    forms = set([secret])
    for form in (quote(secret, safe=""), quote_plus(secret, safe=""), json.dumps(secret)[1:-1],
                 secret.encode("unicode_escape").decode("ascii", "replace")):
        if form:
            forms.add(form)
    return forms


class Redactor(object):
    """Redaction with a fixed set of known secrets (compiled once; use it for many texts).

    :param secrets: iterable of secret values (str); those that :func:`propagates` are
        replaced everywhere (rule 1), the others only through rules 2-5.
    """

    def __init__(self, secrets=()):
        strong, weak = {}, {}
        for s in set(x for x in secrets if isinstance(x, str) and x):
            if not propagates(s):
                continue
            target = strong if _strong(s) else weak
            for form in _forms(s):
                if len(form) >= 6:
                    target.setdefault(form, s)
        self._forms = dict(weak)
        self._forms.update(strong)
        self._done = {}
        self._strong_re = self._compile(strong, False)
        self._weak_re = self._compile(weak, True)

    @staticmethod
    def _compile(forms, bounded):
        if not forms:
            return None
        alt = "|".join(re.escape(f) for f in sorted(forms, key=len, reverse=True))
        if bounded:
            return re.compile(r"(?<![A-Za-z0-9])(?:%s)(?![A-Za-z0-9])" % alt)
        return re.compile(alt)

    def _known(self, text):
        for rx in (self._strong_re, self._weak_re):
            if rx is not None:
                text = rx.sub(lambda m: redacted(self._forms[m.group(0)]), text)
        return text

    def known(self, value):
        """Apply rule 1 only (the known secrets) to ``value``: a str, or every string inside
        dicts and lists (for text already redacted by the other rules, such as diffs)."""
        if isinstance(value, str):
            return self._known(value) if value else value
        if isinstance(value, (list, tuple)):
            return [self.known(v) for v in value]
        if isinstance(value, dict):
            return dict((k, self.known(v)) for k, v in value.items())
        return value

    def text(self, text, name=""):
        """Return ``text`` (str, or None) with every rule of the module doc applied."""
        if not text:
            return text
        text = self._known(text)
        if not _ANY_HINT.search(text):
            return text
        items = _spans(text, name)
        if not items:
            return text
        out = []
        pos = 0
        for start, end, value in sorted(items):
            out.append(text[pos:start])
            out.append(redacted(value))
            pos = end
        out.append(text[pos:])
        return "".join(out)

    def data(self, value):
        """Apply :meth:`text` to every string inside ``value`` (dicts, lists, tuples, str);
        dict keys are kept."""
        if isinstance(value, str):
            # Results repeat the same paths and names many times: each string is redacted once.
            done = self._done.get(value)
            if done is None:
                done = self._done[value] = self.text(value)
            return done
        if isinstance(value, (list, tuple)):
            return [self.data(v) for v in value]
        if isinstance(value, dict):
            return dict((k, self.data(v)) for k, v in value.items())
        return value


def redact_text(text, secrets=(), name=""):
    """Return ``text`` with every secret hidden (rules 1-5 of the module doc).

    :param secrets: known secret values (iterable of str), e.g. :func:`tree_secrets`.
    :param name: the file's name or path, when the text is a file (source code is read
        more strictly: only quoted literals are values).
    """
    return Redactor(secrets).text(text, name)


def redact_urls(text):
    """Return ``text`` with the credentials of every URL hidden (rule 4 only)."""
    if not text:
        return text
    spans = _Spans()
    for m in _URL.finditer(text):
        _url_spans(m.group(0), m.start(), spans, text)
    out, pos = [], 0
    for start, end, value in sorted(spans.items):
        out.append(text[pos:start])
        out.append(redacted(value))
        pos = end
    out.append(text[pos:])
    return "".join(out)


def redact_data(value, secrets=()):
    """Apply :func:`redact_text` to every string inside ``value`` (dicts, lists, str)."""
    return Redactor(secrets).data(value)


def scrub(text, secrets):
    """Return ``text`` (str or None) with every value of ``secrets`` replaced by its
    placeholder, however short, in its raw, URL-quoted and ``repr``-escaped forms: for text
    that is known to hold exactly these secrets (a library's error message about a
    connection made with that password). Longest secrets first."""
    if text is None:
        return None
    text = str(text)
    for secret in sorted(set(s for s in secrets if s), key=len, reverse=True):
        placeholder = redacted(secret)
        forms = set([secret, quote(secret, safe=""), quote_plus(secret, safe=""), repr(secret)[1:-1],
                     secret.encode("unicode_escape").decode("ascii", "replace")])
        for form in sorted(forms, key=len, reverse=True):
            if form:
                text = text.replace(form, placeholder)
    return text


# -- finding the secrets of files ------------------------------------------------------------
_ENV_NAME = re.compile(r"(?:^|/)(?:\.env(?:\.[^/]*)?|[^/]*\.env(?:\.[^/]*)?)$")
_YAML_NAME = re.compile(r"\.ya?ml$", re.I)
_JSON_NAME = re.compile(r"\.json$", re.I)
# Where a platform tree configures its secrets: env files, Compose files (their env_file
# targets are added whatever their names), requirements files (index URLs), pip/netrc files,
# Dockerfiles (ENV/ARG).
_COMPOSE_NAME = re.compile(r"(?i)^(?:docker-)?compose(?:[.-][^/]*)?\.ya?ml$")
_REQUIREMENTS_NAME = re.compile(r"(?i)^(?:requirements|constraints)[^/]*\.(?:txt|in)$")
_RC_NAMES = frozenset(["pip.conf", "pip.ini", ".pypirc", ".netrc", ".npmrc", ".pgpass"])
_DOCKERFILE_NAME = re.compile(r"(?i)^(?:dockerfile(?:[.-][^/]*)?|[^/]*\.dockerfile)$")
_NOT_BEARING = re.compile(r"(?i)\.(?:md|rst|html?|py|sh|js|ts|json|ya?ml|txt|log|bak|orig|sample)$")
# Files larger than this are generated data (reports, dumps), not where secrets are configured.
MAX_FILE_BYTES = 256 << 10


def is_env_name(name):
    """True for names read as env files: ``.env``, ``.env.*``, ``*.env``, ``*.env.*``."""
    return bool(_ENV_NAME.search(name or ""))


def _env_secrets(text, name, out):
    from ansible_collections.sutazai.consolidation.plugins.module_utils import _env

    try:
        entries = _env.parse_env_text(text, name)[0]
    except Exception:  # pylint: disable=broad-except
        return  # unparsable: the line rules still apply
    for e in entries:
        if e.value and _secret_pair(e.key, e.value):
            out.add(e.value)


def _yaml_nodes(text):
    try:
        import yaml
    except ImportError:  # pragma: no cover - PyYAML is a dependency
        return []
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        return [n for n in yaml.compose_all(text, Loader=loader) if n is not None]
    except Exception:  # pylint: disable=broad-except
        return []  # invalid YAML (the phase reports it): the line rules still apply


def _yaml_secrets(text, out):
    """Values under secret keys in the node graph: anchors and aliases are the same node, so
    ``POSTGRES_PASSWORD: *pw`` finds the value defined at ``&pw`` under any key."""
    import yaml

    seen = set()
    todo = list(_yaml_nodes(text))
    while todo:
        node = todo.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, yaml.MappingNode):
            for k, v in node.value:
                if isinstance(k, yaml.ScalarNode) and isinstance(v, yaml.ScalarNode) and v.tag != "tag:yaml.org,2002:null":
                    if isinstance(v.value, str) and v.value and _secret_pair(str(k.value), v.value):
                        out.add(v.value)
                todo.append(k)
                todo.append(v)
        elif isinstance(node, yaml.SequenceNode):
            for item in node.value:
                if isinstance(item, yaml.ScalarNode) and isinstance(item.value, str):
                    key, sep, value = item.value.partition("=")
                    if sep and re.match(r"^%s$" % _KEY, key.strip()) and _secret_pair(key.strip(), value):
                        out.add(value)
                todo.append(item)


def _json_secrets(text, out):
    try:
        doc = json.loads(text)
    except (ValueError, RecursionError):
        return False
    todo = [doc]
    count = 0
    while todo and count < 200000:
        count += 1
        node = todo.pop()
        if isinstance(node, dict):
            for k, v in node.items():
                if isinstance(v, str) and _secret_pair(str(k), v):
                    out.add(v)
                elif isinstance(v, (dict, list)):
                    todo.append(v)
        elif isinstance(node, list):
            todo.extend(x for x in node if isinstance(x, (dict, list)))
    return True


def secrets_in_text(text, name=""):
    """Return the set of secret values held by one file's ``text`` (str).

    :param name: the file's path or name (str): env files (:func:`is_env_name`) are parsed
        with python-dotenv's rules, ``.yml``/``.yaml`` through their node graph (anchors,
        aliases, list-form ``KEY=value`` items), ``.json`` as a document; every text gets the
        line and URL rules of :func:`redact_text`. Values are as written (without quotes).
    """
    out = set()
    if not text:
        return out
    base = (name or "").replace("\\", "/")
    if _JSON_NAME.search(base) and _json_secrets(text, out):
        # A valid document: its pairs are read above; only the rules that need no key remain.
        for start, end, value in _keyless_spans(text):
            out.add(value)
    else:
        for start, end, value in _spans(text, name):
            out.add(value)
        if is_env_name(base):
            _env_secrets(text, base, out)
        elif _YAML_NAME.search(base):
            _yaml_secrets(text, out)
    return set(v for v in out if v and PLACEHOLDER_PREFIX not in v)


def _read(path):
    try:
        st = os.stat(path)
        if st.st_size > MAX_FILE_BYTES:
            return None
        with open(path, "rb") as f:
            data = f.read()
    except (OSError, IOError):
        return None
    if b"\x00" in data[:8192] and not data.startswith(b"\xef\xbb\xbf"):
        data = data.replace(b"\x00", b"")
    return data.decode("utf-8", "replace").replace("\r\n", "\n").replace("\r", "\n")


def secrets_in_files(items):
    """Return the secret values held by the given files (see :func:`secrets_in_text`).

    :param items: iterable of paths (str) or ``(path, name)`` pairs, where ``name`` is the
        name that tells the format (e.g. a journal backup copy read as the file it copies).
        Missing, unreadable and oversized files are skipped.
    """
    out = set()
    for item in items:
        path, name = item if isinstance(item, (tuple, list)) else (item, item)
        if not path:
            continue
        text = _read(path)
        if text:
            out |= secrets_in_text(text, name)
    return out


def _env_file_targets(text):
    """``env_file:`` paths of every Compose service in ``text`` (scalar, list, ``path:`` items)."""
    import yaml

    out = []
    for doc in _yaml_nodes(text):
        if not isinstance(doc, yaml.MappingNode):
            continue
        for k, v in doc.value:
            if getattr(k, "value", None) != "services" or not isinstance(v, yaml.MappingNode):
                continue
            for dummy, svc in v.value:
                if not isinstance(svc, yaml.MappingNode):
                    continue
                for sk, sv in svc.value:
                    if getattr(sk, "value", None) != "env_file":
                        continue
                    items = sv.value if isinstance(sv, yaml.SequenceNode) else [sv]
                    for item in items:
                        if isinstance(item, yaml.ScalarNode) and isinstance(item.value, str):
                            out.append(item.value)
                        elif isinstance(item, yaml.MappingNode):
                            for pk, pv in item.value:
                                if getattr(pk, "value", None) == "path" and isinstance(pv, yaml.ScalarNode):
                                    out.append(pv.value)
    return out


def _is_bearing(rel):
    parts = rel.rsplit("/", 2)
    base = parts[-1]
    if _COMPOSE_NAME.match(base) or _REQUIREMENTS_NAME.match(base) or base.lower() in _RC_NAMES:
        return True
    if len(parts) > 1 and parts[-2].lower() == "requirements" and base.lower().endswith((".txt", ".in")):
        return True
    if _DOCKERFILE_NAME.match(base) or is_env_name(base):
        return not _NOT_BEARING.search(base)
    return False


def collect_tree_secrets(root, files=(), exclude_paths=()):
    """Return the secret values held by the files of the tree under ``root`` (frozenset).

    Reads every file whose name can carry a secret (env files, YAML, JSON, requirements and
    other ``.txt``/``.in`` files, Dockerfiles, ``.conf``/``.cfg``/``.ini``/``.toml``/
    ``.properties``, shell scripts, Makefiles, Python files; at most 2 MiB each) with
    :func:`secrets_in_text`, and the ``env_file:`` targets of every Compose file as env files
    whatever their names (only targets inside the root). Walks like the phases do
    (``_tree.walk_tree``: no symlink out of the root, no virtualenv, no ``.git``).

    :param files: more paths to read (absolute, or relative to the root), whatever their names.
    :param exclude_paths: absolute folders never entered (backup root, report folder).
    """
    from ansible_collections.sutazai.consolidation.plugins.module_utils._tree import is_inside, walk_tree

    out = set()
    root_real = os.path.realpath(root)
    walk = walk_tree(root, exclude_paths=exclude_paths, match=_is_bearing)
    env_targets = set()
    for f in walk.files:
        text = _read(f.path)
        if not text:
            continue
        out |= secrets_in_text(text, f.rel)
        base = f.rel.rsplit("/", 1)[-1]
        if _YAML_NAME.search(base) and "env_file" in text:
            folder = os.path.dirname(f.rel)
            for target in _env_file_targets(text):
                if not isinstance(target, str) or "$" in target or target.startswith("/"):
                    continue
                env_targets.add(os.path.normpath(os.path.join(folder, target)))
    for rel in sorted(env_targets):
        path = os.path.join(root, rel)
        real = os.path.realpath(path)
        if not is_inside(real, root_real) or not os.path.isfile(real):
            continue
        text = _read(real)
        if text:
            out |= secrets_in_text(text, ".env")
    for p in files or ():
        path = p if os.path.isabs(p) else os.path.join(root, p)
        if is_inside(os.path.realpath(path), root_real):
            out |= secrets_in_files([(path, p)])
    return frozenset(out)


_TREE_CACHE = {}
_TREE_EXCLUDES = {}
_CURRENT = []


def use_tree(root, exclude_paths=()):
    """Make ``root`` the tree of the running module for :func:`tree_secrets` and name its
    folders that are not part of the platform (the backup root and report folder of the run);
    call it before the first look-up (``_phase.check_root`` does)."""
    _TREE_EXCLUDES[os.path.realpath(root)] = tuple(p for p in exclude_paths if p)
    _CURRENT.append(root)


def tree_secrets(root=None):
    """:func:`collect_tree_secrets` of ``root``, computed once per process (a module call):
    the secrets every output of a phase is redacted with.

    :param root: the tree; None for the tree of the running phase module (the last one given
        to :func:`use_tree`), an empty set when there is none.
    """
    if root is None:
        if not _CURRENT:
            return frozenset()
        root = _CURRENT[-1]
    key = os.path.realpath(root)
    if key not in _TREE_CACHE:
        _TREE_CACHE[key] = collect_tree_secrets(root, exclude_paths=_TREE_EXCLUDES.get(key, ()))
    return _TREE_CACHE[key]
