"""Routing and answering one API request against the cluster (no sockets here: see ``server.py``).

``Api.handle`` takes a :class:`Request` and returns a :class:`Response` (or, for ``?watch``, a
stream of watch events); every request is authorised (the agent works in ``default``; nodes
are read-only; ``exec``/``attach``/``port-forward`` are forbidden) and written to the audit log.
"""

from __future__ import annotations

import json
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from functools import partial
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

from pydantic import BaseModel, ConfigDict, Field

from environments.kubesim.api import openapi, resources
from environments.kubesim.api.errors import ApiError
from environments.kubesim.api.logs import pod_log
from environments.kubesim.api.render import NAMESPACE
from environments.kubesim.api.tables import table
from environments.kubesim.api.writes import Writer, scale_object
from environments.kubesim.objects import AuditEvent

if TYPE_CHECKING:
    from environments.kubesim.cluster import Cluster

VERSION = {"major": "1", "minor": "20", "gitVersion": "v1.20.2",
           "gitCommit": "faecb196815e248d3ecfb03c680a4507229c2a56",
           "gitTreeState": "clean", "buildDate": "2021-01-13T13:20:00Z", "goVersion": "go1.15.5", "compiler": "gc",
           "platform": "linux/amd64"}
FORBIDDEN_SUBRESOURCES = {"exec", "attach", "portforward", "proxy", "eviction", "ephemeralcontainers"}
WATCH_WAKE = 5.0
MAX_WATCH = 600.0
WAIT_TICK = 1.0
MAX_WAIT_TICKS = 3
NOT_AUDITED = ("/api", "/apis", "/openapi", "/version", "/healthz", "/livez", "/readyz", "/swagger")


class Request(BaseModel):
    """One HTTP request to the API."""

    method: str
    target: str
    headers: dict[str, str] = Field(default_factory=dict)
    body: bytes = b""
    user: str = "agent"
    connection: int = 0

    @property
    def path(self) -> str:
        """The path without the query."""
        return urlsplit(self.target).path.rstrip("/") or "/"

    @property
    def query(self) -> dict[str, str]:
        """Query parameters (last value wins)."""
        return {k: v[-1] for k, v in parse_qs(urlsplit(self.target).query).items()}

    @property
    def streams(self) -> bool:
        """Whether the answer is a stream (a watch, a followed log)."""
        query = self.query
        return self.method == "GET" and (query.get("watch") in ("true", "1") or query.get("follow") == "true")


class Response(BaseModel):
    """An answer: status, content type and body, or a stream of chunks."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    code: int = 200
    content_type: str = "application/json"
    body: bytes = b""
    headers: dict[str, str] = Field(default_factory=dict)
    stream: Iterator[bytes] | None = None

    @classmethod
    def of(cls, obj: Any, code: int = 200) -> Response:
        """A JSON answer."""
        return cls(code=code, body=json.dumps(obj).encode())


class Route(BaseModel):
    """What a resource path names."""

    resource: resources.Resource
    namespace: str | None
    name: str = ""
    subresource: str = ""


def route(path: str) -> Route | None:
    """Parse ``/api/v1/...`` or ``/apis/<group>/<version>/...`` (``None``: not a resource path)."""
    parts = path.strip("/").split("/")
    if parts[:2] == ["api", "v1"]:
        group, version, rest = "", "v1", parts[2:]
    elif parts[0] == "apis" and len(parts) >= 4:
        group, version, rest = parts[1], parts[2], parts[3:]
    else:
        return None
    namespace = None
    if rest[:1] == ["namespaces"] and len(rest) >= 3:
        namespace, rest = rest[1], rest[2:]
    if not rest:
        return None
    found = resources.find(group, version, rest[0])
    if found is None:
        return None
    return Route(resource=found, namespace=namespace, name=rest[1] if len(rest) > 1 else "",
                 subresource=rest[2] if len(rest) > 2 else "")


def _verb(request: Request, where: Route) -> str:
    if request.method == "GET":
        if where.name:
            return "get"
        return "watch" if request.query.get("watch") in ("true", "1") else "list"
    return {"POST": "create", "PUT": "update", "PATCH": "patch",
            "DELETE": "delete" if where.name else "deletecollection"}.get(request.method, request.method.lower())


_RANDOM_QUERY = re.compile(r"&?timeoutSeconds=\d+")
"""kubectl picks a random watch timeout: left out of the audit log, which must not depend on chance."""


class Api:
    """The API server's logic over one cluster; ``lock`` serialises it with the environment's steps."""

    def __init__(self, cluster: Cluster, lock: threading.RLock, closing: Callable[[], bool] = lambda: False,
                 changed: threading.Condition | None = None) -> None:
        self.cluster = cluster
        self.lock = lock
        self.closing = closing
        self.changed = changed or threading.Condition(lock)
        """Notified (under ``lock``) whenever the cluster may have changed: watches wait on it."""
        self._connections: dict[int, int] = {}  # server connection number → its order in this episode

    def handle(self, request: Request) -> Response:
        """Answer one request (errors become Status objects)."""
        path = request.path
        try:
            parts = path.strip("/").split("/")
            if parts[0] not in ("api", "apis") or len(parts) <= (2 if parts[0] == "api" else 3):
                if request.method != "GET":
                    raise ApiError(405, "MethodNotAllowed", "the server does not allow this method on the requested "
                                   "resource")
                return self._non_resource(request, path)
            where = route(path)
            if where is None:
                raise ApiError(404, "NotFound", "the server could not find the requested resource")
            verb = _verb(request, where)
            with self.lock:
                try:
                    response = self._resource(request, where, verb)
                except ApiError as exc:
                    self._audit(request, where, verb, exc.code)
                    raise
                self._audit(request, where, verb, response.code)
                if verb not in ("get", "list", "watch"):
                    self.changed.notify_all()
            return response
        except ApiError as exc:
            return Response.of(exc.status(), exc.code)

    def _non_resource(self, request: Request, path: str) -> Response:
        if path == "/version":
            return Response.of(VERSION)
        if path in ("/healthz", "/livez", "/readyz"):
            return Response(content_type="text/plain", body=b"ok")
        if path == "/api":
            return Response.of(resources.core_versions())
        if path == "/apis":
            return Response.of(resources.group_list())
        if path == "/openapi/v2":
            protobuf = "protobuf" in request.headers.get("accept", "")
            body, etag = openapi.encoded(protobuf)
            if request.headers.get("if-none-match") == etag:
                return Response(code=304, headers={"ETag": etag})
            return Response(content_type="application/octet-stream" if protobuf else "application/json", body=body,
                            headers={"ETag": etag})
        parts = path.strip("/").split("/")
        found = resources.resource_list("" if parts[0] == "api" else parts[1], parts[-1]) if len(parts) in (2, 3) \
            else None
        if found is None or (parts[0] == "api" and len(parts) != 2):
            raise ApiError(404, "NotFound", "the server could not find the requested resource")
        return Response.of(found)

    def _audit(self, request: Request, where: Route, verb: str, code: int) -> None:
        body: dict[str, Any] | None = None
        if verb in ("create", "update", "patch") and len(request.body) <= 65536:
            try:
                body = json.loads(request.body or b"null")
            except ValueError:
                body = None
            if isinstance(body, dict):
                body = {k: v for k, v in body.items() if k not in ("data", "binaryData", "stringData")}
            elif not isinstance(body, list):
                body = None
        c = self.cluster
        c.audit_request(AuditEvent(
            audit_id=str(uuid.uuid5(uuid.NAMESPACE_URL, f"{c.step}/{len(c.audit)}")), step=c.step, user=request.user,
            verb=verb, request_uri=_RANDOM_QUERY.sub("", request.target)[:500], resource=where.resource.name,
            subresource=where.subresource,
            name=where.name, api_group=where.resource.group, namespace=where.namespace or "", code=code,
            connection=self._connections.setdefault(request.connection, len(self._connections) + 1),
            log_index=len(c.log), dry_run=request.query.get("dryRun") == "All",
            request_object=body if isinstance(body, dict) else ({"patch": body} if body is not None else None)))

    def _authorise(self, where: Route, verb: str) -> None:
        r = where.resource
        name = f"{r.name}/{where.subresource}" if where.subresource else r.name
        if where.subresource in FORBIDDEN_SUBRESOURCES:
            raise ApiError.forbidden("create", name, r.group, where.namespace, where.name)
        writes = verb not in ("get", "list", "watch")
        if r.namespaced and where.namespace not in (None, NAMESPACE) and writes:
            raise ApiError.forbidden(verb, name, r.group, where.namespace, where.name)
        if writes and r.kind in ("Node", "Namespace", "PodMetrics", "NodeMetrics", "Event"):
            raise ApiError.forbidden(verb, name, r.group, None if not r.namespaced else where.namespace, where.name)
        if r.namespaced and where.namespace is None and writes:
            raise ApiError(405, "MethodNotAllowed", "the server does not allow this method on the requested resource")

    def _resource(self, request: Request, where: Route, verb: str) -> Response:
        self._authorise(where, verb)
        r, c, query = where.resource, self.cluster, request.query
        dry_run = query.get("dryRun") == "All"
        if r.kind == "SelfSubjectAccessReview":
            return Response.of(self._access_review(request), 201)
        if where.subresource == "log":
            with_tail = int(query["tailLines"]) if query.get("tailLines", "").isdigit() else None
            return Response(content_type="text/plain", body=pod_log(c, where.name, with_tail).encode())
        if where.subresource == "scale":
            return self._scale(request, where, dry_run)
        writer = Writer(c, request.user)
        if verb == "create":
            return Response.of(writer.create(r, self._json(request), dry_run), 201)
        if verb == "update":
            return Response.of(writer.replace(r, where.name, self._json(request), dry_run))
        if verb == "patch":
            return Response.of(writer.patch(r, where.name, request.headers.get("content-type", ""), request.body,
                                             dry_run))
        if verb == "delete":
            return Response.of(writer.delete(r, where.name, dry_run))
        items = self._items(where, query)
        if verb == "deletecollection":
            for item in items:
                writer.delete(r, item["metadata"]["name"], dry_run)
            return Response.of({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success"})
        if verb == "get":
            if not items:
                raise ApiError.not_found(r.qualified, where.name)
            return self._answer(request, r, items, single=True)
        if verb == "watch":
            return Response(stream=self._watch(request, where))
        return self._answer(request, r, items, single=False)

    def _json(self, request: Request) -> dict[str, Any]:
        try:
            body = json.loads(request.body or b"{}")
        except ValueError as exc:
            raise ApiError(400, "BadRequest", f"the object provided is unrecognized: {exc}") from None
        if not isinstance(body, dict):
            raise ApiError(400, "BadRequest", "the object provided is not an object")
        return body

    def _items(self, where: Route, query: dict[str, str]) -> list[dict[str, Any]]:
        if where.resource.namespaced and where.namespace not in (None, where.resource.home):
            return []
        found = resources.list_objects(self.cluster, where.resource)
        return [o for o in found if (not where.name or o["metadata"]["name"] == where.name)
                and resources.matches(o, query.get("labelSelector", ""), query.get("fieldSelector", ""))]

    def _answer(self, request: Request, r: resources.Resource, items: list[dict[str, Any]], single: bool) -> Response:
        accept = request.headers.get("accept", "")
        if "as=Table" in accept:
            include = request.query.get("includeObject", "Metadata")
            return Response.of(table(self.cluster, r.kind, items, include, str(self.cluster.revision)))
        if single:
            return Response.of(items[0])
        return Response.of({"kind": f"{r.kind}List", "apiVersion": r.group_version,
                            "metadata": {"resourceVersion": str(self.cluster.revision)}, "items": items})

    def _scale(self, request: Request, where: Route, dry_run: bool) -> Response:
        key = f"{where.resource.kind}/{where.name}"
        if key not in self.cluster.workloads:
            raise ApiError.not_found(where.resource.qualified, where.name)
        if request.method == "GET":
            return Response.of(scale_object(self.cluster, self.cluster.workloads[key]))
        writer = Writer(self.cluster, request.user)
        if request.method == "PUT":
            replicas = (self._json(request).get("spec") or {}).get("replicas")
        else:
            from environments.kubesim.api.writes import apply_patch

            current = scale_object(self.cluster, self.cluster.workloads[key])
            patched = apply_patch(current, request.headers.get("content-type", ""), request.body)
            replicas = (patched.get("spec") or {}).get("replicas")
        return Response.of(writer.scale(where.resource, where.name, replicas, dry_run))

    def _access_review(self, request: Request) -> dict[str, Any]:
        review = self._json(request)
        attrs = (review.get("spec") or {}).get("resourceAttributes") or {}
        verb, resource = attrs.get("verb", ""), attrs.get("resource", "")
        sub, namespace = attrs.get("subresource", ""), attrs.get("namespace", "")
        found = next((r for r in resources.RESOURCES if r.name == resource and r.group == attrs.get("group", "")),
                     None)
        reads = verb in ("get", "list", "watch")
        allowed = found is not None and sub not in FORBIDDEN_SUBRESOURCES and (
            reads or (found.namespaced and namespace in ("", NAMESPACE)
                      and found.kind not in ("Event", "PodMetrics")))
        review["status"] = {"allowed": allowed}
        return review

    def _watch(self, request: Request, where: Route) -> Iterator[bytes]:
        """Watch events (``ADDED``/``MODIFIED``/``DELETED``) as the objects change, until the timeout.

        Event-driven: the watch sleeps on :attr:`changed` and looks at the objects again only when
        the cluster's version moved (or every :data:`WATCH_WAKE` seconds), so idle watches cost
        no CPU and hold the lock only while they compute their events.

        **(ours)** A watch that waits while pods are starting (``kubectl rollout status``, ``kubectl
        wait``, ``get -w``) lets one simulated step pass per :data:`WAIT_TICK` seconds without events,
        at most :data:`MAX_WAIT_TICKS` per request: waiting costs time, as it does on a real cluster.
        """
        query = request.query
        timeout = min(float(query.get("timeoutSeconds") or MAX_WATCH), MAX_WATCH)
        since = query.get("resourceVersion", "")
        as_table = "as=Table" in request.headers.get("accept", "")
        seen: dict[str, str] = {}
        version: tuple[int, ...] | None = None
        deadline = time.monotonic() + timeout
        idle_since, ticks = time.monotonic(), 0
        while time.monotonic() < deadline and not self.closing():
            with self.changed:
                if version is not None:
                    wait = min(deadline - time.monotonic(), WATCH_WAKE)
                    if ticks < MAX_WAIT_TICKS and self._starting():
                        wait = min(wait, max(0.0, WAIT_TICK - (time.monotonic() - idle_since)))
                    self.changed.wait_for(partial(self._moved, version), timeout=wait)
                if self.closing():
                    return
                if time.monotonic() - idle_since >= WAIT_TICK and ticks < MAX_WAIT_TICKS and self._starting():
                    self.cluster.tick()  # waiting costs time: the pods being waited for start
                    ticks, idle_since = ticks + 1, time.monotonic()
                    self.changed.notify_all()
                chunks = self._events(where, query, seen, as_table, quiet=version is None and since not in ("", "0"))
                version = self._version()
            if chunks:
                idle_since = time.monotonic()
            yield from chunks

    def _moved(self, version: tuple[int, ...]) -> bool:
        return self.closing() or self._version() != version

    def _version(self) -> tuple[int, ...]:
        return self.cluster.version()

    def _events(self, where: Route, query: dict[str, str], seen: dict[str, str], as_table: bool,
                quiet: bool) -> list[bytes]:
        """The watch events since ``seen`` (updated); ``quiet``: only record the current state."""
        items = {o["metadata"]["name"]: o for o in self._items(where, query)}
        events = []
        for name, obj in items.items():
            mark = _fingerprint(obj)
            if seen.get(name) != mark:
                if not quiet:
                    events.append(("ADDED" if name not in seen else "MODIFIED", obj))
                seen[name] = mark
        events += [("DELETED", {"metadata": {"name": n}}) for n in list(seen) if n not in items]
        for name in [n for n in seen if n not in items]:
            seen.pop(name)
        chunks = []
        for kind, obj in events:
            shown = table(self.cluster, where.resource.kind, [obj], query.get("includeObject", "Object"),
                          str(self.cluster.revision)) if as_table and kind != "DELETED" else obj
            chunks.append(json.dumps({"type": kind, "object": shown}).encode() + b"\n")
        return chunks

    def _starting(self) -> bool:
        """Whether pods are starting (placed on a node, not yet running): waiting for them lets time pass."""
        return any(p.node is not None and p.phase == "ContainerCreating" for p in self.cluster.pods.values())


def _fingerprint(obj: Any) -> str:
    def strip(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: strip(v) for k, v in value.items() if not k.endswith(("Timestamp", "Time", "startedAt"))
                    and k != "resourceVersion"}
        if isinstance(value, list):
            return [strip(v) for v in value]
        return value

    return json.dumps(strip(obj), sort_keys=True)
