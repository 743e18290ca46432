"""Rates, exact small-sample tests, power, and three-valued verdicts.

Rates: proportions with the Wilson score interval (the formula of scipy's
``binomtest(...).proportion_ci(method="wilson")``, without importing scipy: a rate is needed by
every report, scipy's import takes about a second);
differences of two proportions with Newcombe's hybrid score interval (method 10 of Newcombe
1998). An undefined number (a rate of 0 of 0) is NaN in memory and ``null`` in JSON: a model's
``model_dump(mode="json")`` / ``model_dump_json()`` never contains NaN.

Tests are exact where the sample is small: McNemar as a binomial test on the discordant pairs,
Fisher's exact test, the exact binomial test, and Spearman's ρ with an exact permutation p-value
up to :data:`EXACT_SPEARMAN_MAX` pairs (Student's t approximation above). A test that cannot
reach significance at the level asked (for Spearman: the smallest attainable exact p is above
α, e.g. n = 4 at α = 0.05) gives **no p-value** (``None``), never a fake 0 or 1.

Verdicts (:func:`decide`) are three-valued: ``yes`` (significant in the direction of interest),
``no`` (not significant **and** the test could have detected the stated effect of interest:
minimum detectable effect ≤ effect of interest, and the measured rate not at floor or ceiling),
else ``inconclusive`` with the reason.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from statistics import NormalDist
from typing import Annotated, Literal

import numpy as np
from pydantic import BaseModel, BeforeValidator, PlainSerializer


def _nan_to_none(value: float) -> float | None:
    return None if value is None or math.isnan(value) else value


def _none_to_nan(value: object) -> object:
    return math.nan if value is None else value


Number = Annotated[float, BeforeValidator(_none_to_nan),
                   PlainSerializer(_nan_to_none, return_type=float | None, when_used="json")]
"""A float that may be undefined: NaN in memory, ``null`` in JSON (and read back from ``null``)."""

Verdict = Literal["yes", "no", "inconclusive"]
Direction = Literal["two-sided", "positive", "negative"]
EXACT_SPEARMAN_MAX = 8
"""Spearman p-values are exact (all n! pairings) up to this n; Student's t approximation above."""


class Rate(BaseModel):
    """``k`` of ``n`` with a 95% Wilson interval. ``value`` is NaN (``null`` in JSON) when ``n`` is 0."""

    k: int
    n: int
    value: Number
    low: Number
    high: Number

    def __str__(self) -> str:
        if self.n == 0:
            return "n/a (n=0)"
        return f"{self.value:.2f} [{self.low:.2f}, {self.high:.2f}] (k={self.k}, n={self.n})"


class Difference(BaseModel):
    """``a - b`` of two rates with a 95% Newcombe interval."""

    a: Rate
    b: Rate
    value: Number
    low: Number
    high: Number

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
    low, high = _wilson(k, n, confidence)
    return Rate(k=k, n=n, value=k / n, low=low, high=high)


def _wilson(k: int, n: int, confidence: float) -> tuple[float, float]:
    """Wilson's two-sided score interval, as scipy computes it (Newcombe 1998, method 3)."""
    z = NormalDist().inv_cdf(0.5 + 0.5 * confidence)
    p = k / n
    denom = 2 * (n + z * z)
    center = (2 * n * p + z * z) / denom
    delta = z / denom * math.sqrt(4 * n * p * (1 - p) + z * z)
    return (0.0 if k == 0 else center - delta), (1.0 if k == n else center + delta)


def difference(a: Rate, b: Rate) -> Difference:
    """Newcombe's hybrid score interval for ``a.value - b.value``."""
    if a.n == 0 or b.n == 0:
        return Difference(a=a, b=b, value=math.nan, low=math.nan, high=math.nan)
    d = a.value - b.value
    low = d - math.sqrt((a.value - a.low) ** 2 + (b.high - b.value) ** 2)
    high = d + math.sqrt((a.high - a.value) ** 2 + (b.value - b.low) ** 2)
    return Difference(a=a, b=b, value=d, low=max(-1.0, low), high=min(1.0, high))


# ----------------------------------------------------------------------------------------- exact tests
def mcnemar_exact(only_a: int, only_b: int) -> float:
    """Two-sided exact McNemar p: a binomial test of the discordant pairs against ½ (1.0 when none)."""
    from scipy.stats import binomtest

    return float(binomtest(only_a, only_a + only_b, 0.5).pvalue) if only_a + only_b else 1.0


def fisher_exact(k1: int, n1: int, k2: int, n2: int) -> float | None:
    """Two-sided Fisher exact p for ``k1/n1`` vs ``k2/n2`` (``None`` when a group is empty)."""
    from scipy import stats

    if n1 == 0 or n2 == 0:
        return None
    return float(stats.fisher_exact([[k1, n1 - k1], [k2, n2 - k2]]).pvalue)


def binomial_exact(k: int, n: int, p0: float = 0.5) -> float | None:
    """Two-sided exact binomial p for ``k`` of ``n`` against ``p0`` (``None`` when ``n`` is 0)."""
    from scipy.stats import binomtest

    return float(binomtest(k, n, p0).pvalue) if n else None


class Correlation(BaseModel):
    """Spearman ρ with a Fisher-z 95% CI (Bonett–Wright SE) and a p-value.

    ``rho`` is ``None`` when undefined (fewer than 3 pairs or a constant input); ``p`` is ``None``
    when no valid test exists at this n (see the module docstring); ``method`` says which p.
    """

    rho: float | None
    low: float | None = None
    high: float | None = None
    p: float | None = None
    n: int
    method: Literal["exact permutation", "t approximation", "none"] = "none"

    def __str__(self) -> str:
        if self.rho is None:
            return f"n/a (n={self.n})"
        ci = f" [{self.low:+.2f}, {self.high:+.2f}]" if self.low is not None and self.high is not None else ""
        return f"{self.rho:+.2f}{ci} {format_p(self.p)} (n={self.n})"


def format_p(p: float | None) -> str:
    """``p=0.012``, ``p<1e-300`` for an underflow, ``no p (too few)`` when there is no valid test."""
    if p is None:
        return "no p (n too small)"
    return "p<1e-300" if p == 0 else f"p={p:.3g}"


def spearman(x: Sequence[float], y: Sequence[float], alpha: float = 0.05) -> Correlation:
    """Spearman ρ of paired values; exact permutation p for small n, none when it cannot reach ``alpha``."""
    from scipy import stats

    pairs = [(a, b) for a, b in zip(x, y, strict=True) if not (math.isnan(a) or math.isnan(b))]
    n = len(pairs)
    xs, ys = [a for a, _ in pairs], [b for _, b in pairs]
    if n < 3 or len(set(xs)) < 2 or len(set(ys)) < 2:
        return Correlation(rho=None, n=n)
    rho = float(stats.spearmanr(xs, ys).statistic)
    low = high = None
    if n > 3:
        z = math.atanh(max(min(rho, 0.999999), -0.999999))
        half = 1.96 * math.sqrt((1 + rho * rho / 2) / (n - 3))
        low, high = math.tanh(z - half), math.tanh(z + half)
    if n <= EXACT_SPEARMAN_MAX:
        if 2 / math.factorial(n) > alpha:
            return Correlation(rho=rho, low=low, high=high, p=None, n=n)
        return Correlation(rho=rho, low=low, high=high, p=_exact_spearman_p(xs, ys), n=n, method="exact permutation")
    return Correlation(rho=rho, low=low, high=high, p=float(stats.spearmanr(xs, ys).pvalue), n=n,
                       method="t approximation")


def _exact_spearman_p(xs: Sequence[float], ys: Sequence[float]) -> float:
    """Two-sided exact permutation p of Spearman's ρ: the share of all n! pairings at least as extreme."""
    from scipy import stats

    rx, ry = stats.rankdata(xs), stats.rankdata(ys)
    rx, ry = rx - rx.mean(), ry - ry.mean()
    norm = math.sqrt(float(rx @ rx) * float(ry @ ry))
    observed = abs(float(rx @ ry)) / norm
    every = np.array(list(itertools.permutations(ry)))
    return float(np.mean(np.abs(every @ rx) / norm >= observed - 1e-12))


# ----------------------------------------------------------------------------------------------- power
def mcnemar_power(n: int, baseline: float, gap: float, alpha: float) -> float:
    """Power of the two-sided McNemar test for accuracies ``baseline`` vs ``baseline - gap``
    (Connor 1987, normal approximation, independent answers)."""
    from scipy import stats

    p1, p2 = baseline, baseline - gap
    psi = p1 * (1 - p2) + (1 - p1) * p2
    delta = p1 - p2
    if psi <= delta * delta or n <= 0:
        return 1.0 if n > 0 else 0.0
    z = stats.norm.ppf(1 - alpha / 2)
    return float(stats.norm.cdf((math.sqrt(n) * abs(delta) - z * math.sqrt(psi)) / math.sqrt(psi - delta * delta)))


def mde_mcnemar(n: int, baseline: float, alpha: float, power: float = 0.8) -> float | None:
    """Smallest accuracy gap a McNemar test over ``n`` pairs detects with ``power`` (``None``: not even
    a gap of the whole baseline)."""
    from scipy import optimize

    if n <= 0 or not 0 < baseline <= 1 or mcnemar_power(n, baseline, baseline, alpha) < power:
        return None
    return float(optimize.brentq(lambda d: mcnemar_power(n, baseline, d, alpha) - power, 1e-9, baseline))


def mde_correlation(n: int, alpha: float, power: float = 0.8) -> float | None:
    """Smallest |ρ| a two-sided Spearman test over ``n`` pairs detects with ``power`` (Fisher z,
    Fieller's 1.06 variance factor); ``None`` when n < 4."""
    from scipy import stats

    if n < 4:
        return None
    z = (stats.norm.ppf(1 - alpha / 2) + stats.norm.ppf(power)) * math.sqrt(1.06 / (n - 3))
    return float(math.tanh(z))


def mde_proportions(n1: int, n2: int, baseline: float, alpha: float, power: float = 0.8) -> float | None:
    """Smallest difference of two independent proportions around ``baseline`` detected with ``power``
    (normal approximation); ``None`` when a group is empty."""
    from scipy import stats

    if n1 == 0 or n2 == 0:
        return None
    spread = math.sqrt(max(baseline * (1 - baseline), 0.01 * 0.99) * (1 / n1 + 1 / n2))
    return float(min(1.0, (stats.norm.ppf(1 - alpha / 2) + stats.norm.ppf(power)) * spread))


Bound = Literal["floor", "ceiling"]


def bounded(measured: Rate, margin: float = 0.02) -> Bound | None:
    """``floor`` / ``ceiling`` when a rate is within ``margin`` of 0 or 1 (a gap cannot show there,
    and the normal-approximation power is not trustworthy); ``None`` otherwise or when undefined."""
    if measured.n == 0:
        return None
    if measured.value <= margin:
        return "floor"
    if measured.value >= 1 - margin:
        return "ceiling"
    return None


# --------------------------------------------------------------------------------------------- verdicts
class Decision(BaseModel):
    """A three-valued verdict and everything it rests on.

    Attributes:
        verdict: ``yes`` / ``no`` / ``inconclusive``.
        effect: the measured effect (``None``: undefined).
        p: the p-value the verdict used (corrected if the caller corrected it; ``None``: no valid test).
        alpha: the significance level.
        mde: the minimum detectable effect at this n (``None``: none is detectable).
        effect_of_interest: the effect the study states it wants to detect.
        n: the sample size behind the test.
        reason: why, in words.
    """

    verdict: Verdict
    effect: float | None
    p: float | None
    alpha: float
    mde: float | None
    effect_of_interest: float
    n: int
    reason: str

    def __str__(self) -> str:
        return f"{self.verdict} ({self.reason})"


def decide(effect: float | None, p: float | None, alpha: float, mde: float | None, effect_of_interest: float,
           n: int, direction: Direction = "two-sided", bound: Bound | None = None) -> Decision:
    """The three-valued verdict (see the module docstring).

    Args:
        effect: the measured effect (signed).
        p: its p-value (two-sided; already corrected for multiple tests when applicable).
        alpha: significance level.
        mde: minimum detectable |effect| at this n and level.
        effect_of_interest: the |effect| the verdict must be able to rule out to say ``no``.
        n: sample size (reported).
        direction: the claim: any effect, or a positive / negative one.
        bound: the measured rate sits at ``floor`` or ``ceiling`` (a null result is then uninformative).
    """
    def out(verdict: Verdict, reason: str) -> Decision:
        return Decision(verdict=verdict, effect=effect, p=p, alpha=alpha, mde=mde,
                        effect_of_interest=effect_of_interest, n=n, reason=reason)

    if effect is None or p is None:
        return out("inconclusive", f"no valid test at n={n}")
    wanted = direction == "two-sided" or (effect > 0) == (direction == "positive")
    if p < alpha and wanted:
        return out("yes", f"effect {effect:+.3f}, {format_p(p)} < α={alpha}")
    if p < alpha:
        return out("no", f"significant in the opposite direction: effect {effect:+.3f}, {format_p(p)}")
    if bound is not None:
        return out("inconclusive", f"measured rate at {bound}: a null result cannot rule out the effect")
    if mde is None or mde > effect_of_interest:
        detectable = "no effect" if mde is None else f"only effects ≥ {mde:.3f}"
        return out("inconclusive", f"underpowered: at n={n} {detectable} would be detected "
                                   f"(effect of interest {effect_of_interest:.3f})")
    return out("no", f"{format_p(p)} ≥ α={alpha}; effects ≥ {mde:.3f} would be detected (power 0.8)")
