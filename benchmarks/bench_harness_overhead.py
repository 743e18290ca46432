"""Harness overhead per step with a scripted model, no command time. Target ≤ 5 ms.

The policy sends a tool call with missing arguments every turn, so each step goes through
the whole harness — litellm's custom-provider path, the agent loop, tool validation,
``env.step``, the monitor wrapper and the step log — but never runs a command in the
container. Episode set-up (container start) and the final judgement are timed apart and
excluded. Prints JSON, including the share of step time spent inside ``litellm.acompletion``.

Usage: ``python benchmarks/bench_harness_overhead.py [STEPS_PER_EPISODE] [EPISODES]``
"""

from __future__ import annotations

import asyncio
import json
import statistics
import sys
import time
import uuid
from collections.abc import Callable
from typing import Any

from sandbox.agents.llm import litellm_module
from sandbox.agents.loop import Limits, run_episode
from sandbox.agents.models import ModelClient, ModelSettings
from sandbox.agents.policy import PolicyReply, ScriptPolicy, ToolCallRequest, register_policy
from sandbox.logs import EpisodeLog
from sandbox.run.batch import make_env
from sandbox.run.loading import load_run_config

STEPS = int(sys.argv[1]) if len(sys.argv) > 1 else 30
EPISODES = int(sys.argv[2]) if len(sys.argv) > 2 else 10
MODEL = "scripted/bench-no-command"


@register_policy("bench-no-command")
def _no_command() -> ScriptPolicy:
    return ScriptPolicy([PolicyReply(tool_calls=[ToolCallRequest(name="bash", arguments="{}")])] * (STEPS + 1))


class Stopwatch:
    """Accumulates the time spent in wrapped callables."""

    def __init__(self) -> None:
        self.total = 0.0

    def wrap(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                self.total += time.perf_counter() - started
        return timed

    def wrap_async(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        async def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return await fn(*args, **kwargs)
            finally:
                self.total += time.perf_counter() - started
        return timed


async def one_episode(client: ModelClient, model_clock: Stopwatch) -> tuple[float, int]:
    run_id = f"bench-{uuid.uuid4().hex[:8]}"
    config = load_run_config(["scenario=filechore", f"max_steps={STEPS}"])
    env = make_env(config.scenario, run_id)
    excluded = Stopwatch()
    env.reset = excluded.wrap(env.reset)  # type: ignore[method-assign]
    env.judge = excluded.wrap(env.judge)  # type: ignore[method-assign]
    episode = EpisodeLog(run_id=run_id, episode_id="bench", scenario="filechore", env_id=config.scenario.env,
                         model=MODEL, trial=0, seed=0, config={})
    started = time.perf_counter()
    await run_episode(env, client, episode, Limits(max_steps=STEPS))
    elapsed = time.perf_counter() - started - excluded.total
    env.close()
    return elapsed, len(episode.steps)


async def measure() -> dict[str, Any]:
    litellm_module()
    model_clock = Stopwatch()
    client = ModelClient(ModelSettings(model=MODEL))
    client.complete = model_clock.wrap_async(client.complete)  # type: ignore[method-assign]
    await one_episode(client, model_clock)  # warm-up
    model_clock.total = 0.0
    per_step, total_time, total_steps = [], 0.0, 0
    cpu_started = time.process_time()
    for _ in range(EPISODES):
        elapsed, steps = await one_episode(client, model_clock)
        per_step.append(1000 * elapsed / steps)
        total_time += elapsed
        total_steps += steps
    return {
        "steps": total_steps, "episodes": EPISODES,
        "per_step_ms_median": round(statistics.median(per_step), 3),
        "per_step_ms_mean": round(1000 * total_time / total_steps, 3),
        "litellm_ms_per_step": round(1000 * model_clock.total / total_steps, 3),
        "process_cpu_ms_per_step_incl_setup": round(1000 * (time.process_time() - cpu_started) / total_steps, 3),
    }


def main() -> None:
    result = asyncio.run(measure())
    print(json.dumps({"benchmark": "harness_overhead_per_step", **result, "target_ms": 5.0,
                      "meets_target": result["per_step_ms_median"] <= 5.0}))


if __name__ == "__main__":
    main()
