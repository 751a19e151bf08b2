"""Change in pain against its baseline, graded by clinical importance.

One implementation for one patient and for the clinic (``pain_trends`` takes any number of
patients; ``pain_trend`` is the one-patient case).

Method
* Baseline. Anchored to the start of the patient's programme (or, without one, to their
  first score), never to the period someone is looking at: the first 14-day window
  [s, s + 13] that starts on a scored day s on or after the anchor and holds at least 4
  days with a score. One stray early score therefore cannot block the trend: the search
  moves on to the next window that has enough scores.
* Latest. The last 14-day window [e - 13, e] ending on a scored day e on or before the end
  of the period, with at least 4 days with a score, found the same way backwards.
* Both are the mean of the daily mean pain of their scored days, rounded half up to one
  decimal before anything is compared, so the sentence shown and its class always agree.
  The two windows may not overlap (e - s >= 27 days); otherwise there is not enough
  history yet and no number is given.
* Classes (``classify_change``), on the 0-10 numeric rating scale:
  - "much improved": down by at least 2 points AND at least 50 % of baseline
    (IMMPACT: >= 50 % is substantially important; Dworkin RH et al. Interpreting the
    clinical importance of treatment outcomes in chronic pain clinical trials: IMMPACT
    recommendations. J Pain 2008;9(2):105-121);
  - "improved": down by at least 2 points AND at least 30 % of baseline (the minimal
    important change for low back pain, Ostelo RW et al. Interpreting change scores for
    pain and functional status in low back pain. Spine 2008;33(1):90-94; IMMPACT: >= 30 %
    is moderately important);
  - "worse": up by at least 2 points (the same 2-point threshold; there is no separate
    consensus for deterioration, so Ostelo's threshold is applied in both directions);
  - otherwise "no important change". A change of 10-20 % (IMMPACT: minimally important)
    is reported as a percentage but not classed as important.
  Both conditions of an improvement are combined with AND, so the stricter one binds: the
  2-point rule for baselines up to 6.7, the percentage above it. A baseline below 2
  cannot show a 2-point improvement at all (``low_baseline``): it is said so in words.
* ``change_thresholds`` gives the pain levels at which each class starts for a baseline;
  the chart's band is drawn from it, so the band and the class always agree.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from backcare.analysis.calendar import (
    EPS,
    as_day,
    codes,
    datetimes,
    day_numbers,
    empty,
    one_patient,
    patient_ids,
    round1,
    typed_as,
)

MCID_POINTS = 2.0
MCID_FRACTION = 0.30
SUBSTANTIAL_FRACTION = 0.50
TREND_WINDOW_DAYS = 14
TREND_MIN_DAYS = 4

MUCH_IMPROVED = "much improved"
IMPROVED = "improved"
WORSE = "worse"
NO_CHANGE = "no important change"
INSUFFICIENT = "insufficient data"
CLASSES = (MUCH_IMPROVED, IMPROVED, NO_CHANGE, WORSE, INSUFFICIENT)


@dataclass(frozen=True)
class Thresholds:
    """The pain levels at which each class starts, for one baseline (see change_thresholds)."""

    baseline: float
    improved_at: float | None  # latest at or below this: improved (None: cannot be reached)
    much_improved_at: float | None
    worse_at: float | None  # latest at or above this: worse (None: above 10)


def _threshold_arrays(baseline: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(improved_at, much_improved_at, worse_at) for each baseline; NaN where a class cannot
    be reached (below 0 or above 10). The one implementation of the thresholds."""
    b = np.asarray(baseline, dtype=float)
    fall = np.maximum(MCID_POINTS, MCID_FRACTION * b)
    big_fall = np.maximum(MCID_POINTS, SUBSTANTIAL_FRACTION * b)
    improved = np.round(b - fall, 10)
    much = np.round(b - big_fall, 10)
    worse = np.round(b + MCID_POINTS, 10)
    return (
        np.where(improved >= 0, improved, np.nan),
        np.where(much >= 0, much, np.nan),
        np.where(worse <= 10, worse, np.nan),
    )


def change_thresholds(baseline: float) -> Thresholds:
    """The latest pain at or below which a change is an improvement (and a big one), and at or
    above which it is worse."""
    improved, much, worse = (float(t[0]) for t in _threshold_arrays(np.array([baseline])))
    return Thresholds(
        baseline=baseline,
        improved_at=None if np.isnan(improved) else improved,
        much_improved_at=None if np.isnan(much) else much,
        worse_at=None if np.isnan(worse) else worse,
    )


def change_classes(baseline: np.ndarray, latest: np.ndarray) -> np.ndarray:
    """classify_change of each (baseline, latest) pair, as an object array of class names."""
    improved, much, worse = _threshold_arrays(baseline)
    late = np.asarray(latest, dtype=float)
    with np.errstate(invalid="ignore"):  # NaN thresholds: the class cannot be reached
        conditions = [late <= much + EPS, late <= improved + EPS, late >= worse - EPS]
    out: np.ndarray = np.select(conditions, [MUCH_IMPROVED, IMPROVED, WORSE], NO_CHANGE).astype(
        object
    )
    return out


def classify_change(baseline: float, latest: float) -> str:
    """'much improved', 'improved', 'worse' or 'no important change' (see the module docstring)."""
    return str(change_classes(np.array([baseline]), np.array([latest]))[0])


def low_baseline(baseline: float) -> bool:
    """True when a baseline is too low for any important improvement to be shown (below 2)."""
    return baseline < MCID_POINTS - EPS


@dataclass(frozen=True)
class PainTrend:
    """Baseline vs latest pain and its class (see pain_trends)."""

    status: str
    baseline: float | None = None
    latest: float | None = None
    change: float | None = None
    change_pct: float | None = None
    baseline_days: int = 0
    latest_days: int = 0
    baseline_window: tuple[pd.Timestamp, pd.Timestamp] | None = None
    latest_window: tuple[pd.Timestamp, pd.Timestamp] | None = None
    first_day: pd.Timestamp | None = None
    last_day: pd.Timestamp | None = None
    anchor: pd.Timestamp | None = None
    low_baseline: bool = False
    reason: str = ""

    @property
    def weeks(self) -> int | None:
        """Whole weeks from the start of the baseline to the end of the latest window (rounded)."""
        if self.baseline_window is None or self.latest_window is None:
            return None
        return int(round((self.latest_window[1] - self.baseline_window[0]).days / 7))

    @property
    def thresholds(self) -> Thresholds | None:
        """change_thresholds of the baseline (None without one)."""
        return None if self.baseline is None else change_thresholds(self.baseline)


TREND_COLUMNS = {
    "patient_id": "str",
    "status": "str",
    "baseline": "float64",
    "latest": "float64",
    "change": "float64",
    "change_pct": "float64",
    "baseline_days": "int64",
    "latest_days": "int64",
    "baseline_start": "datetime64[ns]",
    "baseline_end": "datetime64[ns]",
    "latest_start": "datetime64[ns]",
    "latest_end": "datetime64[ns]",
    "first_day": "datetime64[ns]",
    "last_day": "datetime64[ns]",
    "anchor": "datetime64[ns]",
    "low_baseline": "bool",
    "reason": "str",
}


def pain_trends(
    daily: pd.DataFrame, anchors: pd.Series | None = None, end: Any = None
) -> pd.DataFrame:
    """Per patient with a score: baseline, latest, change and its class (columns TREND_COLUMNS).

    daily: daily pain (the scored days of each patient's history, at least from the anchor);
    anchors: each patient's programme start, indexed by patient_id (a patient without one
    is anchored at their first score); end: the last day the latest window may reach.
    Method: see the module docstring. Patients without any score get no row."""
    rows = _trend_columns(daily, anchors, end)
    if rows is None:
        return empty(TREND_COLUMNS)
    return typed_as(pd.DataFrame(rows), TREND_COLUMNS)


def _trend_columns(
    daily: pd.DataFrame | None, anchors: pd.Series | None, end: Any
) -> dict[str, Any] | None:
    """pain_trends' columns (arrays, one value per patient), or None when no day is scored."""
    if daily is None or daily.empty:
        return None
    pain_all = daily["pain"].to_numpy(dtype=float, na_value=np.nan)
    day_all = daily["day"].to_numpy(dtype="datetime64[ns]")
    keep = ~np.isnan(pain_all) & ~np.isnat(day_all)
    if end is not None:
        keep &= day_all <= as_day(end).to_datetime64()
    if not keep.any():
        return None
    # the scored days in patient then day order (codes of the sorted ids, sorted in numpy)
    p_code, p_names = pd.factorize(patient_ids(daily)[keep], sort=True)
    d, v = day_numbers(day_all[keep]), pain_all[keep]
    order = np.lexsort((d, p_code))
    p_code, d, v = p_code[order], d[order], v[order]
    names = pd.Index(p_names, dtype="str")
    n_pat = len(names)
    seg_start = np.searchsorted(p_code, np.arange(n_pat), side="left")
    first = d[seg_start]
    last = d[np.searchsorted(p_code, np.arange(n_pat), side="right") - 1]
    anchor = first.copy()
    if anchors is not None and len(anchors):
        a = pd.Series(anchors).dropna()
        at = codes(pd.Series(a.index.astype(str), dtype="str"), names)
        given = day_numbers(pd.to_datetime(a.to_numpy()).to_numpy(dtype="datetime64[ns]"))
        anchor[at[at >= 0]] = given[at >= 0]
    # one ordered key for (patient, day): window counts and sums by searchsorted
    big = int(d.max() - d.min() + 2 * TREND_WINDOW_DAYS + 10)
    key = p_code.astype(np.int64) * big + (d - d.min())
    cum = np.concatenate([[0.0], np.cumsum(v)])
    span = TREND_WINDOW_DAYS - 1
    fwd_end = np.searchsorted(key, key + span, side="right")  # rows in [d, d + 13]
    back_start = np.searchsorted(key, key - span, side="left")  # rows in [d - 13, d]
    idx = np.arange(len(d))
    fwd_n, back_n = fwd_end - idx, idx + 1 - back_start
    base_ok = (fwd_n >= TREND_MIN_DAYS) & (d >= anchor[p_code])
    late_ok = back_n >= TREND_MIN_DAYS
    never = len(d)
    b_row = np.full(n_pat, never)
    np.minimum.at(b_row, p_code[base_ok], idx[base_ok])
    l_row = np.full(n_pat, -1)
    np.maximum.at(l_row, p_code[late_ok], idx[late_ok])
    has_b, has_l = b_row < never, l_row >= 0
    bi, li = np.where(has_b, b_row, 0), np.where(has_l, l_row, 0)
    b_n = np.where(has_b, fwd_n[bi], 0)
    l_n = np.where(has_l, back_n[li], 0)
    b_mean = np.where(has_b, (cum[fwd_end[bi]] - cum[bi]) / np.maximum(b_n, 1), np.nan)
    l_mean = np.where(has_l, (cum[li + 1] - cum[back_start[li]]) / np.maximum(l_n, 1), np.nan)
    b_start, l_end = d[bi], d[li]
    apart = has_b & has_l & (l_end - b_start >= 2 * TREND_WINDOW_DAYS - 1)
    status = np.full(n_pat, INSUFFICIENT, dtype=object)
    reason = np.full(n_pat, "", dtype=object)
    base = np.full(n_pat, np.nan)
    late = np.full(n_pat, np.nan)
    low = np.zeros(n_pat, dtype=bool)
    judged = has_b & apart
    for i in np.flatnonzero(~judged).tolist():  # why there is no trend
        if not has_b[i]:
            reason[i] = (
                f"no 14-day window since {datetimes([anchor[i]])[0].astype('datetime64[D]')} "
                f"holds {TREND_MIN_DAYS} days with a score yet, so there is no baseline"
            )
        else:
            reason[i] = (
                "the latest two weeks with enough scores overlap the baseline; a trend needs "
                f"about {2 * TREND_WINDOW_DAYS} days of history after the baseline starts"
            )
    base[judged], late[judged] = round1(b_mean[judged]), round1(l_mean[judged])
    status[judged] = change_classes(base[judged], late[judged])
    low[judged] = low_baseline(base[judged])
    change = np.round(late - base, 1)
    nat = np.datetime64("NaT", "ns")

    def days_or_nat(numbers: np.ndarray, ok: np.ndarray) -> np.ndarray:
        return np.where(ok, datetimes(numbers), nat)

    shown = has_l & apart
    rows = {
        "patient_id": pd.array(names.to_numpy(), dtype="str"),
        "status": pd.array(status, dtype="str"),
        "baseline": base,
        "latest": late,
        "change": change,
        "change_pct": np.divide(
            change, base, out=np.full(n_pat, np.nan), where=(base > 0) & ~np.isnan(base)
        ),
        "baseline_days": np.where(apart, b_n, 0),
        "latest_days": np.where(apart, l_n, 0),
        "baseline_start": days_or_nat(b_start, has_b),
        "baseline_end": days_or_nat(b_start + span, has_b),
        "latest_start": days_or_nat(l_end - span, shown),
        "latest_end": days_or_nat(l_end, shown),
        "first_day": datetimes(first),
        "last_day": datetimes(last),
        "anchor": datetimes(anchor),
        "low_baseline": low,
        "reason": pd.array(reason, dtype="str"),
    }
    return rows


def _ts(value: Any) -> pd.Timestamp | None:
    return None if pd.isna(value) else pd.Timestamp(value)


def _num(value: Any) -> float | None:
    return None if pd.isna(value) else float(value)


def pain_trend(daily: pd.DataFrame, anchor: Any = None, end: Any = None) -> PainTrend:
    """One patient's pain trend (the one-patient case of pain_trends), or 'insufficient data'."""
    one_patient(daily)
    anchors = None
    if anchor is not None and daily is not None and len(daily):
        pid = str(patient_ids(daily).iloc[0])
        anchors = pd.Series([as_day(anchor)], index=[pid])
    columns = _trend_columns(daily, anchors, end)
    if columns is None:
        return PainTrend(INSUFFICIENT, reason="no pain scores yet")
    r = {c: v[0] for c, v in columns.items()}  # the one patient's values
    b_win = (
        (pd.Timestamp(r["baseline_start"]), pd.Timestamp(r["baseline_end"]))
        if not pd.isna(r["baseline_start"])
        else None
    )
    l_win = (
        (pd.Timestamp(r["latest_start"]), pd.Timestamp(r["latest_end"]))
        if not pd.isna(r["latest_start"])
        else None
    )
    return PainTrend(
        status=str(r["status"]),
        baseline=_num(r["baseline"]),
        latest=_num(r["latest"]),
        change=_num(r["change"]),
        change_pct=_num(r["change_pct"]),
        baseline_days=int(r["baseline_days"]),
        latest_days=int(r["latest_days"]),
        baseline_window=b_win,
        latest_window=l_win,
        first_day=_ts(r["first_day"]),
        last_day=_ts(r["last_day"]),
        anchor=_ts(r["anchor"]),
        low_baseline=bool(r["low_baseline"]),
        reason=str(r["reason"]),
    )
