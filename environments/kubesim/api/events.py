"""``v1`` Events, derived from the world's log as the controllers, the scheduler and the kubelet report them."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from environments.kubesim import names
from environments.kubesim.api import render

if TYPE_CHECKING:
    from environments.kubesim.cluster import Cluster
    from environments.kubesim.objects import ClusterEvent


def _event(cluster: Cluster, index: int, step: int, kind: str, name: str, uid: str, reason: str, message: str,
           component: str, warning: bool = False) -> dict[str, Any]:
    when = render.timestamp(cluster, step)
    return {"apiVersion": "v1", "kind": "Event",
            "metadata": {"name": f"{name}.{0x1700000000000000 + index * 16 + len(reason):x}",
                         "namespace": render.NAMESPACE,
                         "uid": names.uid("Event", index, reason), "resourceVersion": str(index + 1),
                         "creationTimestamp": when},
            "involvedObject": {"kind": kind, "name": name, "namespace": render.NAMESPACE, "uid": uid,
                               "apiVersion": render.api_version(kind)},
            "reason": reason, "message": message, "source": {"component": component}, "firstTimestamp": when,
            "lastTimestamp": when, "count": 1, "type": "Warning" if warning else "Normal",
            "reportingComponent": "", "reportingInstance": ""}


def _owner(cluster: Cluster, key: str) -> tuple[str, str, str, str]:
    """(kind, name, uid, controller component) of the object that owns a workload's pods."""
    kind, _, name = key.partition("/")
    workload = cluster.workloads.get(key)
    if workload is not None and kind == "Deployment":
        rs = render.virtual_replicaset(cluster, workload)
        return "ReplicaSet", rs["metadata"]["name"], rs["metadata"]["uid"], "replicaset-controller"
    uid = str((workload.manifest.get("metadata") or {}).get("uid", "")) if workload else ""
    return kind, name, uid, f"{kind.lower()}-controller"


def events(cluster: Cluster) -> list[dict[str, Any]]:
    """Every event the log implies, oldest first, plus FailedScheduling for pods pending now."""
    created: dict[str, int] = {}
    out: list[dict[str, Any]] = []
    for index, e in enumerate(cluster.log):
        out.extend(_from(cluster, index, e, created))
    for pod in cluster.pods.values():
        if pod.node is None:
            out.append(_event(cluster, 10**6 + len(out), cluster.step, "Pod", pod.name,
                              names.uid("Pod", pod.name, pod.created_step), "FailedScheduling",
                              f"0/{len(cluster.nodes)} nodes are available: {len(cluster.nodes)} Insufficient cpu.",
                              "default-scheduler", warning=True))
    return out


def _from(cluster: Cluster, index: int, e: ClusterEvent, created: dict[str, int]) -> list[dict[str, Any]]:
    live = cluster.pods.get(e.target)
    pod_uid = names.uid("Pod", e.target, live.created_step if live else created.get(e.target, e.step))
    if e.kind == "pod_created":
        created[e.target] = e.step
        kind, name, uid, component = _owner(cluster, e.owner)
        return [_event(cluster, index, e.step, kind, name, uid, "SuccessfulCreate", f"Created pod: {e.target}",
                       component)]
    if e.kind == "pod_running":
        node = live.node if live is not None else "node-1"
        return [_event(cluster, index, e.step, "Pod", e.target, pod_uid, reason, message, component)
                for reason, message, component in (
                    ("Scheduled", f"Successfully assigned {render.NAMESPACE}/{e.target} to {node}",
                     "default-scheduler"),
                    ("Pulled", f'Container image "{e.image}" already present on machine', "kubelet"),
                    ("Created", "Created container", "kubelet"), ("Started", "Started container", "kubelet"))]
    if e.kind == "pod_failed":
        reason, _, message = e.detail.partition(": ")
        return [_event(cluster, index, e.step, "Pod", e.target, pod_uid, "Failed", f"Error: {reason}: {message}",
                       "kubelet", warning=True)]
    if e.kind == "pod_deleted":
        kind, name, uid, component = _owner(cluster, e.owner)
        return [_event(cluster, index, e.step, "Pod", e.target, pod_uid, "Killing", "Stopping container", "kubelet"),
                *([_event(cluster, index, e.step, kind, name, uid, "SuccessfulDelete", f"Deleted pod: {e.target}",
                          component)] if e.actor != "agent" else [])]
    if e.kind in ("workload_created", "workload_scaled") and e.target.startswith("Deployment/"):
        workload = cluster.workloads.get(e.target)
        if workload is None:
            return []
        before, _, after = e.detail.partition("->")
        up = not before.isdigit() or int(after or 0) >= int(before)
        replicas = after if e.detail else e.replicas
        uid = str((workload.manifest.get("metadata") or {}).get("uid", ""))
        return [_event(cluster, index, e.step, "Deployment", workload.name, uid, "ScalingReplicaSet",
                       f"Scaled {'up' if up else 'down'} replica set {names.replicaset_name(workload)} to {replicas}",
                       "deployment-controller")]
    if e.kind == "quota_exceeded":
        kind, name, uid, component = _owner(cluster, e.target)
        return [_event(cluster, index, e.step, kind, name, uid, "FailedCreate", f"Error creating: {e.detail}",
                       component, warning=True)]
    if e.kind == "hpa_rescaled":
        stored = cluster.objects.get(e.target)
        uid = str((stored.manifest.get("metadata") or {}).get("uid", "")) if stored else ""
        return [_event(cluster, index, e.step, "HorizontalPodAutoscaler", e.target.split("/", 1)[-1], uid,
                       "SuccessfulRescale", e.detail, "horizontal-pod-autoscaler")]
    return []
