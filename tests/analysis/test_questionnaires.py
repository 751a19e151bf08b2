"""Questionnaire outcomes: baseline (anchored at the programme's start) against latest, classed
by each instrument's sourced threshold; the clinic overview says what each patient's analysis
says. Responses are written through Store.save_questionnaire, as the forms do."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from backcare import services
from backcare.analysis.calendar import programme_starts
from backcare.analysis.questionnaires import (
    IMPORTANT_IMPROVEMENT,
    INSUFFICIENT,
    NO_IMPORTANT_CHANGE,
    NOT_ANSWERED,
    WORSE,
    classify_questionnaire,
    questionnaire_outcomes,
    questionnaires_due,
)
from tests.support.stores import START, add_default_patient

LONDON_EVENING = dt.timezone(dt.timedelta(hours=0))
END = dt.date(2026, 3, 31)


def rmdq(n_yes: int) -> list[bool]:
    """RMDQ answers with the first n_yes statements marked (score n_yes)."""
    return [True] * n_yes + [False] * (24 - n_yes)


def at(day: dt.date) -> dt.datetime:
    """23:59:59.999999 local time in London (UTC in winter): the last moment of the day."""
    return dt.datetime.combine(day, dt.time(23, 59, 59, 999999), LONDON_EVENING)


def save(store, pid, instrument, answers, day):
    return store.save_questionnaire(pid, instrument, answers, recorded_at=at(day))


@pytest.mark.parametrize(
    ("baseline", "latest", "expected"),
    [
        (20, 15, IMPORTANT_IMPROVEMENT),  # 5 points exactly (25 %): the points arm
        (20, 16, NO_IMPORTANT_CHANGE),  # 4 points, 20 %
        (10, 7, IMPORTANT_IMPROVEMENT),  # 3 points = 30 % exactly: the percentage arm
        (10, 8, NO_IMPORTANT_CHANGE),  # 2 points, 20 %
        (12, 17, WORSE),  # up 5 points exactly
        (12, 16, NO_IMPORTANT_CHANGE),  # up 4
        (0, 0, NO_IMPORTANT_CHANGE),  # nothing to improve, nothing changed
    ],
)
def test_rmdq_classes_at_the_thresholds(baseline, latest, expected):
    assert classify_questionnaire("rmdq", baseline, latest) == expected


@pytest.mark.parametrize(
    ("baseline", "latest", "expected"),
    [
        (4.0, 6.0, IMPORTANT_IMPROVEMENT),  # +2 exactly
        (11 / 3, 17 / 3, IMPORTANT_IMPROVEMENT),  # (3,4,4) -> (5,6,6): +6/3 = +2 in floats
        (4.0, 17 / 3, NO_IMPORTANT_CHANGE),  # +1.67
        (6.0, 4.0, WORSE),  # -2 exactly
        (6.0, 4.2, NO_IMPORTANT_CHANGE),  # -1.8
    ],
)
def test_psfs_classes_at_the_thresholds(baseline, latest, expected):
    assert classify_questionnaire("psfs", baseline, latest) == expected


@pytest.mark.parametrize(
    ("rating", "expected"),
    [
        (4, IMPORTANT_IMPROVEMENT),
        (7, IMPORTANT_IMPROVEMENT),
        (3, NO_IMPORTANT_CHANGE),
        (0, NO_IMPORTANT_CHANGE),
        (-3, NO_IMPORTANT_CHANGE),
        (-4, WORSE),
    ],
)
def test_groc_classes_from_the_latest_rating(rating, expected):
    assert classify_questionnaire("groc", None, rating) == expected


def test_baseline_is_the_first_response_from_the_programme_start(store, patient):
    # a stray RMDQ before the programme began (START = 5 Jan) is not the baseline
    save(store, patient, "rmdq", rmdq(3), START - dt.timedelta(days=3))
    save(store, patient, "rmdq", rmdq(14), START)  # baseline 14
    save(store, patient, "rmdq", rmdq(12), START + dt.timedelta(days=7))
    save(store, patient, "rmdq", rmdq(9), START + dt.timedelta(days=28))  # latest 9
    out = questionnaire_outcomes(
        store.questionnaires(patient), programme_starts(store.prescriptions(patient)), END
    ).set_index("instrument")
    row = out.loc["rmdq"]
    assert (row["n"], row["baseline"], row["latest"], row["change"]) == (3, 14.0, 9.0, -5.0)
    assert row["baseline_day"] == pd.Timestamp(START)
    assert row["latest_day"] == pd.Timestamp(START + dt.timedelta(days=28))
    assert row["change_pct"] == pytest.approx(-5 / 14 * 100)  # -35.7 %
    assert row["status"] == IMPORTANT_IMPROVEMENT  # down 5 points


def test_one_response_is_insufficient_and_an_end_before_it_is_not_answered(store, patient):
    save(store, patient, "psfs", [("walking", 3), ("sitting", 5)], START + dt.timedelta(days=2))
    save(store, patient, "groc", -4, START + dt.timedelta(days=20))
    rx = programme_starts(store.prescriptions(patient))
    out = questionnaire_outcomes(store.questionnaires(patient), rx, END).set_index("instrument")
    assert out.loc["psfs", "status"] == INSUFFICIENT
    assert out.loc["psfs", "baseline"] == 4.0  # (3 + 5) / 2
    assert out.loc["groc", "status"] == WORSE and out.loc["groc", "latest"] == -4.0
    early = questionnaire_outcomes(store.questionnaires(patient), rx, START + dt.timedelta(days=1))
    assert early.empty


def test_psfs_says_when_the_activities_rated_changed(store, patient):
    save(store, patient, "psfs", [("walking", 2), ("stairs", 4)], START)
    save(store, patient, "psfs", [("Walking", 5), ("gardening", 5)], START + dt.timedelta(days=14))
    out = questionnaire_outcomes(store.questionnaires(patient), None, END)
    row = out.set_index("instrument").loc["psfs"]
    assert row["change"] == 2.0  # 3.0 -> 5.0
    assert row["status"] == IMPORTANT_IMPROVEMENT
    assert row["note"] == "the activities rated differ from the baseline's"


def test_due_when_no_response_in_the_last_seven_days(store, patient):
    today = dt.date(2026, 2, 10)
    save(store, patient, "rmdq", rmdq(5), today - dt.timedelta(days=6))  # within 7 days
    save(store, patient, "psfs", [("walking", 5)], today - dt.timedelta(days=7))  # 8 days ago
    assert questionnaires_due(store.questionnaires(patient), today) == ["psfs", "groc"]


def test_the_overview_says_what_each_patients_analysis_says(store):
    plan = {
        # pid: (RMDQ scores, PSFS mean ratings of one activity, GROC ratings)
        "better": ((16, 11), (3, 5), (5,)),
        "same": ((8, 7), (6, 5), (1,)),
        "worse": ((6, 11), (7, 5), (-5,)),
        "once": ((9,), (), ()),
        "none": ((), (), ()),
    }
    for pid, (r, p, g) in plan.items():
        add_default_patient(store, pid)
        for week, value in enumerate(r):
            save(store, pid, "rmdq", rmdq(value), START + dt.timedelta(days=7 * week))
        for week, value in enumerate(p):
            save(store, pid, "psfs", [("walking", value)], START + dt.timedelta(days=7 * week))
        for week, value in enumerate(g):
            save(store, pid, "groc", value, START + dt.timedelta(days=7 * (week + 4)))
    overview = services.overview(store, END).set_index("patient_id")
    expected = {
        "better": (IMPORTANT_IMPROVEMENT, IMPORTANT_IMPROVEMENT, IMPORTANT_IMPROVEMENT),
        "same": (NO_IMPORTANT_CHANGE, NO_IMPORTANT_CHANGE, NO_IMPORTANT_CHANGE),
        "worse": (WORSE, WORSE, WORSE),  # RMDQ +5, PSFS -2, GROC -5
        "once": (INSUFFICIENT, NOT_ANSWERED, NOT_ANSWERED),
        "none": (NOT_ANSWERED, NOT_ANSWERED, NOT_ANSWERED),
    }
    for pid, classes in expected.items():
        shown = tuple(overview.loc[pid, [f"{i}_class" for i in ("rmdq", "psfs", "groc")]])
        assert shown == classes, pid
        own = services.load_trends(store, pid, "Last 4 weeks", END).questionnaires
        by_inst = dict(zip(own["instrument"], own["status"], strict=True))
        mine = tuple(by_inst.get(i, NOT_ANSWERED) for i in ("rmdq", "psfs", "groc"))
        assert mine == shown, pid


def test_on_a_200_patient_demo_the_overview_classes_are_each_patients_own(demo_store):
    """The overview's questionnaire columns (computed for all 200 patients at once) equal what
    each patient's own analysis (the trends view's load_trends) gives, for every 4th patient
    (50: the one-patient analysis costs about half a second each on this machine)."""
    today = dt.date(2026, 3, 31)
    store = demo_store(patients=200, days=60, seed=21, end=today)  # the clinic tests' store
    overview = services.overview(store, today).set_index("patient_id")
    seen = set()
    for pid in sorted(overview.index)[::4]:
        own = services.load_trends(store, pid, "Last 4 weeks", today).questionnaires
        by_inst = dict(zip(own["instrument"], own["status"], strict=True))
        for inst in ("rmdq", "psfs", "groc"):
            assert overview.loc[pid, f"{inst}_class"] == by_inst.get(inst, NOT_ANSWERED), pid
            seen.add((inst, by_inst.get(inst, NOT_ANSWERED)))
    # several classes of every instrument were compared
    assert {c for i, c in seen if i == "rmdq"} >= {IMPORTANT_IMPROVEMENT, NO_IMPORTANT_CHANGE}
    assert len({c for i, c in seen if i == "groc"}) >= 2
