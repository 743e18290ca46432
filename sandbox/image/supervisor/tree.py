"""The state of every path under a directory, without following symlinks (stdlib only).

Run by the supervisor in a forked child (the ``tree`` operation), so a fingerprint costs a
fork, not a Python start; the host's portable fallback sends this same file to ``python3``.
Each path maps to its type, mode, owner, inode, ctime, size, a SHA-256 prefix of a regular
file's content and a symlink's target; a path that cannot be read is ``"unreadable"``.
Special files are never opened (``O_NONBLOCK``, ``O_NOFOLLOW``): a FIFO cannot hold the walk.
"""

import hashlib
import json
import os
import stat
import sys


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "dir"
    if stat.S_ISREG(mode):
        return "file"
    return "symlink" if stat.S_ISLNK(mode) else "other"


def _content_hash(path: str) -> str:
    digest = hashlib.sha256()
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError("not a regular file any more")
        while chunk := os.read(fd, 1 << 20):
            digest.update(chunk)
    finally:
        os.close(fd)
    return digest.hexdigest()[:16]


def walk(root: str) -> dict:
    """``{relative path: state}`` for every path under ``root`` (``root`` itself excluded)."""
    out: dict = {}
    pending = [root]
    while pending:
        path = pending.pop()
        rel = os.path.relpath(path, root)
        try:
            st = os.lstat(path)
        except OSError:
            out[rel] = {"kind": "unreadable"}
            continue
        state = {"kind": _kind(st.st_mode), "mode": stat.S_IMODE(st.st_mode), "uid": st.st_uid,
                 "gid": st.st_gid, "inode": st.st_ino, "ctime_ns": st.st_ctime_ns, "size": st.st_size}
        if state["kind"] == "file":
            try:
                state["sha256"] = _content_hash(path)
            except OSError:
                state["kind"] = "unreadable"
        elif state["kind"] == "symlink":
            try:
                state["target"] = os.readlink(path)
            except OSError:
                state["kind"] = "unreadable"
        elif state["kind"] == "dir":
            try:
                pending.extend(os.path.join(path, name) for name in sorted(os.listdir(path), reverse=True))
            except OSError:
                state["kind"] = "unreadable"
        out[rel] = state
    out.pop(".", None)
    return out


def main(root: str) -> None:
    """Write the walk of ``root`` as JSON to file descriptor 1 (standard output)."""
    view = memoryview(json.dumps(walk(root), sort_keys=True).encode())
    while view:
        view = view[os.write(1, view):]


if __name__ == "__main__":
    main(sys.argv[1])
