# -*- coding: utf-8 -*-
"""Integration: the dockerfiles phase through consolidate.yml (tag dockerfiles) and rollback.yml,
on generated trees (tests/gen_dockerfiles.py), the demo, and a fixture Compose project built on
the test bed's Docker engine before and after the phase.

Order for the changing task: check -> real -> idempotent check -> idempotent -> change input ->
changed check -> changed, then rollback back to the original bytes.
"""

from __future__ import annotations

import json
import os
import subprocess

import pytest
from ruamel.yaml import YAML

import gen_dockerfiles
from helpers import full_warnings, run_playbook, snapshot, write_demo

TASK = "Merge identical Dockerfiles"
TAG = "dockerfiles"
TEMPLATE = "docker/templates/agents-python-3.11-slim.Dockerfile"
CONFIG_KEYS = ("Env", "Cmd", "Entrypoint", "ExposedPorts", "Healthcheck", "User", "WorkingDir")


def _read(root, rel):
    with open(os.path.join(root, rel)) as f:
        return f.read()


def _write(root, rel, text):
    path = os.path.join(root, rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)


def _compose_config_ok(root, rel):
    proc = subprocess.run(["docker", "compose", "-f", os.path.join(root, rel), "config", "-q"],
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 0, (rel, proc.stderr)


def _kw(tmp_path):
    return dict(backup_root=str(tmp_path / "journal"), report_dir=str(tmp_path / "reports"), tags=TAG)


@pytest.fixture
def small(tmp_path):
    root = str(tmp_path / "root")
    expected = gen_dockerfiles.generate(root, "small")
    return root, expected


def test_small_tree_check_real_idempotent_changed_and_rollback(small, tmp_path, docker_engine):
    root, expected = small
    kw = _kw(tmp_path)
    original = snapshot(root)

    check = run_playbook("consolidate.yml", root, check=True, diff=True, **kw)
    assert check.rc == 0, check.text()
    res = check.task(TASK)
    assert res["changed"] is True and res["blocked"] is False
    assert snapshot(root) == original and not os.path.exists(kw["backup_root"]) and not os.path.exists(kw["report_dir"])
    st = res["stats"]
    for key in ("live", "parsed", "heredoc", "unparseable", "unique", "sequences", "single_sequences",
                "exact_groups_found", "exact_groups", "templates", "members_templated", "after", "compose_files",
                "decisions"):
        assert st[key] == expected[key], (key, st[key], expected[key])
    assert sorted(x["path"] for x in res["left_alone"]) == expected["left_alone"]
    assert [x["path"] for x in res["left_alone"] if x["status"] == "kept" and "referenced by" in x["reason"]] == expected["kept"]
    reasons = dict((x["path"], x["reason"]) for x in res["left_alone"])
    assert reasons["services/mcp-postgres/Dockerfile"] == "differs from its family in HEALTHCHECK (run-time)"
    assert reasons["tools/role-a/Dockerfile"] == "differs from its family in RUN (inside single quotes)"
    assert reasons["agents/epsilon/Dockerfile"] == "no Compose build uses it (build args cannot be passed)"
    assert "flow-style" in reasons["agents/zeta/Dockerfile"]
    # The secret-looking ENV value of the monitoring pair never shows in the diff.
    diff = json.dumps(res["diff"])
    assert "Pm-4e8c1a9b7d" not in diff and "<redacted sha256:" in diff
    assert "Pm-4e8c1a9b7d" not in json.dumps(dict((k, v) for k, v in res.items() if k != "diff"))
    summary = check.summary()
    assert "Dockerfiles (live; backups/archives not counted)" in summary and "Templates (files templated)" in summary

    real = run_playbook("consolidate.yml", root, **kw)
    assert real.rc == 0 and real.changed == 1, real.text()
    res = real.task(TASK)
    written = sorted(c["path"] for c in res["changes"] if c["action"] == "create")
    assert written == ["docker/templates/agents-python-3.11-slim.Dockerfile", "docker/templates/mcp.Dockerfile",
                       "docker/templates/monitoring.Dockerfile"]
    for rel in ("agents/alpha/Dockerfile", "docker/agents/alpha/Dockerfile", "agents/beta/Dockerfile",
                "agents/gamma/Dockerfile", "monitoring/Dockerfile", "docker/monitoring/Dockerfile"):
        assert not os.path.exists(os.path.join(root, rel))
    for rel in expected["left_alone"]:
        assert os.path.exists(os.path.join(root, rel))
    assert os.path.isdir(os.path.join(root, "backups/20250801T000000Z/agents/alpha"))  # copies untouched
    compose = YAML(typ="safe").load(_read(root, "docker-compose.yml"))
    assert compose["services"]["alpha"]["build"] == {
        "context": "./agents/alpha", "dockerfile": "../../" + TEMPLATE,
        "args": {"TPL_LABEL_TITLE": "alpha", "AGENT_NAME": "alpha", "AGENT_PORT": "8101"}}
    agents_compose = YAML(typ="safe").load(_read(root, "docker/docker-compose.agents.yml"))
    assert agents_compose["services"]["gamma"]["build"]["args"][-1] == "AGENT_PORT=8103"
    # Only the build entries changed; comments, anchors, order and the rest are as written.
    assert _read(root, "docker-compose.yml") == original["docker-compose.yml"][2].decode().replace(
        "    build: ./agents/alpha   # the orchestrator\n",
        "    build:\n      context: ./agents/alpha   # the orchestrator\n"
        "      dockerfile: ../../docker/templates/agents-python-3.11-slim.Dockerfile\n      args:\n"
        "        TPL_LABEL_TITLE: \"alpha\"\n        AGENT_NAME: \"alpha\"\n        AGENT_PORT: \"8101\"\n").replace(
        "      context: ./agents/beta\n      dockerfile: Dockerfile\n",
        "      context: ./agents/beta\n      dockerfile: ../../docker/templates/agents-python-3.11-slim.Dockerfile\n"
        "      args:\n        TPL_LABEL_TITLE: \"beta\"\n        AGENT_NAME: \"beta\"\n        AGENT_PORT: \"8102\"\n").replace(
        "    build: ./services/mcp-files\n",
        "    build:\n      context: ./services/mcp-files\n"
        "      dockerfile: ../../docker/templates/mcp.Dockerfile\n      args:\n"
        "        SERVICE: \"mcp-files\"\n        TPL_PORT: \"9101\"\n").replace(
        "      context: ./services/mcp-http\n",
        "      context: ./services/mcp-http\n"
        "      dockerfile: ../../docker/templates/mcp.Dockerfile\n      args:\n"
        "        SERVICE: \"mcp-http\"\n        TPL_PORT: \"9102\"\n")
    for rel in ("docker-compose.yml", "docker/docker-compose.agents.yml"):
        _compose_config_ok(root, rel)
    after_first = snapshot(root, skip=("journal", "reports"))

    assert run_playbook("consolidate.yml", root, check=True, **kw).changed == 0
    again = run_playbook("consolidate.yml", root, **kw)
    assert again.rc == 0 and again.changed == 0, again.text()
    assert snapshot(root) == after_first

    # Changed input: one more copy of the monitoring image, built by a new Compose file.
    _write(root, "ops/monitoring/Dockerfile", _read(root, "docker/templates/monitoring.Dockerfile"))
    _write(root, "ops/monitoring/prometheus.yml", "global: {}\n")
    _write(root, "docker/docker-compose.ops.yml", "services:\n  prometheus:\n    build: ../ops/monitoring\n")
    changed_input = snapshot(root)
    changed_check = run_playbook("consolidate.yml", root, check=True, diff=True, **kw)
    assert changed_check.changed == 1 and snapshot(root) == changed_input
    assert sorted(d["before_header"] for d in changed_check.task(TASK)["diff"]) == [
        "docker/docker-compose.ops.yml (before)", "ops/monitoring/Dockerfile (before)"]
    changed = run_playbook("consolidate.yml", root, **kw)
    assert changed.changed == 1
    assert not os.path.exists(os.path.join(root, "ops/monitoring/Dockerfile"))
    assert _read(root, "docker/docker-compose.ops.yml") == (
        "services:\n  prometheus:\n    build:\n      context: ../ops/monitoring\n"
        "      dockerfile: ../../docker/templates/monitoring.Dockerfile\n")
    _compose_config_ok(root, "docker/docker-compose.ops.yml")

    for attempt in range(2):
        rb = run_playbook("rollback.yml", root, backup_root=kw["backup_root"])
        assert rb.rc == 0 and rb.changed == 1, (attempt, rb.text())
    restored = snapshot(root)
    for rel in ("ops/monitoring/Dockerfile", "ops/monitoring/prometheus.yml", "docker/docker-compose.ops.yml",
                "ops/monitoring", "ops"):
        del restored[rel]
    assert restored == original


def test_v76_tree_ends_near_120_files_every_member_proven(tmp_path, docker_engine):
    root = str(tmp_path / "root")
    expected = gen_dockerfiles.generate(root, "v76")
    kw = _kw(tmp_path)
    original = snapshot(root)
    check = run_playbook("consolidate.yml", root, check=True, **kw)
    assert check.rc == 0, check.text()
    st = check.task(TASK)["stats"]
    for key in ("live", "parsed", "heredoc", "unique", "sequences", "single_sequences", "exact_groups_found",
                "exact_groups", "templates", "members_templated", "after", "compose_files", "decisions"):
        assert st[key] == expected[key], (key, st[key], expected[key])
    assert snapshot(root) == original

    real = run_playbook("consolidate.yml", root, **kw)
    assert real.rc == 0 and real.changed == 1, real.text()
    res = real.task(TASK)
    # Every member of every template is proven and replaced; nothing but singles and the heredoc file stays.
    assert sum(t["files"] for t in res["templates"]) == expected["members_templated"]
    assert all(m["action"] == "removed" for t in res["templates"] for m in t["members"])
    assert set(x["status"] for x in res["left_alone"]) == {"unique", "heredoc", "kept"}
    assert [x["path"] for x in res["left_alone"] if x["status"] == "kept"] == ["docker/base/Dockerfile.single-00"]
    assert [d["token"] for d in res["dynamic_references"]] == ["$d/Dockerfile"]
    found = [os.path.join(d, f) for d, dirs, files in os.walk(root) for f in files
             if f == "Dockerfile" or f.startswith("Dockerfile.") or f.endswith(".Dockerfile")]
    assert len([p for p in found if "/backups/" not in p]) == expected["after"] == 120
    assert len([p for p in found if "/backups/" in p]) == expected["backups"]
    forms = [r["form"] for r in res["compose_rewrites"]]
    assert "string" in forms and "mapping" in forms
    for rel in sorted(set(r["path"] for r in res["compose_rewrites"])):
        _compose_config_ok(root, rel)

    again = run_playbook("consolidate.yml", root, **kw)
    assert again.rc == 0 and again.changed == 0, again.text()
    rb = run_playbook("rollback.yml", root, backup_root=kw["backup_root"])
    assert rb.rc == 0 and rb.changed == 1, rb.text()
    assert snapshot(root) == original


def test_invalid_compose_blocks_by_default_warn_skips_and_keeps_what_it_names(small, tmp_path):
    root, expected = small
    kw = _kw(tmp_path)
    _write(root, "docker/docker-compose.broken.yml",
           "services:\n  gamma-old:\n    build: ../agents/gamma\n   image: x\n")
    before = snapshot(root)

    res = run_playbook("consolidate.yml", root, **kw)
    assert res.rc == 0, res.text()
    result = res.task(TASK)
    assert result["blocked"] is True and result["changed"] is False
    assert result["errors"][0]["path"] == "docker/docker-compose.broken.yml" and result["errors"][0]["line"] == 4
    assert any("docker/docker-compose.broken.yml:4:" in w for w in full_warnings(result)), result["warnings"]
    assert snapshot(root) == before and not os.path.exists(kw["backup_root"])
    summary = res.summary()
    assert "dockerfiles" in summary and "blocked" in summary

    strict = run_playbook("consolidate.yml", root, "-e", "dockerfiles_strict=true", **kw)
    assert strict.rc != 0 and snapshot(root) == before

    warned = run_playbook("consolidate.yml", root, "-e", "dockerfiles_on_invalid=warn", **kw)
    assert warned.rc == 0 and warned.changed == 1, warned.text()
    result = warned.task(TASK)
    assert [i["path"] for i in result["invalid"]] == ["docker/docker-compose.broken.yml"]
    reasons = dict((x["path"], x["reason"]) for x in result["left_alone"])
    # The file that does not parse builds gamma: gamma stays; the template holds alpha and beta.
    assert reasons["agents/gamma/Dockerfile"].startswith("referenced by docker/docker-compose.broken.yml:3")
    assert os.path.exists(os.path.join(root, "agents/gamma/Dockerfile"))
    assert _read(root, "docker/docker-compose.broken.yml") == before["docker/docker-compose.broken.yml"][2].decode()


def test_demo_tree(tmp_path):
    root = str(tmp_path / "root")
    os.makedirs(root)
    write_demo(root)
    kw = _kw(tmp_path)
    real = run_playbook("consolidate.yml", root, **kw)
    assert real.rc == 0 and real.changed == 1, real.text()
    res = real.task(TASK)
    assert res["stats"]["live"] == 11 and res["stats"]["after"] == 8
    assert [t["path"] for t in res["templates"]] == [TEMPLATE]
    assert [g["canonical"] for g in res["exact_groups"]] == ["docker/templates/monitoring.Dockerfile"]
    assert not os.path.exists(os.path.join(root, "agents/hardware-resource-optimizer/Dockerfile"))
    assert os.path.exists(os.path.join(root, "agents/ollama-integration/Dockerfile"))
    build = YAML(typ="safe").load(_read(root, "docker/docker-compose.build.yml"))["services"]
    assert build["hardware-resource-optimizer"]["build"]["args"]["AGENT_PORT"] == "8080"
    again = run_playbook("consolidate.yml", root, **kw)
    assert again.rc == 0 and again.changed == 0


# -- build proof on the test bed ---------------------------------------------------------------

_SVC = """FROM sutazai-testbed-base:bookworm
LABEL org.opencontainers.image.title="{name}" org.opencontainers.image.vendor="SutazAI"
WORKDIR /srv/{name}
COPY {name}.txt ./
RUN echo {name} > /tmp/built-for && cp {name}.txt /tmp/copied
ENV SERVICE_NAME={name} SERVICE_PORT={port} PYTHONUNBUFFERED=1
EXPOSE {port}
USER {user}
HEALTHCHECK --interval=30s --timeout=3s CMD python3 -c "import os; print(os.environ['SERVICE_PORT'])" || exit 1
CMD ["python3", "-c", "import os; print(os.environ['SERVICE_NAME'])"]
"""

_STATIC = """FROM sutazai-testbed-base:bookworm
COPY index.html /srv/www/index.html
WORKDIR /srv/www
EXPOSE 8000
CMD python3 -m http.server 8000
"""


def _fixture_project(root, project):
    services = [("api-gateway", 8101, "nobody"), ("task-runner", 8102, "daemon"), ("doc-indexer", 8103, "nobody")]
    lines = ["services:"]
    for name, port, user in services:
        _write(root, "services/%s/Dockerfile" % name, _SVC.format(name=name, port=port, user=user))
        _write(root, "services/%s/%s.txt" % (name, name), "%s payload\n" % name)
        lines.append("  %s:" % name)
        if name == "api-gateway":
            lines.append("    build: ./services/%s" % name)
        else:
            lines += ["    build:", "      context: ./services/%s" % name, "      dockerfile: Dockerfile"]
        lines.append("    image: %s-%s:latest" % (project, name))
    for where in ("static", "docs/static"):
        _write(root, "%s/Dockerfile" % where, _STATIC)
        _write(root, "%s/index.html" % where, "<h1>%s</h1>\n" % where)
        name = where.replace("/", "-")
        lines += ["  %s:" % name, "    build: ./%s" % where, "    image: %s-%s:latest" % (project, name)]
    _write(root, "docker-compose.yml", "\n".join(lines) + "\n")
    return [s[0] for s in services] + ["static", "docs-static"]


def _docker(*args):
    proc = subprocess.run(["docker"] + list(args), capture_output=True, text=True, check=False)
    assert proc.returncode == 0, (args, proc.stderr[-3000:])
    return proc.stdout


def _build_and_inspect(root, project, names):
    _docker("compose", "-p", project, "-f", os.path.join(root, "docker-compose.yml"), "build")
    out = {}
    for name in names:
        image = "%s-%s:latest" % (project, name)
        config = json.loads(_docker("image", "inspect", image))[0]["Config"]
        labels = dict((k, v) for k, v in (config.get("Labels") or {}).items() if not k.startswith("com.docker.compose."))
        files = _docker("run", "--rm", "--entrypoint", "/bin/sh", image, "-c",
                        "cat /tmp/built-for /tmp/copied 2>/dev/null; ls")
        out[name] = (dict((k, config.get(k)) for k in CONFIG_KEYS), labels, files)
    return out


def test_build_proof_same_image_config_before_and_after(tmp_path, docker_engine):
    root = str(tmp_path / "project")
    project = "sutazai-dfproof-%d" % os.getpid()
    names = _fixture_project(root, project)
    try:
        before = _build_and_inspect(root, project, names)
        for name in names:
            _docker("image", "rm", "%s-%s:latest" % (project, name))
        res = run_playbook("consolidate.yml", root, **_kw(tmp_path))
        assert res.rc == 0 and res.changed == 1, res.text()
        result = res.task(TASK)
        assert [t["files"] for t in result["templates"]] == [3] and len(result["exact_groups"]) == 1
        assert not os.path.exists(os.path.join(root, "services/api-gateway/Dockerfile"))
        _compose_config_ok(root, "docker-compose.yml")
        after = _build_and_inspect(root, project, names)
        for name in names:
            assert after[name] == before[name], name
        assert before["task-runner"][0]["User"] == "daemon" and "8102/tcp" in before["task-runner"][0]["ExposedPorts"]
        assert before["task-runner"][2].startswith("task-runner\ntask-runner payload\n")
    finally:
        subprocess.run(["docker", "compose", "-p", project, "-f", os.path.join(root, "docker-compose.yml"), "down",
                        "--rmi", "all"], capture_output=True, check=False)
        for name in names:
            subprocess.run(["docker", "image", "rm", "-f", "%s-%s:latest" % (project, name)], capture_output=True, check=False)


def test_runtime_values_env_changes_config_not_behaviour(tmp_path, docker_engine):
    root = str(tmp_path / "project")
    project = "sutazai-dfenv-%d" % os.getpid()
    text = ("FROM sutazai-testbed-base:bookworm\nENV SERVICE_NAME={name}\n"
            "HEALTHCHECK CMD echo http://localhost:{port}/health\n")
    names = [("one", 8001), ("two", 8002)]
    lines = ["services:"]
    for name, port in names:
        _write(root, "%s/Dockerfile" % name, text.format(name=name, port=port))
        lines += ["  %s:" % name, "    build: ./%s" % name, "    image: %s-%s:latest" % (project, name)]
    _write(root, "docker-compose.yml", "\n".join(lines) + "\n")

    def health_output(name):
        image = "%s-%s:latest" % (project, name)
        config = json.loads(_docker("image", "inspect", image))[0]["Config"]
        test = config["Healthcheck"]["Test"]
        assert test[0] == "CMD-SHELL"
        return config, _docker("run", "--rm", "--entrypoint", "/bin/sh", image, "-c", test[1])
    try:
        kept = run_playbook("consolidate.yml", root, **_kw(tmp_path))
        assert kept.rc == 0 and kept.changed == 0 and kept.task(TASK)["stats"]["decisions"] == 1
        _docker("compose", "-p", project, "-f", os.path.join(root, "docker-compose.yml"), "build")
        before = dict((n, health_output(n)) for n, dummy in names)
        for name, dummy in names:
            _docker("image", "rm", "%s-%s:latest" % (project, name))
        res = run_playbook("consolidate.yml", root, "-e", "dockerfiles_runtime_values=env", **_kw(tmp_path))
        assert res.rc == 0 and res.changed == 1, res.text()
        assert res.task(TASK)["templates"][0]["runtime_env"] is True
        assert any("runtime_values=env" in w for w in full_warnings(res.task(TASK)))
        _docker("compose", "-p", project, "-f", os.path.join(root, "docker-compose.yml"), "build")
        for name, port in names:
            config, output = health_output(name)
            assert output == before[name][1] == "http://localhost:%d/health\n" % port
            assert "TPL_HEALTHCHECK=%d" % port in config["Env"] and "${TPL_HEALTHCHECK}" in config["Healthcheck"]["Test"][1]
    finally:
        for name, dummy in names:
            subprocess.run(["docker", "image", "rm", "-f", "%s-%s:latest" % (project, name)], capture_output=True, check=False)
