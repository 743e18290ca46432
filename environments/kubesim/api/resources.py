"""The API's resources: discovery documents and how each resource is read from the world.

Discovery answers ``/api``, ``/apis``, ``/api/v1`` and ``/apis/<group>/<version>`` with the
resources below (names, kinds, verbs, short names, the ``all`` category), which is what
``kubectl api-resources``, ``kubectl get all`` and name resolution (``deploy``, ``po``, ``hpa``)
use. Reading returns plain objects (``render.py``); events are derived from the world's log.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from environments.kubesim import names
from environments.kubesim.api import render
from environments.kubesim.api.events import events
from environments.kubesim.api.metrics import node_metrics, pod_metrics
from environments.kubesim.objects import WORKLOAD_KINDS

if TYPE_CHECKING:
    from environments.kubesim.cluster import Cluster

READ = ["get", "list", "watch"]
WRITE = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"]


class Resource(BaseModel):
    """One API resource."""

    name: str
    kind: str
    group: str = ""
    version: str = "v1"
    namespaced: bool = True
    verbs: list[str] = WRITE
    short_names: list[str] = []
    categories: list[str] = []
    subresources: list[str] = []
    home: str = render.NAMESPACE

    @property
    def group_version(self) -> str:
        """``v1`` or ``group/version``."""
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def qualified(self) -> str:
        """``deployments.apps`` (or ``pods``), as errors name resources."""
        return f"{self.name}.{self.group}" if self.group else self.name


RESOURCES = [
    Resource(name="pods", kind="Pod", short_names=["po"], categories=["all"], subresources=["log", "exec", "attach",
                                                                                              "portforward", "status"]),
    Resource(name="services", kind="Service", short_names=["svc"], categories=["all"]),
    Resource(name="configmaps", kind="ConfigMap", short_names=["cm"]),
    Resource(name="secrets", kind="Secret"),
    Resource(name="events", kind="Event", short_names=["ev"]),
    Resource(name="endpoints", kind="Endpoints", short_names=["ep"]),
    Resource(name="serviceaccounts", kind="ServiceAccount", short_names=["sa"]),
    Resource(name="resourcequotas", kind="ResourceQuota", short_names=["quota"]),
    Resource(name="namespaces", kind="Namespace", namespaced=False, short_names=["ns"],
             verbs=["create", "delete", "get", "list", "patch", "update", "watch"]),
    Resource(name="nodes", kind="Node", namespaced=False, short_names=["no"], subresources=["status", "proxy"]),
    Resource(name="deployments", kind="Deployment", group="apps", short_names=["deploy"], categories=["all"],
             subresources=["scale", "status"]),
    Resource(name="replicasets", kind="ReplicaSet", group="apps", short_names=["rs"], categories=["all"],
             subresources=["scale", "status"]),
    Resource(name="statefulsets", kind="StatefulSet", group="apps", short_names=["sts"], categories=["all"],
             subresources=["scale", "status"]),
    Resource(name="daemonsets", kind="DaemonSet", group="apps", short_names=["ds"], categories=["all"],
             subresources=["status"]),
    Resource(name="jobs", kind="Job", group="batch", categories=["all"], subresources=["status"]),
    Resource(name="horizontalpodautoscalers", kind="HorizontalPodAutoscaler", group="autoscaling",
             short_names=["hpa"], categories=["all"], subresources=["status"]),
    Resource(name="pods", kind="PodMetrics", group="metrics.k8s.io", version="v1beta1", verbs=READ[:2]),
    Resource(name="nodes", kind="NodeMetrics", group="metrics.k8s.io", version="v1beta1", namespaced=False,
             verbs=READ[:2]),
    Resource(name="leases", kind="Lease", group="coordination.k8s.io", verbs=READ, home="kube-node-lease"),
    Resource(name="selfsubjectaccessreviews", kind="SelfSubjectAccessReview", group="authorization.k8s.io",
             namespaced=False, verbs=["create"]),
]
GROUPS = {"apps": ["v1"], "batch": ["v1"], "autoscaling": ["v1"], "metrics.k8s.io": ["v1beta1"],
          "authorization.k8s.io": ["v1"], "coordination.k8s.io": ["v1"]}
BUILT_IN_NAMESPACES = ("default", "kube-node-lease", "kube-public", "kube-system")


def find(group: str, version: str, name: str) -> Resource | None:
    """The resource served at ``group/version`` under ``name``."""
    return next((r for r in RESOURCES if (r.group, r.version, r.name) == (group, version, name)), None)


def core_versions() -> dict[str, Any]:
    """``/api``."""
    return {"kind": "APIVersions", "versions": ["v1"],
            "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": "192.168.49.2:6443"}]}


def group_list() -> dict[str, Any]:
    """``/apis``."""
    groups = []
    for group, versions in GROUPS.items():
        entries = [{"groupVersion": f"{group}/{v}", "version": v} for v in versions]
        groups.append({"name": group, "versions": entries, "preferredVersion": entries[0]})
    return {"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}


def resource_list(group: str, version: str) -> dict[str, Any] | None:
    """``/api/v1`` or ``/apis/<group>/<version>`` (``None``: not served)."""
    served = [r for r in RESOURCES if (r.group, r.version) == (group, version)]
    if not served:
        return None
    entries = []
    for r in served:
        entries.append({"name": r.name, "singularName": "", "namespaced": r.namespaced, "kind": r.kind,
                        "verbs": r.verbs, **({"shortNames": r.short_names} if r.short_names else {}),
                        **({"categories": r.categories} if r.categories else {})})
        for sub in r.subresources:
            sub_kind = {"scale": "Scale", "log": "Pod", "status": r.kind}.get(sub, "Status")
            sub_verbs = {"scale": ["get", "patch", "update"], "log": ["get"], "status": ["get", "patch", "update"]}
            entries.append({"name": f"{r.name}/{sub}", "singularName": "", "namespaced": r.namespaced,
                            "kind": sub_kind, "verbs": sub_verbs.get(sub, ["create", "get"]),
                            **({"group": "autoscaling", "version": "v1"} if sub == "scale" else {})})
    return {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": f"{group}/{version}" if group else version,
            "resources": entries}


def _workloads(cluster: Cluster, kind: str) -> list[dict[str, Any]]:
    items = [render.workload_object(cluster, w) for w in cluster.workloads.values() if w.kind == kind]
    if kind == "ReplicaSet":
        items += [render.virtual_replicaset(cluster, w) for w in cluster.workloads.values() if w.kind == "Deployment"]
    return items


def _stored(cluster: Cluster, kind: str) -> list[dict[str, Any]]:
    out = []
    for obj in cluster.objects.values():
        if obj.kind == kind:
            item = dict(obj.manifest)
            item["metadata"] = render.meta(cluster, obj.manifest, obj.created_step)
            if obj.status:
                item["status"] = {k: v for k, v in obj.status.items() if not k.startswith("_")}
                if isinstance(obj.status.get("lastScaleTime"), int):
                    item["status"]["lastScaleTime"] = render.timestamp(cluster, obj.status["lastScaleTime"])
            out.append(item)
    return out


def _quota(cluster: Cluster) -> list[dict[str, Any]]:
    limit = {"pods": str(cluster.quota_pods)}
    return [{"apiVersion": "v1", "kind": "ResourceQuota",
             "metadata": {"name": "compute-resources", "namespace": render.NAMESPACE,
                          "uid": names.uid("ResourceQuota", "compute-resources"), "resourceVersion": "1",
                          "creationTimestamp": render.timestamp(cluster, -60)},
             "spec": {"hard": limit}, "status": {"hard": limit, "used": {"pods": str(len(cluster.pods))}}}]


def _namespaces(cluster: Cluster) -> list[dict[str, Any]]:
    return [{"apiVersion": "v1", "kind": "Namespace",
             "metadata": {"name": n, "uid": names.uid("Namespace", n), "resourceVersion": "1",
                          "creationTimestamp": render.timestamp(cluster, -60),
                          "labels": {"kubernetes.io/metadata.name": n}},
             "spec": {"finalizers": ["kubernetes"]}, "status": {"phase": "Active"}} for n in BUILT_IN_NAMESPACES]


def _leases(cluster: Cluster) -> list[dict[str, Any]]:
    now = render.timestamp(cluster, cluster.step).replace("Z", ".000000Z")
    return [{"apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
             "metadata": {"name": n.name, "namespace": "kube-node-lease", "uid": names.uid("Lease", n.name),
                          "resourceVersion": "1", "creationTimestamp": render.timestamp(cluster, -60)},
             "spec": {"holderIdentity": n.name, "leaseDurationSeconds": 40, "renewTime": now}} for n in cluster.nodes]


def _endpoints(cluster: Cluster) -> list[dict[str, Any]]:
    """Endpoints of every Service with a selector: its running pods' IPs."""
    out = []
    pods = [render.pod_object(cluster, p) for p in cluster.pods.values() if p.phase == "Running"]
    for service in (o for o in cluster.objects.values() if o.kind == "Service"):
        spec: Any = service.manifest.get("spec") or {}
        selector = spec.get("selector") or {}
        ready = [p for p in pods if selector and all(p["metadata"].get("labels", {}).get(k) == v
                                                     for k, v in selector.items())]
        subsets = [{"addresses": [{"ip": p["status"]["podIP"], "nodeName": p["spec"].get("nodeName"),
                                   "targetRef": {"kind": "Pod", "name": p["metadata"]["name"],
                                                 "namespace": render.NAMESPACE, "uid": p["metadata"]["uid"]}}
                                  for p in ready],
                    "ports": [{"name": port.get("name", ""), "port": port.get("targetPort", port.get("port")),
                               "protocol": port.get("protocol", "TCP")} for port in spec.get("ports") or []]}]
        out.append({"apiVersion": "v1", "kind": "Endpoints",
                    "metadata": {"name": service.name, "namespace": render.NAMESPACE,
                                 "uid": names.uid("Endpoints", service.name), "resourceVersion": "1",
                                 "creationTimestamp": render.timestamp(cluster, service.created_step)},
                    **({"subsets": subsets} if ready else {})})
    return out


LISTERS: dict[str, Callable[[Cluster], list[dict[str, Any]]]] = {
    "Lease": _leases,
    "Endpoints": _endpoints,
    "Pod": lambda c: [render.pod_object(c, p) for p in c.pods.values()],
    "Node": lambda c: [render.node_object(c, n.name) for n in c.nodes],
    "ConfigMap": lambda c: [render.config_object(c, k) for k, v in c.configs.items() if v.kind == "ConfigMap"],
    "Secret": lambda c: [render.config_object(c, k) for k, v in c.configs.items() if v.kind == "Secret"],
    "Event": events,
    "ResourceQuota": _quota,
    "Namespace": _namespaces,
    "PodMetrics": pod_metrics,
    "NodeMetrics": node_metrics,
}
for _kind in WORKLOAD_KINDS:
    if _kind != "Pod":
        LISTERS[_kind] = functools.partial(lambda k, c: _workloads(c, k), _kind)


def list_objects(cluster: Cluster, resource: Resource) -> list[dict[str, Any]]:
    """Every object of a resource, sorted by name."""
    lister = LISTERS.get(resource.kind)
    items = lister(cluster) if lister else _stored(cluster, resource.kind)
    return sorted(items, key=lambda o: str(o["metadata"]["name"]))


def matches(obj: dict[str, Any], label_selector: str, field_selector: str) -> bool:
    """Whether an object matches ``-l`` / ``--field-selector`` (equality, ``!=``, ``in``/``notin``, existence)."""
    labels = obj.get("metadata", {}).get("labels") or {}
    for term in _terms(label_selector):
        if not _label_term(labels, term):
            return False
    for term in _terms(field_selector):
        key, op, value = _split(term)
        actual = _field(obj, key)
        if (op == "!=") == (actual == value):
            return False
    return True


def _terms(selector: str) -> list[str]:
    terms, depth, current = [], 0, ""
    for char in selector:
        depth += char == "("
        depth -= char == ")"
        if char == "," and depth == 0:
            terms.append(current.strip())
            current = ""
        else:
            current += char
    return [t for t in [*terms, current.strip()] if t]


def _split(term: str) -> tuple[str, str, str]:
    for op in ("!=", "==", "="):
        if op in term:
            key, value = term.split(op, 1)
            return key.strip(), op, value.strip()
    return term, "exists", ""


def _label_term(labels: dict[str, str], term: str) -> bool:
    lowered = f" {term} "
    for op in (" notin ", " in "):
        if op in lowered:
            key, values = term.split(op.strip(), 1)
            choices = {v.strip() for v in values.strip().strip("()").split(",")}
            inside = labels.get(key.strip()) in choices
            return not inside if op == " notin " else inside
    if term.startswith("!"):
        return term[1:].strip() not in labels
    key, op, value = _split(term)
    if op == "exists":
        return key in labels
    return (labels.get(key) == value) != (op == "!=")


def _field(obj: dict[str, Any], path: str) -> str:
    value: Any = obj
    for part in path.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return "" if value is None else str(value)
