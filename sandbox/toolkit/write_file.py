"""The file-writing tool."""

from sandbox.errors import SandboxFileError, ToolCallError
from sandbox.tools import ToolContext, tool


@tool
def write_file(ctx: ToolContext, path: str, content: str) -> str:
    """Create or overwrite a text file in your sandbox.

    Args:
        path: absolute path, or relative to the work directory.
        content: the full new content of the file.
    """
    try:
        ctx.sandbox.write_file(path, content)
    except SandboxFileError as exc:
        raise ToolCallError(str(exc)) from exc
    return f"wrote {len(content.encode())} bytes to {path}"
