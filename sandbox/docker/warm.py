"""A warm container, and what a warm pool (:mod:`sandbox.docker.pool`) does with one.

It checks that the container still answers (:func:`alive`), renames it after the episode that
takes it (:func:`claim`), removes it (:func:`discard`), and, for verified recycling, takes its
fingerprint when fresh (:func:`fingerprint`) and compares it after a recycle
(:func:`fingerprint_differences`).
"""

from __future__ import annotations

import contextlib
import re
import shutil
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sandbox.docker.channel import SOCKET_NAME, ChannelBroken, ChannelTimeout, call, connect_unix
from sandbox.docker.cleanup import register_live, unregister_live
from sandbox.docker.containers import remove_container
from sandbox.docker.engine import docker_client
from sandbox.errors import SandboxError
from sandbox.spec import SandboxSpec

Fingerprint = dict[str, Any]
"""What the supervisor's ``recycle`` operation reports of a container (JSON)."""

RECYCLE_TIMEOUT = 30.0
_NAME_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")


@dataclass(frozen=True)
class Warm:
    """A started container with a live supervisor, fresh or recycled and verified.

    Attributes:
        pristine: its fingerprint when it was fresh (``None``: not recyclable).
    """

    name: str
    container_id: str
    socket_dir: Path
    pristine: Fingerprint | None = None

    @property
    def socket_path(self) -> str:
        return str(self.socket_dir / SOCKET_NAME)


class RecycleTally:
    """Recycles verified and refused: one pool's, or (:data:`PROCESS_RECYCLES`) the process's.

    Attributes:
        recycled: containers recycled and verified.
        refused: containers whose recycle failed its check (removed; the next episode got a fresh one).
        last_refusals: why the last few recycles were refused (the first differences found).
    """

    def __init__(self) -> None:
        self.recycled = 0
        self.refused = 0
        self.last_refusals: list[list[str]] = []
        self._lock = threading.Lock()

    def record(self, differences: list[str]) -> None:
        """Count one recycle: verified (no ``differences``) or refused."""
        with self._lock:
            if differences:
                self.refused += 1
                self.last_refusals.append(differences[:5])
                del self.last_refusals[:-8]
            else:
                self.recycled += 1


PROCESS_RECYCLES = RecycleTally()
"""Every pool's recycles in this process (a benchmark's count, as :data:`sandbox.docker.containers.created`)."""


def fingerprint(socket_path: str) -> Fingerprint:
    """A fresh container's fingerprint (taken before any episode uses it).

    Raises:
        SandboxError: the supervisor did not answer.
    """
    try:
        answer = call(connect_unix(socket_path), {"op": "recycle"}, deadline=time.monotonic() + RECYCLE_TIMEOUT)
    except (ChannelBroken, ChannelTimeout) as exc:
        raise SandboxError(f"the supervisor did not give its fingerprint: {exc}") from exc
    if "fingerprint" not in answer.result:
        raise SandboxError(f"the supervisor did not give its fingerprint: {answer.result}")
    return dict(answer.result["fingerprint"])


def fingerprint_differences(pristine: Fingerprint, now: Fingerprint) -> list[str]:
    """Where ``now`` differs from ``pristine`` (a mount root's access time, which reading it
    changes, excepted); empty when the container is as it was fresh."""
    def comparable(print_: Fingerprint) -> Fingerprint:
        roots = {point: {k: v for k, v in state.items() if k != "atime_ns"}
                 for point, state in (print_.get("roots") or {}).items()}
        return {**print_, "roots": roots}

    before, after = comparable(pristine), comparable(now)
    out = []
    for key in sorted(set(before) | set(after)):
        if before.get(key) != after.get(key):
            if isinstance(before.get(key), dict) and isinstance(after.get(key), dict):
                inner = sorted(k for k in set(before[key]) | set(after[key]) if before[key].get(k) != after[key].get(k))
                out += [f"{key} {k}: {str(before[key].get(k))[:200]} -> {str(after[key].get(k))[:200]}" for k in inner]
            else:
                out.append(f"{key}: {str(before.get(key))[:200]} -> {str(after.get(key))[:200]}")
    return out


def alive(item: Warm) -> bool:
    """Whether the container's supervisor still answers a ping."""
    try:
        call(connect_unix(item.socket_path), {"op": "ping"}, deadline=time.monotonic() + 5)
    except (ChannelBroken, ChannelTimeout):
        return False
    return True


def claim(item: Warm, spec: SandboxSpec) -> Warm:
    """Rename the container after the episode that takes it (its labels cannot change)."""
    episode = _NAME_UNSAFE.sub("_", spec.episode_id)[-48:].strip("_.-") or "episode"
    name = f"sandbox-{spec.run_id[:12].replace('/', '_')}-{episode}-{uuid.uuid4().hex[:6]}"
    try:
        docker_client().api.rename(item.container_id, name)
    except Exception:
        return item
    unregister_live(item.name)
    register_live(name)
    return Warm(name, item.container_id, item.socket_dir, item.pristine)


def discard(item: Warm) -> None:
    """Remove the container and its scratch directory (whatever state it is in)."""
    unregister_live(item.name)
    with contextlib.suppress(SandboxError):
        remove_container(item.container_id or item.name)
    shutil.rmtree(item.socket_dir, ignore_errors=True)
