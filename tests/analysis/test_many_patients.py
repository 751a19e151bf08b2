"""Rules applied to several patients at once give each patient exactly their own answer.

The clinic overview passes every patient to the same functions one patient's dashboard
uses; these small golden frames check that patients never leak into each other's windows.
Every expected number is worked out by hand in the comments."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from backcare import analysis as A
from backcare.domain.catalog import default_catalog

MON = pd.Timestamp("2024-01-01")  # a Monday


def D(i: int) -> pd.Timestamp:
    return MON + pd.Timedelta(days=i)


def sums(rows: list[tuple[str, int, int]]) -> pd.DataFrame:
    """Daily sums from (patient, day number, one pain score)."""
    return pd.DataFrame(
        {
            "patient_id": [p for p, _, _ in rows],
            "day": [D(d) for _, d, _ in rows],
            "pain_sum": [s for _, _, s in rows],
            "pain_n": [1] * len(rows),
            "sessions": [1] * len(rows),
            "red_flag_sessions": [0] * len(rows),
        }
    )


def test_daily_from_sums_keeps_each_patients_calendar_and_rolling_mean():
    # A: days 0, 1, 3 scored 4, 6, 8 (day 2 empty); B: days 0..2 scored 9, 9, 9
    d = A.daily_from_sums(
        sums([("A", 0, 4), ("A", 1, 6), ("A", 3, 8), ("B", 0, 9), ("B", 1, 9), ("B", 2, 9)])
    )
    a, b = d[d["patient_id"] == "A"], d[d["patient_id"] == "B"]
    assert list(a["day"]) == [D(0), D(1), D(2), D(3)] and list(b["day"]) == [D(0), D(1), D(2)]
    assert a["pain"].tolist()[:2] == [4.0, 6.0] and np.isnan(a["pain"].iloc[2])
    # A's rolling mean needs 3 scored days among the 7 ending that day: on day 3 it has
    # 4, 6, 8 -> 6.0; on day 1 only 2 -> none. B's days never see A's scores.
    assert np.isnan(a["rolling"].iloc[1]) and a["rolling"].iloc[3] == pytest.approx(6.0)
    assert b["rolling"].tolist()[2] == pytest.approx(9.0) and np.isnan(b["rolling"].iloc[1])


def test_flare_ups_do_not_look_into_another_patients_days():
    # A: fourteen 2s, then 6, 6 on days 14-15 -> median 2, rise 4 for 2 days: an episode.
    # B follows A in the frame: 5 on days 0..15 -> its first 14 days have no 14-day history
    # of its own and later days do not rise: none (with A's days leaking in, B would be
    # judged on day 0). C scores 3 on every other day (days 0, 2, ..., 12: 7 scored days)
    # then 5.5 on days 14 and 15 (two scores each, 5 and 6) -> median 3, rise 2.5: episode.
    rows = [("A", d, 2) for d in range(14)] + [("A", 14, 6), ("A", 15, 6)]
    rows += [("B", d, 5) for d in range(16)]
    rows += [("C", d, 3) for d in range(0, 14, 2)]
    daily = A.daily_from_sums(sums(rows))
    extra = A.daily_from_sums(
        pd.DataFrame(
            {
                "patient_id": ["C", "C"],
                "day": [D(14), D(15)],
                "pain_sum": [11, 11],
                "pain_n": [2, 2],
                "sessions": [0, 0],
            }
        )
    )
    sparse = pd.concat([daily, extra], ignore_index=True)
    sparse = sparse[sparse["pain"].notna()]  # only scored days: flare_ups fills the gaps
    f = A.flare_ups(sparse).set_index("patient_id")
    assert sorted(f.index) == ["A", "C"]
    assert (f.loc["A", "start"], f.loc["A", "days"], f.loc["A", "baseline_days"]) == (D(14), 2, 14)
    assert f.loc["A", "peak"] == pytest.approx(6.0) and f.loc["A", "baseline"] == 2.0
    assert (f.loc["C", "start"], f.loc["C", "days"], f.loc["C", "baseline_days"]) == (D(14), 2, 7)
    assert f.loc["C", "peak"] == pytest.approx(5.5) and f.loc["C", "baseline"] == 3.0


def test_pain_trends_per_patient_and_the_one_patient_case():
    # A: days 0..13 at 6, days 30..43 at 3 -> baseline 6.0, latest 3.0, change -3.0 = -50 %:
    # 2 points and 50 % -> much improved. B: days 0..20 at 5 -> first and last 20 days apart
    # (< 27): insufficient. One frame for both, then A alone: the same answer.
    rows = [("A", d, 6) for d in range(14)] + [("A", d, 3) for d in range(30, 44)]
    rows += [("B", d, 5) for d in range(21)]
    daily = A.daily_from_sums(sums(rows))
    t = A.pain_trends(daily).set_index("patient_id")
    a = t.loc["A"]
    assert (a["status"], a["baseline"], a["latest"], a["change"]) == (
        A.MUCH_IMPROVED,
        6.0,
        3.0,
        -3.0,
    )
    assert a["change_pct"] == pytest.approx(-0.5)
    assert (a["baseline_start"], a["baseline_end"]) == (D(0), D(13))
    assert (a["latest_start"], a["latest_end"]) == (D(30), D(43))
    b = t.loc["B"]
    assert b["status"] == A.INSUFFICIENT and "overlap" in b["reason"]
    assert np.isnan(b["baseline"])
    one = A.pain_trend(daily[daily["patient_id"] == "A"])
    assert (one.status, one.baseline, one.latest, one.change) == (
        A.MUCH_IMPROVED,
        6.0,
        3.0,
        -3.0,
    )
    # reading only the days the trend needs (as the clinic does) changes nothing
    present = A.daily_from_sums(sums(rows), every_day=False)
    assert A.pain_trends(present).equals(A.pain_trends(daily[daily["pain"].notna()]))


def prescriptions(*rows: tuple) -> pd.DataFrame:
    """From (patient, programme_id, valid_from day, exercise, times_per_week, hold_s)."""
    return pd.DataFrame(
        {
            "programme_id": pd.array([r[1] for r in rows], dtype="Int64"),
            "patient_id": [r[0] for r in rows],
            "valid_from": [D(r[2]) for r in rows],
            "valid_to": pd.Series([pd.NaT] * len(rows), dtype="datetime64[ns]"),
            "exercise_id": [r[3] for r in rows],
            "sets": pd.array([1] * len(rows), dtype="Int64"),
            "reps": pd.array([None] * len(rows), dtype="Int64"),
            "hold_s": pd.array([r[5] for r in rows], dtype="Int64"),
            "minutes": pd.array([None] * len(rows), dtype="Int64"),
            "times_per_week": pd.array([r[4] for r in rows], dtype="Int64"),
        }
    )


def done(*rows: tuple) -> pd.DataFrame:
    """Done counts from (patient, day, exercise, count)."""
    return pd.DataFrame(
        {
            "patient_id": [r[0] for r in rows],
            "day": [D(r[1]) for r in rows],
            "exercise_id": [r[2] for r in rows],
            "done": [r[3] for r in rows],
        }
    )


def test_adherence_per_patient_over_one_window():
    # Both on plank 7x/week from day 0; the window is days 0..13 (two whole weeks).
    # A: done every day -> 14 / 14 = 100 %. B: 3 times in week 1 and 7 in week 2, plus 2
    # items on day 20 (outside the window) -> (3 + 7) / 14.
    rx = prescriptions(("A", 1, 0, "plank", 7, 30), ("B", 2, 0, "plank", 7, 30))
    counts = done(
        *[("A", d, "plank", 1) for d in range(14)],
        *[("B", d, "plank", 1) for d in (0, 2, 4)],
        *[("B", d, "plank", 1) for d in range(7, 14)],
        ("B", 20, "plank", 2),
    )
    f = A.in_force_days(rx, None, D(0), D(13), done=counts)
    adh = A.adherence_per_patient(A.weekly_totals(A.by_exercise(f)))
    assert adh["A"] == pytest.approx(1.0)
    assert adh["B"] == pytest.approx(10 / 14)


def test_suggestions_per_patient_follow_each_patients_own_dose_history():
    # Window days 0..13, pain 3 every day for both (stable), plank done every day.
    # A: 30 s since day -20 -> 14 days at 30 s, 100 %, stable -> up to 45 s.
    # B: 30 s until day 9, then 45 s from day 10 -> at 45 s only since day 10: hold.
    rx = prescriptions(
        ("A", 1, -20, "plank", 7, 30),
        ("B", 2, -20, "plank", 7, 30),
        ("B", 3, 10, "plank", 7, 45),
    )
    rx.loc[rx["programme_id"] == 2, "valid_to"] = D(9)
    counts = done(*[(p, d, "plank", 1) for p in "AB" for d in range(14)])
    daily = A.daily_from_sums(sums([(p, d, 3) for p in "AB" for d in range(14)]))
    window = A.in_force_days(rx, None, D(0), D(13), done=counts)
    s = A.suggest(window, daily, A.flare_ups(daily), None, default_catalog()).set_index(
        "patient_id"
    )
    assert (s.loc["A", "direction"], s.loc["A", "current"], s.loc["A", "suggested"]) == (
        "up",
        30,
        45,
    )
    assert s.loc["B", "direction"] == "hold" and s.loc["B", "current"] == 45
    assert f"only since {D(10).date()}" in s.loc["B", "reason"]


def test_days_present_adds_repeated_days_and_orders_by_patient_and_day():
    # unordered rows; A's day 1 twice (two reads of the same day: added); A's day 0 has a
    # session without a score
    frame = pd.DataFrame(
        {
            "patient_id": ["B", "A", "A", "A"],
            "day": [D(0), D(1), D(1), D(0)],
            "pain_sum": [5, 4, 6, 0],
            "pain_n": [1, 1, 1, 0],
            "sessions": [1, 1, 1, 1],
            "red_flag_sessions": [0, 1, 0, 0],
        }
    )
    out = A.daily_from_sums(frame, every_day=False)
    assert out[["patient_id", "day"]].values.tolist() == [["A", D(0)], ["A", D(1)], ["B", D(0)]]
    # by hand: A day 1 = (4 + 6) / 2 = 5 over 2 scores, 2 sessions, 1 with a red flag
    assert np.isnan(out["pain"][0]) and out["pain"][1:].tolist() == [5.0, 5.0]
    assert out["n_scores"].tolist() == [0, 2, 1]
    assert out["sessions"].tolist() == [1, 2, 1]
    assert out["red_flag_sessions"].tolist() == [0, 1, 0]
