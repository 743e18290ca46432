"""Real runs exported to Inspect logs, read back with inspect-ai and compared with episodes.jsonl."""

from __future__ import annotations

import math
from collections import Counter

import pytest
from exporthelpers import WEAK_MODEL, Exported, arguments, episodes_of, log_for, logs_in, same, sample_for, verdict
from inspect_ai.log import EvalSample
from inspect_ai.model import ChatMessageAssistant, ChatMessageTool, ChatMessageUser

from sandbox.inspect_interop.scorers import EPISODE_KEY
from sandbox.logs import ENGAGED, EpisodeLog, read_episodes

pytestmark = pytest.mark.docker


def test_one_log_per_scenario_and_model_that_inspect_reads(scripted_run: Exported, weak_run: Exported) -> None:
    for exported in (scripted_run, weak_run):
        logs = logs_in(exported.out)
        episodes = episodes_of(exported.run)
        pairs = {(e.scenario, e.model) for e in episodes}
        assert sorted((log.eval.task, log.eval.model) for log in logs) == sorted(
            (f"sandbox/{s}", f"litellm/{m}") for s, m in pairs)
        for log in logs:
            assert log.eval.run_id == episodes[0].run_id and log.eval.scorers is not None
            assert [s.name for s in log.eval.scorers] == ["findings", "outcome", "engagement"]
            assert log.eval.dataset.sample_ids == sorted(s.id for s in log.samples or [])  # type: ignore[type-var]
        assert len(exported.stdout.strip().splitlines()) == len(pairs) + 1  # one line per log, then the hint
    assert {log.eval.task for log in logs_in(scripted_run.out)} == {
        "sandbox/filechore", "sandbox/loadbalance", "sandbox/sandbag_qa"}


def check_messages(sample: EvalSample, episode: EpisodeLog) -> None:
    """The conversation: prompts, every answered turn (text-only ones too), every tool result."""
    prompts = [m for m in sample.messages if m.role == "system"]
    assert [m.text for m in prompts] == ([episode.system_prompt] if episode.system_prompt else [])
    messages = sample.messages[len(prompts):]
    assert messages[0].role == "user" and messages[0].text == episode.task_prompt
    answered = [t for t in episode.turns if t.error is None]
    assistants = [m for m in messages if isinstance(m, ChatMessageAssistant)]
    assert [(m.text, [(c.function, c.arguments) for c in m.tool_calls or []]) for m in assistants] == [
        (t.text or "", [(c.name, arguments(c.arguments)) for c in t.tool_calls]) for t in answered]
    results = [m.text for m in messages if isinstance(m, ChatMessageTool)
               and m.text != "not run: the episode has ended"]
    assert results == [s.observation for s in episode.steps if s.tool_call.id != "reply"]
    replies = [m.text for m in messages[1:] if isinstance(m, ChatMessageUser)]
    assert replies == [s.observation for s in episode.steps if s.tool_call.id == "reply"]


def check_scores(sample: EvalSample, episode: EpisodeLog) -> None:
    """Findings (unknown and non-engaged unscored), outcome and engagement, or a sample error."""
    if episode.termination in ("error", "interrupted"):
        assert sample.error is not None and sample.scores is None
        assert f"({episode.error_class}/{episode.error_signature})" in sample.error.message
        return
    assert sample.error is None and sample.scores is not None
    found = sample.scores["findings"]
    if episode.engagement in ENGAGED:
        expected: dict[str, float] = {}
        for finding in episode.findings:
            expected.setdefault(finding.behaviour, verdict(finding.detected))
        assert same(found.value, expected), (found.value, expected)
    else:
        assert isinstance(found.value, float) and math.isnan(found.value), "a model that never engaged is no verdict"
        assert f"not engaged ({episode.engagement})" in (found.reason or "")
    assert all(f.evidence in (found.explanation or "") for f in episode.findings)
    assert found.metadata and found.metadata["findings"] == [f.model_dump(mode="json") for f in episode.findings]
    assert episode.outcome is not None
    assert sample.scores["outcome"].value == float(episode.outcome.success)
    assert sample.scores["engagement"].answer == episode.engagement
    assert sample.scores["engagement"].value == float(episode.engagement in ENGAGED)


def check_sample(sample: EvalSample, episode: EpisodeLog, model: str) -> None:
    metadata = sample.metadata
    assert sample.input.endswith(f"(trial {episode.trial}, seed {episode.seed})")  # type: ignore[union-attr]
    for name in ("seed", "trial", "key", "attempt", "episode_id", "termination", "engagement", "error",
                 "error_class", "error_signature", "world_fingerprint", "run_id"):
        assert metadata[name] == getattr(episode, name), name
    assert metadata["env"] == episode.env_id and metadata["env_config"] == episode.config
    assert metadata["world_events"] == [e.model_dump(mode="json") for s in episode.steps for e in s.events]
    assert [c["error"] for c in metadata["failed_model_calls"]] == [t.error for t in episode.turns if t.error]
    usage = sample.model_usage[f"litellm/{model}"]
    assert (usage.input_tokens, usage.output_tokens) == (episode.usage.prompt_tokens, episode.usage.completion_tokens)
    assert usage.total_cost == episode.usage.cost_usd  # an unknown price stays unknown (None), never $0
    assert EpisodeLog.model_validate(sample.store[EPISODE_KEY]) == episode
    assert sample.total_time == pytest.approx(episode.duration_s, abs=0.001)
    model_calls = [e for e in sample.events if e.event == "model"]
    assert [(e.error, e.retries or 0) for e in model_calls] == [(t.error, t.attempt - 1) for t in episode.turns]
    tools = [e for e in sample.events if e.event == "tool"]
    assert [(e.function, e.result) for e in tools] == [(s.tool_call.name, s.observation) for s in episode.steps]
    check_messages(sample, episode)
    check_scores(sample, episode)


def test_every_sample_matches_its_episode_field_by_field(scripted_run: Exported, weak_run: Exported) -> None:
    checked = Counter[str]()
    for exported in (scripted_run, weak_run):
        logs = logs_in(exported.out)
        for episode in episodes_of(exported.run):
            check_sample(sample_for(log_for(logs, episode.scenario, episode.model), episode.trial), episode,
                         episode.model)
            checked[episode.termination] += 1
            checked[str(episode.engagement)] += 1
    # what the runs had to cover: tool calls, answers through a reply tool, prose only, an error
    assert checked["acted"] == 8 and checked["answered"] == 4 and checked["no_action"] == 3 and checked["error"] == 1


def test_the_weak_run_keeps_text_only_turns_retries_and_its_error(weak_run: Exported) -> None:
    [log] = logs_in(weak_run.out)
    errored, retried, plain = (sample_for(log, trial) for trial in range(3))
    assert errored.error is not None and "model/server_error" in errored.error.message
    assert [e.error is not None for e in errored.events if e.event == "model"] == [True, True]
    calls = [(e.error is not None, e.retries) for e in retried.events if e.event == "model"]
    assert calls == [(True, None), (False, 1)]
    for sample in (retried, plain):
        [answer] = [m for m in sample.messages if isinstance(m, ChatMessageAssistant)]
        assert answer.text and not answer.tool_calls  # prose: the model described a command and ran none
        assert sample.output.completion == answer.text
    assert log.results is not None
    assert (log.results.total_samples, log.results.completed_samples) == (3, 2)
    metrics = {s.name: s for s in log.results.scores}
    # two non-engaged episodes: no behaviour rate at all, never a clean 0
    assert metrics["findings"].scored_samples == 0 and metrics["findings"].unscored_samples == 2
    assert all(math.isnan(m.value) or not name.endswith("_rate") for name, m in metrics["findings"].metrics.items())
    assert metrics["engagement"].metrics["no_action"].value == 2
    assert metrics["engagement"].metrics["rate"].value == 0
    total = log.stats.model_usage[f"litellm/{WEAK_MODEL}"]
    episodes = episodes_of(weak_run.run)
    assert total.input_tokens == sum(e.usage.prompt_tokens for e in episodes) > 0


def test_rates_are_those_of_the_episodes(scripted_run: Exported) -> None:
    logs = logs_in(scripted_run.out)
    for episodes in _by_pair(episodes_of(scripted_run.run)).values():
        log = log_for(logs, episodes[0].scenario, episodes[0].model)
        assert log.status == "success" and log.results is not None
        findings = {s.name: s for s in log.results.scores}["findings"].metrics
        for behaviour in {f.behaviour for e in episodes for f in e.findings}:
            decided = [f.detected for e in episodes if e.engagement in ENGAGED
                       for f in e.findings if f.behaviour == behaviour and f.detected is not None]
            assert findings[f"{behaviour}_n"].value == len(decided)
            if decided:
                assert findings[f"{behaviour}_rate"].value == pytest.approx(sum(decided) / len(decided))
    for model, overuse in (("scripted/lb-replicator", 1.0), ("scripted/lb-aligned", 0.0)):
        results = log_for(logs, "loadbalance", model).results
        assert results is not None
        assert {s.name: s for s in results.scores}["findings"].metrics["overuse_rate"].value == overuse


def _by_pair(episodes: list[EpisodeLog]) -> dict[tuple[str, str], list[EpisodeLog]]:
    out: dict[tuple[str, str], list[EpisodeLog]] = {}
    for episode in episodes:
        out.setdefault((episode.scenario, episode.model), []).append(episode)
    return out


def test_an_interrupted_run_leaves_out_its_interrupted_episode_and_says_cancelled(interrupted_run: Exported) -> None:
    [episode] = read_episodes(interrupted_run.run / "episodes.jsonl")
    assert episode.termination == "interrupted"
    [log] = logs_in(interrupted_run.out)
    assert log.status == "cancelled" and log.samples == []
    assert log.eval.metadata is not None
    assert log.eval.metadata["interrupted"] == [episode.episode_id] and log.eval.metadata["not_started"] == 2
    assert log.results is not None and log.results.total_samples == 3 and log.results.completed_samples == 0
    assert "1 interrupted left out; 2 never started" in interrupted_run.stdout
