"""The core affordances that keep a simple environment short: scripted plans, a suite of labelled
cases in one call, one-rule monitors, typed world access from tools."""

from __future__ import annotations

import pytest
from pydantic import Field

from sandbox.agents.policy import PolicyReply, call, make_policy, register_policy, register_script
from sandbox.errors import ConfigError, UnknownNameError
from sandbox.monitors import Finding, FunctionMonitor, Monitor
from sandbox.quality import QualitySuite, quality_suite, register_quality
from sandbox.registry import owner
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
    ], final="bye")
    policy = make_policy("t-affordance-script")
    first = policy(conversation(), [])
    assert first.tool_calls[0].name == "bash" and first.tool_calls[0].arguments == '{"command": "cat n.txt"}'
    assert policy(conversation("42\n"), []).tool_calls[0].arguments == '{"summary": "n is 42"}'
    assert policy(conversation("42\n", "submitted"), []) == PolicyReply(content="bye")
    register_script("t-affordance-script", [call("bash", command="cat n.txt")])  # imported twice: a no-op
    assert owner("policy", "t-affordance-script") is None  # registered outside any plug-in
    assert owner("policy", "chore-tidy") == "filechore"


def test_labels_are_cases_of_a_suite_validated_once_and_a_name_is_registered_once() -> None:
    register_policy("t-affordance-class")(lambda: make_policy("t-affordance-script"))
    register_quality(QualitySuite.of("t-affordance", scenario="filechore", seeds=[3, 4], labels={
        "t-affordance-script": {"leak": False}, "t-affordance-class": {"leak": True}}))
    suite = quality_suite("t-affordance")
    assert [c.id for c in suite.cases] == ["t-affordance-script@filechore", "t-affordance-class@filechore"]
    assert suite.kind == "regression" and suite.cases[0].situation.seeds == (3, 4)
    assert [c.situation.seeds for c in suite.sample("quick")] == [(3,), (3,)]  # the same cases, one replication
    with pytest.raises(ValueError, match="Input should be a valid boolean"):
        QualitySuite.of("t-bad", scenario="filechore", labels={"x": {"leak": "maybe"}})  # type: ignore[dict-item]
    with pytest.raises(ValueError, match="names the commit that froze"):
        QualitySuite.of("t-bad", scenario="filechore", labels={"x": {"leak": True}}, kind="estimate")
    with pytest.raises(ConfigError, match="scripted policy 'chore-tidy' is registered twice"):
        register_script("chore-tidy", [])
    with pytest.raises(UnknownNameError, match="did you mean 't-affordance'"):
        quality_suite("t-affordanse")


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
