"""Schema versions: a store written by version 1 upgrades in place and loses no rows."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa

from backcare.errors import BackcareError
from backcare.store import open_store
from backcare.store import schema as S

FIXTURE = Path(__file__).parent / "fixtures" / "store_v1.db"


def _raw_counts(path: Path) -> dict[str, int]:
    import sqlite3

    con = sqlite3.connect(path)
    try:
        return {
            t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0]  # noqa: S608
            for t in (
                "patients",
                "programmes",
                "programme_items",
                "sessions",
                "session_items",
                "pain_scores",
                "annotations",
            )
        }
    finally:
        con.close()


def test_version_one_store_upgrades_in_place_without_losing_rows(tmp_path):
    path = tmp_path / "old.db"
    shutil.copy(FIXTURE, path)
    before = _raw_counts(path)
    assert before["sessions"] == 20 and before["session_items"] == 40
    with open_store(f"sqlite:///{path}") as store:
        assert store.schema_version() == S.SCHEMA_VERSION == 7
        after = _raw_counts(path)
        assert after == before
        # the new per-day summary was backfilled from the old rows:
        daily = store.daily("v1-a").set_index("day")
        first = daily.loc[pd.Timestamp("2025-01-06")]
        # day 0: plank done + pelvic tilt done (d % 2 == 0) -> 2 items; pain_before 6 - 0 // 3 = 6
        assert (first["sessions"], first["items_done"], first["pain_sum"], first["pain_n"]) == (
            1,
            2,
            6,
            1,
        )
        # the standalone pain score of 20 Jan is in the summary too
        assert daily.loc[pd.Timestamp("2025-01-20"), "pain_sum"] == 3
        assert int(store.daily("v1-b")["red_flag_sessions"].sum()) == 1
        # version 4 backfilled each session's done exercises from its items: plank every
        # day, pelvic tilt on even days (the fixture's rule), so 6 and 7 Jan differ
        done = store.done_counts("2025-01-06", "2025-01-07", "v1-a")
        got = zip(done["day"].dt.day, done["exercise_id"], done["done"], strict=True)
        assert list(got) == [
            (6, "pelvic-tilt", 1),
            (6, "plank", 1),
            (7, "plank", 1),
        ]
        # and the upgraded store takes new writes
        store.save_session(
            "v1-a",
            [{"exercise_id": "plank", "done": True, "hold_s": 30}],
            day=pd.Timestamp("2025-01-17").date(),
            pain_before=4,
        )
        assert len(store.sessions("v1-a")) == 11
        # version 5's questionnaire table exists, empty, and takes a response
        assert store.questionnaires("v1-a").empty
        store.save_questionnaire(
            "v1-a", "groc", 3, day=pd.Timestamp("2025-01-17").date(), response_id="r1"
        )
        assert store.questionnaires("v1-a")["score"].tolist() == [3.0]
    # opening again is a no-op
    with open_store(f"sqlite:///{path}") as store:
        assert store.schema_version() == 7 and len(store.sessions("v1-a")) == 11


def test_store_from_a_newer_version_is_refused(tmp_path):
    url = f"sqlite:///{tmp_path / 'new.db'}"
    open_store(url).close()
    eng = sa.create_engine(url)
    with eng.begin() as conn:
        conn.execute(sa.update(S.meta).values(value="99"))
    eng.dispose()
    with pytest.raises(BackcareError, match="schema version 99, newer"):
        open_store(url)


def test_fresh_store_has_every_table_and_the_one_patient_indexes(store):
    insp = sa.inspect(store.engine)
    assert set(S.metadata.tables) <= set(insp.get_table_names())
    for table, cols in (
        ("sessions", ["patient_id", "day"]),
        ("pain_scores", ["patient_id", "day"]),
        ("annotations", ["patient_id", "day"]),
        ("sessions", ["day"]),
        ("daily_summary", [*WINDOW_COLUMNS]),
    ):
        assert cols in [ix["column_names"] for ix in insp.get_indexes(table)]
    assert insp.get_pk_constraint("daily_summary")["constrained_columns"] == ["patient_id", "day"]


# the covering index of version 6: every column the clinic's window read selects
WINDOW_COLUMNS = ("day", "patient_id", "pain_sum", "pain_n", "sessions", "red_flag_sessions")


def _without_rowid(store) -> bool:
    with store.engine.connect() as conn:
        sql = conn.exec_driver_sql(
            "SELECT sql FROM sqlite_master WHERE name = 'daily_summary'"
        ).scalar()
    return "WITHOUT ROWID" in sql


def test_a_version_five_store_gets_the_version_six_summary_layout_with_its_rows(
    store_url, monkeypatch
):
    """Written by Store.save_session and add_pain into the version 5 layout (the summary a
    rowid table with an index on day), upgraded in place: the same daily rows, the new
    layout, and later saves still add to the right day."""
    import functools

    as_v5 = functools.partial(S.migrate, target=5)
    with monkeypatch.context() as m:
        m.setattr(S, "migrate", as_v5)
        with open_store(store_url) as store:
            assert store.schema_version() == 5
            store.add_patient("p1", "One")
            store.add_patient("p2", "Two")
            for pid, day, before, flags in (
                ("p1", "2026-03-01", 6, []),
                ("p1", "2026-03-02", 4, ["night-pain"]),
                ("p2", "2026-03-02", 3, []),
            ):
                store.save_session(
                    pid,
                    [{"exercise_id": "plank", "done": True, "hold_s": 30}],
                    day=pd.Timestamp(day).date(),
                    pain_before=before,
                    red_flags=flags,
                )
            store.add_pain("p1", 2, day=pd.Timestamp("2026-03-02").date())
            indexes = {ix["name"] for ix in sa.inspect(store.engine).get_indexes("daily_summary")}
            assert "ix_daily_summary_day" in indexes
            if store.engine.dialect.name == "sqlite":
                assert not _without_rowid(store)
            before_upgrade = store.daily("p1")
    with open_store(store_url) as store:
        assert store.schema_version() == 7
        pd.testing.assert_frame_equal(store.daily("p1"), before_upgrade)
        insp = sa.inspect(store.engine)
        by_name = {ix["name"]: ix["column_names"] for ix in insp.get_indexes("daily_summary")}
        assert "ix_daily_summary_day" not in by_name
        assert by_name[S.WINDOW_INDEX] == list(WINDOW_COLUMNS)
        if store.engine.dialect.name == "sqlite":
            assert _without_rowid(store)
        # 2 March, worked by hand: p1's session (pain 4, a red flag) and a quick score of 2;
        # p2's session (pain 3). A second p2 session that day adds pain 5.
        store.save_session(
            "p2",
            [{"exercise_id": "plank", "done": True, "hold_s": 30}],
            day=pd.Timestamp("2026-03-02").date(),
            pain_before=5,
        )
        window = store.daily_sums("2026-03-02", "2026-03-02")
        got = window[["patient_id", "pain_sum", "pain_n", "sessions", "red_flag_sessions"]]
        assert got.values.tolist() == [["p1", 6, 2, 1, 1], ["p2", 8, 2, 2, 0]]
        assert store.daily_sums("2026-03-01", "2026-03-01")["pain_sum"].tolist() == [6]


def test_a_read_only_open_refuses_an_older_store_and_says_how_to_upgrade(tmp_path):
    path = tmp_path / "old.db"
    shutil.copy(FIXTURE, path)
    with pytest.raises(BackcareError, match=r"schema version 1 is older .* `backcare patients`"):
        open_store(f"sqlite:///{path}", upgrade=False)
    assert _raw_counts(path)["sessions"] == 20  # untouched
    open_store(f"sqlite:///{path}").close()  # a command's open upgrades it
    open_store(f"sqlite:///{path}", upgrade=False).close()
