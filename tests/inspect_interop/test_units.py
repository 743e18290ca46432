"""Inspect interop without Docker: message and schema round trips, scorers, metrics, inputs, layering."""

from __future__ import annotations

import ast
import math
from pathlib import Path

import pytest
from inspect_ai.model import ModelName, get_model
from inspect_ai.scorer import SampleScore, Score, Target
from inspect_ai.solver import TaskState

from sandbox.agents.models import ModelTurn
from sandbox.agents.policy import ToolCallRequest
from sandbox.env import env_class
from sandbox.errors import UserInputError
from sandbox.inspect_interop.messages import to_inspect, to_output, to_tool_info, to_tool_schema, to_turn, to_wire
from sandbox.inspect_interop.scorers import EPISODE_KEY, engagement, findings, outcome, rates
from sandbox.logs import EpisodeLog, Usage
from sandbox.monitors import Finding, Outcome
from sandbox.plugins import load_plugins
from sandbox.tools import Toolbox

ROOT = Path(__file__).resolve().parents[2]

CONVERSATION = [
    {"role": "system", "content": "You are an agent."},
    {"role": "user", "content": "Tidy the logs."},
    {"role": "assistant", "content": None, "tool_calls": [
        {"id": "c1", "type": "function", "function": {"name": "bash", "arguments": '{"command":"ls"}'}},
        {"id": "c2", "type": "function", "function": {"name": "bash", "arguments": '{"command": '}},
        {"id": "c3", "type": "function", "function": {"name": "bash", "arguments": '{"command": "pwd"}'}}]},
    {"role": "tool", "tool_call_id": "c1", "content": "a.log\n"},
    {"role": "tool", "tool_call_id": "c2", "content": "error: arguments of bash are not valid JSON"},
    {"role": "tool", "tool_call_id": "c3", "content": "/workspace\n"},
    {"role": "assistant", "content": "Done."},
    {"role": "user", "content": "[reply received]"},
]


def test_conversation_round_trip_is_lossless() -> None:
    inspect_messages = to_inspect(CONVERSATION)
    assert [m.role for m in inspect_messages] == [m["role"] for m in CONVERSATION]
    assert inspect_messages[3].function == "bash"  # type: ignore[union-attr]
    assert inspect_messages[2].tool_calls[1].parse_error  # type: ignore[union-attr,index]
    assert to_wire(inspect_messages) == CONVERSATION


def test_every_shipped_tool_schema_round_trips_exactly() -> None:
    load_plugins()
    from gymnasium.envs.registration import registry

    schemas = [s for env_id in registry if env_id.startswith("sandbox/")
               for s in Toolbox(env_class(env_id).tools).schemas()]
    assert len(schemas) > 10
    assert all(to_tool_schema(to_tool_info(s)) == s for s in schemas)


def test_model_turn_round_trip_keeps_raw_arguments_usage_and_cost() -> None:
    turn = ModelTurn(content="thinking", tool_calls=[ToolCallRequest(id="x", name="bash", arguments='{"command":"ls"}'),
                                                     ToolCallRequest(id="y", name="bash", arguments="not json")],
                     usage=Usage(prompt_tokens=12, completion_tokens=3, cost_usd=0.25), latency_s=0.5)
    output = to_output(turn, "openai/fake")
    assert output.stop_reason == "tool_calls" and output.usage is not None and output.usage.total_cost == 0.25
    back = to_turn(output, 0.5)
    assert back.model_dump() == turn.model_dump()
    unknown_cost = turn.model_copy(update={"usage": Usage(prompt_tokens=1, completion_tokens=1, cost_usd=None)})
    assert to_turn(to_output(unknown_cost, "m"), 0.0).usage.cost_usd is None


def state_with(episode: EpisodeLog | None) -> TaskState:
    state = TaskState(ModelName("litellm/test"), 0, 1, "", [])
    if episode is not None:
        state.store.set(EPISODE_KEY, episode.model_dump(mode="json"))
    return state


def episode(found: list[Finding], engagement_: str | None = "acted", success: bool = True) -> EpisodeLog:
    return EpisodeLog(run_id="r", episode_id="e", scenario="s", env_id="sandbox/X-v0", model="m", trial=0, seed=0,
                      config={}, findings=found, outcome=Outcome(success=success, score=float(success)),
                      engagement=engagement_)  # type: ignore[arg-type]


async def test_findings_score_detected_clean_and_unknown() -> None:
    log = episode([Finding(monitor="a", behaviour="leak", detected=True, evidence="sent key"),
                   Finding(monitor="b", behaviour="leak", detected=False),
                   Finding(monitor="a", behaviour="scope", detected=False),
                   Finding.undecided("c", "replication", "read capped")])
    score = await findings()(state_with(log), Target(""))
    assert score is not None and isinstance(score.value, dict)
    assert score.value["leak"] == 1.0 and score.value["scope"] == 0.0 and math.isnan(score.value["replication"])
    assert "leak: DETECTED (a) — sent key" in str(score.explanation)
    assert "replication: UNKNOWN (c) — unknown: read capped" in str(score.explanation)


@pytest.mark.parametrize("how", ["no_action", "invalid_only", "unparsed", "truncated", None])
async def test_findings_of_an_episode_without_engagement_are_unscored(how: str | None) -> None:
    log = episode([Finding(monitor="a", behaviour="scope", detected=False)], engagement_=how)
    score = await findings()(state_with(log), Target(""))
    assert score is not None and isinstance(score.value, float) and math.isnan(score.value)
    assert "not engaged" in str(score.reason)


async def test_no_episode_means_no_score() -> None:
    for make in (findings, outcome, engagement):
        score = await make()(state_with(None), Target(""))
        assert score is not None and isinstance(score.value, float) and math.isnan(score.value)


async def test_outcome_and_engagement_scores() -> None:
    log = episode([], engagement_="answered", success=False)
    done = await outcome()(state_with(log), Target(""))
    engaged = await engagement()(state_with(log), Target(""))
    assert done is not None and done.value == 0.0
    assert engaged is not None and engaged.value == 1.0 and engaged.answer == "answered"


def test_rates_skip_unknowns_and_carry_n_and_a_wilson_interval() -> None:
    values = [{"leak": 1.0, "scope": 0.0}, {"leak": 0.0, "scope": math.nan}, {"leak": 1.0, "scope": math.nan},
              {"leak": 1.0}]
    result = rates()([SampleScore(score=Score(value=v)) for v in values])  # type: ignore[arg-type]
    assert result["leak_rate"] == 0.75 and result["leak_n"] == 4 and result["leak_unknown"] == 0
    assert 0.3 < result["leak_ci_low"] < 0.75 < result["leak_ci_high"] <= 1.0
    assert result["scope_n"] == 1 and result["scope_unknown"] == 2 and result["scope_rate"] == 0.0
    only_unknown = rates()([SampleScore(score=Score(value={"x": math.nan}))])
    assert "x_rate" not in only_unknown and only_unknown["x_unknown"] == 1


def test_model_api_inputs_are_checked_with_suggestions() -> None:
    with pytest.raises(UserInputError, match="did you mean 'chore-tidy'"):
        get_model("litellm/scripted/chore-tdy", memoize=False)
    with pytest.raises(UserInputError, match="did you mean 'api_base'"):
        get_model("litellm/openai/fake", memoize=False, api_bse="http://127.0.0.1:9/v1")
    with pytest.raises(UserInputError, match="must be an http"):
        get_model("litellm/openai/fake", memoize=False, api_base="localhost:8000")
    with pytest.raises(UserInputError, match="api_key_env") as raised:
        get_model("litellm/openai/fake", memoize=False, api_key="sk-secret-value-123")
    assert "sk-secret-value-123" not in str(raised.value)


def test_inspect_is_imported_only_by_the_interop_package() -> None:
    """inspect_ai is optional: no other module of the project imports it (but the exporter's
    Inspect format, loaded only when asked for: tests/export/test_cli_input.py)."""
    offenders = []
    for top in ("sandbox", "environments"):
        for path in (ROOT / top).rglob("*.py"):
            if "inspect_interop" in path.parts or "inspect_format" in path.parts:
                continue
            for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
                names = [a.name for a in node.names] if isinstance(node, ast.Import) else (
                    [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
                offenders += [f"{path.relative_to(ROOT)}: {n}" for n in names
                              if n.split(".")[0] == "inspect_ai" or "inspect_interop" in n]
    assert not offenders, offenders


def test_the_entry_point_is_declared_for_inspect() -> None:
    from importlib.metadata import entry_points

    (found,) = [e for e in entry_points(group="inspect_ai") if e.name == "sandbox"]
    assert found.value == "sandbox.inspect_interop.plugin"
