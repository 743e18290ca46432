"""Fault tolerance with the fake model server and real containers: flaky APIs, malformed tool
calls, killed containers, a runner stopped with SIGINT or killed with SIGKILL."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from dockerutil import containers_with_label

from sandbox.agents.fake_server import FakeModelServer
from sandbox.agents.policy import make_policy
from sandbox.docker.engine import docker_client
from sandbox.run.batch import run_batch
from sandbox.run.loading import load_run_config
from sandbox.spec import RUN_LABEL

pytestmark = pytest.mark.docker
ROOT = Path(__file__).resolve().parents[2]
FINISHED = {"terminated", "truncated", "agent_stopped", "step_limit"}


class ContainerKiller(threading.Thread):
    """Kills ``count`` running containers of a run, at random moments, while episodes play."""

    def __init__(self, run_id: str, count: int) -> None:
        super().__init__(daemon=True)
        self.run_id, self.count, self.killed = run_id, count, 0
        self.done = threading.Event()

    def run(self) -> None:
        api, rng = docker_client().api, random.Random(7)
        time.sleep(1.0)
        while self.killed < self.count and not self.done.wait(rng.uniform(0.3, 1.2)):
            running = api.containers(filters={"label": f"{RUN_LABEL}={self.run_id}", "status": "running"})
            if running:
                try:
                    api.kill(rng.choice(running)["Id"])
                    self.killed += 1
                except Exception:
                    continue


async def test_100_episodes_with_flaky_model_malformed_calls_and_killed_containers(run_id: str,
                                                                                   tmp_path: Path) -> None:
    rates = {"429": 0.04, "500": 0.03, "timeout": 0.03, "bad_tool_arguments": 0.05}
    with FakeModelServer(make_policy("chore-tidy"), fault_rates=rates, timeout_seconds=2.0, seed=3) as server:
        config = load_run_config([
            "scenario=filechore", "model=openai/fake-model", f"api_base={server.base_url}", "trials=100",
            "concurrency=16", "timeout=1", "num_retries=1", "retry_backoff=0.05", "retry_errors=0",
            f"out={tmp_path}"])
        killer = ContainerKiller(run_id, count=5)
        killer.start()
        try:
            _, episodes = await run_batch(config, run_id=run_id)
        finally:
            killer.done.set()
            killer.join()
        injected = server.injected
    assert killer.killed == 5 and injected.count("bad_tool_arguments") >= 1 and injected.count("429") >= 1
    assert len(episodes) == 100 and len({e.key for e in episodes}) == 100, "none lost, none twice"
    errors = [e for e in episodes if e.termination == "error"]
    for episode in episodes:
        assert episode.termination in FINISHED | {"error"}
        if episode.termination == "error":
            assert episode.error and episode.error_class and episode.error_signature
    assert any(e.error_class == "infrastructure" for e in errors), [e.error for e in errors]
    assert any(s.tool_error and "not valid JSON" in s.observation for e in episodes for s in e.steps)
    summary = json.loads((tmp_path / "summary.json").read_text())["summaries"][0]
    assert summary["errors"] == len(errors) and summary["judged"] == 100 - len(errors)
    assert summary["success"]["n"] == 100 - len(errors)
    assert sum(summary["error_classes"].values()) == len(errors)
    assert containers_with_label(run_id) == []


def cli(out: Path, *extra: str, state: Path) -> subprocess.Popen[str]:
    env = {**os.environ, "COLUMNS": "200", "SANDBOX_STATE_DIR": str(state)}
    return subprocess.Popen([sys.executable, "-m", "sandbox.run", "scenario=filechore", "concurrency=4",
                             f"out={out}", *(extra or ("trials=8",))], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env)


def wait_for(predicate: object, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return
        time.sleep(0.1)
    raise AssertionError("timed out waiting")


def lines(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()] if path.exists() else []


def test_sigint_then_sigkill_then_the_same_command_finishes_without_duplicates(tmp_path: Path) -> None:
    out, state = tmp_path / "run", tmp_path / "state"
    episodes = out / "episodes.jsonl"
    proc = cli(out, state=state)
    wait_for(lambda: len(lines(episodes)) >= 2)
    proc.send_signal(signal.SIGINT)
    stopped = time.monotonic()
    _, stderr = proc.communicate(timeout=30)
    assert proc.returncode == 130 and time.monotonic() - stopped < 10 and "Traceback" not in stderr, stderr
    run_id = json.loads((out / "manifest.json").read_text())["run_id"]
    assert containers_with_label(run_id) == [] and (out / "summary.json").exists()
    # the same command again, killed with SIGKILL while episodes are in flight
    before = len({line["key"] for line in lines(episodes) if line["termination"] != "interrupted"})
    proc = cli(out, state=state)
    wait_for(lambda: len(lines(episodes)) >= before + 2 and len(containers_with_label(run_id)) >= 1)
    proc.kill()
    proc.communicate(timeout=30)
    assert containers_with_label(run_id), "the killed runner left its containers"
    # any next run removes the containers of runs whose runner is gone
    other = cli(tmp_path / "other", "trials=1", "model=scripted/chore-tidy", state=state)
    wait_for(lambda: not containers_with_label(run_id), timeout=60)
    other.communicate(timeout=120)
    # the same command once more finishes the rest: every episode exactly once
    final = cli(out, state=state)
    _, stderr = final.communicate(timeout=180)
    assert final.returncode == 0, stderr
    records = lines(episodes)
    assert len(records) == len({r["key"] for r in records}) == 16
    assert all(r["termination"] == "terminated" for r in records)
    assert containers_with_label(run_id) == []
