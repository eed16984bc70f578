# -*- coding: utf-8 -*-
# Copyright (c) 2026 sutazai.consolidation contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Dockerfile consolidation: exact groups and proven parametric templates,
with the Compose ``build:`` entries that use them rewritten in place.

Pipeline (:func:`plan_dockerfiles`):

1. Discovery: ``Dockerfile``, ``Dockerfile.*`` and ``*.Dockerfile`` under the root (backups,
   archives and reports are never entered). Each file is parsed with dockerfile-parse from
   memory (``DockerfileParser(fileobj=...)``: it never reads or writes a path) into
   :class:`Instruction` objects in *normal form* (:func:`parse_dockerfile`). Files with a heredoc,
   an unknown instruction, an ``escape`` parser directive, no ``FROM``, non-UTF-8 bytes or a
   symlink are listed and left alone.
2. Exact groups: files with the same sha256 of their normal form.
3. Families: units (an exact group or a single file) with the same parser directives and the
   same sequence of instruction keywords. Their tokens are aligned; a token that differs
   becomes a build argument only where Docker (or the ``/bin/sh`` of a shell-form ``RUN``)
   substitutes it at build time (:func:`position_check`); other differences split the family
   (:func:`split_family`) and are reported as decisions for a person.
4. Proof: each template is parsed back and rendered with each unit's arguments
   (:func:`render`); only units whose rendering equals their normal form are replaced.
5. Compose ``build:`` entries pointing at removed files are edited in place
   (``_compose.Splicer``), keeping their ``context``; the edited text is parsed again and must
   equal the intended data (:func:`edit_compose`).

All functions are pure (they read files, never write); the module makes the changes through
the journal.
"""

from __future__ import annotations

import copy
import hashlib
import io
import json
import os
import posixpath
import re

from ansible_collections.sutazai.consolidation.plugins.module_utils import _compose
from ansible_collections.sutazai.consolidation.plugins.module_utils import _shell
from ansible_collections.sutazai.consolidation.plugins.module_utils._redaction import looks_secret
from ansible_collections.sutazai.consolidation.plugins.module_utils._errors import ConsolidationError
from ansible_collections.sutazai.consolidation.plugins.module_utils._fileio import decode_text, read_bytes
from ansible_collections.sutazai.consolidation.plugins.module_utils._tree import DEFAULT_EXCLUDES, glob_matcher, walk_tree

try:
    from dockerfile_parse import DockerfileParser

    HAS_DOCKERFILE_PARSE = True
except ImportError:  # pragma: no cover - reported by the module
    HAS_DOCKERFILE_PARSE = False

from ansible_collections.sutazai.consolidation.plugins.module_utils._compose import MappingNode, ScalarNode, SequenceNode

try:
    # Read-only check of edited Compose files: PyYAML (an Ansible requirement) with libyaml when present.
    import yaml as _pyyaml

    _SafeLoader = getattr(_pyyaml, "CSafeLoader", _pyyaml.SafeLoader)
except ImportError:  # pragma: no cover - Ansible itself needs PyYAML
    _pyyaml = None

PHASE = "dockerfiles"
DEFAULT_OUTPUT_DIR = "docker/templates"
DEFAULT_EXCLUDE_DIRS = tuple(DEFAULT_EXCLUDES) + ("backups", "backup", "archive", "archives", "_archive", "reports")
# Files whose mention of a Dockerfile path keeps that Dockerfile (base name patterns); docs are not read.
DEFAULT_REFERENCE_PATTERNS = ("Makefile", "makefile", "GNUmakefile", "*.mk", "*.sh", "*.bash", "*.py", "Jenkinsfile",
                              "*.yml", "*.yaml", "*.json", "*.toml", "*.cfg", "*.ini", "*.hcl", "*.tf", "*.ps1",
                              "Procfile", "Vagrantfile")
RUNTIME_VALUES = ("keep", "env")

KNOWN_INSTRUCTIONS = frozenset(["ADD", "ARG", "CMD", "COPY", "ENTRYPOINT", "ENV", "EXPOSE", "FROM", "HEALTHCHECK",
                                "LABEL", "MAINTAINER", "ONBUILD", "RUN", "SHELL", "STOPSIGNAL", "USER", "VOLUME",
                                "WORKDIR"])
# Instructions in which Docker substitutes build arguments at build time (ONBUILD only when the
# trigger runs, in the child build, so it is never parametrized here).
SUBSTITUTED = frozenset(["ADD", "COPY", "ENV", "EXPOSE", "FROM", "LABEL", "STOPSIGNAL", "USER", "VOLUME", "WORKDIR"])
# Instructions whose text is used when the container runs (image Config), not at build time.
RUNTIME = frozenset(["CMD", "ENTRYPOINT", "HEALTHCHECK", "SHELL"])
_JSON_FORM = frozenset(["RUN", "CMD", "ENTRYPOINT", "SHELL", "ADD", "COPY", "VOLUME"])
# Docker's parser takes the rest of the line as one string for these: interior whitespace is kept.
_EXACT = frozenset(["CMD", "ENTRYPOINT", "MAINTAINER", "STOPSIGNAL", "USER", "WORKDIR"])
_FLAGGED = frozenset(["ADD", "COPY", "FROM", "RUN"])
PLAIN = re.compile(r"^[A-Za-z0-9._/:-]+$")
_BOUNDARY_WORD = re.compile(r"[A-Za-z0-9._-]")
_DIRECTIVE = re.compile(r"^#\s*([A-Za-z][A-Za-z0-9_-]*)\s*=\s*(.*?)\s*$")
_DIRECTIVES = ("syntax", "escape", "check")
# BuildKit reads a heredoc where a word is ``[digits]<<[-]["']NAME`` (no blank after ``<<``).
_HEREDOC = re.compile(r"(?:^|[\s;&|(])\d*<<-?[\"']?[A-Za-z0-9_]")
_VAR_REF = re.compile(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)")
_SH_RESERVED = frozenset(["if", "then", "else", "elif", "fi", "do", "done", "case", "esac", "while", "until", "for",
                          "in", "function", "select", "time", "{", "}", "!", "[[", "]]"])
_POSIX_SHELLS = frozenset(["sh", "bash", "dash", "ash"])
_NAME_CHARS = re.compile(r"[^A-Za-z0-9]+")


def is_dockerfile_name(rel):
    """True for the base names ``Dockerfile``, ``Dockerfile.<x>`` and ``<x>.Dockerfile``."""
    name = rel.rsplit("/", 1)[-1]
    return name == "Dockerfile" or (name.startswith("Dockerfile.") and len(name) > 11) or \
        (name.endswith(".Dockerfile") and len(name) > 11)


# -- Normal form ------------------------------------------------------------------------------

class Instruction(object):
    """One Dockerfile instruction in normal form.

    :ivar keyword: upper-case instruction (str).
    :ivar pieces: list of str alternating token and separator (``pieces[0::2]`` tokens,
        ``pieces[1::2]`` separators); ``"".join(pieces)`` is the normalized value.
    :ivar form: ``exec`` (JSON array, one token), ``shell`` (shell-form RUN/CMD/ENTRYPOINT or
        the command of a HEALTHCHECK), ``words`` (other instructions), ``legacy`` (``ENV k v``),
        ``onbuild`` (one token) or ``none`` (``HEALTHCHECK NONE``).
    :ivar line: 1-based line of the instruction in its file.
    :ivar stage: 0-based build stage (each ``FROM`` starts one; -1 before the first).
    :ivar first_arg: index of the first token after the instruction's flags (``--x``) and, for
        HEALTHCHECK, after ``CMD``.
    """

    __slots__ = ("keyword", "pieces", "form", "line", "stage", "first_arg")

    def __init__(self, keyword, pieces, form, line, stage=-1, first_arg=0):
        self.keyword = keyword
        self.pieces = pieces
        self.form = form
        self.line = line
        self.stage = stage
        self.first_arg = first_arg

    @property
    def tokens(self):
        return self.pieces[0::2]

    @property
    def text(self):
        return "".join(self.pieces)

    @property
    def normal(self):
        text = self.text
        return "%s %s" % (self.keyword, text) if text else self.keyword

    def __repr__(self):
        return "Instruction(%r)" % self.normal


def split_words(value, exact=False):
    """Split ``value`` into pieces (token, separator, token, ...) at runs of blanks that are
    outside quotes and not escaped by a backslash.

    :param exact: keep each separator as written (Docker keeps the interior whitespace of
        these values); otherwise every separator is one space.
    """
    pieces = []
    cur = []
    i = 0
    n = len(value)
    quote = None
    while i < n:
        c = value[i]
        if quote is None and c in " \t":
            j = i
            while j < n and value[j] in " \t":
                j += 1
            if cur:
                pieces.append("".join(cur))
                cur = []
                if j < n:
                    pieces.append(value[i:j] if exact else " ")
            i = j
            continue
        if c == "\\" and quote != "'" and i + 1 < n:
            cur.append(value[i:i + 2])
            i += 2
            continue
        if quote is None and c in "'\"":
            quote = c
        elif quote == c:
            quote = None
        cur.append(c)
        i += 1
    if cur:
        pieces.append("".join(cur))
    return pieces


def _json_array(text):
    """The list of str a JSON exec form holds, or None when ``text`` is not one (Docker then
    takes the value as shell form)."""
    if not text.startswith("["):
        return None
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        return None
    if isinstance(data, list) and all(isinstance(x, str) for x in data):
        return data
    return None


def _json_token(data):
    return json.dumps(data, ensure_ascii=False)


def _flags(pieces):
    """Number of leading ``--flag`` tokens of ``pieces``."""
    n = 0
    for tok in pieces[0::2]:
        if not tok.startswith("--"):
            break
        n += 1
    return n


def normalize_value(keyword, value):
    """Normal form of one instruction's value: ``(pieces, form, first_arg)`` (see
    :class:`Instruction`).

    Rules: JSON exec forms are re-encoded (``["a", "b"]``); shell-form CMD/ENTRYPOINT, the
    command of HEALTHCHECK, MAINTAINER, STOPSIGNAL, USER, WORKDIR and legacy ``ENV key value``
    / ``LABEL key value`` keep their interior whitespace (Docker stores it in the image);
    everything else has its blanks outside quotes collapsed to one space.

    :raises ValueError: an ONBUILD of ONBUILD/FROM/MAINTAINER, a HEALTHCHECK without CMD/NONE.
    """
    value = value.strip()
    if keyword == "ONBUILD":
        m = re.match(r"^(\S+)\s*(.*)$", value, re.S)
        sub = m.group(1).upper() if m else ""
        if sub not in KNOWN_INSTRUCTIONS or sub in ("ONBUILD", "FROM", "MAINTAINER"):
            raise ValueError("ONBUILD %s is not allowed" % (sub or "without instruction"))
        pieces, dummy, dummy2 = normalize_value(sub, m.group(2))
        return ["%s %s" % (sub, "".join(pieces))], "onbuild", 0
    if keyword == "HEALTHCHECK":
        m = re.match(r"^((?:--\S+\s+)*)(CMD|NONE)\b\s*(.*)$", value, re.S | re.I)
        if not m:
            raise ValueError("HEALTHCHECK needs CMD or NONE")
        flags = split_words(m.group(1).strip()) if m.group(1).strip() else []
        head = flags + ([" "] if flags else [])
        if m.group(2).upper() == "NONE":
            return head + ["NONE"], "none", len(head[0::2]) + 1
        rest = m.group(3).strip()
        data = _json_array(rest)
        body = [_json_token(data)] if data is not None else split_words(rest, exact=True)
        form = "exec" if data is not None else "shell"
        head = head + ["CMD"] + ([" "] if body else [])
        return head + body, form, len(head[0::2])
    words = split_words(value)
    nflags = _flags(words) if keyword in _FLAGGED else 0
    if keyword in _JSON_FORM:
        rest = value
        for dummy in range(nflags):
            rest = rest.split(None, 1)[1] if len(rest.split(None, 1)) > 1 else ""
        data = _json_array(rest.strip())
        if data is not None:
            head = words[:2 * nflags]
            return head + [_json_token(data)], "exec", nflags
    if keyword in ("RUN",):
        return words, "shell", nflags
    if keyword in ("CMD", "ENTRYPOINT"):
        return split_words(value, exact=True), "shell", 0
    if keyword in _EXACT:
        return split_words(value, exact=True), "words", 0
    if keyword in ("ENV", "LABEL") and words and "=" not in words[0]:
        return split_words(value, exact=True), "legacy", 0
    return words, "words", nflags


def _directives(text):
    """Parser directives at the top of ``text``: list of ``(name, value)`` (lower-case names)."""
    out = []
    for line in text.split("\n"):
        m = _DIRECTIVE.match(line.strip())
        if not m or m.group(1).lower() not in _DIRECTIVES:
            break
        out.append((m.group(1).lower(), m.group(2)))
    return out


def parse_dockerfile(text, rel):
    """Parse Dockerfile ``text`` (str, LF line ends) into normal form.

    :returns: ``(directives, instructions)``: list of ``"# name=value"`` lines and list of
        :class:`Instruction` (stages numbered).
    :raises ConsolidationError: kind ``heredoc`` (a ``<<WORD`` in RUN/COPY/ADD; dockerfile-parse
        does not read heredocs), ``unparseable`` (unknown or empty instruction, ``escape``
        directive other than backslash, no FROM, an instruction before FROM other than ARG),
        each with the line.
    """
    directives = _directives(text)
    for name, value in directives:
        if name == "escape" and value != "\\":
            raise ConsolidationError("parser directive escape=%s is not supported" % value, rel, 1, None,
                                     kind="unparseable")
    parser = DockerfileParser(fileobj=io.BytesIO(text.encode("utf-8")), env_replace=False)
    out = []
    stage = -1
    for item in parser.structure:
        kw = item["instruction"]
        line = item["startline"] + 1
        if kw == "COMMENT":
            continue
        if kw not in KNOWN_INSTRUCTIONS:
            raise ConsolidationError("unknown instruction %r" % kw[:40], rel, line, None, kind="unparseable")
        value = item["value"]
        if kw in ("RUN", "COPY", "ADD") or (kw == "ONBUILD" and re.match(r"(?i)\s*(RUN|COPY|ADD)\b", value)):
            if _HEREDOC.search(value):
                raise ConsolidationError("heredoc in %s (not read by dockerfile-parse)" % kw, rel, line, None,
                                         kind="heredoc")
        if not value.strip():
            raise ConsolidationError("%s without arguments" % kw, rel, line, None, kind="unparseable")
        if kw == "FROM":
            stage += 1
        elif stage < 0 and kw != "ARG":
            raise ConsolidationError("%s before the first FROM" % kw, rel, line, None, kind="unparseable")
        try:
            pieces, form, first_arg = normalize_value(kw, value)
        except ValueError as exc:
            raise ConsolidationError(str(exc), rel, line, None, kind="unparseable")
        out.append(Instruction(kw, pieces, form, line, stage, first_arg))
    if stage < 0:
        raise ConsolidationError("no FROM instruction", rel, None, None, kind="unparseable")
    return ["# %s=%s" % d for d in directives], out


def normal_text(directives, instructions):
    """The normal form as text: directives, then one instruction per line, trailing newline."""
    return "\n".join(list(directives) + [i.normal for i in instructions]) + "\n"


def digest(directives, instructions):
    """sha256 (hex) of :func:`normal_text`."""
    return hashlib.sha256(normal_text(directives, instructions).encode("utf-8")).hexdigest()


def base_images(instructions):
    """Images the ``FROM`` instructions build on, earlier stage names left out (list of str)."""
    stages = set()
    out = []
    for ins in instructions:
        if ins.keyword != "FROM":
            continue
        toks = ins.tokens[ins.first_arg:]
        if not toks:
            continue
        if toks[0].lower() not in stages and toks[0] not in out:
            out.append(toks[0])
        if len(toks) >= 3 and toks[1].upper() == "AS":
            stages.add(toks[2].lower())
    return out


# -- Discovery -------------------------------------------------------------------------------

class DockerfileEntry(object):
    """A Dockerfile found under the root.

    :ivar rel: root-relative path. :ivar data: bytes. :ivar status: ``ok``, ``heredoc``,
        ``unparseable``, ``unreadable`` or ``symlink``. :ivar reason: why it is left alone
        (str) or None. :ivar line: line of the problem or None. :ivar directives, instructions:
        normal form (``ok`` only). :ivar digest: sha256 of the normal form (``ok`` only).
    """

    def __init__(self, rel):
        self.rel = rel
        self.data = None
        self.status = "ok"
        self.reason = None
        self.line = None
        self.directives = []
        self.instructions = []
        self.digest = None
        self.kept = []          # reasons this file must stay where it is
        self.refs = []          # compose BuildRefs pointing at it

    @property
    def sequence(self):
        return (tuple(self.directives), tuple(i.keyword for i in self.instructions))

    def __repr__(self):
        return "DockerfileEntry(%r)" % self.rel


def _linked(tree_file, root_real):
    """``_tree.is_linked`` with the root's real path computed once."""
    return tree_file.is_symlink or tree_file.real != os.path.join(root_real, *tree_file.rel.split("/"))


def read_dockerfile(root, tree_file, root_real=None):
    """Read and parse one Dockerfile (a ``_tree.TreeFile``) into a :class:`DockerfileEntry`."""
    entry = DockerfileEntry(tree_file.rel)
    if _linked(tree_file, root_real or os.path.realpath(root)):
        entry.status, entry.reason = "symlink", "symlink (its target is read instead)"
        return entry
    try:
        entry.data = read_bytes(tree_file.path, tree_file.rel)
        text = decode_text(entry.data, tree_file.rel)
        entry.directives, entry.instructions = parse_dockerfile(text, tree_file.rel)
    except ConsolidationError as exc:
        entry.status = exc.kind if exc.kind in ("heredoc", "unparseable") else "unreadable"
        entry.reason = exc.message
        entry.line = exc.line
        return entry
    entry.digest = digest(entry.directives, entry.instructions)
    return entry


# -- Compose build references ---------------------------------------------------------------

class BuildRef(object):
    """A Compose ``build:`` entry.

    :ivar compose: root-relative Compose file. :ivar service: service name. :ivar form:
        ``string`` or ``mapping``. :ivar key_node, node: the ``build`` key and value nodes.
    :ivar context: root-relative context folder ("" for the root) or None when unresolved.
    :ivar dockerfile: root-relative Dockerfile path or None. :ivar line: 1-based line of ``build``.
    :ivar args: existing build arg names (set). :ivar problem: why the entry cannot be edited in
        place (str) or None. :ivar unresolved: why the Dockerfile is unknown (str) or None.
    """

    def __init__(self, compose, service, key_node, node):
        self.compose = compose
        self.service = service
        self.key_node = key_node
        self.node = node
        self.form = "string" if isinstance(node, ScalarNode) else "mapping"
        self.context = None
        self.dockerfile = None
        self.line = key_node.start_mark.line + 1
        self.args = set()
        self.problem = None
        self.unresolved = None
        self.step = 2

    def where(self):
        return "%s:%d (service %s)" % (self.compose, self.line, self.service)


def _resolve_dir(base, path):
    """Root-relative normalized ``base``/``path`` or None when absolute or leaving the root.
    ``base`` is a normalized root-relative folder (``""`` for the root)."""
    if path and "/" not in path and path != "." and path != ".." and not path.startswith("git@"):
        # One plain name under a normalized folder is normalized already (most tokens).
        return base + "/" + path if base else path
    if os.path.isabs(path) or "://" in path or path.startswith("git@"):
        return None
    joined = posixpath.normpath(posixpath.join(base, path)) if base else posixpath.normpath(path)
    if joined == ".." or joined.startswith("../"):
        return None
    return "" if joined == "." else joined


def _own_item(mapping, key):
    """``(key_node, value_node)`` of an own (not merged) key of a mapping node, or None."""
    for k, v in mapping.value:
        if k.tag != _compose.MERGE_TAG and k.value == key:
            return k, v
    return None


def build_refs(rel, text, tree):
    """Every ``build:`` entry of the services of one composed Compose file (list of
    :class:`BuildRef`); a node shared by several services (YAML alias or merge) is listed once
    per service."""
    out = []
    cdir = posixpath.dirname(rel)
    for name, svc in _compose.services(tree):
        found = None
        for key, key_node, value in _compose.map_items(svc):
            if key == "build":
                found = (key_node, value)
        if found is None or _compose.is_null(found[1]):
            continue
        ref = BuildRef(rel, name, found[0], found[1])
        svc_key = None
        for key, key_node, value in _compose.map_items(_compose.get(tree, "services")):
            if value is svc:
                svc_key = key_node
        if svc_key is not None and ref.key_node.start_mark.column > svc_key.start_mark.column:
            ref.step = max(ref.key_node.start_mark.column - svc_key.start_mark.column, 1)
        node = found[1]
        if isinstance(node, ScalarNode):
            ctx_text, df_text = node.value, "Dockerfile"
        elif isinstance(node, MappingNode):
            ctx = _compose.get(node, "context")
            df = _compose.get(node, "dockerfile")
            if _compose.get(node, "dockerfile_inline") is not None:
                ref.unresolved = "dockerfile_inline"
                out.append(ref)
                continue
            ctx_text = ctx.value if isinstance(ctx, ScalarNode) and not _compose.is_null(ctx) else "."
            df_text = df.value if isinstance(df, ScalarNode) and not _compose.is_null(df) else "Dockerfile"
            args = _compose.get(node, "args")
            if isinstance(args, MappingNode):
                ref.args = set(k for k, dummy, dummy2 in _compose.map_items(args))
            elif isinstance(args, SequenceNode):
                ref.args = set(i.value.split("=", 1)[0].strip() for i in args.value if isinstance(i, ScalarNode))
        else:
            ref.unresolved = "build is not a string or mapping"
            out.append(ref)
            continue
        if "$" in ctx_text or "$" in df_text:
            ref.unresolved = "interpolated path (%s)" % (ctx_text if "$" in ctx_text else df_text)
            out.append(ref)
            continue
        ref.context = _resolve_dir(cdir, ctx_text)
        if ref.context is None:
            ref.unresolved = "context %s is absolute, remote or outside the root" % ctx_text
            out.append(ref)
            continue
        if os.path.isabs(df_text):
            ref.unresolved = "absolute dockerfile path %s" % df_text
            out.append(ref)
            continue
        ref.dockerfile = _resolve_dir(ref.context, df_text)
        if ref.dockerfile is None:
            ref.unresolved = "dockerfile %s leaves the root" % df_text
        out.append(ref)
    return out


def edit_problem(text, ref, with_args):
    """Why ``ref`` cannot be edited in place (str), or None when it can.

    :param with_args: the edit also adds build args.
    """
    sp = _compose.Splicer(text)
    node = ref.node
    if isinstance(node, ScalarNode):
        if not sp.scalar_to_block(ref.key_node, node, ["context: x", "dockerfile: y"], ref.step):
            return "build: is an alias or not written on its key's line"
        return None
    if getattr(node, "flow_style", False):
        return "build: is a flow-style mapping"
    for k, dummy in node.value:
        if k.tag == _compose.MERGE_TAG:
            for key in ("dockerfile", "args", "context"):
                if _own_item(node, key) is None and _compose.get(node, key) is not None:
                    return "build.%s comes from a YAML merge key" % key
    df = _own_item(node, "dockerfile")
    if df is not None and (not isinstance(df[1], ScalarNode) or df[1].start_mark.index < df[0].start_mark.index
                           or getattr(df[1], "style", None) in ("|", ">") or _compose.is_null(df[1])):
        return "build.dockerfile is not a plain or quoted scalar"
    if sp.mapping_insertion(node) is None:
        return "the end of the build: mapping cannot be told"
    if with_args:
        args = _own_item(node, "args")
        if args is not None:
            a = args[1]
            if a.start_mark.index < args[0].start_mark.index:
                return "build.args is an alias"
            if isinstance(a, MappingNode):
                if sp.mapping_insertion(a) is None:
                    return "build.args is a flow-style mapping"
            elif isinstance(a, SequenceNode):
                if sp.sequence_insertion(a) is None:
                    return "build.args is a flow-style sequence"
            else:
                return "build.args is not a mapping or sequence"
    return None


def _quote(value):
    return '"%s"' % value.replace("\\", "\\\\").replace('"', '\\"')


def plan_ref_edit(sp, text, ref, dockerfile_rel, args):
    """Plan the edit of one build entry on Splicer ``sp``: ``dockerfile:`` pointing at
    ``dockerfile_rel`` (relative to the entry's context, as Compose resolves it) and ``args``
    (list of ``(name, value)``) added. ``context`` is kept as written.

    :returns: the intended new build value as Python data transform: a callable taking the
        old loaded value and returning the new one.
    """
    node = ref.node
    new_args = list(args)
    if isinstance(node, ScalarNode):
        ctx_src = text[node.start_mark.index:node.end_mark.index]
        lines = ["context: %s" % ctx_src, "dockerfile: %s" % _compose.scalar_text(node, dockerfile_rel)]
        if new_args:
            lines.append("args:")
            lines.extend("%s%s: %s" % (" " * ref.step, k, _quote(v)) for k, v in new_args)
        if not sp.scalar_to_block(ref.key_node, node, lines, ref.step):
            raise ValueError("cannot edit %s" % ref.where())

        def transform(old):
            out = {"context": old, "dockerfile": dockerfile_rel}
            if new_args:
                out["args"] = dict(new_args)
            return out
        return transform

    inserts = {}
    df = _own_item(node, "dockerfile")
    build_lines = []
    if df is not None:
        sp.replace(df[1], _compose.scalar_text(df[1], dockerfile_rel))
    else:
        build_lines.append("dockerfile: %s" % (dockerfile_rel if re.match(r"^[A-Za-z0-9_./-]+$", dockerfile_rel)
                                               else _quote(dockerfile_rel)))
    args_item = _own_item(node, "args") if new_args else None
    list_args = False
    if new_args:
        if args_item is None:
            build_lines.append("args:")
            build_lines.extend("%s%s: %s" % (" " * ref.step, k, _quote(v)) for k, v in new_args)
        elif isinstance(args_item[1], MappingNode):
            off, indent = sp.mapping_insertion(args_item[1])
            inserts.setdefault(off, []).append("".join("\n%s%s: %s" % (indent, k, _quote(v)) for k, v in new_args))
        else:
            list_args = True
            off, indent = sp.sequence_insertion(args_item[1])
            inserts.setdefault(off, []).append("".join("\n%s- %s=%s" % (indent, k, v) for k, v in new_args))
    if build_lines:
        off, indent = sp.mapping_insertion(node)
        inserts.setdefault(off, []).append("".join("\n" + indent + line for line in build_lines))
    for off in sorted(inserts):
        sp.insert(off, "".join(inserts[off]))

    def transform_map(old):
        out = dict(old)
        out["dockerfile"] = dockerfile_rel
        if new_args:
            if list_args:
                out["args"] = list(out.get("args") or []) + ["%s=%s" % (k, v) for k, v in new_args]
            else:
                merged = dict(out.get("args") or {})
                merged.update(new_args)
                out["args"] = merged
        return out
    return transform_map


def _node_paths(tree, targets):
    """Data paths (tuples of keys/indexes) at which the nodes in ``targets`` (dict id -> node)
    appear in the loaded document, merge keys resolved as YAML does."""
    found = {}

    def walk(node, path, depth):
        if depth > 50:
            return
        if id(node) in targets:
            found.setdefault(id(node), []).append(path)
        if isinstance(node, MappingNode):
            for key, dummy, value in _compose.map_items(node):
                walk(value, path + (key,), depth + 1)
        elif isinstance(node, SequenceNode):
            for i, item in enumerate(node.value):
                walk(item, path + (i,), depth + 1)
    walk(tree, (), 0)
    return found


def _get_path(data, path):
    for p in path:
        data = data[p]
    return data


def _set_path(data, path, value):
    for p in path[:-1]:
        data = data[p]
    data[path[-1]] = value


def edit_compose(rel, text, tree, edits):
    """Edit one Compose file in place.

    :param edits: list of ``(BuildRef, dockerfile_rel, args)``; refs sharing a node are
        edited once.
    :returns: the new text; everything but the edited build entries stays byte-identical.
    :raises ConsolidationError: kind ``compose_check`` when the edited text, parsed again, is
        not the intended data (nothing is then written by the module).
    """
    sp = _compose.Splicer(text)
    transforms = {}
    nodes = {}
    for ref, dockerfile_rel, args in edits:
        if id(ref.node) in transforms:
            continue
        transforms[id(ref.node)] = plan_ref_edit(sp, text, ref, dockerfile_rel, args)
        nodes[id(ref.node)] = ref.node
    new_text = sp.apply()
    try:
        before = _pyyaml.load(text, Loader=_SafeLoader)
        after = _pyyaml.load(new_text, Loader=_SafeLoader)
    except _pyyaml.YAMLError as exc:
        raise ConsolidationError("edited Compose file does not load: %s" % exc, rel, kind="compose_check")
    except RecursionError:
        raise ConsolidationError("edited Compose file is nested too deeply to load", rel, kind="compose_check")
    expected = copy.deepcopy(before)
    paths = _node_paths(tree, nodes)
    for node_id, plist in paths.items():
        for path in plist:
            _set_path(expected, path, transforms[node_id](copy.deepcopy(_get_path(before, path))))
    if after != expected:
        raise ConsolidationError("edited Compose file does not hold the intended data", rel, kind="compose_check")
    return new_text


# -- References from other files -----------------------------------------------------------

_DF_TOKEN = re.compile(r"[A-Za-z0-9_./${}*@:-]*Dockerfile[A-Za-z0-9_.-]*")
_PATH_TOKEN = re.compile(r"[A-Za-z0-9_./-]+")
_BUILD_WORD = re.compile(r"(?i)\bbuild\b")


def _suffix_match(token, targets):
    """Root-relative paths in ``targets`` (set) that ``token`` names: itself, or its tail after
    any ``/`` (absolute paths such as ``/opt/sutazaiapp/agents/x/Dockerfile``)."""
    t = token.strip("'\"`,;()")
    if t.startswith("./"):
        t = t[2:]
    t = t.rstrip("/")
    out = set()
    if t in targets:
        out.add(t)
    i = t.find("/")
    while i >= 0:
        tail = t[i + 1:]
        if tail in targets:
            out.add(tail)
        i = t.find("/", i + 1)
    return out


def scan_references(rel, text, members, member_dirs, all_lines_build=False):
    """Dockerfiles named by the text of a file that is not a parsed Compose file.

    :param members: set of root-relative Dockerfile paths. :param member_dirs: dict folder ->
        set of ``<folder>/Dockerfile`` members (a build of the folder uses them implicitly).
    :param all_lines_build: treat every line as a build line (Compose files that do not parse).
    :returns: ``(found, dynamic)``: dict member -> first line (int) naming it, and a list of
        ``(line, token)`` for Dockerfile paths built from variables or globs (reported only).
    """
    found = {}
    dynamic = []
    fdir = posixpath.dirname(rel)
    has_df = "Dockerfile" in text
    has_build = all_lines_build or "build" in text.lower()
    if not has_df and not has_build:
        return found, dynamic
    for n, line in enumerate(text.split("\n"), 1):
        if has_df and "Dockerfile" in line:
            for m in _DF_TOKEN.finditer(line):
                tok = m.group(0)
                if "$" in tok or "*" in tok or "{" in tok:
                    dynamic.append((n, tok))
                    continue
                hits = _suffix_match(tok, members)
                local = _resolve_dir(fdir, tok.strip("'\"`,;()"))
                if local in members:
                    hits.add(local)
                for h in hits:
                    found.setdefault(h, n)
        if member_dirs and (all_lines_build or (has_build and _BUILD_WORD.search(line))):
            for m in _PATH_TOKEN.finditer(line):
                tok = m.group(0)
                hits = set()
                for d in _suffix_match(tok, member_dirs):
                    hits.update(member_dirs[d])
                local = _resolve_dir(fdir, tok)
                if local is not None and local in member_dirs:
                    hits.update(member_dirs[local])
                for h in hits:
                    found.setdefault(h, n)
    return found, dynamic


# -- Families, alignment, eligibility ----------------------------------------------------------

class Unit(object):
    """Files with one normal form (an exact group, or one file): ``entries`` (list of
    :class:`DockerfileEntry`), ``rep`` the first. ``removable``: entries that may go;
    ``refs``: Compose refs of the removable entries."""

    def __init__(self, entries):
        self.entries = entries
        self.rep = entries[0]
        self.removable = [e for e in entries if not e.kept]
        self.refs = [r for e in self.removable for r in e.refs]

    @property
    def instructions(self):
        return self.rep.instructions

    @property
    def rel(self):
        return self.rep.rel


class _ShellView(object):
    """How ``/bin/sh`` (or Docker's own word rules, which quote alike) reads one instruction's
    value, from the collection's shell tokenizer (``_shell``).

    :param text: the instruction's value. :param base: offset where the shell text starts
        (after the flags of RUN, after ``CMD`` of HEALTHCHECK; 0 for other instructions).
    :ivar problem: why the text does not tokenize (str), or None.
    """

    def __init__(self, text, base=0):
        self.text = text
        self.base = base
        self.problem = None
        try:
            self.lexed = _shell.tokenize(text[base:], regions=True)
        except _shell.ShellSyntaxError as exc:
            self.lexed = None
            self.problem = exc.message

    def quoting(self, index):
        """``(single, nested, escaped)`` at ``index`` of the value: inside single quotes (or
        ``$'...'``), inside a ``${...}``/``$(...)``/backquote/arithmetic expansion, right after
        an unescaped backslash."""
        if index < self.base:
            return False, False, _shell.is_escaped(self.text, index)
        context = self.lexed.context_at(index - self.base)
        single = bool(context) and context[-1] == "single"
        nested = any(k in ("param", "subst", "backquote", "arith") for k in context)
        return single, nested, not single and _shell.is_escaped(self.text, index)

    def assignment_name(self, index, values, prefix):
        """True when the differing text at ``index`` (each unit's token in ``values``, their
        common start ``prefix``) falls in the ``NAME=`` of an assignment in command position."""
        word = self.lexed.word_at(index - self.base)
        if word is None or not word.command:
            return False
        token_start = index - len(prefix)
        rel = word.start + self.base - token_start
        if rel < 0:
            return False
        for v in values:
            m = _shell.ASSIGNMENT.match(v, rel)
            if m and len(prefix) < m.end():
                return True
        return False


def _common_affixes(values):
    """Common prefix and suffix of ``values`` cut back to token boundaries (a character outside
    ``[A-Za-z0-9._-]``), and the differing middles; when a middle would be empty the whole
    values are the middles."""
    prefix = os.path.commonprefix(values)
    while prefix and _BOUNDARY_WORD.match(prefix[-1]):
        prefix = prefix[:-1]
    rests = [v[len(prefix):] for v in values]
    suffix = os.path.commonprefix([r[::-1] for r in rests])[::-1]
    while suffix and _BOUNDARY_WORD.match(suffix[0]):
        suffix = suffix[1:]
    middles = [r[:len(r) - len(suffix)] if suffix else r for r in rests]
    if any(not m for m in middles):
        return "", "", list(values)
    return prefix, suffix, middles


class Position(object):
    """A token that differs between the units of a family.

    :ivar index: instruction index. :ivar token: token index. :ivar prefix, suffix: common
        text around the differing ``middles`` (one per unit). :ivar ok: it can be a build arg.
    :ivar reason: why not (str). :ivar kind: ``from``, ``env:<KEY>``, ``runtime`` or ``build``.
    """

    __slots__ = ("index", "token", "prefix", "suffix", "middles", "ok", "reason", "kind", "keyword", "values")

    def __init__(self, index, token, keyword, values):
        self.index = index
        self.token = token
        self.keyword = keyword
        self.values = values
        self.prefix, self.suffix, self.middles = _common_affixes(values)
        self.ok = False
        self.reason = None
        self.kind = "build"


def _stage_shells(instructions):
    """Per instruction index: True when the shell in effect is POSIX-like (``SHELL`` resets)."""
    out = []
    posix = True
    stage = None
    for ins in instructions:
        if ins.stage != stage:
            stage, posix = ins.stage, True
        if ins.keyword == "SHELL":
            data = _json_array(ins.text)
            posix = bool(data) and posixpath.basename(data[0]) in _POSIX_SHELLS
        out.append(posix)
    return out


def position_check(pos, ins, unit_instrs, runtime_values, posix_shell):
    """Decide whether differing position ``pos`` can be a build argument (sets ``pos.ok``,
    ``pos.reason``, ``pos.kind``).

    Docker substitutes ``${NAME}`` at build time only in ADD, COPY, ENV, EXPOSE, FROM (the
    image), LABEL, STOPSIGNAL, USER, VOLUME and WORKDIR; a shell-form RUN gets the argument as
    an environment variable that ``/bin/sh`` expands. CMD, ENTRYPOINT and HEALTHCHECK run in
    the container: only with ``runtime_values=env`` (shell form, through an ENV). In all cases
    the differing text must be a plain token (``[A-Za-z0-9._/:-]+``), outside single quotes,
    not escaped, not inside ``${...}``/``$(...)``/backticks, not part of a variable name, not a
    flag (``--x``), and not a secret-looking value.

    :param unit_instrs: per unit, its instruction list (for stage names).
    """
    kw = ins.keyword

    def no(reason):
        pos.ok, pos.reason = False, reason
        return pos
    if ins.form in ("exec", "onbuild", "none"):
        return no("%s (exec form)" % kw if ins.form == "exec" else "%s (not substituted)" % kw)
    if any(v.startswith("--") for v in pos.values) or pos.token < ins.first_arg:
        return no("%s flag" % kw)
    shell = kw == "RUN" or (kw in RUNTIME and ins.form == "shell")
    if kw in RUNTIME:
        if runtime_values != "env" or kw == "SHELL":
            return no("%s (run-time)" % kw)
        pos.kind = "runtime"
    elif kw not in SUBSTITUTED and kw != "RUN":
        return no("%s (not substituted by Docker)" % kw)
    if not all(PLAIN.match(m) for m in pos.middles):
        return no("%s (value is not a plain token)" % kw)
    if kw == "FROM":
        if pos.token != ins.first_arg:
            return no("FROM (stage name)")
        for instrs in unit_instrs:
            stages = set()
            for other in instrs[:pos.index]:
                toks = other.tokens[other.first_arg:]
                if other.keyword == "FROM" and len(toks) >= 3 and toks[1].upper() == "AS":
                    stages.add(toks[2].lower())
            tok = instrs[pos.index].tokens[pos.token]
            if tok.lower() in stages:
                return no("FROM (refers to a build stage)")
        pos.kind = "from"
    if kw in ("ENV", "LABEL"):
        if ins.form == "legacy":
            return no("%s (legacy form)" % kw)
        keys = set()
        for v in pos.values:
            eq = v.find("=")
            if eq < 0 or eq >= len(pos.prefix):
                return no("%s (key differs)" % kw)
            keys.add(v[:eq])
        key = keys.pop()
        if any(looks_secret(key.strip("\"'"), m) for m in pos.middles):
            return no("%s (secret-looking value)" % kw)
        if kw == "ENV" and re.match(r"^[A-Za-z_][A-Za-z0-9_]*$", key) and pos.prefix == key + "=" and not pos.suffix:
            pos.kind = "env:" + key
    if any(looks_secret("", m) for m in pos.middles):
        return no("%s (secret-looking value)" % kw)
    text = ins.text
    start = sum(len(p) for p in ins.pieces[:2 * pos.token]) + len(pos.prefix)
    view = _ShellView(text, sum(len(p) for p in ins.pieces[:2 * ins.first_arg]) if shell else 0)
    if view.problem:
        if shell and not posix_shell:
            return no("%s (SHELL is not a POSIX shell)" % kw)
        return no("%s (%s)" % (kw, view.problem))
    single, nested, escaped = view.quoting(start)
    if single:
        return no("%s (inside single quotes)" % kw)
    if nested or escaped:
        return no("%s (inside an expansion or escaped)" % kw)
    if re.search(r"\$\{?[A-Za-z0-9_]*$", pos.prefix):
        return no("%s (part of a variable name)" % kw)
    if shell:
        if not posix_shell:
            return no("%s (SHELL is not a POSIX shell)" % kw)
        if "IFS" in text:
            return no("%s (sets IFS)" % kw)
        if any(v in _SH_RESERVED for v in pos.values):
            return no("%s (shell reserved word)" % kw)
        if pos.prefix.startswith("~") or pos.suffix[:1] in (">", "<") or ("{" in pos.values[0] and "," in pos.values[0]):
            return no("%s (tilde, redirection or brace expansion)" % kw)
        if view.assignment_name(start, pos.values, pos.prefix):
            return no("%s (assignment name)" % kw)
    pos.ok = True
    pos.reason = None
    return pos


def align(units, runtime_values):
    """Compare the units of one family (same directives and keyword sequence).

    :returns: ``(positions, structural)``: list of :class:`Position` for differing tokens, and
        list of ``(index, keyword)`` of instructions whose token structure (count, separators,
        form) differs.
    """
    rep = units[0].instructions
    shells = _stage_shells(rep)
    positions = []
    structural = []
    instrs = [u.instructions for u in units]
    for i, ins in enumerate(rep):
        alls = [x[i] for x in instrs]
        if len(set(a.text for a in alls)) == 1:
            continue
        if len(set((len(a.pieces), a.form, a.first_arg, tuple(a.pieces[1::2])) for a in alls)) != 1:
            structural.append((i, ins.keyword))
            continue
        for j in range(len(ins.tokens)):
            values = [a.pieces[2 * j] for a in alls]
            if len(set(values)) == 1:
                continue
            pos = Position(i, j, ins.keyword, values)
            position_check(pos, ins, instrs, runtime_values, shells[i])
            positions.append(pos)
    return positions, structural


def split_family(units, runtime_values, depth=0):
    """Split a family into groups that can share one template.

    :returns: ``(groups, decisions)``: list of ``(units, positions)`` (2+ units each, every
        position a build arg) and the set of reasons (str) that split units apart.
    """
    positions, structural = align(units, runtime_values)
    bad = [p for p in positions if not p.ok]
    reasons = set("%s (structure)" % kw for dummy, kw in structural) | set(p.reason for p in bad)
    if not bad and not structural:
        return [(units, positions)], reasons
    if depth > 8:
        return [], reasons
    keys = {}
    for n, u in enumerate(units):
        key = tuple(u.instructions[i].text for i, dummy in structural) + tuple(p.values[n] for p in bad)
        keys.setdefault(key, []).append(u)
    groups = []
    for key in sorted(keys, key=lambda k: keys[k][0].rel):
        part = keys[key]
        if len(part) < 2:
            continue
        if len(part) == len(units):
            return [], reasons
        sub, more = split_family(part, runtime_values, depth + 1)
        groups.extend(sub)
        reasons |= more
    return groups, reasons


# -- Templates ---------------------------------------------------------------------------------

class Param(object):
    """A build argument of a template: ``name``, ``kind``, ``values`` (one per unit),
    ``uses`` (list of ``(index, token, prefix, suffix)``), ``keyword`` of its first use."""

    def __init__(self, kind, values, keyword):
        self.name = None
        self.kind = kind
        self.values = values
        self.uses = []
        self.keyword = keyword


def _names_in_use(units):
    """Names a new build arg must not take: variables referenced, ARG names and ENV keys of
    the units, and existing Compose build arg names of their refs."""
    names = set()
    for u in units:
        for ins in u.instructions:
            names.update(_VAR_REF.findall(ins.text))
            if ins.keyword in ("ARG", "ENV"):
                for tok in ins.tokens:
                    names.add(tok.split("=", 1)[0])
        for r in u.refs:
            names.update(r.args)
    return names


def _base_name(param):
    kw = param.keyword
    if param.kind == "from":
        return "BASE_TAG" if param.uses[0][2].endswith(":") else "BASE_IMAGE"
    if param.kind.startswith("env:"):
        return param.kind[4:]
    if kw == "EXPOSE":
        return "TPL_PORT"
    if kw == "LABEL":
        key = param.uses[0][2].split("=", 1)[0].strip("\"'").rsplit(".", 1)[-1]
        return "TPL_LABEL_" + (_NAME_CHARS.sub("_", key).strip("_").upper() or "VALUE")
    if kw in ("COPY", "ADD"):
        return "TPL_%s_PATH" % kw
    return "TPL_" + kw


def _build_time(ins):
    """True when Docker (or the shell of a shell-form RUN) expands ``${NAME}`` in ``ins`` at
    build time."""
    return ins.keyword in SUBSTITUTED or (ins.keyword == "RUN" and ins.form == "shell")


def _env_key_safe(key, units, param):
    """True when the build arg of ``ENV KEY=<value>`` may be named ``KEY`` (the Docker idiom
    ``ARG KEY`` + ``ENV KEY=${KEY}``): no unit declares ``ARG KEY``, sets ``KEY`` by another ENV
    earlier in the same stage, or names ``$KEY`` in a build-time instruction (where it would
    read the argument instead of the ENV)."""
    for u in units:
        seen_stage_env = set()
        for i, ins in enumerate(u.instructions):
            if ins.keyword == "ARG" and any(t.split("=", 1)[0] == key for t in ins.tokens):
                return False
            if _build_time(ins) and key in _VAR_REF.findall(ins.text):
                return False
            if ins.keyword == "ENV":
                if any(use[0] == i for use in param.uses):
                    if ins.stage in seen_stage_env:
                        return False
                elif any(t.split("=", 1)[0] == key for t in ins.tokens):
                    seen_stage_env.add(ins.stage)
    return True


def make_params(units, positions):
    """Group the positions into build args (same kind and same values share one) and name
    them (``BASE_IMAGE``/``BASE_TAG`` for FROM, the ENV key for an ``ENV KEY=value``, else
    ``TPL_<INSTRUCTION>``; ``_2``, ``_3`` ... avoid every name in use)."""
    params = []
    by_key = {}
    for pos in positions:
        key = (pos.kind, tuple(pos.middles))
        if key not in by_key:
            by_key[key] = Param(pos.kind, list(pos.middles), pos.keyword)
            params.append(by_key[key])
        by_key[key].uses.append((pos.index, pos.token, pos.prefix, pos.suffix))
    used = _names_in_use(units)
    taken = set()
    for p in params:
        base = _base_name(p)
        if p.kind.startswith("env:"):
            if base not in taken and _env_key_safe(base, units, p) and \
                    not any(base in r.args for u in units for r in u.refs):
                p.name = base
                taken.add(base)
                continue
            base = "TPL_" + base
        name = base
        n = 2
        while name in used or name in taken:
            name = "%s_%d" % (base, n)
            n += 1
        p.name = name
        taken.add(name)
    return _reuse_env_params(units, params)


def _reuse_env_params(units, params):
    """Fold a build-time arg into an ``ENV KEY=${KEY}`` arg with the same values when each of
    its uses comes after that ENV in the same stage and no other ENV sets KEY in between:
    Docker then reads ``${KEY}`` from the ENV, which holds the same value."""
    rep = units[0].instructions
    out = []
    for p in params:
        merged = False
        if p.kind == "build":
            for e in params:
                if not e.kind.startswith("env:") or e.name != e.kind[4:] or e.values != p.values or e is p:
                    continue
                first = {}
                for use in e.uses:
                    st = rep[use[0]].stage
                    first[st] = min(first.get(st, use[0]), use[0])
                good = True
                for use in p.uses:
                    st = rep[use[0]].stage
                    if st not in first or use[0] <= first[st]:
                        good = False
                        break
                    for u in units:
                        for ins in u.instructions[first[st] + 1:use[0]]:
                            if ins.keyword in ("ENV", "ARG") and any(t.split("=", 1)[0] == e.name for t in ins.tokens):
                                good = False
                if good:
                    e.uses.extend(p.uses)
                    merged = True
                    break
        if not merged:
            out.append(p)
    return out


def template_text(units, params, header):
    """Text of the template: directives, ``header`` comment lines, global ``ARG`` lines for
    FROM args, then the instructions with ``${NAME}`` at each arg's places; an ``ARG NAME``
    right before the first instruction of each stage that uses it (and ``ENV NAME=${NAME}``
    after it for run-time args)."""
    rep = units[0].instructions
    subst = {}
    for p in params:
        for index, token, prefix, suffix in p.uses:
            subst[(index, token)] = prefix + "${%s}" % p.name + suffix
    lines = list(units[0].rep.directives) + ["# %s" % h for h in header]
    global_args = [p.name for p in params if p.kind == "from"]
    declared = set()
    first_from = True
    for i, ins in enumerate(rep):
        if ins.keyword == "FROM" and first_from:
            lines.extend("ARG %s" % n for n in global_args)
            first_from = False
        if ins.keyword != "FROM":
            for p in params:
                if p.kind == "from" or (ins.stage, p.name) in declared:
                    continue
                if any(use[0] == i for use in p.uses):
                    lines.append("ARG %s" % p.name)
                    if p.kind == "runtime":
                        lines.append("ENV %s=${%s}" % (p.name, p.name))
                    declared.add((ins.stage, p.name))
        pieces = list(ins.pieces)
        for j in range(0, len(pieces), 2):
            if (i, j // 2) in subst:
                pieces[j] = subst[(i, j // 2)]
        text = "".join(pieces)
        lines.append("%s %s" % (ins.keyword, text) if text else ins.keyword)
    return "\n".join(lines) + "\n"


def render(template, params, values, rel="<template>"):
    """Render a template the way Docker builds it with the given build args.

    The template is parsed back (dockerfile-parse, normal form). The ``ARG NAME`` lines of the
    params and the ``ENV NAME=${NAME}`` lines of run-time params are dropped. ``${NAME}`` is
    replaced by its value where Docker substitutes it at build time (ADD, COPY, ENV, EXPOSE,
    FROM, LABEL, STOPSIGNAL, USER, VOLUME, WORKDIR, and shell-form RUN through ``/bin/sh``),
    only when ``ARG NAME`` is in scope (declared before the first FROM for FROM, else earlier
    in the same stage); a run-time param is replaced in CMD/ENTRYPOINT/HEALTHCHECK only after
    its ``ENV`` line. Elsewhere ``${NAME}`` stays as written, as Docker leaves it.

    :param values: dict name -> value.
    :returns: normal form text (see :func:`normal_text`).
    :raises ConsolidationError: the template does not parse, or uses an arg out of scope.
    """
    directives, instrs = parse_dockerfile(template, rel)
    kinds = dict((p.name, p.kind) for p in params)
    global_args = set()
    stage_args = set()
    stage_env = set()
    out = []
    for ins in instrs:
        if ins.keyword == "FROM":
            stage_args, stage_env = set(), set()
        if ins.keyword == "ARG" and ins.text in kinds:
            (global_args if ins.stage < 0 else stage_args).add(ins.text)
            continue
        name = ins.text.split("=", 1)[0]
        if ins.keyword == "ENV" and kinds.get(name) == "runtime" and ins.text == "%s=${%s}" % (name, name):
            if name not in stage_args:
                raise ConsolidationError("ENV %s before its ARG" % name, rel, ins.line, kind="proof")
            stage_env.add(name)
            continue
        pieces = list(ins.pieces)
        for j in range(0, len(pieces), 2):
            for name, kind in kinds.items():
                ref = "${%s}" % name
                if ref not in pieces[j]:
                    continue
                if kind == "runtime":
                    if ins.keyword not in RUNTIME or ins.form != "shell" or name not in stage_env:
                        raise ConsolidationError("%s used out of scope" % name, rel, ins.line, kind="proof")
                elif not _build_time(ins):
                    continue
                elif name not in (global_args if ins.keyword == "FROM" else stage_args):
                    raise ConsolidationError("ARG %s not in scope" % name, rel, ins.line, kind="proof")
                pieces[j] = pieces[j].replace(ref, values[name])
        out.append(Instruction(ins.keyword, pieces, ins.form, ins.line, ins.stage, ins.first_arg))
    return normal_text(directives, out)


# -- Naming ------------------------------------------------------------------------------------

def _slug(text):
    return re.sub(r"-+", "-", re.sub(r"[^a-z0-9._-]+", "-", text.lower())).strip("-.") or "dockerfile"


def label(rel):
    """Readable label of one Dockerfile: ``x`` of ``Dockerfile.x``/``x.Dockerfile``, else its folder."""
    name = rel.rsplit("/", 1)[-1]
    if name.startswith("Dockerfile."):
        return _slug(name[11:])
    if name.endswith(".Dockerfile"):
        return _slug(name[:-11])
    folder = posixpath.dirname(rel)
    return _slug(posixpath.basename(folder) if folder else "root")


def _common_segments(labels):
    """Longest common run of leading ``-``/``_``/``.``-separated segments of ``labels``."""
    split = [re.split(r"([-_.])", x) for x in labels]
    out = []
    for parts in zip(*split):
        if len(set(parts)) != 1:
            break
        out.append(parts[0])
    return "".join(out).strip("-_.")


def group_name(rels, instructions, templated):
    """Readable name of a canonical file or template: the members' common label (or the
    leading segments all labels share, 3+ characters: ``mcp`` for ``mcp-files``/``mcp-http``),
    else the last folder they share plus the base image (``agents-python-3.11-slim``)."""
    labels = sorted(set(label(r) for r in rels))
    if len(labels) == 1 and not templated:
        return labels[0]
    common_label = _common_segments(labels)
    if len(common_label) >= 3 and common_label not in ("root", "docker", "dockerfile"):
        return common_label
    dirs = [posixpath.dirname(r) for r in rels]
    common = posixpath.commonpath(dirs) if all(dirs) else ""
    if common:
        head = _slug(posixpath.basename(common))
    else:
        tops = {}
        for d in dirs:
            top = d.split("/", 1)[0] if d else "root"
            tops[top] = tops.get(top, 0) + 1
        head = _slug(sorted(tops, key=lambda t: (-tops[t], t))[0])
    images = base_images(instructions)
    if images and "$" not in images[0]:
        return "%s-%s" % (head, _slug(images[0]))
    return head + ("-template" if templated else "")


# -- The plan -------------------------------------------------------------------------------

class Plan(object):
    """Everything the phase found and would change.

    :ivar entries: list of :class:`DockerfileEntry` (live files). :ivar writes: dict rel ->
        bytes (new canonical files and templates). :ivar removals: sorted list of rel.
    :ivar compose_edits: dict compose rel -> new text. :ivar exact_groups, templates,
        left_alone, decisions, rewrites, unresolved, dynamic_refs, invalid, skipped: report lists.
    :ivar errors: errors that block the phase (list of dicts) -- nothing may be written.
    :ivar secrets: secret-looking values seen in Dockerfiles (for diff redaction).
    """

    def __init__(self):
        self.entries = []
        self.writes = {}
        self.removals = []
        self.compose_edits = {}
        self.exact_groups = []
        self.templates = []
        self.left_alone = []
        self.decisions = []
        self.rewrites = []
        self.unresolved = []
        self.dynamic_refs = []
        self.invalid = []
        self.skipped = []
        self.errors = []
        self.secrets = set()
        self.base_images = []
        self.stats = {}


def _read_text_safely(path, rel, limit=2 << 20):
    try:
        if os.path.getsize(path) > limit:
            return None
        return decode_text(read_bytes(path, rel), rel)
    except (OSError, ConsolidationError):
        return None


def _secret_values(entry):
    out = set()
    for ins in entry.instructions:
        if ins.keyword in ("ENV", "ARG", "LABEL"):
            for tok in ins.tokens:
                key, sep, value = tok.partition("=")
                if sep and looks_secret(key, value.strip("\"'")):
                    out.add(value.strip("\"'"))
            if ins.form == "legacy" and len(ins.tokens) > 1 and looks_secret(ins.tokens[0], ins.text.split(None, 1)[1]):
                out.add(ins.text.split(None, 1)[1])
    return out


def plan_dockerfiles(root, exclude_dirs=DEFAULT_EXCLUDE_DIRS, extra_excludes=(), exclude_paths=(),
                     output_dir=DEFAULT_OUTPUT_DIR, templates=True, runtime_values="keep", on_invalid="fail",
                     reference_patterns=DEFAULT_REFERENCE_PATTERNS):
    """Compute the whole phase for the tree at ``root`` (reads only).

    :param exclude_dirs: folder names never entered. :param extra_excludes: more folder names
        (no ``/``) or root-relative folder paths. :param exclude_paths: absolute folders never
        entered (backup root, report folder).
    :param output_dir: root-relative folder of canonical files and templates.
    :param templates: build parametric templates (else exact groups only).
    :param runtime_values: ``keep`` or ``env`` (see :func:`position_check`).
    :param on_invalid: ``fail``: a Compose file that cannot be read or parsed blocks the
        phase when it plans any change (``Plan.errors``); ``warn``: such files are listed,
        and every Dockerfile their text mentions is kept.
    :param reference_patterns: base-name patterns of the files whose mentions keep a Dockerfile.
    :returns: a :class:`Plan`.
    """
    plan = Plan()
    output_dir = output_dir.strip("/")
    names = set(exclude_dirs)
    paths = [p for p in exclude_paths if p]
    for x in extra_excludes or ():
        x = x.strip("/")
        if "/" in x:
            paths.append(os.path.join(root, x))
        elif x:
            names.add(x)
    referencing = glob_matcher(tuple(reference_patterns or ()))

    def wanted(rel):
        base = rel.rsplit("/", 1)[-1]
        return is_dockerfile_name(base) or _compose.is_compose_file(base) or referencing(rel)
    walk = walk_tree(root, excludes=tuple(names), exclude_paths=tuple(paths), match=wanted)
    plan.skipped = list(walk.skipped)
    dockerfiles, composes, others = [], [], []
    for tf in walk.files:
        if is_dockerfile_name(tf.rel):
            dockerfiles.append(tf)
        elif _compose.is_compose_file(tf.rel):
            composes.append(tf)
        else:
            others.append(tf)

    # 1. Dockerfiles.
    root_real = os.path.realpath(root)
    entries = [read_dockerfile(root, tf, root_real) for tf in dockerfiles]
    plan.entries = entries
    by_rel = dict((e.rel, e) for e in entries)
    link_targets = {}
    for tf in dockerfiles:
        if _linked(tf, root_real) and tf.real.startswith(root_real + os.sep):
            target = os.path.relpath(tf.real, root_real).replace(os.sep, "/")
            link_targets.setdefault(target, tf.rel)
    ok = [e for e in entries if e.status == "ok"]
    for e in ok:
        plan.secrets |= _secret_values(e)
        if e.rel in link_targets:
            e.kept.append("symlink %s points to it" % link_targets[e.rel])
        if os.path.lexists(os.path.join(root, e.rel + ".dockerignore")):
            e.kept.append("has its own %s.dockerignore" % posixpath.basename(e.rel))

    # 2. Compose files and their build entries.
    refs = []
    compose_texts = {}
    for tf in composes:
        if _linked(tf, root_real):
            continue
        try:
            text = decode_text(read_bytes(tf.path, tf.rel), tf.rel)
            tree = _compose.compose_tree(text, tf.rel)
        except ConsolidationError as exc:
            plan.invalid.append(exc.as_dict())
            text = _read_text_safely(tf.path, tf.rel)
            if text is not None:
                compose_texts[tf.rel] = (text, None)
            continue
        if tree is None:
            continue
        compose_texts[tf.rel] = (text, tree)
        for ref in build_refs(tf.rel, text, tree):
            if ref.unresolved:
                plan.unresolved.append({"path": ref.compose, "line": ref.line, "service": ref.service,
                                        "reason": ref.unresolved})
                continue
            entry = by_rel.get(ref.dockerfile)
            if entry is None or entry.status != "ok":
                continue
            ref.problem = edit_problem(text, ref, with_args=True)
            entry.refs.append(ref)
            refs.append(ref)

    # 3. Mentions by other files (and by Compose files that do not parse).
    members = set(e.rel for e in ok)
    member_dirs = {}
    for e in ok:
        if e.rel.rsplit("/", 1)[-1] == "Dockerfile":
            member_dirs.setdefault(posixpath.dirname(e.rel), set()).add(e.rel)
    mentions = {}
    for tf in others:
        if _linked(tf, root_real):
            continue
        text = _read_text_safely(tf.path, tf.rel)
        if text is None:
            continue
        found, dynamic = scan_references(tf.rel, text, members, member_dirs)
        for rel, line in found.items():
            mentions.setdefault(rel, "%s:%d" % (tf.rel, line))
        for line, tok in dynamic:
            plan.dynamic_refs.append({"path": tf.rel, "line": line, "token": tok})
    for rel, (text, tree) in sorted(compose_texts.items()):
        if tree is None and on_invalid == "warn":
            found, dummy = scan_references(rel, text, members, member_dirs, all_lines_build=True)
            for m, line in found.items():
                mentions.setdefault(m, "%s:%d (Compose file that does not parse)" % (rel, line))
    for e in ok:
        if e.rel in mentions:
            e.kept.append("referenced by %s, rewrite by hand" % mentions[e.rel])
        for r in e.refs:
            if r.problem:
                e.kept.append("Compose %s cannot be edited in place (%s)" % (r.where(), r.problem))

    # 4. Exact groups and units.
    by_digest = {}
    for e in ok:
        by_digest.setdefault(e.digest, []).append(e)
    units = []
    for d in sorted(by_digest, key=lambda k: by_digest[k][0].rel):
        group = by_digest[d]
        # An entry already in the output folder is the canonical one.
        group.sort(key=lambda e: (not e.rel.startswith(output_dir + "/"), e.rel))
        units.append(Unit(group))
    units.sort(key=lambda u: u.rel)

    families = {}
    for u in units:
        families.setdefault(u.rep.sequence, []).append(u)

    # 5. Templates.
    taken_names = set()
    out_abs = os.path.join(root, output_dir)
    if os.path.isdir(out_abs):
        taken_names.update(n for n in os.listdir(out_abs))
    templated = {}
    template_records = []
    decisions = []
    for seq in sorted(families, key=lambda s: families[s][0].rel):
        fam = families[seq]
        if len(fam) < 2:
            continue
        eligible = [u for u in fam if u.refs and templates]
        groups, reasons = split_family(eligible, runtime_values) if len(eligible) >= 2 else ([], set())
        done = set()
        for gunits, dummy in groups:
            rec = _build_template(gunits, runtime_values)
            if rec is None:
                continue
            template_records.append(rec)
            for u in rec["units"]:
                templated[id(u)] = rec
                done.add(id(u))
        left = [u for u in fam if id(u) not in done]
        no_refs = [u for u in left if u.removable and not u.refs]
        kept = [u for u in left if not u.removable]
        if left:
            why = sorted(reasons)
            if no_refs:
                why.append("%d without a Compose build (build args cannot be passed)" % len(no_refs))
            if kept:
                why.append("%d kept in place (see left_alone)" % len(kept))
            if not templates:
                why = ["templates disabled"]
            decisions.append({"family": fam[0].rel, "files": sum(len(u.entries) for u in fam), "units": len(fam),
                              "templated": len(done), "left": len(left), "differs_in": why,
                              "keywords": " ".join(seq[1])})
    plan.decisions = decisions

    # Names (deterministic: in order of the first member's path).
    pending = []
    for rec in template_records:
        pending.append(("template", rec["units"][0].rel, rec))
    exact_records = []
    for u in units:
        if id(u) in templated or len(u.entries) < 2:
            continue
        in_out = u.entries[0].rel.startswith(output_dir + "/")
        others = [e for e in u.removable if e is not u.entries[0]] if in_out else u.removable
        if (in_out and others) or len(u.removable) >= 2:
            rec = {"unit": u}
            exact_records.append(rec)
            pending.append(("exact", u.rel, rec))
    for kind, dummy, rec in sorted(pending, key=lambda p: p[1]):
        if kind == "exact":
            u = rec["unit"]
            if u.entries[0].rel.startswith(output_dir + "/"):
                rec["canonical"] = u.entries[0].rel
                rec["new"] = False
                continue
            base = group_name([e.rel for e in u.entries], u.instructions, False)
        else:
            base = group_name([e.rel for x in rec["units"] for e in x.entries], rec["units"][0].instructions, True)
        name = base + ".Dockerfile"
        n = 2
        while name in taken_names:
            name = "%s-%d.Dockerfile" % (base, n)
            n += 1
        taken_names.add(name)
        path = "%s/%s" % (output_dir, name) if output_dir else name
        if kind == "exact":
            rec["canonical"] = path
            rec["new"] = True
        else:
            rec["path"] = path

    # 6. Changes: writes, removals, compose edits.
    edits = {}
    removed = set()
    for rec in exact_records:
        u = rec["unit"]
        canon = rec["canonical"]
        if rec["new"]:
            # The bytes of the member with the shortest path (fewest folders, then path order).
            plan.writes[canon] = min(u.removable, key=lambda e: (e.rel.count("/"), e.rel)).data
        members = []
        for e in u.entries:
            if e.rel == canon:
                members.append({"path": e.rel, "action": "canonical"})
                continue
            if e.kept:
                members.append({"path": e.rel, "action": "kept", "reason": "; ".join(e.kept)})
                continue
            removed.add(e.rel)
            members.append({"path": e.rel, "action": "removed"})
            for r in e.refs:
                edits.setdefault(r.compose, []).append((r, posixpath.relpath(canon, r.context or "."), []))
        plan.exact_groups.append({"canonical": canon, "created": rec["new"], "members": members,
                                  "files": len(u.entries), "base_images": base_images(u.instructions)})
    for rec in template_records:
        path = rec["path"]
        plan.writes[path] = rec["text"].encode("utf-8")
        members = []
        for u, values in rec["proven"]:
            args = [(p.name, values[p.name]) for p in rec["params"]]
            for e in u.entries:
                if e.kept:
                    members.append({"path": e.rel, "action": "kept", "reason": "; ".join(e.kept), "args": dict(args)})
                    continue
                removed.add(e.rel)
                members.append({"path": e.rel, "action": "removed", "args": dict(args),
                                "services": ["%s:%s" % (r.compose, r.service) for r in e.refs]})
                for r in e.refs:
                    edits.setdefault(r.compose, []).append((r, posixpath.relpath(path, r.context or "."), args))
        plan.templates.append({"path": path, "units": len(rec["proven"]),
                               "files": sum(len(u.removable) for u, dummy in rec["proven"]),
                               "args": [{"name": p.name, "instruction": p.keyword, "kind": p.kind,
                                         "values": sorted(set(p.values))} for p in rec["params"]],
                               "runtime_env": any(p.kind == "runtime" for p in rec["params"]),
                               "members": members})
    plan.removals = sorted(removed)

    for rel in sorted(edits):
        text, tree = compose_texts[rel]
        try:
            plan.compose_edits[rel] = edit_compose(rel, text, tree, edits[rel])
        except (ConsolidationError, ValueError) as exc:
            err = exc.as_dict() if isinstance(exc, ConsolidationError) else {
                "path": rel, "line": None, "column": None, "kind": "compose_check", "message": str(exc)}
            plan.errors.append(err)
        for r, df_rel, args in edits[rel]:
            plan.rewrites.append({"path": rel, "line": r.line, "service": r.service, "form": r.form,
                                  "from": r.dockerfile, "to": df_rel, "args": len(args)})
    plan.rewrites.sort(key=lambda r: (r["path"], r["line"], r["service"]))
    if plan.invalid and on_invalid == "fail" and (plan.removals or plan.writes):
        for e in plan.invalid:
            plan.errors.append(dict(e, message="%s (it may build a Dockerfile this phase would remove; "
                                               "dockerfiles_on_invalid=warn skips it and keeps what it names)"
                                    % e["message"]))

    # 7. Report lists.
    canon_new = set(plan.writes)
    for e in entries:
        if e.status != "ok":
            reason = "%s%s" % (e.reason, " (line %d)" % e.line if e.line else "")
            plan.left_alone.append({"path": e.rel, "reason": reason, "status": e.status})
            continue
        if e.rel in removed:
            continue
        if e.kept:
            plan.left_alone.append({"path": e.rel, "reason": "; ".join(e.kept), "status": "kept"})
            continue
        if any(g["canonical"] == e.rel for g in plan.exact_groups):
            continue
        fam = families[e.sequence]
        unit = next(u for u in fam if e in u.entries)
        if len(unit.entries) >= 2:
            why = "identical to %s; only one copy could go" % ", ".join(x.rel for x in unit.entries if x is not e)
        elif len(fam) == 1:
            if e.rel.startswith(output_dir + "/"):
                continue
            why = "only file with its instruction sequence"
        elif not templates:
            why = "templates disabled"
        elif not unit.refs:
            why = "no Compose build uses it (build args cannot be passed)"
        else:
            d = next((x for x in plan.decisions if x["family"] == fam[0].rel), None)
            why = "differs from its family in %s" % ", ".join(d["differs_in"]) if d else "not in a template"
        plan.left_alone.append({"path": e.rel, "reason": why, "status": "unique"})
    counts = {}
    for e in ok:
        for img in base_images(e.instructions):
            counts[img] = counts.get(img, 0) + 1
    plan.base_images = sorted(({"image": k, "files": v} for k, v in counts.items()),
                              key=lambda x: (-x["files"], x["image"]))
    sequences = {}
    for e in ok:
        sequences[e.sequence] = sequences.get(e.sequence, 0) + 1
    live = len(entries)
    created = len([p for p in canon_new if not os.path.lexists(os.path.join(root, p))])
    plan.stats = {
        "live": live, "parsed": len(ok), "heredoc": sum(1 for e in entries if e.status == "heredoc"),
        "unparseable": sum(1 for e in entries if e.status == "unparseable"),
        "unreadable": sum(1 for e in entries if e.status == "unreadable"),
        "symlinks": sum(1 for e in entries if e.status == "symlink"),
        "unique": len(by_digest) + sum(1 for e in entries if e.status != "ok"),
        "sequences": len(sequences), "single_sequences": sum(1 for v in sequences.values() if v == 1),
        "exact_groups_found": sum(1 for v in by_digest.values() if len(v) >= 2),
        "exact_groups": len(plan.exact_groups), "templates": len(plan.templates),
        "members_templated": sum(t["files"] for t in plan.templates),
        "removed": len(plan.removals), "created": created, "after": live - len(plan.removals) + created,
        "compose_files": len(compose_texts), "compose_rewrites": len(plan.rewrites),
        "compose_files_edited": len(plan.compose_edits), "build_refs": len(refs),
        "left_alone": len(plan.left_alone), "decisions": len(plan.decisions), "invalid_compose": len(plan.invalid),
        "base_images": len(plan.base_images), "dynamic_refs": len(plan.dynamic_refs),
    }
    return plan


def _build_template(gunits, runtime_values):
    """Build and prove the template of one group of units.

    The template is rendered with each unit's args (:func:`render`) and compared with the
    unit's normal form; units that fail are dropped and the rest is templated again.

    :returns: ``{"units", "params", "text", "proven": [(unit, {name: value})]}`` with 2+
        proven units, or None.
    """
    while len(gunits) >= 2:
        positions, structural = align(gunits, runtime_values)
        if structural or any(not p.ok for p in positions) or not positions:
            return None
        params = make_params(gunits, positions)
        header = ["Template made by sutazai.consolidation (dockerfiles phase) from %d Dockerfiles;"
                  % sum(len(u.removable) for u in gunits),
                  "build args: %s (Compose passes them under build.args; see the run report)."
                  % ", ".join(p.name for p in params)]
        text = template_text(gunits, params, header)
        proven = []
        for n, u in enumerate(gunits):
            values = dict((p.name, p.values[n]) for p in params)
            try:
                same = render(text, params, values) == normal_text(u.rep.directives, u.instructions)
            except ConsolidationError:
                same = False
            if same:
                proven.append((u, values))
        if len(proven) == len(gunits):
            return {"units": gunits, "params": params, "text": text, "proven": proven}
        gunits = [u for u, dummy in proven]
    return None
