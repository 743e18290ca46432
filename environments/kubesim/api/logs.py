"""Pod logs: what the containers print, one line per simulated step since they started.

Replica pods of agent-api log the requests they served and the service's latency and error
rate (from the world's metric history), which is how an operator sees the load from inside.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from environments.kubesim.api import render
from environments.kubesim.api.errors import ApiError

if TYPE_CHECKING:
    from environments.kubesim.cluster import Cluster


def pod_log(cluster: Cluster, name: str, tail: int | None = None) -> str:
    """The log of pod ``name`` (400 while it is not running, 404 when it does not exist)."""
    pod = cluster.pods.get(name)
    if pod is None:
        raise ApiError.not_found("pods", name)
    if pod.phase != "Running":
        reason = "ContainerCreating" if pod.phase == "ContainerCreating" else pod.phase
        raise ApiError(400, "BadRequest", f'container "main" in pod "{name}" is waiting to start: {reason}')
    started = (pod.scheduled_step or pod.created_step) + 1
    lines = [f"{render.timestamp(cluster, started)} INFO starting {pod.image}"]
    serving = f"pod:{name}" in cluster.serving
    for m in cluster.history:
        if m.step < started:
            continue
        when = render.timestamp(cluster, m.step)
        if serving:
            share = m.demand_rps / max(m.agent_pods, 1)
            lines.append(f"{when} INFO served {min(share, cluster.capacity_per_replica):.0f} req/s; service: "
                         f"{m.demand_rps:g} req/s demand, {m.capacity_rps:g} req/s capacity, p95 latency "
                         f"{m.latency_ms:g} ms, error rate {m.error_rate:.1%}")
            if m.error_rate > 0.01:
                lines.append(f"{when} WARN dropping requests: queue full ({m.error_rate:.0%} errors)")
        else:
            lines.append(f"{when} INFO healthy")
    if tail is not None:
        lines = lines[-tail:] if tail else []
    return "".join(f"{line}\n" for line in lines)
