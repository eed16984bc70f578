# -*- coding: utf-8 -*-
# Copyright (c) 2026 sutazai.consolidation contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Diff payloads for Ansible's ``--diff`` with secret values redacted.

A payload is the dict Ansible's callback renders: ``before``, ``after``, ``before_header``,
``after_header``. Modules build payloads only when ``module._diff`` is true.

Both texts go through ``_redaction`` (the rules are described there): the secrets the texts
themselves hold, the secrets of the whole tree of the running phase module
(``_redaction.tree_secrets``) and the ``secrets`` a caller adds are replaced by
``<redacted sha256:XXXXXXXX>`` wherever they occur, so a value a later step moves is not
shown by an earlier one.
"""

from __future__ import annotations

from ansible_collections.sutazai.consolidation.plugins.module_utils._redaction import (
    Redactor,
    secrets_in_text,
    tree_secrets,
)


def payloads(items, secrets=()):
    """Return the diff dicts of several files redacted together.

    :param items: iterable of ``(rel, before, after)``: old and new text (str), None when the
        file is absent before or after.
    :param secrets: more known secret values (iterable of str).
    Every secret found in any of the texts is redacted in all of them.
    """
    items = list(items)
    known = set(secrets or ()) | set(tree_secrets())
    for rel, before, after in items:
        known |= secrets_in_text(before or "", rel)
        known |= secrets_in_text(after or "", rel)
    redactor = Redactor(known)
    out = []
    for rel, before, after in items:
        out.append({
            "before_header": "%s (%s)" % (rel, "absent" if before is None else "before"),
            "after_header": "%s (%s)" % (rel, "absent" if after is None else "after"),
            "before": redactor.text(before or "", rel),
            "after": redactor.text(after or "", rel),
        })
    return out


def diff_payload(rel, before, after, secrets=()):
    """Return the Ansible diff dict for the file ``rel`` (str).

    :param before: old text (str) or None when the file does not exist.
    :param after: new text (str) or None when the file is removed.
    :param secrets: known secret values (iterable of str) to redact under any key, in
        addition to those of the texts and of the tree (see :func:`payloads`).
    """
    return payloads([(rel, before, after)], secrets)[0]
