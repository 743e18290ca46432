"""``answer``: the model's one plain-text answer (the environments' reply tool)."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from sandbox.tools import EndEpisode, ToolContext, tool

if TYPE_CHECKING:
    from environments.preferences.env import OneShotEnv


@tool
def answer(ctx: ToolContext, text: str) -> str:
    """Give your answer. Ends the conversation.

    Args:
        text: your full answer.
    """
    env = cast("OneShotEnv", ctx.env)
    raise EndEpisode(env.receive(text))
