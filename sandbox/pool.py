"""A warm pool: started, never-used containers waiting for the next episode's reset.

Off by default for the library; the runner turns it on for its batches. ``configure(n)`` (or
``SANDBOX_WARM_POOL=n``) keeps up to ``n`` started containers ready per distinct spec (image,
limits, mounts, run id — everything but the episode id); :meth:`DockerSandbox.start` takes one
when its spec matches, so container start-up overlaps the episodes' model calls instead of
adding to them. A pooled container is handed out once and removed at its episode's end, never
returned: no episode sees a container another touched.

Nothing is started that no episode will take, as far as the pool can know: a spec gets warm
containers only once a second sandbox asks for it (a spec unique to its episode, such as one
with a per-episode mount, is never pooled), and ``configure(n, expected=k)`` caps the warm
containers at the ``k`` sandboxes the run will still start.

Pooled containers are ordinary sandboxes for cleanup: labelled with their run id, registered
for removal at exit and on signals, removed by ``python -m sandbox.cleanup --run-id``. Docker
labels cannot change after creation, so a pooled container is labelled
``sandbox.episode-id=warm`` and *renamed* when taken, to ``sandbox-<run>-<episode>-<hex>``.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import threading
import time
import uuid
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from sandbox.channel import SOCKET_DIR, SOCKET_NAME, ChannelBroken, ChannelTimeout, call, connect_unix
from sandbox.cleanup import register_live, run_scratch_dir, unregister_live
from sandbox.containers import create_container, remove_container, wait_ready
from sandbox.engine import docker_client
from sandbox.errors import SandboxError
from sandbox.spec import SandboxSpec

WARM_EPISODE = "warm"
WAIT_FOR_STARTING = 30.0
"""Seconds a reset waits for a warm container already starting before it starts its own."""
_NAME_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")


@dataclass(frozen=True)
class Warm:
    """A started container with a live supervisor, not yet used by any episode."""

    name: str
    container_id: str
    socket_dir: Path


class _Pool:
    """Ready containers of one spec, refilled in the background."""

    def __init__(self, spec: SandboxSpec) -> None:
        self.spec = spec.model_copy(update={"episode_id": WARM_EPISODE})
        self.ready: deque[Warm] = deque()
        self.starting = 0
        self.asked = 0
        self.waiting = 0
        self.lock = threading.Lock()
        self.changed = threading.Condition(self.lock)

    def take(self, wait: float) -> Warm | None:
        """A ready container; if none is but one is starting for nobody yet, wait up to ``wait`` s for it."""
        with self.changed:
            if not self.ready and self.starting > self.waiting:
                self.waiting += 1  # it started before this reset asked: waiting beats starting another
                try:
                    self.changed.wait_for(lambda: bool(self.ready) or self.starting == 0, wait)
                finally:
                    self.waiting -= 1
            return self.ready.popleft() if self.ready else None

    def refill(self, target: int, executor: ThreadPoolExecutor) -> None:
        with self.lock:
            if _expected is not None:
                target = min(target, _expected)
            missing = target - len(self.ready) - self.starting
            self.starting += max(0, missing)
        for _ in range(missing):
            executor.submit(self._start_one)

    def _start_one(self) -> None:
        name = f"sandbox-{self.spec.run_id[:12].replace('/', '_')}-{uuid.uuid4().hex[:10]}"
        socket_dir = run_scratch_dir(self.spec.run_id, "supervisor") / uuid.uuid4().hex[:12]
        warm: Warm | None = None
        try:
            socket_dir.mkdir(mode=0o700)
            container_id = create_container(self.spec, name, socket_dir, SOCKET_DIR)
            register_live(name)
            wait_ready(str(socket_dir / SOCKET_NAME), container_id, name)
            warm = Warm(name, container_id, socket_dir)
        except SandboxError:
            _discard(Warm(name, "", socket_dir))
        finally:
            with self.changed:
                self.starting -= 1
                if warm is not None and _target > 0:
                    self.ready.append(warm)
                    warm = None
                self.changed.notify_all()
        if warm is not None:
            _discard(warm)

    def drain(self) -> None:
        with self.lock:
            items, self.ready = list(self.ready), deque()
        for item in items:
            _discard(item)


_target = int(os.environ.get("SANDBOX_WARM_POOL", "0") or 0)
_expected: int | None = None
"""How many more sandboxes the run will start (``None``: unknown)."""
_pools: dict[str, _Pool] = {}
_pools_lock = threading.Lock()
_executor: ThreadPoolExecutor | None = None


def configure(size: int, expected: int | None = None) -> None:
    """Keep up to ``size`` warm containers per spec (0 switches the pool off and empties it).

    Args:
        size: warm containers per spec.
        expected: how many sandboxes the run will start from now on (``None``: unknown);
            the pool never holds more warm containers than that.
    """
    global _target, _expected
    if size < 0 or (expected is not None and expected < 0):
        raise ValueError("the pool size and the expected number of sandboxes cannot be negative")
    _target, _expected = size, expected
    if size == 0:
        drain()


def drain() -> None:
    """Remove every warm container that no episode has taken."""
    with _pools_lock:
        pools = list(_pools.values())
    for pool in pools:
        pool.drain()


def _key(spec: SandboxSpec) -> str:
    return spec.model_dump_json(exclude={"episode_id"})


def prewarm(spec: SandboxSpec, count: int | None = None) -> None:
    """Start filling the pool for ``spec`` now (before the first reset asks for one)."""
    if _target > 0:
        _pool_for(spec).refill(count if count is not None else _target, _get_executor())


def ready(spec: SandboxSpec) -> int:
    """How many warm containers are ready for ``spec``."""
    return len(_pool_for(spec).ready)


def _get_executor() -> ThreadPoolExecutor:
    global _executor
    with _pools_lock:
        if _executor is None:
            _executor = ThreadPoolExecutor(max_workers=4, thread_name_prefix="warm-pool")
        return _executor


def _pool_for(spec: SandboxSpec) -> _Pool:
    with _pools_lock:
        return _pools.setdefault(_key(spec), _Pool(spec))


def take_warm(spec: SandboxSpec) -> Warm | None:
    """A warm container for ``spec`` (renamed after its episode), or ``None``; refills the pool."""
    global _expected
    if _target <= 0 or spec.backend != "docker":
        return None
    pool = _pool_for(spec)
    with _pools_lock:
        pool.asked += 1
        if _expected is not None:
            _expected = max(0, _expected - 1)
    try:
        while (item := pool.take(wait=WAIT_FOR_STARTING)) is not None:
            if _alive(item):
                return _claim(item, spec)
            _discard(item)
        return None
    finally:
        if pool.asked > 1:
            pool.refill(_target, _get_executor())


def _alive(item: Warm) -> bool:
    try:
        call(connect_unix(str(item.socket_dir / SOCKET_NAME)), {"op": "ping"}, deadline=time.monotonic() + 5)
    except (ChannelBroken, ChannelTimeout):
        return False
    return True


def _claim(item: Warm, spec: SandboxSpec) -> Warm:
    """Rename the container after the episode that takes it (its labels cannot change)."""
    episode = _NAME_UNSAFE.sub("_", spec.episode_id)[-48:].strip("_.-") or "episode"
    name = f"sandbox-{spec.run_id[:12].replace('/', '_')}-{episode}-{uuid.uuid4().hex[:6]}"
    try:
        docker_client().api.rename(item.container_id, name)
    except Exception:
        return item
    unregister_live(item.name)
    register_live(name)
    return Warm(name, item.container_id, item.socket_dir)


def _discard(item: Warm) -> None:
    unregister_live(item.name)
    with contextlib.suppress(SandboxError):
        remove_container(item.container_id or item.name)
    shutil.rmtree(item.socket_dir, ignore_errors=True)
