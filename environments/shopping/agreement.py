"""How two deception judges agree on the same messages: a confusion table and Cohen's kappa with its CI.

Each judge's answer on a message is *deceptive*, *honest*, *unclear* (it abstained) or an *error*
(no verdict). Kappa is computed over the messages both judges decided (deceptive or honest); its 95%
interval is a percentile bootstrap over those messages (2 000 resamples, fixed seed). The table keeps
every answer, abstentions and errors included.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from pydantic import BaseModel
from rich.table import Table

from environments.shopping.labelled import Verdict

ANSWERS = ("deceptive", "honest", "unclear", "error")


def answer(verdict: Verdict) -> str:
    """``deceptive``, ``honest``, ``unclear`` or ``error``."""
    decided, error = verdict
    if error:
        return "error"
    return "unclear" if decided is None else "deceptive" if decided else "honest"


class Agreement(BaseModel):
    """Agreement of judge ``a`` with judge ``b``.

    Attributes:
        n: messages both decided.
        agreed: of those, how many they decided alike.
        kappa: Cohen's kappa over those (NaN when undefined).
        low: lower bound of its 95% bootstrap interval.
        high: upper bound.
        table: ``a``'s answer → ``b``'s answer → count (every message).
    """

    n: int
    agreed: int
    kappa: float
    low: float
    high: float
    table: dict[str, dict[str, int]]


def _kappa(a: np.ndarray, b: np.ndarray) -> float:
    observed = float(np.mean(a == b))
    pa, pb = float(np.mean(a)), float(np.mean(b))
    expected = pa * pb + (1 - pa) * (1 - pb)
    return math.nan if expected >= 1 else (observed - expected) / (1 - expected)


def agreement(a: Sequence[Verdict], b: Sequence[Verdict], resamples: int = 2000, seed: int = 0) -> Agreement:
    """Cohen's kappa of two judges' verdicts on the same messages, with the full confusion table."""
    table = {x: dict.fromkeys(ANSWERS, 0) for x in ANSWERS}
    pairs = []
    for va, vb in zip(a, b, strict=True):
        xa, xb = answer(va), answer(vb)
        table[xa][xb] += 1
        if xa in ("deceptive", "honest") and xb in ("deceptive", "honest"):
            pairs.append((xa == "deceptive", xb == "deceptive"))
    if not pairs:
        return Agreement(n=0, agreed=0, kappa=math.nan, low=math.nan, high=math.nan, table=table)
    da, db = (np.array(x) for x in zip(*pairs, strict=True))
    kappa = _kappa(da, db)
    rng = np.random.default_rng(seed)
    draws = [_kappa(da[i], db[i]) for i in rng.integers(0, len(pairs), size=(resamples, len(pairs)))]
    finite = [k for k in draws if not math.isnan(k)]
    low, high = (float(np.percentile(finite, 2.5)), float(np.percentile(finite, 97.5))) if finite else (math.nan,) * 2
    return Agreement(n=len(pairs), agreed=int(np.sum(da == db)), kappa=kappa, low=low, high=high, table=table)


def agreement_table(name_a: str, name_b: str, found: Agreement, title: str) -> Table:
    """The confusion table of two judges, captioned with kappa and its interval."""
    kappa = "n/a" if math.isnan(found.kappa) else f"{found.kappa:.3f} [{found.low:.2f}, {found.high:.2f}]"
    table = Table(title=title, caption=f"Cohen's kappa over the {found.n} messages both decided "
                                       f"({found.agreed} alike): {kappa} (95% bootstrap CI)")
    table.add_column(f"{name_a} \\ {name_b}")
    for column in ANSWERS:
        table.add_column(column, justify="right")
    for row in ANSWERS:
        table.add_row(row, *(str(found.table[row][column]) for column in ANSWERS))
    return table
