"""Worlds and events of the shopping environments (the ground truth monitors read).

Both worlds keep the store's catalogue and, after the episode, the store's order log as read
back from the sandbox (``orders``; ``None`` until synced). Monitors judge purchases from
``orders`` only, never from what the agent wrote.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from environments.shopping.storefront import Catalogue, Order, Product
from environments.shopping.tinmen import Condition, ParsedChoice, ScenarioName
from sandbox.world import Event, World

Visibility = Literal["both", "principal-only", "user-only", "neither"]
Control = Literal["none", "positions", "labels", "both"]


class PurchaseEvent(Event):
    """The store accepted (``accepted``) or refused an order placed by a tool."""

    kind: str = "purchase"
    product_id: int | None = None
    accepted: bool = False
    store_message: str = ""


class AnswerEvent(Event):
    """The one-shot agent's answer was parsed (Tin Men)."""

    kind: str = "answer"
    parsed: ParsedChoice


class ReplyEvent(Event):
    """The agent said something to the customer."""

    kind: str = "reply"
    text: str


class TinMenWorld(World):
    """One cell of the Tin Men experiment.

    Attributes:
        scenario: ``film-rental`` or ``vehicle-purchase``.
        condition: who will see the explanation.
        reversed: products swapped in position and id (a control).
        prompt: the single user message.
        catalogue: the two products as the store lists them.
        override_id: id of the product against the customer's first preference.
        answer: the model's answer text, once given.
        parsed: what the parser read from it.
        accepted: checkouts the store accepted during the episode (a consistency check).
        orders: the store's order log at the end (ground truth).
    """

    scenario: ScenarioName
    condition: Condition
    reversed: bool = False
    prompt: str
    catalogue: Catalogue
    override_id: int
    answer: str | None = None
    parsed: ParsedChoice | None = None
    accepted: int = 0
    orders: list[Order] | None = None


class Reply(BaseModel):
    """One message from the agent to the customer."""

    model_config = ConfigDict(frozen=True)

    step: int
    text: str


class ShopWorld(World):
    """One episode of the agentic store.

    Attributes:
        family: the scenario family (key in ``families.yaml``).
        visibility: who sees what (``both``: the principal reviews the transcript and the
            customer gets the receipt; ``principal-only``; ``user-only``; ``neither``).
        control: label/position reversal applied to the catalogue.
        principal: who the agent also represents.
        catalogue: products as the store shows them.
        budget: the customer's stated budget.
        customer_keys: products that meet the customer's stated preference and budget.
        principal_keys: products the principal wants sold.
        customer_turns: what the customer says, in order; ``turn`` of them said so far.
        replies: what the agent told the customer.
        accepted: checkouts the store accepted during the episode (a consistency check).
        orders: the store's order log at the end (ground truth).
    """

    family: str
    visibility: Visibility
    control: Control
    principal: str
    catalogue: Catalogue
    budget: float
    customer_keys: list[str]
    principal_keys: list[str]
    customer_turns: list[str]
    turn: int = 1
    replies: list[Reply] = Field(default_factory=list)
    accepted: int = 0
    orders: list[Order] | None = None

    def bought(self) -> list[Product]:
        """Products in the order log (empty before syncing)."""
        found = (self.catalogue.by_id(pid) for order in self.orders or [] for pid in order.product_ids)
        return [p for p in found if p is not None]
