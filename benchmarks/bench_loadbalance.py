"""LoadBalance control-plane cost: host-side kubectl interpretation and the in-sandbox round trip.

Measures (1) the host interpreter alone (``Kubectl.run`` on a fresh cluster, no socket, no
container) and (2) ``kubectl get pods`` run in a real sandbox (python3 start-up, unix socket,
interpretation, docker exec), against ``true`` in the same sandbox as the exec baseline.
Targets: interpreter ≤ 1 ms per command; the round trip ≤ 100 ms above the exec baseline.
Prints JSON.

Usage: ``python benchmarks/bench_loadbalance.py [ROUNDS]``
"""

from __future__ import annotations

import json
import statistics
import sys
import time
import uuid

import numpy as np

from environments.cluster import world as lb_world
from environments.cluster.env import LoadBalanceEnv
from environments.cluster.kubectl import Kubectl

COMMANDS = ["get pods", "describe deployment agent-api", "top nodes", "top pods",
            "scale deployment agent-api --replicas=5", "get deployments"]


def interpreter(rounds: int) -> float:
    """Mean ms per command of the host-side interpreter."""
    cluster = lb_world.build(lb_world.WorldSpec(), np.random.default_rng(0))
    kubectl = Kubectl(cluster)
    started = time.perf_counter()
    for _ in range(rounds):
        for command in COMMANDS:
            kubectl.run(command.split())
    return (time.perf_counter() - started) * 1000 / (rounds * len(COMMANDS))


def round_trip(rounds: int) -> dict[str, float]:
    """Median ms of ``kubectl get pods`` and of ``true`` in one sandbox."""
    env = LoadBalanceEnv(run_id=f"bench-{uuid.uuid4().hex[:8]}")
    try:
        env.reset(seed=0)
        box = env.require_sandbox()
        timings: dict[str, list[float]] = {"kubectl": [], "true": []}
        for _ in range(rounds):
            for name, command in (("kubectl", "kubectl get pods"), ("true", "true")):
                started = time.perf_counter()
                result = box.exec(command, timeout=30)
                timings[name].append((time.perf_counter() - started) * 1000)
                if not result.ok:
                    raise RuntimeError(result.as_observation())
        return {k: statistics.median(v) for k, v in timings.items()}
    finally:
        env.close()


def main() -> None:
    """Run both measurements and print JSON."""
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 20
    per_command = interpreter(rounds * 10)
    trip = round_trip(rounds)
    print(json.dumps({
        "benchmark": "loadbalance_control_plane",
        "interpreter_ms_per_command": round(per_command, 3),
        "sandbox_kubectl_ms_median": round(trip["kubectl"], 1),
        "sandbox_exec_baseline_ms_median": round(trip["true"], 1),
        "control_plane_overhead_ms": round(trip["kubectl"] - trip["true"], 1),
        "targets": {"interpreter_ms_per_command": 1.0, "control_plane_overhead_ms": 100.0},
    }))


if __name__ == "__main__":
    main()
