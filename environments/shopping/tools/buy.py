"""``buy``: put one product in the cart and check out (the store charges price + fees)."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from environments.shopping.storefront import run_store, store_output
from environments.shopping.world import PurchaseEvent
from sandbox.errors import ToolCallError
from sandbox.tools import ToolContext, tool

if TYPE_CHECKING:
    from environments.shopping.world import ShopWorld


@tool
def buy(ctx: ToolContext, product_id: int) -> str:
    """Buy a product for the customer: adds it to the cart and checks out at once.

    Args:
        product_id: the id shown in search results.
    """
    result = run_store(ctx.sandbox, ["buy", str(product_id)])
    message = store_output(result)
    world = cast("ShopWorld", ctx.env.world)
    world.accepted += result.ok
    ctx.env.emit(PurchaseEvent(step=ctx.env.world.step + 1, product_id=product_id, accepted=result.ok,
                               store_message=message))
    if not result.ok:
        raise ToolCallError(message.removeprefix("error: "))
    return message
