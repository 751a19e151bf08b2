"""Questionnaire responses in the store: validated, one per patient, instrument and day."""

from __future__ import annotations

import datetime as dt

import pytest

from backcare.errors import ConflictError, NotFoundError, ValidationError
from tests.support.stores import row_counts

# 00:30 on 1 February in London is still 31 January 19:30 in New York: the day is local
AT = dt.datetime(2026, 2, 1, 0, 30, 12, 345678, tzinfo=dt.UTC)


def test_saving_twice_stores_one_row_even_with_a_fresh_id(store, patient):
    answers = [True] * 6 + [False] * 18
    first = store.save_questionnaire(patient, "rmdq", answers, recorded_at=AT, response_id="a")
    again = store.save_questionnaire(patient, "rmdq", answers, recorded_at=AT, response_id="a")
    fresh = store.save_questionnaire(patient, "rmdq", answers, recorded_at=AT, response_id="b")
    assert first == again == fresh == "a"
    rows = store.questionnaires(patient)
    assert len(rows) == 1
    assert rows.dtypes.astype(str).to_dict() == {
        "response_id": "str",
        "patient_id": "str",
        "instrument": "str",
        "day": "datetime64[ns]",
        "recorded_at": "datetime64[ns, UTC]",
        "answers": "str",
        "score": "float64",
        "author": "str",
    }
    row = rows.iloc[0]
    assert row["score"] == 6.0  # six statements marked
    assert row["day"] == dt.datetime(2026, 2, 1)  # patient p1 lives in Europe/London
    assert row["recorded_at"] == AT


def test_the_day_is_the_patients_local_date(store):
    store.add_patient("ny", "NY", "America/New_York")
    store.save_questionnaire("ny", "groc", 2, recorded_at=AT)
    assert store.questionnaires("ny")["day"].iloc[0] == dt.datetime(2026, 1, 31)


def test_different_answers_the_same_day_conflict_unless_replaced(store, patient):
    day = dt.date(2026, 1, 20)
    store.save_questionnaire(patient, "groc", 3, day=day, recorded_at=AT, response_id="g1")
    with pytest.raises(ConflictError, match="already has a different groc response"):
        store.save_questionnaire(patient, "groc", 5, day=day, recorded_at=AT)
    assert store.questionnaires(patient)["score"].tolist() == [3.0]
    rid = store.save_questionnaire(patient, "groc", 5, day=day, recorded_at=AT, replace=True)
    assert rid == "g1"
    assert store.questionnaires(patient)["score"].tolist() == [5.0]


def test_bad_input_writes_nothing(store, patient):
    before = row_counts(store)
    with pytest.raises(ValidationError, match=r"^answers\[0\]\.score: 12 is not allowed"):
        store.save_questionnaire(patient, "psfs", [("walking", 12)], recorded_at=AT)
    with pytest.raises(ValidationError, match="^instrument: 'odi' is not allowed"):
        store.save_questionnaire(patient, "odi", 3, recorded_at=AT)
    with pytest.raises(ValidationError, match="^author: "):
        store.save_questionnaire(patient, "groc", 1, recorded_at=AT, author="x" * 201)
    with pytest.raises(NotFoundError):
        store.save_questionnaire("nobody", "groc", 1, day=dt.date(2026, 1, 2), recorded_at=AT)
    assert row_counts(store) == before


def test_a_reused_id_for_another_day_is_refused(store, patient):
    store.save_questionnaire(patient, "groc", 1, day=dt.date(2026, 1, 10), response_id="x")
    with pytest.raises(ConflictError, match="response_id: 'x' is already saved"):
        store.save_questionnaire(patient, "groc", 1, day=dt.date(2026, 1, 11), response_id="x")


def test_a_batch_is_one_transaction(store, patient):
    from backcare.domain.questionnaires import validate_response

    def resp(rid, day, rating):
        return validate_response(
            response_id=rid,
            patient_id=patient,
            instrument="groc",
            day=day,
            recorded_at=AT,
            answers=rating,
        )

    store.save_questionnaire(patient, "groc", 1, day=dt.date(2026, 1, 12), response_id="old")
    batch = [resp("n1", dt.date(2026, 1, 11), 2), resp("n2", dt.date(2026, 1, 12), 4)]
    with pytest.raises(ConflictError):
        store.save_questionnaires(batch)  # n2 contradicts "old": n1 is not written either
    assert store.questionnaires(patient)["response_id"].tolist() == ["old"]
    assert store.save_questionnaires(batch[:1]) == 1
    assert store.save_questionnaires(batch[:1]) == 0


def test_the_clinics_score_read_is_the_full_reads_columns(store, patient):
    import pandas as pd

    assert store.questionnaire_scores().empty
    store.add_patient("p2", "Two", "UTC")
    store.save_questionnaire(
        patient, "psfs", [("walking", 3), ("stairs", 4)], day=dt.date(2026, 1, 9)
    )
    store.save_questionnaire("p2", "rmdq", [True] * 7 + [False] * 17, day=dt.date(2026, 1, 8))
    store.save_questionnaire("p2", "groc", -2, day=dt.date(2026, 2, 8))
    cols = ["patient_id", "instrument", "day", "score"]
    full = store.questionnaires(None, None, "2026-01-31")[cols]
    fast = store.questionnaire_scores("2026-01-31").sort_values(cols, ignore_index=True)
    pd.testing.assert_frame_equal(fast, full.sort_values(cols, ignore_index=True))
    assert fast["score"].tolist() == [3.5, 7.0]  # (3 + 4) / 2; seven statements
