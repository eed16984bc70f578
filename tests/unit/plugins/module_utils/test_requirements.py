# -*- coding: utf-8 -*-
"""Unit tests of the requirements phase logic: parsing, grouping, conflicts, resolutions,
layout round trip and the no-package-lost proof, on real files in temporary trees."""

from __future__ import annotations

import os

import pytest

from ansible_collections.sutazai.consolidation.plugins.module_utils import _requirements as R
from helpers import CORPUS, write_demo


def _tree(root, files, links=None):
    for rel, text in files.items():
        path = os.path.join(str(root), rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write(text)
    for rel, target in (links or {}).items():
        os.symlink(target, os.path.join(str(root), rel))
    return str(root)


def _write(root, outputs):
    for rel, data in outputs.items():
        path = os.path.join(root, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(data)


def _parse(line, path="backend/requirements.txt"):
    return R.parse_text(line + "\n", path)


# -- patterns and groups -------------------------------------------------------------------
@pytest.mark.parametrize("pattern, rel, expected", [
    ("*requirements*.txt", "backend/requirements.txt", True),
    ("*requirements*.txt", "frontend/requirements_optimized.txt", True),
    ("**/requirements/**/*.txt", "config/requirements/ai-ml.txt", True),
    ("**/requirements/**/*.txt", "requirements/sub/x.txt", True),
    ("**/requirements/**/*.txt", "notes/requirements.md", False),
    ("backend/*", "backend/app/requirements.txt", False),
    ("backend/**", "backend/app/requirements.txt", True),
    ("docker/base/**", "docker/base-images/x.txt", False),
    ("*[-_.]test*", "requirements-latest.txt", False),
    ("*[-_.]test*", "requirements-test.txt", True),
])
def test_path_match(pattern, rel, expected):
    assert R.path_match(pattern, rel) is expected


@pytest.mark.parametrize("rel, group", [
    ("backend/requirements.txt", "backend"),
    ("backend/requirements-dev.txt", "dev"),
    ("frontend/requirements_optimized.txt", "frontend"),
    ("docker/base/base-requirements-minimal.txt", "base"),
    ("docker/base/minimal-requirements.txt", "base"),
    ("requirements/requirements-base.txt", "base"),
    ("requirements/requirements-prod.in", "production"),
    ("requirements/production.txt", "production"),
    ("requirements/test.txt", "dev"),
    ("tests/e2e/requirements.txt", "dev"),
    ("scripts/mcp/automation/monitoring/requirements.txt", "dev"),
    (".mcp/UltimateCoderMCP/requirements.txt", "dev"),
    ("config/requirements/ai-ml.txt", "production"),
    ("agents/ai-agent-orchestrator/requirements.txt", "production"),
    ("requirements-latest.txt", "production"),
])
def test_default_group_rules(rel, group):
    assert R.group_for(rel, R.DEFAULT_GROUP_RULES) == group


def test_rules_are_ordered_and_overridable():
    rules = [{"pattern": "agents/**", "group": "agents"}] + R.DEFAULT_GROUP_RULES
    assert R.group_for("agents/x/requirements.txt", rules) == "agents"
    assert R.group_for("agents/x/requirements.txt", R.DEFAULT_GROUP_RULES, "misc") == "misc"


# -- parsing -------------------------------------------------------------------------------
def test_logical_lines_follow_pip():
    text = ("# comment\n"
            "fastapi==0.115.6   # inline comment\n"
            "pkg @ https://h/x.tar.gz#egg=pkg\n"
            "prometheus-client==0.21.1 \\\n"
            "    --hash=sha256:aa \\\n"
            "    --hash=sha256:bb\n"
            "\n"
            "last \\\n")
    lines = [(n, s) for n, s, _raw in R.logical_lines(text)]
    assert lines[0] == (2, "fastapi==0.115.6")
    assert lines[1] == (3, "pkg @ https://h/x.tar.gz#egg=pkg")
    assert lines[2][0] == 4 and lines[2][1].split() == ["prometheus-client==0.21.1", "--hash=sha256:aa", "--hash=sha256:bb"]
    assert lines[3] == (8, "last")


def test_requirement_lines():
    (e,) = _parse('uvicorn[standard]==0.32.1 ; python_version >= "3.10"')
    assert (e["kind"], e["name"], e["extras"], e["specifier"], e["marker"]) == (
        "req", "uvicorn", ["standard"], "==0.32.1", 'python_version >= "3.10"')
    (h,) = _parse("PyJWT==2.9.0 --hash=sha256:bb --hash sha256:aa")
    assert h["name"] == "pyjwt" and h["hashes"] == ["sha256:aa", "sha256:bb"]
    (u,) = _parse("agent-toolkit @ https://example.invalid/a-1.2.tar.gz")
    assert u["kind"] == "req" and u["url"] == "https://example.invalid/a-1.2.tar.gz" and u["specifier"] == ""
    (bare,) = _parse("fastmcp")
    assert bare["kind"] == "req" and bare["specifier"] == ""


def test_option_lines():
    inc, con, ed, vcs, idx, idx2 = (_parse(x)[0] for x in (
        "-r ../requirements/common.txt", "--constraint=constraints.txt", "-e ./sdk[dev]",
        "-e git+https://github.com/x/y.git#egg=y-lib", "-i https://pypi.org/simple", "--extra-index-url https://x/simple"))
    assert inc["kind"] == "include" and inc["include"] == "requirements/common.txt"
    assert con["kind"] == "constraint" and con["key"] == "path:backend/constraints.txt"
    assert ed["kind"] == "editable" and ed["target"] == "backend/sdk" and ed["extras_suffix"] == "[dev]"
    assert vcs["kind"] == "editable" and vcs["name"] == "y-lib" and vcs["key"].startswith("git+https://")
    assert idx["option"] == "--index-url https://pypi.org/simple"
    assert idx2["option"] == "--extra-index-url https://x/simple"
    assert _parse("-rother.txt")[0]["include"] == "backend/other.txt"


def test_direct_references_and_unparsed_lines():
    (wheel,) = _parse("./wheels/torch-2.5.1-cp311-none-linux_x86_64.whl")
    assert wheel["kind"] == "direct" and wheel["key"] == "path:backend/wheels/torch-2.5.1-cp311-none-linux_x86_64.whl"
    (git,) = _parse("git+https://github.com/x/y.git@v1#egg=y")
    assert git["kind"] == "direct" and git["name"] == "y"
    raw = "pytest-Remove Remove Mocks - Only use Real Tests==3.14.0   # odd"
    (bad,) = _parse(raw)
    assert bad["kind"] == "unparsed" and bad["text"] == raw and bad["message"].startswith("packaging: ")
    (badopt,) = _parse("--no-such-option x")
    assert badopt["kind"] == "unparsed" and "--no-such-option" in badopt["message"]


def test_includes_cycles_and_missing_files(tmp_path):
    root = _tree(tmp_path, {
        "backend/requirements.txt": "-r ../requirements/common.txt\n-r missing.txt\nfastapi==0.115.6\n",
        "requirements/common.txt": "requests==2.32.3\n-r ../backend/requirements.txt\n",
    })
    entries, included = R.read_source(root, "backend/requirements.txt")
    assert included == ["requirements/common.txt"]
    by_kind = dict((e["text"], e) for e in entries)
    assert by_kind["requests==2.32.3"]["path"] == "requirements/common.txt"
    cycle = by_kind["-r ../backend/requirements.txt"]
    assert cycle["kind"] == "unparsed" and "cycle" in cycle["message"]
    missing = by_kind["-r missing.txt"]
    assert missing["kind"] == "unparsed" and missing["line"] == 2 and "backend/missing.txt" in missing["message"]


def test_non_utf8_source_names_file_line_column(tmp_path):
    root = _tree(tmp_path, {"backend/requirements.txt": "fastapi==0.115.6\n"})
    with open(os.path.join(root, "frontend-requirements.txt"), "wb") as f:
        f.write(b"streamlit==1.40.2\ncaf\xe9\n")
    plan = R.plan_layout(root)
    assert plan.outputs == {}
    assert plan.errors == [{"path": "frontend-requirements.txt", "line": 2, "column": 4, "kind": "not_utf8",
                            "message": "not valid UTF-8 (byte 0xe9)"}]


# -- discovery -----------------------------------------------------------------------------
def test_discover_skips_what_is_not_a_source(tmp_path):
    root = _tree(tmp_path, {
        "backend/requirements.txt": "fastapi\n",
        "backend/MANIFEST.in": "include requirements.txt\n",
        "requirements/dev.in": "pytest\n",
        "requirements/README.md": "x\n",
        "venv1/pyvenv.cfg": "home = /usr\n",
        "venv1/requirements.txt": "x==1\n",
        "web/node_modules/a/requirements.txt": "x==1\n",
        "backups/r1/requirements.txt": "x==1\n",
        "out/requirements.txt": "x==1\n",
        "app/Dockerfile.prod": "FROM x\n",
    }, links={"backend/requirements-link.txt": "requirements.txt"})
    found = R.discover(root, exclude_paths=(os.path.join(root, "out"),))
    assert found.sources == ["backend/requirements.txt", "requirements/dev.in"]
    assert found.aliases == {"backend/requirements-link.txt": "backend/requirements.txt"}
    assert found.dockerfiles == ["app/Dockerfile.prod"]
    assert {"path": "venv1", "reason": "virtualenv"} in found.skipped


# -- conflicts and resolutions -------------------------------------------------------------
def _layout(root_files, tmp_path, **kw):
    root = _tree(tmp_path, root_files)
    return root, R.plan_layout(root, **kw)


def test_acceptance_fixture_is_a_conflict(tmp_path):
    root, plan = _layout({"backend/requirements.txt": "fastapi==0.104.1\n",
                          "requirements/requirements-base.txt": "fastapi>=0.110\n"}, tmp_path)
    assert plan.outputs == {} and plan.remove == []
    (c,) = plan.conflicts
    assert c["package"] == "fastapi" and c["groups"] == ["backend"]
    assert c["requirements"] == [
        {"specifier": "==0.104.1", "url": None, "sources": ["backend/requirements.txt:1"]},
        {"specifier": ">=0.110", "url": None, "sources": ["requirements/requirements-base.txt:1"]}]
    assert "fastapi in group(s) backend: ==0.104.1 (backend/requirements.txt:1); >=0.110" in R.conflict_text(c)
    assert plan.stats["conflicts"] == 1


def test_conflict_within_one_file_and_markers(tmp_path):
    _root, plan = _layout({"config/requirements/ai-ml.txt": (
        "aiohttp==3.11.10\naiohttp==3.9.1\n"
        'pathlib2==2.3.7 ; python_version < "3.4"\npathlib2==2.3.5 ; python_version >= "3.4"\n'
        "x @ https://a/x-1.tar.gz\nx @ https://b/x-1.tar.gz\n")}, tmp_path)
    assert [(c["package"], c["reason"]) for c in plan.conflicts] == [("aiohttp", "specifiers"), ("x", "urls")]
    assert plan.conflicts[0]["requirements"][0]["sources"] == ["config/requirements/ai-ml.txt:1"]


def test_compatible_specifiers_merge(tmp_path):
    root, plan = _layout({"backend/requirements.txt": "pydantic>=2.9,<3\nfastapi>=0.104.1,<1.0.0\n",
                          "requirements/requirements-base.txt": "fastapi==0.115.6\n"}, tmp_path)
    assert plan.conflicts == [] and plan.stats["lost"] == 0
    base = plan.outputs["requirements/base.txt"].decode()
    backend = plan.outputs["requirements/backend.txt"].decode()
    assert "\nfastapi==0.115.6\n" in base
    assert "#   (satisfied by base.txt: fastapi==0.115.6)\n" in backend and "\nfastapi" not in backend
    assert "\npydantic<3,>=2.9\n" in backend and backend.startswith(R.HEADER_MARK)
    assert "\n-r base.txt\n" in backend


def test_pins_and_newest_resolve_and_are_listed(tmp_path):
    files = {"backend/requirements.txt": "fastapi==0.104.1\nredis==5.0.1\n",
             "requirements/requirements-base.txt": "fastapi==0.115.6\nredis>=6\n",
             "docker/base/requirements.txt": "fastapi>=0.110,<1.0\n"}
    _root, newest = _layout(files, tmp_path / "a", resolve="newest")
    assert newest.conflicts == [] and newest.unresolvable == []
    assert [(r["package"], r["method"], r["specifier"]) for r in newest.resolutions] == [
        ("fastapi", "newest", "==0.115.6"), ("redis", "newest", "==5.0.1")]
    assert "#   resolved (newest): ==0.115.6 over <1.0,>=0.110, ==0.104.1, ==0.115.6" in \
        newest.outputs["requirements/base.txt"].decode()
    proof = dict(((p["group"], p["package"]), p["status"]) for p in newest.proof)
    assert proof[("backend", "fastapi")] == "resolved" and proof[("base", "fastapi")] == "kept"
    assert proof[("base", "redis")] == "resolved"

    _root, pinned = _layout(files, tmp_path / "b", pins={"FastAPI": "==0.110.0", "redis": ">=5,<6", "nope": "==1"})
    assert pinned.conflicts == [] and pinned.unused_pins == ["nope"]
    assert [r["specifier"] for r in pinned.resolutions] == ["==0.110.0", "<6,>=5"]
    assert all(r["conflict"] for r in pinned.resolutions)
    with pytest.raises(ValueError, match="invalid specifier"):
        R.plan_layout(_tree(tmp_path / "c", files), pins={"fastapi": "=>1"})


def test_newest_cannot_resolve_ranges_only(tmp_path):
    _root, plan = _layout({"backend/requirements.txt": "numpy<2\n", "requirements/base.txt": "numpy>=2\n"},
                          tmp_path, resolve="newest")
    assert plan.unresolvable == ["numpy"] and len(plan.conflicts) == 1 and plan.outputs == {}


def test_hoist_common_packages_unless_it_would_conflict(tmp_path):
    _root, plan = _layout({"backend/requirements.txt": "requests==2.32.3\nuvloop==0.21.0\nhttpx==0.27.2\n",
                           "frontend/requirements.txt": "requests>=2.31\nuvloop==0.19.0\nhttpx[http2]==0.27.2\n",
                           "requirements/requirements-dev.txt": "httpx==0.25.2\n"}, tmp_path)
    assert plan.conflicts == []
    assert plan.hoisted == ["requests"]
    base = plan.outputs["requirements/base.txt"].decode()
    assert "\nrequests==2.32.3\n" in base and "uvloop" not in base and "httpx" not in base
    assert "\nuvloop==0.19.0\n" in plan.outputs["requirements/frontend.txt"].decode()


# -- layout round trip and proof -----------------------------------------------------------
def test_second_plan_gives_same_bytes_and_carries_over_removed_sources(tmp_path):
    root = str(tmp_path / "root")
    write_demo(root)
    first = R.plan_layout(root, remove_sources=True)
    assert first.conflicts == [] and first.outputs and first.stats["lost"] == 0
    # Files a Dockerfile copies or installs stay, and the files they include; a removed file's
    # symlink goes with it.
    assert first.kept_sources == [
        {"path": "backend/requirements.txt", "reason": "referenced by Dockerfile backend/Dockerfile:3"},
        {"path": "frontend/requirements_optimized.txt", "reason": "referenced by Dockerfile frontend/Dockerfile:4"},
        {"path": "requirements/requirements-common.txt",
         "reason": "included (-r) by backend/requirements.txt, which is kept"}]
    assert "docker/base/requirements.txt" in first.remove
    _write(root, first.outputs)
    again = R.plan_layout(root, remove_sources=True)
    assert again.outputs == first.outputs and again.stats["carried_over"] == 0
    for rel in first.remove:
        os.unlink(os.path.join(root, rel))
    carried = R.plan_layout(root, remove_sources=True)
    assert carried.outputs == first.outputs
    assert carried.stats["carried_over"] > 0 and carried.stats["lost"] == 0 and carried.remove == []


def test_moved_lines_return_to_their_group_when_carried_over(tmp_path):
    root = _tree(tmp_path, {"backend/requirements.txt": "requests==2.32.3\nfastapi==0.115.6\n",
                            "backend/Dockerfile": "FROM python:3.11-slim\nCOPY requirements.txt .\n",
                            "frontend/requirements.txt": "requests>=2.31\nstreamlit==1.40.2\n"})
    first = R.plan_layout(root, remove_sources=True)
    assert first.hoisted == ["requests"] and first.remove == ["frontend/requirements.txt"]
    base = first.outputs["requirements/base.txt"].decode()
    assert "#   <- frontend/requirements.txt:1 [group frontend]: requests>=2.31\n" in base
    _write(root, first.outputs)
    os.unlink(os.path.join(root, "frontend/requirements.txt"))
    again = R.plan_layout(root, remove_sources=True)
    assert again.outputs == first.outputs and again.hoisted == ["requests"] and again.remove == []
    assert dict(((p["group"], p["package"]), p["status"]) for p in again.proof)[("frontend", "requests")] == "kept"


def test_hand_added_lines_in_layout_are_kept(tmp_path):
    root = _tree(tmp_path, {"backend/requirements.txt": "fastapi==0.115.6\nrequests==2.32.3\nbad (line\n",
                            "requirements/requirements-base.txt": "requests==2.32.3\n"})
    first = R.plan_layout(root)
    backend = first.outputs["requirements/backend.txt"].decode()
    assert backend.endswith("#   <- backend/requirements.txt:3: bad (line\n#   (kept as a comment: packaging: "
                            "Expected matching RIGHT_PARENTHESIS for LEFT_PARENTHESIS, after version specifier)\n")
    _write(root, first.outputs)
    with open(os.path.join(root, "requirements/backend.txt"), "a") as f:
        f.write("orjson==3.10.12 \\\n    --hash=sha256:cc\n")
    with open(os.path.join(root, "requirements/base.txt"), "a") as f:
        f.write("tqdm==4.67.1\n")
    second = R.plan_layout(root)
    backend = second.outputs["requirements/backend.txt"].decode()
    assert "#   <- requirements/backend.txt:0: orjson==3.10.12 --hash=sha256:cc\norjson==3.10.12 \\\n" in backend
    assert "#   <- requirements/base.txt:0: tqdm==4.67.1\ntqdm==4.67.1\n" in second.outputs["requirements/base.txt"].decode()
    _write(root, second.outputs)
    assert R.plan_layout(root).outputs == second.outputs


def test_include_through_symlink_out_of_root_is_refused(tmp_path):
    outside = tmp_path / "outside.txt"
    outside.write_text("secret-package==1.0\n")
    root = _tree(tmp_path / "root", {"backend/requirements.txt": "-r common.txt\nfastapi\n"},
                 links={"backend/common.txt": str(outside)})
    plan = R.plan_layout(root)
    assert [(u["line"], u["message"]) for u in plan.unparsed] == [
        (1, "included file backend/common.txt: symlink points outside the root")]
    assert "secret-package" not in "".join(v.decode() for v in plan.outputs.values())


def test_proof_detects_a_lost_requirement(tmp_path):
    root = _tree(tmp_path, {"backend/requirements.txt": "fastapi==0.115.6\nhttpx[http2]==0.27.2\n-e ./sdk\n"
                            "x==1 --hash=sha256:aa\nbad line here ((\n"})
    plan = R.plan_layout(root)
    assert plan.stats["lost"] == 0
    layout = {"backend": [dict(e, group="backend") for e in R.read_source(root, "backend/requirements.txt")[0]]}
    texts = dict((g, plan.outputs["requirements/%s.txt" % g].decode()) for g in R.DEFAULT_GROUPS)
    good = R.prove(layout, texts, "requirements", R.DEFAULT_GROUPS)
    assert set(p["status"] for p in good) == {"kept"}
    for old, new in (("\nfastapi==0.115.6\n", "\nfastapi==0.116.0\n"), ("httpx[http2]", "httpx"),
                     ("\n-e ../backend/sdk\n", "\n"), ("--hash=sha256:aa", "--hash=sha256:bb"),
                     ("#   <- backend/requirements.txt:5: bad line here ((\n", "")):
        broken = dict(texts, backend=texts["backend"].replace(old, new))
        assert broken["backend"] != texts["backend"], old
        lost = [p["package"] for p in R.prove(layout, broken, "requirements", R.DEFAULT_GROUPS) if p["status"] == "lost"]
        assert len(lost) == 1, (old, lost)


def test_dockerfile_references(tmp_path):
    root = str(tmp_path / "root")
    write_demo(root)
    plan = R.plan_layout(root)
    assert [(r["path"], r["line"], r["instruction"], r["sources"]) for r in plan.dockerfile_references] == [
        ("backend/Dockerfile", 3, "COPY", ["backend/requirements.txt"]),
        ("backend/Dockerfile", 4, "RUN", ["backend/requirements.txt"]),
        ("frontend/Dockerfile", 4, "COPY", ["frontend/requirements_optimized.txt"]),
        ("frontend/Dockerfile", 5, "RUN", ["frontend/requirements_optimized.txt"]),
    ]


def test_demo_layout_has_no_conflict_and_its_oddities(tmp_path):
    root = str(tmp_path / "root")
    write_demo(root)
    plan = R.plan_layout(root)
    assert plan.conflicts == [] and plan.errors == [] and plan.stats["lost"] == 0
    assert sorted(plan.outputs) == ["requirements/%s.txt" % g for g in sorted(R.DEFAULT_GROUPS)]
    assert plan.stats["sources"] == 8 and plan.hoisted == ["pydantic", "python-dotenv", "requests"]
    assert [u["text"] for u in plan.unparsed] == ["sutazai-utils (internal build) >= 1.0"]
    base = plan.outputs["requirements/base.txt"].decode()
    assert "prometheus-client==0.21.1 \\\n    --hash=sha256:" in base and "\npydantic==2.10.4\n" in base
    assert "\n-e ../backend/sdk\n" in plan.outputs["requirements/backend.txt"].decode()
    assert any("--hash" in n["message"] for n in plan.notes)
    assert "streamlit==1.0.0" not in "".join(v.decode() for v in plan.outputs.values())


# -- the real corpus -----------------------------------------------------------------------
@pytest.mark.skipif(not os.path.isdir(CORPUS), reason="shared corpus not present")
def test_corpus_conflicts_and_newest():
    plan = R.plan_layout(CORPUS)
    assert plan.outputs == {} and plan.stats["sources"] == 13 and plan.stats["requirement_lines"] == 401
    fastapi = [c for c in plan.conflicts if c["package"] == "fastapi"][0]
    specs = dict((r["specifier"], r["sources"]) for r in fastapi["requirements"])
    assert "backend/requirements.txt:6" in specs["==0.115.6"] and "docker/base/base-requirements.txt:1" in specs["==0.104.1"]
    assert [(u["path"], u["line"]) for u in plan.unparsed] == [("requirements/requirements-base.txt", 78)]

    newest = R.plan_layout(CORPUS, resolve="newest")
    assert newest.conflicts == [] and newest.stats["lost"] == 0 and len(newest.outputs) == 5
    assert len(newest.resolutions) == len(plan.conflicts)
    assert set(p["status"] for p in newest.proof) == {"kept", "resolved"}


# -- outputs that are also inputs ----------------------------------------------------------
# A tree that already has files with the layout's names (as the platform's v78 state had):
# prod.txt includes base.txt, dev.txt uses a constraints file, a script folder constrains base.txt.
OWN_NAMES = {
    "requirements/base.txt": "# platform base\nfastapi==0.115.6\npydantic>=2.5,<3\nrequests==2.32.3  # http\n",
    "requirements/backend.txt": "-r base.txt\nsqlalchemy==2.0.36\nredis==5.2.1\n",
    "requirements/frontend.txt": "-r base.txt\nstreamlit==1.40.2\nredis==5.2.1\n",
    "requirements/dev.txt": "-r base.txt\n-c constraints.txt\npytest==8.3.4\n",
    "requirements/constraints.txt": "urllib3<3\n",
    "requirements/prod.txt": "# production\n-r base.txt\ngunicorn==23.0.0\n",
    "scripts/requirements.txt": "-r ../requirements/frontend.txt\nclick==8.1.7\n",
    "backend/requirements.txt": "fastapi==0.115.6\nhttpx==0.27.2\n",
}


def _apply(root, plan):
    _write(root, plan.outputs)
    _write(root, plan.preserved)
    _write(root, plan.rewrites)


def _effective(root, rel):
    """What pip installs from ``rel``: its requirements through includes, constraints files by content."""
    reqs, others = R.requirements_meaning(R.read_source(root, rel)[0])
    out = set()
    for kind, key in others:
        if kind == "constraint" and key.startswith("path:"):
            out.add(("constraint", repr(sorted(R.requirements_meaning(R.read_source(root, key[5:])[0])[0].items()))))
        else:
            out.add((kind, key))
    return reqs, out


def _original_lines(files):
    out = set()
    for rel, text in files.items():
        if rel.startswith("requirements/") and rel[len("requirements/"):-4] in R.DEFAULT_GROUPS:
            out.update("%s:%d" % (rel, e["line"]) for e in R.parse_text(text, rel) if e["kind"] == "req")
    return out


def _proven(plan):
    return set(s.split(" ")[0] for p in plan.proof if p["status"] in ("kept", "resolved") for s in p["sources"])


def test_rewrite_references_changes_only_the_value():
    data = (b"\xef\xbb\xbf# prod\r\n-r base.txt  # the base\r\n--requirement=./base.txt\r\n-rbase.txt\r\n"
            b"-c ../requirements/base.txt\r\n-r other.txt\r\nflask==3.1.0\r\n")
    new, rewritten, problems = R.rewrite_references(data, "requirements/prod.txt",
                                                    {"requirements/base.txt": "requirements/base.original.txt"})
    assert problems == []
    assert new == (b"\xef\xbb\xbf# prod\r\n-r base.original.txt  # the base\r\n--requirement=./base.original.txt\r\n"
                   b"-rbase.original.txt\r\n-c ../requirements/base.original.txt\r\n-r other.txt\r\nflask==3.1.0\r\n")
    assert [(r["line"], r["option"], r["new"]) for r in rewritten] == [
        (2, "include", "-r base.original.txt # the base"), (3, "include", "--requirement=./base.original.txt"),
        (4, "include", "-rbase.original.txt"), (5, "constraint", "-c ../requirements/base.original.txt")]


def test_rewrite_references_reports_what_it_cannot_rewrite_in_place():
    data = b'-r \\\n  base.txt\n-r "base.txt"\n-r base.txt\n'
    new, rewritten, problems = R.rewrite_references(data, "requirements/prod.txt",
                                                    {"requirements/base.txt": "requirements/base.original.txt"})
    assert new == b'-r \\\n  base.txt\n-r "base.txt"\n-r base.original.txt\n'
    assert [p["line"] for p in problems] == [1, 3] and [r["line"] for r in rewritten] == [4]
    assert "cannot be rewritten in place" in problems[0]["message"]


def test_requirements_meaning_ignores_layout_and_sees_every_difference():
    def meaning(text):
        return R.requirements_meaning(R.parse_text(text, "requirements/x.txt"))
    same = meaning("# a\nfastapi==0.115.6\npydantic>=2.5,<3\n-c c.txt\n")
    assert meaning("-c ./c.txt\npydantic<3,>=2.5  # reordered\n\nFastAPI==0.115.6\n") == same
    assert meaning("pydantic>=2.5,<3\nfastapi==0.115.6,>=0.100\n-c c.txt\n") == same
    assert meaning("fastapi==0.115.6\npydantic>=2.6,<3\n-c c.txt\n") != same
    assert meaning("fastapi==0.115.6\npydantic>=2.5,<3\n-c c.txt\nrequests\n") != same
    assert meaning("fastapi==0.115.6\npydantic>=2.5,<3\n") != same


def test_layout_comment_lines_keep_their_reason_when_read_back():
    text = ('%s group "dev" (requirements/dev.txt)\n\n# -- lines that could not be parsed\n'
            "#   <- requirements/dev.txt:4: -r missing.txt\n#   (kept as a comment: included file requirements/"
            "missing.txt: cannot read file: No such file or directory)\n" % R.HEADER_MARK)
    group, attrs = R.parse_layout_file(text, "requirements/dev.txt")
    assert group == "dev" and attrs[0]["message"].startswith("included file requirements/missing.txt:")


def test_read_source_asks_before_following_an_include(tmp_path):
    root = _tree(tmp_path, {"a/requirements.txt": "-r b.txt\nflask\n", "a/b.txt": "-r c.txt\nclick\n", "a/c.txt": "rich\n"})
    asked = []

    def include(e, top):
        asked.append((e["include"], top))
        return [] if e["include"] == "a/c.txt" else None
    entries, included = R.read_source(root, "a/requirements.txt", include=include)
    assert sorted(e["name"] for e in entries) == ["click", "flask"] and included == ["a/b.txt"]
    assert asked == [("a/b.txt", "a/requirements.txt"), ("a/c.txt", "a/requirements.txt")]


def test_originals_at_layout_paths_reach_a_fixed_point_in_one_run(tmp_path):
    root = _tree(tmp_path / "root", OWN_NAMES)
    before = dict((rel, _effective(root, rel)) for rel in ("requirements/prod.txt", "scripts/requirements.txt"))
    first = R.plan_layout(root)
    assert first.errors == [] and first.blockers == [] and first.conflicts == [] and first.lost == []
    assert [o["path"] for o in first.overwritten] == ["requirements/base.txt", "requirements/backend.txt",
                                                      "requirements/frontend.txt", "requirements/dev.txt"]
    base = first.overwritten[0]
    assert base["group"] == "base" and base["preserved_as"] == "requirements/base.original.txt"
    # prod.txt includes base.txt; scripts/ includes frontend.txt, whose copy includes base.txt.
    assert [(r["path"], r["line"], r["option"]) for r in base["references"]] == [
        ("requirements/prod.txt", 2, "-r"), ("requirements/frontend.original.txt", 2, "-r")]
    assert sorted(first.preserved) == ["requirements/base.original.txt", "requirements/frontend.original.txt"]
    header, rest = first.preserved["requirements/base.original.txt"].decode().split("\n", 1)
    assert header.startswith(R.PRESERVED_MARK + " requirements/base.txt ") and rest == OWN_NAMES["requirements/base.txt"]
    assert first.preserved["requirements/frontend.original.txt"].decode().split("\n", 1)[1] == \
        "-r base.original.txt\nstreamlit==1.40.2\nredis==5.2.1\n"
    assert first.rewrites == {"requirements/prod.txt": b"# production\n-r base.original.txt\ngunicorn==23.0.0\n",
                              "scripts/requirements.txt": b"-r ../requirements/frontend.original.txt\nclick==8.1.7\n"}
    # Every requirement line of the originals is proven expressed; the layout's base.txt holds more
    # (redis, needed by both app groups, and backend/requirements.txt), which is why prod.txt now
    # includes the copy.
    assert _original_lines(OWN_NAMES) <= _proven(first)
    layout_base = first.outputs["requirements/base.txt"].decode()
    assert "\nredis==5.2.1\n" in layout_base and "\nhttpx==0.27.2\n" not in layout_base
    dev = first.outputs["requirements/dev.txt"].decode()
    assert "\n-c ./constraints.txt\n" in dev
    assert "#   <- requirements/frontend.original.txt:3 (via scripts/requirements.txt): streamlit==1.40.2\n" in dev
    assert "#   <- requirements/base.original.txt:3 (via requirements/prod.txt): fastapi==0.115.6\n" in \
        first.outputs["requirements/production.txt"].decode()

    _apply(root, first)
    assert dict((rel, _effective(root, rel)) for rel in before) == before
    second = R.plan_layout(root)
    assert second.blockers == [] and second.lost == [] and second.overwritten == []
    assert second.outputs == first.outputs and second.rewrites == {} and second.preserved == {}
    assert second.stats["preserved"] == 2 and second.stats["carried_over"] > 0
    assert _original_lines(OWN_NAMES) <= _proven(second)
    assert R.discover(root).preserved == {"requirements/base.original.txt": "requirements/base.txt",
                                          "requirements/frontend.original.txt": "requirements/frontend.txt"}
    assert "requirements/base.original.txt" not in R.discover(root).sources


def test_include_stays_when_the_layout_base_means_exactly_the_original(tmp_path):
    files = {"requirements/base.txt": "flask==3.1.0\n-c constraints.txt\n", "requirements/constraints.txt": "click<9\n",
             "requirements/prod.txt": "-r base.txt\ngunicorn==23.0.0\n"}
    root = _tree(tmp_path / "root", files)
    before = _effective(root, "requirements/prod.txt")
    first = R.plan_layout(root)
    assert first.blockers == [] and first.lost == [] and first.preserved == {} and first.rewrites == {}
    assert first.overwritten[0]["references"][0]["action"].startswith("unchanged:")
    assert "#   <- requirements/base.txt" not in first.outputs["requirements/production.txt"].decode()
    _apply(root, first)
    assert _effective(root, "requirements/prod.txt") == before
    second = R.plan_layout(root)
    assert second.outputs == first.outputs and second.rewrites == {} and second.unparsed == []


def test_an_original_used_only_as_constraints_is_kept_for_the_layout_lines(tmp_path):
    root = _tree(tmp_path / "root", {"requirements/base.txt": "urllib3<3\n",
                                     "requirements/dev.txt": "-c base.txt\npytest==8.3.4\n"})
    first = R.plan_layout(root)
    assert first.blockers == [] and first.lost == []
    assert [(o["path"], o["constraints_only"], o["preserved_as"]) for o in first.overwritten] == [
        ("requirements/base.txt", True, "requirements/base.original.txt"), ("requirements/dev.txt", False, None)]
    assert "\n-c ./base.original.txt\n" in first.outputs["requirements/dev.txt"].decode()
    _apply(root, first)
    second = R.plan_layout(root)
    assert second.outputs == first.outputs and second.preserved == {} and second.lost == []


def test_removed_includers_need_no_copy(tmp_path):
    root = _tree(tmp_path / "root", OWN_NAMES)
    first = R.plan_layout(root, remove_sources=True)
    assert first.preserved == {} and first.rewrites == {} and first.lost == []
    assert "requirements/prod.txt" in first.remove and "requirements/base.txt" not in first.remove
    _apply(root, first)
    for rel in first.remove:
        os.unlink(os.path.join(root, rel))
    again = R.plan_layout(root, remove_sources=True)
    assert again.outputs == first.outputs and again.remove == [] and _original_lines(OWN_NAMES) <= _proven(again)


def test_an_include_of_another_layout_file_is_not_followed(tmp_path):
    root = _tree(tmp_path / "root", {"backend/requirements.txt": "fastapi==0.115.6\n",
                                     "scripts/requirements.txt": "pytest==8.3.4\n"})
    _apply(root, R.plan_layout(root))
    _tree(root, {"tools/requirements.txt": "-r ../requirements/dev.txt\n-r ../requirements/base.txt\nrich==13.9.4\n"})
    first = R.plan_layout(root)
    assert [(u["path"], u["line"]) for u in first.unparsed] == [("tools/requirements.txt", 1)]
    assert "never read as sources" in first.unparsed[0]["message"]
    assert "pytest" not in [p["package"] for p in first.proof if p["sources"][0].startswith("tools/")]
    _apply(root, first)
    assert R.plan_layout(root).outputs == first.outputs


def test_what_cannot_be_handled_safely_blocks(tmp_path):
    quoted = dict(OWN_NAMES, **{"requirements/prod.txt": '-r "base.txt"\ngunicorn==23.0.0\n'})
    plan = R.plan_layout(_tree(tmp_path / "a", quoted))
    assert plan.outputs == {} and plan.rewrites == {} and [(b["path"], b["line"]) for b in plan.blockers] == [
        ("requirements/prod.txt", 1)]
    taken = dict(OWN_NAMES, **{"requirements/base.original.txt": "six\n"})
    plan = R.plan_layout(_tree(tmp_path / "b", taken))
    assert plan.outputs == {} and [b["path"] for b in plan.blockers] == ["requirements/base.original.txt"]
    plan = R.plan_layout(_tree(tmp_path / "c", {"backend/requirements.txt": "fastapi\n", "requirements/dev.txt": "x\n"}),
                         patterns=["backend/requirements.txt"])
    assert plan.outputs == {} and [b["path"] for b in plan.blockers] == ["requirements/dev.txt"]
