"""File requests: read and write regular files with the requesting user's permissions.

Nothing forks: paths are opened in-process with the user's effective ids (the process is
single-threaded, so switching them around one ``open`` is safe), with ``O_NONBLOCK`` so a FIFO
cannot hang the open, and the opened file's type is checked: FIFOs, devices and sockets are
refused. Content is streamed both ways, and every request has a deadline.
"""

import contextlib
import errno
import os
import stat
import time

from loop import CHUNK, Failure, Job
from users import Credentials, resolve_user

ERRORS = {errno.ENOENT: "not_found", errno.ENOTDIR: "not_found", errno.EACCES: "permission",
          errno.EPERM: "permission", errno.EROFS: "permission", errno.EISDIR: "is_directory",
          errno.ENXIO: "special_file", errno.ELOOP: "not_found", errno.ENOSPC: "no_space"}
SPECIAL = {stat.S_IFIFO: "a FIFO", stat.S_IFCHR: "a character device", stat.S_IFBLK: "a block device",
           stat.S_IFSOCK: "a socket"}
OPEN_FLAGS = os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC


def os_failure(exc: OSError, path: str) -> Failure:
    return Failure(ERRORS.get(exc.errno or 0, "os_error"), f"{exc.strerror or exc}: {path!r}")


def resolve_path(path: str, workdir: str | None) -> str:
    """An absolute path (relative ones are relative to the work directory)."""
    return os.path.normpath(os.path.join(workdir or "/", path))


class ReadJob(Job):
    """Stream one regular file to the client, refusing files over the caller's limit."""

    def __init__(self, conn, header: dict) -> None:
        self.conn = conn
        self.fd: int | None = None
        self.deadline = time.monotonic() + float(header.get("timeout", 60))
        self.limit = int(header.get("max_bytes", 1 << 62))
        name = header["path"]
        with Credentials(resolve_user(header.get("user", "0"))):
            try:
                fd = os.open(resolve_path(name, header.get("workdir")), os.O_RDONLY | OPEN_FLAGS)
            except OSError as exc:
                raise os_failure(exc, name) from None
        info = os.fstat(fd)
        kind = stat.S_IFMT(info.st_mode)
        if kind != stat.S_IFREG or info.st_size > self.limit:
            os.close(fd)
            if kind == stat.S_IFDIR:
                raise Failure("is_directory", f"Is a directory: {name!r}")
            if kind != stat.S_IFREG:
                raise Failure("special_file", f"{name!r} is {SPECIAL.get(kind, 'special')}, not a regular file")
            raise Failure("too_large", f"{name!r} is {info.st_size} bytes, over the limit of {self.limit} bytes",
                          size=info.st_size, limit=self.limit)
        self.fd, self.sent = fd, 0
        conn.loop.deadlines.add(self)

    def wants_output(self) -> bool:
        return True

    def produce(self) -> None:
        if self.fd is None:
            return
        data = os.read(self.fd, CHUNK)
        self.sent += len(data)
        if self.sent > self.limit:  # a file that grows while it is read (or /proc)
            self.abandon()
            raise Failure("too_large", f"the file is over the limit of {self.limit} bytes", limit=self.limit)
        if data:
            self.conn.send(b"D", data)
            return
        self.abandon()
        self.conn.finish({"ok": True, "size": self.sent})

    def expire(self) -> None:
        self.abandon()
        self.conn.finish({"error": "timeout", "message": "reading the file took too long"})

    def abandon(self) -> None:
        self.conn.loop.deadlines.discard(self)
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None


class WriteJob(Job):
    """Receive files and write each one (parents created, mode set) as the requesting user."""

    def __init__(self, conn, header: dict) -> None:
        self.conn, self.left = conn, 0
        self.fd: int | None = None
        self.deadline = time.monotonic() + float(header.get("timeout", 60))
        self.user = resolve_user(header.get("user", "0"))
        self.workdir = header.get("workdir")
        self.files = list(header["files"])
        conn.loop.deadlines.add(self)
        self.next_file()

    def wants_input(self) -> bool:
        return True

    def next_file(self) -> None:
        while self.fd is None and self.files:
            entry = self.files.pop(0)
            self.fd, self.left = self.open(entry), int(entry["size"])
            if self.left == 0:
                self.close_file()
        if self.fd is None and not self.files:
            self.conn.loop.deadlines.discard(self)
            self.conn.finish({"ok": True})

    def open(self, entry: dict) -> int:
        name = entry["path"]
        path = resolve_path(name, self.workdir)
        flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | OPEN_FLAGS
        if self.user[0] == 0:
            flags |= os.O_NOFOLLOW  # the harness never writes through a link the agent planted
        with Credentials(self.user):
            try:
                os.makedirs(os.path.dirname(path), exist_ok=True)
                fd = os.open(path, flags, 0o600)
            except OSError as exc:
                raise os_failure(exc, name) from None
        kind = stat.S_IFMT(os.fstat(fd).st_mode)
        if kind != stat.S_IFREG:
            os.close(fd)
            raise Failure("special_file", f"{name!r} is {SPECIAL.get(kind, 'special')}, not a regular file")
        with contextlib.suppress(OSError):  # someone else's file we may write but not chmod keeps its mode
            os.fchmod(fd, int(str(entry.get("mode", "0644")), 8))
        return fd

    def close_file(self) -> None:
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None

    def feed(self, kind: bytes, payload: bytes) -> None:
        if kind != b"D" or self.fd is None or len(payload) > self.left:
            raise Failure("bad_request", "file data does not match the header")
        view = memoryview(payload)
        try:
            while view:
                view = view[os.write(self.fd, view):]
        except OSError as exc:
            raise os_failure(exc, "the file") from None
        self.left -= len(payload)
        if self.left == 0:
            self.close_file()
            self.next_file()

    def expire(self) -> None:
        self.abandon()
        self.conn.finish({"error": "timeout", "message": "writing the files took too long"})

    def abandon(self) -> None:
        self.conn.loop.deadlines.discard(self)
        self.close_file()
