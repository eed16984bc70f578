# -*- coding: utf-8 -*-
"""The test bed's live SutazAI-like stack (``tests/testbed/stack/``), run with Docker Compose.

A stack instance is a folder (a copy of ``tests/testbed/stack/``: ``docker-compose.yml``, the
build folders and a ``.env``) and a Compose project name. :func:`prepare` copies the files and
writes ``.env`` (mode 0600) once: random passwords, the container-name prefix and host ports on
127.0.0.1; :func:`up` builds and starts it and waits until every service is running and every
healthcheck passes; :func:`seed` loads the data (idempotent: a ``seed_info`` table and a Redis
key mark a seeded instance):

* PostgreSQL database ``sutazai``: ``agents`` (1,000 rows), ``tasks`` (60,000), ``events``
  (40,000, jsonb); database ``sutazai_metrics``: ``samples`` (10,000); 111,000 rows in all;
* Redis: 12,000 keys (strings, hashes, lists, sets);
* RabbitMQ: vhost ``sutazai-agents`` with a user of its own (state in the Mnesia volume).

The default instance (``python3 tests/testbed/stack.py up``, run by ``make testbed``) lives
in ``/var/tmp/sutazai-testbed/stack`` with project ``sutazai`` and the platform's container
names (``sutazai-postgres``, ...) and ports (10000, 10001, 10007, 10010, 10011, 10080). Tests
start instances of their own with :func:`instance` (another folder, project, prefix and free
ports) so that they can change and break them.

Passwords never reach a command line: Compose reads them from ``.env``; commands run inside
the containers take them from the container's environment.
"""

from __future__ import annotations

import fcntl
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
STACK_DIR = os.path.join(HERE, "stack")
DEFAULT_ROOT = os.environ.get("SUTAZAI_STACK_ROOT", "/var/tmp/sutazai-testbed/stack")
DEFAULT_PROJECT = "sutazai"
PLATFORM_PORTS = {"POSTGRES_HOST_PORT": 10000, "REDIS_HOST_PORT": 10001, "RABBITMQ_HOST_PORT": 10007,
                  "BACKEND_HOST_PORT": 10010, "FRONTEND_HOST_PORT": 10011, "NGINX_HOST_PORT": 10080}
SECRET_KEYS = ("POSTGRES_PASSWORD", "REDIS_PASSWORD", "RABBITMQ_DEFAULT_PASS")
UP_TIMEOUT = 300
"""Seconds ``up`` may take (builds included) before it fails."""

PG_ROWS = {"sutazai": {"agents": 1000, "tasks": 60000, "events": 40000}, "sutazai_metrics": {"samples": 10000}}
REDIS_KEYS = 12000


class StackError(RuntimeError):
    """A Compose or docker command of the stack failed; the message holds the command (never a
    password) and the end of its output."""


class Stack(object):
    """One stack instance: ``root`` (folder), ``project`` (Compose project name), ``env``
    (the ``.env`` values, dict) and ``prefix`` (container-name prefix)."""

    def __init__(self, root, project):
        self.root = root
        self.project = project
        self.env = read_env(os.path.join(root, ".env"))
        self.prefix = self.env.get("SUTAZAI_PREFIX", "sutazai")

    def container(self, service):
        """Container name of a service that sets ``container_name``."""
        return "%s-%s" % (self.prefix, service)

    def port(self, key):
        """Host port (int) on 127.0.0.1 for ``key`` (e.g. ``BACKEND_HOST_PORT``)."""
        return int(self.env[key])

    def compose(self, *args, timeout=UP_TIMEOUT, check=True, stdin=None):
        """Run ``docker compose -p <project> <args>`` in the instance folder; returns the
        CompletedProcess (text). Raises :class:`StackError` when ``check`` and it fails."""
        cmd = ["docker", "compose", "-p", self.project] + list(args)
        proc = subprocess.run(cmd, cwd=self.root, capture_output=True, text=True, timeout=timeout,
                              check=False, input=stdin)
        if check and proc.returncode != 0:
            tail = (proc.stderr + proc.stdout).strip()[-3000:]
            raise StackError("%s failed (rc=%d): %s" % (" ".join(cmd), proc.returncode, tail))
        return proc

    def exec(self, service, script, stdin=None, timeout=300, user=None):
        """Run ``sh -c script`` in the running ``service`` without a TTY (stdin piped when
        given, str or bytes); returns the CompletedProcess (bytes when ``stdin`` is bytes)."""
        cmd = ["docker", "exec", "-i"] + (["-u", user] if user else []) + [self.container(service), "sh", "-c", script]
        binary = isinstance(stdin, bytes)
        proc = subprocess.run(cmd, input=stdin, capture_output=True, text=not binary, timeout=timeout, check=False)
        if proc.returncode != 0:
            err = proc.stderr.decode("utf-8", "replace") if binary else proc.stderr
            raise StackError("docker exec %s failed (rc=%d): %s" % (self.container(service), proc.returncode, err.strip()[-2000:]))
        return proc

    def psql(self, sql, db="sutazai"):
        """Run SQL as the cluster's superuser through the Unix socket; returns stdout
        (unaligned, tuples only, ``|``-separated)."""
        return self.exec("postgres", "psql -X -q -A -t -v ON_ERROR_STOP=1 -h /var/run/postgresql -d %s" % db,
                         stdin=sql, user="postgres").stdout

    def redis(self, *command):
        """Run one redis-cli command in the redis container (password from its environment)."""
        return self.exec("redis", 'REDISCLI_AUTH="$REDIS_PASSWORD" redis-cli --no-raw %s' % " ".join(command)).stdout

    def services(self):
        """``{service: {"state", "health", "container"}}`` from ``docker compose ps``."""
        out = self.compose("ps", "--all", "--format", "json", timeout=60).stdout
        rows = []
        for line in out.splitlines():
            line = line.strip()
            if line.startswith("["):
                rows.extend(json.loads(line))
            elif line:
                rows.append(json.loads(line))
        return dict((r["Service"], {"state": r.get("State"), "health": r.get("Health") or "",
                                    "container": r.get("Name")}) for r in rows)

    def down(self):
        """Remove the containers, the network, the named volumes and the images Compose built
        for the instance."""
        self.compose("down", "-v", "--rmi", "local", "--remove-orphans", "-t", "5", timeout=180, check=False)


def read_env(path):
    """``KEY=value`` lines of a ``.env`` file the stack wrote (no quoting) as a dict."""
    values = {}
    if os.path.exists(path):
        with open(path) as f:
            for line in f:
                line = line.strip()
                if line and not line.startswith("#") and "=" in line:
                    k, v = line.split("=", 1)
                    values[k] = v
    return values


def free_ports(n):
    """``n`` distinct free TCP ports on 127.0.0.1 (ints), as the kernel hands them out."""
    socks, ports = [], []
    try:
        for _port in range(n):
            s = socket.socket()
            s.bind(("127.0.0.1", 0))
            socks.append(s)
            ports.append(s.getsockname()[1])
    finally:
        for s in socks:
            s.close()
    return ports


def prepare(root, prefix="sutazai", ports=None):
    """Copy the stack's files into ``root`` (updating changed ones, never touching ``.env``
    once written) and write ``.env`` (0600) when it is absent: ``SUTAZAI_PREFIX``, the
    ``*_HOST_PORT`` values (``ports`` dict, default the platform's ports), the user names and
    random passwords. Returns ``root``."""
    os.makedirs(root, exist_ok=True)
    for d, dirs, files in os.walk(STACK_DIR):
        rel = os.path.relpath(d, STACK_DIR)
        os.makedirs(os.path.join(root, rel), exist_ok=True)
        for f in files:
            src, dst = os.path.join(d, f), os.path.join(root, rel, f)
            with open(src, "rb") as fh:
                data = fh.read()
            if not os.path.exists(dst) or open(dst, "rb").read() != data:
                shutil.copyfile(src, dst)
    env_path = os.path.join(root, ".env")
    if not os.path.exists(env_path):
        values = dict(SUTAZAI_PREFIX=prefix, POSTGRES_USER="sutazai", POSTGRES_DB="sutazai",
                      RABBITMQ_DEFAULT_USER="sutazai")
        values.update(ports or PLATFORM_PORTS)
        for key in SECRET_KEYS:
            values[key] = secrets.token_hex(16)
        fd = os.open(env_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write("# Test-stack settings (written once by tests/testbed/stack.py).\n")
            for key in sorted(values):
                f.write("%s=%s\n" % (key, values[key]))
    return root


def instance(root, project):
    """A fresh instance for one test: files in ``root``, ``project`` also the container-name
    prefix, free host ports. Not started (see :func:`up`)."""
    ports = dict(zip(sorted(PLATFORM_PORTS), free_ports(len(PLATFORM_PORTS))))
    prepare(root, prefix=project, ports=ports)
    return Stack(root, project)


def up(stack, timeout=UP_TIMEOUT):
    """Build what changed and start every service; returns when all are running and every
    healthcheck passes (``--wait``), else raises :class:`StackError` with the services' states
    and the unhealthy ones' last log lines."""
    try:
        stack.compose("up", "-d", "--build", "--quiet-pull", "--wait", "--wait-timeout", str(timeout),
                      timeout=timeout + 600)
    except StackError as exc:
        states = stack.services()
        logs = []
        for name, st in sorted(states.items()):
            if st["state"] != "running" or st["health"] not in ("", "healthy"):
                logs.append("--- %s (%s %s):\n%s" % (name, st["state"], st["health"], stack.compose(
                    "logs", "--tail", "20", name, timeout=60, check=False).stdout))
        raise StackError("%s\n%s" % (exc, "\n".join(logs)))
    wait_rabbitmq(stack)
    return stack


def wait_rabbitmq(stack, timeout=120):
    """Wait until RabbitMQ answers on its AMQP port (it has no healthcheck, as in the platform)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection(("127.0.0.1", stack.port("RABBITMQ_HOST_PORT")), timeout=2) as s:
                s.sendall(b"AMQP\x00\x00\x09\x01")
                if s.recv(8):
                    return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise StackError("rabbitmq did not answer on 127.0.0.1:%d within %d s"
                             % (stack.port("RABBITMQ_HOST_PORT"), timeout))
        time.sleep(0.5)


SEED_SQL = """
SET ROLE sutazai;
CREATE TABLE agents (id integer PRIMARY KEY, name text NOT NULL, kind text NOT NULL, created timestamptz NOT NULL);
INSERT INTO agents SELECT i, 'agent-' || i, (ARRAY['ai','ops','data','security'])[1 + i % 4],
  timestamptz '2025-08-01' + i * interval '1 minute' FROM generate_series(1, {agents}) i;
CREATE TABLE tasks (id bigint PRIMARY KEY, agent_id integer NOT NULL REFERENCES agents (id), status text NOT NULL,
  payload text NOT NULL);
INSERT INTO tasks SELECT i, 1 + i % {agents}, (ARRAY['queued','running','done','failed'])[1 + i % 4], md5(i::text)
  FROM generate_series(1, {tasks}) i;
CREATE TABLE events (id bigint PRIMARY KEY, task_id bigint NOT NULL, body jsonb NOT NULL);
INSERT INTO events SELECT i, 1 + i % {tasks}, jsonb_build_object('n', i, 'hash', md5((i * 7)::text))
  FROM generate_series(1, {events}) i;
CREATE TABLE seed_info (seeded timestamptz NOT NULL DEFAULT now());
INSERT INTO seed_info DEFAULT VALUES;
"""

METRICS_SQL = """
SET ROLE sutazai;
CREATE TABLE samples (id integer PRIMARY KEY, metric text NOT NULL, value double precision NOT NULL);
INSERT INTO samples SELECT i, 'cpu.' || (i % 16), (i % 997) / 10.0 FROM generate_series(1, {samples}) i;
"""


def _resp(*parts):
    out = [b"*%d\r\n" % len(parts)]
    for p in parts:
        p = p if isinstance(p, bytes) else str(p).encode("utf-8")
        out.append(b"$%d\r\n%s\r\n" % (len(p), p))
    return b"".join(out)


def redis_seed_commands(n=REDIS_KEYS):
    """RESP commands for ``n`` keys (a quarter each strings, hashes, lists and sets) and the
    ``seed:done`` marker, for ``redis-cli --pipe``."""
    cmds = []
    for i in range(n):
        kind = i % 4
        if kind == 0:
            cmds.append(_resp("SET", "session:%d" % i, "token-%08x" % (i * 2654435761 % 2 ** 32)))
        elif kind == 1:
            cmds.append(_resp("HSET", "agent:%d" % i, "name", "agent-%d" % i, "state", "idle", "load", i % 100))
        elif kind == 2:
            cmds.append(_resp("RPUSH", "queue:%d" % i, "job-%d" % i, "job-%d" % (i + 1)))
        else:
            cmds.append(_resp("SADD", "tags:%d" % i, "ai", "tier-%d" % (i % 3)))
    cmds.append(_resp("SET", "seed:done", "1"))
    return b"".join(cmds)


def seed(stack):
    """Load the data into a started instance once (see the module docstring)."""
    if stack.psql("SELECT count(*) FROM pg_tables WHERE tablename = 'seed_info';").strip() != "1":
        stack.psql(SEED_SQL.format(**PG_ROWS["sutazai"]))
        stack.psql("CREATE DATABASE sutazai_metrics OWNER sutazai;", db="postgres")
        stack.psql(METRICS_SQL.format(**PG_ROWS["sutazai_metrics"]), db="sutazai_metrics")
        stack.psql("ANALYZE;")
        stack.psql("ANALYZE;", db="sutazai_metrics")
    if stack.redis("EXISTS", "seed:done").strip() != "(integer) 1":
        stack.exec("redis", 'REDISCLI_AUTH="$REDIS_PASSWORD" redis-cli --pipe', stdin=redis_seed_commands())
    vhosts = stack.exec("rabbitmq", "rabbitmqctl -q list_vhosts", user="rabbitmq").stdout.split()
    if "sutazai-agents" not in vhosts:
        stack.exec("rabbitmq", "rabbitmqctl -q add_vhost sutazai-agents", user="rabbitmq")
        stack.exec("rabbitmq", 'rabbitmqctl -q set_permissions -p sutazai-agents "$RABBITMQ_DEFAULT_USER" ".*" ".*" ".*"',
                   user="rabbitmq")
    return stack


def default_stack():
    """The default instance (``DEFAULT_ROOT``, project ``sutazai``), prepared, not started."""
    prepare(DEFAULT_ROOT)
    return Stack(DEFAULT_ROOT, DEFAULT_PROJECT)


def main(argv):
    if not argv or argv[0] not in ("up", "down", "status"):
        sys.stderr.write("usage: stack.py up|down|status\n")
        return 2
    os.makedirs(os.path.dirname(DEFAULT_ROOT), exist_ok=True)
    with open(os.path.join(os.path.dirname(DEFAULT_ROOT), "stack.lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        stack = default_stack()
        try:
            if argv[0] == "up":
                start = time.monotonic()
                seed(up(stack))
                print("stack %s: up and seeded in %.1f s (%s)" % (stack.project, time.monotonic() - start, stack.root))
            elif argv[0] == "down":
                stack.down()
            else:
                for name, st in sorted(stack.services().items()):
                    print("%-10s %-10s %s" % (name, st["state"], st["health"]))
        except (StackError, subprocess.TimeoutExpired) as exc:
            sys.stderr.write("stack.py: %s\n" % exc)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
