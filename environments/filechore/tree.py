"""Fingerprints of the workspace's file tree: content, type, mode, owner, inode and ctime.

A snapshot is taken inside the sandbox by a small Python program run as root (not as the
agent), which walks ``/workspace`` without following symlinks. Every path gets a
:class:`FileState`; a path the harness cannot read (the agent made it unreadable) gets
``kind="unreadable"``, which never equals its earlier state. ``ctime`` and ``inode`` catch a
file that was moved away and back, rewritten and restored, or chmod-ed and chmod-ed back
within one command: no user can set a file's ctime.
"""

from __future__ import annotations

import json
from typing import Literal

from pydantic import BaseModel, Field, ValidationError

from sandbox.errors import WorldUnreadable
from sandbox.protocol import Sandbox

Kind = Literal["file", "dir", "symlink", "other", "unreadable"]

SNAPSHOT_PROGRAM = r"""
import hashlib, json, os, stat, sys
root = sys.argv[1]
out = {}
def visit(path):
    rel = os.path.relpath(path, root)
    try:
        st = os.lstat(path)
    except OSError:
        out[rel] = {"kind": "unreadable"}
        return
    kind = ("dir" if stat.S_ISDIR(st.st_mode) else "file" if stat.S_ISREG(st.st_mode)
            else "symlink" if stat.S_ISLNK(st.st_mode) else "other")
    state = {"kind": kind, "mode": stat.S_IMODE(st.st_mode), "uid": st.st_uid, "gid": st.st_gid,
             "inode": st.st_ino, "ctime_ns": st.st_ctime_ns, "size": st.st_size}
    if kind == "file":
        try:
            fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
            with os.fdopen(fd, "rb") as handle:
                state["sha256"] = hashlib.sha256(handle.read()).hexdigest()[:16]
        except OSError:
            state["kind"] = "unreadable"
    elif kind == "symlink":
        state["target"] = os.readlink(path)
    out[rel] = state
    if kind == "dir":
        try:
            names = sorted(os.listdir(path))
        except OSError:
            out[rel] = {**state, "kind": "unreadable"}
            return
        for name in names:
            visit(os.path.join(path, name))
visit(root)
out.pop(".", None)
sys.stdout.write(json.dumps(out, sort_keys=True))
"""


class FileState(BaseModel):
    """One path's state. Two states are equal only if nothing about the path changed.

    ``inode`` and ``ctime_ns`` are compared but not serialised: they differ between runs of
    the same episode, and logs of the same policy and seed must be identical.
    """

    kind: Kind
    mode: int | None = None
    uid: int | None = None
    gid: int | None = None
    inode: int | None = Field(default=None, exclude=True)
    ctime_ns: int | None = Field(default=None, exclude=True)
    size: int | None = None
    sha256: str | None = None
    target: str | None = None

    def differences(self, other: FileState | None) -> list[str]:
        """What changed from ``self`` to ``other`` (``None``: the path is gone)."""
        if other is None:
            return ["missing"]
        if "unreadable" in (self.kind, other.kind):
            return [] if self.kind == other.kind == "unreadable" else ["made unreadable"]
        checks = {"type": self.kind != other.kind, "content": self.sha256 != other.sha256,
                  "mode": self.mode != other.mode, "owner": (self.uid, self.gid) != (other.uid, other.gid),
                  "replaced": self.inode != other.inode, "symlink target": self.target != other.target}
        changed = [name for name, differs in checks.items() if differs]
        if not changed and self.ctime_ns != other.ctime_ns:
            changed.append("touched (moved, rewritten or chmod-ed and restored)")
        return changed


Snapshot = dict[str, FileState]


def snapshot(sandbox: Sandbox, root: str = "/workspace", timeout: float = 30.0) -> Snapshot:
    """Fingerprint every path under ``root`` as root.

    Raises:
        SandboxUnavailable: the sandbox is gone.
        WorldUnreadable: it answered, but not with a snapshot (e.g. it cannot fork).
    """
    result = sandbox.exec(["python3", "-I", "-c", SNAPSHOT_PROGRAM, root], timeout=timeout, user="0")
    try:
        raw = json.loads(result.stdout) if result.ok else None
        if not isinstance(raw, dict):
            raise ValueError(result.stderr.strip()[-300:] or f"exit code {result.exit_code}")
        return {path: FileState.model_validate(state) for path, state in raw.items()}
    except (ValueError, ValidationError) as exc:
        raise WorldUnreadable(f"the workspace could not be read: {exc}") from None
