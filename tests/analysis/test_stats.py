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


def test_effective_n_of_two_trending_series():
    # x = y = 0, 1, ..., 9: deviations -4.5 .. 4.5, sum of squares 82.5
    # lag 1: sum over t = 0..8 of (t - 4.5)(t - 3.5) = 204 - 288 + 141.75 = 57.75 -> 0.7
    # lag 2: sum over t = 0..7 of (t - 4.5)(t - 2.5) = 140 - 196 + 90 = 34 -> 34 / 82.5
    # lags up to 10 // 5 = 2: 1 / n_eff = 1/10 + 2/10 * (0.7**2 + (34/82.5)**2)
    x = list(range(10))
    assert A.autocorrelation(x, 1) == pytest.approx(0.7)
    assert A.autocorrelation(x, 2) == pytest.approx(34 / 82.5)
    expected = 1 / (1 / 10 + 2 / 10 * (0.49 + (34 / 82.5) ** 2))
    assert A.effective_n(x, x) == pytest.approx(expected)  # about 4.31 of 10
    # opposite autocorrelations do not make the pairs worth more than n
    alternating = [(-1) ** i for i in range(10)]
    assert A.effective_n(x, alternating) == 10
    # with n_eff the Fisher interval widens: half-width 1.96 / sqrt(n_eff - 3)
    _, r, lo, _ = A.pearson_ci(x, [v + (i % 2) for i, v in enumerate(x)], n_eff=expected)
    assert lo == pytest.approx(math.tanh(math.atanh(r) - 1.959964 / math.sqrt(expected - 3)))


def test_mean_ci_leaves_out_missing_values_of_any_kind():
    import numpy as np
    import pandas as pd

    from backcare.analysis.stats import mean_ci

    # 1 and 3 remain: mean 2, sd sqrt(((1-2)^2 + (3-2)^2) / 1) = sqrt(2), and the half width
    # t(0.975, 1) * sqrt(2) / sqrt(2) = tan(0.475 pi) (the closed form for df = 1)
    half = math.tan(math.pi * 0.475)
    for values in ([1, None, 3, float("nan"), pd.NA], np.array([1.0, np.nan, 3.0])):
        n, m, sd, lo, hi = mean_ci(values)
        assert (n, m) == (2, 2.0)
        assert sd == pytest.approx(math.sqrt(2))
        assert (lo, hi) == (pytest.approx(2 - half), pytest.approx(2 + half))
    assert mean_ci([None, float("nan")])[0] == 0
