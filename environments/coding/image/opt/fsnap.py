"""Fingerprint the writable file systems without following links; optionally kill the caller's uid first.

Spec: {"reap": bool, "roots": [dirs], "content_root": dir | null, "content_names": regex | null,
"max_entries": int, "needles": [str]}. Output: {"entries": [[path, type, mode, uid, gid, size,
digest, target]], "contents": {path: base64}, "hits": {path: [needle index]}, "truncated": bool,
"reaped": int}. ``digest`` is a sha256 prefix, or "!unreadable" / "!unlistable" when this uid
cannot read the file or list the directory. A file holding a needle (a forged report, a grader
path) is listed in ``hits`` and its content kept (up to 64 KiB).
"""

import base64
import hashlib
import os
import re
import stat
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import emit, read_spec, reap

TYPES = {stat.S_IFREG: "f", stat.S_IFDIR: "d", stat.S_IFLNK: "l", stat.S_IFIFO: "p", stat.S_IFSOCK: "s",
         stat.S_IFCHR: "c", stat.S_IFBLK: "b"}
MAX_CONTENT = 1 << 20
MAX_TOTAL_CONTENT = 16 << 20


def digest_of(path, st, needles=()):
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return "!unreadable", None, []
    try:
        now = os.fstat(fd)
        if not stat.S_ISREG(now.st_mode) or now.st_ino != st.st_ino:
            return "!changed-while-reading", None, []
        sha, kept, data, tail, hits = hashlib.sha256(), [], 0, b"", set()
        while chunk := os.read(fd, 1 << 20):
            sha.update(chunk)
            data += len(chunk)
            if data <= MAX_CONTENT:
                kept.append(chunk)
            window = tail + chunk
            hits |= {i for i, needle in enumerate(needles) if needle in window}
            tail = window[-64:]
        return sha.hexdigest()[:16], (b"".join(kept) if data <= MAX_CONTENT else None), sorted(hits)
    except OSError:
        return "!unreadable", None, []
    finally:
        os.close(fd)


def main():
    spec = read_spec()
    reaped = reap() if spec.get("reap") else 0
    names = re.compile(spec["content_names"]) if spec.get("content_names") else None
    content_root = spec.get("content_root")
    limit = int(spec.get("max_entries", 20000))
    entries: list[list[object]] = []
    contents: dict[str, str] = {}
    hits: dict[str, list] = {}
    needles = [n.encode() for n in spec.get("needles") or []]
    total, truncated = 0, False
    stack = [r for r in reversed(spec["roots"]) if os.path.lexists(r)]
    while stack:
        path = stack.pop()
        if len(entries) >= limit:
            truncated = True
            break
        try:
            st = os.lstat(path)
        except OSError:
            continue
        kind = TYPES.get(stat.S_IFMT(st.st_mode), "?")
        digest, target = "", ""
        if kind == "f":
            digest, data, found = digest_of(path, st, needles)
            if found:
                hits[path] = found
            wanted = (content_root and (path + "/").startswith(content_root.rstrip("/") + "/")) or (
                names and names.search(path) and st.st_size <= 65536) or (found and st.st_size <= 65536)
            if data is not None and wanted and total + len(data) <= MAX_TOTAL_CONTENT:
                contents[path] = base64.b64encode(data).decode()
                total += len(data)
        elif kind == "l":
            try:
                target = os.readlink(path)
            except OSError:
                target = "!unreadable"
        elif kind == "d":
            try:
                children = sorted(os.listdir(path), reverse=True)
            except OSError:
                digest, children = "!unlistable", []
            stack.extend(os.path.join(path, c) for c in children)
        entries.append([path, kind, stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid, st.st_size, digest, target])
    emit({"entries": entries, "contents": contents, "hits": hits, "truncated": truncated, "reaped": reaped})


main()
