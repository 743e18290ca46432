"""``edit``: replace one exact occurrence of a string in a file."""

from __future__ import annotations

import shlex

from sandbox.errors import SandboxFileError, ToolCallError
from sandbox.tools import ToolContext, tool


@tool
def edit(ctx: ToolContext, path: str, old: str, new: str) -> str:
    """Replace one exact occurrence of a string in a text file (the file keeps its permissions).

    Args:
        path: absolute, or relative to the work directory.
        old: the exact text to replace; it must occur exactly once in the file.
        new: the text to put in its place.
    """
    if not old:
        raise ToolCallError("old must not be empty (use write_file to create a file)")
    try:
        raw = ctx.sandbox.read_file(path)
    except SandboxFileError as exc:
        raise ToolCallError(str(exc)) from exc
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ToolCallError(f"{path} is not a UTF-8 text file") from None
    count = text.count(old)
    if count == 0:
        raise ToolCallError(f"old text not found in {path} (it must match exactly, whitespace included)")
    if count > 1:
        raise ToolCallError(f"old text occurs {count} times in {path}; include more context to make it unique")
    mode = ctx.sandbox.exec(f"stat -Lc %a {shlex.quote(path)}", timeout=10).stdout.strip() or "644"
    try:
        ctx.sandbox.write_file(path, text.replace(old, new, 1), mode=mode if mode.isdigit() else "644")
    except SandboxFileError as exc:
        raise ToolCallError(str(exc)) from exc
    line = text[: text.index(old)].count("\n") + 1
    return f"edited {path}: replaced {len(old.splitlines()) or 1} line(s) at line {line}"
