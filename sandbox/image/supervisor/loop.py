"""The supervisor's event loop and its connections (one request per connection).

Single-threaded: answering never needs a new thread or process, so the supervisor keeps
answering when the agent has used up the container's pids limit.
"""

import json
import os
import selectors
import struct
import sys
import time

HEAD = struct.Struct(">cI")
CHUNK = 256 * 1024
HIGH_WATER = 4 * 1024 * 1024


class Failure(Exception):
    """A request that fails with a typed error (``kind``) and a message for the caller."""

    def __init__(self, kind: str, message: str, **extra: object) -> None:
        super().__init__(message)
        self.kind, self.extra = kind, extra

    def answer(self) -> dict:
        return dict(self.extra, error=self.kind, message=str(self))


class Job:
    """Base of a request's work; its connection asks it for input, output and progress."""

    deadline = float("inf")

    def wants_input(self) -> bool:
        return False

    def wants_output(self) -> bool:
        return False

    def feed(self, kind: bytes, payload: bytes) -> None:
        raise Failure("bad_request", f"unexpected frame {kind!r}")

    def produce(self) -> None:
        """Queue more output (called when the connection can take it)."""

    def expire(self) -> None:
        """The deadline passed."""

    def abandon(self) -> None:
        """The client went away: release everything."""


class Loop:
    """Dispatches readiness of file descriptors, deadlines of jobs, and reaps orphans."""

    def __init__(self, dispatch) -> None:
        self.dispatch = dispatch
        self.selector = selectors.DefaultSelector()
        self.handlers: dict = {}
        self.deadlines: set = set()
        self.orphans: set = set()
        self.conns: set = set()

    def want(self, fd: int, event: int, handler) -> None:
        """Call ``handler`` when ``fd`` is ready for ``event`` (``None``: stop watching it)."""
        slot = self.handlers.setdefault(fd, {})
        if handler is None:
            slot.pop(event, None)
        else:
            slot[event] = handler
        mask = 0
        for bit in slot:
            mask |= bit
        registered = fd in self.selector.get_map()
        if mask and registered:
            self.selector.modify(fd, mask)
        elif mask:
            self.selector.register(fd, mask)
        elif registered:
            self.selector.unregister(fd)

    def forget(self, fd: int) -> None:
        self.handlers.pop(fd, None)
        if fd in self.selector.get_map():
            self.selector.unregister(fd)

    def run(self, once: bool = False) -> None:
        """Serve until killed (or, with ``once``, until the last connection closes)."""
        while True:
            now = time.monotonic()
            for job in [j for j in self.deadlines if j.deadline <= now]:
                self.deadlines.discard(job)
                self._guarded(job.expire)
            for pid in list(self.orphans):
                try:
                    if os.waitpid(pid, os.WNOHANG)[0]:
                        self.orphans.discard(pid)
                except ChildProcessError:
                    self.orphans.discard(pid)
            if once and not self.conns:
                return
            wait = min([j.deadline for j in self.deadlines], default=now + 1.0) - now
            for key, events in self.selector.select(max(0.0, min(wait, 1.0))):
                for bit in (selectors.EVENT_READ, selectors.EVENT_WRITE):
                    handler = self.handlers.get(key.fd, {}).get(bit)
                    if events & bit and handler is not None:
                        self._guarded(handler)

    @staticmethod
    def _guarded(handler) -> None:
        try:
            handler()
        except Exception as exc:  # a bug must not take the sandbox down
            sys.stderr.write(f"supervisor: {exc!r}\n")


class Conn:
    """One client connection: parses frames in, queues frames out, drives its job."""

    def __init__(self, loop: Loop, rfd: int, wfd: int, closer=None) -> None:
        self.loop, self.rfd, self.wfd, self.closer = loop, rfd, wfd, closer
        self.inbuf, self.outbuf = bytearray(), bytearray()
        self.job = None
        self.closing = self.closed = False
        os.set_blocking(rfd, False)
        os.set_blocking(wfd, False)
        loop.conns.add(self)
        self.watch()

    def watch(self) -> None:
        """Register interest in reading and writing according to the state."""
        if self.closed:
            return
        reading = not self.closing and (self.job is None or self.job.wants_input())
        self.loop.want(self.rfd, selectors.EVENT_READ, self.on_read if reading else None)
        writing = bool(self.outbuf) or (self.job is not None and self.job.wants_output())
        self.loop.want(self.wfd, selectors.EVENT_WRITE, self.on_write if writing else None)

    def send(self, kind: bytes, payload: bytes = b"") -> None:
        self.outbuf += HEAD.pack(kind, len(payload))
        self.outbuf += payload

    def finish(self, result: dict) -> None:
        """Queue the result frame; the connection closes once it is out."""
        self.send(b"X", json.dumps(result).encode())
        self.job, self.closing = None, True
        self.watch()

    def on_read(self) -> None:
        try:
            data = os.read(self.rfd, CHUNK)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if not data:
            self.close()
            return
        self.inbuf += data
        while len(self.inbuf) >= HEAD.size and not self.closing:
            kind, size = HEAD.unpack_from(self.inbuf)
            if len(self.inbuf) < HEAD.size + size:
                break
            payload = bytes(self.inbuf[HEAD.size:HEAD.size + size])
            del self.inbuf[:HEAD.size + size]
            self.on_frame(kind, payload)
        self.watch()

    def on_frame(self, kind: bytes, payload: bytes) -> None:
        try:
            if kind == b"H" and self.job is None:
                job = self.loop.dispatch(self, json.loads(payload))
                if not self.closing:
                    self.job = job
            elif self.job is not None:
                self.job.feed(kind, payload)
        except Failure as failure:
            self.fail(failure)
        except (ValueError, KeyError, TypeError) as exc:
            self.fail(Failure("bad_request", f"malformed request: {exc!r}"))

    def fail(self, failure: Failure) -> None:
        if self.job is not None:
            self.job.abandon()
        self.finish(failure.answer())

    def on_write(self) -> None:
        if self.job is not None and len(self.outbuf) < CHUNK:
            try:
                self.job.produce()
            except Failure as failure:
                self.fail(failure)
        if self.outbuf:
            try:
                sent = os.write(self.wfd, self.outbuf[:CHUNK])
            except BlockingIOError:
                sent = 0
            except OSError:
                self.close()
                return
            del self.outbuf[:sent]
        if self.closing and not self.outbuf:
            self.close()
        else:
            self.watch()

    def close(self) -> None:
        """Drop the connection (and whatever its job still holds)."""
        if self.closed:
            return
        self.closed = True
        if self.job is not None:
            self.job.abandon()
            self.job = None
        self.loop.forget(self.rfd)
        self.loop.forget(self.wfd)
        if self.closer:
            self.closer()
        self.loop.conns.discard(self)
