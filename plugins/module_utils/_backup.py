# -*- coding: utf-8 -*-
# Copyright (c) 2026 sutazai.consolidation contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Data backups of a running Compose project, each one restore-tested.

The project's services come from ``docker compose config --format json`` (the resolved Compose
model) and their containers from the Compose labels (``com.docker.compose.project`` and
``com.docker.compose.service``). Each service gets a method (:data:`METHODS`), chosen by a
word of its image's repository name (:data:`METHOD_BY_IMAGE_WORD`) unless the caller names it:

``pg_dumpall``
    ``pg_dumpall`` run in the container over TCP to 127.0.0.1 as ``POSTGRES_USER`` (default
    ``postgres``), the password (``POSTGRES_PASSWORD``) handed to ``docker exec`` through the
    environment (``-e PGPASSWORD``), never argv; streamed into ``<service>.pg_dumpall.sql.gz``.
    Restore test: the dump goes into a throwaway container of the same image and environment
    (no network, no ports, no volume of the service); per database and per table the row count
    and an order-independent checksum of the rows (md5 over the sorted md5s of each row's text)
    must equal the live ones.
``redis_rdb``
    ``LASTSAVE``/``INFO persistence``, ``BGSAVE``, then polling (every 0.2 s, up to the timeout)
    until a new snapshot is recorded (``rdb_saves`` grew, or ``LASTSAVE`` changed on servers
    without it), ``rdb_bgsave_in_progress:0`` and ``rdb_last_bgsave_status:ok``; the RDB file
    (``CONFIG GET dir``/``dbfilename``) is copied out as ``<service>.dump.rdb``. The password
    (``REDIS_PASSWORD`` or ``--requirepass`` of the command) reaches redis-cli as
    ``REDISCLI_AUTH``. Restore test: a throwaway container of the same image loads the file;
    ``DBSIZE`` and a digest over every key, its type and its value (hash fields and set members
    sorted, see :data:`DIGEST_LUA`) must equal the live ones.
``offline``
    For stateful services without an online dump (Neo4j 5 community, RabbitMQ): the container is
    stopped, each of its named volumes archived, the container started again and health-gated;
    the downtime (stop to healthy) is measured.
``volume``
    Each named volume the service mounts, archived by ``tar`` in a throwaway container of the
    service's image (``--network none``, the volume read-only) as
    ``<service>.<volume>.tar.gz``. Restore test: the archive is extracted into a throwaway
    volume; its file list and per-file sha256 must equal the archive's and the live volume's.
``none``
    Not backed up.

Every file is written under ``<backup_root>/<run_id>/data/`` (folder 0700, files 0600) with
``manifest.json``: ``{"format": 1, "run_id", "project", "created", "entries": [...]}``, an entry
being ``{"service", "kind", "file", "bytes", "sha256", "seconds", "volume"?, "downtime_seconds"?,
"restore_test": {"passed": bool, "seconds", "checked": {...}}}``.

Nothing here prints or returns a secret: passwords are read from ``docker inspect`` into the
environment of the docker CLI only, and every message is redacted by the phase module.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import re
import shlex
import subprocess
import tarfile
import tempfile
import time
import uuid

from ansible_collections.sutazai.consolidation.plugins.module_utils._errors import ConsolidationError
from ansible_collections.sutazai.consolidation.plugins.module_utils._fileio import atomic_write, sha256_file
from ansible_collections.sutazai.consolidation.plugins.module_utils._journal import utc_now

try:
    from dotenv import dotenv_values
    from ruamel.yaml import YAML

    HAS_LIBS = True
except ImportError:  # pragma: no cover - reported by the module
    HAS_LIBS = False

METHODS = ("pg_dumpall", "redis_rdb", "offline", "volume", "none")
"""The backup methods, in the order a service is matched."""

METHOD_BY_IMAGE_WORD = {
    "postgres": "pg_dumpall", "postgresql": "pg_dumpall", "postgis": "pg_dumpall", "timescaledb": "pg_dumpall",
    "redis": "redis_rdb", "valkey": "redis_rdb",
    "neo4j": "offline", "rabbitmq": "offline",
}
"""A word of the image's repository name (split at ``/ - _ .``; the tag ignored) -> method; a
service built from a Dockerfile without an ``image`` is matched by the words of its name. A
service matching no word gets ``volume`` when it mounts a named volume, else ``none``."""

MANIFEST_FORMAT = 1
POLL_SECONDS = 0.2
CHUNK = 1 << 20
LABEL = "org.sutazai.consolidation.backup"
"""Label on every throwaway container and volume this module makes (removed when done); its
value is the name of the live container the throwaway serves."""


class BackupError(ConsolidationError):
    """A backup or its restore test failed; the message names the service and the step."""

    def __init__(self, message, service=None, kind="backup_failed"):
        super(BackupError, self).__init__(message, path=service, kind=kind)
        self.service = service


# -- docker CLI ------------------------------------------------------------------------------
def docker(args, env=None, stdin=None, timeout=300, check=True, what=None):
    """Run ``docker <args>`` (list of str, never holding a secret) and return the
    CompletedProcess (bytes). ``env`` (dict) is added to the CLI's environment, for
    ``docker exec -e NAME`` without a value. Raises :class:`BackupError` (the command's first
    words and the end of its stderr) when ``check`` and it fails or exceeds ``timeout`` s."""
    full_env = dict(os.environ)
    full_env.update(env or {})
    try:
        proc = subprocess.run(["docker"] + list(args), input=stdin, capture_output=True, env=full_env,
                              timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        raise BackupError("%s: docker %s did not end within %d s" % (what or "docker", " ".join(args[:2]), timeout))
    if check and proc.returncode != 0:
        raise BackupError("%s: docker %s failed (rc=%d): %s" % (
            what or "docker", " ".join(args[:2]), proc.returncode,
            proc.stderr.decode("utf-8", "replace").strip()[-600:]))
    return proc


def stream_to(args, path, env=None, timeout=3600, compress=False, what=None):
    """Run ``docker <args>`` and write its stdout to ``path`` (0600; gzip level 6 when
    ``compress``) in 1 MiB blocks. Returns the seconds taken. Raises :class:`BackupError`
    on a non-zero exit or when ``timeout`` s pass (the partial file is removed)."""
    full_env = dict(os.environ)
    full_env.update(env or {})
    start = time.monotonic()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    ok = False
    try:
        with os.fdopen(fd, "wb") as raw, tempfile.TemporaryFile() as errfile:
            out = gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=6, mtime=0) if compress else raw
            # stderr to a file: a pipe nobody reads could fill up and stall the dump.
            proc = subprocess.Popen(["docker"] + list(args), stdout=subprocess.PIPE, stderr=errfile, env=full_env)
            try:
                for block in iter(lambda: proc.stdout.read(CHUNK), b""):
                    out.write(block)
                    if time.monotonic() - start > timeout:
                        proc.kill()
                        raise BackupError("%s: did not end within %d s" % (what or "docker", timeout))
                rc = proc.wait(timeout=max(1, timeout - (time.monotonic() - start)))
                errfile.seek(0)
                err = errfile.read()[-4000:]
            finally:
                if proc.poll() is None:
                    proc.kill()
                    proc.wait()
            if compress:
                out.close()
            raw.flush()
            os.fsync(raw.fileno())
        if rc != 0:
            raise BackupError("%s: docker %s failed (rc=%d): %s" % (
                what or "docker", " ".join(args[:2]), rc, err.decode("utf-8", "replace").strip()[-600:]))
        ok = True
    finally:
        if not ok and os.path.exists(path):
            os.remove(path)
    return time.monotonic() - start


def inspect(container):
    """``docker inspect`` of one container (dict). Holds the container's environment: never
    return or print it."""
    return json.loads(docker(["inspect", container], timeout=60, what=container).stdout)[0]


def env_of(info):
    """The container's environment (``Config.Env``) as a dict."""
    return dict(e.split("=", 1) if "=" in e else (e, "") for e in (info.get("Config") or {}).get("Env") or [])


# -- the project ----------------------------------------------------------------------------
def compose_model(project_dir, files, project_name=None, timeout=120):
    """The resolved Compose model (dict) of ``files`` (paths relative to ``project_dir``).

    Raises :class:`BackupError` naming the files when Compose rejects them."""
    args = ["compose", "--project-directory", project_dir]
    for f in files:
        args += ["-f", os.path.join(project_dir, f)]
    if project_name:
        args += ["-p", project_name]
    proc = docker(args + ["config", "--format", "json"], timeout=timeout, check=False)
    if proc.returncode != 0:
        raise BackupError("Compose model of %s: %s" % (", ".join(files), proc.stderr.decode("utf-8", "replace").strip()[-600:]),
                          kind="invalid_compose")
    return json.loads(proc.stdout)


def _normalize_project(name):
    return re.sub(r"[^a-z0-9_-]", "", name.lower())


def default_project_name(project_dir, files=()):
    """The project name Compose uses without ``-p``: ``COMPOSE_PROJECT_NAME`` of the project's
    ``.env``, else the top-level ``name`` of the last Compose file in ``files`` (paths relative to
    ``project_dir``) that has a literal one, else the folder's base name; lower-cased, every
    character but ``a-z 0-9 _ -`` removed, as Compose does. Unreadable files are passed over."""
    env_path = os.path.join(project_dir, ".env")
    if os.path.isfile(env_path):
        try:
            name = dotenv_values(env_path).get("COMPOSE_PROJECT_NAME")
        except (OSError, UnicodeDecodeError):
            name = None
        if name and _normalize_project(name):
            return _normalize_project(name)
    for f in reversed(list(files)):
        try:
            with open(os.path.join(project_dir, f), "rb") as fh:
                data = YAML(typ="safe").load(fh)
        except Exception:  # noqa: BLE001 (Compose itself reports a broken file later)
            continue
        name = data.get("name") if isinstance(data, dict) else None
        if isinstance(name, str) and "$" not in name and _normalize_project(name):
            return _normalize_project(name)
    return _normalize_project(os.path.basename(os.path.abspath(project_dir)))


def project_containers(project):
    """``{service: container name}`` of the project's containers (running or not), from the
    Compose labels (one-off ``compose run`` containers left out); a scaled service lists its
    first container by name."""
    out = docker(["ps", "-a", "--filter", "label=com.docker.compose.project=%s" % project,
                  "--filter", "label=com.docker.compose.oneoff=False", "--format",
                  '{{.Names}}\t{{.Label "com.docker.compose.service"}}'], timeout=60).stdout.decode("utf-8")
    found = {}
    for line in sorted(out.splitlines()):
        if "\t" in line:
            name, service = line.split("\t", 1)
            found.setdefault(service, name)
    return found


def image_words(image):
    """Words of an image's repository name: ``registry:5000/org/sutazai-postgres-secure:1``
    -> ``["sutazai", "postgres", "secure"]``."""
    repo = (image or "").rsplit("/", 1)[-1].split("@", 1)[0].split(":", 1)[0]
    return [w for w in re.split(r"[-_.]", repo.lower()) if w]


def named_volumes(service, model):
    """``[{"volume": key in the model, "name": Docker volume name, "target": mount path}]`` of the
    named volumes a service mounts (bind mounts and tmpfs left out)."""
    vols = []
    declared = model.get("volumes") or {}
    for v in service.get("volumes") or []:
        if v.get("type") == "volume" and v.get("source"):
            key = v["source"]
            vols.append({"volume": key, "name": (declared.get(key) or {}).get("name") or key, "target": v.get("target")})
    return vols


def plan(model, containers, methods=None, exclude=()):
    """What to back up: one item per service of ``model`` that has a container and a method
    other than ``none``, in service order: ``{"service", "method", "container", "image",
    "volumes", "why"}``. ``methods`` (dict service -> method) overrides the image rule.

    Raises :class:`BackupError` for a method not in :data:`METHODS`."""
    methods = methods or {}
    items = []
    for name in sorted(model.get("services") or {}):
        if name in exclude:
            continue
        svc = model["services"][name]
        vols = named_volumes(svc, model)
        if name in methods:
            method, why = methods[name], "set by the caller"
            if method not in METHODS:
                raise BackupError("%s: backup method %r is not one of %s" % (name, method, ", ".join(METHODS)),
                                  service=name, kind="invalid_option")
        else:
            # A service built here has no image in the model: its name stands for it.
            source = svc.get("image") or name
            # An exporter (postgres-exporter, redis_exporter) only reads metrics: not a database.
            words = [w for w in image_words(source) if w in METHOD_BY_IMAGE_WORD]
            if "exporter" in image_words(source):
                words = []
            if words:
                method, why = METHOD_BY_IMAGE_WORD[words[0]], ("image %s" % source if svc.get("image") else "service name")
            elif vols:
                method, why = "volume", "named volumes"
            else:
                method, why = "none", "no data"
        if method == "none" or name not in containers:
            continue
        items.append({"service": name, "method": method, "container": containers[name],
                      "image": svc.get("image"), "volumes": vols, "why": why})
    return items


def secret_values(info):
    """Values of the container's environment that the backup hands to tools (for redaction)."""
    env = env_of(info)
    values = [env.get(k) for k in ("POSTGRES_PASSWORD", "REDIS_PASSWORD", "PGPASSWORD", "REDISCLI_AUTH")]
    return [v for v in values + [redis_password(info)] if v]


# -- PostgreSQL ------------------------------------------------------------------------------
def _pg_env(info):
    env = env_of(info)
    return env.get("POSTGRES_USER") or "postgres", {"PGPASSWORD": env.get("POSTGRES_PASSWORD", "")}


def psql(container, info, sql, db="postgres", timeout=600, what=None):
    """Run ``sql`` (str) with psql in ``container`` as its POSTGRES_USER over 127.0.0.1;
    returns stdout lines (unaligned, tuples only, fields separated by ``|``)."""
    user, env = _pg_env(info)
    proc = docker(["exec", "-i", "-e", "PGPASSWORD", container, "psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1",
                   "-h", "127.0.0.1", "-U", user, "-d", db], env=env, stdin=sql.encode("utf-8"), timeout=timeout,
                  what=what or container)
    return proc.stdout.decode("utf-8").splitlines()


TABLES_SQL = ("SELECT quote_ident(n.nspname) || '.' || quote_ident(c.relname) FROM pg_class c "
              "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind IN ('r', 'p') "
              "AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%' "
              "ORDER BY 1;")


def pg_checksums(container, info, timeout=600, what=None):
    """``{database: {table: [rows, checksum]}}`` of every database that accepts connections
    (templates apart): ``rows`` an int, ``checksum`` the md5 over the sorted md5s of the rows'
    text (order-independent)."""
    dbs = psql(container, info, "SELECT datname FROM pg_database WHERE datallowconn AND NOT datistemplate ORDER BY 1;",
               timeout=timeout, what=what)
    out = {}
    for db in dbs:
        tables = psql(container, info, TABLES_SQL, db=db, timeout=timeout, what=what)
        out[db] = {}
        if not tables:
            continue
        parts = ["SELECT %s, count(*), coalesce(md5(string_agg(md5(ROW(t.*)::text), '' ORDER BY md5(ROW(t.*)::text))), '') FROM %s t"
                 % ("'" + t.replace("'", "''") + "'", t) for t in tables]
        for line in psql(container, info, " UNION ALL ".join(parts) + ";", db=db, timeout=timeout, what=what):
            table, rows, checksum = line.rsplit("|", 2)
            out[db][table] = [int(rows), checksum]
    return out


def pg_size(container, info, timeout=120):
    """Bytes of every database (``pg_database_size``), a read-only query (check mode)."""
    lines = psql(container, info, "SELECT coalesce(sum(pg_database_size(datname)), 0) FROM pg_database;", timeout=timeout)
    return int(lines[0]) if lines else 0


def backup_pg(item, info, data_dir, timeout):
    """Stream ``pg_dumpall`` of the item's container into ``<service>.pg_dumpall.sql.gz``."""
    user, env = _pg_env(info)
    name = "%s.pg_dumpall.sql.gz" % item["service"]
    seconds = stream_to(["exec", "-i", "-e", "PGPASSWORD", item["container"], "pg_dumpall", "-h", "127.0.0.1", "-U", user],
                        os.path.join(data_dir, name), env=env, timeout=timeout, compress=True,
                        what="%s: pg_dumpall" % item["service"])
    return name, seconds


_CREATE_ROLE = re.compile(r'^CREATE ROLE ("(?:[^"]|"")+"|[^\s;]+);$')
_DROP_ROLE = re.compile(r'^DROP ROLE (?:IF EXISTS )?("(?:[^"]|"")+"|[^\s;]+);$')


def _ident(token):
    return token[1:-1].replace('""', '"') if token.startswith('"') else token


def restore_filter(lines, existing_roles, current_user):
    """Yield the dump's lines for a restore into a server that already has ``existing_roles``:
    ``CREATE ROLE r;`` of a role that exists is dropped (its ``ALTER ROLE`` still sets its
    attributes), as is ``DROP ROLE`` of the user the restore runs as (``--clean`` dumps)."""
    for line in lines:
        stripped = line.rstrip(b"\n").decode("utf-8", "surrogateescape")
        m = _CREATE_ROLE.match(stripped)
        if m and _ident(m.group(1)) in existing_roles:
            continue
        m = _DROP_ROLE.match(stripped)
        if m and _ident(m.group(1)) == current_user:
            continue
        yield line


class Throwaway(object):
    """A container of ``image`` with the live container's environment and command, no network,
    no published port and no volume of the service; removed (with its anonymous volumes) on
    exit. ``mounts``: ``[(volume name, target)]`` to attach."""

    def __init__(self, info, image=None, mounts=(), start=True):
        self.info = info
        self.image = image or info["Config"]["Image"]
        self.name = "sutazai-backup-check-%s" % uuid.uuid4().hex[:12]
        self.mounts = mounts
        self.start = start

    def __enter__(self):
        # The container's settings, not the ones that steer the docker CLI or that the image sets
        # itself (PATH, HOME): they would replace the host's in the CLI's environment.
        env = dict((k, v) for k, v in env_of(self.info).items()
                   if k not in ("PATH", "HOME", "HOSTNAME") and not k.startswith("DOCKER_") and not k.lower().endswith("_proxy"))
        owner = (self.info.get("Name") or "").lstrip("/") or "1"
        args = ["create", "--name", self.name, "--label", "%s=%s" % (LABEL, owner), "--network", "none"]
        for key in sorted(env):
            args += ["-e", key]
        for vol, target in self.mounts:
            args += ["-v", "%s:%s" % (vol, target)]
        cfg = self.info.get("Config") or {}
        if cfg.get("Entrypoint"):
            args += ["--entrypoint", cfg["Entrypoint"][0]]
        args.append(self.image)
        args += (cfg.get("Entrypoint") or [])[1:] + (cfg.get("Cmd") or [])
        try:
            docker(args, env=env, timeout=120, what="throwaway container")
            if self.start:
                docker(["start", self.name], timeout=120, what="throwaway container")
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc):
        docker(["rm", "-f", "-v", self.name], timeout=120, check=False)
        return False


def wait_until(probe, timeout, what, container=None):
    """Call ``probe()`` every :data:`POLL_SECONDS` until it returns a true value (returned) or
    ``timeout`` s pass (:class:`BackupError` naming ``what``). With ``container``, fail at once
    (with its last log line) when that container has stopped."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if container and not (inspect(container).get("State") or {}).get("Running"):
            logs = docker(["logs", "--tail", "5", container], timeout=60, check=False)
            last = (logs.stderr + logs.stdout).decode("utf-8", "replace").strip().splitlines()
            raise BackupError("%s: the container stopped%s" % (what, ": " + last[-1][-300:] if last else ""))
        if time.monotonic() > deadline:
            raise BackupError("%s: not ready within %d s" % (what, timeout))
        time.sleep(POLL_SECONDS)


def _pg_ready(container, info):
    """True once the server takes TCP logins as POSTGRES_USER into POSTGRES_DB (default: the
    user's name, as in the official image): the image's initialisation is then done."""
    user, env = _pg_env(info)
    db = env_of(info).get("POSTGRES_DB") or user
    proc = docker(["exec", "-e", "PGPASSWORD", container, "psql", "-X", "-q", "-A", "-t", "-h", "127.0.0.1", "-U", user,
                   "-d", db, "-c", "SELECT 1"], env=env, timeout=30, check=False)
    return proc.returncode == 0 and proc.stdout.strip() == b"1"


def verify_pg(item, info, path, live, timeout):
    """Restore ``path`` into a throwaway container and compare its checksums with ``live``.

    :returns: ``{"passed", "seconds", "checked": {"databases", "tables", "rows"}, "differences"}``.
    """
    start = time.monotonic()
    user, env = _pg_env(info)
    what = "%s: restore test" % item["service"]
    with Throwaway(info) as tmp:
        wait_until(lambda: _pg_ready(tmp.name, info), timeout, what, container=tmp.name)
        roles = set(psql(tmp.name, info, "SELECT rolname FROM pg_roles;", what=what))
        for db in psql(tmp.name, info, "SELECT datname FROM pg_database WHERE NOT datistemplate AND datname <> 'postgres';",
                       what=what):
            psql(tmp.name, info, 'DROP DATABASE "%s";' % db.replace('"', '""'), what=what)
        try:
            with gzip.open(path, "rb") as f:
                dump = b"".join(restore_filter(f, roles, user))
        except (OSError, EOFError) as exc:
            return {"passed": False, "seconds": round(time.monotonic() - start, 3), "checked": {},
                    "differences": ["%s cannot be read: %s" % (os.path.basename(path), exc)]}
        proc = docker(["exec", "-i", "-e", "PGPASSWORD", tmp.name, "psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1",
                       "-U", user, "-d", "postgres"], env=env, stdin=dump, timeout=timeout, check=False)
        if proc.returncode != 0:
            err = proc.stderr.decode("utf-8", "replace").strip().splitlines()
            return {"passed": False, "seconds": round(time.monotonic() - start, 3), "checked": {},
                    "differences": ["the dump does not restore: %s" % (err[-1] if err else "psql rc=%d" % proc.returncode)]}
        restored = pg_checksums(tmp.name, info, timeout=timeout, what=what)
    diffs = []
    for db in sorted(set(live) | set(restored)):
        if db not in restored:
            diffs.append("database %s missing from the restore" % db)
            continue
        if db not in live:
            continue  # the throwaway's own maintenance database
        for table in sorted(set(live[db]) | set(restored[db])):
            a, b = live[db].get(table), restored[db].get(table)
            if a != b:
                live_rows = "%d rows" % a[0] if a else "absent"
                restored_rows = "%d rows" % b[0] if b else "absent"
                same = " (same count, other rows)" if a and b and a[0] == b[0] else ""
                diffs.append("%s.%s: live %s, restored %s%s" % (db, table, live_rows, restored_rows, same))
    checked = {"databases": len(live), "tables": sum(len(t) for t in live.values()),
               "rows": sum(r[0] for t in live.values() for r in t.values())}
    return {"passed": not diffs, "seconds": round(time.monotonic() - start, 3), "checked": checked, "differences": diffs[:20]}


# -- Redis -------------------------------------------------------------------------------------
def redis_password(info):
    """The Redis password of a container: ``REDIS_PASSWORD`` in its environment, else the value
    after ``--requirepass`` in its command, else None."""
    env = env_of(info)
    if env.get("REDIS_PASSWORD"):
        return env["REDIS_PASSWORD"]
    cmd = list((info.get("Config") or {}).get("Cmd") or [])
    if len(cmd) == 1 or (len(cmd) == 3 and cmd[:2] in (["sh", "-c"], ["/bin/sh", "-c"])):
        try:
            cmd = shlex.split(cmd[-1])
        except ValueError:
            pass
    for i, arg in enumerate(cmd):
        if arg == "--requirepass" and i + 1 < len(cmd):
            return cmd[i + 1]
    return None


def redis_cli(container, info, args, stdin=None, timeout=120, what=None):
    """Run ``redis-cli <args>`` in ``container`` (password as ``REDISCLI_AUTH``); returns stdout (bytes)."""
    pw = redis_password(info)
    env = {"REDISCLI_AUTH": pw} if pw else {}
    pre = ["exec", "-i"] + (["-e", "REDISCLI_AUTH"] if pw else []) + [container, "redis-cli"]
    return docker(pre + list(args), env=env, stdin=stdin, timeout=timeout, what=what or container).stdout


def redis_info(container, info, section="persistence", what=None):
    out = redis_cli(container, info, ["INFO", section], what=what).decode("utf-8", "replace")
    return dict(line.split(":", 1) for line in out.splitlines() if ":" in line and not line.startswith("#"))


def _redis_reply(out):
    return out.decode("utf-8", "replace").strip()


DIGEST_LUA = (
    "local sep0, sep1, out = string.char(0), string.char(1), {} "
    "for _, k in ipairs(KEYS) do "
    "local t = redis.call('TYPE', k)['ok'] local v = '' "
    "if t == 'string' then v = redis.call('GET', k) "
    "elseif t == 'hash' then local a, p = redis.call('HGETALL', k), {} "
    "for j = 1, #a, 2 do p[#p + 1] = a[j] .. sep0 .. a[j + 1] end table.sort(p) v = table.concat(p, sep1) "
    "elseif t == 'set' then local a = redis.call('SMEMBERS', k) table.sort(a) v = table.concat(a, sep1) "
    "elseif t == 'list' then v = table.concat(redis.call('LRANGE', k, 0, -1), sep1) "
    "elseif t == 'zset' then v = table.concat(redis.call('ZRANGE', k, 0, -1, 'WITHSCORES'), sep1) "
    "elseif t ~= 'none' then v = redis.call('DUMP', k) end "
    "out[#out + 1] = redis.sha1hex(k .. sep0 .. t .. sep0 .. v) end "
    "return redis.sha1hex(table.concat(out))")
"""Server-side script: sha1 over each key's name, type and value in a canonical order (hash
fields and set members sorted, so two servers holding the same data agree whatever their
internal encoding); streams and module types by their ``DUMP``."""


def _quote(key):
    return b'"' + key.replace(b"\\", b"\\\\").replace(b'"', b'\\"') + b'"'


def redis_digest(container, info, timeout=600, what=None, batch=500):
    """``{"keys": DBSIZE, "digest": sha256 over the sorted keys' canonical digests}`` (see
    :data:`DIGEST_LUA`; ``batch`` keys per script call)."""
    # SCAN may return a key more than once.
    keys = sorted(set(k for k in redis_cli(container, info, ["--scan"], timeout=timeout, what=what).split(b"\n") if k))
    lines = []
    for i in range(0, len(keys), batch):
        part = keys[i:i + batch]
        lines.append(b" ".join([b"EVAL", _quote(DIGEST_LUA.encode("utf-8")), str(len(part)).encode("ascii")]
                               + [_quote(k) for k in part]))
    out = redis_cli(container, info, [], stdin=b"\n".join(lines) + b"\n", timeout=timeout, what=what) if lines else b""
    replies = out.split()
    if len(replies) != len(lines) or not all(re.match(rb"^[0-9a-f]{40}$", r) for r in replies):
        raise BackupError("%s: the key digest script failed: %s" % (what or container, out[:300].decode("utf-8", "replace")))
    size = _redis_reply(redis_cli(container, info, ["DBSIZE"], what=what))
    return {"keys": int(re.sub(r"\D", "", size) or 0), "digest": hashlib.sha256(b"".join(replies)).hexdigest()}


def redis_size(container, info):
    """``used_memory`` of the server in bytes (read-only; check mode's estimate)."""
    return int(redis_info(container, info, "memory").get("used_memory", "0") or 0)


def backup_redis(item, info, data_dir, timeout):
    """BGSAVE, wait for the new snapshot (no fixed sleep; ``timeout`` s), copy the RDB out."""
    c, what = item["container"], "%s: BGSAVE" % item["service"]
    before = redis_info(c, info, what=what)
    last = _redis_reply(redis_cli(c, info, ["LASTSAVE"], what=what))
    start = time.monotonic()

    def bgsave():
        reply = _redis_reply(redis_cli(c, info, ["BGSAVE"], what=what))
        if "in progress" in reply or "child process" in reply:
            return False  # a snapshot or an AOF rewrite is being written: ask again once it is done
        if "started" not in reply and "scheduled" not in reply:
            raise BackupError("%s: BGSAVE answered %r" % (item["service"], reply[:200]), service=item["service"])
        return True

    wait_until(bgsave, timeout, what)

    def saved():
        now = redis_info(c, info, what=what)
        if now.get("rdb_bgsave_in_progress") != "0":
            return False
        if "rdb_saves" in before:
            new = int(now.get("rdb_saves", "0")) > int(before["rdb_saves"])
        else:
            new = _redis_reply(redis_cli(c, info, ["LASTSAVE"], what=what)) != last
        if new and now.get("rdb_last_bgsave_status") != "ok":
            raise BackupError("%s: BGSAVE failed (rdb_last_bgsave_status:%s)" % (item["service"], now.get("rdb_last_bgsave_status")),
                              service=item["service"])
        return new

    wait_until(saved, timeout, what)
    folder = _redis_reply(redis_cli(c, info, ["CONFIG", "GET", "dir"], what=what)).splitlines()
    dbfile = _redis_reply(redis_cli(c, info, ["CONFIG", "GET", "dbfilename"], what=what)).splitlines()
    rdb = "%s/%s" % (folder[1] if len(folder) > 1 else "/data", dbfile[1] if len(dbfile) > 1 else "dump.rdb")
    name = "%s.dump.rdb" % item["service"]
    stream_to(["exec", c, "cat", rdb], os.path.join(data_dir, name), timeout=timeout, what="%s: copy %s" % (item["service"], rdb))
    return name, time.monotonic() - start, rdb


def verify_redis(item, info, path, rdb, live, timeout):
    """Load ``path`` in a throwaway container of the same image and compare its digest with ``live``."""
    start = time.monotonic()
    what = "%s: restore test" % item["service"]
    folder, base = os.path.split(rdb)
    with Throwaway(info, start=False) as tmp:
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
            member = tar.gettarinfo(path, arcname="%s/%s" % (os.path.basename(folder), base))
            member.uid = member.gid = 0
            member.mode = 0o644
            with open(path, "rb") as f:
                tar.addfile(member, f)
        docker(["cp", "-", "%s:%s" % (tmp.name, os.path.dirname(folder) or "/")], stdin=buf.getvalue(), timeout=timeout, what=what)
        docker(["start", tmp.name], timeout=120, what=what)

        def ready():
            proc = docker(["exec"] + (["-e", "REDISCLI_AUTH"] if redis_password(info) else []) + [tmp.name, "redis-cli", "PING"],
                          env={"REDISCLI_AUTH": redis_password(info) or ""}, timeout=30, check=False)
            return b"PONG" in proc.stdout

        try:
            wait_until(ready, timeout, what, container=tmp.name)
        except BackupError as exc:
            return {"passed": False, "seconds": round(time.monotonic() - start, 3), "checked": {},
                    "differences": ["the RDB file does not load: %s" % exc]}
        restored = redis_digest(tmp.name, info, timeout=timeout, what=what)
    diffs = []
    if restored["keys"] != live["keys"]:
        diffs.append("DBSIZE live %d, restored %d" % (live["keys"], restored["keys"]))
    elif restored["digest"] != live["digest"]:
        diffs.append("same number of keys (%d), other keys or values" % live["keys"])
    return {"passed": not diffs, "seconds": round(time.monotonic() - start, 3), "checked": {"keys": live["keys"]},
            "differences": diffs}


# -- volumes --------------------------------------------------------------------------------------
def _helper_image(item, info, helper_image):
    return helper_image or info["Config"]["Image"]


def archive_volume(item, info, volume, data_dir, timeout, helper_image=None):
    """tar the named ``volume`` (dict of :func:`named_volumes`) through a throwaway container into
    ``<service>.<volume>.tar.gz``; returns ``(file name, seconds)``."""
    name = "%s.%s.tar.gz" % (item["service"], volume["volume"])
    args = ["run", "--rm", "--log-driver", "none", "--network", "none", "--label", "%s=%s" % (LABEL, item["container"]),
            "-u", "0", "-v", "%s:/volume:ro" % volume["name"], "--entrypoint", "tar", _helper_image(item, info, helper_image), "-C", "/volume", "-cf", "-", "."]
    seconds = stream_to(args, os.path.join(data_dir, name), timeout=timeout, compress=True,
                        what="%s: archive volume %s" % (item["service"], volume["name"]))
    return name, seconds


def tar_listing(fileobj):
    """``{path: sha256 or "dir" or "link:<target>"}`` of a tar stream (read sequentially)."""
    out = {}
    with tarfile.open(fileobj=fileobj, mode="r|*") as tar:
        for m in tar:
            path = m.name[2:] if m.name.startswith("./") else m.name
            if m.isdir():
                out[path or "."] = "dir"
            elif m.issym() or m.islnk():
                out[path] = "link:" + m.linkname
            elif m.isfile():
                h = hashlib.sha256()
                f = tar.extractfile(m)
                for block in iter(lambda: f.read(CHUNK), b""):
                    h.update(block)
                out[path] = h.hexdigest()
    return out


def volume_listing(volume_name, image, timeout, what, owner="1"):
    """:func:`tar_listing` of a live volume, read through a throwaway container (labelled
    ``LABEL=<owner>``, the live container it serves)."""
    proc = docker(["run", "--rm", "--log-driver", "none", "--network", "none", "--label", "%s=%s" % (LABEL, owner),
                   "-u", "0", "-v", "%s:/volume:ro" % volume_name, "--entrypoint", "tar", image, "-C", "/volume", "-cf", "-", "."], timeout=timeout, what=what)
    return tar_listing(io.BytesIO(proc.stdout))


def verify_volume(item, info, volume, path, live, timeout, helper_image=None):
    """Extract the archive into a throwaway volume; its listing must equal the archive's and ``live``."""
    start = time.monotonic()
    what = "%s: restore test of %s" % (item["service"], volume["name"])
    image = _helper_image(item, info, helper_image)
    try:
        with gzip.open(path, "rb") as f:
            archived = tar_listing(f)
        with gzip.open(path, "rb") as f:
            data = f.read()
    except (OSError, EOFError, tarfile.TarError) as exc:
        return {"passed": False, "seconds": round(time.monotonic() - start, 3), "checked": {},
                "differences": ["%s cannot be read: %s" % (os.path.basename(path), exc)]}
    tmp_volume = "sutazai-backup-check-%s" % uuid.uuid4().hex[:12]
    owner = item["container"]
    docker(["volume", "create", "--label", "%s=%s" % (LABEL, owner), tmp_volume], timeout=60, what=what)
    try:
        docker(["run", "--rm", "-i", "--log-driver", "none", "--network", "none", "--label", "%s=%s" % (LABEL, owner),
                "-u", "0", "-v", "%s:/volume" % tmp_volume, "--entrypoint", "tar", image, "-C", "/volume", "-xf", "-"], stdin=data, timeout=timeout, what=what)
        restored = volume_listing(tmp_volume, image, timeout, what, owner)
    finally:
        docker(["volume", "rm", "-f", tmp_volume], timeout=60, check=False)
    diffs = []
    for label, other in (("archive", archived), ("live volume", live)):
        if restored != other:
            missing = sorted(set(other) - set(restored))
            extra = sorted(set(restored) - set(other))
            changed = sorted(p for p in set(other) & set(restored) if other[p] != restored[p])
            diffs.append("restored volume differs from the %s: %d missing, %d extra, %d changed%s" % (
                label, len(missing), len(extra), len(changed),
                " (e.g. %s)" % (missing + extra + changed)[0] if (missing + extra + changed) else ""))
    return {"passed": not diffs, "seconds": round(time.monotonic() - start, 3),
            "checked": {"files": sum(1 for v in archived.values() if v != "dir" and not v.startswith("link:"))},
            "differences": diffs}


def volume_sizes():
    """``{volume name: bytes}`` from ``docker system df -v`` (read-only; check mode's estimate)."""
    proc = docker(["system", "df", "-v", "--format", "{{json .Volumes}}"], timeout=300, check=False)
    sizes = {}
    if proc.returncode == 0:
        for v in json.loads(proc.stdout or b"[]") or []:
            sizes[v.get("Name")] = parse_size(v.get("Size", "0B"))
    return sizes


def parse_size(text):
    """``"102.7MB"`` -> 102700000 (Docker's decimal units; ``N/A`` -> 0)."""
    m = re.match(r"^\s*([\d.]+)\s*([kKMGT]?B)\s*$", text or "")
    if not m:
        return 0
    mult = {"B": 1, "kB": 1e3, "KB": 1e3, "MB": 1e6, "GB": 1e9, "TB": 1e12}[m.group(2)]
    return int(float(m.group(1)) * mult)


# -- offline services ------------------------------------------------------------------------------
def healthy(container, timeout, what):
    """Wait until ``container`` runs and, when it has a healthcheck, reports healthy."""
    def probe():
        state = inspect(container).get("State") or {}
        if not state.get("Running"):
            return False
        health = (state.get("Health") or {}).get("Status")
        return health in (None, "healthy")
    return wait_until(probe, timeout, what)


# -- the whole backup -------------------------------------------------------------------------------
def write_manifest(data_dir, manifest):
    data = json.dumps(manifest, indent=2, sort_keys=True).encode("utf-8") + b"\n"
    atomic_write(os.path.join(data_dir, "manifest.json"), data, mode=0o600)


def estimate(items):
    """Check mode: ``[{"service", "method", "volumes", "bytes"}]`` from read-only queries."""
    sizes = None
    out = []
    for item in items:
        info = inspect(item["container"])
        running = bool((info.get("State") or {}).get("Running"))
        size = 0
        if running and item["method"] == "pg_dumpall":
            size = pg_size(item["container"], info)
        elif running and item["method"] == "redis_rdb":
            size = redis_size(item["container"], info)
        else:
            if sizes is None:
                sizes = volume_sizes()
            size = sum(sizes.get(v["name"], 0) for v in item["volumes"])
        out.append({"service": item["service"], "method": item["method"], "running": running,
                    "volumes": [v["name"] for v in item["volumes"]], "bytes": size})
    return out


def run_backup(items, data_dir, run_id, project, timeout, restore_test=True, helper_image=None, progress=None):
    """Back up every item into ``data_dir`` (created 0700) and restore-test each file.

    :returns: the manifest (dict, also written to ``data_dir/manifest.json``).
    :raises BackupError: a step failed (the manifest so far is written; files of a failed step
        are removed). A failed restore test does not raise: its entry says ``passed: false``.
    """
    os.makedirs(data_dir, mode=0o700, exist_ok=True)
    os.chmod(data_dir, 0o700)
    manifest = {"format": MANIFEST_FORMAT, "run_id": run_id, "project": project, "created": utc_now(), "entries": []}

    def add(entry):
        path = os.path.join(data_dir, entry["file"])
        entry["bytes"] = os.path.getsize(path)
        entry["sha256"] = sha256_file(path)
        entry["seconds"] = round(entry["seconds"], 3)
        manifest["entries"].append(entry)
        write_manifest(data_dir, manifest)
        return path

    try:
        for item in items:
            info = inspect(item["container"])
            svc = item["service"]
            if not (info.get("State") or {}).get("Running") and item["method"] in ("pg_dumpall", "redis_rdb"):
                raise BackupError("%s: container %s is not running; its %s backup needs it" % (svc, item["container"], item["method"]),
                                  service=svc)
            if item["method"] == "pg_dumpall":
                live = pg_checksums(item["container"], info, timeout=timeout, what="%s: checksums" % svc) if restore_test else None
                name, seconds = backup_pg(item, info, data_dir, timeout)
                path = add({"service": svc, "kind": "pg_dumpall", "file": name, "seconds": seconds})
                if restore_test:
                    manifest["entries"][-1]["restore_test"] = verify_pg(item, info, path, live, timeout)
            elif item["method"] == "redis_rdb":
                name, seconds, rdb = backup_redis(item, info, data_dir, timeout)
                live = redis_digest(item["container"], info, timeout=timeout, what="%s: digest" % svc) if restore_test else None
                path = add({"service": svc, "kind": "redis_rdb", "file": name, "seconds": seconds})
                if restore_test:
                    manifest["entries"][-1]["restore_test"] = verify_redis(item, info, path, rdb, live, timeout)
            else:
                offline = item["method"] == "offline" and (info.get("State") or {}).get("Running")
                image = _helper_image(item, info, helper_image)
                stopped = None
                try:
                    if offline:
                        # The container's own grace period (stop_grace_period) when longer than 30 s.
                        grace = max(30, int((info.get("Config") or {}).get("StopTimeout") or 0))
                        stopped = time.monotonic()
                        docker(["stop", "-t", str(grace), item["container"]], timeout=max(timeout, grace + 60),
                               what="%s: stop" % svc)
                    lives, entries = {}, []
                    for vol in item["volumes"]:
                        if restore_test:
                            lives[vol["name"]] = volume_listing(vol["name"], image, timeout,
                                                                "%s: list %s" % (svc, vol["name"]), item["container"])
                        name, seconds = archive_volume(item, info, vol, data_dir, timeout, helper_image)
                        entries.append((vol, add({"service": svc, "kind": "volume", "volume": vol["name"], "file": name,
                                                  "seconds": seconds, "offline": bool(offline)})))
                finally:
                    # Started again whatever happened, once the engine says it is not running.
                    if offline and not (inspect(item["container"]).get("State") or {}).get("Running"):
                        docker(["start", item["container"]], timeout=timeout, what="%s: start" % svc)
                if offline:
                    healthy(item["container"], timeout, "%s: health after the offline backup" % svc)
                    down = round(time.monotonic() - stopped, 3)
                    for e in manifest["entries"]:
                        if e["service"] == svc:
                            e["downtime_seconds"] = down
                if restore_test:
                    for (vol, path), e in zip(entries, [e for e in manifest["entries"] if e["service"] == svc]):
                        e["restore_test"] = verify_volume(item, info, vol, path, lives[vol["name"]], timeout, helper_image)
            write_manifest(data_dir, manifest)
            if progress:
                progress(svc)
    finally:
        write_manifest(data_dir, manifest)
    return manifest


def failed_tests(manifest):
    """Entries whose restore test did not pass: ``[(service, file, [differences])]``."""
    return [(e["service"], e["file"], e["restore_test"]["differences"]) for e in manifest["entries"]
            if e.get("restore_test") and not e["restore_test"]["passed"]]
