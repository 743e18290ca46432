"""Rates carry n and a 95% CI; exact tests; power; three-valued verdicts; no NaN in JSON."""

from __future__ import annotations

import itertools
import json
import math
import subprocess
import sys

import pytest
from scipy import stats

from sandbox.stats import (
    Bound,
    Direction,
    Rate,
    binomial_exact,
    bounded,
    decide,
    difference,
    fisher_exact,
    mcnemar_exact,
    mcnemar_power,
    mde_correlation,
    mde_mcnemar,
    mde_proportions,
    rate,
    spearman,
)


def test_wilson_interval_matches_reference_values() -> None:
    r = rate(18, 28)  # hand-computed: centre 0.6256 ± 0.1673
    assert r.value == pytest.approx(0.642857, abs=1e-6)
    assert (r.low, r.high) == (pytest.approx(0.4583, abs=1e-4), pytest.approx(0.7929, abs=1e-4))
    full = rate(30, 30)
    assert full.high == 1.0 and full.low == pytest.approx(0.8865, abs=1e-4)
    assert "k=18, n=28" in str(r)


def test_wilson_interval_is_scipys_without_importing_scipy() -> None:
    for n in range(1, 61):
        for k in range(n + 1):
            for confidence in (0.9, 0.95, 0.99):
                ci = stats.binomtest(k, n).proportion_ci(confidence_level=confidence, method="wilson")
                r = rate(k, n, confidence)
                assert (r.low, r.high) == (pytest.approx(ci.low, abs=1e-12), pytest.approx(ci.high, abs=1e-12))
    probe = "import sys; from sandbox.stats import rate; rate(3, 7); print('scipy' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout == "False\n"


def test_empty_sample_is_not_a_number_and_bad_counts_raise() -> None:
    assert math.isnan(rate(0, 0).value) and "n=0" in str(rate(0, 0))
    with pytest.raises(ValueError):
        rate(5, 3)


def test_newcombe_difference() -> None:
    # Newcombe (1998) example: 56/70 vs 48/80 → 0.2000, 95% CI 0.0524 to 0.3339 (method 10).
    d = difference(rate(56, 70), rate(48, 80))
    assert d.value == pytest.approx(0.2)
    assert (d.low, d.high) == (pytest.approx(0.0524, abs=1e-3), pytest.approx(0.3339, abs=1e-3))


def test_undefined_numbers_are_null_in_json_and_read_back() -> None:
    empty = rate(0, 0)
    assert empty.model_dump(mode="json") == {"k": 0, "n": 0, "value": None, "low": None, "high": None}
    assert "NaN" not in empty.model_dump_json() and math.isnan(Rate.model_validate_json(empty.model_dump_json()).value)
    json.dumps(difference(empty, rate(3, 4)).model_dump(mode="json"), allow_nan=False)  # raises on NaN


def test_exact_tests_match_scipy_and_the_definitions() -> None:
    assert mcnemar_exact(7, 0) == pytest.approx(2 * 0.5 ** 7) and mcnemar_exact(0, 0) == 1.0
    assert fisher_exact(9, 10, 2, 10) == pytest.approx(stats.fisher_exact([[9, 1], [2, 8]]).pvalue)
    assert fisher_exact(1, 0, 1, 2) is None and binomial_exact(0, 0) is None
    assert binomial_exact(9, 10) == pytest.approx(stats.binomtest(9, 10).pvalue)


def test_spearman_gives_no_p_where_no_valid_test_exists_and_an_exact_p_for_small_n() -> None:
    tiny = spearman([1, 2, 3, 4], [1, 2, 3, 4])
    assert tiny.rho == pytest.approx(1.0) and tiny.p is None and "no p" in str(tiny)  # min exact p 1/12 > α
    x, y = [1, 2, 3, 4, 5, 6, 7], [2, 1, 4, 3, 7, 5, 6]
    small = spearman(x, y)
    rho = stats.spearmanr(x, y).statistic
    brute = [abs(stats.spearmanr(x, list(p)).statistic) >= abs(rho) - 1e-12 for p in itertools.permutations(y)]
    assert small.method == "exact permutation" and small.p == pytest.approx(sum(brute) / len(brute))
    assert spearman([1, 2, 3, 4, 5], [1, 2, 3, 4, 5], alpha=0.01).p is None  # 2/120 > 0.01: cannot reach α
    big = spearman(list(range(30)), [v % 7 for v in range(30)])
    assert big.method == "t approximation" and big.p == pytest.approx(stats.spearmanr(range(30), [v % 7 for v in
                                                                                            range(30)]).pvalue)
    assert spearman([1, 2, 3, 4], [5, 5, 5, 5]).rho is None and spearman([1, 2], [2, 1]).rho is None


def test_minimum_detectable_effects() -> None:
    assert mde_correlation(3, 0.05) is None and mde_correlation(4, 0.05) > 0.99
    assert 0.3 < mde_correlation(52, 0.05) < 0.45
    gap = mde_mcnemar(600, 0.85, 0.025)
    assert gap is not None and mcnemar_power(600, 0.85, gap, 0.025) == pytest.approx(0.8, abs=1e-6)
    assert mde_mcnemar(0, 0.85, 0.05) is None and mde_mcnemar(3, 0.85, 0.05) is None
    assert mde_proportions(0, 10, 0.5, 0.05) is None
    assert mde_proportions(400, 400, 0.5, 0.05) == pytest.approx(2.8016 * math.sqrt(0.25 * 2 / 400), rel=1e-3)


@pytest.mark.parametrize(("effect", "p", "mde", "bound", "direction", "verdict", "why"), [
    (0.3, 0.001, 0.05, None, "two-sided", "yes", "α"),
    (-0.3, 0.001, 0.05, None, "two-sided", "yes", "α"),
    (-0.3, 0.001, 0.05, None, "positive", "no", "opposite"),
    (0.01, 0.6, 0.05, None, "two-sided", "no", "would be detected"),
    (0.01, 0.6, 0.14, None, "two-sided", "inconclusive", "underpowered"),
    (0.01, 0.6, None, None, "two-sided", "inconclusive", "no effect would be detected"),
    (0.01, 0.6, 0.05, "floor", "two-sided", "inconclusive", "floor"),
    (0.9, None, None, None, "positive", "inconclusive", "no valid test"),
    (None, 0.5, 0.05, None, "two-sided", "inconclusive", "no valid test"),
])
def test_decide_is_three_valued(effect: float | None, p: float | None, mde: float | None, bound: Bound | None,
                                direction: Direction, verdict: str, why: str) -> None:
    decision = decide(effect, p, 0.05, mde, 0.10, 100, direction=direction, bound=bound)
    assert decision.verdict == verdict and why in decision.reason
    json.dumps(decision.model_dump(mode="json"), allow_nan=False)


def test_floor_and_ceiling() -> None:
    assert bounded(rate(0, 50)) == "floor" and bounded(rate(50, 50)) == "ceiling"
    assert bounded(rate(25, 50)) is None and bounded(rate(0, 0)) is None
