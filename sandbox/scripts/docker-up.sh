#!/usr/bin/env bash
# Make sure a Docker engine answers: install Debian's docker.io when there is no engine and
# we are root, start dockerd in the background when none answers, and wait for it.
# Also installs debootstrap, which the offline image build needs when no registry answers.
set -euo pipefail

log=${SANDBOX_DOCKERD_LOG:-/tmp/sandbox-dockerd.log}

apt_install() {
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -qq "$@" >/dev/null 2>&1 || { apt-get update -qq >/dev/null 2>&1; apt-get install -y -qq "$@" >/dev/null; }
}

if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  missing=()
  command -v dockerd >/dev/null 2>&1 || missing+=(docker.io)
  command -v debootstrap >/dev/null 2>&1 || missing+=(debootstrap)
  if [ ${#missing[@]} -gt 0 ]; then
    echo "docker-up: installing ${missing[*]} (Debian packages)"
    apt_install "${missing[@]}"
  fi
fi

if docker info >/dev/null 2>&1; then
  exit 0
fi

if ! command -v dockerd >/dev/null 2>&1; then
  echo "docker-up: no Docker engine. Install Docker Engine (https://docs.docker.com/engine/install/) and start it." >&2
  exit 2
fi
if [ "$(id -u)" != 0 ]; then
  echo "docker-up: Docker is installed but not running: start it with 'sudo systemctl start docker'." >&2
  exit 2
fi

echo "docker-up: starting dockerd (log: $log)"
setsid dockerd --storage-driver=overlay2 >"$log" 2>&1 < /dev/null &
for _ in $(seq 1 60); do
  if docker info >/dev/null 2>&1; then
    echo "docker-up: engine ready"
    exit 0
  fi
  sleep 1
done
echo "docker-up: dockerd did not answer within 60 s; see $log" >&2
exit 2
