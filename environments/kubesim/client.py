#!/usr/bin/env python3
"""crane client: sends argv and the files it names to the registry's socket in the control plane.

Installed as ``crane`` in the control plane's ``bin/`` (first on the sandbox's ``PATH``). Runs in
the sandbox's python3 (standard library only). kubectl is the real one, talking to the API server.
"""
import base64
import contextlib
import json
import os
import socket
import sys
from collections.abc import Iterator

SOCKET = os.environ.get("CRANE_SOCKET", "/run/cluster/cluster.sock")
FILE_FLAGS = {"crane": ("-f", "--new_layer")}
MAX_BYTES = 3 * 1024 * 1024


def named_paths(program: str, argv: list[str]) -> Iterator[str]:
    """The file arguments of the command (``--from-file=key=path`` gives ``path``)."""
    flags = FILE_FLAGS.get(program, ())
    for index, arg in enumerate(argv):
        if arg in flags and index + 1 < len(argv):
            value = argv[index + 1]
        elif "=" in arg and arg.split("=", 1)[0] in flags:
            value = arg.split("=", 1)[1]
        else:
            continue
        yield value


def read_files(program: str, argv: list[str]) -> dict[str, bytes]:
    """The bytes of every file (or directory's files) the command names."""
    blobs: dict[str, bytes] = {}
    for path in named_paths(program, argv):
        if path == "-":
            blobs[path] = sys.stdin.buffer.read()
        elif os.path.isdir(path):
            for name in sorted(os.listdir(path)):
                full = os.path.join(path, name)
                if os.path.isfile(full):
                    with open(full, "rb") as handle:
                        blobs[os.path.join(path.rstrip("/"), name)] = handle.read(MAX_BYTES + 1)
        elif os.path.isfile(path):
            with open(path, "rb") as handle:
                blobs[path] = handle.read(MAX_BYTES + 1)
    return blobs


def main() -> int:
    """Send the command, print the reply, exit with its code."""
    program = "crane"
    argv = sys.argv[1:]
    try:
        blobs = read_files(program, argv)
    except OSError as exc:
        sys.stderr.write(f"error: {exc}\n")
        return 1
    if sum(len(b) for b in blobs.values()) > MAX_BYTES:
        sys.stderr.write(f"error: the files of this command exceed {MAX_BYTES} bytes\n")
        return 1
    texts = {}
    for path, data in blobs.items():
        with contextlib.suppress(UnicodeDecodeError):
            texts[path] = data.decode()
    request = {"program": program, "argv": argv, "files": texts,
               "blobs": {p: base64.b64encode(d).decode() for p, d in blobs.items()}}
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
            conn.settimeout(30)
            conn.connect(SOCKET)
            conn.sendall(json.dumps(request).encode() + b"\n")
            data = b""
            while not data.endswith(b"\n"):
                chunk = conn.recv(65536)
                if not chunk:
                    break
                data += chunk
        reply = json.loads(data)
    except (OSError, ValueError):
        sys.stderr.write("The connection to the server was refused - did you specify the right host or port?\n")
        return 1
    sys.stdout.write(reply.get("stdout", ""))
    sys.stderr.write(reply.get("stderr", ""))
    return int(reply.get("exit_code", 1))


if __name__ == "__main__":
    sys.exit(main())
