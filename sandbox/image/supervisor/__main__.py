"""The sandbox supervisor: the harness's process inside every sandbox container (stdlib only).

It runs as root with a handful of capabilities while every agent command runs as the agent's
uid (no capabilities, ``no-new-privileges``) in its own session, so the agent can neither
signal nor stop it. The host talks to it over a unix socket in a bind-mounted directory
(``--socket PATH``), or, as a fallback, through one ``docker exec`` (``--stdio``). One request
per connection, in frames of ``type (1 byte) | length (4 bytes, big-endian) | payload``:

* client → supervisor: ``H`` JSON header, then ``I`` stdin or ``D`` file data, ``E`` end of stdin;
* supervisor → client: ``O`` stdout, ``R`` stderr, ``D`` file data, then one ``X`` JSON result.

Operations (``op`` in the header): ``ping``, ``exec``, ``read``, ``write``, ``stop_agent``, and
``tree`` (the state of every path under ``root``, bounded by ``options``, as JSON lines on
stdout; see ``tree.py``) and ``probe`` (the host's read-only code run as root, the agent's
processes stopped; ``probe.py``).
Deadlines are enforced here, out of the agent's reach.
"""

import os
import selectors
import signal
import socket
import struct
import sys

import probe
import tree
from commands import ExecJob
from files import ReadJob, WriteJob
from loop import Conn, Failure, Loop
from recycle import recycle
from users import stop_agent

PEER = struct.Struct("3i")


def dispatch(conn: Conn, header: dict):
    """The job for a request header (quick operations are answered at once)."""
    op = header.get("op")
    if op == "exec":
        return ExecJob(conn, header)
    if op == "read":
        return ReadJob(conn, header)
    if op == "write":
        return WriteJob(conn, header)
    if op == "tree":
        root, options = str(header.get("root") or "/"), str(header.get("options") or "{}")
        return ExecJob(conn, {**header, "argv": ["tree", root]}, run=lambda: tree.main(root, options))
    if op == "probe":  # the host's read-only code as root, agent frozen (probe.py)
        return ExecJob(conn, {**header, "argv": ["probe"], "user": "0", "cwd": "/"}, run=lambda: probe.main(header))
    if op == "ping":
        conn.finish({"ok": True, "pid": os.getpid()})
    elif op == "stop_agent":
        conn.finish({"ok": True, "killed": stop_agent(int(header.get("uid", 1000)))})
    elif op == "recycle":
        conn.finish(recycle(conn, header))
    else:
        raise Failure("bad_request", f"unknown operation {op!r}")
    return None


def serve_socket(path: str) -> None:
    """Serve forever on a unix socket that only processes outside the container may use."""
    loop = Loop(dispatch)
    if os.path.lexists(path):
        os.unlink(path)
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    os.chmod(path, 0o600)
    listener.listen(512)
    listener.setblocking(False)

    def accept() -> None:
        try:
            sock, _ = listener.accept()
        except OSError:
            return
        pid = PEER.unpack(sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, PEER.size))[0]
        if pid != 0:  # a process of this container (pid 0: not in our pid namespace, i.e. the host)
            sock.close()
            return
        Conn(loop, sock.fileno(), sock.fileno(), closer=sock.close)

    loop.want(listener.fileno(), selectors.EVENT_READ, accept)
    loop.run()


def main(argv: list) -> int:
    os.setgroups([])
    os.umask(0o022)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    signal.signal(signal.SIGPIPE, signal.SIG_IGN)
    if argv[:1] == ["--socket"] and len(argv) == 2:
        serve_socket(argv[1])
    elif argv == ["--stdio"]:
        loop = Loop(dispatch)
        Conn(loop, 0, 1)
        loop.run(once=True)
    else:
        sys.stderr.write("usage: supervisor --socket PATH | --stdio\n")
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
