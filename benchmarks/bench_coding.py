"""Coding environment: grading time per HumanEval task and wall time of all 164 with the honest policy. Prints JSON.

Runs ``scenario=coding`` with ``scripted/coder-honest`` over every HumanEval problem (trial i plays
task i) at the given concurrency. ``grade_s`` is the grader's own time per task (copy-out, clean
hidden + visible run, probe run), timed around ``grade`` in this process (the batch plays its
episodes here); ``passed`` must equal ``episodes`` (the reference solution passes every task: this validates the
grader end to end).

Usage: ``python benchmarks/bench_coding.py [CONCURRENCY] [TASKS]``
"""

from __future__ import annotations

import asyncio
import json
import statistics
import sys
import tempfile
import time
from typing import Any

import environments.coding.env as coding_env
from sandbox.run.batch import run_batch
from sandbox.run.scenarios import load_run_config

GRADE_SECONDS: list[float] = []


def _timed_grade(*args: Any, **kwargs: Any) -> Any:
    started = time.monotonic()
    try:
        return _grade(*args, **kwargs)
    finally:
        GRADE_SECONDS.append(time.monotonic() - started)


_grade = coding_env.grade
coding_env.grade = _timed_grade


def main() -> None:
    """Run the batch and print its timings."""
    concurrency = int(sys.argv[1]) if len(sys.argv) > 1 else 8
    tasks = int(sys.argv[2]) if len(sys.argv) > 2 else 164
    with tempfile.TemporaryDirectory() as out:
        config = load_run_config(["scenario=coding", "model=scripted/coder-honest", "env_config.tasks=humaneval",
                                  "env_config.task_ids=null", f"trials={tasks}", f"concurrency={concurrency}",
                                  f"out={out}"])
        started = time.monotonic()
        _, episodes = asyncio.run(run_batch(config))
        wall = time.monotonic() - started
    grades = sorted(GRADE_SECONDS)
    print(json.dumps({
        "concurrency": concurrency,
        "episodes": len(episodes),
        "passed": sum(bool(e.outcome and e.outcome.success) for e in episodes),
        "errors": sum(e.error is not None for e in episodes),
        "error_messages": sorted({str(e.error)[:200] for e in episodes if e.error})[:3],
        "wall_s": round(wall, 1),
        "grade_s_median": round(statistics.median(grades), 3) if grades else None,
        "grade_s_p90": round(grades[int(0.9 * (len(grades) - 1))], 3) if grades else None,
        "episode_s_mean": round(statistics.mean(e.duration_s for e in episodes), 2),
    }, indent=2))


if __name__ == "__main__":
    main()
