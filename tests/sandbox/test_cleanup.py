"""Containers are removed on exceptions, SIGINT, SIGTERM, and by the cleanup command."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from dockerutil import containers_with_label

from sandbox.docker.cleanup import main as cleanup_main
from sandbox.docker.cleanup import unregister_live
from sandbox.docker.lifecycle import DockerSandbox
from sandbox.spec import SandboxSpec

pytestmark = pytest.mark.docker
ROOT = Path(__file__).resolve().parents[2]

HOLD_SANDBOX = """
import sys, time
from sandbox.docker.cleanup import install_signal_handlers
from sandbox.docker.lifecycle import DockerSandbox
from sandbox.spec import SandboxSpec
install_signal_handlers()
box = DockerSandbox(SandboxSpec(run_id=sys.argv[1])).start()
print("ready", flush=True)
time.sleep(60)
"""


def test_removed_after_exception(run_id: str) -> None:
    with pytest.raises(RuntimeError), DockerSandbox(SandboxSpec(run_id=run_id)) as box:
        assert containers_with_label(run_id) == [f"/{box.name}"]
        raise RuntimeError("boom")
    assert containers_with_label(run_id) == []


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_removed_after_signal(run_id: str, signum: int) -> None:
    proc = subprocess.Popen([sys.executable, "-c", HOLD_SANDBOX, run_id], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, cwd=ROOT)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
    assert len(containers_with_label(run_id)) == 1
    proc.send_signal(signum)
    proc.wait(timeout=30)
    assert proc.returncode != 0
    assert containers_with_label(run_id) == []


def test_cleanup_command_removes_leftovers_of_a_crashed_run(run_id: str) -> None:
    box = DockerSandbox(SandboxSpec(run_id=run_id)).start()
    unregister_live(box.name)  # as if the process that made it had been killed -9
    assert len(containers_with_label(run_id)) == 1
    result = subprocess.run([sys.executable, "-m", "sandbox.cleanup", "--run-id", run_id],
                            capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "removed 1" in result.stdout
    assert containers_with_label(run_id) == []


def test_without_a_run_the_cleanup_command_asks_for_one_or_all_and_removes_nothing(
        run_id: str, capsys: pytest.CaptureFixture[str]) -> None:
    box = DockerSandbox(SandboxSpec(run_id=run_id)).start()
    try:
        assert cleanup_main([]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "--run-id ID" in err and "--all" in err
        assert len(containers_with_label(run_id)) == 1  # another run's sandbox is left alone
    finally:
        box.close()


def test_the_cleanup_command_takes_a_run_directory(run_id: str, tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    run_dir = tmp_path / "runs" / run_id
    run_dir.mkdir(parents=True)
    (run_dir / "manifest.json").write_text(json.dumps({"run_id": run_id, "scenario": "filechore"}))
    box = DockerSandbox(SandboxSpec(run_id=run_id)).start()
    unregister_live(box.name)  # left by a killed run
    assert cleanup_main(["--run-id", str(run_dir)]) == 0
    assert f"removed 1 sandbox container(s) of run {run_id}" in capsys.readouterr().out
    assert containers_with_label(run_id) == []
    (tmp_path / "empty").mkdir()
    for bad in (str(tmp_path / "empty"), str(tmp_path / "missing" / "run")):
        assert cleanup_main(["--run-id", bad]) == 2
        err = capsys.readouterr().err
        assert err.startswith("error: ") and err.count("\n") == 1 and "give a run id" in err


def test_interrupted_run_keeps_finished_episodes_and_removes_containers(tmp_path: Path) -> None:
    out = tmp_path / "run"
    proc = subprocess.Popen(
        [sys.executable, "-m", "sandbox.run", "scenario=filechore", "trials=40", "concurrency=1",
         f"out={out}"], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "COLUMNS": "200"},
    )
    episodes = out / "episodes.jsonl"
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline and not (episodes.exists() and episodes.read_text().count("\n") >= 2):
        time.sleep(0.2)
    proc.send_signal(signal.SIGINT)
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130, stderr
    assert "Traceback" not in stderr
    lines = [json.loads(line) for line in episodes.read_text().splitlines()]
    finished = [line for line in lines if line["termination"] != "interrupted"]
    assert len(finished) >= 2 and all(line["outcome"] for line in finished)
    assert all(line["error"] for line in lines if line["termination"] == "interrupted")  # in flight: recorded
    run_id = json.loads((out / "manifest.json").read_text())["run_id"]
    assert containers_with_label(run_id) == []
