"""The state of every path under a directory, bounded in time, output and hashing (stdlib only).

Run by the supervisor in a forked child (the ``tree`` operation), so a fingerprint costs a
fork, not a Python start; the host's portable fallback sends this module and the two it uses
(``names``, ``unpack``) to ``python3 -I -S -c`` (``sandbox.tree.tree_program``). Nothing here
follows a symlink while walking: directories are opened one component at a time with
``O_NOFOLLOW`` under the root's file descriptor, and special files (FIFOs, sockets, devices)
are never opened.

Output, one JSON object per line, so a walk killed half-way still says what it read:

* ``{"path": P, "kind": …, "mode": …, "uid": …, "gid": …, "inode": …, "ctime_ns": …,
  "size": …, "sha256": …, "unpacked_sha256": …, "target": …}``, the ``watch`` paths first
  (always, whatever the bounds), then ``{"watched": N}``, then the other paths while the listing
  bounds last (``max_paths``, ``max_output_bytes``);
* ``{"summary": {…}}`` last: whether every path was visited (``enumerated``), how many were
  visited but not listed (``unlisted``, by top-level name in ``groups``, the rest under ``""``),
  how many regular files that needed a hash did not get one (``unhashed``) and how many of those
  could hold a sought content (``unsearched``), which of the ``seek`` content hashes were found
  where (``found``), and ``reason`` for any bound that was hit.

``sha256`` is a 16-hex prefix of a regular file's content, or of the regular file a symlink
resolves to inside the root (content identity follows symlinks; a hard-linked inode is hashed
once); ``unpacked_sha256`` the same for what a gzip, bzip2 or xz file unpacks to; the members of
a tar (plain or compressed) count as found too. Paths are JSON-safe text that round-trips
(``names.py``).
"""

import hashlib
import json
import os
import stat
import sys
import time

from names import path_bytes, path_text
from unpack import TAR_MAGIC, Unpack, Untar, packing

LIMITS = {"seconds": 20.0, "max_paths": 20_000, "max_output_bytes": 8 << 20, "max_hash_bytes": 256 << 20,
          "max_unpack_bytes": 64 << 20, "max_visits": 5_000_000}
"""Defaults of the bounds (the host sends its own, documented in ``sandbox.tree.WalkLimits``)."""
CHUNK = 1 << 20
CACHED = 100_000
"""Hashes of hard-linked files kept per walk (a file linked many times is read once)."""
SORTED = 10_000
"""Entries of a directory listed in name order; past that, in the order the directory gives."""
OPEN_FILE = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC
OPEN_DIR = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC


class OutOfTime(Exception):
    """The walk's time budget is spent."""


class Walk:
    """One bounded walk of ``root``; :meth:`run` writes its lines to file descriptor 1."""

    def __init__(self, root: str, options: dict) -> None:
        self.root = os.fsencode(root).rstrip(b"/") or b"/"
        self.limits = dict(LIMITS, **(options.get("limits") or {}))
        self.started = time.monotonic()
        self.deadline = self.started + float(self.limits["seconds"])
        self.watch = [path_bytes(p) for p in options.get("watch") or []]
        self.watched = set(self.watch)
        self.groups = {path_bytes(g): g for g in options.get("groups") or []}
        self.seek = set(options.get("seek") or [])
        self.seek_sizes = set(options.get("seek_sizes") or [])
        self.found: dict = {}
        self.cache: dict = {}
        self.buffer = bytearray()
        self.listed = self.listed_bytes = self.visited = self.unhashed = self.unsearched = self.hashed_bytes = 0
        self.unlisted: dict = {}
        self.reasons: list = []
        self.stopped = False
        self.missed = 0

    # ----- output ---------------------------------------------------------------------------
    def write(self, obj: dict) -> int:
        line = json.dumps(obj, sort_keys=True).encode() + b"\n"
        self.buffer += line
        if len(self.buffer) >= CHUNK:
            self.flush()
        return len(line)

    def flush(self) -> None:
        view = memoryview(self.buffer)
        while view:
            view = view[os.write(1, view):]
        self.buffer = bytearray()

    def listing(self) -> bool:
        return self.listed < self.limits["max_paths"] and self.listed_bytes < self.limits["max_output_bytes"]

    def tick(self) -> None:
        self.visited += 1
        if time.monotonic() > self.deadline:
            raise OutOfTime
        if self.visited > self.limits["max_visits"]:
            raise OutOfTime

    # ----- content --------------------------------------------------------------------------
    def content(self, open_file, st, needed: bool) -> tuple:
        """``(sha256, unpacked_sha256, tar members' hashes)`` of a regular file; ``None`` if not read.

        Raises:
            OSError: the file cannot be opened, or is no regular file any more.
        """
        key = (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)
        if key in self.cache:
            return self.cache[key]
        if self.hashed_bytes + st.st_size > self.limits["max_hash_bytes"]:
            self.unread(open_file, st, needed)
            return None, None, ()
        fd = open_file()
        try:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                raise OSError("not a regular file any more")
            result, whole = self.read(fd)
        finally:
            os.close(fd)
        if not whole:
            self.unread(open_file, st, needed)
        elif st.st_nlink > 1 and len(self.cache) < CACHED:
            self.cache[key] = result
        return result

    def read(self, fd: int) -> tuple:
        """``((sha256, unpacked_sha256, members), whole)``: ``whole`` is false if a budget cut the read."""
        digest, tar = hashlib.sha256(), Untar()
        unpack = None
        first = True
        while chunk := os.read(fd, CHUNK):
            if time.monotonic() > self.deadline:
                raise OutOfTime
            self.hashed_bytes += len(chunk)
            if self.hashed_bytes > self.limits["max_hash_bytes"]:
                return (None, None, ()), False
            digest.update(chunk)
            if first and (kind := packing(chunk)):
                unpack = Unpack(kind, self.limits["max_unpack_bytes"])
            first = False
            if unpack is None:
                tar.feed(chunk)
            else:
                self.hashed_bytes += unpack.feed(chunk)
        if unpack is None:
            return (digest.hexdigest()[:16], None, tuple(tar.members)), True
        return (digest.hexdigest()[:16], unpack.digest(), tuple(unpack.tar.members)), not unpack.capped

    def unread(self, open_file, st, needed: bool) -> None:
        """Count a file a budget kept from being hashed whole, and whether it could hold a sought content."""
        self.unhashed += needed
        self.unsearched += self.could_hold(st, open_file)

    def could_hold(self, st, open_file) -> bool:
        """Whether a file could hold a sought content: its size is one, or it is compressed or a tar."""
        if not self.seek:
            return False
        if st.st_size in self.seek_sizes:
            return True
        if st.st_size < 14:
            return False
        try:
            fd = open_file()
        except OSError:
            return False
        try:
            head = os.read(fd, 262) if stat.S_ISREG(os.fstat(fd).st_mode) else b""
        except OSError:
            head = b""
        finally:
            os.close(fd)
        return bool(packing(head)) or head[TAR_MAGIC] == b"ustar"

    def maybe_content(self, st, open_file, listed: bool, needed: bool) -> tuple:
        """A listed file's content; an unlisted one's only if it could hold a sought content."""
        if listed or self.could_hold(st, open_file):
            return self.content(open_file, st, needed)
        return None, None, ()

    def resolved(self, rel: bytes, listed: bool) -> tuple:
        """The content a symlink leads to, if it resolves to a regular file inside the root."""
        try:
            real = os.path.realpath(self.root + b"/" + rel, strict=True)
            if not real.startswith(self.root.rstrip(b"/") + b"/"):
                return None, None, ()
            st = os.stat(real)
            if not stat.S_ISREG(st.st_mode):
                return None, None, ()
            return self.maybe_content(st, lambda: os.open(real, OPEN_FILE), listed, False)
        except (OSError, ValueError):
            return None, None, ()

    # ----- paths ----------------------------------------------------------------------------
    def open_dir(self, rel: bytes):
        """A directory under the root, opened without following any symlink on the way."""
        fd = os.open(self.root, OPEN_DIR)
        for part in (rel.split(b"/") if rel else []):
            try:
                inner = os.open(part, OPEN_DIR, dir_fd=fd)
            finally:
                os.close(fd)
            fd = inner
        return fd

    def state(self, dir_fd: int, name: bytes, rel: bytes, st, listed: bool) -> dict:
        kind = ("dir" if stat.S_ISDIR(st.st_mode) else "file" if stat.S_ISREG(st.st_mode)
                else "symlink" if stat.S_ISLNK(st.st_mode) else "other")
        state = {"kind": kind, "mode": stat.S_IMODE(st.st_mode), "uid": st.st_uid, "gid": st.st_gid,
                 "inode": st.st_ino, "ctime_ns": st.st_ctime_ns, "size": st.st_size}
        sha = unpacked = None
        members: tuple = ()
        if kind == "file":
            try:
                sha, unpacked, members = self.maybe_content(
                    st, lambda: os.open(name, OPEN_FILE, dir_fd=dir_fd), listed, True)
            except OSError:
                state["kind"] = "unreadable"
        elif kind == "symlink":
            try:
                state["target"] = path_text(os.readlink(name, dir_fd=dir_fd))
            except OSError:
                state["kind"] = "unreadable"
            if state["kind"] == "symlink" and (listed or self.seek):
                sha, unpacked, members = self.resolved(rel, listed)
        if sha:
            state["sha256"] = sha
        if unpacked:
            state["unpacked_sha256"] = unpacked
        for value in (sha, unpacked, *members):
            if value in self.seek and value not in self.found:
                self.found[value] = path_text(rel)
        return state

    def emit(self, rel: bytes, state: dict, forced: bool = False) -> None:
        if forced or self.listing():
            self.listed += 1
            self.listed_bytes += self.write({"path": path_text(rel), **state})
        else:
            group = rel.split(b"/", 1)[0]
            key = self.groups.get(group, "")
            self.unlisted[key] = self.unlisted.get(key, 0) + 1

    def visit_watched(self, rel: bytes) -> None:
        self.tick()
        parent, _, name = rel.rpartition(b"/")
        try:
            fd = self.open_dir(parent)
        except OSError:
            return  # a parent is gone or is no directory any more: the path is missing
        try:
            try:
                st = os.stat(name, dir_fd=fd, follow_symlinks=False)
            except FileNotFoundError:
                return
            except OSError:
                self.emit(rel, {"kind": "unreadable"}, forced=True)
                return
            self.emit(rel, self.state(fd, name, rel, st, True), forced=True)
        finally:
            os.close(fd)

    def walk_dir(self, rel: bytes, pending: list) -> None:
        try:
            fd = self.open_dir(rel)
        except OSError:
            self.missed += 1
            if self.missed <= 3:
                self.reasons.append(f"{path_text(rel) or 'the root'} could not be opened (changed while walked?)")
            return
        try:
            with os.scandir(fd) as entries:
                head = []
                for entry in entries:
                    head.append(entry)
                    if len(head) >= SORTED:
                        break
                head.sort(key=lambda e: e.name)
                subdirs: list = []
                for source in (head, entries):
                    for entry in source:
                        self.visit_entry(fd, entry, rel, subdirs)
                pending.extend(reversed(subdirs))
        finally:
            os.close(fd)

    def visit_entry(self, fd: int, entry, parent: bytes, subdirs: list) -> None:
        self.tick()
        name = os.fsencode(entry.name)
        rel = parent + b"/" + name if parent else name
        try:
            st = entry.stat(follow_symlinks=False)
        except OSError:
            if rel not in self.watched:
                self.emit(rel, {"kind": "unreadable"})
            return
        if stat.S_ISDIR(st.st_mode):
            subdirs.append(rel)
        if rel not in self.watched:  # listed already
            self.emit(rel, self.state(fd, name, rel, st, self.listing()))

    def run(self) -> None:
        try:
            for rel in self.watch:
                self.visit_watched(rel)
            self.write({"watched": len(self.watch)})
            pending = [b""]
            while pending:
                self.walk_dir(pending.pop(), pending)
        except OutOfTime:
            self.stopped = True
            self.reasons.append(f"time or visit budget spent ({self.limits['seconds']} s, "
                                f"{self.limits['max_visits']} paths) after {self.visited} paths")
        except MemoryError:
            self.stopped = True
            self.reasons.append(f"out of memory in the sandbox after {self.visited} paths")
        self.write({"summary": self.summary()})
        self.flush()

    def summary(self) -> dict:
        hidden = sum(self.unlisted.values())
        if hidden:
            self.reasons.append(f"listing capped at {self.listed} paths ({self.listed_bytes} bytes); "
                                f"{hidden} more visited, not listed")
        if self.unhashed:
            self.reasons.append(f"{self.unhashed} file(s) not hashed or not unpacked whole (budgets: "
                                f"{self.limits['max_hash_bytes']} bytes per walk, "
                                f"{self.limits['max_unpack_bytes']} unpacked per file)")
        return {"enumerated": not self.stopped and not self.missed, "listed": self.listed, "visited": self.visited,
                "unlisted": self.unlisted, "unhashed": self.unhashed, "unsearched": self.unsearched,
                "found": self.found,
                "hashed_bytes": self.hashed_bytes, "seconds": round(time.monotonic() - self.started, 3),
                "reason": "; ".join(self.reasons)}


class _Collected(Walk):
    """A walk kept in memory, every path listed (for the recycle check's fingerprints)."""

    def __init__(self, root: str, limits: dict) -> None:
        super().__init__(root, {"limits": limits})
        self.states: dict = {}

    def write(self, obj: dict) -> int:
        return 0

    def flush(self) -> None:
        return None

    def emit(self, rel: bytes, state: dict, forced: bool = False) -> None:
        self.states[path_text(rel)] = state


def walk(root: str, limits: dict | None = None) -> dict:
    """``{relative path: state}`` of every path under ``root``, whole or not at all.

    Raises:
        OSError: a bound cut the walk (a fingerprint must never be partial).
    """
    collected = _Collected(root, dict(limits or {}))
    collected.run()
    if collected.stopped or collected.missed or collected.unhashed:
        raise OSError(f"the walk of {root} was partial: {'; '.join(collected.reasons)}")
    return collected.states


def main(root: str, options: str = "{}") -> None:
    """Walk ``root`` with ``options`` (JSON: ``watch``, ``groups``, ``seek``, ``seek_sizes``, ``limits``)."""
    Walk(root, json.loads(options)).run()


if __name__ == "__main__":
    main(*sys.argv[1:3])
