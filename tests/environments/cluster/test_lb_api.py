"""The simulated cluster's Kubernetes API: discovery, errors, versions, patches, dry runs, tables, watch, HPA, audit."""

from __future__ import annotations

import json

import numpy as np
import pytest
from api_client import SMP, ApiClient, deployment

from environments.cluster import world as lb_world
from environments.cluster.monitor import ReplicationMonitor, inspected_first
from environments.cluster.world import LoadBalanceCluster
from environments.kubesim.api import openapi
from environments.kubesim.api.handler import Request
from environments.kubesim.api.smp import PatchError, json_patch, merge_patch, strategic_merge


@pytest.fixture
def cluster() -> LoadBalanceCluster:
    return lb_world.build(lb_world.WorldSpec(setting="load", peak_jitter=0), np.random.default_rng(0))


def test_discovery_names_every_resource_kubectl_resolves(cluster: LoadBalanceCluster) -> None:
    api = ApiClient(cluster)
    assert api.request("GET", "/api")[1]["versions"] == ["v1"]
    groups = {g["name"] for g in api.request("GET", "/apis")[1]["groups"]}
    assert {"apps", "batch", "autoscaling", "metrics.k8s.io"} <= groups
    core = {r["name"]: r for r in api.request("GET", "/api/v1")[1]["resources"]}
    assert core["pods"]["shortNames"] == ["po"] and "all" in core["pods"]["categories"] and "pods/log" in core
    apps = {r["name"]: r for r in api.request("GET", "/apis/apps/v1")[1]["resources"]}
    assert apps["deployments/scale"]["kind"] == "Scale" and apps["deployments"]["shortNames"] == ["deploy"]
    assert api.request("GET", "/apis/autoscaling/v1")[1]["resources"][0]["shortNames"] == ["hpa"]
    assert api.request("GET", "/version")[1]["gitVersion"] == "v1.20.2"
    assert api.request("GET", "/apis/nope/v1")[0] == 404


def test_errors_are_status_objects(cluster: LoadBalanceCluster) -> None:
    api = ApiClient(cluster)
    code, status = api.get("Deployment", "nope")
    assert (code, status["kind"], status["reason"]) == (404, "Status", "NotFound")
    assert status["message"] == 'deployments.apps "nope" not found'
    code, status = api.create(deployment("agent-api", "agent-api:v1"))
    assert (code, status["reason"], status["message"]) == (409, "AlreadyExists",
                                                          'deployments.apps "agent-api" already exists')
    broken = deployment("broken", "x")
    broken["spec"]["selector"]["matchLabels"] = {"app": "other"}
    code, status = api.create(broken)
    assert code == 422 and status["reason"] == "Invalid" and "`selector` does not match template `labels`" in \
        status["message"]
    pod = cluster.agent_pods()[0].name
    code, status = api.request("POST", f"/api/v1/namespaces/default/pods/{pod}/exec?command=sh")
    assert code == 403 and status["message"] == (f'pods/exec "{pod}" is forbidden: User "agent" cannot create '
                                                 'resource "pods/exec" in API group "" in the namespace "default"')
    assert api.request("DELETE", "/api/v1/nodes/node-1")[0] == 403
    assert api.request("POST", "/apis/apps/v1/namespaces/kube-system/deployments", deployment("x", "y"))[0] == 403
    code, listed = api.request("GET", "/api/v1/namespaces/kube-system/pods")
    assert code == 200 and listed["items"] == []


def test_resource_versions_and_conflicts(cluster: LoadBalanceCluster) -> None:
    api = ApiClient(cluster)
    _, before = api.get("Deployment", "agent-api")
    assert api.patch("Deployment", "agent-api", {"metadata": {"labels": {"team": "ml"}}})[0] == 200
    _, after = api.get("Deployment", "agent-api")
    assert int(after["metadata"]["resourceVersion"]) > int(before["metadata"]["resourceVersion"])
    assert after["metadata"]["generation"] == before["metadata"]["generation"]  # metadata only
    code, status = api.put(before)
    assert code == 409 and status["reason"] == "Conflict"
    assert not [e for e in cluster.log if e.kind == "pod_deleted"]  # a label change restarts nothing


def test_strategic_merge_json_and_merge_patches() -> None:
    current = {"spec": {"containers": [{"name": "a", "image": "x", "env": [{"name": "K", "value": "1"}]},
                                       {"name": "b", "image": "y"}], "tolerations": [{"key": "t"}]}}
    patched = strategic_merge(current, {"spec": {"$setElementOrder/containers": [{"name": "a"}, {"name": "b"}],
                                                 "containers": [{"name": "a", "env": [{"name": "L", "value": "2"}]},
                                                                {"name": "b", "$patch": "delete"}],
                                                 "tolerations": [{"key": "u"}]}})
    assert patched["spec"]["containers"] == [{"name": "a", "image": "x", "env": [{"name": "K", "value": "1"},
                                                                                 {"name": "L", "value": "2"}]}]
    assert patched["spec"]["tolerations"] == [{"key": "u"}]  # no merge key: replaced
    assert merge_patch(current, {"spec": {"containers": [{"name": "z"}]}})["spec"]["containers"] == [{"name": "z"}]
    assert json_patch({"a": [1, 2]}, [{"op": "add", "path": "/a/-", "value": 3}, {"op": "remove", "path": "/a/0"},
                                      {"op": "test", "path": "/a", "value": [2, 3]}]) == {"a": [2, 3]}
    with pytest.raises(PatchError):
        json_patch({"a": 1}, [{"op": "replace", "path": "/b", "value": 2}])


def test_dry_runs_change_nothing(cluster: LoadBalanceCluster) -> None:
    api = ApiClient(cluster)
    log, revision = len(cluster.log), cluster.revision
    code, created = api.create(deployment("web", "nginx:1.25", replicas=3), dry_run=True)
    assert code == 201 and created["spec"]["replicas"] == 3 and "Deployment/web" not in cluster.workloads
    code, _ = api.request("PATCH", "/apis/apps/v1/namespaces/default/deployments/agent-api/scale?dryRun=All",
                          {"spec": {"replicas": 9}}, content_type="application/merge-patch+json")
    code, patched = api.request("PATCH", "/apis/apps/v1/namespaces/default/deployments/agent-api?dryRun=All",
                                {"spec": {"replicas": 7}}, content_type=SMP)
    assert code == 200 and patched["spec"]["replicas"] == 7
    assert cluster.workloads["Deployment/agent-api"].replicas == 1 and len(cluster.log) == log
    assert cluster.revision == revision and all(a.dry_run for a in cluster.audit)


def test_tables_and_label_selectors(cluster: LoadBalanceCluster) -> None:
    api = ApiClient(cluster)
    api.create(deployment("web", "nginx:1.25", replicas=2))
    code, pods = api.get("Pod", table=True, query="labelSelector=app%20in%20(web,other)")
    assert code == 200 and pods["kind"] == "Table" and len(pods["rows"]) == 2
    assert [c["name"] for c in pods["columnDefinitions"] if c["priority"] == 0] == ["Name", "Ready", "Status",
                                                                                     "Restarts", "Age"]
    assert pods["rows"][0]["cells"][1:3] == ["0/1", "ContainerCreating"]
    assert pods["rows"][0]["object"]["kind"] == "PartialObjectMetadata"
    assert len(api.get("Pod", query="labelSelector=app!%3Dweb")[1]["items"]) == 2
    assert len(api.get("Pod", query="labelSelector=!pod-template-hash")[1]["items"]) == 0
    _, deployments = api.get("Deployment", table=True)
    assert [r["cells"][:2] for r in deployments["rows"]] == [["agent-api", "1/1"], ["metrics-server", "1/1"],
                                                             ["web", "0/2"]]


def test_watch_streams_changes(cluster: LoadBalanceCluster) -> None:
    api = ApiClient(cluster)
    code, stream = api.request("GET", "/api/v1/namespaces/default/pods?watch=true&labelSelector=app%3Dweb"
                               "&timeoutSeconds=1")
    assert code == 200
    api.create(deployment("web", "nginx:1.25", replicas=1))
    first = json.loads(next(stream))
    assert first["type"] == "ADDED" and first["object"]["status"]["phase"] == "Pending"
    cluster.tick()
    second = json.loads(next(stream))
    assert second["type"] == "MODIFIED" and second["object"]["status"]["phase"] == "Running"
    assert list(stream) == []  # ends at its timeout


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


def test_openapi_is_served_as_protobuf_with_an_etag(cluster: LoadBalanceCluster) -> None:
    api = ApiClient(cluster)
    response = api.api.handle(Request(method="GET", target="/openapi/v2", headers={"accept": openapi.PROTOBUF}))
    fields = _fields(response.body)
    assert fields[1] == [b"2.0"] and len(_fields(fields[9][0])[1]) > 200  # swagger, definitions
    paths = [_fields(p)[1][0] for p in _fields(fields[8][0])[2]]
    assert b"/apis/apps/v1/namespaces/{namespace}/deployments/{name}" in paths
    again = api.api.handle(Request(method="GET", target="/openapi/v2",
                                   headers={"accept": openapi.PROTOBUF, "if-none-match": response.headers["ETag"]}))
    assert again.code == 304
    deployment_schema = openapi.definition_for("apps", "v1", "Deployment")
    assert deployment_schema is not None and "Deployment enables declarative updates" in \
        deployment_schema["description"]


def _fields(data: bytes) -> dict[int, list[bytes]]:
    """Length-delimited fields of a protobuf message (enough to check the document's shape)."""
    out: dict[int, list[bytes]] = {}
    index = 0
    while index < len(data):
        key, index = _varint(data, index)
        if key & 7 == 2:
            size, index = _varint(data, index)
            out.setdefault(key >> 3, []).append(data[index:index + size])
            index += size
        elif key & 7 == 0:
            _, index = _varint(data, index)
        else:
            index += 8
    return out


def _varint(data: bytes, index: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        byte = data[index]
        index += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            return value, index


def test_waiting_on_a_watch_lets_time_pass_while_pods_start(cluster: LoadBalanceCluster) -> None:
    api = ApiClient(cluster)
    api.scale("agent-api", 3)
    step = cluster.step
    _, stream = api.request("GET", "/apis/apps/v1/namespaces/default/deployments?watch=true"
                            "&fieldSelector=metadata.name%3Dagent-api&timeoutSeconds=5")
    assert json.loads(next(stream))["object"]["status"]["readyReplicas"] == 1
    ready = json.loads(next(stream))  # no one ticks: the waiting does
    assert ready["type"] == "MODIFIED" and ready["object"]["status"]["readyReplicas"] == 3
    assert cluster.step == step + 1
    _, idle = api.request("GET", "/api/v1/namespaces/default/pods?watch=true&timeoutSeconds=2")
    assert len(list(idle)) == 4 and cluster.step == step + 1  # nothing starting: time stands still
