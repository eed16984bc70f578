#!/usr/bin/env bash
# Test bed: a real Docker engine and the base test image on a Debian bookworm machine.
#
# Idempotent and quiet unless it fails (GUIDE section 5):
#   1. apt installs docker.io and debootstrap when absent;
#   2. Compose v2 CLI plugin from Debian trixie's docker-compose package, fetched with a
#      temporary apt sources file derived from the machine's own (trixie is never added to
#      the system's sources);
#   3. dockerd is started in the background when `docker info` does not answer;
#   4. the base image (debootstrap minbase + python3 + venv, `docker import`) is built
#      when it does not exist.
# Environment: SUTAZAI_TESTBED_IMAGE (default sutazai-testbed-base:bookworm),
#              SUTAZAI_TESTBED_LOG (default /tmp/sutazai-testbed.log).
# Exit status: 0 when the engine answers and the image exists, non-zero otherwise,
# with the log tail on stderr.
set -euo pipefail

IMAGE="${SUTAZAI_TESTBED_IMAGE:-sutazai-testbed-base:bookworm}"
LOG="${SUTAZAI_TESTBED_LOG:-/tmp/sutazai-testbed.log}"
PLUGIN_DIR=/usr/local/lib/docker/cli-plugins
: >"$LOG"

fail() {
  echo "setup-docker: $*" >&2
  echo "--- last lines of $LOG ---" >&2
  tail -n 40 "$LOG" >&2 || true
  exit 1
}
run() { "$@" >>"$LOG" 2>&1 || fail "command failed: $*"; }

[ "$(id -u)" = 0 ] || fail "must run as root (apt, dockerd, debootstrap)"

# Debian mirror of this machine (first URIs: line of a deb822 file, else sources.list).
mirror() {
  local m
  m=$(grep -h -m1 -E '^URIs:' /etc/apt/sources.list.d/*.sources 2>/dev/null | grep -v security | head -n1 | awk '{print $2}') || true
  if [ -z "$m" ] && [ -f /etc/apt/sources.list ]; then
    m=$(awk '/^deb /{print $2; exit}' /etc/apt/sources.list)
  fi
  echo "${m:-http://deb.debian.org/debian}"
}
MIRROR=$(mirror)

# 1. Packages.
need=()
command -v dockerd >/dev/null 2>&1 || need+=(docker.io)
command -v debootstrap >/dev/null 2>&1 || need+=(debootstrap)
if [ ${#need[@]} -gt 0 ]; then
  run apt-get update -q
  DEBIAN_FRONTEND=noninteractive run apt-get install -y -q --no-install-recommends "${need[@]}" ca-certificates iptables
fi

# 2. Compose v2 plugin from trixie, never touching the system's sources.
if ! docker compose version >/dev/null 2>&1; then
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  mkdir -p "$tmp/lists/partial" "$tmp/archives/partial"
  printf 'Types: deb\nURIs: %s\nSuites: trixie\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' "$MIRROR" >"$tmp/trixie.sources"
  opts=(-o "Dir::Etc::SourceList=$tmp/trixie.sources" -o Dir::Etc::SourceParts=/dev/null
        -o "Dir::State::Lists=$tmp/lists" -o "Dir::Cache::Archives=$tmp/archives")
  run apt-get "${opts[@]}" update -q
  (cd "$tmp" && apt-get "${opts[@]}" download docker-compose >>"$LOG" 2>&1) || fail "apt-get download docker-compose (trixie) failed"
  debs=("$tmp"/docker-compose_*.deb)
  [ -f "${debs[0]}" ] || fail "no docker-compose package downloaded"
  run dpkg -x "${debs[0]}" "$tmp/x"
  mkdir -p "$PLUGIN_DIR"
  install -m 0755 "$tmp/x/usr/libexec/docker/cli-plugins/docker-compose" "$PLUGIN_DIR/docker-compose"
  docker compose version >>"$LOG" 2>&1 || fail "docker compose plugin does not run"
fi

# 3. Engine.
if ! docker info >/dev/null 2>&1; then
  # setsid: its own session, so it outlives the shell (or CI step) that started it.
  setsid nohup dockerd >>/var/log/sutazai-dockerd.log 2>&1 </dev/null &
  for _ in $(seq 1 60); do
    docker info >/dev/null 2>&1 && break
    sleep 1
  done
  docker info >/dev/null 2>&1 || { tail -n 30 /var/log/sutazai-dockerd.log >>"$LOG" 2>/dev/null; fail "dockerd did not answer within 60 s (log: /var/log/sutazai-dockerd.log)"; }
fi

# 4. Base image.
if ! docker image inspect "$IMAGE" >/dev/null 2>&1; then
  root=$(mktemp -d /var/tmp/sutazai-rootfs.XXXXXX)
  run debootstrap --variant=minbase --include=python3,python3-venv,python3-pip,ca-certificates \
    bookworm "$root" "$MIRROR"
  rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*
  cp /etc/apt/sources.list.d/debian.sources "$root/etc/apt/sources.list.d/" 2>/dev/null || true
  tar -C "$root" -c . | docker import -c 'CMD ["sleep", "infinity"]' - "$IMAGE" >>"$LOG" 2>&1 || fail "docker import failed"
  rm -rf "$root"
fi
docker image inspect "$IMAGE" >/dev/null 2>&1 || fail "image $IMAGE missing"
