"""Pod logs: what the containers print since they started.

The lines are the world's (:meth:`~environments.kubesim.cluster.Cluster.pod_log`): by default a
container logs ``INFO healthy`` once per simulated step; an environment's world says what its
own services print.
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
    lines += [f"{render.timestamp(cluster, step)} {text}" for step, text in cluster.pod_log(pod, started)]
    if tail is not None:
        lines = lines[-tail:] if tail else []
    return "".join(f"{line}\n" for line in lines)
