"""Reading and writing files in a sandbox.

The root filesystem is read-only and the work directory is a tmpfs, which Docker's archive
API cannot reach, so files travel through ``exec``: ``cat`` out, base64 chunks in.
"""

from __future__ import annotations

import base64
import shlex
from typing import TYPE_CHECKING

from sandbox.errors import SandboxError

if TYPE_CHECKING:
    from sandbox.lifecycle import Sandbox

CHUNK = 96 * 1024  # base64 text per exec, below Linux's 128 KiB per-argument limit


class FileError(SandboxError):
    """A file could not be read or written in the sandbox (a result for the agent)."""


def read_file(box: Sandbox, path: str, limit: int = 16 * 1024 * 1024) -> bytes:
    """Return the bytes of ``path`` (at most ``limit`` bytes)."""
    api = box.container.client.api
    exec_id = api.exec_create(
        box.container.id, ["head", "-c", str(limit), path], user=box.spec.user,
        workdir=box.spec.workdir,
    )["Id"]
    out, err = api.exec_start(exec_id, demux=True)
    if api.exec_inspect(exec_id)["ExitCode"] != 0:
        raise FileError((err or b"").decode("utf-8", "replace").strip() or f"cannot read {path}")
    return out or b""


def write_file(box: Sandbox, path: str, data: bytes | str, mode: str = "0644") -> None:
    """Write ``data`` to ``path``, creating parent directories."""
    raw = data.encode() if isinstance(data, str) else data
    encoded = base64.b64encode(raw).decode()
    target = shlex.quote(path)
    first = f"mkdir -p \"$(dirname {target})\" && : > {target} && chmod {mode} {target}"
    commands = [first] + [
        f"printf %s {encoded[i:i + CHUNK]} | base64 -d >> {target}"
        for i in range(0, len(encoded), CHUNK)
    ]
    for command in commands:
        result = box.exec(command, timeout=30)
        if not result.ok:
            raise FileError(result.stderr.strip() or f"cannot write {path}")
