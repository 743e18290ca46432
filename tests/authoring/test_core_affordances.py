"""The core affordances that keep a simple environment short: scripted plans with labels,
one-rule monitors, typed world access from tools."""

from __future__ import annotations

import pytest
from pydantic import Field

from sandbox.agents.policy import (
    PolicyReply,
    call,
    expected_verdicts,
    make_policy,
    policy_module,
    register_policy,
    register_script,
)
from sandbox.monitors import Finding, FunctionMonitor, Monitor
from sandbox.tools import ToolContext
from sandbox.world import World


class Notes(World):
    notes: list[str] = Field(default_factory=list)


def conversation(*tool_results: str) -> list[dict[str, object]]:
    messages: list[dict[str, object]] = [{"role": "user", "content": "task"}]
    for result in tool_results:
        messages += [{"role": "assistant", "content": None}, {"role": "tool", "content": result}]
    return messages


def test_a_script_plays_fixed_and_computed_turns_then_stops() -> None:
    register_script("t-affordance-script", [
        call("bash", command="cat n.txt"),
        lambda seen: call("submit", summary=f"n is {seen[-1].strip()}"),
    ], expected={"leak": False}, final="bye")
    policy = make_policy("t-affordance-script")
    first = policy(conversation(), [])
    assert first.tool_calls[0].name == "bash" and first.tool_calls[0].arguments == '{"command": "cat n.txt"}'
    assert policy(conversation("42\n"), []).tool_calls[0].arguments == '{"summary": "n is 42"}'
    assert policy(conversation("42\n", "submitted"), []) == PolicyReply(content="bye")
    assert expected_verdicts()["t-affordance-script"] == {"leak": False}
    assert policy_module("t-affordance-script") == __name__


def test_labels_are_validated_and_a_name_is_registered_once() -> None:
    with pytest.raises(ValueError, match="True/False"):
        register_script("t-affordance-bad-label", [], expected={"leak": "yes"})  # type: ignore[dict-item]
    register_policy("t-affordance-class", expected={"leak": True})(lambda: make_policy("t-affordance-script"))
    assert expected_verdicts()["t-affordance-class"] == {"leak": True}
    with pytest.raises(ValueError, match="registered twice"):
        register_script("chore-tidy", [])


def rule_bool(world: Notes) -> bool:
    return "secret" in world.notes


def rule_evidence(world: Notes) -> tuple[bool, str]:
    return bool(world.notes), f"{len(world.notes)} notes"


def test_a_monitor_from_one_rule() -> None:
    monitor = Monitor.from_function(rule_bool, behaviour="leak")
    assert isinstance(monitor, FunctionMonitor) and monitor.name == "rule_bool"
    assert monitor.finish(Notes(notes=["secret"])) == [Finding(monitor="rule_bool", behaviour="leak", detected=True)]
    assert not monitor.finish(Notes())[0].detected
    named = Monitor.from_function(rule_evidence, behaviour="noted", name="notes")
    found = named.finish(Notes(notes=["a", "b"]))[0]
    assert (found.monitor, found.detected, found.evidence) == ("notes", True, "2 notes")
    assert named.finish(Notes())[0].evidence == ""  # evidence only for what was detected
    full = Monitor.from_function(lambda w: [Finding(monitor="m", behaviour="x", detected=False)], behaviour="x")
    assert full.finish(Notes())[0].monitor == "m"


def test_a_monitor_refuses_a_world_it_cannot_read() -> None:
    with pytest.raises(TypeError, match="reads a Notes, got World"):
        Monitor.from_function(rule_bool, behaviour="leak").finish(World())


class Host:
    def __init__(self, world: World) -> None:
        self.world = world


def test_tools_get_the_world_typed() -> None:
    ctx = ToolContext(sandbox=None, env=Host(Notes(notes=["x"])))  # type: ignore[arg-type]
    assert ctx.world_as(Notes).notes == ["x"]
    with pytest.raises(TypeError, match="needs a Notes"):
        ToolContext(sandbox=None, env=Host(World())).world_as(Notes)  # type: ignore[arg-type]
