"""Probes: the host's own read-only code, run as root where the agent cannot reach it (stdlib only).

The ``probe`` operation reads an episode's ground truth (e.g. LoadBalance's process scan). Its
source comes from the host over the supervisor's socket, never from a file in the sandbox, and
runs in a fork of the supervisor's own isolated interpreter (``python3 -I -S``: no user site, no
``PYTHON*`` variables, no agent-writable directory on ``sys.path``, no program start), as root
with the supervisor's capabilities: an agent process can neither signal it nor change what it
imports. The source defines ``probe(argument: str, seconds: float) -> str``; its answer goes
to standard output.

With ``freeze_uid``, every process of that uid is stopped (SIGSTOP, in sweeps until none is
left running: stopped processes cannot fork) before the probe reads and continued after it;
processes the agent had stopped itself stay stopped. The agent cannot starve the probe of CPU
or change what it reads while it reads. An interval timer ends the probe ``GRACE`` seconds
before the supervisor's deadline, so the agent is always continued.
"""

import contextlib
import json
import os
import signal
import time

from users import agent_processes

GRACE = 2.0


class Expired(Exception):
    """The probe's time ran out."""


def _state(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            text = handle.read().decode("utf-8", "replace")
    except OSError:
        return "X"
    return text[text.rfind(")") + 2:][:1]


def freeze(uid: int) -> list:
    """Stop every running process of ``uid``; return those this call stopped."""
    stopped: list = []
    seen: set = set()
    for _ in range(200):
        fresh = [pid for pid in agent_processes(uid) if pid not in seen]
        if not fresh:
            break
        for pid in fresh:
            seen.add(pid)
            if _state(pid) in ("T", "t", "Z", "X"):
                continue
            try:
                os.kill(pid, signal.SIGSTOP)
                stopped.append(pid)
            except OSError:
                pass
    deadline = time.monotonic() + 1.0
    while time.monotonic() < deadline and any(_state(pid) not in ("T", "t", "Z", "X") for pid in stopped):
        time.sleep(0.002)
    return stopped


def thaw(stopped: list) -> None:
    """Continue the processes :func:`freeze` stopped."""
    for pid in stopped:
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGCONT)


def _expired(signum: int, frame: object) -> None:
    raise Expired()


def main(header: dict) -> None:
    """Run the header's ``source`` on its ``argument`` (in the forked child); write the answer to fd 1."""
    seconds = max(0.5, float(header.get("timeout", 30)) - GRACE)
    signal.signal(signal.SIGALRM, _expired)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    started = time.monotonic()
    stopped: list = []
    try:
        if header.get("freeze_uid") is not None:
            stopped = freeze(int(header["freeze_uid"]))
        namespace: dict = {"__name__": "__probe__"}
        exec(compile(str(header["source"]), "<probe>", "exec"), namespace)
        answer = namespace["probe"](str(header.get("argument", "")), seconds - (time.monotonic() - started) - 0.5)
    except Expired:
        answer = json.dumps({"ok": False, "error": f"the probe ran out of time ({seconds:.0f} s)"})
    except BaseException as exc:
        answer = json.dumps({"ok": False, "error": f"the probe failed: {type(exc).__name__}: {exc}"})
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        thaw(stopped)
    view = memoryview(str(answer).encode("utf-8", "surrogateescape"))
    while view:
        view = view[os.write(1, view):]
