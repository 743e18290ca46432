"""A warm pool: started, never-used containers waiting for the next episode's reset.

A :class:`WarmPool` belongs to one run (the runner's executor makes one per batch, sized to its
concurrency, and closes it at the batch's end); the sandboxes it opens (see
:func:`sandbox.docker.lifecycle.pooled_sandboxes`) take and return containers through it, and no other
batch of the process sees it. It keeps up to ``size`` started containers ready per distinct spec
(image, limits, mounts, run id — everything but the episode id); :meth:`DockerSandbox.start
<sandbox.docker.lifecycle.DockerSandbox.start>` takes one when its spec matches, so container start-up
overlaps the episodes' model calls instead of adding to them. A pooled container is handed out
once and removed at its episode's end, never returned: no episode sees a container another touched.
The library (no runner) has no pool unless ``SANDBOX_WARM_POOL=n`` asks for one
(:func:`library_pool`).

Nothing is started that no episode will take, as far as the pool can know: a spec gets warm
containers only once a second sandbox asks for it (a spec unique to its episode, such as one
with a per-episode mount, is never pooled), and ``expected=k`` caps the warm containers at the
``k`` sandboxes the run will still start.

Pooled containers are ordinary sandboxes for cleanup: labelled with their run id, registered
for removal at exit and on signals, removed by ``python -m sandbox.cleanup --run-id``. Docker
labels cannot change after creation, so a pooled container is labelled
``sandbox.episode-id=warm`` and *renamed* when taken, to ``sandbox-<run>-<episode>-<hex>``.

**Verified recycling** (opt-in: ``WarmPool(n, recycle=True)`` or ``SANDBOX_RECYCLE=1`` for the
library's pool): a container whose episode ended goes back to the pool instead of being removed,
if its spec allows it (read-only root, no network, no writable host mount, the socket channel).
Its supervisor kills every process, removes every IPC object, empties every writable mount and
restores each mount root (``recycle`` operation, ``sandbox/image/supervisor/recycle.py``); the
pool then compares the container's fingerprint with the one it took when the container was
fresh (:mod:`sandbox.docker.warm`), and hands it to another episode only if they are equal, else
removes it: the next episode gets a fresh one (fail closed). A recyclable container's cgroup
files are hidden from the agent (their counters cannot be reset from inside). What a recycle
cannot reset, and an agent could therefore use to pass a number to the next episode, are kernel
counters that only a new namespace starts again: the last process id, the next inode number of
each tmpfs, the next System V IPC id, and the cumulative CPU, faults and context switches that
``/proc`` shows of PID 1 and of the supervisor. Fresh containers stay the default. A recycled
container keeps the episode label it was created with (labels cannot change); its name follows
each episode.
"""

from __future__ import annotations

import os
import threading
import time
import uuid
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import TracebackType

from sandbox.docker.channel import SOCKET_DIR, SOCKET_NAME, ChannelBroken, ChannelTimeout, call, connect_unix
from sandbox.docker.cleanup import register_live, run_scratch_dir
from sandbox.docker.containers import create_container, wait_ready
from sandbox.docker.warm import (
    PROCESS_RECYCLES,
    RECYCLE_TIMEOUT,
    RecycleTally,
    Warm,
    alive,
    claim,
    discard,
    fingerprint,
    fingerprint_differences,
)
from sandbox.errors import SandboxError
from sandbox.spec import SandboxSpec

WARM_EPISODE = "warm"
WAIT_FOR_STARTING = 30.0
"""Seconds a reset waits for a warm container already starting before it starts its own."""
DRAIN_WAIT = 10.0
"""Seconds switching the pool off waits for containers still starting or being recycled."""


class _SpecPool:
    """Ready containers of one spec, refilled in the background for their :class:`WarmPool`."""

    def __init__(self, owner: WarmPool, spec: SandboxSpec) -> None:
        self.owner = owner
        self.spec = spec.model_copy(update={"episode_id": WARM_EPISODE})
        self.ready: deque[Warm] = deque()
        self.starting = 0
        """Containers starting or being recycled: ready soon."""
        self.in_use = 0
        """Recyclable containers that episodes hold: they come back."""
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

    def refill(self, target: int) -> None:
        with self.lock:
            if self.owner.expected is not None:
                target = min(target, self.owner.expected)
            missing = target - len(self.ready) - self.starting - self.in_use
            self.starting += max(0, missing)
        for _ in range(missing):
            self.owner.starter().submit(self._start_one)

    def _start_one(self) -> None:
        name = f"sandbox-{self.spec.run_id[:12].replace('/', '_')}-{uuid.uuid4().hex[:10]}"
        socket_dir = run_scratch_dir(self.spec.run_id, "supervisor") / uuid.uuid4().hex[:12]
        warm: Warm | None = None
        try:
            socket_dir.mkdir(mode=0o700)
            recycle = self.owner.recyclable(self.spec)
            container_id = create_container(self.spec, name, socket_dir, SOCKET_DIR, recyclable=recycle)
            register_live(name)
            wait_ready(str(socket_dir / SOCKET_NAME), container_id, name)
            warm = Warm(name, container_id, socket_dir, fingerprint(str(socket_dir / SOCKET_NAME)) if recycle else None)
        except SandboxError:
            discard(Warm(name, "", socket_dir))
        self._arrive(warm)

    def _arrive(self, warm: Warm | None) -> None:
        """A container that was starting or being recycled is ready (``None``: it failed)."""
        with self.lock:
            if warm is not None and self.owner.size > 0:
                self.ready.append(warm)
                warm = None
        if warm is not None:
            discard(warm)
        with self.changed:  # after the removal: a drain waiting for this one sees it gone
            self.starting -= 1
            self.changed.notify_all()

    def give_back(self, item: Warm) -> bool:
        """Take back a recyclable container whose episode ended; ``False``: the caller removes it."""
        owner = self.owner
        with self.lock:
            self.in_use = max(0, self.in_use - 1)
            wanted = len(self.ready) + self.starting
            if (item.pristine is None or not owner.recycle or owner.size <= 0 or wanted >= owner.size
                    or (owner.expected is not None and wanted >= owner.expected)):
                return False
            self.starting += 1
        owner.starter().submit(self._recycle_one, item)
        return True

    def _recycle_one(self, item: Warm) -> None:
        assert item.pristine is not None
        differences = ["not answered"]
        try:
            answer = call(connect_unix(item.socket_path), {"op": "recycle", "pristine": item.pristine},
                          deadline=time.monotonic() + RECYCLE_TIMEOUT).result
            differences = list(answer.get("problems") or [])
            if answer.get("error"):
                differences.append(f"{answer['error']}: {answer.get('message')}")
            differences += fingerprint_differences(item.pristine, answer.get("fingerprint") or {})
        except (ChannelBroken, ChannelTimeout) as exc:
            differences = [f"the supervisor did not answer: {exc}"]
        finally:
            self.owner.count_recycle(differences)
            if differences:
                discard(item)
            self._arrive(None if differences else item)

    def drain(self, wait: float = DRAIN_WAIT) -> None:
        """Remove the ready containers, then wait (up to ``wait`` s) for those starting or being
        recycled: they are removed as they arrive, the pool being off."""
        with self.lock:
            items, self.ready = list(self.ready), deque()
        for item in items:
            discard(item)
        with self.changed:
            self.changed.wait_for(lambda: self.starting == 0, wait)


class WarmPool:
    """One run's warm containers, per spec (see the module docstring).

    Use as a context manager, or call :meth:`close` (it removes every container no episode took).

    Args:
        size: warm containers per spec (with ``recycle``, counting those episodes hold); 0: off.
        expected: how many sandboxes the run will start from now on (``None``: unknown); the
            pool never holds more warm containers than that.
        recycle: recycle containers between episodes, verified.

    Attributes:
        recycles: this pool's recycles, verified and refused.
    """

    def __init__(self, size: int = 0, expected: int | None = None, recycle: bool = False) -> None:
        self.size: int = 0
        self.expected: int | None = None
        self.recycle = recycle
        self.recycles = RecycleTally()
        self._pools: dict[str, _SpecPool] = {}
        self._lock = threading.Lock()
        self._starter: ThreadPoolExecutor | None = None
        self._remover: ThreadPoolExecutor | None = None
        self._removing = 0
        self._removed = threading.Condition()
        self.configure(size, expected)

    def configure(self, size: int, expected: int | None = None, recycle: bool | None = None) -> None:
        """Resize the pool: keep up to ``size`` warm containers per spec (0 switches it off and empties it).

        Args:
            size: warm containers per spec.
            expected: how many sandboxes the run will start from now on (``None``: unknown).
            recycle: recycle containers between episodes; ``None`` keeps the current choice.

        Raises:
            ValueError: a negative size or expected number.
        """
        if size < 0 or (expected is not None and expected < 0):
            raise ValueError("the pool size and the expected number of sandboxes cannot be negative")
        self.size, self.expected = size, expected
        if recycle is not None:
            self.recycle = recycle
        if size == 0:
            self.drain()

    def recyclable(self, spec: SandboxSpec) -> bool:
        """Whether containers of ``spec`` are recycled: recycling on, and nothing an episode could
        change outside the container's writable mounts (root read-only, no network, host mounts
        read-only, the supervisor reached on its socket)."""
        return (self.recycle and self.size > 0 and spec.backend == "docker" and spec.read_only_root
                and spec.network_mode == "none" and spec.channel == "socket" and all(m.read_only for m in spec.mounts))

    def take_warm(self, spec: SandboxSpec) -> Warm | None:
        """A warm container for ``spec`` (renamed after its episode), or ``None``; refills the pool."""
        if self.size <= 0 or spec.backend != "docker":
            return None
        pool = self._pool_for(spec)
        with self._lock:
            pool.asked += 1
            if self.expected is not None:
                self.expected = max(0, self.expected - 1)
        try:
            while (item := pool.take(wait=WAIT_FOR_STARTING)) is not None:
                if alive(item):
                    if item.pristine is not None:
                        with pool.lock:
                            pool.in_use += 1
                    return claim(item, spec)
                discard(item)
            return None
        finally:
            if pool.asked > 1:
                pool.refill(self.size)

    def adopt(self, spec: SandboxSpec) -> None:
        """Count a recyclable container that an episode started itself (it will come back)."""
        pool = self._pool_for(spec)
        with pool.lock:
            pool.in_use += 1

    def give_back(self, item: Warm, spec: SandboxSpec) -> bool:
        """Hand a recyclable container whose episode ended to its pool, to be recycled, verified and
        given to another episode. ``False``: the pool does not want it (recycling is off, the pool
        is full, the run needs no more, or it is not recyclable): the caller removes it."""
        if item.pristine is None:
            return False
        return self._pool_for(spec).give_back(item)

    def dispose(self, name: str, socket_dir: Path) -> bool:
        """Remove a used container in the background while the pool is on: an episode's end does
        not wait for the engine (:meth:`drain` does). ``False``: the pool is off, the caller removes it."""
        if self.size <= 0:
            return False
        with self._removed:
            self._removing += 1
        with self._lock:
            if self._remover is None:
                self._remover = ThreadPoolExecutor(max_workers=2, thread_name_prefix="sandbox-remove")
            remover = self._remover
        remover.submit(self._dispose, Warm(name, "", socket_dir))
        return True

    def _dispose(self, item: Warm) -> None:
        try:
            discard(item)
        finally:
            with self._removed:
                self._removing -= 1
                self._removed.notify_all()

    def prewarm(self, spec: SandboxSpec, count: int | None = None) -> None:
        """Start filling the pool for ``spec`` now (before the first reset asks for one)."""
        if self.size > 0:
            self._pool_for(spec).refill(count if count is not None else self.size)

    def ready(self, spec: SandboxSpec) -> int:
        """How many warm containers are ready for ``spec``."""
        return len(self._pool_for(spec).ready)

    def drain(self) -> None:
        """Remove every warm container that no episode has taken, and wait (up to ``DRAIN_WAIT``
        s each) for those starting or being recycled and for the removals under way."""
        with self._lock:
            pools = list(self._pools.values())
        for pool in pools:
            pool.drain()
        with self._removed:
            self._removed.wait_for(lambda: self._removing == 0, DRAIN_WAIT)

    def close(self) -> None:
        """Switch the pool off: remove its warm containers, wait for its removals, stop its threads."""
        self.configure(0)
        with self._lock:
            executors, self._starter, self._remover = [self._starter, self._remover], None, None
        for executor in executors:
            if executor is not None:
                executor.shutdown(wait=False)

    def __enter__(self) -> WarmPool:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def starter(self) -> ThreadPoolExecutor:
        """The threads that start and recycle this pool's containers."""
        with self._lock:
            if self._starter is None:
                self._starter = ThreadPoolExecutor(max_workers=4, thread_name_prefix="warm-pool")
            return self._starter

    def count_recycle(self, differences: list[str]) -> None:
        """Record one recycle: verified (no ``differences``) or refused."""
        self.recycles.record(differences)
        PROCESS_RECYCLES.record(differences)

    def _pool_for(self, spec: SandboxSpec) -> _SpecPool:
        with self._lock:
            key = spec.model_dump_json(exclude={"episode_id"})
            if key not in self._pools:
                self._pools[key] = _SpecPool(self, spec)
            return self._pools[key]


_library: WarmPool | None = None
_library_lock = threading.Lock()


def library_pool() -> WarmPool | None:
    """The pool of sandboxes opened outside a run (no runner gave them one): ``None`` unless
    ``SANDBOX_WARM_POOL=n`` asks for ``n`` warm containers per spec (``SANDBOX_RECYCLE=1``: recycled)."""
    global _library
    size = int(os.environ.get("SANDBOX_WARM_POOL", "0") or 0)
    if size <= 0:
        return None
    with _library_lock:
        if _library is None:
            _library = WarmPool(size, recycle=os.environ.get("SANDBOX_RECYCLE", "") not in ("", "0"))
        return _library
