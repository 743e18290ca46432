"""The Docker implementation of the sandbox protocol: creating and removing containers.

Removal is guaranteed: on close, on exceptions and (through :mod:`sandbox.cleanup`) on
SIGINT/SIGTERM and interpreter exit.
"""

from __future__ import annotations

import threading
import time
import uuid
import weakref
from collections.abc import Mapping, Sequence

import docker.errors
from docker.models.containers import Container
from docker.types import Mount as DockerMount

from sandbox import exec as sandbox_exec
from sandbox import files as sandbox_files
from sandbox.cleanup import register_live, unregister_live
from sandbox.engine import docker_client
from sandbox.errors import ImageMissing, SandboxUnavailable
from sandbox.protocol import Sandbox
from sandbox.spec import EPISODE_LABEL, MANAGED_LABEL, RUN_LABEL, ExecResult, SandboxSpec


class DockerSandbox(Sandbox):
    """One locked-down Docker container an agent works in.

    Example:
        >>> with DockerSandbox(SandboxSpec()) as box:  # doctest: +SKIP
        ...     box.exec("echo hi").stdout
        'hi\\n'
    """

    def __init__(self, spec: SandboxSpec | None = None) -> None:
        super().__init__(spec)
        self.name = f"sandbox-{self.spec.run_id[:12]}-{uuid.uuid4().hex[:10]}"
        self._container: Container | None = None
        self._lock = threading.Lock()

    @property
    def container(self) -> Container:
        """The running container; raises if the sandbox is not started."""
        if self._container is None:
            raise SandboxUnavailable(f"sandbox {self.name} is not running")
        return self._container

    @property
    def id(self) -> str:
        """The container id."""
        return self.container.id or ""

    def start(self) -> DockerSandbox:
        """Create and start the container."""
        spec = self.spec
        client = docker_client()
        mounts = [
            DockerMount(target=m.target, source=m.source, type="bind", read_only=m.read_only)
            for m in spec.mounts
        ]
        try:
            self._container = client.containers.run(
                spec.image,
                command=["sleep", "infinity"],
                name=self.name,
                detach=True,
                init=True,
                labels={MANAGED_LABEL: "true", RUN_LABEL: spec.run_id, EPISODE_LABEL: spec.episode_id},
                network_mode=spec.network_mode,
                mem_limit=spec.memory,
                memswap_limit=spec.memory,
                nano_cpus=int(spec.cpus * 1e9),
                pids_limit=spec.pids_limit,
                cap_drop=["ALL"],
                security_opt=["no-new-privileges"],
                user=spec.user,
                read_only=spec.read_only_root,
                tmpfs={
                    spec.workdir: f"rw,size={spec.tmpfs_size},uid=1000,gid=1000,mode=0755",
                    "/tmp": f"rw,size={spec.tmpfs_size},mode=1777",
                    **spec.tmpfs,
                },
                working_dir=spec.workdir,
                environment=spec.environment,
                mounts=mounts,
            )
        except docker.errors.ImageNotFound as exc:
            raise ImageMissing(
                f"image {spec.image} is missing: build it with `python -m sandbox.images build`"
            ) from exc
        except docker.errors.DockerException as exc:
            raise SandboxUnavailable(f"could not start sandbox {self.name}: {exc}") from exc
        register_live(self.name)
        weakref.finalize(self, _remove_quietly, self.name)
        return self

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
        return sandbox_exec.run(self, command, timeout=timeout, user=user, input=input, env=env, cwd=cwd)

    def read_file(self, path: str) -> bytes:
        """Return the bytes of a file in the sandbox."""
        return sandbox_files.read_file(self, path)

    def write_file(self, path: str, data: bytes | str, mode: str = "0644") -> None:
        """Write a file in the sandbox (parents created)."""
        sandbox_files.write_file(self, path, data, mode=mode)

    def write_files(self, files: Mapping[str, bytes | str], mode: str = "0644") -> None:
        """Write several files at once (one ``exec`` for small ones)."""
        sandbox_files.write_files(self, files, mode=mode)

    def is_running(self) -> bool:
        """Whether the container is still alive."""
        try:
            self.container.reload()
        except docker.errors.DockerException:
            return False
        return self.container.status == "running"

    def close(self) -> None:
        """Remove the container. Safe to call more than once."""
        with self._lock:
            if self._container is None:
                return
            self._container = None
        _remove_quietly(self.name)


def _remove_quietly(name: str) -> None:
    unregister_live(name)
    for attempt in range(3):
        try:
            docker_client().api.remove_container(name, force=True)
            return
        except docker.errors.NotFound:
            return
        except docker.errors.APIError as exc:
            if "already in progress" in str(exc):
                return
            time.sleep(0.2 * (attempt + 1))
        except Exception:
            return
