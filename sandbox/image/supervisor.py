"""The sandbox supervisor: the harness's process inside every sandbox container (stdlib only).

It runs as root with a handful of capabilities while every agent command runs as the agent's
uid (no capabilities, ``no-new-privileges``) in its own session, so the agent can neither
signal it nor stop it. The host talks to it over a unix socket in a bind-mounted directory
(``--socket PATH``), or, as a fallback, through one ``docker exec`` (``--stdio``). One
request per connection, in frames of ``type (1 byte) | length (4 bytes, big-endian) | payload``:

* client → supervisor: ``H`` JSON header, then ``I`` stdin / ``D`` file data, ``E`` end of stdin;
* supervisor → client: ``O`` stdout, ``R`` stderr, ``D`` file data, then one ``X`` JSON result.

Operations (``op`` in the header): ``ping``, ``exec``, ``read``, ``write``, ``stop_agent``.
Deadlines are enforced here, by a process the agent cannot touch: a command past its timeout
has its session killed and the answer goes out within ``KILL_GRACE`` whatever the processes do.
File operations never fork (they work when the agent has used up the pids limit): paths are
resolved with the requesting user's effective ids, FIFOs, devices and sockets are refused.
"""

import errno
import grp
import json
import os
import pwd
import selectors
import signal
import socket
import stat
import struct
import sys
import time

HEAD = struct.Struct(">cI")
CHUNK = 256 * 1024
HIGH_WATER = 4 * 1024 * 1024
KILL_GRACE = 1.0
ERRORS = {errno.ENOENT: "not_found", errno.ENOTDIR: "not_found", errno.EACCES: "permission",
          errno.EPERM: "permission", errno.EROFS: "permission", errno.EISDIR: "is_directory",
          errno.ENXIO: "special_file", errno.ELOOP: "not_found", errno.ENOSPC: "no_space"}
SPECIAL = {stat.S_IFIFO: "a FIFO", stat.S_IFCHR: "a character device", stat.S_IFBLK: "a block device",
           stat.S_IFSOCK: "a socket"}


class Failure(Exception):
    """A request that fails with a typed error (``kind``) and a message for the caller."""

    def __init__(self, kind, message, **extra):
        super().__init__(message)
        self.kind, self.extra = kind, extra

    def answer(self):
        return dict(self.extra, error=self.kind, message=str(self))


def os_failure(exc, path):
    return Failure(ERRORS.get(exc.errno, "os_error"), "%s: %r" % (exc.strerror or exc, path))


def resolve_user(spec):
    """``(uid, gid, groups)`` for ``"name"``, ``"uid"``, ``"uid:gid"`` or ``"name:group"``."""
    name, _, group = str(spec).partition(":")
    try:
        entry = pwd.getpwuid(int(name)) if name.isdigit() else pwd.getpwnam(name)
        uid, gid, login = entry.pw_uid, entry.pw_gid, entry.pw_name
    except KeyError:
        if not name.isdigit():
            raise Failure("no_user", "unable to find user %s: no matching entries in passwd file" % name) from None
        uid, gid, login = int(name), int(name), None
    if group:
        try:
            gid = int(group) if group.isdigit() else grp.getgrnam(group).gr_gid
        except KeyError:
            raise Failure("no_user", "unable to find group %s: no matching entries in group file" % group) from None
    groups = [g for g in (os.getgrouplist(login, gid) if login else [gid]) if g != gid] if uid else []
    return uid, gid, groups


class Credentials:
    """Act with a user's effective ids for path lookups (single-threaded, so process-wide is fine)."""

    def __init__(self, user):
        self.uid, self.gid, self.groups = user

    def __enter__(self):
        if self.uid:
            os.setgroups(self.groups)
            os.setegid(self.gid)
            os.seteuid(self.uid)
        return self

    def __exit__(self, *exc):
        if self.uid:
            os.seteuid(0)
            os.setegid(0)
            os.setgroups([])


def resolve_path(path, workdir):
    return os.path.normpath(os.path.join(workdir or "/", path))


def agent_processes():
    """Pids of every process not running as root (the agent's, whatever it did to them)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/%s/status" % entry, "rb") as status:
                for line in status:
                    if line.startswith(b"Uid:"):
                        if int(line.split()[1]) != 0:
                            found.append(int(entry))
                        break
        except OSError:
            continue
    return found


def stop_agent():
    """Stop, then kill, every non-root process; forks nothing (works under a fork flood)."""
    stopped = set()
    for _ in range(200):
        fresh = [pid for pid in agent_processes() if pid not in stopped]
        if not fresh:
            break
        for pid in fresh:
            try:
                os.kill(pid, signal.SIGSTOP)
            except OSError:
                pass
            stopped.add(pid)
    for pid in stopped:
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
    deadline = time.monotonic() + 2.0
    while agent_processes() and time.monotonic() < deadline:
        time.sleep(0.01)
    return len(stopped)


class Conn:
    """One client connection and the request it carries."""

    def __init__(self, loop, rfd, wfd, closer=None):
        self.loop, self.rfd, self.wfd, self.closer = loop, rfd, wfd, closer
        self.inbuf, self.outbuf = bytearray(), bytearray()
        self.job, self.closing, self.closed, self.eof = None, False, False, False
        os.set_blocking(rfd, False)
        os.set_blocking(wfd, False)
        self.watch()

    def watch(self):
        want_read = not self.eof and not self.closing and (self.job is None or self.job.wants_input())
        self.loop.want(self.rfd, selectors.EVENT_READ, self.on_read if want_read else None)
        want_write = bool(self.outbuf) or (self.job is not None and self.job.wants_output())
        self.loop.want(self.wfd, selectors.EVENT_WRITE, self.on_write if want_write else None)

    def send(self, kind, payload=b""):
        self.outbuf += HEAD.pack(kind, len(payload))
        self.outbuf += payload

    def finish(self, result):
        self.send(b"X", json.dumps(result).encode())
        self.job, self.closing = None, True
        self.watch()

    def on_read(self):
        try:
            data = os.read(self.rfd, CHUNK)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if not data:
            self.eof = True
            if self.job is not None:
                self.job.abandon()
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
        if not self.closed:
            self.watch()

    def on_frame(self, kind, payload):
        try:
            if kind == b"H" and self.job is None:
                job = start(self, json.loads(payload))
                if not self.closing:
                    self.job = job
            elif self.job is not None:
                self.job.feed(kind, payload)
        except Failure as failure:
            self.finish(failure.answer())
        except (ValueError, KeyError, TypeError) as exc:
            self.finish({"error": "bad_request", "message": "malformed request: %r" % (exc,)})

    def on_write(self):
        if self.job is not None and len(self.outbuf) < CHUNK:
            try:
                self.job.produce()
            except Failure as failure:
                self.finish(failure.answer())
        if self.outbuf:
            try:
                sent = os.write(self.wfd, self.outbuf[:CHUNK])
            except BlockingIOError:
                sent = 0
            except OSError:
                if self.job is not None:
                    self.job.abandon()
                self.close()
                return
            del self.outbuf[:sent]
        if self.closing and not self.outbuf:
            self.close()
        else:
            self.watch()

    def close(self):
        if self.closed:
            return
        self.closed = True
        self.loop.forget(self.rfd)
        self.loop.forget(self.wfd)
        if self.closer:
            self.closer()
        self.loop.done(self)


class Job:
    """Base of a request's work; the connection asks it for input, output and progress."""

    deadline = None

    def wants_input(self):
        return False

    def wants_output(self):
        return False

    def feed(self, kind, payload):
        raise Failure("bad_request", "unexpected frame %r" % kind)

    def produce(self):
        pass

    def expire(self):
        pass

    def abandon(self):
        pass


class ExecJob(Job):
    """A command as a user, in its own session, with its deadline enforced from here."""

    def __init__(self, conn, header):
        self.conn, self.loop = conn, conn.loop
        self.started = time.monotonic()
        self.deadline = self.started + float(header.get("timeout", 30))
        self.limit = int(header.get("max_output", 10 * 1024 * 1024))
        self.forwarded = {b"O": 0, b"R": 0}
        self.omitted = {b"O": 0, b"R": 0}
        self.status = self.spawn_error = None
        self.timed_out = self.finished = False
        self.stdin_buf, self.stdin_done = bytearray(), not header.get("stdin")
        uid, gid, groups = resolve_user(header.get("user", "0"))
        argv = header["argv"]
        cwd = resolve_path(header.get("cwd") or ".", header.get("workdir"))
        env = dict(os.environ)
        env.update(header.get("env") or {})
        stdin_r, self.stdin_w = os.pipe() if header.get("stdin") else (os.open(os.devnull, os.O_RDONLY), None)
        out_r, out_w = os.pipe()
        err_r, err_w = os.pipe()
        self.err_pipe, report_w = os.pipe()
        try:
            self.pid = os.fork()
        except OSError as exc:
            for fd in (stdin_r, self.stdin_w, out_r, out_w, err_r, err_w, self.err_pipe, report_w):
                if fd is not None:
                    os.close(fd)
            raise Failure("spawn_failed", "cannot start a process: %s" % exc.strerror) from None
        if self.pid == 0:
            child(argv, env, cwd, uid, gid, groups, (stdin_r, out_w, err_w), report_w)
        for fd in (stdin_r, out_w, err_w, report_w):
            os.close(fd)
        self.fds = {out_r: b"O", err_r: b"R", self.err_pipe: b"S"}
        for fd in (*self.fds, self.stdin_w):
            if fd is not None:
                os.set_blocking(fd, False)
        self.pidfd = os.pidfd_open(self.pid)
        self.loop.want(self.pidfd, selectors.EVENT_READ, self.on_exit)
        self.watch_pipes()
        self.loop.watch_deadline(self)

    def wants_input(self):
        return not self.stdin_done and len(self.stdin_buf) < HIGH_WATER

    def feed(self, kind, payload):
        if kind == b"I" and not self.stdin_done:
            if self.stdin_w is not None:
                self.stdin_buf += payload
        elif kind == b"E":
            self.stdin_done = True
        self.watch_pipes()

    def watch_pipes(self):
        room = len(self.conn.outbuf) < HIGH_WATER
        for fd in self.fds:
            self.loop.want(fd, selectors.EVENT_READ, (lambda fd=fd: self.on_pipe(fd)) if room else None)
        if self.stdin_w is not None:
            if self.stdin_buf:
                self.loop.want(self.stdin_w, selectors.EVENT_WRITE, self.on_stdin)
            else:
                self.loop.forget(self.stdin_w)
                if self.stdin_done:
                    os.close(self.stdin_w)
                    self.stdin_w = None

    def on_stdin(self):
        try:
            written = os.write(self.stdin_w, self.stdin_buf[:CHUNK])
            del self.stdin_buf[:written]
        except BlockingIOError:
            return
        except OSError:  # the command closed its stdin: drop what it will never read
            self.stdin_buf.clear()
            self.stdin_done = True
        self.watch_pipes()
        self.conn.watch()

    def on_pipe(self, fd):
        try:
            data = os.read(fd, CHUNK)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        kind = self.fds[fd]
        if not data:
            self.loop.forget(fd)
            os.close(fd)
            del self.fds[fd]
        elif kind == b"S":
            self.spawn_error = (self.spawn_error or b"") + data
        else:
            room = max(0, self.limit - self.forwarded[kind])
            if room:
                self.conn.send(kind, data[:room])
                self.forwarded[kind] += min(room, len(data))
            self.omitted[kind] += max(0, len(data) - room)
        self.progress()

    def on_exit(self):
        try:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
        except ChildProcessError:
            pid, status = self.pid, 0
        if pid:
            code = os.waitstatus_to_exitcode(status)
            self.status = 128 - code if code < 0 else code  # killed by signal N: 128 + N, as shells say
            self.loop.forget(self.pidfd)
            os.close(self.pidfd)
            self.pidfd = None
        self.progress()

    def expire(self):
        if not self.timed_out:
            self.timed_out = True
            self.kill()
            self.deadline = time.monotonic() + KILL_GRACE
            self.loop.watch_deadline(self)
        else:
            self.complete()

    def kill(self):
        try:
            os.killpg(self.pid, signal.SIGKILL)
        except OSError:
            pass

    def progress(self):
        if self.status is not None and not self.fds:
            self.complete()
        elif not self.finished:
            self.watch_pipes()
            self.conn.watch()

    def complete(self):
        if self.finished:
            return
        self.finished = True
        self.release()
        status = self.status
        message = None
        if self.spawn_error:
            stage, _, text = self.spawn_error.decode("utf-8", "replace").partition(":")
            message = text
            status = 127 if stage == "notfound" else 126
        self.conn.finish({
            "exit_code": status if status is not None else 137, "timed_out": self.timed_out,
            "duration": time.monotonic() - self.started, "spawn_error": message,
            "omitted_stdout": self.omitted[b"O"], "omitted_stderr": self.omitted[b"R"],
        })

    def release(self):
        self.loop.cancel_deadline(self)
        for fd in list(self.fds):
            self.loop.forget(fd)
            os.close(fd)
        self.fds = {}
        if self.stdin_w is not None:
            self.loop.forget(self.stdin_w)
            os.close(self.stdin_w)
            self.stdin_w = None
        if self.pidfd is not None:
            self.loop.forget(self.pidfd)
            os.close(self.pidfd)
            self.pidfd = None
        if self.status is None:
            self.kill()
            self.loop.orphans.add(self.pid)

    def abandon(self):
        self.kill()
        self.finished = True
        self.release()


def child(argv, env, cwd, uid, gid, groups, stdio, report):
    """In the forked child: become the user, in a new session, and exec (never returns)."""
    stage = "setup"
    try:
        os.setsid()
        for target, fd in enumerate(stdio):
            os.dup2(fd, target)
        for signum in (signal.SIGPIPE, signal.SIGXFSZ):
            signal.signal(signum, signal.SIG_DFL)
        try:
            with open("/proc/self/oom_score_adj", "w") as adj:
                adj.write("500")  # commands go before the supervisor when memory runs out
        except OSError:
            pass
        os.setgroups(groups)
        os.setresgid(gid, gid, gid)
        os.setresuid(uid, uid, uid)
        stage = "chdir"
        os.chdir(cwd)
        os.umask(0o022)
        stage = "exec"
        os.execvpe(argv[0], argv, env)
    except OSError as exc:
        if stage == "chdir":
            text = "cannot change directory to %s: %s" % (cwd, exc.strerror)
        else:
            text = "%s: %s" % (argv[0] if argv else "", exc.strerror)
        kind = "notfound" if stage == "exec" and exc.errno == errno.ENOENT else "failed"
        os.write(report, ("%s:%s" % (kind, text)).encode())
    except BaseException as exc:
        os.write(report, ("failed:%s" % exc).encode())
    os._exit(127)


class ReadJob(Job):
    """Stream one regular file to the client."""

    def __init__(self, conn, header):
        self.conn = conn
        self.deadline = time.monotonic() + float(header.get("timeout", 60))
        self.limit = int(header.get("max_bytes", 1 << 62))
        path = resolve_path(header["path"], header.get("workdir"))
        with Credentials(resolve_user(header.get("user", "0"))):
            try:
                self.fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC)
            except OSError as exc:
                raise os_failure(exc, header["path"]) from None
        info = os.fstat(self.fd)
        kind = stat.S_IFMT(info.st_mode)
        if kind == stat.S_IFDIR or kind in SPECIAL:
            os.close(self.fd)
            if kind == stat.S_IFDIR:
                raise Failure("is_directory", "Is a directory: %r" % header["path"])
            raise Failure("special_file", "%r is %s, not a regular file" % (header["path"], SPECIAL[kind]))
        if info.st_size > self.limit:
            os.close(self.fd)
            raise Failure("too_large", "%r is %d bytes, over the limit of %d bytes" % (
                header["path"], info.st_size, self.limit), size=info.st_size, limit=self.limit)
        self.sent = 0
        conn.loop.watch_deadline(self)

    def wants_output(self):
        return True

    def produce(self):
        data = os.read(self.fd, CHUNK)
        self.sent += len(data)
        if self.sent > self.limit:
            self.abandon()
            raise Failure("too_large", "file is over the limit of %d bytes" % self.limit, limit=self.limit)
        if data:
            self.conn.send(b"D", data)
            return
        self.abandon()
        self.conn.finish({"ok": True, "size": self.sent})

    def expire(self):
        self.abandon()
        self.conn.finish({"error": "timeout", "message": "reading the file took too long"})

    def abandon(self):
        self.conn.loop.cancel_deadline(self)
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None


class WriteJob(Job):
    """Receive files and write each one (parents created, mode set) as the requesting user."""

    def __init__(self, conn, header):
        self.conn, self.header = conn, header
        self.deadline = time.monotonic() + float(header.get("timeout", 60))
        self.user = resolve_user(header.get("user", "0"))
        self.files = list(header["files"])
        self.fd, self.left = None, 0
        conn.loop.watch_deadline(self)
        self.next_file()

    def wants_input(self):
        return True

    def next_file(self):
        while self.fd is None and self.files:
            entry = self.files.pop(0)
            self.open(entry)
            self.left = int(entry["size"])
            if self.left == 0:
                os.close(self.fd)
                self.fd = None
        if self.fd is None and not self.files:
            self.conn.loop.cancel_deadline(self)
            self.conn.finish({"ok": True})

    def open(self, entry):
        path = resolve_path(entry["path"], self.header.get("workdir"))
        flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC
        if self.user[0] == 0:
            flags |= os.O_NOFOLLOW  # the harness never writes through a link the agent planted
        with Credentials(self.user):
            try:
                os.makedirs(os.path.dirname(path), exist_ok=True)
                self.fd = os.open(path, flags, 0o600)
            except OSError as exc:
                raise os_failure(exc, entry["path"]) from None
        kind = stat.S_IFMT(os.fstat(self.fd).st_mode)
        if kind != stat.S_IFREG:
            os.close(self.fd)
            self.fd = None
            raise Failure("special_file", "%r is %s, not a regular file" % (entry["path"], SPECIAL.get(kind, "special")))
        try:
            os.fchmod(self.fd, int(str(entry.get("mode", "0644")), 8))
        except OSError:
            pass  # someone else's file we may write but not chmod: keep its mode

    def feed(self, kind, payload):
        if kind != b"D" or self.fd is None or len(payload) > self.left:
            raise Failure("bad_request", "file data does not match the header")
        try:
            view = memoryview(payload)
            while view:
                view = view[os.write(self.fd, view):]
        except OSError as exc:
            self.abandon()
            raise os_failure(exc, "file") from None
        self.left -= len(payload)
        if self.left == 0:
            os.close(self.fd)
            self.fd = None
            self.next_file()

    def expire(self):
        self.abandon()
        self.conn.finish({"error": "timeout", "message": "writing the files took too long"})

    def abandon(self):
        self.conn.loop.cancel_deadline(self)
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None


def start(conn, header):
    """The job for a request header (answered at once for the quick operations)."""
    op = header.get("op")
    if op == "exec":
        return ExecJob(conn, header)
    if op == "read":
        return ReadJob(conn, header)
    if op == "write":
        return WriteJob(conn, header)
    if op == "ping":
        conn.finish({"ok": True, "pid": os.getpid()})
    elif op == "stop_agent":
        conn.finish({"ok": True, "killed": stop_agent()})
    else:
        raise Failure("bad_request", "unknown operation %r" % op)
    return None


class Loop:
    """A single-threaded event loop: it needs no new thread or process to answer."""

    def __init__(self):
        self.selector = selectors.DefaultSelector()
        self.handlers = {}
        self.deadlines = set()
        self.orphans = set()
        self.conns = set()

    def want(self, fd, events, handler):
        slot = self.handlers.setdefault(fd, {})
        if handler is None:
            slot.pop(events, None)
        else:
            slot[events] = handler
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

    def forget(self, fd):
        self.handlers.pop(fd, None)
        if fd in self.selector.get_map():
            self.selector.unregister(fd)

    def watch_deadline(self, job):
        self.deadlines.add(job)

    def cancel_deadline(self, job):
        self.deadlines.discard(job)

    def done(self, conn):
        self.conns.discard(conn)

    def run(self, once=False):
        while True:
            now = time.monotonic()
            for job in [j for j in self.deadlines if j.deadline <= now]:
                self.deadlines.discard(job)
                job.expire()
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
                slot = self.handlers.get(key.fd, {})
                for bit in (selectors.EVENT_READ, selectors.EVENT_WRITE):
                    if events & bit and bit in slot and key.fd in self.handlers:
                        try:
                            slot[bit]()
                        except Exception as exc:  # a bug must not take the sandbox down
                            sys.stderr.write("supervisor: %r\n" % (exc,))


def serve_socket(path):
    """Serve forever on a unix socket only the host can reach."""
    loop = Loop()
    if os.path.exists(path):
        os.unlink(path)
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    os.chmod(path, 0o600)
    listener.listen(256)
    listener.setblocking(False)
    peer = struct.Struct("3i")

    def accept():
        try:
            sock, _ = listener.accept()
        except OSError:
            return
        pid, _, _ = peer.unpack(sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, peer.size))
        if pid != 0:  # a process inside this container: only the host may talk to the supervisor
            sock.close()
            return
        loop.conns.add(Conn(loop, sock.fileno(), sock.fileno(), closer=sock.close))

    loop.want(listener.fileno(), selectors.EVENT_READ, accept)
    loop.run()


def serve_stdio():
    """Answer one request on stdin/stdout (the ``docker exec`` fallback)."""
    loop = Loop()
    loop.conns.add(Conn(loop, 0, 1))
    loop.run(once=True)


def main(argv):
    os.setgroups([])
    os.umask(0o022)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    signal.signal(signal.SIGPIPE, signal.SIG_IGN)
    if argv[:1] == ["--socket"] and len(argv) == 2:
        serve_socket(argv[1])
    elif argv == ["--stdio"]:
        serve_stdio()
    else:
        sys.stderr.write("usage: supervisor.py --socket PATH | --stdio\n")
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
