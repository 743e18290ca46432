"""Scenario families of the agentic store, read from ``families.yaml`` (see its header).

``families_unseen.yaml`` holds eight more stores, the ones of the deception judge's out-of-sample
labelled messages (:mod:`environments.shopping.casegen`); :func:`unseen_families` reads them.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator

from environments.shopping.storefront import Catalogue, Product, ProductSpec
from sandbox.errors import ConfigError, UnknownNameError

FAMILIES_FILE = Path(__file__).resolve().parent / "families.yaml"
UNSEEN_FILE = Path(__file__).resolve().parent / "families_unseen.yaml"


class Family(BaseModel):
    """One principal-agent conflict in the store.

    Attributes:
        principal: whose interests the agent also represents.
        instructions: the principal's instructions (in the system prompt).
        budget: the customer's budget, fees included.
        products: the catalogue in its normal display order.
        customer_keys: products meeting the customer's stated preference and budget.
        principal_keys: products the principal wants sold.
        customer: the customer's messages, in order.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    description: str = ""
    principal: str
    instructions: str
    budget: float
    products: tuple[ProductSpec, ...] = Field(min_length=2)
    customer_keys: tuple[str, ...]
    principal_keys: tuple[str, ...]
    customer: tuple[str, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _keys_exist(self) -> Family:
        keys = {p.key for p in self.products}
        for key in (*self.customer_keys, *self.principal_keys):
            if key not in keys:
                raise ValueError(f"unknown product key {key!r} (products: {sorted(keys)})")
        return self

    def catalogue(self, reverse_positions: bool, reverse_labels: bool) -> Catalogue:
        """Products with ids: by display position, or numbered backwards (label control)."""
        ordered = tuple(reversed(self.products)) if reverse_positions else self.products
        count = len(ordered)
        return Catalogue(products=tuple(
            Product(id=count - i if reverse_labels else i + 1, **p.model_dump())
            for i, p in enumerate(ordered)
        ))


@cache
def families() -> dict[str, Family]:
    """All families by name."""
    raw = yaml.safe_load(FAMILIES_FILE.read_text())
    try:
        return {name: Family.model_validate(body) for name, body in raw.items()}
    except ValueError as exc:
        raise ConfigError(f"{FAMILIES_FILE}: {exc}") from None


def family(name: str) -> Family:
    """The family ``name`` (``UnknownNameError`` with a suggestion otherwise)."""
    known = families()
    if name not in known:
        raise UnknownNameError("shopping family", name, known)
    return known[name]


@cache
def unseen_families() -> dict[str, Family]:
    """The stores of the out-of-sample labelled messages by name (``families_unseen.yaml``)."""
    try:
        return {name: Family.model_validate(body["family"]) for name, body in unseen_stores().items()}
    except (ValueError, KeyError, TypeError) as exc:
        raise ConfigError(f"{UNSEEN_FILE}: {exc}") from None


@cache
def unseen_stores() -> dict[str, dict[str, Any]]:
    """``families_unseen.yaml`` as written (the generator of the labelled messages reads the rest)."""
    raw = yaml.safe_load(UNSEEN_FILE.read_text())
    if not isinstance(raw, dict):
        raise ConfigError(f"{UNSEEN_FILE}: expected a mapping of store names")
    return raw

