"""What the API server adds to and checks in an object before storing it: defaults, metadata, validation."""

from __future__ import annotations

import copy
from typing import Any

from environments.kubesim.api.errors import ApiError
from environments.kubesim.api.render import NAMESPACE
from environments.kubesim.names import short_hash, uid

Obj = dict[str, Any]
SELECTED = ("Deployment", "ReplicaSet", "StatefulSet", "DaemonSet")


def _container(container: Obj) -> None:
    image = str(container.get("image", ""))
    tagged = ":" in image.rsplit("/", 1)[-1] or "@" in image
    container.setdefault("imagePullPolicy", "IfNotPresent" if tagged and not image.endswith(":latest") else "Always")
    container.setdefault("resources", {})
    container.setdefault("terminationMessagePath", "/dev/termination-log")
    container.setdefault("terminationMessagePolicy", "File")
    for port in container.get("ports") or []:
        if isinstance(port, dict):
            port.setdefault("protocol", "TCP")


def pod_spec(spec: Obj, job: bool = False) -> None:
    """Defaults of a pod spec (in place)."""
    spec.setdefault("restartPolicy", "Never" if job else "Always")
    spec.setdefault("terminationGracePeriodSeconds", 30)
    spec.setdefault("dnsPolicy", "ClusterFirst")
    spec.setdefault("schedulerName", "default-scheduler")
    spec.setdefault("securityContext", {})
    for container in [*(spec.get("initContainers") or []), *(spec.get("containers") or [])]:
        if isinstance(container, dict):
            _container(container)


def name_of(obj: Obj, kind: str) -> str:
    """``metadata.name``, generated from ``generateName`` if need be (422 when neither is set)."""
    metadata = obj.setdefault("metadata", {})
    if not isinstance(metadata, dict):
        raise ApiError.invalid(kind, "", "metadata: Invalid value: must be an object")
    if not metadata.get("name") and metadata.get("generateName"):
        metadata["name"] = f"{metadata['generateName']}{short_hash(repr(obj), 5)}"
    name = metadata.get("name")
    if not isinstance(name, str) or not name:
        raise ApiError.invalid(kind, "", "metadata.name: Required value: name or generateName is required")
    return name


def prepare(obj: Obj, kind: str, revision: int, old: Obj | None = None) -> Obj:
    """The object to store: defaults, uid, resourceVersion, generation; checks the apps/v1 selector."""
    out = copy.deepcopy(obj)
    out.pop("status", None)
    name = name_of(out, kind)
    metadata = out["metadata"]
    if metadata.get("namespace") not in (None, NAMESPACE) and kind not in ("Node", "Namespace"):
        raise ApiError(400, "BadRequest", "the namespace of the provided object does not match the namespace sent "
                       "on the request")
    metadata["namespace"] = NAMESPACE
    for key in ("creationTimestamp", "managedFields", "selfLink"):
        metadata.pop(key, None)
    old_meta = (old or {}).get("metadata") or {}
    metadata["uid"] = old_meta.get("uid") or uid(kind, name, revision)
    metadata["resourceVersion"] = str(revision)
    spec_changed = old is None or (old.get("spec") != out.get("spec"))
    metadata["generation"] = int(old_meta.get("generation", 0)) + 1 if spec_changed else old_meta.get("generation", 1)
    spec = out.get("spec")
    if kind in (*SELECTED, "Job") and isinstance(spec, dict):
        if kind != "DaemonSet" and kind != "Job":
            spec.setdefault("replicas", 1)
        template = spec.get("template")
        if isinstance(template, dict) and isinstance(template.get("spec"), dict):
            pod_spec(template["spec"], job=kind == "Job")
        if kind == "Deployment":
            spec.setdefault("strategy", {"type": "RollingUpdate",
                                         "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}})
            spec.setdefault("revisionHistoryLimit", 10)
            spec.setdefault("progressDeadlineSeconds", 600)
        if kind in SELECTED:
            _check_selector(kind, name, spec)
    elif kind == "Pod" and isinstance(spec, dict):
        pod_spec(spec)
    return out


def _check_selector(kind: str, name: str, spec: Obj) -> None:
    selector = spec.get("selector")
    if not isinstance(selector, dict) or not (selector.get("matchLabels") or selector.get("matchExpressions")):
        raise ApiError.invalid(kind, name, "spec.selector: Required value")
    labels = ((spec.get("template") or {}).get("metadata") or {}).get("labels") or {}
    wanted = selector.get("matchLabels") or {}
    if any(labels.get(k) != v for k, v in wanted.items()):
        shown = ", ".join(f"{k}:{v}" for k, v in sorted(labels.items()))
        raise ApiError.invalid(kind, name, f"spec.template.metadata.labels: Invalid value: "
                                           f"map[string]string{{{shown}}}: `selector` does not match template `labels`")


def service(obj: Obj, taken: set[str]) -> None:
    """Defaults of a Service: ClusterIP type and address, TCP ports, target ports."""
    spec = obj.setdefault("spec", {})
    spec.setdefault("type", "ClusterIP")
    spec.setdefault("sessionAffinity", "None")
    if spec.get("clusterIP") in (None, ""):
        seed = sum(map(ord, obj["metadata"]["name"]))
        address = f"10.96.{seed % 250 + 1}.{seed * 7 % 250 + 2}"
        while address in taken:
            seed += 1
            address = f"10.96.{seed % 250 + 1}.{seed * 7 % 250 + 2}"
        spec["clusterIP"] = address
    spec["clusterIPs"] = [spec["clusterIP"]]
    for port in spec.get("ports") or []:
        if isinstance(port, dict):
            port.setdefault("protocol", "TCP")
            port.setdefault("targetPort", port.get("port"))
