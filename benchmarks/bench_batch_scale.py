"""A huge batch (issue 15): ``trials=200000`` of FileChore's two reference policies (400,000 episodes).

Targets: the first episode starts within 2 s of the batch starting (after imports), the
runner's memory stays under 300 MB, and Ctrl-C ends the batch within 10 s (episodes in flight
recorded as interrupted, summary written). Runs the CLI in a subprocess for RUN_SECONDS, then
sends SIGINT. Prints JSON.

Usage: ``python benchmarks/bench_batch_scale.py [TRIALS] [RUN_SECONDS] [CONCURRENCY]``
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TRIALS = int(sys.argv[1]) if len(sys.argv) > 1 else 200_000
RUN_SECONDS = float(sys.argv[2]) if len(sys.argv) > 2 else 20.0
CONCURRENCY = int(sys.argv[3]) if len(sys.argv) > 3 else 16
ROOT = Path(__file__).resolve().parents[1]


def rss_mb(pid: int, field: str) -> float:
    """VmRSS or VmHWM (peak) of a process, in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return 0.0


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "run"
        env = {**os.environ, "COLUMNS": "200", "SANDBOX_STATE_DIR": str(Path(tmp) / "state")}
        started = time.monotonic()
        proc = subprocess.Popen([sys.executable, "-m", "sandbox.run", "scenario=filechore", f"trials={TRIALS}",
                                 f"concurrency={CONCURRENCY}", f"out={out}"], cwd=ROOT, env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        manifest_at = first_at = None
        peak = 0.0
        while time.monotonic() - started < 120 and first_at is None:
            if manifest_at is None and (out / "manifest.json").exists():
                manifest_at = time.monotonic()
            if manifest_at is not None:
                from sandbox.docker.engine import docker_client
                from sandbox.spec import RUN_LABEL

                run_id = json.loads((out / "manifest.json").read_text())["run_id"]
                if docker_client().api.containers(filters={"label": f"{RUN_LABEL}={run_id}"}):
                    first_at = time.monotonic()
            time.sleep(0.05)
        while time.monotonic() - (first_at or started) < RUN_SECONDS:
            peak = max(peak, rss_mb(proc.pid, "VmRSS"))
            time.sleep(0.5)
        peak = max(peak, rss_mb(proc.pid, "VmHWM"))
        proc.send_signal(signal.SIGINT)
        stop = time.monotonic()
        _, stderr = proc.communicate(timeout=120)
        stopped_in = time.monotonic() - stop
        lines = (out / "episodes.jsonl").read_text().splitlines() if (out / "episodes.jsonl").exists() else []
        interrupted = sum('"termination":"interrupted"' in line for line in lines)
        first = (first_at - manifest_at) if first_at and manifest_at else None
        print(json.dumps({
            "benchmark": "batch_scale", "episodes_planned": 2 * TRIALS, "concurrency": CONCURRENCY,
            "first_sandbox_after_manifest_s": round(first, 2) if first is not None else None,
            "first_sandbox_after_launch_s": round(first_at - started, 2) if first_at else None,
            "peak_rss_mb": round(peak, 1), "ctrl_c_to_exit_s": round(stopped_in, 2), "exit_code": proc.returncode,
            "episodes_recorded": len(lines), "interrupted_recorded": interrupted,
            "summary_written": (out / "summary.json").exists(),
            "targets": {"first_episode_s": 2.0, "rss_mb": 300, "ctrl_c_s": 10},
            "stderr_tail": stderr.strip().splitlines()[-1:] if stderr else [],
        }))


if __name__ == "__main__":
    main()
