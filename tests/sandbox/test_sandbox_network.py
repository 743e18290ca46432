"""A sandbox at ``network_mode=none`` (created with the engine's network disabled) has only a
loopback interface, in a network namespace of its own, where ``localhost`` resolves and serves."""

from __future__ import annotations

import errno
import os

import pytest

from sandbox.docker.lifecycle import DockerSandbox
from sandbox.spec import SandboxSpec

pytestmark = pytest.mark.docker

LOOPBACK_ROUND_TRIP = """
import socket
server = socket.create_server(("localhost", 0))
client = socket.create_connection(("localhost", server.getsockname()[1]))
peer, _ = server.accept()
client.sendall(b"ping")
print(peer.recv(4).decode())
"""

REACH_OUTSIDE = """
import socket
for address in (("1.1.1.1", 53), ("10.0.0.1", 80)):
    try:
        socket.create_connection(address, timeout=2)
        print("reached", address)
    except OSError as exc:
        print(exc.errno)
"""


def test_loopback_only_in_its_own_namespace_and_localhost_serves(run_id: str) -> None:
    with DockerSandbox(SandboxSpec(run_id=run_id)) as box:
        assert box.exec("ls /sys/class/net").stdout.split() == ["lo"]
        assert box.exec("readlink /proc/self/ns/net").stdout.strip() != os.readlink("/proc/self/ns/net")
        assert box.exec(["python3", "-c", LOOPBACK_ROUND_TRIP]).stdout == "ping\n"
        assert "localhost" in box.read_file("/etc/hosts").decode()
        assert not box.exec("echo x > /etc/hosts").ok  # read-only, as Docker's own
        outside = box.exec(["python3", "-c", REACH_OUTSIDE]).stdout
    assert outside.split() == [str(errno.ENETUNREACH)] * 2  # no route at all: not even a timeout
