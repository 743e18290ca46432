"""Containers of runs whose runner is gone (killed with SIGKILL, a crashed machine).

Every live runner holds an ``flock`` on ``<state dir>/<run id>.lock`` (state dir:
``$SANDBOX_STATE_DIR``, default ``~/.cache/agentic-sandbox/runners``). When the next run
starts it tries each lock: one it can take belongs to a dead runner, whose containers (label
``sandbox.run-id=<run id>``) are removed. Runs never registered (tests, notebooks, other
tools' containers) are never touched.
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
from pathlib import Path
from typing import IO

from sandbox.docker.cleanup import remove_by_label


def state_dir() -> Path:
    """Where runner locks live."""
    return Path(os.environ.get("SANDBOX_STATE_DIR") or Path.home() / ".cache" / "agentic-sandbox" / "runners")


class RunnerRegistration:
    """This runner's lock for ``run_id``: held until :meth:`release` or the process ends."""

    def __init__(self, run_id: str) -> None:
        self.run_id = run_id
        directory = state_dir()
        directory.mkdir(parents=True, exist_ok=True)
        self.path = directory / f"{run_id}.lock"
        self._handle: IO[str] | None = self.path.open("a+")
        fcntl.flock(self._handle, fcntl.LOCK_EX)
        self._handle.seek(0)
        self._handle.truncate()
        self._handle.write(json.dumps({"pid": os.getpid(), "host": socket.gethostname(), "run_id": run_id}))
        self._handle.flush()

    def release(self) -> None:
        """Unregister (the run's containers are gone)."""
        if self._handle is not None:
            self.path.unlink(missing_ok=True)
            self._handle.close()
            self._handle = None


def reap_orphans() -> dict[str, int]:
    """Remove the containers of every registered run whose runner is gone.

    Returns:
        Run id → containers removed.
    """
    directory = state_dir()
    if not directory.is_dir():
        return {}
    reaped: dict[str, int] = {}
    for path in sorted(directory.glob("*.lock")):
        try:
            handle = path.open("r+")
        except OSError:
            continue
        with handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                continue  # its runner is alive
            try:
                info = json.loads(handle.read() or "{}")
            except ValueError:
                info = {}
            if info.get("host", socket.gethostname()) != socket.gethostname():
                continue  # another machine's runner: its engine is not ours
            run_id = str(info.get("run_id") or path.stem)
            reaped[run_id] = remove_by_label(run_id)
            path.unlink(missing_ok=True)
    return reaped
