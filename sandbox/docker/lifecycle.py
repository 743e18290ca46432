"""The Docker implementation of the sandbox protocol: one locked-down container per episode.

The container's main process is the supervisor (``sandbox/image/supervisor.py``), as root with
only the capabilities it needs; agent commands run as the agent's uid in their own sessions.
The host reaches the supervisor over a unix socket in a bind-mounted scratch directory of the
run (a persistent channel: no ``docker exec`` per command); when that socket cannot be reached
while the container still runs, requests fall back to ``docker exec`` (recorded in
:attr:`DockerSandbox.fallbacks`). Removal is guaranteed: on close, on exceptions and (through
:mod:`sandbox.docker.cleanup`) on SIGINT/SIGTERM and interpreter exit.
"""

from __future__ import annotations

import contextlib
import shutil
import threading
import time
import uuid
import weakref
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import docker.errors
import requests.exceptions

from sandbox.docker import exec as sandbox_exec
from sandbox.docker import files as sandbox_files
from sandbox.docker.channel import (
    SOCKET_DIR,
    SOCKET_NAME,
    ChannelBroken,
    ChannelTimeout,
    ChannelUnreachable,
    Reply,
    call,
    connect_docker_exec,
    connect_unix,
)
from sandbox.docker.cleanup import register_live, run_scratch_dir, unregister_live
from sandbox.docker.containers import create_container, diagnose, remove_container, wait_ready
from sandbox.docker.engine import docker_client
from sandbox.docker.pool import WarmPool, library_pool
from sandbox.docker.warm import Fingerprint, Warm, fingerprint
from sandbox.errors import ContainerGone, EngineUnavailable, ExecFailed, SandboxUnavailable
from sandbox.protocol import Sandbox, SandboxFactory, open_sandbox
from sandbox.spec import ExecResult, SandboxSpec
from sandbox.tree import TreeWalk, WalkRequest, parse_tree

READY_TIMEOUT = 30.0


class DockerSandbox(Sandbox):
    """One locked-down Docker container an agent works in.

    Example:
        >>> with DockerSandbox(SandboxSpec()) as box:  # doctest: +SKIP
        ...     box.exec("echo hi").stdout
        'hi\\n'

    Args:
        spec: how to create it.
        pool: the run's warm pool (:mod:`sandbox.docker.pool`) to take a started container from and to give
            it back to; default: the library's (``SANDBOX_WARM_POOL``), usually none.

    Attributes:
        fallbacks: requests that went through ``docker exec`` because the socket was unreachable.
    """

    def __init__(self, spec: SandboxSpec | None = None, pool: WarmPool | None = None) -> None:
        super().__init__(spec)
        self.pool = pool if pool is not None else library_pool()
        """The warm pool this sandbox takes its container from and returns it to (``None``: none)."""
        self.name = f"sandbox-{self.spec.run_id[:12].replace('/', '_')}-{uuid.uuid4().hex[:10]}"
        self.container_id: str | None = None
        self.socket_dir: Path | None = None
        self.fallbacks = 0
        self.pristine: Fingerprint | None = None
        """The container's fingerprint when it was fresh, if the pool may recycle it."""
        self._lock = threading.Lock()
        self._finalize: weakref.finalize[Any, DockerSandbox] | None = None

    @property
    def container(self) -> Any:
        """The container (a Docker SDK object); raises if the sandbox is not started."""
        if self.container_id is None:
            raise ContainerGone(f"sandbox {self.name} is not running")
        return docker_client().containers.get(self.container_id)

    @property
    def id(self) -> str:
        """The container id."""
        if self.container_id is None:
            raise ContainerGone(f"sandbox {self.name} is not running")
        return self.container_id

    @property
    def socket_path(self) -> str:
        """The host path of the supervisor's socket."""
        if self.socket_dir is None:
            raise ContainerGone(f"sandbox {self.name} is not running")
        return str(self.socket_dir / SOCKET_NAME)

    def start(self) -> DockerSandbox:
        """Create and start the container, and wait until its supervisor answers."""
        warm = self.pool.take_warm(self.spec) if self.pool is not None else None
        if warm is not None:
            self.name, self.container_id, self.socket_dir = warm.name, warm.container_id, warm.socket_dir
            self.pristine = warm.pristine
            self._finalizer()
            return self
        self.socket_dir = run_scratch_dir(self.spec.run_id, "supervisor") / uuid.uuid4().hex[:12]
        self.socket_dir.mkdir(mode=0o700)
        recyclable = self.pool is not None and self.pool.recyclable(self.spec)
        try:
            self.container_id = create_container(self.spec, self.name, self.socket_dir, SOCKET_DIR, recyclable)
        except BaseException:
            shutil.rmtree(self.socket_dir, ignore_errors=True)
            raise
        register_live(self.name)
        self._finalizer()
        try:
            self.wait_ready()
            if self.pool is not None and recyclable:
                self.pristine = fingerprint(self.socket_path)
                self.pool.adopt(self.spec)
        except BaseException:
            self.close()
            raise
        return self

    def _finalizer(self) -> None:
        self._finalize = weakref.finalize(self, _remove_quietly, self.name, self.socket_dir)

    def wait_ready(self, timeout: float = READY_TIMEOUT) -> None:
        """Wait until the supervisor answers a ping.

        Raises:
            SandboxUnavailable: it did not (the reason says why).
        """
        wait_ready(self.socket_path, self.id, self.name, timeout)

    def request(self, header: dict[str, Any], body: Iterable[bytes] = (), *, timeout: float,
                limit: int = 1 << 62) -> Reply:
        """Send one request to the supervisor (see :class:`sandbox.docker.channel.Requester`).

        Raises:
            ContainerGone: the container was removed or stopped (``OutOfMemory`` if the kernel
                killed it); ExecFailed: it runs but does not answer; EngineUnavailable: no engine.
        """
        deadline = time.monotonic() + timeout
        try:
            if self.spec.channel == "socket":
                try:
                    return call(connect_unix(self.socket_path), header, body, deadline=deadline, limit=limit)
                except ChannelUnreachable:
                    diagnose(self.id, self.name)  # raises when the container itself is gone
                    self.fallbacks += 1
            api = docker_client().api
            return call(connect_docker_exec(api, self.id), header, body, deadline=deadline, limit=limit)
        except (ChannelBroken, ChannelTimeout) as exc:
            raise self._diagnosed(exc) from exc

    def _diagnosed(self, exc: Exception, settle: float = 2.0) -> SandboxUnavailable:
        """What a failed request means: the container is gone (and why), or it does not answer.

        A container whose supervisor just died takes a moment to be reported as stopped, so
        the state is polled for ``settle`` seconds before the sandbox is called unresponsive.
        """
        if self.container_id is None:
            return ContainerGone(f"sandbox {self.name} is closed")
        deadline = time.monotonic() + settle
        while True:
            try:
                diagnose(self.container_id, self.name)
            except SandboxUnavailable as gone:
                return gone
            if time.monotonic() > deadline:
                return ExecFailed(f"the supervisor of {self.name} did not answer: {exc}")
            time.sleep(0.1)

    def exec(
        self,
        command: str | Sequence[str],
        timeout: float = 30.0,
        *,
        user: str | None = None,
        input: str | bytes | None = None,
        env: Mapping[str, str] | None = None,
        cwd: str | None = None,
    ) -> ExecResult:
        """Run a command (see :meth:`sandbox.protocol.Sandbox.exec`)."""
        return sandbox_exec.run(self.request, self.spec, command, timeout=timeout, user=user, input=input,
                                env=env, cwd=cwd)

    def read_file(self, path: str, *, user: str | None = None, max_bytes: int | None = None) -> bytes:
        """Return the bytes of a file in the sandbox (see :meth:`sandbox.protocol.Sandbox.read_file`)."""
        return sandbox_files.read_file(self.request, self.spec, path, user=user, max_bytes=max_bytes)

    def write_file(self, path: str, data: bytes | str, mode: str = "0644", *, user: str | None = None) -> None:
        """Write a file in the sandbox (parents created)."""
        sandbox_files.write_files(self.request, self.spec, {path: data}, mode=mode, user=user)

    def write_files(self, files: Mapping[str, bytes | str], mode: str = "0644", *, user: str | None = None) -> None:
        """Write several files in one request."""
        sandbox_files.write_files(self.request, self.spec, files, mode=mode, user=user)

    def stat_tree(self, root: str, *, timeout: float = 30.0, walk: WalkRequest | None = None) -> TreeWalk:
        """Every path's state under ``root``, bounded (see :meth:`sandbox.protocol.Sandbox.stat_tree`).

        The supervisor walks in a forked child of itself: a fork, not a Python start.
        """
        return parse_tree(sandbox_exec.stat_tree(self.request, self.spec, root, timeout=timeout, walk=walk), root)

    def probe(self, source: str, argument: str, *, freeze_uid: int | None = None, timeout: float = 30.0) -> ExecResult:
        """Run a ground-truth probe in a fork of the supervisor (see :meth:`sandbox.protocol.Sandbox.probe`)."""
        return sandbox_exec.probe(self.request, source, argument, freeze_uid=freeze_uid, timeout=timeout)

    def stop_agent(self) -> int:
        """Kill every process of the agent's uid, without forking; return how many.

        Call before reading the ground truth: whatever the agent did to its process table
        (a fork flood), the harness can then start processes again.
        """
        name = self.spec.user.split(":")[0]
        uid = int(name) if name.isdigit() else 1000
        return int(self.request({"op": "stop_agent", "uid": uid}, timeout=30).result.get("killed", 0))

    def is_running(self) -> bool:
        """Whether the container is still alive."""
        if self.container_id is None:
            return False
        try:
            diagnose(self.container_id, self.name)
        except (SandboxUnavailable, EngineUnavailable):
            return False
        return True

    def close(self) -> None:
        """Remove the container and its scratch directory: now, or in the background while the
        warm pool is on, or, if the pool recycles it, hand it back (see :mod:`sandbox.docker.pool`).
        Safe to call more than once."""
        with self._lock:
            container_id, self.container_id = self.container_id, None
            if container_id is None:
                return
        if self._finalize is not None:
            self._finalize.detach()
        if self.socket_dir is not None and self.pool is not None and (
                (self.pristine is not None
                 and self.pool.give_back(Warm(self.name, container_id, self.socket_dir, self.pristine), self.spec))
                or self.pool.dispose(self.name, self.socket_dir)):
            return
        _remove_quietly(self.name, self.socket_dir)


def pooled_sandboxes(pool: WarmPool) -> SandboxFactory:
    """Open sandboxes through ``pool``: Docker ones take and return its containers, other backends open as usual.

    A run gives the result to its environments (:attr:`sandbox.env.SandboxEnv.sandboxes`).
    """
    def open_pooled(spec: SandboxSpec) -> Sandbox:
        return DockerSandbox(spec, pool) if spec.backend == "docker" else open_sandbox(spec)

    return open_pooled


def _remove_quietly(name: str, socket_dir: Path | None) -> None:
    unregister_live(name)
    with contextlib.suppress(docker.errors.DockerException, requests.exceptions.RequestException, SandboxUnavailable):
        remove_container(name)
    if socket_dir is not None:
        shutil.rmtree(socket_dir, ignore_errors=True)
