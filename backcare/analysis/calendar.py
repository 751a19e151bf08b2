"""Days, weeks and the prescription calendar: which exercise is in force on which day, and what
was done.

Every function here works on frames holding one patient or many (a ``patient_id`` column;
a frame without one is a single, unnamed patient). The clinic overview and one patient's
dashboard call the same functions: one patient is the one-patient case.

Methods
* A week runs Monday to Sunday and is labelled by its Monday.
* In force (``expand_prescriptions``): each prescription row covers valid_from..valid_to
  (NaT = still in force), clipped to the period. Where rows overlap for the same patient,
  exercise and day, the one with the later valid_from (then the higher programme_id) wins,
  as in the store.
* Done (``done_counts``): session items ticked done, counted per patient, day and exercise.
  Only items on a day the exercise is in force count towards adherence (``in_force_days``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, overload

import numpy as np
import pandas as pd

EPS = 1e-9  # tolerance for comparing sums of sevenths and rounded means with thresholds
ONE_DAY = pd.Timedelta(days=1)
NO_PATIENT = ""  # the patient id of frames that carry no patient_id column

IN_FORCE_COLUMNS = {
    "patient_id": "str",
    "day": "datetime64[ns]",
    "exercise_id": "str",
    "times_per_week": "Int64",
    "programme_id": "Int64",
    "sets": "Int64",
    "reps": "Int64",
    "hold_s": "Int64",
    "minutes": "Int64",
}
DONE_COLUMNS = {"patient_id": "str", "day": "datetime64[ns]", "exercise_id": "str", "done": "int64"}


# ---- days ------------------------------------------------------------------------------------
def as_day(value: Any) -> pd.Timestamp:
    """The naive midnight Timestamp of a date, datetime or string (time zone dropped)."""
    ts = pd.Timestamp(value)
    if ts.tzinfo is not None:
        ts = ts.tz_localize(None)
    return ts.normalize()


def week_start(days: pd.Series | pd.DatetimeIndex) -> pd.Series:
    """The Monday (naive datetime64) of each day's week."""
    s = pd.Series(pd.to_datetime(days)).dt.normalize()
    return s - pd.to_timedelta(s.dt.day_of_week, unit="D")


def day_numbers(days: Any) -> np.ndarray:
    """Whole days since 1970-01-01 (int64) of naive datetime64 days."""
    out: np.ndarray = np.asarray(days).astype("datetime64[D]").astype(np.int64)
    return out


def monday(numbers: np.ndarray) -> np.ndarray:
    """The day number of the Monday of each day number's week (1970-01-01 was a Thursday)."""
    out: np.ndarray = numbers - (numbers + 3) % 7
    return out


def datetimes(numbers: Any) -> np.ndarray:
    """Day numbers back to naive datetime64[ns]."""
    return np.asarray(numbers, dtype=np.int64).astype("datetime64[D]").astype("datetime64[ns]")


@overload
def round1(x: float) -> float: ...
@overload
def round1(x: np.ndarray) -> np.ndarray: ...
def round1(x: float | np.ndarray) -> float | np.ndarray:
    """Round half up to one decimal (the precision shown to users), a number or each of an
    array's."""
    if isinstance(x, np.ndarray):
        out: np.ndarray = np.floor(x * 10 + 0.5) / 10
        return out
    return math.floor(x * 10 + 0.5) / 10


def empty(cols: dict[str, str]) -> pd.DataFrame:
    """An empty frame with these columns and dtypes."""
    dtypes: dict[str, Any] = dict(cols)  # pandas-stubs: dtype names as plain str
    return pd.DataFrame(
        {c: pd.array([], dtype=t) for c, t in dtypes.items()}, index=pd.RangeIndex(0)
    )


def typed_as(frame: pd.DataFrame, cols: dict[str, str]) -> pd.DataFrame:
    """frame's columns cols, in their order, each cast to its dtype only where it differs (an
    astype over every column costs more than many of the rules that build the frame)."""
    names = list(cols)
    # already these columns in this order (how the rules build them): a shallow copy
    out = frame.copy(deep=False) if list(frame.columns) == names else frame[names]
    have = dict(zip(out.columns, out.dtypes, strict=True))
    wrong = {c: t for c, t in cols.items() if str(have[c]) != t}
    return out.astype(wrong) if wrong else out


def period(
    start: Any, end: Any, *days: pd.Series | None
) -> tuple[pd.Timestamp, pd.Timestamp] | None:
    """The period [start, end]; a missing bound is taken from the data (None if no data)."""
    if start is not None and end is not None:  # nothing to take from the data
        first, last = as_day(start), as_day(end)
        return None if last < first else (first, last)
    found = [d.dropna() for d in days if d is not None and len(d.dropna())]
    lo = as_day(start) if start is not None else (min(f.min() for f in found) if found else None)
    hi = as_day(end) if end is not None else (max(f.max() for f in found) if found else None)
    if lo is None or hi is None or as_day(hi) < as_day(lo):
        return None
    return as_day(lo), as_day(hi)


# ---- patients --------------------------------------------------------------------------------
def patient_ids(frame: pd.DataFrame | None) -> pd.Series:
    """The frame's patient_id column as str, or NO_PATIENT for every row when it has none."""
    if frame is None:
        return pd.Series([], dtype="str")
    if "patient_id" in frame.columns:
        col = frame["patient_id"]
        if col.dtype == "str" and not col.hasnans:
            return col
        return col.astype("str").fillna(NO_PATIENT)
    return pd.Series(NO_PATIENT, index=frame.index, dtype="str")


def patients_of(*frames: pd.DataFrame | None) -> pd.Index:
    """The sorted distinct patient ids of the frames (NO_PATIENT when they name none)."""
    ids: set[str] = set()
    for f in frames:
        if f is not None and len(f):
            ids |= set(patient_ids(f).unique())
    return pd.Index(sorted(ids) or [NO_PATIENT], dtype="str")


def one_patient(*frames: pd.DataFrame | None) -> None:
    """Raise ValueError when the frames hold more than one patient (per-patient-only methods)."""
    ids: set[str] = set()
    for f in frames:
        if f is not None and "patient_id" in f.columns and len(f):
            ids |= {str(v) for v in pd.unique(f["patient_id"])}
    if len(ids) > 1:
        raise ValueError(
            f"patient_id: frames hold {len(ids)} patients ({', '.join(sorted(ids)[:3])}...); "
            "this analysis works on one patient at a time"
        )


def codes(values: pd.Series, names: pd.Index) -> np.ndarray:
    """Each value's position in names (-1 where absent or missing), as int64."""
    if values.dtype != "str":
        values = values.astype("str")
    if len(values) < 5_000:  # few rows: one lookup costs less than factorizing first
        return np.asarray(names.get_indexer(pd.Index(values)), dtype=np.int64)
    # look up each distinct value once (a patient id repeats on every row of the patient)
    code, distinct = pd.factorize(values)  # a missing value: code -1
    at = np.asarray(names.get_indexer(pd.Index(distinct, dtype="str")), dtype=np.int64)
    missing = int(names.get_indexer(pd.Index([None], dtype="str"))[0]) if names.hasnans else -1
    return np.where(code >= 0, at[code] if len(at) else -1, missing)


# ---- prescriptions in force ------------------------------------------------------------------
def expand_prescriptions(prescriptions: pd.DataFrame, start: Any, end: Any) -> pd.DataFrame:
    """One row per (patient, day, exercise) in force within [start, end], with times_per_week
    and dose.

    Columns IN_FORCE_COLUMNS, sorted by patient, day and exercise. Method: see the module
    docstring ("In force")."""
    frame = pd.DataFrame(_expand(prescriptions, as_day(start), as_day(end))[0])
    return frame.astype({"patient_id": "str", "exercise_id": "str"})


_NO_CODES = (np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64))


def _expand(
    prescriptions: pd.DataFrame | None, lo: pd.Timestamp, hi: pd.Timestamp
) -> tuple[dict[str, Any], np.ndarray, np.ndarray, pd.Index, pd.Index]:
    """expand_prescriptions' columns (IN_FORCE_COLUMNS, as arrays), with each row's patient and
    exercise as codes into sorted names."""

    def none() -> tuple[dict[str, Any], np.ndarray, np.ndarray, pd.Index, pd.Index]:
        no_names = pd.Index([], dtype="str")
        frame = empty(IN_FORCE_COLUMNS)
        return {str(c): frame[c].array for c in frame}, *_NO_CODES, no_names, no_names

    if prescriptions is None or prescriptions.empty or hi < lo:
        return none()
    p = prescriptions.reset_index(drop=True)
    d_lo, d_hi = day_numbers([lo])[0], day_numbers([hi])[0]
    vf = p["valid_from"]
    first = np.maximum(day_numbers(vf.fillna(lo)), d_lo)
    last = np.minimum(day_numbers(p["valid_to"].fillna(hi)), d_hi)
    n = np.where(vf.notna().to_numpy(), np.clip(last - first + 1, 0, None), 0)
    if not n.any():
        return none()
    row = np.repeat(np.arange(len(p)), n)
    day = first[row] + (np.arange(len(row)) - np.repeat(np.cumsum(n) - n, n))
    # the latest valid_from (then the highest programme_id) wins a (patient, day, exercise):
    # sort by patient, day, exercise, valid_from, programme_id (missing ones last), keep the last
    pids = patient_ids(p)
    p_code, p_names = pd.factorize(pids, sort=True)
    e_code, e_names = pd.factorize(p["exercise_id"].astype("str"), sort=True)
    e_code = np.where(e_code < 0, len(e_names), e_code)  # a missing exercise id sorts last
    since = day_numbers(vf.fillna(lo))
    ids = p["programme_id"].astype("Int64")
    pid = ids.fillna(ids.max() + 1 if ids.notna().any() else 0).to_numpy(dtype=np.int64)
    order = np.lexsort((pid[row], since[row], e_code[row], day, p_code[row]))
    width = len(e_names) + 1
    span = d_hi - d_lo + 1
    key = (p_code[row[order]] * span + (day[order] - d_lo)) * width + e_code[row[order]]
    keep = order[np.append(key[1:] != key[:-1], True)]
    names = pd.Index([*e_names, None], dtype="str")  # a missing exercise id is the last code
    # patient and exercise as categoricals over the sorted names: no string per row
    columns = {
        "patient_id": pd.Categorical.from_codes(
            p_code[row[keep]], categories=pd.Index(p_names, dtype="str")
        ),
        "day": datetimes(day[keep]),
        "exercise_id": pd.Categorical.from_codes(
            np.where(e_code[row[keep]] < len(e_names), e_code[row[keep]], -1),
            categories=pd.Index(e_names, dtype="str"),
        ),
        **{
            c: _int64(p[c]).take(row[keep])
            for c in ("times_per_week", "programme_id", "sets", "reps", "hold_s", "minutes")
        },
    }
    return columns, p_code[row[keep]], e_code[row[keep]], pd.Index(p_names, dtype="str"), names


def _int64(values: pd.Series) -> Any:
    """values' array as Int64 (not copied when it already is)."""
    return values.array if values.dtype == "Int64" else values.astype("Int64").array


def take_rows(frame: pd.DataFrame, at: np.ndarray) -> pd.DataFrame:
    """frame's rows at the increasing positions at, indexed from 0. One run of rows (one
    patient's period of a frame in day order) is sliced, not copied row by row."""
    if len(at) == len(frame):
        return frame.reset_index(drop=True)
    if len(at) and at[-1] - at[0] + 1 == len(at):
        return frame.iloc[at[0] : at[-1] + 1].reset_index(drop=True)
    return frame.take(at).reset_index(drop=True)


def programme_starts(prescriptions: pd.DataFrame | None) -> pd.Series:
    """Each patient's first programme start (their pain baseline's anchor), by patient_id."""
    if prescriptions is None or prescriptions.empty:
        return pd.Series([], dtype="datetime64[ns]")
    vf = prescriptions["valid_from"].to_numpy(dtype="datetime64[ns]")
    ok = ~np.isnat(vf)
    code, names = pd.factorize(patient_ids(prescriptions).to_numpy(dtype=object)[ok], sort=True)
    first = np.full(len(names), np.iinfo(np.int64).max)
    np.minimum.at(first, code, vf[ok].view(np.int64))
    return pd.Series(
        first.view("datetime64[ns]"), index=pd.Index(np.asarray(names, dtype=object), dtype="str")
    )


def done_rows(items: pd.DataFrame) -> np.ndarray:
    """The session items that count as done: ticked, with an exercise and a day."""
    ok: np.ndarray = items["done"].to_numpy(dtype=bool) & items["exercise_id"].notna().to_numpy()
    ok &= items["day"].notna().to_numpy()
    return ok


def done_counts(items: pd.DataFrame | None) -> pd.DataFrame:
    """Items ticked done per (patient, day, exercise): columns DONE_COLUMNS."""
    if items is None or items.empty:
        return empty(DONE_COLUMNS)
    ok = done_rows(items)
    if not ok.any():
        return empty(DONE_COLUMNS)
    p_code, p_names = pd.factorize(patient_ids(items)[ok], sort=True)
    e_code, e_names = pd.factorize(items["exercise_id"][ok].astype("str"), sort=True)
    day = day_numbers(items["day"].to_numpy(dtype="datetime64[ns]")[ok])
    d0 = int(day.min())
    span = int(day.max()) - d0 + 1
    key = (p_code.astype(np.int64) * span + (day - d0)) * len(e_names) + e_code
    keys, counts = np.unique(key, return_counts=True)
    pd_key, e = keys // len(e_names), keys % len(e_names)
    return pd.DataFrame(
        {
            "patient_id": pd.array(np.asarray(p_names)[pd_key // span], dtype="str"),
            "day": datetimes(d0 + pd_key % span),
            "exercise_id": pd.array(np.asarray(e_names)[e], dtype="str"),
            "done": counts.astype(np.int64),
        }
    )


@dataclass(frozen=True)
class InForce:
    """Prescriptions expanded over [start, end], each (patient, day, exercise) row with its done
    count.

    frame columns: IN_FORCE_COLUMNS plus done (items ticked that day), tpw (times_per_week
    as float) and week (its Monday)."""

    start: pd.Timestamp
    end: pd.Timestamp
    frame: pd.DataFrame
    # each row's patient and exercise as codes into these sorted names (computed once,
    # shared by every function that groups the rows)
    patient_code: np.ndarray = field(default_factory=lambda: _NO_CODES[0])
    exercise_code: np.ndarray = field(default_factory=lambda: _NO_CODES[1])
    patients: pd.Index = field(default_factory=lambda: pd.Index([], dtype="str"))
    exercises: pd.Index = field(default_factory=lambda: pd.Index([], dtype="str"))

    def between(self, start: Any, end: Any) -> InForce:
        """The rows of [start, end] (which must lie inside [self.start, self.end])."""
        lo, hi = as_day(start), as_day(end)
        if lo < self.start or hi > self.end:
            raise ValueError(
                f"period: {lo.date()}..{hi.date()} is outside the expanded "
                f"{self.start.date()}..{self.end.date()}"
            )
        if lo == self.start and hi == self.end:
            return self
        day = self.frame["day"].to_numpy()
        at = np.flatnonzero((day >= lo.to_datetime64()) & (day <= hi.to_datetime64()))
        return InForce(
            lo,
            hi,
            take_rows(self.frame, at),
            self.patient_code[at],
            self.exercise_code[at],
            self.patients,
            self.exercises,
        )


def in_force_days(
    prescriptions: pd.DataFrame,
    items: pd.DataFrame | None,
    start: Any,
    end: Any,
    *,
    done: pd.DataFrame | None = None,
) -> InForce:
    """Every (patient, day, exercise) in force in [start, end] with its done count (see InForce).

    Give items (session items, counted with done_counts) or done (counts already made, as
    the clinic reads them). Done items on days the exercise is not in force are left out."""
    lo, hi = as_day(start), as_day(end)
    columns, p_code, e_code, p_names, e_names = _expand(prescriptions, lo, hi)
    # done counts made (the clinic's read), or the items ticked done, one count each
    counts = done if done is not None else items
    day = day_numbers(columns["day"])
    n_done = np.zeros(len(day), dtype=np.int64)
    if len(day) and counts is not None and len(counts):
        d_lo = day_numbers([lo])[0]
        span = day_numbers([hi])[0] - d_lo + 1

        def key(p: np.ndarray, d: np.ndarray, e: np.ndarray) -> np.ndarray:
            out: np.ndarray = (p * span + (d - d_lo)) * len(e_names) + e
            return out

        exp_key = key(p_code, day, e_code)
        c_p, c_e = codes(patient_ids(counts), p_names), codes(counts["exercise_id"], e_names)
        c_d = day_numbers(counts["day"])
        ok = (c_p >= 0) & (c_e >= 0) & (c_d >= d_lo) & (c_d < d_lo + span)
        if done is None:
            ok &= done_rows(counts)
        c_key = key(c_p[ok], c_d[ok], c_e[ok])
        if done is None:  # one count per item
            c_key, c_val = np.unique(c_key, return_counts=True)
        else:
            c_val = counts["done"].to_numpy(dtype=np.int64)[ok]
            order = np.argsort(c_key, kind="stable")
            c_key, c_val = c_key[order], c_val[order]
        if len(c_key):
            at = np.searchsorted(c_key, exp_key).clip(max=len(c_key) - 1)
            hit = c_key[at] == exp_key
            n_done[hit] = c_val[at[hit]]
    frame = pd.DataFrame(
        {
            **columns,
            "done": n_done,
            "tpw": columns["times_per_week"].to_numpy(dtype=float, na_value=np.nan),
            "week": datetimes(monday(day)),
        },
        index=pd.RangeIndex(len(day)),
    )
    return InForce(lo, hi, frame, p_code, e_code, p_names, e_names)


def calendar_days(lo: pd.Timestamp, hi: pd.Timestamp) -> np.ndarray:
    """The day numbers of [lo, hi]."""
    return np.arange(day_numbers([lo])[0], day_numbers([hi])[0] + 1)


def segment_starts(keys: Sequence[Any] | np.ndarray) -> np.ndarray:
    """Positions where a run of equal keys starts in a sorted array (always includes 0 when
    non-empty)."""
    k = np.asarray(keys)
    if len(k) == 0:
        return np.zeros(0, dtype=np.int64)
    return np.flatnonzero(np.concatenate([[True], k[1:] != k[:-1]]))
