"""The sandbox protocol: everything an environment or a tool may do with an episode's sandbox.

Modelled on Inspect's ``SandboxEnvironment``: a sandbox is started, runs commands, reads and
writes files, and is closed. A failing command is a result (:class:`~sandbox.spec.ExecResult`);
only infrastructure failure raises (:class:`~sandbox.errors.SandboxUnavailable`). Environments
and tools see this protocol only; the Docker implementation is
:class:`sandbox.docker.lifecycle.DockerSandbox`, and other backends plug in with
:func:`register_backend` and ``SandboxSpec.backend``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from types import TracebackType
from typing import Self

from sandbox.registry import lookup, register
from sandbox.spec import ExecResult, SandboxSpec
from sandbox.tree import TreeWalk, WalkRequest, parse_tree, tree_program


class Sandbox(ABC):
    """One isolated place an agent works in, for one episode.

    Use as a context manager, or call :meth:`start` and :meth:`close`.

    Args:
        spec: how to create it (image, limits, mounts, labels).
    """

    name: str

    def __init__(self, spec: SandboxSpec | None = None) -> None:
        self.spec = spec or SandboxSpec()

    @abstractmethod
    def start(self) -> Self:
        """Create and start the sandbox."""

    @abstractmethod
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
        """Run a command; a non-zero exit or a timeout is a result, not an exception.

        Args:
            command: a shell command line (run with ``sh -c``) or an argv list (run as is).
            timeout: seconds before the command and every process it started are killed.
            user: run as this user (default: the sandbox's agent user).
            input: bytes or text for the command's standard input.
            env: extra environment variables.
            cwd: working directory (default: the sandbox's work directory).

        Raises:
            SandboxUnavailable: the sandbox or its engine is gone.
        """

    @abstractmethod
    def read_file(self, path: str, *, user: str | None = None, max_bytes: int | None = None) -> bytes:
        """The whole content of a regular file, never a part of it.

        Args:
            path: absolute, or relative to the work directory.
            user: read with this user's permissions (default: the agent's).
            max_bytes: refuse larger files (default: the backend's, 100 MiB for Docker).

        Raises:
            SandboxFileError: (a subclass saying why) the file cannot be read:
                ``SandboxFileNotFound``, ``SandboxPermissionError``, ``SandboxIsADirectory``,
                ``SandboxSpecialFile`` (FIFO, device, socket), ``SandboxFileTooLarge``.
            SandboxUnavailable: the sandbox or its engine is gone.
        """

    @abstractmethod
    def write_file(self, path: str, data: bytes | str, mode: str = "0644", *, user: str | None = None) -> None:
        """Create or replace a file (parent directories are created), as ``user`` (default: the agent).

        Raises:
            SandboxFileError: (a subclass saying why) the file cannot be written.
        """

    def write_files(self, files: Mapping[str, bytes | str], mode: str = "0644", *, user: str | None = None) -> None:
        """Write several files (backends may batch them)."""
        for path, data in files.items():
            self.write_file(path, data, mode=mode, user=user)

    def stat_tree(self, root: str, *, timeout: float = 30.0, walk: WalkRequest | None = None) -> TreeWalk:
        """The state of every path under ``root`` (excluded), read as root, symlinks not followed.

        The walk is bounded (``walk.limits``, see :class:`~sandbox.tree.WalkLimits`); one that
        hits a bound or is killed at ``timeout`` comes back partial, with its reason. This
        portable version runs the walker with ``python3 -I -S`` (isolated: nothing the agent
        wrote or set can load into it) as root from ``/``; backends may run it faster
        (Docker's supervisor forks it instead of starting Python).

        Raises:
            WorldUnreadable: the walker failed on its own (not a walk at all).
            SandboxUnavailable: the sandbox is gone.
        """
        walk = walk or WalkRequest()
        options = walk.options(timeout, max_output=self.spec.max_output_bytes)
        argv = ["python3", "-I", "-S", "-c", tree_program(), root, options]
        return parse_tree(self.exec(argv, timeout=timeout, user="0", cwd="/"), root)

    def probe(self, source: str, argument: str, *, freeze_uid: int | None = None, timeout: float = 30.0) -> ExecResult:
        """Run the host's read-only ``source`` as root, out of the agent's reach; its answer is ``stdout``.

        For reads of an episode's ground truth. ``source`` defines ``probe(argument: str, seconds:
        float) -> str``. This portable version starts ``python3 -I -S`` as root in ``/`` (no user
        site, no ``PYTHON*`` variables, no agent-writable path) and cannot freeze anything;
        Docker's supervisor runs it in a fork of itself and, with ``freeze_uid``, stops every
        process of that uid while it reads.

        Raises:
            ExecFailed: the sandbox could not start it (e.g. the agent used up the pids limit).
            SandboxUnavailable: the sandbox is gone.
        """
        program = f"{source}\nimport sys\nsys.stdout.write(probe(sys.argv[1], {max(0.5, timeout - 2.0)}))\n"
        return self.exec(["python3", "-I", "-S", "-c", program, argument], timeout=timeout, user="0", cwd="/")

    def stop_agent(self) -> int:
        """Stop every process of the agent; return how many there were.

        The environment base calls it before reading an episode's ground truth, so the world
        can be read whatever the agent did to its process table. Backends that cannot stop
        processes do nothing.
        """
        return 0

    @abstractmethod
    def is_running(self) -> bool:
        """Whether the sandbox is still alive."""

    @abstractmethod
    def close(self) -> None:
        """Remove the sandbox and everything in it. Safe to call more than once."""

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def register_backend(name: str, entry_point: str) -> None:
    """Make ``SandboxSpec(backend=name)`` use the ``"module:Class"`` implementation (registry kind ``backend``).

    Raises:
        ConfigError: ``name`` is already registered with another implementation.
    """
    register("backend", name, entry_point)


def backend_class(name: str) -> type[Sandbox]:
    """The class implementing a backend (imported on first use).

    Raises:
        UnknownNameError: no such backend (with "did you mean").
    """
    found: type[Sandbox] = lookup("backend", name)
    return found


register_backend("docker", "sandbox.docker.lifecycle:DockerSandbox")


def open_sandbox(spec: SandboxSpec) -> Sandbox:
    """A new, not yet started, sandbox of the spec's backend."""
    return backend_class(spec.backend)(spec)


SandboxFactory = Callable[[SandboxSpec], Sandbox]
"""Where an environment's sandboxes come from: :func:`open_sandbox` (new ones, the default), or a
run's (e.g. :func:`sandbox.docker.lifecycle.pooled_sandboxes`, through the run's warm pool)."""
