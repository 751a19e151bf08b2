"""A patient who used the app, exported and imported into an empty store: identical rows.

Everything is written through the user paths (today's Save, quick pain and questionnaires on
the real TodayView widgets, the physio's programme editor, annotation form and questionnaire
entered on the patient's behalf), at real times:
microseconds, a first row without them, a non-UTC zone, the day the clocks go forward and
the day they go back, a minute either side of midnight."""

from __future__ import annotations

import json

import pandas as pd
import pytest
import sqlalchemy as sa

from backcare.bundle import export_bundle, import_bundle
from backcare.errors import BundleError
from backcare.store import open_store
from tests.support.real_use import MOMENTS, PSFS_ACTIVITIES, use_the_app
from tests.support.stores import row_counts

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
    "questionnaire_responses": "SELECT * FROM questionnaire_responses",
}
# (local day, instrument, score, author) of the responses use_the_app writes, worked out by
# hand: RMDQ = statements ticked, PSFS = mean rating, GROC = the rating
LAST_DAY = MOMENTS[-1][1]
RESPONSES = [
    (MOMENTS[0][1], "rmdq", 4.0, ""),  # 1, 3, 10, 24 ticked
    (MOMENTS[2][1], "psfs", (3 + 6 + 2) / 3, ""),
    (MOMENTS[4][1], "groc", 3.0, ""),
    (LAST_DAY, "groc", 5.0, "@Dr K"),  # the physio, on the patient's behalf
    (LAST_DAY, "psfs", (7 + 8 + 5) / 3, ""),
    (LAST_DAY, "rmdq", 1.0, ""),  # 3 ticked
]


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
    assert added["questionnaires"] == len(RESPONSES)
    for table in QUERIES:
        got, want = table_rows(target, table), table_rows(source, table)
        assert len(want) > 0, table
        pd.testing.assert_frame_equal(got, want, obj=table)
    # the exact instants, microseconds and all, as the user saved them
    assert list(target.sessions(pid)["started_at"]) == [pd.Timestamp(w) for w, _ in MOMENTS]
    assert list(target.sessions(pid)["day"]) == [pd.Timestamp(d) for _, d in MOMENTS]
    q = target.questionnaires(pid)
    got = [
        (d.date(), i, s, a)
        for d, i, s, a in q[["day", "instrument", "score", "author"]].to_numpy().tolist()
    ]
    assert got == RESPONSES
    # the patient's answers and the instants they saved them, microseconds and all
    assert q["recorded_at"].iloc[0] == pd.Timestamp(MOMENTS[0][0])
    assert q["recorded_at"].iloc[1] == pd.Timestamp(MOMENTS[2][0])
    psfs = q[q["instrument"] == "psfs"]["answers"].tolist()
    assert json.loads(psfs[0]) == [[a, r] for a, r in zip(PSFS_ACTIVITIES, (3, 6, 2), strict=True)]
    target.close()


@pytest.mark.parametrize("keep_text", [False, True])
def test_a_pseudonymised_bundle_of_real_use_imports_with_its_questionnaires(
    used, tmp_path, keep_text
):
    source, pid = used
    export_bundle(source, pid, tmp_path / "p.zip", pseudonymise=True, keep_text=keep_text)
    target = open_store(f"sqlite:///{tmp_path / 'empty.db'}")
    assert import_bundle(target, tmp_path / "p.zip")["questionnaires"] == len(RESPONSES)
    (alias,) = target.patients()["patient_id"]
    q = target.questionnaires(alias)
    assert q["score"].tolist() == [s for _, _, s, _ in RESPONSES]  # the ratings are kept
    activities = [
        a for text in q[q["instrument"] == "psfs"]["answers"] for a, _ in json.loads(text)
    ]
    if keep_text:  # as typed, with the date moved and the time of day hidden like in notes
        assert activities[0].startswith("walk to the GP at hh:mm on 2000-")
        assert activities[1:3] == list(PSFS_ACTIVITIES[1:])
    else:
        assert activities[:3] == [f"activity {n}" for n in (1, 2, 3)]
    # a second import of the pseudonymised bundle (no name, all-empty columns) adds nothing
    assert set(import_bundle(target, tmp_path / "p.zip").values()) == {0}
    target.close()


def test_real_use_imports_into_either_database_with_its_questionnaires(used, store, tmp_path):
    source, pid = used
    export_bundle(source, pid, tmp_path / "a.zip")
    assert import_bundle(store, tmp_path / "a.zip")["questionnaires"] == len(RESPONSES)
    for reader in ("questionnaires", "pain", "annotations"):
        got, want = getattr(store, reader)(pid), getattr(source, reader)(pid)
        assert len(want) > 0, reader
        pd.testing.assert_frame_equal(got, want, obj=reader)
    assert set(import_bundle(store, tmp_path / "a.zip").values()) == {0}


def test_a_stored_response_that_differs_refuses_the_bundle(used, store, tmp_path):
    source, pid = used
    export_bundle(source, pid, tmp_path / "a.zip")
    target = store
    import_bundle(target, tmp_path / "a.zip")
    # the physio corrects the patient's GROC of 25 October in the target store (3 -> 2)
    groc = target.questionnaires(pid).query("instrument == 'groc'").iloc[0]
    target.save_questionnaire(
        pid, "groc", 2, day=MOMENTS[4][1], recorded_at=MOMENTS[4][0], replace=True
    )
    before = row_counts(target)
    # questionnaires.csv rows are ordered by day then instrument: the GROC of 25 Oct is row 2
    with pytest.raises(BundleError) as err:
        import_bundle(target, tmp_path / "a.zip")
    assert str(err.value) == (
        f"{tmp_path / 'a.zip'}: questionnaires.csv[2].answers: '[3]' differs from the store's "
        f"'[2]' for response_id {groc['response_id']!r}; nothing was imported"
    )
    assert "\n" not in str(err.value)
    assert row_counts(target) == before


def test_a_response_for_a_day_already_answered_under_another_id_is_refused(used, store, tmp_path):
    source, pid = used
    export_bundle(source, pid, tmp_path / "a.zip")
    target = store
    target.add_patient(pid, "Ann Example", "Europe/London")
    target.save_questionnaire(pid, "rmdq", [False] * 24, day=MOMENTS[0][1])
    before = row_counts(target)
    with pytest.raises(BundleError, match=r"questionnaires.csv\[0\].day: '2026-03-27' already"):
        import_bundle(target, tmp_path / "a.zip")
    assert row_counts(target) == before


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


def _with_questionnaires(src, dst, change) -> None:
    """A copy of bundle src whose questionnaires.csv is changed (hash, size and rows fixed, as
    someone editing the bundle would)."""
    import hashlib
    import zipfile

    with zipfile.ZipFile(src) as zin:
        files = {n: zin.read(n) for n in zin.namelist()}
    files["questionnaires.csv"] = change(files["questionnaires.csv"])
    desc = json.loads(files["datapackage.json"])
    for r in desc["resources"]:
        if r["path"] == "questionnaires.csv":
            r["hash"] = "sha256:" + hashlib.sha256(files[r["path"]]).hexdigest()
            r["bytes"] = len(files[r["path"]])
    files["datapackage.json"] = json.dumps(desc).encode()
    with zipfile.ZipFile(dst, "w") as zout:
        for n, data in files.items():
            zout.writestr(n, data)


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        # row 0 is the RMDQ with 4 statements ticked: its score can only be 4
        (b",4.0,\r\n", b",5.0,\r\n", "questionnaires[0].score: '5.0' is not allowed; expected 4.0"),
        (b",rmdq,", b",odi,", "questionnaires[0].instrument: 'odi' is not allowed"),
        # row 2 is the GROC of +3: GROC runs from -7 to 7
        (b",[3],", b",[9],", "questionnaires[2].answers: 9 is not allowed"),
        (b",[3],", b",not json,", "questionnaires[2].answers: 'not json' is not allowed"),
    ],
)
def test_an_altered_response_is_refused_and_nothing_is_written(used, tmp_path, old, new, message):
    source, pid = used
    export_bundle(source, pid, tmp_path / "a.zip")
    _with_questionnaires(tmp_path / "a.zip", tmp_path / "b.zip", lambda b: b.replace(old, new, 1))
    target = open_store(f"sqlite:///{tmp_path / 'empty.db'}")
    before = row_counts(target)
    with pytest.raises(BundleError) as err:
        import_bundle(target, tmp_path / "b.zip")
    assert message in str(err.value) and "\n" not in str(err.value)
    assert row_counts(target) == before
    target.close()
