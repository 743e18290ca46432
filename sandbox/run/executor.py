"""Executors run episodes: here, on this machine's asyncio loop (the default); or on Ray.

An :class:`EpisodeJob` is everything a worker needs to play one episode, serialisable so it
can travel to another machine. :class:`LocalExecutor` plays jobs on the running loop; blocking
sandbox calls go to a thread pool sized to the batch (not asyncio's default of
``min(32, cores + 4)`` workers), model calls share the run's per-provider gates and cache.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Protocol

import gymnasium
from pydantic import BaseModel

from sandbox.agents.loop import Limits, classify, run_episode
from sandbox.agents.models import ModelClient, ModelSettings
from sandbox.docker.lifecycle import pooled_sandboxes
from sandbox.docker.pool import WarmPool
from sandbox.env import SandboxEnv
from sandbox.logs import EpisodeLog, EpisodeTiming
from sandbox.monitors import MonitoredEnv
from sandbox.plugins import load_plugins
from sandbox.protocol import SandboxFactory
from sandbox.run.cache import SqliteCache, cache_enabled
from sandbox.run.keys import canonical_json
from sandbox.run.limits import Gates
from sandbox.run.scenarios import RunConfig, ScenarioConfig

CLOSE_TIMEOUT = 20.0


class EpisodeJob(BaseModel):
    """One episode to play (one attempt of it)."""

    run_id: str
    key: str
    scenario: ScenarioConfig
    settings: ModelSettings
    trial: int
    seed: int | None = None
    """The episode's seed (default ``scenario.seed + trial``)."""
    attempt: int = 1

    @property
    def episode_seed(self) -> int:
        """The seed this episode plays."""
        return self.scenario.seed + self.trial if self.seed is None else self.seed

    @property
    def episode_id(self) -> str:
        """Readable and unique within the run (also the containers' episode label)."""
        return f"{self.run_id}/{self.scenario.scenario}/{self.settings.model}/{self.trial}"

    def new_log(self) -> EpisodeLog:
        """An empty log with this job's identity."""
        s = self.scenario
        return EpisodeLog(run_id=self.run_id, episode_id=self.episode_id, scenario=s.scenario, env_id=s.env,
                          model=self.settings.model, trial=self.trial, seed=self.episode_seed,
                          config=s.env_config, key=self.key, attempt=self.attempt, agent=s.agent)

    def limits(self) -> Limits:
        """The episode's limits."""
        s = self.scenario
        return Limits(max_steps=s.max_steps, max_tokens_total=s.max_tokens_total,
                      max_cost_usd=s.max_episode_cost, max_seconds=s.max_episode_seconds)


class Executor(Protocol):
    """Where episodes run."""

    async def start(self, episodes: int | None = None) -> None:
        """Get ready (connect, warm up) for about ``episodes`` episodes (``None``: unknown)."""
        ...

    async def run(self, job: EpisodeJob) -> EpisodeLog:
        """Play one job; never raises: errors and interruptions are in the log."""
        ...

    async def close(self) -> None:
        """Release everything (sandboxes of interrupted episodes included)."""
        ...


def make_env(scenario: ScenarioConfig, run_id: str, sandboxes: SandboxFactory | None = None) -> MonitoredEnv:
    """The scenario's environment with its monitors and the step limit.

    Args:
        scenario: what to play.
        run_id: the run's id (on every container's label).
        sandboxes: where its sandboxes come from (a run's warm pool); default: new ones.
    """
    load_plugins()
    env = gymnasium.make(scenario.env, max_episode_steps=scenario.max_steps, run_id=run_id, **scenario.env_config)
    if sandboxes is not None and isinstance(env.unwrapped, SandboxEnv):
        env.unwrapped.sandboxes = sandboxes
    return MonitoredEnv(env)


class LocalExecutor:
    """Plays episodes on the running asyncio loop.

    Args:
        config: the run's config (concurrency, provider limits, cache).
        cache_dir: the answer cache's directory.
    """

    def __init__(self, config: RunConfig, cache_dir: Path | None) -> None:
        self.config = config
        self.pool = ThreadPoolExecutor(max_workers=2 * config.concurrency + 4, thread_name_prefix="sandbox")
        self.gates = Gates(config.concurrency, config.provider_concurrency)
        self.cache = SqliteCache(cache_dir) if cache_dir and any(
            cache_enabled(config.cache, m) and not m.local for m in config.models) else None
        self._clients: dict[str, ModelClient] = {}
        self.node = socket.gethostname()
        self.warm_pool: WarmPool | None = None
        """This batch's warm pool (its own: no other batch of the process takes or drains it)."""

    def client(self, settings: ModelSettings) -> ModelClient:
        """One client per distinct model settings, sharing the run's gates and cache."""
        key = canonical_json(settings.model_dump(mode="json"))
        if key not in self._clients:
            cache = self.cache if cache_enabled(self.config.cache, settings) else None
            self._clients[key] = ModelClient(settings, gate=self.gates.gate(settings), cache=cache)
        return self._clients[key]

    async def start(self, episodes: int | None = None) -> None:
        """Size the warm pool; import litellm and warm its call path before the first episode waits on it.

        Args:
            episodes: how many episodes this run expects to play (``None``: unknown).
        """
        if self.config.warm_pool:
            size = self.config.concurrency if self.config.warm_pool < 0 else self.config.warm_pool
            if self.warm_pool is None:
                self.warm_pool = WarmPool(size, expected=episodes, recycle=self.config.recycle)
            else:
                self.warm_pool.configure(size, expected=episodes, recycle=self.config.recycle)
        if all(m.local for m in self.config.models):
            return
        loop = asyncio.get_running_loop()
        from sandbox.agents.llm import litellm_module

        litellm = await loop.run_in_executor(self.pool, litellm_module)
        with contextlib.suppress(Exception):  # litellm's own offline answer: no request leaves
            await litellm.acompletion(model=next(m.model for m in self.config.models if not m.local),
                                      messages=[{"role": "user", "content": "warm-up"}], mock_response="ok")
        await loop.run_in_executor(self.pool, warm_up_openai_client)

    async def run(self, job: EpisodeJob) -> EpisodeLog:
        """Play one job; an interruption (cancellation) is recorded, not raised."""
        loop = asyncio.get_running_loop()
        episode = job.new_log()
        episode.node = self.node
        timing = episode.timing = EpisodeTiming()
        env: MonitoredEnv | None = None
        try:
            sandboxes = pooled_sandboxes(self.warm_pool) if self.warm_pool is not None else None
            env = await loop.run_in_executor(self.pool, make_env, job.scenario, job.run_id, sandboxes)
            await run_episode(env, self.client(job.settings), episode, job.limits(), executor=self.pool)
        except asyncio.CancelledError:
            episode.termination = "interrupted"
            episode.error = episode.error or "interrupted: the run was stopped while this episode was in flight"
        except Exception as exc:  # the environment could not even be built
            verdict = classify(exc)
            episode.termination, episode.error = "error", f"{type(exc).__name__}: {exc}"[:2000]
            episode.error_class, episode.error_signature = verdict.error_class, verdict.signature
        finally:
            if env is not None:
                clock = time.monotonic()
                closing = loop.run_in_executor(self.pool, env.close)
                with contextlib.suppress(Exception, asyncio.CancelledError):
                    await asyncio.wait_for(asyncio.shield(closing), CLOSE_TIMEOUT)
                timing.close_s = time.monotonic() - clock
        return episode

    async def close(self) -> None:
        """Stop the pool (threads still blocked in the engine end with their containers)."""
        if self.warm_pool is not None:
            self.warm_pool.close()  # removes the warm containers no episode took
        self.pool.shutdown(wait=False, cancel_futures=True)
        if self.cache is not None:
            self.cache.close()


def warm_up_openai_client() -> None:
    """Import what the first real call would (the OpenAI SDK's ~470 resource modules, ~0.4 s).

    Building a client and reaching its chat resource sends nothing; without this, every
    episode's first call waits on those imports behind the interpreter's import lock.
    """
    with contextlib.suppress(Exception):
        import openai

        client = openai.AsyncOpenAI(api_key="warm-up", base_url="http://127.0.0.1:9")
        _ = client.chat.completions.with_raw_response
