# -*- coding: utf-8 -*-
# Copyright (c) 2026 sutazai.consolidation contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Services phase: one service registry from the compose files and the SutazAI registries.

It covers the service registry, the port registry and the archiving of the service-mesh
configs (the platform runs without a service mesh). Pure logic; the module ``service_registry``
turns the plan into journaled changes.

Sources (paths relative to the root, any may be absent), in the shapes of the real tree:

* ``port_registry`` -- ``config/port-registry.yaml``: sections (``infrastructure``,
  ``monitoring``, ``agents``, ``ollama``, ...) keyed by *host* port, each
  ``{service, container, description, internal_port}``; sections without port keys
  (``port_ranges``, ``allocation_rules``, ``metadata``, ...) are not services.
* ``port_registry_actual`` -- ``config/port-registry-actual.yaml``: groups of
  ``name: host_port`` or ``name: {label: host_port}`` (``qdrant: {http: 10101, grpc: 10102}``);
  ``{disabled: true}`` groups and scalar keys (``total_containers``) are not services.
* ``consul_services`` / ``consul_services_config`` -- ``config/consul-services.json`` and
  ``config/consul-services-config.json``: ``{"services": [{name, id, address, port, tags,
  check}]}``; the port is the one at ``address`` (the container port).
* ``services_yaml`` -- ``config/services.yaml``: ``services: {group: {name: {enabled,
  config: {host, port | base_url | api_endpoint}, health_check: {endpoint}}}}``.
* every compose file under the root (``docker-compose*.yml``, ``compose*.yaml``, ...):
  ``image``, ``container_name``, ``ports`` (short and long syntax), ``expose``,
  ``healthcheck``.

Identity: a compose service is its name; the same name in several compose files is one
service. A registry entry belongs to the compose service whose name equals the entry's name
(after the ``aliases`` map; lower case, ``_`` as ``-``), else whose ``container_name`` (or
``<prefix><name>`` for each container prefix) equals the entry's container or address.
Entries that match no compose service are *phantoms*; compose services that no registry
names are *unregistered*.

Compose precedence (which definition gives a service's ports, image, container name and
health check): each folder's default project first -- ``compose.yaml``, ``compose.yml``,
``docker-compose.yaml`` or ``docker-compose.yml`` merged with its ``*.override.y(a)ml`` the
way ``docker compose`` merges them (override wins; ``ports`` appended) -- shallowest folder
first, then every other compose file in path order; the first definition that sets a field
wins. Different published ports for one service across compose files are reported
(``compose_ports``), as is every registry claim that disagrees with compose
(``registry_port``, ``health_check``); compose always wins. Two different services that
publish the same host port and protocol on overlapping addresses, in any compose files, are a
``host_port`` conflict.
"""

from __future__ import annotations

import io
import ipaddress
import json
import os
import re

from ansible_collections.sutazai.consolidation.plugins.module_utils import _compose, _env
from ansible_collections.sutazai.consolidation.plugins.module_utils._errors import ConsolidationError, too_deep
from ansible_collections.sutazai.consolidation.plugins.module_utils._fileio import decode_text, read_bytes
from ansible_collections.sutazai.consolidation.plugins.module_utils._tree import NOT_UTF8_NAME, safe_join, walk_tree

try:
    from ruamel.yaml import YAML
    from ruamel.yaml.error import MarkedYAMLError, YAMLError
    from ruamel.yaml.representer import SafeRepresenter

    HAS_RUAMEL = True
except ImportError:  # pragma: no cover - reported by the module
    HAS_RUAMEL = False
    SafeRepresenter = object


DEFAULT_SOURCES = {
    "port_registry": "config/port-registry.yaml",
    "port_registry_actual": "config/port-registry-actual.yaml",
    "consul_services_config": "config/consul-services-config.json",
    "consul_services": "config/consul-services.json",
    "services_yaml": "config/services.yaml",
}
# Order in which registries are listed and consulted (health checks of registry-only data).
SOURCE_ORDER = ("port_registry", "port_registry_actual", "consul_services_config", "consul_services", "services_yaml")
DEFAULT_OUTPUT = "config/services/master_registry.yaml"
DEFAULT_ARCHIVE_DIR = "config/archive"
DEFAULT_MESH_FILES = ("config/service-mesh.json", "config/consul-services.json", "config/consul-services-config.json")
DEFAULT_CONTAINER_PREFIXES = ("sutazai-", "sutazaiapp-")

_BASE_NAMES = ("compose.yaml", "compose.yml", "docker-compose.yaml", "docker-compose.yml")
_OVERRIDE_NAMES = ("compose.override.yaml", "compose.override.yml", "docker-compose.override.yaml",
                   "docker-compose.override.yml")

# Group rule, first match wins (documented in the module): the pattern is searched in the
# service name, then in the image repository; then the registry section/group the service
# is listed under (HINT_GROUPS); else "other". ``group_map`` (service -> group) overrides.
DEFAULT_GROUP_RULES = (
    {"group": "mcp", "pattern": r"(^|[-_/])mcp([-_/]|$)|modelcontextprotocol"},
    {"group": "monitoring", "pattern": r"prometheus|grafana|loki|promtail|alertmanager|jaeger|cadvisor|exporter|"
                                       r"kibana|elasticsearch|uptime-kuma|(^|-)monitor(ing)?(-|$)"},
    {"group": "vector", "pattern": r"chroma|qdrant|faiss|milvus|weaviate"},
    {"group": "agents", "pattern": r"agent|orchestrator|coordinator|optimizer|arbitrat|architect|autogpt|autogen|"
                                   r"crewai|letta|aider|devika|gpt-engineer|localagi|jarvis"},
    {"group": "llm", "pattern": r"ollama|llama|vllm"},
    {"group": "core", "pattern": r"postgres|redis|neo4j|rabbitmq|consul|kong|nginx|haproxy|varnish|traefik|caddy|"
                                 r"vault|backend|frontend|portainer|gateway"},
)
HINT_GROUPS = {
    "infrastructure": "core", "core_services": "core", "core": "core",
    "monitoring": "monitoring",
    "agents": "agents", "agent_systems": "agents", "active_agents": "agents", "agent_orchestration": "agents",
    "vector_databases": "vector", "ollama": "llm",
}
# Labels of multi-port services in the regenerated port-registry-actual.yaml, by container
# port, used when the compose long syntax gives no ``name`` or ``app_protocol``.
PORT_LABELS = {
    80: "http", 443: "https", 3000: "http", 5672: "amqp", 6333: "http", 6334: "grpc", 7474: "http",
    7473: "https", 7687: "bolt", 8000: "proxy", 8001: "admin", 8443: "proxy_ssl", 8444: "admin_ssl",
    8500: "http", 8600: "dns", 9411: "zipkin", 14250: "grpc", 14268: "collector", 15672: "management",
    16686: "ui", 4317: "otlp_grpc", 4318: "otlp_http",
}
ACTUAL_MARKER = "# Generated by sutazai.consolidation (services phase) from the compose files."
_WILDCARD_IPS = (None, "", "0.0.0.0", "::")
_URL_RE = re.compile(r"https?://[^\s'\"()<>\[\]{},;|&]+")


# -- YAML / JSON -------------------------------------------------------------------------------
def _yaml(allow_duplicates=False):
    y = YAML(typ="rt", pure=True)
    y.allow_duplicate_keys = allow_duplicates
    return y


def _mark_error(rel, exc, kind):
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    if getattr(exc, "context_mark", None) is not None and (
            "simple key" in str(getattr(exc, "context", "")) or "stream end" in str(getattr(exc, "problem", ""))):
        # "while scanning a simple key ... could not find expected ':'", or an unclosed bracket
        # found at the end of the file: the line where it starts is the one to fix.
        mark = exc.context_mark
    problem = getattr(exc, "problem", None) or getattr(exc, "context", None) or str(exc).split("\n", 1)[0]
    line = mark.line + 1 if mark is not None else None
    column = mark.column + 1 if mark is not None else None
    return ConsolidationError("%s: %s" % (kind.replace("_", " "), problem), rel, line, column, kind=kind)


def load_yaml(rel, text, duplicates="error"):
    """Parse ``text`` of the YAML file ``rel`` with ruamel.yaml (round trip, YAML 1.2, so
    ``10010:8000`` stays a string and ``yes`` stays ``yes``); one pass: the node tree is
    composed (libyaml's parser, tagged by ruamel.yaml: :func:`_compose.rt_compose`; ruamel.yaml's
    own parser when libyaml rejects the text), checked for duplicate keys, then constructed.

    :param duplicates: ``error`` -- a duplicate mapping key is an error (as in Compose);
        ``warn`` -- the first value is kept and a warning names the key, line and column.
    :returns: ``(document, warnings)``; ``document`` is None for an empty file; warnings are
        strings.
    :raises ConsolidationError: kind ``invalid_yaml`` or ``duplicate_key``, with line and
        column. Messages never quote values.
    """
    y = _yaml(True)
    try:
        fast, node = _compose.rt_compose(text, y.resolver)
        if not fast:
            node = y.compose(text)
        dupes = sorted(_duplicate_keys(node))
        if dupes and duplicates == "error":
            line, column, key = dupes[0]
            raise ConsolidationError("duplicate key %r (Compose rejects it)" % key, rel, line, column, kind="duplicate_key")
        doc = y.constructor.construct_document(node) if node is not None else None
    except MarkedYAMLError as exc:
        raise _mark_error(rel, exc, "invalid_yaml")
    except YAMLError as exc:
        raise ConsolidationError("invalid YAML: %s" % str(exc).split("\n", 1)[0], rel, kind="invalid_yaml")
    except RecursionError:
        raise too_deep(rel, "YAML document")
    warnings = ["%s:%d:%d: duplicate key %r: the first value is kept" % (rel, line, col, key) for line, col, key in dupes]
    return doc, warnings


def _duplicate_keys(node):
    """Yield ``(line, column, key)`` (1-based) of every duplicate mapping key under ``node``
    (a ruamel node tree; merge keys ``<<`` are not duplicates)."""
    stack = [node] if node is not None else []
    seen_nodes = set()
    while stack:
        n = stack.pop()
        if id(n) in seen_nodes:
            continue
        seen_nodes.add(id(n))
        if n.id == "mapping":
            keys = set()
            for k, v in n.value:
                if k.id == "scalar":
                    if k.value in keys and k.value != "<<":
                        yield k.start_mark.line + 1, k.start_mark.column + 1, k.value
                    keys.add(k.value)
                stack.append(v)
        elif n.id == "sequence":
            stack.extend(n.value)


def load_json(rel, text):
    """Parse ``text`` of the JSON file ``rel``.

    :returns: ``(document, warnings)``; duplicate keys give a warning (the last value wins).
    :raises ConsolidationError: kind ``invalid_json`` with line and column.
    """
    dupes = []

    def hook(pairs):
        seen = set()
        for k, dummy in pairs:
            if k in seen:
                dupes.append(k)
            seen.add(k)
        return dict(pairs)

    if not text.strip():
        return None, []
    try:
        doc = json.loads(text, object_pairs_hook=hook)
    except ValueError as exc:
        raise ConsolidationError("invalid JSON: %s" % exc.msg, rel, exc.lineno, exc.colno, kind="invalid_json")
    except RecursionError:
        raise too_deep(rel, "JSON document")
    return doc, ["%s: duplicate key %r: the last value is used" % (rel, k) for k in sorted(set(dupes))]


def _line(container, key):
    """1-based line of ``key`` (mapping key or sequence index) in a ruamel container, or None."""
    lc = getattr(container, "lc", None)
    if lc is None:
        return None
    try:
        pos = lc.item(key) if isinstance(key, int) and isinstance(container, list) else lc.key(key)
    except (KeyError, IndexError, TypeError, AttributeError):
        return None
    return pos[0] + 1 if pos else None


def plain(value):
    """Return ``value`` (ruamel round-trip data) as plain dict/list/str/int/float/bool/None."""
    if isinstance(value, dict):
        return dict((plain(k), plain(v)) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    return str(value)


# -- names -----------------------------------------------------------------------------------
def norm(name):
    """Normalized service name: stripped, lower case, runs of ``_``/whitespace as ``-``."""
    return re.sub(r"[_\s]+", "-", str(name).strip().lower()).strip("-")


def _is_ip(text):
    try:
        ipaddress.ip_address(text)
        return True
    except ValueError:
        return False


def _int_port(value):
    """Return ``value`` as a port number (1..65535) when it is an int or a digit string, else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if 0 < value < 65536 else None
    if isinstance(value, str) and value.strip().isdigit():
        n = int(value.strip())
        return n if 0 < n < 65536 else None
    return None


# -- interpolation ---------------------------------------------------------------------------
class PortError(ValueError):
    """A port entry that cannot be used: ``kind`` is ``unresolved`` (a variable without a
    value) or ``invalid`` (not a port specification)."""

    def __init__(self, message, kind="invalid", raw_only=False):
        super(PortError, self).__init__(message)
        self.kind = kind
        # True when the message quotes only the entry as written (no expanded value).
        self.raw_only = raw_only


_VAR = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def interpolate(text, lookup):
    """Expand Compose variables in ``text`` (str).

    Supported: ``$$`` (a literal ``$``), ``$VAR``, ``${VAR}``, ``${VAR:-default}``,
    ``${VAR-default}``, ``${VAR:?err}``, ``${VAR?err}``, ``${VAR:+alt}``, ``${VAR+alt}``, with
    nested variables in defaults. ``lookup(name)`` returns the value (str) or None when unset.

    :returns: ``(expanded, missing)``; ``missing`` lists the variables that had no value and
        no default (they expand to an empty string, as in Compose).
    :raises PortError: kind ``invalid`` for an unclosed ``${`` or a bad variable name.
    """
    out = []
    missing = []
    i = 0
    n = len(text)
    while i < n:
        c = text[i]
        if c != "$":
            out.append(c)
            i += 1
            continue
        if text.startswith("$$", i):
            out.append("$")
            i += 2
            continue
        if i + 1 < n and text[i + 1] == "{":
            depth = 0
            j = i + 1
            while j < n:
                if text[j] == "{":
                    depth += 1
                elif text[j] == "}":
                    depth -= 1
                    if depth == 0:
                        break
                j += 1
            if j >= n:
                raise PortError("unclosed ${ in %r" % text, raw_only=True)
            inner = text[i + 2:j]
            m = _VAR.match(inner)
            if not m:
                raise PortError("invalid variable reference ${%s}" % inner, raw_only=True)
            name = m.group(0)
            rest = inner[m.end():]
            value = lookup(name)
            if rest == "":
                if value is None:
                    missing.append(name)
                out.append(value or "")
            else:
                op = next((o for o in (":-", ":?", ":+", "-", "?", "+") if rest.startswith(o)), None)
                if op is None:
                    raise PortError("invalid variable reference ${%s}" % inner, raw_only=True)
                arg = rest[len(op):]
                is_set = value is not None
                nonempty = is_set and value != ""
                if op in (":-", "-"):
                    if (nonempty if op == ":-" else is_set):
                        out.append(value)
                    else:
                        sub, sub_missing = interpolate(arg, lookup)
                        missing.extend(sub_missing)
                        out.append(sub)
                elif op in (":?", "?"):
                    if (nonempty if op == ":?" else is_set):
                        out.append(value)
                    else:
                        missing.append(name)
                else:
                    if (nonempty if op == ":+" else is_set):
                        sub, sub_missing = interpolate(arg, lookup)
                        missing.extend(sub_missing)
                        out.append(sub)
            i = j + 1
            continue
        m = _VAR.match(text, i + 1)
        if not m:
            out.append("$")
            i += 1
            continue
        value = lookup(m.group(0))
        if value is None:
            missing.append(m.group(0))
        out.append(value or "")
        i = m.end()
    return "".join(out), missing


# -- ports -----------------------------------------------------------------------------------
def _range(text, what):
    text = text.strip()
    m = re.match(r"^(\d+)(?:-(\d+))?$", text)
    if not m:
        raise PortError("%s %r is not a port or a port range" % (what, text))
    lo = int(m.group(1))
    hi = int(m.group(2)) if m.group(2) else lo
    if not (0 < lo <= hi < 65536):
        raise PortError("%s %r is out of range 1-65535" % (what, text))
    return (lo, hi)


def _mapping(host_ip, published, target, protocol, name=None, app_protocol=None):
    protocol = (protocol or "tcp").lower()
    if protocol not in ("tcp", "udp", "sctp"):
        raise PortError("unknown protocol %r" % protocol)
    if published is not None and target[1] != target[0] and published[1] - published[0] != target[1] - target[0]:
        raise PortError("published range %d-%d and target range %d-%d differ in size"
                        % (published[0], published[1], target[0], target[1]))
    return {"host_ip": host_ip or None, "published": published, "target": target, "protocol": protocol,
            "name": name, "app_protocol": app_protocol}


def parse_port(entry, lookup=None):
    """Parse one entry of a Compose ``ports:`` list.

    Short syntax: ``"8000"``, ``"10010:8000"``, ``"127.0.0.1:10010:8000"``,
    ``"127.0.0.1::8000"``, ``"[::1]:10010:8000"``, ranges ``"8000-8010:8000-8010"`` or
    ``"9000-9010:80"``, a ``/tcp``, ``/udp`` or ``/sctp`` suffix, or a bare int. Long syntax:
    a mapping with ``target`` (required), ``published`` (int, string or range), ``host_ip``,
    ``protocol``, ``name``, ``app_protocol``. Compose variables are expanded with
    :func:`interpolate` and ``lookup``.

    :returns: a mapping dict ``{"host_ip": str|None, "published": (lo, hi)|None, "target":
        (lo, hi), "protocol": "tcp|udp|sctp", "name": str|None, "app_protocol": str|None}``;
        ``published`` None means an ephemeral host port (none published).
    :raises PortError: kind ``unresolved`` when a variable has no value, ``invalid`` for
        anything Compose would reject. Messages quote the entry as written, never an
        interpolated value.
    """
    try:
        return _parse_port(entry, lookup or (lambda name: None))
    except PortError as exc:
        if exc.kind != "unresolved" and not exc.raw_only and "$" in json.dumps(entry, default=str):
            # The detail would quote the expanded value, which may come from an env file.
            raise PortError("port %r: not a valid port after variable expansion (expanded value not shown)" % (entry,))
        raise


def _parse_port(entry, lookup):
    def expand(value, what):
        if isinstance(value, bool):
            raise PortError("%s must be a port, not a boolean" % what)
        if isinstance(value, int):
            return str(value)
        if not isinstance(value, str):
            raise PortError("%s must be a port, not %s" % (what, type(value).__name__))
        expanded, missing = interpolate(value, lookup)
        if missing:
            raise PortError("%s %r: variable %s has no value and no default" % (what, value, ", ".join(sorted(set(missing)))),
                            kind="unresolved")
        return expanded

    if isinstance(entry, dict):
        if "target" not in entry:
            raise PortError("long syntax without target")
        try:
            target = _range(expand(entry["target"], "target"), "target")
        except PortError as exc:
            if exc.kind == "unresolved":
                raise
            raise PortError("target %r is not a port" % (entry["target"],))
        published = None
        if entry.get("published") not in (None, ""):
            raw = expand(entry["published"], "published")
            if raw.strip():
                try:
                    published = _range(raw, "published")
                except PortError:
                    raise PortError("published %r is not a port or a port range" % (entry["published"],))
        host_ip = expand(entry["host_ip"], "host_ip") if entry.get("host_ip") else None
        protocol = expand(entry.get("protocol") or "tcp", "protocol")
        return _mapping(host_ip, published, target, protocol, entry.get("name"), entry.get("app_protocol"))
    raw = expand(entry, "port")
    text = raw.strip()
    if not text:
        raise PortError("empty port entry %r" % (entry,))
    protocol = "tcp"
    if "/" in text:
        text, protocol = text.rsplit("/", 1)
    host_ip = None
    try:
        if text.startswith("["):
            end = text.find("]")
            if end < 0 or text[end + 1:end + 2] != ":":
                raise PortError("bad IPv6 host address")
            host_ip = text[1:end]
            parts = text[end + 2:].split(":")
            if len(parts) != 2:
                raise PortError("expected [IP]:HOST:CONTAINER")
            published_text, target_text = parts
        else:
            parts = text.split(":")
            if len(parts) == 1:
                published_text, target_text = "", parts[0]
            elif len(parts) == 2:
                published_text, target_text = parts
            elif len(parts) == 3:
                host_ip, published_text, target_text = parts
            else:
                raise PortError("too many ':' (an IPv6 host address must be in brackets)")
        target = _range(target_text, "container port")
        published = _range(published_text, "host port") if published_text.strip() else None
        if host_ip is not None and host_ip != "" and not _is_ip(host_ip):
            raise PortError("host address %r is not an IP address" % host_ip)
        return _mapping(host_ip, published, target, protocol)
    except PortError as exc:
        raise PortError("port %r: %s" % (entry, exc))


def format_range(rng):
    """``(10010, 10010)`` -> ``10010``; ``(8000, 8010)`` -> ``"8000-8010"``; None -> None."""
    if rng is None:
        return None
    return rng[0] if rng[0] == rng[1] else "%d-%d" % rng


def format_mapping(m):
    """Short-syntax text of a mapping dict, e.g. ``127.0.0.1:10010:8000/udp``."""
    text = str(format_range(m["target"]))
    if m["published"] is not None:
        text = "%s:%s" % (format_range(m["published"]), text)
        if m["host_ip"]:
            text = ("[%s]" % m["host_ip"] if ":" in m["host_ip"] else m["host_ip"]) + ":" + text
    elif m["host_ip"]:
        text = "%s::%s" % (m["host_ip"], text)
    if m["protocol"] != "tcp":
        text += "/" + m["protocol"]
    return text


def _ips_overlap(a, b):
    return a in _WILDCARD_IPS or b in _WILDCARD_IPS or a == b


# -- health checks ---------------------------------------------------------------------------
def _http_endpoint(url):
    """``(scheme, port or None, endpoint)`` of an http(s) URL (endpoint = path + query, default ``/``)."""
    m = re.match(r"^(https?)://(\[[^\]]*\]|[^/:?#]*)(?::(\d+))?([^#]*)", url)
    if not m:
        return None
    path = m.group(4) or "/"
    if not path.startswith("/"):
        path = "/" + path
    return m.group(1), (int(m.group(3)) if m.group(3) else None), path


def parse_healthcheck(hc):
    """Summarize a Compose ``healthcheck`` mapping without copying its command (which may
    hold a password).

    Test forms: ``["CMD", argv...]``, ``["CMD-SHELL", "cmd"]``, a plain string (shell
    form), ``["NONE"]`` or ``disable: true`` (disabled), no ``test`` (the image's check).
    An ``http(s)://`` URL in the command makes it an ``http`` check with that endpoint and
    container port; ``nc -z HOST PORT`` or a Python ``connect_ex(("host", PORT))`` makes it
    ``tcp``.

    :returns: None when ``hc`` is None, else ``{"type": "http|tcp|command|disabled|image",
        "endpoint": str|None, "port": int|None, "scheme": "http|https"|None,
        "command": program name|None, "source": "compose"}``.
    """
    if hc is None:
        return None
    out = {"type": "image", "endpoint": None, "port": None, "scheme": None, "command": None, "source": "compose"}
    if not isinstance(hc, dict):
        out["type"] = "command"
        return out
    if hc.get("disable") is True:
        out["type"] = "disabled"
        return out
    test = hc.get("test")
    if test is None:
        return out
    if isinstance(test, str):
        command = test
    elif isinstance(test, list) and test:
        head = str(test[0]).upper()
        if head == "NONE":
            out["type"] = "disabled"
            return out
        # Arguments joined with spaces: only searched for a URL or a port, never run or shown.
        command = " ".join(str(t) for t in (test[1:] if head in ("CMD", "CMD-SHELL") else test))
    else:
        out["type"] = "disabled" if isinstance(test, list) else "command"
        return out
    words = command.strip().split()
    out["command"] = os.path.basename(words[0]) if words else None
    out["type"] = "command"
    url = _URL_RE.search(command)
    if url:
        parsed = _http_endpoint(url.group(0))
        if parsed:
            out.update(type="http", scheme=parsed[0], port=parsed[1] or (443 if parsed[0] == "https" else 80),
                       endpoint=parsed[2])
            return out
    tcp = re.search(r"\bnc\b[^|;&]*?\s-\w*z\w*\s+\S+\s+(\d+)", command) or \
        re.search(r"connect(?:_ex)?\(\(\s*['\"][^'\"]*['\"]\s*,\s*(\d+)\s*\)\)", command)
    if tcp:
        out.update(type="tcp", port=int(tcp.group(1)))
    return out


def _registry_health(source_file, http=None, tcp=None, endpoint=None):
    out = {"type": None, "endpoint": None, "port": None, "scheme": None, "command": None, "source": source_file}
    if http:
        parsed = _http_endpoint(str(http))
        if parsed:
            out.update(type="http", scheme=parsed[0], port=parsed[1], endpoint=parsed[2])
            return out
    if endpoint:
        ep = str(endpoint).strip()
        out.update(type="http", scheme="http", endpoint=ep if ep.startswith("/") else "/" + ep)
        return out
    if tcp:
        m = re.match(r"^.*:(\d+)$", str(tcp).strip())
        out.update(type="tcp", port=int(m.group(1)) if m else None)
        return out
    return None


# -- registry readers --------------------------------------------------------------------------
def _entry(source, rel, key, line, name, group_hint=None):
    return {"source": source, "file": rel, "key": key, "line": line, "name": str(name).strip(),
            "claims": [], "container": None, "host": None, "health": None, "group_hint": group_hint,
            "enabled": True}


def _claim(entry, kind, port, label=None):
    p = _int_port(port)
    if p is not None:
        entry["claims"].append({"kind": kind, "port": p, "label": label})


def _shape_error(rel, message):
    return ConsolidationError(message, rel, kind="invalid_shape")


def read_port_registry(rel, doc):
    """Entries of ``config/port-registry.yaml`` (see module doc): one per host-port key."""
    if doc is None:
        return []
    if not isinstance(doc, dict):
        raise _shape_error(rel, "expected a mapping of sections keyed by host port")
    out = []
    for section, body in doc.items():
        if not isinstance(body, dict):
            continue
        for port_key, value in body.items():
            port = _int_port(port_key)
            if port is None or not isinstance(value, dict) or not str(value.get("service") or "").strip():
                continue
            e = _entry("port_registry", rel, "%s.%s" % (section, port_key), _line(body, port_key),
                       value["service"], group_hint=str(section))
            _claim(e, "published", port, str(value.get("description") or "") or None)
            _claim(e, "internal", value.get("internal_port"))
            if value.get("container"):
                e["container"] = str(value["container"]).strip()
            out.append(e)
    return out


def read_port_registry_actual(rel, doc):
    """Entries of ``config/port-registry-actual.yaml`` (see module doc)."""
    if doc is None:
        return []
    if not isinstance(doc, dict):
        raise _shape_error(rel, "expected a mapping of groups")
    out = []
    for group, body in doc.items():
        if not isinstance(body, dict) or body.get("disabled") is True:
            continue
        for name, value in body.items():
            if isinstance(value, bool) or value is None:
                continue
            e = _entry("port_registry_actual", rel, "%s.%s" % (group, name), _line(body, name), name, str(group))
            if isinstance(value, dict):
                if value.get("disabled") is True:
                    continue
                for label, port in value.items():
                    _claim(e, "published", port, str(label))
            else:
                _claim(e, "published", value)
            if e["claims"]:
                out.append(e)
    return out


def read_consul(source, rel, doc):
    """Entries of a consul services file: ``{"services": [...]}`` (or one ``"service"``)."""
    if doc is None:
        return []
    if isinstance(doc, dict) and isinstance(doc.get("service"), dict) and "services" not in doc:
        items = [("service", doc["service"])]
    elif isinstance(doc, dict) and isinstance(doc.get("services"), list):
        items = [("services[%d]" % i, s) for i, s in enumerate(doc["services"])]
    else:
        raise _shape_error(rel, 'expected a JSON object with a "services" list')
    out = []
    for key, s in items:
        if not isinstance(s, dict) or not (s.get("name") or s.get("id")):
            continue
        e = _entry(source, rel, key, None, s.get("name") or s.get("id"))
        _claim(e, "internal", s.get("port"))
        address = str(s.get("address") or "").strip()
        if address:
            e["host"] = address
        check = s.get("check") if isinstance(s.get("check"), dict) else {}
        e["health"] = _registry_health(rel, http=check.get("http"), tcp=check.get("tcp"))
        out.append(e)
    return out


_URL_KEYS = ("base_url", "api_endpoint", "url", "endpoint")


def read_services_yaml(rel, doc):
    """Entries of ``config/services.yaml``: ``services -> group -> name -> {config, health_check}``."""
    if doc is None:
        return []
    if not isinstance(doc, dict) or not isinstance(doc.get("services"), dict):
        raise _shape_error(rel, 'expected a mapping with a "services" mapping of groups')
    out = []
    groups = doc["services"]
    for group, body in groups.items():
        if not isinstance(body, dict):
            continue
        for name, value in body.items():
            if not isinstance(value, dict):
                continue
            e = _entry("services_yaml", rel, "services.%s.%s" % (group, name), _line(body, name), name, str(group))
            e["enabled"] = value.get("enabled") is not False
            config = value.get("config") if isinstance(value.get("config"), dict) else {}
            host = str(config.get("host") or "").strip() or None
            port = config.get("port")
            for k in _URL_KEYS:
                url = config.get(k)
                if isinstance(url, str) and re.match(r"^https?://", url):
                    m = re.match(r"^(https?)://(?:[^@/]*@)?(\[[^\]]*\]|[^/:?#]*)(?::(\d+))?", url)
                    host = host or (m.group(2) or None)
                    if port is None and m.group(3):
                        port = int(m.group(3))
                    break
            local = host in ("localhost", "127.0.0.1", "0.0.0.0", "::1")
            _claim(e, "published" if local else "internal", port)
            e["host"] = host
            hc = value.get("health_check") if isinstance(value.get("health_check"), dict) else {}
            e["health"] = _registry_health(rel, endpoint=hc.get("endpoint"))
            out.append(e)
    return out


# -- compose ---------------------------------------------------------------------------------
def compose_rank(rel):
    """Sort key of a compose file: default files first, their overrides next, then the rest;
    shallower folders first; then the path."""
    base = rel.rsplit("/", 1)[-1]
    rank = 0 if base in _BASE_NAMES else 1 if base in _OVERRIDE_NAMES else 2
    return (rank, rel.count("/"), rel)


def _env_lookup(root, rel, cache):
    """Variable lookup for the compose file ``rel``: the ``.env`` file in its folder (the
    file Compose reads by default), read with Compose's rules (``_env.read_values``). Values are only used to
    expand ports and are never reported."""
    folder = os.path.dirname(rel)
    if folder not in cache:
        values = {}
        path = safe_join(root, os.path.join(folder, ".env") if folder else ".env")
        if _env.HAS_DOTENV and os.path.isfile(path):
            try:
                values = _env.read_values(path, path)
            except ConsolidationError:
                values = {}
        cache[folder] = values
    values = cache[folder]
    return values.get


def read_compose(rel, doc, lookup=None):
    """Services of one compose document.

    :returns: ``(services, skip_reason)``; ``services`` is a list of dicts ``{"name", "file",
        "key", "line", "ports" (list of mapping dicts with "line" and "raw", or None when not
        set), "port_errors" (list of dicts file/line/service/entry/kind/message), "expose"
        (list of ints), "image", "container_name", "healthcheck" (see
        :func:`parse_healthcheck`), "has_build"}``; ``skip_reason`` is a str when the
        document is not a compose file (scalar, no ``services``), else None.
    :raises ConsolidationError: kind ``invalid_shape`` when ``services`` is not a mapping.
    """
    if doc is None:
        return [], "empty file"
    if not isinstance(doc, dict):
        text = str(doc).strip()
        hint = " (looks like a symlink stored as a text file pointing at %s)" % text if _compose.is_compose_file(
            text) else ""
        return [], "not a compose document: a %s%s" % (type(plain(doc)).__name__, hint)
    if "services" not in doc:
        return [], "no services key"
    services = doc["services"]
    if services is None:
        return [], "no services"
    if not isinstance(services, dict):
        raise ConsolidationError("services must be a mapping", rel, _line(doc, "services"), kind="invalid_shape")
    out = []
    for name, svc in services.items():
        name = str(name)
        svc = svc if isinstance(svc, dict) else {}
        item = {"name": name, "file": rel, "key": "services.%s" % name, "line": _line(services, name),
                "ports": None, "port_errors": [], "expose": [], "image": None, "container_name": None,
                "healthcheck": None, "has_build": "build" in svc}
        ports = svc.get("ports")
        if isinstance(ports, list):
            item["ports"] = []
            for i, raw in enumerate(ports):
                line = _line(ports, i) or item["line"]
                try:
                    m = parse_port(plain(raw), lookup)
                except PortError as exc:
                    item["port_errors"].append({"file": rel, "line": line, "service": name,
                                                "key": "%s.ports[%d]" % (item["key"], i),
                                                "entry": json.dumps(plain(raw), sort_keys=True) if isinstance(raw, dict) else str(raw),
                                                "kind": exc.kind, "message": str(exc)})
                    continue
                m["line"] = line
                m["key"] = "%s.ports[%d]" % (item["key"], i)
                item["ports"].append(m)
        elif ports is not None:
            item["port_errors"].append({"file": rel, "line": _line(svc, "ports") or item["line"], "service": name,
                                        "key": "%s.ports" % item["key"], "entry": str(plain(ports)), "kind": "invalid",
                                        "message": "ports must be a list"})
        for e in svc.get("expose") or []:
            p = _int_port(re.split(r"[/-]", str(plain(e)), maxsplit=1)[0]) if not isinstance(e, dict) else None
            if p:
                item["expose"].append(p)
        if svc.get("image") is not None:
            item["image"] = str(svc["image"])
        if svc.get("container_name") is not None:
            item["container_name"] = str(svc["container_name"])
        if "healthcheck" in svc:
            item["healthcheck"] = parse_healthcheck(plain(svc["healthcheck"]))
        out.append(item)
    return out, None


def _mapping_key(m):
    return (m["host_ip"] or "", m["published"], m["target"], m["protocol"])


def effective_services(compose_defs):
    """Merge compose definitions into one effective definition per service.

    :param compose_defs: ``{rel: [service dicts from read_compose]}``.
    :returns: ``{name: {"name", "ports": [mappings], "ports_file": rel|None, "image",
        "container_name", "healthcheck", "expose", "definitions": [service dicts in
        precedence order]}}``. See the module doc for the precedence rule.
    """
    files = sorted(compose_defs, key=compose_rank)
    # Units: each folder's default project (base + override), then single files.
    units = []
    used = set()
    for rel in files:
        if rel in used:
            continue
        folder, base = os.path.split(rel)
        unit = [rel]
        used.add(rel)
        if base in _BASE_NAMES:
            for other in files:
                if other not in used and os.path.split(other)[0] == folder and os.path.split(other)[1] in _OVERRIDE_NAMES:
                    unit.append(other)
                    used.add(other)
        units.append(unit)
    by_name = {}
    for unit in units:
        merged = {}
        for rel in unit:
            for svc in compose_defs[rel]:
                cur = merged.setdefault(svc["name"], {"ports": None, "ports_file": None, "image": None,
                                                      "container_name": None, "healthcheck": None, "expose": [],
                                                      "definitions": []})
                cur["definitions"].append(svc)
                if svc["ports"]:
                    if cur["ports"] is None:
                        cur["ports"], cur["ports_file"] = list(svc["ports"]), rel
                    else:
                        have = set(_mapping_key(m) for m in cur["ports"])
                        cur["ports"].extend(m for m in svc["ports"] if _mapping_key(m) not in have)
                for field in ("image", "container_name", "healthcheck"):
                    if svc[field] is not None:
                        cur[field] = svc[field]
                cur["expose"].extend(p for p in svc["expose"] if p not in cur["expose"])
        for name, cur in merged.items():
            eff = by_name.setdefault(name, {"name": name, "ports": None, "ports_file": None, "image": None,
                                            "container_name": None, "healthcheck": None, "expose": [],
                                            "definitions": [], "variants": []})
            eff["definitions"].extend(cur["definitions"])
            if cur["ports"]:
                eff["variants"].append((cur["ports_file"], cur["ports"]))
                if eff["ports"] is None:
                    eff["ports"], eff["ports_file"] = cur["ports"], cur["ports_file"]
            for field in ("image", "container_name", "healthcheck"):
                if eff[field] is None and cur[field] is not None:
                    eff[field] = cur[field]
            eff["expose"].extend(p for p in cur["expose"] if p not in eff["expose"])
    return by_name


# -- groups ----------------------------------------------------------------------------------
def image_repository(image):
    """``registry:5000/org/name:tag@sha256:...`` -> ``org/name`` (None stays None)."""
    if not image:
        return None
    ref = image.split("@", 1)[0]
    parts = ref.split("/")
    if len(parts) > 1 and ("." in parts[0] or ":" in parts[0] or parts[0] == "localhost"):
        parts = parts[1:]
    last = parts[-1].split(":", 1)[0]
    return "/".join(parts[:-1] + [last]).lower()


def choose_group(name, image=None, hints=(), rules=DEFAULT_GROUP_RULES, group_map=None):
    """Group of a service (see :data:`DEFAULT_GROUP_RULES`).

    :returns: ``(group, reason)``; reason is ``group_map``, ``name``, ``image``,
        ``registry:<hint>`` or ``default``.
    """
    if group_map and name in group_map:
        return str(group_map[name]), "group_map"
    for subject, reason in ((norm(name), "name"), (image_repository(image), "image")):
        if not subject:
            continue
        for rule in rules:
            if re.search(rule["pattern"], subject):
                return rule["group"], reason
    for hint in hints:
        g = HINT_GROUPS.get(norm(hint).replace("-", "_"))
        if g:
            return g, "registry:%s" % hint
    return "other", "default"


def check_kind(name, image, health, port):
    """How a connection check should talk to the service: ``postgresql``, ``redis``,
    ``http`` (a known HTTP health endpoint), ``tcp`` (a published port) or ``none``."""
    subject = "%s %s" % (norm(name), image_repository(image) or "")
    if not re.search(r"exporter|adapter|pgbouncer|commander|insight|(^|-)mcp-", subject):
        if re.search(r"(^|[-/ ])postgres(ql)?([-:/ ]|$)", subject + " "):
            return "postgresql"
        if re.search(r"(^|[-/ ])redis([-:/ ]|$)", subject + " "):
            return "redis"
    if health and health.get("type") == "http" and health.get("endpoint"):
        return "http"
    return "tcp" if port else "none"


# -- build -------------------------------------------------------------------------------------
class ServicesPlan(object):
    """What :func:`build_registry` found and would write.

    :ivar document: the master registry (dict) or None when the phase cannot proceed.
    :ivar text: the master registry as YAML text (byte-stable) or None.
    :ivar actual_text: the regenerated port registry text, or None when not regenerated.
    :ivar services: the connection-check view (see :func:`connection_targets`).
    :ivar archive: list of ``{"path", "archive", "data", "mode", "reason"}`` files to move.
    :ivar input_files: relative paths read (registries under their live or archive path).
    :ivar invalid: error dicts of files that could not be read or parsed.
    :ivar warnings: list of str (duplicate keys, archived copies replaced, ...).
    :ivar skipped: list of ``{"path", "reason"}`` (compose files that are not compose
        documents, tree entries not followed).
    :ivar stats: counts (see the module RETURN).
    """

    def __init__(self):
        self.document = None
        self.text = None
        self.actual_text = None
        self.services = []
        self.archive = []
        self.input_files = []
        self.invalid = []
        self.warnings = []
        self.skipped = []
        self.stats = {}


def _read_file(root, rel, display=None):
    path = safe_join(root, rel)
    data = read_bytes(path, display or rel)
    return decode_text(data, display or rel), os.stat(path).st_mode & 0o7777, data


def _archived(archive_dir, rel):
    return "%s/%s" % (archive_dir.strip("/"), rel.rsplit("/", 1)[-1])


def _is_generated(text):
    return ACTUAL_MARKER in "\n".join(text.split("\n")[:3])


def _source_paths(root, sources, archive_dir, mesh_files, regenerate_actual):
    """Where each registry source is read: ``{name: (label_rel, read_rel)}``.

    A mesh file this phase archived is read from the archive; a port-registry-actual file
    this phase generated is not a source (its archived original is, when present).
    """
    out = {}
    for name in SOURCE_ORDER:
        rel = sources.get(name)
        if not rel:
            continue
        path = safe_join(root, rel)
        archived = _archived(archive_dir, rel)
        if os.path.lexists(path):
            read = rel
            if name == "port_registry_actual" and regenerate_actual and os.path.isfile(path):
                try:
                    with open(path, "rb") as f:
                        head = f.read(4096).decode("utf-8", "replace")
                except OSError:
                    head = ""
                if _is_generated(head):
                    read = archived if os.path.isfile(safe_join(root, archived)) else None
            out[name] = (rel, read)
        elif (rel in mesh_files or (name == "port_registry_actual" and regenerate_actual)) and \
                os.path.isfile(safe_join(root, archived)):
            out[name] = (rel, archived)
    return out


def build_registry(root, sources=None, on_invalid="fail", exclude_paths=(), group_rules=None, group_map=None,
                   aliases=None, container_prefixes=DEFAULT_CONTAINER_PREFIXES, compose_exclude=(),
                   archive_dir=DEFAULT_ARCHIVE_DIR, mesh_files=DEFAULT_MESH_FILES, archive_mesh=False,
                   regenerate_actual=True, output=DEFAULT_OUTPUT):
    """Read every source under ``root`` and build the plan (see :class:`ServicesPlan`).

    :param sources: ``{source name: rel path}`` overriding :data:`DEFAULT_SOURCES`; an empty
        string disables a source.
    :param on_invalid: ``fail`` -- any unreadable or unparseable file leaves
        ``plan.document`` None (the phase is blocked); ``warn`` -- such files are skipped and
        listed in ``plan.invalid``.
    :param exclude_paths: absolute folders never walked (backup root, report folder).
    :param group_rules: list of ``{"group", "pattern"}`` replacing :data:`DEFAULT_GROUP_RULES`.
    :param group_map: ``{service: group}`` overriding the rules.
    :param aliases: ``{registry name: compose service}`` for registry names that differ.
    :param container_prefixes: prefixes that make ``<prefix><service>`` a container name of
        the compose service (the SutazAI convention ``sutazai-<service>``).
    :param compose_exclude: regular expressions; compose files whose path matches one are not read.
    :param archive_dir: folder (relative) that mesh files move to.
    :param mesh_files: relative paths of service-mesh configs archived when ``archive_mesh``.
    :param regenerate_actual: regenerate ``sources["port_registry_actual"]`` from compose;
        the hand-kept original is archived once and stays a source.
    :param output: relative path of the master registry (never read as input).
    """
    plan = ServicesPlan()
    srcs = dict(DEFAULT_SOURCES)
    srcs.update(dict((k, v) for k, v in (sources or {}).items() if v is not None))
    rules = [dict(r) for r in (group_rules or DEFAULT_GROUP_RULES)]
    for r in rules:
        try:
            re.compile(r["pattern"])
        except (re.error, KeyError, TypeError) as exc:
            raise ValueError("invalid group rule %r: %s" % (r, exc))
    exclude_res = []
    for pattern in compose_exclude or ():
        try:
            exclude_res.append(re.compile(pattern))
        except re.error as exc:
            raise ValueError("invalid compose_exclude pattern %r: %s" % (pattern, exc))
    actual_rel = srcs.get("port_registry_actual") or None
    regenerate_actual = bool(regenerate_actual and actual_rel)
    mesh_files = list(mesh_files or ())

    def invalid(exc):
        plan.invalid.append(exc.as_dict())

    # Registries.
    entries = []
    source_list = []
    read_registry = {}
    for name, (label, read_rel) in sorted(_source_paths(root, srcs, archive_dir, mesh_files, regenerate_actual).items(),
                                          key=lambda kv: SOURCE_ORDER.index(kv[0])):
        if read_rel is None:
            continue
        try:
            text, mode, data = _read_file(root, read_rel)
            if read_rel.endswith(".json"):
                doc, warns = load_json(read_rel, text)
            else:
                doc, warns = load_yaml(read_rel, text, duplicates="warn")
            plan.warnings.extend(warns)
            if name == "port_registry":
                found = read_port_registry(label, doc)
            elif name == "port_registry_actual":
                found = read_port_registry_actual(label, doc)
            elif name.startswith("consul"):
                found = read_consul(name, label, doc)
            else:
                found = read_services_yaml(label, doc)
        except ConsolidationError as exc:
            invalid(exc)
            continue
        entries.extend(found)
        read_registry[name] = {"label": label, "read": read_rel, "data": data, "mode": mode}
        source_list.append({"file": label, "kind": name, "entries": len(found)})
        plan.input_files.append(read_rel)

    # Compose files.
    walk = walk_tree(root, exclude_paths=exclude_paths, match=_compose.is_compose_file)
    for s in walk.skipped:
        if _compose.is_compose_file(s["path"]) or NOT_UTF8_NAME in s["reason"]:
            plan.skipped.append(s)
    reals = {}
    for tf in walk.files:
        reals.setdefault(tf.real, []).append(tf)
    compose_defs = {}
    env_cache = {}
    root_real = os.path.realpath(root)
    for tf in walk.files:
        if any(rx.search(tf.rel) for rx in exclude_res):
            plan.skipped.append({"path": tf.rel, "reason": "excluded by compose_exclude"})
            continue
        if tf.rel == output:
            continue
        if tf.is_symlink:
            target_rel = os.path.relpath(tf.real, root_real).replace(os.sep, "/")
            if any(o.rel == target_rel for o in reals[tf.real]):
                plan.skipped.append({"path": tf.rel, "reason": "symlink to %s, read there" % target_rel})
                continue
            if reals[tf.real][0] is not tf:
                plan.skipped.append({"path": tf.rel, "reason": "symlink to a file already read as %s" % reals[tf.real][0].rel})
                continue
        try:
            text, dummy_mode, dummy_data = _read_file(root, tf.rel)
            doc, dummy = load_yaml(tf.rel, text, duplicates="error")
            found, reason = read_compose(tf.rel, doc, _env_lookup(root, tf.rel, env_cache))
        except ConsolidationError as exc:
            invalid(exc)
            continue
        if reason:
            plan.skipped.append({"path": tf.rel, "reason": reason})
            plan.warnings.append("%s: not read as a compose file: %s" % (tf.rel, reason))
            continue
        compose_defs[tf.rel] = found
        plan.input_files.append(tf.rel)

    if plan.invalid and on_invalid == "fail":
        return plan

    _merge(plan, entries, compose_defs, source_list, rules, group_map or {}, aliases or {},
           list(container_prefixes or ()))
    plan.text = dump_registry(plan.document)
    if regenerate_actual:
        plan.actual_text = dump_actual(plan.document)
        info = read_registry.get("port_registry_actual")
        if info and info["read"] == actual_rel:
            # The hand-kept file is replaced: keep it in the archive, where it stays a source.
            dest = _archived(archive_dir, actual_rel)
            plan.archive.append({"path": actual_rel, "archive": dest, "data": info["data"], "mode": info["mode"],
                                 "remove": False, "reason": "replaced by the regenerated port registry"})
    if archive_mesh:
        for rel in mesh_files:
            path = safe_join(root, rel)
            if not os.path.isfile(path) or os.path.islink(path):
                continue
            try:
                dummy_text, mode, data = _read_file(root, rel)
            except ConsolidationError as exc:
                invalid(exc)
                continue
            plan.archive.append({"path": rel, "archive": _archived(archive_dir, rel), "data": data, "mode": mode,
                                 "remove": True, "reason": "service-mesh config (archive_mesh)"})
    for a in plan.archive:
        dest = safe_join(root, a["archive"])
        if os.path.isfile(dest):
            with open(dest, "rb") as f:
                if f.read() != a["data"]:
                    plan.warnings.append("%s: replaces an earlier archived copy (the journal keeps it)" % a["archive"])
    return plan


def _claims_text(claims, kind):
    return [c["port"] for c in claims if c["kind"] == kind]


def _suggest(name, compose_names):
    """A compose service whose name is a leading ``-`` part of ``name`` or the other way round."""
    n = norm(name)
    best = None
    for c in compose_names:
        if n.startswith(c + "-") or c.startswith(n + "-"):
            if best is None or len(c) > len(best):
                best = c
    return best


def _merge(plan, entries, compose_defs, source_list, rules, group_map, aliases, prefixes):
    eff = effective_services(compose_defs)
    names = sorted(eff)
    by_norm = dict((norm(n), n) for n in names)
    by_container = {}
    for n in names:
        if eff[n]["container_name"]:
            by_container.setdefault(norm(eff[n]["container_name"]), n)
        for d in eff[n]["definitions"]:
            if d["container_name"]:
                by_container.setdefault(norm(d["container_name"]), n)
        for p in prefixes:
            by_container.setdefault(norm(p + n), n)
    alias_norm = dict((norm(k), v) for k, v in aliases.items())

    matched = {}
    phantoms = {}
    for e in entries:
        target = None
        how = None
        key = norm(e["name"])
        if key in alias_norm and alias_norm[key] in eff:
            target, how = alias_norm[key], "alias"
        elif key in by_norm:
            target, how = by_norm[key], "name"
        else:
            for cand in (e["container"], e["host"]):
                if cand and not _is_ip(cand) and norm(cand) in by_container:
                    target, how = by_container[norm(cand)], "container"
                    break
        e["matched_by"] = how
        if target:
            matched.setdefault(target, []).append(e)
        else:
            phantoms.setdefault(key, []).append(e)

    conflicts = []
    unresolved = []
    # Host-port conflicts: every published port of every definition, in every compose file.
    by_port = {}
    for n in names:
        for d in eff[n]["definitions"]:
            unresolved.extend(d["port_errors"])
            for m in d["ports"] or []:
                if m["published"] is None:
                    continue
                for p in range(m["published"][0], m["published"][1] + 1):
                    by_port.setdefault((p, m["protocol"]), []).append((n, m["host_ip"], d["file"], m["key"]))
    for (port, proto), users in sorted(by_port.items()):
        clash = set()
        for i, a in enumerate(users):
            for b in users[i + 1:]:
                if a[0] != b[0] and _ips_overlap(a[1], b[1]):
                    clash.update([a, b])
        if clash:
            conflicts.append({
                "kind": "host_port", "port": port, "protocol": proto,
                "services": sorted(set(c[0] for c in clash)),
                "where": sorted(set("%s %s" % (c[2], c[3]) for c in clash)),
                "message": "host port %d/%s is published by %s" % (port, proto, ", ".join(sorted(set(c[0] for c in clash)))),
            })

    groups = {}
    services_view = []
    unregistered = []
    for n in names:
        s = eff[n]
        regs = matched.get(n, [])
        if not regs:
            unregistered.append(n)
        ports = s["ports"] or []
        fixed = [m for m in ports if m["published"] is not None and m["published"][0] == m["published"][1]]
        primary = fixed[0] if fixed else None
        published_set = set()
        target_set = set(s["expose"])
        for m in ports:
            if m["published"] is not None:
                published_set.update(range(m["published"][0], m["published"][1] + 1))
            target_set.update(range(m["target"][0], m["target"][1] + 1))
        internal = primary["target"][0] if primary else (ports[0]["target"][0] if ports else None)
        if internal is None and s["expose"]:
            internal = s["expose"][0]
        # Port variants between compose files.
        if len(s["variants"]) > 1:
            texts = [(rel, sorted(format_mapping(m) for m in ms)) for rel, ms in s["variants"]]
            others = [{"file": rel, "ports": t} for rel, t in texts[1:] if t != texts[0][1]]
            if others:
                conflicts.append({"kind": "compose_ports", "service": n, "used": {"file": texts[0][0], "ports": texts[0][1]},
                                  "other": others,
                                  "message": "%s publishes %s in %s; other compose files differ"
                                             % (n, ", ".join(texts[0][1]), texts[0][0])})
        # Registry claims against compose.
        for e in regs:
            for c in e["claims"]:
                if c["kind"] == "published":
                    # Compose publishing nothing while a registry names a host port is a disagreement.
                    ok = c["port"] in published_set
                    field = "port"
                    compose_value = [format_range(m["published"]) for m in ports if m["published"] is not None]
                else:
                    # Without ports or expose, compose says nothing about the container port.
                    ok = not target_set or c["port"] in target_set
                    field = "internal_port"
                    compose_value = sorted(set([format_range(m["target"]) for m in ports] + s["expose"]), key=str)
                if not ok:
                    conflicts.append({"kind": "registry_port", "service": n, "field": field, "compose": compose_value,
                                      "registry": c["port"], "file": e["file"], "key": e["key"],
                                      "message": "%s (%s) gives %s %s %s; compose has %s" % (
                                          e["file"], e["key"], n, field, c["port"],
                                          ", ".join(str(v) for v in compose_value) or "none")})
        if internal is None:
            internal_claims = [c["port"] for e in regs for c in e["claims"] if c["kind"] == "internal"]
            internal = internal_claims[0] if internal_claims else None
        # Health check: compose HTTP, else the first registry HTTP endpoint, else compose, else registry.
        health = s["healthcheck"]
        reg_health = [e["health"] for e in sorted(regs, key=lambda x: SOURCE_ORDER.index(x["source"])) if e["health"]]
        chosen = health if health and health["type"] == "http" else None
        if chosen is None:
            chosen = next((h for h in reg_health if h["type"] == "http"), None) or health or (reg_health[0] if reg_health else None)
        if health and health["type"] == "http":
            for h in reg_health:
                if h["type"] == "http" and h["endpoint"].rstrip("/") != health["endpoint"].rstrip("/"):
                    conflicts.append({"kind": "health_check", "service": n, "compose": health["endpoint"],
                                      "registry": h["endpoint"], "file": h["source"],
                                      "message": "%s says the %s health endpoint is %s; compose checks %s"
                                                 % (h["source"], n, h["endpoint"], health["endpoint"])})
        host = None
        if primary:
            ip = primary["host_ip"]
            host = "127.0.0.1" if ip in _WILDCARD_IPS else ("::1" if ip == "::" else ip)
        hc_out = _health_out(chosen, ports, host, primary)
        hints = [e["group_hint"] for e in regs if e["group_hint"]]
        group, reason = choose_group(n, s["image"], hints, rules, group_map)
        sources = [{"file": d["file"], "key": d["key"]} for d in s["definitions"]]
        sources.extend({"file": e["file"], "key": e["key"], "matched_by": e["matched_by"]}
                       for e in sorted(regs, key=lambda x: (SOURCE_ORDER.index(x["source"]), x["key"])))
        doc = {
            "host": host,
            "port": primary["published"][0] if primary else None,
            "internal_port": internal,
            "protocol": primary["protocol"] if primary else (ports[0]["protocol"] if ports else "tcp"),
            "ports": [_port_out(m) for m in ports],
            "health_check": hc_out,
            "check": check_kind(n, s["image"], hc_out, primary["published"][0] if primary else None),
            "image": s["image"],
            "container_name": s["container_name"],
            "group_rule": reason,
            "sources": sources,
        }
        groups.setdefault(group, {})[n] = doc
        services_view.append({"name": n, "group": group, "host": doc["host"], "port": doc["port"],
                              "internal_port": doc["internal_port"], "protocol": doc["protocol"], "check": doc["check"],
                              "health_check": doc["health_check"], "image": doc["image"]})

    # Phantoms.
    owner = {}
    for n in names:
        for d in eff[n]["definitions"]:
            for m in d["ports"] or []:
                if m["published"] is not None:
                    for p in range(m["published"][0], m["published"][1] + 1):
                        owner.setdefault(p, set()).add(n)
    phantom_docs = {}
    for key in sorted(phantoms):
        es = sorted(phantoms[key], key=lambda x: (SOURCE_ORDER.index(x["source"]), x["key"]))
        published = sorted(set(p for e in es for p in _claims_text(e["claims"], "published")))
        internal = sorted(set(p for e in es for p in _claims_text(e["claims"], "internal")))
        taken = sorted(set(o for p in published for o in owner.get(p, ())))
        phantom_docs[es[0]["name"] if len(set(e["name"] for e in es)) == 1 else key] = {
            "ports": published,
            "internal_ports": internal,
            "enabled": all(e["enabled"] for e in es),
            "suggestion": by_norm.get(_suggest(key, list(by_norm))),
            "port_in_use_by": taken,
            "sources": [{"file": e["file"], "key": e["key"]} for e in es],
        }
    conflicts.sort(key=lambda c: (c["kind"], c.get("port") or 0, c.get("service") or "", c.get("file") or "",
                                  c.get("message")))
    unresolved.sort(key=lambda u: (u["file"], u["line"] or 0, u["key"]))
    compose_sources = [{"file": rel, "kind": "compose", "entries": len(compose_defs[rel])}
                       for rel in sorted(compose_defs, key=compose_rank)]
    document = {
        "version": "2.0",
        "registry_type": "services",
        "sources": source_list + compose_sources,
        "groups": dict((g, dict((n, groups[g][n]) for n in sorted(groups[g]))) for g in sorted(groups)),
        "phantoms": phantom_docs,
        "unregistered": unregistered,
        "conflicts": conflicts,
        "unresolved_ports": [dict((k, u[k]) for k in ("file", "line", "service", "key", "entry", "kind", "message"))
                             for u in unresolved],
    }
    plan.document = document
    plan.services = sorted(services_view, key=lambda v: (v["group"], v["name"]))
    per_kind = {}
    for c in conflicts:
        per_kind[c["kind"]] = per_kind.get(c["kind"], 0) + 1
    plan.stats = {
        "registry_files": len(source_list),
        "compose_files": len(compose_defs),
        "registry_entries": len(entries),
        "compose_definitions": sum(len(v) for v in compose_defs.values()),
        "services": len(names),
        "per_group": dict((g, len(groups[g])) for g in sorted(groups)),
        "conflicts": len(conflicts),
        "conflicts_per_kind": dict(sorted(per_kind.items())),
        "phantoms": len(phantom_docs),
        "unregistered": len(unregistered),
        "unresolved_ports": len(unresolved),
        "invalid_files": len(plan.invalid),
    }


def _port_out(m):
    out = {"published": format_range(m["published"]), "target": format_range(m["target"]), "protocol": m["protocol"]}
    if m["host_ip"]:
        out["host_ip"] = m["host_ip"]
    if m.get("name") or m.get("app_protocol"):
        out["name"] = str(m.get("name") or m.get("app_protocol"))
    return out


def _health_out(h, ports, host, primary):
    if not h:
        return {"type": "none", "endpoint": None, "port": None, "url": None, "command": None, "source": None}
    url = None
    port = h["port"]
    if h["type"] == "http" and host:
        published = None
        for m in ports:
            if m["published"] is not None and m["published"][0] == m["published"][1] and m["target"][0] == (port or m["target"][0]):
                published = m["published"][0]
                break
        if published is None and port is None and primary:
            published = primary["published"][0]
        if published is not None:
            url = "%s://%s:%d%s" % (h["scheme"] or "http", "[%s]" % host if ":" in host else host, published, h["endpoint"])
    return {"type": h["type"], "endpoint": h["endpoint"], "port": port, "url": url, "command": h.get("command"),
            "source": h["source"]}


def connection_targets(document):
    """The connection-check view of a master registry document: one dict per service,
    ``{"name", "group", "host", "port", "internal_port", "protocol", "check", "health_check",
    "image"}`` (see the module RETURN ``services``), sorted by group then name."""
    out = []
    for group in sorted(document.get("groups") or {}):
        for name in sorted(document["groups"][group]):
            s = document["groups"][group][name]
            out.append({"name": name, "group": group, "host": s.get("host"), "port": s.get("port"),
                        "internal_port": s.get("internal_port"), "protocol": s.get("protocol"),
                        "check": s.get("check"), "health_check": s.get("health_check"), "image": s.get("image")})
    return out


# -- output ----------------------------------------------------------------------------------
# Strings a YAML 1.1 reader (PyYAML) would not read back as strings: bools, nulls, numbers
# (sexagesimal "10010:8000" included), dates. They are written single-quoted.
_YAML11_SPECIAL = re.compile(
    r"^(?:y|Y|yes|Yes|YES|n|N|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF|~|null|Null|NULL|"
    r"[-+]?(?:0b[01_]+|0[0-7_]+|0x[0-9a-fA-F_]+|[0-9][0-9_]*(?::[0-5]?[0-9])*|(?:[0-9][0-9_]*)?\.[0-9_]*(?:[eE][-+]?[0-9]+)?"
    r"|\.(?:inf|Inf|INF)|[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*)|\.(?:nan|NaN|NAN)|\d{4}-\d\d?-\d\d?(?:[Tt ].*)?|=|<<)$")


class _Representer(SafeRepresenter):
    pass


def _represent_str(representer, data):
    style = "'" if (data == "" or _YAML11_SPECIAL.match(data)) else None
    return representer.represent_scalar("tag:yaml.org,2002:str", data, style=style)


if HAS_RUAMEL:
    _Representer.add_representer(str, _represent_str)


def _dump(doc):
    y = YAML(typ="safe", pure=True)
    y.Representer = _Representer
    y.default_flow_style = False
    y.width = 4096
    y.indent(mapping=2, sequence=4, offset=2)
    y.representer.sort_base_mapping_type_on_output = False
    buf = io.StringIO()
    y.dump(doc, buf)
    return buf.getvalue()


REGISTRY_HEADER = """\
# SutazAI unified service registry -- generated by sutazai.consolidation (services phase).
# Compose is the source of truth for ports; the registries named under "sources" add names,
# health endpoints and cross-checks. Do not edit: change the compose files and rerun
# `--tags services`. Shape: ansible-doc sutazai.consolidation.service_registry

"""


def dump_registry(document):
    """Serialize the master registry: header comment, then the document in a fixed key order
    (two-space indent, block style, trailing newline). Same document, same bytes."""
    return REGISTRY_HEADER + _dump(document)


def _label(port, used):
    """Label of one published port in the regenerated port registry: the compose long-syntax
    ``name``, else :data:`PORT_LABELS` by container port, else ``port_<container port>``
    (``_udp``/``_sctp`` appended for those protocols); a label already used gets
    ``_<host port>`` appended."""
    target = port["target"]
    label = port.get("name") or (PORT_LABELS.get(target) if isinstance(target, int) else None) or "port_%s" % target
    label = str(label)
    if port["protocol"] != "tcp" and not port.get("name"):
        label = "%s_%s" % (label, port["protocol"])
    if label in used:
        label = "%s_%s" % (label, port["published"])
    return label


def dump_actual(document):
    """The regenerated ``port-registry-actual.yaml``: the shape of the hand-kept file, groups of
    ``name: host_port`` or ``name: {label: host_port}``, only published ports, from compose."""
    lines = [ACTUAL_MARKER,
             "# SutazAI Actual Port Registry: host ports published by the compose files, by group.",
             "# The hand-kept original (if any) is kept in the archive folder and is still read as a source.",
             "# Do not edit: change the compose files and rerun `--tags services`.",
             "", ""]
    body = {}
    total = 0
    for group in sorted(document["groups"]):
        entries = {}
        for name in sorted(document["groups"][group]):
            s = document["groups"][group][name]
            published = [p for p in s["ports"] if p["published"] is not None]
            if not published:
                continue
            total += 1
            if len(published) == 1:
                entries[name] = published[0]["published"]
                continue
            value = {}
            for p in published:
                value[_label(p, value)] = p["published"]
            entries[name] = value
        if entries:
            body[group] = entries
    body["total_services"] = total
    return "\n".join(lines) + _dump(body)
