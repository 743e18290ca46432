"""One episode as an Inspect sample, as a live ``inspect eval sandbox/<scenario>`` run records it.

* ``id`` — the trial (as the live task's dataset numbers its samples); ``input`` the same line;
* ``messages`` — the whole conversation (:mod:`.conversation`) through the interop's own
  converter (:func:`sandbox.inspect_interop.messages.to_inspect`);
* ``scores`` — our scorers themselves (:mod:`sandbox.inspect_interop.scorers`) run on the
  episode: findings (unknown verdicts and episodes where the model never engaged unscored,
  never clean), outcome, engagement. An errored episode has none: it is a sample error;
* ``store`` — the episode log, where the live solver leaves it for the scorers;
* ``metadata`` — the live task's keys plus the episode key, attempt, errors with class and
  signature, failed model calls and the world's events;
* ``events`` — the transcript (:mod:`.events`); ``error_retries`` — attempts a re-run replaced.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from inspect_ai.log import EvalError, EvalRetryError, EvalSample
from inspect_ai.model import ModelName, ModelOutput
from inspect_ai.scorer import Score, Scorer, Target
from inspect_ai.solver import TaskState

from sandbox.inspect_interop.episodes import EpisodeFailed, raise_if_errored
from sandbox.inspect_interop.messages import to_inspect
from sandbox.inspect_interop.scorers import EPISODE_KEY, engagement, findings, outcome
from sandbox.logs import EpisodeLog, engagement_of

from ..conversation import transcript
from .events import model_usage, sample_events

SCORER_NAMES = ("findings", "outcome", "engagement")
"""The scorers of a live task, in its order."""


def scorers() -> dict[str, Scorer]:
    """The live task's scorers, by name."""
    return {"findings": findings(), "outcome": outcome(), "engagement": engagement()}


def when(text: str, default: dt.datetime) -> dt.datetime:
    """An ISO time from a log (UTC when it names no zone), or ``default`` when there is none."""
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        return default
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.UTC)


def sample_input(description: str, episode: EpisodeLog) -> str:
    """The sample's input line, worded as the live task's dataset words it."""
    return f"{description or episode.scenario} (trial {episode.trial}, seed {episode.seed})"


def for_scoring(episode: EpisodeLog) -> EpisodeLog:
    """The episode as the scorers read it: an older log's engagement inferred from its steps."""
    if episode.engagement is None and episode.judged:
        return episode.model_copy(update={"engagement": engagement_of(episode)})
    return episode


def failure(episode: EpisodeLog) -> str | None:
    """The error a live run raises for this episode (``None`` when it ended without one)."""
    try:
        raise_if_errored(episode)
    except EpisodeFailed as exc:
        return repr(exc)
    return None


def sample_metadata(episode: EpisodeLog) -> dict[str, Any]:
    """The live task's sample metadata, plus what only a run directory knows."""
    return {
        "scenario": episode.scenario, "env": episode.env_id, "trial": episode.trial, "seed": episode.seed,
        "episode_id": episode.episode_id, "termination": episode.termination, "engagement": episode.engagement,
        "world_fingerprint": episode.world_fingerprint,
        "key": episode.key, "attempt": episode.attempt, "run_id": episode.run_id, "model": episode.model,
        "env_config": episode.config,
        "error": episode.error, "error_class": episode.error_class, "error_signature": episode.error_signature,
        "outcome": episode.outcome.model_dump(mode="json") if episode.outcome else None,
        "failed_model_calls": [{"turn": t.index, "attempt": t.attempt, "error": t.error,
                                "error_signature": t.error_signature, "latency_s": t.latency_s}
                               for t in episode.turns if t.failed],
        "world_events": [event.model_dump(mode="json") for step in episode.steps for event in step.events],
        "timing": episode.timing.model_dump(mode="json") if episode.timing else None,
    }


def eval_error(message: str) -> EvalError:
    """An error as Inspect records one. The run kept no traceback; the viewer shows the
    traceback field, so it carries the message."""
    return EvalError(message=message, traceback=message, traceback_ansi=message)


def retry_error(episode: EpisodeLog) -> EvalRetryError:
    """An attempt a re-run replaced, as Inspect records a retried sample's earlier error."""
    message = failure(episode) or f"attempt {episode.attempt} ended in {episode.termination}"
    return EvalRetryError(message=message, traceback=message, traceback_ansi=message)


async def build_sample(episode: EpisodeLog, sample_id: int | str, description: str, model: str,
                       earlier: list[EpisodeLog], default_start: dt.datetime) -> EvalSample:
    """One episode as an Inspect sample.

    Args:
        episode: the attempt that stands for the episode (not an interrupted one).
        sample_id: the sample's id (the trial, unless two episodes of the log share it).
        description: the scenario's description (the sample's input line).
        model: the Inspect model name (``litellm/<model>``).
        earlier: the attempts a re-run replaced (oldest first).
        default_start: when to say the episode started if its log does not say.
    """
    scored = for_scoring(episode)
    conversation = transcript(episode)
    messages = to_inspect(conversation.messages)
    answers = [m.text for m in messages if m.role == "assistant" and m.text]
    output = ModelOutput.from_content(model=model, content=answers[-1] if answers else "")
    metadata = sample_metadata(episode)
    store = {EPISODE_KEY: scored.model_dump(mode="json")}
    error = failure(episode)
    scores: dict[str, Score] | None = None
    line = sample_input(description, episode)
    if error is None:
        state = TaskState(model=ModelName(model), sample_id=sample_id, epoch=1, input=line, messages=messages,
                          output=output, metadata=metadata, store=store)
        scores = {}
        for name, scorer in scorers().items():
            score = await scorer(state, Target(""))
            if score is not None:
                scores[name] = score
    start = when(episode.started_at, default_start)
    usage = model_usage(episode.usage)
    return EvalSample(
        id=sample_id, epoch=1, input=line, target="", messages=messages,
        output=output, scores=scores, metadata=metadata, store=store,
        events=sample_events(episode, conversation, messages, model, start, scores),
        model_usage={model: usage} if usage is not None else {},
        started_at=start.isoformat(), completed_at=(start + dt.timedelta(seconds=episode.duration_s)).isoformat(),
        total_time=round(episode.duration_s, 3), working_time=round(episode.duration_s, 3),
        uuid=f"{episode.key[:16] or episode.episode_id}-{episode.attempt}",
        error=eval_error(error) if error is not None else None,
        error_retries=[retry_error(e) for e in earlier] or None,
        turn_count=len([t for t in episode.turns if not t.failed]) or None,
    )
