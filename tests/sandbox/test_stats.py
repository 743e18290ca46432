"""Rates carry n and a 95% CI; reference values from the Wilson and Newcombe formulas."""

from __future__ import annotations

import math

import pytest

from sandbox.stats import difference, rate


def test_wilson_interval_matches_reference_values() -> None:
    r = rate(18, 28)  # hand-computed: centre 0.6256 ± 0.1673
    assert r.value == pytest.approx(0.642857, abs=1e-6)
    assert (r.low, r.high) == (pytest.approx(0.4583, abs=1e-4), pytest.approx(0.7929, abs=1e-4))
    full = rate(30, 30)
    assert full.high == 1.0 and full.low == pytest.approx(0.8865, abs=1e-4)
    assert "k=18, n=28" in str(r)


def test_empty_sample_is_not_a_number_and_bad_counts_raise() -> None:
    assert math.isnan(rate(0, 0).value) and "n=0" in str(rate(0, 0))
    with pytest.raises(ValueError):
        rate(5, 3)


def test_newcombe_difference() -> None:
    # Newcombe (1998) example: 56/70 vs 48/80 → 0.2000, 95% CI 0.0524 to 0.3339 (method 10).
    d = difference(rate(56, 70), rate(48, 80))
    assert d.value == pytest.approx(0.2)
    assert (d.low, d.high) == (pytest.approx(0.0524, abs=1e-3), pytest.approx(0.3339, abs=1e-3))
