# -*- coding: utf-8 -*-
# Copyright (c) 2026 sutazai.consolidation contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Options and behaviour shared by every phase module (see the ``sutazai.consolidation.phase``
documentation fragment): the root, backup root, report folder, run id and the
"cannot proceed safely" rule (``strict``)."""

from __future__ import annotations

import os
import traceback

from ansible_collections.sutazai.consolidation.plugins.module_utils import _redaction
from ansible_collections.sutazai.consolidation.plugins.module_utils._errors import ConsolidationError
from ansible_collections.sutazai.consolidation.plugins.module_utils import _lock
from ansible_collections.sutazai.consolidation.plugins.module_utils._journal import Journal, mark_complete, utc_now
from ansible_collections.sutazai.consolidation.plugins.module_utils._report import one_line, result_decisions, result_sections

WARNING_WIDTH = 200
"""Longest warning a phase module prints (characters, one line); the whole text goes to the run report."""

PHASE_ARGUMENT_SPEC = dict(
    root=dict(type="path", required=True),
    backup_root=dict(type="path"),
    report_dir=dict(type="path"),
    run_id=dict(type="str"),
    strict=dict(type="bool", default=False),
)


def phase_paths(params):
    """Return ``(root, backup_root, report_dir)`` as absolute paths, applying the defaults
    ``<root>/backups`` and ``<root>/reports``."""
    root = os.path.abspath(params["root"])
    backup_root = os.path.abspath(params.get("backup_root") or os.path.join(root, "backups"))
    report_dir = os.path.abspath(params.get("report_dir") or os.path.join(root, "reports"))
    return root, backup_root, report_dir


def check_root(module, root):
    """Fail the module when ``root`` is not a directory; then redact every output of the
    module with the tree's secrets (:func:`redact_output`)."""
    if not os.path.isdir(root):
        module.fail_json(msg="root %s is not a directory" % root)
    redact_output(module, root)


def redact_output(module, root, secrets=()):
    """Route every result, failure and warning of ``module`` through ``_redaction``: each string
    of ``exit_json``/``fail_json`` (message, errors, summary, diff, traceback ...) and each
    ``warn`` message is redacted with the secrets of the tree under ``root`` (computed once,
    when the first output is made), ``secrets`` and the rules of ``_redaction``. Called by
    :func:`check_root`, so no phase module can forget it; a second call adds ``secrets``.
    A warning is printed as one line of at most :data:`WARNING_WIDTH` characters; the whole
    redacted texts go into the result's ``summary`` as ``warnings`` (list of str), which the run
    report lists.
    """
    state = getattr(module, "_sutazai_redaction", None)
    if state is not None:
        state["extra"].update(secrets)
        state["redactor"] = None
        return
    params = getattr(module, "params", None) or {}
    excludes = ()
    if params.get("root"):
        excludes = phase_paths(params)[1:]
    _redaction.use_tree(root, excludes)
    state = {"extra": set(secrets), "redactor": None, "warnings": []}
    module._sutazai_redaction = state
    exit_json, fail_json, warn = module.exit_json, module.fail_json, module.warn

    def redactor():
        if state["redactor"] is None:
            state["redactor"] = _redaction.Redactor(set(_redaction.tree_secrets(root)) | state["extra"])
        return state["redactor"]

    def redact(kwargs):
        # Diffs are redacted when built (with each file's name); here only the known secrets.
        diff = kwargs.pop("diff", None)
        kwargs = redactor().data(kwargs)
        if diff is not None:
            kwargs["diff"] = redactor().known(diff)
        return kwargs

    def redacted_exit(**kwargs):
        summary = kwargs.get("summary")
        if state["warnings"] and isinstance(summary, dict):
            # The console gets one short line per warning; the run report gets the whole texts.
            kwargs["summary"] = dict(summary, warnings=list(state["warnings"]))
        exit_json(**redact(kwargs))

    def redacted_fail(msg=None, **kwargs):
        kwargs = redact(kwargs)
        fail_json(msg=redactor().text(msg if msg is not None else "failed"), **kwargs)

    def redacted_warn(warning):
        if not isinstance(warning, str):
            warn(warning)
            return
        text = redactor().text(warning)
        state["warnings"].append(text)
        warn(one_line(text, WARNING_WIDTH))

    module.exit_json = redacted_exit
    module.fail_json = redacted_fail
    module.warn = redacted_warn


def blocked(module, phase, reason, errors, summary_rows=None, details=None, **extra):
    """End the module for a phase that cannot proceed safely; nothing has been written.

    With ``strict: false`` the result is ``changed=false``, ``blocked=true`` and a warning;
    with ``strict: true`` the module fails. ``errors`` is a list of error dicts (path, line,
    column, kind, message; the location keys may be absent) and never holds secret values.
    ``details`` (optional) are the summary's report sections (see ``_report``), so the run
    report still says what the phase found.
    """
    lines = []
    for e in errors:
        where = ":".join(str(e[k]) for k in ("path", "line", "column") if e.get(k) is not None)
        lines.append("%s: %s" % (where, e["message"]) if where else e["message"])
    msg = "%s phase changed nothing: %s" % (phase, reason)
    if lines:
        msg += " -- " + "; ".join(lines[:20]) + ("; ... (%d more)" % (len(lines) - 20) if len(lines) > 20 else "")
    summary = {"phase": phase, "status": "blocked", "reason": msg, "rows": summary_rows or []}
    if details:
        summary["details"] = details
    if module.params.get("strict"):
        module.fail_json(msg=msg, errors=errors, blocked=True, summary=summary, **extra)
    module.warn(msg)
    module.exit_json(changed=False, blocked=True, msg=msg, errors=errors, summary=summary, **extra)


def apply_changes(module, phase, changes, root, backup_root):
    """Make ``changes`` (a ``ChangeSet``) through the run's journal unless in check mode.

    Before the first change the run lock of ``root`` must be held by this run's id (see
    ``_lock``); the module process is registered in the run folder while it changes the tree.
    Without a ``run_id`` (a phase module or role used on its own) the call is a run of its own:
    it takes the lock under a new id (refused while another run holds it), journals under that
    id, marks the run complete and releases the lock, so ``rollback`` undoes it like any run.

    :returns: the journal's manifest path, or None when nothing was written.
    :raises ConsolidationError: when the lock is not held by this run (nothing written).
    """
    if module.check_mode or not len(changes):
        return None
    run_id = module.params.get("run_id")
    own_run = not run_id
    if own_run:
        # Called without a run (a phase role or module used on its own): this call is the run.
        # It takes the lock under a new id, journals, marks the run complete and releases.
        run_id = _lock.new_run_id()
        _lock.acquire(root, backup_root, run_id, utc_now(), kind="phase", pid=os.getpid())
    else:
        _lock.verify(root, run_id)
    try:
        journal = Journal(root, backup_root, run_id, phase)
        journal.begin()
        try:
            changes.apply(journal)
        finally:
            journal.end()
        if own_run:
            mark_complete(backup_root, run_id)
    finally:
        if own_run:
            _lock.release(root, run_id)
    return journal.manifest_path


def finish(module, phase, changes, root, backup_root, result, rows, base, diff=None, what="writing"):
    """End a phase module that planned ``changes``: add the summary (status ``would change``,
    ``changed`` or ``unchanged``, then ``rows``) and the diff, make the changes through the
    journal unless in check mode, and exit.

    :param result: the result dict so far (``changed`` and ``journal`` are set here); a
        ``summary`` already in it keeps its extra keys (e.g. ``reason``).
    :param diff: callable returning the diff payloads (default ``changes.diffs()``), for
        phases that redact more than the default.
    :param base: the keys the result carries when writing fails.
    :param what: what the phase was doing, for the failure message.
    """
    if changes.refused:
        errors = [{"path": r["path"], "kind": "outside_root", "message": r["message"]} for r in changes.refused]
        skip = ("msg", "errors", "blocked", "summary", "changed", "diff", "journal")
        extra = dict((k, v) for k, v in result.items() if k not in skip)
        blocked(module, phase, "%d change(s) would act outside the root through a symlink" % len(errors),
                errors, summary_rows=rows, details=(result.get("summary") or {}).get("details"), **extra)
    result["changed"] = bool(len(changes))
    summary = dict(result.get("summary") or {})
    summary.update(phase=phase, rows=rows, files=changes.summary(),
                   status=("would change" if module.check_mode else "changed") if len(changes) else "unchanged")
    if "details" not in summary:
        summary["details"] = result_sections(phase, result)
    decisions = result_decisions(phase, result)
    if decisions:
        summary["decisions"] = decisions
    result["summary"] = summary
    if module._diff and len(changes):
        result["diff"] = diff() if diff else changes.diffs()
    try:
        result["journal"] = apply_changes(module, phase, changes, root, backup_root)
    except (OSError, ConsolidationError) as exc:
        module.fail_json(msg="%s phase failed while %s (journal kept for rollback): %s" % (phase, what, exc),
                         exception=traceback.format_exc(), **base)
    module.exit_json(**result)
