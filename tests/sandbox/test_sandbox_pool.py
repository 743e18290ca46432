"""The warm pool hands each episode a fresh, started container, never one another episode used,
and its containers are cleaned up like any sandbox."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from dockerutil import containers_with_label

from sandbox import pool
from sandbox.engine import docker_client
from sandbox.lifecycle import DockerSandbox
from sandbox.spec import SandboxSpec

pytestmark = pytest.mark.docker


@pytest.fixture
def warm_pool() -> Iterator[None]:
    pool.configure(2)
    yield
    pool.configure(0)


def _wait_for_pool(spec: SandboxSpec, count: int) -> None:
    deadline = time.monotonic() + 60
    while pool.ready(spec) < count and time.monotonic() < deadline:
        time.sleep(0.05)


def _removed_soon(container_id: str) -> bool:
    deadline = time.monotonic() + 60
    while container_id in {c["Id"] for c in docker_client().api.containers(all=True)}:
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def test_reset_takes_a_fresh_warm_container_never_a_used_one(run_id: str, warm_pool: None) -> None:
    spec = SandboxSpec(run_id=run_id)
    pool.prewarm(spec)
    _wait_for_pool(spec, 2)
    seen: set[str] = set()
    for trial in range(3):
        started = time.monotonic()
        box = DockerSandbox(spec.model_copy(update={"episode_id": f"{run_id}/m/{trial}"})).start()
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
        _wait_for_pool(spec, 2)
    pool.configure(0)
    assert containers_with_label(run_id) == []


def test_the_pool_starts_no_container_that_no_episode_will_take(run_id: str) -> None:
    pool.configure(4, expected=4)  # a run with four sandboxes to start
    boxes: list[DockerSandbox] = []
    spec = SandboxSpec(run_id=run_id)

    def start(episode: str, **update: object) -> float:
        started = time.monotonic()
        boxes.append(DockerSandbox(spec.model_copy(update={"episode_id": f"{run_id}/{episode}", **update})).start())
        return time.monotonic() - started

    try:
        start("unique", memory="300m")  # a spec asked for once is never pooled
        start("a")
        time.sleep(1)
        assert pool.ready(spec) == 0 and len(containers_with_label(run_id)) == 2
        start("b")  # asked for twice: pooled, for the one sandbox still to come
        _wait_for_pool(spec, 1)
        time.sleep(1)
        assert pool.ready(spec) == 1 and len(containers_with_label(run_id)) == 4
        assert start("c") < 0.5  # the warm one
        time.sleep(1)
        assert pool.ready(spec) == 0 and len(containers_with_label(run_id)) == 4  # nothing more started
    finally:
        for box in boxes:
            box.close()
        pool.configure(0)
    assert containers_with_label(run_id) == []


def test_a_reset_waits_for_a_warm_container_already_starting_instead_of_starting_another(run_id: str) -> None:
    pool.configure(2, expected=4)
    spec = SandboxSpec(run_id=run_id)
    boxes = [DockerSandbox(spec.model_copy(update={"episode_id": f"{run_id}/{i}"})) for i in range(4)]
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
        pool.configure(0)
    assert containers_with_label(run_id) == []
