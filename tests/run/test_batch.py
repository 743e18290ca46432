"""Batches end to end: real containers, litellm over real HTTP to the fake model server."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from dockerutil import containers_with_label

from sandbox.agents.fake_server import FakeModelServer
from sandbox.agents.policy import make_policy
from sandbox.errors import EXIT_COST_CAP, EXIT_MODEL_STOPPED
from sandbox.logs import read_episodes
from sandbox.run.batch import Batch, run_batch
from sandbox.run.cli import main
from sandbox.run.loading import load_run_config

pytestmark = pytest.mark.docker


async def test_resume_reruns_errors_keeps_finished_and_never_duplicates(tmp_path: Path) -> None:
    out = tmp_path / "run"
    with FakeModelServer(make_policy("chore-tidy"), faults=["500"]) as server:
        keys = ["scenario=filechore", "model=openai/fake-model", f"api_base={server.base_url}", "num_retries=0",
                "concurrency=1", f"out={out}", f"cache_dir={tmp_path / 'cache'}"]
        _, first = await run_batch(load_run_config([*keys, "trials=3", "retry_errors=0"]))
        errored = first[0]
        assert errored.termination == "error" and errored.error_class == "model"
        assert errored.error_signature == "server_error" and "InternalServerError" in (errored.error or "")
        assert errored.outcome is not None and errored.findings, "judged for reading, with its findings kept"
        assert all(e.termination == "terminated" for e in first[1:])
        summary = json.loads((out / "summary.json").read_text())
        [model] = summary["summaries"]
        assert model["errors"] == 1 and model["judged"] == 2 and model["success"]["n"] == 2
        assert model["error_classes"] == {"model": 1} and model["cost_usd"] is None  # price unknown, not $0
        assert summary["totals"]["cost_unknown"] is True
        # the same command with more trials and one retry: the error and the 2 new trials run, nothing else
        requests_before = server.request_count
        batch = Batch(load_run_config([*keys, "trials=5", "retry_errors=1"]))
        result = await batch.run()
        assert result.attempts == 3 and result.run_id == errored.run_id
        assert server.request_count - requests_before == 3 * 3
    lines = [json.loads(line) for line in (out / "episodes.jsonl").read_text().splitlines()]
    assert len(lines) == len({line["key"] for line in lines}) == 5
    assert all(line["termination"] == "terminated" for line in lines)
    assert {line["key"]: line["attempt"] for line in lines}[errored.key] == 2
    history = [json.loads(line) for line in (out / "attempts.jsonl").read_text().splitlines()]
    assert [h["key"] for h in history] == [errored.key] and history[0]["termination"] == "error"
    assert len(json.loads((out / "manifest.json").read_text())["resumed"]) == 1
    assert containers_with_label(errored.run_id) == []


async def test_batch_file_runs_scenarios_times_models_with_their_own_settings(tmp_path: Path) -> None:
    variant = tmp_path / "chore_late.yaml"
    variant.write_text("env: sandbox/FileChore-v0\nreference_models: [scripted/chore-tidy]\nseed: 100\n"
                       "temperature: 0.5\n")
    batch = tmp_path / "batch.yaml"
    batch.write_text(f"""
scenarios:
  - filechore
  - scenario: {variant}
    trials: 1
    models: [scripted/chore-overreach]
models:
  - scripted/chore-tidy
  - model: scripted/chore-overreach
    max_tokens: 64
trials: 2
concurrency: 3
out: {tmp_path / "run"}
""")
    config = load_run_config([f"batch={batch}"])
    assert [s.scenario for s in config.scenarios] == ["filechore", "chore_late"]
    [late] = config.models_for(config.scenarios[1])
    assert (late.model, late.max_tokens, late.temperature) == ("scripted/chore-overreach", 64, 0.5)
    dry = await Batch(config.model_copy(update={"dry_run": True})).run()
    assert dry.dry_run and dry.planned == 5 and not (tmp_path / "run").exists()
    _, episodes = await run_batch(config)
    assert [(e.scenario, e.model, e.seed) for e in episodes] == [
        ("filechore", "scripted/chore-tidy", 0), ("filechore", "scripted/chore-tidy", 1),
        ("filechore", "scripted/chore-overreach", 0), ("filechore", "scripted/chore-overreach", 1),
        ("chore_late", "scripted/chore-overreach", 100)]
    written = json.loads((tmp_path / "run" / "summary.json").read_text())["summaries"]
    summaries = {(s["scenario"], s["model"]): s for s in written}
    assert summaries[("chore_late", "scripted/chore-overreach")]["behaviours"]["out_of_scope_change"]["k"] == 1
    assert summaries[("filechore", "scripted/chore-tidy")]["behaviours"]["out_of_scope_change"]["k"] == 0
    manifest = json.loads((tmp_path / "run" / "manifest.json").read_text())
    assert manifest["scenarios"] == ["filechore", "chore_late"] and len(manifest["models"]) == 2


def test_unfixable_errors_stop_the_model_and_the_cost_cap_stops_new_episodes(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with FakeModelServer(make_policy("chore-tidy"), fault_rates={"401": 1.0}) as server:
        code = main(["scenario=filechore", "model=openai/fake-model", f"api_base={server.base_url}", "trials=8",
                     "concurrency=1", f"out={tmp_path / 'denied'}", "preflight=false"])  # the preflight stops it first
        assert server.request_count == 3  # three identical 401s, then no more episodes
    err = capsys.readouterr().err
    assert code == EXIT_MODEL_STOPPED and "stopped running openai/fake-model: 3 attempts in a row got no answer" in err
    assert "http_401_authentication" in err and "5 planned episode(s) not started" in err
    assert "fix the cause" in err and "filechore × openai/fake-model: 5" in err
    # priced at $1 per 1000 tokens; a chore-tidy episode uses ~2000: the cap stops the run after 2 episodes
    with FakeModelServer(make_policy("chore-tidy")) as server:
        keys = ["scenario=filechore", "model=openai/fake-model", f"api_base={server.base_url}", "temperature=0",
                "input_cost_per_token=0.001", "output_cost_per_token=0.001", f"cache_dir={tmp_path / 'cache'}",
                "trials=6", "concurrency=1", f"out={tmp_path / 'capped'}"]
        code = main([*keys, "max_cost=3"])
        episodes = read_episodes(tmp_path / "capped" / "episodes.jsonl")
        costs = [e.usage.cost_usd or 0 for e in episodes]
        assert code == EXIT_COST_CAP and sum(costs[:-1]) < 3 <= sum(costs) and len(episodes) < 6
        err = capsys.readouterr().err
        assert "max_cost $3 reached" in err and f"{6 - len(episodes)} of 6 planned episode(s) not finished" in err
        assert "Running the same command again does nothing" in err
        raised = float(re.findall(r"max_cost=([0-9.]+)", err)[-1])
        assert raised > sum(costs)
        # as it says: the same command again starts nothing (only the preflight's call), and says so again
        sent = server.request_count
        assert main([*keys, "max_cost=3"]) == EXIT_COST_CAP and server.request_count == sent + 1
        assert capsys.readouterr().err.count("not finished") == 1
        # with the cap it names, the run finishes
        assert main([f"resume={tmp_path / 'capped'}", f"max_cost={raised}"]) == 0
        assert len(read_episodes(tmp_path / "capped" / "episodes.jsonl")) == 6
        # the cache (temperature 0): the same trials again cost nothing and send no request
        sent = server.request_count
        code = main([*keys[:-3], "trials=6", f"out={tmp_path / 'again'}"])
        assert code == 0 and server.request_count == sent + 1  # only the preflight's one-token call
    again = read_episodes(tmp_path / "again" / "episodes.jsonl")
    assert all(s.cached for e in again for s in e.steps if s.usage) and sum(e.usage.cost_usd or 0 for e in again) == 0


async def test_a_warm_pool_serves_the_episodes_and_leaves_nothing_behind(tmp_path: Path) -> None:
    config = load_run_config(["scenario=filechore", "trials=3", "concurrency=2", "warm_pool=-1", f"out={tmp_path}"])
    _, episodes = await run_batch(config)
    assert len(episodes) == 6 and all(e.termination == "terminated" and e.outcome for e in episodes)
    assert [e.finding("out_of_scope_change").detected for e in episodes if e.trial == 0] == [False, True]  # type: ignore[union-attr]
    run_id = json.loads((tmp_path / "manifest.json").read_text())["run_id"]
    assert containers_with_label(run_id) == []  # warm containers nobody took are gone too
