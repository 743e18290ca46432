"""Throughput of the shopping environments through the whole harness. Prints JSON.

Runs the Tin Men replay (one container, two store calls per episode) and the agentic store
with its scripted policies (about seven tool calls per episode) at a given concurrency, and
reports wall seconds per episode and the mean episode duration.

Usage: ``python benchmarks/bench_shopping.py [TINMEN_TRIALS] [CONCURRENCY]``
"""

from __future__ import annotations

import asyncio
import json
import statistics
import sys
import tempfile
import time

from sandbox.run.batch import run_batch
from sandbox.run.loading import load_run_config


async def measure(args: list[str]) -> dict[str, float]:
    """Run one batch; return its timings."""
    with tempfile.TemporaryDirectory() as out:
        config = load_run_config([*args, f"out={out}"])
        started = time.monotonic()
        _, episodes = await run_batch(config)
        wall = time.monotonic() - started
    return {"episodes": len(episodes), "wall_s": round(wall, 2),
            "wall_s_per_episode": round(wall / len(episodes), 3),
            "mean_episode_s": round(statistics.mean(e.duration_s for e in episodes), 3),
            "errors": sum(e.termination == "error" for e in episodes)}


def main() -> None:
    """Both benchmarks, one JSON object."""
    trials = int(sys.argv[1]) if len(sys.argv) > 1 else 80
    concurrency = int(sys.argv[2]) if len(sys.argv) > 2 else 8
    results = {
        "concurrency": concurrency,
        "tinmen_replay": asyncio.run(measure(["scenario=shopping_tinmen", "model=replay/gpt-4@0.2",
                                              f"trials={trials}", f"concurrency={concurrency}"])),
        "agentic_scripted": asyncio.run(measure(["scenario=shopping", f"concurrency={concurrency}"])),
    }
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
