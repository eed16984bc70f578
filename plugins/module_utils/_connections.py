# -*- coding: utf-8 -*-
# Copyright (c) 2026 sutazai.consolidation contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Live connection checks of the config phase (module ``connection_check``): PostgreSQL
(log in, ``SELECT 1`` with pg8000), Redis (``PING``, AUTH when a password is given, with
redis-py) and HTTP health endpoints (``ansible.module_utils.urls.open_url``).

A target is a dict: ``name``, ``type`` (``postgres|redis|http``), ``host``, ``port``,
``user``, ``password``, ``database``, ``path`` or ``url``, ``timeout`` (seconds),
``expect_status`` (list of int), ``validate_certs``. :func:`check` returns::

    {"name", "type", "host", "port", "source", "status": "ok"|"failed",
     "latency_ms": float, "detail": str|None, "error_kind": str|None, "error": str|None}

``error_kind`` is one of :data:`ERROR_KINDS`; ``error`` names the target (type, name,
host:port) and the cause, and never holds the password: every occurrence of it (also
URL-quoted or ``repr``-escaped) in library text is replaced by ``<redacted sha256:XXXXXXXX>``.

Targets can also come from the unified service registry (``config/services/master_registry.yaml``
of the ``services`` phase), see :func:`registry_targets`.
"""

from __future__ import annotations

import errno
import re
import socket
import time

from urllib.error import HTTPError

from ansible.module_utils.urls import open_url

from ansible_collections.sutazai.consolidation.plugins.module_utils._redaction import redact_text, scrub

# Imported here, not inside the checks, so that import time never counts as latency.
try:
    import pg8000.exceptions
    import pg8000.native
    HAS_PG8000 = True
except ImportError:  # pragma: no cover - a postgres check then fails with kind missing_library
    HAS_PG8000 = False

try:
    import redis
    from redis.backoff import NoBackoff
    from redis.retry import Retry
    HAS_REDIS = True
except ImportError:  # pragma: no cover - a redis check then fails with kind missing_library
    HAS_REDIS = False

TYPES = ("postgres", "redis", "http")

ERROR_KINDS = {
    "connection_refused": "connection refused",
    "timeout": "timed out",
    "authentication_failed": "authentication failed",
    "unexpected_status": "unexpected status",
    "name_resolution": "name resolution failed",
    "unreachable": "host or network unreachable",
    "connection_reset": "connection closed by the server",
    "database_missing": "database does not exist",
    "tls": "TLS error",
    "protocol": "unexpected answer",
    "config": "configuration error",
    "missing_library": "Python library missing",
    "error": "error",
}
"""Error kinds (key) and the cause phrase used in messages (value)."""

DEFAULT_PORTS = {"postgres": 5432, "redis": 6379, "http": 80}

KNOWN_HTTP = (
    # (name substrings, health path, HTTP port inside the container)
    (("ollama",), "/api/tags", 11434),
    (("chromadb", "chroma"), "/api/v1/heartbeat", 8000),
    (("qdrant",), "/healthz", 6333),
    (("neo4j",), "/", 7474),
)
"""Known HTTP health endpoints by service name: Ollama ``/api/tags``, ChromaDB ``/api/v1/heartbeat``
(``/api/v2/heartbeat`` from ChromaDB 0.6 / 1.x: give ``path``), Qdrant ``/healthz``, Neo4j HTTP ``/``."""

_PG_NAMES = ("postgres", "postgresql", "pgsql")
_REDIS_NAMES = ("redis",)
_URL_RE = re.compile(r"https?://(?:\[[^\]\s]*\]|[^/\s:\"'\[]+)(?::(\d+))?(/[^\s\"']*)?")


def _chain(exc):
    """The exception, its causes/contexts and exception-valued args/reasons (depth-limited)."""
    seen = []
    todo = [exc]
    while todo and len(seen) < 20:
        e = todo.pop(0)
        if e is None or any(e is s for s in seen):
            continue
        seen.append(e)
        todo.extend([getattr(e, "__cause__", None), getattr(e, "__context__", None), getattr(e, "reason", None)])
        todo.extend(a for a in getattr(e, "args", ()) if isinstance(a, BaseException))
    return [e for e in seen if isinstance(e, BaseException)]


def classify_network(exc):
    """Return the error kind of a network-level exception (see :data:`ERROR_KINDS`), or None."""
    chain = _chain(exc)
    for e in chain:
        if isinstance(e, ConnectionRefusedError) or getattr(e, "errno", None) == errno.ECONNREFUSED:
            return "connection_refused"
    for e in chain:
        if isinstance(e, (socket.timeout, TimeoutError)) or getattr(e, "errno", None) == errno.ETIMEDOUT:
            return "timeout"
        if type(e).__name__ == "TimeoutError":
            return "timeout"
    for e in chain:
        if isinstance(e, socket.gaierror):
            return "name_resolution"
        if getattr(e, "errno", None) in (errno.ENETUNREACH, errno.EHOSTUNREACH):
            return "unreachable"
        if isinstance(e, (ConnectionResetError, ConnectionAbortedError, BrokenPipeError, EOFError)):
            return "connection_reset"
        if type(e).__module__ == "ssl" or type(e).__name__.startswith("SSL"):
            return "tls"
    text = " ".join(str(e) for e in chain).lower()
    if "connection refused" in text:
        return "connection_refused"
    if "timed out" in text or "timeout" in text:
        return "timeout"
    if "name or service not known" in text or "temporary failure in name resolution" in text:
        return "name_resolution"
    if "network is unreachable" in text or "no route to host" in text:
        return "unreachable"
    if "connection reset" in text or "closed by server" in text or "connection closed" in text:
        return "connection_reset"
    return None


def _describe(exc):
    """One line from an exception: its message (pg8000's error dicts give S/C/M)."""
    if exc.args and isinstance(exc.args[0], dict):
        d = exc.args[0]
        parts = [d.get("S"), d.get("C"), d.get("M")]
        return " ".join(str(p) for p in parts if p)
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0]


class CheckFailed(Exception):
    """Raised inside a check: ``kind`` (key of :data:`ERROR_KINDS`) and ``detail`` (str)."""

    def __init__(self, kind, detail):
        super(CheckFailed, self).__init__(detail)
        self.kind = kind
        self.detail = detail


_NO_PASSWORD_HINT = {False: "", True: " (no password was given: set password or password_env_key)"}


def _pg_check(t):
    if not HAS_PG8000:
        raise CheckFailed("missing_library", "pg8000 is not installed on the target (requirements.txt)")
    conn = None
    try:
        conn = pg8000.native.Connection(
            t["user"] or "postgres", host=t["host"], port=t["port"], database=t["database"] or None,
            password=t["password"] or "", timeout=t["timeout"])
        rows = conn.run("SELECT 1")
        if rows != [[1]]:
            raise CheckFailed("protocol", "SELECT 1 returned %r" % (rows,))
        version = conn.run("SHOW server_version")[0][0]
        return "SELECT 1 ok (PostgreSQL %s)" % version
    except CheckFailed:
        raise
    except pg8000.exceptions.DatabaseError as exc:
        code = exc.args[0].get("C") if exc.args and isinstance(exc.args[0], dict) else None
        if code in ("28P01", "28000"):
            raise CheckFailed("authentication_failed", _describe(exc) + _NO_PASSWORD_HINT[not t["password"]])
        if code == "3D000":
            raise CheckFailed("database_missing", _describe(exc))
        raise CheckFailed(classify_network(exc) or "error", _describe(exc))
    except Exception as exc:  # pg8000 InterfaceError and socket errors
        text = _describe(exc)
        if "password" in text.lower() and "authentication" in text.lower():
            raise CheckFailed("authentication_failed", text)
        raise CheckFailed(classify_network(exc) or "protocol", text)
    finally:
        if conn is not None:
            try:
                conn.close()
            except Exception:
                pass


_REDIS_AUTH_MARKERS = ("noauth", "wrongpass", "invalid password", "invalid username-password",
                       "without any password configured", "authentication required", "auth failed",
                       "must be called with the client already authenticated")


def _redis_check(t):
    if not HAS_REDIS:
        raise CheckFailed("missing_library", "redis (redis-py) is not installed on the target (requirements.txt)")
    kwargs = dict(host=t["host"], port=t["port"], socket_connect_timeout=t["timeout"], socket_timeout=t["timeout"],
                  retry=Retry(NoBackoff(), 0), password=t["password"] or None, username=t["user"] or None)
    if t["database"]:
        try:
            kwargs["db"] = int(t["database"])
        except ValueError:
            raise CheckFailed("config", "database must be a Redis database number, got %r" % t["database"])
    client = redis.Redis(**kwargs)
    try:
        if client.ping() is not True:
            raise CheckFailed("protocol", "PING did not answer PONG")
        return "PING -> PONG%s" % (" (AUTH ok)" if t["password"] else "")
    except CheckFailed:
        raise
    except redis.exceptions.RedisError as exc:
        text = _describe(exc)
        if isinstance(exc, redis.exceptions.AuthenticationError) or any(m in text.lower() for m in _REDIS_AUTH_MARKERS):
            raise CheckFailed("authentication_failed", text + _NO_PASSWORD_HINT[not t["password"]])
        if isinstance(exc, redis.exceptions.TimeoutError):
            raise CheckFailed("timeout", text)
        raise CheckFailed(classify_network(exc) or "error", text)
    finally:
        try:
            client.close()
        except Exception:
            pass


def _http_url(t):
    if t.get("url"):
        return t["url"]
    path = t.get("path") or "/"
    if not path.startswith("/"):
        path = "/" + path
    host = t["host"]
    if ":" in host and not host.startswith("["):
        host = "[%s]" % host
    return "%s://%s:%d%s" % (t.get("scheme") or "http", host, t["port"], path)


def _http_check(t):
    url = _http_url(t)
    expect = t.get("expect_status") or []

    def _ok(code):
        return code in expect if expect else 200 <= code < 300

    kwargs = dict(method="GET", timeout=t["timeout"], validate_certs=t.get("validate_certs", True),
                  use_proxy=t.get("use_proxy", False), follow_redirects="safe", use_netrc=False)
    if t["user"] or t["password"]:
        kwargs.update(url_username=t["user"] or "", url_password=t["password"] or "", force_basic_auth=True)
    try:
        resp = open_url(url, **kwargs)
        code = resp.getcode()
        resp.read(65536)
    except HTTPError as exc:
        code = exc.code
        if not _ok(code):
            kind = "authentication_failed" if code in (401, 403) else "unexpected_status"
            raise CheckFailed(kind, "HTTP %d %s from GET %s (expected %s)" % (
                code, exc.reason, _path_of(url), _expect_text(expect)))
        return "GET %s -> HTTP %d" % (_path_of(url), code)
    except CheckFailed:
        raise
    except Exception as exc:
        raise CheckFailed(classify_network(exc) or "error", _describe(exc))
    if not _ok(code):
        raise CheckFailed("unexpected_status", "HTTP %d from GET %s (expected %s)" % (code, _path_of(url), _expect_text(expect)))
    return "GET %s -> HTTP %d" % (_path_of(url), code)


def _path_of(url):
    m = re.match(r"^[a-z]+://[^/]*(/.*)?$", url)
    return (m.group(1) if m else None) or "/"


def _expect_text(expect):
    return "/".join(str(c) for c in expect) if expect else "2xx"


_CHECKS = {"postgres": _pg_check, "redis": _redis_check, "http": _http_check}


def target_label(t):
    """``<type> target '<name>' (<host>:<port>)`` for messages."""
    return "%s target '%s' (%s:%s)" % (t["type"], t["name"], t["host"], t["port"])


def check(t, extra_secrets=()):
    """Run one check on the normalized target ``t`` (see :func:`normalize_target`).

    :param extra_secrets: more strings to scrub from messages (besides ``t["password"]``).
    :returns: the result dict described in the module doc (never raises for check failures).
    """
    secrets = [t.get("password") or ""] + list(extra_secrets)
    result = {"name": t["name"], "type": t["type"], "host": t["host"], "port": t["port"],
              "source": t.get("source", "explicit"), "status": "ok", "latency_ms": 0.0,
              "detail": None, "error_kind": None, "error": None}
    if t["type"] == "http":
        result["url"] = redact_text(scrub(_http_url(t), secrets))
    start = time.monotonic()
    try:
        if t.get("config_error"):
            raise CheckFailed("config", t["config_error"])
        result["detail"] = redact_text(scrub(_CHECKS[t["type"]](t), secrets))
    except CheckFailed as exc:
        cause = ERROR_KINDS.get(exc.kind, exc.kind)
        if exc.kind == "timeout":
            cause = "timed out after %g s" % t["timeout"]
        result.update(status="failed", error_kind=exc.kind,
                      error=redact_text(scrub("%s: %s: %s" % (target_label(t), cause, exc.detail), secrets)))
    result["latency_ms"] = round((time.monotonic() - start) * 1000.0, 1)
    return result


def normalize_target(spec, default_timeout, env=None, env_file=None):
    """Return a complete target dict from ``spec`` (a dict of the module's ``targets`` option or
    of :func:`registry_targets`), filling defaults; never raises.

    A password named by ``password_env_key`` is read from ``env`` (dict of the env file); when
    the key is absent the target gets ``config_error`` (the check then fails with kind
    ``config``, naming the key and ``env_file``, never a value), unless the spec says
    ``password_env_optional`` (registry targets: then no password is sent). ``user_env_key`` and
    ``database_env_key`` fill ``user``/``database`` from ``env`` when the spec has none.
    """
    kind = spec.get("type")
    t = {
        "name": spec.get("name") or "%s@%s" % (kind, spec.get("host")),
        "type": kind,
        "host": spec.get("host") or "127.0.0.1",
        "port": spec.get("port") or DEFAULT_PORTS.get(kind),
        "user": spec.get("user"),
        "password": spec.get("password"),
        "database": spec.get("database"),
        "path": spec.get("path"),
        "url": spec.get("url"),
        "scheme": spec.get("scheme"),
        "timeout": float(spec.get("timeout") or default_timeout),
        "expect_status": list(spec.get("expect_status") or []),
        "validate_certs": spec.get("validate_certs") is not False,
        "use_proxy": bool(spec.get("use_proxy")),
        "source": spec.get("source", "explicit"),
        "config_error": None,
    }
    if t["url"] and not spec.get("port"):
        m = re.match(r"^(https?)://(\[[^\]]+\]|[^/:]+)(?::(\d+))?", t["url"])
        if m:
            t["host"] = spec.get("host") or m.group(2).strip("[]")
            t["port"] = int(m.group(3)) if m.group(3) else (443 if m.group(1) == "https" else 80)
    key = spec.get("password_env_key")
    if key and t["password"] is None:
        if spec.get("password_env_optional") and not (env or {}).get(key):
            pass
        elif env is None:
            t["config_error"] = "password_env_key %s given but env file %s cannot be read" % (key, env_file)
        elif key not in env or env[key] is None:
            t["config_error"] = "password_env_key %s not found in %s" % (key, env_file)
        else:
            t["password"] = env[key]
    for k, env_key in (("user", spec.get("user_env_key")), ("database", spec.get("database_env_key"))):
        if t[k] is None and env_key and env and env.get(env_key):
            t[k] = env[env_key]
    if kind not in TYPES:
        t["config_error"] = "type must be one of %s, got %r" % (", ".join(TYPES), kind)
    return t


# --- unified service registry --------------------------------------------------------------

def _services_of(doc):
    """Yield ``(group, name, service_dict)`` from the tolerant registry shapes (see module doc of
    connection_check): ``groups: {g: {name: svc}}``, ``groups: {g: {services: {name: svc} | [svc]}}``,
    ``groups: [{name: g, services: ...}]``, top-level ``services: {name: svc} | [svc]``."""
    def _from(group, container):
        if isinstance(container, dict) and "services" in container and isinstance(container["services"], (dict, list)):
            container = container["services"]
        if isinstance(container, dict):
            for name in sorted(container, key=str):
                svc = container[name]
                if isinstance(svc, dict):
                    yield group, str(svc.get("name") or name), svc
        elif isinstance(container, list):
            for svc in container:
                if isinstance(svc, dict) and (svc.get("name") or svc.get("id")):
                    yield group, str(svc.get("name") or svc.get("id")), svc

    if not isinstance(doc, dict):
        return
    groups = doc.get("groups")
    if isinstance(groups, dict):
        for g in sorted(groups, key=str):
            yield from _from(str(g), groups[g])
    elif isinstance(groups, list):
        for g in groups:
            if isinstance(g, dict):
                yield from _from(str(g.get("name") or "?"), g)
    if isinstance(doc.get("services"), (dict, list)):
        yield from _from("", doc["services"])


def _int_port(value, prefer=("http", "api", "web", "port")):
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    if isinstance(value, dict):
        for k in prefer:
            if k in value:
                return _int_port(value[k], prefer)
        for v in value.values():
            p = _int_port(v, prefer)
            if p:
                return p
    if isinstance(value, list) and value:
        return _int_port(value[0], prefer)
    return None


def _health_http(hc):
    """``(path, port, url)`` of an HTTP health check in any registry shape, else Nones.

    Shapes: a path (``/health``), a URL, a list (compose ``test``), or a mapping with
    ``endpoint``/``path``/``url``/``http`` or ``test``. A mapping whose ``type`` is set and is not
    ``http`` (the services phase writes ``tcp``, ``command``, ``image``, ``disabled``, ``none``)
    gives nothing. ``port`` is the port of a URL (a container port in a compose ``test``);
    ``url`` is a mapping's ``url`` (the published URL the services phase writes), else None.
    """
    none = (None, None, None)
    if isinstance(hc, str):
        if hc.startswith("/"):
            return hc, None, None
        m = _URL_RE.search(hc)
        if not m:
            return none
        return m.group(2) or "/", int(m.group(1)) if m.group(1) else None, m.group(0)
    if isinstance(hc, list):
        return _health_http(" ".join(str(x) for x in hc))[:2] + (None,)
    if isinstance(hc, dict):
        if hc.get("type") not in (None, "http"):
            return none
        if isinstance(hc.get("url"), str):
            found = _health_http(hc["url"])
            if found[0]:
                endpoint = hc.get("endpoint")
                return (endpoint if isinstance(endpoint, str) and endpoint.startswith("/") else found[0]), found[1], found[2]
        for key in ("endpoint", "path", "http"):
            if isinstance(hc.get(key), str):
                found = _health_http(hc[key])
                if found[0]:
                    return found[0], found[1], None
        if "test" in hc:
            return _health_http(hc["test"])[:2] + (None,)
    return none


def _match_name(text, names):
    text = text.lower()
    return any(n in text for n in names)


_NOT_SERVER = re.compile(r"exporter|adapter|pgbouncer|commander|insight|(^|-)mcp-")
_CHECK_ALIASES = {"postgres": "postgres", "postgresql": "postgres", "redis": "redis", "http": "http"}


def registry_targets(doc, address="published", host=None, services=None):
    """Derive check targets from a parsed unified service registry ``doc``.

    Kind rule, per service: a ``check`` (the services phase writes ``postgresql``, ``redis``,
    ``http``, ``tcp`` or ``none``), ``check_type`` or ``type`` naming postgres(ql), redis or http
    wins. Without any ``check`` field, a name or image containing ``postgres``/``redis`` (not an
    exporter, adapter, pgbouncer, commander, insight or mcp service) or internal port 5432/6379
    makes it postgres/redis. Then an HTTP ``health_check`` makes it http with that path, and a
    known service name (:data:`KNOWN_HTTP`) http with the known path. Anything else is skipped
    with a reason (for example ``check: tcp`` of an unknown service).

    Address: ``published`` connects to ``host`` when given, else to the service's ``host`` (the
    address its port is published on), else 127.0.0.1, on the published port (for an http check,
    the port of the health check's published ``url`` when there is one, else ``port``);
    ``internal`` connects to the service name (its compose DNS name) on ``internal_port`` (the
    health check's container port for http when given).

    :param services: optional list of service names to keep (others are left out silently).
    :returns: ``(targets, skipped)`` -- target spec dicts (``source: registry:<group>``) and
        ``{"name", "reason"}`` dicts.
    """
    targets, skipped = [], []
    for group, name, svc in _services_of(doc):
        if services and name not in services:
            continue
        text = " ".join([name.lower(), str(svc.get("image") or "").lower()])
        has_check = any(k in svc for k in ("check", "check_type"))
        explicit = next((_CHECK_ALIASES[str(svc.get(k)).lower()] for k in ("check", "check_type", "type")
                         if str(svc.get(k) or "").lower() in _CHECK_ALIASES), None)
        internal = _int_port(svc.get("internal_port"))
        path, hc_port, hc_url = _health_http(svc.get("health_check") or svc.get("healthcheck"))
        known = next((k for k in KNOWN_HTTP if _match_name(name, k[0])), None)
        server_like = not _NOT_SERVER.search(text)
        if explicit:
            kind = explicit
        elif not has_check and server_like and (_match_name(text, _PG_NAMES) or internal == 5432):
            kind = "postgres"
        elif not has_check and server_like and (_match_name(text, _REDIS_NAMES) or internal == 6379):
            kind = "redis"
        elif path or known:
            kind = "http"
        else:
            reason = "no known check"
            if has_check:
                reason += " (registry check: %s)" % (svc.get("check") or svc.get("check_type"))
            skipped.append({"name": name, "reason": reason})
            continue
        if kind == "http" and not path:
            path = known[1] if known else "/"
        if address == "internal":
            t_host = name
            port = (hc_port if kind == "http" and hc_port and not hc_url else None) or internal
            if not port and kind == "http" and known:
                port = known[2]
        else:
            t_host = host or str(svc.get("host") or "") or "127.0.0.1"
            port = None
            if kind == "http" and hc_url:
                m = re.match(r"^https?://(?:\[[^\]]*\]|[^/:]*)(?::(\d+))?", hc_url)
                port = int(m.group(1)) if m and m.group(1) else None
            port = port or _int_port(svc.get("port") or svc.get("host_port") or svc.get("published_port"))
        if not port:
            skipped.append({"name": name, "reason": "no %s port in the registry" % ("internal" if address == "internal" else "published")})
            continue
        spec = {"name": name, "type": kind, "host": t_host, "port": port, "source": "registry:%s" % group if group else "registry"}
        if kind == "http":
            spec["path"] = path
        if kind == "postgres":
            spec.update(password_env_key="POSTGRES_PASSWORD", user_env_key="POSTGRES_USER", database_env_key="POSTGRES_DB",
                        password_env_optional=True)
        elif kind == "redis":
            spec.update(password_env_key="REDIS_PASSWORD", password_env_optional=True)
        targets.append(spec)
    return targets, skipped
