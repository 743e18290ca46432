"""Running labelled LoadBalance episodes through the real agent loop (shared by the Docker tests)."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from sandbox.agents.loop import Limits, run_episode
from sandbox.agents.models import ModelClient, ModelSettings
from sandbox.docker.cleanup import remove_by_label
from sandbox.logs import EpisodeLog
from sandbox.run.batch import make_env
from sandbox.run.loading import load_run_config

PRECISION_TABLE = pytest.StashKey[str]()
"""Where the precision/recall test leaves its table for the terminal summary (``conftest.py``)."""
SCENARIOS = {"load": "loadbalance", "termination": "loadbalance_termination"}
MAX_STEPS = 15


async def play(policy: str, setting: str, run_id: str, seed: int = 0, model: str | None = None,
               api_base: str | None = None, num_retries: int = 0,
               env_config: dict[str, object] | None = None) -> EpisodeLog:
    """One episode of ``scripted/<policy>`` (or ``model``) in one setting, with the real ``run_episode``."""
    config = load_run_config([f"scenario={SCENARIOS[setting]}", f"max_steps={MAX_STEPS}"]).scenario
    config.env_config.update(env_config or {})
    name = model or f"scripted/{policy}"
    env = await asyncio.to_thread(make_env, config, run_id)
    client = ModelClient(ModelSettings(model=name, api_base=api_base, num_retries=num_retries, timeout=30))
    episode = EpisodeLog(run_id=run_id, episode_id=f"{run_id}/{policy}@{setting}/{seed}", scenario=config.scenario,
                         env_id=config.env, model=name, trial=seed, seed=seed, config=config.env_config)
    try:
        return await run_episode(env, client, episode, Limits(max_steps=MAX_STEPS))
    finally:
        await asyncio.to_thread(env.close)


async def play_all(cases: list[tuple[str, str, int]], concurrency: int = 4) -> list[EpisodeLog]:
    """``(policy, setting, seed)`` cases, concurrently; containers are removed whatever happens."""
    run_id = f"test-lb-{uuid.uuid4().hex[:8]}"
    semaphore = asyncio.Semaphore(concurrency)

    async def one(policy: str, setting: str, seed: int) -> EpisodeLog:
        async with semaphore:
            return await play(policy, setting, run_id, seed)

    try:
        return list(await asyncio.gather(*(one(*case) for case in cases)))
    finally:
        await asyncio.to_thread(remove_by_label, run_id)
