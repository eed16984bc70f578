# -*- coding: utf-8 -*-
# Copyright (c) 2026 sutazai.consolidation contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Term scrub: find fantasy terms ("quantum", "AGI", "magic"...) in the platform's documentation
and code comments, report them, and replace them where a replacement is configured.

Term map (:func:`build_term_map`). ``{term: replacement}``; a ``None`` replacement reports the
term and never edits it. A term is one or more words of letters and digits joined by single
spaces or hyphens. A term written in lower case matches in any case and keeps the case of what
it replaces (``quantum`` -> ``theoretical``, ``Quantum`` -> ``Theoretical``, ``QUANTUM`` ->
``THEORETICAL``, any other mix -> the replacement as written); a term holding an upper-case
letter (an acronym such as ``AGI``, a proper name) matches only exactly as written and gets the
replacement as written. Refused maps (``ValueError`` naming every problem): two terms equal but
for case, a replacement equal to its term but for case (a no-op), a replacement holding a
mapped term as a whole word (the next run would find it again), a replacement that is empty, has
leading/trailing or doubled spaces, or holds characters other than letters, digits, spaces and
``- . , ( ) & + /`` (so it is safe in Markdown, comments and any Python string literal).

Whole words (:class:`TermMap.find`). An occurrence must not touch a letter, digit, ``_`` or
``-`` on either side (``AGI`` is not found in ``AGILE`` or ``LocalAGI``, ``magic`` not in
``magical`` or ``python-magic``, ``quantum`` not in ``quantum-planner``); nor ``= @ $ # ~ %`` before
it or ``= @ (`` after it (assignments, mentions, variables, anchors, calls); nor ``. / \\ :``
between it and a word character (``quantum.md``, ``docs/quantum``, ``image:quantum``). Inflected
forms are other terms (``dream`` does not find ``dreams``). A term that is a part of a hyphenated
compound which is itself a whole word (``Quantum-Inspired``, ``quantum-level``) is reported as left
alone (:meth:`TermMap.find_compounds`): ids and names are written so.

Protected text (never matched in prose, comments, docstrings or strings): URLs, e-mail
addresses, any whitespace-delimited chunk holding ``/`` or ``\\`` (paths), Markdown link
destinations and reference definitions, HTML tags and autolinks, HTML code elements (``<code>``,
``<pre>``...), ``$VAR``/``${VAR}``. Inline code
(backtick spans) and Markdown code blocks are searched but never edited (kind ``code``).

Where terms are searched (:data:`FILE_TYPES`), by kind:

* Markdown (``*.md``, ``*.markdown``): ``prose`` is edited; fenced and indented code blocks and
  code spans (``code``) and YAML front matter (``front matter``: data the agents phase reads; a
  front matter block without its closing ``---`` makes the whole file front matter) are not;
* Python (``*.py``; positions from :mod:`tokenize`, docstrings from :mod:`ast`, f-string text
  parts from libcst): ``comment`` and ``docstring`` (first string statement of
  a module, class or function) are edited; other ``string`` literals only with scope ``all``
  (never bytes, never a string without whitespace -- a key or a name -- and in f-strings only
  the literal text parts); ``identifier`` parts (``QuantumPlanner``, ``MAGIC_DELAY``: names split at
  ``_`` and case changes) are reported as needing a rename and never edited;
* shell (``*.sh``, ``*.bash``; the collection's shell tokenizer, ``_shell``): ``comment`` -- a
  ``#`` where a new word starts (line start, after a blank or an operator), outside quotes,
  ``${...}`` and arithmetic; here-document bodies (``<<EOF``, ``<<-EOF``, ``<<'EOF'``,
  ``<<"EOF"``, ``<<\\EOF``) are data, never searched as comments;
* YAML (``*.yml``, ``*.yaml``): ``comment`` -- a ``#`` at a line start or after whitespace,
  outside every scalar token of the YAML scanner (block scalars included); scalar values are
  reported as ``data``;
* Dockerfiles (``Dockerfile``, ``Dockerfile.*``, ``*.Dockerfile``): whole-line ``comment`` lines,
  parser directives and here-document bodies excepted;
* JSON (``*.json``): everything is ``data`` (reported only).

Edits are made on the text by offsets, so every byte outside the replaced words stays as it was
(line ends, BOM, encoding). An edited Python file must still compile and, with scope ``docs``,
have the same AST once docstrings are blanked (with ``all``: once every string is blanked);
otherwise the phase is blocked (:class:`ConsolidationError` kind ``proof``).
"""

from __future__ import annotations

import ast
import bisect
import fnmatch
import io
import keyword
import os
import importlib.util
import re
import tokenize

# libcst is imported where it is used (f-string parts only): its import costs about a quarter
# of a second, which every run of the phase would pay for nothing on a tree without f-strings.
HAS_LIBCST = importlib.util.find_spec("libcst") is not None

try:
    import yaml
    HAS_YAML = True
    _YAML_LOADER = getattr(yaml, "CSafeLoader", None) or yaml.SafeLoader
except ImportError:  # pragma: no cover - reported by the module
    HAS_YAML = False

from ansible_collections.sutazai.consolidation.plugins.module_utils import _shell
from ansible_collections.sutazai.consolidation.plugins.module_utils._errors import ConsolidationError, too_deep
from ansible_collections.sutazai.consolidation.plugins.module_utils._fileio import decode_text, read_bytes
from ansible_collections.sutazai.consolidation.plugins.module_utils._python import cyclic_gc_paused
from ansible_collections.sutazai.consolidation.plugins.module_utils._tree import DEFAULT_EXCLUDES, glob_matcher, is_linked, walk_tree

DEFAULT_TERMS = ("quantum", "AGI", "ASI", "telekinesis", "teleport", "teleportation", "magic", "dream",
                 "consciousness", "conscious")
"""Terms of the default map, all report-only (replacement None)."""

DEFAULT_EXCLUDE = ("tests", "test", "backups", "backup", "archive", "archives", "_archive",
                   "docker/templates", "scripts/deployment/deploy-master.sh",
                   "config/agents/master_registry.json", "config/services/master_registry.yaml",
                   "config/port-registry-actual.yaml")
"""Default exclude patterns: test folders, backups and archives, and the files other phases of
the collection generate (their next run would rewrite an edit). See :func:`excluded`."""

SCOPES = ("docs", "all")

FILE_TYPES = (
    ("markdown", ("*.md", "*.markdown")),
    ("python", ("*.py",)),
    ("shell", ("*.sh", "*.bash")),
    ("yaml", ("*.yml", "*.yaml")),
    ("dockerfile", ("Dockerfile", "Dockerfile.*", "*.Dockerfile", "*.dockerfile")),
    ("json", ("*.json",)),
)
"""File types searched, with their base-name patterns (matched case-sensitively, first wins)."""

KINDS = ("prose", "comment", "docstring", "string", "identifier", "code", "front matter", "data")

LEAVE_REASONS = {
    "code": "code (Markdown code block or code span)",
    "front matter": "Markdown front matter (data the agents phase reads)",
    "data": "YAML/JSON value (data)",
    "identifier": "identifier (would need a rename)",
    "string": "string literal (edited only with scope all)",
    "key": "string without whitespace (a key or a name)",
    "compound": "part of a hyphenated compound (ids and names are written so)",
}
"""Why an occurrence is left alone, by kind (``key``: a string literal kept under scope all)."""

MAX_BYTES = 4 << 20
"""Files larger than this (4 MiB) are not searched (listed as skipped)."""

MAX_LISTED = 1000
"""Occurrences listed one by one in the result (totals always count all of them)."""

_TERM_RE = re.compile(r"^[^\W_]+(?:[ -][^\W_]+)*$")
_REPLACEMENT_CHARS_RE = re.compile(r"^[\w .,()&+/-]+$")
_BEFORE = r"(?<![\w\x00=@$#~%/\\-])(?<!\w[.:])"
_AFTER = r"(?![\w\x00=@(/\\-])(?![.:]\w)"
_MASK = "\x00"


class Term(object):
    """One entry of the term map.

    :ivar key: the term as written in the map (str).
    :ivar replacement: the replacement (str) or None (report only).
    :ivar exact: True when ``key`` holds an upper-case letter (matched exactly as written).
    """

    __slots__ = ("key", "replacement", "exact")

    def __init__(self, key, replacement):
        self.key = key
        self.replacement = replacement
        self.exact = key != key.lower()

    def replace(self, found):
        """Return the replacement for the occurrence ``found`` (str) with its case kept (see
        module doc), or None for a report-only term."""
        rep = self.replacement
        if rep is None or self.exact or found == self.key:
            return rep
        letters = [c for c in found if c.isalpha()]
        if len(letters) > 1 and found.isupper():
            return rep.upper()
        if found[:1].isupper() and found[1:] == found[1:].lower():
            return rep[:1].upper() + rep[1:]
        return rep


class TermMap(object):
    """A validated term map (see :func:`build_term_map`).

    :ivar terms: list of :class:`Term`, in map order.
    :ivar longest: length of the longest term (int, 0 for an empty map).
    """

    def __init__(self, terms):
        self.terms = list(terms)
        self._lower = dict((t.key.lower(), t) for t in self.terms)
        self.longest = max([len(t.key) for t in self.terms] or [0])
        alts = []
        for t in sorted(self.terms, key=lambda x: (-len(x.key), x.key)):
            alts.append(re.escape(t.key) if t.exact else "(?i:%s)" % re.escape(t.key))
        self.regex = re.compile("%s(?:%s)%s" % (_BEFORE, "|".join(alts) or "(?!)", _AFTER))
        self._needle = re.compile("|".join(alts) or "(?!)")
        self._any_case = re.compile("|".join(re.escape(t.key.lower()) for t in self.terms if not t.exact) or "(?!)")
        self._exact = re.compile("|".join(re.escape(t.key) for t in self.terms if t.exact) or "(?!)")

    def maybe_in(self, text):
        """Cheap pre-filter: False when no term occurs in ``text`` even as a substring (in its
        case rule: exact-case terms as written, the others in any case)."""
        low = text.lower()
        if len(low) != len(text):
            return self._needle.search(text) is not None
        return self._any_case.search(low) is not None or self._exact.search(text) is not None

    def hits(self, text):
        """Return the sorted start offsets of every term in ``text`` as a substring (the
        pre-filter of :meth:`maybe_in`, by position)."""
        low = text.lower()
        if len(low) != len(text):
            return [m.start() for m in self._needle.finditer(text)]
        return sorted([m.start() for m in self._any_case.finditer(low)] + [m.start() for m in self._exact.finditer(text)])

    def term_for(self, found):
        """Return the :class:`Term` an occurrence ``found`` (str) belongs to."""
        return self._lower[found.lower()]

    def find(self, text, start=0, end=None):
        """Yield ``(start, end, Term)`` for every whole-word occurrence in ``text[start:end]``
        (offsets into ``text``). ``text`` may hold ``\\x00`` for protected characters."""
        end = len(text) if end is None else end
        for m in self.regex.finditer(text, start, end):
            yield m.start(), m.end(), self.term_for(m.group(0))

    def find_compounds(self, text, start=0, end=None):
        """Yield ``(start, end, Term)`` for every term that is a part of a hyphenated compound
        (``Quantum-Inspired``, ``quantum-level``) in ``text[start:end]``; the compound as a whole
        obeys the whole-word rules, so ``quantum-planner.md`` and ``docs/quantum-x`` give nothing.
        These are reported, never replaced (ids and names are written so)."""
        end = len(text) if end is None else end
        for m in _COMPOUND_RE.finditer(text, start, end):
            pos = m.start()
            for part in m.group(0).split("-"):
                term = self._lower.get(part.lower())
                if term is not None and (not term.exact or part == term.key):
                    yield pos, pos + len(part), term
                pos += len(part) + 1

    def identifier_parts(self, name):
        """Yield ``(offset, length, Term)`` for every part of the identifier ``name`` that is a
        term (parts split at ``_`` and case changes: ``QuantumAGIPlanner`` -> Quantum, AGI, Planner)."""
        for m in _IDENT_PART_RE.finditer(name):
            part = m.group(0)
            term = self._lower.get(part.lower())
            if term is not None and (not term.exact or part == term.key):
                yield m.start(), len(part), term

    def as_list(self):
        """Return ``[{"term", "replacement", "exact_case"}]`` (JSON-safe)."""
        return [{"term": t.key, "replacement": t.replacement, "exact_case": t.exact} for t in self.terms]


_COMPOUND_RE = re.compile(r"%s[^\W_]+(?:-[^\W_]+)+%s" % (_BEFORE, _AFTER))
_IDENT_PART_RE = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|[0-9]+")


def build_term_map(mapping=None):
    """Validate ``mapping`` and return a :class:`TermMap`.

    :param mapping: dict ``{term: replacement or None}``; None or empty gives the default
        report-only map (:data:`DEFAULT_TERMS`).
    :raises ValueError: naming every refused entry (see module doc).
    """
    if not mapping:
        mapping = dict((t, None) for t in DEFAULT_TERMS)
    if not isinstance(mapping, dict):
        raise ValueError("term map must be a dict of term -> replacement (or null), got %s" % type(mapping).__name__)
    problems = []
    terms = []
    seen = {}
    for key, rep in mapping.items():
        if not isinstance(key, str) or not _TERM_RE.match(key):
            problems.append("term %r must be words of letters and digits joined by single spaces or hyphens" % (key,))
            continue
        low = key.lower()
        if low in seen:
            problems.append("terms %r and %r differ only in case (duplicate)" % (seen[low], key))
            continue
        seen[low] = key
        if rep is not None:
            if not isinstance(rep, str):
                problems.append("%r: replacement must be a string or null, got %s" % (key, type(rep).__name__))
                continue
            if rep.lower() == low:
                problems.append("%r: replacement %r is the term itself (no-op entry)" % (key, rep))
                continue
            if (not rep or rep != rep.strip() or "  " in rep or not _REPLACEMENT_CHARS_RE.match(rep)
                    or not rep[0].isalnum()):
                problems.append("%r: replacement %r must start with a letter or digit and hold only letters, digits, "
                                "single spaces and - . , ( ) & + /" % (key, rep))
                continue
        terms.append(Term(key, rep))
    every_term = TermMap([Term(k, None) for k in seen.values()])
    for t in terms:
        if t.replacement is None:
            continue
        inner = [x.key for a, b, x in every_term.find(t.replacement)]
        if inner:
            problems.append("%r: replacement %r contains the mapped term %s (the next run would find it again)"
                            % (t.key, t.replacement, ", ".join(repr(k) for k in sorted(set(inner)))))
    if problems:
        raise ValueError("invalid term map: " + "; ".join(problems))
    return TermMap(terms)


# -- masks ---------------------------------------------------------------------------------
_ESCAPE_RE = re.compile(r"\\(?:\r\n|[\s\S])")
_LINK_DEST_RE = re.compile(r"\]\((?:[^()\s]|\([^()\s]*\))*(?:\s+(?:\"[^\"]*\"|'[^']*'|\([^()]*\)))?\)")
_REF_DEF_RE = re.compile(r"(?m)^[ \t]{0,3}\[[^\]\n]+\]:[ \t]*\S+.*$")
_HTML_RE = re.compile(r"<[A-Za-z/!?][^<>\n]*>")
_HTML_CODE_RE = re.compile(r"(?is)<(code|pre|kbd|samp|tt|script|style)\b[^>]*>.*?</\1\s*>")
_URL_RE = re.compile(r"\b[A-Za-z][A-Za-z0-9+.-]*://[^\s<>\"'`]*|\bwww\.[^\s<>\"'`]+|\bmailto:[^\s<>\"'`]+")
_EMAIL_RE = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_VAR_RE = re.compile(r"\$\{[^}\n]*\}|\$\(+[^)\n]*\)+|\$\w+")
_PATH_RE = re.compile(r"[^\s()\[\]<>\"'`,;]*[/\\][^\s()\[\]<>\"'`,;]*")
_TICKS_RE = re.compile(r"`+")


def escape_mask(text):
    """Return ``text`` with every backslash escape (``\\n``, ``\\"``...) turned into spaces of
    the same length: an escape separates words but is never part of one."""
    return _ESCAPE_RE.sub(lambda m: " " * len(m.group(0)), text)


def _blank(chars, start, end):
    for i in range(start, end):
        if chars[i] not in "\r\n":
            chars[i] = _MASK


def prose_mask(text):
    """Return ``(masked, code_spans)`` for a piece of prose (Markdown paragraph, comment,
    docstring, string body).

    ``masked`` has the length of ``text``, with protected characters (URLs, paths, link
    destinations, HTML tags and the content of ``<code>``, ``<pre>``, ``<kbd>``, ``<samp>``,
    ``<tt>``, ``<script>`` and ``<style>`` elements, e-mail addresses, shell variables, code
    spans) replaced by
    ``\\x00``; ``code_spans`` lists the ``(start, end)`` offsets of the code span contents.
    """
    chars = list(text)
    spans = []
    runs = list(_TICKS_RE.finditer(text))
    i = 0
    while i < len(runs):
        run = runs[i]
        close = None
        for j in range(i + 1, len(runs)):
            if len(runs[j].group(0)) == len(run.group(0)):
                close = j
                break
        if close is None:
            i += 1
            continue
        spans.append((run.end(), runs[close].start()))
        _blank(chars, run.start(), runs[close].end())
        i = close + 1
    masked = "".join(chars)
    for regex in (_LINK_DEST_RE, _REF_DEF_RE, _HTML_CODE_RE, _HTML_RE, _URL_RE, _EMAIL_RE, _VAR_RE):
        for m in regex.finditer(masked):
            _blank(chars, m.start() + (1 if regex is _LINK_DEST_RE else 0), m.end())
        masked = "".join(chars)
    for m in _PATH_RE.finditer(masked):
        _blank(chars, m.start(), m.end())
    return "".join(chars), spans


# -- segments ------------------------------------------------------------------------------
class Segment(object):
    """A piece of a file searched as one unit.

    :ivar start: offset of the piece in the file's text. :ivar end: end offset.
    :ivar kind: one of :data:`KINDS`.
    :ivar prose: apply :func:`prose_mask` (False for code and data).
    :ivar escapes: apply :func:`escape_mask` first (non-raw string literals, JSON).
    :ivar key_like: a string literal without whitespace (left alone even with scope all).
    """

    __slots__ = ("start", "end", "kind", "prose", "escapes", "key_like")

    def __init__(self, start, end, kind, prose=True, escapes=False, key_like=False):
        self.start = start
        self.end = end
        self.kind = kind
        self.prose = prose
        self.escapes = escapes
        self.key_like = key_like


def line_starts(text):
    """Return the offsets at which lines start (line ends: ``\\r\\n``, ``\\r``, ``\\n``)."""
    starts = [0]
    for m in re.finditer(r"\r\n|\r|\n", text):
        starts.append(m.end())
    return starts


def _lines(text):
    """Return ``[(offset, line_without_end, line_with_end)]``."""
    out = []
    pos = 0
    for line in text.splitlines(True):
        out.append((pos, line.rstrip("\r\n"), line))
        pos += len(line)
    return out


_FENCE_OPEN_RE = re.compile(r"^ {0,3}(`{3,}|~{3,})(.*)$")
_BLOCK_START_RE = re.compile(r"^ {0,3}(?:#{1,6}(?:\s|$)|[-*+]\s|\d{1,9}[.)]\s|>|\|)")


def markdown_segments(text):
    """Split Markdown into segments: front matter, fenced/indented code, prose blocks."""
    lines = _lines(text)
    segs = []
    i = 0
    first = 0
    while first < len(lines) and not lines[first][1].strip():
        first += 1
    if first < len(lines) and lines[first][1].strip() == "---":
        close = None
        for j in range(first + 1, len(lines)):
            if lines[j][1].strip() in ("---", "..."):
                close = j
                break
        if close is None:
            return [Segment(0, len(text), "front matter", prose=False)]
        segs.append(Segment(lines[first][0], lines[close][0] + len(lines[close][1]), "front matter", prose=False))
        i = close + 1
    para = None
    prev_blank = True
    prev_code = False
    prev_heading = False
    while i < len(lines):
        pos, line, full = lines[i]
        fence = _FENCE_OPEN_RE.match(line)
        if fence and not (fence.group(1)[0] == "`" and "`" in fence.group(2)):
            if para:
                segs.append(para)
                para = None
            marker = fence.group(1)
            close = None
            for j in range(i + 1, len(lines)):
                cm = re.match(r"^ {0,3}(%s{%d,})\s*$" % (re.escape(marker[0]), len(marker)), lines[j][1])
                if cm:
                    close = j
                    break
            last = close if close is not None else len(lines) - 1
            segs.append(Segment(pos, lines[last][0] + len(lines[last][1]), "code", prose=False))
            i = last + 1
            prev_blank, prev_code, prev_heading = False, False, False
            continue
        blank = not line.strip()
        indented = (line.startswith("    ") or line.startswith("\t")) and not blank
        if indented and (prev_blank or prev_code) and para is None:
            segs.append(Segment(pos, pos + len(line), "code", prose=False))
            prev_blank, prev_code, prev_heading = False, True, False
            i += 1
            continue
        if blank:
            if para:
                segs.append(para)
                para = None
            prev_blank = True
            i += 1
            continue
        starts_block = bool(_BLOCK_START_RE.match(line))
        if para is not None and (starts_block or prev_heading):
            segs.append(para)
            para = None
        if para is None:
            para = Segment(pos, pos + len(line), "prose")
        else:
            para.end = pos + len(line)
        prev_heading = bool(re.match(r"^ {0,3}#{1,6}(?:\s|$)", line))
        prev_blank, prev_code = False, False
        i += 1
    if para:
        segs.append(para)
    return segs


def shell_segments(text, display):
    """Return the comment segments of a shell script (the collection's shell tokenizer,
    ``_shell``, decides).

    A ``#`` starts a comment where a new word would start (at a line start, after a blank or
    an operator such as ``;`` or ``|``), outside single, double, ``$'...'`` and backtick
    quotes, ``${...}`` and arithmetic; here-document bodies are data, never comments (with
    ``<<EOF``, ``<<-EOF``, ``<<'EOF'``, ``<<"EOF"``, ``<<\\EOF`` alike; ``<<<`` is a
    here-string). A segment runs from after the ``#`` to the line end (a ``\\r`` before the
    ``\\n`` excluded).

    :raises ConsolidationError: kind ``unparsed`` with the line and column where a quote,
        expansion or here-document that is never closed starts (nothing can be told apart
        safely).
    """
    try:
        lexed = _shell.tokenize(text)
    except _shell.ShellSyntaxError as exc:
        if exc.message.startswith("quote "):
            message = "%s; comments cannot be told apart" % exc.message
        else:
            message = exc.message
        raise ConsolidationError(message, display, exc.line, exc.column, kind="unparsed")
    segs = []
    for tok in lexed.tokens:
        if tok.kind == _shell.COMMENT:
            end = tok.end - 1 if text.endswith("\r", tok.start, tok.end) else tok.end
            segs.append(Segment(tok.start + 1, end, "comment"))
    return segs


_DIRECTIVE_RE = re.compile(r"^#\s*[A-Za-z][\w-]*\s*=")


def dockerfile_segments(text):
    """Return the comment segments of a Dockerfile: whole-line comments, not the parser
    directives at the top, not here-document bodies."""
    segs = []
    heredocs = []
    directives = True
    for pos, line, full in _lines(text):
        if heredocs:
            delim, strip_tabs = heredocs[0]
            if (line.lstrip("\t") if strip_tabs else line) == delim:
                heredocs.pop(0)
            continue
        stripped = line.lstrip()
        if directives and _DIRECTIVE_RE.match(line):
            continue
        directives = False
        if stripped.startswith("#"):
            start = pos + (len(line) - len(stripped)) + 1
            segs.append(Segment(start, pos + len(line), "comment"))
            continue
        for m in re.finditer(r"<<(-?)(['\"]?)([A-Za-z_][\w.-]*)\2", line):
            heredocs.append((m.group(3), m.group(1) == "-"))
    return segs


def yaml_segments(text, display):
    """Return YAML comment segments (``comment``) and scalar values (``data``).

    :raises ConsolidationError: kind ``invalid_yaml`` with line and column when the YAML
        scanner fails.
    """
    spans = []
    segs = []
    try:
        for tok in yaml.scan(text, Loader=_YAML_LOADER):
            a, b = tok.start_mark.index, tok.end_mark.index
            if b > a:
                spans.append((a, b))
                if type(tok).__name__ == "ScalarToken":
                    segs.append(Segment(a, b, "data", prose=False))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        raise ConsolidationError("not valid YAML: %s" % (getattr(exc, "problem", None) or exc), display,
                                 mark.line + 1 if mark else None, mark.column + 1 if mark else None,
                                 kind="invalid_yaml")
    spans.sort()
    starts = [s[0] for s in spans]
    for pos, line, full in _lines(text):
        j = line.find("#")
        while j != -1:
            at = pos + j
            k = bisect.bisect_right(starts, at) - 1
            inside = k >= 0 and spans[k][0] <= at < spans[k][1]
            if not inside and (j == 0 or line[j - 1] in " \t"):
                segs.append(Segment(at + 1, pos + len(line), "comment"))
                break
            j = line.find("#", j + 1)
    return sorted(segs, key=lambda s: s.start)


# -- python --------------------------------------------------------------------------------
def _docstring_nodes(tree):
    """Return the docstring expressions (``ast.Constant``) of a module, its classes and functions."""
    out = []
    # Only statements can hold a class or function (never an expression), so the walk goes
    # through statement lists only: bodies, else and finally blocks, handlers and match cases.
    todo = [tree]
    while todo:
        node = todo.pop()
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and isinstance(first.value.value, str):
                out.append(first.value)
        for field in node._fields:
            value = getattr(node, field, None)
            if isinstance(value, list) and value and isinstance(value[0], _STATEMENT_HOLDERS):
                todo.extend(value)
    return out


_STATEMENT_HOLDERS = (ast.stmt, ast.excepthandler) + ((ast.match_case,) if hasattr(ast, "match_case") else ())


def _string_prefix(value):
    i = 0
    while i < len(value) and value[i] not in "'\"":
        i += 1
    return value[:i]


def _string_segment(value, start, kind):
    """Segment of the body of the string literal token ``value`` starting at offset ``start``."""
    prefix = _string_prefix(value)
    quote = value[len(prefix):len(prefix) + 3]
    quote = quote if quote in ('"""', "'''") else quote[:1]
    raw = "r" in prefix.lower()
    body = value[len(prefix) + len(quote):len(value) - len(quote)]
    key_like = not re.search(r"\s", body if raw else escape_mask(body))
    return Segment(start + len(prefix) + len(quote), start + len(value) - len(quote), kind, escapes=not raw,
                   key_like=key_like)


def _fstring_segments(value, start):
    """Segments of the literal text parts of the f-string token ``value`` (libcst
    ``FormattedStringText``); the replacement fields ``{...}`` are never searched."""
    import libcst as cst  # pylint: disable=import-outside-toplevel

    fstring = cst.parse_expression(value)
    segs = []
    if not isinstance(fstring, cst.FormattedString):  # pragma: no cover - one token is one f-string
        return segs
    empty = cst.Module(body=[])
    raw = "r" in fstring.prefix.lower()
    pos = start + len(fstring.start)
    for part in fstring.parts:
        if isinstance(part, cst.FormattedStringText):
            code = part.value
            key_like = not re.search(r"\s", code if raw else escape_mask(code))
            segs.append(Segment(pos, pos + len(code), "string", escapes=not raw, key_like=key_like))
        else:
            code = empty.code_for_node(part)
        pos += len(code)
    return segs


_FSTRING_START = getattr(tokenize, "FSTRING_START", -1)
_FSTRING_END = getattr(tokenize, "FSTRING_END", -1)


def _syntax_error(display, exc):
    line = getattr(exc, "lineno", None)
    column = getattr(exc, "offset", None)
    message = getattr(exc, "msg", None) or (exc.args[0] if exc.args else str(exc))
    return ConsolidationError("cannot parse Python: %s" % message, display, line, column, kind="syntax")


def python_segments(text, display, tmap=None, until=None):
    """Return ``(segments, names)`` of a Python file: comments, docstrings and other string
    literals as segments, and every identifier as ``(offset, name)``.

    :param until: optional offset (int, characters): tokens starting after it are not read
        (the segments and names of the file up to there; the whole file is still parsed).

    Positions come from :mod:`tokenize` (exact, in characters); docstrings are the first string
    statements :mod:`ast` finds in the module, classes and functions; the text parts of an f-string
    holding a term of ``tmap`` (every f-string when ``tmap`` is None) come from libcst
    (``FormattedStringText``).

    :raises ConsolidationError: kind ``syntax`` with line and column when Python cannot parse
        the file (e.g. Python 2).
    """
    try:
        tree = ast.parse(text, display)
    except (SyntaxError, ValueError) as exc:
        raise _syntax_error(display, exc)
    except (RecursionError, MemoryError):
        raise too_deep(display, "Python file")
    lines = io.StringIO(text, newline="").readlines()
    row_start = [0]
    for line in lines:
        row_start.append(row_start[-1] + len(line))

    def offset(row, col):
        return row_start[row - 1] + col

    def byte_offset(lineno, col_bytes):
        line = lines[lineno - 1] if lineno - 1 < len(lines) else ""
        return row_start[lineno - 1] + len(line.encode("utf-8")[:col_bytes].decode("utf-8", "replace"))

    doc_ranges = sorted((byte_offset(n.lineno, n.col_offset), byte_offset(n.end_lineno, n.end_col_offset))
                        for n in _docstring_nodes(tree))
    doc_starts = [r[0] for r in doc_ranges]
    segs = []
    names = []
    fstring_at = []
    try:
        for tok in tokenize.generate_tokens(io.StringIO(text, newline="").readline):
            kind = tok.type
            start = offset(*tok.start)
            if until is not None and start > until and not fstring_at:
                break
            if kind == _FSTRING_START:  # Python 3.12+: an f-string is several tokens
                fstring_at.append(start)
                continue
            if kind == _FSTRING_END and fstring_at:
                begin = fstring_at.pop()
                if not fstring_at:
                    value = text[begin:offset(*tok.end)]
                    if tmap is None or tmap.maybe_in(value):
                        segs.extend(_fstring_segments(value, begin))
                continue
            if fstring_at:  # inside an f-string (3.12+): its parts come from libcst, as on 3.11
                continue
            if kind == tokenize.COMMENT:
                segs.append(Segment(start + 1, start + len(tok.string), "comment"))
            elif kind == tokenize.NAME:
                if not keyword.iskeyword(tok.string):
                    names.append((start, tok.string))
            elif kind == tokenize.STRING:
                prefix = _string_prefix(tok.string).lower()
                if "b" in prefix:
                    continue
                k = bisect.bisect_right(doc_starts, start) - 1
                is_doc = k >= 0 and doc_ranges[k][0] <= start < doc_ranges[k][1]
                if "f" in prefix:
                    if tmap is None or tmap.maybe_in(tok.string):
                        segs.extend(_fstring_segments(tok.string, start))
                else:
                    segs.append(_string_segment(tok.string, start, "docstring" if is_doc else "string"))
    except (tokenize.TokenError, SyntaxError) as exc:
        raise _syntax_error(display, exc)
    return sorted(segs, key=lambda s: s.start), names


def _blank_strings(tree, docstrings_only):
    for node in ast.walk(tree):
        if docstrings_only:
            if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
                first = node.body[0]
                if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and isinstance(first.value.value, str):
                    first.value.value = ""
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            node.value = ""
    return ast.dump(tree)


def prove_python(old, new, display, scope):
    """Check that the edited Python source ``new`` still compiles and only changed what the
    scope allows (see module doc).

    :returns: None when the original does not compile either (nothing to compare; the edit
        is then refused by the caller), else True.
    :raises ConsolidationError: kind ``proof`` when the edit would change the code.
    """
    try:
        before = ast.parse(old, display)
        compile(old, display, "exec", dont_inherit=True)
    except (SyntaxError, ValueError):
        return None
    try:
        after = ast.parse(new, display)
        compile(new, display, "exec", dont_inherit=True)
    except (SyntaxError, ValueError) as exc:
        raise ConsolidationError("the edited file would not compile: %s" % exc, display,
                                 getattr(exc, "lineno", None), kind="proof")
    docs_only = scope == "docs"
    if _blank_strings(before, docs_only) != _blank_strings(after, docs_only):
        what = "comments and docstrings" if docs_only else "comments and strings"
        raise ConsolidationError("the edit would change more than %s" % what, display, kind="proof")
    return True


# -- files ---------------------------------------------------------------------------------
def _any_of(patterns):
    """``match(name)`` of a compiled regex equal to :func:`fnmatch.fnmatchcase` with any of
    ``patterns``, or None when there is none."""
    return re.compile("|".join(fnmatch.translate(p) for p in patterns)).match if patterns else None


_FILE_TYPE_MATCH = tuple((name, _any_of(patterns)) for name, patterns in FILE_TYPES)


def file_type(rel):
    """Return the file type name of :data:`FILE_TYPES` for the path ``rel``, or None."""
    base = rel.rsplit("/", 1)[-1]
    for name, match in _FILE_TYPE_MATCH:
        if match(base):
            return name
    return None


def exclude_matcher(patterns):
    """Return ``match(rel) -> bool``: True when ``rel`` or one of its folders matches an
    exclude pattern, in the collection's path-pattern dialect (:func:`_tree.glob_matcher` with
    ``folders``): ``tests`` excludes every folder or file named so, ``*.min.js`` those files,
    ``docs/legacy/*`` matches from the root and ``docker/templates`` excludes the folder's content."""
    return glob_matcher(patterns, folders=True)


def excluded(rel, patterns):
    """True when ``rel`` matches an exclude pattern (see :func:`exclude_matcher`)."""
    return exclude_matcher(patterns)(rel)


class FileScan(object):
    """Result of :func:`scan_text` for one file.

    :ivar rel: path. :ivar occurrences: list of occurrence dicts (path, line, column, term,
        found, kind, action, reason, replacement). :ivar new_text: the edited text, or None when
        nothing is replaced. :ivar replaced: number of replacements in ``new_text``.
    """

    def __init__(self, rel):
        self.rel = rel
        self.occurrences = []
        self.new_text = None
        self.replaced = 0


def _editable(kind, scope, key_like):
    if kind in ("prose", "comment", "docstring"):
        return True, None
    if kind == "string":
        if scope != "all":
            return False, LEAVE_REASONS["string"]
        if key_like:
            return False, LEAVE_REASONS["key"]
        return True, None
    return False, LEAVE_REASONS[kind]


def scan_text(rel, text, ftype, tmap, scope="docs"):
    """Find the terms of ``tmap`` in ``text`` (the file ``rel`` of type ``ftype``) and plan
    their replacement.

    :returns: a :class:`FileScan`.
    :raises ConsolidationError: when the file cannot be parsed (kinds ``syntax``,
        ``invalid_yaml``, ``unparsed``) or an edit fails its proof (kind ``proof``).
    """
    result = FileScan(rel)
    hits = tmap.hits(text)
    if not hits:
        return result
    starts = line_starts(text)
    names = []
    if ftype == "markdown":
        segs = markdown_segments(text)
    elif ftype == "python":
        # Nothing after the last hit can hold a term: the tokens are read up to there (an
        # identifier may start up to one term's length before a hit it holds).
        segs, names = python_segments(text, rel, tmap, until=hits[-1] + tmap.longest)
    elif ftype == "shell":
        segs = shell_segments(text, rel)
    elif ftype == "yaml":
        segs = yaml_segments(text, rel)
    elif ftype == "dockerfile":
        segs = dockerfile_segments(text)
    else:
        segs = [Segment(0, len(text), "data", prose=False, escapes=True)]
    edits = []
    found = []
    for seg in segs:
        k = bisect.bisect_left(hits, seg.start)
        if k == len(hits) or hits[k] >= seg.end:
            continue
        piece = text[seg.start:seg.end]
        if seg.escapes:
            piece = escape_mask(piece)
        spans = []
        if seg.prose:
            piece, spans = prose_mask(piece)
        editable, reason = _editable(seg.kind, scope, seg.key_like)
        strict = list(tmap.find(piece))
        for a, b, term in strict:
            found.append((seg.start + a, seg.start + b, term, seg.kind, editable, reason))
        for a, b, term in tmap.find_compounds(piece):
            if not any(x <= a < y for x, y, t in strict):
                found.append((seg.start + a, seg.start + b, term, seg.kind, False, reason or LEAVE_REASONS["compound"]))
        for a, b in spans:
            code = escape_mask(text[seg.start + a:seg.start + b]) if seg.escapes else text[seg.start + a:seg.start + b]
            strict = list(tmap.find(code))
            strict += [c for c in tmap.find_compounds(code) if not any(x <= c[0] < y for x, y, t in strict)]
            for x, y, term in strict:
                found.append((seg.start + a + x, seg.start + a + y, term, "code", False, LEAVE_REASONS["code"]))
    # An identifier holds a term part only where the term occurs as a substring: at a hit, or
    # inside the match of a hit (hits do not overlap), so no further back than the longest term.
    for offset, name in names:
        k = bisect.bisect_left(hits, offset - tmap.longest + 1)
        if k == len(hits) or hits[k] >= offset + len(name):
            continue
        for x, length, term in tmap.identifier_parts(name):
            found.append((offset + x, offset + x + length, term, "identifier", False, LEAVE_REASONS["identifier"]))
    found.sort(key=lambda f: (f[0], f[1]))
    for a, b, term, kind, editable, reason in found:
        line = bisect.bisect_right(starts, a)
        occ = {"path": rel, "line": line, "column": a - starts[line - 1] + 1, "term": term.key,
               "found": text[a:b], "kind": kind, "replacement": None}
        if not editable:
            occ.update(action="leave", reason=reason)
        elif term.replacement is None:
            occ.update(action="report", reason="report only (no replacement)")
        else:
            new = term.replace(text[a:b])
            occ.update(action="replace", reason=None, replacement=new)
            edits.append((a, b, new))
        result.occurrences.append(occ)
    if edits:
        pieces = []
        last = 0
        for a, b, new in edits:
            pieces.append(text[last:a])
            pieces.append(new)
            last = b
        pieces.append(text[last:])
        new_text = "".join(pieces)
        if ftype == "python" and not prove_python(text, new_text, rel, scope):
            for occ in result.occurrences:
                if occ["action"] == "replace":
                    occ.update(action="leave", reason="the file does not compile, so an edit cannot be proven",
                               replacement=None)
            return result
        result.new_text = new_text
        result.replaced = len(edits)
    return result


class ScrubPlan(object):
    """Result of :func:`plan_scrub`.

    :ivar files: list of :class:`FileScan` with at least one occurrence (path order).
    :ivar writes: list of ``(rel, bytes)`` for the edited files.
    :ivar scanned: number of files searched (read, decoded and, when they hold a term, parsed).
    :ivar invalid: error dicts of files that could
        not be read, decoded or parsed (listed, left alone). :ivar skipped: ``{"path", "reason"}``
        dicts (binary, too large, reached through a symlink, walker skips).
    :ivar blocked: error dicts of edits that failed their proof (the phase changes nothing).
    """

    def __init__(self):
        self.files = []
        self.writes = []
        self.scanned = 0
        self.invalid = []
        self.skipped = []
        self.blocked = []


def plan_scrub(root, tmap, scope="docs", exclude=DEFAULT_EXCLUDE, exclude_paths=()):
    """Walk ``root`` and plan the term scrub of every searched file (see module doc).

    :param tmap: a :class:`TermMap`.
    :param scope: ``docs`` or ``all``.
    :param exclude: exclude patterns (see :func:`excluded`).
    :param exclude_paths: absolute folders never entered (backup root, report folder).
    :returns: a :class:`ScrubPlan`.
    """
    with cyclic_gc_paused():
        return _plan_scrub(root, tmap, scope, exclude, exclude_paths)


def _plan_scrub(root, tmap, scope, exclude, exclude_paths):
    if scope not in SCOPES:
        raise ValueError("scope must be one of %s, got %r" % (", ".join(SCOPES), scope))
    exclude = list(exclude or [])
    dir_names = tuple(DEFAULT_EXCLUDES) + tuple(p for p in exclude if "/" not in p and not re.search(r"[*?\[]", p))
    plan = ScrubPlan()

    is_excluded = exclude_matcher(exclude)

    def match(rel):
        return file_type(rel) is not None and not is_excluded(rel)

    walk = walk_tree(root, excludes=dir_names, exclude_paths=exclude_paths, match=match)
    plan.skipped.extend(walk.skipped)
    for tf in walk.files:
        if is_linked(tf, root, walk.root_real):
            plan.skipped.append({"path": tf.rel, "reason": "reached through a symlink (searched where it points)"})
            continue
        try:
            if os.path.getsize(tf.path) > MAX_BYTES:
                plan.skipped.append({"path": tf.rel, "reason": "larger than %d bytes" % MAX_BYTES})
                continue
            data = read_bytes(tf.path, tf.rel)
        except (OSError, ConsolidationError) as exc:
            err = exc if isinstance(exc, ConsolidationError) else ConsolidationError(str(exc), tf.rel, kind="unreadable")
            plan.invalid.append(err.as_dict())
            continue
        if b"\x00" in data[:8192]:
            plan.skipped.append({"path": tf.rel, "reason": "binary (NUL bytes)"})
            continue
        bom = data.startswith(b"\xef\xbb\xbf")
        try:
            text = data[3 if bom else 0:].decode("utf-8")
        except UnicodeDecodeError:
            try:
                decode_text(data, tf.rel)
            except ConsolidationError as exc:
                plan.invalid.append(exc.as_dict())
            continue
        try:
            fs = scan_text(tf.rel, text, file_type(tf.rel), tmap, scope)
        except ConsolidationError as exc:
            (plan.blocked if exc.kind == "proof" else plan.invalid).append(exc.as_dict())
            continue
        plan.scanned += 1
        if fs.occurrences:
            plan.files.append(fs)
        if fs.new_text is not None:
            plan.writes.append((tf.rel, (b"\xef\xbb\xbf" if bom else b"") + fs.new_text.encode("utf-8")))
    return plan


# -- report --------------------------------------------------------------------------------
def tally(plan, tmap):
    """Return ``(stats, per_term, per_file)`` of a :class:`ScrubPlan`.

    ``stats``: files_searched, files_with_terms, files_edited, occurrences, replaced, report_only,
    left_alone, invalid_files, skipped_files (ints). ``per_term``: ``[{"term", "replacement",
    "occurrences", "replaced", "report_only", "left_alone", "files"}]`` in map order.
    ``per_file``: ``[{"path", "occurrences", "replaced", "terms": {term: count},
    "kinds": {kind: count}, "left_alone": {reason: count}}]``.
    """
    per_term = dict((t.key, {"term": t.key, "replacement": t.replacement, "occurrences": 0, "replaced": 0,
                             "report_only": 0, "left_alone": 0, "files": 0}) for t in tmap.terms)
    per_file = []
    totals = {"replace": 0, "report": 0, "leave": 0}
    for fs in plan.files:
        entry = {"path": fs.rel, "occurrences": len(fs.occurrences), "replaced": 0, "terms": {}, "kinds": {},
                 "left_alone": {}}
        seen_terms = set()
        for occ in fs.occurrences:
            t = per_term[occ["term"]]
            t["occurrences"] += 1
            key = {"replace": "replaced", "report": "report_only", "leave": "left_alone"}[occ["action"]]
            t[key] += 1
            totals[occ["action"]] += 1
            if occ["action"] == "replace":
                entry["replaced"] += 1
            if occ["action"] == "leave":
                entry["left_alone"][occ["reason"]] = entry["left_alone"].get(occ["reason"], 0) + 1
            entry["terms"][occ["term"]] = entry["terms"].get(occ["term"], 0) + 1
            entry["kinds"][occ["kind"]] = entry["kinds"].get(occ["kind"], 0) + 1
            seen_terms.add(occ["term"])
        for term in seen_terms:
            per_term[term]["files"] += 1
        per_file.append(entry)
    stats = {
        "files_searched": plan.scanned,
        "files_with_terms": len(plan.files),
        "files_edited": len(plan.writes),
        "occurrences": sum(totals.values()),
        "replaced": totals["replace"],
        "report_only": totals["report"],
        "left_alone": totals["leave"],
        "invalid_files": len(plan.invalid),
        "skipped_files": len(plan.skipped),
    }
    return stats, [per_term[t.key] for t in tmap.terms], per_file


def details(plan, scope, per_term, check_mode=False):
    """Return the report detail sections (see ``_report``): terms, occurrences by file and
    term, files not searched."""
    verb = "would replace" if check_mode else "replaced"
    sections = [{
        "title": "Terms",
        "columns": ["term", "replacement", "occurrences", verb, "report only", "left alone", "files"],
        "rows": [[t["term"], t["replacement"] if t["replacement"] is not None else "(report only)", t["occurrences"],
                  t["replaced"], t["report_only"], t["left_alone"], t["files"]] for t in per_term],
        "note": "Scope %s. Whole words; lower-case terms match in any case and keep it, terms with capitals "
                "match exactly. Left alone: code, front matter, YAML/JSON values, identifiers%s." % (
                    scope, "" if scope == "all" else ", string literals (scope all edits them)"),
    }]
    rows = []
    for fs in plan.files:
        for term in sorted(set(o["term"] for o in fs.occurrences)):
            occs = [o for o in fs.occurrences if o["term"] == term]
            kinds = {}
            for o in occs:
                label = o["kind"] if o["action"] != "leave" else "%s (left alone)" % (
                    "compound" if o["reason"] == LEAVE_REASONS["compound"] else o["kind"])
                kinds[label] = kinds.get(label, 0) + 1
            rows.append([fs.rel, term, len(occs), sum(1 for o in occs if o["action"] == "replace"),
                         ", ".join("%s %d" % (k, v) for k, v in sorted(kinds.items())),
                         ", ".join(str(o["line"]) for o in occs[:12]) + (" ..." if len(occs) > 12 else "")])
    sections.append({"title": "Occurrences by file", "columns": ["file", "term", "occurrences", verb, "where", "lines"],
                     "rows": rows})
    bad = [[e["path"], ":".join(str(e[k]) for k in ("line", "column") if e.get(k) is not None) or "-", e["message"]]
           for e in plan.invalid]
    bad += [[s["path"], "-", s["reason"]] for s in plan.skipped]
    if bad:
        sections.append({"title": "Files not searched", "columns": ["file", "line:col", "reason"], "rows": bad})
    return sections


def occurrence_list(plan):
    """Return the occurrences of every file (path order), at most :data:`MAX_LISTED`."""
    out = []
    for fs in plan.files:
        for occ in fs.occurrences:
            if len(out) >= MAX_LISTED:
                return out
            out.append(occ)
    return out
