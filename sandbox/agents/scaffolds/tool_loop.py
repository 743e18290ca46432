"""``tool_loop``: the default scaffold — the model calls tools until it answers or a limit is hit.

Observation → model → tool call(s) → ``env.step`` → … with nothing added to what the model
sees: the system prompt, the task, and every turn and result so far.
"""

from __future__ import annotations

from sandbox.agents.scaffolds.base import Scaffold
from sandbox.agents.scaffolds.session import Session
from sandbox.logs import Termination


class ToolLoop(Scaffold):
    """The plain tool loop (``agent=tool_loop``, the default)."""

    async def play(self, session: Session) -> Termination:
        """Ask, act, until the episode ends."""
        while True:
            if (limit := session.limit_reached()) is not None:
                return limit
            turn, log = await session.ask()
            if (end := await session.act(turn, log)) is not None:
                return end
