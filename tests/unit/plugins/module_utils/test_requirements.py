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


def test_redact_urls():
    text = "--extra-index-url https://ci-bot:s3cr3t@pypi.local/simple and https://pypi.org/simple"
    out = R.redact_urls(text)
    assert "s3cr3t" not in out and "ci-bot" not in out and "https://<redacted sha256:" in out
    assert out.endswith("https://pypi.org/simple")


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
