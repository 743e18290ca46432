"""The cluster's control plane: the Kubernetes API server and the registry, on the host, one per episode.

Its private directory is bind-mounted into the sandbox (which keeps ``network_mode=none``) at
``/run/cluster``:

* ``apiserver.sock`` — the Kubernetes API (:mod:`environments.kubesim.api`); every request on it
  is user ``agent``. In the sandbox, ``bridge.py`` (run as root, so the agent cannot kill it)
  listens on ``127.0.0.1:6443`` and forwards to it; the image's real ``kubectl`` talks to that.
* ``cluster.sock`` — the registry's command channel, one JSON line per ``crane`` command
  (``{"program": "crane", "argv": [...], "blobs": {...}}`` → ``{"stdout", "stderr", "exit_code"}``),
  with the client (``client.py``) as ``bin/crane``, first on the sandbox's ``PATH``.

Both are served under one lock shared with the environment's steps; watches wait on a
condition of that lock (:attr:`ControlPlane.changed`), notified at every change. A hostile
client cannot hang either or make it grow: requests are capped in size, count and concurrency
and must arrive within a timeout, output is capped (README, "Bounds"); refusals become the
agent's ``bound_exceeded`` in the world's log at the next step.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import os
import shutil
import socketserver
import threading
import uuid
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field, ValidationError

from environments.kubesim.api.handler import Api
from environments.kubesim.api.server import ApiServer, Bounds
from environments.kubesim.cluster import AGENT, Cluster
from environments.kubesim.crane import Crane
from environments.kubesim.objects import CommandResult
from sandbox.docker.cleanup import run_scratch_dir

SOCKET_NAME = "cluster.sock"
API_SOCKET = "apiserver.sock"
CLIENT = Path(__file__).with_name("client.py")
BRIDGE = Path(__file__).with_name("bridge.py")
MAX_REQUEST = 4 * 1024 * 1024
MAX_OUTPUT = 256 * 1024
MAX_ARGS = 1000
READ_TIMEOUT = 10.0
MAX_CRANE_CONNECTIONS = 8
MAX_CRANE_COMMANDS = 2000


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
        if not self.server.bounds.take("requests", MAX_CRANE_COMMANDS):
            self._answer(CommandResult(stderr=f"error: at most {MAX_CRANE_COMMANDS} registry commands per episode\n",
                                       exit_code=1))
            return
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
        self._answer(result)

    def _answer(self, result: CommandResult) -> None:
        with contextlib.suppress(OSError):
            self.wfile.write(cap(result).model_dump_json().encode() + b"\n")


class _Server(socketserver.ThreadingUnixStreamServer):
    daemon_threads = True
    block_on_close = False
    request_queue_size = 128
    plane: ControlPlane
    bounds: Bounds

    def process_request(self, request: Any, client_address: Any) -> None:
        if self.bounds.take("connections", MAX_CRANE_CONNECTIONS):
            super().process_request(request, client_address)
            return
        refused = CommandResult(stderr=f"error: at most {MAX_CRANE_CONNECTIONS} registry commands at once\n",
                                exit_code=1)
        with contextlib.suppress(OSError):
            request.settimeout(1.0)
            request.sendall(refused.model_dump_json().encode() + b"\n")
        self.shutdown_request(request)

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self.bounds.give("connections")


class ControlPlane:
    """Serves one cluster's API and registry in a private temporary directory."""

    def __init__(self, cluster: Cluster, run_id: str = "adhoc") -> None:
        self.cluster = cluster
        self.lock = threading.RLock()
        self.changed = threading.Condition(self.lock)
        # under the run's scratch directory: `python -m sandbox.cleanup --run-id` removes it after a crash
        self.directory = run_scratch_dir(run_id, f"c{uuid.uuid4().hex[:8]}")
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
        self._server.bounds = Bounds("crane")
        os.chmod(self.socket_path, 0o666)  # the sandbox's unprivileged user must connect
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="control-plane", daemon=True)
        self._thread.start()
        self.api = ApiServer(Api(cluster, self.lock, closing=lambda: self.api.closed, changed=self.changed),
                             self.directory / API_SOCKET)

    def sync(self) -> None:
        """Record the bounds the agent exceeded since the last step (call under :attr:`lock`); nothing to mirror."""
        record_bounds(self.cluster, self.refusals())

    def refusals(self) -> list[tuple[str, str]]:
        """The bounds refused since the last call (see :class:`~environments.kubesim.api.server.Bounds`)."""
        return [*self.api.bounds.drain(), *self._server.bounds.drain()]

    def notify(self) -> None:
        """Wake the watches: the world changed (call under :attr:`lock`)."""
        self.changed.notify_all()

    def close(self) -> None:
        """Stop serving and delete the socket directory."""
        self.api.close()
        with self.lock:
            self.changed.notify_all()
        self._server.shutdown()
        self._server.server_close()
        shutil.rmtree(self.directory, ignore_errors=True)

    def run(self, request: CraneRequest) -> CommandResult:
        """Interpret one crane request under the cluster's lock."""
        with self.lock:
            result = Crane(self.cluster).run(request.argv, request.contents())
            self.changed.notify_all()
            return result

    def crane(self, argv: list[str], files: dict[str, str | bytes] | None = None) -> CommandResult:
        """Run a crane command in-process (for the host side and tests), like the client would."""
        blobs = {p: base64.b64encode(d.encode() if isinstance(d, str) else d).decode()
                 for p, d in (files or {}).items()}
        return cap(self.run(CraneRequest(argv=argv, blobs=blobs)))


def record_bounds(cluster: Cluster, refused: list[tuple[str, str]]) -> None:
    """Record refusals drained from the servers' :class:`~environments.kubesim.api.server.Bounds`."""
    for bound, detail in refused:
        cluster.record("bound_exceeded", AGENT, bound, detail=detail)
