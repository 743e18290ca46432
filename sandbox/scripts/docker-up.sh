#!/usr/bin/env bash
# Make sure a Docker engine answers: install Debian's docker.io when there is no engine and
# we are root, start dockerd in the background when none answers, and wait for it.
# Also installs debootstrap, which the offline image build needs when no registry answers,
# and crun, the OCI runtime an engine this script starts uses when the host's cgroups allow
# it (~0.02-0.03 CPU-s less per container than runc; benchmarks/bench_sandbox_lifecycle.py cpu).
# An engine that already runs is never reconfigured nor restarted.
#
# SANDBOX_DOCKERD_CONFIG: the daemon.json to merge the runtime into (default /etc/docker/daemon.json);
# SANDBOX_DOCKER_UP_CONFIG_ONLY=1: only merge it, start nothing (SANDBOX_CRUN and
# SANDBOX_CGROUP_ROOT stand in for crun's path and /sys/fs/cgroup in tests).
set -euo pipefail

log=${SANDBOX_DOCKERD_LOG:-/tmp/sandbox-dockerd.log}
config=${SANDBOX_DOCKERD_CONFIG:-/etc/docker/daemon.json}
cgroup_root=${SANDBOX_CGROUP_ROOT:-/sys/fs/cgroup}

crun_usable() {
  # crun 1.8 refuses a hybrid cgroup layout whose v2 hierarchy holds controllers
  # ("cgroups in hybrid mode not supported"); pure v1 and pure v2 are fine.
  local crun=$1
  [ -x "$crun" ] || return 1
  if [ "$(stat -fc %T "$cgroup_root" 2>/dev/null)" != cgroup2fs ] \
     && [ -n "$(cat "$cgroup_root/unified/cgroup.controllers" 2>/dev/null)" ]; then
    return 1
  fi
  return 0
}

register_crun() {
  # Merge {"runtimes": {"crun": ...}} (and "default-runtime": "crun" unless one is set) into
  # $config, keeping every other setting: running it again changes nothing.
  local crun
  crun=${SANDBOX_CRUN:-$(command -v crun 2>/dev/null)} || return 0
  crun_usable "$crun" || { echo "docker-up: crun cannot run on this host's cgroup layout: runc stays the default"; return 0; }
  mkdir -p "$(dirname "$config")"
  python3 - "$config" "$crun" <<'PY'
import json, os, sys
path, crun = sys.argv[1], sys.argv[2]
settings = json.load(open(path)) if os.path.exists(path) and os.path.getsize(path) else {}
settings.setdefault("runtimes", {}).setdefault("crun", {"path": crun})
settings.setdefault("default-runtime", "crun")
partial = f"{path}.partial"
with open(partial, "w") as out:
    json.dump(settings, out, indent=2, sort_keys=True)
    out.write("\n")
os.replace(partial, path)
PY
}

if [ "${SANDBOX_DOCKER_UP_CONFIG_ONLY:-0}" = 1 ]; then
  register_crun
  exit 0
fi

apt_install() {
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -qq "$@" >/dev/null 2>&1 || { apt-get update -qq >/dev/null 2>&1; apt-get install -y -qq "$@" >/dev/null; }
}

if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  missing=()
  command -v dockerd >/dev/null 2>&1 || missing+=(docker.io)
  command -v debootstrap >/dev/null 2>&1 || missing+=(debootstrap)
  command -v crun >/dev/null 2>&1 || missing+=(crun)
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

register_crun
flags=(--storage-driver=overlay2)
if [ -f "$config" ]; then flags+=(--config-file "$config"); fi
echo "docker-up: starting dockerd (log: $log)"
setsid dockerd "${flags[@]}" >"$log" 2>&1 < /dev/null &
for _ in $(seq 1 60); do
  if docker info >/dev/null 2>&1; then
    echo "docker-up: engine ready"
    exit 0
  fi
  sleep 1
done
echo "docker-up: dockerd did not answer within 60 s; see $log" >&2
exit 2
