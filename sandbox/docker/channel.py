"""The host's side of the supervisor protocol (see ``sandbox/image/supervisor.py``).

One request per connection: a JSON header frame, then stdin or file data frames; the answer
is output or data frames, then one result frame. Sending and receiving overlap (a command may
answer before it has read all its input), and the whole exchange is bounded by a deadline.
The transport is the supervisor's unix socket (bind-mounted from the host) or, as a fallback,
a ``docker exec`` of the supervisor in ``--stdio`` mode, whose output Docker multiplexes.
"""

from __future__ import annotations

import json
import os
import selectors
import socket
import struct
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

FRAME = struct.Struct(">cI")
CHUNK = 256 * 1024
SUPERVISOR = "/opt/sandbox/supervisor"
SOCKET_DIR = "/run/supervisor"
SOCKET_NAME = "sock"
_DOCKER_HEADER = struct.Struct(">BxxxL")


class ChannelBroken(Exception):
    """The transport failed (refused, reset, closed early): the caller finds out why."""


class ChannelUnreachable(ChannelBroken):
    """Nothing answered the connection: the request was never sent (safe to send elsewhere)."""


class ChannelTimeout(Exception):
    """No answer before the deadline."""


def frame(kind: bytes, payload: bytes = b"") -> bytes:
    """One protocol frame."""
    return FRAME.pack(kind, len(payload)) + payload


def data_frames(kind: bytes, data: bytes) -> Iterator[bytes]:
    """``data`` cut into frames of ``kind``."""
    view = memoryview(data)
    for start in range(0, len(view), CHUNK):
        yield frame(kind, bytes(view[start:start + CHUNK]))


@dataclass
class Reply:
    """A complete answer: the result and the streams that came before it."""

    result: dict[str, Any]
    stdout: bytes = b""
    stderr: bytes = b""
    data: bytes = b""
    omitted: dict[bytes, int] = field(default_factory=dict)


class _Demux:
    """Docker's stream framing (8-byte headers) around the supervisor's stdout."""

    def __init__(self) -> None:
        self.buffer = bytearray()
        self.diagnostics = bytearray()

    def feed(self, raw: bytes) -> bytes:
        self.buffer += raw
        out = bytearray()
        while len(self.buffer) >= _DOCKER_HEADER.size:
            stream, size = _DOCKER_HEADER.unpack_from(self.buffer)
            if len(self.buffer) < _DOCKER_HEADER.size + size:
                break
            payload = self.buffer[_DOCKER_HEADER.size:_DOCKER_HEADER.size + size]
            (out if stream == 1 else self.diagnostics).extend(payload)
            del self.buffer[:_DOCKER_HEADER.size + size]
        return bytes(out)


class _Collector:
    """Parses frames and keeps what the caller asked for (stdout/stderr up to a limit)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.buffer = bytearray()
        self.streams: dict[bytes, bytearray] = {b"O": bytearray(), b"R": bytearray(), b"D": bytearray()}
        self.omitted = {b"O": 0, b"R": 0}
        self.result: dict[str, Any] | None = None

    def feed(self, data: bytes) -> None:
        self.buffer += data
        while len(self.buffer) >= FRAME.size:
            kind, size = FRAME.unpack_from(self.buffer)
            if len(self.buffer) < FRAME.size + size:
                return
            payload = bytes(self.buffer[FRAME.size:FRAME.size + size])
            del self.buffer[:FRAME.size + size]
            if kind == b"X":
                self.result = json.loads(payload)
            elif kind == b"D":
                self.streams[b"D"] += payload
            elif kind in self.omitted:
                kept = self.streams[kind]
                room = max(0, self.limit - len(kept))
                kept += payload[:room]
                self.omitted[kind] += max(0, len(payload) - room)


@dataclass
class Connection:
    """A connected transport to a supervisor.

    Attributes:
        sock: the socket.
        demux: whether Docker's stream framing wraps the answer (``docker exec``).
        owner: an object that must stay alive while the socket is used.
    """

    sock: socket.socket
    demux: bool = False
    owner: Any = None

    def close(self) -> None:
        """Close the transport."""
        self.sock.close()
        closer = getattr(self.owner, "close", None)
        if closer is not None:
            closer()


def call(conn: Connection, header: dict[str, Any], body: Iterable[bytes] = (), *,
         deadline: float, limit: int = 1 << 62) -> Reply:
    """Send one request and return the complete answer (the connection is closed after).

    Raises:
        ChannelBroken: the connection failed or closed before the result frame.
        ChannelTimeout: no result before ``deadline`` (``time.monotonic()``).
    """
    try:
        return _exchange(conn.sock, header, body, deadline, limit, conn.demux)
    finally:
        conn.close()


def _exchange(sock: socket.socket, header: dict[str, Any], body: Iterable[bytes], deadline: float,
              limit: int, demux: bool) -> Reply:
    sock.setblocking(False)
    pending = bytearray(frame(b"H", json.dumps(header).encode()))
    frames = iter(body)
    more, writing = True, True
    collector, demuxer = _Collector(limit), (_Demux() if demux else None)
    with selectors.DefaultSelector() as selector:
        selector.register(sock, selectors.EVENT_READ | selectors.EVENT_WRITE)
        while collector.result is None:
            if writing and not pending and more:
                chunk = next(frames, None)
                more = chunk is not None
                pending += chunk or b""
            if writing and not pending and not more:
                writing = False
                selector.modify(sock, selectors.EVENT_READ)
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise ChannelTimeout("the sandbox supervisor did not answer in time")
            for _, events in selector.select(remaining):
                if events & selectors.EVENT_WRITE and pending:
                    try:
                        sent = sock.send(pending[:1 << 20])
                    except BlockingIOError:
                        sent = 0
                    except OSError:  # the supervisor stopped reading: its answer says why
                        pending.clear()
                        more = writing = False
                        selector.modify(sock, selectors.EVENT_READ)
                        sent = 0
                    del pending[:sent]
                if events & selectors.EVENT_READ:
                    try:
                        data = sock.recv(1 << 20)
                    except BlockingIOError:
                        continue
                    except OSError as exc:
                        raise ChannelBroken(str(exc)) from exc
                    if not data:
                        raise ChannelBroken("the supervisor closed the connection without an answer")
                    collector.feed(demuxer.feed(data) if demuxer else data)
    streams = collector.streams
    return Reply(collector.result, bytes(streams[b"O"]), bytes(streams[b"R"]), bytes(streams[b"D"]),
                 collector.omitted)


def connect_unix(path: str) -> Connection:
    """A connection to the supervisor's socket (long paths go through ``/proc/self/fd``).

    Raises:
        ChannelUnreachable: nothing listens there.
    """
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        if len(path.encode()) < 100:
            sock.connect(path)
        else:
            directory = os.open(os.path.dirname(path), os.O_PATH)
            try:
                sock.connect(f"/proc/self/fd/{directory}/{os.path.basename(path)}")
            finally:
                os.close(directory)
    except OSError as exc:
        sock.close()
        raise ChannelUnreachable(f"cannot reach the supervisor: {exc}") from exc
    return Connection(sock)


def connect_docker_exec(api: Any, container_id: str) -> Connection:
    """A connection to a fresh ``supervisor.py --stdio`` started with ``docker exec`` as root.

    Raises:
        ChannelBroken: Docker could not start it.
    """
    try:
        exec_id = api.exec_create(container_id, ["python3", "-I", "-S", SUPERVISOR, "--stdio"],
                                  stdin=True, user="0:0")["Id"]
        raw = api.exec_start(exec_id, socket=True)
    except Exception as exc:
        raise ChannelBroken(f"docker exec failed: {exc}") from exc
    return Connection(getattr(raw, "_sock", raw), demux=True, owner=raw)


Connector = Callable[[], Connection]
"""Opens a new connection to one sandbox's supervisor."""


class Requester(Protocol):
    """Sends one request to a sandbox's supervisor and returns the complete answer."""

    def __call__(self, header: dict[str, Any], body: Iterable[bytes] = (), *, timeout: float,
                 limit: int = 1 << 62) -> Reply:
        """Raises ``SandboxUnavailable`` (a subclass saying why) when the sandbox cannot answer."""
        ...
