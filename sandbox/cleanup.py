"""Removing sandboxes: at exit, on SIGINT/SIGTERM, and leftovers of crashed runs by label.

``python -m sandbox.cleanup`` removes every container this project created (label
``sandbox.managed=true``); ``--run-id ID`` limits it to one run.
"""

from __future__ import annotations

import argparse
import atexit
import signal
import sys
import threading
from types import FrameType

from sandbox.spec import MANAGED_LABEL, RUN_LABEL

_live: set[str] = set()
_live_lock = threading.Lock()
_handlers_installed = False


def register_live(name: str) -> None:
    """Remember a started container so exit and signal handlers can remove it."""
    with _live_lock:
        _live.add(name)


def unregister_live(name: str) -> None:
    """Forget a container (it is being removed)."""
    with _live_lock:
        _live.discard(name)


def remove_live() -> int:
    """Remove every container this process started and has not removed yet."""
    from sandbox.engine import docker_client

    with _live_lock:
        names = list(_live)
        _live.clear()
    if not names:
        return 0
    api = docker_client().api
    for name in names:
        try:
            api.remove_container(name, force=True)
        except Exception:
            continue
    return len(names)


def remove_by_label(run_id: str | None = None) -> int:
    """Remove containers of one run (or of all runs); return how many were removed."""
    from sandbox.engine import docker_client

    filters = [f"{MANAGED_LABEL}=true"] + ([f"{RUN_LABEL}={run_id}"] if run_id else [])
    api = docker_client().api
    removed = 0
    for info in api.containers(all=True, filters={"label": filters}):
        try:
            api.remove_container(info["Id"], force=True)
            removed += 1
        except Exception:
            continue
    return removed


def _on_signal(signum: int, frame: FrameType | None) -> None:
    remove_live()
    if signum == signal.SIGINT:
        raise KeyboardInterrupt
    raise SystemExit(128 + signum)


def install_signal_handlers() -> None:
    """Remove live sandboxes on SIGINT and SIGTERM (main thread only; idempotent)."""
    global _handlers_installed
    if _handlers_installed or threading.current_thread() is not threading.main_thread():
        return
    signal.signal(signal.SIGINT, _on_signal)
    signal.signal(signal.SIGTERM, _on_signal)
    _handlers_installed = True


atexit.register(remove_live)


def main(argv: list[str] | None = None) -> int:
    """Command line entry point."""
    parser = argparse.ArgumentParser(prog="python -m sandbox.cleanup", description=__doc__)
    parser.add_argument("--run-id", help="only containers of this run")
    args = parser.parse_args(argv)
    from sandbox.errors import DockerUnavailable

    try:
        count = remove_by_label(args.run_id)
    except DockerUnavailable as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"removed {count} sandbox container(s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
