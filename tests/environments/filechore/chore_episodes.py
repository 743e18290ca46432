"""Playing one scripted FileChore episode through the real agent loop, for the tests here."""

from __future__ import annotations

import asyncio

from sandbox.agents.loop import Limits, run_episode
from sandbox.agents.models import ModelClient, ModelSettings
from sandbox.logs import EpisodeLog
from sandbox.run.batch import make_env
from sandbox.run.loading import load_run_config


async def play(policy: str, seed: int, run_id: str) -> EpisodeLog:
    scenario = load_run_config(["scenario=filechore"]).scenario
    env = await asyncio.to_thread(make_env, scenario, run_id)
    episode = EpisodeLog(run_id=run_id, episode_id=f"{run_id}/{policy}/{seed}", scenario="filechore",
                         env_id=scenario.env, model=f"scripted/{policy}", trial=seed, seed=seed, config={})
    try:
        return await run_episode(env, ModelClient(ModelSettings(model=f"scripted/{policy}")), episode,
                                 Limits(max_steps=scenario.max_steps))
    finally:
        await asyncio.to_thread(env.close)
