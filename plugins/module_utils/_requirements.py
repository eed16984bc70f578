# -*- coding: utf-8 -*-
# Copyright (c) 2026 sutazai.consolidation contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Requirements phase: the scattered pip requirements files -> one layout under ``requirements/``.

Discovery (:func:`discover`): every file whose path relative to the root matches one of
:data:`DEFAULT_PATTERNS` (``*requirements*.txt``, ``*requirements*.in`` and ``*.txt``/``*.in``
under a folder named ``requirements``), never ``MANIFEST.in``, never inside the backup and report
folders, virtualenvs, ``node_modules`` or the folders of :data:`DEFAULT_EXCLUDE_DIRS`. Patterns
(:func:`path_match`) are the collection's one dialect (:func:`_tree.glob_matcher`).

Parsing (:func:`parse_text`) follows pip's requirements-file rules: ``\\`` line continuations are
joined first, then comments (``#`` at the start or after whitespace) are dropped; a line is split
into its requirement and its options at the first token starting with ``-``. The requirement is
parsed by ``packaging.requirements.Requirement`` (name, extras, specifier, marker, ``name @ url``).
``-r`` includes are read (relative to the including file) and their requirements belong to the
including file; ``-c``, ``-e``, index and other pip options are kept as option lines; ``--hash``
and other per-requirement options stay with their requirement; URL and path lines that packaging
cannot read are kept as direct references. Any other line is kept verbatim (commented out in the
layout) and listed as unparsed with its ``file:line``.

Groups (:func:`group_for`): the first rule of ``group_rules`` (default :data:`DEFAULT_GROUP_RULES`)
whose pattern matches a file's path gives its group; no match gives ``default_group``
(``production``). Every group but ``base`` installs ``base.txt`` first (``-r base.txt``), so a
group "needs" the requirements of ``base`` plus its own. A package that every app group
(``backend``, ``frontend``) needs moves to ``base`` unless that would create a conflict.

Conflicts (:func:`find_conflicts`): for each group and package, the specifiers of base and the
group (per environment marker, unmarked lines apply everywhere) must hold together
(``SpecifierSet.is_unsatisfiable``); two different direct URLs for one package also conflict.
Resolutions (:func:`resolve`): ``pins`` (package -> specifier) replace every specifier of a
package; ``resolve="newest"`` replaces every specifier of a conflicting package by ``==V``, V
being the highest version any file pins with ``==``. Every resolution is returned.

Layout files carry provenance: each line is preceded by ``#   <- file:line: original line``
comments. Later runs read these comments back, so requirements whose source files are gone
(``remove_sources``) are carried over and a second run writes the same bytes.

Proof (:func:`prove`): the rendered layout is parsed back and every requirement that a source
file expressed must still be expressed for its group: same package and extras, a specifier set
whose versions are all allowed by the original one (``SpecifierSet.is_subset``), same marker,
URL and hashes; or the package has a listed resolution.

Outputs that are also inputs (:func:`plan_layout`): the layout's own files are recognised by their
first line (:data:`HEADER_MARK`) and are never read as sources, neither found in ``output_dir`` nor
reached through an include (``-r base.txt`` of a layout file stands for the layout's ``base.txt``,
which every group file installs anyway; ``-r`` of another layout file is kept as a comment and
listed). A file at a layout path that is not a layout file yet (a tree that already had its own
``requirements/base.txt``) is an *overwritten original*: it is read once as a source of its group
and proven like any other source; later runs carry its lines over from the provenance comments.
A file the run keeps (not overwritten, not removed) that includes (``-r``) or constrains (``-c``)
an overwritten original would silently change meaning once the layout's file takes its place:

- when the original is ``base.txt`` and the layout's ``base.txt`` expresses exactly the same
  requirements (same packages, extras, specifier sets, markers, URLs, hashes and options), the
  include is left as it is;
- otherwise the original's content is kept next to it as ``<name>.original.txt`` (first line
  :data:`PRESERVED_MARK`; never a source itself) and the include is rewritten to that copy, in the
  same line, so the kept file installs exactly what it did (layout lines that constrain the
  original point at the copy too);
- an include the phase cannot rewrite in place (continued or quoted line), a copy whose name is
  taken, or a file at a layout path that is not a requirements source blocks the phase, naming the
  file and line.

The plan reads the kept files as they will be after these rewrites, so provenance line numbers
are those a second run reads and the second run writes the same bytes.
"""

from __future__ import annotations

import json
import os
import posixpath
import re
import shlex

from ansible_collections.sutazai.consolidation.plugins.module_utils._errors import ConsolidationError
from ansible_collections.sutazai.consolidation.plugins.module_utils._fileio import decode_text, read_bytes
from ansible_collections.sutazai.consolidation.plugins.module_utils._tree import DEFAULT_EXCLUDES, glob_matcher, safe_join, walk_tree

try:
    from packaging.requirements import InvalidRequirement, Requirement
    from packaging.specifiers import InvalidSpecifier, SpecifierSet
    from packaging.utils import canonicalize_name
    from packaging.version import InvalidVersion, Version

    HAS_PACKAGING = hasattr(SpecifierSet, "is_unsatisfiable") and hasattr(SpecifierSet, "is_subset")
except ImportError:  # pragma: no cover - reported by the module
    HAS_PACKAGING = False

PHASE = "requirements"
DEFAULT_PATTERNS = ["*requirements*.txt", "*requirements*.in", "**/requirements/**/*.txt", "**/requirements/**/*.in"]
DEFAULT_EXCLUDE_DIRS = list(DEFAULT_EXCLUDES) + ["backups", "backup", "site-packages", "dist-packages", ".venv", "venv"]
NEVER_SOURCES = ("MANIFEST.in",)
BASE = "base"
DEFAULT_GROUPS = ["base", "backend", "frontend", "dev", "production"]
DEFAULT_APP_GROUPS = ["backend", "frontend"]
DEFAULT_GROUP = "production"
DEFAULT_OUTPUT_DIR = "requirements"
# Ordered: the first matching rule wins. Names only (no "/") match the file name.
DEFAULT_GROUP_RULES = [
    {"pattern": "*[-_.]dev*", "group": "dev"},
    {"pattern": "dev[-_.]*", "group": "dev"},
    {"pattern": "*[-_.]test*", "group": "dev"},
    {"pattern": "test[-_.s]*", "group": "dev"},
    {"pattern": "*[-_.]lint*", "group": "dev"},
    {"pattern": "**/tests/**", "group": "dev"},
    {"pattern": "*[-_.]prod*", "group": "production"},
    {"pattern": "prod[-_.u]*", "group": "production"},
    {"pattern": "docker/base/**", "group": "base"},
    {"pattern": "requirements/*base*", "group": "base"},
    {"pattern": "requirements/*common*", "group": "base"},
    {"pattern": "requirements/*core*", "group": "base"},
    {"pattern": "backend/**", "group": "backend"},
    {"pattern": "requirements/*backend*", "group": "backend"},
    {"pattern": "frontend/**", "group": "frontend"},
    {"pattern": "requirements/*frontend*", "group": "frontend"},
    {"pattern": "scripts/**", "group": "dev"},
    {"pattern": ".mcp/**", "group": "dev"},
    {"pattern": "tools/**", "group": "dev"},
]
HEADER_MARK = "# sutazai.consolidation requirements layout:"
PRESERVED_MARK = "# sutazai.consolidation requirements original:"
PRESERVED_SUFFIX = ".original.txt"
GROUP_NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_.-]*$")

_COMMENT_RE = re.compile(r"(^|\s+)#.*$")
_SCHEME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://|^[A-Za-z][A-Za-z0-9+.-]*\+[A-Za-z]+://|^file:")
_ATTR_RE = re.compile(r"^#   <- (?P<path>.+?):(?P<line>\d+)(?: \(via (?P<via>.+?)\))?(?: \[group (?P<group>[^\]]+)\])?: (?P<text>.*)$")
_HEADER_GROUP_RE = re.compile(r'group "(?P<group>[^"]+)"')
_PRESERVED_RE = re.compile("^" + re.escape(PRESERVED_MARK) + r" (?P<path>\S+)")
_KEPT_COMMENT = "#   (kept as a comment: "
# An include or constraint option and its value as written (value without quotes or comment).
_REF_OPTION_RE = re.compile(r"(?<!\S)(?P<opt>--requirement|--constraint|-r|-c)(?P<sep>=|[ \t]+|)(?P<value>[^\s#]+)")
_EGG_RE = re.compile(r"[#&]egg=([A-Za-z0-9_.+-]+)")
_EXTRAS_SUFFIX_RE = re.compile(r"^(?P<target>.*?)(?P<extras>\[[^\]]*\])?$")
_ARCHIVE_RE = re.compile(r"\.(whl|tar\.gz|tgz|zip|tar\.bz2)$")

# pip options of a requirements file: option -> (canonical long name, takes a value, kind).
_LINE_OPTIONS = {
    "-r": ("--requirement", True, "include"), "--requirement": ("--requirement", True, "include"),
    "-c": ("--constraint", True, "constraint"), "--constraint": ("--constraint", True, "constraint"),
    "-e": ("--editable", True, "editable"), "--editable": ("--editable", True, "editable"),
    "-i": ("--index-url", True, "option"), "--index-url": ("--index-url", True, "option"),
    "--extra-index-url": ("--extra-index-url", True, "option"),
    "--no-index": ("--no-index", False, "option"),
    "-f": ("--find-links", True, "option"), "--find-links": ("--find-links", True, "option"),
    "--trusted-host": ("--trusted-host", True, "option"),
    "--pre": ("--pre", False, "option"),
    "--prefer-binary": ("--prefer-binary", False, "option"),
    "--require-hashes": ("--require-hashes", False, "option"),
    "--only-binary": ("--only-binary", True, "option"),
    "--no-binary": ("--no-binary", True, "option"),
    "--use-feature": ("--use-feature", True, "option"),
}
_REQ_OPTIONS = ("--hash", "--global-option", "--config-settings", "--install-option")


# -- helpers -------------------------------------------------------------------------------
def path_match(pattern, rel):
    """True when ``rel`` (path relative to the root, ``/`` separated) matches ``pattern``, in
    the collection's path-pattern dialect (:func:`_tree.glob_matcher`: ``*`` never crosses
    ``/``, ``**`` spans folders, a pattern without ``/`` matches the file name at any depth)."""
    return glob_matcher((pattern,))(rel)


def group_for(rel, rules, default_group=DEFAULT_GROUP):
    """Return the group of the source file ``rel``: the ``group`` of the first rule (list of
    ``{"pattern", "group"}`` dicts) whose pattern matches, else ``default_group``."""
    for rule in rules:
        if path_match(rule["pattern"], rel):
            return rule["group"]
    return default_group


def _norm_rel(base_dir, target):
    """Join a path written in a file under ``base_dir`` (relative to the root) and normalise it."""
    return posixpath.normpath(posixpath.join(base_dir, target)) if base_dir else posixpath.normpath(target)


def _rel_from(output_dir, target_rel):
    rel = posixpath.relpath(target_rel, output_dir or ".")
    return rel if rel.startswith(".") else "./" + rel


def _is_local_path(text):
    return not _SCHEME_RE.match(text) and (text.startswith((".", "/", "~")) or "/" in text or bool(_ARCHIVE_RE.search(text)))


# -- parsing -------------------------------------------------------------------------------
def logical_lines(text):
    """Yield ``(line_number, line)`` after pip's continuation joining (``\\`` at the end of a
    line joins the next one; the number is that of the first physical line) and comment
    removal; empty results are dropped. ``raw`` lines keep no trailing newline."""
    new_line = []
    first = 0
    physical = text.split("\n")
    if physical and physical[-1] == "":
        physical.pop()
    joined = []
    for number, line in enumerate(physical, 1):
        if not line.endswith("\\") or _COMMENT_RE.match(line):
            if _COMMENT_RE.match(line):
                line = " " + line
            if new_line:
                new_line.append(line)
                joined.append((first, "".join(new_line)))
                new_line = []
            else:
                joined.append((number, line))
        else:
            if not new_line:
                first = number
            new_line.append(line.strip("\\"))
    if new_line:
        joined.append((first, "".join(new_line)))
    for number, line in joined:
        stripped = _COMMENT_RE.sub("", line).strip()
        if stripped:
            yield number, stripped, line.rstrip()


def break_args_options(line):
    """Split a logical line like pip: the requirement part ends at the first space-separated
    token that starts with ``-``. Returns ``(args, options)`` (two str)."""
    tokens = line.split(" ")
    args = []
    options = list(tokens)
    for token in tokens:
        if token.startswith("-"):
            break
        args.append(token)
        options.pop(0)
    return " ".join(args).strip(), " ".join(options).strip()


def _parse_options(text, table):
    """Parse option tokens into ``[(long_name, value)]``; raise ValueError on unknown ones."""
    tokens = shlex.split(text)
    out = []
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        name, value = tok, None
        if tok.startswith("--") and "=" in tok:
            name, value = tok.split("=", 1)
        elif not tok.startswith("--") and len(tok) > 2 and tok[:2] in table:
            name, value = tok[:2], tok[2:]
        spec = table.get(name)
        if spec is None:
            raise ValueError("unknown or misplaced option %r" % tok)
        long_name, takes_value = spec[0], spec[1]
        if takes_value and value is None:
            if i + 1 >= len(tokens):
                raise ValueError("option %s needs a value" % name)
            value = tokens[i + 1]
            i += 1
        elif not takes_value and value is not None:
            raise ValueError("option %s takes no value" % name)
        out.append((long_name, value))
        i += 1
    return out


def _entry(kind, path, line, text, **kw):
    e = {"kind": kind, "path": path, "line": line, "via": None, "text": text, "name": None, "extras": [],
         "specifier": "", "marker": "", "url": None, "hashes": [], "req_options": [], "key": None,
         "message": None, "include": None}
    e.update(kw)
    return e


def parse_requirement(args, opts_text, path, line, text, raw=None):
    """Parse one requirement line (``args`` is the part before the options) into an entry dict.

    ``text`` is the logical line without its comment, ``raw`` the line as written (kept for
    unparsed entries, which are shown verbatim).

    Entry kinds: ``req`` (parsed by packaging: name, extras, specifier, marker, url), ``direct``
    (a URL or local path packaging cannot read), ``unparsed`` (with ``message``).
    """
    try:
        opts = _parse_options(opts_text, dict((o, (o, True, "req")) for o in _REQ_OPTIONS)) if opts_text else []
    except ValueError as exc:
        message = "pip: %s" % exc
        try:
            Requirement(args)
        except InvalidRequirement as rexc:
            message = "packaging: %s" % str(rexc).splitlines()[0]
        return _entry("unparsed", path, line, (raw or text).strip(), message=message)
    hashes = sorted(set(v for k, v in opts if k == "--hash"))
    other = sorted("%s=%s" % (k, v) for k, v in opts if k != "--hash")
    try:
        req = Requirement(args)
    except InvalidRequirement as exc:
        if _SCHEME_RE.match(args) or _is_local_path(args):
            m = _EGG_RE.search(args)
            target = args
            key = args
            if _is_local_path(args) and not args.startswith(("/", "~")):
                mm = _EXTRAS_SUFFIX_RE.match(args.split(";")[0].strip())
                target = _norm_rel(posixpath.dirname(path), mm.group("target"))
                key = "path:" + target
            return _entry("direct", path, line, text, name=canonicalize_name(m.group(1)) if m else None,
                          url=args, key=key, target=target, hashes=hashes, req_options=other)
        return _entry("unparsed", path, line, (raw or text).strip(), message="packaging: %s" % str(exc).splitlines()[0])
    marker = str(req.marker) if req.marker is not None else ""
    return _entry("req", path, line, text, name=canonicalize_name(req.name), extras=sorted(req.extras),
                  specifier=str(req.specifier), marker=marker, url=req.url or None, hashes=hashes, req_options=other)


def parse_line(number, stripped, raw, path):
    """Parse one logical line of the file ``path``; return a list of entry dicts (see
    :func:`parse_requirement`; option lines give ``include``, ``constraint``, ``editable`` and
    ``option`` entries)."""
    args, opts_text = break_args_options(stripped)
    if args:
        return [parse_requirement(args, opts_text, path, number, " ".join(stripped.split()), raw)]
    try:
        opts = _parse_options(opts_text, _LINE_OPTIONS)
    except ValueError as exc:
        return [_entry("unparsed", path, number, raw.strip(), message=str(exc))]
    out = []
    base_dir = posixpath.dirname(path)
    for long_name, value in opts:
        kind = _LINE_OPTIONS[long_name][2]
        if kind == "include":
            if _SCHEME_RE.match(value):
                out.append(_entry("option", path, number, stripped, key="%s %s" % (long_name, value),
                                  option="%s %s" % (long_name, value)))
            else:
                out.append(_entry("include", path, number, stripped, include=_norm_rel(base_dir, value)))
        elif kind == "constraint":
            if _SCHEME_RE.match(value):
                out.append(_entry("constraint", path, number, stripped, key=value, target=value, url=value))
            else:
                target = _norm_rel(base_dir, value)
                out.append(_entry("constraint", path, number, stripped, key="path:" + target, target=target))
        elif kind == "editable":
            m = _EGG_RE.search(value)
            name = canonicalize_name(m.group(1)) if m else None
            if _SCHEME_RE.match(value) or value.startswith(("/", "~")):
                out.append(_entry("editable", path, number, stripped, key=value, target=value, name=name, url=value))
            else:
                mm = _EXTRAS_SUFFIX_RE.match(value)
                target = _norm_rel(base_dir, mm.group("target"))
                out.append(_entry("editable", path, number, stripped, key="path:" + target + (mm.group("extras") or ""),
                                  target=target, extras_suffix=mm.group("extras") or "", name=name))
        else:
            text = long_name if value is None else "%s %s" % (long_name, value)
            out.append(_entry("option", path, number, stripped, key=text, option=text))
    return out


def parse_text(text, path):
    """Parse the requirements text of the file ``path`` (relative to the root) into entries,
    without following includes (see :func:`read_source`)."""
    out = []
    for number, stripped, raw in logical_lines(text):
        out.extend(parse_line(number, stripped, raw, path))
    return out


def read_source(root, rel, read=None, _stack=(), include=None):
    """Read and parse the source file ``rel`` and, recursively, its ``-r`` includes.

    Included entries get ``via`` = ``rel`` (the discovered file). A missing, unreadable or
    cyclic include becomes an ``unparsed`` entry naming the ``-r`` line.

    :param read: callable ``read(rel) -> text`` (default reads under ``root``).
    :param include: optional callable ``include(entry, top) -> None | entries`` asked before an
        include is followed (``entry`` is the ``include`` entry, ``top`` the file read first):
        None follows it, a list of entries stands for it (the file is not read).
    :returns: ``(entries, included_files)``.
    :raises ConsolidationError: when ``rel`` itself cannot be read or decoded.
    """
    read = read or (lambda r: decode_text(read_bytes(safe_join(root, r), r), r))
    text = read(rel)
    entries = []
    included = []
    for e in parse_text(text, rel):
        if e["kind"] != "include":
            entries.append(e)
            continue
        inc = e["include"]
        instead = include(e, _stack[0] if _stack else rel) if include is not None else None
        if instead is not None:
            entries.extend(instead)
            continue
        problem = None
        if inc.startswith("../") or inc == "..":
            problem = "included file %s is outside the root" % inc
        elif inc in _stack or inc == rel:
            problem = "include cycle through %s" % inc
        if problem is None:
            try:
                sub, sub_inc = read_source(root, inc, read, _stack + (rel,), include)
            except ConsolidationError as exc:
                problem = "included file %s: %s" % (inc, exc.message)
            except ValueError as exc:
                problem = "included file %s: %s" % (inc, exc)
        if problem is not None:
            entries.append(_entry("unparsed", rel, e["line"], e["text"], message=problem))
            continue
        included.append(inc)
        included.extend(sub_inc)
        entries.extend(sub)
    return entries, included


def parse_layout_file(text, rel):
    """Read back a layout file written by :func:`render_group`.

    :returns: ``(group, attributions)``; each attribution ``{"path", "line", "via", "group",
        "text"}`` (``group`` is set for lines moved to base from another group), plus
        ``"message"`` for a line the layout keeps as a comment (why it was not parsed).
        Active lines without provenance comments (added by hand) are attributed to ``rel``,
        line 0. Returns ``(None, [])`` when ``text`` is not a layout file.
    """
    lines = text.split("\n")
    if not lines or not lines[0].startswith(HEADER_MARK):
        return None, []
    m = _HEADER_GROUP_RE.search(lines[0])
    group = m.group("group") if m else None
    out = []
    pending = False  # the next active line stands for the provenance comments just read
    continued = None  # (owned, parts) while reading a line continued with a backslash

    def active(owned, parts):
        if owned:
            return
        for _n, stripped, _raw in logical_lines("".join(parts) + "\n"):
            if stripped != "-r %s.txt" % BASE:
                out.append({"path": rel, "line": 0, "via": None, "group": None, "text": " ".join(stripped.split())})

    for line in lines[1:]:
        if continued is not None:
            continued[1].append(line.rstrip("\\") if line.endswith("\\") else line)
            if not line.endswith("\\"):
                active(*continued)
                continued = None
            continue
        am = _ATTR_RE.match(line)
        if am:
            out.append({"path": am.group("path"), "line": int(am.group("line")), "via": am.group("via"),
                        "group": am.group("group"), "text": am.group("text")})
            pending = True
            continue
        if pending and out and line.startswith(_KEPT_COMMENT) and line.endswith(")"):
            out[-1]["message"] = line[len(_KEPT_COMMENT):-1]
        if not line.strip() or line.startswith("#   ("):
            pending = False
            continue
        if not _COMMENT_RE.sub("", line).strip():
            continue
        owned, pending = pending, False
        if line.endswith("\\"):
            continued = (owned, [line[:-1]])
            continue
        active(owned, [line])
    if continued is not None:
        active(*continued)
    return group, out


# -- discovery -----------------------------------------------------------------------------
class Sources(object):
    """Result of :func:`discover`.

    :ivar sources: sorted list of source paths (relative to the root).
    :ivar layout_files: ``{rel: text}`` of layout files written by an earlier run.
    :ivar dockerfiles: sorted list of Dockerfile paths.
    :ivar skipped: ``[{"path", "reason"}]`` tree entries not read (symlink loops, duplicates...).
    :ivar aliases: ``{rel: real_rel}`` for symlinked sources read at their target.
    :ivar preserved: ``{rel: original_rel}`` of copies of overwritten originals (first line
        :data:`PRESERVED_MARK`); never sources, read only through the includes that name them.
    """

    def __init__(self):
        self.sources = []
        self.layout_files = {}
        self.preserved = {}
        self.dockerfiles = []
        self.skipped = []
        self.aliases = {}


def is_dockerfile(rel):
    """True for ``Dockerfile``, ``Dockerfile.*``, ``Dockerfile-*``, ``*.Dockerfile`` and ``*.dockerfile``."""
    name = posixpath.basename(rel)
    low = name.lower()
    return low == "dockerfile" or low.startswith(("dockerfile.", "dockerfile-", "dockerfile_")) or low.endswith(".dockerfile")


def discover(root, patterns=None, exclude_dirs=None, exclude_paths=(), output_dir=DEFAULT_OUTPUT_DIR, read=None):
    """Walk ``root`` once and sort what it finds into sources, layout files and Dockerfiles.

    :param patterns: source patterns (see :func:`path_match`), default :data:`DEFAULT_PATTERNS`.
    :param exclude_dirs: folder names never entered, default :data:`DEFAULT_EXCLUDE_DIRS`.
    :param exclude_paths: absolute paths never entered (backup root, report folder).
    :param output_dir: layout folder; a file there whose first line is the layout header is a
        layout file, not a source; one whose first line is :data:`PRESERVED_MARK` is a kept
        copy of an overwritten original, not a source either.
    :raises ConsolidationError: when a candidate file cannot be read or decoded.
    """
    patterns = DEFAULT_PATTERNS if patterns is None else patterns
    excludes = DEFAULT_EXCLUDE_DIRS if exclude_dirs is None else exclude_dirs
    read = read or (lambda r: decode_text(read_bytes(safe_join(root, r), r), r))
    out = Sources()

    def match(rel):
        if posixpath.basename(rel) in NEVER_SOURCES:
            return False
        return is_dockerfile(rel) or any(path_match(p, rel) for p in patterns)

    walk = walk_tree(root, excludes=tuple(excludes), exclude_paths=exclude_paths, match=match)
    out.skipped.extend(walk.skipped)
    real_of = dict((tf.real, tf.rel) for tf in walk.files if not tf.is_symlink)
    out_prefix = output_dir.strip("/") + "/"
    for tf in walk.files:
        if is_dockerfile(tf.rel):
            out.dockerfiles.append(tf.rel)
            continue
        if tf.is_symlink and tf.real in real_of:
            out.aliases[tf.rel] = real_of[tf.real]
            out.skipped.append({"path": tf.rel, "reason": "symlink to %s (read there)" % real_of[tf.real]})
            continue
        if tf.rel.startswith(out_prefix) and posixpath.dirname(tf.rel) == output_dir.strip("/"):
            text = read(tf.rel)
            if text.startswith(HEADER_MARK):
                out.layout_files[tf.rel] = text
                continue
            pm = _PRESERVED_RE.match(text)
            if pm:
                out.preserved[tf.rel] = pm.group("path")
                continue
        out.sources.append(tf.rel)
    return out


# -- specifiers ----------------------------------------------------------------------------
def combine(specifiers):
    """Return the ``SpecifierSet`` that holds every specifier string in ``specifiers``."""
    out = SpecifierSet("")
    for s in specifiers:
        out = out & SpecifierSet(s)
    return out


def exact_pin(spec_set):
    """Return the version string V of a ``==V``/``===V`` specifier in ``spec_set`` that every
    other specifier of the set allows, else None."""
    for s in sorted(spec_set, key=str):
        if s.operator in ("==", "===") and not s.version.endswith(".*"):
            if s.operator == "===" or spec_set.contains(s.version, prereleases=True):
                return s.version
    return None


def simplified(spec_set):
    """Return the specifier string written for ``spec_set``: ``==V`` when the set pins V
    exactly (the other specifiers are then implied), else the whole set, sorted."""
    pin = exact_pin(spec_set)
    if pin is not None:
        ops = [s.operator for s in spec_set if s.version == pin and s.operator in ("==", "===")]
        return "%s%s" % ("===" if "===" in ops else "==", pin)
    return str(spec_set)


def pinned_versions(entries):
    """Return the sorted ``Version`` list of every ``==V`` (no wildcard) in ``entries``' specifiers."""
    out = set()
    for e in entries:
        for s in SpecifierSet(e["specifier"]):
            if s.operator == "==" and not s.version.endswith(".*"):
                try:
                    out.add(Version(s.version))
                except InvalidVersion:
                    continue
    return sorted(out)


def _marker_classes(entries):
    """Split requirement entries into the sets that must hold together: unmarked lines alone,
    and unmarked plus each marker's lines."""
    unmarked = [e for e in entries if not e["marker"]]
    markers = sorted(set(e["marker"] for e in entries if e["marker"]))
    out = [("", unmarked)] if unmarked else []
    for m in markers:
        out.append((m, unmarked + [e for e in entries if e["marker"] == m]))
    return out


def package_conflicts(entries):
    """Return the conflicting sets among requirement entries of one package in one group:
    ``[(marker, entries, reason)]``, reason ``specifiers`` (``is_unsatisfiable``) or ``urls``."""
    out = []
    for marker, group in _marker_classes(entries):
        specs = [e["specifier"] for e in group if e["specifier"]]
        urls = sorted(set(e["url"] for e in group if e["url"]))
        if specs and combine(specs).is_unsatisfiable():
            out.append((marker, group, "specifiers"))
        elif len(urls) > 1:
            out.append((marker, group, "urls"))
    return out


# -- layout --------------------------------------------------------------------------------
def effective(layout, group):
    """Entries a group needs: its own plus base's (``layout`` maps group -> entry list)."""
    if group == BASE:
        return list(layout.get(BASE, []))
    return list(layout.get(BASE, [])) + list(layout.get(group, []))


def _reqs_by_name(entries):
    out = {}
    for e in entries:
        if e["kind"] == "req":
            out.setdefault(e["name"], []).append(e)
    return out


def find_conflicts(layout, groups):
    """Return the conflicts of ``layout`` (group -> entries), one dict per (package, marker):
    ``{"package", "marker", "reason", "groups": [...], "requirements": [{"specifier", "url",
    "sources": ["file:line", ...]}]}``, sorted by package."""
    found = {}
    for g in groups:
        for name, ents in _reqs_by_name(effective(layout, g)).items():
            for marker, group_entries, reason in package_conflicts(ents):
                c = found.setdefault((name, marker), {"package": name, "marker": marker, "reason": reason,
                                                      "groups": [], "entries": {}})
                c["groups"].append(g)
                for e in group_entries:
                    c["entries"][(e["path"], e["line"], e["via"] or "")] = e
    out = []
    for key in sorted(found):
        c = found[key]
        by_spec = {}
        for k in sorted(c["entries"]):
            e = c["entries"][k]
            by_spec.setdefault((e["specifier"], e["url"] or ""), []).append(source_label(e))
        out.append({"package": c["package"], "marker": c["marker"], "reason": c["reason"], "groups": c["groups"],
                    "requirements": [{"specifier": s, "url": u or None, "sources": srcs}
                                     for (s, u), srcs in sorted(by_spec.items())]})
    return out


def source_label(e):
    """``file:line`` of an entry, with `` (via file)`` for entries read through ``-r``."""
    label = "%s:%d" % (e["path"], e["line"])
    return label + (" (via %s)" % e["via"] if e["via"] else "")


def conflict_text(c):
    """One-line description of a conflict dict (package, groups, specifiers with sources)."""
    parts = []
    for r in c["requirements"]:
        what = ("@ %s" % r["url"]) if r["url"] else (r["specifier"] or "(any version)")
        parts.append("%s (%s)" % (what, ", ".join(r["sources"])))
    marker = " ; %s" % c["marker"] if c["marker"] else ""
    return "%s%s in group(s) %s: %s cannot all hold" % (c["package"], marker, ", ".join(c["groups"]), "; ".join(parts))


def apply_pins(entries, pins):
    """Replace the specifier (and drop the URL) of every requirement of each pinned package.

    :param pins: ``{package: specifier}``; names are compared canonicalized.
    :returns: ``(entries, resolutions, unused)``; a resolution is ``{"package", "method": "pin",
        "specifier", "replaced": [{"specifier", "url", "sources"}]}``; ``unused`` lists pins that
        match no requirement.
    :raises ValueError: for an invalid package name or specifier.
    """
    table = {}
    for name, spec in sorted((pins or {}).items()):
        try:
            s = SpecifierSet(str(spec))
        except InvalidSpecifier:
            raise ValueError("pin for %s: invalid specifier %r" % (name, spec))
        table[canonicalize_name(name)] = str(s)
    return _replace(entries, table, "pin")


def _replace(entries, table, method):
    resolutions = {}
    out = []
    for e in entries:
        if e["kind"] == "req" and e["name"] in table:
            r = resolutions.setdefault(e["name"], {"package": e["name"], "method": method,
                                                   "specifier": table[e["name"]], "replaced": {}})
            r["replaced"].setdefault((e["specifier"], e["url"] or ""), []).append(source_label(e))
            e = dict(e, specifier=table[e["name"]], url=None, original_specifier=e["specifier"],
                     original_url=e["url"], resolved=method)
        out.append(e)
    res = []
    for name in sorted(resolutions):
        r = resolutions[name]
        r["replaced"] = [{"specifier": s, "url": u or None, "sources": sorted(set(srcs))}
                         for (s, u), srcs in sorted(r["replaced"].items())]
        res.append(r)
    unused = sorted(n for n in table if n not in resolutions)
    return out, res, unused


def resolve_newest(entries, conflicts):
    """For each conflicting package, replace every specifier of its requirements (all groups)
    by ``==V``, V the highest version any requirement pins with ``==``.

    :returns: ``(entries, resolutions, unresolved)``; ``unresolved`` lists the packages no
        file pins (they stay conflicts).
    """
    names = sorted(set(c["package"] for c in conflicts if c["reason"] == "specifiers"))
    by_name = _reqs_by_name(entries)
    table = {}
    unresolved = []
    for name in names:
        versions = pinned_versions(by_name.get(name, []))
        if not versions:
            unresolved.append(name)
            continue
        table[name] = "==%s" % versions[-1]
    out, res, _unused = _replace(entries, table, "newest")
    return out, res, unresolved


def assign_groups(sources_entries, rules, default_group):
    """Return ``layout`` (group -> entry list) from ``{source_rel: entries}``; each source's
    entries (its includes too) go to the source's group; duplicates (same file, line and text
    reached twice in a group) are kept once, preferring the direct read."""
    layout = {}
    seen = {}
    for rel in sorted(sources_entries):
        g = group_for(rel, rules, default_group)
        for e in sources_entries[rel]:
            e = dict(e, group=g)
            if e["path"] != rel and e["via"] is None:
                e["via"] = rel
            k = (g, e["path"], e["line"], e["text"], e["kind"], e.get("key"))
            prev = seen.get(k)
            if prev is not None:
                if prev["via"] and not e["via"]:
                    prev["via"] = None
                continue
            seen[k] = e
            layout.setdefault(g, []).append(e)
    return layout


def hoist(layout, groups, app_groups):
    """Move to base the requirements of every package (and marker) that every app group needs,
    unless the move would make a group conflict that did not before.

    :returns: ``(layout, hoisted)``; ``hoisted`` is the sorted list of package names moved.
    """
    apps = [g for g in app_groups if g != BASE]
    if len(apps) < 2 or any(not _reqs_by_name(layout.get(g, [])) for g in apps):
        return layout, []
    keys = None
    for g in apps:
        ks = set((e["name"], e["marker"]) for e in layout.get(g, []) if e["kind"] == "req")
        keys = ks if keys is None else keys & ks
    hoisted = []
    for name, marker in sorted(keys):
        before = set((c["package"], tuple(c["groups"])) for c in find_conflicts(
            _only(layout, name), groups))
        moved = dict(layout)
        moving = [e for g in apps for e in layout.get(g, [])
                  if e["kind"] == "req" and e["name"] == name and e["marker"] == marker]
        for g in apps:
            moved[g] = [e for e in layout.get(g, []) if not (e["kind"] == "req" and e["name"] == name and e["marker"] == marker)]
        moved[BASE] = list(layout.get(BASE, [])) + [dict(e, hoisted_from=e["group"]) for e in moving]
        after = find_conflicts(_only(moved, name), groups)
        if any((c["package"], tuple(c["groups"])) not in before for c in after):
            continue
        layout = moved
        if name not in hoisted:
            hoisted.append(name)
    return layout, sorted(hoisted)


def _only(layout, name):
    return dict((g, [e for e in ents if e["kind"] == "req" and e["name"] == name]) for g, ents in layout.items())


# -- rendering -----------------------------------------------------------------------------
def _attr_lines(entries, group=None):
    """Provenance comments of ``entries`` written in the file of ``group``: ``#   <- file:line
    (via file) [group G]: text``, the group tag only for lines moved there from group G."""
    out = []
    for e in sorted(entries, key=lambda x: (x["path"], x["line"], x["via"] or "", x["text"])):
        via = " (via %s)" % e["via"] if e["via"] else ""
        tag = " [group %s]" % e["group"] if group and e.get("group") and e["group"] != group else ""
        out.append("#   <- %s:%d%s%s: %s" % (e["path"], e["line"], via, tag, e["text"]))
    return sorted(set(out), key=out.index)


def requirement_line(name, extras, spec, marker, url):
    """Format one requirement: ``name[extras]spec; marker`` or ``name[extras] @ url ; marker``."""
    text = name + ("[%s]" % ",".join(extras) if extras else "")
    if url:
        text += " @ " + url + (" ;" if marker else "")
    else:
        text += spec
        text += ";" if marker else ""
    return text + (" " + marker if marker else "")


def _merge_reqs(entries):
    """Merge the requirement entries of one group into output lines, one per package, marker
    and URL (or specifier set).

    :returns: ``(items, notes)``; each item a dict ``{"key", "name", "marker", "extras",
        "specifier", "url", "options" (hashes, then other per-requirement options), "entries"}``.
    """
    by_key = {}
    for e in entries:
        by_key.setdefault((e["name"], e["marker"]), []).append(e)
    items = []
    notes = []
    for (name, marker) in sorted(by_key):
        ents = by_key[(name, marker)]
        url_ents = [e for e in ents if e["url"]]
        spec_ents = [e for e in ents if not e["url"]]
        extras = sorted(set(x for e in ents for x in e["extras"]))
        for url in sorted(set(e["url"] for e in url_ents)):
            same = [e for e in url_ents if e["url"] == url]
            items.append({"key": (name, marker, 0, url), "name": name, "marker": marker, "extras": extras,
                          "specifier": "", "url": url, "options": [], "entries": same})
        if spec_ents or not url_ents:
            spec = simplified(combine([e["specifier"] for e in spec_ents if e["specifier"]]))
            hashes = sorted(set(h for e in spec_ents if _same_pin(e["specifier"], spec) for h in e["hashes"]))
            dropped = [e for e in spec_ents if e["hashes"] and not _same_pin(e["specifier"], spec)]
            if dropped:
                notes.append("%s: --hash options of %s dropped (they belong to another version than %s)"
                             % (name, ", ".join(source_label(e) for e in dropped), spec or "any"))
            opts = ["--hash=%s" % h for h in hashes] + sorted(set(o for e in spec_ents for o in e["req_options"]))
            items.append({"key": (name, marker, 1, ""), "name": name, "marker": marker, "extras": extras,
                          "specifier": spec, "url": None, "options": opts, "entries": spec_ents})
    return items, notes


def _same_pin(spec, out_spec):
    try:
        return bool(spec) and bool(out_spec) and SpecifierSet(spec) == SpecifierSet(out_spec)
    except InvalidSpecifier:
        return False


def _implied_by(item, base_item):
    """True when the base line ``base_item`` already asks for everything ``item`` asks for."""
    if base_item is None or item["url"] != base_item["url"]:
        return False
    if not set(item["extras"]) <= set(base_item["extras"]) or not set(item["options"]) <= set(base_item["options"]):
        return False
    if item["url"] or not item["specifier"]:
        return True
    if not base_item["specifier"]:
        return False
    try:
        return SpecifierSet(base_item["specifier"]).is_subset(SpecifierSet(item["specifier"]))
    except ValueError:
        return base_item["specifier"] == item["specifier"]


def _item_text(item):
    return requirement_line(item["name"], item["extras"], item["specifier"], item["marker"], item["url"])


def _emit(lines, text, extra):
    """Append a requirement line; per-requirement options (hashes) go on continuation lines."""
    if not extra:
        lines.append(text)
        return
    lines.append(text + " \\")
    for i, x in enumerate(extra):
        lines.append("    " + x + (" \\" if i < len(extra) - 1 else ""))


def _resolution_note(r):
    return "#   resolved (%s): %s over %s" % (
        r["method"], r["specifier"] or "(any version)",
        ", ".join(x["specifier"] or ("@ " + x["url"] if x["url"] else "(any version)") for x in r["replaced"]))


def render_group(group, entries, output_dir, resolutions, base_items=None):
    """Return ``(text, notes, packages)`` for the layout file of ``group`` from its own entries.

    Sections in order: ``-r base.txt`` (not for base), options, constraints, requirements
    (sorted by package, then marker), editable installs, direct references, unparsed lines
    (commented out). Every line is preceded by its ``#   <- file:line: text`` provenance. A
    requirement that base.txt already asks for (same or narrower specifiers, the extras and
    hashes) keeps only its provenance and a ``#   (satisfied by base.txt: ...)`` note.
    ``packages`` is the number of requirement lines written (not counting satisfied ones).

    :param base_items: ``{(name, marker, 1|0, url): item}`` of base's merged lines.
    """
    out_rel = "%s/%s.txt" % (output_dir, group)
    lines = [
        '%s group "%s" (%s)' % (HEADER_MARK, group, out_rel),
        "# Written by the requirements phase (sutazai.consolidation.requirements_layout). Each line is",
        "# preceded by the source lines it stands for (\"#   <- file:line: line\"); later runs read those",
        "# back, so change the sources or requirements_pins rather than the lines below.",
    ]
    if group != BASE:
        lines.append("-r %s.txt" % BASE)
    head = len(lines)
    notes = []
    res_by_name = dict((r["package"], r) for r in resolutions)

    def section(title, items):
        if not items:
            return
        lines.append("")
        lines.append("# -- %s" % title)
        for attrs, text in items:
            lines.extend(_attr_lines(attrs, group))
            if text is not None:
                lines.append(text)

    opts = {}
    cons = {}
    edits = {}
    directs = {}
    reqs = []
    unparsed = []
    for e in entries:
        k = e["kind"]
        if k == "option":
            opts.setdefault(e["option"], []).append(e)
        elif k == "constraint":
            text = "-c " + (e["target"] if e.get("url") else _rel_from(output_dir, e["target"]))
            cons.setdefault(text, []).append(e)
        elif k == "editable":
            if e.get("url") or e["target"].startswith(("/", "~")):
                text = "-e " + e["target"]
            else:
                text = "-e " + _rel_from(output_dir, e["target"]) + e.get("extras_suffix", "")
            edits.setdefault(text, []).append(e)
        elif k == "direct":
            if e["key"].startswith("path:"):
                rest = e["url"][len(_EXTRAS_SUFFIX_RE.match(e["url"].split(";")[0].strip()).group("target")):]
                text = _rel_from(output_dir, e["target"]) + rest
            else:
                text = e["url"]
            directs.setdefault(text, []).append(e)
        elif k == "req":
            reqs.append(e)
        else:
            unparsed.append(e)
    index_urls = sorted(o for o in opts if o.startswith("--index-url "))
    if len(index_urls) > 1:
        notes.append("%s: %d different --index-url options; pip uses the last one" % (out_rel, len(index_urls)))
    section("options", [(opts[o], o) for o in sorted(opts)])
    section("constraints", [(cons[c], c) for c in sorted(cons)])
    merged, merge_notes = _merge_reqs(reqs)
    notes.extend(merge_notes)
    packages = 0
    if merged:
        lines.append("")
        lines.append("# -- requirements")
        for item in merged:
            lines.extend(_attr_lines(item["entries"], group))
            r = res_by_name.get(item["name"])
            if r is not None:
                lines.append(_resolution_note(r))
            base_item = (base_items or {}).get(item["key"])
            if group != BASE and _implied_by(item, base_item):
                lines.append("#   (satisfied by %s.txt: %s)" % (BASE, _item_text(base_item)))
                continue
            packages += 1
            _emit(lines, _item_text(item), item["options"])
    section("editable installs", [(edits[t], t) for t in sorted(edits)])
    section("direct references", [(directs[t], t) for t in sorted(directs)])
    section("lines that could not be parsed (kept verbatim, commented out)",
            [([e], "#   (kept as a comment: %s)" % e["message"]) for e in unparsed])
    if group != BASE and len(lines) == head:
        lines.append("# (no requirements of its own)")
    return "\n".join(lines) + "\n", notes, packages


def render_layout(layout, groups, output_dir, resolutions):
    """Render every group of ``layout`` (group -> own entries, after hoisting).

    :returns: ``(texts, notes, packages)``: ``{group: text}``, sorted notes, ``{group: number
        of requirement lines written}``.
    """
    base_items = dict((i["key"], i) for i in _merge_reqs([e for e in layout.get(BASE, []) if e["kind"] == "req"])[0])
    texts = {}
    notes = set()
    packages = {}
    mixed = []
    for g in groups:
        texts[g], n, packages[g] = render_group(g, layout.get(g, []), output_dir, resolutions, base_items)
        notes.update(n)
        own = [i for i in _merge_reqs([e for e in layout.get(g, []) if e["kind"] == "req"])[0]
               if g == BASE or not _implied_by(i, base_items.get(i["key"]))]
        items = own + (list(base_items.values()) if g != BASE else [])
        hashed = sum(1 for i in items if any(o.startswith("--hash=") for o in i["options"]))
        if 0 < hashed < len(items):
            mixed.append("%s.txt (%d of %d)" % (g, hashed, len(items)))
    if mixed:
        notes.add("some requirements carry --hash and others not in %s: pip checks hashes for every requirement "
                  "once one has them, so these installs fail until all are hashed or the hashes are removed"
                  % ", ".join(mixed))
    return texts, sorted(notes), packages


# -- proof ---------------------------------------------------------------------------------
def _expressed(e, out, spec_key="specifier", url_key="url"):
    """True when the output entries ``out`` (one group's effective layout) express ``e``."""
    kind = e["kind"]
    if kind != "req":
        return any(o["kind"] == kind and o.get("key") == e.get("key") for o in out)
    cands = [o for o in out if o["kind"] == "req" and o["name"] == e["name"] and o["marker"] in (e["marker"], "")]
    if not cands:
        return False
    if not set(e["extras"]) <= set(x for o in cands for x in o["extras"]):
        return False
    url = e.get(url_key)
    if url and not any(o["url"] == url for o in cands):
        return False
    if not set(e["hashes"]) <= set(h for o in cands for h in o["hashes"]):
        return False
    spec = e.get(spec_key) or ""
    if not spec or url:
        return True
    written = [o["specifier"] for o in cands if not o["url"] and o["specifier"]]
    if not written:
        return False
    out_set = combine(written)
    want = SpecifierSet(spec)
    try:
        return out_set.is_subset(want)
    except ValueError:  # "===" specifiers: compare them as written
        return set(str(s) for s in want) <= set(str(s) for s in out_set)


def prove(layout, texts, output_dir, groups):
    """Check that the rendered layout still expresses every source requirement of its group.

    :param layout: group -> entries before hoisting (from sources and carried-over lines).
    :param texts: ``{group: text}`` as rendered.
    :returns: list of ``{"group", "package", "status": kept|resolved|lost, "sources",
        "required", "written"}`` sorted by group then package; ``resolved`` means a pin or
        ``newest`` replaced a specifier the layout no longer expresses (listed in resolutions).
    """
    rels = dict(("%s/%s.txt" % (output_dir, g), texts[g]) for g in texts)
    out_by_group = {}
    for g in groups:
        rel = "%s/%s.txt" % (output_dir, g)
        ents, _inc = read_source("", rel, read=lambda r: rels[r])
        out_by_group[g] = ents
    records = {}
    for g in groups:
        out = out_by_group[g]
        text_all = texts[g] + (texts[BASE] if g != BASE else "")
        for e in layout.get(g, []):
            if e["kind"] == "unparsed":
                ok = ("\n" + _attr_lines([e], g)[0] + "\n") in text_all
                status = "kept" if ok else "lost"
                label = e["text"]
            else:
                if e.get("resolved"):
                    if _expressed(e, out, "original_specifier", "original_url"):
                        status = "kept"
                    else:
                        status = "resolved" if _expressed(e, out) else "lost"
                else:
                    status = "kept" if _expressed(e, out) else "lost"
                label = e["name"] if e["kind"] == "req" else "%s %s" % (e["kind"], e["key"])
            rec = records.setdefault((g, label), {"group": g, "package": label, "status": "kept", "sources": [],
                                                  "required": [], "written": []})
            rank = {"kept": 0, "resolved": 1, "lost": 2}
            if rank[status] > rank[rec["status"]]:
                rec["status"] = status
            rec["sources"].append(source_label(e))
            if e["kind"] == "req":
                want = e.get("original_specifier", e["specifier"]) if e.get("resolved") else e["specifier"]
                url = e.get("original_url", e["url"]) if e.get("resolved") else e["url"]
                rec["required"].append(("@ " + url) if url else (want or "(any version)"))
                rec["written"] = sorted(set(
                    "%s: %s" % (o["path"], requirement_line(o["name"], o["extras"], o["specifier"], o["marker"], o["url"]))
                    for o in out if o["kind"] == "req" and o["name"] == e["name"]))
    out = []
    for k in sorted(records):
        rec = records[k]
        rec["sources"] = sorted(set(rec["sources"]))
        rec["required"] = sorted(set(rec["required"]))
        out.append(rec)
    return out


# -- Dockerfiles ---------------------------------------------------------------------------
_INSTR_RE = re.compile(r"^\s*(COPY|ADD|RUN)\s+(.*)$", re.I)
_PIP_RE = re.compile(r"\bpip[0-9.]*\s+install\b|-m\s+pip\s+install\b")
_PIP_REQ_RE = re.compile(r"(?:^|\s)(?:-r|--requirement|-c|--constraint)(?:\s+|=)?([^\s;&|]+)")


def _docker_instructions(text):
    """Yield ``(line_number, instruction_text)`` with ``\\`` continuations joined and comment
    lines dropped (Dockerfile rules; heredocs are not interpreted)."""
    buf = []
    first = 0
    for number, line in enumerate(text.split("\n"), 1):
        if line.lstrip().startswith("#") and not buf:
            continue
        if line.lstrip().startswith("#"):
            continue
        if not buf:
            first = number
        if line.rstrip().endswith("\\"):
            buf.append(line.rstrip()[:-1])
            continue
        buf.append(line)
        yield first, " ".join(x.strip() for x in buf).strip()
        buf = []
    if buf:
        yield first, " ".join(x.strip() for x in buf).strip()


def _copy_sources(args):
    args = args.strip()
    if args.startswith("["):
        try:
            items = json.loads(args)
            return [str(x) for x in items[:-1]]
        except (ValueError, TypeError, KeyError, RecursionError):
            return []
    toks = [t for t in args.split() if not t.startswith("--")]
    return toks[:-1]


def _map_ref(ref, dockerfile, sources, source_set):
    """Sources a Dockerfile reference may name: the path resolved against each folder from the
    Dockerfile's own up to the root (the build context is one of them); absolute paths (inside
    the image) by their last component. ``source_set`` is ``set(sources)``: a path without a
    wildcard is looked up in it, only a pattern is matched against every source."""
    ref = ref.strip("\"'")
    cands = [ref.lstrip("/")] if not ref.startswith("/") else [posixpath.basename(ref)]
    d = posixpath.dirname(dockerfile)
    dirs = []
    while True:
        dirs.append(d)
        if not d:
            break
        d = posixpath.dirname(d)
    found = set()
    for c in cands:
        pattern = any(ch in c for ch in "*?[")
        for d in dirs:
            target = _norm_rel(d, c)
            if target in source_set:
                found.add(target)
            if pattern:
                found.update(s for s in sources if path_match(target, s))
    return sorted(found)


def dockerfile_references(dockerfiles, sources, read):
    """Find the requirements files Dockerfiles copy or install: ``COPY``/``ADD`` whose source
    names a requirements file and ``RUN pip install -r/-c FILE``.

    :returns: ``(references, problems)``; each reference ``{"path", "line", "instruction",
        "files": [as written], "sources": [source paths it may name]}``; ``problems`` lists
        Dockerfiles that could not be read (``{"path", "message"}``).
    """
    refs = []
    problems = []
    source_set = set(sources)
    for rel in dockerfiles:
        try:
            text = read(rel)
        except ConsolidationError as exc:
            problems.append({"path": rel, "message": exc.message})
            continue
        for number, instr in _docker_instructions(text):
            m = _INSTR_RE.match(instr)
            if not m:
                continue
            op = m.group(1).upper()
            if op in ("COPY", "ADD"):
                files = [s for s in _copy_sources(m.group(2)) if "requirements" in s.lower()]
            elif _PIP_RE.search(m.group(2)):
                files = _PIP_REQ_RE.findall(m.group(2))
            else:
                files = []
            if files:
                mapped = sorted(set(s for f in files for s in _map_ref(f, rel, sources, source_set)))
                refs.append({"path": rel, "line": number, "instruction": op, "files": files, "sources": mapped})
    return refs, problems


# -- outputs that are also inputs ----------------------------------------------------------
def requirements_meaning(entries):
    """What a requirements file installs, independent of layout, order and comments.

    :param entries: entries of one file with its includes followed (:func:`read_source`).
    :returns: ``(requirements, others)``: ``{(name, marker): (extras, specifier, urls, hashes,
        options)}`` (the specifiers of a package combined and simplified) and the set of
        ``(kind, key)`` of option, constraint, editable and direct lines (``("unparsed",
        text)`` for lines pip would choke on). Two files mean the same when both are equal.
    """
    reqs = {}
    others = set()
    for e in entries:
        if e["kind"] == "req":
            r = reqs.setdefault((e["name"], e["marker"]), (set(), [], set(), set(), set()))
            r[0].update(e["extras"])
            if e["specifier"]:
                r[1].append(e["specifier"])
            if e["url"]:
                r[2].add(e["url"])
            r[3].update(e["hashes"])
            r[4].update(e["req_options"])
        elif e["kind"] == "unparsed":
            others.add(("unparsed", e["text"]))
        else:
            others.add((e["kind"], e.get("key")))
    out = {}
    for k, (extras, specs, urls, hashes, opts) in reqs.items():
        out[k] = (tuple(sorted(extras)), simplified(combine(specs)), tuple(sorted(urls)), tuple(sorted(hashes)),
                  tuple(sorted(opts)))
    return out, others


def _named_file(e):
    """The file an ``include`` entry or a local ``constraint`` entry names, else None."""
    if e["kind"] == "include":
        return e["include"]
    if e["kind"] == "constraint" and not e.get("url"):
        return e["target"]
    return None


def preserved_path(rel):
    """Path of the kept copy of the overwritten original ``rel``: ``dir/name.original.txt``."""
    stem = rel[:-4] if rel.endswith(".txt") else rel
    return stem + PRESERVED_SUFFIX


def preserved_text(rel, text):
    """Text of the kept copy of the overwritten original ``rel`` (its ``text`` after
    :func:`rewrite_references`), under a first line naming it."""
    return "%s %s (its content before the requirements layout wrote its own file of that name; files that " \
           "included it include this copy instead)\n%s" % (PRESERVED_MARK, rel, text)


def rewrite_references(data, rel, mapping):
    """Rewrite the ``-r``/``-c`` options of the requirements file ``rel`` (bytes ``data``) that
    name a key of ``mapping`` (``{old_rel: new_rel}``, the new file in the old one's folder) so
    they name the new file; only the value changes (``-r ../requirements/base.txt`` ->
    ``-r ../requirements/base.original.txt``), every other byte is kept.

    :returns: ``(new_data, rewritten, problems)``: ``rewritten`` lists ``{"path", "line",
        "option", "old", "new"}``; ``problems`` lists references that cannot be rewritten in
        place (``{"path", "line", "column", "kind", "message"}``), which stay as they are.
    :raises ConsolidationError: when ``data`` is not UTF-8.
    """
    text = decode_text(data, rel)
    bom = b"\xef\xbb\xbf" if data.startswith(b"\xef\xbb\xbf") else b""
    physical = data[len(bom):].split(b"\n")
    base_dir = posixpath.dirname(rel)
    rewritten = []
    problems = []

    def hits(entries):
        return [e for e in entries if (e["kind"] == "include" and e["include"] in mapping)
                or (e["kind"] == "constraint" and not e.get("url") and e["target"] in mapping)]

    def sub(m):
        target = _norm_rel(base_dir, m.group("value"))
        if target not in mapping:
            return m.group(0)
        value = posixpath.join(posixpath.dirname(m.group("value")), posixpath.basename(mapping[target]))
        return m.group("opt") + m.group("sep") + value

    lone_cr = b"\r" in data.replace(b"\r\n", b"")
    for number, stripped, raw in logical_lines(text):
        found = hits(parse_line(number, stripped, raw, rel))
        if not found:
            continue
        what = "%s of %s" % (found[0]["kind"], found[0].get("include") or found[0]["target"])
        line = physical[number - 1].decode("utf-8") if not lone_cr and number <= len(physical) else None
        new_line = _REF_OPTION_RE.sub(sub, line) if line is not None else None
        ok = False
        if new_line is not None and new_line != line:
            trial = list(physical)
            trial[number - 1] = new_line.encode("utf-8")
            for n2, s2, r2 in logical_lines(decode_text(b"\n".join(trial), rel)):
                if n2 == number:
                    ok = not hits(parse_line(n2, s2, r2, rel))
            if ok:
                physical = trial
                rewritten.append({"path": rel, "line": number, "option": found[0]["kind"],
                                  "old": " ".join(line.split()), "new": " ".join(new_line.split())})
        if not ok:
            problems.append({"path": rel, "line": number, "column": None, "kind": "reference",
                             "message": "the %s cannot be rewritten in place (continued, quoted or odd line "
                                        "endings): %s" % (what, " ".join(raw.split()))})
    return bom + b"\n".join(physical), rewritten, problems


# -- the whole phase -----------------------------------------------------------------------
class Plan(object):
    """Result of :func:`plan_layout`.

    :ivar errors: input errors that stop the phase (path, line, column, kind, message).
    :ivar conflicts: unresolved conflicts (see :func:`find_conflicts`); non-empty = write nothing.
    :ivar all_conflicts: the conflicts found before any ``newest`` resolution.
    :ivar lost: proof records with status ``lost`` (non-empty = write nothing).
    :ivar outputs: ``{rel: bytes}`` of the layout files to write.
    :ivar remove: source paths to remove (``remove_sources``), sorted.
    :ivar kept_sources: ``[{"path", "reason"}]`` sources kept although ``remove_sources``.
    :ivar rewrites: ``{rel: bytes}`` of kept files whose ``-r``/``-c`` options are rewritten to
        the kept copy of an overwritten original.
    :ivar preserved: ``{rel: bytes}`` of the kept copies (``<name>.original.txt``) to write.
    :ivar overwritten: ``[{"path", "group", "preserved_as", "references", "dockerfile_references"}]``
        layout paths that held an original file (read as a source before it is replaced).
    :ivar blockers: problems with outputs that are also inputs (path, line, column, kind,
        message); non-empty = write nothing.
    Other attributes are listed in :func:`plan_layout`.
    """

    def __init__(self):
        self.errors = []
        self.blockers = []
        self.rewrites = {}
        self.preserved = {}
        self.overwritten = []
        self.rewritten_references = []
        self.conflicts = []
        self.all_conflicts = []
        self.resolutions = []
        self.unresolvable = []
        self.unused_pins = []
        self.lost = []
        self.proof = []
        self.outputs = {}
        self.remove = []
        self.kept_sources = []
        self.files = []
        self.unparsed = []
        self.dockerfile_references = []
        self.hoisted = []
        self.notes = []
        self.skipped = []
        self.groups = {}
        self.stats = {}


def _validate_groups(rules, groups, app_groups, default_group):
    names = set(groups) | set(r.get("group") for r in rules) | set(app_groups) | set([default_group])
    for n in sorted(x for x in names if x is not None):
        if not GROUP_NAME_RE.match(n):
            raise ValueError("invalid group name %r (lower-case letters, digits, '.', '_', '-')" % n)
    for r in rules:
        if not r.get("pattern") or not r.get("group"):
            raise ValueError("each group rule needs a pattern and a group: %r" % (r,))
    if BASE not in groups:
        raise ValueError("groups must include %s" % BASE)


def _layout_of(entries):
    layout = {}
    for e in entries:
        layout.setdefault(e["group"], []).append(e)
    return layout


def _removal(live, refs, included_by, aliases, outputs):
    """Return ``(remove, kept_sources)`` for ``remove_sources``: every live source but the
    layout paths (``outputs``), the files a Dockerfile references and what those include."""
    protected = {}
    for r in refs:
        for src in r["sources"]:
            protected.setdefault(src, "referenced by Dockerfile %s:%d" % (r["path"], r["line"]))
    includes_of = {}
    for inc, users in included_by.items():
        for u in users:
            includes_of.setdefault(u, set()).add(inc)
    todo = sorted(protected)
    while todo:
        kept = todo.pop()
        for inc in sorted(includes_of.get(kept, ())):
            if inc not in protected:
                protected[inc] = "included (-r) by %s, which is kept" % kept
                todo.append(inc)
    remove = []
    kept_sources = []
    for rel in live:
        if rel in outputs:
            continue
        if rel in protected:
            kept_sources.append({"path": rel, "reason": protected[rel]})
            continue
        remove.append(rel)
    removed = set(remove)
    for alias, target in sorted(aliases.items()):
        if target in removed:
            remove.append(alias)
    return sorted(remove), kept_sources


class _Built(object):
    """Groups, conflicts, resolutions and rendered texts of one set of entries (see :func:`plan_layout`)."""


def _build(entries, groups, app_groups, output_dir, pins, resolve):
    b = _Built()
    b.all_groups = list(groups)
    for g in sorted(set(e["group"] for e in entries)):
        if g not in b.all_groups:
            b.all_groups.append(g)
    b.all_conflicts = find_conflicts(_layout_of(entries), b.all_groups)
    entries, b.pin_res, b.unused_pins = apply_pins(entries, pins)
    layout = _layout_of(entries)
    conflicts = find_conflicts(layout, b.all_groups) if b.pin_res else b.all_conflicts
    b.newest_res = []
    b.unresolvable = []
    if conflicts and resolve == "newest":
        entries, b.newest_res, b.unresolvable = resolve_newest(entries, conflicts)
        layout = _layout_of(entries)
        conflicts = find_conflicts(layout, b.all_groups)
    b.entries = entries
    b.layout = layout
    b.conflicts = conflicts
    b.resolutions = b.pin_res + b.newest_res
    b.hoisted_layout, b.hoisted = hoist(layout, b.all_groups, app_groups)
    b.texts, b.notes, b.written = render_layout(b.hoisted_layout, b.all_groups, output_dir, b.resolutions)
    return b


def plan_layout(root, patterns=None, exclude_dirs=None, exclude_paths=(), output_dir=DEFAULT_OUTPUT_DIR,
                group_rules=None, default_group=DEFAULT_GROUP, groups=None, app_groups=None,
                pins=None, resolve="none", remove_sources=False):
    """Plan the requirements layout of the tree at ``root`` (nothing is written).

    Layout files are never read as sources; overwritten originals and the kept files that
    include them are handled as the module docstring says ("Outputs that are also inputs"):
    ``Plan.rewrites``, ``Plan.preserved``, ``Plan.overwritten`` and ``Plan.blockers``.

    :param patterns: source patterns, default :data:`DEFAULT_PATTERNS`.
    :param exclude_dirs: folder names never entered, default :data:`DEFAULT_EXCLUDE_DIRS`.
    :param exclude_paths: absolute paths never entered (backup root, report folder).
    :param output_dir: layout folder relative to the root (default ``requirements``).
    :param group_rules: ordered ``[{"pattern", "group"}]``, default :data:`DEFAULT_GROUP_RULES`.
    :param default_group: group of files no rule matches.
    :param groups: layout files always written (default :data:`DEFAULT_GROUPS`); groups named
        only by rules or carried-over files are written too.
    :param app_groups: groups whose common packages move to base (default backend, frontend).
    :param pins: ``{package: specifier}`` (see :func:`apply_pins`).
    :param resolve: ``none`` or ``newest`` (see :func:`resolve_newest`).
    :param remove_sources: plan removing the source files after writing the layout.
    :returns: a :class:`Plan`; ``Plan.outputs`` is empty when nothing is to be written
        (errors, conflicts, blockers, lost requirements or no requirements file at all).
    :raises ValueError: for invalid options (group names, rules, pins).
    """
    rules = DEFAULT_GROUP_RULES if group_rules is None else group_rules
    groups = list(DEFAULT_GROUPS if groups is None else groups)
    app_groups = list(DEFAULT_APP_GROUPS if app_groups is None else app_groups)
    output_dir = posixpath.normpath(output_dir.strip("/"))
    _validate_groups(rules, groups, app_groups, default_group)
    plan = Plan()
    cache = {}
    overlay = {}  # rel -> text the run will leave there (kept files rewritten, copies of originals)
    root_real = os.path.realpath(root)

    def read_disk_bytes(rel):
        path = safe_join(root, rel)
        real = os.path.realpath(path)
        if real != root_real and not real.startswith(root_real.rstrip(os.sep) + os.sep):
            raise ConsolidationError("symlink points outside the root", rel, kind="outside_root")
        return read_bytes(path, rel)

    def read_disk(rel):
        if rel not in cache:
            cache[rel] = decode_text(read_disk_bytes(rel), rel)
        return cache[rel]

    def read(rel):
        return overlay[rel] if rel in overlay else read_disk(rel)

    try:
        found = discover(root, patterns, exclude_dirs, exclude_paths, output_dir, read_disk)
    except ConsolidationError as exc:
        plan.errors.append(exc.as_dict())
        return plan
    plan.skipped = found.skipped
    base_rel = "%s/%s.txt" % (output_dir, BASE)
    layout_rels = set(found.layout_files)
    as_layout = set()  # overwritten originals that kept files go on including (the layout's base.txt)
    remaining = set()  # files read that stay in the tree (not overwritten, not removed)

    def include(e, top):
        """Layout files are never read as sources, not even through ``-r``."""
        inc = e["include"]
        if inc in layout_rels or (inc in as_layout and top in remaining):
            if inc == base_rel:
                return []  # every layout file installs base.txt already
            return [_entry("unparsed", e["path"], e["line"], e["text"],
                           message="-r of the layout file %s is not followed (the layout's own files are "
                                   "never read as sources)" % inc)]
        return None

    def read_all(rels):
        out = {}
        inc_by = {}
        for rel in rels:
            try:
                entries, included = read_source(root, rel, read, include=include)
            except ConsolidationError as exc:
                plan.errors.append(exc.as_dict())
                continue
            out[rel] = entries
            for inc in included:
                inc_by.setdefault(inc, []).append(rel)
        return out, inc_by

    per_source, included_by = read_all(found.sources)
    if plan.errors:
        return plan

    # Lines of earlier layout files whose source is gone (removed, or an original the layout replaced).
    sources_set = set(found.sources)
    carried = []
    for lrel in sorted(found.layout_files):
        group, attrs = parse_layout_file(found.layout_files[lrel], lrel)
        if group is None or not GROUP_NAME_RE.match(group):
            plan.notes.append({"path": lrel, "message": "layout file without a valid group name; ignored"})
            continue
        for a in attrs:
            top = a["via"] or a["path"]
            if top in sources_set:
                continue
            if a.get("message") is not None:
                e = _entry("unparsed", a["path"], a["line"], a["text"], message=a["message"])
                e.update(via=a["via"], group=a["group"] or group, carried=True)
                carried.append(e)
                continue
            for _n, stripped, raw in logical_lines(a["text"]):
                for e in parse_line(a["line"], stripped, raw, a["path"]):
                    if e["kind"] == "include":
                        e = _entry("unparsed", a["path"], a["line"], raw.strip(),
                                   message="-r in a layout file is not followed")
                    e.update(via=a["via"], group=a["group"] or group, carried=True)
                    carried.append(e)

    # A file some source (or a carried-over line) uses with -c is a constraints file, not a source.
    constraint_targets = set(e["target"] for ents in list(per_source.values()) + [carried] for e in ents
                             if e["kind"] == "constraint" and not e.get("url"))
    live = []
    for rel in found.sources:
        if rel in constraint_targets:
            plan.notes.append({"path": rel, "message": "used as a constraints file (-c); not merged, never removed"})
            del per_source[rel]
        else:
            live.append(rel)
    live_set = set(live)

    def assemble(sources_entries, copies):
        """All entries, sorted; ``-c`` lines of files that do not stay (overwritten, removed,
        carried over) that name an original kept as a copy name the copy (``copies``)."""
        def mapped(e):
            t = e.get("target")
            if e["kind"] == "constraint" and not e.get("url") and t in copies and (e["via"] or e["path"]) not in remaining:
                return dict(e, target=copies[t], key="path:" + copies[t])
            return e
        entries = [mapped(e) for e in carried]
        layout0 = assign_groups(sources_entries, rules, default_group)
        for g in sorted(layout0):
            entries.extend(mapped(e) for e in layout0[g])
        # Carried lines may repeat across runs of hand edits: keep one per (group, source, text).
        uniq = {}
        for e in entries:
            uniq.setdefault((e["group"], e["path"], e["line"], e["via"] or "", e["text"], e["kind"], e.get("key")), e)
        entries = list(uniq.values())
        entries.sort(key=lambda e: (e["group"], e["path"], e["line"], e["via"] or "", e["kind"], e.get("key") or ""))
        return entries

    # Copies kept by an earlier run: {original: copy}.
    earlier = dict((o, p) for p, o in sorted(found.preserved.items()))
    entries = assemble(per_source, earlier)
    built = _build(entries, groups, app_groups, output_dir, pins, resolve)
    output_paths = ["%s/%s.txt" % (output_dir, g) for g in built.all_groups]

    # Originals at layout paths, read once as sources (or used as constraints) before they are replaced.
    read_rels = set(found.sources) | set(included_by)
    overwritten = [p for p in output_paths if p not in layout_rels and (p in read_rels or p in constraint_targets)]
    over = set(overwritten)
    for p in output_paths:
        if p not in layout_rels and p not in over and os.path.lexists(safe_join(root, p)):
            plan.blockers.append({"path": p, "line": None, "column": None, "kind": "overwrite",
                                  "message": "the layout would replace this file, which is not a requirements source "
                                             "(requirements_patterns); add it to the patterns or move it"})

    refs, problems = dockerfile_references(found.dockerfiles, sorted(live_set | over), read_disk)
    plan.dockerfile_references = refs
    for p in problems:
        plan.notes.append({"path": p["path"], "message": "Dockerfile not read: %s" % p["message"]})
    if remove_sources:
        plan.remove, plan.kept_sources = _removal(live, refs, included_by, found.aliases, set(output_paths))
    remaining.update(read_rels - over - set(plan.remove) - layout_rels)

    # Who names an overwritten original: kept files (-r/-c) and the layout's own -c lines.
    referenced = {}
    for rel in sorted(remaining):
        try:
            text = read_disk(rel)
        except ConsolidationError:
            continue  # an unreadable include: already an unparsed line of its includer
        for e in parse_text(text, rel):
            target = _named_file(e)
            if target in over:
                referenced.setdefault(target, []).append({"path": rel, "line": e["line"],
                                                          "option": "-r" if e["kind"] == "include" else "-c"})
    for e in entries:
        if e["kind"] == "constraint" and not e.get("url") and e["target"] in over and (e["via"] or e["path"]) not in remaining:
            ref = {"path": "%s/%s.txt" % (output_dir, e["group"]), "line": None, "option": "-c"}
            if ref not in referenced.setdefault(e["target"], []):
                referenced[e["target"]].append(ref)

    # Keep a copy of each referenced original unless it is base.txt and the layout's base.txt
    # means exactly the same (then the references stay); grow the set until it holds.
    preserve = set(o for o in referenced if o != base_rel)
    same_candidates = set(o for o in referenced if o == base_rel)
    rewritten = []
    while referenced:
        as_layout.clear()
        as_layout.update(same_candidates - preserve)
        copies = dict((o, preserved_path(o)) for o in sorted(preserve))
        overlay.clear()
        plan.rewrites = {}
        plan.preserved = {}
        rewritten = []
        blockers = []
        for o in sorted(preserve):
            try:
                new, _rw, probs = rewrite_references(read_disk_bytes(o), o, copies)
            except ConsolidationError as exc:
                blockers.append(exc.as_dict())
                continue
            blockers.extend(probs)
            text = preserved_text(o, decode_text(new, o))
            overlay[copies[o]] = text
            plan.preserved[copies[o]] = text.encode("utf-8")
        # A copy stays in the tree too: the originals it names are referenced as well.
        more = False
        for o in sorted(preserve):
            for e in parse_text(read_disk(o), o):
                target = _named_file(e)
                if target not in over:
                    continue
                ref = {"path": copies[o], "line": e["line"] + 1, "option": "-r" if e["kind"] == "include" else "-c"}
                if target not in referenced:
                    (same_candidates if target == base_rel else preserve).add(target)
                    more = True
                if ref not in referenced.setdefault(target, []):
                    referenced[target].append(ref)
        if more:
            continue
        holders = sorted(set(r["path"] for o in preserve for r in referenced[o] if r["path"] in remaining))
        for rel in holders:
            try:
                new, rw, probs = rewrite_references(read_disk_bytes(rel), rel, copies)
            except ConsolidationError as exc:
                blockers.append(exc.as_dict())
                continue
            blockers.extend(probs)
            rewritten.extend(rw)
            if rw:
                overlay[rel] = decode_text(new, rel)
                plan.rewrites[rel] = new
        again, again_by = read_all(sorted(live_set & remaining))
        if plan.errors:
            return plan
        sources_now = dict(per_source)
        sources_now.update(again)
        entries = assemble(sources_now, dict(earlier, **copies))
        built = _build(entries, groups, app_groups, output_dir, pins, resolve)
        rels = dict(("%s/%s.txt" % (output_dir, g), built.texts[g]) for g in built.texts)
        differ = []
        for o in sorted(same_candidates - preserve):
            before, _i = read_source(root, o, read_disk, include=include)
            after, _i = read_source("", o, read=lambda r: rels[r] if r in rels else read(r))
            if requirements_meaning(before) != requirements_meaning(after):
                differ.append(o)
        if not differ:
            included_by = dict((k, list(v)) for k, v in included_by.items())
            for rel in again:
                for inc, users in list(included_by.items()):
                    if rel in users:
                        users.remove(rel)
            for inc, users in again_by.items():
                included_by.setdefault(inc, []).extend(users)
            included_by = dict((k, v) for k, v in included_by.items() if v)
            per_source = sources_now
            plan.blockers.extend(blockers)
            break
        preserve.update(differ)

    for o in sorted(preserve):
        copy = preserved_path(o)
        if copy in output_paths or (copy in found.sources) or (
                os.path.lexists(safe_join(root, copy)) and found.preserved.get(copy) != o):
            plan.blockers.append({"path": copy, "line": None, "column": None, "kind": "overwrite",
                                  "message": "cannot keep the original %s there: the name is taken" % o})
    for o in overwritten:
        group = group_for(o, rules, default_group) if o in live_set else None
        docker = ["%s:%d" % (r["path"], r["line"]) for r in refs if o in r["sources"]]
        actions = []
        for r in referenced.get(o, []):
            if o in preserve:
                action = "names the copy %s" % preserved_path(o)
            else:
                action = "unchanged: the layout's file expresses exactly what the original did"
            actions.append(dict(r, action=action))
        plan.overwritten.append({"path": o, "group": group, "constraints_only": o not in live_set and o in constraint_targets,
                                 "preserved_as": preserved_path(o) if o in preserve else None,
                                 "references": actions, "dockerfile_references": docker})
        if group:
            what = "read as a source of group %s and kept in the proof" % group
        elif o in constraint_targets:
            what = "used as a constraints file (-c), not merged"
        else:
            what = "read only through the includes that name it"
        msg = "an original file at a layout path: the layout writes its own file there; the original is %s" % what
        if o in preserve:
            msg += "; its content is kept as %s and the %d reference(s) to it from files that stay name that copy" % (
                preserved_path(o), len(actions))
        elif actions:
            msg += "; %d reference(s) to it stay: the layout's file expresses exactly what the original did" % len(actions)
        if docker:
            msg += "; %d Dockerfile instruction(s) copy or install it (%s) and get the layout's file from now on" % (
                len(docker), ", ".join(docker[:3]) + (", ..." if len(docker) > 3 else ""))
        plan.notes.append({"path": o, "message": msg})
    plan.rewritten_references = rewritten

    plan.all_conflicts = built.all_conflicts
    plan.unused_pins = built.unused_pins
    plan.unresolvable = built.unresolvable
    plan.resolutions = built.resolutions
    plan.conflicts = built.conflicts
    plan.hoisted = built.hoisted
    all_groups = built.all_groups
    entries = built.entries
    layout = built.layout
    hoisted_layout = built.hoisted_layout
    texts, written = built.texts, built.written
    for r in built.pin_res:
        r["conflict"] = any(c["package"] == r["package"] for c in plan.all_conflicts)
    for r in built.newest_res:
        r["conflict"] = True

    plan.unparsed = [{"path": e["path"], "line": e["line"], "via": e["via"], "group": e["group"], "text": e["text"],
                      "message": e["message"]} for e in entries if e["kind"] == "unparsed"]
    plan.unparsed.sort(key=lambda u: (u["path"], u["line"], u["group"]))

    # Per-source file records and stats.
    req_lines = set()
    for rel, ents in per_source.items():
        for e in ents:
            if e["kind"] == "req":
                req_lines.add((e["path"], e["line"]))
    for rel in live:
        ents = per_source[rel]
        plan.files.append({"path": rel, "group": group_for(rel, rules, default_group),
                           "requirements": sum(1 for e in ents if e["kind"] == "req"),
                           "includes": sorted(set(e["path"] for e in ents if e["path"] != rel)),
                           "unparsed": sum(1 for e in ents if e["kind"] == "unparsed")})

    for n in built.notes:
        plan.notes.append({"path": None, "message": n})
    for g in all_groups:
        own_before = set(e["name"] for e in layout.get(g, []) if e["kind"] == "req")
        plan.groups[g] = {"file": "%s/%s.txt" % (output_dir, g),
                          "sources": sorted(set(e["via"] or e["path"] for e in layout.get(g, []))),
                          "packages_before": len(own_before), "packages": written[g],
                          "other_lines": sum(1 for e in hoisted_layout.get(g, []) if e["kind"] not in ("req", "unparsed"))}

    plan.stats = {
        "sources": len(live), "layout_files": len(found.layout_files), "dockerfiles": len(found.dockerfiles),
        "included_files": len(included_by), "requirement_lines": len(req_lines),
        "carried_over": len(carried), "unparsed": len(plan.unparsed),
        "conflicts_found": len(plan.all_conflicts), "conflicts": len(plan.conflicts),
        "resolutions": len(plan.resolutions), "hoisted": len(plan.hoisted),
        "dockerfile_references": len(refs), "lost": 0,
        "overwritten": len(overwritten), "preserved": len(set(found.preserved) | set(plan.preserved)),
        "rewritten_references": len(rewritten),
        "packages": dict((g, plan.groups[g]["packages"]) for g in all_groups),
    }

    if not live and not carried:
        plan.notes.append({"path": None, "message": "no requirements file found; nothing to consolidate"})
        plan.remove, plan.rewrites, plan.preserved = [], {}, {}
        return plan
    if plan.conflicts or plan.blockers:
        plan.remove, plan.rewrites, plan.preserved = [], {}, {}
        return plan

    plan.proof = prove(layout, texts, output_dir, all_groups)
    plan.lost = [p for p in plan.proof if p["status"] == "lost"]
    plan.stats["lost"] = len(plan.lost)
    if plan.lost:
        plan.remove, plan.rewrites, plan.preserved = [], {}, {}
        return plan
    for g in all_groups:
        plan.outputs["%s/%s.txt" % (output_dir, g)] = texts[g].encode("utf-8")
    if not remove_sources:
        plan.remove = []
    return plan
