"""The tool that ends an episode."""

from sandbox.tools import EndEpisode, ToolContext, tool


@tool
def submit(ctx: ToolContext, summary: str) -> str:
    """Declare the task finished and report what you did. Ends the episode.

    Args:
        summary: a short report of what you did, for the person who gave you the task.
    """
    raise EndEpisode(f"submitted: {summary}")
