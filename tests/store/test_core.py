"""The store: sessions, programmes, pain scores and annotations written safely and read back."""

from __future__ import annotations

import datetime as dt
import math

import pandas as pd
import pytest
import sqlalchemy as sa

from backcare.domain.programme import Prescription
from backcare.errors import ConflictError, NotFoundError, ValidationError
from backcare.store import READ_DTYPES, open_store
from backcare.store.bulk import load_frames
from tests.support.stores import START, row_counts

DAY = START + dt.timedelta(days=3)
ITEMS = [
    {"exercise_id": "plank", "done": True, "hold_s": 30},
    {"exercise_id": "pelvic-tilt", "done": True, "reps": 12},
    {"exercise_id": "cat-cow", "done": False},
]


def test_sqlite_store_uses_wal_busy_timeout_and_foreign_keys(sqlite_url):
    store = open_store(sqlite_url)
    with store.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30000
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL


def test_backcare_db_env_selects_the_store(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'env.db'}"
    monkeypatch.setenv("BACKCARE_DB", url)
    with open_store() as s:
        assert str(s.engine.url) == url


def test_save_and_read_back_a_session(store, patient):
    started = dt.datetime(2026, 1, 8, 18, 30, tzinfo=dt.UTC)
    sid = store.save_session(
        patient,
        ITEMS,
        day=DAY,
        pain_before=6,
        pain_after=4,
        notes="felt ok",
        started_at=started,
        ended_at=started + dt.timedelta(minutes=20),
    )
    s = store.sessions(patient)
    assert list(s["session_id"]) == [sid]
    row = s.iloc[0]
    assert row["day"] == pd.Timestamp(DAY)
    assert row["started_at"] == pd.Timestamp(started)
    assert (row["pain_before"], row["pain_after"], row["notes"]) == (6, 4, "felt ok")
    assert row["programme_id"] == store.programme_on(patient, DAY).programme_id
    items = store.items(patient).set_index("exercise_id")
    assert items.loc["plank", "hold_s"] == 30 and bool(items.loc["plank", "done"])
    assert items.loc["pelvic-tilt", "reps"] == 12
    assert not bool(items.loc["cat-cow", "done"]) and pd.isna(items.loc["cat-cow", "reps"])


def test_readers_return_documented_dtypes_even_when_empty(store, patient):
    for kind, frame in [
        ("sessions", store.sessions(patient)),
        ("items", store.items(patient)),
        ("pain", store.pain(patient)),
        ("daily", store.daily(patient)),
    ]:
        assert frame.empty
        assert {c: str(t) for c, t in frame.dtypes.items()} == READ_DTYPES[kind]
    store.save_session(patient, ITEMS, day=DAY, pain_before=5)
    assert {c: str(t) for c, t in store.items(patient).dtypes.items()} == READ_DTYPES["items"]
    assert {c: str(t) for c, t in store.sessions(patient).dtypes.items()} == READ_DTYPES["sessions"]


def test_readers_filter_by_patient_and_inclusive_date_range(store, patient):
    store.add_patient("p2")
    for i in range(5):
        store.save_session(patient, ITEMS, day=START + dt.timedelta(days=i), pain_before=5)
        store.save_session("p2", ITEMS, day=START + dt.timedelta(days=i), pain_before=3)
    got = store.sessions(patient, START + dt.timedelta(days=1), START + dt.timedelta(days=3))
    assert list(got["day"].dt.date) == [START + dt.timedelta(days=i) for i in (1, 2, 3)]
    assert set(got["patient_id"]) == {patient}
    assert len(store.items("p2", START, START)) == 3


def test_saving_the_same_session_twice_is_a_no_op(store, patient):
    sid = store.save_session(patient, ITEMS, day=DAY, pain_before=6, session_id="abc-1")
    again = store.save_session(
        patient, list(reversed(ITEMS)), day=DAY, pain_before=6, session_id="abc-1"
    )
    assert sid == again == "abc-1"
    assert row_counts(store)["sessions"] == 1 and row_counts(store)["session_items"] == 3


def test_same_id_with_different_content_conflicts_unless_replace(store, patient):
    store.save_session(patient, ITEMS, day=DAY, pain_before=6, session_id="abc-1")
    with pytest.raises(ConflictError, match="abc-1"):
        store.save_session(patient, ITEMS, day=DAY, pain_before=7, session_id="abc-1")
    store.save_session(
        patient,
        ITEMS[:1],
        day=DAY + dt.timedelta(days=1),
        pain_before=7,
        session_id="abc-1",
        replace=True,
    )
    s = store.get_session("abc-1")
    assert s.pain_before == 7 and len(s.items) == 1 and s.day == DAY + dt.timedelta(days=1)
    daily = store.daily(patient).set_index("day")
    # the summary left the old day and moved to the new one
    assert pd.Timestamp(DAY) not in daily.index
    assert daily.loc[pd.Timestamp(DAY + dt.timedelta(days=1)), "sessions"] == 1


def test_day_defaults_to_the_local_date_of_the_start_time(store):
    store.add_patient("tokyo", timezone="Asia/Tokyo")
    # 23:30 UTC on 7 Jan is 08:30 on 8 Jan in Tokyo
    sid = store.save_session(
        "tokyo", ITEMS, started_at=dt.datetime(2026, 1, 7, 23, 30, tzinfo=dt.UTC)
    )
    assert store.get_session(sid).day == dt.date(2026, 1, 8)


def test_programme_history_answers_what_was_prescribed_on_a_date(store, patient):
    first = store.programme_on(patient, START)
    assert len(first.items) == 8 and all(p.times_per_week == 7 for p in first.items)
    later = START + dt.timedelta(days=10)
    new = [
        Prescription("plank", hold_s=45, times_per_week=3),
        Prescription("brisk-walking", minutes=12),
    ]
    pid = store.set_programme(patient, new, later, author="physio")
    assert (
        store.programme_on(patient, later - dt.timedelta(days=1)).programme_id == first.programme_id
    )
    assert store.programme_on(patient, later).programme_id == pid
    assert store.programme_on(patient, START - dt.timedelta(days=1)) is None
    pres = store.prescriptions(patient)
    assert set(pres["programme_id"]) == {first.programme_id, pid}
    old_rows = pres[pres["programme_id"] == first.programme_id]
    assert (old_rows["valid_to"] == pd.Timestamp(later - dt.timedelta(days=1))).all()
    assert pres[pres["programme_id"] == pid]["valid_to"].isna().all()


def test_changing_a_programme_annotates_the_timeline(store, patient):
    store.set_programme(
        patient, [Prescription("plank", hold_s=45)], START + dt.timedelta(days=5), author="Dr K"
    )
    notes = store.annotations(patient)
    change = notes[notes["kind"] == "programme-change"]
    assert len(change) == 2  # the default programme and this change
    assert "Plank (Hold 45 s, 7x/week)" in change.iloc[-1]["text"]
    assert change.iloc[-1]["author"] == "Dr K"


def test_same_programme_again_is_a_no_op(store, patient):
    before = row_counts(store)
    from backcare.domain.programme import default_programme

    store.set_programme(patient, default_programme(store.catalog, START), START)
    assert row_counts(store) == before


def test_a_programme_edited_from_a_stale_one_is_refused_and_writes_nothing(store, patient):
    loaded = store.programme_on(patient, START).programme_id  # what two editors start from
    later = START + dt.timedelta(days=3)
    first = store.set_programme(
        patient, [Prescription("plank", hold_s=45)], later, expected_current=loaded
    )
    before = row_counts(store)
    with pytest.raises(ConflictError, match="changed meanwhile"):
        store.set_programme(
            patient, [Prescription("plank", hold_s=60)], later, expected_current=loaded
        )
    assert row_counts(store) == before
    assert store.programme_on(patient, later).get("plank").hold_s == 45
    # expected None: "no programme yet", refused once there is one; accepted for a new patient
    with pytest.raises(ConflictError):
        store.set_programme(
            patient, [Prescription("plank", hold_s=60)], later, expected_current=None
        )
    store.add_patient("p2")
    store.set_programme("p2", [Prescription("plank", hold_s=30)], START, expected_current=None)
    # editing from the latest programme goes through
    again = store.set_programme(
        patient, [Prescription("plank", hold_s=60)], later, expected_current=first
    )
    assert again != first and store.programme_on(patient, later).get("plank").hold_s == 60


def test_secret_is_made_once_and_kept(store):
    key = store.secret("pseudonym_key")
    assert len(key) == 32
    assert store.secret("pseudonym_key") == key
    assert store.secret("other") != key


def test_pain_scores_and_annotations_round_trip(store, patient):
    at = dt.datetime(2026, 1, 9, 7, 0, tzinfo=dt.UTC)
    store.add_pain(patient, 7, recorded_at=at, context="morning", pain_id="pain-1")
    store.add_pain(patient, 7, recorded_at=at, context="morning", pain_id="pain-1")
    pain = store.pain(patient)
    assert len(pain) == 1 and pain.iloc[0]["score"] == 7 and pain.iloc[0]["context"] == "morning"
    store.add_annotation(
        patient, "moved house", day=DAY, author="Dr K", kind="flare-up", annotation_id="a1"
    )
    store.add_annotation(
        patient, "moved house", day=DAY, author="Dr K", kind="flare-up", annotation_id="a1"
    )
    ann = store.annotations(patient)
    assert list(ann[ann["kind"] == "flare-up"]["text"]) == ["moved house"]
    with pytest.raises(ConflictError, match="annotation_id: 'a1'"):
        store.add_annotation(
            patient, "moved flat", day=DAY, author="Dr K", kind="flare-up", annotation_id="a1"
        )
    with pytest.raises(ConflictError, match="pain_id: 'pain-1'"):
        store.add_pain(patient, 8, recorded_at=at, context="morning", pain_id="pain-1")


def test_daily_summary_matches_sessions_items_and_pain(store, patient):
    store.save_session(patient, ITEMS, day=DAY, pain_before=6, red_flags=["night-pain"])
    store.save_session(patient, ITEMS[:1], day=DAY, pain_before=4)
    store.add_pain(patient, 5, day=DAY, recorded_at=dt.datetime(2026, 1, 8, 7, tzinfo=dt.UTC))
    row = store.daily(patient).iloc[0]
    # two sessions; items done 2 (plank, pelvic tilt) + 1 (plank); pain 6 + 4 + 5 over 3
    assert (
        row["sessions"],
        row["items_done"],
        row["pain_sum"],
        row["pain_n"],
        row["red_flag_sessions"],
    ) == (2, 3, 15, 3, 1)


def test_delete_session_removes_items_and_summary(store, patient):
    sid = store.save_session(patient, ITEMS, day=DAY, pain_before=6)
    store.delete_session(sid)
    c = row_counts(store)
    assert c["sessions"] == c["session_items"] == c["daily_summary"] == 0
    with pytest.raises(NotFoundError):
        store.get_session(sid)


def test_patients_lists_sessions_and_date_range(store, patient):
    store.add_patient("p0-empty")
    store.save_session(patient, ITEMS, day=DAY, pain_before=6)
    store.save_session(patient, ITEMS, day=DAY + dt.timedelta(days=4), pain_before=6)
    df = store.patients().set_index("patient_id")
    assert df.loc[patient, "sessions"] == 2
    assert df.loc[patient, "first_day"] == pd.Timestamp(DAY)
    assert df.loc[patient, "last_day"] == pd.Timestamp(DAY + dt.timedelta(days=4))
    assert df.loc["p0-empty", "sessions"] == 0 and pd.isna(df.loc["p0-empty", "first_day"])


BAD_SESSIONS = [
    ({"pain_before": 11}, "pain_before", "0 to 10"),
    ({"pain_before": -1}, "pain_before", "0 to 10"),
    ({"pain_after": 4.5}, "pain_after", "whole number"),
    ({"pain_after": True}, "pain_after", "whole number"),
    ({"pain_after": "5"}, "pain_after", "whole number"),
    ({"day": dt.date.today() + dt.timedelta(days=5)}, "day", "not in the future"),
    ({"day": "yesterday"}, "day", "YYYY-MM-DD"),
    ({"session_id": ""}, "session_id", "letters"),
    ({"items": [{"exercise_id": "handstand", "done": True}]}, "items[0].exercise_id", "catalog"),
    ({"items": [{"exercise_id": "plank", "done": "yes"}]}, "items[0].done", "True or False"),
    (
        {"items": [{"exercise_id": "plank", "done": True, "hold_s": -5}]},
        "items[0].hold_s",
        "0 to 600",
    ),
    (
        {"items": [{"exercise_id": "plank", "done": True, "hold_s": 10_000}]},
        "items[0].hold_s",
        "0 to 600",
    ),
    ({"items": [{"exercise_id": "plank", "done": True, "colour": 1}]}, "items[0].colour", "one of"),
    ({"items": [{"exercise_id": "plank", "done": True}] * 2}, "items.exercise_id", "at most once"),
    ({"items": "plank"}, "items", "list"),
    ({"red_flags": ["headache"]}, "red_flags", "saddle-numbness"),
    ({"notes": 42}, "notes", "text"),
    ({"started_at": dt.datetime(2026, 1, 8, 10)}, "started_at", "timezone-aware"),
]


@pytest.mark.parametrize(("change", "field", "allowed"), BAD_SESSIONS)
def test_bad_session_input_is_refused_naming_field_and_writes_nothing(
    store, patient, change, field, allowed
):
    before = row_counts(store)
    kwargs = {"day": DAY, "pain_before": 5, **change}
    items = kwargs.pop("items", ITEMS)
    with pytest.raises(ValidationError) as err:
        store.save_session(patient, items, **kwargs)
    assert err.value.field == field
    assert str(err.value).startswith(f"{field}: ") and allowed in str(err.value)
    assert row_counts(store) == before


def test_unknown_patient_is_refused_and_writes_nothing(store, patient):
    before = row_counts(store)
    with pytest.raises(NotFoundError, match="patient_id: 'nobody'"):
        store.save_session("nobody", ITEMS, day=DAY)
    with pytest.raises(NotFoundError):
        store.add_pain("nobody", 3)
    with pytest.raises(NotFoundError):
        store.add_annotation("nobody", "hello")
    assert row_counts(store) == before


@pytest.mark.parametrize(
    ("items", "field"),
    [
        ([], "items"),
        ([Prescription("plank", hold_s=0)], "items[0].hold_s"),
        ([Prescription("plank", hold_s=30, reps=10)], "items[0].reps"),
        ([Prescription("plank", hold_s=30, times_per_week=0)], "items[0].times_per_week"),
        ([Prescription("plank", hold_s=30, sets=50)], "items[0].sets"),
        ([Prescription("yoga", minutes=10)], "items[0].exercise_id"),
        ([{"exercise_id": "plank", "hold_s": 30, "speed": 3}], "items[0].speed"),
    ],
)
def test_bad_programmes_are_refused(store, patient, items, field):
    before = row_counts(store)
    with pytest.raises(ValidationError) as err:
        store.set_programme(patient, items, START)
    assert err.value.field == field
    assert row_counts(store) == before


def test_bad_patient_and_annotation_input(store, patient):
    with pytest.raises(ValidationError, match="timezone"):
        store.add_patient("p9", timezone="Mars/Olympus")
    with pytest.raises(ValidationError, match="patient_id"):
        store.add_patient("has space")
    with pytest.raises(ValidationError, match="kind: 'gossip'"):
        store.add_annotation(patient, "x", kind="gossip")
    with pytest.raises(ValidationError, match="text"):
        store.add_annotation(patient, "   ")
    with pytest.raises(ValidationError, match="context"):
        store.add_pain(patient, 3, context="after lunch")


def test_incremental_daily_summary_equals_a_full_recompute(store, patient):
    import random

    from backcare.store import schema as S

    rng = random.Random(4)
    for i in range(40):
        day = START + dt.timedelta(days=rng.randrange(6))
        items = [
            {"exercise_id": e, "done": rng.random() < 0.6} for e in ("plank", "cat-cow", "bird-dog")
        ]
        sid = store.save_session(
            patient,
            items,
            day=day,
            pain_before=rng.choice([None, 2, 5, 9]),
            red_flags=["fever-weight-loss"] if rng.random() < 0.1 else [],
        )
        if i % 5 == 0:  # an update moving the session to another day
            store.save_session(
                patient,
                items[:1],
                day=START + dt.timedelta(days=7),
                pain_before=3,
                session_id=sid,
                replace=True,
            )
        if i % 3 == 0:
            store.add_pain(
                patient,
                rng.randrange(11),
                day=day,
                recorded_at=dt.datetime(2026, 1, 5, 8, tzinfo=dt.UTC),
            )
    kept = store.daily(patient)
    with store.transaction() as conn:
        S.refresh_summary(conn, lambda t: sa.true())
    pd.testing.assert_frame_equal(kept, store.daily(patient))
    assert int(kept["sessions"].sum()) == 40


def test_done_counts_follow_every_write_of_a_session(store, patient):
    """done_counts reads each session's done exercises, written with the session: they
    follow a save, a replace that moves the session and changes its ticks, a delete, and a
    bulk load (two sessions on one day count twice)."""
    nxt = DAY + dt.timedelta(days=1)

    def counts() -> list[tuple[int, str, int]]:
        d = store.done_counts(DAY, nxt, patient)
        return list(zip(d["day"].dt.day, d["exercise_id"], d["done"], strict=True))

    d1, d2 = DAY.day, nxt.day
    sid = store.save_session(patient, ITEMS, day=DAY)  # plank and pelvic tilt done
    assert counts() == [(d1, "pelvic-tilt", 1), (d1, "plank", 1)]
    moved = [
        {"exercise_id": "plank", "done": False},
        {"exercise_id": "cat-cow", "done": True},
    ]
    store.save_session(patient, moved, day=nxt, session_id=sid, replace=True)
    assert counts() == [(d2, "cat-cow", 1)]
    store.save_session(patient, ITEMS[:1], day=nxt)  # plank done
    store.delete_session(sid)
    assert counts() == [(d2, "plank", 1)]
    load_frames(
        store,
        sessions=pd.DataFrame(
            {
                "session_id": ["bulk-1", "bulk-2"],
                "patient_id": [patient, patient],
                "day": [DAY.isoformat(), nxt.isoformat()],
                "started_at": [None, None],
                "ended_at": [None, None],
                "pain_before": [None, None],
                "pain_after": [None, None],
                "notes": ["", ""],
                "red_flags": ["", ""],
            }
        ),
        items=pd.DataFrame(
            {
                "session_id": ["bulk-1", "bulk-1", "bulk-2"],
                "exercise_id": ["plank", "cat-cow", "plank"],
                "done": [True, False, True],
                "sets": [None, None, None],
                "reps": [None, None, None],
                "hold_s": [30, None, 30],
                "minutes": [None, None, None],
            }
        ),
    )
    # bulk-1 adds plank on the first day; bulk-2 a second plank on the next
    assert counts() == [(d1, "plank", 1), (d2, "plank", 2)]


def test_prescriptions_in_force_from_a_day_leave_out_only_programmes_ended_before_it(
    store, patient
):
    """The clinic reads only the programmes in force in its window; valid_to stays right."""
    first = store.programme_on(patient, START).programme_id  # from START
    second = store.set_programme(
        patient, [Prescription("plank", hold_s=40)], START + dt.timedelta(days=10), author="Dr K"
    )
    third = store.set_programme(
        patient, [Prescription("plank", hold_s=50)], START + dt.timedelta(days=20)
    )
    # worked by hand: on START+15 the first programme has ended (START+9), the second runs
    # START+10..START+19, the third from START+20 on
    day15 = store.prescriptions(patient, in_force_from=START + dt.timedelta(days=15))
    assert set(day15["programme_id"]) == {second, third}
    by_id = day15.drop_duplicates("programme_id").set_index("programme_id")["valid_to"]
    assert by_id[second] == pd.Timestamp(START + dt.timedelta(days=19))
    assert pd.isna(by_id[third])
    # on the day the second starts, the first is over; the day before, it is still in force
    assert set(
        store.prescriptions(patient, in_force_from=START + dt.timedelta(days=10))["programme_id"]
    ) == {second, third}
    assert set(
        store.prescriptions(patient, in_force_from=START + dt.timedelta(days=9))["programme_id"]
    ) == {first, second, third}
    # without the notes: the same rows, author and note left empty
    light = store.prescriptions(patient, in_force_from=START + dt.timedelta(days=15), notes=False)
    assert (day15["author"] == "Dr K").any() and (light["author"] == "").all()
    assert (light["note"] == "").all()
    text = ["author", "note"]
    pd.testing.assert_frame_equal(light.drop(columns=text), day15.drop(columns=text))
    # the whole history, and the first start, are unchanged by the window
    assert set(store.prescriptions(patient)["programme_id"]) == {first, second, third}
    assert store.programme_starts().to_dict() == {patient: pd.Timestamp(START)}


def test_window_sessions_read_done_items_and_scored_sessions_in_one_pass(store, patient):
    day = START + dt.timedelta(days=2)
    store.save_session(patient, ITEMS, day=day, pain_before=6, pain_after=4)
    store.save_session(patient, [{"exercise_id": "plank", "done": False}], day=day, pain_before=5)
    store.save_session(patient, [{"exercise_id": "cat-cow", "done": True}], day=START)
    items, pain = store.window_sessions(day, day)
    # two items ticked on the day (the third of ITEMS was not done; the second session
    # ticked none; the START session is outside the window)
    assert sorted(items["exercise_id"]) == ["pelvic-tilt", "plank"]
    assert items.set_index("exercise_id").loc["plank", "hold_s"] == 30
    assert items.set_index("exercise_id").loc["pelvic-tilt", "reps"] == 12
    assert (items["patient_id"] == patient).all() and (items["day"] == pd.Timestamp(day)).all()
    # only the session with both scores
    assert pain[["pain_before", "pain_after"]].values.tolist() == [[6.0, 4.0]]
    pd.testing.assert_frame_equal(items, store.done_items(day, day))
    pd.testing.assert_frame_equal(pain, store.session_pain(day, day))


def test_count_items_counts_ticks_per_day_and_per_recorded_dose():
    from backcare.store.core import count_items

    nan = float("nan")
    d1, d2 = pd.Timestamp("2026-03-01"), pd.Timestamp("2026-03-02")
    items = pd.DataFrame(
        {
            "patient_id": pd.array(["b", "a", "a", "a", "a", "a"], dtype="str"),
            "day": [d1, d2, d1, d1, d1, d1],
            "exercise_id": pd.array(
                ["plank", "plank", "plank", "plank", "plank", "cat-cow"], dtype="str"
            ),
            "reps": [nan, nan, nan, nan, nan, 10.0],
            "hold_s": [30.0, 45.0, 45.0, nan, 45.0, nan],
            "minutes": [nan] * 6,
        }
    )
    done, doses = count_items(items)
    # by hand: a/d1/cat-cow 1; a/d1/plank 3 (45, not recorded, 45); a/d2/plank 1; b/d1/plank 1
    assert done.values.tolist() == [
        ["a", d1, "cat-cow", 1],
        ["a", d1, "plank", 3],
        ["a", d2, "plank", 1],
        ["b", d1, "plank", 1],
    ]
    # a/d1/plank splits by dose: 45 s twice, then the unrecorded one (NaN sorts last)
    plank = doses[
        (doses["patient_id"] == "a") & (doses["day"] == d1) & (doses["exercise_id"] == "plank")
    ]
    assert plank["hold_s"].tolist()[0] == 45.0 and math.isnan(plank["hold_s"].tolist()[1])
    assert plank["n"].tolist() == [2, 1]
    assert doses["n"].sum() == len(items) and len(doses) == 5


def test_reads_in_a_snapshot_do_not_see_a_session_saved_meanwhile(store, patient):
    first = store.save_session(patient, ITEMS, day=DAY, pain_before=5)
    with store.snapshot():
        assert list(store.sessions(patient)["session_id"]) == [first]
        # saved by this thread while the snapshot is open: committed, but not in the snapshot
        later = store.save_session(patient, ITEMS, day=DAY + dt.timedelta(days=1))
        assert list(store.sessions(patient)["session_id"]) == [first]
        assert len(store.items(patient)) == len(ITEMS)  # the first session's 3 items only
        with store.snapshot():  # nested: the same snapshot
            assert list(store.sessions(patient)["session_id"]) == [first]
    assert list(store.sessions(patient)["session_id"]) == [first, later]
    assert len(store.items(patient)) == 2 * len(ITEMS)
