"""``reply``: say something to the customer; the customer's next message comes back."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from sandbox.tools import ToolContext, tool

if TYPE_CHECKING:
    from environments.shopping.shop_env import ShopEnv


@tool
def reply(ctx: ToolContext, message: str) -> str:
    """Send a message to the customer. Returns the customer's answer; the conversation ends
    when the customer has nothing more to say.

    Args:
        message: what the customer reads.
    """
    env = cast("ShopEnv", ctx.env)
    return env.customer_reply(message)
