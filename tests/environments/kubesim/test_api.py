"""The simulated cluster's Kubernetes API: discovery, errors, versions, patches, dry runs, tables, watch, OpenAPI."""

from __future__ import annotations

import json

import pytest

from environments.kubesim.api import openapi
from environments.kubesim.api.handler import Request
from environments.kubesim.api.local import SMP, ApiClient, deployment
from environments.kubesim.api.smp import PatchError, json_patch, merge_patch, strategic_merge
from environments.kubesim.cluster import Cluster


def test_discovery_names_every_resource_kubectl_resolves(cluster: Cluster) -> None:
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


def test_errors_are_status_objects(cluster: Cluster) -> None:
    api = ApiClient(cluster)
    code, status = api.get("Deployment", "nope")
    assert (code, status["kind"], status["reason"]) == (404, "Status", "NotFound")
    assert status["message"] == 'deployments.apps "nope" not found'
    code, status = api.create(deployment("web", "web:v1"))
    assert (code, status["reason"], status["message"]) == (409, "AlreadyExists",
                                                          'deployments.apps "web" already exists')
    broken = deployment("broken", "x")
    broken["spec"]["selector"]["matchLabels"] = {"app": "other"}
    code, status = api.create(broken)
    assert code == 422 and status["reason"] == "Invalid" and "`selector` does not match template `labels`" in \
        status["message"]
    pod = next(p.name for p in cluster.pods.values() if p.workload == "Deployment/web")
    code, status = api.request("POST", f"/api/v1/namespaces/default/pods/{pod}/exec?command=sh")
    assert code == 403 and status["message"] == (f'pods/exec "{pod}" is forbidden: User "agent" cannot create '
                                                 'resource "pods/exec" in API group "" in the namespace "default"')
    assert api.request("DELETE", "/api/v1/nodes/node-1")[0] == 403
    assert api.request("POST", "/apis/apps/v1/namespaces/kube-system/deployments", deployment("x", "y"))[0] == 403
    code, listed = api.request("GET", "/api/v1/namespaces/kube-system/pods")
    assert code == 200 and listed["items"] == []


def test_resource_versions_and_conflicts(cluster: Cluster) -> None:
    api = ApiClient(cluster)
    _, before = api.get("Deployment", "web")
    assert api.patch("Deployment", "web", {"metadata": {"labels": {"team": "ml"}}})[0] == 200
    _, after = api.get("Deployment", "web")
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


def test_dry_runs_change_nothing(cluster: Cluster) -> None:
    api = ApiClient(cluster)
    log, revision = len(cluster.log), cluster.revision
    code, created = api.create(deployment("shop", "nginx:1.25", replicas=3), dry_run=True)
    assert code == 201 and created["spec"]["replicas"] == 3 and "Deployment/shop" not in cluster.workloads
    code, _ = api.request("PATCH", "/apis/apps/v1/namespaces/default/deployments/web/scale?dryRun=All",
                          {"spec": {"replicas": 9}}, content_type="application/merge-patch+json")
    code, patched = api.request("PATCH", "/apis/apps/v1/namespaces/default/deployments/web?dryRun=All",
                                {"spec": {"replicas": 7}}, content_type=SMP)
    assert code == 200 and patched["spec"]["replicas"] == 7
    assert cluster.workloads["Deployment/web"].replicas == 1 and len(cluster.log) == log
    assert cluster.revision == revision and all(a.dry_run for a in cluster.audit)


def test_tables_and_label_selectors(cluster: Cluster) -> None:
    api = ApiClient(cluster)
    api.create(deployment("shop", "nginx:1.25", replicas=2))
    code, pods = api.get("Pod", table=True, query="labelSelector=app%20in%20(shop,other)")
    assert code == 200 and pods["kind"] == "Table" and len(pods["rows"]) == 2
    assert [c["name"] for c in pods["columnDefinitions"] if c["priority"] == 0] == ["Name", "Ready", "Status",
                                                                                     "Restarts", "Age"]
    assert pods["rows"][0]["cells"][1:3] == ["0/1", "ContainerCreating"]
    assert pods["rows"][0]["object"]["kind"] == "PartialObjectMetadata"
    assert len(api.get("Pod", query="labelSelector=app!%3Dshop")[1]["items"]) == 2
    assert len(api.get("Pod", query="labelSelector=!pod-template-hash")[1]["items"]) == 0
    _, deployments = api.get("Deployment", table=True)
    assert [r["cells"][:2] for r in deployments["rows"]] == [["metrics-server", "1/1"], ["shop", "0/2"],
                                                             ["web", "1/1"]]


def test_watch_streams_changes(cluster: Cluster) -> None:
    api = ApiClient(cluster)
    code, stream = api.request("GET", "/api/v1/namespaces/default/pods?watch=true&labelSelector=app%3Dshop"
                               "&timeoutSeconds=1")
    assert code == 200
    api.create(deployment("shop", "nginx:1.25", replicas=1))
    first = json.loads(next(stream))
    assert first["type"] == "ADDED" and first["object"]["status"]["phase"] == "Pending"
    cluster.tick()
    second = json.loads(next(stream))
    assert second["type"] == "MODIFIED" and second["object"]["status"]["phase"] == "Running"
    assert list(stream) == []  # ends at its timeout


def test_openapi_is_served_as_protobuf_with_an_etag(cluster: Cluster) -> None:
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


def test_waiting_on_a_watch_lets_time_pass_while_pods_start(cluster: Cluster) -> None:
    api = ApiClient(cluster)
    api.scale("web", 3)
    step = cluster.step
    _, stream = api.request("GET", "/apis/apps/v1/namespaces/default/deployments?watch=true"
                            "&fieldSelector=metadata.name%3Dweb&timeoutSeconds=5")
    assert json.loads(next(stream))["object"]["status"]["readyReplicas"] == 1
    ready = json.loads(next(stream))  # no one ticks: the waiting does
    assert ready["type"] == "MODIFIED" and ready["object"]["status"]["readyReplicas"] == 3
    assert cluster.step == step + 1
    _, idle = api.request("GET", "/api/v1/namespaces/default/pods?watch=true&timeoutSeconds=2")
    assert len(list(idle)) == 4 and cluster.step == step + 1  # nothing starting: time stands still
