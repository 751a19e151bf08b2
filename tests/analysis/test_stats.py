"""backcare.analysis.stats: t quantiles against published tables and closed forms, Pearson's
interval of a perfect line."""

from __future__ import annotations

import math

import pytest

from backcare import analysis as A


def test_t_quantile_matches_published_tables_and_closed_forms():
    table = {
        1: 12.706,
        2: 4.303,
        3: 3.182,
        4: 2.776,
        5: 2.571,
        10: 2.228,
        20: 2.086,
        30: 2.042,
        60: 2.000,
        120: 1.980,
    }
    for df, t in table.items():
        assert A.t_quantile(0.975, df) == pytest.approx(t, abs=5e-4)
    assert A.t_quantile(0.975, 1) == pytest.approx(math.tan(math.pi * 0.475))
    p = 0.975  # df = 2: t = (2p - 1) / sqrt(2 p (1 - p))
    assert A.t_quantile(p, 2) == pytest.approx((2 * p - 1) / math.sqrt(2 * p * (1 - p)))
    assert A.t_quantile(0.95, 10) == pytest.approx(1.812, abs=5e-4)
    with pytest.raises(ValueError, match="df"):
        A.t_quantile(0.975, 0)


def test_pearson_ci_of_a_perfect_line():
    n, r, lo, hi = A.pearson_ci([1, 2, 3, 4, 5], [2, 4, 6, 8, 10])
    assert (n, r, lo, hi) == (5, 1.0, 1.0, 1.0)
