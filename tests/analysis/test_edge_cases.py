"""The edge cases of issue 10 not covered elsewhere, written through the real user paths
(Store.set_programme as the physio editor does, Store.save_session as the today widget does,
with real timestamps: microseconds, non-UTC zones, DST change days, local midnight).

Covered in other modules: a programme changed mid-week (test_adherence, test_calendar); a
stray first or last score and baselines of 1.5, 5 and 8 (test_change); exercise done before
its programme began and over-doing one week then nothing (test_clinic, test_safety); a red
flag followed by good adherence and sessions that raise pain (test_safety); identical
session changes (test_effects); a six-day flare-up (test_pain, and below end to end)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pytest

from backcare import analysis as A
from backcare import services
from backcare.store import open_store

LONDON = ZoneInfo("Europe/London")
PLANK = {"exercise_id": "plank", "done": True, "hold_s": 30}


@pytest.fixture
def store(tmp_path):
    s = open_store(f"sqlite:///{tmp_path / 'edge.db'}")
    yield s
    s.close()


def test_sessions_near_midnight_on_dst_change_days_count_for_their_local_day(store):
    """Europe/London: clocks go forward at 01:00 UTC on Sun 29 Mar 2026 and back at 01:00 UTC
    on Sun 25 Oct 2026. A session at 23:30:00.123456 UTC on Sun 29 Mar is 00:30 BST on Mon
    30 Mar: it counts for Monday and for the week of 30 Mar, not for the week of 23 Mar (a
    UTC date would say Sunday). A session at 23:30 UTC on Sat 24 Oct is 00:30 BST on Sun 25
    Oct (the clocks go back half an hour later). One at 23:59:59.999999 local on 25 Oct
    (GMT again: 23:59:59.999999 UTC) stays on the 25th."""
    store.add_patient("p1", timezone="Europe/London")
    store.set_programme(
        "p1",
        [{"exercise_id": "plank", "hold_s": 30, "times_per_week": 3}],
        valid_from=dt.date(2026, 3, 16),
    )
    utc = dt.UTC
    spring = dt.datetime(2026, 3, 29, 23, 30, 0, 123456, tzinfo=utc)
    assert spring.astimezone(LONDON).date() == dt.date(2026, 3, 30)
    autumn = dt.datetime(2026, 10, 24, 23, 30, 0, 654321, tzinfo=utc)
    late = dt.datetime(2026, 10, 25, 23, 59, 59, 999999, tzinfo=LONDON)
    for when, before in ((spring, 6), (autumn, 4), (late, 2)):
        store.save_session("p1", [PLANK], pain_before=before, pain_after=before, started_at=when)
    days = sorted(store.sessions("p1")["day"].dt.date)
    assert days == [dt.date(2026, 3, 30), dt.date(2026, 10, 25), dt.date(2026, 10, 25)]
    # the week of Mon 23 Mar has nothing done; the week of Mon 30 Mar has 1 of 3
    wk = A.weekly_adherence(
        store.prescriptions("p1"), store.items("p1"), dt.date(2026, 3, 23), dt.date(2026, 4, 5)
    ).set_index("week")
    assert wk.loc[pd.Timestamp("2026-03-23"), "done"] == 0
    assert wk.loc[pd.Timestamp("2026-03-30"), "done"] == 1
    assert wk.loc[pd.Timestamp("2026-03-30"), "prescribed"] == pytest.approx(3.0)
    # daily pain: 6 on 30 Mar; on 25 Oct the mean of 4 and 2 = 3
    daily = A.daily_pain(
        store.sessions("p1"), store.pain("p1"), dt.date(2026, 3, 23), dt.date(2026, 10, 26)
    )
    pain = daily.set_index("day")["pain"]
    assert pain[pd.Timestamp("2026-03-29")] != pain[pd.Timestamp("2026-03-29")]  # NaN
    assert pain[pd.Timestamp("2026-03-30")] == 6.0
    assert pain[pd.Timestamp("2026-10-25")] == 3.0


def test_three_times_a_week_kept_on_irregular_weekdays_meets_every_week(store):
    """3x/week kept every calendar week on different weekdays (Mon-Wed, then Fri-Sun, then
    Tue/Thu/Sat): each week 3 done of 3 prescribed, 100 %; three complete weeks in a row."""
    store.add_patient("p1")
    monday = dt.date(2026, 3, 2)
    store.set_programme(
        "p1",
        [{"exercise_id": "brisk-walking", "minutes": 20, "times_per_week": 3}],
        valid_from=monday,
    )
    offsets = [0, 1, 2, 7 + 4, 7 + 5, 7 + 6, 14 + 1, 14 + 3, 14 + 5]
    for k in offsets:
        day = monday + dt.timedelta(days=k)
        store.save_session(
            "p1",
            [{"exercise_id": "brisk-walking", "done": True, "minutes": 20}],
            started_at=dt.datetime.combine(day, dt.time(18, 5, 7, 250000), tzinfo=dt.UTC),
        )
    end = monday + dt.timedelta(days=20)
    wk = A.weekly_adherence(store.prescriptions("p1"), store.items("p1"), monday, end)
    assert list(wk["done"]) == [3, 3, 3]
    assert list(wk["adherence"]) == [1.0, 1.0, 1.0]
    s = A.streaks(wk)
    assert (s.current, s.longest) == (3, 3)


def _quick_pain(store, pid, day: dt.date, score: int) -> None:
    """A standalone score at 20:15:03.5 local time, as the quick pain entry records it."""
    when = dt.datetime.combine(day, dt.time(20, 15, 3, 500000), tzinfo=LONDON)
    store.add_pain(pid, score, recorded_at=when)


def test_a_six_day_flare_up_end_to_end_is_one_episode(store):
    """Daily scores 3 from 1 to 14 Apr 2026, 7 from 15 to 20 Apr, then 3 to 26 Apr (quick
    pain entries, Europe/London). The trends data hold ONE episode: start 15 Apr, 6 days,
    peak 7, baseline 3 (the median of 1-14 Apr), over; a trailing mean would have absorbed it."""
    store.add_patient("p1", timezone="Europe/London")
    start = dt.date(2026, 4, 1)
    scores = [3] * 14 + [7] * 6 + [3] * 6
    for i, v in enumerate(scores):
        _quick_pain(store, "p1", start + dt.timedelta(days=i), v)
    d = services.analyse_patient(
        services.read_patient(store, "p1", start, dt.date(2026, 4, 26)), store.catalog
    )
    f = d.flares
    assert len(f) == 1
    e = f.iloc[0]
    assert e["start"] == pd.Timestamp("2026-04-15") and e["end"] == pd.Timestamp("2026-04-20")
    assert (e["days"], e["peak"], e["baseline"], bool(e["ongoing"])) == (6, 7.0, 3.0, False)
    # the chart marks the six days, and only those
    disp, freq = A.pain_display(d.daily, d.flares)
    assert freq == "day" and int(disp["flares"].sum()) == 6


@pytest.mark.parametrize(
    ("held", "direction", "suggested", "words"),
    [
        # recorded median 45 s (prescribed 30): the next ladder step above it is 60
        (45, "up", 60, "from the recorded hold_s (median 45 over 14 times, 2026-03-02"),
        # recorded 20 s, below the prescribed 30: hold until the prescription is reached
        (20, "hold", 30, "is below the prescribed 30: keep the prescription"),
    ],
)
def test_progression_starts_from_the_dose_recorded_in_the_sessions(
    store, held, direction, suggested, words
):
    """Plank prescribed 30 s, 7x/week from Mon 2 Mar 2026; done every day to Sun 15 Mar
    (two complete weeks, pain 3 -> 3), each held `held` s. Plank's ladder is 30, 45, 60.
    The patient's suggestion and the clinic overview (which counts the doses in SQL) agree."""
    store.add_patient("p1", timezone="Europe/London")
    monday = dt.date(2026, 3, 2)
    store.set_programme(
        "p1", [{"exercise_id": "plank", "hold_s": 30, "times_per_week": 7}], valid_from=monday
    )
    for i in range(14):
        day = monday + dt.timedelta(days=i)
        store.save_session(
            "p1",
            [{"exercise_id": "plank", "done": True, "hold_s": held}],
            pain_before=3,
            pain_after=3,
            started_at=dt.datetime.combine(day, dt.time(23, 59, 59, 999999), LONDON),
        )
    end = monday + dt.timedelta(days=13)
    s = services.patient_suggestions(store, "p1", end).set_index("exercise_id")
    assert (s.loc["plank", "direction"], s.loc["plank", "suggested"]) == (direction, suggested)
    assert words in s.loc["plank", "reason"]
    row = services.overview(store, end).set_index("patient_id").loc["p1"]
    assert row["suggestion_text"] == ("Plank 30->60" if direction == "up" else "")


def test_recorded_dose_is_the_median_of_the_counted_values():
    """recorded_doses from Store.dose_counts-like rows (a count n per value): worked by hand
    for two patients in one call, on the complete week Mon 16 .. Sun 22 March 2026."""
    from backcare.analysis.progression import recorded_doses
    from backcare.domain.catalog import default_catalog

    def row(pid, day, ex, hold, n):
        return {
            "patient_id": pid,
            "day": pd.Timestamp(day),
            "exercise_id": ex,
            "reps": np.nan,
            "hold_s": hold,
            "minutes": np.nan,
            "n": n,
        }

    rows = pd.DataFrame(
        [
            row("a", "2026-03-16", "plank", 30.0, 2),  # a: 30, 30, 45 -> median 30
            row("a", "2026-03-18", "plank", 45.0, 1),
            row("b", "2026-03-16", "plank", 30.0, 1),  # b: 30, 45 -> (30 + 45) / 2 = 37.5
            row("b", "2026-03-20", "plank", 45.0, 1),
            row("b", "2026-03-24", "plank", 60.0, 5),  # after the complete week: not counted
        ]
    ).astype({"patient_id": "str", "exercise_id": "str"})
    got = recorded_doses(rows, default_catalog(), "2026-03-16", "2026-03-25").set_index(
        "patient_id"
    )
    assert got.loc["a", "recorded"] == 30.0 and got.loc["a", "recorded_n"] == 3
    assert got.loc["b", "recorded"] == 37.5 and got.loc["b", "recorded_n"] == 2
