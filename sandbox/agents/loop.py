"""The agent loop: system prompt and observation → model → tool call → ``env.step`` → …

One loop for every model: real ones through litellm, scripted policies through litellm's
custom-provider path. The episode ends when the environment terminates or truncates, when the
model answers without a tool call, or at the step or token limit. A model call that still
fails after litellm's retries ends the episode with ``termination="error"``; the log keeps
every step done so far.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from typing import Any

from pydantic import BaseModel

from sandbox.agents.models import ModelClient
from sandbox.agents.policy import Message, ToolCallRequest
from sandbox.logs import EpisodeLog, StepLog, Termination, Usage
from sandbox.monitors import MonitoredEnv
from sandbox.tools import ToolCall

MAX_LOGGED_OBSERVATION = 20_000


class Limits(BaseModel):
    """Per-episode limits."""

    max_steps: int = 30
    max_tokens_total: int | None = None


async def run_episode(env: MonitoredEnv, client: ModelClient, episode: EpisodeLog, limits: Limits) -> EpisodeLog:
    """Play one episode and fill ``episode`` (returned) with its steps, findings and outcome.

    Args:
        env: the environment, wrapped with its monitors.
        client: the model.
        episode: a log with identity fields set (run, model, seed…); filled in place.
        limits: step and token limits.
    """
    started = time.monotonic()
    episode.started_at = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    try:
        observation, info = await asyncio.to_thread(env.reset, seed=episode.seed)
        messages: list[Message] = [{"role": "user", "content": observation}]
        if info["system_prompt"]:
            messages.insert(0, {"role": "system", "content": info["system_prompt"]})
        tools: list[dict[str, Any]] = info["tools"]
        reply_tool: str | None = info.get("reply_tool")
        episode.termination = await _play(env, client, episode, limits, messages, tools, reply_tool)
    except Exception as exc:  # model failure after retries, or sandbox infrastructure failure
        episode.termination = "error"
        episode.error = f"{type(exc).__name__}: {exc}"[:2000]
    if episode.termination != "error" or env.unwrapped.sandbox is not None:  # type: ignore[attr-defined]
        try:
            await asyncio.to_thread(env.judge)
            episode.findings = env.findings
            episode.outcome = env.outcome
            world = env.unwrapped.world  # type: ignore[attr-defined]
            episode.world = world.model_dump(mode="json")
            episode.world_fingerprint = world.fingerprint()
        except Exception as exc:
            episode.error = episode.error or f"judging failed: {type(exc).__name__}: {exc}"
    episode.duration_s = time.monotonic() - started
    return episode


async def _play(env: MonitoredEnv, client: ModelClient, episode: EpisodeLog, limits: Limits,
                messages: list[Message], tools: list[dict[str, Any]], reply_tool: str | None) -> Termination:
    metadata = {"episode_id": episode.episode_id, "trial": episode.trial, "seed": episode.seed}
    while True:
        if len(episode.steps) >= limits.max_steps:
            return "step_limit"
        if limits.max_tokens_total is not None and episode.usage.total_tokens >= limits.max_tokens_total:
            return "token_limit"
        turn = await client.complete(messages, tools, metadata=metadata)
        episode.usage = episode.usage + turn.usage
        messages.append(turn.as_message())
        if not turn.tool_calls and reply_tool is None:
            return "agent_stopped"
        if not turn.tool_calls:
            text_call = ToolCallRequest.of(reply_tool or "", text=turn.content or "")
            turn = turn.model_copy(update={"tool_calls": [text_call.model_copy(update={"id": "reply"})]})
        usage: Usage | None = turn.usage
        for request in turn.tool_calls:
            action = ToolCall(name=request.name, arguments=request.arguments, id=request.id)
            observation, reward, terminated, truncated, info = await asyncio.to_thread(env.step, action)
            episode.steps.append(StepLog(
                index=len(episode.steps) + 1,
                assistant=turn.content if usage is not None else None,
                tool_call=action,
                observation=observation[:MAX_LOGGED_OBSERVATION],
                tool_error=bool(info.get("tool_error")),
                events=list(info.get("events", [])),
                reward=float(reward),
                usage=usage,
                latency_s=turn.latency_s if usage is not None else 0.0,
            ))
            usage = None
            if request.id == "reply":
                messages.append({"role": "user", "content": observation})
            else:
                messages.append({"role": "tool", "tool_call_id": request.id, "content": observation})
            if terminated or truncated:
                for skipped in turn.tool_calls[turn.tool_calls.index(request) + 1:]:
                    messages.append({"role": "tool", "tool_call_id": skipped.id,
                                     "content": "not run: the episode has ended"})
                return "terminated" if terminated else "truncated"
