"""The control plane's unix-socket server (host side), one per episode.

The socket lives in a fresh temporary directory that is bind-mounted into the sandbox at
``/run/cluster``; the sandbox keeps ``network_mode=none``. Protocol: the client writes one
JSON :class:`~environments.loadbalance.kubectl.KubectlRequest` and half-closes; the server
answers one JSON :class:`~environments.loadbalance.kubectl.KubectlResult` and closes. The
server only interprets requests; it never runs a shell.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socketserver
import tempfile
import threading
from pathlib import Path

from pydantic import ValidationError

from environments.loadbalance.kubectl import Kubectl, KubectlRequest, KubectlResult

SOCKET_NAME = "control.sock"
MAX_REQUEST_BYTES = 1 << 20


class _Server(socketserver.ThreadingUnixStreamServer):
    daemon_threads = True
    kubectl: Kubectl
    instance: str


class _Handler(socketserver.StreamRequestHandler):
    server: _Server
    timeout = 30  # a client that never finishes its request does not hold a thread for ever

    def handle(self) -> None:
        try:
            raw = self.rfile.read(MAX_REQUEST_BYTES + 1)
        except OSError:
            return
        try:
            if len(raw) > MAX_REQUEST_BYTES:
                raise ValueError("request too large")
            request = KubectlRequest.model_validate_json(raw)
            # the instance is the one the socket belongs to, whatever the client claims
            request = request.model_copy(update={"instance": self.server.instance})
            result = self.server.kubectl.handle(request)
        except (ValidationError, ValueError):
            result = KubectlResult(stderr="error: the server could not parse the request\n", exit_code=1)
        with contextlib.suppress(OSError):
            self.wfile.write(result.model_dump_json().encode())


class ControlPlane:
    """Serves one cluster on a unix socket in a private temporary directory.

    Args:
        kubectl: the interpreter for this episode's cluster.
        instance: the agent instance whose sandbox the socket is mounted into.
    """

    def __init__(self, kubectl: Kubectl, instance: str) -> None:
        self.directory = Path(tempfile.mkdtemp(prefix="lb-control-"))
        self.socket_path = self.directory / SOCKET_NAME
        self._server = _Server(str(self.socket_path), _Handler)
        self._server.kubectl = kubectl
        self._server.instance = instance
        os.chmod(self.directory, 0o755)
        os.chmod(self.socket_path, 0o777)
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.1},
                                        name="lb-control-plane", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop serving and delete the directory. Safe to call more than once."""
        if self._thread.is_alive():
            self._server.shutdown()
            self._thread.join(timeout=5)
        self._server.server_close()
        shutil.rmtree(self.directory, ignore_errors=True)
