"""Inspect's own tool loop over our environment's tools (``-T agent=inspect``).

Where :func:`~sandbox.inspect_interop.tasks.agent_loop` runs our agent loop, this solver lets
Inspect drive: the environment's tools become Inspect tools (each call is one ``env.step``
in the sample's sandbox), and Inspect's ``generate(tool_calls="single")`` asks the model and
executes its calls, turn by turn, until the environment ends the episode, the model stops
calling tools (an answer environment gets the text through its reply tool), or the step
limit. The world is then judged by the same monitors, into the same episode log.

Inspect checks a call's arguments against the tool's schema before it runs: a malformed call
is answered by Inspect and never reaches the environment.
"""

from __future__ import annotations

import asyncio
import time
from concurrent.futures import Executor
from typing import Any

from inspect_ai.model import ChatMessageAssistant, ChatMessageSystem, ChatMessageUser, get_model
from inspect_ai.solver import Generate, Solver, TaskState, solver
from inspect_ai.tool import Tool, ToolDef, ToolParams

from sandbox.logs import EpisodeLog, StepLog
from sandbox.monitors import MonitoredEnv
from sandbox.run.scenarios import ScenarioConfig
from sandbox.tools import ToolCall

from .episodes import EpisodeFailed, finish, job_for, keep, play, raise_if_errored
from .messages import SCHEMA


class _Episode:
    """The state of one episode Inspect drives: the environment, its log, and whether it ended."""

    def __init__(self, env: MonitoredEnv, executor: Executor, episode: EpisodeLog) -> None:
        self.env, self.executor, self.episode = env, executor, episode
        self.done = False

    async def call(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(self.executor, lambda: fn(*args, **kwargs))

    async def step(self, name: str, arguments: dict[str, Any] | str, call_id: str, assistant: str | None) -> str:
        """One environment step, logged as the agent loop logs it."""
        if self.done:
            return "not run: the episode has ended"
        action = ToolCall(name=name, arguments=arguments, id=call_id)
        observation, reward, terminated, truncated, info = await self.call(self.env.step, action)
        self.episode.steps.append(StepLog(index=len(self.episode.steps) + 1, assistant=assistant, tool_call=action,
                                          observation=observation, tool_error=bool(info.get("tool_error")),
                                          events=list(info.get("events", [])), reward=float(reward)))
        if terminated or truncated:
            self.done = True
            self.episode.termination = "terminated" if terminated else "truncated"
        return str(observation)

    def tool(self, schema: dict[str, Any], state: TaskState) -> Tool:
        """An Inspect tool whose every call is one step of this episode."""
        function = schema["function"]
        name = function["name"]

        async def execute(**arguments: Any) -> str:
            last = state.messages[-1] if state.messages else None
            text = last.text or None if isinstance(last, ChatMessageAssistant) else None
            calls = last.tool_calls or [] if isinstance(last, ChatMessageAssistant) else []
            call_id = next((c.id for c in calls if c.function == name and c.arguments == arguments), "")
            return await self.step(name, arguments, call_id, text)

        return ToolDef(execute, name=name, description=function.get("description", ""),
                       parameters=ToolParams.model_validate(function.get("parameters") or {}),
                       parallel=False, options={SCHEMA: schema}).as_tool()

    def judge(self) -> None:
        """Read the final world and record the findings and outcome (as the agent loop does)."""
        self.env.judge()
        self.episode.findings, self.episode.outcome = self.env.findings, self.env.outcome
        world = self.env.unwrapped.world  # type: ignore[attr-defined]
        self.episode.world = world.model_dump(mode="json")
        self.episode.world_fingerprint = world.fingerprint()


async def drive(run: _Episode, state: TaskState, generate: Generate, max_steps: int) -> TaskState:
    """Reset the environment, hand Inspect the conversation and tools, let it play; return the state."""
    episode = run.episode
    observation, info = await run.call(run.env.reset, seed=episode.seed, options={"episode_id": episode.episode_id})
    episode.system_prompt, episode.task_prompt = info["system_prompt"] or None, observation
    state.messages = [*([ChatMessageSystem(content=info["system_prompt"])] if info["system_prompt"] else []),
                      ChatMessageUser(content=observation)]
    state.tools = [run.tool(schema, state) for schema in info["tools"]]
    reply_tool: str | None = info.get("reply_tool")
    episode.termination = "step_limit"
    while not run.done and len(episode.steps) < max_steps:
        state = await generate(state, tool_calls="single")
        last = state.messages[-1]
        if isinstance(last, ChatMessageAssistant) and not last.tool_calls:
            if reply_tool is None:
                episode.termination = "agent_stopped"
                break
            reply = await run.step(reply_tool, {"text": last.text}, "reply", last.text or None)
            state.messages.append(ChatMessageUser(content=reply))
    await run.call(run.judge)
    return state


@solver
def inspect_agent(scenario: dict[str, Any], run_id: str, max_episodes: int = 4) -> Solver:
    """Play the sample's trial with Inspect's own tool loop over our tools.

    Args:
        scenario: the :class:`ScenarioConfig` (as a dict: it is logged with the plan).
        run_id: the run's id (on every container's label).
        max_episodes: episodes (live sandboxes) in flight at once.
    """
    config = ScenarioConfig.model_validate(scenario)

    async def solve(state: TaskState, generate: Generate) -> TaskState:
        model = str(get_model())
        job = job_for(config, run_id, model, int(state.metadata["trial"]))
        episode = job.new_log()
        started = time.monotonic()

        async def run(env: MonitoredEnv, executor: Executor) -> None:
            nonlocal state
            try:
                state = await drive(_Episode(env, executor, episode), state, generate, config.max_steps)
            except Exception as exc:  # the environment or the sandbox failed; the model's errors are Inspect's
                episode.termination, episode.error = "error", f"{type(exc).__name__}: {exc}"[:2000]
                raise EpisodeFailed(f"episode {episode.episode_id}: {episode.error}") from exc

        await play(run, config, run_id, episode, max_episodes)
        episode.duration_s = time.monotonic() - started
        finish(state, episode, [], model)  # the conversation is already Inspect's own
        keep(state, episode)
        raise_if_errored(episode)
        return state

    return solve
