# -*- coding: utf-8 -*-
"""Adversarial: outputs that are also inputs. A generated tree whose ``requirements/`` folder
already holds files with the layout's names (prod.txt including base.txt, dev.txt using a
constraints file, a kept script folder including frontend.txt, a Dockerfile copying base.txt):
check -> real -> second real run changed=0, the originals' requirement lines proven expressed in
both runs, the kept files meaning what they meant, rollback byte-identical."""

from __future__ import annotations

import os
import posixpath

import pytest

from ansible_collections.sutazai.consolidation.plugins.module_utils import _requirements as R
from helpers import full_warnings, run_playbook, snapshot, write_demo

TASK = "Merge the requirements files"
ORIGINALS = {
    "requirements/base.txt": "# platform base\nfastapi==0.115.6\npydantic>=2.5,<3\nrequests==2.32.3  # http\n",
    "requirements/backend.txt": "# backend\n-r base.txt\nsqlalchemy==2.0.36\nredis==5.2.1\n",
    "requirements/frontend.txt": "-r base.txt\nstreamlit==1.40.2\nredis==5.2.1\n",
    "requirements/dev.txt": "-r base.txt\n-c constraints.txt\npytest==8.3.4\nblack==24.10.0\n",
    "requirements/prod.txt": "# production only\n-r base.txt\ngunicorn==23.0.0\nuvicorn[standard]==0.32.1\n",
}
OTHERS = {
    "requirements/constraints.txt": "urllib3<3\n",
    "scripts/requirements.txt": "-r ../requirements/frontend.txt\nclick==8.1.7\n",
    "backend/requirements.txt": "fastapi==0.115.6\nhttpx==0.27.2\n",
    "backend/Dockerfile": "FROM python:3.11-slim\nCOPY requirements/base.txt /tmp/base.txt\nRUN pip install -r /tmp/base.txt\n",
}
KEPT = ["requirements/prod.txt", "scripts/requirements.txt"]


def _write_tree(root):
    for rel, text in sorted(dict(ORIGINALS, **OTHERS).items()):
        path = os.path.join(root, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write(text)


def _effective(root, rel):
    """What pip installs from ``rel``: requirements through its includes, constraints files by content."""
    reqs, others = R.requirements_meaning(R.read_source(root, rel)[0])
    out = set()
    for kind, key in others:
        if kind == "constraint" and key.startswith("path:"):
            out.add(("constraint", repr(sorted(R.requirements_meaning(R.read_source(root, key[5:])[0])[0].items()))))
        else:
            out.add((kind, key))
    return reqs, out


def _original_lines():
    return set("%s:%d" % (rel, e["line"]) for rel, text in ORIGINALS.items()
               for e in R.parse_text(text, rel) if e["kind"] == "req")


def _proven(result):
    return set(s.split(" ")[0] for p in result["proof"] if p["status"] in ("kept", "resolved") for s in p["sources"])


def test_layout_names_already_taken_reach_a_fixed_point(tmp_path):
    root = str(tmp_path / "root")
    _write_tree(root)
    original = snapshot(root)
    meaning = dict((rel, _effective(root, rel)) for rel in KEPT)
    kw = dict(backup_root=str(tmp_path / "backups"), report_dir=str(tmp_path / "reports"), tags="requirements")

    check = run_playbook("consolidate.yml", root, check=True, diff=True, **kw)
    assert check.rc == 0 and check.changed == 1, check.text()
    assert snapshot(root) == original

    real = run_playbook("consolidate.yml", root, **kw)
    assert real.rc == 0 and real.changed == 1, real.text()
    res = real.task(TASK)
    assert res["blocked"] is False and res["stats"]["lost"] == 0
    assert sorted(c["path"] for c in res["changes"]) == sorted(
        ["requirements/%s.txt" % g for g in R.DEFAULT_GROUPS] + KEPT
        + ["requirements/base.original.txt", "requirements/frontend.original.txt"])
    assert [o["path"] for o in res["overwritten"]] == ["requirements/base.txt", "requirements/backend.txt",
                                                       "requirements/frontend.txt", "requirements/dev.txt"]
    assert res["overwritten"][0]["dockerfile_references"] == ["backend/Dockerfile:2"]
    assert any(w.startswith("requirements/base.txt: an original file at a layout path") and "backend/Dockerfile:2" in w
               for w in full_warnings(res))
    assert [(r["path"], r["new"]) for r in res["rewritten_references"]] == [
        ("requirements/prod.txt", "-r base.original.txt"),
        ("scripts/requirements.txt", "-r ../requirements/frontend.original.txt")]
    # The originals were read once as sources: every requirement line of theirs is proven.
    assert _original_lines() <= _proven(res)
    # Files that stay mean what they meant (resolved through their includes and constraints).
    assert dict((rel, _effective(root, rel)) for rel in KEPT) == meaning
    with open(os.path.join(root, "requirements/base.txt")) as f:
        assert f.readline().startswith(R.HEADER_MARK)
    after_first = snapshot(root, skip=("backups", "reports"))

    assert run_playbook("consolidate.yml", root, check=True, **kw).changed == 0
    again = run_playbook("consolidate.yml", root, **kw)
    assert again.rc == 0 and again.changed == 0, again.text()
    res2 = again.task(TASK)
    assert res2["overwritten"] == [] and res2["stats"]["carried_over"] > 0 and res2["stats"]["lost"] == 0
    assert _original_lines() <= _proven(res2)
    assert snapshot(root, skip=("backups", "reports")) == after_first

    rb = run_playbook("rollback.yml", root, backup_root=kw["backup_root"])
    assert rb.rc == 0 and rb.changed == 1, rb.text()
    assert snapshot(root, skip=("backups", "reports")) == original


# The other phases whose outputs sit where inputs may already be: hand-made files at every path
# a phase would create on the demo. Each phase must reach a fixed point in one run (the second
# real run changes nothing) and rollback must restore the hand-made files.
HANDMADE = {".yaml": "# written by hand\nservices:\n  handmade:\n    port: 1234\n",
            ".json": '{"handmade": true, "agents": {}}\n'}


def _handmade(rel):
    if "Dockerfile" in rel:
        return "# handmade\nFROM debian:bookworm-slim\nRUN echo %s\n" % rel
    if posixpath.basename(rel).startswith(".env"):
        return "HANDMADE_KEY=handmade\n"
    return HANDMADE.get(posixpath.splitext(rel)[1], "handmade\n")


@pytest.mark.parametrize("tags, acting", [
    ("env", ()), ("services", ()), ("agents", ()), ("dockerfiles", ()),
    ("requirements", ("-e", "requirements_resolve=newest")),
])
def test_handmade_files_at_output_paths_reach_a_fixed_point(tmp_path, tags, acting):
    root = str(tmp_path / "root")
    write_demo(root)
    kw = dict(backup_root=str(tmp_path / "backups"), report_dir=str(tmp_path / "reports"), tags=tags)
    check = run_playbook("consolidate.yml", root, *acting, check=True, **kw)
    assert check.rc == 0, check.text()
    created = sorted(set(c["path"] for res in check.tasks.values() if isinstance(res.get("changes"), list)
                         for c in res["changes"] if c.get("action") == "create"))
    assert created, tags
    for rel in created:
        path = os.path.join(root, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write(_handmade(rel))
    original = snapshot(root)

    real = run_playbook("consolidate.yml", root, *acting, **kw)
    assert real.rc == 0 and real.changed >= 1, real.text()
    if tags == "env":  # .env.master is merged as a source: its hand-made key stays
        with open(os.path.join(root, ".env.master")) as f:
            assert "HANDMADE_KEY=handmade" in f.read()
    if tags == "dockerfiles":  # names already taken are never written over
        assert all(snapshot(root).get(rel) == original[rel] for rel in created)
    after_first = snapshot(root, skip=("backups", "reports"))
    again = run_playbook("consolidate.yml", root, *acting, **kw)
    assert again.rc == 0 and again.changed == 0, again.text()
    assert snapshot(root, skip=("backups", "reports")) == after_first

    rb = run_playbook("rollback.yml", root, backup_root=kw["backup_root"])
    assert rb.rc == 0, rb.text()
    assert snapshot(root, skip=("backups", "reports")) == original
