"""Removing what a run created: at exit, on SIGINT/SIGTERM, and leftovers of crashed runs.

A run's resources are its containers (label ``sandbox.run-id``) and its host-side scratch
directory (:func:`run_scratch_dir`: sockets, control planes). ``python -m sandbox.cleanup
--run-id ID`` (or ``--run-id RUN_DIR``, whose ``manifest.json`` names the run) removes both for
one run; ``--all`` removes every container this project created on this machine (label
``sandbox.managed=true``), of every run and every user, and every scratch directory — so it is
never the default.
"""

from __future__ import annotations

import argparse
import atexit
import json
import os
import re
import shutil
import signal
import sys
import tempfile
import threading
from pathlib import Path
from types import FrameType

from sandbox.spec import MANAGED_LABEL, RUN_LABEL

SCRATCH_ENV = "SANDBOX_SCRATCH_ROOT"
_SAFE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@+-]*$")
_live: set[str] = set()
_scratch: set[Path] = set()
_live_lock = threading.Lock()
_handlers_installed = False


def scratch_root() -> Path:
    """Where runs keep host-side resources (``$SANDBOX_SCRATCH_ROOT``, else ``<tmp>/sandbox-runs``)."""
    return Path(os.environ.get(SCRATCH_ENV) or Path(tempfile.gettempdir()) / "sandbox-runs")


def _safe_name(value: str) -> str:
    name = value.replace("/", "_")
    if not _SAFE.match(name) or name in {".", ".."}:
        raise ValueError(f"{value!r} cannot name a scratch directory")
    return name


def run_scratch_dir(run_id: str, purpose: str) -> Path:
    """A private host directory for one run's ``purpose`` (created, mode 0700).

    It lives under :func:`scratch_root`, named by run id, so :func:`remove_by_label` (and
    ``python -m sandbox.cleanup --run-id``) removes it with the run's containers, even after
    the process that made it was killed. Environments put host-side resources here (e.g. a
    control plane's socket directory) instead of in ``tempfile.mkdtemp()``.
    """
    run_dir = scratch_root() / _safe_name(run_id)
    path = run_dir / _safe_name(purpose)
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    with _live_lock:
        _scratch.add(run_dir)
    return path


def remove_scratch(run_id: str | None = None) -> int:
    """Remove the scratch directory of one run (or of every run); return how many went."""
    root = scratch_root()
    targets = [root / _safe_name(run_id)] if run_id else (list(root.iterdir()) if root.is_dir() else [])
    removed = 0
    for target in targets:
        if target.is_dir():
            shutil.rmtree(target, ignore_errors=True)
            removed += 1
    return removed


def register_live(name: str) -> None:
    """Remember a started container so exit and signal handlers can remove it."""
    with _live_lock:
        _live.add(name)


def unregister_live(name: str) -> None:
    """Forget a container (it is being removed)."""
    with _live_lock:
        _live.discard(name)


def remove_live() -> int:
    """Remove every container this process started and has not removed yet, and its scratch."""
    from sandbox.docker.engine import docker_client

    with _live_lock:
        names = list(_live)
        _live.clear()
        scratch = list(_scratch)
        _scratch.clear()
    for directory in scratch:
        shutil.rmtree(directory, ignore_errors=True)
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
    """Remove containers of one run (or of all runs), then its scratch directory.

    Returns:
        How many containers were removed.
    """
    from sandbox.docker.engine import docker_client

    filters = [f"{MANAGED_LABEL}=true"] + ([f"{RUN_LABEL}={run_id}"] if run_id else [])
    api = docker_client().api
    removed = 0
    for info in api.containers(all=True, filters={"label": filters}):
        try:
            api.remove_container(info["Id"], force=True)
            removed += 1
        except Exception:
            continue
    remove_scratch(run_id)
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


def run_id_of(value: str) -> str:
    """A run id, or the run id a run directory's ``manifest.json`` records.

    Raises:
        UserInputError: a directory without a readable manifest, or a path that does not exist.
    """
    from sandbox.errors import UserInputError

    path = Path(value)
    if not path.is_dir():
        if "/" in value:
            raise UserInputError(f"no run directory {value}: give a run id or a directory under runs/")
        return value
    manifest = path / "manifest.json"
    try:
        run_id = json.loads(manifest.read_text())["run_id"]
    except (OSError, ValueError, KeyError, TypeError):
        raise UserInputError(f"{path} is not a run directory (no readable manifest.json with a run_id); "
                             "give a run id or a directory under runs/") from None
    if not isinstance(run_id, str) or not run_id:
        raise UserInputError(f"{manifest} names no run id")
    return run_id


def main(argv: list[str] | None = None) -> int:
    """Command line entry point."""
    parser = argparse.ArgumentParser(prog="python -m sandbox.cleanup", description=__doc__)
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--run-id", metavar="ID|RUN_DIR", help="only this run's containers: its id, or its run "
                       "directory (runs/<run id>)")
    which.add_argument("--all", action="store_true", help="every sandbox container of this project on this "
                       "machine, of every run")
    args = parser.parse_args(argv)
    from sandbox.errors import DockerUnavailable, UserInputError

    if not args.run_id and not args.all:
        print("error: name what to remove: --run-id ID (or a run directory, e.g. --run-id runs/<run id>); "
              "--all removes every sandbox container of every run on this machine", file=sys.stderr)
        return 2
    try:
        run_id = run_id_of(args.run_id) if args.run_id else None
        count = remove_by_label(run_id)
    except (DockerUnavailable, UserInputError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"removed {count} sandbox container(s)" + (f" of run {run_id}" if run_id else " of every run"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
