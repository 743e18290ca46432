"""Preference scores from comparisons: Elo, Bradley–Terry, direct ranking, and their consistency.

* **Elo (ours: the update order is not given by the paper):** K = 32, start 1500, scale 400.
  The point estimate is the mean over 100 random orderings of the games; the 95% CI is the
  2.5–97.5 percentile range over 200 bootstrap resamples of the games (each in random order).
* **Bradley–Terry:** maximum likelihood of P(i beats j) = σ(θᵢ − θⱼ) fitted with
  ``scipy.optimize.minimize`` (L-BFGS-B), with a ridge of 0.01·‖θ‖²/2 **(ours)** that fixes the
  location and keeps the fit finite when an entity wins or loses every comparison; standard
  errors from the inverse Hessian.
* **Consistency:** Spearman ρ between methods with a Fisher-z 95% CI (Bonett–Wright standard
  error) and an exact p for small n (:func:`sandbox.stats.spearman`); intransitive 3-cycles on
  the majority-preference digraph (``networkx``); position bias = share of answers that pick
  the option shown first (binomial test against ½).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence

import networkx as nx
import numpy as np
from pydantic import BaseModel
from scipy import optimize, stats

from sandbox.stats import Correlation, Number, Rate, rate, spearman

__all__ = ["Correlation", "spearman"]  # re-exported: the study's code imports them from here

ELO_K, ELO_START, ELO_SCALE = 32.0, 1500.0, 400.0
BT_RIDGE = 0.01

Game = tuple[str, str]
"""(winner id, loser id)."""


class Scores(BaseModel):
    """A score per entity id with an optional 95% interval."""

    method: str
    value: dict[str, Number]
    low: dict[str, Number] = {}
    high: dict[str, Number] = {}

    def ranked(self) -> list[str]:
        """Entity ids, highest score first."""
        return sorted(self.value, key=lambda k: -self.value[k])


def _index(ids: Sequence[str], games: Sequence[Game]) -> tuple[np.ndarray, np.ndarray]:
    where = {k: i for i, k in enumerate(ids)}
    winners = np.array([where[w] for w, _ in games], dtype=int)
    losers = np.array([where[loser] for _, loser in games], dtype=int)
    return winners, losers


def _elo_runs(n: int, winners: np.ndarray, losers: np.ndarray, orders: np.ndarray) -> np.ndarray:
    """Elo after playing ``games[orders[r]]`` in sequence, for every row r at once."""
    runs = orders.shape[0]
    ratings = np.full((runs, n), ELO_START)
    rows = np.arange(runs)
    for step in range(orders.shape[1]):
        w, lo = winners[orders[:, step]], losers[orders[:, step]]
        expected = 1.0 / (1.0 + 10.0 ** ((ratings[rows, lo] - ratings[rows, w]) / ELO_SCALE))
        delta = ELO_K * (1.0 - expected)
        ratings[rows, w] += delta
        ratings[rows, lo] -= delta
    return ratings


def elo(ids: Sequence[str], games: Sequence[Game], seed: int = 0, orderings: int = 100,
        bootstrap: int = 200) -> Scores:
    """Elo scores with bootstrap 95% CIs (see the module docstring)."""
    if not games:
        return Scores(method="elo", value={k: ELO_START for k in ids})
    rng = np.random.default_rng(seed)
    winners, losers = _index(ids, games)
    m = len(games)
    orders = np.argsort(rng.random((orderings, m)), axis=1)
    point = _elo_runs(len(ids), winners, losers, orders).mean(axis=0)
    if bootstrap <= 0:
        return Scores(method="elo", value=dict(zip(ids, point.tolist(), strict=True)))
    boot = _elo_runs(len(ids), winners, losers, rng.integers(0, m, size=(bootstrap, m)))
    low, high = np.percentile(boot, [2.5, 97.5], axis=0)
    return Scores(method="elo", value=dict(zip(ids, point.tolist(), strict=True)),
                  low=dict(zip(ids, low.tolist(), strict=True)), high=dict(zip(ids, high.tolist(), strict=True)))


def bradley_terry(ids: Sequence[str], games: Sequence[Game]) -> Scores:
    """Bradley–Terry strengths (logit scale) by penalised maximum likelihood, with 95% Wald CIs."""
    n = len(ids)
    if not games:
        return Scores(method="bradley_terry", value={k: 0.0 for k in ids})
    winners, losers = _index(ids, games)

    def objective(theta: np.ndarray) -> tuple[float, np.ndarray]:
        diff = theta[winners] - theta[losers]
        nll = float(np.logaddexp(0.0, -diff).sum() + BT_RIDGE * theta @ theta / 2)
        g = -1.0 / (1.0 + np.exp(diff))  # d nll / d diff
        grad = np.bincount(winners, g, n) - np.bincount(losers, g, n) + BT_RIDGE * theta
        return nll, grad

    def hessian(theta: np.ndarray) -> np.ndarray:
        p = 1.0 / (1.0 + np.exp(-(theta[winners] - theta[losers])))
        weights = p * (1 - p)
        h = BT_RIDGE * np.eye(n)
        np.add.at(h, (winners, winners), weights)
        np.add.at(h, (losers, losers), weights)
        np.add.at(h, (winners, losers), -weights)
        np.add.at(h, (losers, winners), -weights)
        return h

    with np.errstate(invalid="ignore", divide="ignore"):  # a zero-length trust-region step at the optimum
        theta = optimize.minimize(objective, np.zeros(n), jac=True, hess=hessian, method="trust-exact").x
    se = np.sqrt(np.clip(np.diag(np.linalg.inv(hessian(theta))), 0, None))
    return Scores(method="bradley_terry", value=dict(zip(ids, theta.tolist(), strict=True)),
                  low=dict(zip(ids, (theta - 1.96 * se).tolist(), strict=True)),
                  high=dict(zip(ids, (theta + 1.96 * se).tolist(), strict=True)))


def ranking_scores(ids: Sequence[str], rankings: Sequence[Sequence[str]]) -> Scores:
    """Minus the mean position over direct rankings (entities an answer left out share the
    mean of the positions it did not use **(ours)**)."""
    n = len(ids)
    totals = dict.fromkeys(ids, 0.0)
    for order in rankings:
        listed = [k for k in order if k in totals]
        missing = [k for k in ids if k not in listed]
        filler = (len(listed) + 1 + n) / 2 if missing else 0.0
        for position, k in enumerate(listed, 1):
            totals[k] += position
        for k in missing:
            totals[k] += filler
    count = max(len(rankings), 1)
    return Scores(method="direct_ranking", value={k: -v / count for k, v in totals.items()})


def correlate(a: Scores, b: Scores | dict[str, float], alpha: float = 0.05) -> Correlation:
    """Spearman ρ between two score sets over their common entities (see :func:`sandbox.stats.spearman`)."""
    other = b.value if isinstance(b, Scores) else b
    keys = [k for k in a.value if k in other and not math.isnan(other[k])]
    return spearman([a.value[k] for k in keys], [other[k] for k in keys], alpha)


class Cycles(BaseModel):
    """Intransitivity of the majority-preference digraph."""

    edges: int
    complete_triads: int
    three_cycles: int
    examples: list[list[str]]

    @property
    def share(self) -> float:
        """3-cycles per triad whose three pairs all have a majority."""
        return self.three_cycles / self.complete_triads if self.complete_triads else math.nan


def majority_graph(games: Sequence[Game]) -> nx.DiGraph:
    """Edge a → b when a beat b in more of their comparisons than b beat a."""
    wins = Counter(games)
    graph = nx.DiGraph()
    for (winner, loser), count in wins.items():
        graph.add_nodes_from((winner, loser))
        if count > wins.get((loser, winner), 0):
            graph.add_edge(winner, loser)
    return graph


def cycles(games: Sequence[Game], examples: int = 5) -> Cycles:
    """Count 3-cycles (``networkx.simple_cycles`` with ``length_bound=3``)."""
    graph = majority_graph(games)
    found = [c for c in nx.simple_cycles(graph, length_bound=3) if len(c) == 3]
    undirected = graph.to_undirected()
    triads = sum(nx.triangles(undirected).values()) // 3
    return Cycles(edges=graph.number_of_edges(), complete_triads=triads, three_cycles=len(found),
                  examples=[sorted(c) for c in found[:examples]])


class PositionBias(BaseModel):
    """How often the option shown first was picked, and how often a pair's two orders disagree."""

    first: Rate
    p: float
    flips: Rate


def position_bias(asked: Sequence[tuple[str, str, str | None]]) -> PositionBias:
    """From (first shown, second shown, chosen id or None) answers."""
    parsed = [(a, b, c) for a, b, c in asked if c is not None]
    first = sum(c == a for a, _, c in parsed)
    p = float(stats.binomtest(first, len(parsed)).pvalue) if parsed else 1.0
    choice: dict[tuple[str, str], str] = {(a, b): c for a, b, c in parsed if c is not None}
    both = [(choice[(a, b)], choice[(b, a)]) for a, b in choice if a < b and (b, a) in choice]
    flips = sum(x != y for x, y in both)
    return PositionBias(first=rate(first, len(parsed)), p=p, flips=rate(flips, len(both)))
