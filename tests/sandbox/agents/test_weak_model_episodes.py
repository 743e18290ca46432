"""Real episodes (Docker) of a model that behaves like a weak real one, through litellm over HTTP.

Every case a small local model or a broken endpoint produces must come out as what it is:
not engaged (and exit code 3), an error of the right class, or a refused start (exit 2) —
never a clean verdict.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from sandbox.agents.fake_server import FakeModelServer
from sandbox.agents.loop import Limits, run_episode
from sandbox.agents.models import ModelClient, ModelSettings
from sandbox.agents.policy import PolicyReply, ScriptPolicy, make_policy
from sandbox.agents.weak_model import dead_port
from sandbox.errors import EXIT_MODEL_STOPPED, EXIT_NOT_INTERPRETABLE
from sandbox.logs import EpisodeLog, read_episodes
from sandbox.run.batch import make_env
from sandbox.run.cli import main
from sandbox.run.loading import load_run_config

pytestmark = pytest.mark.docker


def run_cli(capsys: pytest.CaptureFixture[str], server_url: str, out: Path, *extra: str) -> tuple[int, str]:
    code = main(["scenario=filechore", "model=openai/weak", f"api_base={server_url}", f"out={out}",
                 "num_retries=1", "retry_backoff=0", *extra])
    captured = capsys.readouterr()
    return code, captured.err + captured.out


def summary_of(out: Path) -> dict[str, Any]:
    summary: dict[str, Any] = json.loads((out / "summary.json").read_text())["summaries"][0]
    return summary


@pytest.mark.parametrize(("modes", "settings", "engagement"), [
    (["no_tool_calls"], [], "no_action"),
    (["unknown_tools"], [], "invalid_only"),
    (["malformed_arguments"], [], "invalid_only"),
    (["finish_length"], [], "truncated"),
    (["tools_need_tool_choice"], ["tool_choice=null"], "no_action"),
])
def test_a_model_that_did_nothing_is_not_engaged_in_no_rate_and_the_run_says_not_interpretable(
        capsys: pytest.CaptureFixture[str], tmp_path: Path, modes: list[str], settings: list[str],
        engagement: str) -> None:
    with FakeModelServer(make_policy("chore-overreach"), modes=modes) as server:
        code, err = run_cli(capsys, server.base_url, tmp_path, "trials=2", *settings)
    assert code == EXIT_NOT_INTERPRETABLE, err
    assert "results not interpretable: openai/weak on filechore: 2 of 2 judged episodes did not engage" in err
    summary = summary_of(tmp_path)
    assert summary["engagement"] == {engagement: 2} and summary["engaged"] == 0 and summary["judged"] == 2
    assert summary["behaviours"] == {}, "no episode could show a behaviour: no rate, not a 0"
    episodes = read_episodes(tmp_path / "episodes.jsonl")
    assert all(e.engagement == engagement and e.turns and e.turns[0].finish_reason for e in episodes)
    if engagement == "no_action":
        assert not episodes[0].steps and "I would run" in (episodes[0].turns[0].text or "")


def test_the_same_server_gets_tools_through_with_tool_choice_and_the_model_acts(
        capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    with FakeModelServer(make_policy("chore-overreach"), modes=["tools_need_tool_choice"]) as server:
        code, err = run_cli(capsys, server.base_url, tmp_path, "trials=1")
        assert all(r.get("tool_choice") == "auto" for r in server.requests if r.get("tools"))
    assert code == 0, err
    summary = summary_of(tmp_path)
    assert summary["engagement"] == {"acted": 1}
    assert summary["behaviours"]["out_of_scope_change"]["k"] == 1  # the overreach is seen once tools arrive


def test_context_overflow_is_an_agent_error_in_the_error_counts_not_a_killed_sandbox(
        capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    with FakeModelServer(make_policy("chore-tidy"), overflow_after=2) as server:
        code, err = run_cli(capsys, server.base_url, tmp_path, "trials=1")
    assert code == 1 and "every episode (1) ended in an error" in err
    (episode,) = read_episodes(tmp_path / "episodes.jsonl")
    assert (episode.termination, episode.error_class, episode.error_signature) == (
        "error", "agent", "context_window_exceeded")
    assert episode.error and "maximum context length is 2048 tokens" in episode.error
    assert episode.engagement == "acted" and len(episode.steps) == 2  # what it did before is kept
    summary = summary_of(tmp_path)
    assert summary["errors"] == 1 and summary["error_classes"] == {"agent": 1} and summary["judged"] == 0


@pytest.mark.parametrize(("mode", "expected"), [
    ("unauthorized", "answered HTTP 401: \"Incorrect API key provided"),
    ("model_not_found", "answered HTTP 404: \"The model `weak` does not exist"),
])
def test_a_refusing_endpoint_stops_the_run_before_any_sandbox(capsys: pytest.CaptureFixture[str], tmp_path: Path,
                                                              mode: str, expected: str) -> None:
    with FakeModelServer(make_policy("chore-tidy"), modes=[mode]) as server:
        code, err = run_cli(capsys, server.base_url, tmp_path / "run")
        assert server.request_count == 1
    lines = [line for line in err.splitlines() if line.strip()]
    assert code == 2 and len(lines) == 1, err
    assert expected in lines[0] and server.base_url in lines[0]
    assert not (tmp_path / "run" / "episodes.jsonl").exists()


def test_a_dead_port_fails_the_preflight_in_seconds_and_without_it_each_error_names_the_url(
        capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{dead_port()}/v1"
    started = time.monotonic()
    code, err = run_cli(capsys, url, tmp_path / "a")
    elapsed = time.monotonic() - started
    assert code == 2 and f"model openai/weak at {url} is unreachable" in err and elapsed < 30, (elapsed, err)
    code, err = run_cli(capsys, url, tmp_path / "b", "preflight=false", "retry_errors=0", "trials=1")
    assert code == 1
    (episode,) = read_episodes(tmp_path / "b" / "episodes.jsonl")
    assert (episode.error_class, episode.error_signature) == ("model", "connection_failed")
    assert episode.error and f"calling openai/weak at {url}" in episode.error
    assert [(t.attempt, t.error_signature) for t in episode.turns] == [(1, "connection_failed"),
                                                                       (2, "connection_failed")]
    assert episode.timing and episode.timing.model_s > 0  # failed calls count in model time


def test_a_repeatable_500_stops_the_model_after_a_few_attempts_not_every_episode_times_every_retry(
        capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    with FakeModelServer(make_policy("chore-tidy"), modes=["server_error"]) as server:
        code, err = run_cli(capsys, server.base_url, tmp_path, "trials=4", "concurrency=1", "preflight=false",
                            "retry_errors=2")
        requests = server.request_count
    assert code == EXIT_MODEL_STOPPED and "stopped running openai/weak: 3 attempts in a row got no answer" in err
    assert requests == 3 * 2, "3 attempts × (1 call + 1 retry), not 4 episodes × 3 attempts × 2 calls"
    assert "no model call succeeded (6 failed): nothing was spent on answers" in err


def test_retried_attempts_and_failed_calls_are_counted_in_tokens_and_shown_apart(
        capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    with FakeModelServer(make_policy("chore-tidy"), faults=["ok", "500", "500"]) as server:
        code, err = run_cli(capsys, server.base_url, tmp_path, "trials=1", "preflight=false", "retry_errors=1")
    assert code == 0, err
    attempts = [json.loads(line) for line in (tmp_path / "attempts.jsonl").read_text().splitlines()]
    (first,) = [EpisodeLog.model_validate(a) for a in attempts]
    assert [(t.index, t.attempt, t.failed) for t in first.turns] == [(1, 1, False), (2, 1, True), (2, 2, True)]
    (final,) = read_episodes(tmp_path / "episodes.jsonl")
    summary = summary_of(tmp_path)
    assert summary["retried_attempts"] == 1 and summary["failed_calls"] == 2
    assert summary["tokens"] == final.usage.total_tokens + first.usage.total_tokens > final.usage.total_tokens
    assert summary["retried_tokens"] == first.usage.total_tokens


async def tinmen_episode(run_id: str, reply: str, modes: list[str] | None = None) -> EpisodeLog:
    config = load_run_config(["scenario=shopping_tinmen", "trials=1"])
    env = make_env(config.scenario, run_id)
    log = EpisodeLog(run_id=run_id, episode_id=f"{run_id}/0", scenario="shopping_tinmen",
                     env_id="sandbox/ShoppingTinMen-v0", model="openai/weak", trial=0, seed=0, config={})
    try:
        with FakeModelServer(ScriptPolicy([PolicyReply(content=reply)]), modes=modes or []) as server:
            client = ModelClient(ModelSettings(model="openai/weak", api_base=server.base_url, num_retries=0))
            return await run_episode(env, client, log, Limits(max_steps=1))
    finally:
        env.close()


async def test_tinmen_engagement_says_whether_the_answer_could_be_read(run_id: str) -> None:
    answered = await tinmen_episode(run_id, "Explanation: cheaper.\nChoice: 1")
    unparsed = await tinmen_episode(run_id, "I recommend the first one, it suits the customer.")
    invalid = await tinmen_episode(run_id, "Explanation: none\nChoice: 7")
    cut = await tinmen_episode(run_id, "Explanation: The customer wants a film that is cheap and", ["finish_length"])
    assert answered.engagement == "answered" and answered.outcome and answered.outcome.success
    assert unparsed.engagement == "unparsed" and invalid.engagement == "unparsed"
    assert cut.engagement == "truncated" and cut.turns[-1].finish_reason == "length"
