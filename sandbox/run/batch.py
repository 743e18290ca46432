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

from sandbox.agents.loop import Limits, run_episode
from sandbox.agents.models import ModelClient
from sandbox.cleanup import remove_by_label
from sandbox.logs import EpisodeLog, Manifest, RunWriter, versions
from sandbox.monitors import MonitoredEnv
from sandbox.plugins import load_plugins
from sandbox.run.scenarios import RunConfig, ScenarioConfig


def new_run_id(scenario: str) -> str:
    """A sortable, unique run id."""
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%d-%H%M%S")
    return f"{stamp}-{scenario}-{uuid.uuid4().hex[:6]}"


def make_env(scenario: ScenarioConfig, run_id: str) -> MonitoredEnv:
    """The scenario's environment with its monitors and the step limit."""
    load_plugins()
    env = gymnasium.make(scenario.env, max_episode_steps=scenario.max_steps, run_id=run_id, **scenario.env_config)
    return MonitoredEnv(env)


async def run_batch(config: RunConfig, console: Console | None = None,
                    run_id: str | None = None) -> tuple[Path, list[EpisodeLog]]:
    """Run every model × trial; return the run directory and the episodes.

    Episodes are appended to ``episodes.jsonl`` as each one ends, so an interrupted run
    keeps what it finished. Every container of the run is removed at the end, whatever
    happens.
    """
    console = console or Console(stderr=True)
    scenario = config.scenario
    run_id = run_id or new_run_id(scenario.scenario)
    out = Path(config.out) if config.out else Path("runs") / run_id
    writer = RunWriter(out)
    writer.write_manifest(Manifest(
        run_id=run_id, scenario=scenario.scenario, config=config.model_dump(mode="json"),
        started_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        versions=versions(), command=sys.argv,
    ))
    models = config.model_names()
    jobs = [(model, trial) for model in models for trial in range(scenario.trials)]
    semaphore = asyncio.Semaphore(config.concurrency)
    episodes: list[EpisodeLog] = []
    limits = Limits(max_steps=scenario.max_steps, max_tokens_total=scenario.max_tokens_total)
    clients = {settings.model: ModelClient(settings) for settings in config.models}

    async def one(model: str, trial: int, progress: Progress, task: int) -> None:
        async with semaphore:
            episode = EpisodeLog(
                run_id=run_id, episode_id=f"{run_id}/{model}/{trial}", scenario=scenario.scenario,
                env_id=scenario.env, model=model, trial=trial, seed=scenario.seed + trial,
                config=scenario.env_config,
            )
            env = await asyncio.to_thread(make_env, scenario, run_id)
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
            task = progress.add_task(f"{scenario.scenario}: episodes", total=len(jobs))
            await asyncio.gather(*(one(m, t, progress, task) for m, t in jobs))
    finally:
        await asyncio.to_thread(remove_by_label, run_id)
    episodes.sort(key=lambda e: (models.index(e.model), e.trial))
    return out, episodes
