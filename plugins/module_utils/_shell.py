# -*- coding: utf-8 -*-
# Copyright (c) 2026 sutazai.consolidation contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The collection's one shell tokenizer (POSIX sh and the bash the platform's scripts are written in).

Every phase that reads shell text uses it: the scripts phase (normal forms of shell scripts),
the term phase (which ``#`` starts a comment, what is a here-document body) and the Dockerfile
phase (quoting and command position in shell-form ``RUN``/``CMD``/``ENTRYPOINT``). Neither
bashlex nor tree-sitter-bash reads the platform's scripts well enough (bashlex fails on most of
them; tree-sitter-bash marks valid scripts as errors and accepts an invalid one), so this is a
lexer of its own: it splits the text into tokens and knows the quoting and nesting rules, but
it does not check the grammar (an ``fi`` without ``if`` is just a word).

What it knows, as bash does:

* **words**: a word runs until an unquoted blank, line end or operator; quotes, expansions
  and escapes are part of it (``a"b c"$(d e)`` is one word);
* **comments**: ``#`` starts a comment only where a new word would start, outside every
  quote and expansion; ``${x#y}``, ``$#``, ``"a # b"``, ``a#b`` and ``$(x)#y`` are not
  comments (inside ``$(...)`` a ``#`` at a word start is one); the comment runs to the line end;
* **quotes**: ``'...'`` (nothing special inside), ``$'...'`` (backslash escapes, ``\\'``
  included), ``"..."`` (``\\``, ``$`` and backquotes stay special), a backslash escapes
  the next character; a backslash before a line end is a line continuation (it joins the
  lines and separates nothing: ``a\\<newline>b`` is one word);
* **expansions**: ``${...}`` (ends at the first unquoted ``}``, as in bash), ``$(...)``,
  ``<(...)`` and ``>(...)`` (their content is tokenized in turn, one level deeper, with
  subshell parentheses and ``case`` patterns counted so the right ``)`` closes them),
  backquotes (kept whole: their content is not tokenized), ``$((...))`` and the arithmetic
  command ``((...))`` (one word; ``<<`` and ``#`` inside are arithmetic, not a here-document
  or a comment);
* **here-documents**: ``<<WORD``, ``<<-WORD`` (leading tabs of the body and of the closing
  line are stripped), ``<<'WORD'``, ``<<"WORD"``, ``<<\\WORD`` and any partly quoted word
  (the body is not expanded); the delimiter is the word after quote removal; several on one
  line are read in order after that line; the body is data, never code or comments.
  ``<<<`` is a here-string (an ordinary redirection, no body);
* **operators**: control operators (``;`` ``;;`` ``;&`` ``;;&`` ``&`` ``&&`` ``|`` ``||``
  ``|&`` ``(`` ``)``), line ends, and redirections (``<`` ``>`` ``>>`` ``>|`` ``<>`` ``<&``
  ``>&`` ``&>`` ``&>>`` ``<<`` ``<<-`` ``<<<``, with a leading file-descriptor number such
  as ``2>``).

A carriage return is an ordinary character, as for bash: a closing line ``EOF\\r`` closes
only a here-document whose delimiter word was ``EOF\\r`` (a script with CRLF line ends).

Output of :func:`tokenize` (a :class:`Lexed`):

* ``tokens``: list of :class:`Token` ordered by ``start``. Offsets are indices into the text
  (``str``); ``end`` is exclusive; ``line`` and ``column`` are 1-based (column counts
  characters) and belong to ``start``. Kinds:

  - ``word``: ``start``/``end`` is the raw span (quotes and expansions included);
    ``command`` is True when the word stands where a simple command starts (its name, or one
    of the ``NAME=value`` assignments before it, or a reserved word such as ``if``/``then``
    that lets a command follow); redirection targets, here-document delimiters and ``case``
    words/patterns are never in command position;
  - ``operator``: a control operator (the text ``text[start:end]``);
  - ``newline``: a line end outside quotes (a command boundary; span of the ``\\n``);
  - ``redirect``: a redirection operator, file-descriptor number included;
  - ``comment``: from the ``#`` to the line end (the ``\\n`` excluded; a ``\\r`` before it
    included);
  - ``heredoc``: a here-document body: ``start`` is the first body line, ``end`` the start
    of the closing delimiter line (``start == end`` for an empty body), ``close_end`` the
    end of the closing line (its ``\\n`` excluded); ``delimiter`` (str, after quote
    removal), ``quoted`` (True when any part of the delimiter word was quoted: the body is
    not expanded), ``strip_tabs`` (``<<-``).

  ``depth`` is the nesting level: 0 at the top, 1 inside one ``$(...)``/``<(...)``, and so
  on. A word holding a command substitution comes before the tokens of its content.
* ``regions`` (only with ``tokenize(text, regions=True)``, else None): list of
  ``(kind, start, end, depth)`` for every quote and expansion, the
  delimiters included (``start`` at the opening ``'``/``"``/``$``/backquote/``<``/``(``,
  ``end`` after the closing one), ordered by ``end``; kinds ``single`` (``'...'`` and
  ``$'...'``), ``double``, ``param`` (``${...}``), ``subst`` (``$(...)``, ``<(...)``,
  ``>(...)``), ``backquote``, ``arith`` (``$((...))`` and ``((...))``).
* ``arithmetic``: list of ``(start, end)`` of every ``$((...))`` and ``((...))`` (where ``<<``
  is a shift and ``#`` is not a comment), ordered by ``end``.
* ``blanks`` (only with ``tokenize(text, blanks=True)``, else None): list of ``(start, end)``
  for every run of spaces and tabs and every line end in code -- the top level, ``$(...)``,
  ``<(...)``, ``$((...))`` -- and not inside quotes, ``${...}``, backquotes, comments or
  here-document bodies; ordered by ``start``. (What a normal form collapses.)

Text that cannot be tokenized (a quote, expansion or here-document still open at the end)
raises :class:`ShellSyntaxError` naming the line and column where the open construct starts.
"""

from __future__ import annotations

import bisect
import re

WORD = "word"
OPERATOR = "operator"
NEWLINE = "newline"
REDIRECT = "redirect"
COMMENT = "comment"
HEREDOC = "heredoc"
KINDS = (WORD, OPERATOR, NEWLINE, REDIRECT, COMMENT, HEREDOC)
"""Token kinds (see the module doc)."""

REGION_KINDS = ("single", "double", "param", "subst", "backquote", "arith")
"""Region kinds (see the module doc)."""

COMMAND_START_WORDS = frozenset(["!", "{", "if", "then", "else", "elif", "while", "until", "do", "time"])
"""Reserved words after which a command may follow at once."""

ASSIGNMENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\[[^\]]*\])?\+?=")
"""A word in command position that matches this (``NAME=``, ``NAME+=``, ``NAME[i]=``) is an
assignment: the word after it is in command position too."""

# Pieces of a word that need no frame: plain characters, a double-quoted string without command
# substitutions or backquotes, a ${...} without quotes, escapes or nested expansions, a
# single-quoted string, an escaped character, a "$" that opens nothing.
_PLAIN = r"[^ \t\n'\"\\`$#()<>;&|]+"
_DQ_SIMPLE = r"\"[^\"\\`$]*(?:(?:\\[\s\S]|\$(?![({])|\$\{[^{}'\"\\`$]*\})[^\"\\`$]*)*\""
_PARAM_SIMPLE = r"\$\{[^{}'\"\\`$]*\}"
_OTHER_PIECE = r"(?:#|\\[\s\S]|\$(?![({'])|%s|%s|'[^']*')" % (_DQ_SIMPLE, _PARAM_SIMPLE)
# One step in a code frame: blanks (group 1); a whole word made of such pieces, up to where a
# word ends (2; not a file-descriptor number right before a redirection), and the blanks after
# it (3); a run of plain characters (4); a simple "..." (5) or ${...} (6) inside a longer word;
# a line end (7) and the blanks after it (8); or one character that ends or changes a word (9).
# Groups 2, 3, 5 and 6 are fast paths only: what they do not match goes through the frames, with
# the same result. (Each repetition starts with a character the one before cannot take, so a
# failed match never backtracks far.)
_WORD_END = r"(?=[ \t\n;&|()]|[<>](?!\()|\Z)"
_WHOLE_WORD = r"(?=[^ \t\n\\`#()<>;&|])(?![0-9]+[<>])(?:%s)?(?:%s(?:%s)?)*%s" % (
    _PLAIN, _OTHER_PIECE, _PLAIN, _WORD_END)
_CODE_STEP = re.compile(r"([ \t]+)|(%s)([ \t]+)?|(%s)|(%s)|(%s)|(\n)([ \t]+)?|([\s\S])" % (
    _WHOLE_WORD, _PLAIN, _DQ_SIMPLE, _PARAM_SIMPLE))
# The same inside a word already begun (groups 2 and 3 never match: a word is tried as a whole
# once, where it starts).
_CODE_STEP_IN_WORD = re.compile(
    r"([ \t]+)|(\b\B)(\b\B)?|(%s)|(%s)|(%s)|(\n)([ \t]+)?|([\s\S])" % (_PLAIN, _DQ_SIMPLE, _PARAM_SIMPLE))
# Regions inside a word read in one step: escapes (skipped), '...' (1), "..." (2), ${...} (3).
_WORD_REGIONS = re.compile(r"\\[\s\S]|('[^']*')|(%s)|(%s)" % (_DQ_SIMPLE, _PARAM_SIMPLE))
_PARAM_IN_DQ = re.compile(r"\\[\s\S]|(%s)" % _PARAM_SIMPLE)
_ARITH_STOP = re.compile(r"([ \t]+)|[\n'\"\\`$()]")
_DQ_STOP = re.compile(r"[\"\\`$]")
_PARAM_STOP = re.compile(r"['\"\\`$}]")
_BQ_STOP = re.compile(r"[`\\]")
_OPERATOR = re.compile(r";;&|;;|;&|;|&&|&>>|&>|&|\|\||\|&|\||\(|\)|<<<|<<-|<<|<>|<&|<|>>|>&|>\||>")
_REDIRECTS = frozenset(["<", ">", ">>", ">|", "<>", "<&", ">&", "&>", "&>>", "<<", "<<-", "<<<"])
_CASE_BREAKS = frozenset([";;", ";&", ";;&"])

# Frame kinds. Code frames (the top level, $(...), <(...), >(...)) hold words and operators;
# the others are parts of one word.
_TOP, _SUBST, _ARITH, _DQ, _PARAM, _BQ = range(6)
_REGION = {_SUBST: "subst", _ARITH: "arith", _DQ: "double", _PARAM: "param", _BQ: "backquote"}
_CLOSER = {"single": 1, "double": 1, "param": 1, "subst": 1, "backquote": 1, "arith": 2}

# case states of a code frame
_CASE_SUBJECT, _CASE_IN, _CASE_PATTERN, _CASE_BODY = range(4)


class ShellSyntaxError(ValueError):
    """Shell text that cannot be tokenized.

    :ivar message: what is open (str). :ivar line, column: 1-based position of the construct
        that is never closed. :ivar offset: its index in the text. :ivar construct: its
        opening text (``'``, ``"``, ``$'``, a backquote, ``${``, ``$(``, ``<(``, ``>(``,
        ``$((``, ``((``, or the here-document's ``<<`` with its delimiter).
    """

    def __init__(self, message, line, column, offset, construct):
        ValueError.__init__(self, "%s (line %d, column %d)" % (message, line, column))
        self.message = message
        self.line = line
        self.column = column
        self.offset = offset
        self.construct = construct


class _Lines(object):
    """Line starts of a text, computed on first use (most callers never ask for them)."""

    __slots__ = ("text", "starts")

    def __init__(self, text):
        self.text = text
        self.starts = None

    def position(self, offset):
        """1-based ``(line, column)`` of ``offset``."""
        if self.starts is None:
            self.starts = [0] + [m.end() for m in re.finditer("\n", self.text)]
        k = bisect.bisect_right(self.starts, offset)
        return k, offset - self.starts[k - 1] + 1


class Token(object):
    """One token (see the module doc for the kinds and their fields).

    :ivar kind: one of :data:`KINDS`. :ivar start, end: span (``end`` exclusive).
    :ivar line, column: 1-based position of ``start`` (computed when asked for).
    :ivar depth: nesting level. :ivar command: words only: in command position.
    :ivar delimiter, quoted, strip_tabs, close_end: here-document bodies only (None otherwise).
    """

    __slots__ = ("kind", "start", "end", "depth", "command", "_lines")
    delimiter = quoted = strip_tabs = close_end = None

    def __init__(self, kind, start, end, depth, command, lines):
        self.kind = kind
        self.start = start
        self.end = end
        self.depth = depth
        self.command = command
        self._lines = lines

    @property
    def line(self):
        return self._lines.position(self.start)[0]

    @property
    def column(self):
        return self._lines.position(self.start)[1]

    def as_dict(self):
        """The token as a dict (the fields of its kind only)."""
        out = {"kind": self.kind, "start": self.start, "end": self.end, "line": self.line, "column": self.column,
               "depth": self.depth}
        if self.kind == WORD:
            out["command"] = self.command
        elif self.kind == HEREDOC:
            out.update(delimiter=self.delimiter, quoted=self.quoted, strip_tabs=self.strip_tabs,
                       close_end=self.close_end)
        return out

    def __repr__(self):
        return "Token(%s %d:%d depth %d)" % (self.kind, self.start, self.end, self.depth)


class HeredocToken(Token):
    """A ``heredoc`` token (a :class:`Token` with the here-document fields set)."""

    __slots__ = ("delimiter", "quoted", "strip_tabs", "close_end")

    def __init__(self, start, end, depth, lines, delimiter, quoted, strip_tabs, close_end):
        Token.__init__(self, HEREDOC, start, end, depth, False, lines)
        self.delimiter = delimiter
        self.quoted = quoted
        self.strip_tabs = strip_tabs
        self.close_end = close_end


class Lexed(object):
    """Result of :func:`tokenize`: ``text``, ``tokens``, ``regions`` and ``blanks`` (see the
    module doc), and lookups on them."""

    __slots__ = ("text", "tokens", "regions", "blanks", "arithmetic")

    def __init__(self, text, tokens, regions, blanks, arithmetic):
        self.text = text
        self.tokens = tokens
        self.regions = regions
        self.blanks = blanks
        self.arithmetic = arithmetic

    def text_of(self, token):
        """The raw text of ``token`` (str)."""
        return self.text[token.start:token.end]

    def of_kind(self, kind):
        """The tokens of one kind, in order."""
        return [t for t in self.tokens if t.kind == kind]

    def comments(self):
        return self.of_kind(COMMENT)

    def heredocs(self):
        return self.of_kind(HEREDOC)

    def words(self):
        return self.of_kind(WORD)

    def word_at(self, offset):
        """The innermost word whose span holds ``offset``, or None."""
        best = None
        for t in self.tokens:
            if t.start > offset:
                break
            if t.kind == WORD and t.start <= offset < t.end and (best is None or t.depth >= best.depth):
                best = t
        return best

    def context_at(self, offset):
        """Where the character at ``offset`` stands: a tuple of the region kinds (see the module
        doc) that hold it between their delimiters, outermost first (empty at the top level);
        ``("comment",)`` inside a comment, ``("heredoc",)`` inside a here-document body or its
        closing line. Needs ``tokenize(text, regions=True)``."""
        if self.regions is None:
            raise ValueError("context_at needs the regions: tokenize(text, regions=True)")
        for t in self.tokens:
            if t.start > offset:
                break
            if t.kind == COMMENT and offset < t.end:
                return ("comment",)
            if t.kind == HEREDOC and offset < t.close_end:
                return ("heredoc",)
        inside = [r for r in self.regions if r[1] + self._opener_length(r) <= offset < r[2] - _CLOSER[r[0]]]
        inside.sort(key=lambda r: (r[1], -r[2]))
        return tuple(r[0] for r in inside)

    def _opener_length(self, region):
        kind, start = region[0], region[1]
        if kind in ("double", "backquote"):
            return 1
        if kind == "single":
            return 2 if self.text.startswith("$", start) else 1
        if kind == "arith":
            return 3 if self.text.startswith("$", start) else 2
        return 2  # ${ $( <( >(


def unquote(word):
    """Quote removal on a word (str): ``(value, quoted)``; ``quoted`` is True when any part of
    it was quoted or escaped (``'EOF'``, ``"EOF"``, ``\\EOF``, ``E"O"F``, ``$'EOF'``)."""
    if "'" not in word and '"' not in word and "\\" not in word:
        return word, False
    out = []
    i = 0
    n = len(word)
    while i < n:
        c = word[i]
        if c == "\\":
            out.append(word[i + 1:i + 2])
            i += 2
        elif c == "'" or (c == "$" and word.startswith("'", i + 1)):
            j = i + (2 if c == "$" else 1)
            k = word.find("'", j)
            k = n if k < 0 else k
            out.append(word[j:k])
            i = k + 1
        elif c == '"':
            j = i + 1
            while j < n and word[j] != '"':
                if word[j] == "\\" and word[j + 1:j + 2] in ('"', "\\", "$", "`"):
                    out.append(word[j + 1])
                    j += 2
                else:
                    out.append(word[j])
                    j += 1
            i = j + 1
        else:
            out.append(c)
            i += 1
    return "".join(out), True


_DELIMITER_RES = {}


def _delimiter_re(delimiter, strip_tabs):
    key = (delimiter, strip_tabs)
    rx = _DELIMITER_RES.get(key)
    if rx is None:
        rx = re.compile("^%s%s$" % ("\t*" if strip_tabs else "", re.escape(delimiter)), re.M)
        if len(_DELIMITER_RES) < 512:
            _DELIMITER_RES[key] = rx
    return rx


def is_escaped(text, offset):
    """True when the character at ``offset`` of ``text`` follows an odd number of backslashes."""
    n = 0
    k = offset - 1
    while k >= 0 and text[k] == "\\":
        n += 1
        k -= 1
    return n % 2 == 1


class _Frame(object):
    __slots__ = ("kind", "start", "depth", "opener", "word", "cmd", "paren", "case", "pending")

    def __init__(self, kind, start, depth, opener):
        self.kind = kind
        self.start = start
        self.depth = depth
        self.opener = opener  # how the construct opens, for messages
        self.word = None      # code frames: the word token being read
        self.cmd = True       # code frames: the next word is in command position
        self.paren = 0        # code frames: open subshells; arithmetic: open parentheses
        self.case = None      # code frames: stack of case states
        self.pending = None   # code frames: None, "target" or (redirect token, strip_tabs)


class _Lexer(object):
    def __init__(self, text, blanks, regions):
        self.text = text
        self.n = len(text)
        self.i = 0
        self.lines = _Lines(text)
        self.tokens = []
        self.regions = [] if regions else None
        self.blanks = [] if blanks else None
        self.arithmetic = []
        self.heredocs = []    # [(redirect token, strip_tabs, delimiter word token)] awaiting their body
        self.stack = [_Frame(_TOP, 0, 0, "")]

    def fail(self, message, offset, construct):
        line, column = self.lines.position(offset)
        raise ShellSyntaxError(message, line, column, offset, construct)

    def run(self):
        n = self.n
        stack = self.stack
        while self.i < n:
            f = stack[-1]
            kind = f.kind
            if kind <= _SUBST:
                self.step_code(f)
            elif kind == _DQ:
                self.step_dq()
            elif kind == _PARAM:
                self.step_param()
            elif kind == _BQ:
                self.step_bq()
            else:
                self.step_arith(f)
        if len(stack) > 1:
            f = stack[-1]
            self.fail("%s opened here is never closed" % f.opener, f.start, f.opener.replace("quote ", ""))
        self.end_word(stack[0], n)
        if self.heredocs:
            redirect, strip_tabs, word = self.heredocs[0]
            delim = unquote(self.text[word.start:word.end])[0]
            self.fail("here-document %s is never closed" % delim, redirect.start,
                      self.text[redirect.start:redirect.end] + delim)
        return Lexed(self.text, self.tokens, self.regions, self.blanks, self.arithmetic)

    # -- words
    def start_word(self, f, at):
        case = f.case
        tok = Token(WORD, at, None, f.depth, f.cmd and f.pending is None and (not case or case[-1] == _CASE_BODY),
                    self.lines)
        self.tokens.append(tok)
        f.word = tok

    def end_word(self, f, at):
        tok = f.word
        if tok is None:
            return
        tok.end = at
        f.word = None
        pending = f.pending
        if pending is not None:
            f.pending = None
            if pending != "target":
                self.heredocs.append((pending[0], pending[1], tok))
            return
        case = f.case
        if not f.cmd and not case:
            return
        word = self.text[tok.start:at]
        if case:
            state = case[-1]
            if state == _CASE_SUBJECT:
                case[-1] = _CASE_IN
                return
            if state == _CASE_IN:
                if word == "in":
                    case[-1] = _CASE_PATTERN
                return
            if state == _CASE_PATTERN or (f.cmd and word == "esac"):
                if word == "esac":
                    case.pop()
                    f.cmd = False
                return
            if not f.cmd:
                return
        if word == "case":
            if case is None:
                f.case = case = []
            case.append(_CASE_SUBJECT)
            f.cmd = False
        elif word not in COMMAND_START_WORDS and not ASSIGNMENT.match(word):
            f.cmd = False

    def boundary(self, f, op):
        """A control operator or line end in code frame ``f``."""
        f.pending = None
        case = f.case
        if case:
            if case[-1] == _CASE_PATTERN:
                return
            if op in _CASE_BREAKS and case[-1] == _CASE_BODY:
                case[-1] = _CASE_PATTERN
        f.cmd = True

    # -- frames
    def push(self, kind, start, opener, skip):
        parent = self.stack[-1]
        f = _Frame(kind, start, parent.depth + 1 if kind == _SUBST else parent.depth, opener)
        if kind == _ARITH:
            f.paren = 1
        self.stack.append(f)
        self.i = start + skip

    def pop(self, end):
        f = self.stack.pop()
        if f.kind == _ARITH:
            self.arithmetic.append((f.start, end))
        if self.regions is not None:
            self.regions.append((_REGION[f.kind], f.start, end, f.depth - 1 if f.kind == _SUBST else f.depth))
        self.i = end

    def single(self, at, ansi):
        text = self.text
        j = at + (2 if ansi else 1)
        while True:
            k = text.find("'", j)
            if k < 0:
                q = "$'" if ansi else "'"
                self.fail("quote %s opened here is never closed" % q, at, q)
            if ansi and is_escaped(text, k):
                j = k + 1
                continue
            break
        if self.regions is not None:
            self.regions.append(("single", at, k + 1, self.stack[-1].depth))
        self.i = k + 1

    def dollar(self, at, in_dq):
        """``$`` at ``at`` in any frame."""
        text = self.text
        nxt = text[at + 1:at + 2]
        if nxt == "{":
            self.push(_PARAM, at, "${", 2)
        elif nxt == "(":
            if text.startswith("$((", at):
                self.push(_ARITH, at, "$((", 3)
            else:
                self.push(_SUBST, at, "$(", 2)
        elif nxt == "'" and not in_dq:
            self.single(at, True)
        else:
            self.i = at + 1

    def read_heredocs(self):
        """Read the bodies of the pending here-documents from ``self.i`` (a line start)."""
        text = self.text
        for redirect, strip_tabs, word in self.heredocs:
            delim, quoted = unquote(text[word.start:word.end])
            m = _delimiter_re(delim, strip_tabs).search(text, self.i) if self.i < self.n else None
            if m is None:
                self.fail("here-document %s is never closed" % delim, redirect.start,
                          text[redirect.start:redirect.end] + delim)
            self.tokens.append(HeredocToken(self.i, m.start(), self.stack[-1].depth, self.lines, delim, quoted,
                                            strip_tabs, m.end()))
            self.i = min(m.end() + 1, self.n)
        self.heredocs = []

    # -- code frames
    def step_code(self, f):
        """Read code frame ``f`` until it pushes or pops a frame or the text ends."""
        text = self.text
        n = self.n
        step = _CODE_STEP.match
        step_in_word = _CODE_STEP_IN_WORD.match
        blanks = self.blanks
        stack = self.stack
        tokens = self.tokens
        lines = self.lines
        depth = f.depth
        i = self.i
        while i < n:
            m = step(text, i) if f.word is None else step_in_word(text, i)
            g = m.lastindex
            j = i
            i = m.end()
            if g == 2 or g == 3:  # a whole word, and the blanks after it
                e = m.end(2)
                if f.case or f.pending is not None:
                    self.start_word(f, j)
                    self.end_word(f, e)
                else:  # start_word and end_word, for the common case
                    cmd = f.cmd
                    tokens.append(Token(WORD, j, e, depth, cmd, lines))
                    if cmd:
                        word = text[j:e]
                        if word == "case":
                            f.case = [_CASE_SUBJECT]
                            f.cmd = False
                        elif word not in COMMAND_START_WORDS and not ASSIGNMENT.match(word):
                            f.cmd = False
                if self.regions is not None:
                    self.word_regions(j, e, depth)
                if g == 3 and blanks is not None:
                    blanks.append((e, i))
                continue
            if g == 1:  # blanks
                if f.word is not None:
                    self.end_word(f, j)
                if blanks is not None:
                    blanks.append((j, i))
                continue
            if g < 7:  # plain characters, a simple "..." or ${...}: part of a word
                if f.word is None:
                    self.start_word(f, j)
                if self.regions is not None:
                    if g == 5:
                        self.dq_regions(j, i, f.depth)
                    elif g == 6:
                        self.regions.append(("param", j, i, f.depth))
                continue
            if g < 9:  # a line end, and the blanks after it
                if f.word is not None:
                    self.end_word(f, j)
                tokens.append(Token(NEWLINE, j, j + 1, depth, False, lines))
                if f.case or f.pending is not None:
                    self.boundary(f, "\n")
                else:
                    f.cmd = True
                if self.heredocs:  # the bodies start right after the line end
                    if blanks is not None:
                        blanks.append((j, j + 1))
                    self.i = j + 1
                    self.read_heredocs()
                    i = self.i
                elif blanks is not None:
                    blanks.append((j, j + 1))
                    if g == 8:
                        blanks.append((j + 1, i))
                continue
            c = text[j]
            if c == "#":
                if f.word is None:
                    e = text.find("\n", j)
                    i = n if e < 0 else e
                    self.tokens.append(Token(COMMENT, j, i, f.depth, False, self.lines))
                continue
            if c == "\\":
                if f.word is None:
                    if text.startswith("\n", i):
                        i += 1  # a line continuation between words separates nothing
                        continue
                    self.start_word(f, j)
                if i < n:
                    i += 1
                continue
            if c == "'":
                if f.word is None:
                    self.start_word(f, j)
                self.single(j, False)
                i = self.i
                continue
            if f.word is None and c in "\"`$":
                self.start_word(f, j)
            if c == '"':
                self.push(_DQ, j, 'quote "', 1)
                return
            if c == "`":
                self.push(_BQ, j, "quote `", 1)
                return
            if c == "$":
                self.dollar(j, False)
            else:
                self.operator(f, j, c)
            if stack[-1] is not f:
                return
            i = self.i
        self.i = i

    def word_regions(self, start, end, depth):
        """Regions of a word read in one step (see ``_CODE_STEP``)."""
        text = self.text
        for c in "'\"$":
            if text.find(c, start, end) >= 0:
                break
        else:
            return
        for m in _WORD_REGIONS.finditer(text, start, end):
            g = m.lastindex
            if g == 1:
                self.regions.append(("single", m.start(), m.end(), depth))
            elif g == 2:
                self.dq_regions(m.start(), m.end(), depth)
            elif g == 3:
                self.regions.append(("param", m.start(), m.end(), depth))

    def dq_regions(self, start, end, depth):
        """Regions of a double-quoted string read in one step (see ``_CODE_STEP``)."""
        regions = self.regions
        if self.text.find("${", start, end) >= 0:
            for m in _PARAM_IN_DQ.finditer(self.text, start, end):
                if m.group(1):
                    regions.append(("param", m.start(), m.end(), depth))
        regions.append(("double", start, end, depth))

    def operator(self, f, j, c):
        text = self.text
        nxt = text[j + 1:j + 2]
        if (c == "<" or c == ">") and nxt == "(":
            if f.word is None:
                self.start_word(f, j)
            self.push(_SUBST, j, c + "(", 2)
            return
        case = f.case
        last = self.tokens[-1] if self.tokens else None
        if c == "(" and nxt == "(" and f.word is None and f.cmd and f.pending is None and \
                (not case or case[-1] == _CASE_BODY) and not (last is not None and last.kind == WORD and last.end == j):
            self.start_word(f, j)
            self.push(_ARITH, j, "((", 2)
            return
        op = _OPERATOR.match(text, j).group(0)
        end = j + len(op)
        if op in _REDIRECTS:
            word = f.word
            if word is not None and c != "&" and self.tokens[-1] is word and text[word.start:j].isdigit():
                # a file-descriptor number is part of the redirection
                self.tokens.pop()
                f.word = None
                start = word.start
            else:
                self.end_word(f, j)
                start = j
            tok = Token(REDIRECT, start, end, f.depth, False, self.lines)
            self.tokens.append(tok)
            f.pending = (tok, op == "<<-") if op == "<<" or op == "<<-" else "target"
            self.i = end
            return
        self.end_word(f, j)
        if op == "(":
            if not (case and case[-1] == _CASE_PATTERN):
                f.paren += 1
        elif op == ")":
            if case and case[-1] == _CASE_PATTERN:
                case[-1] = _CASE_BODY
                f.cmd = True
                f.pending = None
                self.tokens.append(Token(OPERATOR, j, end, f.depth, False, self.lines))
                self.i = end
                return
            if f.paren:
                f.paren -= 1
            elif f.kind == _SUBST:
                self.pop(end)
                return
        self.tokens.append(Token(OPERATOR, j, end, f.depth, False, self.lines))
        self.boundary(f, op)
        self.i = end

    # -- arithmetic ($((...)) and ((...)))
    def step_arith(self, f):
        text = self.text
        m = _ARITH_STOP.search(text, self.i)
        if m is None:
            self.i = self.n
            return
        j = m.start()
        if m.lastindex:
            if self.blanks is not None:
                self.blanks.append((j, m.end()))
            self.i = m.end()
            return
        c = text[j]
        if c == "\n":
            if self.blanks is not None:
                self.blanks.append((j, j + 1))
            self.i = j + 1
            if self.heredocs:
                self.read_heredocs()
        elif c == "'":
            self.single(j, False)
        elif c == '"':
            self.push(_DQ, j, 'quote "', 1)
        elif c == "\\":
            self.i = min(j + 2, self.n)
        elif c == "`":
            self.push(_BQ, j, "quote `", 1)
        elif c == "$":
            self.dollar(j, False)
        elif c == "(":
            f.paren += 1
            self.i = j + 1
        elif f.paren == 0:  # ")"
            self.pop(j + 1)
        else:
            f.paren -= 1
            if f.paren == 0 and text.startswith(")", j + 1):
                self.pop(j + 2)
            else:
                self.i = j + 1

    # -- parts of a word
    def step_dq(self):
        text = self.text
        m = _DQ_STOP.search(text, self.i)
        if m is None:
            self.i = self.n
            return
        j = m.start()
        c = text[j]
        if c == '"':
            self.pop(j + 1)
        elif c == "\\":
            self.i = min(j + 2, self.n)
        elif c == "`":
            self.push(_BQ, j, "quote `", 1)
        else:
            self.dollar(j, True)

    def step_param(self):
        text = self.text
        m = _PARAM_STOP.search(text, self.i)
        if m is None:
            self.i = self.n
            return
        j = m.start()
        c = text[j]
        if c == "}":
            self.pop(j + 1)
        elif c == "'":
            self.single(j, False)
        elif c == '"':
            self.push(_DQ, j, 'quote "', 1)
        elif c == "\\":
            self.i = min(j + 2, self.n)
        elif c == "`":
            self.push(_BQ, j, "quote `", 1)
        else:
            self.dollar(j, False)

    def step_bq(self):
        text = self.text
        m = _BQ_STOP.search(text, self.i)
        if m is None:
            self.i = self.n
            return
        j = m.start()
        if text[j] == "`":
            self.pop(j + 1)
        else:
            self.i = min(j + 2, self.n)


def tokenize(text, blanks=False, regions=False):
    """Tokenize shell ``text`` (str).

    :param blanks: also list the blanks between tokens (``Lexed.blanks``; what a normal form
        collapses); else ``Lexed.blanks`` is None.
    :param regions: also list the quotes and expansions (``Lexed.regions``, used by
        :meth:`Lexed.context_at`); else ``Lexed.regions`` is None.
    :returns: a :class:`Lexed` (see the module doc for the shapes).
    :raises ShellSyntaxError: a quote, expansion or here-document is never closed.
    """
    return _Lexer(text, blanks, regions).run()
