"""The cluster's control plane: a unix-socket server on the host, one per episode.

The socket's directory is bind-mounted into the sandbox (which keeps ``network_mode=none``);
the in-container ``kubectl`` client sends one JSON request per command::

    {"argv": ["get", "pods"], "files": {"m.yaml": "..."}}

and gets ``{"stdout": ..., "stderr": ..., "exit_code": ...}`` back. Requests are interpreted by
:class:`~environments.cluster.kubectl.Kubectl` under the cluster's lock; nothing is executed.
"""

from __future__ import annotations

import os
import shutil
import socketserver
import tempfile
import threading
from pathlib import Path

from pydantic import BaseModel, Field, ValidationError

from environments.cluster.cluster import Cluster
from environments.cluster.kubectl import Kubectl, KubectlResult

SOCKET_NAME = "cluster.sock"
MAX_REQUEST = 1024 * 1024


class KubectlRequest(BaseModel):
    """One command from the client."""

    argv: list[str]
    files: dict[str, str] = Field(default_factory=dict)


class _Handler(socketserver.StreamRequestHandler):
    server: _Server

    def handle(self) -> None:
        raw = self.rfile.readline(MAX_REQUEST)
        try:
            request = KubectlRequest.model_validate_json(raw)
            with self.server.plane.lock:
                result = Kubectl(self.server.plane.cluster).run(request.argv, request.files)
        except ValidationError:
            result = KubectlResult(stderr="error: malformed request to the control plane\n", exit_code=1)
        self.wfile.write(result.model_dump_json().encode() + b"\n")


class _Server(socketserver.ThreadingUnixStreamServer):
    daemon_threads = True
    plane: ControlPlane


class ControlPlane:
    """Serves one cluster on a unix socket in a private temporary directory."""

    def __init__(self, cluster: Cluster) -> None:
        self.cluster = cluster
        self.lock = threading.RLock()
        self.directory = Path(tempfile.mkdtemp(prefix="sandbox-cluster-"))
        os.chmod(self.directory, 0o755)
        self.socket_path = self.directory / SOCKET_NAME
        self._server = _Server(str(self.socket_path), _Handler)
        self._server.plane = self
        os.chmod(self.socket_path, 0o666)  # the sandbox's unprivileged user must connect
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.02},
                                        name="control-plane", daemon=True)
        self._thread.start()

    def close(self) -> None:
        """Stop serving and delete the socket directory."""
        self._server.shutdown()
        self._server.server_close()
        shutil.rmtree(self.directory, ignore_errors=True)

    def request(self, argv: list[str], files: dict[str, str] | None = None) -> KubectlResult:
        """Run a command in-process (for the host side and tests), like the client would."""
        with self.lock:
            return Kubectl(self.cluster).run(argv, files or {})
