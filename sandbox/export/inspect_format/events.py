"""A sample's transcript as Inspect events, laid out as a live ``inspect eval`` run lays them out.

A live run of our tasks records a ``solvers`` span holding the ``agent_loop`` solver's model
calls, then a ``scorers`` span with one span and one score event per scorer. An exported
sample gets the same, built from the episode log: one :class:`~inspect_ai.event.ModelEvent`
per model call attempt (a failed attempt with its error; a retried one with its attempt
number), one :class:`~inspect_ai.event.ToolEvent` per environment step (its world events in
the event's metadata), and the scores. The log keeps no wall-clock time per call, so events
are placed by the episode's start plus the model and tool time spent before them.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Sequence
from typing import TypeVar

from inspect_ai.event import Event, ModelEvent, ScoreEvent, SpanBeginEvent, SpanEndEvent, ToolEvent
from inspect_ai.model import ChatMessage, GenerateConfig, ModelOutput, ModelUsage
from inspect_ai.scorer import Score
from inspect_ai.tool import ToolCallError

from sandbox.agents.models import ModelTurn
from sandbox.agents.policy import ToolCallRequest
from sandbox.inspect_interop.messages import to_output
from sandbox.logs import EpisodeLog, StepLog, TurnLog, Usage

from ..conversation import Transcript, arguments_text

E = TypeVar("E", ModelEvent, ToolEvent, ScoreEvent, SpanBeginEvent, SpanEndEvent)
SOLVER = "agent_loop"
"""The solver name a live run of our tasks records (:func:`sandbox.inspect_interop.tasks.agent_loop`)."""


class _Clock:
    """Places events in time: the episode's start plus the seconds spent so far."""

    def __init__(self, start: dt.datetime) -> None:
        self.start, self.elapsed = start, 0.0

    def place(self, event: E) -> E:
        """Stamp ``event`` with the current time of the episode."""
        event.timestamp = self.start + dt.timedelta(seconds=self.elapsed)
        event.working_start = self.elapsed
        return event


def model_usage(usage: Usage | None) -> ModelUsage | None:
    """Our usage as Inspect's (``None`` stays unknown, a cost we could not price too)."""
    if usage is None:
        return None
    return ModelUsage(input_tokens=usage.prompt_tokens, output_tokens=usage.completion_tokens,
                      total_tokens=usage.total_tokens, total_cost=usage.cost_usd)


def model_output(turn: TurnLog, model: str) -> ModelOutput:
    """What a model call attempt returned: its answer, or an empty output carrying the error."""
    if turn.failed:
        return ModelOutput(model=model, choices=[], usage=model_usage(turn.usage), error=turn.error,
                           time=turn.latency_s)
    requests = [ToolCallRequest(id=c.id, name=c.name, arguments=arguments_text(c)) for c in turn.tool_calls]
    answer = ModelTurn(content=turn.text, tool_calls=requests, usage=turn.usage or Usage(),
                       latency_s=turn.latency_s, cached=turn.cached, finish_reason=turn.finish_reason,
                       attempt=turn.attempt)
    output = to_output(answer, model)
    if turn.usage is None:
        output.usage = None
    if turn.finish_reason == "length":
        output.choices[0].stop_reason = "max_tokens"
    return output


def tool_event(step: StepLog, span: str) -> ToolEvent:
    """One environment step as Inspect's tool event (world events in its metadata)."""
    raw = step.tool_call.arguments
    error = None
    if isinstance(raw, dict):
        arguments = raw
    else:
        try:
            parsed = json.loads(raw) if raw.strip() else {}
        except json.JSONDecodeError as exc:
            parsed, error = {}, ToolCallError("parsing", f"arguments are not valid JSON ({exc})")
        arguments = parsed if isinstance(parsed, dict) else {"arguments": parsed}
    metadata = {"step": step.index, "tool_error": step.tool_error, "reward": step.reward,
                "world_events": [event.model_dump(mode="json") for event in step.events]}
    return ToolEvent(id=step.tool_call.id, function=step.tool_call.name, arguments=arguments, result=step.observation,
                     error=error, span_id=span, metadata=metadata)


def model_event(turn: TurnLog, prompt: Sequence[ChatMessage], model: str, span: str) -> ModelEvent:
    """One model call attempt: what it was sent, and its answer or its error."""
    failure = {"turn": turn.index, "attempt": turn.attempt, "error_signature": turn.error_signature}
    return ModelEvent(model=model, input=list(prompt), tools=[], tool_choice="auto", config=GenerateConfig(),
                      output=model_output(turn, model), error=turn.error, retries=turn.attempt - 1 or None,
                      cache="read" if turn.cached else None, working_time=turn.latency_s, span_id=span,
                      metadata=failure if turn.failed else None)


def sample_events(episode: EpisodeLog, transcript: Transcript, messages: Sequence[ChatMessage], model: str,
                  start: dt.datetime, scores: dict[str, Score] | None) -> list[Event]:
    """The sample's events: the solver span with every model call and step, then the scorers span.

    Args:
        episode: the episode log.
        transcript: its conversation and model calls (:func:`~.conversation.transcript`).
        messages: the conversation as Inspect messages (one per transcript message).
        model: the Inspect model name (``litellm/…``).
        start: when the episode started.
        scores: the sample's scores (``None`` for an errored episode: it has none).
    """
    clock = _Clock(start)
    solvers, solver = uuid.uuid4().hex, uuid.uuid4().hex
    events: list[Event] = [
        clock.place(SpanBeginEvent(id=solvers, name="solvers", type="solvers", span_id=solvers)),
        clock.place(SpanBeginEvent(id=solver, parent_id=solvers, name=SOLVER, type="solver", span_id=solver)),
    ]
    clock.elapsed += episode.timing.reset_s if episode.timing else 0.0
    steps = {step.index: step for step in episode.steps}
    for call in transcript.calls:
        event = clock.place(model_event(call.turn, messages[:call.prompt], model, solver))
        clock.elapsed += call.turn.latency_s
        event.completed = event.timestamp + dt.timedelta(seconds=call.turn.latency_s)
        events.append(event)
        events.extend(clock.place(tool_event(steps[index], solver)) for index in call.turn.steps if index in steps)
    events += [clock.place(SpanEndEvent(id=solver, span_id=solver)),
               clock.place(SpanEndEvent(id=solvers, span_id=solvers))]
    if scores:
        events += scorer_events(scores, clock, model, model_usage(episode.usage))
    return events


def scorer_events(scores: dict[str, Score], clock: _Clock, model: str, usage: ModelUsage | None) -> list[Event]:
    """The scorers span: per scorer, a span holding its score event."""
    scorers = uuid.uuid4().hex
    events: list[Event] = [clock.place(SpanBeginEvent(id=scorers, name="scorers", type="scorers", span_id=scorers))]
    for name, score in scores.items():
        span = uuid.uuid4().hex
        events += [
            clock.place(SpanBeginEvent(id=span, parent_id=scorers, name=name, type="scorer", span_id=span)),
            clock.place(ScoreEvent(score=score, target="", scorer=name, scorer_args={}, span_id=span,
                                   model_usage={model: usage} if usage is not None else None)),
            clock.place(SpanEndEvent(id=span, span_id=span)),
        ]
    events.append(clock.place(SpanEndEvent(id=scorers, span_id=scorers)))
    return events
