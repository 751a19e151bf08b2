"""backcare.store.frames: typed frames from the values the database drivers return."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from backcare.store.frames import typed_columns

UTC = dt.UTC


def _times(values: list) -> list:
    """The created_at column of a one-column-per-value annotations frame, as read."""
    n = len(values)
    columns = [
        [f"a{i}" for i in range(n)],  # annotation_id
        ["p1"] * n,  # patient_id
        ["2026-03-29"] * n,  # day
        [""] * n,  # author
        ["note"] * n,  # kind
        [""] * n,  # text
        values,  # created_at
    ]
    frame = typed_columns(columns, "annotations")
    assert str(frame["created_at"].dtype) == "datetime64[ns, UTC]"
    return list(frame["created_at"])


def test_sqlite_text_times_are_read_as_utc_to_the_microsecond():
    # SQLite stores UTCDateTime as naive UTC text, with or without a fraction of a second
    got = _times(["2026-03-29 00:59:59.999999", "2026-03-29 01:00:00.000000", None])
    assert got[0] == pd.Timestamp("2026-03-29 00:59:59.999999", tz="UTC")
    assert got[1] == pd.Timestamp("2026-03-29 01:00:00", tz="UTC")
    assert pd.isna(got[2])
    assert _times(["2025-12-31 23:59:59"]) == [pd.Timestamp("2025-12-31 23:59:59", tz="UTC")]


def test_postgresql_naive_and_aware_datetimes_are_read_as_the_same_utc_times():
    naive = dt.datetime(2026, 10, 25, 1, 30, 0, 7)  # PostgreSQL: naive UTC
    aware = naive.replace(tzinfo=UTC)  # through the UTCDateTime type
    want = pd.Timestamp("2026-10-25 01:30:00.000007", tz="UTC")
    assert _times([naive, None])[0] == want
    assert _times([aware])[0] == want


def test_text_with_an_offset_is_converted_to_utc():
    # not what backcare writes, but read correctly if a hand-made row holds it: 01:00 at +02:00
    # is 23:00 UTC the day before
    assert _times(["2026-03-29T01:00:00+02:00"]) == [pd.Timestamp("2026-03-28 23:00", tz="UTC")]
