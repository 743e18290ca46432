"""The shell tool."""

from sandbox.tools import ToolContext, tool


@tool
def bash(ctx: ToolContext, command: str, timeout: float = 30.0) -> str:
    """Run a shell command in your sandbox and return its output.

    Args:
        command: the command line, run with sh -c in the work directory.
        timeout: seconds before the command and its children are killed (at most 300).
    """
    return ctx.env.run_command(command, min(max(timeout, 0.1), 300.0)).as_observation()
