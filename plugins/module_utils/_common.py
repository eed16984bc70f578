# -*- coding: utf-8 -*-
# Copyright (c) 2026 sutazai.consolidation contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Options and behaviour shared by every phase module (see the ``sutazai.consolidation.phase``
documentation fragment): the root, backup root, report folder, run id and the
"cannot proceed safely" rule (``strict``)."""

from __future__ import annotations

import os
import traceback

from ansible_collections.sutazai.consolidation.plugins.module_utils._errors import ConsolidationError
from ansible_collections.sutazai.consolidation.plugins.module_utils._journal import Journal

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
    """Fail the module when ``root`` is not a directory."""
    if not os.path.isdir(root):
        module.fail_json(msg="root %s is not a directory" % root)


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

    :returns: the journal's manifest path, or None when nothing was written.
    """
    if module.check_mode or not len(changes):
        return None
    run_id = module.params.get("run_id")
    if not run_id:
        module.fail_json(msg="run_id is required to make changes (it names the journal folder)")
    journal = Journal(root, backup_root, run_id, phase)
    changes.apply(journal)
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
    result["changed"] = bool(len(changes))
    summary = dict(result.get("summary") or {})
    summary.update(phase=phase, rows=rows,
                   status=("would change" if module.check_mode else "changed") if len(changes) else "unchanged")
    result["summary"] = summary
    if module._diff and len(changes):
        result["diff"] = diff() if diff else changes.diffs()
    try:
        result["journal"] = apply_changes(module, phase, changes, root, backup_root)
    except (OSError, ConsolidationError) as exc:
        module.fail_json(msg="%s phase failed while %s (journal kept for rollback): %s" % (phase, what, exc),
                         exception=traceback.format_exc(), **base)
    module.exit_json(**result)
