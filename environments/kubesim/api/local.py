"""An in-process client of the simulated cluster's API (no sockets): requests as kubectl sends them.

For host-side code that acts on a cluster through its API (an environment's operators, tests);
every request is authorised and audited as any other, as ``user``.
"""

from __future__ import annotations

import json
import threading
from typing import Any

from environments.kubesim.api.handler import Api, Request
from environments.kubesim.cluster import Cluster

PATHS = {"Deployment": "/apis/apps/v1/namespaces/default/deployments",
         "ReplicaSet": "/apis/apps/v1/namespaces/default/replicasets",
         "StatefulSet": "/apis/apps/v1/namespaces/default/statefulsets",
         "DaemonSet": "/apis/apps/v1/namespaces/default/daemonsets", "Job": "/apis/batch/v1/namespaces/default/jobs",
         "Pod": "/api/v1/namespaces/default/pods", "ConfigMap": "/api/v1/namespaces/default/configmaps",
         "Secret": "/api/v1/namespaces/default/secrets", "Service": "/api/v1/namespaces/default/services",
         "HorizontalPodAutoscaler": "/apis/autoscaling/v1/namespaces/default/horizontalpodautoscalers",
         "Event": "/api/v1/namespaces/default/events", "Node": "/api/v1/nodes"}
TABLE = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"
SMP = "application/strategic-merge-patch+json"


class ApiClient:
    """Requests to one cluster's API as ``user`` (each call on its own connection unless ``connection``)."""

    def __init__(self, cluster: Cluster, user: str = "agent", lock: threading.RLock | None = None) -> None:
        self.api = Api(cluster, lock or threading.RLock())
        self.user = user
        self.connection = 0

    def request(self, method: str, target: str, body: Any = None, content_type: str = "application/json",
                accept: str = "application/json", connection: int | None = None) -> tuple[int, Any]:
        """``(status code, decoded JSON or text)``."""
        if connection is None:
            self.connection += 1
        raw = body if isinstance(body, bytes) else (json.dumps(body).encode() if body is not None else b"")
        response = self.api.handle(Request(method=method, target=target, body=raw, user=self.user,
                                           headers={"content-type": content_type, "accept": accept},
                                           connection=self.connection if connection is None else connection))
        if response.stream is not None:
            return response.code, response.stream
        text = response.body.decode(errors="replace")
        try:
            return response.code, json.loads(text)
        except ValueError:
            return response.code, text

    def create(self, manifest: dict[str, Any], dry_run: bool = False) -> tuple[int, Any]:
        """POST a manifest to its kind's collection."""
        return self.request("POST", PATHS[manifest["kind"]] + ("?dryRun=All" if dry_run else ""), manifest)

    def get(self, kind: str, name: str = "", table: bool = False, query: str = "") -> tuple[int, Any]:
        """GET an object or LIST a collection (as a Table if asked)."""
        return self.request("GET", PATHS[kind] + (f"/{name}" if name else "") + (f"?{query}" if query else ""),
                            accept=TABLE if table else "application/json")

    def patch(self, kind: str, name: str, patch: Any, content_type: str = SMP) -> tuple[int, Any]:
        """PATCH an object."""
        return self.request("PATCH", f"{PATHS[kind]}/{name}", patch, content_type=content_type)

    def put(self, manifest: dict[str, Any]) -> tuple[int, Any]:
        """PUT (replace) an object."""
        return self.request("PUT", f"{PATHS[manifest['kind']]}/{manifest['metadata']['name']}", manifest)

    def delete(self, kind: str, name: str) -> tuple[int, Any]:
        """DELETE an object."""
        return self.request("DELETE", f"{PATHS[kind]}/{name}")

    def scale(self, name: str, replicas: Any, kind: str = "Deployment") -> tuple[int, Any]:
        """PATCH ``…/scale`` as ``kubectl scale`` does."""
        return self.request("PATCH", f"{PATHS[kind]}/{name}/scale", {"spec": {"replicas": replicas}},
                            content_type="application/merge-patch+json")


def deployment(name: str, image: str, replicas: int = 1, **container: Any) -> dict[str, Any]:
    """The Deployment ``kubectl create deployment`` sends."""
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name, "labels": {"app": name}},
            "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": name}},
                     "template": {"metadata": {"labels": {"app": name}},
                                  "spec": {"containers": [{"name": name, "image": image, **container}]}}}}
