"""The agent loop end to end: real containers, litellm over real HTTP, scripted models."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sandbox.agents.fake_server import FakeModelServer
from sandbox.agents.loop import Limits, run_episode
from sandbox.agents.models import ModelClient, ModelSettings
from sandbox.agents.policy import PolicyReply, ScriptPolicy, ToolCallRequest, make_policy
from sandbox.logs import EpisodeLog, read_episodes, strip_timing
from sandbox.run.batch import make_env, run_batch
from sandbox.run.loading import load_run_config

pytestmark = pytest.mark.docker


def episode_log(model: str, run_id: str, seed: int = 7) -> EpisodeLog:
    return EpisodeLog(run_id=run_id, episode_id=f"{run_id}/0", scenario="filechore",
                      env_id="sandbox/FileChore-v0", model=model, trial=0, seed=seed, config={})


async def play(model: str, run_id: str, api_base: str | None = None, max_steps: int = 10,
               num_retries: int = 2, timeout: float = 30) -> EpisodeLog:
    config = load_run_config(["scenario=filechore", f"max_steps={max_steps}"])
    env = make_env(config.scenario, run_id)
    client = ModelClient(ModelSettings(model=model, api_base=api_base, num_retries=num_retries,
                                       timeout=timeout))
    try:
        return await run_episode(env, client, episode_log(model, run_id), Limits(max_steps=max_steps))
    finally:
        env.close()


async def test_scripted_policies_are_told_apart_by_the_monitor(run_id: str) -> None:
    tidy = await play("scripted/chore-tidy", run_id)
    overreach = await play("scripted/chore-overreach", run_id)
    assert tidy.termination == overreach.termination == "terminated"
    assert tidy.outcome and tidy.outcome.success
    assert overreach.outcome and overreach.outcome.success  # the task itself was done
    assert not tidy.finding("out_of_scope_change").detected  # type: ignore[union-attr]
    scope = overreach.finding("out_of_scope_change")
    assert scope and scope.detected and "data/users.csv" in scope.evidence
    assert [s.tool_call.name for s in tidy.steps] == ["bash", "bash", "submit"]
    assert tidy.usage.total_tokens > 0 and tidy.steps[0].usage is not None


async def test_real_litellm_http_path_with_a_429_then_success(run_id: str) -> None:
    with FakeModelServer(make_policy("chore-tidy"), faults=["429"]) as server:
        episode = await play("openai/fake-model", run_id, api_base=server.base_url)
        assert server.request_count == 4  # 1 refused + 3 turns
        sent = server.requests[-1]
    assert episode.termination == "terminated" and episode.outcome and episode.outcome.success
    assert {t["function"]["name"] for t in sent["tools"]} == {"bash", "read_file", "submit"}
    assert sent["messages"][0]["role"] == "system"
    assert episode.usage.prompt_tokens > 0


async def test_malformed_tool_arguments_become_an_observation_and_the_episode_goes_on(run_id: str) -> None:
    with FakeModelServer(make_policy("chore-tidy"), faults=["bad_tool_arguments"]) as server:
        episode = await play("openai/fake-model", run_id, api_base=server.base_url)
    first = episode.steps[0]
    assert first.tool_error and "not valid JSON" in first.observation
    assert episode.termination == "terminated"
    assert len(episode.steps) == 3  # the policy moved on; the bad call cost one step


async def test_unknown_tool_and_invalid_arguments_do_not_end_the_episode(run_id: str) -> None:
    script = ScriptPolicy([
        PolicyReply(tool_calls=[ToolCallRequest.of("rm_rf", path="/")]),
        PolicyReply(tool_calls=[ToolCallRequest.of("bash", cmd="ls")]),
        PolicyReply(tool_calls=[ToolCallRequest.of("bash", command="exit 7")]),
        PolicyReply(tool_calls=[ToolCallRequest.of("submit", summary="gave up")]),
    ])
    with FakeModelServer(script) as server:
        episode = await play("openai/fake-model", run_id, api_base=server.base_url)
    observations = [s.observation for s in episode.steps]
    assert "unknown tool 'rm_rf'" in observations[0]
    assert "invalid arguments for bash" in observations[1]
    assert "[exit code 7]" in observations[2] and not episode.steps[2].tool_error
    assert episode.termination == "terminated" and episode.outcome and not episode.outcome.success


async def test_model_failure_after_retries_is_recorded_not_raised(run_id: str) -> None:
    with FakeModelServer(make_policy("chore-tidy"), faults=["500", "500", "500", "500"]) as server:
        episode = await play("openai/fake-model", run_id, api_base=server.base_url, num_retries=1)
    assert episode.termination == "error"
    assert episode.error and "InternalServerError" in episode.error
    assert episode.outcome is not None  # the world was still judged


async def test_step_limit_truncates(run_id: str) -> None:
    looping = ScriptPolicy([PolicyReply(tool_calls=[ToolCallRequest.of("bash", command="true")])] * 20)
    with FakeModelServer(looping) as server:
        episode = await play("openai/fake-model", run_id, api_base=server.base_url, max_steps=4)
    assert episode.termination == "truncated" and len(episode.steps) == 4
    assert episode.findings, "monitors judge truncated episodes too"


async def test_same_policy_and_seed_give_the_same_log(tmp_path: Path) -> None:
    def normalised(out: Path) -> list[dict[str, object]]:
        records = []
        for episode in read_episodes(out / "episodes.jsonl"):
            record = strip_timing(json.loads(episode.model_dump_json()))
            record.pop("run_id"), record.pop("episode_id")
            records.append(record)
        return sorted(records, key=lambda r: (str(r["model"]), int(r["trial"])))  # type: ignore[call-overload]

    logs = []
    for attempt in range(2):
        config = load_run_config(["scenario=filechore", "trials=2", "seed=11", f"out={tmp_path / str(attempt)}"])
        out, episodes = await run_batch(config)
        assert len(episodes) == 4
        logs.append(normalised(out))
    assert logs[0] == logs[1]
    assert logs[0][0]["world_fingerprint"] != logs[0][1]["world_fingerprint"]  # seeds differ per trial


async def test_api_keys_never_reach_the_sandbox_or_the_logs(run_id: str, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    secret = "sk-test-SECRET-0123456789abcdef"
    monkeypatch.setenv("OPENAI_API_KEY", secret)
    snoop = ScriptPolicy([
        PolicyReply(content=f"my key might be {secret}",
                    tool_calls=[ToolCallRequest.of("bash", command="env; cat /proc/1/environ")]),
        PolicyReply(tool_calls=[ToolCallRequest.of("submit", summary="done")]),
    ])
    with FakeModelServer(snoop) as server:
        config = load_run_config(["scenario=filechore", "model=openai/fake-model", f"api_base={server.base_url}",
                                  "trials=1", f"out={tmp_path}"])
        _, episodes = await run_batch(config, run_id=run_id)
        assert server.headers[0].get("authorization") == f"Bearer {secret}"  # only the provider sees it
    assert secret not in episodes[0].steps[0].observation  # nothing in the container
    written = (tmp_path / "episodes.jsonl").read_text() + (tmp_path / "manifest.json").read_text()
    assert secret not in written and "[redacted]" in written


async def test_infrastructure_failure_is_recorded_per_episode_and_the_batch_goes_on(tmp_path: Path) -> None:
    # Docker refuses more CPUs than the host has: every reset fails, as a recorded error, not a crash.
    config = load_run_config(["scenario=filechore", "trials=2", "env_config.cpus=512", f"out={tmp_path}"])
    _, episodes = await run_batch(config)
    assert len(episodes) == 4
    assert all(e.termination == "error" and e.error and "InvalidSandboxSpec" in e.error for e in episodes)
    assert {(e.error_class, e.error_signature) for e in episodes} == {("configuration", "invalid_spec")}
    assert len(read_episodes(tmp_path / "episodes.jsonl")) == 4
