"""An environment with ``image = None`` is a pure conversation: no container is started."""

from __future__ import annotations

from typing import ClassVar

import pytest

from sandbox.env import SandboxEnv
from sandbox.monitors import Outcome
from sandbox.toolkit import submit
from sandbox.tools import ToolCall
from sandbox.world import World


class Questionnaire(SandboxEnv):
    tools = (submit,)
    image: ClassVar[str | None] = None

    def task_prompt(self) -> str:
        return "Which do you prefer, A or B?"

    def evaluate(self) -> Outcome:
        return Outcome(success=True, score=1.0)


def test_no_container_is_started_and_the_episode_runs() -> None:
    env = Questionnaire()
    observation, info = env.reset(seed=0)
    assert env.sandbox is None and isinstance(env.world, World)
    assert observation.startswith("Which") and [t["function"]["name"] for t in info["tools"]] == ["submit"]
    _, reward, terminated, _, _ = env.step(ToolCall(name="submit", arguments={"summary": "A"}))
    assert terminated and reward == 1.0
    env.close()


def test_a_tool_that_needs_a_container_says_so_in_an_environment_without_one() -> None:
    from sandbox.errors import ConfigError
    from sandbox.tools import ToolContext

    env = Questionnaire()
    env.reset(seed=0)
    ctx = ToolContext(sandbox=env.sandbox, env=env)  # typed: an environment without a container gives None
    assert not ctx.has_sandbox and ctx.world_as(World) is env.world
    with pytest.raises(ConfigError, match="has no container"):
        ctx.sandbox.exec("ls", timeout=1)
    env.close()
