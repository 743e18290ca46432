"""``ast.parse`` behind one lock: CPython 3.11's parser keeps global recursion state, and parsing from
several threads at once (episodes run in threads) can fail with "AST constructor recursion depth mismatch"."""

from __future__ import annotations

import ast
import threading
from typing import Any

_LOCK = threading.RLock()


def parse(source: str, mode: str = "exec") -> Any:
    """``ast.parse`` under the lock."""
    with _LOCK:
        return ast.parse(source, mode=mode)


def literal_eval(node: ast.AST | str) -> Any:
    """``ast.literal_eval`` under the lock."""
    with _LOCK:
        return ast.literal_eval(node)
