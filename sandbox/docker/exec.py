"""Running one command in a sandbox through its supervisor, bounded in time and in output.

The deadline is kept by the supervisor inside the container (out of the agent's reach): at the
timeout the command's whole session is killed and the answer comes back within a second,
whatever the command did to its processes. Whether a command timed out is the supervisor's
own knowledge, never a guess from the exit code.
"""

from __future__ import annotations

import errno
from collections.abc import Iterator, Mapping, Sequence

from sandbox.docker.channel import Reply, Requester, data_frames, frame
from sandbox.errors import ExecFailed
from sandbox.spec import ExecResult, SandboxSpec
from sandbox.tree import WalkRequest

TIMEOUT_EXIT = 124
KILL_GRACE = 1.0
"""Seconds the supervisor waits after killing a timed-out command before it answers anyway."""
ANSWER_GRACE = 10.0
"""Seconds the host waits on top of that before it declares the supervisor unresponsive."""


def argv_of(command: str | Sequence[str]) -> list[str]:
    """The argv a command runs as: a string goes to ``sh -c``, a sequence runs as is."""
    argv = ["sh", "-c", command] if isinstance(command, str) else [str(a) for a in command]
    if not argv:
        raise ValueError("an empty command cannot run")
    return argv


def _stdin(data: bytes) -> Iterator[bytes]:
    yield from data_frames(b"I", data)
    yield frame(b"E")


def run(request: Requester, spec: SandboxSpec, command: str | Sequence[str], timeout: float = 30.0,
        user: str | None = None, input: str | bytes | None = None, env: Mapping[str, str] | None = None,
        cwd: str | None = None) -> ExecResult:
    """Run ``command`` (see :meth:`sandbox.protocol.Sandbox.exec`).

    Args:
        request: sends one request to the sandbox's supervisor.
        spec: the sandbox's spec (default user, work directory, output limit).
        command: a shell command line (``sh -c``) or an argv list.
        timeout: seconds before the command's session is killed.
        user: run as this user instead of the agent's.
        input: standard input for the command (streamed, any size).
        env: extra environment variables.
        cwd: working directory (relative paths are relative to the work directory).

    Returns:
        The :class:`ExecResult`; non-zero exits, timeouts and unknown users are results.

    Raises:
        ExecFailed: the sandbox could not start a process (e.g. its pids limit is used up).
        SandboxUnavailable: (a subclass) the container or the engine is gone.
    """
    if timeout <= 0:
        raise ValueError(f"timeout must be positive, got {timeout}")
    stdin = input.encode() if isinstance(input, str) else input
    header = {
        "op": "exec", "argv": argv_of(command), "user": user or spec.user, "workdir": spec.workdir,
        "cwd": cwd, "env": dict(env or {}), "timeout": timeout, "max_output": spec.max_output_bytes,
        "stdin": stdin is not None,
    }
    body = _stdin(stdin) if stdin is not None else ()
    return _exec_result(request(header, body, timeout=timeout + KILL_GRACE + ANSWER_GRACE,
                                limit=spec.max_output_bytes))


def stat_tree(request: Requester, spec: SandboxSpec, root: str, timeout: float = 30.0,
              walk: WalkRequest | None = None) -> ExecResult:
    """The supervisor's ``tree`` walk of ``root``, as root, in a forked child (JSON lines on stdout).

    The walk bounds itself (``walk.limits``); its output is never cut below those bounds.

    Raises:
        ExecFailed, SandboxUnavailable: as :func:`run`.
    """
    walk = walk or WalkRequest()
    limit = walk.output_limit()
    header = {"op": "tree", "root": root, "options": walk.options(timeout), "user": "0", "workdir": "/",
              "timeout": timeout, "max_output": limit}
    return _exec_result(request(header, (), timeout=timeout + KILL_GRACE + ANSWER_GRACE, limit=limit))


PROBE_MAX_OUTPUT = 256 * 1024 * 1024
"""Most bytes a ground-truth probe may print (its own code bounds what it reports)."""


def probe(request: Requester, source: str, argument: str, *, freeze_uid: int | None = None,
          timeout: float = 30.0) -> ExecResult:
    """The supervisor's ``probe``: the host's read-only code run as root, ``freeze_uid``'s processes paused.

    Raises:
        ExecFailed, SandboxUnavailable: as :func:`run`.
    """
    header = {"op": "probe", "source": source, "argument": argument, "freeze_uid": freeze_uid, "user": "0",
              "workdir": "/", "timeout": timeout, "max_output": PROBE_MAX_OUTPUT}
    return _exec_result(request(header, (), timeout=timeout + KILL_GRACE + ANSWER_GRACE, limit=PROBE_MAX_OUTPUT))


def _exec_result(reply: Reply) -> ExecResult:
    """A command's reply as its result (see :func:`run`)."""
    result = reply.result
    if "error" in result:
        if result["error"] == "no_user":
            return ExecResult(exit_code=126, stderr=f"{result['message']}\n")
        message = f"the sandbox could not run the command: {result.get('message', result['error'])}"
        if result.get("errno") == errno.EAGAIN:  # the pids limit is used up: by the agent's processes
            raise ExecFailed(message + " (its pids limit is used up)", error_class="agent")
        raise ExecFailed(message)
    stderr = reply.stderr.decode("utf-8", errors="backslashreplace")
    if result.get("spawn_error"):
        stderr += f"{result['spawn_error']}\n"
    omitted = int(result.get("omitted_stdout", 0)) + int(result.get("omitted_stderr", 0))
    omitted += sum(reply.omitted.values())
    timed_out = bool(result.get("timed_out"))
    return ExecResult(
        exit_code=TIMEOUT_EXIT if timed_out else int(result["exit_code"]),
        stdout=reply.stdout.decode("utf-8", errors="backslashreplace"),
        stderr=stderr,
        duration=float(result.get("duration", 0.0)),
        timed_out=timed_out,
        truncated=omitted > 0,
        omitted_bytes=omitted,
    )
