"""Text of any bytes: lossless JSON records, and display that cannot be spoofed.

An agent controls much of what a run records — file names, command output, tool arguments,
the model's own text — and any of it may hold what UTF-8 cannot encode: bytes that are not
UTF-8 (decoded with ``surrogateescape`` they become lone surrogates U+DC80–U+DCFF), or lone
surrogates a model wrote as ``\\udcff`` in its JSON. Pydantic and strict JSON readers refuse
those strings; a record must never be lost for them.

**Storage** (:func:`encode_record` / :func:`decode_record`). A record's strings are written
as they are when they are valid Unicode. A string (or an object key) that is not is written
*escaped* — a backslash as ``\\\\``, a lone surrogate U+DC80–U+DCFF as ``\\xHH`` (the byte it
stands for), any other lone surrogate as ``\\uHHHH`` — and *marked*: the record's ``escaped``
member lists the JSON pointers (RFC 6901) of every escaped value (``values``) and of every
member whose name is escaped (``keys``). Only marked strings are escaped, so every other
string reads exactly as written, and :func:`decode_record` gives back the very string held
in memory. Strict readers (pydantic, jq, serde) read every line.

**Display** (:func:`display_segments`, :func:`display_text`). What a person reads — in a
terminal or a browser — must not be rewritten by the text it shows: control characters
(terminal escape sequences, NUL, carriage return), format characters (bidirectional
overrides and isolates, zero-width marks; the zero-width joiner of emoji excepted), line and
paragraph separators and lone surrogates are shown as escapes (``\\x1b``, ``\\u202e``,
``\\xff`` for a byte that is not UTF-8), which the report styles and the viewer marks; a
newline and a tab stay as they are. :func:`display_text` (plain text, for a terminal without
styles and for files) also doubles every backslash, so a literal ``\\x1b`` typed by an agent
never reads as an escape.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterator
from typing import Any

from pydantic import BaseModel
from pydantic_core import PydanticSerializationError

ESCAPED = "escaped"
"""The member of a record that marks its escaped strings (``{"values": [...], "keys": [...]}``)."""

_SURROGATE = re.compile("[\ud800-\udfff]")
_STORED_ESCAPE = re.compile(r"\\(\\|x[0-9a-f]{2}|u[0-9a-f]{4})")
_UNSAFE_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp", "Cs"})
_KEPT = frozenset({"\n", "\t", "\u200d"})


def is_unicode(text: str) -> bool:
    """Whether ``text`` can be encoded as UTF-8 (it holds no lone surrogate)."""
    return text.isascii() or _SURROGATE.search(text) is None


def escape_stored(text: str) -> str:
    """``text`` in the stored escaped form (see the module's docstring)."""
    out = []
    for char in text:
        code = ord(char)
        if char == "\\":
            out.append("\\\\")
        elif 0xDC80 <= code <= 0xDCFF:
            out.append(f"\\x{code - 0xDC00:02x}")
        elif 0xD800 <= code <= 0xDFFF:
            out.append(f"\\u{code:04x}")
        else:
            out.append(char)
    return "".join(out)


def unescape_stored(text: str) -> str:
    """The string :func:`escape_stored` wrote ``text`` for."""

    def one(match: re.Match[str]) -> str:
        body = match.group(1)
        if body == "\\":
            return "\\"
        if body[0] == "x":
            return chr(0xDC00 + int(body[1:], 16))
        return chr(int(body[1:], 16))

    return _STORED_ESCAPE.sub(one, text)


def _pointer_token(key: str | int) -> str:
    return str(key).replace("~", "~0").replace("/", "~1")


def _pointer_tokens(pointer: str) -> list[str]:
    return [t.replace("~1", "/").replace("~0", "~") for t in pointer.split("/")[1:]]


def encode_record(record: dict[str, Any]) -> dict[str, Any]:
    """``record`` ready for strict JSON: strings that are not valid Unicode escaped and marked.

    Returns a copy; bytes become text (bytes that are not UTF-8 escaped as ``\\xHH``), sets lists.
    """
    values: list[str] = []
    keys: list[str] = []

    def walk(value: Any, pointer: str) -> Any:
        if isinstance(value, bytes | bytearray):
            value = bytes(value).decode("utf-8", "surrogateescape")
        if isinstance(value, str):
            if is_unicode(value):
                return value
            values.append(pointer)
            return escape_stored(value)
        if isinstance(value, dict):
            escape = _keys_to_escape(value)
            out = {}
            for key, item in value.items():
                name = escape_stored(key) if key in escape else key
                child = f"{pointer}/{_pointer_token(name)}"
                if key in escape:
                    keys.append(child)
                out[name] = walk(item, child)
            return out
        if isinstance(value, list | tuple | set | frozenset):
            if isinstance(value, set | frozenset):
                value = sorted(value, key=repr)
            return [walk(item, f"{pointer}/{index}") for index, item in enumerate(value)]
        return value

    encoded: dict[str, Any] = walk({k: v for k, v in record.items() if k != ESCAPED}, "")
    previous = record.get(ESCAPED) or {}
    if values or keys:
        encoded[ESCAPED] = {"values": [*previous.get("values", []), *values],
                            "keys": [*previous.get("keys", []), *keys]}
    elif ESCAPED in record:
        encoded[ESCAPED] = record[ESCAPED]
    return encoded


def _keys_to_escape(mapping: dict[Any, Any]) -> set[str]:
    """Keys that are not valid Unicode, and any key their escaped form would collide with."""
    escape = {k for k in mapping if isinstance(k, str) and not is_unicode(k)}
    while escape:
        clashing = {escape_stored(k) for k in escape} & set(mapping) - escape
        if not clashing:
            break
        escape |= clashing
    return escape


def decode_record(record: dict[str, Any]) -> dict[str, Any]:
    """The record :func:`encode_record` was given: marked strings unescaped, the mark removed.

    Pointers that do not lead to a string are ignored (a hand-edited line stays readable).
    """
    marks = record.get(ESCAPED)
    if not isinstance(marks, dict):
        return record
    decoded = {k: v for k, v in record.items() if k != ESCAPED}
    for pointer in marks.get("values") or []:
        parent, last = _parent(decoded, str(pointer))
        if parent is not None and isinstance(_get(parent, last), str):
            _set(parent, last, unescape_stored(_get(parent, last)))
    deepest_first = sorted(marks.get("keys") or [], key=lambda p: -str(p).count("/"))
    for depth in sorted({str(p).count("/") for p in deepest_first}, reverse=True):
        moved = []  # take every marked key of this depth out first: an escaped name may equal a restored one
        for pointer in (p for p in deepest_first if str(p).count("/") == depth):
            parent, last = _parent(decoded, str(pointer))
            if isinstance(parent, dict) and last in parent:
                moved.append((parent, unescape_stored(last), parent.pop(last)))
        for parent, name, value in moved:
            parent[name] = value
    return decoded


def _parent(record: Any, pointer: str) -> tuple[Any, str]:
    tokens = _pointer_tokens(pointer)
    if not tokens:
        return None, ""
    node = record
    for token in tokens[:-1]:
        node = _get(node, token)
        if node is None:
            return None, ""
    return node, tokens[-1]


def _get(node: Any, token: str) -> Any:
    if isinstance(node, dict):
        return node.get(token)
    if isinstance(node, list) and token.isdigit() and int(token) < len(node):
        return node[int(token)]
    return None


def _set(node: Any, token: str, value: Any) -> None:
    if isinstance(node, dict):
        node[token] = value
    else:
        node[int(token)] = value


def _display_escape(char: str) -> str | None:
    """The escape a character is displayed as, or ``None`` when it is shown as it is."""
    if char.isprintable() or char in _KEPT or unicodedata.category(char) not in _UNSAFE_CATEGORIES:
        return None
    code = ord(char)
    if code < 0x80 or 0xDC80 <= code <= 0xDCFF:  # an ASCII control, or a byte that is not UTF-8
        return f"\\x{code & 0xFF:02x}"
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"


def display_segments(text: str) -> Iterator[tuple[str, bool]]:
    """``text`` as ``(segment, is_escape)`` pieces: plain text, and escapes to be marked."""
    plain: list[str] = []
    for char in text:
        escape = _display_escape(char)
        if escape is None:
            plain.append(char)
            continue
        if plain:
            yield "".join(plain), False
            plain = []
        yield escape, True
    if plain:
        yield "".join(plain), False


def display_text(text: str) -> str:
    """``text`` for plain display: unsafe characters escaped, backslashes doubled (unambiguous)."""
    if text.isprintable() and "\\" not in text:
        return text
    return "".join(s if escaped else s.replace("\\", "\\\\") for s, escaped in display_segments(text))


def model_json(model: BaseModel) -> str:
    """``model`` as compact JSON that strict readers read: text that is not valid Unicode (and bytes
    that are not UTF-8) escaped and marked (:func:`encode_record`); otherwise pydantic's own JSON."""
    try:
        return model.model_dump_json()
    except PydanticSerializationError:
        pass
    try:
        data = model.model_dump(mode="json")
    except (PydanticSerializationError, ValueError):  # e.g. bytes that are not UTF-8
        data = model.model_dump(mode="python")
    return json.dumps(encode_record(data), ensure_ascii=False, separators=(",", ":"), default=repr)


def unicode_safe(value: Any) -> Any:
    """``value`` (strings, lists, dicts) with every lone surrogate written as an escape.

    For what must be valid Unicode but need not round-trip, e.g. a conversation sent to a
    model: a byte that is not UTF-8 reads ``\\xHH``, another lone surrogate ``\\uHHHH``.
    """
    if isinstance(value, str):
        if is_unicode(value):
            return value
        return _SURROGATE.sub(lambda m: _display_escape(m.group()) or "", value)
    if isinstance(value, dict):
        return {unicode_safe(k): unicode_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [unicode_safe(v) for v in value]
    return value
