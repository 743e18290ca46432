"""The host reaches each sandbox's supervisor over its socket; concurrent requests overlap; when
the socket is unreachable the backend falls back to ``docker exec`` (and records it)."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from sandbox.docker.lifecycle import DockerSandbox
from sandbox.spec import SandboxSpec

pytestmark = pytest.mark.docker


def test_concurrent_commands_on_one_sandbox_overlap(run_id: str) -> None:
    with DockerSandbox(SandboxSpec(run_id=run_id)) as box:
        started = time.monotonic()
        with ThreadPoolExecutor(8) as pool:
            results = list(pool.map(lambda i: box.exec(f"sleep 1; echo {i}"), range(8)))
        took = time.monotonic() - started
    assert [r.stdout for r in results] == [f"{i}\n" for i in range(8)]
    assert took < 4


def test_an_unreachable_socket_falls_back_to_docker_exec_with_the_same_semantics(run_id: str) -> None:
    with DockerSandbox(SandboxSpec(run_id=run_id)) as box:
        Path(box.socket_path).unlink()  # the supervisor runs, but its socket is gone
        assert box.exec("echo via fallback").stdout == "via fallback\n"
        box.write_file("/workspace/f.bin", b"\x00\xff" * 1000)
        assert box.read_file("/workspace/f.bin") == b"\x00\xff" * 1000
        slow = box.exec("sleep 10", timeout=1)
        assert slow.timed_out and slow.duration < 3
        assert box.exec("cat", input="stdin too").stdout == "stdin too"
        assert box.fallbacks == 5
    with DockerSandbox(SandboxSpec(run_id=run_id, channel="docker-exec")) as forced:
        assert forced.exec("id -u").stdout == "1000\n" and forced.fallbacks == 0
