"""The cluster's control plane: a unix-socket server on the host, one per episode.

The socket's directory is bind-mounted into the sandbox (which keeps ``network_mode=none``),
with the clients (``client.py`` as ``kubectl`` and ``crane``) in its ``bin/``, first on the sandbox's
``PATH``; they send one JSON line per command::

    {"program": "kubectl", "argv": ["apply", "-f", "m.yaml"], "blobs": {"m.yaml": "<base64>"}}

(older clients send ``files`` as text) and get ``{"stdout", "stderr", "exit_code"}`` back.
Requests are interpreted under the cluster's lock; nothing is executed. A hostile client
cannot hang the server: a request is at most :data:`MAX_REQUEST` bytes and must arrive
within :data:`READ_TIMEOUT` seconds, and output is capped at :data:`MAX_OUTPUT` bytes.
"""

from __future__ import annotations

import base64
import binascii
import os
import shutil
import socketserver
import tempfile
import threading
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, ValidationError

from environments.cluster.cluster import Cluster
from environments.cluster.crane import Crane
from environments.cluster.kubectl import Kubectl
from environments.cluster.objects import CommandResult

SOCKET_NAME = "cluster.sock"
CLIENT = Path(__file__).with_name("client.py")
MAX_REQUEST = 4 * 1024 * 1024
MAX_OUTPUT = 256 * 1024
MAX_ARGS = 1000
READ_TIMEOUT = 10.0


class KubectlRequest(BaseModel):
    """One command from a client."""

    program: Literal["kubectl", "crane"] = "kubectl"
    argv: list[str] = Field(max_length=MAX_ARGS)
    files: dict[str, str] = Field(default_factory=dict)
    blobs: dict[str, str] = Field(default_factory=dict)

    def contents(self) -> dict[str, bytes]:
        """Every file the client sent, as bytes."""
        out = {path: text.encode() for path, text in self.files.items()}
        for path, encoded in self.blobs.items():
            try:
                out[path] = base64.b64decode(encoded, validate=True)
            except (binascii.Error, ValueError):
                continue
        return out


def cap(result: CommandResult) -> CommandResult:
    """Cut stdout/stderr beyond :data:`MAX_OUTPUT`, saying so."""
    if len(result.stdout) <= MAX_OUTPUT and len(result.stderr) <= MAX_OUTPUT:
        return result
    note = f"\n[output truncated at {MAX_OUTPUT} bytes]\n"
    return result.model_copy(update={"stdout": result.stdout[:MAX_OUTPUT] + (note if len(result.stdout) > MAX_OUTPUT
                                                                              else ""),
                                     "stderr": result.stderr[:MAX_OUTPUT]})


class _Handler(socketserver.StreamRequestHandler):
    server: _Server
    timeout = READ_TIMEOUT

    def handle(self) -> None:
        try:
            raw = self.rfile.readline(MAX_REQUEST + 1)
        except OSError:
            return
        if len(raw) > MAX_REQUEST:
            result = CommandResult(stderr=f"error: request too large (over {MAX_REQUEST} bytes)\n", exit_code=1)
        else:
            try:
                request = KubectlRequest.model_validate_json(raw)
                result = self.server.plane.run(request)
            except ValidationError:
                result = CommandResult(stderr="error: malformed request to the control plane\n", exit_code=1)
        try:
            self.wfile.write(cap(result).model_dump_json().encode() + b"\n")
        except OSError:
            return


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
        bin_dir = self.directory / "bin"
        bin_dir.mkdir(mode=0o755)
        shutil.copyfile(CLIENT, bin_dir / "kubectl")
        os.chmod(bin_dir / "kubectl", 0o755)
        os.symlink("kubectl", bin_dir / "crane")
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

    def run(self, request: KubectlRequest) -> CommandResult:
        """Interpret one request under the cluster's lock."""
        with self.lock:
            client = Crane(self.cluster) if request.program == "crane" else Kubectl(self.cluster)
            return client.run(request.argv, request.contents())

    def request(self, argv: list[str], files: dict[str, str | bytes] | None = None,
                program: Literal["kubectl", "crane"] = "kubectl") -> CommandResult:
        """Run a command in-process (for the host side and tests), like the client would."""
        blobs = {p: base64.b64encode(d.encode() if isinstance(d, str) else d).decode()
                 for p, d in (files or {}).items()}
        return cap(self.run(KubectlRequest(program=program, argv=argv, blobs=blobs)))
