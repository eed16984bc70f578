#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026 sutazai.consolidation contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: service_registry
short_description: Build one service registry from the SutazAI compose files and port/service registries
version_added: 0.2.0
description:
  - Services phase (service registry, port registry and service mesh).
  - >-
    Reads every compose file under O(root) (names C(docker-compose*.yml), C(compose*.yaml) and
    the like; backups and reports excluded; a symlinked compose file whose target is also walked
    is read once, at its target; a file whose YAML is not a mapping, such as a symlink stored as a
    text file, is skipped with a warning) and the registries named in O(sources), and writes
    O(output) with C(version: "2.0"), services by group, phantoms, unregistered services and
    conflicts. Keys are in a fixed order, services sorted, so the same input gives the same bytes.
  - >-
    Compose is the source of truth for ports. Short syntax (C(8000), C(10010:8000),
    C(127.0.0.1:10010:8000), C([::1]:10010:8000), ranges, C(/udp)) and long syntax
    (C(target), C(published), C(host_ip), C(protocol), C(name)) are read; Compose variables
    (C(${VAR:-default}) and the other forms) are expanded from the C(.env) file next to the
    compose file, else their default; an entry that still has no value, or that Compose would
    reject, is listed in RV(unresolved_ports) and skipped (never a crash, never the value).
  - >-
    Identity: a compose service is its name; the same name in several compose files is one
    service. Compose precedence for a service's ports, image, container name and health
    check: each folder's default project first (C(docker-compose.yml) or C(compose.yaml)
    merged with its C(docker-compose.override.yml) as Compose merges them: override wins,
    C(ports) appended), shallowest folder first, then every other compose file in path
    order; the first definition that sets a field wins.
  - >-
    A registry entry belongs to the compose service named like it (after O(aliases); case and
    C(_)/C(-) ignored), else to the service whose C(container_name), or
    C(<prefix><service>) for each of O(container_prefixes), equals the entry's C(container)
    or C(address). Entries matching no compose service are phantoms (listed with the ports
    they claim, the compose service already using that host port, and a suggested service
    whose name is a leading part of theirs); compose services no registry names are
    unregistered.
  - >-
    Conflicts (compose always wins, each one reported): C(host_port) -- two different
    services publish the same host port and protocol on overlapping addresses in any of the
    compose files (alternative stacks count: they may run together); C(compose_ports) -- one
    service publishes different ports in different compose files; C(registry_port) -- a
    registry gives a host port compose does not publish for the service, or a container port
    not among its compose ports/expose; C(health_check) -- a registry HTTP health endpoint
    differs from the compose one.
  - >-
    Master registry shape -- C(version) "2.0"; C(registry_type) services; C(sources) (file,
    kind, entries: every registry and compose file read); C(groups) (group -> service name ->
    C(host), C(port), C(internal_port), C(protocol), C(ports) (list of published/target/protocol
    and C(host_ip)/C(name) when set; ranges as C("11100-11199")), C(health_check), C(check),
    C(image), C(container_name), C(group_rule) (what decided the group), C(sources) (file and
    key; registry ones also C(matched_by) name, container or alias)); C(phantoms) and
    C(conflicts) as in RV(phantoms) and RV(conflicts); C(unregistered); C(unresolved_ports).
    The service fields mean what they mean in RV(services).
  - >-
    Health check of a service: the compose C(healthcheck) when it calls an http(s) URL (its
    path is the endpoint, its port the container port); else the first registry HTTP endpoint
    (consul C(check.http), then C(services.yaml) C(health_check.endpoint)); else the compose
    check (command, disabled); else a consul C(check.tcp). Commands are summarized by program
    name only, never copied (they may hold passwords).
  - >-
    Group rule: O(group_map) (service -> group) first; else the first of O(group_rules) whose
    pattern (Python regular expression) is found in the service name, then in the image
    repository; else the group the registries list it under (C(infrastructure),
    C(core_services) -> core; C(monitoring); C(agents), C(agent_systems) -> agents;
    C(vector_databases) -> vector; C(ollama) -> llm); else C(other). Default rules, in order --
    mcp (C(mcp-)), monitoring (prometheus, grafana, loki, promtail, alertmanager, jaeger,
    cadvisor, exporters, kibana, elasticsearch, uptime-kuma, monitor), vector (chroma,
    qdrant, faiss, milvus, weaviate), agents (agent, orchestrator, coordinator, optimizer,
    arbitrator, architect, autogpt, autogen, crewai, letta, aider, devika, gpt-engineer,
    localagi, jarvis), llm (ollama, llama, vllm), core (postgres, redis, neo4j, rabbitmq,
    consul, kong, nginx, haproxy, varnish, traefik, caddy, vault, backend, frontend,
    portainer, gateway).
  - >-
    With O(regenerate_actual), C(port-registry-actual.yaml) (the O(sources) path) is rewritten
    from compose in its own shape (groups of C(name: host_port) or C(name: {label: host_port}),
    labels from the long-syntax C(name), else well-known container ports such as 6333 http,
    6334 grpc, 7687 bolt, else C(port_<container port>)). The hand-kept original is first
    copied to O(archive_dir) and is read from there on later runs, so its claims stay in the
    registry and a second run changes nothing.
  - >-
    With O(archive_mesh) (the platform runs without a service mesh), each of O(mesh_files) that
    exists moves to O(archive_dir) (a new file there plus the removal of the old one, both
    journaled, so rollback restores both). Archived consul files stay registry sources,
    read from the archive under their original names.
  - >-
    Every change is journaled under O(backup_root) before it is made; see
    M(sutazai.consolidation.rollback).
extends_documentation_fragment:
  - sutazai.consolidation.phase
  - sutazai.consolidation.phase.attributes
options:
  sources:
    description:
      - Registry paths relative to O(root), by source name. Unset names keep their default;
        an empty string disables a source. Any source may be absent on disk.
    type: dict
    suboptions:
      port_registry:
        description: >-
          Sections keyed by host port, each C({service, container, description, internal_port}).
        type: str
        default: config/port-registry.yaml
      port_registry_actual:
        description: >-
          Groups of C(name: host_port) or C(name: {http: port, grpc: port}); regenerated when
          O(regenerate_actual) is true.
        type: str
        default: config/port-registry-actual.yaml
      consul_services_config:
        description: 'Consul definitions C({"services": [{name, id, address, port, tags, check}]}); port is the container port.'
        type: str
        default: config/consul-services-config.json
      consul_services:
        description: Consul registrations in the same shape (as exported from a running Consul).
        type: str
        default: config/consul-services.json
      services_yaml:
        description: >-
          C(services: {group: {name: {enabled, config: {host, port | base_url}, health_check: {endpoint}}}}).
        type: str
        default: config/services.yaml
  on_invalid:
    description:
      - V(fail) -- a registry or compose file that cannot be read or parsed (invalid YAML or
        JSON, a duplicate key in a compose file, wrong shape, non-UTF-8 bytes) stops the phase;
        nothing is written and the error names the file, line and column (see O(strict)).
      - V(warn) -- such files are skipped and listed in RV(invalid); the registry is built
        without them.
    type: str
    choices: [fail, warn]
    default: fail
  output:
    description: Path of the master registry, relative to O(root).
    type: str
    default: config/services/master_registry.yaml
  regenerate_actual:
    description: Rewrite the C(port_registry_actual) source from compose (see description).
    type: bool
    default: true
  archive_mesh:
    description: Move O(mesh_files) to O(archive_dir), journaled.
    type: bool
    default: false
  mesh_files:
    description: Service-mesh configs (relative paths) moved by O(archive_mesh); absent ones are ignored.
    type: list
    elements: str
    default: [config/service-mesh.json, config/consul-services.json, config/consul-services-config.json]
  archive_dir:
    description: Folder (relative to O(root)) that archived files go to, under their base names.
    type: str
    default: config/archive
  group_rules:
    description:
      - Replace the default group rules (see description); first match wins.
    type: list
    elements: dict
    suboptions:
      group:
        description: Group name.
        type: str
        required: true
      pattern:
        description: Python regular expression searched in the service name, then in the image repository.
        type: str
        required: true
  group_map:
    description: Service name -> group, overriding the rules.
    type: dict
    default: {}
  aliases:
    description: >-
      Registry service name -> compose service name, for registry names that differ from
      compose (for example C(backend-api: backend)).
    type: dict
    default: {}
  container_prefixes:
    description: Prefixes that make C(<prefix><service>) a container name of a compose service.
    type: list
    elements: str
    default: [sutazai-, sutazaiapp-]
  compose_exclude:
    description: Python regular expressions; compose files whose relative path matches one are not read.
    type: list
    elements: str
    default: []
notes:
  - Compose files and registries are parsed by libyaml (PyYAML's C parser) when it is installed and tagged by
    ruamel.yaml's resolver, so values, lines and errors are ruamel.yaml's; without libyaml, ruamel.yaml's
    pure-Python parser reads them, more slowly.
  - The connection checks of the config phase take RV(services) (or the master registry) as targets.
seealso:
  - module: sutazai.consolidation.rollback
author:
  - SutazAI consolidation team (@sutazai)
requirements:
  - ruamel.yaml
  - python-dotenv (optional; without it port variables get their defaults only)
"""

EXAMPLES = r"""
- name: Plan the service registry (no change)
  sutazai.consolidation.service_registry:
    root: /opt/sutazaiapp
  check_mode: true
  diff: true

- name: Build the registry, archive the consul/mesh configs, map two registry names
  sutazai.consolidation.service_registry:
    root: /opt/sutazaiapp
    archive_mesh: true
    on_invalid: warn
    aliases:
      backend-api: backend
      redis-cache: redis
    group_map:
      python-agent: build
  register: services_result

- name: Probe every service with a published port
  ansible.builtin.debug:
    msg: "{{ item.name }} {{ item.host }}:{{ item.port }} {{ item.health_check.url | default('') }}"
  loop: "{{ services_result.services | selectattr('port') | list }}"
"""

RETURN = r"""
blocked:
  description: True when the phase could not proceed safely and changed nothing (O(strict=false)).
  returned: always
  type: bool
master_registry:
  description: Absolute path of the master registry.
  returned: always
  type: str
  sample: /opt/sutazaiapp/config/services/master_registry.yaml
services:
  description:
    - One entry per compose service, sorted by group then name; the targets of the config
      phase's connection checks. Empty when blocked.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: The compose service name.
      type: str
    group:
      description: Its group in the registry.
      type: str
    host:
      description: >-
        Address of the published port (C(127.0.0.1) when published on all addresses, else the
        C(host_ip)); null when nothing is published.
      type: str
    port:
      description: The published host port, or null.
      type: int
    internal_port:
      description: >-
        The container port, or null (from the first published mapping, else C(ports)/C(expose), else
        a registry).
      type: int
    protocol:
      description: C(tcp), C(udp) or C(sctp).
      type: str
    check:
      description: >-
        How to probe it -- C(postgresql) (log in, C(SELECT 1)), C(redis) (C(PING)), C(http) (GET
        RV(services[].health_check.url)), C(tcp) (connect to host:port) or C(none) (nothing published).
      type: str
    image:
      description: The image, or null.
      type: str
    health_check:
      description: The service's health check.
      type: dict
      contains:
        type:
          description: C(http), C(tcp), C(command), C(disabled), C(image) (the image's own) or C(none).
          type: str
        endpoint:
          description: The path of an http check, or null.
          type: str
        port:
          description: The container port it checks, or null.
          type: int
        url:
          description: C(http://host:published_port/endpoint) when that port is published, else null.
          type: str
        command:
          description: The program name of a command check (never its arguments), or null.
          type: str
        source:
          description: C(compose) or the registry file it came from; null for C(none).
          type: str
  sample:
    - name: backend
      group: core
      host: 127.0.0.1
      port: 10010
      internal_port: 8000
      protocol: tcp
      check: http
      image: sutazai/backend:latest
      health_check: {type: http, endpoint: /health, port: 8000, url: "http://127.0.0.1:10010/health", command: curl, source: compose}
stats:
  description: Counts from the merge.
  returned: when not blocked
  type: dict
  contains:
    registry_files:
      description: Registry files read.
      type: int
    compose_files:
      description: Compose files read.
      type: int
    registry_entries:
      description: Service entries in the registries.
      type: int
    compose_definitions:
      description: Service definitions in the compose files (a service in two files counts twice).
      type: int
    services:
      description: Services in the master registry.
      type: int
    per_group:
      description: Services per group, one key per group.
      type: dict
      contains:
        <group>:
          description: Services in the group.
          type: int
    conflicts:
      description: Entries of RV(conflicts).
      type: int
    conflicts_per_kind:
      description: >-
        Conflicts per kind, one key per kind found (C(host_port), C(compose_ports), C(registry_port),
        C(health_check)).
      type: dict
      contains:
        <kind>:
          description: Conflicts of that kind.
          type: int
    phantoms:
      description: Entries of RV(phantoms).
      type: int
    unregistered:
      description: Entries of RV(unregistered).
      type: int
    unresolved_ports:
      description: Entries of RV(unresolved_ports).
      type: int
    invalid_files:
      description: Files skipped as invalid (O(on_invalid=warn)).
      type: int
  sample:
    registry_files: 5
    compose_files: 20
    registry_entries: 193
    compose_definitions: 181
    services: 61
    per_group: {agents: 11, core: 16, llm: 2, mcp: 12, monitoring: 12, other: 4, vector: 4}
    conflicts: 29
    conflicts_per_kind: {compose_ports: 5, host_port: 10, registry_port: 14}
    phantoms: 134
    unregistered: 33
    unresolved_ports: 0
    invalid_files: 1
conflicts:
  description:
    - Every conflict (also in the master registry), sorted by kind. Compose wins.
    - The keys besides C(kind) and C(message) depend on the kind.
  returned: always
  type: list
  elements: dict
  contains:
    kind:
      description: >-
        C(host_port) (a host port published by several services), C(compose_ports) (compose files
        that differ on a service's ports), C(registry_port) (a registry port compose does not have)
        or C(health_check) (a registry health endpoint compose does not check).
      type: str
    message:
      description: The conflict in one sentence.
      type: str
    port:
      description: The host port.
      returned: for C(host_port)
      type: int
    protocol:
      description: Its protocol.
      returned: for C(host_port)
      type: str
    services:
      description: The services publishing it.
      returned: for C(host_port)
      type: list
      elements: str
    where:
      description: The port entries, as C(<file> <key>).
      returned: for C(host_port)
      type: list
      elements: str
    service:
      description: The service.
      returned: for C(compose_ports), C(registry_port) and C(health_check)
      type: str
    used:
      description: The compose file whose ports are used, and those ports.
      returned: for C(compose_ports)
      type: dict
      contains:
        file:
          description: The compose file, relative to O(root).
          type: str
        ports:
          description: Its port entries, normalized and sorted.
          type: list
          elements: str
    other:
      description: The other compose files and their ports.
      returned: for C(compose_ports)
      type: list
      elements: dict
      contains:
        file:
          description: The compose file, relative to O(root).
          type: str
        ports:
          description: Its port entries, normalized and sorted.
          type: list
          elements: str
    field:
      description: C(port) or C(internal_port).
      returned: for C(registry_port)
      type: str
    compose:
      description: >-
        What compose has -- the list of its published or container ports (C(registry_port)), or the
        endpoint it checks (C(health_check)).
      returned: for C(registry_port) and C(health_check)
      type: raw
    registry:
      description: What the registry says -- the port (int, C(registry_port)) or the endpoint (str, C(health_check)).
      returned: for C(registry_port) and C(health_check)
      type: raw
    file:
      description: The registry file.
      returned: for C(registry_port) and C(health_check)
      type: str
    key:
      description: The entry's key in the registry file.
      returned: for C(registry_port)
      type: str
phantoms:
  description: Registry services found in no compose file, one key per service name.
  returned: always
  type: dict
  contains:
    <name>:
      description: One registry service no compose file defines.
      type: dict
      contains:
        ports:
          description: The host ports it claims.
          type: list
          elements: int
        internal_ports:
          description: The container ports it claims.
          type: list
          elements: int
        enabled:
          description: Whether every registry entry has it enabled.
          type: bool
        suggestion:
          description: A compose service whose name is close (one name a leading part of the other), or null.
          type: str
        port_in_use_by:
          description: Compose services that publish one of the host ports it claims.
          type: list
          elements: str
        sources:
          description: The registry entries that define it.
          type: list
          elements: dict
          contains:
            file:
              description: The registry file, relative to O(root).
              type: str
            key:
              description: The entry's key in that file.
              type: str
unregistered:
  description: Compose services that no registry names (sorted).
  returned: always
  type: list
  elements: str
unresolved_ports:
  description: Port entries that were skipped.
  returned: always
  type: list
  elements: dict
  contains:
    file:
      description: The compose file, relative to O(root).
      type: str
    line:
      description: 1-based line of the entry, or null.
      type: int
    service:
      description: The service.
      type: str
    key:
      description: Where the entry is, for example C(services.backend.ports[2]).
      type: str
    entry:
      description: The entry as written (a long-syntax entry as JSON).
      type: str
    kind:
      description: C(unresolved) (a variable without a value) or C(invalid) (Compose would reject it).
      type: str
    message:
      description: Why it was skipped (never a variable's value).
      type: str
archived:
  description: Files moved or copied to the archive.
  returned: always
  type: list
  elements: dict
  contains:
    path:
      description: The original file, relative to O(root).
      type: str
    archive:
      description: Its copy in O(archive_dir), relative to O(root).
      type: str
    removed:
      description: Whether the original is removed (a move; false for a copy).
      type: bool
  sample: [{path: config/consul-services.json, archive: config/archive/consul-services.json, removed: true}]
changes:
  description: Files created, modified or deleted (or that would be, in check mode).
  returned: always
  type: list
  elements: dict
  contains:
    path:
      description: Path of the file, relative to O(root).
      type: str
    action:
      description: C(create), C(modify), C(delete) or C(relink) (a symlink made or pointed elsewhere).
      type: str
      sample: create
  sample: [{path: config/services/master_registry.yaml, action: create}]
invalid:
  description: Files that could not be read or parsed.
  returned: always
  type: list
  elements: dict
  contains:
    path:
      description: The file or folder, relative to O(root).
      type: str
    line:
      description: 1-based line of the problem; null or absent when unknown.
      type: int
    column:
      description: 1-based column of the problem; null or absent when unknown.
      type: int
    kind:
      description: >-
        Short machine-readable category, for example C(invalid_yaml), C(invalid_json), C(invalid_shape),
        C(duplicate_key), C(not_utf8), C(unreadable) or C(too_deep).
      type: str
    message:
      description: What is wrong; never holds a secret value.
      type: str
skipped_files:
  description: Compose-named files not read, e.g. not a compose document, symlink read at its target.
  returned: always
  type: list
  elements: dict
  contains:
    path:
      description: >-
        The file or folder, relative to O(root); a name that is not valid UTF-8 is shown with
        C(\\xNN) escapes.
      type: str
    reason:
      description: >-
        Why it was not read, for example C(symlink loop), C(symlink points outside the root) or
        C(virtualenv).
      type: str
warnings_detail:
  description: Notes (str), e.g. duplicate registry keys with line and column.
  returned: always
  type: list
  elements: str
journal:
  description: Path of the run's journal manifest when changes were made, else null.
  returned: always
  type: str
summary:
  description: The phase summary for the run report (M(sutazai.consolidation.run_report)).
  returned: always
  type: dict
  contains:
    phase:
      description: The phase name.
      type: str
      sample: services
    status:
      description: C(would change) (check mode), C(changed), C(unchanged) or C(blocked).
      type: str
      sample: would change
    reason:
      description: >-
        Why the phase is blocked, followed by C( -- ) and the errors it found.
      returned: when blocked
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
    details:
      description: >-
        Report sections built from RV(conflicts), RV(unregistered), RV(unresolved_ports), RV(phantoms)
        and RV(archived) (empty ones give no section).
      returned: when not blocked
      type: list
      elements: dict
      contains:
        title:
          description: Title of the section.
          type: str
        columns:
          description: Column headings.
          type: list
          elements: str
        rows:
          description: Table rows, one list of cells (str, int, float or null) per row; never secret values.
          type: list
          elements: list
        note:
          description: Text shown above the table.
          returned: when the section has one
          type: str
    files:
      description: The files the phase changes (in check mode, would change), as in RV(changes).
      returned: when not blocked
      type: list
      elements: dict
      contains:
        path:
          description: Path of the file, relative to O(root).
          type: str
        action:
          description: C(create), C(modify), C(delete) or C(relink).
          type: str
    warnings:
      description: >-
        The whole text of every warning the module printed (the console shows each on one
        shortened line).
      returned: when the module warned
      type: list
      elements: str
errors:
  description: When blocked, the errors that stopped the phase.
  returned: when blocked
  type: list
  elements: dict
  contains:
    path:
      description: The file or folder, relative to O(root).
      type: str
    line:
      description: 1-based line of the problem; null or absent when unknown.
      type: int
    column:
      description: 1-based column of the problem; null or absent when unknown.
      type: int
    kind:
      description: >-
        Short machine-readable category, for example those of RV(invalid), or C(outside_root) for a
        change that would act outside the root through a symlink.
      type: str
    message:
      description: What is wrong; never holds a secret value.
      type: str
"""

import os

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.sutazai.consolidation.plugins.module_utils import _services
from ansible_collections.sutazai.consolidation.plugins.module_utils._changes import ChangeSet
from ansible_collections.sutazai.consolidation.plugins.module_utils._phase import (
    PHASE_ARGUMENT_SPEC, blocked, check_root, finish, phase_paths)
from ansible_collections.sutazai.consolidation.plugins.module_utils._errors import ConsolidationError
from ansible_collections.sutazai.consolidation.plugins.module_utils._tree import safe_join, undecodable_warning

PHASE = "services"


def _actual_state(root, rel):
    if not rel:
        return "-"
    path = safe_join(root, rel)
    if not os.path.isfile(path):
        return "absent"
    with open(path, "rb") as f:
        head = f.read(4096).decode("utf-8", "replace")
    return "generated" if _services._is_generated(head) else "hand-kept"


def _rows(plan, actual_before, actual_after, mesh_present, archived):
    st = plan.stats
    kinds = st["conflicts_per_kind"]
    rows = [
        {"item": "Service registries read -> master registry", "before": st["registry_files"], "after": 1},
        {"item": "Compose files read", "before": st["compose_files"], "after": st["compose_files"]},
        {"item": "Registry entries + compose services -> services",
         "before": "%d + %d" % (st["registry_entries"], st["compose_definitions"]), "after": st["services"]},
    ]
    for group, count in st["per_group"].items():
        rows.append({"item": "Services: %s" % group, "before": "-", "after": count})
    rows.extend([
        {"item": "Host-port conflicts", "before": "-", "after": kinds.get("host_port", 0)},
        {"item": "Port/health disagreements (compose wins)", "before": "-",
         "after": kinds.get("registry_port", 0) + kinds.get("compose_ports", 0) + kinds.get("health_check", 0)},
        {"item": "Phantom services (registry only)", "before": "-", "after": st["phantoms"]},
        {"item": "Unregistered compose services", "before": "-", "after": st["unregistered"]},
        {"item": "Unresolved port entries", "before": "-", "after": st["unresolved_ports"]},
        {"item": "port-registry-actual.yaml", "before": actual_before, "after": actual_after},
        {"item": "Mesh config files archived", "before": mesh_present, "after": archived},
        {"item": "Invalid files skipped", "before": st["invalid_files"], "after": "-"},
    ])
    return rows


def main():
    argument_spec = dict(PHASE_ARGUMENT_SPEC)
    d = _services.DEFAULT_SOURCES
    argument_spec.update(
        sources=dict(type="dict", options=dict(
            port_registry=dict(type="str", default=d["port_registry"]),
            port_registry_actual=dict(type="str", default=d["port_registry_actual"]),
            consul_services_config=dict(type="str", default=d["consul_services_config"]),
            consul_services=dict(type="str", default=d["consul_services"]),
            services_yaml=dict(type="str", default=d["services_yaml"]),
        )),
        on_invalid=dict(type="str", choices=["fail", "warn"], default="fail"),
        output=dict(type="str", default=_services.DEFAULT_OUTPUT),
        regenerate_actual=dict(type="bool", default=True),
        archive_mesh=dict(type="bool", default=False),
        mesh_files=dict(type="list", elements="str", default=list(_services.DEFAULT_MESH_FILES)),
        archive_dir=dict(type="str", default=_services.DEFAULT_ARCHIVE_DIR),
        group_rules=dict(type="list", elements="dict", options=dict(
            group=dict(type="str", required=True),
            pattern=dict(type="str", required=True),
        )),
        group_map=dict(type="dict", default={}),
        aliases=dict(type="dict", default={}),
        container_prefixes=dict(type="list", elements="str", default=list(_services.DEFAULT_CONTAINER_PREFIXES)),
        compose_exclude=dict(type="list", elements="str", default=[]),
    )
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    if not _services.HAS_RUAMEL:
        module.fail_json(msg=missing_required_lib("ruamel.yaml"))
    p = module.params
    root, backup_root, report_dir = phase_paths(p)
    check_root(module, root)
    try:
        output_abs = safe_join(root, p["output"])
        safe_join(root, p["archive_dir"])
    except ValueError as exc:
        module.fail_json(msg=str(exc))
    srcs = dict(_services.DEFAULT_SOURCES)
    srcs.update(dict((k, v) for k, v in (p["sources"] or {}).items() if v is not None))
    actual_rel = srcs.get("port_registry_actual") or None
    base = dict(master_registry=output_abs, services=[], conflicts=[], phantoms={}, unregistered=[],
                unresolved_ports=[], archived=[], changes=[], invalid=[], skipped_files=[], warnings_detail=[],
                journal=None)
    try:
        plan = _services.build_registry(
            root,
            sources=p["sources"] or {},
            on_invalid=p["on_invalid"],
            exclude_paths=(backup_root, report_dir),
            group_rules=p["group_rules"],
            group_map=p["group_map"],
            aliases=p["aliases"],
            container_prefixes=p["container_prefixes"],
            compose_exclude=p["compose_exclude"],
            archive_dir=p["archive_dir"],
            mesh_files=p["mesh_files"],
            archive_mesh=p["archive_mesh"],
            regenerate_actual=p["regenerate_actual"],
            output=p["output"],
        )
    except ValueError as exc:
        module.fail_json(msg=str(exc), **base)
    base.update(invalid=plan.invalid, skipped_files=plan.skipped, warnings_detail=plan.warnings)
    name_warning = undecodable_warning(plan.skipped, PHASE)
    if name_warning:
        module.warn(name_warning)
    if plan.document is None:
        blocked(module, PHASE, "%d service source file(s) could not be read or parsed (on_invalid=fail)"
                % len(plan.invalid), plan.invalid, **base)

    actual_before = _actual_state(root, actual_rel) if p["regenerate_actual"] else "-"
    mesh_present = sum(1 for rel in p["mesh_files"] if os.path.isfile(safe_join(root, rel)))
    changes = ChangeSet(root)
    # Archive copies first, so that an original is kept before it is replaced or removed.
    for a in plan.archive:
        changes.write(a["archive"], a["data"], mode=a["mode"])
    changes.write(p["output"], plan.text.encode("utf-8"))
    if plan.actual_text is not None:
        changes.write(actual_rel, plan.actual_text.encode("utf-8"))
    archived = []
    for a in plan.archive:
        if a["remove"]:
            changes.remove(a["path"])
        archived.append({"path": a["path"], "archive": a["archive"], "removed": a["remove"]})

    for w in plan.warnings:
        module.warn(w)
    for e in plan.invalid:
        module.warn("skipped invalid file (on_invalid=warn): %s" % ConsolidationError(
            e["message"], e["path"], e["line"], e["column"]))
    for u in plan.document["unresolved_ports"]:
        module.warn("%s:%s: port entry skipped: %s" % (u["file"], u["line"], u["message"]))
    host_ports = [c for c in plan.document["conflicts"] if c["kind"] == "host_port"]
    if host_ports:
        module.warn("%d host port(s) published by more than one service: %s%s" % (
            len(host_ports), "; ".join("%d/%s (%s)" % (c["port"], c["protocol"], ", ".join(c["services"]))
                                       for c in host_ports[:10]),
            "; ..." if len(host_ports) > 10 else ""))

    result = dict(base)
    result.update(
        changed=bool(len(changes)),
        blocked=False,
        services=plan.services,
        stats=plan.stats,
        conflicts=plan.document["conflicts"],
        phantoms=plan.document["phantoms"],
        unregistered=plan.document["unregistered"],
        unresolved_ports=plan.document["unresolved_ports"],
        archived=archived,
        changes=changes.summary(),
    )
    n_moved = sum(1 for a in archived if a["removed"])
    finish(module, PHASE, changes, root, backup_root, result,
           _rows(plan, actual_before, "generated" if plan.actual_text is not None else actual_before,
                 mesh_present, n_moved if p["archive_mesh"] else "- (archive_mesh off)"), base)


if __name__ == "__main__":
    main()
