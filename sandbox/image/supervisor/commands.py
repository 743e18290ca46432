"""Command requests: run a command as a user, in its own session, with its deadline kept here.

At the deadline the command's whole session gets SIGKILL (stopped processes included) and the
answer goes out at most ``KILL_GRACE`` later, whatever still holds the output pipes: processes
that escaped the session cannot hold the caller. Output beyond the caller's limit is counted,
not sent. Whether the command timed out is known here, never guessed from its exit code.
"""

import contextlib
import errno
import os
import selectors
import signal
import time

from loop import CHUNK, HIGH_WATER, Failure, Job
from users import resolve_user

KILL_GRACE = 1.0
CHILD_OOM_SCORE_ADJ = "500"
"""Commands go before the supervisor when the container runs out of memory."""


class ExecJob(Job):
    """One command, from fork to result.

    With ``run``, the forked child calls ``run()`` (as the user, in the working directory)
    instead of executing ``argv``: a built-in operation that costs a fork, not a program start.
    """

    def __init__(self, conn, header: dict, run=None) -> None:
        self.conn, self.loop = conn, conn.loop
        self.started = time.monotonic()
        self.deadline = self.started + float(header.get("timeout", 30))
        self.limit = int(header.get("max_output", 10 * 1024 * 1024))
        self.forwarded = {b"O": 0, b"R": 0}
        self.omitted = {b"O": 0, b"R": 0}
        self.status: int | None = None
        self.spawn_error = b""
        self.timed_out = self.finished = False
        self.stdin_buf = bytearray()
        self.stdin_done = not header.get("stdin")
        user = resolve_user(header.get("user", "0"))
        argv = [str(a) for a in header["argv"]]
        cwd = os.path.normpath(os.path.join(header.get("workdir") or "/", header.get("cwd") or "."))
        env = dict(os.environ)
        env.update(header.get("env") or {})
        if header.get("stdin"):
            stdin_r, stdin_w = os.pipe()
            self.stdin_w: int | None = stdin_w
        else:
            stdin_r, self.stdin_w = os.open(os.devnull, os.O_RDONLY), None
        out_r, out_w = os.pipe()
        err_r, err_w = os.pipe()
        report_r, report_w = os.pipe()
        try:
            self.pid = os.fork()
        except OSError as exc:
            for fd in (stdin_r, self.stdin_w, out_r, out_w, err_r, err_w, report_r, report_w):
                if fd is not None:
                    os.close(fd)
            raise Failure("spawn_failed", f"cannot start a process: {exc.strerror}", errno=exc.errno) from None
        if self.pid == 0:
            child(argv, env, cwd, user, (stdin_r, out_w, err_w), report_w, run)
        for fd in (stdin_r, out_w, err_w, report_w):
            os.close(fd)
        self.fds = {out_r: b"O", err_r: b"R", report_r: b"S"}
        for fd in (*self.fds, self.stdin_w):
            if fd is not None:
                os.set_blocking(fd, False)
        self.pidfd: int | None = os.pidfd_open(self.pid)
        self.loop.want(self.pidfd, selectors.EVENT_READ, self.on_exit)
        self.loop.deadlines.add(self)
        self.watch_pipes()

    def wants_input(self) -> bool:
        return not self.stdin_done and len(self.stdin_buf) < HIGH_WATER

    def feed(self, kind: bytes, payload: bytes) -> None:
        if kind == b"I" and not self.stdin_done and self.stdin_w is not None:
            self.stdin_buf += payload
        elif kind == b"E":
            self.stdin_done = True
        self.watch_pipes()

    def watch_pipes(self) -> None:
        """Read output only while the client keeps up; write stdin while there is some."""
        if self.finished:
            return
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

    def on_stdin(self) -> None:
        if self.stdin_w is None:
            return
        try:
            del self.stdin_buf[:os.write(self.stdin_w, self.stdin_buf[:CHUNK])]
        except BlockingIOError:
            return
        except OSError:  # the command closed its stdin: drop what it will never read
            self.stdin_buf.clear()
            self.stdin_done = True
        self.watch_pipes()
        self.conn.watch()

    def on_pipe(self, fd: int) -> None:
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
            self.spawn_error += data
        else:
            room = max(0, self.limit - self.forwarded[kind])
            if room:
                self.conn.send(kind, data[:room])
                self.forwarded[kind] += min(room, len(data))
            self.omitted[kind] += max(0, len(data) - room)
        self.progress()

    def on_exit(self) -> None:
        try:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
        except ChildProcessError:
            pid, status = self.pid, 0
        if pid:
            code = os.waitstatus_to_exitcode(status)
            self.status = 128 - code if code < 0 else code  # killed by signal N: 128 + N, as shells say
            self.close_pidfd()
        self.progress()

    def close_pidfd(self) -> None:
        if self.pidfd is not None:
            self.loop.forget(self.pidfd)
            os.close(self.pidfd)
            self.pidfd = None

    def expire(self) -> None:
        if self.timed_out:
            self.complete()
            return
        self.timed_out = True
        self.kill()
        self.deadline = time.monotonic() + KILL_GRACE
        self.loop.deadlines.add(self)

    def kill(self) -> None:
        with contextlib.suppress(OSError):
            os.killpg(self.pid, signal.SIGKILL)

    def progress(self) -> None:
        if self.status is not None and not self.fds:
            self.complete()
        else:
            self.watch_pipes()
            self.conn.watch()

    def complete(self) -> None:
        if self.finished:
            return
        status = self.status
        self.release()
        message = None
        if self.spawn_error:
            stage, _, message = self.spawn_error.decode("utf-8", "replace").partition(":")
            status = 127 if stage == "notfound" else 126
        self.conn.finish({
            "exit_code": status if status is not None else 137, "timed_out": self.timed_out,
            "duration": time.monotonic() - self.started, "spawn_error": message,
            "omitted_stdout": self.omitted[b"O"], "omitted_stderr": self.omitted[b"R"],
        })

    def release(self) -> None:
        """Close everything; a command still running is killed and reaped later."""
        self.finished = True
        self.loop.deadlines.discard(self)
        for fd in list(self.fds):
            self.loop.forget(fd)
            os.close(fd)
        self.fds = {}
        if self.stdin_w is not None:
            self.loop.forget(self.stdin_w)
            os.close(self.stdin_w)
            self.stdin_w = None
        self.close_pidfd()
        if self.status is None:
            self.kill()
            self.loop.orphans.add(self.pid)

    def abandon(self) -> None:
        if not self.finished:
            self.kill()
            self.release()


def child(argv: list, env: dict, cwd: str, user: tuple, stdio: tuple, report: int, run=None) -> None:
    """In the forked child: a new session, the user's ids, then exec (or ``run()``). Never returns."""
    uid, gid, groups = user
    stage = "setup"
    try:
        os.setsid()
        for target, fd in enumerate(stdio):
            os.dup2(fd, target)
        for signum in (signal.SIGPIPE, signal.SIGXFSZ):
            signal.signal(signum, signal.SIG_DFL)
        try:
            with open("/proc/self/oom_score_adj", "w") as adj:
                adj.write(CHILD_OOM_SCORE_ADJ)
        except OSError:
            pass
        os.setgroups(groups)
        os.setresgid(gid, gid, gid)
        os.setresuid(uid, uid, uid)
        stage = "chdir"
        os.chdir(cwd)
        os.umask(0o022)
        if run is not None:
            os.closerange(3, report)  # the supervisor's sockets and pipes: not the built-in's business
            os.closerange(report + 1, os.sysconf("SC_OPEN_MAX"))
            run()
            os._exit(0)
        stage = "exec"
        os.execvpe(argv[0], argv, env)
    except OSError as exc:
        if stage == "chdir":
            text = f"cannot change directory to {cwd}: {exc.strerror}"
        else:
            text = f"{argv[0] if argv else ''}: {exc.strerror}"
        kind = "notfound" if stage == "exec" and exc.errno == errno.ENOENT else "failed"
        os.write(report, f"{kind}:{text}".encode())
    except BaseException as exc:
        os.write(report, f"failed:{exc}".encode())
    os._exit(127)
