"""backcare.analysis.adherence on small hand-built frames: adherence per exercise, week and
period, habit strength, streaks and this week's progress; every expected number is worked out
here."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from backcare import analysis as A
from backcare.analysis import week_progress
from backcare.present.text import week_progress_lines
from backcare.store import open_store
from tests.support.frames import D, done_days, items, rx
from tests.support.stores import START


def test_adherence_uses_the_programme_in_force_each_day():
    p = rx(
        (1, D(0), D(2), "plank", 7),
        (1, D(0), D(2), "brisk-walking", 3),
        (2, D(3), None, "plank", 3),
    )
    it = items(
        ("a", D(0), "plank", True),
        ("a", D(0), "brisk-walking", True),
        ("b", D(1), "plank", True),
        ("c", D(2), "brisk-walking", True),
        ("d", D(3), "plank", True),
        ("e", D(5), "plank", True),
        ("e", D(5), "brisk-walking", True),
    )  # walking on Saturday: no longer prescribed
    per = A.adherence_by_exercise(p, it, D(0), D(6)).set_index("exercise_id")
    # plank: Mon-Wed at 7/7 a day + Thu-Sun at 3/7 a day = 3 + 12/7 = 33/7 prescribed; done 4
    assert per.loc["plank", "prescribed"] == pytest.approx(33 / 7)
    assert per.loc["plank", "done"] == 4
    assert per.loc["plank", "adherence"] == pytest.approx(4 / (33 / 7))  # 0.848
    assert per.loc["plank", "adherent"]
    # walking: Mon-Wed at 3/7 a day = 9/7 prescribed; done 2 in force (Saturday ignored),
    # capped at 9/7
    assert per.loc["brisk-walking", "prescribed"] == pytest.approx(9 / 7)
    assert per.loc["brisk-walking", "done"] == 2
    assert per.loc["brisk-walking", "adherence"] == pytest.approx(1.0)
    wk = A.weekly_adherence(p, it, D(0), D(6))
    assert len(wk) == 1
    # week: (4 + 9/7) / (33/7 + 9/7) = 37/42
    assert wk["adherence"].iloc[0] == pytest.approx(37 / 42)
    assert wk["complete"].iloc[0] and wk["days"].iloc[0] == 7


def test_over_doing_one_exercise_does_not_hide_missing_another():
    p = rx((1, D(0), None, "brisk-walking", 3), (1, D(0), None, "plank", 7))
    it = items(*[(f"s{i}", D(i), "brisk-walking", True) for i in range(7)])
    wk = A.weekly_adherence(p, it, D(0), D(6))
    # walking capped at 3 of 3, plank 0 of 7: (3 + 0) / (3 + 7)
    assert wk["adherence"].iloc[0] == pytest.approx(0.3)
    assert not wk["adherent"].iloc[0]


def test_full_week_three_times_a_week_is_exact_and_adherent():
    p = rx((1, D(0), None, "brisk-walking", 3))
    it = items(
        ("a", D(0), "brisk-walking", True),
        ("b", D(2), "brisk-walking", True),
        ("c", D(4), "brisk-walking", True),
    )
    per = A.adherence_by_exercise(p, it, D(0), D(6))
    assert per["prescribed"].iloc[0] == 3.0  # 21 / 7, no rounding error
    assert per["adherence"].iloc[0] == 1.0


def test_partial_weeks_are_pro_rated():
    p = rx((1, D(0), None, "plank", 7))
    it = items(("a", D(2), "plank", True), ("b", D(3), "plank", True), ("c", D(7), "plank", True))
    wk = A.weekly_adherence(p, it, D(2), D(8))  # Wednesday to the next Tuesday
    assert list(wk["days"]) == [5, 2]
    assert list(wk["prescribed"]) == [5.0, 2.0]
    assert list(wk["adherence"]) == pytest.approx([2 / 5, 1 / 2])
    assert list(wk["complete"]) == [False, False]


def test_session_adherence_counts_sessions_with_a_done_exercise():
    p = rx((1, D(0), None, "plank", 7), (1, D(0), None, "brisk-walking", 3))
    it = items(
        ("a", D(0), "plank", True),
        ("a2", D(0), "plank", True),  # two sessions on Monday
        ("b", D(1), "brisk-walking", True),
        ("c", D(2), "plank", True),
        ("d", D(3), "plank", False),  # nothing done: not a session that counts
        ("e", D(4), "plank", True),
        ("f", D(5), "plank", True),
    )
    wk = A.weekly_adherence(p, it, D(0), D(6))
    # sessions prescribed: the most frequent exercise (7x/week) -> 7; done: a, a2, b, c, e, f = 6
    assert wk["sessions_prescribed"].iloc[0] == pytest.approx(7.0)
    assert wk["sessions_done"].iloc[0] == 6
    assert wk["session_adherence"].iloc[0] == pytest.approx(6 / 7)


def test_adherence_with_no_programme_or_no_items():
    wk = A.weekly_adherence(rx(), items(), D(0), D(13))
    assert len(wk) == 2 and wk["adherence"].isna().all() and not wk["adherent"].any()
    assert A.period_adherence(wk) is None
    wk = A.weekly_adherence(rx((1, D(0), None, "plank", 7)), items(), D(0), D(6))
    assert wk["adherence"].iloc[0] == 0.0
    assert A.adherence_by_exercise(rx(), items(), D(0), D(6)).empty


def test_single_day():
    p = rx((1, D(0), None, "plank", 7))
    wk = A.weekly_adherence(p, items(("a", D(3), "plank", True)), D(3), D(3))
    assert wk[["days", "prescribed", "done", "adherence", "session_adherence"]].iloc[
        0
    ].tolist() == [1, 1.0, 1.0, 1.0, 1.0]


def test_period_adherence_sums_capped_done_over_prescribed():
    p = rx((1, D(0), None, "plank", 7))
    it = items(*[(f"s{i}", D(i), "plank", True) for i in range(7)], ("x", D(7), "plank", True))
    wk = A.weekly_adherence(p, it, D(0), D(13))
    assert A.period_adherence(wk) == pytest.approx((7 + 1) / 14)


def test_daily_completion_share_of_exercises_due():
    p = rx((1, D(0), None, "plank", 7), (1, D(0), None, "brisk-walking", 3))
    it = items(
        ("a", D(0), "plank", True), ("a", D(0), "brisk-walking", True), ("b", D(1), "plank", True)
    )
    c = A.daily_completion(p, it, D(0), D(2))
    assert list(c["due"]) == [2, 2, 2]
    assert list(c["share"]) == [1.0, 0.5, 0.0]
    assert A.daily_completion(rx(), it, D(0), D(1))["share"].isna().all()


def test_adherence_by_month_regroups_weeks():
    p = rx((1, D(0), None, "plank", 7))
    it = items(*[(f"s{i}", D(i), "plank", True) for i in range(0, 35, 2)])
    wk = A.weekly_adherence(p, it, D(0), D(34))
    m = A.adherence_by_month(wk)
    # weeks starting 1, 8, 15, 22, 29 Jan are all January: 18 done of 35
    assert len(m) == 1 and m["adherence"].iloc[0] == pytest.approx(18 / 35)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tpw=st.integers(1, 14), done=st.lists(st.integers(0, 3), min_size=1, max_size=21))
def test_capped_adherence_is_always_between_0_and_1(tpw, done):
    p = rx((1, D(0), None, "plank", tpw))
    rows = [(f"s{i}-{k}", D(i), "plank", True) for i, n in enumerate(done) for k in range(n)]
    wk = A.weekly_adherence(p, items(*rows), D(0), D(len(done) - 1))
    assert ((wk["adherence"] >= 0) & (wk["adherence"] <= 1)).all()
    assert ((wk["session_adherence"] >= 0) & (wk["session_adherence"] <= 1)).all()


# ---- habit strength and streaks ---------------------------------------------------------------
def test_habit_reaches_half_after_one_half_life_of_perfect_days():
    p = rx((1, D(0), None, "plank", 7))
    it = items(*[(f"s{i}", D(i), "plank", True) for i in range(28)])
    h = A.habit_strength(p, it, D(0), D(27))
    # x = 1 every day, h_t = 1 - (1 - a)^(t+1) with (1 - a) = 2^(-1/7): after 7 days exactly 1/2
    assert h["habit"].iloc[6] == pytest.approx(0.5)
    assert h["habit"].iloc[13] == pytest.approx(0.75)
    assert (h["completion"] == 1).all()


def test_habit_respects_n_times_per_week_programmes():
    p = rx((1, D(0), None, "brisk-walking", 3))
    spread = items(
        *[(f"s{i}", D(i), "brisk-walking", True) for i in range(28) if i % 7 in (0, 2, 4)]
    )
    late = items(*[(f"s{i}", D(i), "brisk-walking", True) for i in range(28) if i % 7 in (4, 5, 6)])
    h_spread = A.habit_strength(p, spread, D(0), D(27))
    h_late = A.habit_strength(p, late, D(0), D(27))
    # Mon/Wed/Fri: on Thursday of week 1, 2 done against 4 * 3/7 = 12/7 prescribed -> capped, 1
    assert (h_spread["completion"] == 1).all()
    # Fri/Sat/Sun: nothing done by Thursday of week 1 -> 0 ...
    assert h_late["completion"].iloc[3] == 0
    # ... but from the first Sunday on, every 7-day window holds 3 walks against 3 prescribed
    assert (h_late["completion"].iloc[6:] == 1).all()
    # a daily programme kept every day gives the same x = 1, so the same score after week 1
    assert h_spread["habit"].iloc[-1] > h_late["habit"].iloc[-1] > 0.8


def test_habit_decays_over_a_gap_with_the_half_life():
    p = rx((1, D(0), None, "plank", 7))
    it = items(*[(f"s{i}", D(i), "plank", True) for i in range(28)])
    h = A.habit_strength(p, it, D(0), D(48)).set_index("day")
    # the window empties 7 days after the last session (day 34); then x = 0 and h halves in 7 days
    assert h.loc[D(34), "completion"] == 0
    assert h.loc[D(41), "habit"] == pytest.approx(h.loc[D(34), "habit"] / 2)
    assert h.loc[D(48), "habit"] == pytest.approx(h.loc[D(34), "habit"] / 4)


def test_habit_is_unchanged_on_days_without_a_programme():
    p = rx((1, D(0), D(6), "plank", 7), (2, D(14), None, "plank", 7))
    it = items(*[(f"s{i}", D(i), "plank", True) for i in range(7)])
    h = A.habit_strength(p, it, D(0), D(20)).set_index("day")
    # days 7-12 still have programme days in their 7-day window; day 13 has none
    assert math.isnan(h.loc[D(13), "completion"])
    assert h.loc[D(13), "habit"] == h.loc[D(12), "habit"]
    assert A.habit_strength(rx(), items(), D(0), D(3))["habit"].tolist() == [0.0] * 4


def weekly_frame(adh: list[float | None], last_days: int = 7) -> pd.DataFrame:
    n = len(adh)
    return pd.DataFrame(
        {
            "week": pd.Series([D(7 * i) for i in range(n)], dtype="datetime64[ns]"),
            "adherence": pd.Series([np.nan if a is None else a for a in adh], dtype=float),
            "complete": [True] * max(n - 1, 0) + [last_days == 7] * min(n, 1),
            "days": [7] * max(n - 1, 0) + [last_days] * min(n, 1),
        }
    )


def test_streaks_count_met_weeks_skip_unprescribed_and_ignore_the_week_in_progress():
    w = weekly_frame([0.9, 0.85, 0.5, 0.8, 1.0, None, 0.95, 0.2], last_days=3)
    s = A.streaks(w)
    # runs: 0.9, 0.85 (2) | 0.5 breaks | 0.8, 1.0, (no programme: skipped), 0.95 (3)
    # | 0.2 in progress
    assert (s.current, s.longest, s.in_progress) == (3, 3, True)
    assert s.current_since == D(21)
    s = A.streaks(weekly_frame([0.9, 0.85, 0.5, 0.8, 1.0, None, 0.95, 0.2]))
    assert (s.current, s.longest) == (0, 3)
    # an incomplete last week is in progress even when already met: it does not count yet
    s = A.streaks(weekly_frame([0.9, 0.85, 0.5, 0.8, 1.0, None, 0.95, 0.9], last_days=3))
    assert (s.current, s.longest, s.in_progress) == (3, 3, True)
    s = A.streaks(weekly_frame([0.9, 0.85, 0.5, 0.8, 1.0, None, 0.95, 0.9]))
    assert (s.current, s.longest, s.in_progress) == (4, 4, False)
    assert A.streaks(weekly_frame([])).current == 0


# ---- one patient per call; frames read from a store ----------------------------------------
def test_frames_of_two_patients_are_refused():
    two = pd.concat(
        [
            items(("a", D(0), "plank", True)),
            items(("b", D(0), "plank", True)).assign(patient_id="p2"),
        ]
    )
    with pytest.raises(ValueError, match="patient_id"):
        A.weekly_adherence(rx((1, D(0), None, "plank", 7)), two, D(0), D(6))


def test_store_frames_with_a_mid_week_programme_change(tmp_path):
    store = open_store(f"sqlite:///{tmp_path / 'b.db'}")
    store.add_patient("p1")
    store.set_programme(
        "p1", [{"exercise_id": "plank", "hold_s": 30, "times_per_week": 7}], valid_from=D(0).date()
    )
    store.set_programme(
        "p1", [{"exercise_id": "plank", "hold_s": 45, "times_per_week": 3}], valid_from=D(3).date()
    )
    for i in (0, 1, 3, 5):
        store.save_session(
            "p1",
            [{"exercise_id": "plank", "done": True, "hold_s": 30}],
            day=D(i).date(),
            pain_before=5,
            pain_after=4,
        )
    wk = A.weekly_adherence(store.prescriptions("p1"), store.items("p1"), D(0), D(6))
    # 3 days at 7/7 + 4 days at 3/7 = 33/7 prescribed, 4 done
    assert wk["prescribed"].iloc[0] == pytest.approx(33 / 7)
    assert wk["adherence"].iloc[0] == pytest.approx(28 / 33)
    store.close()


# ---- this week's progress ------------------------------------------------------------------
def test_week_progress_counts_this_week_against_the_prescription_and_the_weekly_streak(
    store, patient
):
    everything = [
        {"exercise_id": e, "done": True} for e in store.programme_on("p1", START).exercise_ids()
    ]
    for d in range(14):  # two full weeks, every exercise every day: adherent
        store.save_session("p1", everything, day=START + dt.timedelta(days=d))
    for d in (14, 15):  # Monday and Tuesday of the third week: one exercise each
        store.save_session(
            "p1", [{"exercise_id": "plank", "done": True}], day=START + dt.timedelta(days=d)
        )
    store_rx, store_items = store.prescriptions("p1"), store.items("p1")
    wednesday = START + dt.timedelta(days=16)
    p = week_progress(store_rx, store_items, wednesday)
    assert (p.week_start, p.week_end) == (
        START + dt.timedelta(days=14),
        START + dt.timedelta(days=20),
    )
    assert (p.sessions_done, p.sessions_prescribed) == (2, 7)
    assert (p.exercises_done, p.exercises_prescribed) == (2, 56)
    assert (p.streak.current, p.streak.in_progress) == (2, True)
    lines = week_progress_lines(p)
    # Wednesday: Thursday to Sunday are still to come
    assert lines[0] == "This week (Mon 19 Jan to Sun 25 Jan): 2 of 7 sessions done; 4 days to go."
    assert lines[1] == (
        "2 weeks in a row with 80 % or more of your prescribed exercises done; "
        "this week counts once it is complete."
    )
    sunday = week_progress(
        store_rx, store_items, START + dt.timedelta(days=20)
    )  # the week is over: not met
    assert (sunday.streak.current, sunday.streak.longest) == (0, 2)
    none = week_progress(store_rx.iloc[0:0], store_items.iloc[0:0], wednesday)
    assert (
        none.exercises_prescribed == 0
        and "no programme is prescribed" in week_progress_lines(none)[0]
    )


@pytest.mark.parametrize(
    ("recent_done", "recent", "falling"),
    [
        # 7x/week: 7 of 7 in the first week; 4.9 is not a count, so the threshold is probed
        # with whole sessions: 5 of 7 = 71.4 %, a fall of 28.6 points (< 30): not falling
        (5, 5 / 7, False),
        # 4 of 7 = 57.1 %, a fall of 42.9 points and below 80 %: falling
        (4, 4 / 7, True),
        # 7 of 7 again: steady
        (7, 1.0, False),
    ],
)
def test_adherence_falling_compares_the_last_week_with_the_one_before(recent_done, recent, falling):
    p = rx((1, D(0), None, "plank", 7))
    days = list(range(7)) + list(range(7, 7 + recent_done))  # Mon..Sun done, then recent_done
    got = A.adherence_falling(A.in_force_days(p, items(*done_days("plank", days)), D(0), D(13)))
    row = got.loc["p1"]
    assert row["earlier"] == pytest.approx(1.0)
    assert row["recent"] == pytest.approx(recent)
    assert bool(row["falling"]) is falling


def test_steady_low_adherence_is_not_falling_and_a_fall_of_exactly_30_points_is():
    # 3x/week, 1 done in each week: 33 % twice, low but steady, so not falling
    p = rx((1, D(0), None, "plank", 3))
    low = A.adherence_falling(A.in_force_days(p, items(*done_days("plank", [0, 7])), D(0), D(13)))
    assert low.loc["p1", "earlier"] == pytest.approx(1 / 3)
    assert not low.loc["p1", "falling"]
    # plank 7x/week + bird dog 3x/week = 10 a week; week 1 all 10 done (100 %), week 2 plank
    # on 4 days and bird dog 3 times: 7 of 10 = 70 %, exactly 30 points lower: falling
    p = rx((1, D(0), None, "plank", 7), (1, D(0), None, "bird-dog", 3))
    done = done_days("plank", [*range(7), 7, 8, 9, 10]) + done_days("bird-dog", [0, 2, 4, 7, 9, 11])
    got = A.adherence_falling(A.in_force_days(p, items(*done), D(0), D(13))).loc["p1"]
    assert (got["earlier"], got["recent"]) == (pytest.approx(1.0), pytest.approx(0.7))
    assert got["falling"]


def test_weekly_totals_keep_weeks_before_1970_and_their_patients_apart():
    # weeks before 1970-01-01 have negative day numbers; a packed (patient, week) key must
    # neither borrow from the patient nor turn the week into another date (a 100-year
    # history, from 1926, crashed the trends before)
    mon = [pd.Timestamp(d) for d in ("1969-12-22", "1969-12-29", "1970-01-05")]
    per = pd.DataFrame(
        {
            "patient_id": ["p1", "p1", "p1", "p2", "p2"],
            "week": [mon[0], mon[0], mon[1], mon[1], mon[2]],
            "exercise_id": ["plank", "bird-dog", "plank", "plank", "plank"],
            "prescribed": [7.0, 3.0, 7.0, 5.0, 2.0],
            "done_capped": [7.0, 1.0, 3.5, 5.0, 0.0],
        }
    )
    wt = A.weekly_totals(per)
    assert wt["patient_id"].tolist() == ["p1", "p1", "p2", "p2"]
    assert wt["week"].tolist() == [mon[0], mon[1], mon[1], mon[2]]
    assert wt["prescribed"].tolist() == [10.0, 7.0, 5.0, 2.0]  # 7 + 3 in p1's first week
    assert wt["done"].tolist() == [8.0, 3.5, 5.0, 0.0]
    assert wt["adherence"].tolist() == [0.8, 0.5, 1.0, 0.0]  # 8/10, 3.5/7, 5/5, 0/2
    assert wt["adherent"].tolist() == [True, False, True, False]  # at least 80 %
