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

import math
from collections.abc import Iterable
from dataclasses import dataclass
from statistics import NormalDist
from typing import Any

import numpy as np
import pandas as pd

from .catalog import Catalog

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
    first = p["valid_from"].clip(lower=lo)
    last = p["valid_to"].fillna(hi).clip(upper=hi)
    n = ((last - first).dt.days + 1).clip(lower=0).astype(int)
    keep = n > 0
    if not keep.any():
        return _empty(_EXPANDED_COLS)
    p, first, n = p[keep], first[keep], n[keep]
    rep = p.loc[p.index.repeat(n)]
    offset = rep.groupby(level=0).cumcount().to_numpy()
    days = first.loc[rep.index].to_numpy() + offset.astype("timedelta64[D]")
    out = pd.DataFrame(
        {
            "day": pd.to_datetime(days).astype("datetime64[ns]"),
            "exercise_id": rep["exercise_id"].astype("str").to_numpy(),
            "times_per_week": rep["times_per_week"].astype("Int64").to_numpy(),
            "programme_id": rep["programme_id"].astype("Int64").to_numpy(),
            "_from": rep["valid_from"].to_numpy(),
            **{c: rep[c].astype("Int64").to_numpy() for c in ("sets", "reps", "hold_s", "minutes")},
        }
    )
    out = out.sort_values(["day", "exercise_id", "_from", "programme_id"])
    out = out.drop_duplicates(["day", "exercise_id"], keep="last").drop(columns="_from")
    return out[list(_EXPANDED_COLS)].reset_index(drop=True)


def _done_per_day(items: pd.DataFrame | None) -> pd.DataFrame:
    """Count of done items per (day, exercise_id)."""
    if items is None or items.empty:
        return pd.DataFrame(
            {
                "day": pd.Series([], dtype="datetime64[ns]"),
                "exercise_id": pd.Series([], dtype="str"),
                "done": pd.Series([], dtype="int64"),
            }
        )
    d = items[items["done"].astype(bool)]
    return d.groupby(["day", "exercise_id"]).size().rename("done").reset_index()


def _in_force_with_done(
    prescriptions: pd.DataFrame, items: pd.DataFrame | None, lo: pd.Timestamp, hi: pd.Timestamp
) -> pd.DataFrame:
    exp = expand_prescriptions(prescriptions, lo, hi)
    done = _done_per_day(items)
    exp = exp.merge(done, on=["day", "exercise_id"], how="left")
    exp["done"] = exp["done"].fillna(0).astype("int64")
    exp["tpw"] = exp["times_per_week"].astype("float64")
    exp["week"] = week_start(exp["day"]).to_numpy()
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
    daily_completion, habit_strength, progression_suggestions or adherence_by_exercise for
    any period inside [start, end]: they then give exactly what they give without it,
    provided it was built from the same prescriptions and from items that hold every item
    of that period's days (items of a longer period are fine)."""
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


def _by_exercise(exp: pd.DataFrame) -> pd.DataFrame:
    if exp.empty:
        return _empty(_BY_EXERCISE_COLS)
    g = (
        exp.groupby(["week", "exercise_id"], sort=True)
        .agg(days=("day", "size"), tpw_sum=("tpw", "sum"), done=("done", "sum"))
        .reset_index()
    )
    g["prescribed"] = g["tpw_sum"] / 7  # integer sum first: full weeks give exact values
    g["done_capped"] = np.minimum(g["done"].astype(float), g["prescribed"])
    g["adherence"] = g["done_capped"] / g["prescribed"]
    g["adherent"] = g["adherence"] >= ADHERENT - EPS
    return g[list(_BY_EXERCISE_COLS)].astype(_BY_EXERCISE_COLS).reset_index(drop=True)


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
    cal = pd.DataFrame({"day": pd.date_range(lo, hi, freq="D")})
    cal["week"] = week_start(cal["day"]).to_numpy()
    weeks = cal.groupby("week").size().rename("days").reset_index()

    exp = _expanded(prescriptions, items, lo, hi, in_force)
    ex = (
        _by_exercise(exp)
        .groupby("week")
        .agg(prescribed=("prescribed", "sum"), done=("done_capped", "sum"))
    )
    day_max = exp.groupby("day").agg(tpw_max=("tpw", "max")).reset_index()
    sess_done = pd.Series(0, index=pd.DatetimeIndex([], name="day"), dtype="int64", name="sessions")
    if items is not None and not items.empty:
        in_force = items.merge(exp[["day", "exercise_id"]], on=["day", "exercise_id"], how="inner")
        in_force = in_force[in_force["done"].astype(bool)]
        sess_done = in_force.groupby("day")["session_id"].nunique().rename("sessions")
    day_max = day_max.merge(sess_done.reset_index(), on="day", how="left")
    day_max["sessions"] = day_max["sessions"].fillna(0)
    day_max["week"] = week_start(day_max["day"]).to_numpy()
    ss = day_max.groupby("week").agg(
        days_in_force=("day", "size"), tpw_max=("tpw_max", "sum"), sessions=("sessions", "sum")
    )
    ss["sessions_prescribed"] = ss["tpw_max"] / 7
    ss["sessions_done"] = np.minimum(ss["sessions"], ss["sessions_prescribed"])

    out = weeks.merge(ex.reset_index(), on="week", how="left").merge(
        ss[["days_in_force", "sessions_prescribed", "sessions_done"]].reset_index(),
        on="week",
        how="left",
    )
    out["days_in_force"] = out["days_in_force"].fillna(0)
    for c in ("prescribed", "done", "sessions_prescribed", "sessions_done"):
        out[c] = out[c].fillna(0.0)
    has = out["prescribed"] > 0
    out["adherence"] = np.where(has, out["done"] / out["prescribed"].where(has, 1.0), np.nan)
    out["adherent"] = out["adherence"].fillna(-1) >= ADHERENT - EPS
    out["complete"] = out["days"] == 7
    has_s = out["sessions_prescribed"] > 0
    out["session_adherence"] = np.where(
        has_s, out["sessions_done"] / out["sessions_prescribed"].where(has_s, 1.0), np.nan
    )
    return out[list(cols)].astype(cols).reset_index(drop=True)


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
    exp["did"] = exp["done"] > 0
    g = exp.groupby("day").agg(due=("exercise_id", "size"), done=("did", "sum"))
    cal = pd.DataFrame(index=pd.date_range(lo, hi, freq="D", name="day"))
    out = cal.join(g).fillna(0).reset_index()
    out["share"] = np.where(
        out["due"] > 0, out["done"] / out["due"].where(out["due"] > 0, 1), np.nan
    )
    return out[list(cols)].astype(cols)


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
    tpw = exp.pivot_table(index="day", columns="exercise_id", values="tpw", aggfunc="sum")
    done = exp.pivot_table(index="day", columns="exercise_id", values="done", aggfunc="sum")
    tpw = tpw.reindex(cal).fillna(0.0)
    done = done.reindex(index=cal, columns=tpw.columns).fillna(0.0)
    presc_w = tpw.rolling(ROLLING_DAYS, min_periods=1).sum() / 7
    done_w = done.rolling(ROLLING_DAYS, min_periods=1).sum()
    capped = np.minimum(done_w.to_numpy(), presc_w.to_numpy()).sum(axis=1)
    presc = presc_w.to_numpy().sum(axis=1)
    x = np.where(presc > EPS, capped / np.where(presc > EPS, presc, 1.0), np.nan)
    alpha = 1 - 2 ** (-1 / half_life)
    h, habit = 0.0, np.empty(len(cal))
    for i, xi in enumerate(x):
        if not np.isnan(xi):
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
    for _, row in w.iterrows():
        if row["adherence"] >= threshold - EPS:
            run += 1
            if run == 1:
                since = row["week"]
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
    before = s[["day", "pain_before"]].rename(columns={"pain_before": "score"})
    scores = pd.concat([before, pain[["day", "score"]]], ignore_index=True)
    scores = scores[scores["score"].notna()]
    scores = scores.assign(score=scores["score"].astype("float64"))
    scores = scores[(scores["day"] >= lo) & (scores["day"] <= hi)]
    after = s[s["pain_after"].notna()][["day", "pain_after"]]
    after = after.assign(pain_after=after["pain_after"].astype("float64"))
    cal = pd.DataFrame(index=pd.date_range(lo, hi, freq="D", name="day"))
    by_day = (
        scores.groupby("day")["score"]
        .agg(["mean", "size"])
        .rename(columns={"mean": "pain", "size": "n_scores"})
    )
    aft = (
        after.groupby("day")["pain_after"]
        .agg(["mean", "size"])
        .rename(columns={"mean": "pain_after", "size": "n_after"})
    )
    nsess = s.groupby("day").size().rename("sessions")
    out = cal.join(by_day).join(aft).join(nsess)
    out["sessions"] = out["sessions"].fillna(0)
    out["n_scores"] = out["n_scores"].fillna(0)
    out["n_after"] = out["n_after"].fillna(0)
    out["rolling"] = out["pain"].rolling(ROLLING_DAYS, min_periods=ROLLING_MIN_DAYS).mean()
    return out.reset_index()[list(_DAILY_COLS)].astype(_DAILY_COLS)


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
    s = daily.set_index("day")["pain"].astype("float64").sort_index()
    s = s[~s.index.duplicated()]
    s = s.reindex(pd.date_range(s.index.min(), s.index.max(), freq="D"))
    prior = s.shift(1).rolling(FLARE_LOOKBACK_DAYS, min_periods=1)
    out = pd.DataFrame({"pain": s, "prior_mean": prior.mean(), "prior_days": prior.count()})
    out["rise"] = out["pain"] - out["prior_mean"]
    ok = (
        out["pain"].notna()
        & (out["prior_days"] >= FLARE_MIN_PRIOR_DAYS)
        & (out["rise"] >= FLARE_POINTS - EPS)
    )
    out = out[ok].rename_axis("day").reset_index()
    return out[list(cols)].astype(cols)


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

    def row(scope: str, ex: str, diffs: pd.Series) -> dict[str, Any]:
        n = int(diffs.notna().sum())
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
        done = items[items["done"].astype(bool)][["session_id", "exercise_id"]].drop_duplicates()
        joined = done.merge(both, on="session_id", how="inner")
        for ex, grp in joined.groupby("exercise_id", sort=True):
            rows.append(row("exercise", str(ex), grp["diff"]))
    return pd.DataFrame(rows, columns=list(cols)).astype(cols)


# ---- adherence against pain ------------------------------------------------------------------
def weekly_pain(daily: pd.DataFrame) -> pd.DataFrame:
    """Per week: mean of the daily mean pain and the number of days with a score (mean NaN below 3 days)."""
    cols = {"week": "datetime64[ns]", "pain": "float64", "pain_days": "int64"}
    if daily is None or daily.empty:
        return _empty(cols)
    d = daily.assign(week=week_start(daily["day"]).to_numpy())
    g = (
        d.groupby("week")["pain"]
        .agg(["mean", "count"])
        .rename(columns={"mean": "pain", "count": "pain_days"})
        .reset_index()
    )
    g.loc[g["pain_days"] < WEEK_MIN_PAIN_DAYS, "pain"] = np.nan
    return g[list(cols)].astype(cols)


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
    nxt = wp.assign(week=wp["week"] - pd.Timedelta(days=7)).rename(columns={"pain": "next_pain"})
    pairs = (
        weekly[["week", "adherence"]]
        .merge(wp[["week", "pain"]], on="week")
        .merge(nxt[["week", "next_pain"]], on="week")
    )
    pairs = pairs.dropna(subset=["adherence", "pain", "next_pain"])
    pairs = pairs.assign(change=pairs["next_pain"] - pairs["pain"])[list(cols)].astype(cols)
    pairs = pairs.reset_index(drop=True)
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

    rows = []
    for _, rx in today.iterrows():
        ex_id = str(rx["exercise_id"])
        ex = catalog[ex_id] if ex_id in catalog else None
        dose = ex.main_dose if ex is not None else ""
        current = rx[dose] if dose else pd.NA
        ladder = tuple(ex.ladder) if ex is not None else ()
        mine = exp[exp["exercise_id"] == ex_id]
        presc = float(mine["tpw"].sum()) / 7
        done = int(mine["done"].sum())
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
            since = _dose_since(mine, dose, current, lo, hi)
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
    mine: pd.DataFrame, dose: str, current: Any, lo: pd.Timestamp, hi: pd.Timestamp
) -> pd.Timestamp:
    """First day of the unbroken run, ending at hi, on which the exercise was in force at `current`."""
    by_day = mine.set_index("day")[dose]
    day = hi
    while day >= lo and day in by_day.index:
        value = by_day[day]
        if pd.isna(value) or value != current:
            break
        day -= _ONE_DAY
    return day + _ONE_DAY


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
    d = daily.copy()
    d["flares"] = (
        d["day"].isin(flares["day"]).astype("int64") if flares is not None and len(flares) else 0
    )
    n_days = len(d)
    if n_days <= max_points:
        freq, key = "day", d["day"]
    elif n_days / 7 <= max_points:
        freq, key = "week", week_start(d["day"])
    else:
        freq, key = "month", d["day"].dt.to_period("M").dt.to_timestamp()
    d["x"] = key.to_numpy()
    g = (
        d.groupby("x")
        .agg(
            pain=("pain", "mean"),
            pain_days=("pain", "count"),
            rolling=("rolling", "mean"),
            pain_after=("pain_after", "mean"),
            sessions=("sessions", "sum"),
            flares=("flares", "sum"),
        )
        .reset_index()
    )
    return g[list(cols)].astype(cols), freq


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
