"""Pain: daily means, flare-ups, stability and red-flag counts (the trend: analysis.change).

Every function here takes frames of one patient or many (see analysis.calendar); the
clinic overview and one patient's dashboard call the same functions.

Methods
* Daily pain (``daily_pain``, ``daily_from_sums``). Mean of all pain scores of the day:
  ``pain_before`` of the sessions plus standalone scores, each weighing the same.
  ``pain_after`` is a separate series. Rolling mean: mean of the daily means of the 7
  calendar days ending that day, shown when at least 3 of them have a score.
* Flare-ups (``flare_ups``) are episodes, not days. An episode starts on a day whose daily
  mean pain is >= 2 points (FLARE_POINTS, the minimal important change of Ostelo et al.,
  Spine 2008) above its baseline: the MEDIAN of the daily means of the 14 calendar days
  before that day (FLARE_BASELINE_DAYS; at least 4 of them scored, and all 14 inside the
  data read, otherwise the day is not judged). The baseline is fixed at the start, so
  a long flare cannot raise its own baseline (a trailing mean absorbs it: a six-day
  flare 3 -> 7 used to count as four "flare days"); the median also ignores one
  stray high or low day. The episode goes on while the scored days stay >= baseline + 2;
  up to 2 days without a score (FLARE_MAX_GAP_DAYS) do not end it; the first scored day
  below ends it. It counts when it lasts >= 2 calendar days (FLARE_MIN_DAYS: one bad day
  is not a flare). Reported: start, end, days, peak (the highest daily mean), baseline,
  and ongoing (nothing after its last day shows it ended). Sources: Costa N et al., J Pain
  2019;20(11):1267-75 (consensus: "a worsening of your condition that lasts from hours to
  weeks"); Setchell J et al., Scand J Pain 2017;17:64-9 (people with low back pain say a
  flare is more than a rise in pain: an increase that lasts); Costa N et al., Clin J Pain
  2021 (pain-defined flares: days with pain above the person's own usual level). The
  2-point rise, the 14-day median and the 2-day minimum are backcare's operational choice
  for a daily 0-10 diary, not a published cut-off: a self-reported flare can exist without
  such a rise (Costa 2021), so a patient's "flare-up" notes on the timeline count too
  (analysis.progression).
* Pain stable or falling (``pain_stability``), over the 14 days ending on a day: the mean
  of the last 7 days' daily means is at most 0.5 points above the mean of the 7 days
  before, each half with >= 3 days with a score.
* Red flags (``red_flag_counts``): sessions with any red-flag symptom ticked.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from backcare.analysis.calendar import (
    EPS,
    as_day,
    datetimes,
    day_numbers,
    empty,
    monday,
    one_patient,
    patient_ids,
    period,
    segment_starts,
    typed_as,
)
from backcare.analysis.change import MCID_POINTS

ROLLING_DAYS = 7
ROLLING_MIN_DAYS = 3
FLARE_POINTS = MCID_POINTS  # a rise as large as the minimal important change
FLARE_BASELINE_DAYS = 14  # the flare's baseline: the median of the 14 days before it
FLARE_MIN_PRIOR_DAYS = 4  # ... of which at least 4 have a score
FLARE_MIN_DAYS = 2  # an episode lasts at least 2 calendar days
FLARE_MAX_GAP_DAYS = 2  # up to 2 days without a score inside an episode do not end it
FLARE_LOOKBACK_DAYS = FLARE_BASELINE_DAYS  # read before a window to judge its flares
STABILITY_WINDOW_DAYS = 14
STABILITY_MIN_HALF_DAYS = 3
PAIN_STABLE_TOLERANCE = 0.5
WEEK_MIN_PAIN_DAYS = 3


SUMS_COLUMNS = ("patient_id", "day", "pain_sum", "pain_n", "sessions")
DAILY_COLUMNS = {
    "patient_id": "str",
    "day": "datetime64[ns]",
    "pain": "float64",
    "n_scores": "int64",
    "pain_after": "float64",
    "n_after": "int64",
    "sessions": "int64",
    "red_flag_sessions": "int64",
    "rolling": "float64",
}


# ---- daily pain ------------------------------------------------------------------------------
def _num(frame: pd.DataFrame, col: str) -> np.ndarray:
    if col not in frame.columns:
        return np.zeros(len(frame))
    return frame[col].to_numpy(dtype=float, na_value=np.nan)


def daily_from_sums(
    sums: pd.DataFrame | None, start: Any = None, end: Any = None, *, every_day: bool = True
) -> pd.DataFrame:
    """Per patient, one row per calendar day of [start, end] (each bound defaulting to the
    patient's data).

    sums: per (patient, day) rows with pain_sum, pain_n (scores and their count), sessions
    and optionally after_sum, after_n, red_flag_sessions, as daily_summary stores them (days
    may repeat: they are added). Columns DAILY_COLUMNS; pain = pain_sum / pain_n. With
    every_day=False only the days present in sums are returned (and rolling is NaN): enough
    for pain_trends, which reads scored days only."""
    if not every_day:
        return _days_present(sums)
    if sums is None or sums.empty:
        if start is None or end is None:
            return empty(DAILY_COLUMNS)
        sums = pd.DataFrame({"day": pd.Series([], dtype="datetime64[ns]")})
    names = ("pain_sum", "pain_n", "after_sum", "after_n", "sessions", "red_flag_sessions")
    return _daily(
        patient_ids(sums).to_numpy(dtype=object),
        sums["day"].to_numpy(dtype="datetime64[ns]"),
        {c: np.nan_to_num(_num(sums, c)) for c in names},
        start,
        end,
    )


def _daily(
    ids: np.ndarray, days: np.ndarray, sums: dict[str, np.ndarray], start: Any, end: Any
) -> pd.DataFrame:
    """daily_from_sums on arrays: each row's patient id, day (datetime64[ns]) and sums (NaN
    read as 0)."""
    p_code, found = pd.factorize(ids, sort=True)
    p_names = pd.Index(found if len(found) else [""], dtype=object)
    d = day_numbers(days)
    ok = ~np.isnat(days)
    n_pat = len(p_names)
    lo_all = np.full(n_pat, np.iinfo(np.int64).max)
    hi_all = np.full(n_pat, np.iinfo(np.int64).min)
    np.minimum.at(lo_all, p_code[ok], d[ok])
    np.maximum.at(hi_all, p_code[ok], d[ok])
    if start is not None:
        lo_all[:] = day_numbers([as_day(start)])[0]
    if end is not None:
        hi_all[:] = day_numbers([as_day(end)])[0]
    n_days = np.clip(hi_all - lo_all + 1, 0, None)
    offset = np.concatenate([[0], np.cumsum(n_days)])
    total = int(offset[-1])
    # position of each sums row in the concatenated calendars (-1 outside)
    rel = d - lo_all[p_code] if len(p_code) else np.zeros(0, dtype=np.int64)
    inside = ok & (rel >= 0) & (rel < n_days[p_code] if len(p_code) else ok)
    at = np.where(inside, offset[p_code] + rel, -1)

    def add(col: str) -> np.ndarray:
        v = sums[col]
        return np.bincount(at[inside], weights=v[inside], minlength=total)

    pain_sum, pain_n = add("pain_sum"), add("pain_n")
    after_sum, after_n = add("after_sum"), add("after_n")
    with np.errstate(invalid="ignore", divide="ignore"):
        pain = np.where(pain_n > 0, pain_sum / np.where(pain_n > 0, pain_n, 1), np.nan)
        pain_after = np.where(after_n > 0, after_sum / np.where(after_n > 0, after_n, 1), np.nan)
    patient = np.repeat(np.arange(n_pat), n_days)
    day = np.repeat(lo_all, n_days) + (np.arange(total) - np.repeat(offset[:-1], n_days))
    return pd.DataFrame(
        {
            "patient_id": pd.array(np.asarray(p_names)[patient], dtype="str"),
            "day": datetimes(day),
            "pain": pain,
            "n_scores": pain_n.astype(np.int64),
            "pain_after": pain_after,
            "n_after": after_n.astype(np.int64),
            "sessions": add("sessions").astype(np.int64),
            "red_flag_sessions": add("red_flag_sessions").astype(np.int64),
            "rolling": _trailing_mean(
                pain, patient, ROLLING_DAYS, ROLLING_MIN_DAYS, include_today=True
            ),
        }
    )


def _days_present(sums: pd.DataFrame | None) -> pd.DataFrame:
    """daily_from_sums for the (patient, day) pairs present in sums only."""
    if sums is None or sums.empty:
        return empty(DAILY_COLUMNS)
    cols = ["pain_sum", "pain_n", "after_sum", "after_n", "sessions", "red_flag_sessions"]
    day = sums["day"].to_numpy(dtype="datetime64[ns]")
    p_code, p_names = pd.factorize(patient_ids(sums), sort=True)
    ok = ~np.isnat(day) & (p_code >= 0)  # rows without a day are left out
    if not ok.any():
        return empty(DAILY_COLUMNS)
    d = day_numbers(day[ok])
    d0 = int(d.min())
    span = int(d.max()) - d0 + 1
    # one int64 key per (patient, day), in patient then day order
    keys, group = np.unique(p_code[ok].astype(np.int64) * span + (d - d0), return_inverse=True)
    total = {c: np.bincount(group, np.nan_to_num(_num(sums, c))[ok], len(keys)) for c in cols}
    n, a_n = total["pain_n"], total["after_n"]
    with np.errstate(invalid="ignore", divide="ignore"):
        pain = np.where(n > 0, total["pain_sum"] / np.where(n > 0, n, 1), np.nan)
        after = np.where(a_n > 0, total["after_sum"] / np.where(a_n > 0, a_n, 1), np.nan)
    out = pd.DataFrame(
        {
            "patient_id": pd.array(np.asarray(p_names)[keys // span], dtype="str"),
            "day": datetimes(d0 + keys % span),
            "pain": pain,
            "n_scores": n.astype(np.int64),
            "pain_after": after,
            "n_after": a_n.astype(np.int64),
            "sessions": total["sessions"].astype(np.int64),
            "red_flag_sessions": total["red_flag_sessions"].astype(np.int64),
            "rolling": np.nan,
        }
    )
    return typed_as(out, DAILY_COLUMNS)


def _trailing_mean(
    values: np.ndarray, segment: np.ndarray, days: int, min_days: int, *, include_today: bool
) -> np.ndarray:
    """Per position, the mean of the non-NaN values among the `days` positions ending there
    (or just before it), within its segment; NaN with fewer than min_days values."""
    mean, count = _trailing_sum_count(values, segment, days, include_today=include_today)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count >= min_days, mean / np.where(count > 0, count, 1), np.nan)


def _trailing_sum_count(
    values: np.ndarray, segment: np.ndarray, days: int, *, include_today: bool
) -> tuple[np.ndarray, np.ndarray]:
    """Per position: sum and count of the non-NaN values in the trailing window within the
    segment."""
    n = len(values)
    if n == 0:
        return np.zeros(0), np.zeros(0, dtype=np.int64)
    has = ~np.isnan(values)
    cs = np.concatenate([[0.0], np.cumsum(np.where(has, values, 0.0))])
    cn = np.concatenate([[0], np.cumsum(has)])
    pos = np.arange(n)
    starts = segment_starts(segment)
    seg_start = np.repeat(starts, np.diff(np.append(starts, n)))
    hi = pos + 1 if include_today else pos
    lo = np.maximum(hi - days, seg_start)
    return cs[hi] - cs[lo], cn[hi] - cn[lo]


def daily_pain(
    sessions: pd.DataFrame | None, pain: pd.DataFrame | None, start: Any = None, end: Any = None
) -> pd.DataFrame:
    """Per patient, one row per calendar day of [start, end]: mean pain, counts, pain after,
    sessions, rolling mean.

    Method: see the module docstring ("Daily pain"); sessions and pain scores are summed per
    day and passed to daily_from_sums. Missing bounds are taken from the data. Source:
    self-reported 0-10 scores."""
    s = sessions if sessions is not None else pd.DataFrame(columns=["day", "pain_before"])
    p = pain if pain is not None else pd.DataFrame(columns=["day", "score"])
    if period(start, end, s.get("day"), p.get("day")) is None:
        return empty(DAILY_COLUMNS)
    flags = (
        (s["red_flags"].fillna("").astype(str) != "").to_numpy(dtype=float)
        if "red_flags" in s.columns
        else np.zeros(len(s))
    )
    before, after = _num(s, "pain_before"), _num(s, "pain_after")
    score = _num(p, "score")
    day = np.concatenate(
        [s["day"].to_numpy(dtype="datetime64[ns]"), p["day"].to_numpy(dtype="datetime64[ns]")]
    )
    # rows whose day is not a whole date belong to no day
    whole = day == day.astype("datetime64[D]").astype("datetime64[ns]")
    columns = {
        "pain_sum": np.concatenate([np.nan_to_num(before), np.nan_to_num(score)]),
        "pain_n": np.concatenate([~np.isnan(before), ~np.isnan(score)]).astype(float),
        "after_sum": np.concatenate([np.nan_to_num(after), np.zeros(len(p))]),
        "after_n": np.concatenate([~np.isnan(after), np.zeros(len(p))]).astype(float),
        "sessions": np.concatenate([np.ones(len(s)), np.zeros(len(p))]),
        "red_flag_sessions": np.concatenate([flags, np.zeros(len(p))]),
    }
    ids = np.concatenate(
        [patient_ids(s).to_numpy(dtype=object), patient_ids(p).to_numpy(dtype=object)]
    )
    if not whole.any():
        return daily_from_sums(empty({"day": "datetime64[ns]"}), start, end)  # no patient's days
    return _daily(ids[whole], day[whole], {c: v[whole] for c, v in columns.items()}, start, end)


# ---- trend against the MCID ------------------------------------------------------------------
# ---- flare-ups ------------------------------------------------------------------------------
FLARE_COLUMNS = {
    "patient_id": "str",
    "start": "datetime64[ns]",
    "end": "datetime64[ns]",
    "days": "int64",
    "peak": "float64",
    "baseline": "float64",
    "baseline_days": "int64",
    "ongoing": "bool",
}


def _calendar(daily: pd.DataFrame, col: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, pd.Index]:
    """(patient codes, day numbers, values) on every calendar day of each patient's range, in
    order, and the sorted patient ids the codes point into."""
    day = daily["day"].to_numpy(dtype="datetime64[ns]")
    ok = ~np.isnat(day)
    p_code, found = pd.factorize(patient_ids(daily).to_numpy(dtype=object)[ok], sort=True)
    names = pd.Index(np.asarray(found, dtype=object), dtype="str")
    d, v = day_numbers(day[ok]), _num(daily, col)[ok]
    step_p, step_d = np.diff(p_code), np.diff(d)
    in_order = bool(np.all((step_p > 0) | ((step_p == 0) & (step_d > 0))))
    if not in_order:
        order = np.lexsort((d, p_code))
        p_code, d, v = p_code[order], d[order], v[order]
        first = np.concatenate([[True], (np.diff(p_code) != 0) | (np.diff(d) != 0)])
        p_code, d, v = p_code[first], d[first], v[first]  # one row per (patient, day)
        step_p, step_d = np.diff(p_code), np.diff(d)
    starts = segment_starts(p_code)
    if len(d) and bool(np.all((step_p != 0) | (step_d == 1))):
        return p_code, d, v, names  # already whole calendars
    ends = np.append(starts[1:], len(d)) - 1
    n = d[ends] - d[starts] + 1
    off = np.concatenate([[0], np.cumsum(n)])
    patient = np.repeat(np.arange(len(starts)), n)
    days = np.repeat(d[starts], n) + (np.arange(off[-1]) - np.repeat(off[:-1], n))
    values = np.full(off[-1], np.nan)
    values[off[p_code] + (d - d[starts][p_code])] = v
    return patient, days, values, names


def _prior_median(
    values: np.ndarray, patient: np.ndarray, days: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per calendar position: (median of the scored values among the `days` positions before
    it, how many were scored, whether all `days` positions lie in the patient's calendar)."""
    n = len(values)
    prior = np.full((n, days), np.nan)
    covered = np.ones(n, dtype=bool)
    for k in range(1, days + 1):
        same = np.zeros(n, dtype=bool)
        if k < n:
            same[k:] = patient[k:] == patient[:-k]
            prior[k:, k - 1] = np.where(same[k:], values[:-k], np.nan)
        covered &= same
    count = (~np.isnan(prior)).sum(axis=1)
    # np.nanmedian, row by row: sorting puts NaN last, so a row's scored values are its
    # first `count`; the median is the mean of the two middle ones (the same one when odd)
    ranked = np.sort(prior, axis=1)
    rows = np.arange(n)
    low, high = np.maximum(count - 1, 0) // 2, count // 2
    median = np.where(count > 0, (ranked[rows, low] + ranked[rows, high]) / 2, np.nan)
    return median, count, covered


def flare_ups(daily: pd.DataFrame) -> pd.DataFrame:
    """Flare-up episodes per patient (columns FLARE_COLUMNS): start, end, days, peak, the
    baseline they were judged against, and whether still going on the last day.

    Method: see the module docstring ("Flare-ups"). daily: rows of daily_pain /
    daily_from_sums for any number of patients (missing days count as days without a
    score). Rows sorted by patient and start."""
    if daily is None or daily.empty:
        return empty(FLARE_COLUMNS)
    patient, day, pain, names = _calendar(daily, "pain")
    median, count, covered = _prior_median(pain, patient, FLARE_BASELINE_DAYS)
    threshold = median + FLARE_POINTS - EPS
    with np.errstate(invalid="ignore"):
        candidate = (
            ~np.isnan(pain) & covered & (count >= FLARE_MIN_PRIOR_DAYS) & (pain >= threshold)
        )
    rows: dict[str, list[Any]] = {c: [] for c in FLARE_COLUMNS}
    n = len(pain)
    busy_until = -1  # the position up to which an episode already holds the days
    for i in np.flatnonzero(candidate).tolist():
        if i <= busy_until:
            continue
        p, ref, bar = patient[i], float(median[i]), float(threshold[i])
        last, peak, gap, j = i, float(pain[i]), 0, i + 1
        while j < n and patient[j] == p:
            v = pain[j]
            if np.isnan(v):
                gap += 1
                if gap > FLARE_MAX_GAP_DAYS:
                    break
            elif v >= bar:
                last, peak, gap = j, max(peak, float(v)), 0
            else:
                break
            j += 1
        busy_until = last
        days = int(day[last] - day[i] + 1)
        if days < FLARE_MIN_DAYS:
            continue
        # ongoing: nothing after the episode's last day says it ended
        ongoing = j >= n or patient[j] != p or (np.isnan(pain[j]) and gap <= FLARE_MAX_GAP_DAYS)
        rows["patient_id"].append(names[p])
        rows["start"].append(day[i])
        rows["end"].append(day[last])
        rows["days"].append(days)
        rows["peak"].append(peak)
        rows["baseline"].append(ref)
        rows["baseline_days"].append(int(count[i]))
        rows["ongoing"].append(bool(ongoing))
    return pd.DataFrame(
        {
            "patient_id": pd.array(rows["patient_id"], dtype="str"),
            "start": datetimes(np.asarray(rows["start"], dtype=np.int64)),
            "end": datetimes(np.asarray(rows["end"], dtype=np.int64)),
            "days": np.asarray(rows["days"], dtype=np.int64),
            "peak": np.asarray(rows["peak"], dtype=float),
            "baseline": np.asarray(rows["baseline"], dtype=float),
            "baseline_days": np.asarray(rows["baseline_days"], dtype=np.int64),
            "ongoing": np.asarray(rows["ongoing"], dtype=bool),
        }
    )


def flare_in(flares: pd.DataFrame, start: Any, end: Any) -> np.ndarray:
    """For each flare-up episode (a row of flare_ups): whether any of its days is in [start,
    end]."""
    lo, hi = as_day(start).to_datetime64(), as_day(end).to_datetime64()
    out: np.ndarray = (flares["end"].to_numpy(dtype="datetime64[ns]") >= lo) & (
        flares["start"].to_numpy(dtype="datetime64[ns]") <= hi
    )
    return out


def flares_between(flares: pd.DataFrame, start: Any, end: Any) -> pd.DataFrame:
    """The flare-up episodes (rows of flare_ups) with at least one day in [start, end]."""
    if flares is None or flares.empty:
        return empty(FLARE_COLUMNS)
    return flares[flare_in(flares, start, end)].reset_index(drop=True)


def flare_counts(flares: pd.DataFrame, start: Any, end: Any) -> pd.Series:
    """Per patient: the number of flare-up episodes with at least one day in [start, end]."""
    w = flares_between(flares, start, end)
    return w.groupby(w["patient_id"].astype(str)).size().astype("int64")


def flare_days(flares: pd.DataFrame | None) -> np.ndarray:
    """Every calendar day inside a flare-up episode (datetime64[ns], for one patient's chart)."""
    if flares is None or flares.empty:
        return np.zeros(0, dtype="datetime64[ns]")
    lo = day_numbers(flares["start"])
    n = flares["days"].to_numpy(dtype=np.int64)
    off = np.repeat(lo, n) + (np.arange(n.sum()) - np.repeat(np.cumsum(n) - n, n))
    return datetimes(off)


# ---- stability and red flags over a window ---------------------------------------------------
STABILITY_COLUMNS = {
    "patient_id": "str",
    "early": "float64",
    "late": "float64",
    "early_days": "int64",
    "late_days": "int64",
    "judged": "bool",
    "stable": "bool",
}


def pain_stability(daily: pd.DataFrame, end: Any) -> pd.DataFrame:
    """Per patient: mean daily pain in the two 7-day halves of the 14 days ending on `end`, and
    whether stable.

    Method: see the module docstring ("Pain stable or falling"). judged is False when a
    half has fewer than 3 days with a score (then stable is False too)."""
    hi = as_day(end)
    half = STABILITY_WINDOW_DAYS // 2
    lo = hi - pd.Timedelta(days=STABILITY_WINDOW_DAYS - 1)
    if daily is None or daily.empty:
        return empty(STABILITY_COLUMNS)
    code, found = pd.factorize(patient_ids(daily).to_numpy(dtype=object), sort=True)
    names = pd.Index(np.asarray(found, dtype=object), dtype="str")
    day = daily["day"].to_numpy(dtype="datetime64[ns]")
    pain_all = daily["pain"].to_numpy(dtype=float, na_value=np.nan)
    keep = (day >= lo.to_datetime64()) & (day <= hi.to_datetime64()) & ~np.isnan(pain_all)
    late_mask = day[keep] >= (hi - pd.Timedelta(days=half - 1)).to_datetime64()
    at = code[keep]
    pain = pain_all[keep]

    def half_stats(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        n = np.bincount(at[mask], minlength=len(names))
        total = np.bincount(at[mask], weights=pain[mask], minlength=len(names))
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(n > 0, total / np.where(n > 0, n, 1), np.nan), n

    e_mean, e_n = half_stats(~late_mask)
    l_mean, l_n = half_stats(late_mask)
    judged = (e_n >= STABILITY_MIN_HALF_DAYS) & (l_n >= STABILITY_MIN_HALF_DAYS)
    with np.errstate(invalid="ignore"):
        stable = judged & (l_mean - e_mean <= PAIN_STABLE_TOLERANCE + EPS)
    return pd.DataFrame(
        {
            "patient_id": names,
            "early": e_mean,
            "late": l_mean,
            "early_days": e_n.astype(np.int64),
            "late_days": l_n.astype(np.int64),
            "judged": judged,
            "stable": stable,
        }
    )


def red_flag_counts(daily: pd.DataFrame, start: Any, end: Any) -> pd.Series:
    """Per patient: sessions in [start, end] with a red-flag symptom ticked (index patient_id)."""
    if daily is None or daily.empty:
        return pd.Series([], dtype="int64")
    lo, hi = as_day(start), as_day(end)
    w = daily[(daily["day"] >= lo) & (daily["day"] <= hi)]
    names = pd.Index(sorted(pd.unique(patient_ids(daily))), dtype="str")
    return (
        w["red_flag_sessions"]
        .groupby(patient_ids(w).to_numpy(), sort=True)
        .sum()
        .reindex(names, fill_value=0)
        .astype("int64")
    )


# ---- weekly pain and display binning (one patient) ------------------------------------------
def weekly_pain(daily: pd.DataFrame) -> pd.DataFrame:
    """Per week: mean of the daily mean pain and the number of days with a score (mean NaN below
    3 days)."""
    one_patient(daily)
    cols = {"week": "datetime64[ns]", "pain": "float64", "pain_days": "int64"}
    if daily is None or daily.empty:
        return empty(cols)
    day = daily["day"]
    ok = day.notna().to_numpy()
    week = monday(day_numbers(day[ok]))
    pain = daily["pain"].to_numpy(dtype=float, na_value=np.nan)[ok]
    g = pd.Series(pain).groupby(week).mean()
    weeks, at = np.unique(week, return_inverse=True)
    days = np.bincount(at, weights=~np.isnan(pain), minlength=len(weeks)).astype(np.int64)
    mean = g.to_numpy()
    return pd.DataFrame(
        {
            "week": datetimes(weeks),
            "pain": np.where(days < WEEK_MIN_PAIN_DAYS, np.nan, mean),
            "pain_days": days,
        }
    )


def pain_display(
    daily: pd.DataFrame, flares: pd.DataFrame | None = None, max_points: int = 600
) -> tuple[pd.DataFrame, str]:
    """Daily pain binned for plotting: (frame, 'day'|'week'|'month') with at most ~max_points rows.

    Columns: x (bin start), pain (mean of daily means), pain_days, rolling (mean of the
    7-day rolling means), pain_after, sessions (sum), flares (days inside flare-up
    episodes)."""
    one_patient(daily)
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
        return empty(cols), "day"
    day = daily["day"].to_numpy(dtype="datetime64[ns]")
    ok = ~np.isnat(day)
    n_days = len(daily)
    if n_days <= max_points:
        freq, key = "day", day[ok]
    elif n_days / 7 <= max_points:
        freq, key = "week", datetimes(monday(day_numbers(day[ok])))
    else:
        freq, key = "month", day[ok].astype("datetime64[M]").astype("datetime64[ns]")
    x, at = np.unique(key, return_inverse=True)
    pain = daily["pain"].to_numpy(dtype=float, na_value=np.nan)[ok]
    rolling, after = (
        daily[c].to_numpy(dtype=float, na_value=np.nan)[ok] for c in ("rolling", "pain_after")
    )
    values = np.column_stack([pain, rolling, after])
    if len(x) == len(at):  # one day per bin: each bin's mean is its day's value
        means = np.empty_like(values)
        means[at] = values
    else:  # the mean of each bin's values that are not NaN (NaN when none is)
        means = pd.DataFrame(values).groupby(at).mean().to_numpy()
    is_flare = np.isin(day[ok], flare_days(flares))
    sessions = np.nan_to_num(daily["sessions"].to_numpy(dtype=float, na_value=np.nan)[ok])

    def count(weights: np.ndarray) -> np.ndarray:
        out: np.ndarray = np.bincount(at, weights=weights, minlength=len(x)).astype(np.int64)
        return out

    out = pd.DataFrame(
        {
            "x": x.astype("datetime64[ns]"),
            "pain": means[:, 0],
            "pain_days": count(~np.isnan(pain)),
            "rolling": means[:, 1],
            "pain_after": means[:, 2],
            "sessions": count(sessions),
            "flares": count(is_flare),
        },
        index=pd.RangeIndex(len(x)),
    )
    return typed_as(out, cols), freq
