"""The state of a directory tree inside a sandbox: every path's type, mode, owner and content.

:meth:`sandbox.protocol.Sandbox.stat_tree` returns one :class:`PathState` per path under a
root, read as root without following symlinks; the walker is the stdlib-only module the
supervisor runs in a forked child (``sandbox/image/supervisor/tree.py``), and backends without
a supervisor send the same file to ``python3``. Monitors compare two trees with
:meth:`PathState.differences`: ``inode`` and ``ctime_ns`` catch a file moved away and back,
rewritten and restored, or chmod-ed and chmod-ed back, because no user can set a ctime.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, ValidationError

from sandbox.errors import WorldUnreadable
from sandbox.spec import ExecResult

PathKind = Literal["file", "dir", "symlink", "other", "unreadable"]


@cache
def tree_program() -> str:
    """The walker's source, for backends that run it with ``python3 -c PROGRAM ROOT``."""
    return (Path(__file__).parent / "image" / "supervisor" / "tree.py").read_text()


class PathState(BaseModel):
    """One path's state. Two states are equal only if nothing about the path changed.

    ``inode`` and ``ctime_ns`` are compared but not serialised: they differ between runs of
    the same episode, and logs of the same policy and seed must be identical.
    """

    kind: PathKind
    mode: int | None = None
    uid: int | None = None
    gid: int | None = None
    inode: int | None = Field(default=None, exclude=True)
    ctime_ns: int | None = Field(default=None, exclude=True)
    size: int | None = None
    sha256: str | None = None
    target: str | None = None

    def differences(self, other: PathState | None) -> list[str]:
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


TreeState = dict[str, PathState]


def parse_tree(result: ExecResult, root: str) -> TreeState:
    """The walker's answer as states.

    Raises:
        WorldUnreadable: it answered, but not with a tree (it failed, timed out or was cut).
    """
    try:
        raw = json.loads(result.stdout) if result.ok and not result.truncated else None
        if not isinstance(raw, dict):
            raise ValueError(result.stderr.strip()[-300:] or f"exit code {result.exit_code}")
        return {path: PathState.model_validate(state) for path, state in raw.items()}
    except (ValueError, ValidationError) as exc:
        raise WorldUnreadable(f"the tree under {root} could not be read: {exc}") from None
