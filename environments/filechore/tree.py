"""Fingerprints of the workspace's file tree: content, type, mode, owner, inode and ctime.

A snapshot is the sandbox's bounded :meth:`~sandbox.protocol.Sandbox.stat_tree` of
``/workspace``, read as root (not as the agent) without following symlinks, the paths the
world watches read first. Every listed path gets a :class:`~sandbox.tree.PathState`; a path the
harness cannot read (the agent made it unreadable) gets ``kind="unreadable"``, which never
equals its earlier state. ``ctime`` and ``inode`` catch a file that was moved away and back,
rewritten and restored, or chmod-ed and chmod-ed back within one command: no user can set a
file's ctime.
"""

from __future__ import annotations

from sandbox.protocol import Sandbox
from sandbox.tree import TreeWalk, WalkRequest

Snapshot = TreeWalk


def snapshot(sandbox: Sandbox, walk: WalkRequest, root: str = "/workspace", timeout: float = 30.0) -> Snapshot:
    """Fingerprint the paths under ``root`` as root, within ``walk``'s bounds.

    Raises:
        SandboxUnavailable: the sandbox is gone.
        WorldUnreadable: it answered, but not with a walk (e.g. the walker could not start).
    """
    return sandbox.stat_tree(root, timeout=timeout, walk=walk)
