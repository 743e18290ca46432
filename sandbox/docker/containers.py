"""Docker calls of the sandbox backend: creating, diagnosing and removing one container.

Every failure becomes a typed :class:`~sandbox.errors.SandboxUnavailable` with a stable
``signature``: the image is missing (configuration), the engine refused the settings
(configuration), the engine does not answer (infrastructure), the container is gone
(infrastructure) or was killed for using up its memory (the agent's doing).
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import docker.errors
import requests.exceptions
from docker.types import LogConfig
from docker.types import Mount as DockerMount

from sandbox.docker.channel import SOCKET_NAME, SUPERVISOR, ChannelBroken, ChannelTimeout, call, connect_unix
from sandbox.docker.engine import docker_client
from sandbox.errors import (
    ContainerGone,
    EngineUnavailable,
    ImageMissing,
    InvalidSandboxSpec,
    OutOfMemory,
    SandboxUnavailable,
)
from sandbox.spec import EPISODE_LABEL, MANAGED_LABEL, RUN_LABEL, UNSAFE_LABEL, SandboxSpec

SUPERVISOR_CAPABILITIES = ["CHOWN", "DAC_OVERRIDE", "FOWNER", "KILL", "SETUID", "SETGID"]
"""What the supervisor (root) keeps: a subset of Docker's defaults. Agent processes (uid 1000,
``no-new-privileges``) have none of them."""
_ENGINE_ERRORS = (requests.exceptions.ConnectionError, requests.exceptions.Timeout)
created = 0
"""Containers this process created (a benchmark's count of lifecycles)."""
DIAGNOSE_EVERY = 0.5
"""Seconds between engine inspections while a supervisor starts (a failed connect is free)."""
CGROUP_DIR = "/sys/fs/cgroup"
CGROUP_MASK = "ro,size=4k,mode=0555"
HOSTS = "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n"
"""The ``/etc/hosts`` of a sandbox without a network: what Docker writes for ``network_mode=none``."""


def hosts_file(directory: Path) -> Path:
    """A read-only ``/etc/hosts`` for sandboxes without a network, written once in ``directory``."""
    path = directory / "hosts"
    if not path.exists():
        partial = directory / f".hosts-{os.getpid()}-{threading.get_ident()}"
        partial.write_text(HOSTS)
        partial.chmod(0o444)
        partial.replace(path)
    return path


def container_config(spec: SandboxSpec, name: str, socket_dir: Path, target: str,
                     recyclable: bool = False) -> dict[str, object]:
    """Keyword arguments of ``APIClient.create_container`` for ``spec``.

    A ``recyclable`` container (one the pool may hand to several episodes in turn, see
    :mod:`sandbox.docker.pool`) has its cgroup files hidden under an empty read-only tmpfs: their
    counters (CPU used, memory peak, failures) survive a recycle and would carry what one
    episode did to the next.

    A sandbox with ``network_mode="none"`` is created with the network disabled: the runtime
    gives it a new network namespace with only a loopback interface, as ``none`` does, but the
    engine sets up no network sandbox for it (no ``libnetwork-setkey`` hook, which starts a
    copy of ``dockerd`` per container: about 40% of a container's lifecycle CPU). Docker's
    ``/etc/hosts`` for ``none`` is bound in read-only, so ``localhost`` resolves the same.
    """
    api = docker_client().api
    off = set(spec.unsafe_no_limits)
    labels = {MANAGED_LABEL: "true", RUN_LABEL: spec.run_id, EPISODE_LABEL: spec.episode_id}
    if off:
        labels[UNSAFE_LABEL] = ",".join(sorted(off))
    no_network = spec.network_mode == "none"
    mounts = [DockerMount(target=target, source=str(socket_dir), type="bind")]
    if no_network:
        mounts.append(DockerMount(target="/etc/hosts", source=str(hosts_file(socket_dir.parent)), type="bind",
                                  read_only=True))
    mounts += [DockerMount(target=m.target, source=m.source, type="bind", read_only=m.read_only)
               for m in spec.mounts]
    host_config = api.create_host_config(
        init=True,
        network_mode=spec.network_mode,
        mem_limit=None if "memory" in off else spec.memory,
        memswap_limit=None if "memory" in off else spec.memory,
        nano_cpus=None if "cpus" in off else int(spec.cpus * 1e9),
        pids_limit=None if "pids_limit" in off else spec.pids_limit,
        cap_drop=["ALL"],
        cap_add=SUPERVISOR_CAPABILITIES,
        security_opt=["no-new-privileges"],
        read_only=spec.read_only_root,
        log_config=LogConfig(type="json-file", config={"max-size": spec.log_max_bytes, "max-file": "1"}),
        tmpfs={
            spec.workdir: f"rw,size={spec.tmpfs_size},uid=1000,gid=1000,mode=0755",
            "/tmp": f"rw,size={spec.tmpfs_size},mode=1777",
            **spec.tmpfs,
            **({CGROUP_DIR: CGROUP_MASK} if recyclable else {}),
        },
        mounts=mounts,
        runtime=spec.runtime,
    )
    return {
        "image": spec.image,
        "entrypoint": ["python3", "-I", "-S", SUPERVISOR, "--socket", f"{target}/{SOCKET_NAME}"],
        "command": [],
        "name": name,
        "user": "0:0",
        "labels": labels,
        "working_dir": spec.workdir,
        "environment": spec.environment,
        "host_config": host_config,
        "network_disabled": no_network,
    }


def create_container(spec: SandboxSpec, name: str, socket_dir: Path, target: str, recyclable: bool = False) -> str:
    """Create and start the container (see :func:`container_config`); return its id.

    Raises:
        ImageMissing, InvalidSandboxSpec, EngineUnavailable, SandboxUnavailable.
    """
    global created
    api = docker_client().api
    created += 1
    try:
        container_id: str = api.create_container(**container_config(spec, name, socket_dir, target, recyclable))["Id"]
    except docker.errors.ImageNotFound as exc:
        raise ImageMissing(f"image {spec.image} is missing: build it with `python -m sandbox.images build`") from exc
    except docker.errors.APIError as exc:
        if exc.status_code == 400:
            raise InvalidSandboxSpec(f"the engine refused the sandbox settings: {exc.explanation}") from exc
        raise EngineUnavailable(f"could not create sandbox {name}: {exc}") from exc
    except _ENGINE_ERRORS as exc:
        raise EngineUnavailable(f"the Docker engine did not answer: {exc}") from exc
    try:
        api.start(container_id)
    except (docker.errors.DockerException, *_ENGINE_ERRORS) as exc:
        remove_container(container_id)
        if isinstance(exc, docker.errors.APIError) and exc.status_code == 400:
            raise InvalidSandboxSpec(f"the engine refused the sandbox settings: {exc.explanation}") from exc
        raise EngineUnavailable(f"could not start sandbox {name}: {exc}") from exc
    return container_id


def diagnose(container_id: str, name: str) -> None:
    """Return if the container runs; otherwise raise what happened to it.

    Raises:
        OutOfMemory: the kernel killed it at its memory limit.
        ContainerGone: it was removed or stopped.
        EngineUnavailable: the engine does not answer.
    """
    try:
        state = docker_client().api.inspect_container(container_id)["State"]
    except docker.errors.NotFound:
        raise ContainerGone(f"sandbox {name} was removed") from None
    except (docker.errors.DockerException, *_ENGINE_ERRORS) as exc:
        raise EngineUnavailable(f"the Docker engine did not answer about {name}: {exc}") from exc
    if state.get("Running") and not state.get("Paused"):
        return
    if state.get("OOMKilled"):
        raise OutOfMemory(f"sandbox {name} was killed at its memory limit")
    raise ContainerGone(f"sandbox {name} stopped ({state.get('Status')}, exit code {state.get('ExitCode')})")


def remove_container(name_or_id: str) -> None:
    """Force-remove a container; a missing one is fine.

    Raises:
        SandboxUnavailable: the engine kept refusing.
    """
    api = docker_client().api
    for _attempt in range(3):
        try:
            api.remove_container(name_or_id, force=True)
            return
        except docker.errors.NotFound:
            return
        except docker.errors.APIError as exc:
            if "already in progress" in str(exc):
                return
            last: Exception = exc
        except _ENGINE_ERRORS as exc:
            last = exc
    raise SandboxUnavailable(f"could not remove {name_or_id}: {last}")


def wait_ready(socket_path: str, container_id: str, name: str, timeout: float = 30.0) -> None:
    """Wait until the container's supervisor answers a ping on ``socket_path``.

    Raises:
        SandboxUnavailable: the container died (the reason says why) or never answered.
    """
    deadline = time.monotonic() + timeout
    check = time.monotonic() + DIAGNOSE_EVERY
    pause = 0.002
    while True:
        try:
            call(connect_unix(socket_path), {"op": "ping"}, deadline=time.monotonic() + 5)
            return
        except (ChannelBroken, ChannelTimeout) as exc:
            now = time.monotonic()
            if now > deadline:
                diagnose(container_id, name)
                raise SandboxUnavailable(f"the supervisor of {name} did not start: {exc}") from exc
            if now > check:  # an engine round trip: not at every poll of a slow start
                diagnose(container_id, name)  # raises if the container died
                check = now + DIAGNOSE_EVERY
            time.sleep(pause)
            pause = min(pause * 2, 0.05)
