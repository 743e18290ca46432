"""Running one command inside a sandbox, bounded in time and in output."""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import docker.errors
import requests.exceptions

from sandbox.errors import SandboxUnavailable
from sandbox.spec import ExecResult

if TYPE_CHECKING:
    from sandbox.lifecycle import DockerSandbox

TIMEOUT_EXIT = 124
KILL_GRACE = 2.0
WATCHDOG_GRACE = 10.0


def _wrap(command: str | Sequence[str], timeout: float) -> list[str]:
    # coreutils `timeout` puts the command in its own process group and signals the whole
    # group: TERM at the deadline, KILL ``KILL_GRACE`` seconds later.
    argv = ["sh", "-c", command] if isinstance(command, str) else list(command)
    return ["timeout", "-k", f"{KILL_GRACE:g}", f"{timeout:g}", *argv]


class _Capture:
    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.chunks: list[bytes] = []
        self.kept = 0
        self.omitted = 0

    def add(self, data: bytes | None) -> None:
        if not data:
            return
        room = self.limit - self.kept
        if room > 0:
            self.chunks.append(data[:room])
            self.kept += min(room, len(data))
        self.omitted += max(0, len(data) - max(room, 0))

    def text(self) -> str:
        return b"".join(self.chunks).decode("utf-8", errors="replace")


def run(box: DockerSandbox, command: str | Sequence[str], timeout: float = 30.0, user: str | None = None,
        input: str | bytes | None = None, env: Mapping[str, str] | None = None,
        cwd: str | None = None) -> ExecResult:
    """Run ``command`` in ``box``.

    Args:
        box: a started sandbox.
        command: shell command line (run with ``sh -c``) or an argv list.
        timeout: seconds before the command's process group is killed.
        user: run as this user instead of the sandbox's default.
        input: standard input for the command.
        env: extra environment variables.
        cwd: working directory (default: the sandbox's work directory).

    Returns:
        The :class:`ExecResult`; non-zero exits and timeouts are results.

    Raises:
        SandboxUnavailable: the engine or the container is gone.
    """
    if input is not None:
        raise NotImplementedError("standard input is not supported by the docker backend yet")
    api = box.container.client.api
    started = time.monotonic()
    stdout, stderr = _Capture(box.spec.max_output_bytes), _Capture(box.spec.max_output_bytes)
    watchdog = threading.Timer(timeout + KILL_GRACE + WATCHDOG_GRACE, _kill_user_processes, (box,))
    watchdog.daemon = True
    try:
        exec_id = api.exec_create(
            box.container.id, _wrap(command, timeout), user=user or box.spec.user,
            workdir=cwd or box.spec.workdir, environment=dict(env) if env else None,
        )["Id"]
        watchdog.start()
        for out, err in api.exec_start(exec_id, stream=True, demux=True):
            stdout.add(out)
            stderr.add(err)
        exit_code = api.exec_inspect(exec_id)["ExitCode"]
    except (docker.errors.DockerException, requests.exceptions.RequestException) as exc:
        if not box.is_running():
            raise SandboxUnavailable(f"sandbox {box.name} died: {exc}") from exc
        raise SandboxUnavailable(f"exec failed in {box.name}: {exc}") from exc
    finally:
        watchdog.cancel()
    duration = time.monotonic() - started
    if exit_code is None:
        raise SandboxUnavailable(f"exec in {box.name} returned no exit code")
    timed_out = exit_code == TIMEOUT_EXIT or (exit_code == 137 and duration >= timeout)
    return ExecResult(
        exit_code=TIMEOUT_EXIT if timed_out else exit_code,
        stdout=stdout.text(),
        stderr=stderr.text(),
        duration=duration,
        timed_out=timed_out,
        truncated=bool(stdout.omitted or stderr.omitted),
        omitted_bytes=stdout.omitted + stderr.omitted,
    )


def _kill_user_processes(box: DockerSandbox) -> None:
    """Last resort when a process escaped its group (e.g. ``setsid``) and holds the stream."""
    try:
        api = box.container.client.api
        exec_id = api.exec_create(box.container.id, ["kill", "-9", "-1"], user=box.spec.user)["Id"]
        api.exec_start(exec_id)
    except Exception:
        return

