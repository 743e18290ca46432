"""After the runner is SIGKILLed, cleanup by run id removes every resource of the run: its
containers and its host-side scratch directories (supervisor sockets, control planes)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from dockerutil import containers_with_label

from sandbox.docker.cleanup import scratch_root

pytestmark = pytest.mark.docker
ROOT = Path(__file__).resolve().parents[2]

HOLD = """
import sys, time
from sandbox.docker.cleanup import run_scratch_dir
from sandbox.docker.lifecycle import DockerSandbox
from sandbox.spec import SandboxSpec
plane = run_scratch_dir(sys.argv[1], "control-plane")
(plane / "cluster.sock").write_text("stand-in")
box = DockerSandbox(SandboxSpec(run_id=sys.argv[1])).start()
print(box.socket_path, flush=True)
time.sleep(60)
"""


def test_cleanup_by_run_id_removes_containers_and_scratch_after_sigkill(run_id: str) -> None:
    proc = subprocess.Popen([sys.executable, "-c", HOLD, run_id], stdout=subprocess.PIPE, text=True, cwd=ROOT)
    assert proc.stdout is not None
    socket_path = Path(proc.stdout.readline().strip())
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)
    run_dir = scratch_root() / run_id
    assert socket_path.is_socket() and socket_path.is_relative_to(run_dir)
    assert (run_dir / "control-plane" / "cluster.sock").exists()
    assert len(containers_with_label(run_id)) == 1
    result = subprocess.run([sys.executable, "-m", "sandbox.cleanup", "--run-id", run_id],
                            capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert result.returncode == 0, result.stderr
    assert containers_with_label(run_id) == []
    assert not run_dir.exists()
