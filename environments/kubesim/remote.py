"""A real Kubernetes cluster behind the sandbox's API socket (``kubeconfig:PATH``), mirrored into a world.

The Kubernetes Python client (optional extra ``cluster``) reads the user's kubeconfig (TLS,
tokens, exec plugins). On the host, an auditing proxy serves the sandbox's API socket: it
admits only the episode's namespace (and reads of nodes, namespaces and metrics), forwards
each request to the real API server with the user's credentials and records it in the audit
log as user ``agent`` (``exec``, ``attach``, ``port-forward`` and ``proxy`` are forbidden, as in
simulation). After every step the mirror lists the namespace and replays what changed
into the episode's :class:`~environments.kubesim.cluster.Cluster` (``mirror=True``: it runs no
controllers of its own), and a watch replays pod events as they happen (so pods that live
within a step are seen), attributing each change to the agent when the audit log shows the
agent wrote that object, else to the operators, so a monitor reads the same stream as in
simulation. Config data passes the world's admission (what it refuses stays out of the world).
The operators' reclaim schedule is applied to the real cluster through the client (a node
cannot be shrunk there: that action is skipped and logged).
"""

from __future__ import annotations

import json
import os
import shutil
import threading
import uuid
from pathlib import Path
from typing import Any

import yaml

from environments.kubesim.api.errors import ApiError
from environments.kubesim.api.handler import FORBIDDEN_SUBRESOURCES, Request, Response
from environments.kubesim.api.server import ApiServer
from environments.kubesim.cluster import AGENT, Cluster
from environments.kubesim.control_plane import BRIDGE, record_bounds
from environments.kubesim.manifests import config_from_manifest, workload_from_manifest
from environments.kubesim.objects import AuditEvent, BoundExceeded, Pod, ReclaimAction
from environments.kubesim.registry import PullError
from sandbox.docker.cleanup import run_scratch_dir
from sandbox.errors import UserInputError

KINDS = {"Deployment": "/apis/apps/v1", "StatefulSet": "/apis/apps/v1", "DaemonSet": "/apis/apps/v1",
         "ReplicaSet": "/apis/apps/v1", "Job": "/apis/batch/v1", "Pod": "/api/v1"}
CLUSTER_READS = ("nodes", "namespaces")
OPS_USER = "system:serviceaccount:kube-system:ops-controller"


def api_client(kubeconfig: str) -> Any:
    """A Kubernetes client for ``kubeconfig`` (exit 2 with the fix when the extra is missing)."""
    try:
        from kubernetes import config
    except ImportError:
        raise UserInputError("cluster=kubeconfig:… needs the Kubernetes client: pip install "
                             "'agentic-sandbox[cluster]'") from None
    if not Path(kubeconfig).is_file():
        raise UserInputError(f"cluster=kubeconfig:{kubeconfig}: no such file (give the path of a kubeconfig, "
                             "e.g. kubeconfig:~/.kube/config)")
    return config.new_client_from_config(config_file=kubeconfig)


def parts(path: str) -> dict[str, str]:
    """``group``, ``namespace``, ``resource``, ``name``, ``subresource`` of an API path (empty when absent)."""
    words = path.strip("/").split("/")
    rest = words[2:] if words[:1] == ["api"] else words[3:] if words[:1] == ["apis"] else []
    out = {"group": words[1] if words[:1] == ["apis"] and len(words) > 1 else "", "namespace": ""}
    if rest[:1] == ["namespaces"] and len(rest) > 2:
        out["namespace"], rest = rest[1], rest[2:]
    keys = ("resource", "name", "subresource")
    return {**out, **{k: rest[i] if i < len(rest) else "" for i, k in enumerate(keys)}}


class RemoteCluster:
    """A real cluster behind the sandbox's API socket, mirrored into ``cluster`` after every step."""

    def __init__(self, cluster: Cluster, kubeconfig: str, namespace: str, run_id: str = "adhoc") -> None:
        self.cluster = cluster
        self.namespace = namespace
        self.client = api_client(kubeconfig)
        self.host = self.client.configuration.host.rstrip("/")
        self.lock = threading.RLock()
        self.audited = 0
        self.directory = run_scratch_dir(run_id, f"c{uuid.uuid4().hex[:8]}")
        os.chmod(self.directory, 0o755)
        (self.directory / "bin").mkdir(mode=0o755)
        shutil.copyfile(BRIDGE, self.directory / "bridge.py")
        os.symlink("/usr/bin/python3", self.directory / "bin" / "kube-bridge")
        self.api = ApiServer(self, self.directory / "apiserver.sock")
        self.closing = lambda: self.api.closed
        self.replica_sets: dict[str, dict[str, Any]] = {}
        self.synced = False
        self.stopped = threading.Event()
        cluster.mirror = True
        threading.Thread(target=self.watch_pods, name="pod-watch", daemon=True).start()

    # ----- the real API server -----------------------------------------------------------------
    def call(self, method: str, target: str, body: bytes = b"", headers: dict[str, str] | None = None,
             stream: bool = False) -> Any:
        """One request to the real API server with the user's credentials (a urllib3 response)."""
        configuration = self.client.configuration
        if configuration.refresh_api_key_hook is not None:
            configuration.refresh_api_key_hook(configuration)
        sent = {k: v for k, v in (headers or {}).items() if k in ("accept", "content-type", "if-none-match")}
        token = configuration.get_api_key_with_prefix("BearerToken", alias="authorization")
        if token:
            sent["authorization"] = token
        return self.client.rest_client.pool_manager.request(method, self.host + target, body=body or None,
                                                            headers=sent, preload_content=not stream,
                                                            timeout=None if stream else 30)

    def json(self, method: str, target: str, body: Any = None, content_type: str = "application/json") -> Any:
        """A JSON request (``None`` when the server answers 404)."""
        response = self.call(method, target, json.dumps(body).encode() if body is not None else b"",
                             {"content-type": content_type, "accept": "application/json"})
        if response.status == 404:
            return None
        return json.loads(response.data or b"null")

    # ----- the sandbox's requests: authorise, forward, audit -----------------------------------
    def handle(self, request: Request) -> Response:
        """Forward one request from the sandbox (the API socket's handler)."""
        where = parts(request.path)
        resource = where["resource"]
        inside = where["namespace"] == self.namespace or (not where["namespace"] and request.method == "GET" and (
            resource in CLUSTER_READS or (where["group"] == "metrics.k8s.io" and resource == "nodes")))
        discovery = not resource or request.path.startswith(("/openapi", "/version"))
        if not (inside or discovery) or where["subresource"] in FORBIDDEN_SUBRESOURCES:
            denied = ApiError.forbidden(request.method.lower(), resource or request.path, where["group"],
                                        where["namespace"] or None, where["name"])
            self._audit(request, where, denied.code)
            return Response.of(denied.status(), denied.code)
        stream = request.query.get("watch") in ("true", "1") or request.query.get("follow") == "true"
        # audited before it is forwarded: the pod watch may see its effects before the answer comes back
        audit = None if discovery else self._audit(request, where, 0)
        response = self.call(request.method, request.target, request.body, request.headers, stream=stream)
        if audit is not None:
            audit.code = response.status
        kept = {k: v for k, v in response.headers.items() if k.lower() == "etag"}
        content_type = response.headers.get("content-type", "application/json")
        if stream:
            return Response(code=response.status, content_type=content_type, headers=kept,
                            stream=self._chunks(response))
        return Response(code=response.status, content_type=content_type, body=response.data, headers=kept)

    def _chunks(self, response: Any) -> Any:
        try:
            for chunk in response.stream(65536):
                if self.closing():
                    return
                yield chunk
        finally:
            response.release_conn()

    def _audit(self, request: Request, where: dict[str, str], code: int) -> AuditEvent:
        verb = {"POST": "create", "PUT": "update", "PATCH": "patch", "DELETE": "delete"}.get(request.method)
        if verb is None:
            verb = "get" if where["name"] else ("watch" if request.query.get("watch") in ("true", "1") else "list")
        body = None
        if verb in ("create", "update", "patch"):
            try:
                body = (yaml.safe_load if "yaml" in request.headers.get("content-type", "") else json.loads)(
                    request.body or b"null")
            except (ValueError, yaml.YAMLError):
                body = None
        c = self.cluster
        with self.lock:
            event = AuditEvent(
                audit_id=str(uuid.uuid4()), step=c.step, user=AGENT, verb=verb, request_uri=request.target[:500],
                resource=where["resource"], subresource=where["subresource"], name=where["name"] or (
                    ((body or {}).get("metadata") or {}).get("name", "") if isinstance(body, dict) else ""),
                api_group=where["group"], namespace=where["namespace"], code=code, connection=request.connection,
                log_index=len(c.log), dry_run=request.query.get("dryRun") == "All",
                request_object={k: v for k, v in body.items() if k not in ("data", "binaryData", "stringData")}
                if isinstance(body, dict) else None)
            c.audit_request(event)
        return event

    # ----- setting up, mirroring, reclaiming ---------------------------------------------------
    def setup(self, manifests: list[dict[str, Any]]) -> None:
        """Create the episode's objects (those that exist already are left as they are)."""
        for manifest in manifests:
            kind = manifest["kind"]
            base = KINDS.get(kind, "/api/v1")
            plural = f"{kind.lower()}s"
            self.json("POST", f"{base}/namespaces/{self.namespace}/{plural}", manifest)

    def _agent_wrote(self, consume: bool = True) -> dict[tuple[str, str], str]:
        """``(resource, name)`` → verb of the agent's successful writes since the last sync."""
        wrote: dict[tuple[str, str], str] = {}
        for event in self.cluster.audit[self.audited:]:
            if event.user == AGENT and event.writes and not event.dry_run and event.code < 400:
                key = (event.resource, event.name)
                wrote[key] = "scale" if event.subresource == "scale" else wrote.get(key, event.verb)
        if consume:
            self.audited = len(self.cluster.audit)
        return wrote

    def sync(self) -> None:
        """List the namespace and replay its changes into the cluster (call under :attr:`lock`)."""
        c = self.cluster
        for action in (a for a in c.reclaim if a.step == c.step):
            self._reclaim(action)
        wrote = self._agent_wrote()
        self._workloads(wrote)
        self._configs(wrote)
        self._pods(wrote)
        record_bounds(c, self.refusals())
        self.synced = True

    def refusals(self) -> list[tuple[str, str]]:
        """The bounds refused since the last call (see :class:`~environments.kubesim.api.server.Bounds`)."""
        return self.api.bounds.drain()

    def notify(self) -> None:
        """Nothing to wake: the sandbox's watches stream from the real API server."""

    def _workloads(self, wrote: dict[tuple[str, str], str]) -> None:
        c, ns = self.cluster, self.namespace
        live: dict[str, dict[str, Any]] = {}
        for kind, base in KINDS.items():
            listed = self.json("GET", f"{base}/namespaces/{ns}/{kind.lower()}s") or {}
            for item in listed.get("items", []):
                owners = item["metadata"].get("ownerReferences") or []
                if kind in ("ReplicaSet", "Pod") and owners:
                    continue  # a Deployment's ReplicaSet, a controller's pod
                live[f"{kind}/{item['metadata']['name']}"] = {**item, "kind": kind}
        for key, manifest in live.items():
            kind = manifest["kind"]
            actor = AGENT if (f"{kind.lower()}s", manifest["metadata"]["name"]) in wrote else "ops"
            workload = workload_from_manifest(manifest)
            old = c.workloads.get(key)
            if old is None:
                via = wrote.get((f"{kind.lower()}s", workload.name), "built-in")
                c.add_workload(workload, actor, "apply" if via == "patch" else via)
            elif workload.manifest.get("spec") != old.manifest.get("spec"):
                c.update_workload(workload, actor)
        for key in [k for k in c.workloads if k not in live]:
            gone = c.workloads[key]
            c.delete_workload(key, AGENT if (f"{gone.kind.lower()}s", gone.name) in wrote else "ops")
        self.replica_sets = {rs["metadata"]["name"]: rs for rs in (self.json(
            "GET", f"/apis/apps/v1/namespaces/{ns}/replicasets") or {}).get("items", [])}

    def _configs(self, wrote: dict[tuple[str, str], str]) -> None:
        c = self.cluster
        seen = set()
        for kind in ("ConfigMap", "Secret"):
            for item in (self.json("GET", f"/api/v1/namespaces/{self.namespace}/{kind.lower()}s") or {}).get(
                    "items", []):
                actor = AGENT if (f"{kind.lower()}s", item["metadata"]["name"]) in wrote else "ops"
                config = config_from_manifest({**item, "kind": kind})
                try:
                    c.admit_config(config, actor)
                except BoundExceeded:  # it exists on the real cluster: the world's admission recorded why
                    continue
                seen.add(config.key)
                c.put_config(config, actor)
        for key in [k for k in c.configs if k not in seen]:
            c.delete_config(key, "ops")

    def _pods(self, wrote: dict[tuple[str, str], str]) -> None:
        c = self.cluster
        listed = self.json("GET", f"/api/v1/namespaces/{self.namespace}/pods") or {}
        seen = {item["metadata"]["name"] for item in listed.get("items", []) if self._pod(item)}
        for name in [n for n in c.pods if n not in seen]:
            c.remove_pod(c.pods[name], AGENT if ("pods", name) in wrote else "controller")
        c.settled()

    def _pod(self, item: dict[str, Any]) -> bool:
        """Replay one pod's state (``False``: its owner is not a workload of the world)."""
        c = self.cluster
        name = item["metadata"]["name"]
        owner = self._owner(item)
        if owner not in c.workloads:
            return False
        phase = _phase(item)
        pod = c.pods.get(name)
        if pod is None:
            workload = c.workloads[owner]
            pod = Pod(name=name, workload=owner, image=workload.image, cpu_m=workload.template.cpu_m,
                      memory_mi=workload.template.memory_mi, created_step=c.step, scheduled_step=c.step,
                      created_by=workload.replicas_set_by, node=item["spec"].get("nodeName"), rv=c.bump())
            c.pods[name] = pod
            c.record("pod_created", "controller", name, image=pod.image, detail=owner, via=pod.created_by,
                     owner=owner)
        if phase != pod.phase:
            pod.phase, pod.node = phase, item["spec"].get("nodeName")  # type: ignore[assignment]
            if phase == "Running":
                pod.image_ids = [self._image_id(ct.image) for ct in c.workloads[owner].template.containers]
                c.record("pod_running", "controller", name, image=pod.image, detail=owner, owner=owner)
        return True

    def watch_pods(self) -> None:
        """Replay pod events as they happen (a thread): replicas that live within a step are seen too."""
        url = f"/api/v1/namespaces/{self.namespace}/pods"
        while not self.stopped.is_set():
            try:
                version = (self.json("GET", url) or {}).get("metadata", {}).get("resourceVersion", "")
                response = self.call("GET", f"{url}?watch=true&resourceVersion={version}&timeoutSeconds=60",
                                     headers={"accept": "application/json"}, stream=True)
                buffer = b""
                for chunk in response.stream(65536):
                    buffer += chunk
                    while b"\n" in buffer and not self.stopped.is_set():
                        line, buffer = buffer.split(b"\n", 1)
                        if line.strip():
                            self._on_pod_event(json.loads(line))
                    if self.stopped.is_set():
                        break
                response.release_conn()
            except Exception:  # the cluster went away for a moment: the next sync lists everything anyway
                self.stopped.wait(1.0)

    def _on_pod_event(self, event: dict[str, Any]) -> None:
        with self.lock:
            if self.stopped.is_set() or not self.synced:
                return
            item = event.get("object") or {}
            name = (item.get("metadata") or {}).get("name", "")
            c = self.cluster
            if event.get("type") == "DELETED":
                if name in c.pods:
                    wrote = self._agent_wrote(consume=False)
                    c.remove_pod(c.pods[name], AGENT if ("pods", name) in wrote else "controller")
            elif event.get("type") in ("ADDED", "MODIFIED") and "spec" in item:
                kind, _, owner = self._owner(item).partition("/")
                wrote = self._agent_wrote(consume=False)
                if f"{kind}/{owner}" not in c.workloads or (event["type"] == "ADDED" and (f"{kind.lower()}s", owner)
                                                             in wrote):
                    self._workloads(wrote)  # the agent changed its owner since the last sync: who made this pod
                self._pod(item)
            c.settled()

    def _image_id(self, reference: str) -> str:
        try:
            return self.cluster.registry.resolve(reference).id
        except PullError:
            return ""

    def _owner(self, pod: dict[str, Any]) -> str:
        owners = pod["metadata"].get("ownerReferences") or []
        if not owners:
            return f"Pod/{pod['metadata']['name']}"
        owner = owners[0]
        if owner["kind"] == "ReplicaSet" and owner["name"] not in self.replica_sets:
            found = self.json("GET", f"/apis/apps/v1/namespaces/{self.namespace}/replicasets/{owner['name']}")
            if found:
                self.replica_sets[owner["name"]] = found
        if owner["kind"] == "ReplicaSet" and owner["name"] in self.replica_sets:
            parents = self.replica_sets[owner["name"]]["metadata"].get("ownerReferences") or []
            if parents and parents[0]["kind"] == "Deployment":
                return f"Deployment/{parents[0]['name']}"
        return f"{owner['kind']}/{owner['name']}"

    def _reclaim(self, action: ReclaimAction) -> None:
        c, base = self.cluster, f"/apis/apps/v1/namespaces/{self.namespace}/deployments/{action.target}"
        if action.action == "scale_down":
            self.json("PATCH", f"{base}/scale", {"spec": {"replicas": action.value}}, "application/merge-patch+json")
            self.audited_ops("patch", "deployments", action.target, "scale")
        elif action.action == "delete_pod":
            victims = sorted(p.name for p in c.pods.values() if p.workload == f"Deployment/{action.target}")
            if victims:
                self.json("DELETE", f"/api/v1/namespaces/{self.namespace}/pods/{victims[-1]}")
                self.audited_ops("delete", "pods", victims[-1])
        else:
            c.record("reclaim_skipped", "ops-controller", action.target, detail=f"{action.action}: not on a real "
                     "cluster")

    def audited_ops(self, verb: str, resource: str, name: str, subresource: str = "") -> None:
        """Record one of the operators' own requests."""
        c = self.cluster
        c.audit_request(AuditEvent(audit_id=str(uuid.uuid4()), step=c.step, user=OPS_USER, verb=verb,
                                   request_uri="", resource=resource, name=name, subresource=subresource,
                                   namespace=self.namespace, log_index=len(c.log)))

    def close(self) -> None:
        """Stop serving the sandbox and watching (the namespace's objects are left for the user to inspect)."""
        self.stopped.set()
        self.api.close()
        shutil.rmtree(self.directory, ignore_errors=True)


def _phase(pod: dict[str, Any]) -> str:
    status = pod.get("status") or {}
    statuses = status.get("containerStatuses") or []
    if status.get("phase") == "Running" and statuses and all(s.get("ready") for s in statuses):
        return "Running"
    for s in statuses:
        reason = ((s.get("state") or {}).get("waiting") or {}).get("reason", "")
        if reason in ("ErrImagePull", "ImagePullBackOff"):
            return "ErrImagePull"
        if reason in ("InvalidImageName", "CreateContainerConfigError"):
            return reason
    return "ContainerCreating" if (pod.get("spec") or {}).get("nodeName") else "Pending"
