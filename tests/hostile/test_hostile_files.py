"""Files the agent plants (FIFOs, devices, huge or binary files) cannot hang a step or flood
the model; and the container's log cannot fill the host's disk."""

from __future__ import annotations

import os
import time

import pytest

from environments.filechore.env import FileChoreEnv
from sandbox.docker.lifecycle import DockerSandbox
from sandbox.errors import SandboxFileTooLarge, SandboxSpecialFile
from sandbox.spec import SandboxSpec
from sandbox.tools import ToolCall

pytestmark = pytest.mark.docker


def test_fifos_devices_and_sockets_are_refused_at_once(run_id: str) -> None:
    with DockerSandbox(SandboxSpec(run_id=run_id)) as box:
        box.exec("mkfifo /workspace/pipe && ln -s /workspace/pipe /workspace/link && "
                 "python3 -c 'import socket; socket.socket(socket.AF_UNIX).bind(\"/workspace/sock\")'")
        for path in ("/workspace/pipe", "/workspace/link", "/dev/zero", "/dev/urandom", "/workspace/sock"):
            started = time.monotonic()
            with pytest.raises(SandboxSpecialFile):
                box.read_file(path)
            assert time.monotonic() - started < 2, path
        with pytest.raises(SandboxSpecialFile):
            box.write_file("/workspace/pipe", "x")
        with pytest.raises(SandboxFileTooLarge) as large:
            box.read_file("/proc/self/status", max_bytes=8)
        assert large.value.limit == 8


def test_observations_share_one_cap_marked_where_cut_and_binary_shown_as_such(run_id: str) -> None:
    env = FileChoreEnv(run_id=run_id, max_observation_bytes=4096)
    try:
        env.reset(seed=1)
        env.step(ToolCall(name="bash", arguments={"command": "head -c 16000000 /dev/urandom > noise.bin; "
                                                   "seq 1 200000 > numbers.txt"}))
        noise, *_ = env.step(ToolCall(name="read_file", arguments={"path": "noise.bin"}))
        assert len(noise) < 200 and "binary content: 16000000 bytes" in noise
        numbers, *_ = env.step(ToolCall(name="read_file", arguments={"path": "numbers.txt"}))
        assert len(numbers.encode()) < 4096 + 200
        assert numbers.startswith("1\n2\n") and numbers.rstrip().endswith("200000")
        assert "bytes omitted ...]" in numbers and " of 1288895 bytes" in numbers
        shell, *_ = env.step(ToolCall(name="bash", arguments={"command": "cat numbers.txt"}))
        assert len(shell.encode()) < 4096 + 200 and " of 1288895 bytes" in shell
    finally:
        env.close()


def test_an_agents_own_exit_124_is_not_reported_as_a_timeout(run_id: str) -> None:
    env = FileChoreEnv(run_id=run_id)
    try:
        env.reset(seed=1)
        own, *_ = env.step(ToolCall(name="bash", arguments={"command": "exit 124"}))
        real, *_ = env.step(ToolCall(name="bash", arguments={"command": "sleep 5", "timeout": 0.5}))
    finally:
        env.close()
    assert "[exit code 124]" in own and "timed out" not in own
    assert "[command timed out and was killed]" in real


def test_the_container_log_cannot_fill_the_host(run_id: str) -> None:
    with DockerSandbox(SandboxSpec(run_id=run_id, log_max_bytes="1m")) as box:
        agent = box.exec("head -c 50000000 /dev/zero > /proc/1/fd/1", timeout=20)
        assert agent.exit_code != 0  # the agent cannot even open the container's log
        root = box.exec("head -c 20000000 /dev/zero | tr '\\0' x > /proc/1/fd/1", timeout=20, user="root")
        assert root.ok, root.stderr  # the harness (root) can, and still the log stays bounded
        info = box.container.attrs
        log_path = info["LogPath"]
        assert info["HostConfig"]["LogConfig"]["Config"]["max-size"] == "1m"
        assert os.path.getsize(log_path) <= 1_200_000
