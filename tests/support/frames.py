"""Small hand-built frames with exactly the store's columns and dtypes, for the analysis and
figure tests. Days count from Monday 2024-01-01; every frame belongs to patient 'p1'."""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from backcare import analysis as A
from backcare.domain.catalog import default_catalog
from backcare.store import READ_DTYPES

MON = pd.Timestamp("2024-01-01")  # a Monday
DEFAULTS = {"str": "", "bool": False}  # a missing field of another dtype is missing (None)


def D(i: int) -> pd.Timestamp:
    """Day i after Monday 2024-01-01."""
    return MON + pd.Timedelta(days=i)


def _cast(kind: str, df: pd.DataFrame) -> pd.DataFrame:
    """df's columns converted to the store's dtypes for `kind`."""
    out = {}
    for c, t in READ_DTYPES[kind].items():
        s = df[c]
        if t.startswith("datetime64[ns, UTC]"):
            out[c] = pd.to_datetime(s, utc=True)
        elif t.startswith("datetime64"):
            out[c] = pd.to_datetime(s).astype(t)
        else:
            out[c] = s.astype(t)
    return pd.DataFrame(out)


def frame(kind: str, rows: list[dict]) -> pd.DataFrame:
    """A frame with exactly the store's columns and dtypes for `kind` (missing fields defaulted)."""
    dtypes = READ_DTYPES[kind]
    full = [{c: r.get(c, DEFAULTS.get(t, None)) for c, t in dtypes.items()} for r in rows]
    return _cast(kind, pd.DataFrame(full, columns=list(dtypes)))


def typed(kind: str, data: dict[str, Any]) -> pd.DataFrame:
    """A frame with the store's columns and dtypes for `kind` from column arrays."""
    n = len(next(iter(data.values())))
    cols = {
        c: pd.Series(data[c] if c in data else [DEFAULTS.get(t, None)] * n)
        for c, t in READ_DTYPES[kind].items()
    }
    return _cast(kind, pd.DataFrame(cols))


def rx(*rows: tuple) -> pd.DataFrame:
    """Prescriptions from (programme_id, valid_from, valid_to or None, exercise_id,
    times_per_week[, dose])."""
    out = []
    for pid, vf, vt, ex, tpw, *dose in rows:
        field = default_catalog()[ex].main_dose
        out.append(
            {
                "programme_id": pid,
                "patient_id": "p1",
                "valid_from": vf,
                "valid_to": vt,
                "exercise_id": ex,
                "times_per_week": tpw,
                "sets": 1,
                field: dose[0] if dose else getattr(default_catalog()[ex], field)[0],
            }
        )
    return frame("prescriptions", out)


def items(*rows: tuple) -> pd.DataFrame:
    """Items from (session_id, day, exercise_id, done)."""
    return frame(
        "items",
        [
            {"session_id": s, "patient_id": "p1", "day": d, "exercise_id": e, "done": done}
            for s, d, e, done in rows
        ],
    )


def sessions(*rows: tuple) -> pd.DataFrame:
    """Sessions from (session_id, day, pain_before, pain_after)."""
    return frame(
        "sessions",
        [
            {"session_id": s, "patient_id": "p1", "day": d, "pain_before": b, "pain_after": a}
            for s, d, b, a in rows
        ],
    )


def pain(*rows: tuple) -> pd.DataFrame:
    """Standalone pain scores from (day, score)."""
    return frame(
        "pain",
        [
            {"pain_id": f"x{i}", "patient_id": "p1", "day": d, "score": s}
            for i, (d, s) in enumerate(rows)
        ],
    )


def daily_from(values: list[float | None], start: pd.Timestamp = MON) -> pd.DataFrame:
    """A daily_pain-like frame: one day per value (None = no score that day)."""
    scores = [(start + pd.Timedelta(days=i), v) for i, v in enumerate(values) if v is not None]
    # two scores per day give half points: encode v as the mean of floor and ceil
    rows = []
    for d, v in scores:
        lo, hi = math.floor(v), math.ceil(v)
        if lo == hi:
            rows.append((d, int(v)))
        else:
            assert v - lo == 0.5, "daily_from supports whole and half points"
            rows += [(d, lo), (d, hi)]
    return A.daily_pain(sessions(), pain(*rows), start, start + pd.Timedelta(days=len(values) - 1))


def trend_of(values: list[float | None]) -> A.PainTrend:
    """The pain trend of one score a day (see daily_from)."""
    return A.pain_trend(daily_from(values))


def done_days(ex: str, days: list[int]) -> list[tuple]:
    """Item rows for `ex` done once on each of the given day numbers (for items())."""
    return [(f"{ex}{i}", D(i), ex, True) for i in days]
