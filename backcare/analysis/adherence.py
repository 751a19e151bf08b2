"""Adherence: prescribed against done, per exercise and week, per week, per period; habit and
streaks.

Methods (every adherence figure shown comes from here)
* Prescribed amount. On each day an exercise is in force it contributes
  ``times_per_week / 7`` prescribed times, so a week's prescription is the sum over its
  days: a full week at 3x/week is 3, and a programme that changes on a Thursday from
  7x/week to 3x/week gives 3 * 7/7 + 4 * 3/7 = 4.71 for that week. Weeks cut by the
  period are pro-rated to the days inside it.
* Done. Each session item ticked done counts once, but only on a day the exercise was in
  force (extra, unprescribed work is not counted). Two sessions in one day count twice.
* Adherence per exercise and week: ``min(done, prescribed) / prescribed``, capped so that
  over-doing one exercise (or one week) cannot hide missing another. A week's exercise
  adherence is the sum of capped done over the sum of prescribed; a period's is the same
  sum over all its (week, exercise) pairs. Session adherence: prescribed sessions per day
  are ``max(times_per_week of exercises in force) / 7``; a session counts when at least one
  in-force exercise in it was done; capped the same way.
* Adherent: >= 80 % (``ADHERENT``), the threshold commonly used for exercise adherence
  (e.g. Argent R, Daly A, Caulfield B. Patient involvement with home-based exercise
  programs. JMIR Mhealth Uhealth 2018;6(3):e47). Self-reports overestimate adherence
  (``SELF_REPORT_CAVEAT`` in domain.wording).
* Habit strength: each day, x = capped completion over the 7 days ending that day (per
  exercise min(done, prescribed) summed, over prescribed summed); the score is the
  exponential moving average h = h + a * (x - h), a = 1 - 2 ** (-1 / 7) (half-life 7
  days), starting at 0 (a habit has to be built); days with nothing prescribed leave it
  unchanged.
* Streaks: consecutive weeks whose exercise adherence is >= 80 %; weeks with nothing
  prescribed neither extend nor break a run; the period's last week, when incomplete, is
  "in progress" and ignored. (This is the streak the app shows: "2 weeks in a row at 80 %
  or more of your prescribed exercises; this week counts once it is complete".)
* Day status (``day_statuses``, the week strip a person sees; habit apps such as Loop Habit
  Tracker draw the same strip for habits done "n times a week"). An exercise prescribed
  t times a week has spare days: in a calendar week it is in force on d days and asked for
  n = round(sum of t/7 over those days) times (t for a whole week, pro-rated like the
  prescription above), so it may be left out on d - n of them. Its days without a tick use
  up the spare days in order from Monday; a day it is left out once they are used up is a
  day it is *missing* (at 7x/week every day without it; at 3x/week from the fifth day
  without it in that week). A day is then: "nothing" (nothing in force), "done" (an
  in-force exercise ticked, none missing), "partly" (ticked, but one missing), "rest"
  (nothing ticked, nothing missing: a spare day), "missed" (nothing ticked, one missing).
  Relative to the person's today: "open" is today while nothing is ticked (the day is not
  over), "upcoming" a later day with something in force. Ticks count once per day and
  exercise (two sessions do not make two days) and only for exercises in force that day.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from backcare.analysis.calendar import (
    EPS,
    InForce,
    as_day,
    codes,
    datetimes,
    day_numbers,
    done_rows,
    empty,
    in_force_days,
    monday,
    one_patient,
    segment_starts,
    typed_as,
)

ADHERENT = 0.80
HABIT_HALF_LIFE_DAYS = 7.0
HABIT_WINDOW_DAYS = 7

BY_EXERCISE_COLUMNS = {
    "patient_id": "str",
    "week": "datetime64[ns]",
    "exercise_id": "str",
    "days": "int64",
    "prescribed": "float64",
    "done": "int64",
    "done_capped": "float64",
    "adherence": "float64",
    "adherent": "bool",
}
WEEKLY_COLUMNS = {
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


def _in_force(
    prescriptions: pd.DataFrame,
    items: pd.DataFrame | None,
    lo: pd.Timestamp,
    hi: pd.Timestamp,
    in_force: InForce | None,
) -> InForce:
    """in_force cut to [lo, hi] when it covers that period, else computed afresh."""
    if in_force is not None and in_force.start <= lo and hi <= in_force.end:
        return in_force.between(lo, hi)
    return in_force_days(prescriptions, items, lo, hi)


def by_exercise(in_force: InForce) -> pd.DataFrame:
    """Per (patient, week, exercise): in-force days, prescribed, done, done_capped, adherence,
    adherent.

    Sorted by patient, week and exercise. Method: see the module docstring."""
    exp = in_force.frame
    if exp.empty:
        return empty(BY_EXERCISE_COLUMNS)
    p_code, p_names = in_force.patient_code, in_force.patients
    e_code, e_names = in_force.exercise_code, in_force.exercises
    week = day_numbers(exp["week"])
    w0 = int(week.min())
    n_w = (int(week.max()) - w0) // 7 + 1
    n_e = max(len(e_names), 1)
    key = (p_code.astype(np.int64) * n_w + (week - w0) // 7) * n_e + e_code
    keys, group = np.unique(key, return_inverse=True)
    # whole numbers: exact in any order
    tpw_sum = np.bincount(group, weights=np.nan_to_num(exp["tpw"].to_numpy(dtype=float)))
    done = np.bincount(group, weights=exp["done"].to_numpy(dtype=np.int64)).astype(np.int64)
    prescribed = tpw_sum / 7  # integer sum first: full weeks give exact values
    capped = np.minimum(done.astype(float), prescribed)
    with np.errstate(invalid="ignore", divide="ignore"):
        adherence = capped / prescribed
    pw, e = keys // n_e, keys % n_e
    out = pd.DataFrame(
        {
            "patient_id": pd.array(np.asarray(p_names)[pw // n_w], dtype="str"),
            "week": datetimes(w0 + (pw % n_w) * 7),
            "exercise_id": pd.array(np.asarray(e_names)[e], dtype="str"),
            "days": np.bincount(group, minlength=len(keys)).astype(np.int64),
            "prescribed": prescribed,
            "done": done,
            "done_capped": capped,
            "adherence": adherence,
            "adherent": adherence >= ADHERENT - EPS,
        }
    )
    return out


def adherence_by_exercise(
    prescriptions: pd.DataFrame,
    items: pd.DataFrame,
    start: Any,
    end: Any,
    *,
    in_force: InForce | None = None,
) -> pd.DataFrame:
    """Per (patient, week, exercise) of [start, end]: days in force, prescribed, done, capped,
    adherence.

    Optional in_force (in_force_days over a period holding [start, end]) saves expanding
    the prescriptions again."""
    return by_exercise(_in_force(prescriptions, items, as_day(start), as_day(end), in_force))


def weekly_totals(per_exercise: pd.DataFrame) -> pd.DataFrame:
    """Per (patient, week): prescribed and capped done summed over exercises, adherence, adherent.

    per_exercise: by_exercise's frame (sorted by patient and week)."""
    cols = {
        "patient_id": "str",
        "week": "datetime64[ns]",
        "prescribed": "float64",
        "done": "float64",
        "adherence": "float64",
        "adherent": "bool",
    }
    if per_exercise.empty:
        return empty(cols)
    p_code, p_names = pd.factorize(per_exercise["patient_id"], sort=True)
    week = day_numbers(per_exercise["week"])
    # one int64 key per (patient, week): the week counted from the earliest, so that it is
    # never negative (weeks before 1970 have negative day numbers, which would borrow from
    # the patient's bits)
    w0 = int(week.min())
    key = p_code.astype(np.int64) * (1 << 32) + (week - w0)
    keys, group = np.unique(key, return_inverse=True)
    prescribed = np.bincount(group, weights=per_exercise["prescribed"].to_numpy())
    done = np.bincount(group, weights=per_exercise["done_capped"].to_numpy())
    has = prescribed > 0
    adherence = np.where(has, done / np.where(has, prescribed, 1.0), np.nan)
    return pd.DataFrame(
        {
            "patient_id": pd.array(np.asarray(p_names)[keys >> 32], dtype="str"),
            "week": datetimes((keys & ((1 << 32) - 1)) + w0),
            "prescribed": prescribed,
            "done": done,
            "adherence": adherence,
            "adherent": np.where(np.isnan(adherence), -1.0, adherence) >= ADHERENT - EPS,
        }
    )


def adherence_per_patient(weekly: pd.DataFrame) -> pd.Series:
    """Adherence over a whole period per patient: sum of weekly capped done / sum of prescribed
    (NaN if none)."""
    if weekly is None or weekly.empty:
        return pd.Series([], dtype="float64")
    pid = (
        weekly["patient_id"]
        if "patient_id" in weekly.columns
        else pd.Series("", index=weekly.index, dtype="str")
    )
    p_code, p_names = pd.factorize(pid, sort=True)
    prescribed = np.bincount(p_code, weights=weekly["prescribed"].to_numpy(dtype=float))
    done = np.bincount(p_code, weights=weekly["done"].to_numpy(dtype=float))
    has = prescribed > 0
    return pd.Series(
        np.where(has, done / np.where(has, prescribed, 1.0), np.nan),
        index=pd.Index(p_names, dtype="str"),
        dtype="float64",
    )


ADHERENCE_DROP = 0.30  # a fall of 30 percentage points between the two halves (see below)


def adherence_falling(in_force: InForce, days: int = 7) -> pd.DataFrame:
    """Per patient (indexed by patient_id): adherence over the last `days` days of in_force
    (recent) and over the `days` before them (earlier), and whether it is falling.

    Each part is judged like a week of by_exercise, with the part in place of the calendar
    week: per exercise min(done, prescribed) over the part's prescription, summed over the
    exercises (weekly_totals). Falling: recent is below ADHERENT (80 %) and at least
    ADHERENCE_DROP (30 percentage points) below earlier; a patient with nothing prescribed
    in either part is not judged. The 30 points is this project's choice, not a validated
    threshold: it marks a change a physiotherapist would want to ask about (e.g. from 100 %
    to 70 %, two missed sessions a week at 7x/week), while a steady, lower adherence is shown
    but not flagged. in_force must cover at least 2 * days days (the last ones are used)."""
    cols = {"earlier": "float64", "recent": "float64", "falling": "bool"}
    end = in_force.end
    start = end - pd.Timedelta(days=2 * days - 1)
    if start < in_force.start:
        raise ValueError(
            f"period: {start.date()}..{end.date()} is longer than the expanded "
            f"{in_force.start.date()}..{in_force.end.date()}"
        )
    both = in_force.between(start, end)
    if both.frame.empty:
        return empty({"patient_id": "str", **cols}).set_index("patient_id")
    # each row's part (its first day) where by_exercise reads the week
    first = day_numbers([start])[0]
    day = day_numbers(both.frame["day"])
    part = first + np.where(day >= first + days, days, 0)
    parts = InForce(
        both.start,
        both.end,
        both.frame.assign(week=datetimes(part)),
        both.patient_code,
        both.exercise_code,
        both.patients,
        both.exercises,
    )
    totals = weekly_totals(by_exercise(parts))
    recent_part = totals["week"] == pd.Timestamp(datetimes([first + days])[0])
    pid = totals["patient_id"].astype(str)
    adherence = totals["adherence"].to_numpy(dtype=float)
    out = pd.DataFrame(
        {
            "earlier": pd.Series(adherence[~recent_part.to_numpy()], index=pid[~recent_part]),
            "recent": pd.Series(adherence[recent_part.to_numpy()], index=pid[recent_part]),
        }
    ).astype({"earlier": "float64", "recent": "float64"})
    out.index = pd.Index(out.index.astype(str), dtype="str", name="patient_id")
    drop = (out["earlier"] - out["recent"]).to_numpy(dtype=float)
    recent = out["recent"].to_numpy(dtype=float)
    with np.errstate(invalid="ignore"):
        out["falling"] = (recent < ADHERENT - EPS) & (drop >= ADHERENCE_DROP - EPS)
    return out


def period_adherence(weekly: pd.DataFrame) -> float | None:
    """One patient's adherence over a period (adherence_per_patient), or None if nothing was
    prescribed."""
    one_patient(weekly)
    a = adherence_per_patient(weekly)
    if a.empty or pd.isna(a.iloc[0]):
        return None
    return float(a.iloc[0])


def weekly_adherence(
    prescriptions: pd.DataFrame,
    items: pd.DataFrame,
    start: Any,
    end: Any,
    *,
    in_force: InForce | None = None,
) -> pd.DataFrame:
    """One patient's calendar weeks of [start, end]: exercise and session adherence (NaN if
    nothing prescribed).

    Columns WEEKLY_COLUMNS. Exercise columns come from weekly_totals (the figures the
    clinic overview uses); session adherence as in the module docstring."""
    one_patient(prescriptions, items)
    lo, hi = as_day(start), as_day(end)
    if hi < lo:
        return empty(WEEKLY_COLUMNS)
    cal = np.arange(day_numbers([lo])[0], day_numbers([hi])[0] + 1)
    weeks, days = np.unique(monday(cal), return_counts=True)
    n = len(weeks)
    prescribed, done = np.zeros(n), np.zeros(n)
    days_in_force = np.zeros(n, dtype=np.int64)
    tpw_max: np.ndarray = np.zeros(n)
    sessions: np.ndarray = np.zeros(n)

    f = _in_force(prescriptions, items, lo, hi, in_force)
    exp = f.frame
    if len(exp):
        wt = weekly_totals(by_exercise(f))
        if len(wt):
            at = (day_numbers(wt["week"]) - weeks[0]) // 7
            prescribed[at], done[at] = wt["prescribed"].to_numpy(), wt["done"].to_numpy()
        # sessions: per in-force day, max(times_per_week) / 7 prescribed sessions and the
        # number of sessions with an in-force exercise done
        day = day_numbers(exp["day"])
        in_force_day, of_day = np.unique(day, return_inverse=True)
        day_max = np.full(len(in_force_day), np.nan)
        np.fmax.at(day_max, of_day, exp["tpw"].to_numpy(dtype=float))
        day_sessions = np.zeros(len(in_force_day))
        if items is not None and not items.empty:
            # exercises as the in-force rows' codes (into f.exercises, sorted names)
            width = len(f.exercises) + 1
            in_force_keys = day * width + f.exercise_code
            i_day = day_numbers(items["day"])
            i_code = codes(items["exercise_id"].fillna(""), f.exercises)
            sid, sids = pd.factorize(items["session_id"])
            ok = (
                done_rows(items)
                & (i_code >= 0)
                & (sid >= 0)
                & np.isin(i_day * width + i_code, in_force_keys)
            )
            pairs = np.unique(i_day[ok] * len(sids) + sid[ok])
            with_session, count = np.unique(pairs // max(len(sids), 1), return_counts=True)
            day_sessions[np.searchsorted(in_force_day, with_session)] = count
        at = (monday(in_force_day) - weeks[0]) // 7
        days_in_force = np.bincount(at, minlength=n).astype(np.int64)
        tpw_max = np.bincount(at, weights=np.nan_to_num(day_max), minlength=n)
        sessions = np.bincount(at, weights=day_sessions, minlength=n)
    sessions_prescribed = tpw_max / 7
    sessions_done = np.minimum(sessions, sessions_prescribed)
    has = prescribed > 0
    adherence = np.where(has, done / np.where(has, prescribed, 1.0), np.nan)
    has_s = sessions_prescribed > 0
    return pd.DataFrame(
        {
            "week": datetimes(weeks),
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


def daily_completion(
    prescriptions: pd.DataFrame,
    items: pd.DataFrame,
    start: Any,
    end: Any,
    *,
    in_force: InForce | None = None,
) -> pd.DataFrame:
    """One row per calendar day: exercises due (in force), distinct exercises done, share done
    (NaN if none due).

    Method: share = in-force exercises ticked done that day / exercises in force that day
    (not adjusted for times_per_week: an exercise prescribed 3x/week is "due" every day
    here, so a pale day is not necessarily a missed one; weekly_adherence accounts for it)."""
    one_patient(prescriptions, items)
    lo, hi = as_day(start), as_day(end)
    cols = {"day": "datetime64[ns]", "due": "int64", "done": "int64", "share": "float64"}
    if hi < lo:
        return empty(cols)
    exp = _in_force(prescriptions, items, lo, hi, in_force).frame
    d_lo, d_hi = day_numbers([lo])[0], day_numbers([hi])[0]
    at = day_numbers(exp["day"]) - d_lo
    due = np.bincount(at, minlength=d_hi - d_lo + 1)
    done = np.bincount(at, weights=exp["done"].to_numpy() > 0, minlength=len(due)).astype(np.int64)
    share = np.where(due > 0, done / np.where(due > 0, due, 1), np.nan)
    return pd.DataFrame(
        {
            "day": datetimes(np.arange(d_lo, d_hi + 1)),
            "due": due.astype(np.int64),
            "done": done,
            "share": share,
        }
    )


def adherence_by_month(weekly: pd.DataFrame) -> pd.DataFrame:
    """Weekly adherence regrouped by the month of each week's Monday: month, prescribed, done,
    adherence, adherent."""
    cols = {
        "month": "datetime64[ns]",
        "prescribed": "float64",
        "done": "float64",
        "adherence": "float64",
        "adherent": "bool",
    }
    if weekly is None or weekly.empty:
        return empty(cols)
    w = weekly.assign(month=weekly["week"].dt.to_period("M").dt.to_timestamp())
    g = w.groupby("month").agg(prescribed=("prescribed", "sum"), done=("done", "sum")).reset_index()
    has = g["prescribed"] > 0
    g["adherence"] = np.where(has, g["done"] / g["prescribed"].where(has, 1.0), np.nan)
    g["adherent"] = g["adherence"].fillna(-1) >= ADHERENT - EPS
    return typed_as(g, cols)


# ---- habit strength and streaks -------------------------------------------------------------
def _trailing_sums(m: np.ndarray, days: int) -> np.ndarray:
    """Per row, the column sums of that row and the days - 1 rows before it (whole numbers:
    exact)."""
    c = np.vstack([np.zeros((1, m.shape[1])), np.cumsum(m, axis=0)])
    out: np.ndarray = c[1:] - c[np.maximum(np.arange(1, len(c)) - days, 0)]
    return out


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

    Method: see the module docstring ("Habit strength"); days before `start` are not used."""
    one_patient(prescriptions, items)
    if half_life <= 0:
        raise ValueError(f"half_life: {half_life!r} must be a positive number of days")
    lo, hi = as_day(start), as_day(end)
    cols = {"day": "datetime64[ns]", "completion": "float64", "habit": "float64"}
    if hi < lo:
        return empty(cols)
    cal = pd.date_range(lo, hi, freq="D", name="day")
    exp = _in_force(prescriptions, items, lo, hi, in_force).frame
    if exp.empty:
        return pd.DataFrame({"day": cal, "completion": np.nan, "habit": 0.0}).astype(cols)
    e_code, names = pd.factorize(exp["exercise_id"], sort=True)
    ok = e_code >= 0
    at = day_numbers(exp["day"])[ok] - day_numbers([lo])[0]
    tpw = np.zeros((len(cal), len(names)))
    done = np.zeros((len(cal), len(names)))
    np.add.at(tpw, (at, e_code[ok]), np.nan_to_num(exp["tpw"].to_numpy(dtype=float)[ok]))
    np.add.at(done, (at, e_code[ok]), exp["done"].to_numpy(dtype=float)[ok])
    presc_w = _trailing_sums(tpw, HABIT_WINDOW_DAYS) / 7
    done_w = _trailing_sums(done, HABIT_WINDOW_DAYS)
    capped = _sum_columns(np.minimum(done_w, presc_w))
    presc = _sum_columns(presc_w)
    x = np.where(presc > EPS, capped / np.where(presc > EPS, presc, 1.0), np.nan)
    alpha = 1 - 2 ** (-1 / half_life)
    h, habit = 0.0, np.empty(len(cal))
    for i, xi in enumerate(x.tolist()):
        if not math.isnan(xi):
            h += alpha * (min(1.0, xi) - h)
        habit[i] = h
    return typed_as(pd.DataFrame({"day": cal, "completion": x, "habit": habit}), cols)


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

    Method: see the module docstring ("Streaks")."""
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


# ---- day statuses (the week strip) ----------------------------------------------------------
DONE, PARTLY, REST, MISSED, NOTHING, OPEN, UPCOMING = (
    "done",
    "partly",
    "rest",
    "missed",
    "nothing",
    "open",
    "upcoming",
)
DAY_STATUSES = (DONE, PARTLY, REST, MISSED, NOTHING, OPEN, UPCOMING)
DAY_COLUMNS = {
    "day": "datetime64[ns]",
    "status": "str",
    "exercises": "int64",
    "ticked": "int64",
    "missing": "int64",
}


def day_statuses(
    prescriptions: pd.DataFrame,
    items: pd.DataFrame,
    start: Any,
    end: Any,
    today: Any = None,
    *,
    in_force: InForce | None = None,
) -> pd.DataFrame:
    """One row per day of [start, end]: its status (DAY_STATUSES), exercises in force, in-force
    exercises ticked, exercises missing.

    Method: see the module docstring ("Day status"). Spare days are counted over whole
    calendar weeks, so items must hold the weeks of start and end from their Monday.
    today (the person's local date; None: every day is judged as over) makes today "open"
    while nothing is ticked and later days "upcoming"."""
    one_patient(prescriptions, items)
    lo, hi = as_day(start), as_day(end)
    if hi < lo:
        return empty(DAY_COLUMNS)
    d_lo, d_hi = day_numbers([lo])[0], day_numbers([hi])[0]
    w_lo, w_hi = monday(d_lo), monday(d_hi) + 6
    n_days = d_hi - d_lo + 1
    exercises = np.zeros(n_days, dtype=np.int64)
    ticked = np.zeros(n_days, dtype=np.int64)
    missing = np.zeros(n_days, dtype=np.int64)
    f = _in_force(prescriptions, items, datetimes([w_lo])[0], datetimes([w_hi])[0], in_force)
    exp = f.frame
    if len(exp):
        day = day_numbers(exp["day"])
        e_code = f.exercise_code.astype(np.int64)
        tick = exp["done"].to_numpy(dtype=np.int64) > 0
        tpw = np.nan_to_num(exp["tpw"].to_numpy(dtype=float))
        # rows in (exercise, day) order: each (week, exercise) is one run of rows
        order = np.lexsort((day, e_code))
        day, e_code, tick, tpw = day[order], e_code[order], tick[order], tpw[order]
        key = e_code * (1 << 32) + monday(day)
        first = segment_starts(key)
        group = np.cumsum(np.isin(np.arange(len(key)), first)) - 1
        days_in = np.bincount(group).astype(np.int64)
        asked = np.floor(np.bincount(group, weights=tpw) / 7 + 0.5 + EPS).astype(np.int64)
        spare = days_in - np.minimum(asked, days_in)
        left_out = (~tick).astype(np.int64)
        # days without a tick so far in the run (this one included)
        so_far = np.cumsum(left_out) - np.repeat(
            np.cumsum(left_out)[first] - left_out[first], days_in
        )
        short = (~tick) & (so_far > spare[group])
        inside = (day >= d_lo) & (day <= d_hi)
        at = day[inside] - d_lo
        exercises = np.bincount(at, minlength=n_days).astype(np.int64)
        ticked = np.bincount(at, weights=tick[inside], minlength=n_days).astype(np.int64)
        missing = np.bincount(at, weights=short[inside], minlength=n_days).astype(np.int64)
    status = np.where(
        ticked > 0, np.where(missing > 0, PARTLY, DONE), np.where(missing > 0, MISSED, REST)
    ).astype(object)
    if today is not None:
        t = day_numbers([as_day(today)])[0]
        cal = np.arange(d_lo, d_hi + 1)
        status[(cal == t) & (ticked == 0)] = OPEN
        status[cal > t] = UPCOMING
        missing[cal > t] = 0  # not judged yet
    status[exercises == 0] = NOTHING
    return pd.DataFrame(
        {
            "day": datetimes(np.arange(d_lo, d_hi + 1)),
            "status": pd.array(status.astype(str), dtype="str"),
            "exercises": exercises,
            "ticked": ticked,
            "missing": missing,
        }
    )


# ---- this week at a glance ------------------------------------------------------------------
@dataclass(frozen=True)
class WeekProgress:
    """This week's sessions and exercises against the prescription, and the weekly streak."""

    week_start: Any
    week_end: Any
    sessions_done: float
    sessions_prescribed: float
    exercises_done: float
    exercises_prescribed: float
    streak: Streaks
    day: Any = None  # the day the progress was read on (None: the week's end)

    @property
    def days_left(self) -> int:
        """Days of the week after `day` (0 once the week is over)."""
        if self.day is None:
            return 0
        return max(0, int((self.week_end - self.day).days))

    @property
    def adherence(self) -> float | None:
        """Exercises done over prescribed this week (None if nothing is prescribed)."""
        if not self.exercises_prescribed:
            return None
        return self.exercises_done / self.exercises_prescribed


def week_progress(prescriptions: pd.DataFrame, items: pd.DataFrame, day: Any) -> WeekProgress:
    """This week's (Monday to Sunday) progress and the current streak, from weekly_adherence and
    streaks.

    items must hold the history since the first programme for the streak to be right (done
    counts are capped at what was prescribed; the week in progress neither extends nor
    breaks the streak)."""
    one_patient(prescriptions, items)
    d = as_day(day)
    week = d - pd.Timedelta(days=d.weekday())
    week_end = week + pd.Timedelta(days=6)
    this = weekly_adherence(prescriptions, items, week, week_end)
    row = this.iloc[0] if len(this) else None
    first = prescriptions["valid_from"].min() if len(prescriptions) else pd.NaT
    start = min(first, week) if not pd.isna(first) else week
    history = items[pd.to_datetime(items["day"]) >= start] if len(items) else items
    streak = streaks(weekly_adherence(prescriptions, history, start, d))

    def get(col: str) -> float:
        return float(row[col]) if row is not None else 0.0

    return WeekProgress(
        week.date(),
        week_end.date(),
        get("sessions_done"),
        get("sessions_prescribed"),
        get("done"),
        get("prescribed"),
        streak,
        d.date(),
    )
