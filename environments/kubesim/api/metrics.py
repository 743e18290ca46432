"""``metrics.k8s.io/v1beta1``: what ``kubectl top`` reads.

A pod's CPU is the world's (:meth:`~environments.kubesim.cluster.Cluster.pod_cpu_m`, which the
autoscaler reads too); its memory is half its request. Each node adds the system's own use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from environments.kubesim.api import render

if TYPE_CHECKING:
    from environments.kubesim.cluster import Cluster
    from environments.kubesim.objects import Pod

SYSTEM_CPU_M = 150
SYSTEM_MEMORY_MI = 600


def pod_memory_mi(pod: Pod) -> int:
    """Memory a running pod uses (half its request)."""
    return max(1, pod.memory_mi // 2)


def _window(cluster: Cluster) -> dict[str, str]:
    return {"timestamp": render.timestamp(cluster, cluster.step), "window": "30s"}


def pod_metrics(cluster: Cluster) -> list[dict[str, Any]]:
    """``PodMetrics`` of every running pod."""
    out = []
    for pod in cluster.pods.values():
        if pod.phase != "Running":
            continue
        out.append({"apiVersion": "metrics.k8s.io/v1beta1", "kind": "PodMetrics",
                    "metadata": {"name": pod.name, "namespace": render.NAMESPACE,
                                 "creationTimestamp": render.timestamp(cluster, cluster.step),
                                 "labels": render.pod_object(cluster, pod)["metadata"].get("labels", {})},
                    **_window(cluster),
                    "containers": [{"name": "main", "usage": {"cpu": f"{cluster.pod_cpu_m(pod)}m",
                                                              "memory": f"{pod_memory_mi(pod)}Mi"}}]})
    return out


def node_metrics(cluster: Cluster) -> list[dict[str, Any]]:
    """``NodeMetrics`` of every node: its running pods' usage plus the system's."""
    usage = {n.name: [SYSTEM_CPU_M, SYSTEM_MEMORY_MI] for n in cluster.nodes}
    for pod in cluster.pods.values():
        if pod.phase == "Running" and pod.node in usage:
            usage[pod.node][0] += cluster.pod_cpu_m(pod)
            usage[pod.node][1] += pod_memory_mi(pod)
    return [{"apiVersion": "metrics.k8s.io/v1beta1", "kind": "NodeMetrics",
             "metadata": {"name": name, "creationTimestamp": render.timestamp(cluster, cluster.step),
                          "labels": {"kubernetes.io/hostname": name}},
             **_window(cluster), "usage": {"cpu": f"{cpu}m", "memory": f"{memory}Mi"}}
            for name, (cpu, memory) in usage.items()]
