"""The agent loop: system prompt and observation → model → tool call → ``env.step`` → …

One loop for every model: real ones through litellm, scripted policies through their local
provider. The episode ends when the environment terminates or truncates, when the model
answers without a tool call, or at a step, token, cost or wall-clock limit. A model call that
still fails after its retries, a conversation that outgrew the model's context, or a sandbox
that fails, ends the episode with ``termination="error"``, an ``error_class`` (agent, model,
infrastructure, configuration) and an ``error_signature``; the log keeps every step done so
far. An errored episode whose sandbox is alive is still judged, for reading, but counts in no
rate. Only an agent that destroyed its own sandbox ends in ``sandbox_killed_by_agent``.

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
from typing import Any, Final, TypeVar

from pydantic import BaseModel, Field

from sandbox.agents.call_errors import connection_failed, retryable, status_of
from sandbox.agents.engagement import judge_engagement
from sandbox.agents.models import ModelClient, ModelTurn
from sandbox.agents.policy import Message, ToolCallRequest
from sandbox.errors import DockerUnavailable, ImageMissing, SandboxError, SandboxUnavailable, UserInputError
from sandbox.logs import EpisodeLog, EpisodeTiming, ErrorClass, StepLog, Termination, TurnLog, Usage
from sandbox.monitors import MonitoredEnv
from sandbox.tools import ToolCall

MAX_LOGGED_OBSERVATION = 20_000
KILLED_BY_AGENT: Final = "sandbox_killed_by_agent"
"""Termination (and exception ``signature``) of an episode whose agent destroyed its own sandbox."""

T = TypeVar("T")


class Limits(BaseModel):
    """Per-episode limits (checked before each model call)."""

    max_steps: int = 30
    max_tokens_total: int | None = None
    max_cost_usd: float | None = Field(default=None, ge=0)
    max_seconds: float | None = Field(default=None, gt=0)


class EpisodeError(BaseModel):
    """What an episode's error was: a class, a stable signature, and whether a re-run may fix it."""

    error_class: ErrorClass
    signature: str
    retryable: bool


async def run_episode(env: MonitoredEnv, client: ModelClient, episode: EpisodeLog, limits: Limits,
                      executor: Executor | None = None) -> EpisodeLog:
    """Play one episode and fill ``episode`` (returned) with its steps, findings and outcome.

    Args:
        env: the environment, wrapped with its monitors.
        client: the model.
        episode: a log with identity fields set (run, model, seed…); filled in place.
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
        clock = time.monotonic()
        observation, info = await call(env.reset, seed=episode.seed, options={"episode_id": episode.episode_id})
        timing.reset_s = time.monotonic() - clock
        messages: list[Message] = [{"role": "user", "content": observation}]
        episode.system_prompt, episode.task_prompt = info["system_prompt"] or None, observation
        if info["system_prompt"]:
            messages.insert(0, {"role": "system", "content": info["system_prompt"]})
        tools: list[dict[str, Any]] = info["tools"]
        reply_tool = info.get("reply_tool")
        episode.termination = await _play(env, client, episode, limits, messages, tools, reply_tool, call, started)
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


def destroyed_by_agent(exc: BaseException, verdict: EpisodeError) -> bool:
    """Whether an agent-class error is the agent destroying its sandbox (not e.g. a context overflow)."""
    return verdict.error_class == "agent" and (verdict.signature == KILLED_BY_AGENT
                                               or isinstance(exc, SandboxUnavailable))


def describe(exc: BaseException) -> str:
    """``Type: message`` plus the exception's notes (e.g. which endpoint a model call went to)."""
    notes = " ".join(f"({note})" for note in getattr(exc, "__notes__", []))
    return f"{type(exc).__name__}: {exc}{' ' + notes if notes else ''}"[:2000]


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


async def _play(env: MonitoredEnv, client: ModelClient, episode: EpisodeLog, limits: Limits,
                messages: list[Message], tools: list[dict[str, Any]], reply_tool: str | None,
                call: Callable[..., Any], started: float) -> Termination:
    metadata = {"episode_id": episode.episode_id, "trial": episode.trial, "seed": episode.seed}
    while True:
        if len(episode.steps) >= limits.max_steps:
            return "step_limit"
        if limits.max_tokens_total is not None and episode.usage.total_tokens >= limits.max_tokens_total:
            return "token_limit"
        cost = episode.usage.cost_usd
        if limits.max_cost_usd is not None and cost is not None and cost >= limits.max_cost_usd:
            return "cost_limit"
        if limits.max_seconds is not None and time.monotonic() - started >= limits.max_seconds:
            return "time_limit"
        turn, log = await _ask(client, episode, messages, tools, metadata)
        messages.append(turn.as_message())
        if not turn.tool_calls and reply_tool is None:
            return "agent_stopped"
        if not turn.tool_calls:
            text_call = ToolCallRequest.of(reply_tool or "", text=turn.content or "")
            turn = turn.model_copy(update={"tool_calls": [text_call.model_copy(update={"id": "reply"})]})
        usage: Usage | None = turn.usage
        for request in turn.tool_calls:
            action = ToolCall(name=request.name, arguments=request.arguments, id=request.id)
            clock = time.monotonic()
            observation, reward, terminated, truncated, info = await call(env.step, action)
            if episode.timing is not None:
                episode.timing.tools_s += time.monotonic() - clock
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
                cached=turn.cached,
            ))
            log.steps.append(len(episode.steps))
            usage = None
            if request.id == "reply":
                messages.append({"role": "user", "content": observation})
            else:
                messages.append({"role": "tool", "tool_call_id": request.id, "content": observation})
            if terminated or truncated:
                for skipped in turn.tool_calls[turn.tool_calls.index(request) + 1:]:
                    messages.append({"role": "tool", "tool_call_id": skipped.id,
                                     "content": "not run: the episode has ended"})
                if info.get("termination") == KILLED_BY_AGENT:
                    return KILLED_BY_AGENT
                return "terminated" if terminated else "truncated"


async def _ask(client: ModelClient, episode: EpisodeLog, messages: list[Message], tools: list[dict[str, Any]],
               metadata: dict[str, Any]) -> tuple[ModelTurn, TurnLog]:
    """One model call: every attempt logged in ``episode.turns`` and counted in usage and model time.

    Raises:
        Exception: the call failed after its retries; it carries a note naming the endpoint.
    """
    number = 1 + max((t.index for t in episode.turns), default=0)

    def failed(attempt: int, exc: BaseException, seconds: float, usage: Usage | None) -> None:
        episode.turns.append(TurnLog(index=number, attempt=attempt, usage=usage, latency_s=seconds,
                                     error=f"{type(exc).__name__}: {exc}"[:2000],
                                     error_signature=classify(exc).signature))
        if usage is not None:
            episode.usage = episode.usage + usage

    clock = time.monotonic()
    try:
        turn = await client.complete(messages, tools, metadata=metadata, on_failure=failed)
    except Exception as exc:
        if not client.settings.local:
            reason = "; the connection failed" if connection_failed(exc) else ""
            exc.add_note(f"calling {client.settings.model} at {client.settings.endpoint}{reason}")
        raise
    finally:
        if episode.timing is not None:
            episode.timing.model_s += time.monotonic() - clock
    episode.usage = episode.usage + turn.usage
    log = TurnLog(index=number, attempt=turn.attempt, text=turn.content, finish_reason=turn.finish_reason,
                  tool_calls=[ToolCall(name=c.name, arguments=c.arguments, id=c.id) for c in turn.tool_calls],
                  usage=turn.usage, latency_s=turn.latency_s, cached=turn.cached)
    episode.turns.append(log)
    return turn, log


_MODEL_SIGNATURES = {
    "RateLimitError": "rate_limited", "Timeout": "timeout", "APIConnectionError": "connection_failed",
    "InternalServerError": "server_error", "ServiceUnavailableError": "service_unavailable",
    "BadGatewayError": "bad_gateway", "APIResponseValidationError": "malformed_response",
    "JSONDecodeError": "malformed_response", "ModelAnswerError": "no_choices",
}
_CONFIG_SIGNATURES = {
    "AuthenticationError": "http_401_authentication", "PermissionDeniedError": "http_403_permission_denied",
    "NotFoundError": "http_404_not_found", "BadRequestError": "http_400_bad_request",
    "UnprocessableEntityError": "http_422_unprocessable", "UnsupportedParamsError": "unsupported_params",
    "ContentPolicyViolationError": "content_policy", "PaymentRequiredError": "http_402_payment_required",
}


def classify(exc: BaseException, sandbox_alive: bool = True) -> EpisodeError:
    """Who an episode's error is down to, from the exception and the state of the sandbox.

    * an exception may say so itself: ``error_class`` and ``signature`` attributes (the
      sandbox backend's typed exceptions carry a stable ``signature``);
    * ``ContextWindowExceededError`` → agent, ``context_window_exceeded`` (its conversation
      outgrew the model): an error, never a sandbox the agent killed;
    * a call that never reached a server → model, ``connection_failed``;
    * model provider errors: 429, 5xx, timeouts, dropped connections, unusable answers →
      model (retryable); HTTP 400/401/403/404/422 and unsupported parameters →
      configuration (no retry can fix them);
    * a sandbox that is gone, or any :class:`~sandbox.errors.SandboxUnavailable` (also a file
      error from a dead container) → infrastructure; a missing image → configuration;
    * bad user input → configuration; anything else → infrastructure (``unexpected:<type>``).
    """
    name = type(exc).__name__
    own_signature = getattr(exc, "signature", None)
    own_class = getattr(exc, "error_class", None)
    if connection_failed(exc):
        return EpisodeError(error_class="model", signature="connection_failed", retryable=True)
    if own_signature == KILLED_BY_AGENT or getattr(exc, "caused_by_agent", False):
        return EpisodeError(error_class="agent", signature=KILLED_BY_AGENT, retryable=False)
    if own_class in ("agent", "model", "infrastructure", "configuration") and isinstance(own_signature, str):
        return EpisodeError(error_class=own_class, signature=own_signature,
                            retryable=own_class in ("model", "infrastructure"))
    if name == "ContextWindowExceededError":
        return EpisodeError(error_class="agent", signature="context_window_exceeded", retryable=False)
    if isinstance(exc, ImageMissing):
        return EpisodeError(error_class="configuration", signature="image_missing", retryable=False)
    if isinstance(exc, (DockerUnavailable, SandboxUnavailable)):
        signature = own_signature if isinstance(own_signature, str) else _snake(name)
        return EpisodeError(error_class="infrastructure", signature=signature, retryable=True)
    if isinstance(exc, UserInputError):
        return EpisodeError(error_class="configuration", signature=_snake(name), retryable=False)
    if isinstance(exc, SandboxError) and not sandbox_alive:
        return EpisodeError(error_class="infrastructure", signature="sandbox_unavailable", retryable=True)
    status = status_of(exc)
    if name in _CONFIG_SIGNATURES or (status is not None and 400 <= status < 500 and not retryable(exc)):
        return EpisodeError(error_class="configuration",
                            signature=_CONFIG_SIGNATURES.get(name, f"http_{status}"), retryable=False)
    if name in _MODEL_SIGNATURES or retryable(exc):
        signature = _MODEL_SIGNATURES.get(name, f"http_{status}" if status else _snake(name))
        return EpisodeError(error_class="model", signature=signature, retryable=True)
    if not sandbox_alive:
        return EpisodeError(error_class="infrastructure", signature="sandbox_unavailable", retryable=True)
    return EpisodeError(error_class="infrastructure", signature=f"unexpected:{name}", retryable=True)


def _snake(name: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() and i else c.lower() for i, c in enumerate(name))
