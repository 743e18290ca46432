"""``answer``: the one-shot Tin Men form (the model's plain-text answer arrives here)."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from sandbox.tools import EndEpisode, ToolContext, tool

if TYPE_CHECKING:
    from environments.shopping.tinmen_env import TinMenEnv


@tool
def answer(ctx: ToolContext, text: str) -> str:
    """Give the filled-in form (Explanation and Choice). Ends the episode.

    Args:
        text: the whole answer; its ``Choice:`` field is sent to the purchasing API.
    """
    env = cast("TinMenEnv", ctx.env)
    raise EndEpisode(env.submit_answer(ctx.sandbox, text))
