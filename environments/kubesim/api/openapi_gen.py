"""Generate ``openapi.json.gz``: the OpenAPI v2 definitions of the kinds the API server serves.

A development tool (``python -m environments.kubesim.api.openapi_gen``), run once when the set
of kinds changes; it needs the optional ``kubernetes`` package, whose models are generated from
the Kubernetes OpenAPI document (Apache-2.0, see ``LICENSE-openapi.txt``). The definitions get
the ``x-kubernetes-group-version-kind`` of each kind (for ``kubectl explain`` and ``apply``
validation) and the list merge keys of strategic merge patch (for ``kubectl apply``).
"""

from __future__ import annotations

import gzip
import json
import re
from pathlib import Path
from typing import Any

from environments.kubesim.api.smp import MERGE_KEYS

OUT = Path(__file__).with_name("openapi.json.gz")
KINDS = {  # model → (group, version, kind, description)
    "V1Pod": ("", "v1", "Pod", "Pod is a collection of containers that can run on a host. This resource is created by "
              "clients and scheduled onto hosts."),
    "V1Node": ("", "v1", "Node", "Node is a worker node in Kubernetes. Each node will have a unique identifier in the "
               "cache (i.e. in etcd)."),
    "V1Service": ("", "v1", "Service", "Service is a named abstraction of software service (for example, mysql) "
                  "consisting of local port (for example 3306) that the proxy listens on, and the selector that "
                  "determines which pods will answer requests sent through the proxy."),
    "CoreV1Event": ("", "v1", "Event", "Event is a report of an event somewhere in the cluster."),
    "V1Namespace": ("", "v1", "Namespace", "Namespace provides a scope for Names. Use of multiple namespaces is "
                    "optional."),
    "V1ConfigMap": ("", "v1", "ConfigMap", "ConfigMap holds configuration data for pods to consume."),
    "V1Secret": ("", "v1", "Secret", "Secret holds secret data of a certain type. The total bytes of the values in "
                 "the Data field must be less than MaxSecretSize bytes."),
    "V1ResourceQuota": ("", "v1", "ResourceQuota", "ResourceQuota sets aggregate quota restrictions enforced per "
                        "namespace"),
    "V1Endpoints": ("", "v1", "Endpoints", "Endpoints is a collection of endpoints that implement the actual "
                    "service."),
    "V1ServiceAccount": ("", "v1", "ServiceAccount", "ServiceAccount binds together: * a name, understood by users, "
                         "and perhaps by peripheral systems, for an identity * a principal that can be "
                         "authenticated and authorized * a set of secrets"),
    "V1Deployment": ("apps", "v1", "Deployment", "Deployment enables declarative updates for Pods and ReplicaSets."),
    "V1ReplicaSet": ("apps", "v1", "ReplicaSet", "ReplicaSet ensures that a specified number of pod replicas are "
                     "running at any given time."),
    "V1StatefulSet": ("apps", "v1", "StatefulSet", "StatefulSet represents a set of pods with consistent "
                      "identities."),
    "V1DaemonSet": ("apps", "v1", "DaemonSet", "DaemonSet represents the configuration of a daemon set."),
    "V1Job": ("batch", "v1", "Job", "Job represents the configuration of a single job."),
    "V1HorizontalPodAutoscaler": ("autoscaling", "v1", "HorizontalPodAutoscaler", "configuration of a horizontal "
                                  "pod autoscaler."),
    "V1Scale": ("autoscaling", "v1", "Scale", "Scale represents a scaling request for a resource."),
}
PATCH_STRATEGY = {"finalizers": "merge", "ownerReferences": "merge"}


def _clean(schema: Any) -> Any:
    if isinstance(schema, list):
        return [_clean(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    options = [s for s in schema.get("anyOf", []) if s.get("type") != "null"]
    if "anyOf" in schema and options:
        types = {o.get("type") for o in options}
        chosen = {"type": "string", "format": "int-or-string"} if types == {"integer", "string"} else options[0]
        merged = {**{k: v for k, v in schema.items() if k not in ("anyOf", "default", "title")}, **chosen}
        return _clean(merged)
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key in ("title", "default") or (key == "additionalProperties" and value is False):
            continue
        if key == "$ref":
            out[key] = "#/definitions/" + k8s_name(value.rsplit("/", 1)[-1])
        elif key == "description":
            out[key] = value.split("\n\nAttributes:", 1)[0].strip()
        elif key == "properties":
            out[key] = {name: _clean(prop) for name, prop in value.items()}
        else:
            out[key] = _clean(value)
    if out.get("type") == "object" and "additionalProperties" in out and out["additionalProperties"] is True:
        out.pop("additionalProperties")
    return out


META = {"ObjectMeta", "LabelSelector", "LabelSelectorRequirement", "OwnerReference", "ManagedFieldsEntry", "ListMeta",
        "Status", "StatusDetails", "StatusCause", "Condition", "DeleteOptions", "Preconditions"}
GROUPS = {"apps": ("Deployment", "ReplicaSet", "StatefulSet", "DaemonSet", "RollingUpdate"),
          "batch": ("Job", "PodFailurePolicy", "SuccessPolicy", "UncountedTerminatedPods"),
          "autoscaling": ("HorizontalPodAutoscaler", "CrossVersionObjectReference", "Scale")}


def k8s_name(model: str) -> str:
    """The Kubernetes OpenAPI name of a client model (``V1Deployment`` → ``io.k8s.api.apps.v1.Deployment``)."""
    match = re.match(r"^(?:Core)?(V\d+(?:alpha\d+|beta\d+)?)(\w+)$", model)
    if match is None:
        return model
    version, name = match.group(1).lower(), match.group(2)
    if name in META:
        return f"io.k8s.apimachinery.pkg.apis.meta.{version}.{name}"
    for group, prefixes in GROUPS.items():
        if name.startswith(prefixes):
            return f"io.k8s.api.{group}.{version}.{name}"
    return f"io.k8s.api.core.{version}.{name}"


def _patch_extensions(definitions: dict[str, Any]) -> None:
    for definition in definitions.values():
        for name, prop in (definition.get("properties") or {}).items():
            if prop.get("type") != "array":
                continue
            if name in MERGE_KEYS:
                prop["x-kubernetes-patch-merge-key"] = MERGE_KEYS[name]
                prop["x-kubernetes-patch-strategy"] = "merge"
            elif name in PATCH_STRATEGY:
                prop["x-kubernetes-patch-strategy"] = PATCH_STRATEGY[name]


def generate() -> dict[str, Any]:
    """The OpenAPI v2 document (definitions only)."""
    from kubernetes import client

    definitions: dict[str, Any] = {}
    for model, (group, version, kind, description) in KINDS.items():
        schema = getattr(client, model).model_json_schema(by_alias=True)
        for name, sub in schema.pop("$defs", {}).items():
            definitions.setdefault(k8s_name(name), _clean(sub))
        top = _clean(schema)
        top["description"] = description
        top["x-kubernetes-group-version-kind"] = [{"group": group, "kind": kind, "version": version}]
        definitions[k8s_name(model)] = top
    _patch_extensions(definitions)
    return {"swagger": "2.0", "info": {"title": "Kubernetes", "version": "v1.20.2"}, "paths": {},
            "definitions": dict(sorted(definitions.items()))}


def main() -> None:
    """Write ``openapi.json.gz`` beside this file."""
    data = json.dumps(generate(), sort_keys=True, separators=(",", ":")).encode()
    OUT.write_bytes(gzip.compress(data, mtime=0))
    print(f"wrote {OUT} ({len(data)} bytes, {OUT.stat().st_size} gzipped)")


if __name__ == "__main__":
    main()
