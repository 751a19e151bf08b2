"""The questionnaire catalog: scoring each instrument by hand, and one-line validation errors."""

from __future__ import annotations

import datetime as dt

import pytest

from backcare.domain.questionnaires import (
    GROC,
    INSTRUMENTS,
    PSFS,
    RMDQ,
    answers_from_json,
    answers_json,
    check_answers,
    score,
    validate_response,
)
from backcare.errors import ValidationError

AT = dt.datetime(2026, 1, 7, 23, 59, 59, 999999, tzinfo=dt.timezone(dt.timedelta(hours=-5)))


def test_rmdq_score_is_the_number_of_statements_marked():
    answers = [False] * 24
    for item in (1, 2, 5, 13, 24):  # five statements apply
        answers[item - 1] = True
    assert score(RMDQ, answers) == 5.0
    assert score(RMDQ, [True] * 24) == 24.0
    assert score(RMDQ, [False] * 24) == 0.0


def test_psfs_score_is_the_mean_of_the_activity_ratings():
    # (3 + 6 + 7) / 3 = 16 / 3 = 5.333...
    answers = [("walking 30 min", 3), ("gardening", 6), {"activity": "lifting child", "score": 7}]
    assert score(PSFS, answers) == pytest.approx(16 / 3)
    assert score(PSFS, [("sitting", 0)]) == 0.0


def test_groc_score_is_the_rating():
    assert score(GROC, 4) == 4.0
    assert score(GROC, [-7]) == -7.0


@pytest.mark.parametrize(
    ("instrument", "answers", "field", "allowed"),
    [
        (RMDQ, [True] * 23, "answers", "24 yes/no answers"),
        (RMDQ, [True] * 23 + [1], "answers[23]", "True or False"),
        (RMDQ, "yes", "answers", "24 yes/no answers"),
        (PSFS, [], "answers", "1 to 5 activities"),
        (PSFS, [("a", 1)] * 0 + [(f"a{i}", 1) for i in range(6)], "answers", "1 to 5"),
        (PSFS, [("walking", 11)], "answers[0].score", "a whole number from 0 to 10"),
        (PSFS, [("walking", None)], "answers[0].score", "a whole number from 0 to 10"),
        (PSFS, [("  ", 4)], "answers[0].activity", "not empty"),
        (PSFS, [("Walking", 4), ("walking", 5)], "answers[1].activity", "each activity once"),
        (GROC, 8, "answers", "a whole number from -7 to 7"),
        (GROC, None, "answers", "a whole number from -7 to 7"),
        ("oswestry", 3, "instrument", "one of rmdq, psfs, groc"),
    ],
)
def test_bad_answers_are_refused_in_one_line_naming_field_value_and_allowed(
    instrument, answers, field, allowed
):
    with pytest.raises(ValidationError) as err:
        check_answers(instrument, answers)
    message = str(err.value)
    assert "\n" not in message
    assert message.startswith(f"{field}: ")
    assert allowed in message


def test_validate_response_scores_and_keeps_utc_time_and_local_day():
    r = validate_response(
        response_id="r-1",
        patient_id="p1",
        instrument=PSFS,
        day=dt.date(2026, 1, 7),
        recorded_at=AT,
        answers=[(" walking ", 4), ("stairs", 5)],
        author="",
    )
    assert r.score == 4.5  # (4 + 5) / 2
    assert r.answers == (("walking", 4), ("stairs", 5))  # trimmed
    assert r.recorded_at == dt.datetime(2026, 1, 8, 4, 59, 59, 999999, tzinfo=dt.UTC)
    assert answers_from_json(answers_json(r.answers)) == r.answers


def test_every_instrument_states_its_source_and_licence():
    for inst in INSTRUMENTS.values():
        assert inst.threshold_source and inst.licence
    assert "Ostelo" in INSTRUMENTS[RMDQ].threshold_source
    assert "not shipped" in INSTRUMENTS[RMDQ].licence
    assert "Abbott" in INSTRUMENTS[PSFS].threshold_source
    assert "Kamper" in INSTRUMENTS[GROC].threshold_source
    assert len(INSTRUMENTS[RMDQ].items) == 24
