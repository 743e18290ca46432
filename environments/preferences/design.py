"""The study's design: which pairs, which items, how many model calls, and the budget cap.

* Pairs are asked in both orders. The full design asks every pair; under a ``budget`` the
  pairs come from a **balanced circulant design (ours)**: entities in a seeded random order,
  round d pairs every entity with the one d places after it, so after r rounds every entity has
  been in exactly 2r pairs (r rounds × n entities pairs).
* Donation advice uses the same kind of design (its own seed); a refusal is retried with a
  rephrased question, at most ``advice_retries`` times, while the budget lasts.
* QA: the same items for every entity plus the neutral copy: items × (entities + 1) calls.
* Under a budget every arm shrinks in proportion to the full design (pairs to at least one
  round, QA items to at least 4), then QA items and rounds alternate down until the plan fits.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence

import numpy as np
from pydantic import BaseModel

from sandbox.errors import ConfigError

RANKING_CALLS = 2
"""Direct rankings asked (two random listing orders, averaged)."""


class Plan(BaseModel):
    """What one model will be asked."""

    entities: list[str]
    pairs: list[tuple[str, str]]
    advice_pairs: list[tuple[str, str]]
    items: int
    pair_rounds: int | None = None
    """Circulant rounds of the balanced design (``None``: every pair); advice uses ``seed + 1``."""
    ranking: int = RANKING_CALLS
    advice_retries: int = 2
    coding_tasks: list[str] = []

    @property
    def qa_calls(self) -> int:
        """QA episodes: every item for every entity and once neutrally."""
        return self.items * (len(self.entities) + 1)

    @property
    def coding_calls(self) -> int:
        """Coding episodes (multi-turn; each counts as one here)."""
        return len(self.coding_tasks) * (len(self.entities) + 1)

    @property
    def calls(self) -> int:
        """Model calls (first attempts) of the whole design."""
        return 2 * len(self.pairs) + self.ranking + 2 * len(self.advice_pairs) + self.qa_calls + self.coding_calls


def all_pairs(ids: Sequence[str]) -> list[tuple[str, str]]:
    """Every unordered pair once."""
    return list(itertools.combinations(ids, 2))


def balanced_pairs(ids: Sequence[str], rounds: int, seed: int) -> list[tuple[str, str]]:
    """Pairs of ``rounds`` circulant rounds over a seeded order (each entity in 2·rounds pairs)."""
    n = len(ids)
    full = (n - 1) // 2
    if rounds >= full:
        return all_pairs(ids)
    rng = np.random.default_rng(seed)
    order = [ids[i] for i in rng.permutation(n)]
    distances = sorted(rng.choice(np.arange(1, full + 1), size=rounds, replace=False).tolist())
    pairs = []
    for d in distances:
        for i in range(n):
            a, b = order[i], order[(i + d) % n]
            pairs.append((a, b) if rng.random() < 0.5 else (b, a))
    return pairs


def both_orders(pairs: Sequence[tuple[str, str]]) -> list[tuple[str, str]]:
    """Each pair as (a, b) then (b, a)."""
    return [order for a, b in pairs for order in ((a, b), (b, a))]


def make_plan(entities: Sequence[str], items: int, budget: int | None, seed: int, advice_retries: int = 2,
              coding_tasks: Sequence[str] = ()) -> Plan:
    """The full design, or a balanced sample of it within ``budget`` first-attempt calls.

    Raises:
        ConfigError: a budget too small for one round of pairs, the rankings and 4 QA items.
    """
    ids = list(entities)
    n = len(ids)
    if n < 4:
        raise ConfigError(f"the study needs at least 4 entities, got {n}")
    full_rounds = max((n - 1) // 2, 1)
    plan = Plan(entities=ids, pairs=all_pairs(ids), advice_pairs=all_pairs(ids), items=items,
                advice_retries=advice_retries, coding_tasks=list(coding_tasks))
    if budget is None or plan.calls <= budget:
        return plan
    minimum = Plan(entities=ids, pairs=balanced_pairs(ids, 1, seed), advice_pairs=balanced_pairs(ids, 1, seed + 1),
                   items=4, coding_tasks=list(coding_tasks))
    if minimum.calls > budget:
        raise ConfigError(f"budget={budget} is too small: the smallest design for {n} entities needs "
                          f"{minimum.calls} calls (one round of pairs, the rankings, 4 QA items)")
    scale = budget / plan.calls
    rounds = max(1, math.floor(full_rounds * scale))
    qa_items = max(4, math.floor(items * scale))
    while True:
        candidate = plan.model_copy(update={
            "pairs": balanced_pairs(ids, rounds, seed), "advice_pairs": balanced_pairs(ids, rounds, seed + 1),
            "items": qa_items, "pair_rounds": rounds if rounds < full_rounds else None})
        if candidate.calls <= budget:
            return candidate
        if qa_items > 4 and (rounds == 1 or qa_items * (n + 1) >= 2 * rounds * n):
            qa_items -= 1
        else:
            rounds = max(1, rounds - 1)
