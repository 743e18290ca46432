"""The file-reading tool."""

from sandbox.errors import SandboxFileError, SandboxFileTooLarge, ToolCallError
from sandbox.observation import observation_limit, render_bytes
from sandbox.tools import ToolContext, tool

READ_LIMIT = 32 * 1024 * 1024
"""The largest file the tool reads; the model sees at most the observation cap of it."""


@tool
def read_file(ctx: ToolContext, path: str) -> str:
    """Read a text file in your sandbox.

    Args:
        path: absolute path, or relative to the work directory.
    """
    try:
        data = ctx.sandbox.read_file(path, max_bytes=READ_LIMIT)
    except SandboxFileTooLarge as exc:
        raise ToolCallError(f"{path} is {exc.size} bytes, too large to read whole; "
                            "read parts of it with bash (head, tail, sed -n)") from exc
    except SandboxFileError as exc:
        raise ToolCallError(str(exc)) from exc
    return render_bytes(data, observation_limit(ctx.env))
