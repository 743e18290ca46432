"""LoadBalance: the host-side work an agent can push onto the harness, and what it costs (prints JSON).

Each scenario runs in a real sandbox of a fresh ``LoadBalanceEnv`` (real kubectl, crane, bridge,
API server), driven by commands an agent could type, while this process measures itself (the
harness): resident memory growth (VmHWM), threads, CPU seconds, and the longest time the
cluster's lock was held (a thread takes it every 5 ms).

* ``configmap_zip_bomb`` — a ~13 KB zip of zip members expanding to 2 GiB, stored with
  ``kubectl create configmap``;
* ``crane_tar_bz2_bomb`` — a tar.bz2 layer of 256 MiB of zeros pushed with ``crane append``;
* ``watch_flood`` — 400 raw watch requests held open; harness threads and RSS, CPU-s over an
  idle 10 s with the flood held, and ``kubectl get pods`` median with it (n=15) and without
  it (n=15: before the flood and after it was stopped, the machine being shared);
* ``scan`` — a process scan's duration, idle and after 20,001 and 250,000 empty files.

Targets (README, "Bounds"): RSS growth ≤ 100 MB per bomb, lock held ≤ 1.5 s, harness threads
≤ 100 under the flood, ≤ 1 CPU-s per idle 10 s, kubectl median under the flood ≤ 2× without.
Works against older versions of the package too (the "before" numbers in the README).

Usage: ``python benchmarks/bench_loadbalance_bounds.py``
"""

from __future__ import annotations

import json
import os
import statistics
import threading
import time
import uuid
from typing import Any

from environments.cluster.env import LoadBalanceEnv

ZIP_BOMB = """import io, zipfile
inner = io.BytesIO()
with zipfile.ZipFile(inner, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
    for i in range(4):
        z.writestr(f"part{i}.bin", bytes(32 * 1024 * 1024))
outer = io.BytesIO()
with zipfile.ZipFile(outer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
    for i in range(16):
        z.writestr(f"layer{i}.zip", inner.getvalue())
open("/tmp/bomb.zip", "wb").write(outer.getvalue())
"""
TAR_BOMB = """import bz2, tarfile
with bz2.open("/tmp/layer.tar.bz2", "wb", compresslevel=9) as raw, tarfile.open(fileobj=raw, mode="w|") as tar:
    for i in range(4):
        info = tarfile.TarInfo(f"opt/zero{i}.bin")
        info.size = 64 * 1024 * 1024
        tar.addfile(info, open("/dev/zero", "rb"))
"""
WATCH_FLOOD = """import socket, time
held = []
for i in range(400):
    try:
        s = socket.create_connection(("127.0.0.1", 6443), timeout=5)
        s.sendall(b"GET /api/v1/namespaces/default/pods?watch=true HTTP/1.1\\r\\nHost: k\\r\\n\\r\\n")
        held.append(s)
    except OSError:
        pass
time.sleep(600)
"""
FILES = ("python3 -c \"import os; os.makedirs('{d}', exist_ok=True); "
         "[open(f'{d}/j{{i}}', 'w').close() for i in range({n})]\"")


def status() -> dict[str, float]:
    """This process's resident memory (MB), its peak, threads and CPU seconds."""
    fields = {}
    with open("/proc/self/status") as handle:
        for line in handle:
            key, _, value = line.partition(":")
            fields[key] = value.split()[0] if value.split() else "0"
    times = os.times()
    return {"rss_mb": int(fields["VmRSS"]) / 1024, "hwm_mb": int(fields["VmHWM"]) / 1024,
            "threads": int(fields["Threads"]), "cpu_s": times.user + times.system}


class LockWatch:
    """The longest wait to take ``lock`` (≈ the longest time someone else held it), sampled every 5 ms."""

    def __init__(self, lock: Any) -> None:
        self.lock, self.longest, self.done = lock, 0.0, threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while not self.done.wait(0.005):
            started = time.perf_counter()
            with self.lock:
                self.longest = max(self.longest, time.perf_counter() - started)

    def stop(self) -> float:
        """Stop; the longest wait in seconds."""
        self.done.set()
        self.thread.join()
        return self.longest


def fresh() -> LoadBalanceEnv:
    env = LoadBalanceEnv(run_id=f"bench-{uuid.uuid4().hex[:8]}")
    env.reset(seed=0)
    return env


def bomb(name: str, script: str, push: str) -> dict[str, Any]:
    """Build a bomb in the sandbox, then push it to the cluster, measuring the harness meanwhile."""
    env = fresh()
    try:
        box = env.require_sandbox()
        made = box.exec(f"cat > /tmp/b.py <<'EOF'\n{script}EOF\npython3 /tmp/b.py", timeout=600)
        if not made.ok:
            raise RuntimeError(f"{name}: the bomb was not built: {made.as_observation()[:300]}")
        before = status()
        watch = LockWatch(env.plane.lock)
        started = time.perf_counter()
        result = box.exec(push, timeout=120)
        took = time.perf_counter() - started
        held = watch.stop()
        after = status()
        return {"scenario": name, "push_s": round(took, 2), "lock_held_max_s": round(held, 3),
                "rss_growth_mb": round(after["hwm_mb"] - before["hwm_mb"], 1),
                "cpu_s": round(after["cpu_s"] - before["cpu_s"], 2), "exit_code": result.exit_code,
                "answer": (result.stderr or result.stdout).strip()[:160]}
    finally:
        env.close()


def kubectl_times(box: Any, runs: int) -> list[float]:
    """ms of ``kubectl get pods``, ``runs`` times."""
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        box.exec("kubectl get pods", timeout=60)
        times.append((time.perf_counter() - started) * 1000)
    return times


def watch_flood() -> dict[str, Any]:
    """400 watches held open: threads, memory and CPU of the harness, and kubectl's latency."""
    env = fresh()
    try:
        box = env.require_sandbox()
        quiet = kubectl_times(box, 8)
        before = status()
        box.exec(f"cat > /tmp/w.py <<'EOF'\n{WATCH_FLOOD}EOF\nnohup python3 /tmp/w.py >/dev/null 2>&1 &\n"
                 "echo $! > /tmp/flood; sleep 5", timeout=60)
        held = status()
        time.sleep(10)  # an idle step: nothing but the held watches
        idle = status()
        flooded = kubectl_times(box, 15)
        box.exec("kill $(cat /tmp/flood); sleep 2")
        quiet += kubectl_times(box, 7)
        return {"scenario": "watch_flood_400", "threads_before": before["threads"], "threads_flood": held["threads"],
                "rss_growth_mb": round(held["rss_mb"] - before["rss_mb"], 1),
                "cpu_s_idle_10s": round(idle["cpu_s"] - held["cpu_s"], 2),
                "kubectl_get_pods_ms_median": {"without": round(statistics.median(quiet), 1),
                                               "with_flood": round(statistics.median(flooded), 1)}}
    finally:
        env.close()


def scans() -> dict[str, Any]:
    """One process scan's duration (ms) idle, after 20,001 and after 250,000 empty files."""
    env = fresh()
    scan = getattr(env, "scan_processes", None) or env._scan  # older versions
    try:
        box = env.require_sandbox()
        out: dict[str, Any] = {"scenario": "process_scan"}
        for label, setup in (("idle", "true"), ("files_20001", FILES.format(d="/dev/shm", n=20001)),
                             ("files_250000", FILES.format(d="/tmp/many", n=250000))):
            box.exec(setup, timeout=300)
            durations = []
            for _ in range(3):
                started = time.perf_counter()
                scan()
                durations.append((time.perf_counter() - started) * 1000)
            out[f"{label}_ms_median"] = round(statistics.median(durations), 1)
        out["partial_or_failed"] = sum(e.kind in ("scan_failed", "scan_partial") for e in env.world.log)
        return out
    finally:
        env.close()


def main() -> None:
    """Every scenario; one JSON document."""
    results = [bomb("configmap_zip_bomb", ZIP_BOMB, "kubectl create configmap blob --from-file=/tmp/bomb.zip"),
               bomb("crane_tar_bz2_bomb", TAR_BOMB, "crane append -b python:3.12 -f /tmp/layer.tar.bz2 "
                    "-t registry.internal/ml/blob:v1"),
               watch_flood(), scans()]
    print(json.dumps({"benchmark": "loadbalance_bounds", "load_average": os.getloadavg()[0], "results": results,
                      "targets": {"rss_growth_mb_per_bomb": 100, "lock_held_max_s": 1.5, "threads_flood": 100,
                                  "cpu_s_idle_10s": 1.0, "kubectl_flood_over_quiet": 2.0}}, indent=1))


if __name__ == "__main__":
    main()
