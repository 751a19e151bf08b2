"""analysis.day_statuses (the week strip) and the streak it is shown with, on hand-worked weeks.

Days count from Monday 2024-01-01 (tests.support.frames.D); the store cases save sessions
through Store.save_session with real timestamps, as the checklist does. Every expected status
is worked out in the comment beside it from the rule in analysis.adherence's docstring."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from backcare import analysis as A
from backcare import services
from backcare.domain.programme import Prescription
from backcare.present.text import streak_sentence
from tests.support.frames import D, items, rx


def statuses(p, it, start, end, today=None) -> list[str]:
    return list(A.day_statuses(p, it, start, end, today)["status"])


def all_of(exercises, days, session="s"):
    return [(f"{session}{d}", D(d), e, True) for d in days for e in exercises]


TWO = ("plank", "pelvic-tilt")


def test_a_week_with_every_session_is_done_every_day():
    p = rx((1, D(0), None, "plank", 7), (1, D(0), None, "pelvic-tilt", 7))
    got = A.day_statuses(p, items(*all_of(TWO, range(7))), D(0), D(6))
    assert list(got["status"]) == ["done"] * 7
    assert list(got["exercises"]) == [2] * 7 and list(got["ticked"]) == [2] * 7
    assert list(got["missing"]) == [0] * 7
    assert list(got["day"]) == [D(i) for i in range(7)]


def test_a_partly_done_day_a_missed_day_and_days_before_the_programme():
    # the programme starts on Wednesday (D(2)): Monday and Tuesday have nothing prescribed
    p = rx((1, D(2), None, "plank", 7), (1, D(2), None, "pelvic-tilt", 7))
    it = items(
        *all_of(TWO, [2, 3, 5, 6]),
        ("x", D(4), "plank", True),  # Friday: Plank only (pelvic tilt is daily: missing)
        ("y", D(4), "pelvic-tilt", False),
        ("z", D(1), "plank", True),  # Tuesday: before the programme, not counted
    )
    got = A.day_statuses(p, it, D(0), D(6))
    assert list(got["status"]) == [
        "nothing",
        "nothing",
        "done",
        "done",
        "partly",
        "done",
        "done",
    ]
    assert got.loc[4, ["ticked", "missing"]].tolist() == [1, 1]
    assert got.loc[1, ["exercises", "ticked"]].tolist() == [0, 0]
    # Saturday without any session: missed (a daily programme has no spare day)
    it2 = items(*all_of(TWO, [2, 3, 4, 6]))
    assert statuses(p, it2, D(5), D(5)) == ["missed"]


def test_three_times_a_week_leaves_four_spare_days_counted_from_monday():
    p = rx((1, D(0), None, "brisk-walking", 3))
    # walked Monday and Saturday only: Tue, Wed, Thu, Fri use the 4 spare days (rest); Sunday
    # is the fifth day without it, so the week could no longer hold 3 walks: missed
    it = items(*all_of(["brisk-walking"], [0, 5]))
    assert statuses(p, it, D(0), D(6)) == [
        "done",
        "rest",
        "rest",
        "rest",
        "rest",
        "done",
        "missed",
    ]
    # three walks on Friday, Saturday, Sunday: Monday to Thursday are the 4 spare days
    it = items(*all_of(["brisk-walking"], [4, 5, 6]))
    assert statuses(p, it, D(0), D(6)) == ["rest"] * 4 + ["done"] * 3
    # each week has its own spare days: the next Monday starts again at 0
    assert statuses(p, it, D(7), D(7)) == ["rest"]


def test_a_daily_and_a_three_times_a_week_exercise_together():
    p = rx((1, D(0), None, "plank", 7), (1, D(0), None, "brisk-walking", 3))
    # Plank every day, walking Mon, Wed, Fri: walking's 4 spare days are Tue, Thu, Sat, Sun
    it = items(*all_of(["plank"], range(7), "p"), *all_of(["brisk-walking"], [0, 2, 4], "w"))
    assert statuses(p, it, D(0), D(6)) == ["done"] * 7
    # walking twice only (Mon, Wed): its fifth day without (Sunday) is a missing walk
    it = items(*all_of(["plank"], range(7), "p"), *all_of(["brisk-walking"], [0, 2], "w"))
    assert statuses(p, it, D(0), D(6)) == ["done"] * 6 + ["partly"]


def test_a_programme_starting_mid_week_is_pro_rated():
    # 3x/week from Wednesday: 5 days in force, asked round(3 * 5 / 7 = 2.14) = 2 times, so
    # 3 spare days; walked Wednesday only: Thu, Fri, Sat spare, Sunday missed
    p = rx((1, D(2), None, "brisk-walking", 3))
    it = items(*all_of(["brisk-walking"], [2]))
    assert statuses(p, it, D(0), D(6)) == [
        "nothing",
        "nothing",
        "done",
        "rest",
        "rest",
        "rest",
        "missed",
    ]


def test_ticks_count_once_a_day_and_only_for_exercises_in_force():
    p = rx((1, D(0), None, "plank", 7))
    it = items(
        ("a", D(0), "plank", True),
        ("b", D(0), "plank", True),  # a second session the same day: still one day
        ("c", D(1), "swimming", True),  # not prescribed: Tuesday has nothing done
    )
    got = A.day_statuses(p, it, D(0), D(1))
    assert list(got["status"]) == ["done", "missed"]
    assert list(got["ticked"]) == [1, 0]


def test_today_is_open_until_something_is_ticked_and_later_days_are_upcoming():
    p = rx((1, D(0), None, "plank", 7))
    it = items(*all_of(["plank"], [0]))
    assert statuses(p, it, D(0), D(6), today=D(2)) == [
        "done",
        "missed",
        "open",
        "upcoming",
        "upcoming",
        "upcoming",
        "upcoming",
    ]
    it = items(*all_of(["plank"], [0, 2]))
    assert statuses(p, it, D(2), D(2), today=D(2)) == ["done"]
    # a day with nothing in force stays "nothing", before or after today
    assert statuses(rx((1, D(3), None, "plank", 7)), it, D(0), D(4), today=D(2)) == [
        "nothing",
        "nothing",
        "nothing",
        "upcoming",
        "upcoming",
    ]


def test_a_window_in_mid_week_still_counts_spare_days_from_monday():
    # 3x/week, nothing done: Mon-Thu spare, Fri missed; asked for Thursday to Saturday only,
    # the answer is the same as for the whole week
    p = rx((1, D(0), None, "brisk-walking", 3))
    it = items(("a", D(8), "brisk-walking", True))  # another week's walk
    assert statuses(p, it, D(3), D(5)) == ["rest", "missed", "missed"]


def test_a_programme_change_mid_week_uses_the_programme_in_force_each_day():
    # Plank 7x Mon-Wed, then 3x from Thursday: asked 3 + 4 * 3/7 = 4.71, round 5 times in 7
    # days, so 2 spare days. Done Mon, Tue, Thu: Wed is spare 1, Fri spare 2, Sat missed
    p = rx((1, D(0), D(2), "plank", 7), (2, D(3), None, "plank", 3))
    it = items(*all_of(["plank"], [0, 1, 3]))
    assert statuses(p, it, D(0), D(6)) == [
        "done",
        "done",
        "rest",
        "done",
        "rest",
        "missed",
        "missed",
    ]


def test_no_programme_at_all_is_nothing_every_day():
    p = rx((1, D(0), None, "plank", 7)).iloc[0:0]
    assert statuses(p, items(*all_of(["plank"], [0])), D(0), D(2)) == ["nothing"] * 3
    assert A.day_statuses(p, items(), D(3), D(2)).empty


# ---- the streak shown beside the strip ------------------------------------------------------
def test_the_streak_counts_whole_weeks_at_80_percent_and_waits_for_the_week_in_progress():
    p = rx((1, D(0), None, "plank", 7))
    # week 1: 7 of 7; week 2: 6 of 7 (86 %); week 3: Monday only so far (Wednesday D(16))
    it = items(*all_of(["plank"], [*range(7), *range(7, 13), 14]))
    wk = A.weekly_adherence(p, it, D(0), D(16))
    s = A.streaks(wk)
    assert (s.current, s.longest, s.in_progress) == (2, 2, True)
    assert streak_sentence(s) == (
        "2 weeks in a row with 80 % or more of your prescribed exercises done; "
        "this week counts once it is complete."
    )
    # week 2 at 5 of 7 (71 %) breaks the run: 1 at most, none now
    it = items(*all_of(["plank"], [*range(7), *range(7, 12), 14]))
    s = A.streaks(A.weekly_adherence(p, it, D(0), D(16)))
    assert (s.current, s.longest) == (0, 1)
    assert streak_sentence(s) == (
        "A new run starts with a week at 80 % or more of your prescribed exercises "
        "(your best so far: 1 week in a row); this week counts once it is complete."
    )
    # the first week, in progress: nothing to count yet, and it says what will count
    s = A.streaks(A.weekly_adherence(p, items(*all_of(["plank"], [0])), D(0), D(2)))
    assert (s.current, s.longest, s.in_progress) == (0, 0, True)
    assert streak_sentence(s) == (
        "Your run starts with a whole week at 80 % or more of your prescribed exercises; "
        "this week counts once it is complete."
    )


# ---- through the store, as the checklist saves ----------------------------------------------
def test_the_glance_of_sessions_saved_through_the_store(store, patient):
    """p1: the default programme (8 exercises, daily) from Monday 5 January 2026 (Europe/London)."""
    ids = store.programme_on("p1", dt.date(2026, 1, 5)).exercise_ids()
    assert len(ids) == 8

    def save(day: dt.date, done, at: dt.time = dt.time(18, 0)):
        when = dt.datetime.combine(day, at, tzinfo=dt.UTC)  # London is on UTC in January
        store.save_session(
            "p1",
            [{"exercise_id": e, "done": e in done} for e in ids],
            day=day,
            started_at=when,
            ended_at=when + dt.timedelta(minutes=20),
        )

    for d in range(7):  # week 1: every exercise every day
        save(dt.date(2026, 1, 5) + dt.timedelta(days=d), ids)
    for d in range(7):  # week 2: Thursday 15th Plank only (49 of 56 = 88 %)
        day = dt.date(2026, 1, 12) + dt.timedelta(days=d)
        save(day, ["plank"] if d == 3 else ids)
    save(dt.date(2026, 1, 19), ids)  # week 3: Monday, then nothing on Tuesday
    g = services.week_glance(store, "p1", dt.date(2026, 1, 21), weeks=6)
    strip = g.last_days(7)
    assert list(strip["day"]) == list(pd.date_range("2026-01-15", "2026-01-21"))
    # Thu 15 Plank only: partly; Fri-Mon every exercise; Tue 20 nothing: missed; Wed 21 open
    assert list(strip["status"]) == ["partly", "done", "done", "done", "done", "missed", "open"]
    p = g.progress
    assert (p.sessions_done, p.sessions_prescribed, p.days_left) == (1, 7, 4)
    assert (p.streak.current, p.streak.in_progress) == (2, True)
    weeks = g.weeks()
    assert [w["day"].iloc[0] for w in weeks] == list(
        pd.date_range("2025-12-15", "2026-01-19", freq="7D")
    )
    assert all(len(w) == 7 for w in weeks)
    # before Monday 5 January nothing was prescribed; the third week's Thursday is to come
    assert set(weeks[0]["status"]) == {"nothing"}
    assert list(weeks[-1]["status"]) == ["done", "missed", "open", *["upcoming"] * 4]


def test_midnight_and_a_daylight_saving_week_count_on_the_local_day(store):
    """Sessions saved with only their start time: the day is the local date in London, where
    clocks went forward at 01:00 UTC on Sunday 29 March 2026."""
    store.add_patient("dst", "Dee", "Europe/London")
    store.set_programme("dst", [Prescription("plank", hold_s=30)], dt.date(2026, 3, 23))

    def at(utc: str):
        when = dt.datetime.fromisoformat(utc)
        store.save_session("dst", [{"exercise_id": "plank", "done": True}], started_at=when)

    at("2026-03-23T00:05:00+00:00")  # Mon 00:05 GMT: Monday
    at("2026-03-24T23:55:00+00:00")  # Tue 23:55 GMT: Tuesday
    at("2026-03-25T23:59:59+00:00")  # Wed 23:59:59 GMT: Wednesday (Thursday has none)
    at("2026-03-27T12:00:00+00:00")  # Friday
    at("2026-03-28T23:30:00+00:00")  # Sat 23:30 GMT: Saturday
    at("2026-03-29T23:30:00+00:00")  # 00:30 BST on Monday 30 March: the next week's Monday
    g = services.week_glance(store, "dst", dt.date(2026, 3, 30), weeks=2)
    days = g.days.set_index("day")["status"]
    week = days[pd.Timestamp("2026-03-23") : pd.Timestamp("2026-03-29")]
    # daily Plank: Thursday and Sunday (the short day) without a session are missed
    assert list(week) == ["done", "done", "done", "missed", "done", "done", "missed"]
    assert days[pd.Timestamp("2026-03-30")] == "done"  # today, already done after midnight
    assert g.progress.sessions_done == 1  # this week (from Monday 30 March): that session


@pytest.mark.parametrize("weeks", [0, -1])
def test_the_glance_refuses_a_grid_of_no_weeks(store, patient, weeks):
    from backcare.errors import ValidationError

    with pytest.raises(ValidationError, match="weeks"):
        services.week_glance(store, "p1", dt.date(2026, 1, 21), weeks=weeks)
