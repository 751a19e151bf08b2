"""Typed frames of what the store's readers return: one fixed dtype per column (READ_DTYPES).

Days are naive ``datetime64[ns]`` (the patient's local date), times ``datetime64[ns, UTC]``,
counts and doses nullable ``Int64``, text the ``str`` dtype (empty, never missing)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any, Final, Literal

import numpy as np
import pandas as pd
import pyarrow as pa
from pandas.api.extensions import ExtensionArray

DAY: Final = "datetime64[ns]"
UTC_TS: Final = "datetime64[ns, UTC]"
ReadDtype = Literal["str", "datetime64[ns]", "datetime64[ns, UTC]", "bool", "Int64", "float64"]
READ_DTYPES: dict[str, dict[str, ReadDtype]] = {
    "sessions": {
        "session_id": "str",
        "patient_id": "str",
        "day": DAY,
        "started_at": UTC_TS,
        "ended_at": UTC_TS,
        "programme_id": "Int64",
        "pain_before": "Int64",
        "pain_after": "Int64",
        "notes": "str",
        "red_flags": "str",
        "created_at": UTC_TS,
        "updated_at": UTC_TS,
    },
    "items": {
        "session_id": "str",
        "patient_id": "str",
        "day": DAY,
        "exercise_id": "str",
        "done": "bool",
        "sets": "Int64",
        "reps": "Int64",
        "hold_s": "Int64",
        "minutes": "Int64",
    },
    "pain": {
        "pain_id": "str",
        "patient_id": "str",
        "recorded_at": UTC_TS,
        "day": DAY,
        "score": "Int64",
        "context": "str",
    },
    "annotations": {
        "annotation_id": "str",
        "patient_id": "str",
        "day": DAY,
        "author": "str",
        "kind": "str",
        "text": "str",
        "created_at": UTC_TS,
    },
    "prescriptions": {
        "programme_id": "Int64",
        "patient_id": "str",
        "valid_from": DAY,
        "valid_to": DAY,
        "position": "Int64",
        "exercise_id": "str",
        "sets": "Int64",
        "reps": "Int64",
        "hold_s": "Int64",
        "minutes": "Int64",
        "each_side": "bool",
        "times_per_week": "Int64",
        "author": "str",
        "note": "str",
    },
    "daily": {
        "patient_id": "str",
        "day": DAY,
        "sessions": "Int64",
        "items_done": "Int64",
        "pain_sum": "Int64",
        "pain_n": "Int64",
        "red_flag_sessions": "Int64",
    },
    "questionnaires": {
        "response_id": "str",
        "patient_id": "str",
        "instrument": "str",
        "day": DAY,
        "recorded_at": UTC_TS,
        "answers": "str",  # canonical JSON (domain.questionnaires.answers_from_json)
        "score": "float64",
        "author": "str",
    },
    "patients": {
        "patient_id": "str",
        "name": "str",
        "timezone": "str",
        "created_at": UTC_TS,
        "sessions": "Int64",
        "first_day": DAY,
        "last_day": DAY,
    },
}


def typed_columns(columns: Sequence[Sequence[Any]], kind: str) -> pd.DataFrame:
    """Columns of values (as SQLAlchemy or the driver returns them: days as dates or ISO
    text) as a frame of READ_DTYPES[kind], in its column order."""
    dtypes = READ_DTYPES[kind]
    out: dict[str, np.ndarray | ExtensionArray] = {}
    for (col, dtype), values in zip(dtypes.items(), columns, strict=True):
        if dtype == DAY:
            out[col] = _days(values)
        elif dtype == UTC_TS:
            out[col] = _utc_times(values)
        elif dtype == "str":
            out[col] = texts(values)
        elif dtype == "bool":
            out[col] = np.array(values, dtype=bool)
        elif dtype == "float64":
            out[col] = np.array([np.nan if v is None else v for v in values], dtype=np.float64)
        else:
            out[col] = _nullable_ints(values)
    n = len(columns[0]) if columns else 0
    return pd.DataFrame(out, index=pd.RangeIndex(n))


def texts(values: Sequence[Any] | pa.Array) -> ExtensionArray:
    """Text values (None read as "") as the str dtype, converted in Arrow (C), not per value
    in Python."""
    if isinstance(values, pa.Array):
        arr = values
    else:
        try:
            arr = pa.array(values, type=pa.string())
        except (pa.ArrowTypeError, pa.ArrowInvalid):  # a number stored in a text column
            arr = pa.array([v if v is None else str(v) for v in values], type=pa.string())
    out: ExtensionArray = pd.array(arr.fill_null(""), dtype="str")
    return out


def _nullable_ints(values: Sequence[Any]) -> ExtensionArray:
    """Integers (or None) as Int64, converted in Arrow (C), not per value in Python."""
    arr = pa.array(values, type=pa.int64())
    data = arr.fill_null(0).to_numpy(zero_copy_only=False)
    return pd.arrays.IntegerArray(data, arr.is_null().to_numpy(zero_copy_only=False))


def _utc_times(values: Sequence[Any]) -> ExtensionArray:
    """UTC times as datetime64[ns, UTC] from the driver's own values of a UTCDateTime column
    (SQLite: naive UTC ISO text, converted in Arrow; PostgreSQL: naive UTC datetimes); any
    other form (aware datetimes, text with an offset) through pandas. None is NaT."""
    if not len(values):
        return pd.DatetimeIndex(np.zeros(0, dtype="datetime64[ns]")).tz_localize("UTC").array
    first = next((v for v in values if v is not None), None)
    if isinstance(first, str):
        try:
            naive = pa.array(values, type=pa.string()).cast(pa.timestamp("us"))
        except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
            pass  # not all naive ISO text: pandas below
        else:
            stamps = naive.to_numpy(zero_copy_only=False).astype("datetime64[ns]")
            return pd.DatetimeIndex(stamps).tz_localize("UTC").array
    if all(v is None or (type(v) is dt.datetime and v.tzinfo is None) for v in values):
        naive = np.array(values, dtype="datetime64[us]")
        return pd.DatetimeIndex(naive.astype("datetime64[ns]")).tz_localize("UTC").array
    return pd.to_datetime(pd.Series(values, dtype=object), utc=True).astype(UTC_TS).array


_EPOCH_ORDINAL = dt.date(1970, 1, 1).toordinal()
_NAT_DAYS = np.iinfo(np.int64).min  # numpy's NaT, as an integer


def _days(values: Sequence[Any]) -> np.ndarray:
    """Days (dates, ISO 'YYYY-MM-DD' text, or None) as naive datetime64[ns]."""
    if not len(values):
        return np.zeros(0, dtype=DAY)
    kinds = set(map(type, values))
    kinds.discard(type(None))
    if kinds == {dt.date}:
        # through ordinals: numpy converts date objects one slow call at a time
        numbers = np.array(
            [_NAT_DAYS if v is None else v.toordinal() - _EPOCH_ORDINAL for v in values],
            dtype=np.int64,
        )
        return numbers.view("datetime64[D]").astype(DAY)
    if kinds == {str}:
        return np.array(values, dtype="datetime64[D]").astype(DAY)
    return pd.to_datetime(pd.Series(values, dtype=object)).astype(DAY).to_numpy()


def with_valid_to(df: pd.DataFrame) -> pd.DataFrame:
    """The prescriptions with valid_to from the patient's next programme.

    Of a patient's programmes starting on the same day, only the last one is kept."""
    if df.empty:
        return df
    pid = df["programme_id"].to_numpy(dtype=np.int64)  # a primary key: never missing
    patient, _ = pd.factorize(df["patient_id"], sort=True)
    since = df["valid_from"].to_numpy(dtype="datetime64[ns]")
    # one row per programme, ordered by patient, valid_from, programme_id
    first = np.unique(pid, return_index=True)[1]
    order = first[np.lexsort((pid[first], since[first], patient[first]))]
    # of programmes starting the same day, the last one (highest id) is kept
    same_patient = patient[order][1:] == patient[order][:-1]
    order = order[np.append(~(same_patient & (since[order][1:] == since[order][:-1])), True)]
    nxt = np.full(len(order), np.datetime64("NaT"), dtype="datetime64[ns]")
    follows = patient[order][1:] == patient[order][:-1]
    nxt[:-1] = np.where(follows, since[order][1:] - np.timedelta64(1, "D"), np.datetime64("NaT"))
    kept = pd.Index(pid[order])
    at = kept.get_indexer(pid)
    out: pd.DataFrame = df[at >= 0].reset_index(drop=True)
    out["valid_to"] = nxt[at[at >= 0]]
    return out
