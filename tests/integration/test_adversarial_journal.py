# -*- coding: utf-8 -*-
"""Adversarial tests of the foundation, whole play on generated demo trees: writes outside the
root through symlinked folders, two runs at once, kill -9 at journal steps, backup folder
modes, tampered manifests. Figures: ``tests/bench/adversarial_figures.py``."""

from __future__ import annotations

import json
import os
import stat

import adversarial
import pytest
from helpers import run_playbook, snapshot

# Folders the whole play writes into on the demo, each replaced in turn by a symlink leading
# out of the root: every top-level folder it writes into and the output folders deeper down.
FOLDERS = [".github", "_archive", "_archive/scripts", "agents", "agents/core", "backend", "config",
           "config/agents", "config/archive", "config/services", "docker", "docker/templates", "docs",
           "monitoring", "requirements", "scripts", "scripts/deployment"]


# Folders the run creates files in: linked out, their phase must refuse (in check mode too).
# The others hold only files the run edits in place; linked out, their files are not read
# (the walker never follows a link out of the root), so nothing is planned there at all.
OUTPUT_FOLDERS = {"_archive", "_archive/scripts", "agents", "agents/core", "backend", "config", "config/agents",
                  "config/archive", "config/services", "docker/templates", "requirements"}


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    return adversarial.reference_run(str(tmp_path_factory.mktemp("reference")))


def test_the_folder_list_covers_every_top_level_folder_written(reference):
    written = adversarial.written_folders(reference)
    assert set(f.split("/")[0] for f in written) <= set(FOLDERS)
    for folder in ("config/services", "agents/core", "docker/templates", "config/archive", "_archive/scripts"):
        assert folder in written


@pytest.mark.parametrize("folder", FOLDERS)
def test_no_write_outside_through_a_symlinked_folder(tmp_path, folder):
    figures = adversarial.containment(str(tmp_path), folder)
    assert figures["outside_changes"] == {"check": 0, "real": 0, "rollback": 0}, figures
    assert figures["rc"]["check"] == 0 and figures["rc"]["real"] == 0, figures
    assert figures["blocked_check"] == figures["blocked_real"], figures
    if folder in OUTPUT_FOLDERS:
        assert figures["blocked_check"], figures
        assert any(folder + " is a symlink to" in m for m in figures["refusals"]), figures
    assert figures["rc"]["rollback"] == 0 and figures["rollback_identical"], figures


def test_two_runs_together_one_refused_before_any_change(tmp_path):
    figures = adversarial.two_runs(str(tmp_path))
    assert sorted(figures["rc"]) == [0, 2], figures
    assert figures["refused"] == 1 and "locked by run" in figures["refused_message"], figures
    assert figures["journals"] == 1, figures
    assert figures["second_run_changed"] == 0, figures
    assert figures["rollback_rc"] == 0 and figures["rollback_identical"], figures


@pytest.fixture(scope="module")
def total_steps(tmp_path_factory):
    return adversarial.count_steps(str(tmp_path_factory.mktemp("count")))


def test_enough_kill_points(total_steps):
    assert len(adversarial.kill_points(total_steps)) >= 25


@pytest.mark.parametrize("index", range(26))
def test_kill_at_a_journal_step_then_rollback_without_force(tmp_path, total_steps, index):
    points = adversarial.kill_points(total_steps)
    if index >= len(points):
        pytest.skip("only %d fault points" % len(points))
    figures = adversarial.kill_at(str(tmp_path), points[index])
    assert figures["killed"], figures
    assert figures["refused_next_run"], figures
    assert figures["rollback_rc"] == 0, figures
    assert figures["identical"] and figures["stray_temp"] == [] and not figures["lock_left"], figures


def test_rollback_waits_for_a_module_that_outlived_ansible_playbook(tmp_path, total_steps):
    figures = adversarial.kill_at(str(tmp_path), total_steps // 3, group_only=True)
    assert figures["killed"] and figures["refused_while_alive"], figures
    assert "still run" in figures["alive_msg"], figures
    assert figures["rollback_rc"] == 0 and figures["identical"] and not figures["lock_left"], figures


def test_next_run_names_the_interrupted_run_and_accepting_it_works(tmp_path, total_steps):
    figures = adversarial.kill_at(str(tmp_path), total_steps // 2, rollback=False)
    assert figures["killed"], figures
    root, backups, reports = (os.path.join(str(tmp_path), n) for n in ("root", "backups", "reports"))
    refused = run_playbook("consolidate.yml", root, backup_root=backups, report_dir=reports)
    msg = refused.task("Take the run lock")["msg"]
    assert refused.rc == 2 and "whose process is gone" in msg and "sutazai_break_lock=true" in msg
    broken = run_playbook("consolidate.yml", root, "-e", "sutazai_break_lock=true", backup_root=backups,
                          report_dir=reports, check=True)
    msg = broken.task("Take the run lock")["msg"]
    assert broken.rc == 2 and "interrupted and are incomplete" in msg and "sutazai.consolidation.rollback" in msg, figures
    accepted = run_playbook("consolidate.yml", root, *adversarial.FULL, "-e", "sutazai_break_lock=true",
                            "-e", "sutazai_accept_incomplete=true", backup_root=backups, report_dir=reports)
    assert accepted.rc == 0, accepted.text()[-2000:]
    assert not [rel for rel in snapshot(root) if ".sutazai-tmp." in rel]


def test_backup_root_mode_kept_run_folder_and_copies_private(tmp_path):
    root, backups, reports = adversarial.demo(str(tmp_path))
    os.makedirs(backups)
    os.chmod(backups, 0o1777)
    run = run_playbook("consolidate.yml", root, *adversarial.FULL, backup_root=backups, report_dir=reports)
    assert run.rc == 0
    assert stat.S_IMODE(os.stat(backups).st_mode) == 0o1777
    (run_dir,) = [os.path.join(backups, n) for n in os.listdir(backups)]
    assert stat.S_IMODE(os.stat(run_dir).st_mode) == 0o700
    modes = set()
    for d, dirs, files in os.walk(os.path.join(run_dir, "files")):
        modes.update(stat.S_IMODE(os.stat(os.path.join(d, n)).st_mode) for n in files)
        assert stat.S_IMODE(os.stat(d).st_mode) == 0o700
    assert modes == {0o600}


def test_tampered_manifest_is_refused_and_blocks_only_its_run(tmp_path):
    root, backups, reports = adversarial.demo(str(tmp_path))
    assert run_playbook("consolidate.yml", root, backup_root=backups, report_dir=reports, tags="agents").rc == 0
    after_agents = snapshot(root)
    assert run_playbook("consolidate.yml", root, backup_root=backups, report_dir=reports, tags="env").rc == 0
    first, second = adversarial.manifests(backups)
    path = os.path.join(backups, second["run_id"], "manifest.json")
    second["entries"][0]["backup"] = "files/../../../../etc/passwd"
    with open(path, "w") as f:
        json.dump(second, f)
    named = run_playbook("rollback.yml", root, "-e", "sutazai_run_id=%s" % second["run_id"], backup_root=backups)
    msg = named.task("Restore the run")["msg"]
    assert named.rc == 2 and "tampered or corrupt journal" in msg and "manifest.json" in msg and "entry 1" in msg
    with open(path, "w") as f:
        f.write("{broken")
    named = run_playbook("rollback.yml", root, "-e", "sutazai_run_id=%s" % second["run_id"], backup_root=backups)
    assert named.rc == 2 and "corrupt journal" in named.task("Restore the run")["msg"]
    # The corrupt run blocks only itself: the default rollback takes the latest valid run and
    # names the corrupt one in a warning; the env run's files stay as they are.
    env_state = snapshot(root)
    default = run_playbook("rollback.yml", root, "-e", "sutazai_rollback_force=true", backup_root=backups)
    result = default.task("Restore the run")
    assert default.rc == 0 and result["run_id"] == first["run_id"]
    assert second["run_id"] in " ".join(result.get("warnings", []))
    assert snapshot(root) != env_state and snapshot(root) != after_agents


def test_rollback_with_nothing_left_says_so(tmp_path):
    root, backups, reports = adversarial.demo(str(tmp_path))
    assert run_playbook("consolidate.yml", root, backup_root=backups, report_dir=reports, tags="agents").rc == 0
    assert run_playbook("rollback.yml", root, backup_root=backups).rc == 0
    done = run_playbook("rollback.yml", root, backup_root=backups)
    msg = done.task("Show what was restored")["msg"]
    assert done.rc == 0 and msg == "nothing to roll back under %s: every run is rolled back" % backups
