"""Content inside compressed files and tar archives, unpacked within budgets (stdlib only).

:class:`Unpack` hashes what a gzip, bzip2 or xz stream unpacks to (multi-member streams
included), at most ``limit`` bytes; :class:`Untar` hashes each regular member of a tar stream
(plain, or inside a compressed one). Both are fed piece by piece and hold at most one piece.
"""

import hashlib
import zlib

try:
    import bz2
    import lzma
except ImportError:  # a Python without them: those formats are not unpacked
    bz2 = lzma = None  # type: ignore[assignment]

CHUNK = 1 << 20
PACKED = {b"\x1f\x8b": "gzip", b"BZh": "bzip2", b"\xfd7zXZ\x00": "xz"}
"""Leading bytes of the compressed formats whose content is unpacked and hashed too."""
TAR_MAGIC = slice(257, 262)


def packing(head: bytes):
    """The compressed format ``head`` starts with, if it is one this walker unpacks."""
    kind = next((k for magic, k in PACKED.items() if head.startswith(magic)), None)
    return None if kind is None or (kind != "gzip" and bz2 is None) else kind


class Untar:
    """Hashes of the regular members of a tar stream fed piece by piece (stops at anything else)."""

    def __init__(self) -> None:
        self.buffer = bytearray()
        self.left = self.pad = 0
        self.hash: hashlib._Hash | None = None
        self.members: list = []
        self.off = False

    def feed(self, data: bytes) -> None:
        if self.off:
            return
        self.buffer += data
        while not self.off:
            if self.left or self.pad:
                take = min(self.left or self.pad, len(self.buffer))
                if self.left and self.hash is not None:
                    self.hash.update(self.buffer[:take])
                del self.buffer[:take]
                if self.left:
                    self.left -= take
                    if not self.left and self.hash is not None:
                        self.members.append(self.hash.hexdigest()[:16])
                else:
                    self.pad -= take
                if not take:
                    return
            elif len(self.buffer) < 512:
                return
            else:
                self.header(bytes(self.buffer[:512]))
                del self.buffer[:512]

    def header(self, head: bytes) -> None:
        if head[TAR_MAGIC] != b"ustar":
            self.off = True  # not tar, or its end
            return
        field = head[124:136]
        try:
            size = int.from_bytes(field[1:], "big") if field[0] & 0x80 else int(field.strip(b"\0 ") or b"0", 8)
        except ValueError:
            self.off = True
            return
        self.left, self.pad = size, -size % 512
        self.hash = hashlib.sha256() if head[156:157] in (b"0", b"\0", b"7") else None
        if self.hash is not None and not size:
            self.members.append(self.hash.hexdigest()[:16])


class Unpack:
    """The SHA-256 of a compressed stream's content, unpacked at most ``limit`` bytes (``capped`` past it)."""

    def __init__(self, kind: str, limit: int) -> None:
        self.kind, self.limit, self.out = kind, limit, 0
        self.hash = hashlib.sha256()
        self.tar = Untar()
        self.inflater = self.new()
        self.broken = self.capped = False

    def new(self):
        if self.kind == "gzip":
            return zlib.decompressobj(31)
        return bz2.BZ2Decompressor() if self.kind == "bzip2" else lzma.LZMADecompressor()

    def feed(self, chunk: bytes) -> int:
        """Unpack ``chunk``; return the bytes it unpacked to."""
        before = self.out
        while not (self.broken or self.capped):
            if self.inflater.eof:
                chunk = self.inflater.unused_data + chunk
                if not chunk:
                    break
                self.inflater = self.new()  # the next member of a multi-member file
            try:
                data = self.inflater.decompress(chunk, CHUNK)
            except (zlib.error, OSError, EOFError, ValueError, getattr(lzma, "LZMAError", OSError)):
                self.broken = True  # not that format after all
                break
            self.out += len(data)
            self.capped = self.out > self.limit
            self.hash.update(data)
            self.tar.feed(data)
            chunk = getattr(self.inflater, "unconsumed_tail", b"")
            more = not getattr(self.inflater, "needs_input", not chunk)
            if not (chunk or more or self.inflater.eof):
                break
        return self.out - before

    def digest(self) -> str | None:
        """The content's hash, if the stream was whole and unpacked whole."""
        whole = self.inflater.eof and not (self.broken or self.capped)
        return self.hash.hexdigest()[:16] if whole else None
