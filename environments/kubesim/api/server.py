"""The API server's transport: HTTP/1.1 (keep-alive, chunked watch streams) on a unix socket or TCP.

The unix socket is the sandbox's way in (bind-mounted; every request on it is user
``agent``); a TCP listener on the host's loopback is for host-side clients. A hostile client
cannot hang the server or make it grow: a body is at most :data:`MAX_BODY` bytes and a request
must arrive within :data:`READ_TIMEOUT` seconds; at most :data:`MAX_CONNECTIONS` connections
are served at once (one thread each), at most :data:`MAX_STREAMS` of them streaming (watches,
followed logs), and at most :data:`MAX_REQUESTS` requests per server (per episode). Beyond a
bound the answer is ``429 TooManyRequests``, as a real API server's, and :class:`Bounds` keeps
the refusal until the control plane drains it into the world's log (the agent's
``bound_exceeded``) at its next step.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import socketserver
import threading
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any, Protocol

from environments.kubesim.api.handler import Request, Response

MAX_BODY = 4 * 1024 * 1024
READ_TIMEOUT = 10.0
MAX_CONNECTIONS = 64
MAX_STREAMS = 16
MAX_REQUESTS = 10_000
_connections = itertools.count(1)


def too_many(message: str) -> Response:
    """``429 TooManyRequests`` (kubectl says so and backs off)."""
    return Response.of({"kind": "Status", "apiVersion": "v1", "status": "Failure", "code": 429,
                        "reason": "TooManyRequests", "message": message, "details": {"retryAfterSeconds": 1}}, 429)


class Bounds:
    """Counts a server's connections, streams and requests against their bounds (thread-safe).

    Refusals wait in :attr:`pending` (one entry per bound, with a count) until :meth:`drain`:
    nothing here waits for the cluster's lock, so a flood cannot hold the accepting thread.
    """

    def __init__(self, prefix: str = "api") -> None:
        self.prefix = prefix
        self.lock = threading.Lock()
        self.held: dict[str, int] = {}
        self.refused: dict[str, int] = {}
        self.pending: dict[str, str] = {}

    def take(self, what: str, limit: int) -> bool:
        """Take one ``what`` (``connections``, ``streams``, ``requests``) if fewer than ``limit`` are held."""
        with self.lock:
            held = self.held.get(what, 0)
            if held < limit:
                self.held[what] = held + 1
                return True
            self.refused[what] = self.refused.get(what, 0) + 1
            self.pending[f"{self.prefix}-{what}"] = (f"more than {limit} {what} from the sandbox "
                                                     f"({self.refused[what]} refused so far)")
            return False

    def give(self, what: str) -> None:
        """Give one back."""
        with self.lock:
            self.held[what] -= 1

    def drain(self) -> list[tuple[str, str]]:
        """``(bound, detail)`` of the bounds refused since the last drain."""
        with self.lock:
            found, self.pending = list(self.pending.items()), {}
        return found


class Handles(Protocol):
    """What the server serves: the simulated API (:class:`~environments.kubesim.api.handler.Api`) or a proxy."""

    def handle(self, request: Request) -> Response:
        """Answer one request."""
        ...


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = READ_TIMEOUT
    server: Any

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the audit log records every request."""

    def setup(self) -> None:
        super().setup()
        self.connection_id = next(_connections)

    def _serve(self) -> None:
        bounds: Bounds = self.server.bounds
        if not bounds.take("requests", MAX_REQUESTS):
            self.close_connection = True
            self._send(too_many(f"this episode's sandbox may make at most {MAX_REQUESTS} API requests"))
            return
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            self._send(Response.of({"kind": "Status", "apiVersion": "v1", "status": "Failure", "code": 413,
                                    "reason": "RequestEntityTooLarge", "message": "the request is too large"}, 413))
            self.close_connection = True
            return
        body = self.rfile.read(length) if length else b""
        headers = {k.lower(): v for k, v in self.headers.items()}
        request = Request(method=self.command, target=self.path, headers=headers,
                          body=body, user=self.server.user, connection=self.connection_id)
        if not request.streams:
            self._send(self.server.api.handle(request))
        elif bounds.take("streams", MAX_STREAMS):
            try:
                self._send(self.server.api.handle(request))
            finally:
                bounds.give("streams")
        else:
            self.close_connection = True  # frees its connection slot too
            self._send(too_many(f"at most {MAX_STREAMS} watches or followed logs at once"))

    def _send(self, response: Response) -> None:
        self.send_response(response.code)
        self.send_header("Content-Type", response.content_type)
        for key, value in response.headers.items():
            self.send_header(key, value)
        if response.stream is None:
            self.send_header("Content-Length", str(len(response.body)))
            self.end_headers()
            self.wfile.write(response.body)
            return
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        self.wfile.flush()
        try:
            for chunk in response.stream:
                self.wfile.write(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
                self.wfile.flush()
            self.wfile.write(b"0\r\n\r\n")
        except OSError:
            self.close_connection = True

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve


class _Bounded(socketserver.ThreadingMixIn):
    """At most :data:`MAX_CONNECTIONS` connections get a thread; the rest are answered 429 and closed."""

    daemon_threads = True
    block_on_close = False
    request_queue_size = 128  # the kernel's backlog: a burst of kubectl connections is queued, not refused
    api: Handles
    user: str
    bounds: Bounds

    def process_request(self, request: Any, client_address: Any) -> None:
        if self.bounds.take("connections", MAX_CONNECTIONS):
            super().process_request(request, client_address)
            return
        body = too_many(f"at most {MAX_CONNECTIONS} connections at once").body
        with contextlib.suppress(OSError):
            request.settimeout(1.0)
            request.sendall(b"HTTP/1.1 429 Too Many Requests\r\nContent-Type: application/json\r\n"
                            + f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode() + body)
        self.shutdown_request(request)  # type: ignore[attr-defined]

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self.bounds.give("connections")


class _UnixServer(_Bounded, socketserver.UnixStreamServer):
    pass


class _TcpServer(_Bounded, socketserver.TCPServer):
    allow_reuse_address = True


class ApiServer:
    """Serves one API on a unix socket (``user`` for every request) and optionally on TCP."""

    def __init__(self, api: Handles, socket_path: Path | None = None, tcp_port: int | None = None,
                 user: str = "agent") -> None:
        self.api = api
        self.bounds = Bounds()
        self._servers: list[socketserver.BaseServer] = []
        self.closed = False
        if socket_path is not None:
            unix = _UnixServer(str(socket_path), _Handler)
            os.chmod(socket_path, 0o666)  # the sandbox's unprivileged user must connect
            self._add(unix, user)
        self.port: int | None = None
        if tcp_port is not None:
            tcp = _TcpServer(("127.0.0.1", tcp_port), _Handler)
            self.port = tcp.server_address[1]
            self._add(tcp, user)

    def _add(self, server: _UnixServer | _TcpServer, user: str) -> None:
        server.api, server.user, server.bounds = self.api, user, self.bounds
        self._servers.append(server)
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="kube-apiserver",
                         daemon=True).start()

    def close(self) -> None:
        """Stop listening; open watches end at their next poll."""
        self.closed = True
        for server in self._servers:
            server.shutdown()
            with contextlib.suppress(OSError):
                server.server_close()
