# -*- coding: utf-8 -*-
"""Test-bed service containers: PostgreSQL, Redis and an HTTP health service.

Images are built FROM the test-bed base image (``tests/testbed/setup-docker.sh``) with Debian's
packages, from ``tests/testbed/images/<name>/``. A build is skipped when an image with the
same content hash label exists; the hash covers the base image id and every file of the
build folder, so editing a Dockerfile or rebuilding the base image rebuilds it.

Containers publish their ports on 127.0.0.1 only, on free ports Docker picks
(``-p 127.0.0.1::<port>``); passwords reach ``docker run`` through its environment
(``-e KEY`` without a value), never its argv. Every container carries the label
``org.sutazai.testbed=1`` and is removed by :meth:`Service.stop`.

Command line (used by CI to build ahead of the tests, prints the build times)::

    python3 tests/testbed/services.py build [postgres redis http]
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import time
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
IMAGES_DIR = os.path.join(HERE, "images")
BASE_IMAGE = os.environ.get("SUTAZAI_TESTBED_IMAGE", "sutazai-testbed-base:bookworm")
HASH_LABEL = "org.sutazai.testbed.hash"
CONTAINER_LABEL = "org.sutazai.testbed"
NAMES = ("postgres", "redis", "http")
READY_LINE = "SUTAZAI-TESTBED-READY"


class TestbedError(RuntimeError):
    """A docker command of the test bed failed (message holds the command and its stderr)."""


def _docker(*args, env=None, timeout=900, check=True):
    proc = subprocess.run(["docker"] + list(args), capture_output=True, text=True, env=env, timeout=timeout, check=False)
    if check and proc.returncode != 0:
        raise TestbedError("docker %s failed (rc=%d): %s" % (" ".join(args[:3]), proc.returncode,
                                                             (proc.stderr or proc.stdout).strip()[-2000:]))
    return proc


def engine_problem():
    """Return None when a Docker engine answers, else the reason (str) it is not usable."""
    if shutil.which("docker") is None:
        return "no docker CLI on PATH (run tests/testbed/setup-docker.sh)"
    try:
        proc = _docker("info", "--format", "{{.ServerVersion}}", timeout=30, check=False)
    except subprocess.TimeoutExpired:
        return "`docker info` did not answer within 30 s"
    if proc.returncode != 0 or not proc.stdout.strip():
        return "no Docker engine answers `docker info` (run tests/testbed/setup-docker.sh): %s" % (
            proc.stderr.strip().splitlines() or ["?"])[-1]
    return None


def image_tag(name):
    return "sutazai-testbed-%s:bookworm" % name


def context_hash(name):
    """sha256 over the base image id and every file (path and bytes) of the build folder."""
    base = _docker("image", "inspect", "--format", "{{.Id}}", BASE_IMAGE, timeout=60).stdout.strip()
    h = hashlib.sha256(base.encode("utf-8"))
    folder = os.path.join(IMAGES_DIR, name)
    for d, dirs, files in sorted(os.walk(folder)):
        dirs.sort()
        for f in sorted(files):
            p = os.path.join(d, f)
            h.update(os.path.relpath(p, folder).encode("utf-8") + b"\0")
            with open(p, "rb") as fh:
                h.update(fh.read() + b"\0")
    return h.hexdigest()


def build(name):
    """Build ``image_tag(name)`` unless an image with the same hash label exists.

    :returns: ``(tag, built, seconds)`` -- ``built`` False when the image was up to date.
    :raises TestbedError: when the base image is missing or the build fails.
    """
    tag = image_tag(name)
    want = context_hash(name)
    have = _docker("image", "inspect", "--format", '{{ index .Config.Labels "%s" }}' % HASH_LABEL, tag,
                   timeout=60, check=False)
    if have.returncode == 0 and have.stdout.strip() == want:
        return tag, False, 0.0
    start = time.monotonic()
    _docker("build", "-q", "--label", "%s=%s" % (HASH_LABEL, want), "-t", tag, os.path.join(IMAGES_DIR, name))
    return tag, True, time.monotonic() - start


class Service(object):
    """A running test-bed container: ``name``, ``container`` id, ``host`` (127.0.0.1) and
    ``ports`` (container port -> published host port, ints)."""

    def __init__(self, name, container, ports):
        self.name = name
        self.container = container
        self.host = "127.0.0.1"
        self.ports = ports

    def port(self, container_port):
        return self.ports[container_port]

    def logs(self):
        proc = _docker("logs", self.container, timeout=60, check=False)
        return proc.stdout + proc.stderr

    def stop(self):
        _docker("rm", "-f", "-v", self.container, timeout=120, check=False)


def start(name, ports, env=None, ready_timeout=90):
    """Run ``image_tag(name)`` detached, publish ``ports`` (container ports, ints) on 127.0.0.1,
    pass ``env`` (dict) through the docker CLI's environment, and wait for its ready line.

    :returns: a :class:`Service`; the container is removed again when it does not get ready.
    :raises TestbedError: when it fails to start or to get ready within ``ready_timeout`` s.
    """
    env = env or {}
    cname = "sutazai-testbed-%s-%s" % (name, uuid.uuid4().hex[:8])
    args = ["run", "-d", "--name", cname, "--label", "%s=1" % CONTAINER_LABEL]
    for p in ports:
        args += ["-p", "127.0.0.1::%d" % p]
    for key in sorted(env):
        args += ["-e", key]
    args.append(image_tag(name))
    run_env = dict(os.environ)
    run_env.update(env)
    container = _docker(*args, env=run_env, timeout=120).stdout.strip()
    svc = Service(name, container, {})
    try:
        for p in ports:
            out = _docker("port", container, "%d/tcp" % p, timeout=60).stdout.strip().splitlines()
            svc.ports[p] = int([o for o in out if o.startswith("127.0.0.1:")][0].rsplit(":", 1)[1])
        deadline = time.monotonic() + ready_timeout
        while READY_LINE not in svc.logs():
            state = _docker("inspect", "--format", "{{.State.Running}}", container, timeout=60).stdout.strip()
            if state != "true":
                raise TestbedError("%s container exited before it was ready: %s" % (name, svc.logs()[-2000:]))
            if time.monotonic() > deadline:
                raise TestbedError("%s container not ready within %d s: %s" % (name, ready_timeout, svc.logs()[-2000:]))
            time.sleep(0.2)
    except BaseException:
        svc.stop()
        raise
    return svc


def main(argv):
    if len(argv) < 1 or argv[0] != "build":
        sys.stderr.write("usage: services.py build [%s]\n" % " ".join(NAMES))
        return 2
    problem = engine_problem()
    if problem:
        sys.stderr.write("services.py: %s\n" % problem)
        return 1
    for name in argv[1:] or NAMES:
        tag, built, seconds = build(name)
        print("%s: %s" % (tag, "built in %.1f s" % seconds if built else "up to date"))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
