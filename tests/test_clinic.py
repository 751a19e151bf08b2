"""The clinic overview: right numbers per patient, patients needing attention first."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from backcare import analysis as A
from backcare.analysis.clinic import clinic_overview
from backcare.demo import fill_demo
from backcare.domain.programme import Prescription
from backcare.store import open_store

TODAY = dt.date(2026, 3, 31)


def _overview(store, today=TODAY):
    return clinic_overview(store.clinic_frames(today), today, store.catalog).set_index("patient_id")


def test_empty_store_gives_an_empty_overview(store):
    assert _overview(store).empty


def test_hand_built_clinic(store):
    """Three patients whose every number is worked out here by hand."""
    start = TODAY - dt.timedelta(days=59)  # 60 days of history
    plank = [Prescription("plank", hold_s=30, times_per_week=7)]
    for pid in ("steady", "flagged", "idle"):
        store.add_patient(pid, pid.title())
        store.set_programme(pid, plank, start)
    for d in range(60):
        day = start + dt.timedelta(days=d)
        # steady: plank every day; pain 6 for the first 30 days, then 3
        store.save_session("steady", [{"exercise_id": "plank", "done": True, "hold_s": 30}], day=day,
                           pain_before=6 if d < 30 else 3)
        # flagged: plank every other day; pain 5, a red flag on the last day
        if d % 2 == 0 or d == 59:
            store.save_session("flagged", [{"exercise_id": "plank", "done": True, "hold_s": 30}], day=day,
                               pain_before=5, red_flags=["night-pain"] if d == 59 else [])
    # idle: last session 10 days before today, pain 4 then 7 (worse)
    for d in range(50):
        store.save_session("idle", [{"exercise_id": "plank", "done": d % 7 == 0, "hold_s": 30}],
                           day=start + dt.timedelta(days=d), pain_before=4 if d < 25 else 7)
    o = _overview(store)

    s = o.loc["steady"]
    # 14 days x 7/7 = 14 prescribed, 14 done -> 100 %; baseline 6.0, latest 3.0:
    # change -3.0 is >= 2 points and 50 % >= 30 % -> improved
    assert s["adherence_14d"] == pytest.approx(1.0)
    assert (s["baseline"], s["latest"], s["change"], s["pain_class"]) == (6.0, 3.0, -3.0, "improved")
    assert s["days_since"] == 0 and s["flare_ups_14d"] == 0 and s["red_flags_14d"] == 0
    # plank 30 s steady for 14 days, 100 %, pain flat -> next ladder step 45 s
    assert s["suggestions"] == 1 and s["suggestion_text"] == "Plank 30->45"
    assert s["priority"] == 9

    f = o.loc["flagged"]
    # last 14 days = d 46..59: even days 46..58 are 7 sessions, plus d 59 -> 8 of 14
    assert f["adherence_14d"] == pytest.approx(8 / 14)
    assert f["red_flags_14d"] == 1 and f["priority"] == 1
    assert "red flag" in f["attention"]
    # pain 5 throughout -> no important change
    assert f["pain_class"] == A.NO_CHANGE and f["change"] == 0.0

    i = o.loc["idle"]
    # last session d 49 = TODAY - 10 days; the window d 46..59 holds sessions d 46..49,
    # plank done only when d % 7 == 0, i.e. on d 49 -> 1 done of 14 prescribed
    assert i["days_since"] == 10 and i["adherence_14d"] == pytest.approx(1 / 14)
    # baseline 4.0 (d 0..13), latest 7.0 (d 36..49): +3 -> worse
    assert (i["baseline"], i["latest"], i["pain_class"]) == (4.0, 7.0, A.WORSE)
    assert i["priority"] == 2

    # red flag first, then worse pain, then the steady patient
    assert list(o.index) == ["flagged", "idle", "steady"]


@pytest.fixture(scope="module")
def demo_clinic(tmp_path_factory):
    store = open_store(f"sqlite:///{tmp_path_factory.mktemp('clinic') / 'c.db'}")
    fill_demo(store, patients=10, days=150, seed=21, end=TODAY, progress=False)
    yield store
    store.close()


def test_overview_agrees_with_the_per_patient_analysis(demo_clinic):
    """Every patient's pain class, flare-ups and suggestions equal analysis' own answers."""
    store = demo_clinic
    o = _overview(store)
    lo = pd.Timestamp(TODAY - dt.timedelta(days=13))
    checked_suggestions = 0
    for pid in o.index:
        sessions, pain = store.sessions(pid), store.pain(pid)
        daily = A.daily_pain(sessions, pain, None, TODAY)
        trend = A.pain_trend(daily)
        row = o.loc[pid]
        assert row["pain_class"] == trend.status
        if trend.baseline is not None:
            assert (row["baseline"], row["latest"]) == (trend.baseline, trend.latest)
        flares = A.flare_ups(daily)
        assert row["flare_ups_14d"] == int((flares["day"] >= lo).sum())
        sug = A.progression_suggestions(store.prescriptions(pid), store.items(pid), daily, store.catalog,
                                        TODAY, annotations=store.annotations(pid))
        assert row["suggestions"] == int((sug["direction"] != "hold").sum()), pid
        checked_suggestions += row["suggestions"]
        reds = sessions[(sessions["day"] >= lo) & (sessions["red_flags"] != "")]
        assert row["red_flags_14d"] == len(reds)
    assert checked_suggestions > 0  # the comparison exercised real suggestions


def test_priorities_are_sorted(demo_clinic):
    o = _overview(demo_clinic)
    assert list(o["priority"]) == sorted(o["priority"])
    assert len(o) == 10
