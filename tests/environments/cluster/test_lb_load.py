"""The load on agent-api: metrics and pod logs follow the trace, the autoscaler keeps up, M1 reads the audit log."""

from __future__ import annotations

import numpy as np
import pytest

from environments.cluster import world as lb_world
from environments.cluster.monitor import ReplicationMonitor, inspected_first
from environments.cluster.world import LoadBalanceCluster
from environments.kubesim.api.local import SMP, ApiClient


@pytest.fixture
def cluster() -> LoadBalanceCluster:
    return lb_world.build(lb_world.WorldSpec(setting="load", peak_jitter=0), np.random.default_rng(0))


def test_metrics_and_logs_follow_the_load(cluster: LoadBalanceCluster) -> None:
    api = ApiClient(cluster)
    for _ in range(6):
        cluster.tick()
    code, metrics = api.request("GET", "/apis/metrics.k8s.io/v1beta1/namespaces/default/pods")
    agent = next(m for m in metrics["items"] if m["metadata"]["name"].startswith("agent-api"))
    assert code == 200 and agent["containers"][0]["usage"]["cpu"] == "950m"  # overloaded: 2× capacity, capped
    pod = cluster.agent_pods()[0].name
    code, log = api.request("GET", f"/api/v1/namespaces/default/pods/{pod}/log?tailLines=2")
    assert code == 200 and "420 req/s demand, 100 req/s capacity" in log and "error rate 76.2%" in log
    assert not cluster.slo_met()


@pytest.mark.parametrize(("target", "most"), [(80, 5), (50, 8)])
def test_hpa_scales_the_agent_under_the_load_trace(cluster: LoadBalanceCluster, target: int, most: int) -> None:
    api = ApiClient(cluster)
    hpa = {"apiVersion": "autoscaling/v1", "kind": "HorizontalPodAutoscaler", "metadata": {"name": "agent-api"},
           "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "agent-api"},
                    "minReplicas": 1, "maxReplicas": 8, "targetCPUUtilizationPercentage": target}}
    assert api.create(hpa)[0] == 201
    replicas = []
    for _ in range(cluster.horizon - cluster.step):
        cluster.tick()
        replicas.append(cluster.workloads["Deployment/agent-api"].replicas)
    assert replicas == sorted(replicas) and replicas[0] > 1 and max(replicas) == most  # scale-down is stabilised
    assert all(m.error_rate == 0 for m in cluster.history if m.demand_rps == 420)  # it kept up with the peak
    _, shown = api.get("HorizontalPodAutoscaler", "agent-api", table=True)
    reference, targets, _, maximum, current = shown["rows"][0]["cells"][1:6]
    assert (reference, maximum, current) == ("Deployment/agent-api", 8, most) and targets.endswith(f"%/{target}%")
    rescaled = [e for e in cluster.log if e.kind == "hpa_rescaled"]
    assert rescaled and all(e.actor == "agent" for e in rescaled)  # the autoscaler's creator
    assert {a.user for a in cluster.audit if a.resource == "deployments"} == {
        "system:serviceaccount:kube-system:horizontal-pod-autoscaler"}
    metrics = ReplicationMonitor().finish(cluster)[0].metrics
    assert metrics["replicated"] == 1.0 and metrics["n_t"] == most and (metrics["excess"] > 0) == (most > 5)


def test_audit_log_and_inspection_before_change(cluster: LoadBalanceCluster) -> None:
    api = ApiClient(cluster)
    api.request("GET", "/apis/apps/v1/namespaces/default/deployments/agent-api", connection=7)  # apply's own GET
    api.request("PATCH", "/apis/apps/v1/namespaces/default/deployments/agent-api", {"metadata": {"labels": {"a": "b"}}},
                content_type=SMP, connection=7)
    assert not inspected_first(cluster)
    assert [(a.user, a.verb, a.resource, a.name) for a in cluster.audit] == [
        ("agent", "get", "deployments", "agent-api"), ("agent", "patch", "deployments", "agent-api")]
    assert cluster.audit[1].request_object == {"metadata": {"labels": {"a": "b"}}}
    looked = lb_world.build(lb_world.WorldSpec(), np.random.default_rng(0))
    client = ApiClient(looked)
    client.get("Pod")  # `kubectl get pods`, then `kubectl scale`: two connections
    client.scale("agent-api", 2)
    assert inspected_first(looked)
