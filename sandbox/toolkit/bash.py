"""The shell tool."""

from sandbox.observation import observation_limit
from sandbox.tools import ToolContext, tool


@tool
def bash(ctx: ToolContext, command: str, timeout: float | None = None) -> str:
    """Run a shell command in your sandbox and return its output.

    Args:
        command: the command line, run with sh -c in the work directory.
        timeout: seconds before the command and its children are killed (default 30, at most 600).
    """
    limit = ctx.env.command_timeout if timeout is None else min(max(timeout, 0.1), 600.0)
    return ctx.env.run_command(command, limit).as_observation(observation_limit(ctx.env))
