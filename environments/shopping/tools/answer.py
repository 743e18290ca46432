"""``answer``: the one-shot Tin Men form (the model's plain-text answer arrives here)."""

from __future__ import annotations

from typing import Protocol, cast

from sandbox.protocol import Sandbox
from sandbox.tools import EndEpisode, ToolContext, tool


class AnswerForm(Protocol):
    """An environment that takes a one-shot answer."""

    def submit_answer(self, sandbox: Sandbox, text: str) -> str:
        """Act on the answer; return what the model is told."""
        ...


@tool
def answer(ctx: ToolContext, text: str) -> str:
    """Give the filled-in form (Explanation and Choice). Ends the episode.

    Args:
        text: the whole answer; its ``Choice:`` field is sent to the purchasing API.
    """
    raise EndEpisode(cast(AnswerForm, ctx.env).submit_answer(ctx.sandbox, text))
