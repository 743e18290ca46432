"""Recycling a container between episodes: stop everything, wipe every writable mount, and
fingerprint what an agent could have left behind (stdlib only).

``{"op": "recycle", "pristine": FINGERPRINT}`` kills every process but PID 1 and the supervisor,
removes every System V IPC object, empties every writable tmpfs and mqueue mount, restores each
mount root's mode, owner, times, flags and extended attributes to the pristine fingerprint's,
and answers with the new fingerprint; ``{"op": "recycle"}`` without ``pristine`` only
fingerprints (the host asks a fresh container for its pristine fingerprint).

The fingerprint (:func:`fingerprint`) covers every channel through which one episode could hand
state to the next inside a container whose root file system is read-only: the mount table; the
tree (``tree.walk``) of every writable mount and its root's state, used blocks and inodes;
every process; System V shared memory, semaphores and message queues; unix sockets and the
count of every other kind; file locks held by its processes; the host name. The host compares
it with the pristine one and uses the container again only when they are equal. What it
cannot cover is listed in ``sandbox/docker/pool.py`` (kernel counters only a new namespace resets).
"""

import array
import contextlib
import fcntl
import os
import signal
import socket
import stat
import time

import tree
from loop import Failure

FS_IOC_GETFLAGS = 0x80086601
FS_IOC_SETFLAGS = 0x40086602
IPC_RMID = 0
WIPED_TYPES = ("tmpfs", "mqueue")
NOT_WIPED = ("/dev", "/proc", "/sys")
"""Mount points (and what is under them) that hold no agent state: devices, kernel views."""
UNWALKED_TYPES = ("proc", "sysfs", "cgroup", "cgroup2")
KILL_WAIT = 5.0
GLOBAL_COUNTS = ("orphan", "alloc", "mem")
_IPC_TABLES = {"shm": "shmctl", "msg": "msgctl", "sem": "semctl"}


def mounts() -> list:
    """``[[mount point, file system type, read-write?], ...]`` of this mount namespace."""
    out = []
    with open("/proc/self/mountinfo") as table:
        for line in table:
            left, _, right = line.partition(" - ")
            fields = left.split()
            point = fields[4].encode().decode("unicode_escape")
            out.append([point, right.split()[0], "rw" in fields[5].split(",")])
    return out


def _under(point: str, prefixes: tuple) -> bool:
    return any(point == p or point.startswith(p + "/") for p in prefixes)


def writable(table: list) -> list:
    """Writable mounts whose content could carry state (kernel views excluded)."""
    return [p for p, kind, rw in table if rw and kind not in UNWALKED_TYPES and not _under(p, ("/proc", "/sys"))]


def wiped(table: list) -> list:
    """The writable mounts an episode may fill: emptied on recycling."""
    return [p for p, kind, rw in table if rw and kind in WIPED_TYPES and not _under(p, NOT_WIPED[1:])
            and p != NOT_WIPED[0]]


def _flags(path: str) -> int:
    try:
        fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
    except OSError:
        return -1
    try:
        buf = array.array("l", [0])
        fcntl.ioctl(fd, FS_IOC_GETFLAGS, buf, True)
        return int(buf[0]) & 0xFFFFFFFF
    except OSError:
        return -1
    finally:
        os.close(fd)


def root_state(path: str, own_fs: bool) -> dict:
    """A mount root's own state: what wiping its content leaves for an episode to change (with
    ``own_fs``, a file system of the container's own, its used blocks and inodes too)."""
    st = os.lstat(path)
    xattrs = {}
    with contextlib.suppress(OSError):
        for name in os.listxattr(path, follow_symlinks=False):
            with contextlib.suppress(OSError):
                xattrs[name] = os.getxattr(path, name, follow_symlinks=False).hex()
    state = {"mode": stat.S_IMODE(st.st_mode), "uid": st.st_uid, "gid": st.st_gid, "nlink": st.st_nlink,
             "size": st.st_size, "mtime_ns": st.st_mtime_ns, "atime_ns": st.st_atime_ns, "xattrs": xattrs,
             "flags": _flags(path)}
    if own_fs:
        vfs = os.statvfs(path)
        state.update(used_blocks=vfs.f_blocks - vfs.f_bfree, used_inodes=vfs.f_files - vfs.f_ffree)
    return state


def mount_tree(point: str, points: list) -> dict:
    """``tree.walk`` of a mount without what other mounts cover (their roots are states of their own)."""
    inner = [os.path.relpath(p, point) for p in points if p != point and p.startswith(point.rstrip("/") + "/")]
    return {rel: st for rel, st in tree.walk(point).items()
            if not any(rel == i or rel.startswith(i + "/") for i in inner)}


def processes() -> list:
    """Every process but PID 1 (the container's init) and this supervisor."""
    mine = {1, os.getpid()}
    return sorted(int(e) for e in os.listdir("/proc") if e.isdigit() and int(e) not in mine)


def _lines(path: str, skip_header: bool = True) -> list:
    try:
        with open(path) as table:
            lines = table.read().splitlines()
    except OSError:
        return []
    return lines[1:] if skip_header else lines


def own_socket_inodes() -> set:
    """Inodes of this process's sockets (its listener and the connection asking)."""
    found = set()
    for fd in os.listdir("/proc/self/fd"):
        with contextlib.suppress(OSError):
            target = os.readlink(f"/proc/self/fd/{fd}")
            if target.startswith("socket:["):
                found.add(target[8:-1])
    return found


def socket_counts() -> dict:
    """This network namespace's socket counts (``/proc/net/sockstat{,6}``: every protocol's
    sockets in use, TCP's TIME_WAIT ones); the machine-wide fields (orphans, allocations,
    memory) are left out. Cheap, unlike ``/proc/net/tcp``, which walks the machine's tables."""
    counts = {}
    for name in ("sockstat", "sockstat6"):
        for line in _lines(f"/proc/net/{name}", skip_header=False):
            protocol, _, fields = line.partition(":")
            values = fields.split()
            for key, value in zip(values[::2], values[1::2], strict=False):
                if key not in GLOBAL_COUNTS:
                    counts[f"{protocol} {key}"] = int(value)
    return counts


def sockets() -> dict:
    """Sockets nobody should hold between episodes: others' unix sockets (abstract ones
    included) and any socket of another protocol (TIME_WAIT included)."""
    mine = own_socket_inodes()
    unix = [line for line in _lines("/proc/net/unix") if line.split()[6:7] and line.split()[6] not in mine]
    return {"unix": unix, "counts": socket_counts()}


def ipc_objects() -> dict:
    """System V IPC objects: ``{"shm": [[id, creator uid], ...], "msg": ..., "sem": ...}``."""
    out = {}
    for table in _IPC_TABLES:
        lines = _lines(f"/proc/sysvipc/{table}")
        header = (_lines(f"/proc/sysvipc/{table}", skip_header=False) or [""])[0].split()
        rows = []
        for line in lines:
            fields = dict(zip(header, line.split(), strict=False))
            ident = fields.get("shmid") or fields.get("msqid") or fields.get("semid")
            rows.append([int(ident or -1), int(fields.get("cuid", -1))])
        out[table] = sorted(rows)
    return out


def fingerprint() -> dict:
    """Everything an episode could leave for the next one to find (see the module docstring)."""
    table = mounts()
    points = writable(table)
    kinds = {p: kind for p, kind, _ in table}
    every = [p for p, _, _ in table]
    return {
        "mounts": table,
        "trees": {p: mount_tree(p, every) for p in points},
        "roots": {p: root_state(p, kinds[p] in WIPED_TYPES) for p in points},
        "processes": processes(),
        "ipc": ipc_objects(),
        "sockets": sockets(),
        "locks": [line for line in _lines("/proc/locks", skip_header=False) if line.split()[4:5] != ["-1"]],
        "hostname": socket.gethostname(),
    }


def kill_all(wait: float = KILL_WAIT) -> None:
    """Stop, then kill, every other process (a fork flood converges: stopped processes cannot
    fork); reap this supervisor's children; wait until none is left."""
    stopped: set = set()
    for _ in range(200):
        fresh = [pid for pid in processes() if pid not in stopped]
        if not fresh:
            break
        for pid in fresh:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGSTOP)
            stopped.add(pid)
    for pid in stopped:
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        with contextlib.suppress(ChildProcessError):
            while os.waitpid(-1, os.WNOHANG)[0]:
                pass
        left = processes()
        if not left:
            return
        for pid in left:  # forked between the sweep and the kill
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
        time.sleep(0.005)


def remove_ipc() -> None:
    """Remove every System V IPC object, acting as its creator (the only one who may)."""
    objects = ipc_objects()
    if not any(objects.values()):
        return
    import ctypes  # not at start-up: every container pays for the supervisor's imports

    libc = ctypes.CDLL(None, use_errno=True)
    for table, call in _IPC_TABLES.items():
        for ident, creator in objects[table]:
            try:
                os.seteuid(creator)
                if call == "semctl":
                    getattr(libc, call)(ident, 0, IPC_RMID)
                else:
                    getattr(libc, call)(ident, IPC_RMID, None)
            except OSError:
                pass
            finally:
                os.seteuid(0)


def empty(point: str) -> None:
    """Remove everything under a mount point (never following a link out of it)."""
    fd = os.open(point, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
    try:
        for name in os.listdir(fd):
            _remove_at(fd, name)
    finally:
        os.close(fd)


def _remove_at(dir_fd: int, name: str) -> None:
    st = os.lstat(name, dir_fd=dir_fd)
    if stat.S_ISDIR(st.st_mode):
        fd = os.open(name, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=dir_fd)
        try:
            for child in os.listdir(fd):
                _remove_at(fd, child)
        finally:
            os.close(fd)
        os.rmdir(name, dir_fd=dir_fd)
    else:
        os.unlink(name, dir_fd=dir_fd)


def restore_root(point: str, pristine: dict) -> None:
    """Give a mount root back its pristine owner, mode, flags, extended attributes and times."""
    os.chown(point, pristine["uid"], pristine["gid"], follow_symlinks=False)
    os.chmod(point, pristine["mode"], follow_symlinks=False)
    for name in os.listxattr(point, follow_symlinks=False):
        if name not in pristine["xattrs"]:
            with contextlib.suppress(OSError):
                os.removexattr(point, name, follow_symlinks=False)
    for name, value in pristine["xattrs"].items():
        with contextlib.suppress(OSError):
            os.setxattr(point, name, bytes.fromhex(value), follow_symlinks=False)
    if pristine["flags"] >= 0 and _flags(point) != pristine["flags"]:
        fd = os.open(point, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
        try:
            fcntl.ioctl(fd, FS_IOC_SETFLAGS, array.array("l", [pristine["flags"]]), False)
        except OSError:
            pass
        finally:
            os.close(fd)
    os.utime(point, ns=(pristine["atime_ns"], pristine["mtime_ns"]), follow_symlinks=False)


def recycle(conn, header: dict) -> dict:
    """The ``recycle`` operation (see the module docstring): the answer carries the fingerprint."""
    pristine = header.get("pristine")
    if pristine is None:
        return {"ok": True, "fingerprint": fingerprint()}
    if len(conn.loop.conns) > 1:
        raise Failure("busy", "other requests are in flight: a container is recycled only when idle")
    kill_all()
    remove_ipc()
    problems = []
    for point in wiped(mounts()):
        try:
            empty(point)
            if point in pristine["roots"]:
                restore_root(point, pristine["roots"][point])
        except OSError as exc:
            problems.append(f"{point}: {exc}")
    return {"ok": not problems, "problems": problems, "fingerprint": fingerprint()}
