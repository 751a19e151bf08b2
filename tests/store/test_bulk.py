"""backcare.store.bulk: whole frames checked by the column forms of the domain rules, loaded at
once."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from backcare.errors import ValidationError
from backcare.store.bulk import load_frames
from tests.support.stores import START


def sessions_frame(patient: str, started: list, ended: list) -> pd.DataFrame:
    n = len(started)
    return pd.DataFrame(
        {
            "session_id": [f"b{i}" for i in range(n)],
            "patient_id": [patient] * n,
            "day": [(START + dt.timedelta(days=i)).isoformat() for i in range(n)],
            "started_at": started,
            "ended_at": ended,
            "pain_before": ["3"] * n,
            "pain_after": [None] * n,
            "notes": [""] * n,
            "red_flags": [""] * n,
        }
    )


def test_timestamps_with_and_without_microseconds_load_together(store, patient):
    # as a CSV written by another tool holds them: the first row has no fraction of a second
    started = [
        "2026-01-05T08:00:00+00:00",
        "2026-01-06T08:00:00.123456+00:00",
        "2026-01-07T09:15:30.5+01:00",
    ]
    ended = [
        "2026-01-05T08:20:00.000001+00:00",
        "2026-01-06T08:30:00Z",
        "2026-01-07T08:45:00+00:00",
    ]
    pain = pd.DataFrame(
        {
            "pain_id": ["n1", "n2"],
            "patient_id": [patient, patient],
            "recorded_at": ["2026-01-08T07:00:00+00:00", "2026-01-09T07:00:00.999+00:00"],
            "day": ["2026-01-08", "2026-01-09"],
            "score": [4, 3],
            "context": ["morning", None],
        }
    )
    notes = pd.DataFrame(
        {
            "annotation_id": ["a1", "a2"],
            "patient_id": [patient, patient],
            "day": ["2026-01-08", "2026-01-09"],
            "author": ["Dr K", None],
            "kind": ["note", "milestone"],
            "text": ["walked", "first plank"],
            "created_at": ["2026-01-08T10:00:00+00:00", "2026-01-09T10:00:00.5+00:00"],
        }
    )
    counts = load_frames(
        store, sessions=sessions_frame(patient, started, ended), pain=pain, annotations=notes
    )
    assert (counts["sessions"], counts["pain"], counts["annotations"]) == (3, 2, 2)
    s = store.sessions(patient).set_index("session_id")
    assert s.loc["b0", "started_at"] == pd.Timestamp("2026-01-05 08:00", tz="UTC")
    assert s.loc["b1", "started_at"] == pd.Timestamp("2026-01-06 08:00:00.123456", tz="UTC")
    assert s.loc["b2", "started_at"] == pd.Timestamp(
        "2026-01-07 08:15:30.5", tz="UTC"
    )  # 09:15:30.5 at +01:00
    assert s.loc["b0", "ended_at"] == pd.Timestamp("2026-01-05 08:20:00.000001", tz="UTC")
    assert s.loc["b1", "ended_at"] == pd.Timestamp("2026-01-06 08:30", tz="UTC")
    assert list(s["pain_before"]) == [3, 3, 3]
    p = store.pain(patient).set_index("pain_id")
    assert p.loc["n2", "recorded_at"] == pd.Timestamp("2026-01-09 07:00:00.999", tz="UTC")
    assert p.loc["n2", "context"] == ""  # an empty CSV cell is empty text
    a = store.annotations(patient).set_index("annotation_id")
    assert a.loc["a2", "created_at"] == pd.Timestamp("2026-01-09 10:00:00.5", tz="UTC")
    assert a.loc["a2", "author"] == ""


@pytest.mark.parametrize(
    ("started", "ended", "field", "words"),
    [
        (
            ["2026-01-05T08:00:00+00:00", "2026-01-06T08:00:00"],
            [None, None],
            "sessions[1].started_at",
            "timezone-aware",
        ),  # no offset: which time zone? refused, as the single-session writer does
        (
            ["2026-01-05T08:00:00+00:00", "2026-01-06T08:00:00.5+00:00"],
            [None, "2026-01-06T07:59:59.999+00:00"],
            "sessions[1].ended_at",
            "at or after started_at",
        ),
        (
            ["2026-01-05T08:00:00+00:00", "2999-01-01T00:00:00Z"],
            [None, None],
            "sessions[1].started_at",
            "not in the future",
        ),
    ],
)
def test_bad_times_are_refused_naming_the_row_and_nothing_is_written(
    store, patient, started, ended, field, words
):
    with pytest.raises(ValidationError) as err:
        load_frames(store, sessions=sessions_frame(patient, started, ended))
    assert err.value.field == field and words in err.value.allowed
    assert store.sessions(patient).empty


def test_bulk_limits_are_the_single_writers_limits(store, patient):
    """The same pain score, dose and annotation length are refused as store.save_session /
    add_annotation do."""
    frame = sessions_frame(patient, [None, None], [None, None]).assign(pain_before=[10, 11])
    with pytest.raises(ValidationError) as bulk:
        load_frames(store, sessions=frame)
    with pytest.raises(ValidationError) as one:
        store.save_session(patient, [], day=START, pain_before=11)
    assert (bulk.value.field, bulk.value.value) == ("sessions[1].pain_before", 11)
    assert (
        bulk.value.allowed.startswith("a whole number from 0 to 10")
        and one.value.allowed == bulk.value.allowed
    )
    long_text = "x" * 4001
    notes = pd.DataFrame(
        {
            "annotation_id": ["a1"],
            "patient_id": [patient],
            "day": ["2026-01-08"],
            "author": [""],
            "kind": ["note"],
            "text": [long_text],
            "created_at": [None],
        }
    )
    with pytest.raises(ValidationError, match="at most 4000 characters"):
        load_frames(store, annotations=notes)
    with pytest.raises(ValidationError, match="at most 4000 characters"):
        store.add_annotation(patient, long_text, day=START)


def test_bulk_loader_refuses_bad_frames_and_writes_nothing(store, patient):
    sessions = pd.DataFrame(
        {
            "session_id": ["b1", "b2"],
            "patient_id": [patient, patient],
            "day": [dt.date(2026, 1, 6), dt.date(2026, 1, 7)],
            "started_at": [None, None],
            "ended_at": [None, None],
            "pain_before": [3, 12],
            "pain_after": [None, None],
            "notes": ["", ""],
            "red_flags": ["", ""],
        }
    )
    with pytest.raises(ValidationError, match=r"sessions\[1\]\.pain_before: 12"):
        load_frames(store, sessions=sessions)
    bad_items = pd.DataFrame(
        {
            "session_id": ["b1"],
            "exercise_id": ["yoga"],
            "done": [True],
            "sets": [None],
            "reps": [None],
            "hold_s": [None],
            "minutes": [None],
        }
    )
    with pytest.raises(ValidationError, match=r"items\[0\]\.exercise_id: 'yoga'"):
        load_frames(store, sessions=sessions.iloc[:1], items=bad_items)
    assert store.sessions(patient).empty


def test_bulk_timestamps_are_stored_as_the_single_session_writer_stores_them(tmp_path):
    """The bulk path writes SQLite's timestamp text in one pass; the text must be exactly what
    Store.save_session (SQLAlchemy's own processor) stores: naive UTC, six-digit fraction."""
    import sqlite3

    from backcare.store import open_store
    from tests.support.stores import add_default_patient

    db = tmp_path / "s.db"
    london = dt.timezone(dt.timedelta(hours=1))  # 10:15:30.25 at +01:00 is 09:15:30.25 UTC
    start = dt.datetime(2026, 1, 7, 10, 15, 30, 250000, tzinfo=london)
    end = dt.datetime(2026, 1, 7, 9, 45, tzinfo=dt.UTC)
    with open_store(f"sqlite:///{db}") as s:
        pid = add_default_patient(s)
        s.save_session(
            pid,
            [{"exercise_id": "plank", "done": True}],
            day=dt.date(2026, 1, 7),
            started_at=start,
            ended_at=end,
            session_id="single",
        )
        frame = sessions_frame(pid, [start.isoformat()], [end.isoformat()])
        frame["day"] = "2026-01-08"
        load_frames(s, sessions=frame)
    con = sqlite3.connect(db)
    rows = dict(
        (
            (sid, (a, b))
            for sid, a, b in con.execute("SELECT session_id, started_at, ended_at FROM sessions")
        )
    )
    con.close()
    assert rows["single"] == ("2026-01-07 09:15:30.250000", "2026-01-07 09:45:00.000000")
    assert rows["b0"] == rows["single"]
