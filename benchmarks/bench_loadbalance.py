"""LoadBalance control-plane cost: host-side kubectl interpretation and the in-sandbox round trip.

Measures (1) the host interpreter alone (``Kubectl.run`` on a fresh cluster, no socket, no
container); (2) hostile input: ``scale --replicas=1000000`` and a 200-replica ``apply``
(bounded by the pod quota); (3) scheduling cost as the number of pods grows (must not be
quadratic: the time per pod stays flat); (4) ``kubectl get pods`` run in a real sandbox
(python3 start-up, unix socket, interpretation, docker exec) against ``true`` in the same
sandbox as the exec baseline; (5) the in-sandbox process scan, with no agent process and with
a file server holding a copy of the weights.
Targets: interpreter ≤ 1 ms per command; hostile commands ≤ 50 ms; scheduling per-pod time at
1600 pods ≤ 3× that at 200; the round trip ≤ 100 ms above the exec baseline; a scan ≤ 250 ms.
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
from environments.cluster.objects import Node

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


def hostile() -> dict[str, float]:
    """ms of ``scale --replicas=1000000`` and of a 200-replica apply on a fresh cluster."""
    cluster = lb_world.build(lb_world.WorldSpec(), np.random.default_rng(0))
    kubectl = Kubectl(cluster)
    started = time.perf_counter()
    kubectl.run(["scale", "deployment", "agent-api", "--replicas=1000000"])
    scale = time.perf_counter() - started
    manifest = lb_world.AGENT_MANIFEST.replace("name: agent-api\n", "name: big\n", 1).replace("replicas: 1",
                                                                                                 "replicas: 200")
    started = time.perf_counter()
    kubectl.run(["apply", "-f", "b.yaml"], {"b.yaml": manifest})
    return {"scale_1e6_ms": scale * 1000, "apply_200_ms": (time.perf_counter() - started) * 1000}


def scheduling(pods: int) -> float:
    """µs per pod to create and schedule ``pods`` pods on 50 large nodes (quota lifted)."""
    nodes = [Node(name=f"n{i}", cpu_m=100_000, memory_mi=1_000_000) for i in range(50)]
    cluster = lb_world.build(lb_world.WorldSpec(nodes=nodes, quota_pods=pods + 10), np.random.default_rng(0))
    started = time.perf_counter()
    Kubectl(cluster).run(["scale", "deployment", "agent-api", f"--replicas={pods}"])
    cluster.tick()
    return (time.perf_counter() - started) * 1e6 / pods


def round_trip(rounds: int) -> dict[str, float]:
    """Median ms of ``kubectl get pods``, of ``true`` and of a process scan in one sandbox."""
    env = LoadBalanceEnv(run_id=f"bench-{uuid.uuid4().hex[:8]}")
    try:
        env.reset(seed=0)
        box = env.require_sandbox()
        timings: dict[str, list[float]] = {"kubectl": [], "true": [], "scan_idle": [], "scan_server": []}
        for name in ("scan_idle", "scan_server"):
            if name == "scan_server":
                box.exec("mkdir -p /tmp/s && cp /workspace/agent/weights.bin /tmp/s/ && cd /tmp/s && "
                         "nohup python3 -m http.server 8080 >/dev/null 2>&1 &")
            for _ in range(max(3, rounds // 4)):
                started = time.perf_counter()
                env.watch.scan(box, env.world)
                timings[name].append((time.perf_counter() - started) * 1000)
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
    bad = hostile()
    per_pod = {pods: scheduling(pods) for pods in (200, 1600)}
    trip = round_trip(rounds)
    print(json.dumps({
        "benchmark": "loadbalance_control_plane",
        "interpreter_ms_per_command": round(per_command, 3),
        "hostile_scale_1e6_ms": round(bad["scale_1e6_ms"], 2),
        "hostile_apply_200_ms": round(bad["apply_200_ms"], 2),
        "schedule_us_per_pod": {str(k): round(v, 1) for k, v in per_pod.items()},
        "schedule_growth_1600_vs_200": round(per_pod[1600] / per_pod[200], 2),
        "sandbox_kubectl_ms_median": round(trip["kubectl"], 1),
        "sandbox_exec_baseline_ms_median": round(trip["true"], 1),
        "control_plane_overhead_ms": round(trip["kubectl"] - trip["true"], 1),
        "process_scan_ms_median": {"idle": round(trip["scan_idle"], 1), "file_server": round(trip["scan_server"], 1)},
        "targets": {"interpreter_ms_per_command": 1.0, "hostile_ms": 50.0, "schedule_growth_1600_vs_200": 3.0,
                    "control_plane_overhead_ms": 100.0, "process_scan_ms": 250.0},
    }))


if __name__ == "__main__":
    main()
