# -*- coding: utf-8 -*-
"""Unit tests: term map validation, whole-word matching with case kept, and the per-file-type
rules of the term phase (what is edited, what is left alone, bytes outside the edits)."""

from __future__ import annotations

import os

import pytest

from ansible_collections.sutazai.consolidation.plugins.module_utils import _terms
from ansible_collections.sutazai.consolidation.plugins.module_utils._errors import ConsolidationError

MAP = {"quantum": "theoretical", "AGI": "general AI", "magic": None, "dream": "goal", "teleport": "move"}


@pytest.fixture(scope="module")
def tmap():
    return _terms.build_term_map(MAP)


def _found(tmap, text):
    return [text[a:b] for a, b, t in tmap.find(text)]


def _scan(tmap, text, ftype, scope="docs", rel="f"):
    return _terms.scan_text(rel, text, ftype, tmap, scope)


def _by_action(fs):
    out = {}
    for o in fs.occurrences:
        out.setdefault(o["action"], []).append((o["line"], o["found"], o["kind"]))
    return out


# -- term map ------------------------------------------------------------------------------
def test_default_map_is_report_only():
    tmap = _terms.build_term_map(None)
    assert [t["term"] for t in tmap.as_list()] == list(_terms.DEFAULT_TERMS)
    assert all(t["replacement"] is None for t in tmap.as_list())
    assert [t["term"] for t in _terms.build_term_map({}).as_list()] == list(_terms.DEFAULT_TERMS)


@pytest.mark.parametrize("mapping, message", [
    ({"quantum": "Quantum"}, "'quantum': replacement 'Quantum' is the term itself (no-op entry)"),
    ({"magic": "MAGIC"}, "no-op entry"),
    ({"quantum": "theoretical", "Quantum": "Theoretical"}, "terms 'quantum' and 'Quantum' differ only in case"),
    ({"AGI": "general AI", "agi": None}, "terms 'AGI' and 'agi' differ only in case"),
    ({"quantum": "quantum computing"}, "contains the mapped term 'quantum'"),
    ({"quantum": "theoretical", "dream": "Quantum goal"}, "'dream': replacement 'Quantum goal' contains the mapped term 'quantum'"),
    ({"magic": "AGI method", "AGI": None}, "contains the mapped term 'AGI'"),
    ({"quantum": ""}, "must start with a letter or digit"),
    ({"quantum": " theoretical"}, "must start with a letter or digit"),
    ({"quantum": "two  spaces"}, "must start with a letter or digit"),
    ({"quantum": 'say "hi"'}, "must start with a letter or digit"),
    ({"quantum": "back\\slash"}, "must start with a letter or digit"),
    ({"quantum": "line\nbreak"}, "must start with a letter or digit"),
    ({"quantum": 3}, "replacement must be a string or null, got int"),
    ({"quantum_state": None}, "term 'quantum_state' must be words"),
    ({"": None}, "term '' must be words"),
    ({" quantum": None}, "must be words"),
])
def test_bad_maps_are_refused(mapping, message):
    with pytest.raises(ValueError) as err:
        _terms.build_term_map(mapping)
    assert message in str(err.value)
    assert str(err.value).startswith("invalid term map: ")


def test_every_problem_is_named_at_once():
    with pytest.raises(ValueError) as err:
        _terms.build_term_map({"quantum": "Quantum", "magic": "x", "Magic": "y", "dream": "a \"b\""})
    text = str(err.value)
    assert "no-op" in text and "differ only in case" in text and "'dream'" in text


def test_good_replacements_are_accepted():
    tmap = _terms.build_term_map({"quantum": "theoretical (experimental)", "AGI": "general AI/ML", "magic": "heuristic, rule-based",
                                  "dream": "goal & plan", "quantum-inspired": "heuristic"})
    assert len(tmap.terms) == 5


# -- whole words, case -----------------------------------------------------------------------
@pytest.mark.parametrize("text, found", [
    ("quantum Quantum QUANTUM qUaNtUm", ["quantum", "Quantum", "QUANTUM", "qUaNtUm"]),
    ("AGI agi Agi AGILE LocalAGI AGIs", ["AGI"]),
    ("magic magical python-magic magic_number magic2 (magic) 'magic'", ["magic", "magic", "magic"]),
    ("quantum-planner quantum_state quantumly subquantum", []),
    ("quantum.md docs/quantum quantum/x image:quantum $quantum @quantum #quantum x=quantum quantum=1 quantum()", []),
    ("the end is quantum. Or quantum: yes, quantum; quantum!", ["quantum", "quantum", "quantum", "quantum"]),
    ("dreams dreaming dream", ["dream"]),
    ("teleport teleportation", ["teleport"]),
    ("équantum quantumé", []),
])
def test_whole_words(tmap, text, found):
    assert _found(tmap, text) == found


def test_compounds_are_found_separately(tmap):
    text = "Quantum-Inspired search, AGI-free, quantum-planner.md, docs/quantum-x, non-magic-based"
    assert [(text[a:b], t.key) for a, b, t in tmap.find_compounds(text)] == [
        ("Quantum", "quantum"), ("AGI", "AGI"), ("magic", "magic")]
    assert _found(tmap, text) == []


@pytest.mark.parametrize("found, expected", [
    ("quantum", "theoretical"), ("Quantum", "Theoretical"), ("QUANTUM", "THEORETICAL"), ("qUANTUM", "theoretical"),
    ("QuAnTuM", "theoretical"),
])
def test_case_is_kept(tmap, found, expected):
    assert tmap.term_for(found).replace(found) == expected


def test_exact_case_terms_get_the_replacement_as_written(tmap):
    assert tmap.term_for("AGI").replace("AGI") == "general AI"
    t = _terms.build_term_map({"Quantum Leap": "Big Step"})
    assert _found(t, "Quantum Leap, quantum leap, Quantum  Leap") == ["Quantum Leap"]


def test_identifier_parts(tmap):
    def parts(name):
        return [(name[a:a + n], t.key) for a, n, t in tmap.identifier_parts(name)]

    assert parts("QuantumPlanner") == [("Quantum", "quantum")]
    assert parts("MAGIC_DELAY") == [("MAGIC", "magic")]
    assert parts("useAGIMode") == [("AGI", "AGI")]
    assert parts("agi_mode") == []
    assert parts("magically") == []


# -- masks -----------------------------------------------------------------------------------
def test_prose_mask_protects_urls_paths_links_and_code():
    text = ("[Quantum](docs/quantum.md) <a href=\"quantum\"> http://x.org/quantum www.quantum.io a@quantum.org "
            "${QUANTUM} `quantum`\n[ref]: quantum")
    masked, spans = _terms.prose_mask(text)
    assert len(masked) == len(text)
    assert masked.startswith("[Quantum]")
    assert [text[a:b] for a, b in spans] == ["quantum"]
    assert "quantum" not in masked.lower().replace("[quantum]", "")


def test_escape_mask_keeps_length_and_separates_words():
    assert _terms.escape_mask("a\\nquantum\\\"x") == "a  quantum  x"


# -- markdown --------------------------------------------------------------------------------
MD = """---
name: quantum
description: AGI helper
---

# Quantum notes

Quantum and AGI and magic, see [Quantum](quantum.md) or <https://x.org/quantum>.
A `quantum` span, a ``span with `quantum` inside`` and dream.

```
quantum in a fence
```

~~~~python
quantum in a tilde fence
~~~~

    quantum in an indented block

- a list item with quantum
    continued quantum line (list continuation, prose)
"""


def test_markdown_edits_only_prose_and_keeps_every_other_byte(tmap):
    fs = _scan(tmap, MD, "markdown")
    expected = MD.replace("# Quantum notes", "# Theoretical notes").replace(
        "Quantum and AGI and magic, see [Quantum]", "Theoretical and general AI and magic, see [Theoretical]").replace(
        "inside`` and dream.", "inside`` and goal.").replace(
        "a list item with quantum\n    continued quantum", "a list item with theoretical\n    continued theoretical")
    assert fs.new_text == expected
    acts = _by_action(fs)
    assert acts["report"] == [(8, "magic", "prose")]
    left = [(line, kind) for line, found, kind in acts["leave"]]
    assert left == [(2, "front matter"), (3, "front matter"), (9, "code"), (9, "code"), (12, "code"), (16, "code"),
                    (19, "code")]
    assert fs.replaced == 7


def test_markdown_unterminated_front_matter_and_fence_are_left_alone(tmap):
    text = "---\nname: x\ndescription: quantum\n\nBody with quantum.\n"
    fs = _scan(tmap, text, "markdown")
    assert fs.new_text is None and {o["kind"] for o in fs.occurrences} == {"front matter"}
    text = "Intro quantum.\n\n```\nquantum never closed\n\nquantum\n"
    fs = _scan(tmap, text, "markdown")
    assert fs.new_text == "Intro theoretical.\n\n```\nquantum never closed\n\nquantum\n"


def test_markdown_crlf_and_html_comment(tmap):
    text = "# Quantum\r\n\r\nSome quantum text <!-- quantum --> here, <code>quantum</code> <kbd>\r\nquantum</kbd>.\r\n"
    fs = _scan(tmap, text, "markdown")
    assert fs.new_text == text.replace("# Quantum", "# Theoretical").replace("Some quantum", "Some theoretical")


# -- python ----------------------------------------------------------------------------------
PY = '''#!/usr/bin/env python
# -*- coding: utf-8 -*-
"""Quantum module.

The quantum core; see docs/quantum.md and `quantum` code.
"""
import os  # quantum import


class QuantumPlanner(object):
    """AGI planner.""" ; x = 1

    def dream(self, mode="quantum"):
        "one-liner " 'quantum doc'
        msg = "a quantum leap\\nquantum"
        raw = r"\\quantum leap"
        data = b"quantum bytes"
        label = f"{mode!r} quantum {os.sep + 'quantum'} dream"
        return msg, raw, data, label  # dream on


def f(): "quantum docstring"
'''


def test_python_docs_scope_edits_comments_and_docstrings_only(tmap):
    fs = _scan(tmap, PY, "python", rel="m.py")
    expected = (PY.replace('"""Quantum module.\n\nThe quantum core', '"""Theoretical module.\n\nThe theoretical core')
                .replace("import os  # quantum import", "import os  # theoretical import")
                .replace('"""AGI planner."""', '"""general AI planner."""')
                .replace("'quantum doc'", "'theoretical doc'")
                .replace("# dream on", "# goal on")
                .replace('def f(): "quantum docstring"', 'def f(): "theoretical docstring"'))
    assert fs.new_text == expected
    compile(fs.new_text, "m.py", "exec")
    kinds = dict(((o["line"], o["column"]), (o["kind"], o["action"])) for o in fs.occurrences)
    assert kinds[(5, 44)] == ("code", "leave")  # `quantum` in the docstring
    assert kinds[(10, 7)] == ("identifier", "leave")  # QuantumPlanner
    assert kinds[(13, 9)] == ("identifier", "leave")  # def dream
    assert kinds[(13, 27)] == ("string", "leave")
    assert kinds[(15, 18)] == ("string", "leave")
    assert all(o["line"] != 17 for o in fs.occurrences)  # bytes are never searched
    reasons = set(o["reason"] for o in fs.occurrences if o["kind"] == "string")
    assert reasons == {_terms.LEAVE_REASONS["string"]}


def test_python_all_scope_edits_strings_but_not_keys_bytes_expressions_or_names(tmap):
    fs = _scan(tmap, PY, "python", scope="all", rel="m.py")
    new = fs.new_text
    assert 'msg = "a theoretical leap\\ntheoretical"' in new
    assert 'raw = r"\\quantum leap"' in new  # raw string: backslash-q is no escape, so not a word start
    assert 'data = b"quantum bytes"' in new
    assert "label = f\"{mode!r} theoretical {os.sep + 'quantum'} goal\"" in new
    assert 'def dream(self, mode="quantum"):' in new
    assert "class QuantumPlanner(object):" in new
    key = [o for o in fs.occurrences if o["line"] == 13 and o["kind"] == "string"][0]
    assert (key["action"], key["reason"]) == ("leave", _terms.LEAVE_REASONS["key"])
    compile(new, "m.py", "exec")
    assert new.count("\n") == PY.count("\n")


def test_python_keeps_bom_free_crlf_bytes(tmap):
    text = '"""Quantum."""\r\nx = 1  # quantum\r\n'
    fs = _scan(tmap, text, "python", rel="c.py")
    assert fs.new_text == '"""Theoretical."""\r\nx = 1  # theoretical\r\n'


def test_python_docstring_after_non_ascii_and_fstring_parts(tmap):
    text = ('def café(): "quantum doc"\n'
            'x = f"{{quantum}} {café()!r:>{len(\'quantum\')}} quantum" f\'{x}\'\n'
            'y = rf"\\quantum {x} quantum"\n')
    fs = _scan(tmap, text, "python", rel="u.py")
    assert [(o["line"], o["kind"], o["action"]) for o in fs.occurrences] == [(1, "docstring", "replace")] + [
        (2, "string", "leave")] * 2 + [(3, "string", "leave")]
    fs = _scan(tmap, text, "python", scope="all", rel="u.py")
    assert fs.new_text == text.replace("café(): \"quantum doc", "café(): \"theoretical doc").replace(
        "{{quantum}} {café()!r:>{len('quantum')}} quantum", "{{theoretical}} {café()!r:>{len('quantum')}} theoretical").replace(
        "{x} quantum", "{x} theoretical")
    compile(fs.new_text, "u.py", "exec")


PY_SAMPLE = (
    '"""Module doc: quantum."""\n'
    "import os  # magic\n"
    "QuantumPlanner = 1\n"
    "def dream_of(x):\n"
    "    '''Dream doc.'''\n"
    '    s = """one\n'
    "    quantum two\n"
    '    """\n'
    "    return f'{x} teleport'  # end: AGI\n"
    "class AGIAgent:\n"
    "    quantum_level = 'magic'\n"
)


@pytest.mark.parametrize("until", [0, 5, 30, 60, 95, 110, 150, len(PY_SAMPLE)])
def test_python_segments_until_gives_the_part_of_the_file_up_to_there(tmap, until):
    full_segs, full_names = _terms.python_segments(PY_SAMPLE, "s.py", tmap)
    segs, names = _terms.python_segments(PY_SAMPLE, "s.py", tmap, until=until)
    key = [(s.start, s.end, s.kind) for s in segs]
    # every token starting up to ``until`` is there, none missing in between
    assert [(s.start, s.end, s.kind) for s in full_segs if s.start <= until] == [k for k in key if k[0] <= until]
    assert key == [(s.start, s.end, s.kind) for s in full_segs][:len(key)]
    assert [n for n in full_names if n[0] <= until] == [n for n in names if n[0] <= until]
    assert names == full_names[:len(names)]
    assert until == len(PY_SAMPLE) or len(names) < len(full_names)


def test_python_occurrences_do_not_depend_on_where_the_tokens_stop(tmap):
    # scan_text reads the tokens up to its last hit; every occurrence of the whole file is found
    fs = _scan(tmap, PY_SAMPLE, "python", scope="all", rel="s.py")
    found = [(o["line"], o["found"], o["kind"]) for o in fs.occurrences]
    assert found == [(1, "quantum", "docstring"), (2, "magic", "comment"), (3, "Quantum", "identifier"),
                     (4, "dream", "identifier"), (5, "Dream", "docstring"), (7, "quantum", "string"),
                     (9, "teleport", "string"), (9, "AGI", "comment"), (10, "AGI", "identifier"),
                     (11, "quantum", "identifier"), (11, "magic", "string")]


def test_python_that_cannot_be_parsed_is_an_error_with_location(tmap):
    with pytest.raises(ConsolidationError) as err:
        _scan(tmap, "# quantum\nprint 'quantum'\n", "python", rel="py2.py")
    assert (err.value.kind, err.value.path, err.value.line, err.value.column) == ("syntax", "py2.py", 2, 1)
    assert "Missing parentheses in call to 'print'" in err.value.message


def test_python_that_does_not_compile_is_left_alone(tmap):
    text = "# quantum\nreturn 1\n"  # parses, but does not compile
    fs = _scan(tmap, text, "python", rel="r.py")
    assert fs.new_text is None
    assert fs.occurrences[0]["action"] == "leave" and "does not compile" in fs.occurrences[0]["reason"]


def test_python_proof_refuses_a_code_change():
    with pytest.raises(ConsolidationError) as err:
        _terms.prove_python('"""d."""\nx = 1\n', '"""d."""\nx = 2\n', "p.py", "docs")
    assert err.value.kind == "proof"
    with pytest.raises(ConsolidationError):
        _terms.prove_python('x = "a b"\n', 'x = "a c"\n', "p.py", "docs")
    assert _terms.prove_python('x = "a b"\n', 'x = "a c"\n', "p.py", "all") is True
    assert _terms.prove_python('"""a."""\n', '"""b."""\n', "p.py", "docs") is True
    with pytest.raises(ConsolidationError) as err:
        _terms.prove_python("x = 1\n", "x = (\n", "p.py", "all")
    assert "would not compile" in err.value.message


# -- shell, yaml, dockerfile, json -------------------------------------------------------------
SH = """#!/bin/bash
# quantum setup
echo "not # a quantum comment" 'nor # quantum' # but quantum here
n=${#arr[@]} # quantum count; x=$#
echo a#quantum
cat <<-'EOF'
\t# quantum in a here-document
\tEOF
echo $'it\\'s # quantum'   # quantum after
y="multi
# quantum in a string
"
"""


def test_shell_comments_only(tmap):
    fs = _scan(tmap, SH, "shell")
    lines = dict((o["line"], o["action"]) for o in fs.occurrences)
    assert lines == {2: "replace", 3: "replace", 4: "replace", 9: "replace"}
    assert fs.new_text.count("theoretical") == 4
    assert "\t# quantum in a here-document\n" in fs.new_text and "# quantum in a string" in fs.new_text


def test_shell_with_an_open_quote_is_not_searched(tmap):
    with pytest.raises(ConsolidationError) as err:
        _scan(tmap, "# quantum\necho \"quantum\n", "shell", rel="s.sh")
    assert (err.value.kind, err.value.line, err.value.column) == ("unparsed", 2, 6)


@pytest.mark.parametrize("opener, close", [
    ("<<\\EOF", "EOF"), ("<<'EOF'", "EOF"), ('<<"EOF"', "EOF"), ("<<EOF", "EOF"), ("<< 'EOF'", "EOF"),
    ("<<-EOF", "\tEOF"), ('<<E"O"F', "EOF"),
])
def test_shell_heredoc_bodies_are_never_edited(tmap, opener, close):
    body = "# quantum mode\n\t# quantum tabbed\nmode = quantum # quantum value\n"
    text = "#!/bin/sh\n# quantum config\ncat %s > /etc/app.conf\n%s%s\necho ok # quantum after\n" % (opener, body, close)
    fs = _scan(tmap, text, "shell")
    assert [(o["line"], o["action"]) for o in fs.occurrences] == [(2, "replace"), (8, "replace")]
    assert fs.new_text == text.replace("# quantum config", "# theoretical config").replace(
        "# quantum after", "# theoretical after")
    assert body in fs.new_text


def test_shell_here_string_and_heredoc_in_a_substitution(tmap):
    text = ('read -r a b <<< "$pair" # quantum here-string\ncfg=$(cat <<EOF\n# quantum data\nEOF\n)\n'
            "n=$((1 << 2)) # quantum shift\n")
    fs = _scan(tmap, text, "shell")
    assert [o["line"] for o in fs.occurrences] == [1, 6]
    assert "# quantum data" in fs.new_text


def test_shell_unclosed_heredoc_names_its_line(tmap):
    with pytest.raises(ConsolidationError) as err:
        _scan(tmap, "# quantum\necho hi\ncat > out <<EOF\nbody\n", "shell", rel="s.sh")
    assert (err.value.kind, err.value.line, err.value.column) == ("unparsed", 3, 11)
    assert "here-document EOF is never closed" in err.value.message


YML = """# quantum config
a: "x # quantum"  # quantum trailing
b: |
  # quantum in a block scalar
  text
c: d#quantum
d: quantum value
"""


def test_yaml_comments_edited_values_reported(tmap):
    fs = _scan(tmap, YML, "yaml")
    assert fs.new_text == YML.replace("# quantum config", "# theoretical config").replace(
        "# quantum trailing", "# theoretical trailing")
    data = [(o["line"], o["kind"], o["action"]) for o in fs.occurrences if o["kind"] == "data"]
    assert data == [(2, "data", "leave"), (4, "data", "leave"), (7, "data", "leave")]


def test_invalid_yaml_is_an_error_with_location(tmap):
    with pytest.raises(ConsolidationError) as err:
        _scan(tmap, "# quantum\nx: 1\na: b: c\n", "yaml", rel="bad.yml")
    assert (err.value.kind, err.value.line, err.value.column) == ("invalid_yaml", 3, 5)


def test_dockerfile_whole_line_comments_only(tmap):
    text = ("# syntax=docker/dockerfile:1\n# quantum base image\nFROM python:3.11-slim\nRUN echo quantum # no comment\n"
            "RUN <<EOF\n# quantum in a here-document\nEOF\n  # quantum indented\n")
    fs = _scan(tmap, text, "dockerfile")
    assert fs.new_text == text.replace("# quantum base", "# theoretical base").replace(
        "# quantum indented", "# theoretical indented")


def test_json_is_reported_as_data(tmap):
    fs = _scan(tmap, '{"a": "quantum\\nquantum", "quantum-planner": 1}\n', "json")
    assert fs.new_text is None
    assert [(o["kind"], o["reason"]) for o in fs.occurrences] == [("data", _terms.LEAVE_REASONS["data"])] * 3


# -- files and tree --------------------------------------------------------------------------
@pytest.mark.parametrize("rel, expected", [
    ("docs/a.md", "markdown"), ("README.markdown", "markdown"), ("x/y.py", "python"), ("run.sh", "shell"),
    ("a.bash", "shell"), ("c.yml", "yaml"), ("c.yaml", "yaml"), ("Dockerfile", "dockerfile"),
    ("docker/Dockerfile.agent", "dockerfile"), ("x.Dockerfile", "dockerfile"), ("r.json", "json"),
    ("notes.txt", None), ("Makefile", None), ("x.pyc", None),
])
def test_file_types(rel, expected):
    assert _terms.file_type(rel) == expected


@pytest.mark.parametrize("rel, yes", [
    ("tests/a.md", True), ("backend/tests/unit/a.py", True), ("test/x.md", True), ("backups/r/a.md", True),
    ("docker/templates/Dockerfile.python", True), ("config/agents/master_registry.json", True),
    ("docs/testing.md", False), ("latest/a.md", False), ("docker/templates-old/x", False), ("config/agents/other.json", False),
])
def test_default_excludes(rel, yes):
    assert _terms.excluded(rel, _terms.DEFAULT_EXCLUDE) is yes


def test_exclude_globs():
    assert _terms.excluded("docs/legacy/a.md", ["docs/legacy/*"])
    assert _terms.excluded("docs/legacy/deep/a.md", [" /docs/legacy/ "])  # blanks and slashes dropped
    assert not _terms.excluded("docs/legacy2/a.md", ["docs/legacy"])
    assert _terms.excluded("a/B/c.md", ["[AB]"]) and not _terms.excluded("a/b/c.md", ["[AB]"])  # case kept
    assert not _terms.excluded("a.md", ["", "  ", "/"])
    assert _terms.excluded("a/b/c.min.md", ["*.min.md"])
    assert not _terms.excluded("docs/a.md", ["docs/legacy/*", "*.min.md"])


def _write(root, rel, data):
    path = os.path.join(root, rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)


def test_plan_scrub_on_a_tree(tmp_path, tmap):
    root = str(tmp_path)
    _write(root, "docs/a.md", b"\xef\xbb\xbf# Quantum\r\n\r\nAGI text.\r\n")
    _write(root, "tests/b.md", b"quantum in tests\n")
    _write(root, "backups/old/c.md", b"quantum in a backup\n")
    _write(root, "docs/bin.md", b"quantum\x00binary\n")
    _write(root, "docs/latin1.md", b"quantum caf\xe9\n")
    _write(root, "app/m.py", b'"""Quantum app."""\n\n\ndef f():\n    return "quantum value"  # dream\n')
    _write(root, "app/py2.py", b"# quantum\nprint 'x'\n")
    _write(root, "notes.txt", b"quantum\n")
    _write(root, "docs/plain.md", b"Nothing to see.\n")
    os.symlink("a.md", os.path.join(root, "docs/link.md"))
    plan = _terms.plan_scrub(root, tmap, exclude=_terms.DEFAULT_EXCLUDE)
    writes = dict(plan.writes)
    assert sorted(writes) == ["app/m.py", "docs/a.md"]
    assert writes["docs/a.md"] == b"\xef\xbb\xbf# Theoretical\r\n\r\ngeneral AI text.\r\n"
    assert writes["app/m.py"] == b'"""Theoretical app."""\n\n\ndef f():\n    return "quantum value"  # goal\n'
    compile(writes["app/m.py"], "app/m.py", "exec")
    assert [(e["path"], e["kind"], e["line"]) for e in plan.invalid] == [
        ("app/py2.py", "syntax", 2), ("docs/latin1.md", "not_utf8", 1)]
    assert plan.skipped == [{"path": "docs/bin.md", "reason": "binary (NUL bytes)"},
                            {"path": "docs/link.md", "reason": "reached through a symlink (searched where it points)"}]
    assert plan.scanned == 3  # a.md, m.py, plain.md (py2.py counted as invalid)
    stats, per_term, per_file = _terms.tally(plan, tmap)
    assert stats == {"files_searched": 3, "files_with_terms": 2, "files_edited": 2, "occurrences": 5, "replaced": 4,
                     "report_only": 0, "left_alone": 1, "invalid_files": 2, "skipped_files": 2}
    assert [t["term"] for t in per_term if t["occurrences"]] == ["quantum", "AGI", "dream"]
    assert per_file[0]["path"] == "app/m.py" and per_file[0]["terms"] == {"quantum": 2, "dream": 1}
    sections = _terms.details(plan, "docs", per_term, check_mode=True)
    assert [s["title"] for s in sections] == ["Terms", "Occurrences by file", "Files not searched"]
    assert sections[0]["columns"][3] == "would replace"
    assert sections[1]["rows"][0] == ["app/m.py", "dream", 1, 1, "comment 1", "5"]
    assert ["docs/latin1.md", "1:12", "not valid UTF-8 (byte 0xe9)"] in sections[2]["rows"]


def test_plan_scrub_refuses_an_unknown_scope(tmp_path, tmap):
    with pytest.raises(ValueError):
        _terms.plan_scrub(str(tmp_path), tmap, scope="everything")


def test_second_scan_of_the_result_finds_nothing_to_replace(tmap):
    for text, ftype in ((MD, "markdown"), (PY, "python"), (SH, "shell"), (YML, "yaml")):
        first = _scan(tmap, text, ftype, scope="all", rel="x")
        again = _scan(tmap, first.new_text, ftype, scope="all", rel="x")
        assert again.new_text is None, ftype
