"""The agent loop: system prompt and observation → model → tool call → ``env.step`` → …

One loop for every model: real ones through litellm, scripted policies through their local
provider, and every scaffold (:mod:`sandbox.agents.scaffolds`): the episode's
``agent`` names the scaffold that arranges the model calls (default ``tool_loop``: the plain
tool loop). The episode ends when the environment terminates or truncates, when the model
answers without a tool call, or at a step, token, cost or wall-clock limit. A model call that
still fails after its retries, a conversation that outgrew the model's context (unless the
scaffold shortens it), or a sandbox that fails, ends the episode with ``termination="error"``,
an ``error_class`` (agent, model, infrastructure, configuration) and an ``error_signature``;
the log keeps every step done so far. An errored episode whose sandbox is alive is still
judged, for reading, but counts in no rate. Only an agent that destroyed its own sandbox ends
in ``sandbox_killed_by_agent``.

Every model call attempt is logged (``EpisodeLog.turns``: text, tool calls, finish reason,
usage, latency; failed attempts with their error), and counted in the episode's usage and
model time. At the end the loop records how the model engaged (``EpisodeLog.engagement``,
see :mod:`sandbox.agents.engagement`).

Environment calls (``reset``, ``step``, judging) block, so they run in ``executor`` — the
runner gives each batch a pool sized to its concurrency.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import time
from collections.abc import Callable
from concurrent.futures import Executor
from typing import Any, TypeVar

from sandbox.agents.engagement import judge_engagement
from sandbox.agents.episode_errors import (
    KILLED_BY_AGENT,
    EpisodeError,
    classify,
    describe,
    destroyed_by_agent,
)
from sandbox.agents.models import ModelClient
from sandbox.agents.policy import Message
from sandbox.agents.scaffolds import scaffold
from sandbox.agents.scaffolds.session import MAX_LOGGED_OBSERVATION, Conversation, Limits, Session
from sandbox.logs import EpisodeLog, EpisodeTiming
from sandbox.monitors import MonitoredEnv

T = TypeVar("T")

__all__ = ["KILLED_BY_AGENT", "MAX_LOGGED_OBSERVATION", "EpisodeError", "Limits", "classify", "describe",
           "destroyed_by_agent", "run_episode"]


async def run_episode(env: MonitoredEnv, client: ModelClient, episode: EpisodeLog, limits: Limits,
                      executor: Executor | None = None) -> EpisodeLog:
    """Play one episode and fill ``episode`` (returned) with its steps, findings and outcome.

    Args:
        env: the environment, wrapped with its monitors.
        client: the model.
        episode: a log with identity fields set (run, model, seed…, and ``agent``: the
            scaffold that plays it); filled in place.
        limits: step, token, cost and time limits.
        executor: where blocking environment calls run (default: asyncio's default pool).

    Raises:
        asyncio.CancelledError: the run was interrupted; ``episode.termination`` is
            ``"interrupted"`` and the caller records it and closes ``env``.
    """
    started = time.monotonic()
    timing = episode.timing = episode.timing or EpisodeTiming()
    episode.started_at = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    call = functools.partial(_blocking, executor)
    reply_tool: str | None = None
    try:
        agent = scaffold(episode.agent)
        clock = time.monotonic()
        observation, info = await call(env.reset, seed=episode.seed, options={"episode_id": episode.episode_id})
        timing.reset_s = time.monotonic() - clock
        messages: list[Message] = [{"role": "user", "content": observation}]
        episode.system_prompt, episode.task_prompt = info["system_prompt"] or None, observation
        if info["system_prompt"]:
            messages.insert(0, {"role": "system", "content": info["system_prompt"]})
        tools: list[dict[str, Any]] = info["tools"]
        reply_tool = info.get("reply_tool")
        session = Session(env, client, episode, limits, Conversation(messages), tools, reply_tool, call, started,
                          context=agent.context)
        episode.termination = await agent.play(session)
    except asyncio.CancelledError:
        episode.termination = "interrupted"
        episode.error = "interrupted: the run was stopped while this episode was in flight"
        episode.duration_s = time.monotonic() - started
        raise
    except Exception as exc:  # model failure after retries, or sandbox infrastructure failure
        alive = await call(_sandbox_alive, env)
        verdict = classify(exc, sandbox_alive=alive)
        episode.error_class, episode.error_signature = verdict.error_class, verdict.signature
        if destroyed_by_agent(exc, verdict):
            # The agent broke its own sandbox (killed it, exhausted its memory or processes):
            # its action, not an infrastructure failure, so the episode is still judged and counted.
            episode.termination = KILLED_BY_AGENT
        else:
            episode.termination = "error"
            episode.error = describe(exc)
    if episode.termination != "error" or await call(_sandbox_alive, env):
        clock = time.monotonic()
        try:
            await call(_judge, env, episode)
        except Exception as exc:
            if episode.termination != "error":
                verdict = classify(exc, sandbox_alive=await call(_sandbox_alive, env))
                episode.termination = "error"
                episode.error = f"judging failed: {type(exc).__name__}: {exc}"[:2000]
                episode.error_class, episode.error_signature = verdict.error_class, verdict.signature
        timing.judge_s = time.monotonic() - clock
    if episode.steps or episode.turns:
        try:
            episode.engagement = await call(judge_engagement, env, episode, reply_tool)
        except Exception:  # an environment's engagement hook that fails leaves it unrecorded
            episode.engagement = None
    episode.duration_s = time.monotonic() - started
    return episode


async def _blocking(executor: Executor | None, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(executor, functools.partial(fn, *args, **kwargs))


def _sandbox_alive(env: MonitoredEnv) -> bool:
    sandbox = getattr(env.unwrapped, "sandbox", None)
    if sandbox is None:
        return getattr(env.unwrapped, "image", None) is None  # an environment without a container
    try:
        return bool(sandbox.is_running())
    except Exception:
        return False


def _judge(env: MonitoredEnv, episode: EpisodeLog) -> None:
    env.judge()
    episode.findings = env.findings
    episode.outcome = env.outcome
    world = env.unwrapped.world  # type: ignore[attr-defined]
    episode.world = world.model_dump(mode="json")
    episode.world_fingerprint = world.fingerprint()


