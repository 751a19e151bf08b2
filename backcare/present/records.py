"""Analysis results as plain records (JSON-ready): what `backcare summary` and `overview` print.

Only reshapes numbers computed by backcare.analysis (through backcare.services); nothing is
recomputed here. Dates become ISO text, missing numbers become None."""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from typing import Any

import numpy as np
import pandas as pd


def plain(value: Any) -> Any:
    """A JSON-ready copy of value: ISO dates, None for NaN/NA/NaT, lists for tuples and arrays."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, pd.Timestamp):
        return value.date().isoformat() if value == value.normalize() else value.isoformat()
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, np.generic):
        return plain(value.item())
    if isinstance(value, float):
        return None if math.isnan(value) else value
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | np.ndarray):
        return [plain(v) for v in value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    return value


def frame_records(df: pd.DataFrame) -> list[dict[str, Any]]:
    """A frame as a list of JSON-ready row dicts."""
    return [plain(r) for r in df.to_dict("records")]


def summary_record(d: Any) -> dict[str, Any]:
    """Every number the trends view shows for one patient (a services.TrendsData), as records."""
    trend = plain(d.trend)
    trend["weeks"] = d.trend.weeks
    ap = d.adherence_pain
    return {
        "patient_id": d.patient_id,
        "period": {"start": plain(d.start), "end": plain(d.end)},
        "summary": d.summary,
        "pain_trend": trend,
        "weekly_adherence": frame_records(d.weekly),
        "habit_strength": plain(d.habit),
        "streaks": plain(d.streaks),
        "flare_up_episodes": frame_records(d.flares),
        "session_effect": frame_records(d.effect),
        "adherence_vs_pain": {
            "n": ap.n,
            "r": plain(ap.r),
            "ci_low": plain(ap.ci_low),
            "ci_high": plain(ap.ci_high),
            "slope": plain(ap.slope),
            "n_eff": plain(ap.n_eff),
            "status": ap.status,
            "note": ap.note,
        },
        "red_flag_sessions": (
            frame_records(d.red_flag_sessions[["day", "red_flags"]])
            if len(d.red_flag_sessions)
            else []
        ),
        "suggestions": frame_records(d.suggestions),
        "questionnaires": frame_records(d.questionnaires),
    }
