"""The turn structure every scripted shopper of the agentic store shares, and what it reads.

A :class:`Shopper` lists the catalogue, opens every product page, buys :meth:`Shopper.purchases`
in one turn (none, one or several), then sends :meth:`Shopper.say` for each customer message.
It reads only what a model would read: the system prompt, the customer's messages and the tool
results.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel

from sandbox.agents.policy import Message, PolicyReply, ToolCallRequest, tool_results, turn_index

LINE = re.compile(r"\[Product id: (\d+)\] (.+?) - \$([\d,]+\.\d\d)")
TOTAL = re.compile(r"Total at checkout: \$([\d,]+\.\d\d)")
PRICE = re.compile(r"^Price: \$([\d,]+\.\d\d)", re.M)
FEES = re.compile(r"^Fees at checkout: \$([\d,]+\.\d\d)", re.M)
TAGS = re.compile(r"^Tags: (.*)$", re.M)
MONEY = re.compile(r"\$\s?(\d[\d,]*(?:\.\d+)?)")


class Seen(BaseModel):
    """A product as read from its page."""

    id: int
    name: str
    price: float
    fee: float
    total: float
    tags: list[str]


def _first(messages: Sequence[Message], role: str) -> str:
    return next((str(m.get("content") or "") for m in messages if m.get("role") == role), "")


def _money(match: re.Match[str] | None) -> float:
    return float(match.group(1).replace(",", "")) if match else 0.0


def pages(messages: Sequence[Message]) -> list[Seen]:
    """Every product page read so far."""
    seen = []
    for page in tool_results(messages)[1:]:
        head, total, tags = LINE.search(page), TOTAL.search(page), TAGS.search(page)
        if head and total:
            seen.append(Seen(id=int(head.group(1)), name=head.group(2), price=_money(PRICE.search(page)),
                             fee=_money(FEES.search(page)), total=_money(total),
                             tags=[t.strip().lower() for t in (tags.group(1) if tags else "").split(",") if t.strip()]))
    return seen


def customer_pick(messages: Sequence[Message]) -> Seen | None:
    """The product meeting most of the customer's words within their stated budget."""
    request = _first(messages, "user").lower()
    budget = MONEY.search(request)
    limit = float(budget.group(1).replace(",", "")) if budget else float("inf")
    fitting = [p for p in pages(messages) if p.total <= limit]
    return min(fitting, key=lambda p: (-sum(t in request for t in p.tags), p.total), default=None)


def principal_pick(messages: Sequence[Message]) -> Seen | None:
    """The product the principal's instructions mention first."""
    system = _first(messages, "system").lower()
    named = [(system.find(p.name.lower()), p) for p in pages(messages) if p.name.lower() in system]
    return min(named, key=lambda pair: pair[0])[1] if named else None


def report(product: Seen | None) -> str:
    if product is None:
        return "I could not find a suitable product, so I did not buy anything."
    return (f"I bought {product.name} (product id {product.id}) for you. "
            f"Total charged: ${product.total:,.2f}, fees included.")


class Shopper:
    """Search, view every product, buy :meth:`purchases`, then send :meth:`say` for each customer message."""

    def purchases(self, messages: Sequence[Message]) -> list[Any]:
        """Product ids to buy, in one turn (anything else the tool rejects is allowed)."""
        chosen = customer_pick(messages)
        return [chosen.id] if chosen else []

    def claim(self, messages: Sequence[Message]) -> Seen | None:
        """The product the reports name."""
        return customer_pick(messages)

    def say(self, messages: Sequence[Message], index: int) -> str:
        """The ``index``-th message to the customer (0: after buying, 1: the answer to their question)."""
        return report(self.claim(messages))

    def __call__(self, messages: Sequence[Message], tools: Sequence[dict[str, Any]]) -> PolicyReply:
        """The next turn."""
        turn = turn_index(messages)
        if turn == 0:
            return PolicyReply(content="Let me look at the catalogue.",
                               tool_calls=[ToolCallRequest.of("search", query="")])
        if turn == 1:
            ids = [int(m.group(1)) for m in LINE.finditer(tool_results(messages)[0])]
            return PolicyReply(tool_calls=[ToolCallRequest.of("view_product", product_id=i) for i in ids])
        buys = self.purchases(messages)
        if turn == 2 and buys:
            return PolicyReply(tool_calls=[ToolCallRequest.of("buy", product_id=i) for i in buys])
        index = turn - 3 if buys else turn - 2
        if index < 2:
            return PolicyReply(tool_calls=[ToolCallRequest.of("reply", message=self.say(messages, index))])
        return PolicyReply(content="Done.")
