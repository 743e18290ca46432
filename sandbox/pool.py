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

**Verified recycling** (opt-in: ``configure(n, recycle=True)`` or ``SANDBOX_RECYCLE=1``): a
container whose episode ended goes back to the pool instead of being removed, if its spec
allows it (read-only root, no network, no writable host mount, the socket channel). Its
supervisor kills every process, removes every IPC object, empties every writable mount and
restores each mount root (``recycle`` operation, ``sandbox/image/supervisor/recycle.py``); the
pool then compares the container's fingerprint with the one it took when the container was
fresh, and hands it to another episode only if they are equal, else removes it: the next
episode gets a fresh one (fail closed). A recyclable container's cgroup files are hidden from
the agent (their counters cannot be reset from inside). What a recycle cannot reset, and an
agent could therefore use to pass a number to the next episode, are kernel counters that only
a new namespace starts again: the last process id, the next inode number of each tmpfs, the
next System V IPC id, and the cumulative CPU, faults and context switches that ``/proc`` shows
of PID 1 and of the supervisor. Fresh containers stay the default. A recycled container keeps
the episode label it was created with (labels cannot change); its name follows each episode.
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
from typing import Any

from sandbox.channel import SOCKET_DIR, SOCKET_NAME, ChannelBroken, ChannelTimeout, call, connect_unix
from sandbox.cleanup import register_live, run_scratch_dir, unregister_live
from sandbox.containers import create_container, remove_container, wait_ready
from sandbox.engine import docker_client
from sandbox.errors import SandboxError
from sandbox.spec import SandboxSpec

Fingerprint = dict[str, Any]
"""What the supervisor's ``recycle`` operation reports of a container (JSON)."""

WARM_EPISODE = "warm"
WAIT_FOR_STARTING = 30.0
"""Seconds a reset waits for a warm container already starting before it starts its own."""
RECYCLE_TIMEOUT = 30.0
DRAIN_WAIT = 10.0
"""Seconds switching the pool off waits for containers still starting or being recycled."""
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


class _Pool:
    """Ready containers of one spec, refilled in the background."""

    def __init__(self, spec: SandboxSpec) -> None:
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

    def refill(self, target: int, executor: ThreadPoolExecutor) -> None:
        with self.lock:
            if _expected is not None:
                target = min(target, _expected)
            missing = target - len(self.ready) - self.starting - self.in_use
            self.starting += max(0, missing)
        for _ in range(missing):
            executor.submit(self._start_one)

    def _start_one(self) -> None:
        name = f"sandbox-{self.spec.run_id[:12].replace('/', '_')}-{uuid.uuid4().hex[:10]}"
        socket_dir = run_scratch_dir(self.spec.run_id, "supervisor") / uuid.uuid4().hex[:12]
        warm: Warm | None = None
        try:
            socket_dir.mkdir(mode=0o700)
            recycle = recyclable(self.spec)
            container_id = create_container(self.spec, name, socket_dir, SOCKET_DIR, recyclable=recycle)
            register_live(name)
            wait_ready(str(socket_dir / SOCKET_NAME), container_id, name)
            warm = Warm(name, container_id, socket_dir, fingerprint(str(socket_dir / SOCKET_NAME)) if recycle else None)
        except SandboxError:
            _discard(Warm(name, "", socket_dir))
        self._arrive(warm)

    def _arrive(self, warm: Warm | None) -> None:
        """A container that was starting or being recycled is ready (``None``: it failed)."""
        with self.lock:
            if warm is not None and _target > 0:
                self.ready.append(warm)
                warm = None
        if warm is not None:
            _discard(warm)
        with self.changed:  # after the removal: a drain waiting for this one sees it gone
            self.starting -= 1
            self.changed.notify_all()

    def give_back(self, item: Warm) -> bool:
        """Take back a recyclable container whose episode ended; ``False``: the caller removes it."""
        with self.lock:
            self.in_use = max(0, self.in_use - 1)
            wanted = len(self.ready) + self.starting
            if (item.pristine is None or not _recycle or _target <= 0 or wanted >= _target
                    or (_expected is not None and wanted >= _expected)):
                return False
            self.starting += 1
        _get_executor().submit(self._recycle_one, item)
        return True

    def _recycle_one(self, item: Warm) -> None:
        global recycled, refused
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
            with self.lock:
                if differences:
                    refused += 1
                    last_refusals.append(differences[:5])
                    del last_refusals[:-8]
                else:
                    recycled += 1
            if differences:
                _discard(item)
            self._arrive(None if differences else item)

    def drain(self, wait: float = DRAIN_WAIT) -> None:
        """Remove the ready containers, then wait (up to ``wait`` s) for those starting or being
        recycled: they are removed as they arrive, the pool being off."""
        with self.lock:
            items, self.ready = list(self.ready), deque()
        for item in items:
            _discard(item)
        with self.changed:
            self.changed.wait_for(lambda: self.starting == 0, wait)


_target = int(os.environ.get("SANDBOX_WARM_POOL", "0") or 0)
_expected: int | None = None
"""How many more sandboxes the run will start (``None``: unknown)."""
_recycle = os.environ.get("SANDBOX_RECYCLE", "") not in ("", "0")
recycled = 0
"""Containers recycled and verified since the process started."""
refused = 0
"""Containers whose recycle failed its check (removed; the next episode got a fresh one)."""
last_refusals: list[list[str]] = []
"""Why the last few recycles were refused (the first differences found)."""
_pools: dict[str, _Pool] = {}
_pools_lock = threading.Lock()
_executor: ThreadPoolExecutor | None = None
_remover: ThreadPoolExecutor | None = None
_removing = 0
_removed = threading.Condition()


def configure(size: int, expected: int | None = None, recycle: bool | None = None) -> None:
    """Keep up to ``size`` warm containers per spec (0 switches the pool off and empties it).

    Args:
        size: warm containers per spec (with ``recycle``, counting those episodes hold).
        expected: how many sandboxes the run will start from now on (``None``: unknown);
            the pool never holds more warm containers than that.
        recycle: recycle containers between episodes, verified (see the module docstring);
            ``None`` keeps the current choice (off, or ``SANDBOX_RECYCLE``).
    """
    global _target, _expected, _recycle
    if size < 0 or (expected is not None and expected < 0):
        raise ValueError("the pool size and the expected number of sandboxes cannot be negative")
    _target, _expected = size, expected
    if recycle is not None:
        _recycle = recycle
    if size == 0:
        drain()


def recyclable(spec: SandboxSpec) -> bool:
    """Whether containers of ``spec`` are recycled: recycling on, and nothing an episode could
    change outside the container's writable mounts (root read-only, no network, host mounts
    read-only, the supervisor reached on its socket)."""
    return (_recycle and _target > 0 and spec.backend == "docker" and spec.read_only_root
            and spec.network_mode == "none" and spec.channel == "socket" and all(m.read_only for m in spec.mounts))


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


def adopt(spec: SandboxSpec) -> None:
    """Count a recyclable container that an episode started itself (it will come back)."""
    pool = _pool_for(spec)
    with pool.lock:
        pool.in_use += 1


def give_back(item: Warm, spec: SandboxSpec) -> bool:
    """Hand a recyclable container whose episode ended to its pool, to be recycled, verified and
    given to another episode. ``False``: the pool does not want it (recycling is off, the pool
    is full, the run needs no more, or it is not recyclable): the caller removes it."""
    if item.pristine is None:
        return False
    return _pool_for(spec).give_back(item)


def drain() -> None:
    """Remove every warm container that no episode has taken, and wait (up to ``DRAIN_WAIT``
    s each) for those starting or being recycled and for the removals under way."""
    with _pools_lock:
        pools = list(_pools.values())
    for pool in pools:
        pool.drain()
    with _removed:
        _removed.wait_for(lambda: _removing == 0, DRAIN_WAIT)


def dispose(name: str, socket_dir: Path) -> bool:
    """Remove a used container in the background while the pool is on: an episode's end does
    not wait for the engine (``drain`` does). ``False``: the pool is off, the caller removes it."""
    global _remover, _removing
    if _target <= 0:
        return False
    with _removed:
        _removing += 1
    with _pools_lock:
        if _remover is None:
            _remover = ThreadPoolExecutor(max_workers=2, thread_name_prefix="sandbox-remove")
        remover = _remover
    remover.submit(_dispose, Warm(name, "", socket_dir))
    return True


def _dispose(item: Warm) -> None:
    global _removing
    try:
        _discard(item)
    finally:
        with _removed:
            _removing -= 1
            _removed.notify_all()


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
                if item.pristine is not None:
                    with pool.lock:
                        pool.in_use += 1
                return _claim(item, spec)
            _discard(item)
        return None
    finally:
        if pool.asked > 1:
            pool.refill(_target, _get_executor())


def _alive(item: Warm) -> bool:
    try:
        call(connect_unix(item.socket_path), {"op": "ping"}, deadline=time.monotonic() + 5)
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
    return Warm(name, item.container_id, item.socket_dir, item.pristine)


def _discard(item: Warm) -> None:
    unregister_live(item.name)
    with contextlib.suppress(SandboxError):
        remove_container(item.container_id or item.name)
    shutil.rmtree(item.socket_dir, ignore_errors=True)
