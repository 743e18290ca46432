"""The file-reading tool."""

from sandbox.errors import SandboxFileError, ToolCallError
from sandbox.tools import ToolContext, tool


@tool
def read_file(ctx: ToolContext, path: str) -> str:
    """Read a text file in your sandbox.

    Args:
        path: absolute path, or relative to the work directory.
    """
    try:
        return ctx.sandbox.read_file(path).decode("utf-8", errors="replace")
    except SandboxFileError as exc:
        raise ToolCallError(str(exc)) from exc
