"""Playing the study's episodes concurrently with the agents layer (no runner imports).

Environments are pooled per (environment, configuration) and reused across episodes (each
``reset`` is a fresh world; one-shot environments start no container). Every episode is
appended to ``episodes.jsonl`` through :class:`sandbox.logs.RunWriter` as it ends.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import gymnasium
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from sandbox.agents.loop import Limits, run_episode
from sandbox.agents.models import ModelClient
from sandbox.logs import EpisodeLog, RunWriter
from sandbox.monitors import MonitoredEnv


class EpisodeRunner:
    """Runs episodes of one model with at most ``concurrency`` at once.

    Args:
        run_id: the study's run id (labels containers of Docker environments).
        model: the model string (logged with each episode).
        client: the model client.
        writer: where episodes are appended.
        concurrency: episodes at once.
        console: where the progress bar goes.
    """

    def __init__(self, run_id: str, model: str, client: ModelClient, writer: RunWriter, concurrency: int,
                 console: Console) -> None:
        self.run_id, self.model, self.client, self.writer = run_id, model, client, writer
        self.semaphore = asyncio.Semaphore(concurrency)
        self.console = console
        self.calls = 0
        self.errors = 0
        self.engaged = 0
        self._pools: dict[str, list[MonitoredEnv]] = {}
        self._all: list[MonitoredEnv] = []

    def _key(self, env_id: str, config: dict[str, Any]) -> str:
        return env_id + json.dumps(config, sort_keys=True)

    async def _take(self, env_id: str, config: dict[str, Any], max_steps: int) -> MonitoredEnv:
        pool = self._pools.setdefault(self._key(env_id, config), [])
        if pool:
            return pool.pop()
        env = await asyncio.to_thread(gymnasium.make, env_id, max_episode_steps=max_steps, run_id=self.run_id,
                                      **config)
        monitored = MonitoredEnv(env)
        self._all.append(monitored)
        return monitored

    async def play(self, measurement: str, env_id: str, config: dict[str, Any], seed: int,
                   max_steps: int = 1) -> EpisodeLog:
        """One episode of ``env_id`` with ``config`` and ``seed``; logged and returned."""
        async with self.semaphore:
            env = await self._take(env_id, config, max_steps)
            episode = EpisodeLog(run_id=self.run_id, episode_id=f"{self.run_id}/{self.model}/{measurement}/{seed}",
                                 scenario=measurement, env_id=env_id, model=self.model, trial=seed, seed=seed,
                                 config={"measurement": measurement})
            try:
                await run_episode(env, self.client, episode, Limits(max_steps=max_steps))
            finally:
                self._pools.setdefault(self._key(env_id, config), []).append(env)
            episode = self.writer.append(episode)
            self.calls += 1
            self.errors += episode.termination == "error"
            self.engaged += episode.judged and episode.engaged
            return episode

    async def gather(self, jobs: Sequence[Callable[[], Awaitable[None]]], total: int, label: str) -> None:
        """Run ``jobs`` concurrently with a progress bar."""
        columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
        with Progress(*columns, console=self.console, transient=True) as progress:
            task = progress.add_task(f"{label}: episodes", total=total)

            async def one(job: Callable[[], Awaitable[None]]) -> None:
                await job()
                progress.advance(task)

            await asyncio.gather(*(one(j) for j in jobs))

    async def close(self) -> None:
        """Close every environment (removes containers of Docker environments)."""
        for env in self._all:
            await asyncio.to_thread(env.close)
        self._all.clear()
        self._pools.clear()
