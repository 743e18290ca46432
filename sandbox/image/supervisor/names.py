"""Names as text: any bytes a file name holds, written as JSON-safe text that round-trips (stdlib only).

Bytes that are not UTF-8 and ASCII control characters are written ``\\xHH``; other control and
format characters (line separators, bidirectional overrides) ``\\uHHHH`` (``\\UHHHHHHHH``); a
backslash ``\\\\``. So a name with a backslash is an escaped one, and :func:`path_bytes`
gives back the exact bytes.
"""

import unicodedata

UNSAFE = ("Cc", "Cf", "Zl", "Zp", "Cs")


def path_text(raw: bytes) -> str:
    """A name's bytes as JSON-safe text that round-trips (see the module's docstring)."""
    text = raw.decode("utf-8", "surrogateescape")
    if "\\" not in text and all(unicodedata.category(c) not in UNSAFE for c in text):
        return text
    out = []
    for char in text:
        code = ord(char)
        if 0xDC80 <= code <= 0xDCFF:  # a byte that is not UTF-8
            out.append(f"\\x{code - 0xDC00:02x}")
        elif char == "\\":
            out.append("\\\\")
        elif unicodedata.category(char) in UNSAFE:
            out.append(f"\\x{code:02x}" if code < 0x80 else f"\\u{code:04x}" if code <= 0xFFFF
                       else f"\\U{code:08x}")
        else:
            out.append(char)
    return "".join(out)


def path_bytes(text: str) -> bytes:
    """The bytes of a name written by :func:`path_text`."""
    out = bytearray()
    index = 0
    while index < len(text):
        char = text[index]
        if char != "\\":
            out += char.encode()
            index += 1
        elif text[index + 1] == "\\":
            out += b"\\"
            index += 2
        elif text[index + 1] == "x":
            out.append(int(text[index + 2:index + 4], 16))
            index += 4
        else:
            width = 4 if text[index + 1] == "u" else 8
            out += chr(int(text[index + 2:index + 2 + width], 16)).encode()
            index += 2 + width
    return bytes(out)
