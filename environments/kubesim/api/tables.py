"""Server-side printing: the ``meta.k8s.io/v1`` Table kubectl asks for and prints (columns as kube-apiserver's)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from environments.kubesim.cluster import Cluster

Obj = dict[str, Any]
WIDE = 1


def _age(cluster: Cluster, obj: Obj) -> str:
    stamp = (obj.get("metadata") or {}).get("creationTimestamp")
    if not stamp:
        return "<unknown>"
    import datetime as dt

    then = dt.datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.UTC)
    return human_duration(int((dt.datetime.now(dt.UTC) - then).total_seconds()))


def human_duration(seconds: int) -> str:
    """Kubernetes' ``duration.HumanDuration`` (``45s``, ``3m20s``, ``61m``, ``5h``, ``2d``)."""
    if seconds < 0:
        return "<invalid>"
    minutes, hours = seconds // 60, seconds // 3600
    if seconds < 120:
        return f"{seconds}s"
    if minutes < 10:
        return f"{minutes}m{seconds % 60}s" if seconds % 60 else f"{minutes}m"
    if minutes < 180:
        return f"{minutes}m"
    if hours < 8:
        return f"{hours}h{minutes % 60}m" if minutes % 60 else f"{hours}h"
    return f"{hours}h" if hours < 48 else f"{hours // 24}d"


def _containers(spec: Obj) -> tuple[str, str]:
    containers = spec.get("containers") or []
    return ",".join(str(c.get("name", "")) for c in containers), ",".join(str(c.get("image", "")) for c in containers)


def _selector(spec: Obj) -> str:
    labels = (spec.get("selector") or {}).get("matchLabels") or {}
    return ",".join(f"{k}={v}" for k, v in labels.items()) or "<none>"


def _pod(cluster: Cluster, o: Obj) -> list[Any]:
    status = o.get("status") or {}
    statuses = status.get("containerStatuses") or []
    ready = sum(bool(s.get("ready")) for s in statuses)
    waiting = next((s["state"]["waiting"]["reason"] for s in statuses if "waiting" in s.get("state", {})), None)
    return [o["metadata"]["name"], f"{ready}/{len(o['spec'].get('containers') or [])}",
            waiting or status.get("phase", "Pending"), 0, _age(cluster, o), status.get("podIP", "<none>"),
            o["spec"].get("nodeName", "<none>"), "<none>", "<none>"]


def _deployment(cluster: Cluster, o: Obj) -> list[Any]:
    s, spec = o.get("status") or {}, o.get("spec") or {}
    names, images = _containers(spec.get("template", {}).get("spec") or {})
    return [o["metadata"]["name"], f"{s.get('readyReplicas', 0)}/{spec.get('replicas', 1)}",
            s.get("updatedReplicas", 0), s.get("availableReplicas", 0), _age(cluster, o), names, images,
            _selector(spec)]


def _replicaset(cluster: Cluster, o: Obj) -> list[Any]:
    s, spec = o.get("status") or {}, o.get("spec") or {}
    names, images = _containers(spec.get("template", {}).get("spec") or {})
    return [o["metadata"]["name"], spec.get("replicas", 1), s.get("replicas", 0), s.get("readyReplicas", 0),
            _age(cluster, o), names, images, _selector(spec)]


def _statefulset(cluster: Cluster, o: Obj) -> list[Any]:
    s, spec = o.get("status") or {}, o.get("spec") or {}
    names, images = _containers(spec.get("template", {}).get("spec") or {})
    return [o["metadata"]["name"], f"{s.get('readyReplicas', 0)}/{spec.get('replicas', 1)}", _age(cluster, o),
            names, images]


def _daemonset(cluster: Cluster, o: Obj) -> list[Any]:
    s, spec = o.get("status") or {}, o.get("spec") or {}
    names, images = _containers(spec.get("template", {}).get("spec") or {})
    return [o["metadata"]["name"], s.get("desiredNumberScheduled", 0), s.get("currentNumberScheduled", 0),
            s.get("numberReady", 0), s.get("updatedNumberScheduled", 0), s.get("numberAvailable", 0), "<none>",
            _age(cluster, o), names, images, _selector(spec)]


def _job(cluster: Cluster, o: Obj) -> list[Any]:
    spec = o.get("spec") or {}
    names, images = _containers(spec.get("template", {}).get("spec") or {})
    return [o["metadata"]["name"], f"{(o.get('status') or {}).get('succeeded', 0)}/{spec.get('completions', 1)}",
            _age(cluster, o), _age(cluster, o), names, images, _selector(spec)]


def _service(cluster: Cluster, o: Obj) -> list[Any]:
    spec = o.get("spec") or {}
    ports = ",".join(f"{p.get('port')}{':' + str(p['nodePort']) if p.get('nodePort') else ''}/"
                     f"{p.get('protocol', 'TCP')}" for p in spec.get("ports") or []) or "<none>"
    selector = ",".join(f"{k}={v}" for k, v in (spec.get("selector") or {}).items()) or "<none>"
    external = "<pending>" if spec.get("type") == "LoadBalancer" else "<none>"
    return [o["metadata"]["name"], spec.get("type", "ClusterIP"), spec.get("clusterIP", "None"), external, ports,
            _age(cluster, o), selector]


def _hpa(cluster: Cluster, o: Obj) -> list[Any]:
    spec, status = o.get("spec") or {}, o.get("status") or {}
    ref = spec.get("scaleTargetRef") or {}
    current = status.get("currentCPUUtilizationPercentage")
    target = spec.get("targetCPUUtilizationPercentage", 80)
    return [o["metadata"]["name"], f"{ref.get('kind', '')}/{ref.get('name', '')}",
            f"{'<unknown>' if current is None else str(current) + '%'}/{target}%", spec.get("minReplicas", 1),
            spec.get("maxReplicas", 1), status.get("currentReplicas", 0), _age(cluster, o)]


def _node(cluster: Cluster, o: Obj) -> list[Any]:
    info = o["status"]["nodeInfo"]
    address = next(a["address"] for a in o["status"]["addresses"] if a["type"] == "InternalIP")
    return [o["metadata"]["name"], "Ready", "worker", _age(cluster, o), info["kubeletVersion"], address, "<none>",
            info["osImage"], info["kernelVersion"], info["containerRuntimeVersion"]]


def _event(cluster: Cluster, o: Obj) -> list[Any]:
    involved = o["involvedObject"]
    return [_age(cluster, {"metadata": {"creationTimestamp": o["lastTimestamp"]}}), o["type"], o["reason"],
            f"{involved['kind'].lower()}/{involved['name']}", o["message"], "", o["source"]["component"],
            _age(cluster, {"metadata": {"creationTimestamp": o["firstTimestamp"]}}), o.get("count", 1),
            o["metadata"]["name"]]


def _quota(cluster: Cluster, o: Obj) -> list[Any]:
    used, hard = o["status"]["used"], o["status"]["hard"]
    return [o["metadata"]["name"], _age(cluster, o), ", ".join(f"{k}: {used[k]}/{hard[k]}" for k in hard), ""]


def _n(*names: str) -> list[tuple[str, int]]:
    return [(n, 0) for n in names]


def _w(*names: str) -> list[tuple[str, int]]:
    return [(n, WIDE) for n in names]


COLUMNS: dict[str, tuple[list[tuple[str, int]], Callable[[Cluster, Obj], list[Any]]]] = {
    "Pod": (_n("Name", "Ready", "Status", "Restarts", "Age") + _w("IP", "Node", "Nominated Node", "Readiness Gates"),
            _pod),
    "Deployment": (_n("Name", "Ready", "Up-to-date", "Available", "Age") + _w("Containers", "Images", "Selector"),
                   _deployment),
    "ReplicaSet": (_n("Name", "Desired", "Current", "Ready", "Age") + _w("Containers", "Images", "Selector"),
                   _replicaset),
    "StatefulSet": (_n("Name", "Ready", "Age") + _w("Containers", "Images"), _statefulset),
    "DaemonSet": (_n("Name", "Desired", "Current", "Ready", "Up-to-date", "Available", "Node Selector", "Age")
                  + _w("Containers", "Images", "Selector"), _daemonset),
    "Job": (_n("Name", "Completions", "Duration", "Age") + _w("Containers", "Images", "Selector"), _job),
    "Service": (_n("Name", "Type", "Cluster-IP", "External-IP", "Port(s)", "Age") + _w("Selector"), _service),
    "HorizontalPodAutoscaler": (_n("Name", "Reference", "Targets", "MinPods", "MaxPods", "Replicas", "Age"), _hpa),
    "Node": (_n("Name", "Status", "Roles", "Age", "Version")
             + _w("Internal-IP", "External-IP", "OS-Image", "Kernel-Version", "Container-Runtime"), _node),
    "Event": (_n("Last Seen", "Type", "Reason", "Object", "Message")
              + _w("Subobject", "Source", "First Seen", "Count", "Name"), _event),
    "ResourceQuota": (_n("Name", "Age", "Request", "Limit"), _quota),
    "ConfigMap": (_n("Name", "Data", "Age"),
                  lambda c, o: [o["metadata"]["name"], len(o.get("data") or {}) + len(o.get("binaryData") or {}),
                                _age(c, o)]),
    "Secret": (_n("Name", "Type", "Data", "Age"),
               lambda c, o: [o["metadata"]["name"], o.get("type", "Opaque"), len(o.get("data") or {}), _age(c, o)]),
    "Namespace": (_n("Name", "Status", "Age"), lambda c, o: [o["metadata"]["name"], "Active", _age(c, o)]),
    "Endpoints": (_n("Name", "Endpoints", "Age"), lambda c, o: [
        o["metadata"]["name"], ",".join(f"{a['ip']}:{p['port']}" for s in o.get("subsets") or []
                                        for a in s["addresses"] for p in s["ports"]) or "<none>", _age(c, o)]),
    "ServiceAccount": (_n("Name", "Secrets", "Age"),
                       lambda c, o: [o["metadata"]["name"], len(o.get("secrets") or []), _age(c, o)]),
}


def table(cluster: Cluster, kind: str, items: list[Obj], include: str, resource_version: str) -> Obj:
    """A ``Table`` of ``items`` (``include``: ``None``, ``Object`` or ``Metadata`` for each row's object)."""
    columns, cells = COLUMNS.get(kind, (_n("Name", "Age"), lambda c, o: [o["metadata"]["name"], _age(c, o)]))
    definitions = [{"name": name, "type": "integer" if name in ("Restarts", "Desired", "Current", "Count") else
                    "string", "format": "name" if name == "Name" else "", "description": name, "priority": priority}
                   for name, priority in columns]
    rows = []
    for item in items:
        row: Obj = {"cells": cells(cluster, item)[: len(columns)]}
        if include == "Object":
            row["object"] = item
        elif include != "None":
            row["object"] = {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1",
                             "metadata": item.get("metadata", {})}
        rows.append(row)
    return {"kind": "Table", "apiVersion": "meta.k8s.io/v1", "metadata": {"resourceVersion": resource_version},
            "columnDefinitions": definitions, "rows": rows}
