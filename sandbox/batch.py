"""Running a batch: every model × trial of a scenario, concurrently, logging as it goes."""

from __future__ import annotations

import asyncio
import datetime as dt
import sys
import uuid
from pathlib import Path

import gymnasium
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from agents.loop import Limits, run_episode
from agents.models import ModelClient, ModelSettings
from sandbox.cleanup import remove_by_label
from sandbox.logs import EpisodeLog, Manifest, RunWriter, versions
from sandbox.monitors import MonitoredEnv
from sandbox.scenarios import RunConfig


def new_run_id(scenario: str) -> str:
    """A sortable, unique run id."""
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%d-%H%M%S")
    return f"{stamp}-{scenario}-{uuid.uuid4().hex[:6]}"


def make_env(config: RunConfig, run_id: str) -> MonitoredEnv:
    """The scenario's environment with its monitors and the step limit."""
    env = gymnasium.make(config.env, max_episode_steps=config.max_steps, run_id=run_id, **config.env_config)
    return MonitoredEnv(env)


def settings_for(config: RunConfig, model: str) -> ModelSettings:
    """Model settings from the run config."""
    return ModelSettings(model=model, api_base=config.api_base, temperature=config.temperature,
                         max_tokens=config.max_tokens, timeout=config.timeout,
                         num_retries=config.num_retries)


async def run_batch(config: RunConfig, console: Console | None = None,
                    run_id: str | None = None) -> tuple[Path, list[EpisodeLog]]:
    """Run every model × trial; return the run directory and the episodes.

    Episodes are appended to ``episodes.jsonl`` as each one ends, so an interrupted run
    keeps what it finished. Every container of the run is removed at the end, whatever
    happens.
    """
    console = console or Console(stderr=True)
    run_id = run_id or new_run_id(config.scenario)
    out = Path(config.out) if config.out else Path("runs") / run_id
    writer = RunWriter(out)
    writer.write_manifest(Manifest(
        run_id=run_id, scenario=config.scenario, config=config.model_dump(mode="json"),
        started_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        versions=versions(), command=sys.argv,
    ))
    jobs = [(model, trial) for model in config.models() for trial in range(config.trials)]
    semaphore = asyncio.Semaphore(config.concurrency)
    episodes: list[EpisodeLog] = []
    limits = Limits(max_steps=config.max_steps, max_tokens_total=config.max_tokens_total)
    clients = {model: ModelClient(settings_for(config, model)) for model in config.models()}

    async def one(model: str, trial: int, progress: Progress, task: int) -> None:
        async with semaphore:
            episode = EpisodeLog(
                run_id=run_id, episode_id=f"{run_id}/{model}/{trial}", scenario=config.scenario,
                env_id=config.env, model=model, trial=trial, seed=config.seed + trial,
                config=config.env_config,
            )
            env = await asyncio.to_thread(make_env, config, run_id)
            try:
                await run_episode(env, clients[model], episode, limits)
            finally:
                await asyncio.to_thread(env.close)
            writer.append(episode)
            episodes.append(episode)
            progress.advance(task)  # type: ignore[arg-type]

    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    try:
        with Progress(*columns, console=console, transient=True) as progress:
            task = progress.add_task(f"{config.scenario}: episodes", total=len(jobs))
            await asyncio.gather(*(one(m, t, progress, task) for m, t in jobs))
    finally:
        await asyncio.to_thread(remove_by_label, run_id)
    episodes.sort(key=lambda e: (config.models().index(e.model), e.trial))
    return out, episodes
