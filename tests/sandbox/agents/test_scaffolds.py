"""Agent scaffolds (``agent=NAME``): definitions, names, keys, estimates, and answer episodes over real HTTP.

The answer environment of the preference study has no container, so these episodes run
through litellm against the fake model server without Docker; the tool episodes in Docker are
in ``test_scaffold_episodes.py``.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from sandbox.agents.fake_server import FakeModelServer
from sandbox.agents.models import ModelSettings
from sandbox.agents.policy import make_policy
from sandbox.agents.scaffolds import DEFINITIONS, Conversation, agent_names, scaffold
from sandbox.agents.scaffolds.definitions import build
from sandbox.errors import ConfigError, UnknownNameError
from sandbox.logs import DEFAULT_AGENT, EpisodeLog, read_episodes
from sandbox.run.cli import main
from sandbox.run.cost import estimate
from sandbox.run.keys import canonical_json, episode_key
from sandbox.run.scenarios import ScenarioConfig

ROOT = Path(__file__).resolve().parents[3]
BUILT_IN = ["plan_act", "react", "summarise", "thinking_before_grounding", "tool_loop", "truncate"]


def test_the_definitions_are_the_top_level_agents_directory_and_every_one_builds() -> None:
    assert DEFINITIONS.resolve() == (ROOT / "agents").resolve()
    assert sorted(p.stem for p in (ROOT / "agents").glob("*.yaml")) == BUILT_IN
    assert set(BUILT_IN) <= set(agent_names()) and DEFAULT_AGENT == "tool_loop"
    for name in BUILT_IN:
        built = scaffold(name)
        assert built.name == name and scaffold(name) is built  # built once, shared by episodes
    assert [scaffold(n).calls_for(10) for n in ("tool_loop", "react", "plan_act", "summarise")] == [10, 20, 11, 10]


def test_an_unknown_scaffold_is_one_line_with_a_suggestion(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(UnknownNameError, match="did you mean 'react'"):
        scaffold("reactt")
    code = main(["scenario=filechore", "agent=reactt"])
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.strip()]
    assert code == 2 and len(lines) == 1 and "unknown agent scaffold 'reactt'; did you mean 'react'?" in lines[0], err


def definition(tmp_path: Path, text: str, prompts: dict[str, str] | None = None, name: str = "mine") -> Path:
    for file, content in (prompts or {}).items():
        (tmp_path / file).write_text(content)
    path = tmp_path / f"{name}.yaml"
    path.write_text(text)
    return path


REACT = "name: mine\ndescription: d\nscaffold: sandbox.agents.scaffolds.react:ReAct\n"


@pytest.mark.parametrize(("text", "prompts", "expected"), [
    (REACT + "prompts: {think: t.md, act: a.md}\n", {"t.md": "think", "a.md": "act on $thougth"},
     "uses $thougth; scaffold ReAct fills $thought"),
    (REACT + "prompts: {think: t.md}\n", {"t.md": "think"}, "needs a prompt 'act'"),
    (REACT + "prompts: {think: t.md, act: a.md, extra: t.md}\n", {"t.md": "x", "a.md": "$thought"},
     "prompt 'extra' is used by neither"),
    (REACT + "prompts: {think: missing.md, act: missing.md}\n", {}, "cannot read the prompt"),
    ("name: mine\ndescription: d\nscaffold: sandbox.agents.scaffolds.react:Nope\n", {}, "cannot load"),
    ("name: mine\ndescription: d\nscaffold: sandbox.agents.scaffolds.session:Limits\n", {}, "is not a Scaffold"),
    ("name: other\ndescription: d\nscaffold: sandbox.agents.scaffolds.tool_loop:ToolLoop\n", {},
     "must be the file's stem 'mine'"),
    ("name: mine\ndescription: d\nscaffold: sandbox.agents.scaffolds.tool_loop:ToolLoop\nloop: x\n", {},
     "unknown key 'loop'"),
    ("name: mine\ndescription: d\nscaffold: sandbox.agents.scaffolds.tool_loop:ToolLoop\n"
     "context: {strategy: sandbox.agents.scaffolds.context:Truncate, keep_step: 2}\nprompts: {dropped: n.md}\n",
     {"n.md": "$count gone"}, "unknown key 'context.keep_step'; did you mean 'context.keep_steps'"),
    ("name: mine\ndescription: d\nscaffold: sandbox.agents.scaffolds.tool_loop:ToolLoop\n"
     "context: {keep_steps: 2}\n", {}, "context needs a strategy"),
])
def test_a_broken_definition_is_refused_with_its_file_named(tmp_path: Path, text: str, prompts: dict[str, str],
                                                            expected: str) -> None:
    path = definition(tmp_path, text, prompts)
    with pytest.raises(ConfigError) as caught:
        build(path)
    assert expected in str(caught.value) and str(tmp_path) in str(caught.value)


def test_a_prompt_may_hold_braces_and_an_escaped_dollar(tmp_path: Path) -> None:
    path = definition(tmp_path, REACT + "prompts: {think: t.md, act: a.md}\n",
                      {"t.md": 'Reply as JSON {"plan": [...]}; it costs $$5.', "a.md": "$thought"})
    built = build(path)
    assert built.user("think") == {"role": "user", "content": 'Reply as JSON {"plan": [...]}; it costs $5.'}


def test_the_default_scaffold_leaves_every_episode_key_as_it_was_and_another_changes_it() -> None:
    settings = ModelSettings(model="openai/gpt-4o-mini")
    scenario = ScenarioConfig(scenario="filechore", env="sandbox/FileChore-v0", max_steps=15)
    document = {"model": settings.identity(), "scenario": "filechore", "env": "sandbox/FileChore-v0",
                "env_config": {}, "limits": {"max_steps": 15, "max_tokens_total": None, "max_episode_cost": None,
                                             "max_episode_seconds": None}, "trial": 2, "seed": 2}
    before = hashlib.sha256(canonical_json(document).encode()).hexdigest()
    assert episode_key(settings, scenario, 2) == before
    keys = {episode_key(settings, scenario.model_copy(update={"agent": name}), 2) for name in BUILT_IN}
    assert len(keys) == len(BUILT_IN) and before in keys


def test_the_dry_run_estimate_counts_the_calls_of_the_scaffold() -> None:
    settings = ModelSettings(model="openai/gpt-4o-mini")
    scenario = ScenarioConfig(scenario="filechore", env="sandbox/FileChore-v0", max_steps=15)
    plain = estimate(scenario, settings, 4, {})
    react = estimate(scenario.model_copy(update={"agent": "react"}), settings, 4, {})
    plan = estimate(scenario.model_copy(update={"agent": "plan_act"}), settings, 4, {})
    assert (plain.calls, react.calls, plan.calls) == (60, 120, 64)
    assert plain.cost_usd is not None and react.cost_usd is not None and react.cost_usd > 2 * plain.cost_usd


def answer_run(tmp_path: Path, agent: str, *extra: str, trials: int = 4,
               **server: Any) -> tuple[int, list[EpisodeLog], list[dict[str, Any]]]:
    out = tmp_path / agent
    with FakeModelServer(make_policy("pref-consistent"), **server) as fake:
        code = main(["scenario=preferences", "model=openai/fake", f"api_base={fake.base_url}", f"agent={agent}",
                     f"trials={trials}", f"out={out}", "num_retries=1", "retry_backoff=0", "preflight=false", *extra])
        requests = list(fake.requests)
    return code, read_episodes(out / "episodes.jsonl"), requests


def test_answer_episodes_keep_the_answers_and_log_every_call_with_its_purpose(tmp_path: Path) -> None:
    results = {agent: answer_run(tmp_path, agent) for agent in ("tool_loop", "react", "plan_act")}
    answers = {agent: sorted((e.seed, json.loads(str(e.steps[0].tool_call.arguments))["text"]) for e in episodes)
               for agent, (_, episodes, _) in results.items()}
    assert answers["react"] == answers["plan_act"] == answers["tool_loop"] and len(answers["react"]) == 4
    for agent, (code, episodes, requests) in results.items():
        assert code == 0
        assert all(e.agent == agent and e.engagement == "answered" and e.termination == "terminated" for e in episodes)
        assert all(t.finish_reason == "stop" and t.usage is not None and t.usage.total_tokens > 0
                   for e in episodes for t in e.turns)
        purposes = {tuple(t.purpose for t in e.turns) for e in episodes}
        assert purposes == {"tool_loop": {(None,)}, "react": {("think", None)}, "plan_act": {("plan", None)}}[agent]
        assert len(requests) == 4 * len(next(iter(purposes)))
    keys = {agent: {e.key for e in episodes} for agent, (_, episodes, _) in results.items()}
    assert not keys["react"] & keys["tool_loop"] and not keys["plan_act"] & keys["tool_loop"]
    _, _, requests = results["react"]
    last = [r["messages"][-1]["content"] for r in requests]
    assert sum(text.startswith("Before your next action, think it through") for text in last) == 4
    assert sum(text.startswith("Your reasoning:") for text in last) == 4


def test_a_think_call_that_fails_is_retried_logged_with_its_purpose_and_classified(tmp_path: Path) -> None:
    code, episodes, _ = answer_run(tmp_path, "react", trials=1, faults=["500"])
    [episode] = episodes
    assert code == 0 and episode.termination == "terminated"
    assert [(t.purpose, t.attempt, t.error_signature) for t in episode.turns] == [
        ("think", 1, "server_error"), ("think", 2, None), (None, 1, None)]
    code, episodes, _ = answer_run(tmp_path / "auth", "react", trials=1, faults=["401"])
    [episode] = episodes
    assert episode.termination == "error" and episode.error_class == "configuration"
    assert episode.error_signature == "http_401_authentication" and episode.turns[-1].purpose == "think"


def test_the_limits_are_checked_before_the_act_call_too(tmp_path: Path) -> None:
    _, episodes, requests = answer_run(tmp_path, "react", "max_tokens_total=10", trials=1)
    [episode] = episodes
    assert episode.termination == "token_limit" and [t.purpose for t in episode.turns] == ["think"]
    assert not episode.steps and len(requests) == 1 and episode.engagement is not None


def test_the_conversation_is_one_live_list_whose_oldest_steps_give_way_to_a_note() -> None:
    conversation = Conversation([{"role": "system", "content": "s"}, {"role": "user", "content": "t"}])
    live = conversation.messages
    for i in range(4):
        conversation.start_step({"role": "assistant", "content": f"a{i}"})
        conversation.add({"role": "tool", "content": f"r{i}"})
    conversation.add_to_head({"role": "user", "content": "plan"})
    assert [m["content"] for m in live] == ["s", "t", "plan", "a0", "r0", "a1", "r1", "a2", "r2", "a3", "r3"]
    conversation.drop_oldest(3, {"role": "user", "content": "note 1"})
    assert conversation.messages is live and [m["content"] for m in live] == ["s", "t", "plan", "note 1", "a3", "r3"]
    assert conversation.dropped == 3 and [[m["content"] for m in step] for step in conversation.steps] == [["a3", "r3"]]
    conversation.start_step({"role": "assistant", "content": "a4"})
    conversation.drop_oldest(2, {"role": "user", "content": "note 2"})  # the old note gives way too
    assert [m["content"] for m in live] == ["s", "t", "plan", "note 2"] and conversation.dropped == 5
    assert conversation.steps == [] and conversation.note == {"role": "user", "content": "note 2"}
