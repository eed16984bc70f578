# -*- coding: utf-8 -*-
"""Issue 3 acceptance on a copy of the real corpus: the configuration phases
(``--tags env,services,config,requirements``) in check mode leave the tree byte-identical;
with the defaults the unsafe phases are blocked and change nothing; with the corpus'
invalid files skipped (``*_on_invalid=warn``) and ``requirements_resolve=newest`` a real run
changes the tree, a second run has ``changed=0``, and ``rollback.yml`` restores it
byte-identical. Skipped when the shared corpus is absent.
"""

from __future__ import annotations

import os

import pytest

from helpers import CORPUS, copy_corpus, run_playbook, snapshot

TAGS = "env,services,config,requirements"
ACTING = ("-e", "env_on_invalid=warn", "-e", "services_on_invalid=warn", "-e", "requirements_resolve=newest")

pytestmark = pytest.mark.skipif(not os.path.isdir(CORPUS), reason="shared corpus not present: %s" % CORPUS)


@pytest.fixture
def corpus(tmp_path):
    root = str(tmp_path / "root")
    copy_corpus(root)
    return root, dict(backup_root=str(tmp_path / "backups"), report_dir=str(tmp_path / "reports"))


def test_check_mode_is_byte_identical(corpus):
    root, kw = corpus
    original = snapshot(root)
    for extra in ((), ACTING):
        res = run_playbook("consolidate.yml", root, *extra, check=True, diff=True, tags=TAGS, **kw)
        assert res.rc == 0, res.text()
        assert snapshot(root) == original
        assert not os.path.exists(kw["backup_root"]) and not os.path.exists(kw["report_dir"])


def test_defaults_block_unsafe_phases_and_change_nothing(corpus):
    root, kw = corpus
    original = snapshot(root)
    res = run_playbook("consolidate.yml", root, tags=TAGS, **kw)
    assert res.rc == 0, res.text()
    assert res.task("Replace literal secrets")["blocked"] is True
    req = res.task("Merge the requirements files")
    assert req["blocked"] is True and len(req["conflicts"]) > 0
    assert not os.path.exists(os.path.join(root, "requirements", "base.txt"))
    # services and config act on their own (nothing of theirs is unsafe on the corpus), so
    # only the files of the blocked phases are compared here.
    after = snapshot(root, skip=("backups", "reports"))
    for rel, state in original.items():
        if rel.startswith(("requirements/", "docker/")) or rel.endswith((".txt", ".env")):
            assert after.get(rel) == state, rel


def test_real_idempotent_rollback(corpus):
    root, kw = corpus
    original = snapshot(root)
    real = run_playbook("consolidate.yml", root, *ACTING, tags=TAGS, **kw)
    assert real.rc == 0, real.text()
    assert real.changed >= 3, real.text()
    assert os.path.isfile(os.path.join(root, "requirements", "base.txt"))
    assert os.path.isfile(os.path.join(root, "config", "services", "master_registry.yaml"))
    assert os.path.islink(os.path.join(root, "docker", ".env"))
    after_first = snapshot(root)

    again = run_playbook("consolidate.yml", root, *ACTING, tags=TAGS, **kw)
    assert again.rc == 0 and again.changed == 0, again.text()
    assert snapshot(root) == after_first

    rb = run_playbook("rollback.yml", root, backup_root=kw["backup_root"])
    assert rb.rc == 0, rb.text()
    assert snapshot(root) == original
