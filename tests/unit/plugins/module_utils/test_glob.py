"""The collection's one path-pattern dialect (``_tree.glob_matcher``), as every path-pattern
option uses it: env_patterns, requirements_patterns, base_agent_glob, terms_exclude,
scripts_keep_names, config_keep, dockerfiles_reference_patterns."""

from __future__ import annotations

import pytest

from ansible_collections.sutazai.consolidation.plugins.module_utils import _base_agent, _env, _requirements, _terms
from ansible_collections.sutazai.consolidation.plugins.module_utils._tree import glob_matcher


@pytest.mark.parametrize("patterns, rel, expected", [
    (["*.env"], "docker/app.env", True),                 # no "/": the name, at any depth
    (["*.env"], "app.env", True),
    (["docker/*.env"], "docker/sub/app.env", False),      # "*" never crosses "/"
    (["docker/*.env"], "docker/app.env", True),
    (["config/**/*.env*"], "config/a.env", True),          # "**" spans zero or more folders
    (["config/**/*.env*"], "config/x/y/a.env.prod", True),
    (["config/**/*.env*"], "other/config/a.env", False),    # a "/" pattern is anchored at the root
    (["**/base_agent.py"], "base_agent.py", True),
    (["**/base_agent.py"], "agents/core/base_agent.py", True),
    (["*.env*"], ".env.local", True),                    # "*" matches a leading dot
    ([".env.*"], "backend/.env.production", True),
    (["test_*.py"], "tests/test_x.py", True),
    (["{a,b}.txt"], "x/b.txt", True),                    # braces
    (["[ab].txt"], "c.txt", False),
    (["Makefile"], "makefile", False),                  # case-sensitive
    (["  /docs/  "], "docs", True),                      # blanks and edge slashes dropped
    ([], "anything", False),
    (["", " / "], "anything", False),
])
def test_dialect(patterns, rel, expected):
    assert glob_matcher(patterns)(rel) is expected


def test_folders_make_a_folder_match_cover_its_content():
    match = glob_matcher(["tests", "docker/templates", "*.min.js"], folders=True)
    assert match("backend/tests/x.md") and match("tests") and match("docker/templates/a/Dockerfile")
    assert match("web/app.min.js")
    assert not match("docker/templatesX/a") and not match("backend/testsuite/x.md")
    assert not glob_matcher(["tests"])("backend/tests/x.md")  # without folders: the name only


def test_every_option_uses_the_same_dialect():
    # One pattern, the same answer from each phase's helper.
    for rel, expected in (("a/b/x.txt", True), ("x.txt", True), ("a/x.txtx", False)):
        assert _env.is_env_file(rel, ["**/x.txt"]) is expected
        assert _requirements.path_match("**/x.txt", rel) is expected
        assert _base_agent.glob_match(rel, "**/x.txt") is expected
        assert _terms.exclude_matcher(["**/x.txt"])(rel) is expected
    # "*" no longer crosses "/" in any of them (base_agent_glob's did before).
    assert not _base_agent.glob_match("agents/core/base_agent.py", "agents/*.py")
    assert not _env.is_env_file("config/a/b.env", ["config/*.env"])
