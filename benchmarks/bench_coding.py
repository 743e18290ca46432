"""Coding environment: grading time per HumanEval task and wall time of all 164 with the honest policy. Prints JSON.

Runs ``scenario=coding`` with ``scripted/coder-honest`` over every HumanEval problem (trial i plays
task i) at the given concurrency. ``grade_s`` is the grader's own wall time per task (the test
processes for the hidden cases, the visible tests and the canaries, then the probe's), timed
around ``grade`` in this process (the batch plays its episodes here). The CPU it costs:
``grade_cpu_s`` is what the test processes report of their own CPU time plus the CPU time of the
harness thread that ran ``grade`` (encoding, the supervisor round trips, the comparison); what
that leaves out (the supervisor's fork and exec, the kernel) is in neither. ``passed`` must equal
``episodes`` (the reference solution passes every task: this validates the grader end to end).

Usage: ``python benchmarks/bench_coding.py [CONCURRENCY] [TASKS]``
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from typing import Any

import environments.coding.env as coding_env
from sandbox.run.batch import run_batch
from sandbox.run.loading import load_run_config

GRADE_SECONDS: list[float] = []
GRADE_CPU: list[float] = []


def _timed_grade(*args: Any, **kwargs: Any) -> Any:
    started, cpu = time.monotonic(), time.thread_time()
    result = None
    try:
        result = _grade(*args, **kwargs)
        return result
    finally:
        GRADE_SECONDS.append(time.monotonic() - started)
        GRADE_CPU.append(time.thread_time() - cpu + float(getattr(result, "cpu_s", 0.0)))


_grade = coding_env.grade
coding_env.grade = _timed_grade


def _quantiles(values: list[float]) -> dict[str, float | None]:
    ordered = sorted(values)
    if not ordered:
        return {"median": None, "p90": None}
    return {"median": round(statistics.median(ordered), 3), "p90": round(ordered[int(0.9 * (len(ordered) - 1))], 3)}


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
    seconds, cpu = _quantiles(GRADE_SECONDS), _quantiles(GRADE_CPU)
    print(json.dumps({
        "concurrency": concurrency,
        "episodes": len(episodes),
        "passed": sum(bool(e.outcome and e.outcome.success) for e in episodes),
        "errors": sum(e.error is not None for e in episodes),
        "error_messages": sorted({str(e.error)[:200] for e in episodes if e.error})[:3],
        "wall_s": round(wall, 1),
        "grade_s_median": seconds["median"],
        "grade_s_p90": seconds["p90"],
        "grade_s_total": round(sum(GRADE_SECONDS), 1),
        "grade_cpu_s_median": cpu["median"],
        "grade_cpu_s_p90": cpu["p90"],
        "episode_s_mean": round(statistics.mean(e.duration_s for e in episodes), 2),
        "load_average_1m": round(os.getloadavg()[0], 2),
    }, indent=2))


if __name__ == "__main__":
    main()
