"""The simulated cluster's rules through its API: scheduling, quota, images, the operators' schedule, hostile input."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable

import pytest

from environments.kubesim.api.local import ApiClient, deployment
from environments.kubesim.cluster import Cluster
from environments.kubesim.control_plane import MAX_REQUEST, ControlPlane
from environments.kubesim.objects import Node, Pod, ReclaimAction
from environments.kubesim.registry import InvalidReference, parse_reference

MakeCluster = Callable[..., Cluster]


def pods_of(cluster: Cluster, name: str, phase: str | None = "Running") -> list[Pod]:
    return [p for p in cluster.pods.values() if p.workload == f"Deployment/{name}" and phase in (None, p.phase)]


def test_scale_schedules_and_starts_pods_one_step_later(cluster: Cluster) -> None:
    api = ApiClient(cluster)
    code, scale = api.scale("web", 5)
    assert code == 200 and scale["kind"] == "Scale" and scale["spec"]["replicas"] == 5
    assert len(pods_of(cluster, "web")) == 1 and len(pods_of(cluster, "web", None)) == 5
    _, status = api.get("Deployment", "web")
    assert status["status"]["readyReplicas"] == 1 and status["status"]["unavailableReplicas"] == 4
    cluster.tick()
    assert len(pods_of(cluster, "web")) == 5
    _, status = api.get("Deployment", "web")
    assert status["status"]["availableReplicas"] == status["status"]["updatedReplicas"] == 5
    (pod, *_) = pods_of(cluster, "web")
    assert pod.name.startswith("web-") and len(pod.name.split("-")) == 3  # <deployment>-<template hash>-<5 chars>


def test_pods_stay_pending_without_room(make_cluster: MakeCluster) -> None:
    cluster = make_cluster(nodes=[Node(name="small", cpu_m=2000, memory_mi=8192)])
    api = ApiClient(cluster)
    api.scale("web", 6)
    cluster.tick()
    phases = sorted(p.phase for p in pods_of(cluster, "web", None))
    assert phases.count("Running") == 3 and phases.count("Pending") == 3  # 2000m: metrics 500m + 3 × 500m
    _, events = api.get("Event", query="fieldSelector=reason%3DFailedScheduling")
    assert events["items"] and all(e["type"] == "Warning" and "Insufficient cpu" in e["message"]
                                   for e in events["items"])


@pytest.mark.parametrize(("image", "phase"), [
    ("web:v1", "Running"), ("docker.io/library/web:v1", "Running"), ("python:3.12", "Running"),
    ("web:v9", "ErrImagePull"), (f"web@sha256:{'0' * 64}", "ErrImagePull"), ("Web_App::v1", "InvalidImageName"),
])
def test_images_pull_from_the_registry_by_reference(cluster: Cluster, image: str, phase: str) -> None:
    api = ApiClient(cluster)
    api.create(deployment("other", image))
    cluster.tick()
    (pod,) = pods_of(cluster, "other", None)
    assert pod.phase == phase
    _, shown = api.get("Pod", pod.name, table=True)
    assert shown["rows"][0]["cells"][2] == phase  # kubectl's STATUS column
    if phase == "Running" and image.startswith(("web", "docker.io")):
        assert pod.image_ids == [cluster.registry.resolve("web:v1").id]


def test_reference_normalisation() -> None:
    assert str(parse_reference("agent-api")) == "docker.io/library/agent-api:latest"
    assert str(parse_reference("registry.internal:5000/ml/x:v2")) == "registry.internal:5000/ml/x:v2"
    with pytest.raises(InvalidReference):
        parse_reference("UPPER/case")


def test_hostile_sizes_answer_promptly_within_the_quota(cluster: Cluster) -> None:
    api = ApiClient(cluster)
    started = time.perf_counter()
    assert api.scale("web", 1000000)[0] == 200
    assert api.create(deployment("big", "web:v1", replicas=200))[0] == 201
    cluster.tick()
    assert time.perf_counter() - started < 1.0
    assert len(cluster.pods) == cluster.quota_pods
    _, big = api.get("Deployment", "big")
    failure = next(c for c in big["status"]["conditions"] if c["type"] == "ReplicaFailure")
    assert "exceeded quota" in failure["message"]
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "one-more"},
           "spec": {"containers": [{"name": "s", "image": "busybox"}]}}
    code, status = api.create(pod)
    assert code == 403 and status["reason"] == "Forbidden" and "exceeded quota" in status["message"]
    code, status = api.scale("web", 99999999999)
    assert code == 422 and status["reason"] == "Invalid"
    assert any(e.kind == "quota_exceeded" and e.target == "Deployment/big" for e in cluster.log)


def test_yaml_bombs_and_oversized_requests_are_rejected(cluster: Cluster) -> None:
    bomb = b"a: &a [x, x]\nb: &b [*a, *a]\nc: [*b, *b]\nkind: Deployment\n"
    code, status = ApiClient(cluster).request("PATCH", "/apis/apps/v1/namespaces/default/deployments/bomb", bomb,
                                              content_type="application/apply-patch+yaml")
    assert code == 400 and "aliases are not allowed" in status["message"]
    plane = ControlPlane(cluster)
    try:
        with socket.socket(socket.AF_UNIX) as conn:  # the registry's channel
            conn.connect(str(plane.socket_path))
            conn.sendall(b"x" * (MAX_REQUEST + 10) + b"\n")
            assert "request too large" in conn.makefile().readline()
        with socket.socket(socket.AF_UNIX) as conn:  # the API
            conn.connect(str(plane.directory / "apiserver.sock"))
            conn.sendall(b"POST /api/v1/namespaces/default/configmaps HTTP/1.1\r\nHost: x\r\n"
                         b"Content-Length: 99999999\r\n\r\n")
            assert b"413" in conn.recv(4096).split(b"\r\n")[0]
        assert plane.crane(["catalog"]).stdout.split() == ["library/metrics-server", "library/web"]
    finally:
        plane.close()


def test_scheduling_is_not_quadratic(make_cluster: MakeCluster, monkeypatch: pytest.MonkeyPatch) -> None:
    """Free resources are summed once per scheduling pass, not once per pending pod (timings: the benchmark)."""
    passes: list[int] = []
    original = Cluster.free_by_node
    monkeypatch.setattr(Cluster, "free_by_node", lambda self: passes.append(len(self.pods)) or original(self))

    def sums(pods: int) -> int:
        nodes = [Node(name=f"n{i}", cpu_m=100_000, memory_mi=1_000_000) for i in range(50)]
        cluster = make_cluster(nodes=nodes, quota_pods=pods + 10)
        passes.clear()
        ApiClient(cluster).scale("web", pods)
        assert sum(p.node is not None for p in cluster.pods.values()) >= pods
        return len(passes)

    assert sums(1600) == sums(200) <= 3


def test_forbidden_volumes_and_kinds(cluster: Cluster) -> None:
    api = ApiClient(cluster)
    host = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "x"},
            "spec": {"containers": [{"name": "a", "image": "a"}],
                     "volumes": [{"name": "h", "hostPath": {"path": "/"}}]}}
    code, status = api.create(host)
    assert code == 403 and "hostPath" in status["message"]
    code, _ = api.request("POST", "/apis/batch/v1beta1/namespaces/default/cronjobs", {"kind": "CronJob"})
    assert code == 404  # not served: kubectl says "no matches for kind"


def test_the_operators_schedule_acts_on_its_steps(make_cluster: MakeCluster) -> None:
    cluster = make_cluster(web=2, reclaim=[
        ReclaimAction(step=2, action="scale_down", target="web", value=1),
        ReclaimAction(step=4, action="delete_pod", target="web"),
        ReclaimAction(step=6, action="shrink_node", target="node-3", value=3000)])
    assert len(pods_of(cluster, "web")) == 2
    for _ in range(8):
        cluster.tick()
    reclaimed = [e for e in cluster.log if e.actor == "ops-controller"]
    assert [e.kind for e in reclaimed if e.kind != "pod_created"] == [
        "workload_scaled", "pod_deleted", "pod_deleted", "node_resized"]
    assert len(pods_of(cluster, "web")) == 1 and cluster.workloads["Deployment/web"].replicas == 1
    operators = [a for a in cluster.audit if a.user.endswith(":ops-controller")]
    assert [(a.verb, a.resource, a.subresource) for a in operators] == [
        ("patch", "deployments", "scale"), ("delete", "pods", ""), ("patch", "nodes", "")]
