"""The sandbox is isolated and bounded: network, host files, socket, pids, memory, time."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from sandbox.docker.lifecycle import DockerSandbox
from sandbox.errors import SandboxUnavailable
from sandbox.spec import SandboxSpec

pytestmark = pytest.mark.docker


def test_no_network_interfaces_but_loopback(run_id: str) -> None:
    with DockerSandbox(SandboxSpec(run_id=run_id)) as box:
        interfaces = box.exec("ls /sys/class/net").stdout.split()
        routes = box.exec("tail -n +2 /proc/net/route").stdout.strip()
    assert interfaces == ["lo"]
    assert routes == ""


def test_cannot_see_host_files_or_docker_socket(run_id: str) -> None:
    marker = Path("/tmp") / f"host-marker-{uuid.uuid4().hex}"
    marker.write_text("host secret")
    try:
        with DockerSandbox(SandboxSpec(run_id=run_id)) as box:
            assert not box.exec(f"test -e {marker}").ok
            found = box.exec(f"find / -xdev -name {marker.name} 2>/dev/null").stdout
            assert found == ""
            assert not box.exec("test -e /var/run/docker.sock || test -e /run/docker.sock").ok
            assert "docker.sock" not in box.exec("cat /proc/mounts").stdout
    finally:
        marker.unlink()


def test_unprivileged_read_only_root(run_id: str) -> None:
    with DockerSandbox(SandboxSpec(run_id=run_id)) as box:
        assert box.exec("id -u").stdout.strip() == "1000"
        cap_eff = box.exec("grep CapEff /proc/self/status").stdout.split()[1]
        assert int(cap_eff, 16) == 0
        assert not box.exec("touch /etc/evil").ok
        assert box.exec("touch /workspace/ok && echo yes").stdout.strip() == "yes"
        assert "NoNewPrivs:\t1" in box.exec("cat /proc/self/status").stdout


def test_fork_bomb_is_contained(run_id: str) -> None:
    with DockerSandbox(SandboxSpec(run_id=run_id, pids_limit=64)) as box:
        result = box.exec("bomb() { bomb | bomb & }; bomb; sleep 2", timeout=3)
        assert "Cannot fork" in result.stderr  # the pids limit stopped it
        count = int(box.exec("ls -d /proc/[0-9]* | wc -l", timeout=10).stdout or 0)
        after = box.exec("echo alive", timeout=10)
    assert count <= 64
    assert after.stdout.strip() == "alive"


def test_memory_bomb_is_killed(run_id: str) -> None:
    with DockerSandbox(SandboxSpec(run_id=run_id, memory="96m")) as box:
        result = box.exec("python3 -c 'b = bytearray(1024**3); print(len(b))'", timeout=30)
        assert result.exit_code == 137
        assert box.exec("echo alive").stdout.strip() == "alive"


def test_timeout_kills_the_whole_process_tree(run_id: str) -> None:
    with DockerSandbox(SandboxSpec(run_id=run_id)) as box:
        result = box.exec("sleep 300 & (sleep 301 &) ; sleep 302", timeout=1)
        assert result.timed_out and result.exit_code == 124
        assert result.duration < 5
        left = box.exec("cat /proc/[0-9]*/cmdline | tr '\\0' ' '").stdout
    assert "sleep 30" not in left


def test_failing_command_is_a_result_and_output_bound_is_flagged(run_id: str) -> None:
    with DockerSandbox(SandboxSpec(run_id=run_id, max_output_bytes=1000)) as box:
        failed = box.exec("echo oops >&2; exit 3")
        big = box.exec("head -c 5000 /dev/zero | tr '\\0' x")
    assert (failed.exit_code, failed.stderr) == (3, "oops\n")
    assert "[exit code 3]" in failed.as_observation()
    assert big.truncated and big.omitted_bytes == 4000 and len(big.stdout) == 1000
    assert "4000 bytes omitted" in big.as_observation()


def test_files_round_trip_large_and_binary(run_id: str) -> None:
    payload = bytes(range(256)) * 1200  # 300 KiB, every byte value
    with DockerSandbox(SandboxSpec(run_id=run_id)) as box:
        box.write_file("/workspace/deep/dir/blob.bin", payload)
        assert box.read_file("/workspace/deep/dir/blob.bin") == payload
        assert box.exec("stat -c %s /workspace/deep/dir/blob.bin").stdout.strip() == str(len(payload))


def test_dead_container_raises_infrastructure_error(run_id: str) -> None:
    with DockerSandbox(SandboxSpec(run_id=run_id)) as box:
        box.container.kill()
        with pytest.raises(SandboxUnavailable):
            box.exec("echo hi")


def test_write_files_batches_many_files_with_modes(run_id: str) -> None:
    files: dict[str, bytes | str] = {f"/workspace/many/f{i}.txt": f"file {i}\n" for i in range(40)}
    files["/workspace/many/big.bin"] = bytes(range(256)) * 800  # forces a second exec
    with DockerSandbox(SandboxSpec(run_id=run_id)) as box:
        box.write_files(files, mode="0600")
        listing = box.exec("cd /workspace/many && stat -c '%a %s %n' * | sort -k3").stdout.splitlines()
        assert box.read_file("/workspace/many/f7.txt") == b"file 7\n"
        assert box.read_file("/workspace/many/big.bin") == files["/workspace/many/big.bin"]
    assert len(listing) == 41 and all(line.startswith("600 ") for line in listing)
