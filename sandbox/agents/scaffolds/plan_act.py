"""``plan_act``: the model writes a plan before its first action, then carries it out in the tool loop.

1. **plan** — the system prompt and task plus the ``plan`` prompt, tools offered with
   ``tool_choice="none"``: the model writes a plan and cannot act;
2. the ``carry_out`` prompt quoting the plan (``$plan``) joins the head of the conversation
   (after the task, never taken out), and the tool loop plays the rest of the episode.
"""

from __future__ import annotations

from typing import ClassVar

from sandbox.agents.scaffolds.session import Session, text_of
from sandbox.agents.scaffolds.tool_loop import ToolLoop
from sandbox.logs import Termination


class PlanThenAct(ToolLoop):
    """Plan once, then act (``agent=plan_act``).

    Prompts: ``plan`` (no placeholder), ``carry_out`` (``$plan``: the plan written).
    """

    PROMPTS: ClassVar[dict[str, frozenset[str]]] = {"plan": frozenset(), "carry_out": frozenset({"plan"})}

    async def play(self, session: Session) -> Termination:
        """Plan, then the tool loop."""
        if (limit := session.limit_reached()) is not None:
            return limit
        planning, _ = await session.ask([self.user("plan")], purpose="plan", acting=False)
        session.conversation.add_to_head(self.user("carry_out", plan=text_of(planning)))
        return await super().play(session)

    def calls_for(self, steps: float) -> float:
        """One call more than the steps: the plan."""
        return steps + 1
