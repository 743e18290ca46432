"""Tools of the shopping environments, one per module."""

from environments.shopping.tools.answer import answer
from environments.shopping.tools.buy import buy
from environments.shopping.tools.reply import reply
from environments.shopping.tools.search import search
from environments.shopping.tools.view_product import view_product

__all__ = ["answer", "buy", "reply", "search", "view_product"]
