# -*- coding: utf-8 -*-
# Copyright (c) 2026 sutazai.consolidation contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Reading and editing Docker Compose files in place (Compose specification, services /
environment / env_file; used by the env phase and its secrets move).

Files are composed into a node tree that gives every node with its exact start and end
offset (in characters): with libyaml (PyYAML's C parser) when it is present, about 25 times faster
than ruamel.yaml's pure-Python composer on real Compose files, and with ruamel.yaml when libyaml is
absent or rejects the file (then ruamel.yaml's error, with its line and column, is the one
reported). Both give the same nodes, offsets and values, except that libyaml folds ``>`` scalars
to their YAML value (ruamel.yaml keeps its fold markers) and places an empty value (``key:``)
right after its colon (ruamel.yaml at the next token): :meth:`Splicer.scalar_to_block` leaves an
empty value alone either way. Edits replace only the bytes of the scalars they change (:class:`Splicer`), so
comments, key order, anchors, indentation and quoting of everything else stay exactly as
written: a full round-trip dump re-indents real SutazAI compose files (hundreds of changed
lines), which would hide the one line that matters in the diff.

YAML merge keys (``<<: *anchor``) are followed: a value defined in an anchored mapping is
edited where it is defined, so every service that merges it sees the change.
"""

from __future__ import annotations

import os
import re

from ansible_collections.sutazai.consolidation.plugins.module_utils._errors import ConsolidationError, too_deep
from ansible_collections.sutazai.consolidation.plugins.module_utils._tree import is_linked, walk_tree

try:
    from ruamel.yaml import YAML
    from ruamel.yaml.error import MarkedYAMLError
    from ruamel.yaml import nodes as _rt_nodes

    HAS_RUAMEL = True
except ImportError:  # pragma: no cover - reported by the module
    HAS_RUAMEL = False
    _rt_nodes = None

try:
    import yaml as _pyyaml

    _CLOADER = getattr(_pyyaml, "CSafeLoader", None)
except ImportError:  # pragma: no cover - Ansible itself needs PyYAML
    _pyyaml = _CLOADER = None


def _node_classes(name):
    return tuple(getattr(m.nodes if m is _pyyaml else m, name) for m in (_pyyaml, _rt_nodes) if m is not None)


MappingNode = _node_classes("MappingNode")
"""The mapping node classes of both composers (a tuple, for ``isinstance``)."""
ScalarNode = _node_classes("ScalarNode")
"""The scalar node classes of both composers (a tuple, for ``isinstance``)."""
SequenceNode = _node_classes("SequenceNode")
"""The sequence node classes of both composers (a tuple, for ``isinstance``)."""

COMPOSE_PATTERNS = re.compile(r"^(docker-)?compose([.-][^/]*)?\.ya?ml$")
MERGE_TAG = "tag:yaml.org,2002:merge"
_INTERPOLATION = re.compile(r"\$(?!\$)")


def is_compose_file(rel):
    """True for ``docker-compose*.yml``/``compose*.yml`` (``.yaml`` too) base names."""
    return COMPOSE_PATTERNS.match(rel.rsplit("/", 1)[-1]) is not None


def find_compose_files(root, exclude_paths=()):
    """Compose files under ``root`` (regular files only; a symlinked compose file is the
    same file as its target and is edited there).

    :returns: ``(rels, skipped)``: sorted list of root-relative paths and a list of
        ``{"path", "reason"}``.
    """
    walk = walk_tree(root, exclude_paths=exclude_paths, match=is_compose_file)
    rels = []
    skipped = list(walk.skipped)
    for f in walk.files:
        if is_linked(f, root, walk.root_real):
            skipped.append({"path": f.rel, "reason": "symlink (its target is read instead)"})
            continue
        rels.append(f.rel)
    return rels, skipped


def compose_tree(text, rel):
    """Compose ``text`` (str) of the file ``rel`` into a node tree (libyaml when present,
    else ruamel.yaml; see the module documentation).

    :returns: the top mapping node (one of :data:`MappingNode`), or None for an empty document.
    :raises ConsolidationError: invalid YAML (ruamel.yaml's message, with 1-based line and
        column), a document too deep to compose, or a top level that is not a mapping.
    """
    node = None
    composed = False
    if _CLOADER is not None:
        try:
            node = _pyyaml.compose(text, Loader=_CLOADER)
            composed = True
        except Exception:  # pylint: disable=broad-except
            composed = False  # ruamel.yaml decides, and names the error as it always has
    if not composed:
        node = _compose_rt(text, rel)
    if node is None:
        return None
    if not isinstance(node, MappingNode):
        raise ConsolidationError("top level is not a mapping", rel, node.start_mark.line + 1,
                                 node.start_mark.column + 1, kind="invalid_compose")
    return node


def _compose_rt(text, rel):
    try:
        return YAML(typ="rt").compose(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        raise ConsolidationError("invalid YAML: %s" % (exc.problem or exc.context), rel,
                                 mark.line + 1 if mark else None, mark.column + 1 if mark else None,
                                 kind="invalid_yaml")
    except RecursionError:
        raise too_deep(rel, "YAML document")


def rt_compose(text, resolver):
    """Compose the single YAML document of ``text`` (str) into a ruamel.yaml node tree, scanned
    and parsed by libyaml and tagged by ruamel.yaml's ``resolver`` exactly as ruamel.yaml's own
    composer tags it (so ruamel.yaml's constructor builds the same data from it, in the YAML
    version of that resolver), about 10 times faster than ruamel.yaml's pure-Python parser.

    Nodes carry libyaml's marks (``line``, ``column``, ``index`` in characters) and no comments;
    a folded scalar's value is its YAML value (without ruamel.yaml's fold markers).

    :returns: ``(True, node)`` -- the top node, None for an empty stream -- or ``(False, None)``
        when libyaml is absent or rejects the text, or the text holds a ``%YAML`` directive, an
        undefined alias or more than one document: the caller composes with ruamel.yaml then,
        which gives its own error for invalid text.
    """
    if _CLOADER is None or not HAS_RUAMEL or "%YAML" in text:
        return False, None
    events = _pyyaml.events
    stack = []  # open collection nodes; a mapping's pending key rides beside it
    keys = []
    anchors = {}
    top = []
    docs = 0

    def attach(node):
        if not stack:
            top.append(node)
        elif isinstance(stack[-1], _rt_nodes.MappingNode):
            if keys[-1] is None:
                keys[-1] = node
            else:
                stack[-1].value.append((keys[-1], node))
                keys[-1] = None
        else:
            stack[-1].value.append(node)

    try:
        for ev in _pyyaml.parse(text, Loader=_CLOADER):
            if isinstance(ev, events.ScalarEvent):
                tag = ev.tag
                if tag is None or tag == "!":
                    tag = resolver.resolve(_rt_nodes.ScalarNode, ev.value, ev.implicit)
                node = _rt_nodes.ScalarNode(tag, ev.value, ev.start_mark, ev.end_mark, style=ev.style or None,
                                            anchor=ev.anchor)
                if ev.anchor is not None:
                    anchors[ev.anchor] = node
                attach(node)
            elif isinstance(ev, events.AliasEvent):
                if ev.anchor not in anchors:
                    return False, None
                attach(anchors[ev.anchor])
            elif isinstance(ev, (events.SequenceStartEvent, events.MappingStartEvent)):
                mapping = isinstance(ev, events.MappingStartEvent)
                cls = _rt_nodes.MappingNode if mapping else _rt_nodes.SequenceNode
                tag = ev.tag
                if tag is None or tag == "!":
                    tag = resolver.resolve(cls, None, ev.implicit)
                node = cls(tag, [], ev.start_mark, None, flow_style=ev.flow_style, anchor=ev.anchor)
                if ev.anchor is not None:
                    anchors[ev.anchor] = node
                attach(node)
                stack.append(node)
                keys.append(None)
            elif isinstance(ev, (events.SequenceEndEvent, events.MappingEndEvent)):
                stack.pop().end_mark = ev.end_mark
                keys.pop()
            elif isinstance(ev, events.DocumentStartEvent):
                docs += 1
                if docs > 1:
                    return False, None
    except Exception:  # pylint: disable=broad-except
        return False, None  # ruamel.yaml decides, and names the error
    return True, (top[0] if top else None)


def map_items(node):
    """``[(key, key_node, value_node)]`` of a mapping node, merge keys resolved: own keys
    first, then merged keys not already present (earlier merged maps win, as in YAML)."""
    own = []
    merged = []
    for k, v in node.value:
        if k.tag == MERGE_TAG:
            sources = v.value if isinstance(v, SequenceNode) else [v]
            for src in sources:
                if isinstance(src, MappingNode):
                    merged.extend(map_items(src))
        else:
            own.append((k.value, k, v))
    seen = set(k for k, dummy, dummy2 in own)
    out = list(own)
    for item in merged:
        if item[0] not in seen:
            seen.add(item[0])
            out.append(item)
    return out


def get(node, key):
    """Value node under ``key`` of a mapping node (merge keys resolved), or None."""
    if not isinstance(node, MappingNode):
        return None
    for k, dummy, v in map_items(node):
        if k == key:
            return v
    return None


def services(tree):
    """``[(name, MappingNode)]`` of the ``services`` mapping (empty when absent)."""
    svc = get(tree, "services") if tree is not None else None
    if not isinstance(svc, MappingNode):
        return []
    return [(k, v) for k, dummy, v in map_items(svc) if isinstance(v, MappingNode)]


def is_null(node):
    return isinstance(node, ScalarNode) and node.tag == "tag:yaml.org,2002:null"


def environment_pairs(service):
    """The literal ``environment`` entries of a service node.

    :returns: list of ``{"key": str, "value": str or None, "node": ScalarNode, "form":
        "map"|"list"}``; ``value`` is the text as written (None for ``KEY:`` with no value
        or a ``- KEY`` item). Non-scalar values are left out.
    """
    env = get(service, "environment")
    out = []
    if isinstance(env, MappingNode):
        for key, dummy, v in map_items(env):
            if not isinstance(v, ScalarNode):
                continue
            out.append({"key": key, "value": None if is_null(v) else v.value, "node": v, "form": "map"})
    elif isinstance(env, SequenceNode):
        for item in env.value:
            if isinstance(item, ScalarNode) and not is_null(item):
                key, sep, value = item.value.partition("=")
                out.append({"key": key.strip(), "value": value if sep else None, "node": item, "form": "list"})
    return out


def compose_value(raw):
    """The value Compose passes for the written text ``raw`` (str): ``$$`` becomes ``$``.

    :returns: ``(value, interpolated)``; ``interpolated`` is True when ``raw`` holds a ``$``
        reference Compose would substitute (then ``value`` is None).
    """
    if _INTERPOLATION.search(raw.replace("$$", "")):
        return None, True
    return raw.replace("$$", "$"), False


def env_files_of(service):
    """The ``env_file`` entries of a service: ``[{"path": str, "node": ScalarNode,
    "item": node of the list item or None}]`` (scalar, list of scalars, or list of
    ``{path:, required:}`` mappings)."""
    node = get(service, "env_file")
    out = []
    if isinstance(node, ScalarNode) and not is_null(node):
        out.append({"path": node.value, "node": node, "item": None})
    elif isinstance(node, SequenceNode):
        for item in node.value:
            if isinstance(item, ScalarNode) and not is_null(item):
                out.append({"path": item.value, "node": item, "item": item})
            elif isinstance(item, MappingNode):
                p = get(item, "path")
                if isinstance(p, ScalarNode):
                    out.append({"path": p.value, "node": p, "item": item})
    return out


def scalar_text(node, value):
    """YAML text for ``value`` (str) replacing scalar ``node``: double-quoted when the
    original was quoted or the value needs quoting, plain otherwise."""
    style = getattr(node, "style", None)
    if style in ("'", '"') or not re.match(r"^[A-Za-z0-9_./-]+$", value):
        return '"%s"' % value.replace("\\", "\\\\").replace('"', '\\"')
    return value


class Splicer(object):
    """Byte-exact edits of one text: each edit replaces ``text[start:end]``."""

    def __init__(self, text):
        self.text = text
        self.edits = []

    def replace(self, node, new_text):
        """Replace the whole scalar ``node`` (quotes included) with ``new_text``; an anchor
        written before it (``&name``) stays, so its aliases still resolve."""
        start = node.start_mark.index
        anchor = re.match(r"&[^\s]+[ \t]+", self.text[start:node.end_mark.index])
        if anchor:
            start += anchor.end()
        self.edits.append((start, node.end_mark.index, new_text))

    def delete_item(self, node):
        """Delete the block-sequence item line holding ``node``; False when the item does
        not sit alone on its line (flow style), then nothing is planned."""
        start = self.text.rfind("\n", 0, node.start_mark.index) + 1
        if self.text[start:node.start_mark.index].strip() != "-":
            return False
        end = self.text.find("\n", node.end_mark.index)
        end = len(self.text) if end < 0 else end + 1
        if self.text[node.end_mark.index:end].strip() and not self.text[node.end_mark.index:end].strip().startswith("#"):
            return False
        self.edits.append((start, end, ""))
        return True

    # -- additions for the dockerfiles phase (build entries); the methods above are unchanged --

    def insert(self, index, new_text):
        """Insert ``new_text`` at offset ``index`` of the original text (nothing replaced).
        Plan at most one insertion per offset: two at the same offset apply in text order."""
        self.edits.append((index, index, new_text))

    def _line_end(self, index):
        """Offset of the newline ending the line that holds ``index`` (``len(text)`` at EOF)."""
        end = self.text.find("\n", index)
        return len(self.text) if end < 0 else end

    def item_end(self, key_node, value_node):
        """Offset of the end of the last line (before its newline, after any trailing comment)
        of the block mapping item ``key_node: value_node``; None when it cannot be told safely
        (a block scalar ``|``/``>``, an alias inside a sequence)."""
        if value_node.start_mark.index < key_node.start_mark.index:
            # An alias (``key: *anchor``): the node lives at its anchor; the alias sits on the key line.
            return self._line_end(key_node.end_mark.index)
        if isinstance(value_node, ScalarNode) and value_node.start_mark.index == value_node.end_mark.index:
            return self._line_end(key_node.end_mark.index)  # ``key:`` with no value
        if isinstance(value_node, ScalarNode):
            if getattr(value_node, "style", None) in ("|", ">"):
                return None
            return self._line_end(max(value_node.end_mark.index - 1, value_node.start_mark.index))
        if getattr(value_node, "flow_style", False) or not value_node.value:
            return self._line_end(max(value_node.end_mark.index - 1, value_node.start_mark.index))
        if isinstance(value_node, MappingNode):
            k, v = value_node.value[-1]
            return self.item_end(k, v)
        last = value_node.value[-1]
        if last.start_mark.index < value_node.start_mark.index:
            return None
        if isinstance(last, ScalarNode):
            if getattr(last, "style", None) in ("|", ">"):
                return None
            return self._line_end(max(last.end_mark.index - 1, last.start_mark.index))
        if getattr(last, "flow_style", False) or not last.value:
            return self._line_end(max(last.end_mark.index - 1, last.start_mark.index))
        if isinstance(last, MappingNode):
            k, v = last.value[-1]
            return self.item_end(k, v)
        return None

    def mapping_insertion(self, node):
        """Where new items of the block mapping ``node`` go: ``(offset, indent)``, the end of
        its last item's last line and the keys' indentation (str of spaces); None for a
        flow-style or empty mapping, a mapping not starting its own line, or when the end of
        the last item cannot be told (see :meth:`item_end`)."""
        if not isinstance(node, MappingNode) or getattr(node, "flow_style", False) or not node.value:
            return None
        first_key = node.value[0][0]
        col = first_key.start_mark.column
        if self.text[first_key.start_mark.index - col:first_key.start_mark.index].strip():
            return None
        k, v = node.value[-1]
        end = self.item_end(k, v)
        return None if end is None else (end, " " * col)

    def sequence_insertion(self, node):
        """Where new items of the block sequence ``node`` go: ``(offset, indent)`` (indent of
        its ``-``); None for a flow-style or empty sequence or a last item that is not a plain
        or quoted scalar written in place."""
        if not isinstance(node, SequenceNode) or getattr(node, "flow_style", False) or not node.value:
            return None
        first = node.value[0]
        start = self.text.rfind("\n", 0, first.start_mark.index) + 1
        head = self.text[start:first.start_mark.index]
        if head.strip() != "-":
            return None
        last = node.value[-1]
        if last.start_mark.index < node.start_mark.index or not isinstance(last, ScalarNode) \
                or getattr(last, "style", None) in ("|", ">"):
            return None
        end = self._line_end(max(last.end_mark.index - 1, last.start_mark.index))
        return end, head[:len(head) - len(head.lstrip())]

    def append_to_mapping(self, node, lines):
        """Add ``lines`` (YAML text lines, indented relative to the mapping's keys) after the
        last item of the block mapping ``node``; False (nothing planned) when
        :meth:`mapping_insertion` gives None."""
        where = self.mapping_insertion(node)
        if where is None:
            return False
        self.insert(where[0], "".join("\n" + where[1] + line for line in lines))
        return True

    def append_to_sequence(self, node, lines):
        """Add ``lines`` (each a ``- item`` text) after the last item of the block sequence
        ``node``; False (nothing planned) when :meth:`sequence_insertion` gives None."""
        where = self.sequence_insertion(node)
        if where is None:
            return False
        self.insert(where[0], "".join("\n" + where[1] + line for line in lines))
        return True

    def scalar_to_block(self, key_node, value_node, lines, step=2):
        """Replace the scalar ``value_node`` written on the same line as ``key_node:`` by a
        block collection: ``lines`` (YAML text lines, relative indentation) are written below
        the key, indented by the key's column + ``step``. A comment after the scalar stays at
        the end of the last new line.

        :returns: False (nothing planned) when the value is not a plain or quoted scalar on
            the key's line (an alias, a block scalar, a value on the next line, flow context).
        """
        if not isinstance(value_node, ScalarNode) or value_node.start_mark.index < key_node.end_mark.index:
            return False
        if getattr(value_node, "style", None) in ("|", ">") or value_node.start_mark.index == value_node.end_mark.index:
            return False  # a block scalar, or an empty value (``key:``)
        between = self.text[key_node.end_mark.index:value_node.start_mark.index]
        if between.strip() != ":" or "\n" in between:
            return False
        line_start = self.text.rfind("\n", 0, key_node.start_mark.index) + 1
        before_key = self.text[line_start:key_node.start_mark.index]
        if before_key.strip() not in ("", "-"):
            return False
        indent = " " * (key_node.start_mark.column + step)
        end = value_node.end_mark.index
        rest_end = self._line_end(end)
        rest = self.text[end:rest_end]
        lines = list(lines)
        if rest.strip().startswith("#"):
            # The comment described the scalar: it stays on the first new line.
            lines[0] = lines[0] + rest
            end = rest_end
        elif rest.strip():
            return False
        self.edits.append((key_node.end_mark.index, end, ":" + "".join("\n" + indent + line for line in lines)))
        return True

    def __len__(self):
        return len(self.edits)

    def apply(self):
        """Return the edited text (edits must not overlap)."""
        out = self.text
        last = None
        for start, end, new in sorted(set(self.edits), reverse=True):
            if last is not None and end > last:
                raise ValueError("overlapping compose edits")
            out = out[:start] + new + out[end:]
            last = start
        return out


def resolve(compose_rel, path):
    """Root-relative normalized path of an ``env_file`` entry of ``compose_rel``, or None
    when it is absolute or leaves the root."""
    if os.path.isabs(path):
        return None
    joined = os.path.normpath(os.path.join(os.path.dirname(compose_rel), path))
    if joined.startswith(".."):
        return None
    return joined.replace(os.sep, "/")


def rewrite_env_files(text, rel, tree, moved, target_rel, aliases=()):
    """Point ``env_file`` entries at removed env files to ``target_rel``.

    :param moved: set of root-relative env files that the env phase removes.
    :param target_rel: root-relative path of the file that replaces them (``.env.master``).
    :param aliases: root-relative paths that are (or become) symlinks to ``target_rel``.
    :returns: ``(new_text, rewrites)``, ``rewrites`` a list of ``{"path", "service", "from",
        "to"}``; ``new_text`` is ``text`` when nothing changes. An entry that would repeat
        ``target_rel`` in the same list is deleted instead when it sits on its own line.
    """
    sp = Splicer(text)
    rewrites = []
    new_ref = os.path.relpath(target_rel, os.path.dirname(rel) or ".")
    for name, svc in services(tree):
        entries = env_files_of(svc)
        aliases = set(aliases)
        present = set(target_rel if resolve(rel, e["path"]) in aliases else resolve(rel, e["path"]) for e in entries)
        for e in entries:
            target = resolve(rel, e["path"])
            if target not in moved:
                continue
            if target_rel in present and e["item"] is not None and e["item"] is e["node"] and sp.delete_item(e["node"]):
                rewrites.append({"path": rel, "service": name, "from": e["path"], "to": None})
                continue
            sp.replace(e["node"], scalar_text(e["node"], new_ref))
            present.add(target_rel)
            rewrites.append({"path": rel, "service": name, "from": e["path"], "to": new_ref})
    return (sp.apply() if len(sp) else text), rewrites
