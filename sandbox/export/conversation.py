"""An episode's conversation, rebuilt from its log exactly as the agent loop held it.

The agent loop (:func:`sandbox.agents.loop.run_episode`) starts from the system prompt and
the task, then appends, per model call that got an answer, the assistant message and one
message per tool call it ran: a ``tool`` message with the observation, or — for the text
answer of an environment with a reply tool — a ``user`` message with the environment's
reply. When the environment ended the episode in the middle of a turn, the calls left are
answered "not run". :func:`transcript` replays that from ``EpisodeLog.turns`` and
``EpisodeLog.steps``; every model call attempt (failed and retried ones included) is kept
with the length of the conversation it was sent.

A log written before turns were recorded is read from its steps: a step carrying usage
starts a new assistant turn (the loop puts a turn's usage on its first step only).
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from pydantic import BaseModel, Field

from sandbox.agents.policy import Message
from sandbox.logs import EpisodeLog, StepLog, TurnLog
from sandbox.tools import ToolCall

REPLY_CALL_ID = "reply"
"""The call id the loop gives an answer environment's reply (a text answer turned into a call)."""
NOT_RUN = "not run: the episode has ended"
"""What the loop answers to the calls of a turn left when the environment ended the episode."""
ENDED_BY_ENVIRONMENT = frozenset({"terminated", "truncated", "sandbox_killed_by_agent"})


class ModelCall(BaseModel):
    """One model call attempt and how much of the conversation it was sent.

    Attributes:
        turn: the attempt as logged (an answer, or a failure with its error).
        prompt: the number of conversation messages the call was sent.
    """

    turn: TurnLog
    prompt: int


class Transcript(BaseModel):
    """An episode's conversation (wire format) and every model call attempt in order."""

    messages: list[Message] = Field(default_factory=list)
    calls: list[ModelCall] = Field(default_factory=list)


def arguments_text(call: ToolCall) -> str:
    """A logged call's arguments as the model sent them (raw text, or the mapping as JSON)."""
    return call.arguments if isinstance(call.arguments, str) else json.dumps(call.arguments)


def assistant_message(turn: TurnLog) -> Message:
    """The assistant message the loop appended for an answered turn (as ``ModelTurn.as_message``)."""
    message: Message = {"role": "assistant", "content": turn.text or ""}
    if turn.tool_calls:
        message["tool_calls"] = [{"id": c.id, "type": "function",
                                  "function": {"name": c.name, "arguments": arguments_text(c)}}
                                 for c in turn.tool_calls]
    return message


def step_message(step: StepLog) -> Message:
    """What the loop appended after running a step: the tool result, or the reply to a text answer."""
    if step.tool_call.id == REPLY_CALL_ID:
        return {"role": "user", "content": step.observation}
    return {"role": "tool", "tool_call_id": step.tool_call.id, "content": step.observation}


def transcript(episode: EpisodeLog) -> Transcript:
    """The episode's conversation and model calls, rebuilt from its turns and steps."""
    out = Transcript()
    if episode.system_prompt:
        out.messages.append({"role": "system", "content": episode.system_prompt})
    if episode.task_prompt is not None:
        out.messages.append({"role": "user", "content": episode.task_prompt})
    turns = episode.turns or turns_from_steps(episode.steps)
    steps = {step.index: step for step in episode.steps}
    answered = [turn for turn in turns if not turn.failed]
    for turn in turns:
        out.calls.append(ModelCall(turn=turn, prompt=len(out.messages)))
        if turn.failed:
            continue
        out.messages.append(assistant_message(turn))
        ran = [steps[index] for index in turn.steps if index in steps]
        out.messages.extend(step_message(step) for step in ran)
        if turn is answered[-1] and episode.termination in ENDED_BY_ENVIRONMENT:
            out.messages.extend({"role": "tool", "tool_call_id": call.id, "content": NOT_RUN}
                                for call in turn.tool_calls[len(ran):])
    return out


def turns_from_steps(steps: Sequence[StepLog]) -> list[TurnLog]:
    """The turns of a log written before turns were recorded, read from its steps."""
    turns: list[TurnLog] = []
    for step in steps:
        if not turns or step.usage is not None:
            turns.append(TurnLog(index=len(turns) + 1, text=step.assistant, usage=step.usage,
                                 latency_s=step.latency_s, cached=step.cached))
        turn = turns[-1]
        if step.tool_call.id != REPLY_CALL_ID:
            turn.tool_calls.append(step.tool_call)
        turn.steps.append(step.index)
    return turns
