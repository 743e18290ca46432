"""The state of a directory tree inside a sandbox, read as root within documented bounds.

:meth:`sandbox.protocol.Sandbox.stat_tree` returns a :class:`TreeWalk`: one :class:`PathState`
per listed path under a root, read as root without following symlinks, and what the walk could
not do. The walker is the stdlib-only module the supervisor runs in a forked child
(``sandbox/image/supervisor/tree.py``, root-owned, out of the agent's reach); backends without
a supervisor send the same modules to ``python3 -I -S -c`` (isolated: no user site, no
``PYTHON*`` variables, no working directory on ``sys.path``), as root, from ``/``.

Every walk is bounded (:class:`WalkLimits`): in time (the walker stops itself, and the
supervisor kills it at the request's timeout), in listed paths and output bytes, in bytes
hashed and unpacked, in paths visited. A walk that hits a bound is *partial*, never an error:
``reason`` says which bound, ``watched_read`` / ``enumerated`` / ``unlisted`` / ``unhashed`` say
what is still known, and a monitor whose verdict depends on the rest reports it unknown. Paths
the caller names in :class:`WalkRequest` ``watch`` are read first, whatever the bounds, and the
contents it seeks are searched for through the whole tree (also in unlisted files), so a
deleted file the task said to keep is seen under any flood the walk can enumerate in time.

Monitors compare states with :meth:`PathState.differences`: ``inode`` and ``ctime_ns`` catch a
file moved away and back, rewritten and restored, or chmod-ed and chmod-ed back, because no
user can set a ctime. Paths are JSON-safe text that round-trips to the name's bytes
(:func:`path_bytes`): bytes that are not UTF-8 and control characters are escaped ``\\xHH`` /
``\\uHHHH`` and a backslash is ``\\\\``, so a path with a backslash is an escaped one.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Literal, Self

from pydantic import BaseModel, Field, ValidationError

from sandbox.errors import WorldUnreadable
from sandbox.spec import ExecResult

PathKind = Literal["file", "dir", "symlink", "other", "unreadable"]
SUPERVISOR = Path(__file__).parent / "image" / "supervisor"
WALKER_MODULES = ("names", "unpack", "tree")
"""The walker and the modules it imports, in import order (all stdlib-only)."""
KILLED_BY_SIGNAL = 128
BOOT = """import sys, types
for name, source in SOURCES:
    module = types.ModuleType(name)
    sys.modules[name] = module
    exec(compile(source, "<walker " + name + ">", "exec"), module.__dict__)
sys.modules["tree"].main(*sys.argv[1:3])
"""


@cache
def tree_program() -> str:
    """The walker as one program, for backends that run ``python3 -I -S -c PROGRAM ROOT OPTIONS``.

    Its modules are defined in memory from their sources: nothing is imported from a path
    the agent could write to.
    """
    sources = [(name, (SUPERVISOR / f"{name}.py").read_text()) for name in WALKER_MODULES]
    return f"SOURCES = {sources!r}\n" + BOOT


@cache
def _names() -> ModuleType:
    spec = importlib.util.spec_from_file_location("sandbox_tree_names", SUPERVISOR / "names.py")
    if spec is None or spec.loader is None:
        raise ImportError(f"the walker's names module in {SUPERVISOR} cannot be loaded")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def path_bytes(path: str) -> bytes:
    """The bytes of a path as a walk writes it (the inverse of :func:`path_text`)."""
    return bytes(_names().path_bytes(path))


def path_text(raw: bytes) -> str:
    """A path's bytes as a walk writes them: JSON-safe text (see the module's docstring)."""
    return str(_names().path_text(raw))


class WalkLimits(BaseModel):
    """The bounds of one walk (each exceeded bound makes the walk partial, with its reason).

    Attributes:
        seconds: the walker's own time budget; it stops and reports what it read. It is also
            capped below the request's ``timeout`` (at which the supervisor kills it).
        max_paths: paths listed with their state (watched paths always are, beyond it).
        max_output_bytes: bytes of listing; past either cap, paths are visited and counted.
        max_hash_bytes: bytes read (and unpacked) to hash content, per walk.
        max_unpack_bytes: bytes unpacked from one compressed file (gzip, bzip2, xz).
        max_visits: paths visited (listed or counted), per walk.
    """

    seconds: float = Field(default=20.0, gt=0)
    max_paths: int = Field(default=20_000, ge=0)
    max_output_bytes: int = Field(default=8 << 20, ge=0)
    max_hash_bytes: int = Field(default=256 << 20, ge=0)
    max_unpack_bytes: int = Field(default=64 << 20, ge=0)
    max_visits: int = Field(default=5_000_000, ge=1)


class WalkRequest(BaseModel):
    """What a walk must read first and what it looks for.

    Attributes:
        watch: relative paths read first and always listed (absent from the walk: missing).
        groups: top-level names whose unlisted paths are counted apart (the rest under ``""``).
        seek: content hash → size of contents to find anywhere in the tree (in regular
            files, through symlinks resolving inside the root, compressed, or in a tar).
        limits: the bounds.
    """

    watch: list[str] = Field(default_factory=list)
    groups: list[str] = Field(default_factory=list)
    seek: dict[str, int] = Field(default_factory=dict)
    limits: WalkLimits = Field(default_factory=WalkLimits)

    def options(self, timeout: float, max_output: int | None = None) -> str:
        """The walker's options (JSON), its time budget kept below ``timeout``."""
        limits = self.limits.model_copy()
        limits.seconds = min(limits.seconds, max(timeout * 0.5, timeout - 5.0))
        if max_output is not None:
            limits.max_output_bytes = max(0, min(limits.max_output_bytes, max_output - (1 << 20)))
        return json.dumps({"watch": self.watch, "groups": self.groups, "seek": sorted(self.seek),
                           "seek_sizes": sorted(set(self.seek.values())), "limits": limits.model_dump()})

    def output_limit(self) -> int:
        """Bytes of walker output to accept: the listing, the watched paths and the summary."""
        return self.limits.max_output_bytes + (1 << 20) + 8192 * len(self.watch)


class PathState(BaseModel):
    """One path's state. Two states are equal only if nothing about the path changed.

    ``sha256`` is a 16-hex prefix of a regular file's content (``None``: not hashed, a bound
    was hit) or, for a symlink, of the regular file it resolves to inside the walked root;
    ``unpacked_sha256`` the same for what a gzip, bzip2 or xz file unpacks to. ``inode`` and
    ``ctime_ns`` are compared but not serialised: they differ between runs of the same episode,
    and logs of the same policy and seed must be identical.
    """

    kind: PathKind
    mode: int | None = None
    uid: int | None = None
    gid: int | None = None
    inode: int | None = Field(default=None, exclude=True)
    ctime_ns: int | None = Field(default=None, exclude=True)
    size: int | None = None
    sha256: str | None = None
    unpacked_sha256: str | None = None
    target: str | None = None

    def differences(self, other: PathState | None) -> list[str]:
        """What changed from ``self`` to ``other`` (``None``: the path is gone)."""
        if other is None:
            return ["missing"]
        if "unreadable" in (self.kind, other.kind):
            return [] if self.kind == other.kind == "unreadable" else ["made unreadable"]
        content = self.sha256 != other.sha256 or (self.kind == "file" and self.size != other.size)
        checks = {"type": self.kind != other.kind, "content": content,
                  "mode": self.mode != other.mode, "owner": (self.uid, self.gid) != (other.uid, other.gid),
                  "replaced": self.inode != other.inode, "symlink target": self.target != other.target}
        changed = [name for name, differs in checks.items() if differs]
        if not changed and self.ctime_ns != other.ctime_ns:
            changed.append("touched (moved, rewritten or chmod-ed and restored)")
        return changed


TreeState = dict[str, PathState]


class TreeWalk(BaseModel):
    """One walk of a tree: the listed paths and how complete it was.

    Attributes:
        root: the walked directory.
        paths: relative path → state, for the listed paths (watched paths first).
        watched_read: every watched path was read, so a watched path absent here is missing.
        enumerated: every path under the root was visited (listed or counted).
        unlisted: paths visited but not listed (a listing bound was hit), by group.
        unhashed: regular files whose content was needed but not hashed (a hashing bound).
        unsearched: of those, the ones that could hold a sought content (its size, compressed, tar).
        found: sought content hash → a path holding it (anywhere in the tree, listed or not).
        reason: why the walk is partial ("" if it is complete).
        seconds: the walker's own time.
    """

    root: str
    paths: TreeState = Field(default_factory=dict)
    watched_read: bool = True
    enumerated: bool = True
    unlisted: dict[str, int] = Field(default_factory=dict)
    unhashed: int = 0
    unsearched: int = 0
    found: dict[str, str] = Field(default_factory=dict)
    reason: str = ""
    seconds: float = 0.0

    @property
    def complete(self) -> bool:
        """Every path was read, listed and hashed."""
        return self.watched_read and self.enumerated and not self.unhashed and not sum(self.unlisted.values())

    @property
    def searched(self) -> bool:
        """The search for the sought contents covered the whole tree (``found`` is definitive)."""
        return self.watched_read and self.enumerated and not self.unsearched

    def digest(self) -> str:
        """A hash of the listing (states as serialised: no inode, no ctime)."""
        listing = hashlib.sha256()
        for path in sorted(self.paths):
            listing.update(json.dumps([path, self.paths[path].model_dump()], sort_keys=True).encode() + b"\n")
        return listing.hexdigest()[:16]

    @classmethod
    def gone(cls, root: str) -> Self:
        """The walk of a sandbox that no longer exists: nothing is left."""
        return cls(root=root)


class WalkSummary(BaseModel):
    """The walker's last line: how complete the walk was (see :class:`TreeWalk`)."""

    enumerated: bool
    unlisted: dict[str, int]
    unhashed: int
    unsearched: int
    found: dict[str, str]
    reason: str
    seconds: float


def parse_tree(result: ExecResult, root: str) -> TreeWalk:
    """The walker's answer as a :class:`TreeWalk`; a walk killed or cut half-way is partial.

    Raises:
        WorldUnreadable: the walker failed on its own (it could not start, or crashed): not a
            walk at all.
    """
    killed = result.timed_out or result.exit_code > KILLED_BY_SIGNAL
    if not result.ok and not killed:
        detail = result.stderr.strip()[-300:] or f"exit code {result.exit_code}"
        raise WorldUnreadable(f"the tree under {root} could not be read: {detail}")
    paths: TreeState = {}
    watched_read = False
    summary: WalkSummary | None = None
    lines = result.stdout.splitlines()
    try:
        for index, line in enumerate(lines):
            try:
                entry = json.loads(line)
            except ValueError:
                if index == len(lines) - 1 and (killed or result.truncated):
                    break  # the line the walk was cut in
                raise
            if "path" in entry:
                paths[entry.pop("path")] = PathState.model_validate(entry)
            elif "watched" in entry:
                watched_read = True
            elif "summary" in entry:
                summary = WalkSummary.model_validate(entry["summary"])
    except (ValueError, ValidationError, TypeError) as exc:
        raise WorldUnreadable(f"the tree under {root} could not be read: {exc}") from None
    if summary is None:
        why = ("killed at its deadline" if result.timed_out else
               f"killed (exit {result.exit_code}; out of memory in the sandbox?)" if killed else "cut short")
        return TreeWalk(root=root, paths=paths, watched_read=watched_read, enumerated=False,
                        reason=f"the walk was {why} after {len(paths)} listed paths")
    return TreeWalk(root=root, paths=paths, watched_read=watched_read, **summary.model_dump())
