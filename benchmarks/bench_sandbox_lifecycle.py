"""Sandbox lifecycle: reset latency with and without the warm pool, the old "create + 10 execs +
remove" comparison against the raw Docker SDK, memory per live sandbox, and (``live N``) N
sandboxes alive at once. Prints JSON.

Usage::

    python benchmarks/bench_sandbox_lifecycle.py            # reset latency, lifecycle, memory (16 live)
    python benchmarks/bench_sandbox_lifecycle.py live 1000  # 1,000 live sandboxes
    python benchmarks/bench_sandbox_lifecycle.py workload   # issue 11's workload, model calls as sleeps

``workload`` is issue 11's shape without the HTTP client: 64 episodes × 8 bash steps, each step
a 200 ms wait standing in for the model, 16 episodes at a time in threads; with and without the
warm pool, against the same loop with no sandbox at all. It bounds what the backend adds.

``cpu [ROUNDS]`` measures what one episode's container costs in CPU-seconds (this client, the
engine, the containers: :mod:`cpu_meter`; exact with ``SANDBOX_BENCH_ENGINE_CGROUP``) and in
engine requests, lever by lever: the lifecycle as it was (``network_mode=none`` through a
libnetwork sandbox), as it is (the network disabled), with ``crun`` (if the engine knows it),
the Docker SDK's own ``containers.run`` + ``remove``, a ``docker restart`` of the same
container, and the pool's verified recycle. Each round: a container, one command, its end.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from cpu_meter import CpuMeter, engine_cgroup, load_average

from sandbox.docker import containers
from sandbox.docker.channel import call, connect_unix
from sandbox.docker.cleanup import remove_by_label
from sandbox.docker.engine import docker_client
from sandbox.docker.lifecycle import DockerSandbox
from sandbox.docker.pool import WarmPool
from sandbox.docker.warm import fingerprint_differences
from sandbox.spec import SandboxSpec

EXECS = 10


def mem_available() -> int:
    """Host MemAvailable in bytes."""
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemAvailable:"):
            return int(line.split()[1]) * 1024
    return 0


def cgroup_memory(container_id: str) -> int | None:
    """The container's memory cgroup usage (v1 or v2), if this host exposes it."""
    for path in (f"/sys/fs/cgroup/memory/docker/{container_id}/memory.usage_in_bytes",
                 f"/sys/fs/cgroup/system.slice/docker-{container_id}.scope/memory.current"):
        if os.path.exists(path):
            return int(Path(path).read_text())
    return None


def reset_latency(run_id: str, rounds: int) -> dict[str, float]:
    """Seconds from ``start()`` to a sandbox that answers, cold and from the warm pool."""
    cold = []
    for i in range(rounds):
        started = time.perf_counter()
        box = DockerSandbox(SandboxSpec(run_id=run_id, episode_id=f"cold-{i}")).start()
        cold.append(time.perf_counter() - started)
        box.close()
    warm = []
    with WarmPool(4) as pool:
        pool.prewarm(SandboxSpec(run_id=run_id))
        for i in range(rounds):
            time.sleep(0.6)  # an episode's worth of model time: the pool refills meanwhile
            started = time.perf_counter()
            box = DockerSandbox(SandboxSpec(run_id=run_id, episode_id=f"warm-{i}"), pool).start()
            warm.append(time.perf_counter() - started)
            box.close()
    return {"reset_cold_median_s": round(statistics.median(cold), 4),
            "reset_warm_pool_median_s": round(statistics.median(warm), 4),
            "reset_warm_pool_p90_s": round(sorted(warm)[int(0.9 * (len(warm) - 1))], 4)}


def lifecycle(run_id: str, rounds: int) -> dict[str, float]:
    """Create + 10 trivial execs + remove: ours against the raw SDK with ``docker exec``."""
    def ours() -> float:
        started = time.perf_counter()
        with DockerSandbox(SandboxSpec(run_id=run_id)) as box:
            for _ in range(EXECS):
                box.exec("true")
        return time.perf_counter() - started

    def raw() -> float:
        spec = SandboxSpec(run_id=run_id)
        started = time.perf_counter()
        container = docker_client().containers.run(
            spec.image, command=["sleep", "infinity"], entrypoint=[], name=f"raw-{uuid.uuid4().hex[:10]}",
            detach=True, init=True, labels={"sandbox.managed": "true", "sandbox.run-id": run_id},
            network_mode="none", mem_limit=spec.memory, memswap_limit=spec.memory, nano_cpus=int(1e9),
            pids_limit=spec.pids_limit, cap_drop=["ALL"], security_opt=["no-new-privileges"],
            user=spec.user, read_only=True, working_dir=spec.workdir,
            tmpfs={spec.workdir: "rw,size=64m,uid=1000,gid=1000", "/tmp": "rw,size=64m,mode=1777"},
        )
        for _ in range(EXECS):
            container.exec_run(["sh", "-c", "true"])
        container.remove(force=True)
        return time.perf_counter() - started

    ours(), raw()  # warm-up
    ours_times, raw_times = [], []
    for _ in range(rounds):
        ours_times.append(ours())
        raw_times.append(raw())
    return {"lifecycle_ours_median_s": round(statistics.median(ours_times), 4),
            "lifecycle_raw_sdk_median_s": round(statistics.median(raw_times), 4),
            "lifecycle_ratio": round(statistics.median(ours_times) / statistics.median(raw_times), 3)}


def live(run_id: str, count: int, workers: int = 8) -> dict[str, object]:
    """Start ``count`` sandboxes, keep them all alive, run a command in each, then remove them."""
    before = mem_available()
    started = time.perf_counter()
    failures: list[str] = []
    boxes: list[DockerSandbox] = []

    def start_one(i: int) -> None:
        try:
            boxes.append(DockerSandbox(SandboxSpec(run_id=run_id, episode_id=f"live-{i}")).start())
        except Exception as exc:
            failures.append(f"{type(exc).__name__}: {exc}"[:200])

    with ThreadPoolExecutor(workers) as executor:
        list(executor.map(start_one, range(count)))
    start_s = time.perf_counter() - started
    ok = 0
    with ThreadPoolExecutor(workers) as executor:
        for result in executor.map(lambda b: b.exec("echo alive").stdout, boxes):
            ok += result == "alive\n"
    host_per_box = (before - mem_available()) / max(1, len(boxes))
    cgroups = [m for m in (cgroup_memory(b.id) for b in boxes[:50]) if m is not None]
    running = len(docker_client().api.containers(filters={"label": f"sandbox.run-id={run_id}"}))
    removal = time.perf_counter()
    with ThreadPoolExecutor(workers) as executor:
        list(executor.map(lambda b: b.close(), boxes))
    return {
        "live_requested": count, "live_started": len(boxes), "live_running_at_once": running,
        "live_answering": ok, "live_failures": len(failures), "live_failure_examples": failures[:3],
        "start_all_s": round(start_s, 1), "starts_per_s": round(len(boxes) / start_s, 2),
        "remove_all_s": round(time.perf_counter() - removal, 1),
        "host_memory_per_live_sandbox_mib": round(host_per_box / 2**20, 2),
        "cgroup_memory_per_live_sandbox_mib": round(statistics.median(cgroups) / 2**20, 2) if cgroups else None,
    }


def workload(run_id: str, episodes: int = 64, steps: int = 8, concurrency: int = 16,
             model_s: float = 0.2) -> dict[str, object]:
    """Issue 11's workload with sleeps for model calls: bare, cold sandboxes, warm pool."""
    def episode(i: int, sandbox: bool, pool: WarmPool | None = None) -> None:
        box = DockerSandbox(SandboxSpec(run_id=run_id, episode_id=f"w-{i}"), pool).start() if sandbox else None
        try:
            for step in range(steps):
                time.sleep(model_s)
                if box is not None:
                    box.exec(f"echo step {step} >> /workspace/log && ls /workspace")
        finally:
            if box is not None:
                box.close()

    def run(sandbox: bool, pool: WarmPool | None = None) -> float:
        started = time.perf_counter()
        with ThreadPoolExecutor(concurrency) as executor:
            list(executor.map(lambda i: episode(i, sandbox, pool), range(episodes)))
        return time.perf_counter() - started

    bare = run(False)
    cold = run(True)
    with WarmPool(concurrency) as pool:
        pool.prewarm(SandboxSpec(run_id=run_id), concurrency)
        time.sleep(5)
        warm = run(True, pool)
    return {"workload": f"{episodes} episodes x {steps} steps, {model_s * 1000:g} ms model, {concurrency} at a time",
            "bare_s": round(bare, 2), "sandboxes_cold_s": round(cold, 2), "sandboxes_warm_pool_s": round(warm, 2),
            "cold_over_bare": round(cold / bare, 3), "warm_pool_over_bare": round(warm / bare, 3)}


class RequestCounter:
    """Counts the engine requests the Docker client sends."""

    def __init__(self) -> None:
        self.count = 0
        docker_client().api.hooks["response"].append(self._seen)

    def _seen(self, response: object, *args: object, **kwargs: object) -> None:
        self.count += 1


def _old_network(spec: SandboxSpec, name: str, socket_dir: Path, target: str, recyclable: bool = False) -> dict:
    """The container settings as they were: ``network_mode=none`` through a libnetwork sandbox."""
    config = ORIGINAL_CONFIG(spec, name, socket_dir, target, recyclable)
    config["network_disabled"] = False
    host_config = config["host_config"]
    assert isinstance(host_config, dict)
    host_config["Mounts"] = [m for m in host_config["Mounts"] if m["Target"] != "/etc/hosts"]
    return config


ORIGINAL_CONFIG = containers.container_config


def cpu(run_id: str, rounds: int) -> dict[str, object]:
    """CPU-seconds and engine requests per episode's container, lever by lever."""
    counter = RequestCounter()
    spec = SandboxSpec(run_id=run_id)
    runtimes = docker_client().info().get("Runtimes", {})

    def lifecycle(variant_spec: SandboxSpec) -> None:
        with DockerSandbox(variant_spec) as box:
            box.exec("true")

    def sdk() -> None:
        container = docker_client().containers.run(
            spec.image, command=["sleep", "infinity"], entrypoint=[], detach=True, network_mode="none",
            labels={"sandbox.managed": "true", "sandbox.run-id": run_id}, read_only=True)
        container.exec_run(["true"])
        container.remove(force=True)

    def measure(one: object) -> dict[str, float]:
        assert callable(one)
        one()  # warm-up
        meter, requests, started = CpuMeter().start(), counter.count, time.perf_counter()
        for _ in range(rounds):
            one()
        wall, used = time.perf_counter() - started, meter.read()
        out = {"wall_s": round(wall / rounds, 4), "client_cpu_s": round(used["client_cpu_s"] / rounds, 4),
               "engine_cpu_s": round(used["engine_cpu_s"] / rounds, 4),
               "engine_requests": round((counter.count - requests) / rounds, 1)}
        out.update({f"{part}_cpu_s": round(v / rounds, 4) for part, v in used.get("engine_parts_cpu_s", {}).items()})
        out["cpu_s"] = round(out["client_cpu_s"] + out["engine_cpu_s"], 4)
        return out

    result: dict[str, object] = {}
    containers.container_config = _old_network  # type: ignore[assignment]
    try:
        result["network_none_libnetwork"] = measure(lambda: lifecycle(spec))
    finally:
        containers.container_config = ORIGINAL_CONFIG
    result["network_disabled"] = measure(lambda: lifecycle(spec))
    if "crun" in runtimes:
        try:
            result["crun"] = measure(lambda: lifecycle(spec.model_copy(update={"runtime": "crun"})))
        except Exception as exc:  # e.g. crun refusing this host's cgroup layout
            result["crun"] = {"error": str(exc)[:300]}
    else:
        result["crun"] = {"error": "the engine has no crun runtime (sandbox/scripts/docker-up.sh registers it)"}
    result["docker_sdk_run_remove"] = measure(sdk)
    with DockerSandbox(spec) as box:
        def restart() -> None:
            docker_client().api.restart(box.id, timeout=0)
            box.wait_ready()
            box.exec("true")
        result["docker_restart"] = measure(restart)
    with WarmPool(1, recycle=True) as pool, DockerSandbox(spec, pool) as box:
        def recycle() -> None:
            box.exec("true")
            reply = call(connect_unix(box.socket_path), {"op": "recycle", "pristine": box.pristine},
                         deadline=time.monotonic() + 30)
            assert not fingerprint_differences(box.pristine or {}, reply.result["fingerprint"])
        result["recycle"] = measure(recycle)
    return {"rounds": rounds, "engine_exact": engine_cgroup() is not None, **result}


def main() -> None:
    run_id = f"bench-{uuid.uuid4().hex[:8]}"
    load = load_average()
    try:
        if sys.argv[1:2] == ["workload"]:
            result: dict[str, object] = {"benchmark": "sandbox_workload", **workload(run_id)}
        elif sys.argv[1:2] == ["cpu"]:
            rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 16
            result = {"benchmark": "sandbox_lifecycle_cpu", **cpu(run_id, rounds)}
        elif sys.argv[1:2] == ["live"]:
            result = {"benchmark": "sandbox_live", **live(run_id, int(sys.argv[2]))}
        else:
            rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 12
            result = {"benchmark": "sandbox_lifecycle", "rounds": rounds, **reset_latency(run_id, rounds),
                      **lifecycle(run_id, rounds), **live(run_id, 16)}
            result["reset_target_s"] = 0.05
            result["meets_reset_target"] = float(result["reset_warm_pool_median_s"]) <= 0.05  # type: ignore[arg-type]
    finally:
        remove_by_label(run_id)
    result["load_average_at_start"] = load
    print(json.dumps(result))


if __name__ == "__main__":
    main()
