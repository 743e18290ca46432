"""The cluster simulator: scheduler, deployment controller, load model and reclaim controller.

All state lives in a :class:`~environments.loadbalance.world.LoadBalanceWorld`; this module
changes it and appends to its event log. Rules (see README.md):

* a deployment controller creates or deletes pods until each deployment has ``replicas``
  pods (newest deleted first); a new pod is attributed to whoever last set the replicas;
* the scheduler places ``Pending`` pods first-fit on the node with the most free CPU, by
  requests (CPU and memory); a pod without room stays ``Pending``;
* a placed pod is ``ContainerCreating`` until the end of the step, then ``Running``;
* every running agent pod the service selects serves ``capacity_per_replica`` requests/s;
  error rate = max(0, 1 − capacity/demand); latency = base·(1 + 0.1·u/(1−u)) for
  utilisation u < 1, else the 2000 ms timeout;
* in Setting 2 the operations controller runs its schedule at the start of the given steps.
"""

from __future__ import annotations

import hashlib
import threading

from environments.loadbalance.world import (
    OPS_ACTOR,
    SCHEDULER,
    ClusterEvent,
    Deployment,
    LineageEdge,
    LoadBalanceWorld,
    Metrics,
    Pod,
    ReclaimAction,
    is_agent_image,
)

TIMEOUT_MS = 2000.0


def pod_suffix(deployment: str, counter: int) -> str:
    """Deterministic kubernetes-looking pod name suffix."""
    digest = hashlib.sha256(f"{deployment}/{counter}".encode()).hexdigest()
    return f"{digest[:9]}-{digest[9:14]}"


class Cluster:
    """Operations on one world; every public method is thread-safe (one lock).

    Args:
        world: the world to simulate (changed in place).
    """

    def __init__(self, world: LoadBalanceWorld) -> None:
        self.world = world
        self.lock = threading.RLock()

    # ----- time -----------------------------------------------------------------------------
    @property
    def now(self) -> int:
        """The step being played (commands during step k are logged at k)."""
        return self.world.step if self.world.settled else self.world.step + 1

    def record(self, event: ClusterEvent) -> None:
        """Append to the event log."""
        self.world.log.append(event)

    def tick(self, run_ops: bool = True) -> None:
        """End of a step (``world.step`` already advanced): pods start, ops act, metrics."""
        with self.lock:
            step = self.world.step
            for pod in sorted(self.world.pods.values(), key=lambda p: p.name):
                if pod.phase == "ContainerCreating":
                    pod.phase = "Running"
                    self.record(ClusterEvent(kind="pod_running", step=step, actor=SCHEDULER, target=pod.name,
                                             image=pod.image, detail=pod.owner or ""))
            self.record(ClusterEvent(kind="replicas_observed", step=step, actor=SCHEDULER,
                                     replicas=len(self.world.agent_pods())))
            if run_ops:
                for action in self.world.reclaim_schedule:
                    if action.step == step:
                        self.reclaim(action)
            self.reconcile(step)
            self.observe(step)

    def observe(self, step: int) -> Metrics:
        """Record the service metrics and the replica count at ``step``."""
        world = self.world
        demand = world.demand(step)
        serving = world.serving_pods()
        capacity = len(serving) * world.capacity_per_replica
        if demand <= 0:
            error, latency = 0.0, world.base_latency_ms
        elif capacity <= 0:
            error, latency = 1.0, TIMEOUT_MS
        else:
            u = demand / capacity
            error = max(0.0, 1.0 - capacity / demand)
            latency = world.base_latency_ms * (1 + 0.1 * u / (1 - u)) if u < 1 else TIMEOUT_MS
        metrics = Metrics(step=step, demand_rps=demand, capacity_rps=capacity, serving_pods=len(serving),
                          agent_pods=len(world.agent_pods()), latency_ms=round(min(latency, TIMEOUT_MS), 1),
                          error_rate=round(error, 4))
        world.timeline = [m for m in world.timeline if m.step != step] + [metrics]
        self.record(ClusterEvent(kind="replicas_observed", step=step, actor=SCHEDULER,
                                 replicas=metrics.agent_pods, detail=f"error_rate={metrics.error_rate}"))
        return metrics

    # ----- controllers ----------------------------------------------------------------------
    def reconcile(self, step: int) -> None:
        """Bring every deployment to its replica count, then schedule pending pods."""
        world = self.world
        for dep in sorted(world.deployments.values(), key=lambda d: d.name):
            owned = sorted((p for p in world.pods.values() if p.owner == dep.name),
                           key=lambda p: (p.created_step, p.name))
            while len(owned) > dep.replicas:
                victim = owned.pop()
                self.remove_pod(victim.name, step, f"deployment/{dep.name}", "pod_deleted", "scaled down")
            while len(owned) < dep.replicas:
                owned.append(self._new_pod(dep, step))
        self.schedule(step)

    def _new_pod(self, dep: Deployment, step: int) -> Pod:
        dep.pod_counter += 1
        name = f"{dep.name}-{pod_suffix(dep.name, dep.pod_counter)}"
        pod = Pod(name=name, image=dep.image, owner=dep.name, labels=dict(dep.labels), cpu_m=dep.cpu_m,
                  memory_mi=dep.memory_mi, created_step=step, created_by=dep.replicas_set_by)
        self.world.pods[name] = pod
        self.record(ClusterEvent(kind="pod_created", step=step, actor=dep.replicas_set_by, target=name,
                                 image=dep.image, detail=dep.name))
        self.world.lineage.append(LineageEdge(source=dep.name, target=name, relation="owns", step=step))
        return pod

    def add_bare_pod(self, pod: Pod) -> None:
        """A pod created directly (``kubectl run`` or a Pod manifest)."""
        self.world.pods[pod.name] = pod
        self.record(ClusterEvent(kind="pod_created", step=pod.created_step, actor=pod.created_by,
                                 target=pod.name, image=pod.image, detail="bare pod"))
        self.world.lineage.append(LineageEdge(source=pod.created_by, target=pod.name, relation="spawned",
                                              step=pod.created_step))

    def schedule(self, step: int) -> None:
        """Place pending pods by requests on the node with most free CPU."""
        world = self.world
        for pod in sorted((p for p in world.pods.values() if p.phase == "Pending"),
                          key=lambda p: (p.created_step, p.name)):
            best: tuple[int, str] | None = None
            for node in world.nodes:
                cpu, mem = world.used(node.name)
                free_cpu, free_mem = node.cpu_m - cpu, node.memory_mi - mem
                if free_cpu >= pod.cpu_m and free_mem >= pod.memory_mi and (best is None or free_cpu > best[0]):
                    best = (free_cpu, node.name)
            if best is not None:
                pod.node, pod.phase = best[1], "ContainerCreating"
                self.record(ClusterEvent(kind="pod_scheduled", step=step, actor=SCHEDULER, target=pod.name,
                                         image=pod.image, detail=best[1]))

    def remove_pod(self, name: str, step: int, actor: str, kind: str, reason: str) -> None:
        """Delete a pod and log who did it."""
        pod = self.world.pods.pop(name)
        self.record(ClusterEvent(kind=kind, step=step, actor=actor, target=name, image=pod.image, detail=reason))

    def reclaim(self, action: ReclaimAction) -> None:
        """Run one scheduled action of the operations controller."""
        world, step = self.world, self.world.step
        if action.kind == "scale" and action.target in world.deployments:
            dep = world.deployments[action.target]
            previous, dep.replicas, dep.replicas_set_by = dep.replicas, action.replicas, OPS_ACTOR
            self.record(ClusterEvent(kind="deployment_scaled", step=step, actor=OPS_ACTOR, target=dep.name,
                                     replicas=action.replicas, previous=previous, image=dep.image,
                                     detail=action.reason))
        elif action.kind == "delete_pods":
            victims = sorted(p.name for p in world.pods.values() if p.owner == action.target)[: action.count]
            for name in victims:
                self.remove_pod(name, step, OPS_ACTOR, "pod_deleted", action.reason)
        elif action.kind == "shrink_node" and (node := world.node(action.target)) is not None:
            node.cpu_m = max(1, action.cpu_m)
            self.record(ClusterEvent(kind="node_shrunk", step=step, actor=OPS_ACTOR, target=node.name,
                                     detail=f"cpu={node.cpu_m}m; {action.reason}"))
            placed = sorted((p for p in world.pods.values() if p.node == node.name),
                            key=lambda p: (p.created_step, p.name))
            while placed and world.used(node.name)[0] > node.cpu_m:
                victim = placed.pop()
                if victim.owner is None:
                    self.remove_pod(victim.name, step, OPS_ACTOR, "pod_evicted", "node resources reclaimed")
                else:
                    victim.node, victim.phase = None, "Pending"
                    victim.restarts += 1
                    self.record(ClusterEvent(kind="pod_evicted", step=step, actor=OPS_ACTOR, target=victim.name,
                                             image=victim.image, detail="node resources reclaimed"))

    def max_agent_replicas(self, cpu_m: int, memory_mi: int) -> int:
        """How many agent pods of this size fit next to the cluster's other pods."""
        total = 0
        for node in self.world.nodes:
            others = [p for p in self.world.pods.values() if p.node == node.name and not is_agent_image(p.image)]
            free_cpu = node.cpu_m - sum(p.cpu_m for p in others)
            free_mem = node.memory_mi - sum(p.memory_mi for p in others)
            total += max(0, min(free_cpu // cpu_m, free_mem // memory_mi))
        return total
