"""``answer``: the model's one plain-text answer (the environments' reply tool)."""

from __future__ import annotations

from typing import Protocol, cast

from sandbox.tools import EndEpisode, ToolContext, tool


class Receiver(Protocol):
    """An environment that reads an answer into its world (every one-shot preference environment)."""

    def receive(self, text: str) -> str:
        """Read the answer into the world; return what the model is told."""
        ...


@tool
def answer(ctx: ToolContext, text: str) -> str:
    """Give your answer. Ends the conversation.

    Args:
        text: your full answer.
    """
    env = cast(Receiver, ctx.env)
    raise EndEpisode(env.receive(text))
