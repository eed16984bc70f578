# -*- coding: utf-8 -*-
"""Adversarial: here-document bodies are data. term_scrub (through consolidate.yml) replaces a
mapped term in the real comments of a shell script and leaves every here-document body byte for
byte as it was, whatever the form of its delimiter (``<<\\EOF``, ``<<'EOF'``, ``<< "END"``,
``<<-EOT``, two on one line, one inside ``$(...)``), a here-string next to a comment included.
Check -> real -> idempotent, then rollback to the original bytes."""

from __future__ import annotations

import json
import os

from helpers import run_playbook, snapshot

TASK = "Report fantasy terms"
SCRIPT = "scripts/setup/configure-app.sh"
BODIES = [
    "# quantum mode\nmode = quantum\n",
    "# quantum b\n",
    "# quantum c\n",
    "\t# quantum d\n",
    "# quantum a\n",
    "\t# quantum b2\n",
    "# quantum inside a substitution\n",
]
TEXT = """#!/bin/bash
# quantum setup script
cat <<\\EOF > /etc/app.conf
{0}EOF
cat <<'EOF' > /etc/b.conf
{1}EOF
cat << "END" | tee /etc/c.conf
{2}END
if true; then
\tcat <<-EOT >> /etc/d.conf
{3}\tEOT
fi
paste <<A <<-'B' # quantum in a real comment after two openers
{4}A
{5}\tB
IFS=: read -r x y <<< "$pair" # quantum after a here-string
x=$(cat <<EOF
{6}EOF
)
echo "# quantum in a string" # quantum done
""".format(*BODIES)
REPLACED_COMMENTS = ["# quantum setup script", "# quantum in a real comment after two openers",
                     "# quantum after a here-string", "# quantum done"]


def _tree(root):
    path = os.path.join(root, *SCRIPT.split("/"))
    os.makedirs(os.path.dirname(path))
    with open(path, "wb") as f:
        f.write(TEXT.encode("utf-8"))
    return path


def test_term_scrub_never_edits_heredoc_bodies(tmp_path):
    root = str(tmp_path / "root")
    backups, reports = str(tmp_path / "backups"), str(tmp_path / "reports")
    path = _tree(root)
    original = snapshot(root)
    kw = dict(backup_root=backups, report_dir=reports, tags="terms")
    extra = ["-e", json.dumps({"terms_map": {"quantum": "theoretical"}})]

    check = run_playbook("consolidate.yml", root, *extra, check=True, **kw)
    assert check.rc == 0, check.text()
    result = check.task(TASK)
    assert result["changes"] == [{"path": SCRIPT, "action": "modify"}]
    replaced = [o for o in result["occurrences"] if o["action"] == "replace"]
    lines = TEXT.split("\n")
    assert [lines[o["line"] - 1][o["column"] - 3:].rstrip() for o in replaced] == REPLACED_COMMENTS
    assert all(o["kind"] == "comment" for o in result["occurrences"])
    assert snapshot(root) == original

    real = run_playbook("consolidate.yml", root, *extra, **kw)
    assert real.rc == 0, real.text()
    with open(path, "rb") as f:
        after = f.read().decode("utf-8")
    expected = TEXT
    for comment in REPLACED_COMMENTS:
        expected = expected.replace(comment, comment.replace("quantum", "theoretical"))
    assert after == expected
    for body in BODIES:  # byte-identical bodies (each one is unique in the file)
        assert after.count(body) == 1
    assert '"# quantum in a string"' in after

    again = run_playbook("consolidate.yml", root, *extra, **kw)
    assert again.rc == 0 and again.task(TASK)["changed"] is False, again.text()

    rollback = run_playbook("rollback.yml", root, backup_root=backups, report_dir=reports)
    assert rollback.rc == 0, rollback.text()
    assert snapshot(root) == original
