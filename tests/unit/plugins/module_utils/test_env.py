# -*- coding: utf-8 -*-
"""Env files: Compose parsing rules, priority merge, the overlay invariant (property test over
generated files), quoting, secrets in Compose files."""

from __future__ import annotations

import random
import string

import pytest

from ansible_collections.sutazai.consolidation.plugins.module_utils import _compose, _env, _secrets
from ansible_collections.sutazai.consolidation.plugins.module_utils._redaction import looks_secret, redact_text


def parse(text, path=".env"):
    return _env.parse_env_text(text, path)


def values(text, path=".env"):
    entries, errors, dummy = parse(text, path)
    assert not errors
    return dict((e.key, e.value) for e in entries)


def test_compose_rules():
    text = ("# c\nexport A=1\nB='lit\\n $HOME'\nC=\"multi\nline\"\nD=val # inline\nE=val#x\nF\nG=\n"
            "H = spaced\nI=\"esc \\\" ${A}\"\n")
    assert values(text) == {"A": "1", "B": "lit\\n $HOME", "C": "multi\nline", "D": "val", "E": "val#x",
                            "F": None, "G": "", "H": "spaced", "I": 'esc " ${A}'}


def test_single_quoted_backslash_is_literal():
    entries, errors, dummy = parse("K='a\\b $X'\n")
    assert not errors and entries[0].value == "a\\b $X"
    # python-dotenv would read \' as an escaped quote, Compose ends the value there: refused.
    dummy, errors, dummy2 = parse("K='a\\'\nB=1\n")
    assert len(errors) == 1 and errors[0].line == 1 and "backslash before a quote" in errors[0].message


def test_duplicate_key_last_wins_with_lines():
    entries, errors, dups = parse("A=1\nB=2\nA=3\n")
    assert [(e.key, e.value) for e in entries] == [("B", "2"), ("A", "3")]
    assert dups == [{"path": ".env", "key": "A", "lines": [1, 3]}]


def test_invalid_line_names_file_and_line():
    dummy, errors, dummy2 = parse("A=1\nthis is not an assignment\nB=2\n", "config/x.env")
    assert len(errors) == 1
    assert errors[0].as_dict()["path"] == "config/x.env" and errors[0].line == 2
    assert "config/x.env:2:" in str(errors[0])


@pytest.mark.parametrize("rel,expected", [
    (".env", True), (".env.production", True), ("docker/.env.agents", True), ("config/a/b/x.env.local", True),
    ("backend.env", True), ("config/environments/secrets.env.template", True), ("envs.txt", False),
    ("src/.environment", False), ("docs/env.md", False),
])
def test_patterns(rel, expected):
    assert _env.is_env_file(rel) is expected


def test_priority_order():
    names = [".env", "a.env", ".env.secure", ".env.production", "config/b.env", ".env.master", "compose:x.yml"]
    assert sorted(names, key=_env.rank) == [".env.production", ".env.secure", ".env.master", ".env", "a.env",
                                            "config/b.env", "compose:x.yml"]


def _random_value(rng):
    kind = rng.randrange(6)
    if kind == 0:
        return "".join(rng.choice(string.ascii_letters + string.digits) for dummy in range(rng.randrange(1, 30)))
    if kind == 1:
        return "'%s'" % "".join(rng.choice(string.ascii_letters + "$ #\"") for dummy in range(rng.randrange(0, 12)))
    if kind == 2:
        return '"%s"' % "".join(rng.choice(string.ascii_letters + " #'") for dummy in range(rng.randrange(0, 12)))
    if kind == 3:
        return "v%d # comment" % rng.randrange(1000)
    if kind == 4:
        return '"line1\nline2"'
    return ""


def _random_tree(rng, n_files):
    names = list(_env.DEFAULT_PRIORITY) + ["config/%d.env" % i for i in range(n_files)] + ["x/.env.extra"]
    rng.shuffle(names)
    files = {}
    keys = ["K%d" % i for i in range(25)]
    for rel in names[:n_files]:
        lines = ["# %s" % rel]
        for dummy in range(rng.randrange(0, 15)):
            prefix = "export " if rng.random() < 0.2 else ""
            lines.append("%s%s=%s" % (prefix, rng.choice(keys), _random_value(rng)))
        files[rel] = "\n".join(lines) + "\n"
    return files


@pytest.mark.parametrize("seed", range(60))
def test_overlay_invariant_property(seed):
    """For every generated set of files: master overlaid with production gives the old
    priority order's value for every key, and a second plan over the outputs is a fixed point."""
    rng = random.Random(seed)
    files = _random_tree(rng, rng.randrange(1, 12))
    parsed = dict((rel, parse(text, rel)[0]) for rel, text in files.items())
    plan = _env.plan_env(parsed, {})
    assert _env.overlay(plan.master, plan.production) == plan.effective
    # Independent check of the priority rule: walk files lowest priority first, later wins.
    expected = {}
    for rel in sorted(files, key=_env.rank, reverse=True):
        expected.update(values(files[rel], rel))
    assert plan.effective == expected
    # Second run: inputs are the outputs (other files removed) -> same bytes.
    again = {_env.MASTER: parse(plan.master, _env.MASTER)[0]}
    if plan.production is not None:
        again[_env.PRODUCTION] = parse(plan.production, _env.PRODUCTION)[0]
    plan2 = _env.plan_env(again, {})
    assert (plan2.master, plan2.production, plan2.example) == (plan.master, plan.production, plan.example)


def test_production_keeps_only_differences():
    parsed = {".env": parse("A=1\nB=2\n")[0], ".env.production": parse("A=1\nB=3\nC=4\n", ".env.production")[0]}
    plan = _env.plan_env(parsed, {})
    assert values(plan.production, ".env.production") == {"B": "3", "C": "4"}
    assert plan.overrides == ["B", "C"]


def test_example_hides_secrets_keeps_defaults():
    parsed = {".env": parse("POSTGRES_PASSWORD=hunter2hunter2\nOLLAMA_URL=http://ollama:11434\n"
                            "DATABASE_URL=postgresql://u:pw123456@db/x\n")[0]}
    examples = {".env.example": parse("VAULT_TOKEN=\nWORKERS=4\n", ".env.example")[0]}
    plan = _env.plan_env(parsed, examples)
    ex = values(plan.example, _env.EXAMPLE)
    assert ex == {"DATABASE_URL": "change-me", "OLLAMA_URL": "http://ollama:11434", "POSTGRES_PASSWORD": "change-me",
                  "VAULT_TOKEN": "change-me", "WORKERS": "4"}
    assert "hunter2hunter2" in plan.secret_values


@pytest.mark.parametrize("value", ["plain", "with space", "dollar$sign", "quote'single", "both'\"$\\",
                                   "multi\nline", "hash #x", ""])
def test_render_value_reads_back(value):
    assert values("K=%s\n" % _env.render_value(value))["K"].replace("$$", "$") == value


def test_add_to_example_matches_render():
    parsed = {".env": parse("A=1\nTOKEN=abcdefgh12345678\n")[0]}
    plan = _env.plan_env(parsed, {})
    added = _env.add_to_example(plan.example, ["NEW_SECRET"])
    parsed[".env"] = parse("A=1\nTOKEN=abcdefgh12345678\nNEW_SECRET=zz-Top-Secret-1234\n")[0]
    assert added == _env.plan_env(parsed, {}).example


@pytest.mark.parametrize("key,value,secret", [
    ("POSTGRES_PASSWORD", "x", True), ("POSTGRES_PASSWORD", "${POSTGRES_PASSWORD}", False),
    ("JWT_SECRET", "", False), ("API_KEY", "true", False), ("NEO4J_AUTH", "neo4j/Zq8vN2xLw4Rt6Yp0Ks3M", True),
    ("NEO4J_AUTH", "none", False), ("DATABASE_URL", "postgresql://u:pw@db:5432/x", True),
    ("DATABASE_URL", "postgresql://u:${PW}@db:5432/x", False), ("SESSION", "b7e1c9a04f2d4e8a9c3f5d7b1a6e2c40", True),
    ("OLLAMA_URL", "http://ollama:11434", False), ("AGENT_REGISTRY", "/opt/sutazaiapp/config/agents/master.json", False),
    ("LOG_LEVEL", "INFO", False), ("CHROMA_SERVER_AUTH_PROVIDER", "chromadb.auth.token.TokenAuthenticationServerProvider", False),
    ("POSTGRES_PASSWORD", "change-me", False),
])
def test_looks_secret(key, value, secret):
    assert looks_secret(key, value) is secret


def test_redact_known_values_under_any_key():
    text = "NEO4J_AUTH: neo4j/Zq8vN2xLw4Rt6Yp0Ks3M\nPOSTGRES_PASSWORD: abc  # note\n"
    out = redact_text(text, {"neo4j/Zq8vN2xLw4Rt6Yp0Ks3M", "abc"})
    assert "Zq8v" not in out and "abc " not in out and "# note" in out


COMPOSE = """# header comment
x-env: &common
  SHARED_TOKEN: tok-Abc123Def456Ghi789Jkl
  TZ: UTC
services:
  db:
    image: postgres  # pinned later
    env_file:
      - .env
      - config/db.env
    environment:
      <<: *common
      POSTGRES_PASSWORD: 'pa$$word-Literal'
      DATABASE_URL: postgresql://u:${POSTGRES_PASSWORD}@db/x
  web:
    env_file: config/web.env
    environment:
      - API_TOKEN=abc-123-XYZ-789-secret
      - PLAIN=1
  other:
    environment: {SECRET_KEY: "k-1", A: b}
"""


def test_rewrite_env_files_only_touches_entries():
    tree = _compose.compose_tree(COMPOSE, "docker-compose.yml")
    new, rewrites = _compose.rewrite_env_files(COMPOSE, "docker-compose.yml", tree,
                                               {"config/db.env", "config/web.env"}, ".env.master", {".env"})
    assert "      - config/db.env\n" not in new and "env_file: .env.master\n" in new
    assert new.replace("    env_file: .env.master\n", "    env_file: config/web.env\n") == \
        COMPOSE.replace("      - config/db.env\n", "")
    assert [(r["service"], r["to"]) for r in rewrites] == [("db", None), ("web", ".env.master")]


def test_rewrite_env_files_relative_to_compose_folder():
    text = "services:\n  a:\n    env_file: ../config/a.env\n"
    tree = _compose.compose_tree(text, "docker/docker-compose.yml")
    new, dummy = _compose.rewrite_env_files(text, "docker/docker-compose.yml", tree, {"config/a.env"}, ".env.master")
    assert new == "services:\n  a:\n    env_file: ../.env.master\n"


def test_invalid_compose_names_line_and_column():
    with pytest.raises(Exception) as err:
        _compose.compose_tree("services:\n  a: [1\n  b: 2\n", "docker-compose.yml")
    assert err.value.path == "docker-compose.yml" and err.value.line and err.value.column


def test_secrets_plan_moves_and_proves(tmp_path):
    tree = _compose.compose_tree(COMPOSE, "docker-compose.yml")
    master = "POSTGRES_PASSWORD=other-value\n"
    plan = _secrets.plan_secrets(str(tmp_path), [("docker-compose.yml", COMPOSE, tree)], master, None)
    moved = dict(((m["service"], m["key"]), m["env_key"]) for m in plan.moved)
    # The anchored value is moved once, where it is defined; the clash gets a service prefix.
    assert moved == {("db", "SHARED_TOKEN"): "SHARED_TOKEN", ("db", "POSTGRES_PASSWORD"): "DB_POSTGRES_PASSWORD",
                     ("web", "API_TOKEN"): "API_TOKEN", ("other", "SECRET_KEY"): "SECRET_KEY"}
    new = plan.edits["docker-compose.yml"]
    assert "  SHARED_TOKEN: \"${SHARED_TOKEN}\"\n" in new
    assert "      - \"API_TOKEN=${API_TOKEN}\"\n" in new
    assert "{SECRET_KEY: \"${SECRET_KEY}\", A: b}" in new
    assert "DATABASE_URL: postgresql://u:${POSTGRES_PASSWORD}@db/x" in new
    got = values(plan.master, _env.MASTER)
    assert got["DB_POSTGRES_PASSWORD"] == "pa$word-Literal" and got["POSTGRES_PASSWORD"] == "other-value"
    assert plan.links == {".env": ".env.master"}
    # Nothing else in the file changed.
    assert new.count("\n") == COMPOSE.count("\n") and "# pinned later" in new


def test_secrets_skip_when_project_env_is_not_master(tmp_path):
    (tmp_path / ".env").write_text("A=1\n")
    tree = _compose.compose_tree(COMPOSE, "docker-compose.yml")
    plan = _secrets.plan_secrets(str(tmp_path), [("docker-compose.yml", COMPOSE, tree)], None, None)
    assert plan.edits == {} and plan.master is None
    assert plan.skipped[0]["path"] == "docker-compose.yml" and ".env is not a link" in plan.skipped[0]["reason"]
