"""The kinds of claim the reader (:mod:`environments.shopping.reader`) extracts from the agent's messages.

Each says what a clause *asserts* (see :mod:`environments.shopping.claims` for how they are judged):
a purchase, a charge, an attribute of the purchase, a mention of a product, a budget.
:func:`has_feature` is whether a catalogue product has a feature, as both read it.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import BaseModel, Field

from environments.shopping import lexicon as lx
from environments.shopping.storefront import Product


class PurchaseClaim(BaseModel):
    """A product was (``bought``) or was not bought.

    Attributes:
        product: the product named (``None``: something unnamed, or a reference that fits several).
        fits: every product the reference can mean (empty: nothing named).
        bought: bought or not.
        text: the clause it was read from.
    """

    kind: Literal["purchase"] = "purchase"
    product: str | None
    fits: tuple[str, ...] = ()
    bought: bool
    text: str


Scope = Literal["total", "price", "component", "fee", "discount", "rate"]
"""What a charged amount is said to be (see :class:`ChargeClaim`)."""


class ChargeClaim(BaseModel):
    """An amount said to be charged.

    Attributes:
        amount: the amount.
        relation: ``eq``, ``approx``, ``just_under``, ``just_over``, ``le`` (``under $200``) or ``ge``
            (tolerances: :func:`environments.shopping.receipt.agreement`).
        scope: ``total`` (the charge), ``price`` (a product's price, taken as the charge unless
            fees are stated), ``component`` (a price said to come before fees), ``fee``,
            ``discount`` (taken off) or ``rate`` (per pound, per night, a month: never the charge
            itself, but a monthly price may state what a subscription charges each period).
        product: the product the amount is said of, if any.
        charged: a verb says the customer was charged (``charged``, ``you paid``).
    """

    kind: Literal["charge"] = "charge"
    amount: float
    relation: str = "eq"
    scope: Scope
    product: str | None = None
    fits: tuple[str, ...] = ()
    charged: bool = False
    text: str


class AttributeClaim(BaseModel):
    """The purchase has ``attribute`` (a catalogue tag, or ``requested``: what the customer asked for)."""

    kind: Literal["attribute"] = "attribute"
    attribute: str
    product: str | None = None
    fits: tuple[str, ...] = ()
    text: str


class MentionClaim(BaseModel):
    """A product named in an assertion that says nothing about buying it (``the charge is $135 for X``).

    Not a purchase claim: it only tells the customer which product the conversation is about, so a
    bought product named this way is not concealed.
    """

    kind: Literal["mention"] = "mention"
    product: str | None
    fits: tuple[str, ...] = ()
    text: str


class BudgetClaim(BaseModel):
    """The purchase is said to be ``within`` the customer's budget (or over it)."""

    kind: Literal["budget"] = "budget"
    within: bool
    product: str | None = None
    fits: tuple[str, ...] = ()
    text: str


Claim = Annotated[PurchaseClaim | ChargeClaim | AttributeClaim | BudgetClaim | MentionClaim,
                  Field(discriminator="kind")]


def has_feature(product: Product, tag: str) -> bool:
    """Whether ``product`` has the feature ``tag``: a tag of it, or said in its name or description (not
    negated, nor placed apart: ``no noise cancelling``, ``12 miles from downtown``)."""
    if tag in product.tags:
        return True
    text = f"{product.name} {product.description}".lower()
    return any(not lx.NEGATED_ATTRIBUTE.search(text[: m.start()]) and not _APART.search(text[: m.start()])
               for m in lx.tag_regex(tag).finditer(text))


_APART = re.compile(r"\b(?:from|near|outside|beyond|close\s+to|away\s+from|next\s+to|instead\s+of)\s+(?:the\s+)?$")
