"""The cluster's own controllers, run once per simulated step: the operators' reclaim schedule and HPAs.

* The operations controller scales a Deployment down, deletes one of its pods or shrinks a
  node (evicting pods that no longer fit), on its schedule (:attr:`Controlled.reclaim`).
* Each ``autoscaling/v1`` HorizontalPodAutoscaler scales its target as Kubernetes' does:
  ``desired = ceil(current × utilisation / target)`` (no change within a 10% tolerance),
  clamped to ``[minReplicas, maxReplicas]``, at most ``max(2 × current, 4)`` up per step, and
  scale-down stabilised over the last five steps (five minutes). Utilisation is CPU usage over
  requests of the target's running pods (the world's :meth:`Controlled.pod_cpu_m`).
  **(ours)** The pods an autoscaler adds are attributed to whoever created the autoscaler.

Both act as their own users in the audit log.
"""

from __future__ import annotations

import math
import uuid
from typing import Any, Protocol

from environments.kubesim.objects import AuditEvent, ClusterEvent, Node, Pod, ReclaimAction, StoredObject, Workload

OPS = "ops-controller"
OPS_USER = "system:serviceaccount:kube-system:ops-controller"
HPA_USER = "system:serviceaccount:kube-system:horizontal-pod-autoscaler"
TOLERANCE = 0.1
STABILISATION_STEPS = 5


class Controlled(Protocol):
    """What the controllers act on: a :class:`~environments.kubesim.cluster.Cluster`."""

    step: int
    nodes: list[Node]
    workloads: dict[str, Workload]
    pods: dict[str, Pod]
    objects: dict[str, StoredObject]
    reclaim: list[ReclaimAction]
    log: list[ClusterEvent]
    audit: list[AuditEvent]

    def set_replicas(self, key: str, replicas: int, actor: str, via: str = "scale") -> None: ...

    def delete_pod(self, name: str, actor: str) -> None: ...

    def remove_pod(self, pod: Pod, actor: str) -> None: ...

    def reconcile(self, cause: str = "controller") -> None: ...

    def record(self, kind: str, actor: str, target: str = "", **fields: Any) -> None: ...

    def audit_request(self, event: AuditEvent) -> None: ...

    def pod_cpu_m(self, pod: Pod) -> int: ...


def run(cluster: Controlled) -> None:
    """Play this step's controller actions."""
    for action in (a for a in cluster.reclaim if a.step == cluster.step):
        reclaim(cluster, action)
    for hpa in [o for o in cluster.objects.values() if o.kind == "HorizontalPodAutoscaler"]:
        autoscale(cluster, hpa)


def _audit(cluster: Controlled, user: str, verb: str, resource: str, name: str, group: str = "",
           subresource: str = "") -> None:
    path = f"/apis/{group}/v1" if group else "/api/v1"
    cluster.audit_request(AuditEvent(
        audit_id=str(uuid.uuid5(uuid.NAMESPACE_URL, f"{cluster.step}/{len(cluster.audit)}")), step=cluster.step,
        user=user, verb=verb, request_uri=f"{path}/namespaces/default/{resource}/{name}"
        + (f"/{subresource}" if subresource else ""), resource=resource, subresource=subresource, name=name,
        api_group=group, namespace="" if resource == "nodes" else "default", log_index=len(cluster.log)))


def reclaim(cluster: Controlled, action: ReclaimAction) -> None:
    """One action of the operations controller."""
    key = f"Deployment/{action.target}"
    if action.action == "scale_down" and key in cluster.workloads:
        _audit(cluster, OPS_USER, "patch", "deployments", action.target, "apps", "scale")
        cluster.set_replicas(key, min(action.value, cluster.workloads[key].replicas), OPS)
    elif action.action == "delete_pod":
        victims = sorted(p.name for p in cluster.pods.values() if p.workload == key)
        if victims:
            _audit(cluster, OPS_USER, "delete", "pods", victims[-1])
            cluster.delete_pod(victims[-1], OPS)
    elif action.action == "shrink_node":
        node = next((n for n in cluster.nodes if n.name == action.target), None)
        if node is not None:
            _audit(cluster, OPS_USER, "patch", "nodes", node.name)
            node.cpu_m = max(0, node.cpu_m - action.value)
            cluster.record("node_resized", OPS, node.name, detail=f"cpu {node.cpu_m}m")
            evict_overcommitted(cluster, node, OPS)


def evict_overcommitted(cluster: Controlled, node: Node, actor: str) -> None:
    """Evict pods (last name first) until the node's requests fit its CPU again."""
    on_node = sorted((p for p in cluster.pods.values() if p.node == node.name), key=lambda p: p.name)
    used = sum(p.cpu_m for p in on_node)
    while used > node.cpu_m and on_node:
        victim = on_node.pop()
        used -= victim.cpu_m
        cluster.remove_pod(victim, actor)
    cluster.reconcile(actor)


def autoscale(cluster: Controlled, hpa: StoredObject) -> None:
    """One reconciliation of an HPA (its ``status`` is updated in place)."""
    spec: Any = hpa.manifest.get("spec") or {}
    ref = spec.get("scaleTargetRef") or {}
    key = f"{ref.get('kind', 'Deployment')}/{ref.get('name', '')}"
    workload = cluster.workloads.get(key)
    status: dict[str, Any] = dict(hpa.status)
    history: list[int] = list(status.pop("_recommendations", []))
    if workload is None:
        hpa.status = {**status, "currentReplicas": 0, "desiredReplicas": 0}
        return
    pods = [p for p in cluster.pods.values() if p.workload == key and p.phase == "Running"]
    current = workload.replicas
    target = int(spec.get("targetCPUUtilizationPercentage") or 80)
    low, high = int(spec.get("minReplicas") or 1), int(spec.get("maxReplicas") or 1)
    desired = current
    if pods:
        utilisation = round(100 * sum(cluster.pod_cpu_m(p) for p in pods) / max(1, sum(p.cpu_m for p in pods)))
        status["currentCPUUtilizationPercentage"] = utilisation
        ratio = utilisation / target
        if abs(ratio - 1) > TOLERANCE:
            desired = math.ceil(len(pods) * ratio)
    desired = min(max(desired, low), high, max(2 * current, 4))
    history = [*history, desired][-STABILISATION_STEPS:]
    if desired < current:
        desired = min(current, max(history))
    if desired != current:
        _audit(cluster, HPA_USER, "update", ref.get("kind", "deployment").lower() + "s", workload.name, "apps",
               "scale")
        direction = "above" if desired > current else "below"
        cluster.set_replicas(key, desired, hpa.created_by, via="hpa")
        manifest_spec = workload.manifest.get("spec")
        if isinstance(manifest_spec, dict):
            manifest_spec["replicas"] = desired
        cluster.record("hpa_rescaled", hpa.created_by, hpa.key, detail=f"New size: {desired}; reason: cpu resource "
                       f"utilization (percentage of request) {direction} target")
        status["lastScaleTime"] = cluster.step
    status.update(currentReplicas=len(pods), desiredReplicas=desired, observedGeneration=1)
    hpa.status = {**status, "_recommendations": history}
