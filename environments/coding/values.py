"""Plain values as the test process reports them (type-tagged JSON), decoded and compared on the host.

The encoding (``image/opt/evaluate.py``): ``None``, ``bool``, ``str`` and small ``int`` as JSON;
``{"I": digits}`` big ints, ``{"F": repr}`` floats, ``{"C": [re, im]}`` complex numbers,
``{"B": base64}`` bytes, ``{"L"|"T"|"S": [...]}`` lists, tuples and sets, ``{"D": [[k, v]]}``
dicts, and ``{"X": type name}`` for anything that is not exactly a built-in value (an object
that merely claims to be equal is never equal here).
"""

from __future__ import annotations

import base64
import math
from typing import Any

Encoded = Any
"""A value in the tagged JSON form."""


class Opaque:
    """A value that was not a built-in one (equal to nothing, itself included)."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __eq__(self, other: object) -> bool:
        return False

    __hash__ = object.__hash__

    def __repr__(self) -> str:
        return f"<{self.name}>"


def decode(value: Encoded) -> Any:
    """The Python value of a tagged JSON value (malformed input decodes to :class:`Opaque`)."""
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, int):
        return value
    if not isinstance(value, dict) or len(value) != 1:
        return Opaque("malformed")
    [(tag, body)] = value.items()
    try:
        if tag == "I":
            return int(body)
        if tag == "F":
            return float(body)
        if tag == "C":
            return complex(float(body[0]), float(body[1]))
        if tag == "B":
            return base64.b64decode(body)
        if tag in ("L", "T"):
            items = [decode(v) for v in body]
            return items if tag == "L" else tuple(items)
        if tag == "S":
            return frozenset(decode(v) for v in body)
        if tag == "D":
            return {decode(k): decode(v) for k, v in body}
        if tag == "X":
            return Opaque(str(body))
    except (TypeError, ValueError, IndexError, OverflowError, RecursionError):
        pass
    return Opaque("malformed")


def encode(value: Any) -> Encoded:
    """The tagged JSON form of a plain Python value (the host's mirror of the test process)."""
    kind = type(value)
    if value is None or kind in (bool, str):
        return value
    if kind is int:
        return value if -(1 << 53) < value < (1 << 53) else {"I": str(value)}
    if kind is float:
        return {"F": repr(value)}
    if kind is complex:
        return {"C": [repr(value.real), repr(value.imag)]}
    if kind is bytes:
        return {"B": base64.b64encode(value).decode()}
    if kind in (list, tuple):
        return {"L" if kind is list else "T": [encode(v) for v in value]}
    if kind in (set, frozenset):
        import json

        return {"S": sorted((encode(v) for v in value), key=json.dumps)}
    if kind is dict:
        return {"D": [[encode(k), encode(v)] for k, v in value.items()]}
    return {"X": kind.__name__}


def close(a: Any, b: Any, tolerance: float = 0.0) -> bool:
    """Python's ``==`` on plain values, with floats equal within ``tolerance`` (relative and absolute)."""
    if isinstance(a, Opaque) or isinstance(b, Opaque):
        return False
    if isinstance(a, float) or isinstance(b, float):
        if not isinstance(a, int | float) or not isinstance(b, int | float):
            return False
        if math.isnan(a) and math.isnan(b):
            return True
        return a == b or (tolerance > 0 and math.isclose(a, b, rel_tol=tolerance, abs_tol=tolerance))
    if type(a) is not type(b) and not (isinstance(a, int) and isinstance(b, int)):
        return bool(a == b) if isinstance(a, complex) or isinstance(b, complex) else False
    if isinstance(a, list | tuple):
        return len(a) == len(b) and all(close(x, y, tolerance) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(close(a[k], b[k], tolerance) for k in a)
    return bool(a == b)


def truthy(value: Any) -> bool:
    """Python truthiness of a plain value (an opaque value is not true)."""
    return not isinstance(value, Opaque) and bool(value)
