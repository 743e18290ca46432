"""The unseen stores of ``families_unseen.yaml`` as the case generator knows them, and their orders.

:func:`stores` reads each store: its family, how its products are sold and referred to, its
checkout charges, typical carts and dates; :func:`build_order` makes the structured order checkout
makes of a cart. Like the rest of the generator (:mod:`environments.shopping.casegen`), it never
imports the deception judge's rules.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from environments.shopping.families import Family, unseen_stores
from environments.shopping.storefront import Catalogue, Order, OrderLine


class ChargeRule(BaseModel):
    """How checkout adds one line that is not a product (see ``families_unseen.yaml``)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: Literal["fee", "tax", "discount"]
    label: str
    amount: float | None = None
    rate: float | None = None
    per: Literal["", "bag", "night", "day", "unit"] = ""
    count: tuple[int, ...] = (1,)
    base: Literal["items", "all"] = "items"
    products: tuple[str, ...] = ()
    always: bool = False
    first_month_to: float | None = None
    say: tuple[str, ...] = Field(min_length=1)


class ProductTalk(BaseModel):
    """How a product is sold and referred to."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    refs: tuple[str, ...] = Field(min_length=1)
    unit: str = ""
    quantities: tuple[float, ...] = (1.0,)
    size: str = ""


class SharedRef(BaseModel):
    """A reference that fits several products: part of a name, or a category only."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    say: str
    fits: tuple[str, ...] = Field(min_length=2)
    kind: Literal["partial", "generic"]


class Store(BaseModel):
    """One store of ``families_unseen.yaml``: the family and the generator's knowledge of it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    split: Literal["dev", "heldout"]
    round: int = 1
    note: str = ""
    family: Family
    verbs: tuple[str, ...] = Field(min_length=1)
    products: dict[str, ProductTalk]
    shared: tuple[SharedRef, ...] = ()
    features: dict[str, tuple[str, ...]] = Field(default_factory=dict)
    charges: tuple[ChargeRule, ...] = ()
    carts: dict[Literal["customer", "principal", "other"], tuple[tuple[str, ...], ...]]
    dates: dict[str, str] = Field(default_factory=dict)

    @property
    def booking(self) -> bool:
        """A stay, a trip or a rental (booked, not shipped)."""
        return "start" in self.dates

    @property
    def subscription(self) -> bool:
        """A plan that renews."""
        return "renewal" in self.dates


@cache
def stores() -> dict[str, Store]:
    """Every store of ``families_unseen.yaml``."""
    return {name: Store.model_validate(body) for name, body in unseen_stores().items()}


def _nights(store: Store) -> int:
    if "start" in store.dates and "end" in store.dates:
        from datetime import date

        return (date.fromisoformat(store.dates["end"]) - date.fromisoformat(store.dates["start"])).days
    return 1


def build_order(store: Store, catalogue: Catalogue, cart: Sequence[str], extras: Sequence[str], order_id: int = 1,
                pick: int = 0) -> Order:
    """The structured order checkout makes of ``cart`` with the optional charges ``extras`` (by label).

    Args:
        store: the store.
        catalogue: its catalogue (ids under the case's control).
        cart: product keys, one per item line.
        extras: labels of optional charges taken.
        order_id: the order's number.
        pick: which of a product's usual quantities (and bag counts) to take.
    """
    lines: list[OrderLine] = []
    item_dates = tuple(store.dates[k] for k in ("start", "end", "delivery") if k in store.dates)
    for key in cart:
        product, talk = catalogue.by_key(key), store.products[key]
        quantity = talk.quantities[pick % len(talk.quantities)]
        label = product.name + (f", {talk.size}" if talk.size else "")
        lines.append(OrderLine(kind="item", label=label, amount=round(quantity * product.price, 2),
                               product_id=product.id, quantity=quantity, unit=talk.unit, unit_price=product.price,
                               dates=item_dates))
    items = [line for line in lines if line.kind == "item"]
    for rule in store.charges:
        if not (rule.always or rule.label in extras):
            continue
        keys = [k for k in cart if not rule.products or k in rule.products]
        if not keys:
            continue
        relevant = [line for line, key in zip(items, cart, strict=True) if key in keys]
        amount = _charge(rule, relevant, lines, store, pick)
        if amount:
            lines.append(OrderLine(kind=rule.kind, label=rule.label, amount=amount))
    subtotal = round(sum(line.amount for line in items), 2)
    total = round(sum(line.amount for line in lines), 2)
    renewal = None
    if store.subscription and all(store.products[k].unit in ("month", "year") for k in cart):
        monthly = [catalogue.by_key(k) for k in cart if store.products[k].unit == "month"]
        if monthly:
            tax = next((r.rate or 0.0 for r in store.charges if r.kind == "tax"), 0.0)
            amount = round(sum(p.price for p in monthly) * (1 + tax), 2)
            renewal = OrderLine(kind="item", label="Monthly renewal", amount=amount, quantity=1, unit="month",
                                unit_price=amount, dates=(store.dates["renewal"],))
    return Order(order_id=order_id, product_ids=tuple(line.product_id for line in items if line.product_id),
                 subtotal=subtotal, fees=round(total - subtotal, 2), total=total, lines=tuple(lines),
                 placed=store.dates.get("placed", ""), renewal=renewal)


def _charge(rule: ChargeRule, relevant: list[OrderLine], lines: list[OrderLine], store: Store, pick: int) -> float:
    if rule.first_month_to is not None:
        return -round(sum(line.amount - rule.first_month_to for line in relevant), 2)
    if rule.rate is not None:
        base = sum(line.amount for line in (relevant if rule.base == "items" else lines))
        amount = round(rule.rate * base, 2)
    else:
        count = {"": 1, "bag": rule.count[pick % len(rule.count)], "unit": len(relevant),
                 "night": _nights(store), "day": _nights(store)}[rule.per]
        amount = round((rule.amount or 0.0) * count, 2)
    return -amount if rule.kind == "discount" else amount
