"""Export speed: a synthetic run to Inspect logs, in-process and as the CLI.

A synthetic FileChore-shaped run (``sandbox.view.synthetic``: 2–12 steps, observations of
1–400 lines, three models, one error in 33) is exported with ``export_inspect`` (imports warm)
and with ``python -m sandbox.export`` (a fresh interpreter: Inspect's import included), then
read back with ``read_eval_log``. Prints JSON: seconds, episodes per second, bytes written and
the peak memory of this process.

Usage: ``python benchmarks/bench_export.py [EPISODES]`` (default 1000)
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from inspect_ai.log import read_eval_log

from sandbox.export.inspect_format.log import export_inspect
from sandbox.export.rundir import read_run
from sandbox.view.synthetic import write_synthetic_run

EPISODES = int(sys.argv[1]) if len(sys.argv) > 1 else 1000


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="bench-export-") as tmp:
        run = write_synthetic_run(Path(tmp) / "run", EPISODES)
        started = time.perf_counter()
        written = export_inspect(read_run(run), Path(tmp) / "logs")
        in_process = time.perf_counter() - started
        started = time.perf_counter()
        subprocess.run([sys.executable, "-m", "sandbox.export", str(run), "--out", str(Path(tmp) / "cli")],
                       check=True, capture_output=True)
        cli = time.perf_counter() - started
        started = time.perf_counter()
        samples = sum(len(read_eval_log(str(log.path)).samples or []) for log in written)
        read_back = time.perf_counter() - started
        print(json.dumps({
            "episodes": EPISODES, "logs": len(written), "samples": samples,
            "export_s": round(in_process, 2), "episodes_per_s": round(EPISODES / in_process, 1),
            "cli_s": round(cli, 2), "read_back_s": round(read_back, 2),
            "bytes": sum(log.path.stat().st_size for log in written),
            "run_bytes": (run / "episodes.jsonl").stat().st_size,
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        }))


if __name__ == "__main__":
    main()
