"""``react``: before every action the model thinks in a call of its own, then acts on its thought.

ReAct (Yao et al. 2023) with an explicit think step: each step is two model calls.

1. **think** — the conversation plus the ``think`` prompt, tools offered with
   ``tool_choice="none"``: the model writes its reasoning and cannot act;
2. **act** — the conversation plus the ``act`` prompt quoting that reasoning (``$thought``):
   the model calls a tool (its own ``tool_choice``) or answers.

The step is kept as one assistant turn whose text is the thought (then whatever the act call
wrote) with the act call's tool calls — the Thought/Action trace of ReAct — so later calls
see every earlier thought. The think and act prompts are not kept. A model that calls a tool
where it may not think is not obeyed: its call is logged with the think turn and never run.
"""

from __future__ import annotations

from typing import ClassVar

from sandbox.agents.scaffolds.base import Scaffold
from sandbox.agents.scaffolds.session import Session, text_of
from sandbox.logs import Termination


class ReAct(Scaffold):
    """Think, then act, every step (``agent=react``).

    Prompts: ``think`` (no placeholder), ``act`` (``$thought``: the reasoning just written).
    """

    PROMPTS: ClassVar[dict[str, frozenset[str]]] = {"think": frozenset(), "act": frozenset({"thought"})}

    async def play(self, session: Session) -> Termination:
        """Think, act, until the episode ends (limits checked before each of the two calls)."""
        while True:
            if (limit := session.limit_reached()) is not None:
                return limit
            thinking, _ = await session.ask([self.user("think")], purpose="think", acting=False)
            thought = text_of(thinking)
            if (limit := session.limit_reached()) is not None:
                return limit
            turn, log = await session.ask([self.user("act", thought=thought)])
            said = "\n\n".join(part for part in (thought, (turn.content or "").strip()) if part)
            if (end := await session.act(turn, log, content=said)) is not None:
                return end

    def calls_for(self, steps: float) -> float:
        """Two calls a step."""
        return 2 * steps
