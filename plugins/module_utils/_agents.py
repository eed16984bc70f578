# -*- coding: utf-8 -*-
# Copyright (c) 2026 sutazai.consolidation contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Agent-registry phase: merge the SutazAI agent definitions into one master registry.

Inputs (paths relative to the root; any may be absent), with the shapes found in the real
SutazAI tree:

* ``essential`` -- ``config/agents/essential_agents.json``: ``{"agents": [{"id": ...}]}``
* ``unified`` -- ``config/agents/unified_agent_registry.json``:
  ``{"version": "2.0", "agents": {id: {..., "deployment_info": {"agent_file": ...}}}}``
* ``agent_registry`` -- ``agents/agent_registry.json``: ``{"agents": {name: {...}}}``;
  ``capabilities`` sometimes a stringified Python list, descriptions with literal ``\\n``
* ``universal`` -- ``config/universal_agents.json``: agents under ``initial_agents`` (a list,
  or a dict keyed by id), with ``model``/``capabilities`` nested under ``config``
* ``markdown`` -- every ``.claude/agents/**/*.md`` with front matter (see :func:`parse_front_matter`)

Identity: see :func:`normalize_id`. Merge: field by field, the first source in the
precedence order (default :data:`DEFAULT_PRECEDENCE`) that has a non-blank value wins;
every field on which sources disagree is listed in ``conflicts``.

Category rule (documented for users in the module's DOCUMENTATION):

1. ``essential`` -- the agent is defined in the essential file;
2. ``experimental`` -- any source marks it so (``experimental: true``, or ``status``,
   ``type``, ``category``, ``tier`` or ``stage`` equal to ``experimental``, or a tag
   ``experimental``);
3. ``claude`` -- defined only in ``.claude/agents`` markdown files;
4. ``specialized`` -- every other agent.
"""

from __future__ import annotations

import ast
import json
import os
import re

from ansible_collections.sutazai.consolidation.plugins.module_utils._errors import ConsolidationError, python_too_deep, too_deep
from ansible_collections.sutazai.consolidation.plugins.module_utils._fileio import (
    decode_text,
    read_bytes,
    sha256_bytes,
)
from ansible_collections.sutazai.consolidation.plugins.module_utils._tree import walk_tree

try:
    import yaml

    _YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    HAS_YAML = True
except ImportError:  # pragma: no cover - reported by the module
    HAS_YAML = False

DEFAULT_SOURCES = {
    "essential": "config/agents/essential_agents.json",
    "unified": "config/agents/unified_agent_registry.json",
    "agent_registry": "agents/agent_registry.json",
    "universal": "config/universal_agents.json",
    "markdown": ".claude/agents",
}
DEFAULT_PRECEDENCE = ["essential", "unified", "agent_registry", "universal", "markdown"]
DEFAULT_OUTPUT = "config/agents/master_registry.json"
CATEGORIES = ("essential", "specialized", "claude", "experimental")
JSON_SOURCES = ("essential", "unified", "agent_registry", "universal")
LIST_FIELDS = ("capabilities", "tools")
# Fields that describe where an entry came from rather than what the agent is.
_NOT_MERGED = ("id", "sources", "categories", "category")


# -- identity ----------------------------------------------------------------------------
def normalize_id(raw):
    """Return the normalized agent id of ``raw`` (str).

    Strip, lower-case, drop one leading ``claude_`` or ``container_``, strip again, turn runs
    of ``_`` and whitespace into ``-``, collapse repeated ``-`` and strip ``-`` at both ends.
    ``" Claude_Research  Orchestrator "`` gives ``research-orchestrator``.
    """
    s = str(raw).strip().lower()
    for prefix in ("claude_", "container_"):
        if s.startswith(prefix):
            s = s[len(prefix):]
            break
    s = s.strip()
    s = re.sub(r"[_\s]+", "-", s)
    s = re.sub(r"-{2,}", "-", s)
    return s.strip("-")


# -- values ------------------------------------------------------------------------------
def is_blank(value):
    """True for values that carry no information: None, empty or whitespace strings,
    strings made only of ``-`` (the real unified registry's ``"---"`` descriptions),
    and empty lists and dicts."""
    if value is None:
        return True
    if isinstance(value, str):
        return value.strip().strip("-").strip() == ""
    if isinstance(value, (list, dict)):
        return len(value) == 0
    return False


def as_string_list(value):
    """Return ``value`` as a list of non-empty strings.

    Accepts a list (items converted with ``str``), a stringified Python or JSON list
    (``"['a', 'b']"``), or a comma separated string (``"Read, Edit"``); None gives ``[]``.
    Order is kept and duplicates dropped.
    """
    if value is None:
        return []
    items = value
    if isinstance(value, str):
        text = value.strip()
        items = None
        if text.startswith("[") and text.endswith("]"):
            try:
                parsed = ast.literal_eval(text)
                if isinstance(parsed, (list, tuple)):
                    items = list(parsed)
            except (ValueError, SyntaxError):
                items = [p.strip().strip("'\"") for p in text[1:-1].split(",")]
        if items is None:
            items = text.split(",")
    elif isinstance(value, dict):
        items = list(value.keys())
    elif not isinstance(value, (list, tuple)):
        items = [value]
    out = []
    for item in items:
        s = str(item).strip() if not isinstance(item, dict) else json.dumps(item, sort_keys=True)
        if s and s not in out:
            out.append(s)
    return out


def _clean_fields(fields):
    """Normalize one source's fields: list fields become string lists, literal ``\\n`` in a
    description becomes a newline, blank values are dropped."""
    out = {}
    for key, value in fields.items():
        key = str(key)
        if key in LIST_FIELDS:
            value = as_string_list(value)
        elif key == "description" and isinstance(value, str):
            value = value.replace("\\n", "\n").strip()
        if is_blank(value):
            continue
        out[key] = value
    return out


# -- JSON sources --------------------------------------------------------------------------
class _Dupes(object):
    def __init__(self):
        self.keys = []

    def hook(self, pairs):
        seen = set()
        for k, dummy in pairs:
            if k in seen:
                self.keys.append(k)
            seen.add(k)
        return dict(pairs)


def load_json(rel, data):
    """Parse ``data`` (bytes) of the file ``rel`` as JSON.

    :returns: ``(document, warnings)``; ``document`` is None for an empty file; warnings
        (list of str) name duplicate keys (the last value wins, as in every JSON reader).
    :raises ConsolidationError: kind ``invalid_json`` with line and column, or ``not_utf8``.
    """
    text = decode_text(data, rel)
    if not text.strip():
        return None, ["empty file: no agents read"]
    dupes = _Dupes()
    try:
        doc = json.loads(text, object_pairs_hook=dupes.hook)
    except ValueError as exc:
        raise ConsolidationError("invalid JSON: %s" % exc.msg, rel, exc.lineno, exc.colno, kind="invalid_json")
    except RecursionError:
        raise too_deep(rel, "JSON document")
    warnings = ["duplicate key %r: the last value is used" % k for k in sorted(set(dupes.keys))]
    return doc, warnings


def _entries_from_json(name, rel, doc):
    """Yield ``(raw_id, key, fields)`` for each agent of a JSON source document.

    :raises ConsolidationError: kind ``invalid_shape`` when the document is not of the
        expected shape (see module doc).
    """
    container_key = "initial_agents" if name == "universal" else "agents"
    if not isinstance(doc, dict) or container_key not in doc:
        raise ConsolidationError('expected a JSON object with "%s"' % container_key, rel, kind="invalid_shape")
    agents = doc[container_key]
    if isinstance(agents, list):
        items = [(None, i, a) for i, a in enumerate(agents)]
    elif isinstance(agents, dict):
        items = [(k, k, a) for k, a in agents.items()]
    else:
        raise ConsolidationError('"%s" must be a list or an object' % container_key, rel, kind="invalid_shape")
    for dict_key, index, agent in items:
        key = "%s.%s" % (container_key, index if dict_key is None else dict_key)
        if not isinstance(agent, dict):
            raise ConsolidationError("agent entry %s is not an object" % key, rel, kind="invalid_shape")
        fields = dict(agent)
        if name == "universal" and isinstance(fields.get("config"), dict):
            config = dict(fields.pop("config"))
            for nested in ("model", "capabilities"):
                if nested in config and nested not in fields:
                    fields[nested] = config.pop(nested)
            if config:
                fields["config"] = config
        raw = fields.get("id") or fields.get("name") or dict_key
        if is_blank(raw):
            raise ConsolidationError("agent entry %s has no id or name" % key, rel, kind="invalid_shape")
        yield str(raw), key, fields


# -- markdown ----------------------------------------------------------------------------------
_KEY_LINE = re.compile(r"^([A-Za-z_][A-Za-z0-9_-]*)\s*:(?:\s+(.*)|\s*)$")
_ITEM_LINE = re.compile(r"^\s*-\s+(.*)$")
_BARE_ITEM = re.compile(r"^\s*[A-Za-z0-9_.:/-]+\s*$")


def _unquote(value):
    value = value.strip()
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        return value[1:-1]
    return value


def parse_lines(lines):
    """Read front-matter lines the way the tools reading agent files do when YAML fails.

    ``key: value`` sets a key (the value is the rest of the line, quotes removed); ``- item``
    lines (and bare one-word lines) after a key with no value form a list; an indented line
    after a scalar continues it. Parsing stops at the first other line.

    :returns: ``(fields, consumed)`` -- dict of str to str or list of str, and the number
        of lines read.
    """
    fields = {}
    current = None
    consumed = 0
    for line in lines:
        if not line.strip():
            consumed += 1
            continue
        m = _KEY_LINE.match(line)
        if m and not line[0].isspace():
            current = m.group(1)
            value = m.group(2)
            fields[current] = _unquote(value) if value and value.strip() else []
            consumed += 1
            continue
        item = _ITEM_LINE.match(line)
        if current is not None and isinstance(fields[current], list) and (item or _BARE_ITEM.match(line)):
            fields[current].append(_unquote(item.group(1) if item else line))
            consumed += 1
            continue
        if current is not None and isinstance(fields[current], str) and line[0].isspace():
            fields[current] = (fields[current] + " " + line.strip()).strip()
            consumed += 1
            continue
        break
    return fields, consumed


def parse_front_matter(text):
    """Find and parse the front matter of an agent markdown file.

    Accepted layouts: ``---`` on the first non-blank line, optionally inside a leading
    fenced block (a first line starting with three backticks); the block ends at the next
    ``---`` (or closing fence). Without a closing line the block is read line by line
    (:func:`parse_lines`) up to the first line that is not front matter.

    :returns: None when the file has no front matter, else a dict ``{"fields": dict,
        "mode": "yaml" | "lines", "fenced": bool, "terminated": bool}``.
    """
    lines = text.split("\n")
    i = 0
    while i < len(lines) and not lines[i].strip():
        i += 1
    fenced = False
    if i < len(lines) and lines[i].startswith("```"):
        fenced = True
        i += 1
    if i >= len(lines) or lines[i].strip() != "---":
        return None
    start = i + 1
    end = None
    for j in range(start, len(lines)):
        s = lines[j].strip()
        if s == "---" or (fenced and s.startswith("```")):
            end = j
            break
    if end is None:
        fields, dummy = parse_lines(lines[start:])
        return {"fields": fields, "mode": "lines", "fenced": fenced, "terminated": False}
    block = "\n".join(lines[start:end])
    if HAS_YAML:
        try:
            doc = yaml.load(block, Loader=_YAML_LOADER)  # nosec B506 - safe loader
        except (yaml.YAMLError, RecursionError):
            doc = None
        if isinstance(doc, dict):
            return {"fields": doc, "mode": "yaml", "fenced": fenced, "terminated": True}
    fields, dummy = parse_lines(lines[start:end])
    return {"fields": fields, "mode": "lines", "fenced": fenced, "terminated": True}


# -- plan ------------------------------------------------------------------------------------
class RegistryPlan(object):
    """What :func:`build_registry` found and would write.

    :ivar document: the master registry (dict), or None when the phase cannot proceed.
    :ivar text: the serialized registry (str, byte-stable).
    :ivar input_files: relative paths read (JSON sources and agent markdown files).
    :ivar invalid: list of error dicts (see ``ConsolidationError.as_dict``) for files that
        could not be read or parsed.
    :ivar warnings: list of ``{"path", "message"}`` dicts (duplicate keys, empty files,
        front matter read line by line, unterminated front matter, skipped tree entries).
    :ivar skipped: list of ``{"path", "reason"}`` dicts: markdown files without front
        matter, tree entries the walker did not follow.
    :ivar stats: dict of counts used in the summary (see module RETURN).
    """

    def __init__(self):
        self.document = None
        self.text = None
        self.input_files = []
        self.invalid = []
        self.warnings = []
        self.skipped = []
        self.stats = {}


def _source_label(rel, key):
    return {"file": rel, "key": key}


def _carry_over(root, output_rel, json_paths):
    """Agents of an existing master registry whose recorded JSON source file is gone.

    After a run with ``remove_sources``, those agents can no longer be rebuilt from their
    sources; they are carried over unchanged with their conflicts so the next run is
    idempotent. Returns ``(agents_by_id, conflicts_by_id)``.
    """
    path = os.path.join(root, output_rel)
    if not os.path.isfile(path) or os.path.islink(path):
        return {}, {}
    try:
        with open(path, "rb") as f:
            doc = json.loads(f.read().decode("utf-8"))
    except (OSError, ValueError, RecursionError):
        return {}, {}
    gone = set(p for p in json_paths if not os.path.lexists(os.path.join(root, p)))
    if not gone or not isinstance(doc, dict):
        return {}, {}
    agents = {}
    for category in CATEGORIES:
        for agent in (doc.get("agents") or {}).get(category, []):
            if any(s.get("file") in gone for s in agent.get("sources", [])):
                agents[agent["id"]] = agent
    conflicts = {}
    for c in doc.get("conflicts", []):
        if c.get("agent") in agents:
            conflicts.setdefault(c["agent"], []).append(c)
    return agents, conflicts


def _is_experimental(fields):
    if fields.get("experimental") is True:
        return True
    for key in ("status", "type", "category", "tier", "stage"):
        v = fields.get(key)
        if isinstance(v, str) and v.strip().lower() == "experimental":
            return True
    tags = fields.get("tags")
    return isinstance(tags, list) and any(str(t).strip().lower() == "experimental" for t in tags)


def _conflict_value(value):
    text = json.dumps(value, sort_keys=True, ensure_ascii=False)
    if len(text) <= 200:
        return value
    return {"preview": text[:120] + "...", "sha256": sha256_bytes(text.encode("utf-8"))[:16], "length": len(text)}


def _comparable(value):
    if isinstance(value, list):
        return json.dumps(sorted(json.dumps(v, sort_keys=True) for v in value))
    return json.dumps(value, sort_keys=True)


def build_registry(root, sources=None, precedence=None, on_invalid="fail", exclude_paths=(),
                   output=DEFAULT_OUTPUT):
    """Read every agent source under ``root`` and build the master registry.

    :param root: the platform root (str).
    :param sources: dict of source name (see module doc) to relative path; missing names
        take :data:`DEFAULT_SOURCES`; a path set to ``""`` disables that source.
    :param precedence: list of the five source names, highest first.
    :param on_invalid: ``fail`` -- a file that cannot be read or parsed makes the plan
        unusable (``plan.document`` is None, ``plan.invalid`` lists every such file);
        ``warn`` -- such files are skipped and listed in ``plan.invalid``.
    :param exclude_paths: absolute paths the markdown walk never enters (backups, reports).
    :param output: relative path of the master registry (read only for carry-over).
    :returns: :class:`RegistryPlan`.
    :raises ValueError: for an invalid ``precedence`` or ``on_invalid``.
    """
    srcs = dict(DEFAULT_SOURCES)
    srcs.update(sources or {})
    order = list(precedence or DEFAULT_PRECEDENCE)
    if sorted(order) != sorted(DEFAULT_PRECEDENCE):
        raise ValueError("precedence must list each of %s once" % ", ".join(DEFAULT_PRECEDENCE))
    if on_invalid not in ("fail", "warn"):
        raise ValueError("on_invalid must be fail or warn")
    rank = dict((name, i) for i, name in enumerate(order))
    plan = RegistryPlan()
    root_real = os.path.realpath(root)

    # entries[id] = list of (rank, source_name, label, fields, md_categories)
    entries = {}
    counts = {"json_files": 0, "markdown_files": 0, "markdown_agents": 0, "markdown_line_parsed": 0,
              "markdown_without_front_matter": 0, "raw_entries": 0}
    generated_from = []

    def add(name, raw, label, fields, md_categories=()):
        aid = normalize_id(raw)
        if not aid:
            plan.warnings.append({"path": label["file"], "message": "entry %s has an empty id after normalization" % label["key"]})
            return
        entries.setdefault(aid, []).append((rank[name], name, label, _clean_fields(fields), tuple(md_categories)))
        counts["raw_entries"] += 1

    def invalid(exc):
        plan.invalid.append(exc.as_dict())

    for name in JSON_SOURCES:
        rel = srcs.get(name)
        if not rel:
            continue
        path = os.path.join(root, rel)
        if not os.path.lexists(path):
            continue
        try:
            if os.path.islink(path):
                real = os.path.realpath(path)
                if not (real == root_real or real.startswith(root_real + os.sep)) and os.path.exists(path):
                    raise ConsolidationError("symlink points outside the root", rel, kind="outside_root")
            data = read_bytes(path, rel)
            doc, warns = load_json(rel, data)
            for w in warns:
                plan.warnings.append({"path": rel, "message": w})
            if doc is None:
                continue
            items = list(_entries_from_json(name, rel, doc))
        except ConsolidationError as exc:
            invalid(exc)
            continue
        counts["json_files"] += 1
        generated_from.append(rel)
        plan.input_files.append(rel)
        for raw, key, fields in items:
            add(name, raw, _source_label(rel, key), fields)

    md_rel = srcs.get("markdown")
    if md_rel:
        walk = walk_tree(root, md_rel, exclude_paths=exclude_paths, match=lambda r: r.endswith(".md"))
        for s in walk.skipped:
            plan.skipped.append(s)
            plan.warnings.append({"path": s["path"], "message": "not read: %s" % s["reason"]})
        md_base = md_rel.strip("/")
        walked = dict((tf.real, tf.rel) for tf in walk.files if not tf.is_symlink)
        for tf in walk.files:
            if tf.is_symlink and tf.real in walked:
                plan.skipped.append({"path": tf.rel, "reason": "symlink to %s (read there)" % walked[tf.real]})
                continue
            try:
                text = decode_text(read_bytes(tf.path, tf.rel), tf.rel)
            except ConsolidationError as exc:
                invalid(exc)
                continue
            counts["markdown_files"] += 1
            fm = parse_front_matter(text)
            if fm is None:
                counts["markdown_without_front_matter"] += 1
                plan.skipped.append({"path": tf.rel, "reason": "no front matter"})
                continue
            if fm["mode"] == "lines":
                counts["markdown_line_parsed"] += 1
                plan.warnings.append({"path": tf.rel, "message": "front matter is not valid YAML; read line by line"
                                      if fm["terminated"] else "front matter has no closing '---'; read line by line"})
            fields = dict(fm["fields"])
            stem = os.path.splitext(os.path.basename(tf.rel))[0]
            raw = fields.get("name")
            if is_blank(raw) or not isinstance(raw, (str, int, float)):
                raw = stem
            sub = tf.rel[len(md_base):].strip("/")
            md_categories = sub.split("/")[:-1]
            fields["agent_file"] = tf.rel
            plan.input_files.append(tf.rel)
            counts["markdown_agents"] += 1
            add("markdown", raw, _source_label(tf.rel, "front_matter"), fields, md_categories)
        if counts["markdown_agents"]:
            generated_from.append(md_base + "/**/*.md")

    if plan.invalid and on_invalid == "fail":
        return plan

    json_paths = [srcs[n] for n in JSON_SOURCES if srcs.get(n)]
    carried, carried_conflicts = _carry_over(root, output, json_paths)
    for agent in carried.values():
        generated_from.extend(s["file"] for s in agent.get("sources", []) if s.get("file") in json_paths)

    agents = dict((c, []) for c in CATEGORIES)
    conflicts = []
    for aid in sorted(set(entries) | set(carried)):
        if aid in carried:
            agent = carried[aid]
            agents[agent.get("category", "specialized")].append(agent)
            conflicts.extend(carried_conflicts.get(aid, []))
            continue
        contribs = sorted(entries[aid], key=lambda e: (e[0], e[2]["file"], e[2]["key"]))
        merged = {}
        chosen = {}
        for dummy, name, label, fields, dummy2 in contribs:
            for key, value in fields.items():
                if key in _NOT_MERGED:
                    continue
                if key not in merged:
                    merged[key] = value
                    chosen[key] = (name, label)
        for key in sorted(merged):
            values = []
            for dummy, name, label, fields, dummy2 in contribs:
                if key in fields:
                    values.append((label, fields[key]))
            distinct = set(_comparable(v) for dummy, v in values)
            if len(distinct) > 1:
                conflicts.append({
                    "agent": aid,
                    "field": key,
                    "chosen": "%s#%s" % (chosen[key][1]["file"], chosen[key][1]["key"]),
                    "values": [{"source": "%s#%s" % (lb["file"], lb["key"]), "value": _conflict_value(v)}
                               for lb, v in values],
                })
        names = set(c[1] for c in contribs)
        md_cats = []
        for c in contribs:
            md_cats.extend(cat for cat in c[4] if cat not in md_cats)
        if "essential" in names:
            category = "essential"
        elif any(_is_experimental(c[3]) for c in contribs):
            category = "experimental"
        elif names == set(["markdown"]):
            category = "claude"
        else:
            category = "specialized"
        for f in LIST_FIELDS:
            if f in merged:
                merged[f] = as_string_list(merged[f])
        merged["id"] = aid
        merged["category"] = category
        merged["sources"] = [c[2] for c in contribs]
        if md_cats:
            merged["categories"] = md_cats
        agents[category].append(merged)

    for category in CATEGORIES:
        agents[category].sort(key=lambda a: a["id"])
    conflicts.sort(key=lambda c: (c["agent"], c["field"]))
    document = {
        "version": "3.0",
        "registry_type": "master",
        "generated_from": sorted(set(generated_from)),
        "agents": agents,
        "conflicts": conflicts,
    }
    plan.document = document
    plan.text = json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    counts["agents"] = sum(len(v) for v in agents.values())
    counts["conflicts"] = len(conflicts)
    counts["agents_with_conflicts"] = len(set(c["agent"] for c in conflicts))
    counts["carried_over"] = len(carried)
    counts["per_category"] = dict((c, len(agents[c])) for c in CATEGORIES)
    counts["invalid_files"] = len(plan.invalid)
    plan.stats = counts
    return plan


# -- code rewrite ----------------------------------------------------------------------------------
def rewrite_registry_path(source, value, name="AGENT_REGISTRY_PATH"):
    """Point a module-level ``NAME = ...`` assignment of Python ``source`` at ``value``.

    Uses libcst so that everything but the assigned expression stays byte-identical. The
    new value is a string literal (the original quote character is kept when the old
    value was a simple string).

    :param source: the file's text (str).
    :param value: the new path (str).
    :returns: ``(new_source, status)``; status is ``changed``, ``unchanged`` (already
        pointing at ``value``) or ``missing`` (no module-level assignment of ``name``).
    :raises ConsolidationError: kind ``invalid_python`` with line and column when libcst
        cannot parse the source.
    """
    import libcst as cst

    deep = python_too_deep(source, None)
    if deep is not None:
        raise deep
    try:
        module = cst.parse_module(source)
    except cst.ParserSyntaxError as exc:
        raise ConsolidationError("invalid Python: %s" % exc.message, None, exc.raw_line, exc.raw_column + 1,
                                 kind="invalid_python")

    state = {"found": False, "same": False}

    class _Rewriter(cst.CSTTransformer):
        def __init__(self):
            super(_Rewriter, self).__init__()
            self.depth = 0

        def visit_FunctionDef(self, node):
            self.depth += 1

        def leave_FunctionDef(self, original, updated):
            self.depth -= 1
            return updated

        def visit_ClassDef(self, node):
            self.depth += 1

        def leave_ClassDef(self, original, updated):
            self.depth -= 1
            return updated

        def _new_value(self, old):
            quote = '"'
            if isinstance(old, cst.SimpleString):
                prefix_quote = old.quote
                if prefix_quote in ("'", '"'):
                    quote = prefix_quote
                try:
                    if old.evaluated_value == value:
                        state["same"] = True
                        return old
                except Exception:
                    pass
            escaped = value.replace("\\", "\\\\").replace(quote, "\\" + quote)
            return cst.SimpleString(quote + escaped + quote)

        def leave_Assign(self, original, updated):
            if self.depth == 0 and any(isinstance(t.target, cst.Name) and t.target.value == name
                                       for t in updated.targets):
                state["found"] = True
                return updated.with_changes(value=self._new_value(updated.value))
            return updated

        def leave_AnnAssign(self, original, updated):
            if self.depth == 0 and isinstance(updated.target, cst.Name) and updated.target.value == name \
                    and updated.value is not None:
                state["found"] = True
                return updated.with_changes(value=self._new_value(updated.value))
            return updated

    new = module.visit(_Rewriter()).code
    if not state["found"]:
        return source, "missing"
    if new == source:
        return source, "unchanged"
    return new, "changed"
