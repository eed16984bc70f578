# -*- coding: utf-8 -*-
"""Unit tests: scripts phase logic (normal forms, canonical rule, references, near duplicates,
archive, deploy script), on real files in temporary folders."""

from __future__ import annotations

import ast
import itertools
import json
import os
import random
import shutil
import subprocess
import sys

import pytest

import gen_scripts
from ansible_collections.sutazai.consolidation.plugins.module_utils import _scripts as S
from ansible_collections.sutazai.consolidation.plugins.module_utils._errors import ConsolidationError


def _tree(root, files, modes=None):
    for rel, text in files.items():
        path = os.path.join(str(root), *rel.split("/"))
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(text.encode("utf-8") if isinstance(text, str) else text)
        os.chmod(path, (modes or {}).get(rel, 0o644))
    return str(root)


# -- shell normal form -------------------------------------------------------------------------
SHELL_EQUAL = [
    # comments, blank lines, indentation, runs of blanks outside quotes
    ("#!/bin/bash\n# header\n\necho hi\n", "#!/bin/bash\necho hi\n"),
    ("echo  a   b\n", "  echo a b   # say it\n"),
    ("x=1 ; y=2\n", "x=1 ;   y=2\n\n\n# end\n"),
    ('echo "a # b"\n', 'echo "a # b"  # trailing\n'),
    ("v=${x#prefix}\n", "v=${x#prefix}   # strip\n"),
    ("n=$#\n", "n=$#\n# count\n"),
    ("f() {\n  local a=1\n}\n", "f() {\n\tlocal a=1 # c\n}\n"),
    ("echo $'a\\'b # c'\n", "echo $'a\\'b # c' # real comment\n"),
    ('d="$(dirname "$0")"\n', 'd="$(dirname "$0")"   # where we are\n'),
    ("cat <<EOF\nbody\nEOF\necho x\n", "cat <<EOF\nbody\nEOF\n# done\necho   x\n"),
    # a here-string is not a here-document (the real scripts' `read ... <<< "$x"` lines)
    ('IFS=: read -r a b <<< "$pair"\necho "$a"\n', 'IFS=: read -r a b <<<  "$pair"   # split\necho "$a"\n'),
    ('d="${4:-{}}"\n', 'd="${4:-{}}" # default\n'),
    ("x=$(\n  ls   -l # list\n)\n", "x=$(\nls -l\n)\n"),
]

SHELL_DIFFERENT = [
    ('echo "a  b"\n', 'echo "a b"\n'),                               # whitespace inside double quotes
    ("echo 'a  b'\n", "echo 'a b'\n"),                               # inside single quotes
    ("cat <<EOF\n# data\nEOF\n", "cat <<EOF\nEOF\n"),                 # a '#' line inside a heredoc is data
    ("cat <<EOF\n  x\nEOF\n", "cat <<EOF\nx\nEOF\n"),                 # heredoc indentation is data
    ("v=${x#a}\n", "v=${x}\n"),                                      # ${x#y} is not a comment
    ("echo a#b\n", "echo a\n"),                                      # '#' inside a word
    ("#!/bin/bash\necho hi\n", "#!/bin/sh\necho hi\n"),              # another interpreter
    ("echo hi\r\n", "echo hi\n"),                                    # CR is not a blank
    ("a \\\n  b\n", "a b\n"),                                        # continuation kept
    ('echo "multi\n# line"\n', 'echo "multi"\n'),                    # '#' line inside a multi-line string
    ("echo ${x:-a  b}\n", "echo ${x:-a b}\n"),                       # inside ${...}
    ("cat <<\\EOF\n# data\nEOF\n", "cat <<\\EOF\nEOF\n"),             # <<\EOF bodies are data too
]


@pytest.mark.parametrize("a, b", SHELL_EQUAL)
def test_shell_normal_forms_equal(a, b):
    fa, fb = S.shell_normal_form(a), S.shell_normal_form(b)
    assert fa is not None and fa == fb
    # The cheap key used to avoid lexing every file is a necessary condition.
    assert S.shell_coarse_key(a) == S.shell_coarse_key(b)
    assert S.prove_equal("shell", a.encode(), b.encode()) in ("shell-normal", "bytes")


@pytest.mark.parametrize("a, b", SHELL_DIFFERENT)
def test_shell_normal_forms_differ(a, b):
    fa, fb = S.shell_normal_form(a), S.shell_normal_form(b)
    assert fa is None or fb is None or fa != fb
    with pytest.raises(ConsolidationError) as err:
        S.prove_equal("shell", a.encode(), b.encode(), "scripts/x.sh")
    assert err.value.kind == "proof_failed" and err.value.path == "scripts/x.sh"


@pytest.mark.parametrize("text", [
    "echo 'unterminated\n",
    'echo "open\n',
    "cat <<EOF\nno end\n",
    "echo $(( 1 << 2 ))\n",
    "echo ${x\n",
])
def test_shell_normal_form_refuses_what_it_cannot_lex(text):
    assert S.shell_normal_form(text) is None
    assert S.normal_form("shell", text.encode())[0] == "bytes"


def test_shell_normal_form_keeps_heredoc_body_verbatim():
    form = S.shell_normal_form("cat <<-'END'\n\t# kept  as is\n\tEND\necho   done # c\n")
    assert form == "cat <<-'END'\n\0\t# kept  as is\n\0\tEND\necho done"


# -- Python normal form ------------------------------------------------------------------------
PY_A = '''#!/usr/bin/env python3
"""Module doc."""
# a comment
import os


class A:
    """Class doc."""

    def f(self, x):
        """Method doc."""
        return os.path.join(x, "y")  # trailing
'''

PY_B = '''#!/usr/bin/env python3
import os
class A:
    def f(self, x):
        # other comment
        return os.path.join(x,
                            "y")
'''


def test_python_normal_form_ignores_docstrings_comments_and_layout():
    assert S.python_normal_form(PY_A.encode()) == S.python_normal_form(PY_B.encode())
    assert S.prove_equal("python", PY_A.encode(), PY_B.encode()) == "python-ast"


@pytest.mark.parametrize("other", [
    PY_B.replace('"y"', '"z"'),                                             # another literal
    PY_B.replace("#!/usr/bin/env python3", "#!/usr/bin/env python2"),       # another interpreter
    PY_B.replace("return", "print(1)\n        return"),                     # another statement
])
def test_python_normal_form_sees_code_changes(other):
    with pytest.raises(ConsolidationError):
        S.prove_equal("python", PY_A.encode(), other.encode())


def test_python_docstrings_count_when_doc_is_used():
    a = '"""Usage: tool A."""\nimport argparse\nargparse.ArgumentParser(description=__doc__)\n'
    b = '"""Usage: tool B."""\nimport argparse\nargparse.ArgumentParser(description=__doc__)\n'
    assert S.python_normal_form(a.encode()) != S.python_normal_form(b.encode())


def test_python_that_does_not_parse_is_compared_by_bytes():
    src = b'print "py2"\n'
    assert S.normal_form("python", src) == ("bytes", src)
    with pytest.raises(ConsolidationError) as err:
        S.parse_python(src, "scripts/old.py")
    assert err.value.path == "scripts/old.py" and err.value.line == 1 and err.value.kind == "python_syntax"
    assert S.prove_equal("python", src, src) == "bytes"


def test_same_function_names_different_bodies_are_not_equal(tmp_path):
    """The seed's grouping merges these; the AST rule does not."""
    root = str(tmp_path)
    gen_scripts.generate(root, "small")
    for a, b in (("scripts/health/check_services.py", "scripts/monitoring/check_health.py"),
                 ("scripts/monitoring/check_disk.py", "scripts/monitoring/check_memory.py")):
        da, db = [open(os.path.join(root, p), "rb").read() for p in (a, b)]
        names = [sorted(n.name for n in ast.walk(ast.parse(d)) if isinstance(n, ast.FunctionDef)) for d in (da, db)]
        assert names[0] == names[1]
        with pytest.raises(ConsolidationError):
            S.prove_equal("python", da, db)


# -- purpose -----------------------------------------------------------------------------------
@pytest.mark.parametrize("text, doc, expected", [
    ("", "Check the backend.\n\nMore text.", "Check the backend."),
    ("#!/bin/bash\n#\n# deploy.sh\n# Author: x\n# Purpose: deploy all services\nset -e\n", None,
     "deploy all services"),
    ("#!/bin/bash\n# shellcheck disable=SC2086\n# Copyright 2024 SutazAI\n# ==========\n# Restart the agents\n", None,
     "Restart the agents"),
    ("import argparse\np = argparse.ArgumentParser(description='Prune old images')\n", None, "Prune old images"),
    ("#!/bin/sh\necho no comment\n", None, ""),
    ("# " + "word " * 40 + "\n", None, ("word " * 20)[:97].rstrip() + "..."),
    ("# Purpose: set API_TOKEN=abcd1234efgh5678ijkl9012mnop\n", None, None),
])
def test_purpose(text, doc, expected):
    got = S.purpose_of(text, doc)
    if expected is None:
        assert "abcd1234efgh5678ijkl9012mnop" not in got and "redacted" in got
    else:
        assert got == expected
    assert len(got) <= S.PURPOSE_WIDTH


# -- reference kinds and matching ---------------------------------------------------------------
@pytest.mark.parametrize("rel, kind", [
    ("docker-compose.yml", "compose"), ("docker/docker-compose.secure.yaml", "compose"),
    (".github/workflows/ci.yml", "ci"), ("config/ci/.gitlab-ci.yml", "ci"), ("Jenkinsfile", "ci"),
    (".pre-commit-config.yaml", "ci"), ("Makefile", "makefile"), ("mk/tasks.mk", "makefile"),
    ("docker/backend/Dockerfile", "dockerfile"), ("Dockerfile.agent", "dockerfile"), ("x.Dockerfile", "dockerfile"),
    ("scripts/a.sh", "script"), ("backend/app/main.py", "script"), ("README.md", "docs"), ("docs/x.rst", "docs"),
    ("config/port-registry.yaml", "config"), ("deploy/sutazai.service", "config"), (".env.example", "config"),
    ("image.png", None), ("logs/run.log", None),
])
def test_reference_kind(rel, kind):
    assert S.reference_kind(rel) == kind


SCRIPTS = ["scripts/deploy/start.sh", "scripts/utils/common.sh", "scripts/monitoring/check.py",
           "scripts/monitoring/lib.py", "scripts/mcp/wrappers/run.sh", "scripts/top.sh"]


def _index(extra_files=()):
    return S.RefIndex(SCRIPTS, ["scripts"], set(SCRIPTS) | set(extra_files), ["/opt/sutazaiapp"])


@pytest.mark.parametrize("source, text, target, form, style", [
    ("Makefile", "start:\n\tscripts/deploy/start.sh\n", "scripts/deploy/start.sh", "path", "root"),
    ("Makefile", "\t./scripts/deploy/start.sh --now\n", "scripts/deploy/start.sh", "path", "root"),
    (".gitlab-ci.yml", "- /opt/sutazaiapp/scripts/deploy/start.sh\n", "scripts/deploy/start.sh", "path", "root"),
    ("docker/docker-compose.yml", "- ../scripts/deploy/start.sh:/start.sh\n", "scripts/deploy/start.sh", "path", "file"),
    ("scripts/deploy/start.sh", '. "$(dirname "$0")/../utils/common.sh"\n', "scripts/utils/common.sh", "path", "file"),
    ("scripts/deploy/x.sh", 'source "$SCRIPT_DIR"/../utils/common.sh\n', "scripts/utils/common.sh", "path", "file"),
    ("backend/run.sh", '"${SUTAZAI_ROOT}/scripts/top.sh"\n', "scripts/top.sh", "path", "root"),
    ("backend/run.sh", "$ROOT/scripts/top.sh\n", "scripts/top.sh", "path", "root"),
    ("Makefile", "\t$(ROOT)/scripts/top.sh\n", "scripts/top.sh", "path", "root"),
    ("backend/x.py", 'p = f"{root}/scripts/top.sh"\n', "scripts/top.sh", "path", "root"),
    ("README.md", "Run scripts/top.sh.\n", "scripts/top.sh", "path", "root"),
    ("README.md", "[x](scripts/top.sh)\n", "scripts/top.sh", "path", "root"),
    ("docker-compose.yml", "- ./scripts/mcp/wrappers:/opt/mcp:ro\n", "scripts/mcp/wrappers/run.sh", "folder", "root"),
    ("scripts/deploy/start.sh", "python3 -m scripts.monitoring.check\n", "scripts/monitoring/check.py", "module", None),
    ("scripts/monitoring/check.py", "from lib import helper\n", "scripts/monitoring/lib.py", "import", None),
    ("scripts/monitoring/check.py", "import scripts.monitoring.lib as lib\n", "scripts/monitoring/lib.py", "import", None),
    ("Makefile", "\tbash top.sh\n", "scripts/top.sh", "possible", None),
])
def test_reference_forms(source, text, target, form, style):
    refs = [r for r in _index().refs_in(source, S.reference_kind(source), text.encode()) if r.target == target]
    assert form in [r.form for r in refs], text
    ref = [r for r in refs if r.form == form][0]
    assert (ref.style, ref.line) == (style, text.rstrip("\n").count("\n") + 1)
    assert ref.rewritable == (form == "path")
    if form == "path":
        span = text.encode()[ref.start:ref.end].decode()
        assert span.endswith(target.rsplit("/", 1)[-1]) and not span.endswith(".")


@pytest.mark.parametrize("source, text", [
    ("Dockerfile", 'CMD ["/app/scripts/top.sh"]\n'),                 # an absolute path elsewhere (opening quote)
    ("Dockerfile", "COPY x /scripts/top.sh\n"),                       # absolute path in the image
    ("README.md", "https://github.com/org/repo/blob/main/scripts/top.sh\n"),
    ("README.md", "see scripts/ for everything\n"),                   # the root itself is too broad
    ("README.md", "scripts/top.shx and scripts/top.sh.bak\n"),
    ("scripts/top.sh", "usage: scripts/top.sh\n"),                    # a file does not reference itself
    ("Makefile", "~/scripts/top.sh\n"),
])
def test_not_references(source, text):
    refs = [r for r in _index().refs_in(source, S.reference_kind(source), text.encode()) if r.form != "possible"]
    assert refs == []


def test_ambiguous_reference_is_not_rewritable():
    index = _index(extra_files=["docker/scripts/top.sh"])
    refs = index.refs_in("docker/docker-compose.yml", "compose", b"- ./scripts/top.sh:/top.sh\n")
    assert [(r.target, r.rewritable) for r in refs] == [("scripts/top.sh", False)]
    assert "ambiguous" in refs[0].note


def test_reference_lines_are_counted():
    text = b"a\nb\n\tscripts/top.sh\nc\n./scripts/deploy/start.sh\n"
    assert [(r.target, r.line) for r in _index().refs_in("Makefile", "makefile", text)] == [
        ("scripts/top.sh", 3), ("scripts/deploy/start.sh", 5)]


@pytest.mark.parametrize("source, style, dot, new, expected", [
    ("Makefile", "root", False, "scripts/utils/x.sh", "scripts/utils/x.sh"),
    ("Makefile", "root", True, "scripts/utils/x.sh", "./scripts/utils/x.sh"),
    ("scripts/deploy/a.sh", "file", False, "scripts/utils/x.sh", "../utils/x.sh"),
    ("scripts/deploy/a.sh", "file", True, "scripts/deploy/x.sh", "./x.sh"),
    ("scripts/deploy/a.sh", "file", True, "scripts/utils/x.sh", "../utils/x.sh"),
    ("docs/ops/a.md", "file", False, "scripts/x.sh", "../../scripts/x.sh"),
])
def test_new_reference_text(source, style, dot, new, expected):
    ref = S.Ref("scripts/old.sh", source, "script", "path", 1, 0, 1, style, dot, True)
    assert S.new_reference_text(ref, new) == expected


def test_apply_edits():
    assert S.apply_edits(b"0123456789", [(6, 8, b"X"), (1, 3, b"ab")]) == b"0ab345X89"
    with pytest.raises(ConsolidationError):
        S.apply_edits(b"0123456789", [(1, 5, b"x"), (3, 6, b"y")])


# -- canonical rule ----------------------------------------------------------------------------
def _script(rel, refs=(), pinned=False):
    s = S.Script(rel, "shell", "scripts", b"x", 0o644, False)
    s.refs = [S.Ref(rel, src, kind, form, 1) for src, kind, form in refs]
    s.pin_reasons = ["folder reference"] if pinned else []
    return s


def test_canonical_rule_order():
    members = [
        _script("scripts/a.sh"),                                                   # shortest, unreferenced
        _script("scripts/docs_only.sh", [("README.md", "docs", "path")]),
        _script("scripts/longer/used.sh", [("Makefile", "makefile", "path")]),
        _script("scripts/zz/used2.sh", [("Makefile", "makefile", "path")]),
        _script("scripts/very/long/path/mounted.sh", [("docker-compose.yml", "compose", "folder")], pinned=True),
        _script("scripts/b.sh", [("Makefile", "makefile", "possible")]),          # possible only: not referenced
    ]
    ordered = [s.rel for s in sorted(members, key=S.canonical_key)]
    assert ordered == ["scripts/very/long/path/mounted.sh", "scripts/zz/used2.sh", "scripts/longer/used.sh",
                       "scripts/docs_only.sh", "scripts/a.sh", "scripts/b.sh"]


# -- near duplicates ---------------------------------------------------------------------------
def test_jaccard_and_shingles():
    a = S.shingles(b"one two three four five six")
    b = S.shingles(b"one two three four five seven")
    assert len(a) == 2 and len(b) == 2 and S.jaccard(a, b) == pytest.approx(1 / 3)
    assert S.shingles(b"one two") == set([b"one two"])
    assert S.shingles(b"a-b  c\td;e\nf") == set([b"a b c d e", b"b c d e f"])
    assert S.shingles(b"  ;; ") == set() and S.jaccard(set(), set()) == 0.0


def test_shingle_id_sets_keep_sizes_and_scores():
    datas = [b"one two three four five six", b"one two three four five seven", b"one two", b"",
             b"six one two three four five six", b"a-b  c\td;e\nf"]
    ids = S.shingle_id_sets(datas)
    byte_sets = [S.shingles(d) for d in datas]
    assert [len(x) for x in ids] == [len(x) for x in byte_sets] and ids[3] == set()
    for i, j in itertools.combinations(range(len(datas)), 2):
        assert S.jaccard(ids[i], ids[j]) == S.jaccard(byte_sets[i], byte_sets[j])
        assert bool(ids[i] & ids[j]) == bool(byte_sets[i] & byte_sets[j])


@pytest.mark.parametrize("threshold", [0.5, 0.8, 0.95])
def test_near_duplicates_match_brute_force(threshold):
    rng = random.Random(threshold)
    base = [rng.randrange(60) for dummy in range(80)]
    items = []
    for i in range(40):
        s = set(base) if i % 3 else set()
        s = set(x for x in s if rng.random() > 0.15) | set(rng.randrange(60, 400) for dummy in range(rng.randint(0, 30)))
        items.append(("f%02d" % i, s))
    expected = sorted((a[0], b[0]) for a, b in itertools.combinations(items, 2)
                      if (a[1] or b[1]) and S.jaccard(a[1], b[1]) >= threshold)
    got = S.near_duplicates(items, threshold)
    assert sorted((a, b) for a, b, score in got) == expected
    assert all(score >= threshold for a, b, score in got)
    assert [score for a, b, score in got] == sorted((score for a, b, score in got), reverse=True)


def test_near_duplicates_with_unshared_shingles_and_identical_sets():
    # Shingles found in one set only never make a pair: they are dropped before the prefix, and
    # a set whose prefix holds nothing else is never a candidate; identical sets score 1.0.
    same = set(range(10))
    items = [("a", same), ("b", set(same)), ("c", same | set(range(100, 103))),  # 10/13 with a and b
             ("d", set(range(200, 260))), ("e", set(range(200, 250)) | set([1])), ("f", set([1000]))]
    got = S.near_duplicates(items, 0.75)
    assert got == [("a", "b", 1.0), ("d", "e", 50 / 61.0), ("a", "c", 10 / 13.0), ("b", "c", 10 / 13.0)]
    assert S.near_duplicates(items, 0.8) == [("a", "b", 1.0), ("d", "e", 50 / 61.0)]
    assert S.near_duplicates(items, 0.8, skip=lambda a, b: a == "a") == [("d", "e", 50 / 61.0)]


def test_python_coarse_key_tells_settings_apart_and_keeps_layout_out():
    # Small top-level statements are in the cheap key: a different setting gives another key;
    # the same code in another layout (equal normal form) gives the same key.
    a = b"import os\nPORT = 8080\n\ndef main():\n    return PORT\n"
    b = b"import os\nPORT = 8081\n\ndef main():\n    return PORT\n"
    c = b"import os\nPORT = (\n    8080)  # the port\n\n\ndef main():\n    return PORT\n"
    big = b"TABLE = [" + b", ".join(b"%d" % i for i in range(100)) + b"]\n"
    big2 = b"TABLE = [" + b", ".join(b"%d" % i for i in range(1, 101)) + b"]\n"

    def key(data):
        return S._python_signature(data, ast.parse(data))

    assert key(a) != key(b)
    assert key(a) == key(c) and S.python_normal_form(a) == S.python_normal_form(c)
    # A statement of many nodes stays out of the key (its normal form tells them apart).
    assert key(big) == key(big2) and S.python_normal_form(big) != S.python_normal_form(big2)


def test_cyclic_gc_paused_restores_the_collector():
    import gc
    from ansible_collections.sutazai.consolidation.plugins.module_utils._python import cyclic_gc_paused
    assert gc.isenabled()
    with cyclic_gc_paused():
        assert not gc.isenabled()
    assert gc.isenabled()
    with pytest.raises(ValueError):
        with cyclic_gc_paused():
            raise ValueError("x")
    assert gc.isenabled()
    gc.disable()
    try:
        with cyclic_gc_paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_near_pairs_search_once_per_content_same_as_every_script():
    # Scripts with the same bytes share a search; the pairs are those of a search over every
    # script: members of one class pair with 1.0, classes expand to every pair of their members.
    rng = random.Random(7)
    words = [b"w%d" % i for i in range(60)]
    bodies = [b" ".join(rng.choice(words) for dummy in range(40)) for dummy in range(6)]
    bodies.append(bodies[0] + b" tail end")
    scripts = []
    for i in range(30):
        body = bodies[rng.randrange(len(bodies))]
        kind = "python" if i % 7 == 0 else "shell"
        scripts.append(S.Script("s/%02d.%s" % (i, "py" if kind == "python" else "sh"), kind, "s", body, 0o644, False))
    scripts.append(S.Script("s/empty.sh", "shell", "s", b"", 0o644, False))
    scripts.append(S.Script("s/empty2.sh", "shell", "s", b"", 0o644, False))

    def skip(a, b):
        return a.endswith("03.sh") or (a, b) == ("s/01.sh", "s/02.sh")

    for t in (0.3, 0.85, 1.0):
        every = S.near_duplicates([(s.rel, S.shingles(s.data)) for s in scripts], t, skip=skip)
        assert S._near_pairs(scripts, t, skip) == every
        assert any(score == 1.0 for dummy, dummy2, score in every)


# -- plan on the generated fixtures -------------------------------------------------------------
def test_plan_small_fixture_merges_only_proven_duplicates(tmp_path):
    root = str(tmp_path)
    fig = gen_scripts.generate(root, "small")
    plan = S.plan_scripts(root, archive=True)
    assert plan.errors == []
    assert len(plan.scripts) == fig["scripts"]
    removed = dict((m["path"], g["canonical"]) for g in plan.groups for m in g["members"] if m["action"] == "removed")
    assert removed == dict((d, c) for c, ds in fig["merged"].items() for d in ds)
    kept = dict((m["path"], m["reason"]) for g in plan.groups for m in g["members"] if m["action"] == "kept")
    assert list(kept) == ["scripts/tools/rotate.sh"] and kept["scripts/tools/rotate.sh"].startswith("executable")
    for pair in fig["same_function_names"] + [fig["not_merged"]]:
        assert not set(pair) & set(removed)
    assert [(p["a"], p["b"]) for p in plan.near if p["a"] == fig["near_pair"][0]] == [tuple(fig["near_pair"])]
    assert [s.rel for s in plan.scripts if s.parse_error] == fig["unparsed"]
    # Every removal is proven from the bytes.
    for dup, canon in removed.items():
        data = [open(os.path.join(root, p), "rb").read() for p in (canon, dup)]
        assert S.prove_equal(S.script_kind(dup), data[0], data[1]) in ("bytes", "python-ast", "shell-normal")
    # Rewritten files name the canonical copies and no removed one.
    for rel, new_paths in fig["rewritten"].items():
        text = plan.edits[rel].decode()
        for p in new_paths:
            assert p in text, (rel, p)
        for dup in removed:
            assert dup not in text and os.path.basename(dup) not in text.replace("start-services.sh", ""), (rel, dup)
    assert sorted(mv["from"] for mv in plan.moves) == sorted(fig["archivable"])
    assert all(mv["to"] == "_archive/" + mv["from"] for mv in plan.moves)


def test_plan_v76_finds_no_duplicate_and_the_planted_near_duplicates(tmp_path):
    root = str(tmp_path)
    fig = gen_scripts.generate(root, "v76")
    plan = S.plan_scripts(root)
    assert len(plan.scripts) == fig["scripts"] == 444
    assert sum(1 for s in plan.scripts if s.kind == "python") == fig["python"] == 207
    assert plan.groups == [] and plan.removals == [] and plan.edits == {}
    assert sorted((p["a"], p["b"]) for p in plan.near) == [tuple(p) for p in fig["near_pairs"]]
    assert len(plan.unreferenced) == fig["unreferenced"]
    # The seed's grouping by function names would merge 11 scripts here.
    groups = {}
    for s in plan.scripts:
        if s.kind == "python":
            names = frozenset(n.name for n in ast.walk(ast.parse(s.data)) if isinstance(n, ast.FunctionDef))
            groups.setdefault(names, []).append(s.rel)
    assert len(groups) == fig["function_name_groups"] == 196
    assert all(s.purpose for s in plan.scripts)


def test_archive_is_a_fixed_point_and_keeps_cycles(tmp_path):
    root = _tree(tmp_path, {
        "scripts/a.sh": "#!/bin/sh\n# Purpose: a\n./scripts/b.sh\n",            # nothing references a
        "scripts/b.sh": "#!/bin/sh\n# Purpose: b\necho b\n",                      # only a references b
        "scripts/c.sh": "#!/bin/sh\n./scripts/d.sh\n",                            # c <-> d: a cycle
        "scripts/d.sh": "#!/bin/sh\n./scripts/c.sh\n",
        "scripts/e.sh": "#!/bin/sh\necho e\n",                                    # named without a path outside docs
        "scripts/test_x.py": "def test_x():\n    pass\n",                         # found by name
        "Makefile": "run:\n\tsh e.sh\n",
        "README.md": "See scripts/a.sh and scripts/b.sh.\n",
    })
    plan = S.plan_scripts(root, archive=True)
    assert plan.unreferenced == ["scripts/a.sh"]
    assert [mv["from"] for mv in plan.moves] == ["scripts/a.sh", "scripts/b.sh"]
    # A second run on the result archives nothing more.
    os.makedirs(os.path.join(root, "_archive", "scripts"))
    for mv in plan.moves:
        shutil.move(os.path.join(root, mv["from"]), os.path.join(root, mv["to"]))
    again = S.plan_scripts(root, archive=True, exclude_paths=[os.path.join(root, "_archive", "scripts")])
    assert again.moves == [] and again.unreferenced == []


def test_symlinks_pin_their_target(tmp_path):
    root = _tree(tmp_path, {"scripts/a/run.sh": "#!/bin/sh\necho run\n", "scripts/b/run-copy.sh": "#!/bin/sh\necho run\n",
                            "Makefile": "x:\n\tscripts/b/run-copy.sh\n"})
    os.symlink("scripts/a/run.sh", os.path.join(root, "bin-run.sh"))
    plan = S.plan_scripts(root)
    (group,) = plan.groups
    # run.sh is the target of a symlink: it stays and is the canonical copy although run-copy.sh is referenced.
    assert group["canonical"] == "scripts/a/run.sh"
    assert plan.removals == ["scripts/b/run-copy.sh"]
    assert plan.edits["Makefile"] == b"x:\n\tscripts/a/run.sh\n"


def test_scripts_reached_through_a_symlinked_folder_keep_their_real_path(tmp_path):
    root = _tree(tmp_path, {"scripts/utils/run.sh": "#!/bin/sh\necho run\n", "scripts/zz/run-copy.sh": "#!/bin/sh\necho run\n",
                            "scripts/utils/other.sh": "#!/bin/sh\necho other\n",
                            "Makefile": "x:\n\tscripts/zz/run-copy.sh\n\tscripts/utils/other.sh\n"})
    # "aaa" sorts before "scripts": the walk enters scripts/utils through the link.
    os.symlink("scripts/utils", os.path.join(root, "aaa"))
    os.symlink("utils/other.sh", os.path.join(root, "scripts", "other-link.sh"))
    plan = S.plan_scripts(root)
    assert [(s.rel, s.linked) for s in plan.scripts] == [
        ("scripts/other-link.sh", True), ("scripts/utils/other.sh", False), ("scripts/utils/run.sh", False),
        ("scripts/zz/run-copy.sh", False)]
    by_rel = dict((s.rel, s) for s in plan.scripts)
    assert [(r.source, r.form) for r in by_rel["scripts/utils/other.sh"].refs] == [
        ("Makefile", "path"), ("aaa/other.sh", "folder"), ("scripts/other-link.sh", "link")]
    # The copy inside the linked folder stays (it is used through the link); the other one goes.
    (group,) = plan.groups
    assert group["canonical"] == "scripts/utils/run.sh" and plan.removals == ["scripts/zz/run-copy.sh"]
    assert plan.edits["Makefile"] == b"x:\n\tscripts/utils/run.sh\n\tscripts/utils/other.sh\n"


def test_a_folder_reference_is_listed_once_and_counted_for_each_script(tmp_path):
    root = _tree(tmp_path, {"scripts/monitoring/a.sh": "#!/bin/sh\necho a\n",
                            "scripts/monitoring/b.sh": "#!/bin/sh\necho b\n",
                            "scripts/monitoring/deep/c.py": "print('c')\n",
                            "scripts/deploy.sh": "#!/bin/sh\necho deploy\n",
                            # the same folder twice on one line, and a path reference
                            "docker-compose.yml": "volumes:\n  - ./scripts/monitoring:/m  # scripts/monitoring\n",
                            "Makefile": "x:\n\tscripts/deploy.sh\n",
                            "docs/ops.md": "See scripts/monitoring/deep and scripts/monitoring/a.sh.\n"})
    plan = S.plan_scripts(root)
    listing = S.reference_listing(plan)
    folders = [r for r in listing if r["form"] == "folder"]
    assert [(r["folder"], r["scripts"], r["source"], r["line"], r["kind"]) for r in folders] == [
        ("scripts/monitoring", 3, "docker-compose.yml", 2, "compose"),
        ("scripts/monitoring/deep", 1, "docs/ops.md", 1, "docs")]
    assert all("script" not in r for r in folders)
    others = sorted((r["script"], r["source"], r["form"]) for r in listing if r["form"] != "folder")
    assert others == [("scripts/deploy.sh", "Makefile", "path"), ("scripts/monitoring/a.sh", "docs/ops.md", "path")]
    # Each script still counts the folder reference (once per mention on the line).
    by_rel = dict((s.rel, s) for s in plan.scripts)
    assert [r.source for r in by_rel["scripts/monitoring/b.sh"].refs] == ["docker-compose.yml"] * 2
    (table,) = [d for d in S.details(plan, 0.8, False, None) if d["title"] == "References"]
    assert ["scripts/monitoring/ (3 scripts)", "docker-compose.yml:2", "compose", "folder",
            "folder reference (scripts/monitoring)"] in table["rows"]
    assert len(table["rows"]) == len(listing) == 4


_UNREADABLE_PROBE = """
import json, sys
sys.path.insert(0, sys.argv[2])
from ansible_collections.sutazai.consolidation.plugins.module_utils import _scripts as S
plan = S.plan_scripts(sys.argv[1])
print(json.dumps([[e["path"], e["kind"]] for e in plan.errors]))
"""


@pytest.mark.skipif(shutil.which("setpriv") is None, reason="needs setpriv (util-linux)")
def test_unreadable_file_blocks(tmp_path):
    root = _tree(tmp_path, {"scripts/a.sh": "echo a\n", "docs/x.md": "scripts/a.sh\n"})
    os.chmod(os.path.join(root, "docs/x.md"), 0)
    # Root reads mode-000 files; drop the capabilities that allow it (as a normal user has none).
    import conftest
    cmd = ["setpriv", "--inh-caps=-dac_override,-dac_read_search", "--bounding-set=-dac_override,-dac_read_search",
           sys.executable, "-c", _UNREADABLE_PROBE, root, conftest.LINK_BASE]
    if os.geteuid() != 0:
        cmd = cmd[cmd.index(sys.executable):]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True)
    assert json.loads(out.stdout) == [["docs/x.md", "unreadable"]]


# -- deploy script -----------------------------------------------------------------------------
def test_deploy_master_script_is_deterministic_and_valid(tmp_path):
    data = S.deploy_master_script("scripts/deployment/deploy-master.sh")
    assert data == S.deploy_master_script("scripts/deployment/deploy-master.sh")
    text = data.decode()
    assert text.startswith("#!/usr/bin/env bash\n" + S.DEPLOY_MASTER_MARKER + "\n")
    assert "\nset -euo pipefail\n" in text and "git" not in text
    path = str(tmp_path / "root" / "scripts" / "deployment" / "deploy-master.sh")
    os.makedirs(os.path.dirname(path))
    with open(path, "wb") as f:
        f.write(data)
    os.chmod(path, 0o755)
    assert subprocess.run(["bash", "-n", path], check=False).returncode == 0
    if shutil.which("shellcheck"):
        sc = subprocess.run(["shellcheck", "-o", "all", path], capture_output=True, text=True, check=False)
        assert sc.returncode == 0, sc.stdout
    out = subprocess.run([path, "help"], capture_output=True, text=True, check=False)
    assert out.returncode == 0 and "deploy    consolidate" in out.stdout
    bad = subprocess.run([path, "frobnicate"], capture_output=True, text=True, check=False)
    assert bad.returncode == 2 and "unknown action: frobnicate" in bad.stderr
    # The actions call ansible-playbook (a stand-in that prints its arguments here).
    stub = str(tmp_path / "ansible-playbook")
    with open(stub, "w") as f:
        f.write('#!/bin/sh\nfor a in "$@"; do printf "%s\\n" "$a"; done\n')
    os.chmod(stub, 0o755)
    env = dict(os.environ, ANSIBLE_PLAYBOOK=stub)
    env.pop("SUTAZAI_ROOT", None)
    root = os.path.realpath(str(tmp_path / "root"))
    runs = {}
    for action in ("deploy", "rollback", "validate"):
        proc = subprocess.run([path, action, "--tags", "scripts"], capture_output=True, text=True, env=env, check=False)
        assert proc.returncode == 0, proc.stderr
        runs[action] = proc.stdout.split("\n")[:-1]
    assert runs["deploy"] == ["-i", "localhost,", "-c", "local", "sutazai.consolidation.consolidate",
                              "-e", "sutazai_root='%s'" % root, "-e", "sutazai_backup_root='%s/backups'" % root,
                              "--tags", "scripts"]
    assert runs["rollback"][4] == "sutazai.consolidation.rollback"
    assert runs["validate"][-4:] == ["--check", "--diff", "--tags", "scripts"]
    env.update(SUTAZAI_PLAYBOOKS="/srv/playbooks", SUTAZAI_ROOT="/srv/sutazai", SUTAZAI_INVENTORY="hosts.ini")
    proc = subprocess.run([path, "deploy"], capture_output=True, text=True, env=env, check=False)
    assert proc.stdout.split("\n")[:4] == ["-i", "hosts.ini", "/srv/playbooks/consolidate.yml", "-e"]


def test_deploy_master_root_follows_its_depth():
    assert b'"${script_dir}/.."' in S.deploy_master_script("tools/deploy.sh")
    assert b'"${script_dir}/."' in S.deploy_master_script("deploy.sh")
    with pytest.raises(ValueError):
        S.deploy_master_script("x.sh", playbooks="a'b")
