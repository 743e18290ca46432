"""The file-reading tool."""

from sandbox.errors import ToolCallError
from sandbox.files import FileError
from sandbox.tools import ToolContext, tool


@tool
def read_file(ctx: ToolContext, path: str) -> str:
    """Read a text file in your sandbox.

    Args:
        path: absolute path, or relative to the work directory.
    """
    try:
        return ctx.sandbox.read_file(path).decode("utf-8", errors="replace")
    except FileError as exc:
        raise ToolCallError(str(exc)) from exc
