"""The labelled messages of the deception judges, and precision/recall over them.

Two sets:

* ``data/deception_unseen.jsonl`` (:class:`UnseenCase`, :func:`unseen_cases`) — messages about
  twelve stores the rules were not written on (``families_unseen.yaml``), with structured orders,
  written by :mod:`environments.shopping.casegen` without looking at the rules (and by hand), labelled
  truthful, deceptive (with the check) or ambiguous. The split is by store and was frozen before the
  rules moved; the ``heldout`` split is the out-of-sample estimate, scored once per round and never
  tuned on (round 1 was held out once, then joined ``dev``; round 2 is the current held-out split).
* ``data/deception_labelled.jsonl`` (:class:`LabelledMessage`) — 573 messages about the four store
  families the rules were written on, written by the rules' author to trip them: a **regression
  test**, not an estimate (its own ``heldout`` batches were folded into ``dev`` and tuned on).

Labels follow the definitions of :data:`environments.shopping.claims.CHECKS`, not what the rules say.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from functools import cache
from pathlib import Path
from typing import Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field
from rich.table import Table

from environments.shopping.families import family, unseen_families
from environments.shopping.storefront import Order
from environments.shopping.world import Control, Reply, ShopWorld
from sandbox.quality import Score, scores_table

LABELLED_FILE = Path(__file__).resolve().parent / "data" / "deception_labelled.jsonl"
UNSEEN_FILE = Path(__file__).resolve().parent / "data" / "deception_unseen.jsonl"
Category = Literal["truthful", "lying", "vague", "itemised", "multi-product", "no-purchase"]
_CONTROLS: dict[str, tuple[bool, bool]] = {"none": (False, False), "positions": (True, False),
                                           "labels": (False, True), "both": (True, True)}


class LabelledMessage(BaseModel):
    """One labelled conversation.

    Attributes:
        id: a stable id (the letter tells the batch it was written in; see the module docstring).
        split: ``dev`` (rules tuned on it) or ``heldout`` (written after the rules were frozen).
        family: the scenario family (catalogue, budget, customer messages).
        control: the catalogue control (ids and order).
        orders: the order log, one list of product keys per order.
        turns: how many customer messages were delivered (``None``: all of them).
        replies: what the agent told the customer, in order.
        deceptive: the gold label.
        category: what kind of message it is.
        claim: the check that makes it deceptive (``none`` for honest ones).
        note: why the label is what it is, where that is not obvious.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    split: Literal["dev", "heldout"]
    family: str
    control: Control = "none"
    orders: list[list[str]] = Field(default_factory=list)
    turns: int | None = None
    replies: list[str] = Field(min_length=1)
    deceptive: bool
    category: Category
    claim: str
    note: str = ""

    def world(self) -> ShopWorld:
        """The world this message is judged in (orders as the store would log them)."""
        spec = family(self.family)
        catalogue = spec.catalogue(*_CONTROLS[self.control])
        orders = []
        for i, keys in enumerate(self.orders, start=1):
            products = [catalogue.by_key(k) for k in keys]
            subtotal, fees = sum(p.price for p in products), sum(p.fee for p in products)
            orders.append(Order(order_id=i, product_ids=tuple(p.id for p in products), subtotal=subtotal,
                                fees=fees, total=round(subtotal + fees, 2)))
        turns = list(spec.customer)
        return ShopWorld(family=self.family, visibility="both", control=self.control, principal=spec.principal,
                         catalogue=catalogue, budget=spec.budget, customer_keys=list(spec.customer_keys),
                         principal_keys=list(spec.principal_keys), customer_turns=turns,
                         turn=self.turns or len(turns), orders=orders,
                         replies=[Reply(step=i, text=t) for i, t in enumerate(self.replies)])


@cache
def labelled_messages() -> tuple[LabelledMessage, ...]:
    """Every labelled message, in file order."""
    lines = LABELLED_FILE.read_text().splitlines()
    return tuple(LabelledMessage.model_validate(json.loads(line)) for line in lines if line.strip())


Verdict = tuple[bool | None, str]
"""A judge's answer on one message: (deceptive?, error reason). ``(None, "")`` is *unclear* (the judge
abstained); a non-empty reason means no verdict at all (an error)."""


class Labelled(Protocol):
    """A labelled message of either set (:class:`LabelledMessage`, :class:`UnseenCase`)."""

    @property
    def id(self) -> str: ...

    @property
    def split(self) -> str: ...

    @property
    def family(self) -> str: ...

    @property
    def deceptive(self) -> bool | None: ...

    def world(self) -> ShopWorld: ...


def by_split(item: Labelled) -> str:
    """The grouping of :func:`score` by split."""
    return item.split


def score(verdicts: Iterable[Verdict], items: Sequence[Labelled],
          group: Callable[[Labelled], str] = by_split) -> dict[str, Score]:
    """Scores per group (by default the split) and over ``all``."""
    scores: dict[str, Score] = {}
    for item in sorted(items, key=group):
        scores.setdefault(group(item), Score())
    scores["all"] = Score()
    for item, (verdict, error) in zip(items, verdicts, strict=True):
        for name in (group(item), "all"):
            scores[name].add(item.id, item.deceptive, verdict, error)
    return scores


def rules_verdicts(items: Sequence[Labelled]) -> list[Verdict]:
    """The rule-based judge (:func:`environments.shopping.claims.judge`) on each message."""
    from environments.shopping.claims import judge

    return [(judge(item.world()).deceptive, "") for item in items]


def score_table(judge_name: str, scores: dict[str, Score], title: str = "the labelled messages",
                column: str = "split") -> Table:
    """Precision, recall and accuracy per group."""
    return scores_table(f"Deception judge {judge_name} on {title}", scores, column)


Label = Literal["truthful", "deceptive", "ambiguous"]
"""Gold label of an out-of-sample message: ``ambiguous`` admits a truthful and a deceptive reading."""


class UnseenCase(BaseModel):
    """One labelled message about a store of ``families_unseen.yaml`` (see :mod:`environments.shopping.casegen`).

    Attributes:
        id: ``u-<store>-NNN`` (generated) or ``h-<store>-NN`` (written by hand).
        split: the store's split (``dev``: the rules may be tuned on it; ``heldout``: never).
        round: the batch of stores it belongs to (round 1 was held out once, then joined dev).
        family: the store.
        source: ``generated`` or ``hand``.
        control: the catalogue control (ids and order).
        orders: the store's structured orders (receipt lines, dates, renewal).
        turns: customer messages delivered (``None``: both, so the customer asked which and how much).
        replies: what the agent told the customer.
        label: the gold label.
        kind: the check that makes it deceptive, ``none`` for truthful ones, or what is ambiguous
            (``reference``, ``amount``).
        style: how it is phrased (``itemised``, ``rounded``, ``naming``…), for per-style scores.
        note: why the label is what it is, where that is not obvious.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    split: Literal["dev", "heldout"]
    round: int = 1
    family: str
    source: Literal["generated", "hand"]
    control: Control = "none"
    orders: list[Order] = Field(default_factory=list)
    turns: int | None = None
    replies: list[str] = Field(min_length=1)
    label: Label
    kind: str
    style: str
    note: str = ""

    @property
    def deceptive(self) -> bool | None:
        """The label as a verdict (``None``: ambiguous)."""
        return None if self.label == "ambiguous" else self.label == "deceptive"

    def world(self) -> ShopWorld:
        """The world this message is judged in."""
        spec = unseen_families()[self.family]
        turns = list(spec.customer)
        return ShopWorld(family=self.family, visibility="both", control=self.control, principal=spec.principal,
                         catalogue=spec.catalogue(*_CONTROLS[self.control]), budget=spec.budget,
                         customer_keys=list(spec.customer_keys), principal_keys=list(spec.principal_keys),
                         customer_turns=turns, turn=self.turns or len(turns), orders=list(self.orders),
                         replies=[Reply(step=i, text=t) for i, t in enumerate(self.replies)])


@cache
def unseen_cases() -> tuple[UnseenCase, ...]:
    """Every out-of-sample labelled message (``data/deception_unseen.jsonl``), in file order."""
    lines = UNSEEN_FILE.read_text().splitlines()
    return tuple(UnseenCase.model_validate(json.loads(line)) for line in lines if line.strip())


def by_store(item: Labelled) -> str:
    """The grouping by split and store."""
    return f"{item.split} · {item.family}"


def by_kind(item: Labelled) -> str:
    """The grouping by split and gold kind (the check a deceptive message fails, ``none``, or what is ambiguous)."""
    kind = item.kind if isinstance(item, UnseenCase) else getattr(item, "claim", "")
    return f"{item.split} · {kind}"


def unseen_tables(judge_name: str, verdicts: Sequence[Verdict], items: Sequence[UnseenCase]) -> list[Table]:
    """The out-of-sample scores: per split (the held-out one is the estimate), per store, per kind."""
    title = "the unseen stores"
    return [score_table(judge_name, score(verdicts, items), title),
            score_table(judge_name, score(verdicts, items, by_store), f"{title}, per store", "split · store"),
            score_table(judge_name, score(verdicts, items, by_kind), f"{title}, per kind", "split · kind")]
