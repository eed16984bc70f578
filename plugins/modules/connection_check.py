#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026 sutazai.consolidation contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: connection_check
short_description: Check live connections to PostgreSQL, Redis and HTTP health endpoints of the platform
version_added: 0.2.0
description:
  - Config phase, second half. Read-only; runs in
    check mode too and never reports C(changed).
  - >-
    PostgreSQL: logs in with pg8000 and runs C(SELECT 1). Redis: C(PING) with redis-py, after
    C(AUTH) when a password (and optionally a user) is given. HTTP: C(GET) of a health endpoint
    with C(ansible.module_utils.urls.open_url); any 2xx passes unless C(expect_status) is given.
  - >-
    Every check has a timeout and reports its latency in milliseconds (connect plus query,
    also for failures). A failed check has an C(error_kind) and an C(error) that names the
    target (type, name, host:port) and the cause, for example
    C(postgres target 'db' (127.0.0.1:5432): authentication failed: FATAL 28P01 password authentication failed for user "sutazai").
    Passwords never appear in the result, warnings or errors; every occurrence in library text
    is replaced by C(<redacted sha256:XXXXXXXX>).
  - >-
    Targets are O(targets) when given; otherwise they come from the unified service registry
    O(registry) written by the C(services) phase (C(version: "2.0"), C(groups) of services with
    C(host), C(port), C(internal_port), C(check), C(health_check)). The reader is tolerant:
    C(groups) as a mapping of group to services (directly or under C(services), as a mapping by
    name or a list with C(name)), a list of groups, or a top-level C(services).
  - >-
    Kind rule per registry service: a C(check) (C(postgresql), C(redis), C(http); the services
    phase also writes C(tcp) and C(none)), C(check_type) or C(type) naming postgres(ql), redis or
    http wins. Without a C(check) field, a name or image containing C(postgres) or C(redis) (not
    an exporter, adapter, pgbouncer, commander, insight or mcp service) or C(internal_port) 5432
    or 6379 decides. Then an HTTP C(health_check) (a path, a URL, a mapping with
    C(endpoint)/C(path)/C(url), or a compose C(test) with a URL; a mapping whose C(type) is not
    C(http) gives none) makes it http, and so does a known service name. Anything else is
    listed in RV(skipped_services).
  - >-
    Known HTTP health endpoints (used when the registry gives none): Ollama C(/api/tags),
    ChromaDB C(/api/v1/heartbeat) (give C(path=/api/v2/heartbeat) for ChromaDB 0.6 and later),
    Qdrant C(/healthz), Neo4j HTTP C(/).
  - >-
    Registry PostgreSQL targets take their password, user and database from C(POSTGRES_PASSWORD),
    C(POSTGRES_USER) and C(POSTGRES_DB) of O(env_file); Redis targets their password from
    C(REDIS_PASSWORD). A key absent there means no password.
options:
  root:
    description:
      - Root of the platform tree. Relative O(registry) and O(env_file) paths are resolved
        against it; required when they are used and relative.
    type: path
  targets:
    description:
      - Explicit targets. When non-empty, the registry is not read.
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description: Name used in results and messages.
        type: str
        required: true
      type:
        description: What to check.
        type: str
        required: true
        choices: [postgres, redis, http]
      host:
        description: Host name or address. Default C(127.0.0.1), or the host of O(targets[].url).
        type: str
      port:
        description: TCP port. Default 5432 (postgres), 6379 (redis), the port of O(targets[].url) or 80 (http).
        type: int
      user:
        description:
          - PostgreSQL role (default C(postgres)); Redis ACL user (AUTH with user and password);
            HTTP basic-auth user.
        type: str
      password:
        description: Password. Never shown in any output.
        type: str
      password_env_key:
        description:
          - Read the password from this key of O(env_file) (python-dotenv), for example
            C(POSTGRES_PASSWORD). Used when O(targets[].password) is not given. A missing key
            fails this check with C(error_kind=config), naming the key and file.
        type: str
      database:
        description: PostgreSQL database (default the server's default for the role); Redis database number.
        type: str
      path:
        description: HTTP path of the health endpoint, for example C(/api/tags). Default C(/).
        type: str
      url:
        description: Full HTTP(S) URL; overrides O(targets[].host), O(targets[].port) and O(targets[].path) for the request.
        type: str
      timeout:
        description: Timeout in seconds for connecting and for each answer. Default O(timeout).
        type: float
      expect_status:
        description: HTTP status codes that pass. Default any 2xx.
        type: list
        elements: int
      validate_certs:
        description: Verify TLS certificates of HTTPS URLs.
        type: bool
        default: true
      use_proxy:
        description: Send HTTP checks through the proxy of the environment (C(http_proxy)).
        type: bool
        default: false
  registry:
    description: Unified service registry (YAML), relative to O(root) or absolute. Read only when O(targets) is empty.
    type: str
    default: config/services/master_registry.yaml
  registry_services:
    description: Check only these registry services (by name). Default all services with a known check.
    type: list
    elements: str
    default: []
  registry_address:
    description:
      - V(published) connects to O(registry_host) on each service's published C(port), or for
        an http check the port of the health check's published C(url) (checks from the Docker host).
      - V(internal) connects to the service name (its compose DNS name) on its C(internal_port),
        or the health check's container port (checks from inside the compose network).
    type: str
    choices: [published, internal]
    default: published
  registry_host:
    description:
      - Host used with O(registry_address=published) for every registry service.
      - Default is each service's C(host) in the registry (the address its port is published on;
        the services phase writes C(127.0.0.1) for ports published on all addresses), else C(127.0.0.1).
    type: str
  env_file:
    description:
      - >-
        Env file that O(targets[].password_env_key) and registry targets read, parsed the way Docker Compose
        reads env files (as M(sutazai.consolidation.env_files) does: python-dotenv, single quotes literal, no interpolation),
        relative to O(root) or absolute. A missing file is only an error for a check that needs a key from it.
    type: str
    default: .env.master
  timeout:
    description: Default timeout in seconds of each check.
    type: float
    default: 5.0
  fail_on_error:
    description:
      - V(true) fails the task when any check fails (or the registry cannot be read).
      - V(false) reports the failures in RV(checks), warns, and succeeds.
    type: bool
    default: false
attributes:
  check_mode:
    description: Read-only; runs the checks in check mode too.
    support: full
  diff_mode:
    description: Writes nothing, so there is no diff.
    support: none
  idempotent:
    description: Never changes anything.
    support: full
notes:
  - C(changed) is always false. Latencies depend on the network and the servers, so results are not byte-stable.
seealso:
  - module: sutazai.consolidation.config_cleanup
author:
  - SutazAI consolidation team (@sutazai)
requirements:
  - pg8000 (PostgreSQL checks)
  - redis (Redis checks)
  - python-dotenv (when an env file is read)
  - PyYAML (when the registry is read)
"""

EXAMPLES = r"""
# Report only; with fail_on_error: true a failed check (or nothing to check) fails the task.
- name: Check the services of the unified registry from the Docker host
  sutazai.consolidation.connection_check:
    root: /opt/sutazaiapp

- name: Check explicit targets, password from .env.master
  sutazai.consolidation.connection_check:
    root: /opt/sutazaiapp
    timeout: 3
    targets:
      - {name: postgres, type: postgres, port: 10000, user: sutazai, database: sutazai, password_env_key: POSTGRES_PASSWORD}
      - {name: redis, type: redis, port: 10001, password_env_key: REDIS_PASSWORD}
      - {name: ollama, type: http, port: 10104, path: /api/tags}
      - {name: chromadb, type: http, port: 10100, path: /api/v2/heartbeat}
      - {name: qdrant, type: http, port: 10101, path: /healthz}
      - {name: neo4j, type: http, port: 10002, path: /}
  register: connections
"""

RETURN = r"""
checks:
  description: One result per target, in target order.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: The target's name (the service name for a registry target).
      type: str
    type:
      description: C(postgres), C(redis) or C(http).
      type: str
    host:
      description: Host name or address connected to.
      type: str
    port:
      description: TCP port connected to.
      type: int
    url:
      description: The URL requested, with any credentials in it redacted.
      returned: for http checks
      type: str
    source:
      description: C(explicit) (from O(targets)) or C(registry:<group>) (C(registry) for a service without a group).
      type: str
    status:
      description: C(ok) or C(failed).
      type: str
    latency_ms:
      description: Time of the check in milliseconds (connect plus query, also for failures).
      type: float
    detail:
      description: What passed, for example C(SELECT 1 ok (PostgreSQL 15.8)); null when the check failed.
      type: str
    error_kind:
      description:
        - Why the check failed; null when it passed.
        - One of C(connection_refused), C(timeout), C(authentication_failed), C(unexpected_status),
          C(name_resolution), C(unreachable), C(connection_reset), C(database_missing), C(tls), C(protocol),
          C(config), C(missing_library), C(error).
      type: str
    error:
      description: >-
        The target (type, name, host:port) and the cause; null when the check passed. Never holds a
        password.
      type: str
  sample:
    - {name: postgres, type: postgres, host: 127.0.0.1, port: 10000, source: explicit, status: ok,
       latency_ms: 12.4, detail: "SELECT 1 ok (PostgreSQL 15.8)", error_kind: null, error: null}
    - {name: redis, type: redis, host: 127.0.0.1, port: 10001, source: explicit, status: failed,
       latency_ms: 0.6, detail: null, error_kind: connection_refused,
       error: "redis target 'redis' (127.0.0.1:10001): connection refused: Error 111 connecting to 127.0.0.1:10001. Connection refused."}
skipped_services:
  description: Registry services without a known check, or without a port.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: The service name.
      type: str
    reason:
      description: >-
        Why it is not checked, for example C(no known check (registry check: tcp)) or C(no published
        port in the registry).
      type: str
ok_count:
  description: Number of checks that passed.
  returned: always
  type: int
failed_count:
  description: Number of checks that failed (the task itself fails only with O(fail_on_error=true)).
  returned: always
  type: int
registry:
  description: Absolute path of the registry read, or null when O(targets) was given.
  returned: always
  type: str
summary:
  description: The phase summary for the run report (M(sutazai.consolidation.run_report)), one row per check.
  returned: always
  type: dict
  contains:
    phase:
      description: The phase name.
      type: str
      sample: "config (connections)"
    status:
      description: Always C(unchanged) (the module never changes anything).
      type: str
      sample: unchanged
    reason:
      description: >-
        Why no check could run (no target given and no registry, an unreadable registry, or a registry
        that names no service with a known check); also a row of RV(summary.rows).
      returned: when no target could be checked
      type: str
    rows:
      description: Rows of the summary table, in display order; empty when the phase stopped before counting.
      type: list
      elements: dict
      contains:
        item:
          description: What the row counts.
          type: str
        before:
          description: The value before the phase (int, or str such as C(3 (2)), or C(-) for no value).
          type: raw
        after:
          description: The value after the phase (in check mode, what it would be).
          type: raw
"""

import os

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.sutazai.consolidation.plugins.module_utils import _connections, _env, _redaction
from ansible_collections.sutazai.consolidation.plugins.module_utils._errors import ConsolidationError, too_deep

try:
    import yaml
    HAS_YAML = True
except ImportError:
    HAS_YAML = False

PHASE = "config (connections)"


def _abs(root, path, what, module):
    if os.path.isabs(path):
        return path
    if not root:
        module.fail_json(msg="%s %s is relative: give root" % (what, path))
    return os.path.join(root, path)


def read_registry(path, display):
    """Parse the registry YAML at ``path``; ConsolidationError with line/column on bad input."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as exc:
        raise ConsolidationError("cannot read registry: %s" % (exc.strerror or exc), display, kind="unreadable")
    try:
        return yaml.safe_load(data.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise ConsolidationError("not valid UTF-8 (%s)" % exc.reason, display, kind="not_utf8")
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ConsolidationError("invalid YAML: %s" % problem, display, mark.line + 1 if mark else None,
                                 mark.column + 1 if mark else None, kind="invalid_yaml")
    except RecursionError:
        raise too_deep(display, "registry YAML")


def _summary(checks, skipped, problem):
    rows = [{"item": "Connection checks passed", "before": "-",
             "after": "%d/%d" % (sum(1 for c in checks if c["status"] == "ok"), len(checks))}]
    for c in checks:
        after = "ok %.1f ms" % c["latency_ms"] if c["status"] == "ok" else "failed: %s" % c["error_kind"]
        rows.append({"item": "%s %s (%s:%s)" % (c["type"], c["name"], c["host"], c["port"]), "before": "-", "after": after})
    if skipped:
        rows.append({"item": "Registry services without a check", "before": len(skipped), "after": "-"})
    summary = {"phase": PHASE, "status": "unchanged", "rows": rows}
    if problem:
        summary["reason"] = problem
        rows.append({"item": problem, "before": "-", "after": "-"})
    return summary


def main():
    target_spec = dict(
        name=dict(type="str", required=True),
        type=dict(type="str", required=True, choices=list(_connections.TYPES)),
        host=dict(type="str"),
        port=dict(type="int"),
        user=dict(type="str"),
        password=dict(type="str", no_log=True),
        password_env_key=dict(type="str", no_log=False),
        database=dict(type="str"),
        path=dict(type="str"),
        url=dict(type="str"),
        timeout=dict(type="float"),
        expect_status=dict(type="list", elements="int"),
        validate_certs=dict(type="bool", default=True),
        use_proxy=dict(type="bool", default=False),
    )
    module = AnsibleModule(
        argument_spec=dict(
            root=dict(type="path"),
            targets=dict(type="list", elements="dict", default=[], options=target_spec),
            registry=dict(type="str", default="config/services/master_registry.yaml"),
            registry_services=dict(type="list", elements="str", default=[]),
            registry_address=dict(type="str", choices=["published", "internal"], default="published"),
            registry_host=dict(type="str"),
            env_file=dict(type="str", default=".env.master", no_log=False),
            timeout=dict(type="float", default=5.0),
            fail_on_error=dict(type="bool", default=False),
        ),
        supports_check_mode=True,
    )
    p = module.params
    root = os.path.abspath(p["root"]) if p["root"] else None
    specs, skipped, problem, registry_path = list(p["targets"]), [], None, None
    if not specs:
        if not HAS_YAML:
            module.fail_json(msg=missing_required_lib("PyYAML"))
        registry_path = _abs(root, p["registry"], "registry", module)
        if not os.path.exists(registry_path):
            problem = "no targets given and no registry at %s" % p["registry"]
        else:
            try:
                doc = read_registry(registry_path, p["registry"])
            except ConsolidationError as exc:
                doc = None
                problem = str(exc)
            if doc is not None:
                specs, skipped = _connections.registry_targets(
                    doc, address=p["registry_address"], host=p["registry_host"], services=p["registry_services"])
                if not specs:
                    problem = "registry %s names no service with a known check" % p["registry"]

    env, env_display = None, p["env_file"]
    if any(s.get("password_env_key") for s in specs):
        env_path = _abs(root, p["env_file"], "env_file", module)
        if os.path.isfile(env_path):
            if not _env.HAS_DOTENV:
                module.fail_json(msg=missing_required_lib("python-dotenv"))
            try:
                env = _env.read_values(env_path, p["env_file"])
            except ConsolidationError:
                env = None

    targets = [_connections.normalize_target(s, p["timeout"], env, env_display) for s in specs]
    secrets = [t["password"] for t in targets if t["password"]]
    # Credentials written into a target URL (user:pass@, ?token=) are secrets too: hidden in
    # every message and in the module arguments Ansible prints at -vvv.
    for s in specs:
        if s.get("url"):
            secrets.extend(sorted(_redaction.secrets_in_text(s["url"])))
    for s in secrets:
        module.no_log_values.add(s)
    checks = [_connections.check(t, secrets) for t in targets]
    failed = [c for c in checks if c["status"] == "failed"]
    result = dict(changed=False, checks=checks, skipped_services=skipped, ok_count=len(checks) - len(failed), failed_count=len(failed),
                  registry=registry_path, summary=_summary(checks, skipped, problem))
    if p["fail_on_error"] and (failed or problem):
        msgs = [c["error"] for c in failed] + ([problem] if problem else [])
        module.fail_json(msg="%d of %d connection check(s) failed: %s" % (len(failed), len(checks), "; ".join(msgs)), **result)
    if problem:
        module.warn(problem)
    for c in failed:
        module.warn(c["error"])
    module.exit_json(**result)


if __name__ == "__main__":
    main()
