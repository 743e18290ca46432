"""One episode as a scaffold drives it: the conversation, model calls and environment steps.

A scaffold decides *when* the model is called and *what it is shown*; a :class:`Session`
keeps the loop's guarantees whatever it decides:

* every model call attempt is logged in ``EpisodeLog.turns`` (text, tool calls, finish reason,
  usage, latency; failed attempts with their error and signature) and counted in the
  episode's usage and model time, and a call made for another purpose than an action carries
  it (``TurnLog.purpose``: ``think``, ``plan``, ``summarise``);
* the limits (steps, tokens, cost, wall clock) are checked before every model call a scaffold
  makes (:meth:`Session.limit_reached`);
* action calls send the model's own ``tool_choice``; a call that must not act offers the same
  tools with ``tool_choice="none"`` (or none at all, to a server that refuses the parameter);
* every tool call reaches the environment through ``env.step`` and is logged as a step; an
  answer without a tool call ends the episode (``agent_stopped``) or, in an answer
  environment, goes to its reply tool (:meth:`Session.act`);
* a conversation that outgrew the model's context ends the episode in
  ``context_window_exceeded`` unless the scaffold's context strategy relieves it
  (:mod:`sandbox.agents.scaffolds.context`).
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from pydantic import BaseModel, Field

from sandbox.agents.call_errors import connection_failed, context_overflow
from sandbox.agents.episode_errors import KILLED_BY_AGENT, classify
from sandbox.agents.models import ModelClient, ModelTurn, ToolChoice
from sandbox.agents.policy import Message, ToolCallRequest
from sandbox.logs import EpisodeLog, StepLog, Termination, TurnLog, Usage
from sandbox.monitors import MonitoredEnv
from sandbox.tools import ToolCall

MAX_LOGGED_OBSERVATION = 20_000


class Limits(BaseModel):
    """Per-episode limits (checked before each model call)."""

    max_steps: int = 30
    max_tokens_total: int | None = None
    max_cost_usd: float | None = Field(default=None, ge=0)
    max_seconds: float | None = Field(default=None, gt=0)


class Conversation:
    """The messages a scaffold sends: a head, a note standing for steps taken out, and the steps.

    The head (system prompt, task, a plan) is never taken out. Each step is an assistant turn
    followed by what came back (tool results, or the next user message of an answer
    environment). A context strategy may replace the oldest steps with one ``note`` message.
    :attr:`messages` is one list, changed in place, so a holder of it (Inspect's transcript)
    always sees the whole conversation.

    Args:
        head: the first messages (system prompt and task).
    """

    def __init__(self, head: list[Message]) -> None:
        self.messages: list[Message] = list(head)
        self.note: Message | None = None
        self.dropped = 0
        self._head = len(head)
        self._starts: list[int] = []

    @property
    def steps(self) -> list[list[Message]]:
        """The steps in view, oldest first."""
        ends = [*self._starts[1:], len(self.messages)][:len(self._starts)]
        return [self.messages[start:end] for start, end in zip(self._starts, ends, strict=True)]

    def add_to_head(self, message: Message) -> None:
        """Add a message to the head (after the task and before any step; never taken out)."""
        self.messages.insert(self._head, message)
        self._head += 1
        self._starts = [start + 1 for start in self._starts]

    def start_step(self, assistant: Message) -> None:
        """Begin a step with the assistant's turn."""
        self._starts.append(len(self.messages))
        self.messages.append(assistant)

    def add(self, message: Message) -> None:
        """Add what came back to the current step."""
        self.messages.append(message)

    def drop_oldest(self, count: int, note: Message) -> None:
        """Take out the ``count`` oldest steps and let ``note`` stand for them (and for earlier ones)."""
        taken = min(count, len(self._starts))
        cut = self._starts[taken] if taken < len(self._starts) else len(self.messages)
        head = self.messages[:self._head]
        self.messages[:] = [*head, note, *self.messages[cut:]]
        self._starts = [start - cut + self._head + 1 for start in self._starts[taken:]]
        self.dropped += taken
        self.note = note


class ContextStrategy(Protocol):
    """What a scaffold does when the conversation no longer fits the model's context."""

    async def relieve(self, session: Session) -> bool:
        """Shorten ``session.conversation``; ``False`` when nothing more can be taken out."""
        ...


class KeepEverything:
    """The default: the conversation is never shortened; an overflow ends the episode."""

    async def relieve(self, session: Session) -> bool:
        """Nothing can be taken out."""
        return False


Blocking = Callable[..., Awaitable[Any]]
"""Runs a blocking environment call in the episode's executor: ``await call(fn, *args)``."""


class Session:
    """One episode's state while a scaffold plays it.

    Args:
        env: the environment, wrapped with its monitors.
        client: the model.
        episode: the episode's log, filled in place.
        limits: the episode's limits.
        conversation: the messages so far (system prompt and task).
        tools: the tool schemas the environment offers.
        reply_tool: the tool that takes a plain answer (answer environments), if any.
        call: runs a blocking environment call in the episode's executor.
        started: ``time.monotonic()`` when the episode started.
        context: what happens when the conversation outgrows the model's context.
    """

    def __init__(self, env: MonitoredEnv, client: ModelClient, episode: EpisodeLog, limits: Limits,
                 conversation: Conversation, tools: list[dict[str, Any]], reply_tool: str | None,
                 call: Blocking, started: float, context: ContextStrategy | None = None) -> None:
        self.env, self.client, self.episode, self.limits = env, client, episode, limits
        self.conversation, self.tools, self.reply_tool = conversation, tools, reply_tool
        self.call, self.started = call, started
        self.context: ContextStrategy = context or KeepEverything()
        self.metadata = {"episode_id": episode.episode_id, "trial": episode.trial, "seed": episode.seed}

    def limit_reached(self) -> Termination | None:
        """The limit that ends the episode before the next model call, if one is reached."""
        episode, limits = self.episode, self.limits
        if len(episode.steps) >= limits.max_steps:
            return "step_limit"
        if limits.max_tokens_total is not None and episode.usage.total_tokens >= limits.max_tokens_total:
            return "token_limit"
        cost = episode.usage.cost_usd
        if limits.max_cost_usd is not None and cost is not None and cost >= limits.max_cost_usd:
            return "cost_limit"
        if limits.max_seconds is not None and time.monotonic() - self.started >= limits.max_seconds:
            return "time_limit"
        return None

    async def ask(self, extra: list[Message] | None = None, *, purpose: str | None = None,
                  acting: bool = True) -> tuple[ModelTurn, TurnLog]:
        """Call the model on the conversation (plus ``extra`` messages, not kept).

        A conversation that no longer fits is shortened by the context strategy and the call
        made again, until it fits or nothing more can be taken out.

        Args:
            extra: messages sent after the conversation for this call only (a scaffold's prompt).
            purpose: why the call is made, when not for an action (logged with the turn).
            acting: ``False``: the model sees the tools but may not call one.

        Raises:
            Exception: the call failed after its retries (see :func:`classify`).
        """
        while True:
            try:
                messages = [*self.conversation.messages, *extra] if extra else self.conversation.messages
                return await self.call_model(messages, purpose=purpose, acting=acting)
            except Exception as exc:
                if not context_overflow(exc) or not await self.context.relieve(self):
                    raise

    async def call_model(self, messages: list[Message], *, purpose: str | None = None, acting: bool = True,
                         tools: list[dict[str, Any]] | None = None) -> tuple[ModelTurn, TurnLog]:
        """One model call on exactly ``messages``: every attempt logged and counted.

        Args:
            messages: what the model is sent.
            purpose: why the call is made, when not for an action.
            acting: ``False``: the tools are offered with ``tool_choice="none"``, or not at all
                when the model's ``tool_choice`` is ``None`` (a server that refuses the parameter).
            tools: the tools offered (default: the environment's).

        Raises:
            Exception: the call failed after its retries; it carries a note naming the endpoint.
        """
        offered = self.tools if tools is None else tools
        choice: ToolChoice | None = None
        if not acting and offered:
            if self.client.settings.tool_choice is None:
                offered = []
            else:
                choice = "none"
        episode = self.episode
        number = 1 + max((t.index for t in episode.turns), default=0)

        def failed(attempt: int, exc: BaseException, seconds: float, usage: Usage | None) -> None:
            episode.turns.append(TurnLog(index=number, attempt=attempt, usage=usage, latency_s=seconds,
                                         error=f"{type(exc).__name__}: {exc}"[:2000],
                                         error_signature=classify(exc).signature, purpose=purpose))
            if usage is not None:
                episode.usage = episode.usage + usage

        options: dict[str, Any] = {"tool_choice": choice} if choice is not None else {}
        clock = time.monotonic()
        try:
            turn = await self.client.complete(messages, offered, metadata=self.metadata, on_failure=failed,
                                              **options)
        except Exception as exc:
            if not self.client.settings.local:
                reason = "; the connection failed" if connection_failed(exc) else ""
                exc.add_note(f"calling {self.client.settings.model} at {self.client.settings.endpoint}{reason}")
            raise
        finally:
            if episode.timing is not None:
                episode.timing.model_s += time.monotonic() - clock
        episode.usage = episode.usage + turn.usage
        log = TurnLog(index=number, attempt=turn.attempt, text=turn.content, finish_reason=turn.finish_reason,
                      tool_calls=[ToolCall(name=c.name, arguments=c.arguments, id=c.id) for c in turn.tool_calls],
                      usage=turn.usage, latency_s=turn.latency_s, cached=turn.cached, purpose=purpose)
        episode.turns.append(log)
        return turn, log

    async def act(self, turn: ModelTurn, log: TurnLog, content: str | None = None) -> Termination | None:
        """Add the turn to the conversation and play its tool calls; the termination if the episode ended.

        An answer without a tool call ends the episode (``agent_stopped``), except in an answer
        environment, where it goes to the reply tool as its ``text``.

        Args:
            turn: the model's action turn.
            log: its logged turn (linked to the steps it makes).
            content: the assistant text kept in the conversation and the step's log (default:
                the turn's own; a scaffold may prepend what the model thought first).
        """
        message = turn.as_message()
        if content is not None:
            message["content"] = content
        self.conversation.start_step(message)
        if not turn.tool_calls and self.reply_tool is None:
            return "agent_stopped"
        if not turn.tool_calls:
            text_call = ToolCallRequest.of(self.reply_tool or "", text=turn.content or "")
            turn = turn.model_copy(update={"tool_calls": [text_call.model_copy(update={"id": "reply"})]})
        usage: Usage | None = turn.usage
        shown = content if content is not None else turn.content
        episode = self.episode
        for request in turn.tool_calls:
            action = ToolCall(name=request.name, arguments=request.arguments, id=request.id)
            clock = time.monotonic()
            observation, reward, terminated, truncated, info = await self.call(self.env.step, action)
            if episode.timing is not None:
                episode.timing.tools_s += time.monotonic() - clock
            episode.steps.append(StepLog(
                index=len(episode.steps) + 1,
                assistant=shown if usage is not None else None,
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
                self.conversation.add({"role": "user", "content": observation})
            else:
                self.conversation.add({"role": "tool", "tool_call_id": request.id, "content": observation})
            if terminated or truncated:
                for skipped in turn.tool_calls[turn.tool_calls.index(request) + 1:]:
                    self.conversation.add({"role": "tool", "tool_call_id": skipped.id,
                                           "content": "not run: the episode has ended"})
                if info.get("termination") == KILLED_BY_AGENT:
                    return KILLED_BY_AGENT
                return "terminated" if terminated else "truncated"
        return None


def text_of(turn: ModelTurn) -> str:
    """What a turn said: its text, or (a model that called a tool where it may not) its calls described."""
    if turn.content and turn.content.strip():
        return turn.content.strip()
    calls = "; ".join(f"{c.name} {c.arguments}" for c in turn.tool_calls)
    return f"(no text; the model called {calls})" if calls else "(no text)"
