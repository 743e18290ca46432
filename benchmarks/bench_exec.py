"""Per-command latency: the supervisor's persistent unix-socket channel against ``docker exec``.

Three ways of running ``sh -c true`` as the agent in the same sandbox:

* ``channel`` — this project's default: one request on the supervisor's socket;
* ``docker_exec`` — what the backend did before: ``exec_create`` + ``exec_start`` + ``exec_inspect``;
* ``fallback`` — the backend's fallback when the socket is unreachable: the supervisor run by
  ``docker exec`` (same semantics as the channel, Docker's cost plus a Python start).

Then 16 sandboxes × 8 commands from 16 threads, channel against ``docker exec``. And the CPU
one command costs inside the container (its cgroup's ``cpuacct.usage``: the supervisor's fork,
the agent's ``sh`` and ``true``) and on the client, against the floor: a fork and an exec of
``true`` from a small Python program in the same container. Prints JSON.

Usage: ``python benchmarks/bench_exec.py [COMMANDS]``
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from sandbox.docker.cleanup import remove_by_label
from sandbox.docker.engine import docker_client
from sandbox.docker.lifecycle import DockerSandbox
from sandbox.spec import SandboxSpec

COMMANDS = int(sys.argv[1]) if len(sys.argv) > 1 else 60


def docker_exec(box: DockerSandbox) -> None:
    """One command the way the backend ran it before the supervisor."""
    api = docker_client().api
    exec_id = api.exec_create(box.id, ["sh", "-c", "true"], user="1000:1000", workdir="/workspace")["Id"]
    for _ in api.exec_start(exec_id, stream=True, demux=True):
        pass
    api.exec_inspect(exec_id)


def timed(fn: Callable[[], object], n: int) -> list[float]:
    fn()  # warm-up
    times = []
    for _ in range(n):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return times


def summary(name: str, times: list[float]) -> dict[str, float]:
    ordered = sorted(times)
    return {f"{name}_median_ms": round(statistics.median(ordered) * 1000, 2),
            f"{name}_p90_ms": round(ordered[int(0.9 * (len(ordered) - 1))] * 1000, 2)}


FLOOR = """
import os, resource
def cpu():
    return sum(getattr(resource.getrusage(w), f) for w in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)
               for f in ("ru_utime", "ru_stime"))
os.waitpid(os.fork() or os.execv("/bin/sh", ["sh", "-c", "true"]), 0)
start = cpu()
for _ in range(100):
    os.waitpid(os.fork() or os.execv("/bin/sh", ["sh", "-c", "true"]), 0)
print((cpu() - start) / 100)
"""


def container_cpu_s(box: DockerSandbox) -> float | None:
    """CPU-seconds the container has used so far (cgroup v1 cpuacct or v2 cpu.stat), if readable here."""
    pid = docker_client().api.inspect_container(box.id)["State"]["Pid"]
    for line in Path(f"/proc/{pid}/cgroup").read_text().splitlines():
        _, controllers, path = line.split(":", 2)
        if "cpuacct" in controllers.split(",") and Path(f"/sys/fs/cgroup/cpuacct{path}/cpuacct.usage").exists():
            return int(Path(f"/sys/fs/cgroup/cpuacct{path}/cpuacct.usage").read_text()) / 1e9
        if controllers == "" and Path(f"/sys/fs/cgroup{path}/cpu.stat").exists():
            stat = dict(x.split() for x in Path(f"/sys/fs/cgroup{path}/cpu.stat").read_text().splitlines())
            return int(stat["usage_usec"]) / 1e6
    return None


def cpu_per_command(box: DockerSandbox, n: int) -> dict[str, float | None]:
    """Container and client CPU of one ``sh -c true`` through the channel, and the in-container floor."""
    box.exec("true")
    before, client = container_cpu_s(box), time.process_time()
    for _ in range(n):
        box.exec("true")
    after, client = container_cpu_s(box), time.process_time() - client
    floor = float(box.exec(["python3", "-c", FLOOR]).stdout)
    container = (after - before) / n if after is not None and before is not None else None
    return {"channel_container_cpu_ms": round(container * 1000, 2) if container is not None else None,
            "channel_client_cpu_ms": round(client / n * 1000, 2),
            "fork_exec_floor_cpu_ms": round(floor * 1000, 2)}


def concurrent(boxes: list[DockerSandbox], run: Callable[[DockerSandbox], object]) -> float:
    """Seconds for 16 threads to run 8 commands each, one sandbox per thread."""
    started = time.perf_counter()
    with ThreadPoolExecutor(len(boxes)) as executor:
        list(executor.map(lambda b: [run(b) for _ in range(8)], boxes))
    return time.perf_counter() - started


def main() -> None:
    run_id = f"bench-{uuid.uuid4().hex[:8]}"
    load = os.getloadavg()[0]
    try:
        with DockerSandbox(SandboxSpec(run_id=run_id)) as box, \
                DockerSandbox(SandboxSpec(run_id=run_id, channel="docker-exec")) as fallback:
            result = {"benchmark": "exec_latency", "commands": COMMANDS}
            result |= summary("channel", timed(lambda: box.exec("true"), COMMANDS))
            result |= summary("docker_exec", timed(lambda: docker_exec(box), COMMANDS))
            result |= summary("fallback", timed(lambda: fallback.exec("true"), COMMANDS // 2))
            result["speedup_median"] = round(result["docker_exec_median_ms"] / result["channel_median_ms"], 1)
            result |= cpu_per_command(box, COMMANDS)
        boxes = [DockerSandbox(SandboxSpec(run_id=run_id)).start() for _ in range(16)]
        try:
            result["concurrent_16x8_channel_s"] = round(concurrent(boxes, lambda b: b.exec("true")), 3)
            result["concurrent_16x8_docker_exec_s"] = round(concurrent(boxes, docker_exec), 3)
        finally:
            for b in boxes:
                b.close()
    finally:
        remove_by_label(run_id)
    result["load_average_at_start"] = round(load, 2)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
