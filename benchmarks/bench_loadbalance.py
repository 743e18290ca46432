"""LoadBalance control-plane cost: the API server in-process, and the real kubectl's round trip in a sandbox.

Measures (1) the API server's handling of the requests kubectl sends most (``get pods`` as a
Table, ``get deployment``, a scale, events), in-process, no socket; (2) hostile input: a
scale to 1,000,000 replicas and a 200-replica Deployment (bounded by the pod quota); (3)
scheduling cost as the number of pods grows (must not be quadratic: the time per pod stays
flat); (4) the OpenAPI document's protobuf encoding (once per process); (5) ``kubectl get
pods`` (the real v1.20.2 binary, loopback bridge, unix socket, API server) in a real sandbox
against ``true`` in the same sandbox as the exec baseline, medians over many runs, interleaved
(the machine is shared); (6) the process scan (a root probe forked by the supervisor, the agent frozen).
Targets: API ≤ 2 ms per request; hostile requests ≤ 50 ms; scheduling per-pod time at 1600
pods ≤ 3× that at 200; ``kubectl get pods`` ≤ 150 ms above the exec baseline; a scan ≤ 250 ms.
Prints JSON. The previous in-sandbox client (python, its own protocol) measured 64.5 ms for
``kubectl get pods``.

Usage: ``python benchmarks/bench_loadbalance.py [ROUNDS]``
"""

from __future__ import annotations

import json
import statistics
import sys
import threading
import time
import uuid

import numpy as np

from environments.cluster import world as lb_world
from environments.cluster.env import LoadBalanceEnv
from environments.kubesim.api import openapi
from environments.kubesim.api.handler import Api, Request
from environments.kubesim.objects import Node

TABLE = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"
REQUESTS = [("GET", "/api/v1/namespaces/default/pods?limit=500", TABLE, b""),
            ("GET", "/apis/apps/v1/namespaces/default/deployments/agent-api", "application/json", b""),
            ("PATCH", "/apis/apps/v1/namespaces/default/deployments/agent-api/scale", "application/json",
             b'{"spec":{"replicas":5}}'),
            ("GET", "/api/v1/namespaces/default/events", TABLE, b"")]


def _api(spec: lb_world.WorldSpec | None = None) -> tuple[Api, lb_world.LoadBalanceCluster]:
    cluster = lb_world.build(spec or lb_world.WorldSpec(), np.random.default_rng(0))
    return Api(cluster, threading.RLock()), cluster


def _send(api: Api, method: str, target: str, accept: str = "application/json", body: bytes = b"") -> None:
    headers = {"accept": accept, "content-type": "application/merge-patch+json"}
    response = api.handle(Request(method=method, target=target, headers=headers, body=body))
    if response.code >= 400:
        raise RuntimeError(response.body[:300])


def api_server(rounds: int) -> float:
    """Mean ms per request of the in-process API server."""
    api, _ = _api()
    started = time.perf_counter()
    for _ in range(rounds):
        for method, target, accept, body in REQUESTS:
            _send(api, method, target, accept, body)
    return (time.perf_counter() - started) * 1000 / (rounds * len(REQUESTS))


def hostile() -> dict[str, float]:
    """ms of a scale to 1,000,000 replicas and of creating a 200-replica Deployment."""
    api, _ = _api()
    started = time.perf_counter()
    _send(api, "PATCH", "/apis/apps/v1/namespaces/default/deployments/agent-api/scale",
          body=b'{"spec":{"replicas":1000000}}')
    scale = time.perf_counter() - started
    big = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "big"},
           "spec": {"replicas": 200, "selector": {"matchLabels": {"app": "big"}}, "template": {
               "metadata": {"labels": {"app": "big"}}, "spec": {"containers": [{"name": "a", "image": "x:1"}]}}}}
    started = time.perf_counter()
    _send(api, "POST", "/apis/apps/v1/namespaces/default/deployments", body=json.dumps(big).encode())
    return {"scale_1e6_ms": scale * 1000, "create_200_ms": (time.perf_counter() - started) * 1000}


def scheduling(pods: int) -> float:
    """µs per pod to create and schedule ``pods`` pods on 50 large nodes (quota lifted)."""
    nodes = [Node(name=f"n{i}", cpu_m=100_000, memory_mi=1_000_000) for i in range(50)]
    api, cluster = _api(lb_world.WorldSpec(nodes=nodes, quota_pods=pods + 10))
    started = time.perf_counter()
    _send(api, "PATCH", "/apis/apps/v1/namespaces/default/deployments/agent-api/scale",
          body=json.dumps({"spec": {"replicas": pods}}).encode())
    cluster.tick()
    return (time.perf_counter() - started) * 1e6 / pods


def openapi_ms() -> float:
    """ms to encode the OpenAPI document as protobuf (cached afterwards)."""
    openapi.encoded.cache_clear()
    started = time.perf_counter()
    openapi.encoded(True)
    return (time.perf_counter() - started) * 1000


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
                env.scan_processes()
                timings[name].append((time.perf_counter() - started) * 1000)
        for _ in range(rounds):
            for name, command in (("kubectl", "kubectl get pods"), ("true", "true")):
                started = time.perf_counter()
                result = box.exec(command, timeout=30)
                timings[name].append((time.perf_counter() - started) * 1000)
                if not result.ok:
                    raise RuntimeError(result.as_observation())
        inside = box.exec("python3 -c 'import subprocess, time, statistics\n"
                          "t = []\nfor _ in range(15):\n s = time.perf_counter()\n"
                          " subprocess.run([\"kubectl\", \"get\", \"pods\"], capture_output=True)\n"
                          " t.append(time.perf_counter() - s)\nprint(statistics.median(t) * 1000)'", timeout=120)
        return {**{k: statistics.median(v) for k, v in timings.items()}, "inside": float(inside.stdout.strip())}
    finally:
        env.close()


def main() -> None:
    """Run every measurement and print JSON."""
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 30
    per_request = api_server(rounds * 10)
    bad = hostile()
    per_pod = {pods: scheduling(pods) for pods in (200, 1600)}
    encode = openapi_ms()
    trip = round_trip(rounds)
    print(json.dumps({
        "benchmark": "loadbalance_control_plane",
        "api_ms_per_request": round(per_request, 3),
        "hostile_scale_1e6_ms": round(bad["scale_1e6_ms"], 2),
        "hostile_create_200_ms": round(bad["create_200_ms"], 2),
        "schedule_us_per_pod": {str(k): round(v, 1) for k, v in per_pod.items()},
        "schedule_growth_1600_vs_200": round(per_pod[1600] / per_pod[200], 2),
        "openapi_protobuf_ms": round(encode, 1),
        "sandbox_kubectl_get_pods_ms_median": round(trip["kubectl"], 1),
        "sandbox_exec_baseline_ms_median": round(trip["true"], 1),
        "kubectl_over_exec_baseline_ms": round(trip["kubectl"] - trip["true"], 1),
        "kubectl_get_pods_inside_sandbox_ms_median": round(trip["inside"], 1),
        "previous_client_kubectl_get_pods_ms": 64.5,
        "process_scan_ms_median": {"idle": round(trip["scan_idle"], 1), "file_server": round(trip["scan_server"], 1)},
        "targets": {"api_ms_per_request": 2.0, "hostile_ms": 50.0, "schedule_growth_1600_vs_200": 3.0,
                    "kubectl_over_exec_baseline_ms": 150.0, "process_scan_ms": 250.0},
    }))


if __name__ == "__main__":
    main()
