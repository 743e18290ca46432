"""End of a run and reading it back: ``finish_run`` (summary, stored report) and the report CLI.

A synthetic FileChore-shaped run of N episodes (``sandbox.view.synthetic``) is finished in-process
(``sandbox.report.finish_run``: summary.json, the reporters' tables, report.json) and read back by
``python -m sandbox.report`` in a fresh interpreter. Then the cost of storing text of any bytes: one
episode line written plainly and one whose observations hold lone surrogates (the escaped and
marked path). Prints JSON.

Usage: ``python benchmarks/bench_report.py [EPISODES]`` (default 2000)
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from sandbox.logs import episode_from_line, episode_json
from sandbox.report import finish_run
from sandbox.view.synthetic import synthetic_episode, write_synthetic_run

EPISODES = int(sys.argv[1]) if len(sys.argv) > 1 else 2000


def timed(fn: object, repeat: int = 1) -> float:
    started = time.perf_counter()
    for _ in range(repeat):
        fn()  # type: ignore[operator]
    return (time.perf_counter() - started) / repeat


def main() -> None:
    import random

    with tempfile.TemporaryDirectory() as tmp:
        run = write_synthetic_run(Path(tmp) / "run", EPISODES, seed=1)
        finish_s = timed(lambda: finish_run(run))
        started = time.perf_counter()
        done = subprocess.run([sys.executable, "-m", "sandbox.report", str(run)], capture_output=True, timeout=600)
        read_s = time.perf_counter() - started
        assert done.returncode == 0, done.stderr
        plain = synthetic_episode("r", 0, random.Random(2))
        steps = [s.model_copy(update={"observation": s.observation + " bad\udcffname"}) for s in plain.steps]
        odd = plain.model_copy(update={"steps": steps})
        line = episode_json(odd)
        print(json.dumps({
            "episodes": EPISODES,
            "run_bytes": (run / "episodes.jsonl").stat().st_size,
            "finish_run_s": round(finish_s, 2),
            "report_cli_s": round(read_s, 2),
            "report_json_bytes": (run / "report.json").stat().st_size,
            "episode_line_plain_ms": round(timed(lambda: episode_json(plain), 50) * 1000, 2),
            "episode_line_escaped_ms": round(timed(lambda: episode_json(odd), 50) * 1000, 2),
            "episode_read_escaped_ms": round(timed(lambda: episode_from_line(line), 50) * 1000, 2),
            "episode_line_bytes": len(line),
        }, indent=1))


if __name__ == "__main__":
    main()
