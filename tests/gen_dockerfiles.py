# -*- coding: utf-8 -*-
"""Generated trees for the dockerfiles phase (deterministic: no clock, no randomness).

``generate(root, size)`` writes Dockerfiles, the small files they COPY, Compose files using
both ``build:`` forms, copies under ``backups/`` and a few scripts, and returns the figures the
phase should find (dict, see :func:`generate`).

* ``small`` -- a dozen files with every case the phase handles: a template family (string and
  mapping ``build:`` forms, an exact copy, one member without a Compose build, one named by a
  script), a family split by a run-time HEALTHCHECK value, a family differing inside single
  quotes, an exact group, a single, a heredoc file and an unparseable file.
* ``v76`` -- modeled on the real v76 figures: 581 ``Dockerfile*`` files, 336 copies under
  ``backups/``, 245 live, 221 unique, 119 instruction sequences, 88 used by one file only,
  one heredoc file, 14 Compose files. Every family member is provable and built by Compose,
  so the tree ends with 120 maintained Dockerfiles (88 singles, 10 canonical copies, 21
  templates, the heredoc file).
"""

from __future__ import annotations

import os

# Family A: Python agents (the real tree's 61-file sequence). Values differ in LABEL, ENV and EXPOSE.
AGENT = """# {name} agent
FROM python:3.11-slim
LABEL maintainer="SutazAI" org.opencontainers.image.title="{name}"
WORKDIR /app
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt
COPY app.py .
ENV AGENT_NAME={name} AGENT_PORT={port} PYTHONUNBUFFERED=1
EXPOSE {port}
HEALTHCHECK --interval=30s --timeout=10s CMD python -c "import urllib.request; urllib.request.urlopen('http://localhost:${{AGENT_PORT}}/health')" || exit 1
CMD ["python", "app.py"]
"""

# Family B: Node services (the real tree's 26-file sequence). WORKDIR, ENV, EXPOSE differ; FROM tag too.
NODE = """FROM node:{tag}
WORKDIR /usr/src/{name}
COPY package.json ./
RUN npm ci --omit=dev \\
    && npm cache clean --force
COPY src ./src
ENV SERVICE_NAME={name} NODE_ENV=production
EXPOSE {port}
USER node
CMD ["node", "src/index.js"]
"""

_BASES = ["python:3.11-slim"] * 6 + ["python:3.12-slim", "alpine:3.19", "golang:1.21-alpine", "node:18-alpine",
                                     "debian:bookworm-slim", "nginx:1.25-alpine"]


def _encoded(k, base, name, variant=None):
    """A Dockerfile whose instruction sequence encodes ``k`` (8 bits: RUN or ENV): distinct ``k``
    give distinct sequences. ``variant`` (str) changes values only (same sequence)."""
    v = variant or name
    lines = ["FROM %s" % base, "WORKDIR /srv/app"]
    for bit in range(8):
        if (k >> bit) & 1:
            lines.append("RUN echo step-%d %s > /tmp/step-%d" % (bit, v, bit))
        else:
            lines.append("ENV STEP_%d=%s" % (bit, v))
    lines.append("EXPOSE %d" % (9000 + (k % 500)))
    lines.append('CMD ["/bin/sh", "-c", "exec sleep infinity"]')
    return "\n".join(lines) + "\n"


def _write(root, rel, text):
    path = os.path.join(root, rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(text.encode("utf-8") if isinstance(text, str) else text)


HEREDOC = """# syntax=docker/dockerfile:1.4
FROM debian:bookworm-slim
RUN <<EOF
set -e
echo "built with a heredoc" > /etc/motd
EOF
CMD ["cat", "/etc/motd"]
"""


def _compose(services, header):
    out = ["# %s" % header, "services:"]
    for name, build in services:
        out.append("  %s:" % name)
        if isinstance(build, str):
            out.append("    build: %s" % build)
        else:
            out.append("    build:")
            for k, v in build:
                if k == "args":
                    out.append("      args:")
                    out.extend("        %s: %s" % kv for kv in v)
                else:
                    out.append("      %s: %s" % (k, v))
        out.append("    image: sutazai/%s:latest" % name)
        out.append("    restart: unless-stopped")
    return "\n".join(out) + "\n"


def _agent_files(root, d, name):
    _write(root, "%s/requirements.txt" % d, "fastapi==0.115.6\nuvicorn==0.32.1\n")
    _write(root, "%s/app.py" % d, '"""%s agent."""\nprint("%s")\n' % (name, name))


def generate(root, size="small"):
    """Write the tree under ``root`` (created when absent) and return the expected figures.

    :returns: dict with ``dockerfiles_total``, ``backups``, ``live``, ``unique``, ``sequences``,
        ``single_sequences``, ``heredoc``, ``unparseable``, ``exact_groups_found``,
        ``exact_groups`` (merged into canonical files), ``templates``, ``members_templated``,
        ``after`` (maintained Dockerfiles after the phase), ``compose_files``,
        ``build_string``/``build_mapping`` (entries of each form), ``decisions``,
        ``left_alone`` and, for ``small``, ``kept`` (paths kept because other files name them).
    """
    os.makedirs(root, exist_ok=True)
    if size == "small":
        return _small(root)
    if size == "v76":
        return _v76(root)
    raise ValueError("size must be small or v76")


def _small(root):
    agents = [("alpha", 8101), ("beta", 8102), ("gamma", 8103), ("delta", 8104), ("epsilon", 8105), ("zeta", 8106)]
    for name, port in agents:
        _write(root, "agents/%s/Dockerfile" % name, AGENT.format(name=name, port=port))
        _agent_files(root, "agents/%s" % name, name)
    # An exact copy (comments differ: same normal form).
    _write(root, "docker/agents/alpha/Dockerfile", AGENT.format(name="alpha", port=8101).replace("# alpha agent", "# copy"))
    _agent_files(root, "docker/agents/alpha", "alpha")
    # A script names delta's Dockerfile: kept.
    _write(root, "scripts/build-delta.sh", "#!/bin/sh\nset -e\ndocker build -f agents/delta/Dockerfile -t delta agents/delta\n")
    # Health family: two share the HEALTHCHECK port, the third differs there (run-time).
    hc = ("FROM python:3.11-slim\nWORKDIR /srv\nCOPY server.py .\nENV SERVICE={name}\nEXPOSE {port}\n"
          "HEALTHCHECK CMD curl -f http://localhost:{hport}/health || exit 1\nCMD python server.py\n")
    for name, port, hport in (("mcp-files", 9101, 9000), ("mcp-http", 9102, 9000), ("mcp-postgres", 9103, 9103)):
        _write(root, "services/%s/Dockerfile" % name, hc.format(name=name, port=port, hport=hport))
        _write(root, "services/%s/server.py" % name, "print('%s')\n" % name)
    # Quote family: the values differ inside single quotes of a RUN.
    q = "FROM alpine:3.19\nRUN echo '{v}' > /etc/role\nCMD [\"cat\", \"/etc/role\"]\n"
    _write(root, "tools/role-a/Dockerfile", q.format(v="role a"))
    _write(root, "tools/role-b/Dockerfile", q.format(v="role b"))
    # Exact group of two, no Compose build.
    mon = "FROM prom/prometheus:v2.53.0\nENV PROM_BASIC_AUTH_PASSWORD=Pm-4e8c1a9b7d\nCOPY prometheus.yml /etc/prometheus/\n"
    _write(root, "monitoring/Dockerfile", mon)
    _write(root, "docker/monitoring/Dockerfile", "# same, another place\n" + mon)
    _write(root, "monitoring/prometheus.yml", "global: {}\n")
    _write(root, "docker/monitoring/prometheus.yml", "global: {}\n")
    # A single, a heredoc file, an unparseable file.
    _write(root, "frontend/Dockerfile.streamlit", "FROM python:3.12-slim\nWORKDIR /app\nCOPY . .\nCMD [\"streamlit\", \"run\", \"app.py\"]\n")
    _write(root, "docker/tools/Dockerfile.heredoc", HEREDOC)
    _write(root, "docker/broken/Dockerfile", "FORM python:3.11-slim\nRUN echo hi\n")
    # Backups: copies never read.
    for name, port in agents[:3]:
        _write(root, "backups/20250801T000000Z/agents/%s/Dockerfile" % name, AGENT.format(name=name, port=port))
    _write(root, "backups/20250801T000000Z/docker-compose.yml", "services: {}\n")
    _write(root, "docker-compose.yml", """# SutazAI agents
x-restart: &restart
  restart: unless-stopped

services:
  alpha:
    build: ./agents/alpha   # the orchestrator
    <<: *restart
    image: sutazai/alpha:latest
  beta:
    build:
      context: ./agents/beta
      dockerfile: Dockerfile
    image: sutazai/beta:latest
  mcp-files:
    build: ./services/mcp-files
  mcp-http:
    build:
      context: ./services/mcp-http
  mcp-postgres:
    build: services/mcp-postgres
""")
    _write(root, "docker/docker-compose.agents.yml", """services:
  gamma:
    image: sutazai/gamma:latest
    build:
      context: ../agents/gamma
      args:
        - PIP_INDEX=https://pypi.org/simple
  delta:
    build:
      context: ../agents/delta
      dockerfile: ./Dockerfile
  alpha-copy:
    build:
      context: agents/alpha
      args:
        PIP_INDEX: https://pypi.org/simple
  zeta:
    build: {context: ../agents/zeta}
  role-a:
    build: ../tools/role-a
  role-b:
    build: ../tools/role-b
""")
    return {
        "dockerfiles_total": 20, "backups": 3, "live": 17, "parsed": 15, "heredoc": 1, "unparseable": 1,
        "unique": 15, "sequences": 5, "single_sequences": 1, "exact_groups_found": 2, "exact_groups": 1,
        # alpha (+ its copy), beta, gamma -> one template; mcp-files + mcp-http -> one template;
        # the monitoring pair -> one canonical file: 8 files go, 3 come.
        "templates": 2, "members_templated": 6,
        "after": 17 - 8 + 3, "compose_files": 2, "build_string": 5, "build_mapping": 6,
        "kept": ["agents/delta/Dockerfile"], "decisions": 3,
        "left_alone": ["agents/delta/Dockerfile", "agents/epsilon/Dockerfile", "agents/zeta/Dockerfile",
                       "docker/broken/Dockerfile", "docker/tools/Dockerfile.heredoc", "frontend/Dockerfile.streamlit",
                       "services/mcp-postgres/Dockerfile", "tools/role-a/Dockerfile", "tools/role-b/Dockerfile"],
    }


def _v76(root):
    live = []
    string_refs, mapping_refs = [], []

    # Family A: 55 distinct agents + 6 exact copies in docker/agents/ = 61 files.
    agents = ["agent-%02d" % i for i in range(55)]
    for i, name in enumerate(agents):
        rel = "agents/%s/Dockerfile" % name
        _write(root, rel, AGENT.format(name=name, port=8100 + i))
        _agent_files(root, "agents/%s" % name, name)
        live.append(rel)
        (string_refs if i < 30 else mapping_refs).append((name, "agents/%s" % name, "Dockerfile"))
    for name in agents[:6]:
        rel = "docker/agents/%s/Dockerfile" % name
        _write(root, rel, AGENT.format(name=name, port=8100 + agents.index(name)).replace("# %s agent" % name, "# copy"))
        _agent_files(root, "docker/agents/%s" % name, name)
        live.append(rel)
    # Family B: 22 distinct node services + 4 copies = 26 files.
    nodes = ["svc-%02d" % i for i in range(22)]
    for i, name in enumerate(nodes):
        rel = "services/%s/Dockerfile" % name
        _write(root, rel, NODE.format(name=name, port=3000 + i, tag="18-alpine" if i % 3 else "20-alpine"))
        _write(root, "services/%s/package.json" % name, '{"name": "%s", "version": "1.0.0"}\n' % name)
        _write(root, "services/%s/src/index.js" % name, "console.log('%s');\n" % name)
        live.append(rel)
        mapping_refs.append(("node-" + name, "services/%s" % name, "Dockerfile"))
    for name in nodes[:4]:
        i = nodes.index(name)
        rel = "docker/services/%s/Dockerfile" % name
        _write(root, rel, NODE.format(name=name, port=3000 + i, tag="18-alpine" if i % 3 else "20-alpine"))
        live.append(rel)
    # 88 singles (sequences 0..87), named three ways.
    for k in range(88):
        base = _BASES[k % len(_BASES)]
        if k % 3 == 0:
            rel = "docker/base/Dockerfile.single-%02d" % k
        elif k % 3 == 1:
            rel = "docker/images/single-%02d.Dockerfile" % k
        else:
            rel = "tools/single-%02d/Dockerfile" % k
        _write(root, rel, _encoded(k, base, "single-%02d" % k))
        live.append(rel)
        if k % 4 == 0:
            if rel.startswith("tools/"):
                string_refs.append(("single-%02d" % k, posixdir(rel), "Dockerfile"))
            else:
                mapping_refs.append(("single-%02d" % k, "", rel))
    # 10 exact-only groups (sequences 88..97): two identical files each.
    for g in range(10):
        k = 88 + g
        text = _encoded(k, "python:3.11-slim", "exact-%02d" % g)
        for where in ("docker/exact-%02d/Dockerfile" % g, "deploy/exact-%02d/Dockerfile" % g):
            _write(root, where, text)
            live.append(where)
        if g % 2 == 0:
            string_refs.append(("exact-%02d" % g, "docker/exact-%02d" % g, "Dockerfile"))
    # 19 small parametric families (sequences 98..116): 11 of 3 files, 8 of 2; four 3-file families
    # hold an exact copy (2 variants + 1 copy).
    for f in range(19):
        k = 98 + f
        n = 3 if f < 11 else 2
        variants = ["fam%02d-v%d" % (f, v) for v in range(n)]
        for v, var in enumerate(variants):
            rel = "docker/base/Dockerfile.fam%02d-%d" % (f, v)
            if f < 4 and v == 2:
                text = _encoded(k, "python:3.11-slim", "fam%02d" % f, variants[0])
            else:
                text = _encoded(k, "python:3.11-slim", "fam%02d" % f, var)
            _write(root, rel, text)
            live.append(rel)
            mapping_refs.append(("fam%02d-%d" % (f, v), "", rel))
    # The heredoc file.
    _write(root, "docker/tools/Dockerfile.heredoc", HEREDOC)
    live.append("docker/tools/Dockerfile.heredoc")
    assert len(live) == 245, len(live)

    # Backups: 336 copies of live files, never read.
    copies = 0
    for stamp in ("20250801T000000Z", "20250805T120000Z"):
        for rel in live:
            if copies == 336:
                break
            with open(os.path.join(root, rel), "rb") as f:
                _write(root, "backups/%s/%s" % (stamp, rel), f.read())
            copies += 1

    # Compose files: the root file (string form for the first agents), agents/services/base
    # files (mapping form), and image-only files as in the real tree (14 in all).
    root_services = [(name, "./" + ctx) for name, ctx, df in string_refs]
    _write(root, "docker-compose.yml", _compose(root_services, "SutazAI platform (generated, string build form)"))
    agent_maps = [(n, [("context", "../" + c), ("dockerfile", d)]) for n, c, d in mapping_refs if c.startswith("agents/")]
    node_maps = [(n, [("context", "../" + c), ("dockerfile", "./" + d)]) for n, c, d in mapping_refs if c.startswith("services/")]
    base_maps = [(n, [("context", ".."), ("dockerfile", d), ("args", [("PYTHON_VERSION", '"3.11"')])])
                 for n, c, d in mapping_refs if c == ""]
    _write(root, "docker/docker-compose.agents.yml", _compose(agent_maps, "agents (mapping form)"))
    _write(root, "docker/docker-compose.services.yml", _compose(node_maps, "node services (mapping form)"))
    _write(root, "docker/docker-compose.base.yml", _compose(base_maps, "base images (mapping form, context ..)"))
    for extra in ("minimal", "standard", "secure", "monitoring", "performance", "dev", "security", "mcp", "blue-green",
                  "override"):
        _write(root, "docker/docker-compose.%s.yml" % extra,
               "services:\n  %s-probe:\n    image: alpine:3.19\n    command: [\"true\"]\n" % extra)
    # Scripts: one names a single (kept anyway), one builds from a variable (reported only).
    _write(root, "Makefile", "build-single:\n\tdocker build -f docker/base/Dockerfile.single-00 .\n")
    _write(root, "scripts/build-all.sh", "#!/bin/sh\nfor d in agents/*; do docker build -f \"$d/Dockerfile\" \"$d\"; done\n")
    n_string = len(string_refs)
    n_mapping = len(mapping_refs)
    return {
        "dockerfiles_total": 581, "backups": 336, "live": 245, "parsed": 244, "heredoc": 1, "unparseable": 0,
        "unique": 221, "sequences": 119, "single_sequences": 88, "exact_groups_found": 24, "exact_groups": 10,
        "templates": 21, "members_templated": 61 + 26 + 49, "after": 120, "compose_files": 14,
        "build_string": n_string, "build_mapping": n_mapping, "decisions": 0,
    }


def posixdir(rel):
    return rel.rsplit("/", 1)[0]
