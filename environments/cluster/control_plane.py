"""The cluster's control plane: the Kubernetes API server and the registry, on the host, one per episode.

Its private directory is bind-mounted into the sandbox (which keeps ``network_mode=none``) at
``/run/cluster``:

* ``apiserver.sock`` — the Kubernetes API (:mod:`environments.cluster.api`); every request on it
  is user ``agent``. In the sandbox, ``bridge.py`` (run as root, so the agent cannot kill it)
  listens on ``127.0.0.1:6443`` and forwards to it; the image's real ``kubectl`` talks to that.
* ``cluster.sock`` — the registry's command channel, one JSON line per ``crane`` command
  (``{"program": "crane", "argv": [...], "blobs": {...}}`` → ``{"stdout", "stderr", "exit_code"}``),
  with the client (``client.py``) as ``bin/crane``, first on the sandbox's ``PATH``.

Both are served under one lock shared with the environment's steps. A hostile client cannot
hang either: requests are capped in size and must arrive within a timeout, output is capped.
"""

from __future__ import annotations

import base64
import binascii
import os
import shutil
import socketserver
import threading
import uuid
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, ValidationError

from environments.cluster.api.handler import Api
from environments.cluster.api.server import ApiServer
from environments.cluster.cluster import Cluster
from environments.cluster.crane import Crane
from environments.cluster.objects import CommandResult
from sandbox.cleanup import run_scratch_dir

SOCKET_NAME = "cluster.sock"
API_SOCKET = "apiserver.sock"
CLIENT = Path(__file__).with_name("client.py")
BRIDGE = Path(__file__).with_name("bridge.py")
MAX_REQUEST = 4 * 1024 * 1024
MAX_OUTPUT = 256 * 1024
MAX_ARGS = 1000
READ_TIMEOUT = 10.0


class CraneRequest(BaseModel):
    """One command from the crane client."""

    program: Literal["crane"] = "crane"
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
                request = CraneRequest.model_validate_json(raw)
                result = self.server.plane.run(request)
            except ValidationError:
                result = CommandResult(stderr="error: malformed request to the control plane\n", exit_code=1)
        try:
            self.wfile.write(cap(result).model_dump_json().encode() + b"\n")
        except OSError:
            return


class _Server(socketserver.ThreadingUnixStreamServer):
    daemon_threads = True
    block_on_close = False
    plane: ControlPlane


class ControlPlane:
    """Serves one cluster's API and registry in a private temporary directory."""

    def __init__(self, cluster: Cluster, run_id: str = "adhoc") -> None:
        self.cluster = cluster
        self.lock = threading.RLock()
        # under the run's scratch directory: `python -m sandbox.cleanup --run-id` removes it after a crash
        self.directory = run_scratch_dir(run_id, f"cluster-{uuid.uuid4().hex[:12]}")
        os.chmod(self.directory, 0o755)
        bin_dir = self.directory / "bin"
        bin_dir.mkdir(mode=0o755)
        shutil.copyfile(CLIENT, bin_dir / "crane")
        os.chmod(bin_dir / "crane", 0o755)
        shutil.copyfile(BRIDGE, self.directory / "bridge.py")
        os.chmod(self.directory / "bridge.py", 0o644)
        os.symlink("/usr/bin/python3", bin_dir / "kube-bridge")  # its own process name: `pkill python3` spares it
        self.socket_path = self.directory / SOCKET_NAME
        self._server = _Server(str(self.socket_path), _Handler)
        self._server.plane = self
        os.chmod(self.socket_path, 0o666)  # the sandbox's unprivileged user must connect
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="control-plane", daemon=True)
        self._thread.start()
        self.api = ApiServer(Api(cluster, self.lock, closing=lambda: self.api.closed),
                             self.directory / API_SOCKET)

    def sync(self) -> None:
        """Nothing to mirror: the simulated cluster is the world."""

    def close(self) -> None:
        """Stop serving and delete the socket directory."""
        self.api.close()
        self._server.shutdown()
        self._server.server_close()
        shutil.rmtree(self.directory, ignore_errors=True)

    def run(self, request: CraneRequest) -> CommandResult:
        """Interpret one crane request under the cluster's lock."""
        with self.lock:
            return Crane(self.cluster).run(request.argv, request.contents())

    def crane(self, argv: list[str], files: dict[str, str | bytes] | None = None) -> CommandResult:
        """Run a crane command in-process (for the host side and tests), like the client would."""
        blobs = {p: base64.b64encode(d.encode() if isinstance(d, str) else d).decode()
                 for p, d in (files or {}).items()}
        return cap(self.run(CraneRequest(argv=argv, blobs=blobs)))
