# -*- coding: utf-8 -*-
"""Unit tests: the collection's shell tokenizer (comments, quotes, expansions, heredocs,
operators, command positions, token shapes, errors). The snippets follow the shapes of the
platform's real scripts; a corpus test (skipped without the shared corpus) reads all of them."""

from __future__ import annotations

import os
import re
import shutil
import subprocess

import pytest

from ansible_collections.sutazai.consolidation.plugins.module_utils import _shell
from helpers import REPO

V78 = os.path.normpath(os.path.join(REPO, "..", "shared", "corpus", "sutazai-v78"))


def toks(text, kind=None, depth=None):
    lexed = _shell.tokenize(text)
    return [(t.kind, text[t.start:t.end]) for t in lexed.tokens
            if (kind is None or t.kind == kind) and (depth is None or t.depth == depth)]


def words(text, depth=0):
    return [w for k, w in toks(text, _shell.WORD, depth)]


def comments(text):
    return [c for k, c in toks(text, _shell.COMMENT)]


# -- comments --------------------------------------------------------------------------------
@pytest.mark.parametrize("text, expected", [
    ("#!/bin/bash\n# header\necho hi # trailing\n", ["#!/bin/bash", "# header", "# trailing"]),
    ("echo ok;# after a semicolon\n", ["# after a semicolon"]),
    ("ls | # after a pipe\n  wc -l\n", ["# after a pipe"]),
    ("v=${x#prefix} n=$# c=${#arr[@]}\n", []),
    ('echo "a # b" \'c # d\' a#b\n', []),
    ("echo $(date)#not\n", []),
    ("echo \\# escaped\n", []),
    ("x=$(\n  ls # inside a command substitution\n)\n", ["# inside a command substitution"]),
    ("echo `date # in backquotes`\n", []),
    ("ELAPSED=$((($END_TIME - $START_TIME) / 1000000)) # ms\n", ["# ms"]),
    ("echo $'it\\'s # quoted'   # after\n", ["# after"]),
    ("a \\\n# after a continuation\n", ["# after a continuation"]),
    ("echo hi # crlf\r\nls\r\n", ["# crlf\r"]),
])
def test_comments_only_where_a_word_starts(text, expected):
    assert comments(text) == expected


# -- quotes, escapes, continuations ------------------------------------------------------------
def test_quotes_are_parts_of_one_word():
    text = 'IFS=\':\' read -r name port <<< "$service"\n'
    assert words(text) == ["IFS=':'", "read", "-r", "name", "port", '"$service"']
    assert words('a"b c"\'d e\'$\'f\\\'g\'\n') == ['a"b c"\'d e\'$\'f\\\'g\'']
    assert words('echo "multi\nline # not a comment"\n') == ["echo", '"multi\nline # not a comment"']
    text = 'echo "say \\"hi\\" $(echo "nested  quotes")"\n'
    assert words(text) == ["echo", text[5:-1]]


def test_escapes_and_line_continuations():
    text = "docker run \\\n  --name x \\\n  image\n"
    assert words(text) == ["docker", "run", "--name", "x", "image"]
    assert words("a\\\nb c\\ d \\'e\n") == ["a\\\nb", "c\\ d", "\\'e"]


def test_parameter_expansion_ends_at_the_first_brace():
    # bash: ${4:-{}} is "${4:-{}" followed by "}" (the inner brace is not counted)
    lexed = _shell.tokenize('local details="${4:-{}}"\n', regions=True)
    assert [lexed.text_of(t) for t in lexed.words()] == ["local", 'details="${4:-{}}"']
    assert ("param", 15, 22, 0) in lexed.regions  # "${4:-{}"


# -- command substitutions, backquotes, arithmetic ---------------------------------------------
def test_command_substitution_content_is_tokenized_one_level_deeper():
    text = 'EXTERNAL_COUNT=$(echo "$EXTERNAL_IMAGES" | grep -v \'^$\' | wc -l || echo "0")\n'
    assert words(text) == [text[:-1]]
    assert words(text, depth=1) == ["echo", '"$EXTERNAL_IMAGES"', "grep", "-v", "'^$'", "wc", "-l", "echo", '"0"']
    assert [o for k, o in toks(text, _shell.OPERATOR, 1)] == ["|", "|", "||"]


def test_subshells_and_case_patterns_inside_a_substitution():
    text = 'kind=$(case "$1" in start|up) echo a ;; (stop) ( echo b ) ;; esac) # done\n'
    assert words(text) == ['kind=$(case "$1" in start|up) echo a ;; (stop) ( echo b ) ;; esac)']
    assert comments(text) == ["# done"]
    text = "x=$( (cd /tmp && pwd) )\n"
    assert words(text) == ["x=$( (cd /tmp && pwd) )"]
    assert words(text, depth=1) == ["cd", "/tmp", "pwd"]


def test_process_substitution_and_backquotes():
    text = '    done < <(find "$LOG_DIR" -type f -print0 2>/dev/null || true)\n'
    assert words(text) == ["done", '<(find "$LOG_DIR" -type f -print0 2>/dev/null || true)']
    assert words(text, depth=1) == ["find", '"$LOG_DIR"', "-type", "f", "-print0", "/dev/null", "true"]
    expected = ["start=`date +%s`", "echo", "`echo \\`nested\\``"]
    assert words("start=`date +%s` ; echo `echo \\`nested\\``\n") == expected


def test_arithmetic_is_one_word_and_knows_no_heredoc_or_comment():
    text = "TOTAL=$((TESTS_PASSED + TESTS_FAILED))\nmask=$((1 << 4))\n(( count++ )) && echo $(( x#1 ))\n"
    lexed = _shell.tokenize(text)
    assert [lexed.text_of(t) for t in lexed.words()] == ["TOTAL=$((TESTS_PASSED + TESTS_FAILED))", "mask=$((1 << 4))",
                                                         "(( count++ ))", "echo", "$(( x#1 ))"]
    assert lexed.heredocs() == [] and lexed.comments() == []
    assert [text[a:b] for a, b in lexed.arithmetic] == ["$((TESTS_PASSED + TESTS_FAILED))", "$((1 << 4))",
                                                        "(( count++ ))", "$(( x#1 ))"]


# -- heredocs --------------------------------------------------------------------------------
def _heredocs(text):
    lexed = _shell.tokenize(text)
    return [(text[h.start:h.end], h.delimiter, h.quoted, h.strip_tabs, text[h.end:h.close_end])
            for h in lexed.heredocs()]


@pytest.mark.parametrize("opener, delimiter, quoted", [
    ("<<EOF", "EOF", False), ("<< EOF", "EOF", False), ("<<'EOF'", "EOF", True), ("<< 'EOF'", "EOF", True),
    ('<<"EOF"', "EOF", True), ("<<\\EOF", "EOF", True), ('<<E"O"F', "EOF", True), ("<<'END OF'", "END OF", True),
])
def test_heredoc_delimiters(opener, delimiter, quoted):
    text = "cat %s > /etc/app.conf\n# quantum mode\n  x=1 # data\n%s\necho # after\n" % (opener, delimiter)
    assert _heredocs(text) == [("# quantum mode\n  x=1 # data\n", delimiter, quoted, False, delimiter)]
    assert comments(text) == ["# after"]
    assert words(text) == ["cat", opener.replace("<<", "").strip(), "/etc/app.conf", "echo"]


def test_heredoc_with_tabs_stripped():
    text = "if true; then\n\tcat <<-EOF\n\t# indented body\n\tEOF\nfi\n"
    assert _heredocs(text) == [("\t# indented body\n", "EOF", False, True, "\tEOF")]
    assert comments(text) == []
    # without "-" a tab-indented delimiter does not close the body
    with pytest.raises(_shell.ShellSyntaxError) as err:
        _shell.tokenize("cat <<EOF\nbody\n\tEOF\n")
    assert (err.value.line, err.value.column, err.value.construct) == (1, 5, "<<EOF")


def test_several_heredocs_on_one_line_are_read_in_order():
    text = "paste <<A <<-'B' | sort\none # a\nA\n\ttwo # b\n\tB\necho end\n"
    assert _heredocs(text) == [("one # a\n", "A", False, False, "A"), ("\ttwo # b\n", "B", True, True, "\tB")]
    assert words(text) == ["paste", "A", "'B'", "sort", "echo", "end"]


def test_heredoc_in_a_substitution_and_an_empty_body():
    text = 'cfg="$(cat <<EOF\nport: 80 # yaml\nEOF\n)"\ncat <<EOF\nEOF\n'
    lexed = _shell.tokenize(text)
    bodies = lexed.heredocs()
    assert [text[h.start:h.end] for h in bodies] == ["port: 80 # yaml\n", ""]
    assert bodies[0].depth == 1 and lexed.comments() == []
    assert [lexed.text_of(t) for t in lexed.words() if t.depth == 0] == [text[:text.index(")") + 2], "cat", "EOF"]


def test_here_string_is_not_a_heredoc():
    text = 'while IFS=: read -r a b; do echo "$a"; done <<< "$pairs"\n# a comment\n'
    assert _heredocs(text) == []
    assert comments(text) == ["# a comment"]
    assert ("redirect", "<<<") in toks(text)


def test_a_carriage_return_is_an_ordinary_character():
    # CRLF throughout: the delimiter is "EOF\r" and the closing line "EOF\r" matches it, as for bash
    assert _heredocs("cat <<EOF\r\nbody\r\nEOF\r\n") == [("body\r\n", "EOF\r", False, False, "EOF\r")]
    # a CR on the closing line only does not close the body
    with pytest.raises(_shell.ShellSyntaxError) as err:
        _shell.tokenize("cat <<EOF\nbody\nEOF\r\n")
    assert err.value.message == "here-document EOF is never closed"


# -- operators and command positions ------------------------------------------------------------
def test_operators_and_redirections():
    text = "make build 2>&1 | tee log && ok=1 || exit 1; cmd &>/dev/null & wait\nx >> f; y |& z\n"
    assert [(k, v) for k, v in toks(text) if k in (_shell.OPERATOR, _shell.REDIRECT, _shell.NEWLINE)] == [
        ("redirect", "2>&"), ("operator", "|"), ("operator", "&&"), ("operator", "||"), ("operator", ";"),
        ("redirect", "&>"), ("operator", "&"), ("newline", "\n"), ("redirect", ">>"), ("operator", ";"),
        ("operator", "|&"), ("newline", "\n")]


def test_command_position():
    lexed = _shell.tokenize("IFS=':' read -r a b <<< \"$x\"\nif [ -f x ]; then FOO=1 BAR=2 run >out arg; fi\n"
                            "2>/dev/null rm -f x\ncase $1 in start) go ;; esac\n")
    cmd = [lexed.text_of(t) for t in lexed.words() if t.command]
    assert cmd == ["IFS=':'", "read", "if", "[", "then", "FOO=1", "BAR=2", "run", "fi", "rm", "case", "go"]


# -- shapes, lookups, errors --------------------------------------------------------------------
def test_token_shapes_and_positions():
    text = "cat <<\\EOF > /etc/app.conf\n# quantum mode\nEOF\necho done # real\n"
    lexed = _shell.tokenize(text)
    shapes = [t.as_dict() for t in lexed.tokens]
    assert shapes[0] == {"kind": "word", "start": 0, "end": 3, "line": 1, "column": 1, "depth": 0, "command": True}
    assert shapes[1] == {"kind": "redirect", "start": 4, "end": 6, "line": 1, "column": 5, "depth": 0}
    heredoc = [s for s in shapes if s["kind"] == "heredoc"][0]
    assert heredoc == {"kind": "heredoc", "start": 27, "end": 42, "line": 2, "column": 1, "depth": 0,
                       "delimiter": "EOF", "quoted": True, "strip_tabs": False, "close_end": 45}
    comment = [s for s in shapes if s["kind"] == "comment"][0]
    assert (comment["line"], comment["column"], text[comment["start"]:comment["end"]]) == (4, 11, "# real")
    assert lexed.blanks is None and lexed.regions is None
    assert _shell.tokenize(text, blanks=True).blanks[:3] == [(3, 4), (10, 11), (12, 13)]


def test_context_and_word_lookups():
    text = "RUN_ME=1 echo 'a b' \"x ${Y:-z} $(id -u)\" `w` \\q # c\n"
    lexed = _shell.tokenize(text, regions=True)
    assert lexed.context_at(text.index("a b")) == ("single",)
    assert lexed.context_at(text.index("x ${")) == ("double",)
    assert lexed.context_at(text.index("z}")) == ("double", "param")
    assert lexed.context_at(text.index("id")) == ("double", "subst")
    assert lexed.context_at(text.index("w`")) == ("backquote",)
    assert lexed.context_at(text.index("echo")) == ()
    assert lexed.context_at(text.index(" c")) == ("comment",)
    assert _shell.is_escaped(text, text.index("q")) and not _shell.is_escaped(text, text.index("a b"))
    assert lexed.text_of(lexed.word_at(text.index("id"))) == "id"
    assert lexed.word_at(text.index("id")).depth == 1
    assert lexed.word_at(0).command and not lexed.word_at(text.index("'a")).command


@pytest.mark.parametrize("text, line, column, construct", [
    ("echo 'open\n", 1, 6, "'"),
    ('ok\necho "open\n', 2, 6, '"'),
    ("echo $'open\n", 1, 6, "$'"),
    ("x=`date\n", 1, 3, "`"),
    ("x=${HOME\n", 1, 3, "${"),
    ("BUILD=$(yq # the comment eats the closing parenthesis)\n", 1, 7, "$("),
    ("x=$((1 +\n", 1, 3, "$(("),
    ("ok\n  cat > out <<EOF\nno end\n", 2, 13, "<<EOF"),
])
def test_what_is_never_closed_is_an_error_with_its_position(text, line, column, construct):
    with pytest.raises(_shell.ShellSyntaxError) as err:
        _shell.tokenize(text)
    assert (err.value.line, err.value.column, err.value.construct) == (line, column, construct)
    assert "never closed" in err.value.message and "line %d" % line in str(err.value)


def test_unquote():
    assert _shell.unquote("EOF") == ("EOF", False)
    assert _shell.unquote("'EOF'") == ("EOF", True)
    assert _shell.unquote('"E\\"F"') == ('E"F', True)
    assert _shell.unquote("\\EOF") == ("EOF", True)
    assert _shell.unquote("$'EOF'") == ("EOF", True)


def _snapshot(text):
    try:
        lexed = _shell.tokenize(text, blanks=True, regions=True)
    except _shell.ShellSyntaxError as exc:
        return ("error", exc.message, exc.offset)
    return ([(t.kind, t.start, t.end, t.depth, t.command, t.delimiter, t.quoted, t.strip_tabs, t.close_end)
             for t in lexed.tokens], sorted(lexed.regions), lexed.blanks, lexed.arithmetic)


def test_fast_paths_agree_with_the_frames(monkeypatch):
    """Whole words, simple "..." and ${...} are read in one step; with those steps disabled the
    character-by-character frames must give the same tokens, regions and blanks."""
    import random
    rng = random.Random(7)
    pieces = ["a", "b", " ", "\t", "\n", "'", '"', "\\", "`", "$", "{", "}", "(", ")", "#", "<", ">", ";", "&", "|",
              "=", "EOF", "<<", "<<-", "<<<", "$(", "${", "$((", "case ", " in ", "esac", ";;", "-", "\r", "2"]
    texts = ["".join(rng.choice(pieces) for dummy in range(rng.randint(1, 25))) for dummy in range(4000)]
    texts += [SAMPLE]
    fast = [_snapshot(t) for t in texts]
    never = r"(\b\B)"
    slow = re.compile(r"([ \t]+)|%s([ \t]+)?|(%s)|%s|%s|(\n)([ \t]+)?|([\s\S])" % (never, _shell._PLAIN, never, never))
    monkeypatch.setattr(_shell, "_CODE_STEP", slow)
    monkeypatch.setattr(_shell, "_CODE_STEP_IN_WORD", slow)
    slow = [_snapshot(t) for t in texts]
    assert [t for t, a, b in zip(texts, fast, slow) if a != b] == []


@pytest.mark.parametrize("text", [
    "a" * 200000 + "$(", '"' + "a" * 200000, 'a"b"' * 30000 + "$(", '"$x ${y}' * 30000, "x=" + "\\a" * 100000 + "$(",
    "'" * 100001, "echo " + "${x}" * 50000 + "`", "a" * 100000 + "\\",
])
def test_long_hostile_words_stay_linear(text):
    import time
    start = time.process_time()
    try:
        _shell.tokenize(text, blanks=True, regions=True)
    except _shell.ShellSyntaxError:
        pass
    assert time.process_time() - start < 2.0


SAMPLE = """#!/bin/bash
set -euo pipefail
SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
log() { echo -e "${GREEN}[$(date +'%H:%M:%S')]${NC} $*"; }
for svc in "${SERVICES[@]}"; do
    IFS=':' read -r name port <<< "$svc"
    if ! curl -sf "http://localhost:${port}/health" > /dev/null 2>&1; then
        log "$name down" # retry later
    fi
done
cat > "$REPORT" << EOF
# Report $(date)
Total: $((PASSED + FAILED))
EOF
case "${1:-}" in
    start|up) start_all ;;
    *) usage; exit 1 ;;
esac
"""


# -- the platform's real scripts -------------------------------------------------------------------
@pytest.mark.skipif(not os.path.isdir(V78), reason="shared corpus not present")
@pytest.mark.skipif(shutil.which("bash") is None, reason="bash not installed")
def test_every_corpus_script_bash_reads_tokenizes():
    """Every script of the real tree tokenizes, except those bash itself rejects or reads only
    with a warning about a here-document closed by the end of the file."""
    refused = []
    count = 0
    for folder, dirs, files in os.walk(V78):
        for name in files:
            path = os.path.join(folder, name)
            if not name.endswith((".sh", ".bash")) or os.path.islink(path):
                continue
            with open(path, "rb") as f:
                try:
                    text = f.read().decode("utf-8")
                except UnicodeDecodeError:
                    continue
            count += 1
            try:
                _shell.tokenize(text)
            except _shell.ShellSyntaxError as exc:
                proc = subprocess.run(["bash", "-n", path], capture_output=True, text=True, check=False)
                if proc.returncode == 0 and "delimited by end-of-file" not in proc.stderr:
                    refused.append((os.path.relpath(path, V78), str(exc)))
    assert count > 200
    assert refused == []
