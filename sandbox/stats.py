"""Rates with their sample size and 95% confidence intervals.

Proportions use the Wilson score interval (scipy's ``binomtest(...).proportion_ci``);
differences of two proportions use Newcombe's hybrid score interval (method 10 of Newcombe
1998), built from the two Wilson intervals.
"""

from __future__ import annotations

import math

from pydantic import BaseModel
from scipy.stats import binomtest


class Rate(BaseModel):
    """``k`` of ``n`` with a 95% Wilson interval. ``value`` is NaN when ``n`` is 0."""

    k: int
    n: int
    value: float
    low: float
    high: float

    def __str__(self) -> str:
        if self.n == 0:
            return "n/a (n=0)"
        return f"{self.value:.2f} [{self.low:.2f}, {self.high:.2f}] (k={self.k}, n={self.n})"


class Difference(BaseModel):
    """``a - b`` of two rates with a 95% Newcombe interval."""

    a: Rate
    b: Rate
    value: float
    low: float
    high: float

    def __str__(self) -> str:
        if math.isnan(self.value):
            return "n/a"
        return f"{self.value:+.2f} [{self.low:+.2f}, {self.high:+.2f}] (n={self.a.n} vs {self.b.n})"


def rate(k: int, n: int, confidence: float = 0.95) -> Rate:
    """The proportion ``k/n`` with its Wilson interval."""
    if n == 0:
        return Rate(k=0, n=0, value=math.nan, low=math.nan, high=math.nan)
    if not 0 <= k <= n:
        raise ValueError(f"need 0 <= k <= n, got k={k}, n={n}")
    ci = binomtest(k, n).proportion_ci(confidence_level=confidence, method="wilson")
    return Rate(k=k, n=n, value=k / n, low=float(ci.low), high=float(ci.high))


def difference(a: Rate, b: Rate) -> Difference:
    """Newcombe's hybrid score interval for ``a.value - b.value``."""
    if a.n == 0 or b.n == 0:
        return Difference(a=a, b=b, value=math.nan, low=math.nan, high=math.nan)
    d = a.value - b.value
    low = d - math.sqrt((a.value - a.low) ** 2 + (b.high - b.value) ** 2)
    high = d + math.sqrt((a.high - a.value) ** 2 + (b.value - b.low) ** 2)
    return Difference(a=a, b=b, value=d, low=max(-1.0, low), high=min(1.0, high))
