"""Where the weights are on disk: bounded, on-demand reads of files and directory trees (standard library only).

Part of the process scan (:mod:`environments.cluster.scanner` builds on :class:`Copies`);
shipped into the sandbox after :mod:`environments.cluster.content`'s source. A file is a
*copy* when its content carries the weights (links followed: content identity is the
target's, so a symlink or hard link to the weights is a copy); a directory *holds* one when
its tree does. Only what a process uses is read, and only files of at least
:func:`~environments.cluster.content.smallest_carrier` bytes; files owned by root were not
made by the agent. Whatever could not be read or judged is *unknown*, never "no": its reason
is kept, and :meth:`Copies.note` lists what made the scan partial.
"""

from __future__ import annotations

import hashlib
import os
import re
import stat
import time

if "judge" not in globals():  # shipped, content.py's source precedes this one
    from environments.cluster.content import Budget, judge, smallest_carrier

MAX_FILE = 64 * 1024 * 1024
MAX_TOTAL = 512 * 1024 * 1024
MAX_ENTRIES = 2_000_000
MAX_SCRIPT = 256 * 1024
PATH_TOKEN = re.compile(r"[\w.~+\-/]*/[\w.~+\-/]*|[\w.+\-]+\.[\w.+\-]+")
SKIP_MOUNTS = ("/proc", "/sys", "/dev")


def _slurp(path: str) -> bytes | None:
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except OSError:
        return None


def _lines(path: str) -> list[str]:
    return (_slurp(path) or b"").decode("utf-8", "replace").splitlines()


def _read(path: str, limit: int) -> bytes | None:
    """At most ``limit`` bytes of a regular file (never blocks on a FIFO or a device)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except OSError:
        return None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return None
        chunks, size = [], 0
        while size < limit and (chunk := os.read(fd, min(1 << 20, limit - size))):
            chunks.append(chunk)
            size += len(chunk)
        return b"".join(chunks)
    except OSError:
        return None
    finally:
        os.close(fd)


def _writable_roots() -> list[str]:
    roots = []
    for line in _lines("/proc/self/mounts"):
        fields = line.split()
        target, options = fields[1], fields[3].split(",")
        if "rw" not in options or (target.startswith(SKIP_MOUNTS) and target != "/dev/shm"):
            continue
        roots.append(target)
    return roots


class Copies:
    """The copies of the weights one scan has found, read on demand within its bounds."""

    def __init__(self, weights: bytes, known: list[str], roots: list[str], seconds: float, smallest: int = 0) -> None:
        self.weights = weights
        self.smallest = smallest or smallest_carrier(weights)
        self.known = set(known)
        self.deadline = time.monotonic() + seconds
        self.verdicts: dict[object, bool | None] = {}
        self.why: dict[object, str] = {}
        self.unknown: dict[str, str] = {}
        """Paths whose content could not be judged, with why."""
        self.held: dict[str, bool | None] = {}
        self.copies: set[str] = set()
        self.partial: list[str] = []
        self.read_bytes = self.entries = 0
        self.writable = _writable_roots()
        self.roots: set[str] = {"/", *roots, *self.writable}

    def note(self, why: str) -> None:
        """Record something the scan could not read."""
        if why not in self.partial and len(self.partial) < 20:
            self.partial.append(why)

    def out_of_time(self) -> bool:
        """Whether the scan's time is up (noted once)."""
        if time.monotonic() > self.deadline:
            self.note("the scan ran out of time")
            return True
        return False

    def _writable(self, path: str) -> bool:
        """Only writable file systems can hold a copy (the root file system is read-only)."""
        return path.endswith(" (deleted)") or any(path == r or path.startswith(r.rstrip("/") + "/")
                                                  for r in self.writable)

    def judge_blob(self, data: bytes, where: str) -> bool | None:
        """:func:`judge` on ``data``; a cut search is noted as partial."""
        budget = Budget()
        verdict = judge(data, self.weights, budget)
        if verdict is None:
            self.note(f"{where}: {budget.cuts[0]}")
        return verdict

    def file_verdict(self, path: str, key: tuple[int, int], size: int) -> bool | None:
        """Whether the file at ``path`` (identity ``key``) carries the weights (cached by identity and content).

        ``None`` (unknown) keeps its reason in :attr:`why`; it blinds the scan only for the
        processes that use the file (:meth:`unjudged`).
        """
        if key in self.verdicts:
            return self.verdicts[key]
        verdict: bool | None = False
        if size >= self.smallest and self.read_bytes >= MAX_TOTAL:
            self.note(f"the scan stopped reading files after {MAX_TOTAL} bytes")
            verdict, self.why[key] = None, "not read (byte bound)"
        elif size >= self.smallest:
            data = _read(path, MAX_FILE)
            if data is None:
                verdict, self.why[key] = None, "could not be read"
            else:
                self.read_bytes += len(data)
                digest = hashlib.sha256(data).digest()
                if digest not in self.verdicts:
                    budget = Budget()
                    self.verdicts[digest] = judge(data, self.weights, budget)
                    self.why[digest] = budget.cuts[0] if budget.cuts else ""
                verdict, self.why[key] = self.verdicts[digest], self.why[digest]
                if verdict is False and size > MAX_FILE:
                    verdict, self.why[key] = None, f"only its first {MAX_FILE} bytes were read"
        self.verdicts[key] = verdict
        return verdict

    def unjudged(self, pid: str, path: str, why: str = "") -> None:
        """Process ``pid`` uses ``path``, whose content is unknown: this scan is partial."""
        self.note(f"pid {pid} uses {path}, whose content could not be judged ({why or self.unknown.get(path, '')})")

    def copy_at(self, path: str) -> bool | None:
        """Whether the file at ``path`` (a link followed) carries the weights (``None``: unknown)."""
        try:
            info = os.stat(path)  # follows a link: content identity is the target's
        except OSError:
            return False
        if not stat.S_ISREG(info.st_mode) or info.st_uid == 0:  # root's files were not made by the agent
            return False
        key = (info.st_dev, info.st_ino)
        verdict = self.file_verdict(path, key, info.st_size)
        if verdict:
            self.copies.add(path)
        elif verdict is None:
            self.unknown[path] = self.why.get(key, "")
        return verdict

    def _trees(self, directory: str) -> list[str]:
        """The parts of ``directory``'s tree on writable file systems."""
        if self._writable(directory):
            return [directory]
        return [r for r in self.writable if r.startswith(directory.rstrip("/") + "/")]

    def holds(self, directory: str) -> bool | None:
        """Whether ``directory``'s tree (links to files and directories followed) holds a file carrying the
        weights: walked on demand, bounded by the scan's time and :data:`MAX_ENTRIES`; ``None``: unknown."""
        real = os.path.realpath(directory)
        if real in self.held:
            return self.held[real]
        self.held[real] = False  # a link cycle ends here
        verdict: bool | None = False
        for tree in self._trees(real):
            for parent, subdirs, names in os.walk(tree):
                if parent.startswith(SKIP_MOUNTS) and not parent.startswith("/dev/shm"):
                    subdirs[:] = []
                    continue
                self.entries += len(names) + len(subdirs)
                if self.entries > MAX_ENTRIES or self.out_of_time():
                    self.note(f"the walk of {real} stopped after {self.entries} entries in all")
                    self.held[real] = None
                    return None
                for name in names:
                    found = self.copy_at(os.path.join(parent, name))
                    if found:
                        self.held[real] = True
                        return True
                    verdict = None if found is None else verdict
                for name in subdirs:
                    if os.path.islink(os.path.join(parent, name)):
                        inner = self.holds(os.path.join(parent, name))
                        if inner:
                            self.held[real] = True
                            return True
                        verdict = None if inner is None else verdict
        self.held[real] = verdict
        return verdict

    def _may_hold(self, path: str, dirs: str) -> bool:
        return bool(dirs) and (dirs == "any" or (path not in self.roots and os.path.realpath(path) not in self.roots))

    def names_copy(self, text: str, cwd: str, dirs: str = "", depth: int = 0, pid: str = "") -> str | None:
        """A path named in ``text`` that is a copy, a known copy or a link to one, or (``dirs``) a directory
        holding one. ``dirs`` is ``""`` (files only), ``"specific"`` (not a root) or ``"any"``."""
        for token in sorted(set(PATH_TOKEN.findall(text))):
            path = os.path.normpath(os.path.join(cwd, token.strip("'\"")))
            if path in self.known:
                return path
            if os.path.isdir(path):
                held = self.holds(path) if self._may_hold(path, dirs) else False
                if held:
                    return path
                if held is None and pid:
                    self.unjudged(pid, path, "a file under it")
                continue
            found = self.copy_at(path)
            if found:
                return path
            if found is None and pid:
                self.unjudged(pid, path)
            if depth == 0 and os.path.isfile(path) and os.path.getsize(path) <= MAX_SCRIPT:
                data = _read(path, MAX_SCRIPT) or b""
                if self.judge_blob(data, path):
                    return path
                inner = self.names_copy(data.decode("utf-8", "replace"), os.path.dirname(path), dirs, 1, pid)
                if inner:
                    return f"{path} -> {inner}"
        return None
