"""A patient who used the app, exported and imported into an empty store: identical rows.

Everything is written through the user paths (today's Save and quick pain on the real
TodayView widgets, the physio's programme editor and annotation form), at real times:
microseconds, a first row without them, a non-UTC zone, the day the clocks go forward and
the day they go back, a minute either side of midnight."""

from __future__ import annotations

import pandas as pd
import pytest
import sqlalchemy as sa

from backcare.bundle import export_bundle, import_bundle
from backcare.store import open_store
from tests.support.real_use import MOMENTS, use_the_app

QUERIES = {  # every table, with the store's own bookkeeping (when a row was inserted) left out
    "patients": "SELECT patient_id, name, timezone FROM patients",
    "programmes": (
        "SELECT p.patient_id, p.valid_from, p.author, p.note, i.position, i.exercise_id, "
        "i.sets, i.reps, i.hold_s, i.minutes, i.each_side, i.times_per_week "
        "FROM programmes p JOIN programme_items i ON i.programme_id = p.programme_id"
    ),
    "sessions": (
        "SELECT s.session_id, s.patient_id, s.day, s.started_at, s.ended_at, p.valid_from, "
        "s.pain_before, s.pain_after, s.notes, s.red_flags, s.done_items "
        "FROM sessions s LEFT JOIN programmes p ON p.programme_id = s.programme_id"
    ),
    "session_items": "SELECT * FROM session_items",
    "pain_scores": "SELECT * FROM pain_scores",
    "annotations": "SELECT * FROM annotations",
    "daily_summary": "SELECT * FROM daily_summary",
}


def table_rows(store, table: str) -> pd.DataFrame:
    with store.engine.connect() as conn:
        rows = conn.execute(sa.text(QUERIES[table])).all()
        cols = list(conn.execute(sa.text(QUERIES[table])).keys())
    df = pd.DataFrame([tuple(r) for r in rows], columns=cols)
    return df.sort_values(cols, key=lambda c: c.astype(str)).reset_index(drop=True)


@pytest.fixture
def used(tmp_path):
    store = open_store(f"sqlite:///{tmp_path / 'used.db'}")
    pid = use_the_app(store)
    yield store, pid
    store.close()


def test_a_patient_who_used_the_app_round_trips_into_an_empty_store(used, tmp_path):
    source, pid = used
    sessions = source.sessions(pid)
    # what the app wrote: a first row without microseconds, then microseconds
    assert sessions["started_at"].iloc[0].microsecond == 0
    assert (sessions["started_at"].dt.microsecond > 0).sum() == len(MOMENTS) - 1
    assert len(source.pain(pid)) == len(MOMENTS)
    bundle = tmp_path / "ann.zip"
    export_bundle(source, pid, bundle)
    target = open_store(f"sqlite:///{tmp_path / 'empty.db'}")
    added = import_bundle(target, bundle)
    assert added["sessions"] == len(MOMENTS) and added["pain"] == len(MOMENTS)
    # default programme + the physio's two changes; their two automatic notes + the flare-up
    assert added["programmes"] == 3 and added["annotations"] == 4
    for table in QUERIES:
        got, want = table_rows(target, table), table_rows(source, table)
        assert len(want) > 0, table
        pd.testing.assert_frame_equal(got, want, obj=table)
    # the exact instants, microseconds and all, as the user saved them
    assert list(target.sessions(pid)["started_at"]) == [pd.Timestamp(w) for w, _ in MOMENTS]
    assert list(target.sessions(pid)["day"]) == [pd.Timestamp(d) for _, d in MOMENTS]
    target.close()


@pytest.mark.parametrize("pseudonymise", [False, True])
def test_the_bundle_of_real_use_is_a_valid_data_package(used, tmp_path, pseudonymise):
    import zipfile

    from frictionless import validate

    source, pid = used
    export_bundle(source, pid, tmp_path / "a.zip", pseudonymise=pseudonymise, keep_text=True)
    with zipfile.ZipFile(tmp_path / "a.zip") as zf:
        zf.extractall(tmp_path / "a")
    report = validate(str(tmp_path / "a" / "datapackage.json"))
    assert report.valid, report.flatten(["rowNumber", "fieldName", "type", "note"])[:5]


def test_a_second_import_adds_nothing_and_a_re_export_is_the_same_data(used, tmp_path):
    source, pid = used
    export_bundle(source, pid, tmp_path / "a.zip")
    target = open_store(f"sqlite:///{tmp_path / 'empty.db'}")
    import_bundle(target, tmp_path / "a.zip")
    assert set(import_bundle(target, tmp_path / "a.zip").values()) == {0}
    export_bundle(target, pid, tmp_path / "b.zip")
    import zipfile

    with zipfile.ZipFile(tmp_path / "a.zip") as a, zipfile.ZipFile(tmp_path / "b.zip") as b:
        for name in a.namelist():
            if name.endswith(".csv") and name != "programmes.csv":  # programme keys are ids
                assert a.read(name) == b.read(name), name
    target.close()
