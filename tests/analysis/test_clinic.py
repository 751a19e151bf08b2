"""The clinic overview: right numbers per patient, patients needing attention first."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from backcare import analysis as A
from backcare import services
from backcare.domain.programme import Prescription

TODAY = dt.date(2026, 3, 31)
PLANK = {"exercise_id": "plank", "done": True, "hold_s": 30}


def _overview(store, today=TODAY):
    return services.overview(store, today).set_index("patient_id")


def _per_patient(store, pid, today=TODAY):
    """What one patient's own analysis says about the 14 days ending today (the dashboard's
    path)."""
    lo = today - dt.timedelta(days=13)
    f = services.read_patient(store, pid, lo, today)
    weekly = A.weekly_adherence(f.prescriptions, f.items, lo, today)
    whole = services.read_patient(store, pid, None, today)
    daily = A.daily_pain(whole.sessions, whole.pain, whole.start, today)
    return {
        "adherence": A.period_adherence(weekly),
        "trend": A.pain_trend(daily),
        "flares": len(A.flares_between(A.flare_ups(daily), lo, today)),
        "suggestions": services.patient_suggestions(store, pid, today),
        "red_flags": int(
            ((f.sessions["red_flags"] != "") & (f.sessions["day"] >= pd.Timestamp(lo))).sum()
        ),
    }


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
        store.save_session(
            "steady",
            [{"exercise_id": "plank", "done": True, "hold_s": 30}],
            day=day,
            pain_before=6 if d < 30 else 3,
        )
        # flagged: plank every other day; pain 5, a red flag on the last day
        if d % 2 == 0 or d == 59:
            store.save_session(
                "flagged",
                [{"exercise_id": "plank", "done": True, "hold_s": 30}],
                day=day,
                pain_before=5,
                red_flags=["night-pain"] if d == 59 else [],
            )
    # idle: last session 10 days before today, pain 4 then 7 (worse)
    for d in range(50):
        store.save_session(
            "idle",
            [{"exercise_id": "plank", "done": d % 7 == 0, "hold_s": 30}],
            day=start + dt.timedelta(days=d),
            pain_before=4 if d < 25 else 7,
        )
    o = _overview(store)

    s = o.loc["steady"]
    # 14 days x 7/7 = 14 prescribed, 14 done -> 100 %; baseline 6.0, latest 3.0:
    # change -3.0 is >= 2 points and 50 % of 6: much improved (IMMPACT >= 50 %)
    assert s["adherence_14d"] == pytest.approx(1.0)
    assert (s["baseline"], s["latest"], s["change"], s["pain_class"]) == (
        6.0,
        3.0,
        -3.0,
        "much improved",
    )
    assert s["days_since"] == 0 and s["flare_episodes_14d"] == 0 and s["red_flags_14d"] == 0
    # plank 30 s steady for 14 days, 100 %, pain flat -> next ladder step 45 s
    assert s["suggestions"] == 1 and s["suggestion_text"] == "Plank 30->45"
    assert s["priority"] == 9

    f = o.loc["flagged"]
    # last 14 days = d 46..59: even days 46..58 are 7 sessions, plus d 59 -> 8 of 14
    assert f["adherence_14d"] == pytest.approx(8 / 14)
    assert f["red_flags_14d"] == 1 and f["priority"] == 1
    assert f["attention"].startswith("RED FLAG in 1 session(s)")
    # every other day: d 46..52 holds 46, 48, 50, 52 (4 of 7) and d 53..59 holds 54, 56,
    # 58, 59 (4 of 7): 57 % in both halves, low but steady, so adherence is not a reason
    assert f["adherence_prev_7d"] == pytest.approx(4 / 7) == f["adherence_7d"]
    assert "adherence" not in f["attention"]
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


def test_done_before_the_programme_began_does_not_count(store):
    """Plank ticked on the 7 days before the programme started and never since: 0 %, not 100 %."""
    start = TODAY - dt.timedelta(days=6)
    store.add_patient("early", "Early")
    store.set_programme("early", [Prescription("plank", hold_s=30, times_per_week=7)], start)
    for d in range(7, 14):  # TODAY-13 .. TODAY-7: before the programme
        store.save_session("early", [PLANK], day=TODAY - dt.timedelta(days=d), pain_before=4)
    # in force TODAY-6..TODAY: 7 days x 7/7 = 7 prescribed, 0 done on those days
    row = _overview(store).loc["early"]
    assert row["adherence_14d"] == 0.0
    assert _per_patient(store, "early")["adherence"] == 0.0


def test_over_doing_one_week_does_not_hide_an_empty_next_week(store):
    """3x/week; 6 sessions in the first week of the window, none in the second: 50 %, no
    progression."""
    sunday = dt.date(2026, 3, 29)  # the window is Mon 16 .. Sun 29 March: two whole weeks
    store.add_patient("burst", "Burst")
    store.set_programme(
        "burst",
        [Prescription("plank", hold_s=30, times_per_week=3)],
        sunday - dt.timedelta(days=40),
    )
    for d in range(40, 7, -1):  # steady 3x/week before the window, pain 3 every day
        day = sunday - dt.timedelta(days=d)
        store.save_session(
            "burst", [PLANK] if day.weekday() in (0, 2, 4) else [], day=day, pain_before=3
        )
    for d in range(13, 7, -1):  # Mon..Sat of the first week: 6 sessions
        store.save_session("burst", [PLANK], day=sunday - dt.timedelta(days=d), pain_before=3)
    for d in range(7, -1, -1):  # the second week: pain only
        store.add_pain("burst", 3, day=sunday - dt.timedelta(days=d))
    # week 1: min(6 done, 3 prescribed) = 3; week 2: min(0, 3) = 0 -> 3 / 6 = 50 %
    row = _overview(store, sunday).loc["burst"]
    assert row["adherence_14d"] == pytest.approx(0.5)
    assert row["suggestions"] == 0
    # the halves are the two weeks: 3 of 3 (capped) then 0 of 3; the last session was on
    # Saturday 21 March, 8 days before: both reasons, the more severe first
    assert (row["adherence_prev_7d"], row["adherence_7d"]) == (1.0, 0.0)
    assert row["priority"] == 4
    assert row["attention"] == "no session for 8 days; adherence falling (100 % -> 0 %)"
    mine = _per_patient(store, "burst", sunday)
    assert mine["adherence"] == pytest.approx(0.5)
    plank = mine["suggestions"].set_index("exercise_id").loc["plank"]
    assert plank["direction"] == "hold" and "below 80 %" in plank["reason"]
    assert plank["done_share"] == pytest.approx(0.5)


@pytest.fixture(scope="module")
def demo_clinic(demo_store):
    return demo_store(patients=200, days=60, seed=21, end=TODAY)


def test_overview_agrees_with_the_per_patient_analysis(demo_clinic):
    """Every one of 200 demo patients: the overview's numbers are what the patient's own
    analysis gives.

    Both call the same rule functions; this checks that the clinic's reads feed them the
    same data as one patient's reads."""
    store = demo_clinic
    o = _overview(store)
    assert len(o) == 200
    checked = {"suggestions": 0, "flares": 0, "red_flags": 0, "classes": set()}
    for pid in o.index:
        row, mine = o.loc[pid], _per_patient(store, pid)
        if mine["adherence"] is None:
            assert pd.isna(row["adherence_14d"]), pid
        else:
            assert row["adherence_14d"] == mine["adherence"], pid
        trend = mine["trend"]
        assert row["pain_class"] == trend.status, pid
        if trend.baseline is not None:
            assert (row["baseline"], row["latest"], row["change"]) == (
                trend.baseline,
                trend.latest,
                trend.change,
            ), pid
        assert row["flare_episodes_14d"] == mine["flares"], pid
        assert row["red_flags_14d"] == mine["red_flags"], pid
        moves = mine["suggestions"][mine["suggestions"]["direction"] != "hold"]
        assert row["suggestions"] == len(moves), pid
        checked["suggestions"] += len(moves)
        checked["flares"] += mine["flares"]
        checked["red_flags"] += mine["red_flags"]
        checked["classes"].add(trend.status)
    # the comparison exercised real suggestions, flare-ups, red flags and several classes
    assert checked["suggestions"] > 0 and checked["flares"] > 0 and checked["red_flags"] > 0
    assert len(checked["classes"]) >= 2


def test_priorities_are_sorted(demo_clinic):
    o = _overview(demo_clinic)
    assert list(o["priority"]) == sorted(o["priority"])
