"""Time to the first result: ``python -m sandbox.run scenario=filechore trials=1`` as a user types it.

The scripted reference policies play (no model API), on a machine with the images built. Each
run is a fresh process in a fresh directory; measured from the command's start: when its table
appears on stdout (``table_s``), when it exits (``exit_s``), and the CPU-seconds the process
and its children used (``cpu_s``, from ``wait4``'s rusage: the Docker engine's own work is not
in it). The run directory must be complete at exit (manifest, episodes, summary, report).
Target: the table within ~1.5 s (issue 24). Prints JSON with the medians, every run, and the
load average before and after (the machine may be shared: CPU-s are the steadier figure).

Usage: ``python benchmarks/bench_first_result.py [RUNS]`` (default 7, after one warm-up).
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from cpu_meter import load_average

RUNS = int(sys.argv[1]) if len(sys.argv) > 1 else 7
COMMAND = [sys.executable, "-m", "sandbox.run", "scenario=filechore", "trials=1"]
TABLE_MARK = "scripted/chore-tidy"
RUN_FILES = ("manifest.json", "episodes.jsonl", "summary.json", "report.json")


def one_run(workdir: Path) -> dict[str, Any]:
    """One command in ``workdir``: seconds to its table and to its exit, and its CPU-seconds."""
    started = time.perf_counter()
    process = subprocess.Popen(COMMAND, cwd=workdir, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    assert process.stdout is not None
    table: float | None = None
    for line in process.stdout:
        if table is None and TABLE_MARK in line:
            table = time.perf_counter() - started
    _, status, usage = os.wait4(process.pid, 0)
    exited = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0 or table is None:
        raise RuntimeError(f"the run failed (exit {process.returncode}) or printed no table")
    runs = sorted((workdir / "runs").iterdir())
    missing = [name for name in RUN_FILES if not (runs[-1] / name).is_file()]
    return {"table_s": round(table, 3), "exit_s": round(exited, 3),
            "cpu_s": round(usage.ru_utime + usage.ru_stime, 3), "run_dir_complete": not missing}


def main() -> None:
    load_before = load_average()
    with tempfile.TemporaryDirectory() as tmp:
        one_run(Path(tmp))  # warm-up: the page cache, the engine's image layers
        runs = [one_run(Path(tmp)) for _ in range(RUNS)]
    median = {key: round(statistics.median(r[key] for r in runs), 3) for key in ("table_s", "exit_s", "cpu_s")}
    print(json.dumps({
        "benchmark": "first_result", "command": "python -m sandbox.run scenario=filechore trials=1",
        "runs": RUNS, "cores": os.cpu_count(), **{f"{k}_median": v for k, v in median.items()},
        "table_s_min": min(r["table_s"] for r in runs), "table_s_max": max(r["table_s"] for r in runs),
        "run_dir_complete": all(r["run_dir_complete"] for r in runs),
        "load_average_before": load_before, "load_average_after": load_average(),
        "target_table_s": 1.5, "meets_target": median["table_s"] <= 1.5, "each": runs,
    }))


if __name__ == "__main__":
    main()
