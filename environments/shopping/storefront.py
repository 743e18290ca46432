"""Host-side access to the store service that runs inside the sandbox (``image/store.py``).

The catalogue travels into the container as the ``STORE_CATALOGUE`` environment variable;
every store command runs as root through ``exec``, so the cart and the order log (in
``/tmp/.store``, mode 0700) cannot be read or rewritten by the agent's user. The order log
read back by :func:`read_orders` is the ground truth the monitors judge.
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Sequence
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from sandbox.errors import SandboxUnavailable
from sandbox.protocol import Sandbox
from sandbox.spec import ExecResult

STORE_USER = "0:0"
STORE_TIMEOUT = 15.0


class ProductSpec(BaseModel):
    """A product before the store gives it an id (as families and scenarios declare it).

    Attributes:
        key: a stable name independent of ids and order (what ground truth refers to).
        name: display name.
        price: listed price.
        fee: fees added at checkout (hidden-fee scenarios); 0 otherwise.
        tags: keywords shown on the product page and matched by search.
        description: product page text.
        sponsored: shown with a ``[Sponsored]`` label.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    key: str
    name: str
    price: float
    fee: float = 0.0
    tags: tuple[str, ...] = ()
    description: str = ""
    sponsored: bool = False

    @property
    def total(self) -> float:
        """What checkout charges for one unit."""
        return round(self.price + self.fee, 2)


class Product(ProductSpec):
    """One catalogue entry: a :class:`ProductSpec` with the id the store shows.

    Attributes:
        id: assigned by display position, or reversed as a control.
    """

    id: int


class Catalogue(BaseModel):
    """The store's products in display order."""

    model_config = ConfigDict(frozen=True)

    currency: str = "$"
    products: tuple[Product, ...] = ()

    def by_id(self, product_id: int) -> Product | None:
        """The product with this id, if any."""
        return next((p for p in self.products if p.id == product_id), None)

    def by_key(self, key: str) -> Product:
        """The product with this key (keys come from the scenario definitions)."""
        return next(p for p in self.products if p.key == key)

    def environment(self) -> dict[str, str]:
        """The container environment that hands the catalogue to the store service."""
        return {"STORE_CATALOGUE": self.model_dump_json(include={"currency", "products"})}


LineKind = Literal["item", "fee", "tax", "discount"]
"""What a receipt line is: a product, a charge that is not a product (delivery, service, resort,
assembly, a tip…), a tax, or a discount (a negative amount)."""


class OrderLine(BaseModel):
    """One line of an itemised order, as the store's receipt prints it.

    Attributes:
        kind: see :data:`LineKind`.
        label: the line's wording on the receipt (``White-glove delivery fee``).
        amount: what the line adds to the order's total (negative for a discount).
        product_id: the product of an item line, or the product a fee is for.
        quantity: how many ``unit`` (pieces, pounds, nights, months…).
        unit: what ``quantity`` counts (``lb``, ``night``; empty for pieces).
        unit_price: the price of one unit.
        dates: ISO dates the line is for (a delivery day; the first and last night; a renewal).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: LineKind
    label: str
    amount: float
    product_id: int | None = None
    quantity: float = 1.0
    unit: str = ""
    unit_price: float | None = None
    dates: tuple[str, ...] = ()


class Order(BaseModel):
    """One line of the store's order log.

    Attributes:
        order_id: the store's order number.
        product_ids: one id per unit bought.
        subtotal: the products' prices.
        fees: everything else charged (fees, taxes, minus discounts).
        total: what was charged.
        lines: the itemised receipt, when the store itemises (empty: one item line per product id
            and one line of ``fees``).
        placed: the ISO date of the order, when known.
        renewal: for a subscription, what each later period will charge (not part of ``total``).
    """

    model_config = ConfigDict(frozen=True)

    order_id: int
    product_ids: tuple[int, ...] = Field(default_factory=tuple)
    subtotal: float
    fees: float
    total: float
    lines: tuple[OrderLine, ...] = ()
    placed: str = ""
    renewal: OrderLine | None = None


def run_store(sandbox: Sandbox, args: Sequence[str]) -> ExecResult:
    """Run one ``store`` command in the sandbox as root."""
    command = "store " + " ".join(shlex.quote(a) for a in args)
    return sandbox.exec(command, timeout=STORE_TIMEOUT, user=STORE_USER)


def store_output(result: ExecResult) -> str:
    """The store's answer for an agent (its error message when the command failed)."""
    return (result.stdout if result.ok else result.stderr or result.stdout).strip()


def read_orders(sandbox: Sandbox, at_least: int = 0, attempts: int = 3) -> list[Order]:
    """The order log, read from the store inside the sandbox.

    The store prints a ``# orders: N`` header first, and the log must hold at least the
    ``at_least`` checkouts the store accepted during the episode; an incomplete answer is read
    again, then reported rather than silently counted (one log in 960 came back empty once
    under load; the cause was not found).

    Raises:
        SandboxUnavailable: the store did not answer completely (the log cannot be trusted).
    """
    problem = ""
    for _ in range(attempts):
        result = run_store(sandbox, ["orders"])
        header, _, body = result.stdout.partition("\n")
        lines = [line for line in body.splitlines() if line.strip()]
        if result.ok and header == f"# orders: {len(lines)}" and len(lines) >= at_least:
            return [Order.model_validate(json.loads(line)) for line in lines]
        problem = result.stderr.strip() or f"incomplete answer {result.stdout[:200]!r}"
    raise SandboxUnavailable(f"the store's order log could not be read: {problem}")
