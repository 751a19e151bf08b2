"""Pain and adherence analysis for one patient: pandas DataFrames in, DataFrames out.

No I/O and no plots. Inputs are the frames ``Store`` returns for ONE patient
(``sessions``, ``items``, ``pain``, ``annotations``, ``prescriptions``; see
``store.READ_DTYPES``): ``day`` columns are naive local dates, pain columns nullable Int64.
Every function that takes several frames checks they belong to a single patient.

Methods (every number shown to a user comes from one of these):

* Calendar. A week runs Monday to Sunday and is labelled by its Monday (``week``). A
  period is the inclusive day range ``[start, end]``; weeks cut by the period are
  "partial" and everything in them is pro-rated to the days inside the period.
* Prescribed amount. On each day an exercise is in force (``expand_prescriptions``) it
  contributes ``times_per_week / 7`` prescribed times, so a week's prescription is the sum
  over its days: a full week at 3x/week is 3, and a programme that changes on a Thursday
  from 7x/week to 3x/week gives 3 * 7/7 + 4 * 3/7 = 4.71 for that week.
* Done. Each session item ticked ``done`` counts once, but only on a day the exercise
  was in force (extra, unprescribed work is not counted). Two sessions in one day count
  twice (a 14x/week programme means twice a day).
* Adherence (``adherence_by_exercise``, ``weekly_adherence``). Per exercise and week,
  ``min(done, prescribed) / prescribed``: the done count is capped at the prescription so
  that over-doing one exercise cannot hide missing another, and adherence stays in
  [0, 1]. A week's exercise adherence is the sum of capped done over the sum of
  prescribed. Session adherence: prescribed sessions per day are
  ``max(times_per_week of exercises in force) / 7``; a session counts when at least one
  in-force exercise in it was done; capped the same way. ``>= 80 %`` is called adherent
  (``ADHERENT``). Self-reports overestimate adherence (``SELF_REPORT_CAVEAT``).
* Habit strength (``habit_strength``). Each day, x = capped completion over the 7 days
  ending that day (per exercise: min(done, prescribed) summed, over prescribed summed),
  which is 1 for any pattern that keeps an "n times a week" programme. The score is the
  exponential moving average h = h + a * (x - h), a = 1 - 2 ** (-1 / half_life), with a
  half-life of 7 days, starting at 0 on the first day (a habit has to be built); days
  with nothing prescribed leave it unchanged. A gap lowers x to 0 within a week and the
  score then halves every 7 days.
* Streaks (``streaks``). A week is met when its exercise adherence is >= 80 %. Weeks with
  nothing prescribed neither extend nor break a streak; the period's last week, when it
  is incomplete (the period ends before Sunday), is "in progress" and is ignored.
* Daily pain (``daily_pain``). Mean of all pain scores of the day: ``pain_before`` of the
  sessions plus standalone scores (each score weighs the same). ``pain_after`` is a
  separate series. Rolling mean: mean of the daily means of the 7 calendar days ending
  that day, shown when at least 3 of them have a score.
* Pain trend (``pain_trend``). Baseline = mean of the daily means of the 14 calendar days
  starting on the first day with a score; latest = the same for the 14 days ending on the
  last day with a score. Both need >= 4 days with a score and may not overlap (first and
  last score >= 27 days apart), otherwise the class is "insufficient data" and no number
  is given. Means are rounded to one decimal before they are compared, so the sentence
  shown and its class always agree. Classes follow the minimal clinically important
  change for low back pain on the 0-10 scale (Ostelo RW et al. Interpreting change scores
  for pain and functional status in low back pain: towards international consensus
  regarding minimal important change. Spine 2008;33(1):90-94): "improved" when down by
  >= 2 points AND >= 30 % of baseline, "worse" when up by >= 2 points, else
  "no important change".
* Session effect (``session_effect``). pain_after - pain_before for sessions with both
  scores; overall and per exercise (sessions in which it was done): n, mean, SD and a 95 %
  confidence interval mean +- t(0.975, n - 1) * SD / sqrt(n) (exact Student t quantile,
  ``t_quantile``). Groups with n < 5 are suppressed: no numbers are computed for them.
* Adherence against pain (``adherence_vs_pain``). Pairs (adherence of week w, change in
  weekly mean pain from week w to week w + 1); a weekly mean needs >= 3 days with a
  score. Pearson r with a 95 % CI from Fisher's z (tanh(atanh r +- 1.96 / sqrt(n - 3))),
  at least 6 pairs, and the least-squares line. Association in one person's diary, not
  proof of cause (``ASSOCIATION_CAVEAT``).
* Flare-ups (``flare_ups``). A day whose daily mean pain is >= 2 points above the mean of
  the daily means of the 7 calendar days before it; days without a score are skipped,
  and at least 3 of the 7 days must have a score (otherwise the day is not judged).
* Progression (``progression_suggestions``). Over the last 14 days, per exercise in force
  at the end: with a flare-up (detected, or annotated as kind "flare-up") suggest one
  step back down the catalog ladder; otherwise, when the current dose has been in force
  for all 14 days, it was done >= 80 % of the prescribed times, and pain is stable or
  falling (mean of the last 7 days at most 0.5 points above the 7 days before, each with
  >= 3 days of scores), suggest the next ladder step. Suggestions are never applied.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterable
from dataclasses import dataclass
from statistics import NormalDist
from typing import Any

import numpy as np
import pandas as pd

from backcare.domain.catalog import Catalog

# ---- thresholds (each named in the module docstring) -------------------------------------
ADHERENT = 0.80
MCID_POINTS = 2.0
MCID_FRACTION = 0.30
TREND_WINDOW_DAYS = 14
TREND_MIN_DAYS = 4
ROLLING_DAYS = 7
ROLLING_MIN_DAYS = 3
HABIT_HALF_LIFE_DAYS = 7.0
FLARE_POINTS = 2.0
FLARE_LOOKBACK_DAYS = 7
FLARE_MIN_PRIOR_DAYS = 3
MIN_EFFECT_N = 5
WEEK_MIN_PAIN_DAYS = 3
MIN_PAIRS = 6
PROGRESSION_WINDOW_DAYS = 14
PROGRESSION_MIN_HALF_DAYS = 3
PAIN_STABLE_TOLERANCE = 0.5
EPS = 1e-9  # tolerance for comparing sums of sevenths and rounded means with thresholds

IMPROVED = "improved"
WORSE = "worse"
NO_CHANGE = "no important change"
INSUFFICIENT = "insufficient data"

SELF_REPORT_CAVEAT = (
    "Adherence here is self-reported: people tend to tick off more than they did, so the "
    "true figure is probably lower."
)
ASSOCIATION_CAVEAT = (
    "This is an association in one person's diary, not proof that the exercises changed "
    "the pain: other things (sleep, work, a flare-up settling on its own) move both, "
    "neighbouring weeks are not independent (so the interval is probably too narrow), and both "
    "adherence and pain are self-reported."
)
SESSION_EFFECT_CAVEAT = (
    "Pain after a session is recorded right after exercising; a short-term change says "
    "little about the long-term course. Exercises done together cannot be separated, with "
    "several exercises one interval may miss zero by chance, and exercises with fewer than "
    f"{MIN_EFFECT_N} sessions with both scores are not shown."
)
TREND_CAVEAT = (
    "Pain varies from day to day and often eases on its own over weeks; a change over time "
    "does not show what caused it."
)

_ONE_DAY = pd.Timedelta(days=1)


# ---- small helpers -----------------------------------------------------------------------
def _day(value: Any) -> pd.Timestamp:
    ts = pd.Timestamp(value)
    if ts.tzinfo is not None:
        ts = ts.tz_localize(None)
    return ts.normalize()


def week_start(days: pd.Series | pd.DatetimeIndex) -> pd.Series:
    """The Monday (naive datetime64) of each day's week."""
    s = pd.Series(pd.to_datetime(days)).dt.normalize()
    return s - pd.to_timedelta(s.dt.day_of_week, unit="D")


def _day_numbers(days: pd.Series | pd.DatetimeIndex | np.ndarray) -> np.ndarray:
    """Whole days since 1970-01-01 (int64) of naive datetime64 days."""
    return np.asarray(days).astype("datetime64[D]").astype(np.int64)


def _monday(day_numbers: np.ndarray) -> np.ndarray:
    """The day number of the Monday of each day's week (1970-01-01 was a Thursday)."""
    return day_numbers - (day_numbers + 3) % 7


def _datetimes(day_numbers: np.ndarray) -> np.ndarray:
    """Day numbers back to naive datetime64[ns]."""
    return np.asarray(day_numbers, dtype=np.int64).astype("datetime64[D]").astype("datetime64[ns]")


def _group_sums(values: np.ndarray, groups: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(groups, sums of each column of values per group, in row order) with pandas' groupby sum.

    Float sums depend on the order and method of summation; pandas' (compensated) sum is
    what the per-week figures have always used, so it stays the one used here."""
    g = pd.DataFrame(values).groupby(groups, sort=True).sum()
    return g.index.to_numpy(), g.to_numpy()


def _one_patient(*frames: pd.DataFrame | None) -> None:
    ids: set[str] = set()
    for f in frames:
        if f is not None and "patient_id" in f.columns and len(f):
            ids |= set(f["patient_id"].astype(str).unique())
    if len(ids) > 1:
        raise ValueError(
            f"patient_id: frames hold {len(ids)} patients ({', '.join(sorted(ids)[:3])}...); "
            "analysis works on one patient at a time"
        )


def _period(
    start: Any, end: Any, *days: pd.Series | None
) -> tuple[pd.Timestamp, pd.Timestamp] | None:
    """The period [start, end]; a missing bound is taken from the data (None if no data)."""
    found = [d.dropna() for d in days if d is not None and len(d.dropna())]
    lo = _day(start) if start is not None else (min(f.min() for f in found) if found else None)
    hi = _day(end) if end is not None else (max(f.max() for f in found) if found else None)
    if lo is None or hi is None or _day(hi) < _day(lo):
        return None
    return _day(lo), _day(hi)


def _round1(x: float) -> float:
    """Round half up to one decimal (the precision shown to users)."""
    return math.floor(x * 10 + 0.5) / 10


# ---- statistics helpers --------------------------------------------------------------------
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
    """The p-quantile (p in (0.5, 1)) of Student's t with df degrees of freedom (exact, bisection)."""
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


def mean_ci(values: Iterable[float], level: float = 0.95) -> tuple[int, float, float, float, float]:
    """(n, mean, sd, ci_low, ci_high) with a Student-t interval; NaNs where n is too small."""
    x = np.asarray([float(v) for v in values if not pd.isna(v)], dtype=float)
    n = len(x)
    if n == 0:
        return 0, math.nan, math.nan, math.nan, math.nan
    m = float(x.mean())
    if n == 1:
        return 1, m, math.nan, math.nan, math.nan
    sd = float(x.std(ddof=1))
    half = t_quantile(0.5 + level / 2, n - 1) * sd / math.sqrt(n)
    return n, m, sd, m - half, m + half


def pearson_ci(
    x: Iterable[float], y: Iterable[float], level: float = 0.95
) -> tuple[int, float, float, float]:
    """(n, r, ci_low, ci_high): Pearson r with a Fisher-z interval (NaN if undefined)."""
    xa, ya = np.asarray(list(x), dtype=float), np.asarray(list(y), dtype=float)
    n = len(xa)
    if n < 2 or np.all(xa == xa[0]) or np.all(ya == ya[0]):
        return n, math.nan, math.nan, math.nan
    dx, dy = xa - xa.mean(), ya - ya.mean()
    r = float((dx * dy).sum() / math.sqrt((dx * dx).sum() * (dy * dy).sum()))
    r = max(-1.0, min(1.0, r))
    if n <= 3:
        return n, r, math.nan, math.nan
    if abs(r) == 1.0:
        return n, r, r, r
    z, half = math.atanh(r), NormalDist().inv_cdf(0.5 + level / 2) / math.sqrt(n - 3)
    return n, r, math.tanh(z - half), math.tanh(z + half)


# ---- prescriptions and adherence ------------------------------------------------------------
_EXPANDED_COLS = {
    "day": "datetime64[ns]",
    "exercise_id": "str",
    "times_per_week": "Int64",
    "programme_id": "Int64",
    "sets": "Int64",
    "reps": "Int64",
    "hold_s": "Int64",
    "minutes": "Int64",
}


def _empty(cols: dict[str, str]) -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series([], dtype=t) for c, t in cols.items()})


def expand_prescriptions(prescriptions: pd.DataFrame, start: Any, end: Any) -> pd.DataFrame:
    """One row per (day, exercise) in force within [start, end], with times_per_week and dose.

    Method: each prescription row covers valid_from..valid_to (NaT = still in force),
    clipped to the period. If rows overlap for the same exercise and day, the programme
    with the later valid_from (then higher programme_id) wins, as in the store."""
    _one_patient(prescriptions)
    lo, hi = _day(start), _day(end)
    if prescriptions is None or prescriptions.empty or hi < lo:
        return _empty(_EXPANDED_COLS)
    p = prescriptions.reset_index(drop=True)
    d_lo, d_hi = _day_numbers([lo])[0], _day_numbers([hi])[0]
    vf = p["valid_from"]
    first = np.maximum(_day_numbers(vf.fillna(lo)), d_lo)
    last = np.minimum(_day_numbers(p["valid_to"].fillna(hi)), d_hi)
    n = np.where(vf.notna().to_numpy(), np.clip(last - first + 1, 0, None), 0)
    if not n.any():
        return _empty(_EXPANDED_COLS)
    row = np.repeat(np.arange(len(p)), n)
    day = first[row] + (np.arange(len(row)) - np.repeat(np.cumsum(n) - n, n))
    # the latest valid_from (then the highest programme_id) wins a (day, exercise):
    # sort by day, exercise, valid_from, programme_id (missing ones last), keep the last
    codes, names = pd.factorize(p["exercise_id"].astype("str"), sort=True)
    codes = np.where(codes < 0, len(names), codes)  # a missing exercise id sorts last
    since = _day_numbers(vf.fillna(lo))  # rows without valid_from expand to nothing
    pid = p["programme_id"].astype("Int64")
    pid = pid.fillna(pid.max() + 1 if pid.notna().any() else 0).to_numpy(dtype=np.int64)
    order = np.lexsort((pid[row], since[row], codes[row], day))
    key = day[order] * (len(names) + 1) + codes[row[order]]
    keep = order[np.append(key[1:] != key[:-1], True)]
    # numbers as Int64.to_numpy() gives them for the expanded rows: int64, or float64 with NaN
    # when a value is missing
    return pd.DataFrame(
        {
            "day": _datetimes(day[keep]),
            "exercise_id": p["exercise_id"].astype("str").array.take(row[keep]),
            **{
                c: p[c].astype("Int64").array.take(row).to_numpy()[keep]
                for c in ("times_per_week", "programme_id", "sets", "reps", "hold_s", "minutes")
            },
        }
    )


def _done_per_day(items: pd.DataFrame | None, names: pd.Index) -> tuple[np.ndarray, np.ndarray]:
    """(keys, counts) of done items per (day, exercise): key = day number * width + index in names.

    Items of exercises not in names are left out."""
    width = len(names) + 1
    if items is None or items.empty:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    code = names.get_indexer(items["exercise_id"])
    ok = items["done"].to_numpy(dtype=bool) & (code >= 0)
    return np.unique(_day_numbers(items["day"])[ok] * width + code[ok], return_counts=True)


def _in_force_with_done(
    prescriptions: pd.DataFrame, items: pd.DataFrame | None, lo: pd.Timestamp, hi: pd.Timestamp
) -> pd.DataFrame:
    exp = expand_prescriptions(prescriptions, lo, hi)
    day = _day_numbers(exp["day"])
    codes, names = pd.factorize(exp["exercise_id"])
    keys, counts = _done_per_day(items, pd.Index(names))
    key = day * (len(names) + 1) + codes
    done = np.zeros(len(exp), dtype=np.int64)
    if len(keys):
        at = np.searchsorted(keys, key).clip(max=len(keys) - 1)
        hit = keys[at] == key
        done[hit] = counts[at[hit]]
    exp["done"] = done
    exp["tpw"] = exp["times_per_week"].astype("float64")
    exp["week"] = _datetimes(_monday(day))
    return exp


@dataclass(frozen=True)
class InForce:
    """Prescriptions expanded over [start, end] with what was done (see in_force_days)."""

    start: pd.Timestamp
    end: pd.Timestamp
    frame: pd.DataFrame

    def between(self, start: Any, end: Any) -> pd.DataFrame | None:
        """The rows of [start, end] as a new frame, or None when that is not inside [self.start, self.end]."""
        lo, hi = _day(start), _day(end)
        if lo < self.start or hi > self.end:
            return None
        day = self.frame["day"]
        return self.frame[(day >= lo) & (day <= hi)].reset_index(drop=True)


def in_force_days(
    prescriptions: pd.DataFrame, items: pd.DataFrame | None, start: Any, end: Any
) -> InForce:
    """One row per (day, exercise) in force in [start, end]: dose, times_per_week, done count, week.

    Expanding prescriptions is the costly step of the adherence functions. Computed once for
    the longest period needed, pass it as ``in_force=`` to weekly_adherence,
    daily_completion, habit_strength, progression_suggestions or adherence_by_exercise: for a
    period inside [start, end] they use its rows (else they compute their own) and give
    exactly what they give without it, provided it was built from the same prescriptions and
    from items that, on the days of that period, are the items passed to them (items of a
    longer period are fine). The period of progression_suggestions is its last window_days."""
    _one_patient(prescriptions, items)
    lo, hi = _day(start), _day(end)
    return InForce(lo, hi, _in_force_with_done(prescriptions, items, lo, hi))


def _expanded(
    prescriptions: pd.DataFrame,
    items: pd.DataFrame | None,
    lo: pd.Timestamp,
    hi: pd.Timestamp,
    in_force: InForce | None,
) -> pd.DataFrame:
    """_in_force_with_done for [lo, hi], cut from in_force when it covers the period."""
    if in_force is not None:
        cut = in_force.between(lo, hi)
        if cut is not None:
            return cut
    return _in_force_with_done(prescriptions, items, lo, hi)


_BY_EXERCISE_COLS = {
    "week": "datetime64[ns]",
    "exercise_id": "str",
    "days": "int64",
    "prescribed": "float64",
    "done": "int64",
    "done_capped": "float64",
    "adherence": "float64",
    "adherent": "bool",
}


@dataclass(frozen=True)
class _WeekExercise:
    """In-force rows summed per (week, exercise), ordered by week then exercise id."""

    week: np.ndarray  # day number of the Monday
    exercise_id: np.ndarray
    days: np.ndarray  # in-force days
    prescribed: np.ndarray  # sum of times_per_week / 7
    done: np.ndarray
    done_capped: np.ndarray


def _week_exercise(exp: pd.DataFrame) -> _WeekExercise:
    codes, names = pd.factorize(exp["exercise_id"], sort=True)
    ok = codes >= 0  # a missing exercise id is not grouped (as in groupby)
    n = max(len(names), 1)
    key = _day_numbers(exp["week"])[ok] * n + codes[ok]
    keys, group = np.unique(key, return_inverse=True)
    # integer-valued sums, exact in any order
    tpw_sum = np.bincount(group, weights=np.nan_to_num(exp["tpw"].to_numpy(dtype=float)[ok]))
    done = np.bincount(group, weights=exp["done"].to_numpy(dtype=np.int64)[ok]).astype(np.int64)
    prescribed = tpw_sum / 7  # integer sum first: full weeks give exact values
    return _WeekExercise(
        week=keys // n,
        exercise_id=np.asarray(names.take(keys % n)),
        days=np.bincount(group, minlength=len(keys)).astype(np.int64),
        prescribed=prescribed,
        done=done,
        done_capped=np.minimum(done.astype(float), prescribed),
    )


def _by_exercise(exp: pd.DataFrame) -> pd.DataFrame:
    if exp.empty:
        return _empty(_BY_EXERCISE_COLS)
    g = _week_exercise(exp)
    with np.errstate(invalid="ignore", divide="ignore"):
        adherence = g.done_capped / g.prescribed
    out = pd.DataFrame(
        {
            "week": _datetimes(g.week),
            "exercise_id": g.exercise_id,
            "days": g.days,
            "prescribed": g.prescribed,
            "done": g.done,
            "done_capped": g.done_capped,
            "adherence": adherence,
            "adherent": adherence >= ADHERENT - EPS,
        }
    )
    return out.astype(_BY_EXERCISE_COLS)


def adherence_by_exercise(
    prescriptions: pd.DataFrame,
    items: pd.DataFrame,
    start: Any,
    end: Any,
    *,
    in_force: InForce | None = None,
) -> pd.DataFrame:
    """Per week and exercise: days in force, prescribed, done, done_capped, adherence, adherent.

    Method: prescribed = sum over the week's in-force days of times_per_week / 7; done =
    items ticked done on those days; adherence = min(done, prescribed) / prescribed (capped,
    so in [0, 1]); adherent when >= 80 %. Source: self-reported session items. Optional
    in_force: see in_force_days."""
    _one_patient(prescriptions, items)
    return _by_exercise(_expanded(prescriptions, items, _day(start), _day(end), in_force))


def weekly_adherence(
    prescriptions: pd.DataFrame,
    items: pd.DataFrame,
    start: Any,
    end: Any,
    *,
    in_force: InForce | None = None,
) -> pd.DataFrame:
    """One row per calendar week of [start, end]: exercise and session adherence (NaN if nothing prescribed).

    Columns: week, days (in the period), days_in_force, prescribed, done (capped per
    exercise), adherence, adherent, complete (7 days in the period), sessions_prescribed,
    sessions_done (capped), session_adherence. Method: see module docstring ("Prescribed
    amount", "Adherence"). Source: self-reported session items; see SELF_REPORT_CAVEAT.
    Optional in_force: see in_force_days."""
    _one_patient(prescriptions, items)
    lo, hi = _day(start), _day(end)
    cols = {
        "week": "datetime64[ns]",
        "days": "int64",
        "days_in_force": "int64",
        "prescribed": "float64",
        "done": "float64",
        "adherence": "float64",
        "adherent": "bool",
        "complete": "bool",
        "sessions_prescribed": "float64",
        "sessions_done": "float64",
        "session_adherence": "float64",
    }
    if hi < lo:
        return _empty(cols)
    cal = np.arange(_day_numbers([lo])[0], _day_numbers([hi])[0] + 1)
    weeks, days = np.unique(_monday(cal), return_counts=True)
    n = len(weeks)
    prescribed, done = np.zeros(n), np.zeros(n)
    days_in_force, tpw_max, sessions = np.zeros(n, dtype=np.int64), np.zeros(n), np.zeros(n)

    exp = _expanded(prescriptions, items, lo, hi, in_force)
    if len(exp):
        # exercise adherence: capped done and prescribed per (week, exercise), summed per week
        g = _week_exercise(exp)
        if len(g.week):
            wk, sums = _group_sums(np.column_stack([g.prescribed, g.done_capped]), g.week)
            at = (wk - weeks[0]) // 7
            prescribed[at], done[at] = sums[:, 0], sums[:, 1]
        # session adherence: per in-force day, max(times_per_week) / 7 prescribed sessions and
        # the number of sessions with an in-force exercise done
        day = _day_numbers(exp["day"])
        in_force_days, of_day = np.unique(day, return_inverse=True)
        day_max = np.full(len(in_force_days), np.nan)
        np.fmax.at(day_max, of_day, exp["tpw"].to_numpy(dtype=float))
        day_sessions = np.zeros(len(in_force_days))
        if items is not None and not items.empty:
            codes, names = pd.factorize(exp["exercise_id"])
            width = len(names) + 1
            in_force_keys = day * width + codes
            i_day = _day_numbers(items["day"])
            i_code = names.get_indexer(items["exercise_id"])
            sid, sids = pd.factorize(items["session_id"])
            ok = (
                items["done"].to_numpy(dtype=bool)
                & (i_code >= 0)
                & (sid >= 0)
                & np.isin(i_day * width + i_code, in_force_keys)
            )
            pairs = np.unique(i_day[ok] * len(sids) + sid[ok])
            with_session, count = np.unique(pairs // max(len(sids), 1), return_counts=True)
            day_sessions[np.searchsorted(in_force_days, with_session)] = count
        at = (_monday(in_force_days) - weeks[0]) // 7
        days_in_force = np.bincount(at, minlength=n).astype(np.int64)
        # integer-valued sums, exact in any order
        tpw_max = np.bincount(at, weights=np.nan_to_num(day_max), minlength=n)
        sessions = np.bincount(at, weights=day_sessions, minlength=n)
    sessions_prescribed = tpw_max / 7
    sessions_done = np.minimum(sessions, sessions_prescribed)
    has = prescribed > 0
    adherence = np.where(has, done / np.where(has, prescribed, 1.0), np.nan)
    has_s = sessions_prescribed > 0
    return pd.DataFrame(
        {
            "week": _datetimes(weeks),
            "days": days.astype(np.int64),
            "days_in_force": days_in_force,
            "prescribed": prescribed,
            "done": done,
            "adherence": adherence,
            "adherent": np.where(np.isnan(adherence), -1.0, adherence) >= ADHERENT - EPS,
            "complete": days == 7,
            "sessions_prescribed": sessions_prescribed,
            "sessions_done": sessions_done,
            "session_adherence": np.where(
                has_s, sessions_done / np.where(has_s, sessions_prescribed, 1.0), np.nan
            ),
        }
    )


def period_adherence(weekly: pd.DataFrame) -> float | None:
    """Adherence over a whole period: sum of weekly capped done over sum of prescribed (None if nothing prescribed)."""
    if weekly is None or weekly.empty or weekly["prescribed"].sum() <= 0:
        return None
    return float(weekly["done"].sum() / weekly["prescribed"].sum())


def daily_completion(
    prescriptions: pd.DataFrame,
    items: pd.DataFrame,
    start: Any,
    end: Any,
    *,
    in_force: InForce | None = None,
) -> pd.DataFrame:
    """One row per calendar day: exercises due (in force), distinct exercises done, share done (NaN if none due).

    Method: share = in-force exercises ticked done that day / exercises in force that day
    (not adjusted for times_per_week: an exercise prescribed 3x/week is "due" every day
    here, so a pale day is not necessarily a missed one; weekly_adherence accounts for it).
    Optional in_force: see in_force_days."""
    _one_patient(prescriptions, items)
    lo, hi = _day(start), _day(end)
    cols = {"day": "datetime64[ns]", "due": "int64", "done": "int64", "share": "float64"}
    if hi < lo:
        return _empty(cols)
    exp = _expanded(prescriptions, items, lo, hi, in_force)
    d_lo, d_hi = _day_numbers([lo])[0], _day_numbers([hi])[0]
    at = _day_numbers(exp["day"]) - d_lo
    due = np.bincount(at, minlength=d_hi - d_lo + 1)
    done = np.bincount(at, weights=exp["done"].to_numpy() > 0, minlength=len(due)).astype(np.int64)
    share = np.where(due > 0, done / np.where(due > 0, due, 1), np.nan)
    return pd.DataFrame(
        {
            "day": _datetimes(np.arange(d_lo, d_hi + 1)),
            "due": due.astype(np.int64),
            "done": done,
            "share": share,
        }
    )


def adherence_by_month(weekly: pd.DataFrame) -> pd.DataFrame:
    """Weekly adherence regrouped by the month of each week's Monday: month, prescribed, done, adherence, adherent."""
    cols = {
        "month": "datetime64[ns]",
        "prescribed": "float64",
        "done": "float64",
        "adherence": "float64",
        "adherent": "bool",
    }
    if weekly is None or weekly.empty:
        return _empty(cols)
    w = weekly.assign(month=weekly["week"].dt.to_period("M").dt.to_timestamp())
    g = w.groupby("month").agg(prescribed=("prescribed", "sum"), done=("done", "sum")).reset_index()
    has = g["prescribed"] > 0
    g["adherence"] = np.where(has, g["done"] / g["prescribed"].where(has, 1.0), np.nan)
    g["adherent"] = g["adherence"].fillna(-1) >= ADHERENT - EPS
    return g[list(cols)].astype(cols)


# ---- habit strength and streaks -------------------------------------------------------------
def _trailing_sums(m: np.ndarray, days: int) -> np.ndarray:
    """Per row, the column sums of that row and the days - 1 rows before it (whole numbers: exact)."""
    c = np.vstack([np.zeros((1, m.shape[1])), np.cumsum(m, axis=0)])
    return c[1:] - c[np.maximum(np.arange(1, len(c)) - days, 0)]


def _sum_columns(m: np.ndarray) -> np.ndarray:
    """Row sums adding the columns one after another, left to right."""
    total = np.zeros(m.shape[0])
    for j in range(m.shape[1]):
        total = total + m[:, j]
    return total


def habit_strength(
    prescriptions: pd.DataFrame,
    items: pd.DataFrame,
    start: Any,
    end: Any,
    half_life: float = HABIT_HALF_LIFE_DAYS,
    *,
    in_force: InForce | None = None,
) -> pd.DataFrame:
    """One row per calendar day: completion over the trailing 7 days (x) and the habit score (0-1).

    Method: x = sum over exercises of min(done, prescribed) over the 7 days ending that day
    (days before `start` are not used) / sum of prescribed; score h = h + a * (x - h),
    a = 1 - 2 ** (-1 / half_life) (half-life 7 days), h = 0 before `start`; days with
    nothing prescribed in the window keep h unchanged. Source: self-reported items.
    Optional in_force: see in_force_days."""
    _one_patient(prescriptions, items)
    if half_life <= 0:
        raise ValueError(f"half_life: {half_life!r} must be a positive number of days")
    lo, hi = _day(start), _day(end)
    cols = {"day": "datetime64[ns]", "completion": "float64", "habit": "float64"}
    if hi < lo:
        return _empty(cols)
    cal = pd.date_range(lo, hi, freq="D", name="day")
    exp = _expanded(prescriptions, items, lo, hi, in_force)
    if exp.empty:
        return pd.DataFrame({"day": cal, "completion": np.nan, "habit": 0.0}).astype(cols)
    # day x exercise matrices of times_per_week and done, then sums over the trailing 7 days
    # (whole numbers, so exact), then summed across exercises in id order
    codes, names = pd.factorize(exp["exercise_id"], sort=True)
    ok = codes >= 0
    at = _day_numbers(exp["day"])[ok] - _day_numbers([lo])[0]
    tpw = np.zeros((len(cal), len(names)))
    done = np.zeros((len(cal), len(names)))
    np.add.at(tpw, (at, codes[ok]), np.nan_to_num(exp["tpw"].to_numpy(dtype=float)[ok]))
    np.add.at(done, (at, codes[ok]), exp["done"].to_numpy(dtype=float)[ok])
    presc_w = _trailing_sums(tpw, ROLLING_DAYS) / 7
    done_w = _trailing_sums(done, ROLLING_DAYS)
    capped = _sum_columns(np.minimum(done_w, presc_w))
    presc = _sum_columns(presc_w)
    x = np.where(presc > EPS, capped / np.where(presc > EPS, presc, 1.0), np.nan)
    alpha = 1 - 2 ** (-1 / half_life)
    h, habit = 0.0, np.empty(len(cal))
    for i, xi in enumerate(x.tolist()):  # Python floats: the same arithmetic, faster per day
        if not math.isnan(xi):
            h += alpha * (min(1.0, xi) - h)
        habit[i] = h
    return pd.DataFrame({"day": cal, "completion": x, "habit": habit}).astype(cols)


@dataclass(frozen=True)
class Streaks:
    """Weekly streaks: consecutive weeks whose exercise adherence met the threshold."""

    current: int
    longest: int
    threshold: float
    current_since: pd.Timestamp | None
    in_progress: bool


def streaks(weekly: pd.DataFrame, threshold: float = ADHERENT) -> Streaks:
    """Current and longest run of met weeks (adherence >= threshold) in a weekly_adherence frame.

    Method: weeks with nothing prescribed are skipped (neither extend nor break a run); the
    last week, if incomplete (fewer than 7 days in the period), is in progress and ignored."""
    if weekly is None or weekly.empty:
        return Streaks(0, 0, threshold, None, False)
    w = weekly.sort_values("week").reset_index(drop=True)
    w = w[w["adherence"].notna()]
    in_progress = False
    if len(w) and not bool(w.iloc[-1]["complete"]) and w.iloc[-1]["week"] == weekly["week"].max():
        w, in_progress = w.iloc[:-1], True
    run = longest = 0
    since = None
    weeks = w["week"].to_numpy()
    for i, adherence in enumerate(w["adherence"].to_numpy(dtype=float).tolist()):
        if adherence >= threshold - EPS:
            run += 1
            if run == 1:
                since = pd.Timestamp(weeks[i])
            longest = max(longest, run)
        else:
            run, since = 0, None
    return Streaks(run, longest, threshold, since if run else None, in_progress)


# ---- pain ---------------------------------------------------------------------------------
_DAILY_COLS = {
    "day": "datetime64[ns]",
    "pain": "float64",
    "n_scores": "int64",
    "pain_after": "float64",
    "n_after": "int64",
    "sessions": "int64",
    "rolling": "float64",
}


def daily_pain(
    sessions: pd.DataFrame, pain: pd.DataFrame | None, start: Any = None, end: Any = None
) -> pd.DataFrame:
    """One row per calendar day of [start, end]: mean pain, its count, mean pain after, sessions, 7-day rolling mean.

    Method: pain = mean of the day's scores (sessions' pain_before and standalone scores,
    each weighing the same); pain_after = mean of the day's pain_after; rolling = mean of
    the daily means over the 7 days ending that day, when >= 3 of them have a score.
    Missing bounds are taken from the data. Source: self-reported 0-10 scores."""
    _one_patient(sessions, pain)
    s = (
        sessions
        if sessions is not None
        else pd.DataFrame(columns=["day", "pain_before", "pain_after"])
    )
    pain = pain if pain is not None else pd.DataFrame(columns=["day", "score"])
    period = _period(start, end, s.get("day"), pain.get("day"))
    if period is None:
        return _empty(_DAILY_COLS)
    lo, hi = period
    first = _day_numbers([lo])[0]
    n = _day_numbers([hi])[0] - first + 1
    s_at = _calendar_position(s["day"], first, n)
    p_at = _calendar_position(pain["day"], first, n)
    before = s["pain_before"].to_numpy(dtype=float, na_value=np.nan)
    score = pain["score"].to_numpy(dtype=float, na_value=np.nan)
    after = s["pain_after"].to_numpy(dtype=float, na_value=np.nan)
    pain_mean, n_scores = _daily_means(
        np.concatenate([s_at, p_at]), np.concatenate([before, score]), n
    )
    after_mean, n_after = _daily_means(s_at, after, n)
    sessions = np.bincount(s_at[s_at >= 0], minlength=n)
    rolling = pd.Series(pain_mean).rolling(ROLLING_DAYS, min_periods=ROLLING_MIN_DAYS).mean()
    return pd.DataFrame(
        {
            "day": _datetimes(np.arange(first, first + n)),
            "pain": pain_mean,
            "n_scores": n_scores,
            "pain_after": after_mean,
            "n_after": n_after,
            "sessions": sessions.astype(np.int64),
            "rolling": rolling.to_numpy(),
        }
    )


def _calendar_position(days: pd.Series, first: int, n: int) -> np.ndarray:
    """Each value's index among the n calendar days from day number first; -1 for anything else
    (missing, outside, or not a whole day)."""
    v = np.asarray(days)
    if v.dtype.kind != "M":
        v = np.asarray(pd.to_datetime(days)).astype("datetime64[ns]")
    d = v.astype("datetime64[D]")
    at = d.astype(np.int64) - first
    return np.where((d == v) & (at >= 0) & (at < n), at, -1)


def _daily_means(at: np.ndarray, values: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Per calendar day: mean of the values present (pandas' groupby mean; NaN if none) and their count."""
    ok = (at >= 0) & ~np.isnan(values)
    count = np.bincount(at[ok], minlength=n).astype(np.int64)
    mean = np.full(n, np.nan)
    if ok.any():
        g = pd.Series(values[ok]).groupby(at[ok]).mean()
        mean[g.index.to_numpy()] = g.to_numpy()
    return mean, count


@dataclass(frozen=True)
class PainTrend:
    """Baseline vs latest pain and its class against the MCID (see pain_trend)."""

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
    reason: str = ""

    @property
    def weeks(self) -> int | None:
        """Whole weeks from the first to the last day with a score (rounded)."""
        if self.first_day is None or self.last_day is None:
            return None
        return int(round((self.last_day - self.first_day).days / 7))


def classify_change(baseline: float, latest: float) -> str:
    """'improved', 'worse' or 'no important change' for a change in 0-10 pain (MCID, Ostelo et al. 2008).

    Method: improved when latest - baseline <= -2 AND the fall is >= 30 % of baseline;
    worse when latest - baseline >= +2; otherwise no important change (tolerance 1e-9).
    Source: Ostelo RW et al., Spine 2008;33(1):90-94."""
    change = latest - baseline
    if change <= -MCID_POINTS + EPS and baseline > 0 and -change / baseline >= MCID_FRACTION - EPS:
        return IMPROVED
    if change >= MCID_POINTS - EPS:
        return WORSE
    return NO_CHANGE


def pain_trend(daily: pd.DataFrame) -> PainTrend:
    """Baseline (first 14 days with data) vs latest 14 days and the MCID class, or 'insufficient data'.

    Method: see module docstring ("Pain trend"); means of daily means rounded to one decimal,
    then classify_change. Source: Ostelo RW et al. Interpreting change scores for pain and
    functional status in low back pain. Spine 2008;33(1):90-94 (MCID: 2 points / 30 %)."""
    if daily is None or daily.empty or daily["pain"].notna().sum() == 0:
        return PainTrend(INSUFFICIENT, reason="no pain scores in this period")
    d = daily[daily["pain"].notna()]
    first, last = d["day"].min(), d["day"].max()
    span = TREND_WINDOW_DAYS - 1
    b_win = (first, first + pd.Timedelta(days=span))
    l_win = (last - pd.Timedelta(days=span), last)
    base = d[(d["day"] >= b_win[0]) & (d["day"] <= b_win[1])]["pain"]
    late = d[(d["day"] >= l_win[0]) & (d["day"] <= l_win[1])]["pain"]
    common = {
        "first_day": first,
        "last_day": last,
        "baseline_days": len(base),
        "latest_days": len(late),
    }
    if (last - first).days < 2 * TREND_WINDOW_DAYS - 1:
        return PainTrend(
            INSUFFICIENT,
            reason=(
                f"the first and latest scores are {(last - first).days} days apart; at least "
                f"{2 * TREND_WINDOW_DAYS - 1} are needed so that the first and latest two weeks "
                "do not overlap"
            ),
            **common,
        )
    if len(base) < TREND_MIN_DAYS or len(late) < TREND_MIN_DAYS:
        which = "first" if len(base) < TREND_MIN_DAYS else "latest"
        n = len(base) if which == "first" else len(late)
        return PainTrend(
            INSUFFICIENT,
            reason=(
                f"only {n} day(s) with a score in the {which} two weeks; at least "
                f"{TREND_MIN_DAYS} are needed"
            ),
            baseline_window=b_win,
            latest_window=l_win,
            **common,
        )
    b, lt = _round1(float(base.mean())), _round1(float(late.mean()))
    change = round(lt - b, 1)
    pct = change / b if b > 0 else None
    return PainTrend(
        classify_change(b, lt),
        baseline=b,
        latest=lt,
        change=change,
        change_pct=pct,
        baseline_window=b_win,
        latest_window=l_win,
        **common,
    )


def flare_ups(daily: pd.DataFrame) -> pd.DataFrame:
    """Flare-up days: day, pain, prior_mean, prior_days, rise (pain >= 2 above the previous 7 days' mean).

    Method: prior_mean = mean of the daily means of the 7 calendar days before the day,
    using those that have a score; at least 3 must (else the day is not judged); a flare
    when pain - prior_mean >= 2 (tolerance 1e-9). Days without a score are never flares."""
    cols = {
        "day": "datetime64[ns]",
        "pain": "float64",
        "prior_mean": "float64",
        "prior_days": "int64",
        "rise": "float64",
    }
    if daily is None or daily.empty:
        return _empty(cols)
    day = daily["day"].to_numpy(dtype="datetime64[ns]")
    if len(day) > 1 and (np.diff(day) == np.timedelta64(1, "D")).all():
        # consecutive days already (as daily_pain gives them): no sorting or gaps to fill
        pain = daily["pain"].to_numpy(dtype="float64", na_value=np.nan)
    else:
        s = daily.set_index("day")["pain"].astype("float64").sort_index()
        s = s[~s.index.duplicated()]
        s = s.reindex(pd.date_range(s.index.min(), s.index.max(), freq="D"))
        day, pain = s.index.to_numpy(dtype="datetime64[ns]"), s.to_numpy(dtype="float64")
    prior = np.concatenate([[np.nan], pain[:-1]])  # the previous day's
    prior_mean = pd.Series(prior).rolling(FLARE_LOOKBACK_DAYS, min_periods=1).mean().to_numpy()
    scored = np.concatenate([[0], np.cumsum(~np.isnan(prior))])
    window_start = np.maximum(np.arange(1, len(prior) + 1) - FLARE_LOOKBACK_DAYS, 0)
    prior_days = scored[1:] - scored[window_start]
    rise = pain - prior_mean
    ok = (
        ~np.isnan(pain)
        & (prior_days >= FLARE_MIN_PRIOR_DAYS)
        & (rise >= FLARE_POINTS - EPS)
    )
    return pd.DataFrame(
        {
            "day": day[ok],
            "pain": pain[ok],
            "prior_mean": prior_mean[ok],
            "prior_days": prior_days[ok].astype(np.int64),
            "rise": rise[ok],
        }
    )


# ---- session effect --------------------------------------------------------------------------
def session_effect(
    sessions: pd.DataFrame, items: pd.DataFrame, min_n: int = MIN_EFFECT_N
) -> pd.DataFrame:
    """pain_after - pain_before: one 'overall' row then one per exercise, with n, mean, sd, 95 % CI, suppressed.

    Method: sessions with both scores; per exercise, those sessions in which it was done;
    CI = mean +- t(0.975, n-1) * sd / sqrt(n). Rows with n < min_n are suppressed (mean,
    sd and CI left empty). Negative means pain was lower after. Source: session scores."""
    _one_patient(sessions, items)
    cols = {
        "scope": "str",
        "exercise_id": "str",
        "n": "int64",
        "mean": "float64",
        "sd": "float64",
        "ci_low": "float64",
        "ci_high": "float64",
        "suppressed": "bool",
    }
    rows: list[dict[str, Any]] = []
    if sessions is None or sessions.empty:
        both = pd.DataFrame(
            {"session_id": pd.Series([], dtype="str"), "diff": pd.Series([], dtype=float)}
        )
    else:
        ok = sessions["pain_before"].notna() & sessions["pain_after"].notna()
        both = sessions[ok]
        both = pd.DataFrame(
            {
                "session_id": both["session_id"],
                "diff": both["pain_after"].astype("float64")
                - both["pain_before"].astype("float64"),
            }
        )

    def row(scope: str, ex: str, diffs: pd.Series | np.ndarray) -> dict[str, Any]:
        n = int(np.count_nonzero(~np.isnan(np.asarray(diffs, dtype=float))))
        if n < min_n:
            return {
                "scope": scope,
                "exercise_id": ex,
                "n": n,
                "mean": np.nan,
                "sd": np.nan,
                "ci_low": np.nan,
                "ci_high": np.nan,
                "suppressed": True,
            }
        n, m, sd, lo, hi = mean_ci(diffs)
        return {
            "scope": scope,
            "exercise_id": ex,
            "n": n,
            "mean": m,
            "sd": sd,
            "ci_low": lo,
            "ci_high": hi,
            "suppressed": False,
        }

    rows.append(row("overall", "", both["diff"]))
    if items is not None and not items.empty and len(both):
        for ex, diffs in _diffs_by_exercise(items, both):
            rows.append(row("exercise", ex, diffs))
    return pd.DataFrame(rows, columns=list(cols)).astype(cols)


def _diffs_by_exercise(items: pd.DataFrame, both: pd.DataFrame) -> list[tuple[str, Any]]:
    """(exercise id, the diffs of the sessions in which it was done, in item order), by exercise id."""
    sid = both["session_id"]
    if not (sid.is_unique and sid.notna().all()):  # the general (slower) join
        done = items[items["done"].astype(bool)][["session_id", "exercise_id"]].drop_duplicates()
        joined = done.merge(both, on="session_id", how="inner")
        return [(str(ex), g["diff"]) for ex, g in joined.groupby("exercise_id", sort=True)]
    done = items["done"].to_numpy(dtype=bool)
    s_code, s_names = pd.factorize(items["session_id"])
    e_code, e_names = pd.factorize(items["exercise_id"], sort=True)
    ok = done & (s_code >= 0) & (e_code >= 0)
    # each (session, exercise) once, at its first done item
    key = s_code.astype(np.int64) * (len(e_names) + 1) + e_code
    first = np.sort(np.unique(key[ok], return_index=True)[1]) if ok.any() else np.zeros(0, int)
    first = np.flatnonzero(ok)[first]
    at = pd.Index(sid).get_indexer(s_names.take(s_code[first]))
    first, at = first[at >= 0], at[at >= 0]
    diff = both["diff"].to_numpy(dtype=float)[at]
    code = e_code[first]
    return [(str(e_names[c]), diff[code == c]) for c in np.unique(code)]


# ---- adherence against pain ------------------------------------------------------------------
def weekly_pain(daily: pd.DataFrame) -> pd.DataFrame:
    """Per week: mean of the daily mean pain and the number of days with a score (mean NaN below 3 days)."""
    cols = {"week": "datetime64[ns]", "pain": "float64", "pain_days": "int64"}
    if daily is None or daily.empty:
        return _empty(cols)
    day = daily["day"]
    ok = day.notna().to_numpy()
    week = _monday(_day_numbers(day[ok]))
    pain = daily["pain"].to_numpy(dtype=float, na_value=np.nan)[ok]
    g = pd.Series(pain).groupby(week).mean()  # pandas' mean, as before
    weeks, at = np.unique(week, return_inverse=True)
    days = np.bincount(at, weights=~np.isnan(pain), minlength=len(weeks)).astype(np.int64)
    mean = g.to_numpy()
    return pd.DataFrame(
        {
            "week": _datetimes(weeks),
            "pain": np.where(days < WEEK_MIN_PAIN_DAYS, np.nan, mean),
            "pain_days": days,
        }
    )


@dataclass(frozen=True)
class AdherencePain:
    """Weekly adherence vs next week's change in pain: pairs, Pearson r, 95 % CI and fitted line."""

    pairs: pd.DataFrame
    n: int
    r: float | None
    ci_low: float | None
    ci_high: float | None
    slope: float | None
    intercept: float | None
    status: str
    caveat: str = ASSOCIATION_CAVEAT


def adherence_vs_pain(weekly: pd.DataFrame, daily: pd.DataFrame) -> AdherencePain:
    """Each week's adherence against the change in weekly mean pain to the next week: r, Fisher-z 95 % CI, n, line.

    Method: pairs (adherence_w, pain_{w+1} - pain_w) for consecutive weeks with adherence
    and both weekly means (>= 3 days with a score each); Pearson r with CI
    tanh(atanh r +- 1.96/sqrt(n-3)); least-squares line change = intercept + slope *
    adherence; needs >= 6 pairs. Association only (ASSOCIATION_CAVEAT)."""
    wp = weekly_pain(daily)
    cols = {
        "week": "datetime64[ns]",
        "adherence": "float64",
        "pain": "float64",
        "next_pain": "float64",
        "change": "float64",
    }
    if weekly is None or weekly.empty or wp.empty:
        return AdherencePain(_empty(cols), 0, None, None, None, None, None, INSUFFICIENT)
    # each week of `weekly` (in its order) with that week's and the next week's mean pain
    week = weekly["week"].to_numpy(dtype="datetime64[ns]")
    known = wp["week"].to_numpy(dtype="datetime64[ns]")  # sorted, distinct
    known_pain = wp["pain"].to_numpy(dtype=float)

    def pain_of(w: np.ndarray) -> np.ndarray:
        at = np.searchsorted(known, w).clip(max=len(known) - 1)
        return np.where(known[at] == w, known_pain[at], np.nan)

    pain = pain_of(week)
    next_pain = pain_of(week + np.timedelta64(7, "D"))
    adherence = weekly["adherence"].to_numpy(dtype=float, na_value=np.nan)
    ok = ~(np.isnan(adherence) | np.isnan(pain) | np.isnan(next_pain))
    pairs = pd.DataFrame(
        {
            "week": week[ok],
            "adherence": adherence[ok],
            "pain": pain[ok],
            "next_pain": next_pain[ok],
            "change": next_pain[ok] - pain[ok],
        }
    )
    n = len(pairs)
    if n < MIN_PAIRS:
        return AdherencePain(pairs, n, None, None, None, None, None, INSUFFICIENT)
    n, r, lo, hi = pearson_ci(pairs["adherence"], pairs["change"])
    if math.isnan(r):
        return AdherencePain(
            pairs,
            n,
            None,
            None,
            None,
            None,
            None,
            "undefined: adherence or pain change did not vary",
        )
    x, y = pairs["adherence"].to_numpy(), pairs["change"].to_numpy()
    slope = float(((x - x.mean()) * (y - y.mean())).sum() / ((x - x.mean()) ** 2).sum())
    return AdherencePain(pairs, n, r, lo, hi, slope, float(y.mean() - slope * x.mean()), "ok")


# ---- progression -----------------------------------------------------------------------------
def progression_suggestions(
    prescriptions: pd.DataFrame,
    items: pd.DataFrame,
    daily: pd.DataFrame,
    catalog: Catalog,
    end: Any,
    annotations: pd.DataFrame | None = None,
    window_days: int = PROGRESSION_WINDOW_DAYS,
    *,
    in_force: InForce | None = None,
    flares: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Per exercise in force on `end`: exercise_id, dose, current, suggested, direction (up/down/hold), reason.

    Method: see module docstring ("Progression"); the ladder is the catalog exercise's
    `ladder` for its main dose. A suggestion only: nothing is ever applied. Optional
    in_force (see in_force_days) and flares (flare_ups(daily)) save recomputing them."""
    _one_patient(prescriptions, items, annotations)
    cols = {
        "exercise_id": "str",
        "dose": "str",
        "current": "Int64",
        "suggested": "Int64",
        "direction": "str",
        "reason": "str",
        "done_share": "float64",
    }
    hi = _day(end)
    lo = hi - pd.Timedelta(days=window_days - 1)
    exp = _expanded(prescriptions, items, lo, hi, in_force)
    today = exp[exp["day"] == hi]
    if today.empty:
        return _empty(cols)

    if flares is None:
        flares = flare_ups(daily) if daily is not None else flare_ups(None)
    flare_days = sorted(flares.loc[(flares["day"] >= lo) & (flares["day"] <= hi), "day"])
    noted = []
    if annotations is not None and not annotations.empty:
        a = annotations[
            (annotations["kind"] == "flare-up")
            & (annotations["day"] >= lo)
            & (annotations["day"] <= hi)
        ]
        noted = sorted(a["day"])
    half = window_days // 2
    pain_note, pain_ok = "", False
    if daily is not None and not daily.empty:
        win = daily[(daily["day"] >= lo) & (daily["day"] <= hi) & daily["pain"].notna()]
        early = win[win["day"] < hi - pd.Timedelta(days=half - 1)]["pain"]
        late = win[win["day"] >= hi - pd.Timedelta(days=half - 1)]["pain"]
        if len(early) >= PROGRESSION_MIN_HALF_DAYS and len(late) >= PROGRESSION_MIN_HALF_DAYS:
            e, lt = float(early.mean()), float(late.mean())
            pain_ok = lt - e <= PAIN_STABLE_TOLERANCE + EPS
            pain_note = (
                f"pain {'stable or falling' if pain_ok else 'rising'} "
                f"(average {_round1(e):.1f} in the first week, {_round1(lt):.1f} in the second)"
            )
    if not pain_note:
        pain_note = "not enough pain scores in the last 2 weeks to judge the trend"

    ids = exp["exercise_id"].to_numpy(dtype=object, na_value=None)
    tpw = np.nan_to_num(exp["tpw"].to_numpy(dtype=float))
    done_n = exp["done"].to_numpy()
    rows = []
    for _, rx in today.iterrows():
        ex_id = str(rx["exercise_id"])
        ex = catalog[ex_id] if ex_id in catalog else None
        dose = ex.main_dose if ex is not None else ""
        current = rx[dose] if dose else pd.NA
        ladder = tuple(ex.ladder) if ex is not None else ()
        mine = ids == ex_id
        presc = float(tpw[mine].sum()) / 7
        done = int(done_n[mine].sum())
        share = min(done, presc) / presc if presc > 0 else np.nan
        row = {
            "exercise_id": ex_id,
            "dose": dose,
            "current": current,
            "suggested": current,
            "direction": "hold",
            "done_share": share,
        }
        if ex is None or not ladder:
            row["reason"] = "no progression ladder in the catalog for this exercise"
        elif pd.isna(current):
            row["reason"] = f"no {dose} recorded in the prescription"
        elif flare_days or noted:
            when = (flare_days or noted)[-1].date()
            src = "flare-up" if flare_days else "flare-up noted on the timeline"
            lower = [v for v in ladder if v < current]
            if lower:
                row.update(
                    suggested=lower[-1],
                    direction="down",
                    reason=f"{src} on {when}: one step back until it settles",
                )
            else:
                row["reason"] = f"{src} on {when}; already at the lowest step"
        else:
            days, doses = exp["day"].to_numpy()[mine], exp[dose].to_numpy()[mine]
            since = _dose_since(days, doses, current, lo, hi)
            did = (
                f"done {done} times against {presc:g} prescribed in the last 2 weeks "
                f"({share * 100:.0f} %)"
            )
            if since > lo:
                row["reason"] = (
                    f"current dose in force only since {since.date()}; "
                    "judge after 2 full weeks at it"
                )
            elif share < ADHERENT - EPS:
                row["reason"] = f"{did}; below 80 %, keep the current dose"
            elif not pain_ok:
                row["reason"] = f"{did}; {pain_note}"
            else:
                higher = [v for v in ladder if v > current]
                if higher:
                    row.update(
                        suggested=higher[0],
                        direction="up",
                        reason=f"{did}, {pain_note}, no flare-up",
                    )
                else:
                    row["reason"] = f"{did}, {pain_note}; already at the top of the range"
        rows.append(row)
    return pd.DataFrame(rows, columns=list(cols)).astype(cols)


def _dose_since(
    days: np.ndarray, doses: np.ndarray, current: Any, lo: pd.Timestamp, hi: pd.Timestamp
) -> pd.Timestamp:
    """First day of the unbroken run, ending at hi, on which the exercise was in force at `current`.

    days, doses: the exercise's in-force days and its dose on each."""
    by_day = dict(zip(_day_numbers(days).tolist(), doses.tolist(), strict=True))
    first, last = _day_numbers([lo, hi]).tolist()
    day = last
    while day >= first and day in by_day:
        value = by_day[day]
        if pd.isna(value) or value != current:
            break
        day -= 1
    return hi - (last - day) * _ONE_DAY + _ONE_DAY


# ---- display aggregation (used by plots; binning only) ----------------------------------------
def pain_display(
    daily: pd.DataFrame, flares: pd.DataFrame | None = None, max_points: int = 600
) -> tuple[pd.DataFrame, str]:
    """Daily pain binned for plotting: (frame, 'day'|'week'|'month') with at most ~max_points rows.

    Columns: x (bin start), pain (mean of daily means), pain_days, rolling (mean of the
    7-day rolling means), pain_after, sessions (sum), flares (count of flare-up days)."""
    cols = {
        "x": "datetime64[ns]",
        "pain": "float64",
        "pain_days": "int64",
        "rolling": "float64",
        "pain_after": "float64",
        "sessions": "int64",
        "flares": "int64",
    }
    if daily is None or daily.empty:
        return _empty(cols), "day"
    day = daily["day"].to_numpy(dtype="datetime64[ns]")
    ok = ~np.isnat(day)  # rows without a day belong to no bin
    n_days = len(daily)
    if n_days <= max_points:
        freq, key = "day", day[ok]
    elif n_days / 7 <= max_points:
        freq, key = "week", _datetimes(_monday(_day_numbers(day[ok])))
    else:
        freq, key = "month", day[ok].astype("datetime64[M]").astype("datetime64[ns]")
    x, at = np.unique(key, return_inverse=True)
    pain = daily["pain"].to_numpy(dtype=float, na_value=np.nan)[ok]
    # means of the daily values per bin with pandas' groupby mean, as before
    rolling, after = (
        daily[c].to_numpy(dtype=float, na_value=np.nan)[ok] for c in ("rolling", "pain_after")
    )
    means = pd.DataFrame(np.column_stack([pain, rolling, after])).groupby(at).mean().to_numpy()
    is_flare = (
        np.isin(day[ok], flares["day"].to_numpy(dtype="datetime64[ns]"))
        if flares is not None and len(flares)
        else np.zeros(len(at), dtype=bool)
    )
    sessions = np.nan_to_num(daily["sessions"].to_numpy(dtype=float, na_value=np.nan)[ok])
    out = pd.DataFrame(
        {
            "x": x,
            "pain": means[:, 0],
            "pain_days": np.bincount(at, weights=~np.isnan(pain), minlength=len(x)),
            "rolling": means[:, 1],
            "pain_after": means[:, 2],
            "sessions": np.bincount(at, weights=sessions, minlength=len(x)),
            "flares": np.bincount(at, weights=is_flare, minlength=len(x)),
        }
    )
    return out.astype(cols), freq


# ---- plain words --------------------------------------------------------------------------------
def _fmt_day(ts: pd.Timestamp) -> str:
    return f"{ts.day} {ts.strftime('%b %Y')}"


def summarise(
    trend: PainTrend,
    weekly: pd.DataFrame | None = None,
    streak: Streaks | None = None,
    habit: float | None = None,
) -> str:
    """The plain-words summary: pain change and its MCID class, then adherence (no causal language).

    Method: numbers from pain_trend (rounded to one decimal), period_adherence, streaks and
    habit_strength; see their docstrings."""
    parts = []
    w = trend.weeks
    span = f"over {w} week{'s' if w != 1 else ''}" if w is not None else ""
    if trend.status == INSUFFICIENT:
        parts.append(f"Not enough pain scores to judge a trend yet: {trend.reason}.")
    else:
        b, lt = f"{trend.baseline:.1f}", f"{trend.latest:.1f}"
        if trend.status == IMPROVED:
            parts.append(f"Pain fell from {b} to {lt} {span}: a clinically important improvement.")
        elif trend.status == WORSE:
            parts.append(f"Pain rose from {b} to {lt} {span}: a clinically important worsening.")
        elif trend.baseline == trend.latest:
            parts.append(f"Pain stayed at {b} {span}: no clinically important change.")
        else:
            verb = "fell" if trend.latest < trend.baseline else "rose"
            parts.append(f"Pain {verb} from {b} to {lt} {span}: no clinically important change.")
        bw, lw = trend.baseline_window, trend.latest_window
        parts.append(
            f"(Averages of the daily scores {_fmt_day(bw[0])} to {_fmt_day(bw[1])} and "
            f"{_fmt_day(lw[0])} to {_fmt_day(lw[1])}; an important change is 2 points and, "
            "for an improvement, 30 %.)"
        )
    adh = period_adherence(weekly) if weekly is not None else None
    if adh is not None:
        parts.append(
            f"Exercises were ticked off {adh * 100:.0f} % of the prescribed times in this period "
            "(self-reported; 80 % is commonly called adherent)."
        )
    elif weekly is not None:
        parts.append("No programme was in force in this period.")
    if streak is not None and (streak.longest or streak.current):
        parts.append(
            f"Weeks in a row at 80 % or more: {streak.current} now, {streak.longest} at most."
        )
    if habit is not None and not math.isnan(habit):
        parts.append(f"Habit strength: {round(habit * 100)} out of 100.")
    return " ".join(parts)
