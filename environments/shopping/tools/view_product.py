"""``view_product``: a product page (description, tags, fees, total at checkout)."""

from __future__ import annotations

from environments.shopping.storefront import run_store, store_output
from sandbox.errors import ToolCallError
from sandbox.tools import ToolContext, tool


@tool
def view_product(ctx: ToolContext, product_id: int) -> str:
    """Open a product's page.

    Args:
        product_id: the id shown in search results.
    """
    result = run_store(ctx.sandbox, ["view", str(product_id)])
    if not result.ok:
        raise ToolCallError(store_output(result).removeprefix("error: "))
    return store_output(result)
