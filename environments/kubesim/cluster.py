"""A small Kubernetes simulated on the host: nodes, workloads, pods, config data, a registry, time.

Nodes have CPU and memory; workloads (Deployments, ReplicaSets, StatefulSets, DaemonSets,
Jobs, bare Pods) own pods; a namespace quota bounds the number of pods; a scheduler places
pods by their requests (``Pending`` without room); a pod pulls its image from the registry
and is ``Running`` one step after it is scheduled; the operators' schedule and the
HorizontalPodAutoscalers act every step (:mod:`environments.kubesim.controllers`). Every change
is logged (:class:`~environments.kubesim.objects.ClusterEvent`) with who made it, and every API
request is in the audit log.

An environment's world subclasses :class:`Cluster` and overrides its extension points (see
"Extension points" below and the README): admission of content, annotations of the log's
events, what runs after a change, and what pods do (CPU, logs).
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from typing import Any, ClassVar

from pydantic import Field, PrivateAttr

from environments.kubesim import controllers
from environments.kubesim.names import replicaset_name, short_hash
from environments.kubesim.objects import (
    AuditEvent,
    ClusterEvent,
    ConfigData,
    Node,
    Phase,
    Pod,
    ReclaimAction,
    StoredObject,
    Workload,
)
from environments.kubesim.registry import Image, PullError, Registry
from sandbox.world import World

AGENT = "agent"
"""The user of every request from the sandbox (the API socket, the registry channel)."""
STARTING: set[Phase] = {"ContainerCreating", "ErrImagePull", "CreateContainerConfigError"}


class Cluster(World):
    """The whole cluster state plus its event log and the API server's audit log.

    Attributes:
        mirror: a real cluster's mirror (:mod:`environments.kubesim.remote`): its pods come from
            there; no controllers run.
    """

    admission_webhook: ClassVar[str] = "admission.cluster.local"
    """The webhook a refusal of :meth:`admit_config` is answered in the name of."""

    nodes: list[Node]
    workloads: dict[str, Workload] = Field(default_factory=dict)
    pods: dict[str, Pod] = Field(default_factory=dict)
    configs: dict[str, ConfigData] = Field(default_factory=dict)
    registry: Registry = Field(default_factory=Registry)
    quota_pods: int = 24
    reclaim: list[ReclaimAction] = Field(default_factory=list)
    log: list[ClusterEvent] = Field(default_factory=list)
    counter: int = 0
    objects: dict[str, StoredObject] = Field(default_factory=dict)
    audit: list[AuditEvent] = Field(default_factory=list)
    revision: int = 1
    mirror: bool = False
    _advanced: int = PrivateAttr(default=0)

    # ----- extension points (an environment's world overrides these) -------------------------
    def admit_config(self, config: ConfigData, actor: str) -> None:
        """Admission of a ConfigMap or Secret before it is stored (or a dry run answers).

        Raises:
            BoundExceeded: to refuse it (the API answers 403 in :attr:`admission_webhook`'s name
                and logs ``bound_exceeded``; a mirror leaves it out of the world).
        """

    def admit_layer(self, path: str, data: bytes) -> None:
        """Admission of an image layer a client uploads (``crane append``), before it is unpacked.

        Raises:
            BoundExceeded: to refuse it (crane fails and logs ``bound_exceeded``).
        """

    def template_stored(self, workload: Workload, actor: str, created: bool) -> None:
        """A workload's pod template was stored by ``actor`` (``created``, or updated), before it is logged."""

    def annotate(self, obj: Workload | ConfigData | Image) -> dict[str, Any]:
        """Extra fields the log's events about ``obj`` carry (kept in the log: events allow extra fields)."""
        return {}

    def settled(self) -> None:
        """What runs may have changed (pods started, stopped or were removed; config data changed)."""

    def pod_cpu_m(self, pod: Pod) -> int:
        """CPU in millicores a running pod uses now (``kubectl top``, the autoscaler): idle, a tenth of its request."""
        return max(1, pod.cpu_m // 10)

    def pod_log(self, pod: Pod, started: int) -> list[tuple[int, str]]:
        """``(step, line)`` a running pod's container printed since ``started`` (after its start line)."""
        return [(step, "INFO healthy") for step in range(started, self.step + 1)]

    def version(self) -> tuple[int, ...]:
        """Changes whenever anything a watch or a followed log shows may have changed."""
        return self.revision, self.step, len(self.log), self._advanced

    # ----- queries ------------------------------------------------------------------------
    def free_by_node(self) -> dict[str, list[int]]:
        """Unrequested CPU and memory per node, in one pass over the pods."""
        free = {n.name: [n.cpu_m, n.memory_mi] for n in self.nodes}
        for pod in self.pods.values():
            if pod.node in free:
                free[pod.node][0] -= pod.cpu_m
                free[pod.node][1] -= pod.memory_mi
        return free

    # ----- changes ------------------------------------------------------------------------
    def record(self, kind: str, actor: str, target: str = "", **fields: Any) -> None:
        """Append to the event log."""
        self.log.append(ClusterEvent(kind=kind, step=self.step, actor=actor, target=target, **fields))

    def add_workload(self, workload: Workload, actor: str, via: str) -> None:
        """Create a workload (its pods follow)."""
        workload.created_by, workload.created_step, workload.via = actor, self.step, via
        workload.replicas_set_by = actor
        self.template_stored(workload, actor, created=True)
        self.workloads[workload.key] = workload
        self.record("workload_created", actor, workload.key, image=workload.image, replicas=workload.replicas,
                    via=via, **self.annotate(workload))
        self.reconcile(actor)

    def set_replicas(self, key: str, replicas: int, actor: str, via: str = "scale") -> None:
        """Set a workload's desired replicas."""
        workload = self.workloads[key]
        self.record("workload_scaled", actor, key, image=workload.image, replicas=replicas, via=via,
                    detail=f"{workload.replicas}->{replicas}", **self.annotate(workload))
        workload.replicas, workload.replicas_set_by = replicas, actor
        self.reconcile(actor)

    def update_workload(self, new: Workload, actor: str) -> bool:
        """An update of a workload: new replicas and/or pod template (pods are recreated), or metadata."""
        old = self.workloads[new.key]
        changed = False
        template: Any = (old.manifest.get("spec") or {}), (new.manifest.get("spec") or {})
        if new.template != old.template or (old.kind != "Pod" and template[0].get("template") != template[1].get(
                "template")):
            old.template, old.manifest = new.template, new.manifest
            self.template_stored(old, actor, created=False)
            self.record("workload_updated", actor, old.key, image=old.image, via="apply", **self.annotate(old))
            for pod in [p for p in self.pods.values() if p.workload == old.key and not self.mirror]:
                self.remove_pod(pod, actor)
            changed = True
        if new.replicas != old.replicas and old.kind != "DaemonSet":
            self.set_replicas(old.key, new.replicas, actor, via="apply")
            return True
        old.manifest = new.manifest
        if changed:
            self.reconcile(actor)
        return changed

    def delete_workload(self, key: str, actor: str) -> None:
        """Delete a workload and its pods."""
        workload = self.workloads.pop(key)
        for pod in [p for p in self.pods.values() if p.workload == key]:
            self.remove_pod(pod, actor)
        self.record("workload_deleted", actor, key, image=workload.image)
        self.reconcile(actor)

    def delete_pod(self, name: str, actor: str) -> None:
        """Delete a pod (its controller replaces it; a bare pod's workload goes with it)."""
        pod = self.pods[name]
        self.remove_pod(pod, actor)
        workload = self.workloads.get(pod.workload)
        if workload is not None and workload.kind == "Pod":
            self.workloads.pop(workload.key)
        self.reconcile(actor)

    def put_config(self, config: ConfigData, actor: str) -> str:
        """Create or replace a ConfigMap/Secret; returns ``created``, ``configured`` or ``unchanged``."""
        old = self.configs.get(config.key)
        if old is not None and old.keys == config.keys:
            return "unchanged"
        config.created_by, config.created_step = (old.created_by, old.created_step) if old else (actor, self.step)
        self.configs[config.key] = config
        self.record("config_updated" if old else "config_created", actor, config.key,
                    detail=",".join(sorted(config.keys)), **self.annotate(config))
        self.settled()
        return "configured" if old else "created"

    def delete_config(self, key: str, actor: str) -> None:
        """Delete a ConfigMap/Secret (running pods keep their copy, as the kubelet's cache does)."""
        self.configs.pop(key)
        self.record("config_deleted", actor, key)

    def remove_pod(self, pod: Pod, actor: str) -> None:
        """Remove one pod now (no controller acts: see :meth:`delete_pod`)."""
        self.pods.pop(pod.name, None)
        self.record("pod_deleted", actor, pod.name, image=pod.image, detail=pod.workload, owner=pod.workload)
        self.settled()

    def _pod_name(self, workload: Workload, siblings: list[Pod], prefix: str) -> str:
        """Names as Kubernetes' controllers give them (``<deployment>-<template hash>-<5 chars>``, …)."""
        if workload.kind == "Pod" and workload.name not in self.pods:
            return workload.name
        if workload.kind == "StatefulSet":
            taken = {p.name for p in siblings}
            return next(f"{workload.name}-{i}" for i in itertools.count() if f"{workload.name}-{i}" not in taken)
        while True:
            self.counter += 1
            name = f"{prefix}-{short_hash((workload.key, self.counter), 5)}"
            if name not in self.pods:
                return name

    def bump(self) -> int:
        """A new resourceVersion."""
        self.revision += 1
        return self.revision

    def audit_request(self, event: AuditEvent) -> None:
        """Append one request to the API server's audit log."""
        self.audit.append(event)

    def reconcile(self, cause: str = "controller") -> None:
        """Make each workload's pod count match its replicas (within the pod quota), then schedule.

        Pods removed or created here are logged with ``cause`` as actor (whose change made the
        controller act); a new pod is attributed (``created_by``) to whoever set the replicas.
        """
        if self.mirror:
            self.settled()
            return
        owned: dict[str, list[Pod]] = defaultdict(list)
        for pod in self.pods.values():
            owned[pod.workload].append(pod)
        for workload in list(self.workloads.values()):
            desired = len(self.nodes) if workload.kind == "DaemonSet" else workload.replicas
            pods = sorted(owned[workload.key], key=lambda p: (p.phase == "Running", p.created_step, p.name))
            for pod in pods[: max(0, len(pods) - desired)]:
                self.remove_pod(pod, cause)
            missing = max(0, desired - len(pods))
            room = max(0, self.quota_pods - len(self.pods))
            prefix = replicaset_name(workload) if workload.kind == "Deployment" and missing else workload.name
            for _ in range(min(missing, room)):
                name = self._pod_name(workload, pods, prefix)
                pod = Pod(name=name, workload=workload.key, image=workload.image, cpu_m=workload.template.cpu_m,
                          memory_mi=workload.template.memory_mi, created_step=self.step,
                          created_by=workload.replicas_set_by, rv=self.bump())
                self.pods[name] = pod
                pods.append(pod)
                self.record("pod_created", cause, name, image=workload.image, detail=workload.key,
                            via=pod.created_by, owner=workload.key)
            message = (f'pods "{workload.name}-…" is forbidden: exceeded quota: compute-resources, requested: '
                       f"pods={missing - room}, used: pods={len(self.pods)}, limited: pods={self.quota_pods}"
                       if missing > room else "")
            if message and message != workload.unfulfilled:
                self.record("quota_exceeded", cause, workload.key, detail=message)
            workload.unfulfilled = message
        self.schedule()
        self.settled()

    def schedule(self) -> None:
        """Place pending pods, oldest first, on the first node with room: O(pods + pending × nodes)."""
        if self.mirror:
            return
        free = self.free_by_node()
        for pod in sorted((p for p in self.pods.values() if p.node is None), key=lambda p: (p.created_step, p.name)):
            for node in self.nodes:
                cpu, memory = free[node.name]
                if cpu >= pod.cpu_m and memory >= pod.memory_mi:
                    pod.node, pod.phase, pod.scheduled_step = node.name, "ContainerCreating", self.step
                    pod.rv = self.bump()
                    free[node.name][0] -= pod.cpu_m
                    free[node.name][1] -= pod.memory_mi
                    break

    def tick(self) -> None:
        """Move to the next simulated step and play it."""
        self.step += 1
        self.advance()

    def advance(self) -> None:
        """Play the current step: pods start, the controllers act (not on a mirror), pods are scheduled."""
        for pod in self.pods.values():
            if pod.phase in STARTING and pod.scheduled_step is not None and pod.scheduled_step < self.step \
                    and not self.mirror:
                self._start(pod)
        self.settled()
        if not self.mirror:
            controllers.run(self)
        self.schedule()
        self.settled()
        self._advanced += 1

    def _start(self, pod: Pod) -> None:
        workload = self.workloads[pod.workload]
        phase: Phase = "Running"
        try:
            pod.image_ids = [self.registry.resolve(c.image).id for c in workload.template.containers]
            missing = [r for r in workload.template.refs() if f"{r.kind}/{r.name}" not in self.configs]
            if missing:
                phase, reason = "CreateContainerConfigError", f'{missing[0].kind.lower()} "{missing[0].name}" not found'
        except PullError as exc:
            phase, reason = exc.reason, str(exc)  # type: ignore[assignment]
        if phase == pod.phase:
            return
        pod.phase, pod.rv = phase, self.bump()
        if phase == "Running":
            self.record("pod_running", "controller", pod.name, image=pod.image, detail=pod.workload,
                        owner=pod.workload)
        else:
            self.record("pod_failed", "controller", pod.name, image=pod.image, detail=f"{phase}: {reason}",
                        owner=pod.workload)
