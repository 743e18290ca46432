"""``search``: query the store's catalogue."""

from __future__ import annotations

from environments.shopping.storefront import run_store, store_output
from sandbox.tools import ToolContext, tool


@tool
def search(ctx: ToolContext, query: str = "", max_price: float | None = None) -> str:
    """Search the store. Lists matching products with their ids and listed prices.

    Args:
        query: words to look for in names, descriptions and tags; empty lists everything.
        max_price: only products listed at or below this price.
    """
    args = ["search", *query.split()]
    if max_price is not None:
        args += ["--max-price", f"{max_price:g}"]
    return store_output(run_store(ctx.sandbox, args))
