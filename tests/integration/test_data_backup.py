# -*- coding: utf-8 -*-
"""Integration: the data_backup module on a live stack of its own (tests/testbed/stack.py).

Check mode plans and touches nothing; a real run backs up PostgreSQL (pg_dumpall), Redis (RDB)
and RabbitMQ (offline volume archive), every file 0600 under the run folder and restore-tested;
passwords appear in no output; corrupted backups fail their restore test.
"""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
import uuid

import pytest

from helpers import BIN, REPO
from testbed import stack as testbed_stack

sys.path.insert(0, os.path.join(REPO, ".build", "pytest"))
from ansible_collections.sutazai.consolidation.plugins.module_utils import _backup  # noqa: E402


@pytest.fixture(scope="module")
def own_stack(docker_engine, tmp_path_factory):
    root = str(tmp_path_factory.mktemp("stack") / "sutazaiapp")
    st = testbed_stack.instance(root, "sbk%s" % uuid.uuid4().hex[:6])
    try:
        testbed_stack.seed(testbed_stack.up(st))
        yield st
    finally:
        st.down()


def run_module(st, check=False, **args):
    """Run data_backup through ``ansible`` (json callback); returns (rc, result dict, raw stdout)."""
    args = dict(dict(root=st.root, project_name=st.project), **args)
    env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(REPO, "ansible.cfg"), ANSIBLE_LOAD_CALLBACK_PLUGINS="1",
               ANSIBLE_STDOUT_CALLBACK="json", ANSIBLE_COLLECTIONS_PATH=os.path.join(REPO, ".build", "pytest"))
    cmd = [os.path.join(BIN, "ansible"), "localhost", "-c", "local", "-e", "ansible_python_interpreter=%s" % sys.executable,
           "-m", "sutazai.consolidation.data_backup", "-a", json.dumps(args)] + (["--check"] if check else [])
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=1200, check=False)
    doc = json.loads(proc.stdout[proc.stdout.index("{"):])
    result = doc["plays"][0]["tasks"][0]["hosts"]["localhost"]
    return proc.returncode, result, proc.stdout + proc.stderr


def _started(st, service):
    return subprocess.run(["docker", "inspect", "--format", "{{.State.StartedAt}}", st.container(service)],
                          capture_output=True, text=True, check=True).stdout.strip()


def _throwaways(st):
    """Throwaway containers and volumes left for this stack's containers (other tests' stacks may
    be backing up at the same time)."""
    left = []
    for service in ("postgres", "redis", "rabbitmq"):
        label = "label=%s=%s" % (_backup.LABEL, st.container(service))
        for what in (["ps", "-a", "-q"], ["volume", "ls", "-q"]):
            left += subprocess.run(["docker"] + what + ["--filter", label], capture_output=True, text=True,
                                   check=True).stdout.split()
    return left


def test_check_mode_plans_and_touches_nothing(own_stack, tmp_path):
    backups = str(tmp_path / "backups")
    started = dict((s, _started(own_stack, s)) for s in ("postgres", "redis", "rabbitmq"))
    rc, result, out = run_module(own_stack, check=True, backup_root=backups)
    assert rc == 0, out[-3000:]
    assert result["changed"] is False and result["summary"]["status"] == "would back up"
    plan = dict((p["service"], p) for p in result["plan"])
    methods = dict((s, p["method"]) for s, p in plan.items())
    assert methods == {"postgres": "pg_dumpall", "redis": "redis_rdb", "rabbitmq": "offline"}
    assert plan["postgres"]["bytes"] > 10 ** 6 and plan["redis"]["bytes"] > 10 ** 5
    assert not os.path.exists(backups)
    assert started == dict((s, _started(own_stack, s)) for s in started)  # nothing stopped or restarted
    assert _throwaways(own_stack) == []


def test_backup_is_restore_tested_private_and_silent_about_passwords(own_stack, tmp_path):
    backups = str(tmp_path / "backups")
    rc, result, out = run_module(own_stack, backup_root=backups, run_id="run-1")
    assert rc == 0, out[-3000:]
    assert result["changed"] is False and result["summary"]["status"] == "backed up"
    data = os.path.join(backups, "run-1", "data")
    assert result["data_dir"] == data
    for folder in (os.path.join(backups, "run-1"), data):
        assert os.stat(folder).st_mode & 0o777 == 0o700
    entries = dict((e["file"], e) for e in result["backups"])
    assert sorted(entries) == ["postgres.pg_dumpall.sql.gz", "rabbitmq.rabbitmq_data.tar.gz", "redis.dump.rdb"]
    with open(os.path.join(data, "manifest.json")) as f:
        assert json.load(f)["entries"] == result["backups"]
    for name, e in entries.items():
        path = os.path.join(data, name)
        assert os.stat(path).st_mode & 0o777 == 0o600
        assert e["bytes"] == os.path.getsize(path) and e["sha256"] == _backup.sha256_file(path)
        assert e["restore_test"]["passed"] is True, e
    rows = sum(n for tables in testbed_stack.PG_ROWS.values() for n in tables.values()) + 1  # + seed_info
    assert entries["postgres.pg_dumpall.sql.gz"]["restore_test"]["checked"]["rows"] == rows
    assert entries["redis.dump.rdb"]["restore_test"]["checked"] == {"keys": testbed_stack.REDIS_KEYS + 1}
    assert entries["rabbitmq.rabbitmq_data.tar.gz"]["downtime_seconds"] > 0
    with gzip.open(os.path.join(data, "postgres.pg_dumpall.sql.gz"), "rt") as f:
        dump = f.read()
    assert "CREATE DATABASE sutazai_metrics" in dump and "COPY public.tasks" in dump
    # No password in the module's output, nor on a command line of a process it started.
    for key in testbed_stack.SECRET_KEYS:
        assert own_stack.env[key] not in out
    assert _throwaways(own_stack) == []
    # The stack is whole and healthy after the offline backup of RabbitMQ.
    states = own_stack.services()
    assert all(s["state"] == "running" and s["health"] in ("", "healthy") for s in states.values()), states


def test_corrupted_backups_fail_their_restore_test(own_stack, tmp_path):
    data = str(tmp_path / "data")
    items = dict((i["service"], i) for i in _backup.plan(
        _backup.compose_model(own_stack.root, ["docker-compose.yml"], own_stack.project),
        _backup.project_containers(own_stack.project)))
    pg = items["postgres"]
    info = _backup.inspect(pg["container"])
    os.makedirs(data)
    live = _backup.pg_checksums(pg["container"], info)
    name, _seconds = _backup.backup_pg(pg, info, data, 600)
    path = os.path.join(data, name)
    assert _backup.verify_pg(pg, info, path, live, 300)["passed"] is True
    with gzip.open(path, "rt") as f:
        text = f.read()
    # One row's value changed: the dump restores, the checksum of that table differs.
    row = "1\tagent-1\t"
    assert row in text
    edited = os.path.join(data, "edited.sql.gz")
    with gzip.open(edited, "wt") as f:
        f.write(text.replace(row, "1\tagent-X\t", 1))
    result = _backup.verify_pg(pg, info, edited, live, 300)
    assert result["passed"] is False
    assert result["differences"] == ["sutazai.public.agents: live 1000 rows, restored 1000 rows (same count, other rows)"]
    # A truncated file does not restore.
    cut = os.path.join(data, "cut.sql.gz")
    with open(path, "rb") as f, open(cut, "wb") as g:
        g.write(f.read()[: os.path.getsize(path) // 2])
    result = _backup.verify_pg(pg, info, cut, live, 300)
    assert result["passed"] is False and "cannot be read" in result["differences"][0]
    # An RDB file with a flipped byte is refused by Redis (checksum): the test fails, quickly.
    rd = items["redis"]
    rinfo = _backup.inspect(rd["container"])
    name, _seconds, rdb = _backup.backup_redis(rd, rinfo, data, 300)
    rlive = _backup.redis_digest(rd["container"], rinfo)
    with open(os.path.join(data, name), "rb") as f:
        blob = bytearray(f.read())
    blob[len(blob) // 2] ^= 0xFF
    bad = os.path.join(data, "bad.rdb")
    with open(bad, "wb") as f:
        f.write(bytes(blob))
    result = _backup.verify_redis(rd, rinfo, bad, rdb, rlive, 120)
    assert result["passed"] is False and result["seconds"] < 60, result
    assert _throwaways(own_stack) == []


def test_role_on_a_tree_whose_platform_does_not_run_here(docker_engine, tmp_path):
    """A copy of the platform (the demo tree) has a Compose file and no container: the role says
    there is nothing to back up, in check mode as in a real run, and writes nothing."""
    from helpers import snapshot, write_demo

    root = str(tmp_path / "sutazaiapp")
    write_demo(root)
    before = snapshot(root)
    playbook = tmp_path / "backup.yml"
    playbook.write_text("- hosts: localhost\n  gather_facts: false\n  roles:\n    - role: sutazai.consolidation.backup\n")
    env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(REPO, "ansible.cfg"), ANSIBLE_NOCOLOR="1",
               ANSIBLE_COLLECTIONS_PATH=os.path.join(REPO, ".build", "pytest"))
    for check in (["--check"], []):
        proc = subprocess.run([os.path.join(BIN, "ansible-playbook"), "-i", "localhost,", "-c", "local", "-e",
                               "ansible_python_interpreter=%s" % sys.executable, "-e", "sutazai_root=%s" % root,
                               "-e", "sutazai_backup_root=%s" % (tmp_path / "backups"), "-v", str(playbook)] + check,
                              capture_output=True, text=True, env=env, timeout=300, check=False)
        assert proc.returncode == 0, proc.stdout[-3000:]
        assert "nothing to back up: no container of Compose project sutazaiapp on this host" in proc.stdout
        assert "changed=0" in proc.stdout
    assert snapshot(root) == before and not os.path.exists(str(tmp_path / "backups"))
