"""Reading and writing files in a sandbox through its supervisor.

The supervisor opens paths with the requesting user's ids (the agent's by default), refuses
FIFOs, devices and sockets, streams content of any size and never forks, so file operations
work (and end in time) whatever the agent did to its processes. Failures are typed:
:class:`~sandbox.errors.SandboxFileNotFound`, :class:`~sandbox.errors.SandboxPermissionError`,
:class:`~sandbox.errors.SandboxIsADirectory`, :class:`~sandbox.errors.SandboxSpecialFile`,
:class:`~sandbox.errors.SandboxFileTooLarge`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from sandbox.docker.channel import Requester, data_frames
from sandbox.errors import (
    SandboxFileError,
    SandboxFileNotFound,
    SandboxFileTooLarge,
    SandboxIsADirectory,
    SandboxPermissionError,
    SandboxSpecialFile,
)
from sandbox.spec import SandboxSpec

FILE_TIMEOUT = 60.0
"""Seconds one file operation may take inside the sandbox."""
ANSWER_GRACE = 10.0
DEFAULT_READ_LIMIT = 100 * 1024**2
"""The largest file :func:`read_file` returns unless told otherwise (Inspect's default)."""

_ERRORS: dict[str, type[SandboxFileError]] = {
    "not_found": SandboxFileNotFound, "permission": SandboxPermissionError,
    "is_directory": SandboxIsADirectory, "special_file": SandboxSpecialFile,
}


def file_error(result: Mapping[str, Any]) -> SandboxFileError:
    """The typed error for a failed file operation, from the supervisor's answer."""
    message = str(result.get("message", result.get("error", "file operation failed")))
    if result.get("error") == "too_large":
        return SandboxFileTooLarge(message, size=int(result.get("size", -1)), limit=int(result.get("limit", 0)))
    return _ERRORS.get(str(result.get("error")), SandboxFileError)(message)


def read_file(request: Requester, spec: SandboxSpec, path: str, *, user: str | None = None,
              max_bytes: int | None = None) -> bytes:
    """The whole content of ``path`` (relative paths are relative to the work directory).

    Raises:
        SandboxFileTooLarge: the file is larger than ``max_bytes`` (default 100 MiB).
        SandboxFileError: (a subclass saying why) the file cannot be read.
    """
    limit = DEFAULT_READ_LIMIT if max_bytes is None else max_bytes
    header = {"op": "read", "path": path, "user": user or spec.user, "workdir": spec.workdir,
              "max_bytes": limit, "timeout": FILE_TIMEOUT}
    reply = request(header, (), timeout=FILE_TIMEOUT + ANSWER_GRACE)
    if "error" in reply.result:
        raise file_error(reply.result)
    return reply.data


def _file_frames(blobs: list[bytes]) -> Iterator[bytes]:
    for blob in blobs:
        yield from data_frames(b"D", blob)


def write_files(request: Requester, spec: SandboxSpec, files: Mapping[str, bytes | str], mode: str = "0644",
                *, user: str | None = None) -> None:
    """Write several files in one request (parents created, ``mode`` set).

    Raises:
        SandboxFileError: (a subclass saying why) a file cannot be written.
    """
    blobs = [data.encode() if isinstance(data, str) else bytes(data) for data in files.values()]
    entries = [{"path": path, "size": len(blob), "mode": mode} for path, blob in zip(files, blobs, strict=True)]
    header = {"op": "write", "files": entries, "user": user or spec.user, "workdir": spec.workdir,
              "timeout": FILE_TIMEOUT}
    reply = request(header, _file_frames(blobs), timeout=FILE_TIMEOUT + ANSWER_GRACE)
    if "error" in reply.result:
        raise file_error(reply.result)
