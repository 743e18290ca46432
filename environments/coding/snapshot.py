"""Fingerprints of the sandbox's writable file systems, and the inotify watch log.

Both are taken by root-owned scripts of the image run isolated (``python3 -I -S -B``): the
fingerprint as the agent's uid after every process of that uid has been killed (so nothing can
race it), without following links or blocking on FIFOs; a file this uid cannot read counts as
changed. The watcher runs as the grader's uid, which the agent can neither signal nor read.
"""

from __future__ import annotations

import base64
import re
import shlex
from typing import Literal

from pydantic import BaseModel, Field

from environments.coding.box import (
    AGENT_USER,
    GRADER_DIR,
    GRADER_USER,
    SCRIPTS,
    WRITABLE_ROOTS,
    Box,
    encode,
    run_script,
)
from sandbox.errors import SandboxUnavailable

WATCH_LOG = f"{GRADER_DIR}/watch.log"


class Entry(BaseModel):
    """One file system entry: type (``f d l p s c b``), permission bits, owner, size, digest, link."""

    type: str
    mode: int
    uid: int
    gid: int
    size: int = 0
    digest: str = ""
    target: str = ""

    def same(self, other: Entry) -> bool:
        """Equal type, mode, owner and content (sizes of directories differ harmlessly)."""
        return (self.type, self.mode, self.uid, self.gid, self.digest, self.target) == (
            other.type, other.mode, other.uid, other.gid, other.digest, other.target)


class Snapshot(BaseModel):
    """Entries by absolute path, file contents where asked, and whether the walk was cut short."""

    entries: dict[str, Entry] = Field(default_factory=dict)
    contents: dict[str, bytes] = Field(default_factory=dict, exclude=True)
    hits: dict[str, list[str]] = Field(default_factory=dict)
    truncated: bool = False
    reaped: int = 0

    def text(self, path: str) -> str | None:
        """A file's content as text, if it was captured."""
        data = self.contents.get(path)
        return None if data is None else data.decode("utf-8", "replace")


class Change(BaseModel):
    """A difference between two snapshots at one path."""

    path: str
    what: Literal["new", "deleted", "modified"]
    before: Entry | None = None
    after: Entry | None = None


def take_snapshot(box: Box, reap: bool, content_root: str | None = None, content_names: str | None = None,
                  roots: tuple[str, ...] = WRITABLE_ROOTS, max_entries: int = 20000,
                  needles: tuple[str, ...] = ()) -> Snapshot:
    """Fingerprint ``roots`` as the agent's uid (after killing its processes when ``reap``).

    ``needles``: strings to look for in every regular file (``Snapshot.hits``: path → needles found).
    """
    spec = {"reap": reap, "roots": list(roots), "content_root": content_root, "content_names": content_names,
            "max_entries": max_entries, "needles": list(needles)}
    raw = run_script(box, "fsnap.py", spec, user=AGENT_USER, timeout=60)
    entries = {row[0]: Entry(type=row[1], mode=row[2], uid=row[3], gid=row[4], size=row[5], digest=row[6],
                             target=row[7]) for row in raw["entries"]}
    contents = {path: base64.b64decode(data) for path, data in raw["contents"].items()}
    hits = {path: [needles[i] for i in found] for path, found in raw.get("hits", {}).items()}
    return Snapshot(entries=entries, contents=contents, hits=hits, truncated=raw["truncated"], reaped=raw["reaped"])


def diff(before: Snapshot, after: Snapshot) -> list[Change]:
    """Paths that appeared, disappeared or changed (type, mode, owner or content)."""
    changes = []
    for path in sorted(set(before.entries) | set(after.entries)):
        old, new = before.entries.get(path), after.entries.get(path)
        if old is None:
            changes.append(Change(path=path, what="new", after=new))
        elif new is None:
            changes.append(Change(path=path, what="deleted", before=old))
        elif not old.same(new):
            changes.append(Change(path=path, what="modified", before=old, after=new))
    return changes


class WatchEvent(BaseModel):
    """One inotify event on a watched name (``mask`` as the kernel reports it)."""

    mask: int
    path: str

    def describe(self) -> str:
        """The event's kinds in words, e.g. ``modify+close_write``."""
        names = {0x2: "modify", 0x4: "attrib", 0x8: "close_write", 0x40: "moved_from", 0x80: "moved_to",
                 0x100: "create", 0x200: "delete", 0x400: "delete_self", 0x800: "move_self"}
        return "+".join(n for bit, n in names.items() if self.mask & bit) or hex(self.mask)


class WatchLog(BaseModel):
    """What the watcher saw: events on watched names, overflow, directories it could not watch."""

    events: list[WatchEvent] = Field(default_factory=list)
    overflow: bool = False
    unwatched: list[str] = Field(default_factory=list)
    running: bool = True


def start_watcher(box: Box, names: str, roots: tuple[str, ...] = WRITABLE_ROOTS) -> None:
    """Start the inotify watcher (as the grader's uid) and wait until every directory is watched."""
    spec = encode({"log": WATCH_LOG, "roots": list(roots), "names": names})
    command = (f"setsid python3 -I -S -B {SCRIPTS}/watcher.py start {spec} </dev/null >/dev/null 2>&1 & "
               f"for i in $(seq 2000); do grep -qs '^R$' {shlex.quote(WATCH_LOG)} && exit 0; sleep 0.01; done; exit 1")
    if not box.exec(command, timeout=60, user=GRADER_USER).ok:
        raise SandboxUnavailable("the file watcher did not start")


def stop_watcher(box: Box) -> WatchLog:
    """Stop the watcher and read its log."""
    raw = run_script(box, "watcher.py", {"log": WATCH_LOG}, user=GRADER_USER, timeout=30, args=("stop",))
    log = WatchLog(running=bool(raw["alive"]))
    for line in (raw["log"] or "").splitlines():
        kind, _, rest = line.partition("\t")
        if kind == "O":
            log.overflow = True
        elif kind == "U":
            rest = re.sub(r"pytest-cache-files-\w+", "pytest-cache-files-*", rest)  # pytest's random names
            if rest not in log.unwatched:
                log.unwatched.append(rest)
        elif kind.isdigit():
            log.events.append(WatchEvent(mask=int(kind), path=rest))
    return log


__all__ = ["Change", "Entry", "Snapshot", "WatchEvent", "WatchLog", "diff", "start_watcher",
           "stop_watcher", "take_snapshot"]
