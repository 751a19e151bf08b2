"""Erasing a patient: every row of theirs, in one transaction, other patients untouched."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from backcare.cli import main
from backcare.store import open_store
from backcare.store import schema as S
from tests.support.stores import row_counts
from tests.support.usage import use_the_app

# What use_the_app writes, counted by hand: one programme of 3 exercises, 2 sessions of 3
# items, 1 quick pain score, the programme-change annotation set_programme records plus one
# note, and daily summaries for the 2 session days (2026-03-14, 2026-03-29) and the pain day
# (2026-03-16).
ONE_PATIENT = {
    "patients": 1,
    "programmes": 1,
    "programme_items": 3,
    "sessions": 2,
    "session_items": 6,
    "pain_scores": 1,
    "annotations": 2,
    "daily_summary": 3,
    "questionnaire_responses": 1,  # the GROC answered below
}


def test_every_table_but_meta_is_erased_per_patient(sqlite_url):
    with open_store(sqlite_url) as store, store.engine.connect() as conn:
        tables = set(sa.inspect(conn).get_table_names())
    erased = {t.name for t, _ in S.patient_tables("p")}
    assert erased == tables - {"meta"}


def test_erase_removes_every_row_of_the_patient_and_only_theirs(store):
    use_the_app(store, "maria")
    use_the_app(store, "other", "Other Person")
    for pid in ("maria", "other"):
        store.save_questionnaire(pid, "groc", 2, day=dt.date(2026, 3, 29))
    before = row_counts(store)
    assert store.erase_patient("maria", dry_run=True) == ONE_PATIENT
    assert row_counts(store) == before
    removed = store.erase_patient("maria")
    assert removed == ONE_PATIENT
    after = row_counts(store)
    assert after == {t: before[t] - ONE_PATIENT.get(t, 0) for t in before}
    # meta and (PostgreSQL) store_roles hold no rows of this store's patients here
    assert {t: n for t, n in after.items() if t not in ("meta", "store_roles")} == ONE_PATIENT
    assert store.patient("maria") is None
    assert len(store.sessions("other")) == 2 and len(store.pain("other")) == 1
    assert store.sessions("maria").empty and store.annotations("maria").empty


def test_cli_erase_asks_for_the_patient_id(sqlite_url, monkeypatch, capsys):
    with open_store(sqlite_url) as store:
        use_the_app(store, "maria")
        use_the_app(store, "other", "Other Person")
        before = row_counts(store)
    monkeypatch.setattr("builtins.input", lambda prompt: "other")
    assert main(["erase", "--patient", "maria", "--db", sqlite_url]) == 2
    err = capsys.readouterr().err.strip()
    assert err == (
        "backcare: error: confirmation: 'other' is not allowed; expected the patient id 'maria'"
    )
    with open_store(sqlite_url) as store:
        assert row_counts(store) == before

    monkeypatch.setattr("builtins.input", lambda prompt: "maria")
    assert main(["erase", "--patient", "maria", "--db", sqlite_url]) == 0
    out = capsys.readouterr().out
    assert "erased patient maria: 6 session_items, 2 sessions" in out
    assert "1 patients" in out
    with open_store(sqlite_url) as store:
        assert row_counts(store)["sessions"] == 2 and store.patient("maria") is None


def test_cli_erase_without_a_terminal_answer_writes_nothing(sqlite_url, monkeypatch, capsys):
    with open_store(sqlite_url) as store:
        use_the_app(store, "maria")
        before = row_counts(store)

    def no_input(prompt: str) -> str:
        raise EOFError

    monkeypatch.setattr("builtins.input", no_input)
    assert main(["erase", "--patient", "maria", "--db", sqlite_url]) == 2
    assert "confirmation: '' is not allowed" in capsys.readouterr().err
    with open_store(sqlite_url) as store:
        assert row_counts(store) == before


def test_cli_erase_yes_skips_the_question_and_unknown_is_one_line(sqlite_url, capsys):
    with open_store(sqlite_url) as store:
        use_the_app(store, "maria")
    assert main(["erase", "--patient", "maria", "--yes", "--db", sqlite_url]) == 0
    capsys.readouterr()
    assert main(["erase", "--patient", "maria", "--yes", "--db", sqlite_url]) == 2
    err = capsys.readouterr().err
    assert err == (
        "backcare: error: patient_id: 'maria' not found; expected a patient already in the store\n"
    )
