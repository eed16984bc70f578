"""The collection as a new user meets it: the built tarball installed into a fresh virtualenv
outside the checkout, playbooks run by FQCN from an unrelated folder with an inventory of the
user's own (group_vars set the root), without the checkout's ansible.cfg, against a target whose
interpreter is the machine's system Python (no library of the modules installed there).

Needs network access to PyPI (ansible-core for the fresh controller virtualenv, the modules'
libraries for the collection's virtualenv on the target) or a pip configuration that finds them.
"""

from __future__ import annotations

import glob
import os
import re
import shlex
import shutil
import subprocess
import sys

import pytest

from helpers import BIN, REPO, snapshot, write_demo

SYSTEM_PYTHON = "/usr/bin/python3"


def _ansible_core_version():
    out = subprocess.run([sys.executable, "-m", "pip", "show", "ansible-core"], capture_output=True, text=True, check=True)
    return re.search(r"^Version: (\S+)", out.stdout, re.M).group(1)


def _clean_environ(home, **extra):
    """The caller's environment without any ANSIBLE_* setting (nothing from the checkout), with
    ``home`` as HOME (no ~/.ansible of this machine); pip keeps the machine's download cache."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ANSIBLE_", "MOLECULE_", "PY_COLORS"))}
    env.update(ANSIBLE_NOCOLOR="1", HOME=str(home), PIP_CACHE_DIR=os.path.expanduser("~/.cache/pip"), **extra)
    return env


def _summary_lines(stdout):
    """The lines the default callback printed for the 'Show the run summary' task."""
    start = stdout.index("TASK [sutazai.consolidation.report : Show the run summary]")
    body = stdout[start:]
    end = body.index("\nTASK [", 10)
    return body[:end].splitlines()


@pytest.fixture(scope="module")
def user(tmp_path_factory):
    """A user's machine: fresh controller virtualenv with ansible-core and the installed tarball,
    an unrelated working folder with an inventory, and the demo platform as their tree."""
    if not os.access(SYSTEM_PYTHON, os.X_OK):
        pytest.skip("no system Python at %s" % SYSTEM_PYTHON)
    home = tmp_path_factory.mktemp("user")
    (home / "home").mkdir()
    dist = home / "dist"
    subprocess.run([os.path.join(BIN, "ansible-galaxy"), "collection", "build", "--output-path", str(dist), REPO],
                   check=True, capture_output=True, cwd=str(home))
    tarball = glob.glob(str(dist / "sutazai-consolidation-*.tar.gz"))
    assert len(tarball) == 1, tarball
    venv = home / "venv"
    subprocess.run([SYSTEM_PYTHON, "-m", "venv", str(venv)], check=True)
    subprocess.run([str(venv / "bin" / "pip"), "install", "-q", "ansible-core==%s" % _ansible_core_version()],
                   check=True, capture_output=True, env=_clean_environ(home / "home"))
    collections = home / "collections"
    subprocess.run([str(venv / "bin" / "ansible-galaxy"), "collection", "install", "-p", str(collections), tarball[0]],
                   check=True, capture_output=True, cwd=str(home), env=_clean_environ(home / "home"))
    work = home / "work"
    root, backups, reports = home / "platform" / "sutazaiapp", home / "platform-backups", home / "platform-reports"
    write_demo(str(root))
    (work / "inventory" / "group_vars").mkdir(parents=True)
    (work / "inventory" / "hosts.ini").write_text(
        "[platform]\nlocalhost ansible_connection=local ansible_python_interpreter=%s\n" % SYSTEM_PYTHON)
    (work / "inventory" / "group_vars" / "all.yml").write_text(
        "sutazai_root: %s\nsutazai_backup_root: %s\nsutazai_report_dir: %s\npreflight_venv: %s\n"
        % (root, backups, reports, home / "target-venv"))
    env = _clean_environ(home / "home", ANSIBLE_COLLECTIONS_PATH=str(collections),
                         PATH=str(venv / "bin") + os.pathsep + os.environ.get("PATH", ""))
    assert not (work / "ansible.cfg").exists()
    return dict(home=home, work=work, root=root, env=env, venv=venv, target_venv=home / "target-venv")


def _run(user, argv):
    return subprocess.run(argv, cwd=str(user["work"]), env=user["env"], capture_output=True, text=True, check=False)


def test_check_then_real_then_pasted_rollback(user):
    root = str(user["root"])
    before = snapshot(root)
    # The installed collection, not the checkout, answers.
    listed = _run(user, ["ansible-galaxy", "collection", "list", "sutazai.consolidation"])
    assert str(user["home"] / "collections") in listed.stdout, listed.stdout + listed.stderr

    check = _run(user, ["ansible-playbook", "-i", "inventory/hosts.ini", "sutazai.consolidation.consolidate",
                        "--check", "--diff"])
    assert check.returncode == 0, check.stdout[-6000:] + check.stderr[-3000:]
    assert snapshot(root) == before, "the check run changed the tree"
    # The target's system Python had none of the libraries: preflight made the collection's virtualenv.
    assert (user["target_venv"] / "bin" / "python").exists()
    lines = _summary_lines(check.stdout)
    assert not [line for line in lines if "\\n" in line], "escaped newlines in the summary"
    table = [line for line in lines if " | " in line]
    assert len(table) > 20
    assert max(len(line) for line in table) <= 120, max(table, key=len)
    assert "Nothing was written (check mode). To make these changes:" in check.stdout
    assert "sutazai.consolidation.consolidate -e sutazai_root=%s" % root in check.stdout

    real = _run(user, ["ansible-playbook", "-i", "inventory/hosts.ini", "sutazai.consolidation.consolidate"])
    assert real.returncode == 0, real.stdout[-6000:] + real.stderr[-3000:]
    assert snapshot(root) != before
    lines = [line.strip().strip('",').strip() for line in _summary_lines(real.stdout)]
    report = [line for line in lines if line.startswith("Report: ")]
    journal = [line for line in lines if line.startswith("Journal: ")]
    assert len(report) == 1 and len(journal) == 1, lines[-12:]
    for path in report[0][len("Report: "):].split(", "):
        assert os.path.isfile(path), path
    assert os.path.isdir(journal[0][len("Journal: "):])
    command = lines[lines.index("Roll back this run:") + 1]
    assert command.startswith("ansible-playbook -i ") and "sutazai.consolidation.rollback" in command, command

    rollback = _run(user, shlex.split(command))
    assert rollback.returncode == 0, rollback.stdout[-6000:] + rollback.stderr[-3000:]
    assert snapshot(root) == before, "the pasted rollback command did not restore the tree byte-identical"


def test_check_refuses_to_install_when_told_so_and_names_the_way(user, tmp_path):
    venv = tmp_path / "other-venv"
    run = _run(user, ["ansible-playbook", "-i", "inventory/hosts.ini", "sutazai.consolidation.consolidate", "--check",
                      "-e", "preflight_install_in_check_mode=false", "-e", "preflight_venv=%s" % venv])
    assert run.returncode == 2, run.stdout[-3000:]
    assert "preflight_install_in_check_mode is false" in run.stdout
    assert "sutazai.consolidation.install" in run.stdout
    assert not venv.exists()
    install = _run(user, ["ansible-playbook", "-i", "inventory/hosts.ini", "sutazai.consolidation.install",
                          "-e", "preflight_venv=%s" % venv])
    assert install.returncode == 0, install.stdout[-3000:]
    assert (venv / "bin" / "python").exists()
    shutil.rmtree(venv)
