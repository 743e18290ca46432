"""The API server's transport: HTTP/1.1 (keep-alive, chunked watch streams) on a unix socket or TCP.

The unix socket is the sandbox's way in (bind-mounted; every request on it is user
``agent``); a TCP listener on the host's loopback is for host-side clients. A hostile client
cannot hang the server: a body is at most :data:`MAX_BODY` bytes and a request must arrive
within :data:`READ_TIMEOUT` seconds.
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

from environments.cluster.api.handler import Request, Response

MAX_BODY = 4 * 1024 * 1024
READ_TIMEOUT = 10.0
_connections = itertools.count(1)


class Handles(Protocol):
    """What the server serves: the simulated API (:class:`~environments.cluster.api.handler.Api`) or a proxy."""

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
        self._send(self.server.api.handle(request))

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


class _UnixServer(socketserver.ThreadingUnixStreamServer):
    daemon_threads = True
    block_on_close = False
    api: Handles
    user: str


class _TcpServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True
    api: Handles
    user: str


class ApiServer:
    """Serves one API on a unix socket (``user`` for every request) and optionally on TCP."""

    def __init__(self, api: Handles, socket_path: Path | None = None, tcp_port: int | None = None,
                 user: str = "agent") -> None:
        self.api = api
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
        server.api, server.user = self.api, user
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
