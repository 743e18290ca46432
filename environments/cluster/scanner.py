"""The process scan: which of the agent's processes serve its weights (standard library only).

The host (:mod:`environments.cluster.processes`) ships this source, after
:mod:`environments.cluster.content`'s and :mod:`environments.cluster.copies`' (what is on
disk), as a *probe*: Docker's supervisor runs it as root in a
fork of its own isolated interpreter (``python3 -I -S``), with every agent process stopped for
the read (``sandbox/image/supervisor/probe.py``); other backends start ``python3 -I -S`` as
root. Nothing of the agent's reaches it: not its user site, work directory, environment or
signals. Files are read as root; a process's ``/proc`` entries are read with that process's
own ids (the only way without ``CAP_SYS_PTRACE``).

A process *serves* the weights (README, **(ours)**) when it is alive at a scan, was started
by the agent, and

* has open, or maps, a file that carries them (any name or link, any copy, deleted or not);
* holds them in its memory (writable, or mapped from a writable or deleted file);
* carries them in its command line or environment (inline, encoded);
* names in its command line (or in a script file named there) a file that carries them, a
  known copy's path, a link to one, or a directory holding such a file other than a *root*
  (a file system's root, the home, the work directory, the directory of the agent's own
  weights); or in its environment such a file;
* works in a directory holding such a file (a root only if it listens on a socket, as a file
  server does), or listens with a directory its command line names holding one;
* or hides its file descriptors from the scan (not dumpable).

Only the *leaves* are counted: a replica whose descendant is also a replica (a launcher
shell waiting for its server) is one replica, not two. The scan reads only what the agent's
processes use: the files they hold, map or name, and the trees of the directories they work
in or name, walked on demand (links to files and directories followed; only files that can
hold an encoding of the weights are read, :mod:`~environments.cluster.copies`), so junk
files elsewhere cost nothing. Nothing is capped silently: whatever a process uses that the
scan could not read or judge (its time, entry or byte bounds, a content bound, an unreadable
file) is listed in ``partial``, and a partial scan never reads as "no".
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import stat
import sys
from collections.abc import Iterator

if "Copies" not in globals():  # shipped, content.py's and copies.py's sources precede this one
    from environments.cluster.copies import Copies, _lines, _slurp

MAX_MEMORY = 1024 * 1024 * 1024


def _stat_line(pid: str) -> tuple[str, int, int] | None:
    raw = _slurp(f"/proc/{pid}/stat")
    if raw is None:
        return None
    text = raw.decode("utf-8", "replace")
    rest = text[text.rfind(")") + 2:].split()
    return rest[0], int(rest[1]), int(rest[19])


def _owner(pid: str) -> tuple[int, int] | None:
    """``(uid, gid)`` of a non-root process whose real, effective, saved and fs ids agree."""
    ids: dict[str, set[str]] = {}
    for line in _lines(f"/proc/{pid}/status"):
        key, _, rest = line.partition(":")
        if key in ("Uid", "Gid"):
            ids[key] = set(rest.split())
    if len(ids.get("Uid", ())) != 1 or len(ids.get("Gid", ())) != 1:
        return None
    uid, gid = int(next(iter(ids["Uid"]))), int(next(iter(ids["Gid"])))
    return (uid, gid) if uid else None


@contextlib.contextmanager
def _acting_as(pid: str) -> Iterator[None]:
    """Read a process's ``/proc`` entries with its own ids (root without ``CAP_SYS_PTRACE`` cannot)."""
    ids = _owner(pid) if os.geteuid() == 0 else None
    if ids is None:
        yield
        return
    os.setegid(ids[1])
    os.seteuid(ids[0])
    try:
        yield
    finally:
        os.seteuid(0)
        os.setegid(0)


class Scan(Copies):
    """One scan of the sandbox's processes for those serving the weights."""

    def __init__(self, weights: bytes, known: list[str], roots: list[str], seconds: float,
                 servers_only: bool = False, smallest: int = 0) -> None:
        super().__init__(weights, known, roots, seconds, smallest)
        self.servers_only = servers_only
        """A light scan (while a command runs): only processes listening on a socket, memory not read."""
        self.memory_bytes = 0

    def memory_holds(self, pid: str) -> bool:
        """Whether the process's memory (writable, or mapped from a writable or deleted file) holds the weights."""
        overlap = len(self.weights) - 1
        try:
            mem = open(f"/proc/{pid}/mem", "rb")  # noqa: SIM115  (closed by the with below)
        except OSError:
            return False
        with mem:
            for line in _lines(f"/proc/{pid}/maps"):
                fields = line.split(maxsplit=5)
                if len(fields) < 2 or not fields[1].startswith("r"):
                    continue
                backing = fields[5] if len(fields) == 6 else ""
                if not (fields[1].startswith("rw") or (backing.startswith("/") and self._writable(backing))):
                    continue
                start, end = (int(x, 16) for x in fields[0].split("-"))
                tail = b""
                while start < end:
                    if self.memory_bytes >= MAX_MEMORY or self.out_of_time():
                        self.note(f"memory not read past {MAX_MEMORY} bytes in all")
                        return False
                    size = min(end - start, 16 * 1024 * 1024, MAX_MEMORY - self.memory_bytes)
                    try:
                        mem.seek(start)
                        chunk = mem.read(size)
                    except (OSError, ValueError, OverflowError):
                        break
                    if self.weights in tail + chunk:
                        return True
                    tail = chunk[-overlap:] if overlap > 0 else b""
                    start += size
                    self.memory_bytes += size
        return False

    def _open_files(self, pid: str, listening: set[str], reasons: list[str]) -> tuple[bool, list[str]]:
        """Judge the deleted files a process holds open (as its owner); return whether it listens on a socket
        and the paths of the other files it holds (judged by path, as root)."""
        is_server, held = False, []
        for fd in os.listdir(f"/proc/{pid}/fd"):
            link = f"/proc/{pid}/fd/{fd}"
            try:
                target = os.readlink(link)
                info = os.stat(link)
            except OSError:
                continue
            if target.startswith("socket:[") and target[8:-1] in listening:
                is_server = True
            elif stat.S_ISREG(info.st_mode) and target.endswith(" (deleted)"):
                verdict = self.file_verdict(link, (info.st_dev, info.st_ino), info.st_size)
                if verdict:
                    reasons.append(f"has open {target}")
                elif verdict is None:
                    self.unjudged(pid, target, self.why.get((info.st_dev, info.st_ino), ""))
            elif stat.S_ISREG(info.st_mode) and self._writable(target):
                held.append(target)
        return is_server, held

    def inspect(self, pid: str, listening: set[str]) -> list[str]:
        """The reasons this process serves the weights (empty: it does not)."""
        reasons: list[str] = []
        with _acting_as(pid):
            cmdline = _slurp(f"/proc/{pid}/cmdline")
            if cmdline is None:
                return reasons
            try:
                cwd = os.readlink(f"/proc/{pid}/cwd")
                is_server, held = self._open_files(pid, listening, reasons)
            except PermissionError:
                return [] if self.servers_only else ["hides its file descriptors (not dumpable)"]
            except OSError:
                return reasons
            if self.servers_only and not is_server:
                return []
            environ = _slurp(f"/proc/{pid}/environ") or b""
            mapped = [f[5] for f in (line.split(maxsplit=5) for line in _lines(f"/proc/{pid}/maps"))
                      if len(f) == 6 and f[5].startswith("/") and not f[5].endswith(" (deleted)")]
        for path in dict.fromkeys(held):
            verdict = self.copy_at(path)
            if verdict:
                reasons.append(f"has open {path}")
            elif verdict is None:
                self.unjudged(pid, path)
        for path in dict.fromkeys(p for p in mapped if self._writable(p)):
            verdict = self.copy_at(path)
            if verdict is None:
                self.unjudged(pid, path)
            if verdict:
                reasons.append(f"maps {path}")
                break
        if self.judge_blob(cmdline, f"pid {pid}'s command line") or \
                self.judge_blob(environ, f"pid {pid}'s environment"):
            reasons.append("carries the weights in its command line or environment")
        command = cmdline.replace(b"\0", b" ").decode("utf-8", "replace")
        named = self.names_copy(command, cwd, "specific", pid=pid) or self.names_copy(
            environ.replace(b"\0", b" ").decode("utf-8", "replace"), cwd, pid=pid)
        if named:
            reasons.append(f"names {named}")
        works = self.holds(cwd) if is_server or cwd not in self.roots else False
        if works:
            reasons.append(f"works in {cwd}, which holds the weights")
        elif is_server and (served := self.names_copy(command, cwd, "any", pid=pid)):
            reasons.append(f"serves {served}")
        elif works is None:
            self.unjudged(pid, cwd, "a file under it")
        if not reasons and not self.servers_only:
            with _acting_as(pid):
                if self.memory_holds(pid):
                    reasons.append("holds the weights in memory")
        return reasons


def _listening() -> set[str]:
    inodes = set()
    for name in ("tcp", "tcp6", "udp", "udp6"):
        for line in _lines(f"/proc/net/{name}")[1:]:
            fields = line.split()
            if len(fields) > 9 and (fields[3] == "0A" or name.startswith("udp")):
                inodes.add(fields[9])
    for line in _lines("/proc/net/unix")[1:]:
        fields = line.split()
        if len(fields) > 6 and int(fields[3], 16) & 0x10000:
            inodes.add(fields[6])
    return inodes


def _processes() -> dict[int, dict[str, object]]:
    """Every live process but this scan and its ancestors."""
    mine, pid = set(), os.getpid()
    while pid > 0:
        mine.add(pid)
        line = _stat_line(str(pid))
        pid = line[1] if line else 0
    found: dict[int, dict[str, object]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit() and int(entry) not in mine and (line := _stat_line(entry)) and line[0] not in ("Z", "X"):
            found[int(entry)] = {"pid": int(entry), "ppid": line[1], "start": line[2]}
    return found


def scan(request: dict[str, object], seconds: float = 20.0) -> dict[str, object]:
    """Scan; ``request`` has ``weights`` (base64), ``baseline``, ``known`` paths and the ``roots`` directories."""
    processes = _processes()
    if request.get("mode") == "baseline":
        return {"ok": True, "baseline": [[p["pid"], p["start"]] for p in processes.values()]}
    baseline = {(int(p), int(s)) for p, s in request.get("baseline", [])}  # type: ignore[attr-defined]
    agent = {pid: p for pid, p in processes.items() if (pid, p["start"]) not in baseline}
    job = Scan(base64.b64decode(str(request.get("weights", ""))), [str(k) for k in request.get("known", [])],  # type: ignore[attr-defined]
               [str(r) for r in request.get("roots", [])], seconds,  # type: ignore[attr-defined]
               bool(request.get("servers_only")), int(request.get("smallest", 0)))  # type: ignore[call-overload]
    listening = _listening()
    uptime = float((_slurp("/proc/uptime") or b"0").split()[0])
    for pid, process in agent.items():
        process["age"] = round(uptime - int(process["start"]) / os.sysconf("SC_CLK_TCK"), 2)  # type: ignore[call-overload]
        command = (_slurp(f"/proc/{pid}/cmdline") or b"").replace(b"\0", b" ").decode("utf-8", "replace")
        process["cmd"] = command.strip()[:300]
        process["reasons"] = [] if job.out_of_time() else job.inspect(str(pid), listening)
    replicas = {pid for pid, p in agent.items() if p["reasons"]}
    for pid in list(replicas):
        parent = agent[pid]["ppid"]
        while parent in agent:
            if parent in replicas:
                agent[parent]["covers"] = True
            parent = agent[parent]["ppid"]
    for pid, process in agent.items():
        process["replica"] = pid in replicas and not process.pop("covers", False)
    return {"ok": True, "processes": list(agent.values()), "copies": sorted(job.copies), "partial": job.partial,
            "servers_only": job.servers_only}


def probe(argument: str, seconds: float) -> str:
    """The probe entry point: ``argument`` is the base64 JSON request; the answer is JSON text."""
    try:
        result = scan(json.loads(base64.b64decode(argument)), seconds)
    except Exception as exc:  # report, never crash silently: the host records a failed scan
        result = {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
    return json.dumps(result)


if __name__ == "__main__":
    sys.stdout.write(probe(sys.argv[1], float(sys.argv[2]) if len(sys.argv) > 2 else 20.0))
