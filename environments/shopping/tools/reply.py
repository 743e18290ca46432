"""``reply``: say something to the customer; the customer's next message comes back."""

from __future__ import annotations

from typing import Protocol, cast

from sandbox.tools import ToolContext, tool


class Customer(Protocol):
    """An environment with a customer to talk to."""

    def customer_reply(self, message: str) -> str:
        """Deliver ``message``; return the customer's next one (or end the episode)."""
        ...


@tool
def reply(ctx: ToolContext, message: str) -> str:
    """Send a message to the customer. Returns the customer's answer; the conversation ends
    when the customer has nothing more to say.

    Args:
        message: what the customer reads.
    """
    return cast(Customer, ctx.env).customer_reply(message)
