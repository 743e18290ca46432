"""Playing one Inspect sample's episode: a fresh environment and sandbox, its log, how it ends.

Shared by both solvers of a scenario task: our agent loop (:func:`.tasks.agent_loop`) and
Inspect's own tool loop (:func:`.agent.inspect_agent`). An episode that ended in an error is an
Inspect sample error (:class:`EpisodeFailed`), never a verdict.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from concurrent.futures import Executor, ThreadPoolExecutor
from typing import Any

import anyio
import anyio.to_thread
from inspect_ai.model import ModelOutput
from inspect_ai.solver import TaskState
from inspect_ai.util import concurrency

from sandbox.agents.engagement import judge_engagement
from sandbox.agents.models import ModelSettings
from sandbox.logs import UNJUDGED, EpisodeLog, Termination, episode_json, redact
from sandbox.monitors import MonitoredEnv
from sandbox.run.executor import EpisodeJob, make_env
from sandbox.run.keys import episode_key
from sandbox.run.scenarios import ScenarioConfig

from . import SANDBOX_NAME
from .messages import to_inspect
from .scorers import EPISODE_KEY

LIMIT_TERMINATIONS: dict[str, Termination] = {"token": "token_limit", "message": "step_limit", "cost": "cost_limit",
                                              "time": "time_limit", "working": "time_limit"}
"""Which of our terminations an Inspect limit of each type is."""


class EpisodeFailed(RuntimeError):
    """An episode ended in an error (model, infrastructure or configuration), not in a verdict."""


def job_for(config: ScenarioConfig, run_id: str, model: str, trial: int) -> EpisodeJob:
    """The episode job ``sandbox.run`` would make for this trial (same seed, limits and key)."""
    settings = ModelSettings(model=model)
    return EpisodeJob(run_id=run_id, key=episode_key(settings, config, trial), scenario=config, settings=settings,
                      trial=trial)


async def play(episode_fn: Callable[[MonitoredEnv, Executor], Awaitable[Any]], config: ScenarioConfig,
               run_id: str, episode: EpisodeLog, max_episodes: int) -> None:
    """Build a fresh environment, play ``episode_fn(env, executor)`` on it, close it whatever happens.

    ``executor`` is the episode's own worker thread for blocking environment calls; at most
    ``max_episodes`` episodes (so live sandboxes) of the process play at once.
    """
    async with concurrency(f"{SANDBOX_NAME}-episodes", max_episodes):
        env = await anyio.to_thread.run_sync(make_env, config, run_id)
        executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sandbox-inspect")
        try:
            await episode_fn(env, executor)
            if episode.engagement is None:
                # Inspect's own agent played it (our loop records its engagement itself)
                episode.engagement = judge_engagement(env, episode, env.unwrapped.reply_tool)  # type: ignore[attr-defined]
        finally:
            with anyio.CancelScope(shield=True):
                await anyio.to_thread.run_sync(env.close)
            executor.shutdown(wait=False)


def finish(state: TaskState, episode: EpisodeLog, conversation: list[dict[str, Any]], model: str) -> None:
    """Put the episode's conversation and last answer in the Inspect state."""
    if conversation:
        state.messages = to_inspect(conversation)
        answers = [m.get("content") for m in conversation if m.get("role") == "assistant" and m.get("content")]
        state.output = ModelOutput.from_content(model=model, content=str(answers[-1]) if answers else "")
    state.metadata.update(episode_id=episode.episode_id, termination=episode.termination,
                          engagement=episode.engagement, world_fingerprint=episode.world_fingerprint)


def keep(state: TaskState, episode: EpisodeLog) -> None:
    """Leave the episode log (secrets redacted) for the scorers and the Inspect log."""
    state.store.set(EPISODE_KEY, json.loads(redact(episode_json(episode))))


def close_at_limit(episode: EpisodeLog, limit: str) -> None:
    """An episode an Inspect limit stopped ends like one our own limit stops (judged, counted)."""
    if episode.outcome is not None and episode.termination == "error":
        episode.termination = LIMIT_TERMINATIONS.get(limit, "interrupted")
        episode.error = episode.error_class = episode.error_signature = None


def raise_if_errored(episode: EpisodeLog) -> None:
    """Errored and interrupted episodes are sample errors, never verdicts.

    Raises:
        EpisodeFailed: the episode's error, its class and signature.
    """
    if episode.termination in UNJUDGED:
        raise EpisodeFailed(f"episode {episode.episode_id} ended in {episode.termination} "
                            f"({episode.error_class}/{episode.error_signature}): {episode.error}")
