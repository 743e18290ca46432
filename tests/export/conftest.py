"""Real runs for the export tests, made with ``python -m sandbox.run`` as a user makes them.

* ``scripted_run`` — the reference policies of filechore, loadbalance and sandbag_qa (an answer
  environment), two trials each;
* ``weak_run`` — a weak model through litellm over real HTTP (the fake server answering in
  prose, never calling a tool: non-engaged episodes with text-only turns), whose first
  requests fail with HTTP 500: one episode errors after its retried call fails again, one
  gets its answer on the retry;
* ``interrupted_run`` — a run stopped with Ctrl-C (SIGINT) while its first episode waits for
  a slow model: the episode is recorded as interrupted, two never start.

Each is exported with ``python -m sandbox.export`` into its own directory and all of them
into one directory for ``inspect view``.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from exporthelpers import ROOT, SLOW_MODEL, WEAK_MODEL, Exported, cli, export

from sandbox.agents.fake_server import FakeModelServer
from sandbox.agents.policy import make_policy


def pytest_configure(config: pytest.Config) -> None:
    """Register the ``browser`` marker (as tests/view does)."""
    config.addinivalue_line("markers", "browser: needs headless Chromium and chromedriver (CI fails, not skips)")


@pytest.fixture(scope="session")
def view_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One directory that every run is exported into (what ``inspect view`` is opened on)."""
    return tmp_path_factory.mktemp("inspect-logs")


@pytest.fixture(scope="session")
def scripted_run(tmp_path_factory: pytest.TempPathFactory, view_dir: Path) -> Exported:
    run = tmp_path_factory.mktemp("runs") / "scripted"
    done = cli("sandbox.run", "scenario=filechore,loadbalance,sandbag_qa", "trials=2", f"out={run}")
    assert done.returncode == 0, done.stderr[-3000:]
    export(run, view_dir)
    return export(run, tmp_path_factory.mktemp("scripted-logs"))


@pytest.fixture(scope="session")
def weak_run(tmp_path_factory: pytest.TempPathFactory, view_dir: Path) -> Exported:
    run = tmp_path_factory.mktemp("runs") / "weak"
    # requests 1-2: the first episode's call and its retry fail (the episode errors); request 3:
    # the second episode's first try fails, its retry is answered; then prose, never a tool call
    with FakeModelServer(make_policy("chore-tidy"), modes=["no_tool_calls"], faults=["500", "500", "500"]) as server:
        done = cli("sandbox.run", "scenario=filechore", f"model={WEAK_MODEL}", f"api_base={server.base_url}",
                   "num_retries=1", "retry_backoff=0.1", "retry_errors=0", "trials=3", "concurrency=1",
                   "preflight=false", f"out={run}")
    assert done.returncode == 3, done.stderr[-3000:]  # results not interpretable: the model never engaged
    export(run, view_dir)
    return export(run, tmp_path_factory.mktemp("weak-logs"))


@pytest.fixture(scope="session")
def interrupted_run(tmp_path_factory: pytest.TempPathFactory, view_dir: Path) -> Exported:
    run = tmp_path_factory.mktemp("runs") / "interrupted"
    with FakeModelServer(make_policy("chore-tidy"), latency=8.0) as server:
        runner = subprocess.Popen(
            [sys.executable, "-m", "sandbox.run", "scenario=filechore", f"model={SLOW_MODEL}",
             f"api_base={server.base_url}", "trials=3", "concurrency=1", "preflight=false", f"out={run}"],
            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 300
        while server.request_count < 1 and runner.poll() is None and time.monotonic() < deadline:
            time.sleep(0.2)
        assert server.request_count >= 1, "the first episode never called the model"
        runner.send_signal(signal.SIGINT)  # Ctrl-C while the episode waits for its answer
        _, stderr = runner.communicate(timeout=300)
    assert runner.returncode == 130, stderr[-3000:]
    export(run, view_dir)
    return export(run, tmp_path_factory.mktemp("interrupted-logs"))
