"""Small statistics: Student t quantiles, mean with a t interval, Pearson r with a Fisher-z
interval, and the effective number of independent pairs of two autocorrelated series.

Pure functions on numbers; checked against published table values in tests/analysis/test_stats.py.
Sources: Abramowitz M, Stegun IA. Handbook of Mathematical Functions (1964), 26.7.3-26.7.4
(the t distribution); Fisher RA (1921) for the z transformation of r; Bartlett MS, J R Stat
Soc Suppl 1935;2:27-41 and Bayley GV, Hammersley JM, J R Stat Soc Suppl 1946;8:184-197 for the
effective number of pairs of autocorrelated series, in the form of Pyper BJ, Peterman RM,
Can J Fish Aquat Sci 1998;55:2127-2140 (lags up to n/5).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterable
from statistics import NormalDist

import numpy as np
import pandas as pd


def _t_abs_cdf(t: float, df: int) -> float:
    """P(|T| <= t) for Student's t with integer df (Abramowitz & Stegun 26.7.3-26.7.4)."""
    theta = math.atan(t / math.sqrt(df))
    s, c2 = math.sin(theta), math.cos(theta) ** 2
    if df % 2 == 1:
        if df == 1:
            return 2 * theta / math.pi
        term = total = math.cos(theta)
        for j in range(1, (df - 1) // 2):
            term *= (2 * j) / (2 * j + 1) * c2
            total += term
        return 2 / math.pi * (theta + s * total)
    term = total = 1.0
    for j in range(1, df // 2):
        term *= (2 * j - 1) / (2 * j) * c2
        total += term
    return s * total


@functools.lru_cache(maxsize=1024)
def t_quantile(p: float, df: int) -> float:
    """The p-quantile (p in (0.5, 1)) of Student's t with df degrees of freedom (exact,
    bisection)."""
    if not 0.5 < p < 1:
        raise ValueError(f"p: {p!r} must be between 0.5 and 1 (exclusive)")
    if int(df) != df or df < 1:
        raise ValueError(f"df: {df!r} must be a whole number >= 1")
    df = int(df)
    if df > 100_000:  # the t and normal quantiles differ by < 1e-5 here
        return NormalDist().inv_cdf(p)
    target = 2 * p - 1  # P(|T| <= t)
    lo, hi = 0.0, 1.0
    while _t_abs_cdf(hi, df) < target:
        hi *= 2
    for _ in range(200):
        mid = (lo + hi) / 2
        if _t_abs_cdf(mid, df) < target:
            lo = mid
        else:
            hi = mid
        if hi - lo < 1e-12:
            break
    return (lo + hi) / 2


def _floats(values: Iterable[float]) -> np.ndarray:
    """values as a float array, missing ones (None, NaN, pd.NA) as NaN."""
    if isinstance(values, np.ndarray) and values.dtype.kind == "f":
        return values.astype(np.float64, copy=False)
    out: np.ndarray = pd.array(list(values), dtype="Float64").to_numpy(
        dtype=np.float64, na_value=np.nan
    )
    return out


def mean_ci(values: Iterable[float], level: float = 0.95) -> tuple[int, float, float, float, float]:
    """(n, mean, sd, ci_low, ci_high) with a Student-t interval; NaNs where n is too small."""
    x = _floats(values)
    x = x[~np.isnan(x)]
    n = len(x)
    if n == 0:
        return 0, math.nan, math.nan, math.nan, math.nan
    m = float(x.mean())
    if n == 1:
        return 1, m, math.nan, math.nan, math.nan
    sd = float(x.std(ddof=1))
    half = t_quantile(0.5 + level / 2, n - 1) * sd / math.sqrt(n)
    return n, m, sd, m - half, m + half


def autocorrelation(x: Iterable[float], lag: int) -> float:
    """The lag-`lag` autocorrelation of a series (the usual estimator: lagged cross-products of
    deviations from the mean over the sum of squares); NaN when the series does not vary."""
    a = np.asarray(list(x), dtype=float)
    d = a - a.mean()
    ss = float((d * d).sum())
    if ss == 0 or lag >= len(a):
        return math.nan
    return float((d[:-lag] * d[lag:]).sum() / ss)


def effective_n(x: Iterable[float], y: Iterable[float]) -> float:
    """How many independent pairs two autocorrelated series of n pairs are worth (at most n).

    Bartlett (1935), Bayley & Hammersley (1946), in the form of Pyper & Peterman (1998):
    1 / n_eff = 1 / n + (2 / n) * sum over lags j = 1 .. n // 5 of r_xx(j) * r_yy(j),
    with r(j) the lag-j autocorrelations (autocorrelation). n_eff is capped at n (series
    whose autocorrelations have opposite signs are not worth more than n pairs)."""
    xa, ya = np.asarray(list(x), dtype=float), np.asarray(list(y), dtype=float)
    n = len(xa)
    if n == 0:
        return 0.0
    total = 0.0
    for j in range(1, n // 5 + 1):
        rx, ry = autocorrelation(xa, j), autocorrelation(ya, j)
        if not (math.isnan(rx) or math.isnan(ry)):
            total += rx * ry
    inverse = 1 / n + 2 / n * total
    return float(n) if inverse <= 1 / n else min(float(n), 1 / inverse)


def pearson_ci(
    x: Iterable[float],
    y: Iterable[float],
    level: float = 0.95,
    n_eff: float | None = None,
) -> tuple[int, float, float, float]:
    """(n, r, ci_low, ci_high): Pearson r with a Fisher-z interval (NaN if undefined).

    With n_eff (e.g. effective_n(x, y)) the interval's width uses n_eff - 3 instead of
    n - 3; no interval (NaN) when that is not above 0."""
    xa, ya = np.asarray(list(x), dtype=float), np.asarray(list(y), dtype=float)
    n = len(xa)
    if n < 2 or np.all(xa == xa[0]) or np.all(ya == ya[0]):
        return n, math.nan, math.nan, math.nan
    dx, dy = xa - xa.mean(), ya - ya.mean()
    r = float((dx * dy).sum() / math.sqrt((dx * dx).sum() * (dy * dy).sum()))
    r = max(-1.0, min(1.0, r))
    m = float(n) if n_eff is None else float(n_eff)
    if m <= 3:
        return n, r, math.nan, math.nan
    if abs(r) == 1.0:
        return n, r, r, r
    z, half = math.atanh(r), NormalDist().inv_cdf(0.5 + level / 2) / math.sqrt(m - 3)
    return n, r, math.tanh(z - half), math.tanh(z + half)
