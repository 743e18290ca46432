"""The warm pool hands each episode a fresh, started container, never one another episode used,
its containers are cleaned up like any sandbox, and each batch has its own pool."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import pytest
from dockerutil import containers_with_label

from sandbox.docker.engine import docker_client
from sandbox.docker.lifecycle import DockerSandbox, pooled_sandboxes
from sandbox.docker.pool import WarmPool
from sandbox.run.executor import LocalExecutor
from sandbox.run.loading import load_run_config
from sandbox.spec import SandboxSpec

pytestmark = pytest.mark.docker


@pytest.fixture
def warm_pool() -> Iterator[WarmPool]:
    with WarmPool(2) as pool:
        yield pool


def _wait_for_pool(pool: WarmPool, spec: SandboxSpec, count: int) -> None:
    deadline = time.monotonic() + 60
    while pool.ready(spec) < count and time.monotonic() < deadline:
        time.sleep(0.05)
    assert pool.ready(spec) >= count, f"the pool holds {pool.ready(spec)} warm containers, not {count}"


def _removed_soon(container_id: str) -> bool:
    deadline = time.monotonic() + 60
    while container_id in {c["Id"] for c in docker_client().api.containers(all=True)}:
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def test_reset_takes_a_fresh_warm_container_never_a_used_one(run_id: str, warm_pool: WarmPool) -> None:
    spec = SandboxSpec(run_id=run_id)
    warm_pool.prewarm(spec)
    _wait_for_pool(warm_pool, spec, 2)
    seen: set[str] = set()
    for trial in range(3):
        started = time.monotonic()
        box = DockerSandbox(spec.model_copy(update={"episode_id": f"{run_id}/m/{trial}"}), warm_pool).start()
        took = time.monotonic() - started
        try:
            assert box.id not in seen
            seen.add(box.id)
            assert f"m_{trial}" in box.name  # renamed after its episode
            assert box.exec("ls -A /workspace").stdout == ""  # untouched
            box.write_file("/workspace/mine.txt", f"episode {trial}")
            if trial == 0:
                assert took < 0.5  # taken from the pool, not created
        finally:
            container_id = box.id
            box.close()
        assert _removed_soon(container_id)  # removed (in the background: off the episode's path), not reused
        _wait_for_pool(warm_pool, spec, 2 if trial else 1)  # a spec is refilled once a second sandbox asked
    warm_pool.close()
    assert containers_with_label(run_id) == []


def test_the_pool_starts_no_container_that_no_episode_will_take(run_id: str) -> None:
    pool = WarmPool(4, expected=4)  # a run with four sandboxes to start
    boxes: list[DockerSandbox] = []
    spec = SandboxSpec(run_id=run_id)

    def start(episode: str, **update: object) -> float:
        started = time.monotonic()
        box = DockerSandbox(spec.model_copy(update={"episode_id": f"{run_id}/{episode}", **update}), pool)
        boxes.append(box.start())
        return time.monotonic() - started

    try:
        start("unique", memory="300m")  # a spec asked for once is never pooled
        start("a")
        time.sleep(1)
        assert pool.ready(spec) == 0 and len(containers_with_label(run_id)) == 2
        start("b")  # asked for twice: pooled, for the one sandbox still to come
        _wait_for_pool(pool, spec, 1)
        time.sleep(1)
        assert pool.ready(spec) == 1 and len(containers_with_label(run_id)) == 4
        assert start("c") < 0.5  # the warm one
        time.sleep(1)
        assert pool.ready(spec) == 0 and len(containers_with_label(run_id)) == 4  # nothing more started
    finally:
        for box in boxes:
            box.close()
        pool.close()
    assert containers_with_label(run_id) == []


def test_a_reset_waits_for_a_warm_container_already_starting_instead_of_starting_another(run_id: str) -> None:
    pool = WarmPool(2, expected=4)
    spec = SandboxSpec(run_id=run_id)
    boxes = [DockerSandbox(spec.model_copy(update={"episode_id": f"{run_id}/{i}"}), pool) for i in range(4)]
    try:
        boxes[0].start()
        boxes[1].start()  # asked for twice: two warm containers start for the last two episodes
        for box in boxes[2:]:
            box.start()  # at once, before they are ready
        assert len(set(containers_with_label(run_id))) == 4  # four episodes, four containers
        assert all(box.exec("true").ok for box in boxes)
    finally:
        for box in boxes:
            box.close()
        pool.close()
    assert containers_with_label(run_id) == []


def test_two_batches_in_one_process_neither_share_nor_disturb_each_others_pool(run_id: str) -> None:
    """Batch A's warm containers are never handed to batch B's episodes (same spec even), and B's
    sizing and end (which empties B's pool) leave A's pool as it was."""
    spec = SandboxSpec(run_id=run_id)
    first, second = WarmPool(2, expected=3), WarmPool(1, expected=5)
    try:
        first.prewarm(spec)
        _wait_for_pool(first, spec, 2)
        warm = set(containers_with_label(run_id))
        assert second.ready(spec) == 0 and len(warm) == 2
        box = pooled_sandboxes(second)(spec.model_copy(update={"episode_id": "b/0"}))
        with box:  # B's episode: a container of its own, not one of A's warm ones
            assert isinstance(box, DockerSandbox) and box.pool is second
            assert f"/{box.name}" not in warm and first.ready(spec) == 2
        second.close()  # B's batch ends
        assert first.ready(spec) == 2 and (first.size, first.expected) == (2, 3)
        assert warm <= set(containers_with_label(run_id))  # A's warm containers still there
        started = time.monotonic()
        with DockerSandbox(spec.model_copy(update={"episode_id": "a/0"}), first) as taken:
            assert time.monotonic() - started < 0.5 and taken.exec("ls -A /workspace").stdout == ""
    finally:
        second.close()
        first.close()
    assert containers_with_label(run_id) == []


def test_each_batch_executor_owns_its_pool() -> None:
    config = load_run_config(["scenario=filechore", "model=scripted/chore-tidy", "warm_pool=2", "concurrency=2"])

    async def two_batches() -> tuple[LocalExecutor, LocalExecutor]:
        first, second = LocalExecutor(config, None), LocalExecutor(config, None)
        await first.start(episodes=4)
        await second.start(episodes=1)
        await second.close()
        return first, second

    first, second = asyncio.run(two_batches())
    try:
        assert first.warm_pool is not None and second.warm_pool is not None
        assert first.warm_pool is not second.warm_pool
        assert (first.warm_pool.size, first.warm_pool.expected) == (2, 4)  # B's start and close changed nothing
        assert second.warm_pool.size == 0
    finally:
        asyncio.run(first.close())
