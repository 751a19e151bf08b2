"""Inputs that used to end in a traceback: each is a one-line message naming the field, the
value and what is allowed (CLI exit status 2), and nothing is written."""

from __future__ import annotations

import datetime as dt

import pytest

from backcare.cli import main
from backcare.domain.programme import Prescription
from backcare.domain.session import SessionItem
from backcare.errors import ValidationError
from backcare.store import open_store
from tests.support.stores import row_counts
from tests.support.usage import PROGRAMME, PROGRAMME_START, use_the_app

PLANK = [SessionItem("plank", True, sets=1, hold_s=30)]


def one_line_error(capsys) -> str:
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    return err.strip()


@pytest.fixture
def app_url(sqlite_url) -> str:
    with open_store(sqlite_url) as store:
        use_the_app(store, "maria")
    return sqlite_url


# ---- text the database cannot hold --------------------------------------------------------
@pytest.mark.parametrize("text", ["before\x00after", "lone \ud800 surrogate"])
def test_unstorable_characters_in_notes_are_refused(store, text):
    use_the_app(store, "maria")
    before = row_counts(store)
    with pytest.raises(ValidationError) as exc:
        store.save_session("maria", PLANK, day=dt.date(2026, 3, 20), notes=text)
    assert str(exc.value).startswith(f"notes: {text!r} is not allowed; expected text of at most")
    assert "without NUL characters or unpaired surrogates" in str(exc.value)
    with pytest.raises(ValidationError, match="^text: "):
        store.add_annotation("maria", text, day=dt.date(2026, 3, 20))
    with pytest.raises(ValidationError, match="^name: "):
        store.add_patient("newcomer", text)
    assert row_counts(store) == before


def test_unstorable_characters_are_refused_in_bulk_columns_too(store):
    import pandas as pd

    from backcare.domain.rules import text_column

    notes = pd.Series(["fine", "nul\x00here"], name="notes", dtype=object)
    with pytest.raises(ValidationError, match=r"^sessions\[1\]\.notes: 'nul\\x00here'"):
        text_column("sessions", notes)


# ---- time zones and times ---------------------------------------------------------------------
def test_a_300_character_time_zone_is_refused(store):
    before = row_counts(store)
    with pytest.raises(ValidationError) as exc:
        store.add_patient("p9", "", "Europe/" + "x" * 293)
    assert str(exc.value).startswith("timezone: 'Europe/xxxx")
    assert str(exc.value).endswith("expected an IANA time zone name such as Europe/London")
    assert row_counts(store) == before


@pytest.mark.parametrize(
    "when",
    [
        dt.datetime(1, 1, 1, 0, 30, tzinfo=dt.timezone(dt.timedelta(hours=5))),
        dt.datetime(9999, 12, 31, 23, 0, tzinfo=dt.timezone(dt.timedelta(hours=-5))),
    ],
)
def test_times_near_year_1_or_9999_are_refused(store, when):
    use_the_app(store, "maria")
    before = row_counts(store)
    with pytest.raises(ValidationError) as exc:
        store.save_session("maria", PLANK, started_at=when)
    assert str(exc.value) == (
        f"started_at: {when.isoformat()!r} is not allowed; expected a timezone-aware date and "
        "time (ISO 8601) from 1900 on, not in the future or empty"
    )
    with pytest.raises(ValidationError, match="^recorded_at: "):
        store.add_pain("maria", 3, recorded_at=when)
    assert row_counts(store) == before


@pytest.mark.parametrize(
    ("argv", "field", "value"),
    [
        (
            ["export", "--patient", "maria", "--out", "x.zip", "--from", "0001-01-01"],
            "--from",
            "0001-01-01",
        ),
        (
            ["report", "--patient", "maria", "--out", "x.html", "--to", "9999-12-31"],
            "--to",
            "9999-12-31",
        ),
        (["summary", "--patient", "maria", "--on", "9999-12-31"], "--on", "9999-12-31"),
        (["overview", "--on", "0001-01-01"], "--on", "0001-01-01"),
    ],
)
def test_day_options_near_year_1_or_9999_are_refused(
    app_url, argv, field, value, capsys, tmp_path, monkeypatch
):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as exit_:
        main([*argv, "--db", app_url])
    assert exit_.value.code == 2
    err = one_line_error(capsys)
    assert f"error: argument {field}: {value!r} is not allowed; " in err
    assert "expected a date (YYYY-MM-DD) from 1900-01-01 to 2199-12-31" in err
    assert not list(tmp_path.glob("x.*"))


# ---- database URLs -----------------------------------------------------------------------------
def test_a_database_url_of_another_backend_is_refused(capsys):
    assert main(["patients", "--db", "mysql://clinic:s3cret@db.example/backcare"]) == 2
    err = one_line_error(capsys)
    assert err.startswith("backcare: error: db: 'mysql://...@db.example/backcare' is not allowed")
    assert "expected sqlite:///PATH (a SQLite file)" in err and "s3cret" not in err


def test_a_sqlite_url_naming_a_file_that_is_no_database_is_refused(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "notadb.txt").write_text("my notes\n", encoding="utf-8")
    assert main(["patients", "--db", "sqlite:///notadb.txt"]) == 2
    assert one_line_error(capsys) == (
        "backcare: error: db: 'sqlite:///notadb.txt' is not allowed; expected a SQLite database "
        "file, or a new file name in an existing or new folder (notadb.txt is not a SQLite "
        "database)"
    )
    assert (tmp_path / "notadb.txt").read_text(encoding="utf-8") == "my notes\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notadb.txt"]  # no -wal, no -shm


# ---- catalog files -----------------------------------------------------------------------------
def test_a_catalog_file_that_is_not_utf8_is_refused(app_url, tmp_path, monkeypatch, capsys):
    bad = tmp_path / "exercises.toml"
    bad.write_bytes(b'[[exercise]]\nid = "pont"\nname = "Pont fessier"\n' + "é".encode("latin-1"))
    monkeypatch.setenv("BACKCARE_CATALOG", str(bad))
    assert main(["patients", "--db", app_url]) == 2
    # 'é' in Latin-1 is the byte 0xe9, after 13 + 12 + 22 ASCII bytes (the three lines): offset 47
    assert one_line_error(capsys) == (
        f"backcare: error: {bad}: byte 47 is not UTF-8 (b'\\xe9'); "
        "expected a TOML file saved as UTF-8"
    )


# ---- files written -----------------------------------------------------------------------------
@pytest.mark.parametrize("out", ["/proc/x.zip", ".", "folder/"])
def test_export_to_a_place_that_cannot_hold_a_file_is_refused(
    app_url, out, tmp_path, monkeypatch, capsys
):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "folder").mkdir()
    assert main(["export", "--patient", "maria", "--out", out, "--db", app_url]) == 2
    err = one_line_error(capsys)
    assert err.startswith(f"backcare: error: --out: {out!r} is not allowed; expected a file")
    assert not list(tmp_path.rglob("*.zip*")) and not list((tmp_path / "folder").iterdir())


@pytest.mark.parametrize("command", ["export", "report"])
def test_from_after_to_is_refused(app_url, command, tmp_path, capsys):
    out = tmp_path / ("x.zip" if command == "export" else "x.html")
    argv = [command, "--patient", "maria", "--out", str(out), "--from", "2026-03-20"]
    assert main([*argv, "--to", "2026-03-10", "--db", app_url]) == 2
    err = one_line_error(capsys)
    assert "'2026-03-20' is not allowed; expected a day on or before" in err
    assert "(2026-03-10)" in err and not out.exists()


# ---- imports -----------------------------------------------------------------------------------
def test_importing_a_session_id_held_by_another_patient_is_refused(app_url, tmp_path, capsys):
    with open_store(app_url) as store:
        taken = store.sessions("maria")["session_id"].iloc[0]
        before = row_counts(store)
    other = f"sqlite:///{tmp_path / 'other.db'}"
    with open_store(other) as store:
        store.add_patient("jon", "Jon", "Europe/London")
        store.set_programme("jon", PROGRAMME, PROGRAMME_START)
        store.save_session("jon", PLANK, day=dt.date(2026, 3, 20), session_id=taken)
    bundle = tmp_path / "jon.zip"
    assert main(["export", "--patient", "jon", "--out", str(bundle), "--db", other]) == 0
    capsys.readouterr()
    assert main(["import", str(bundle), "--db", app_url]) == 2
    err = one_line_error(capsys)
    assert f"sessions[0].session_id: {taken!r} is not allowed; " in err
    assert "expected an id not already in the store (it is stored for another patient)" in err
    with open_store(app_url) as store:
        assert row_counts(store) == before


# ---- programme notes and time zones ------------------------------------------------------------
def test_same_programme_with_a_new_note_stores_the_note(store):
    use_the_app(store, "maria")
    first = store.programme_on("maria", PROGRAMME_START)
    assert first is not None and first.note == "start gently"
    annotations = len(store.annotations("maria"))
    again = store.set_programme(
        "maria", PROGRAMME, PROGRAMME_START, author="Ana (physio)", note="start gently"
    )
    assert again == first.programme_id  # exactly the same: a no-op
    newer = store.set_programme(
        "maria", PROGRAMME, PROGRAMME_START, author="Ana (physio)", note="go slower"
    )
    assert newer != first.programme_id
    current = store.programme_on("maria", PROGRAMME_START)
    assert current is not None and (current.note, current.items) == ("go slower", PROGRAMME)
    assert store.prescriptions("maria")["note"].unique().tolist() == ["go slower"]
    assert len(store.annotations("maria")) == annotations  # the exercises did not change


def test_changing_the_time_zone_of_a_patient_with_records_is_refused(store):
    use_the_app(store, "maria")
    before = row_counts(store)
    with pytest.raises(ValidationError) as exc:
        store.add_patient("maria", "Maria Lopez", "America/New_York")
    assert str(exc.value) == (
        "timezone: 'America/New_York' is not allowed; expected the patient's time zone "
        "'Europe/Madrid': their sessions and pain scores are filed by local days there; record "
        "a move with Store.change_timezone(patient_id, timezone, from_day)"
    )
    # the last record is the session of 2026-03-29: a move from that day would re-file
    with pytest.raises(
        ValidationError,
        match=r"^from_day: '2026-03-29' is not allowed; expected a day after 2026-03-29",
    ):
        store.change_timezone("maria", "America/New_York", dt.date(2026, 3, 29))
    assert row_counts(store) == before


def test_a_time_zone_change_is_recorded_from_a_date(store):
    use_the_app(store, "maria")
    store.change_timezone("maria", "America/New_York", dt.date(2026, 3, 30))
    assert store.patient("maria")["timezone"] == "America/New_York"
    notes = store.annotations("maria")
    moved = notes[notes["text"].str.startswith("Time zone")]
    assert moved["text"].tolist() == [
        "Time zone changed from Europe/Madrid to America/New_York from 2026-03-30"
    ]
    assert moved["day"].tolist() == [dt.datetime(2026, 3, 30)]
    # 2026-03-31 03:00 UTC is 23:00 on 2026-03-30 in New York (UTC-4 in summer)
    at = dt.datetime(2026, 3, 31, 3, 0, tzinfo=dt.UTC)
    sid = store.save_session("maria", PLANK, started_at=at)
    assert store.get_session(sid).day == dt.date(2026, 3, 30)
    # earlier records keep their days
    assert store.sessions("maria")["day"].dt.date.tolist() == [
        dt.date(2026, 3, 14),
        dt.date(2026, 3, 29),
        dt.date(2026, 3, 30),
    ]


def test_a_patient_without_records_may_change_zone_freely(store):
    store.add_patient("new", "New", "Europe/Madrid")
    store.set_programme("new", [Prescription("plank", hold_s=30)], PROGRAMME_START)
    store.add_patient("new", "New", "Asia/Tokyo")
    assert store.patient("new")["timezone"] == "Asia/Tokyo"
