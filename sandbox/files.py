"""Reading and writing files in a sandbox.

The root filesystem is read-only and the work directory is a tmpfs, which Docker's archive
API cannot reach, so files travel through ``exec``: ``cat`` out, base64 chunks in.
"""

from __future__ import annotations

import base64
import shlex
from collections.abc import Mapping
from typing import TYPE_CHECKING

from sandbox.errors import SandboxFileError, SandboxFileNotFound, SandboxIsADirectory, SandboxPermissionError

if TYPE_CHECKING:
    from sandbox.lifecycle import DockerSandbox

CHUNK = 96 * 1024  # base64 text per exec, below Linux's 128 KiB per-argument limit


def file_error(message: str) -> SandboxFileError:
    """The typed error for a failed file operation, from the tool's error message."""
    lower = message.lower()
    if "no such file" in lower or "not a directory" in lower:
        return SandboxFileNotFound(message)
    if "permission denied" in lower or "read-only file system" in lower:
        return SandboxPermissionError(message)
    if "is a directory" in lower:
        return SandboxIsADirectory(message)
    return SandboxFileError(message)


def read_file(box: DockerSandbox, path: str, limit: int = 16 * 1024 * 1024) -> bytes:
    """Return the bytes of ``path`` (at most ``limit`` bytes)."""
    api = box.container.client.api
    exec_id = api.exec_create(
        box.container.id, ["head", "-c", str(limit), path], user=box.spec.user,
        workdir=box.spec.workdir,
    )["Id"]
    out, err = api.exec_start(exec_id, demux=True)
    if api.exec_inspect(exec_id)["ExitCode"] != 0:
        raise file_error((err or b"").decode("utf-8", "replace").strip() or f"cannot read {path}")
    return out or b""


def write_file(box: DockerSandbox, path: str, data: bytes | str, mode: str = "0644") -> None:
    """Write ``data`` to ``path``, creating parent directories."""
    write_files(box, {path: data}, mode=mode)


def write_files(box: DockerSandbox, files: Mapping[str, bytes | str], mode: str = "0644") -> None:
    """Write several files, in as few ``exec`` calls as the argument limit allows."""
    commands: list[str] = []
    for path, data in files.items():
        raw = data.encode() if isinstance(data, str) else data
        encoded = base64.b64encode(raw).decode()
        target = shlex.quote(path)
        commands.append(f"mkdir -p \"$(dirname {target})\" && : > {target} && chmod {mode} {target}")
        commands += [f"printf %s {encoded[i:i + CHUNK]} | base64 -d >> {target}" for i in range(0, len(encoded), CHUNK)]
    batch: list[str] = []
    for command in [*commands, ""]:
        if batch and (not command or sum(map(len, batch)) + len(command) > CHUNK):
            result = box.exec(" && ".join(batch), timeout=30)
            if not result.ok:
                raise file_error(result.stderr.strip() or f"cannot write {', '.join(files)}")
            batch = []
        if command:
            batch.append(command)
