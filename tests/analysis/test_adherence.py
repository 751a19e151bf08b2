"""backcare.analysis on small hand-built frames; every expected number is worked out here."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from backcare import analysis as A
from backcare.domain.catalog import default_catalog
from backcare.present.text import summarise
from backcare.store import READ_DTYPES, open_store

MON = pd.Timestamp("2024-01-01")  # a Monday


def D(i: int) -> pd.Timestamp:
    """Day i after Monday 2024-01-01."""
    return MON + pd.Timedelta(days=i)


def frame(kind: str, rows: list[dict]) -> pd.DataFrame:
    """A frame with exactly the store's columns and dtypes for `kind` (missing fields defaulted)."""
    dtypes = READ_DTYPES[kind]
    defaults = {"str": "", "bool": False}
    full = [{c: r.get(c, defaults.get(t, None)) for c, t in dtypes.items()} for r in rows]
    df = pd.DataFrame(full, columns=list(dtypes))
    out = {}
    for c, t in dtypes.items():
        s = df[c]
        if t.startswith("datetime64[ns, UTC]"):
            out[c] = pd.to_datetime(s, utc=True)
        elif t.startswith("datetime64"):
            out[c] = pd.to_datetime(s).astype(t)
        else:
            out[c] = s.astype(t)
    return pd.DataFrame(out)


def rx(*rows: tuple) -> pd.DataFrame:
    """Prescriptions from (programme_id, valid_from, valid_to or None, exercise_id, times_per_week[, dose])."""
    out = []
    for pid, vf, vt, ex, tpw, *dose in rows:
        field = default_catalog()[ex].main_dose
        out.append(
            {
                "programme_id": pid,
                "patient_id": "p1",
                "valid_from": vf,
                "valid_to": vt,
                "exercise_id": ex,
                "times_per_week": tpw,
                "sets": 1,
                field: dose[0] if dose else getattr(default_catalog()[ex], field)[0],
            }
        )
    return frame("prescriptions", out)


def items(*rows: tuple) -> pd.DataFrame:
    """Items from (session_id, day, exercise_id, done)."""
    return frame(
        "items",
        [
            {"session_id": s, "patient_id": "p1", "day": d, "exercise_id": e, "done": done}
            for s, d, e, done in rows
        ],
    )


def sessions(*rows: tuple) -> pd.DataFrame:
    """Sessions from (session_id, day, pain_before, pain_after)."""
    return frame(
        "sessions",
        [
            {"session_id": s, "patient_id": "p1", "day": d, "pain_before": b, "pain_after": a}
            for s, d, b, a in rows
        ],
    )


def pain(*rows: tuple) -> pd.DataFrame:
    """Standalone pain scores from (day, score)."""
    return frame(
        "pain",
        [
            {"pain_id": f"x{i}", "patient_id": "p1", "day": d, "score": s}
            for i, (d, s) in enumerate(rows)
        ],
    )


def daily_from(values: list[float | None], start: pd.Timestamp = MON) -> pd.DataFrame:
    """A daily_pain-like frame: one day per value (None = no score that day)."""
    scores = [(start + pd.Timedelta(days=i), v) for i, v in enumerate(values) if v is not None]
    # two scores per day give half points: encode v as the mean of floor and ceil
    rows = []
    for d, v in scores:
        lo, hi = math.floor(v), math.ceil(v)
        if lo == hi:
            rows.append((d, int(v)))
        else:
            assert v - lo == 0.5, "daily_from supports whole and half points"
            rows += [(d, lo), (d, hi)]
    return A.daily_pain(sessions(), pain(*rows), start, start + pd.Timedelta(days=len(values) - 1))


# ---- prescriptions ---------------------------------------------------------------------------
def test_expand_prescriptions_follows_a_mid_week_change():
    # plank 7x/week from Monday, 3x/week from Thursday; walking only in the first programme
    p = rx(
        (1, D(0), D(2), "plank", 7),
        (1, D(0), D(2), "brisk-walking", 3),
        (2, D(3), None, "plank", 3),
    )
    e = A.expand_prescriptions(p, D(0), D(6))
    plank = e[e["exercise_id"] == "plank"].set_index("day")["times_per_week"]
    assert list(plank.index) == [D(i) for i in range(7)]
    assert list(plank) == [7, 7, 7, 3, 3, 3, 3]
    walk = e[e["exercise_id"] == "brisk-walking"]
    assert list(walk["day"]) == [D(0), D(1), D(2)]
    assert len(e) == 7 + 3


def test_expand_prescriptions_clips_to_the_period_and_handles_nothing():
    p = rx((1, D(5), None, "plank", 7))
    assert list(A.expand_prescriptions(p, D(0), D(6))["day"]) == [D(5), D(6)]
    assert A.expand_prescriptions(p, D(0), D(4)).empty
    assert A.expand_prescriptions(rx(), D(0), D(6)).empty
    assert list(A.expand_prescriptions(rx(), D(0), D(6)).columns)[:4] == [
        "patient_id",
        "day",
        "exercise_id",
        "times_per_week",
    ]


# ---- adherence -------------------------------------------------------------------------------
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
    # walking: Mon-Wed at 3/7 a day = 9/7 prescribed; done 2 in force (Saturday ignored), capped at 9/7
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
    # runs: 0.9, 0.85 (2) | 0.5 breaks | 0.8, 1.0, (no programme: skipped), 0.95 (3) | 0.2 in progress
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


# ---- pain -------------------------------------------------------------------------------------
def test_daily_pain_mixes_session_and_standalone_scores_and_keeps_after_separate():
    s = sessions(("a", D(0), 6, 4), ("b", D(0), None, 2), ("c", D(2), 6, None), ("d", D(3), 5, 5))
    p = pain((D(0), 3), (D(3), 4))
    d = A.daily_pain(s, p, D(0), D(3)).set_index("day")
    assert d.loc[D(0), "pain"] == pytest.approx((6 + 3) / 2)  # b has no pain_before
    assert d.loc[D(0), "n_scores"] == 2
    assert d.loc[D(0), "pain_after"] == pytest.approx((4 + 2) / 2)
    assert d.loc[D(0), "sessions"] == 2
    assert math.isnan(d.loc[D(1), "pain"]) and d.loc[D(1), "n_scores"] == 0
    # rolling needs 3 days with a score in the 7 days: day 2 has 2 (NaN), day 3 has 3
    assert math.isnan(d.loc[D(2), "rolling"])
    assert d.loc[D(3), "rolling"] == pytest.approx((4.5 + 6 + 4.5) / 3)


def test_daily_pain_with_no_data():
    assert A.daily_pain(sessions(), pain()).empty
    d = A.daily_pain(sessions(), pain(), D(0), D(2))
    assert len(d) == 3 and d["pain"].isna().all()
    assert A.pain_trend(d).status == A.INSUFFICIENT


def test_a_session_just_before_local_midnight_counts_for_its_local_day(tmp_path):
    store = open_store(f"sqlite:///{tmp_path / 'b.db'}")
    store.add_patient("p1", timezone="America/New_York")
    # 03:30 UTC on 2 Jan is 22:30 on 1 Jan in New York
    store.save_session(
        "p1",
        [{"exercise_id": "plank", "done": True}],
        pain_before=7,
        started_at=dt.datetime(2024, 1, 2, 3, 30, tzinfo=dt.UTC),
    )
    store.add_pain("p1", 3, recorded_at=dt.datetime(2024, 1, 2, 4, 59, tzinfo=dt.UTC))
    d = A.daily_pain(store.sessions("p1"), store.pain("p1"), "2024-01-01", "2024-01-02")
    # both the session (22:30 local) and the score (23:59 local) belong to 1 January
    assert d["pain"].iloc[0] == pytest.approx((7 + 3) / 2) and math.isnan(d["pain"].iloc[1])
    store.close()


def trend_of(values: list[float | None]) -> A.PainTrend:
    return A.pain_trend(daily_from(values))


def test_trend_improved_needs_two_points_and_thirty_percent():
    t = trend_of([6] * 14 + [5] * 28 + [3] * 14)
    assert (t.baseline, t.latest, t.change, t.status) == (6.0, 3.0, -3.0, A.IMPROVED)
    assert t.change_pct == pytest.approx(-0.5)
    assert t.weeks == 8  # first to last score: 55 days
    # 6 -> 4: down 2 points and 33 %: improved
    assert trend_of([6] * 14 + [5] * 14 + [4] * 14).status == A.IMPROVED
    # 7 -> 5: down 2 points but only 28.6 %: not an important improvement
    assert trend_of([7] * 14 + [6] * 14 + [5] * 14).status == A.NO_CHANGE
    # 5 -> 3.5: down 1.5 points (30 %): not 2 points
    assert trend_of([5] * 14 + [4] * 14 + [3.5] * 14).status == A.NO_CHANGE


def test_trend_worse_when_up_two_points():
    assert trend_of([3] * 14 + [4] * 14 + [5] * 14).status == A.WORSE
    t = trend_of([3] * 14 + [4] * 14 + [4.5] * 14)
    assert (t.change, t.status) == (1.5, A.NO_CHANGE)


def test_trend_classifies_the_rounded_means_it_shows():
    # baseline: 13 days at 6 and one at 5.5 -> 83.5 / 14 = 5.964, shown as 6.0;
    # latest 4.0: the shown change is -2.0 (33 %), so the class is "improved" to match it
    t = trend_of([6] * 13 + [5.5] + [5] * 14 + [4] * 14)
    assert t.baseline == 6.0 and t.latest == 4.0 and t.status == A.IMPROVED


def test_trend_with_gaps_uses_days_with_scores_and_needs_four_per_window():
    vals: list[float | None] = [None] * 42
    for i in (0, 3, 6, 9):  # four scores in the first two weeks
        vals[i] = 6
    for i in (30, 33, 36, 41):
        vals[i] = 2
    t = trend_of(vals)
    assert (t.baseline_days, t.latest_days, t.baseline, t.latest) == (4, 4, 6.0, 2.0)
    assert t.baseline_window == (D(0), D(13)) and t.latest_window == (D(28), D(41))
    vals[9] = None
    t = trend_of(vals)
    assert t.status == A.INSUFFICIENT and t.baseline is None and "first two weeks" in t.reason


def test_trend_insufficient_for_short_spans_single_day_and_missing_scores():
    assert trend_of([5] * 27).status == A.INSUFFICIENT  # 26 days apart: windows would overlap
    assert trend_of([5] * 28).status == A.NO_CHANGE  # 27 days apart: OK
    single = trend_of([5])
    assert single.status == A.INSUFFICIENT and single.baseline is None and single.change is None
    assert A.pain_trend(daily_from([None] * 40)).status == A.INSUFFICIENT
    s = sessions(*[(f"s{i}", D(i), None, 3) for i in range(40)])  # only pain_after recorded
    assert A.pain_trend(A.daily_pain(s, pain(), D(0), D(39))).status == A.INSUFFICIENT


def test_classify_change_edges():
    assert A.classify_change(6.0, 4.0) == A.IMPROVED
    assert A.classify_change(6.0, 4.1) == A.NO_CHANGE
    assert A.classify_change(0.0, 0.0) == A.NO_CHANGE
    assert A.classify_change(0.0, 2.0) == A.WORSE
    assert A.classify_change(8.0, 10.0) == A.WORSE


# ---- flare-ups --------------------------------------------------------------------------------
def test_flare_up_is_two_points_above_the_previous_seven_days():
    d = daily_from([3] * 7 + [5, 5])
    f = A.flare_ups(d)
    assert list(f["day"]) == [D(7)]
    assert f["prior_mean"].iloc[0] == 3 and f["rise"].iloc[0] == 2 and f["prior_days"].iloc[0] == 7
    # day 8: previous 7 days are six 3s and one 5 -> 23/7 = 3.29; 5 - 3.29 < 2: no flare


def test_flare_up_with_missing_days_uses_the_days_available_and_needs_three():
    vals: list[float | None] = [None] * 10
    vals[0], vals[3], vals[9] = 2, 2, 6  # day 9: previous 7 days (2-8) hold only day 3
    assert A.flare_ups(daily_from(vals)).empty
    vals[5], vals[8] = 3, 4  # now days 3, 5, 8: mean 3; 6 - 3 = 3 >= 2
    f = A.flare_ups(daily_from(vals))
    assert list(f["day"]) == [D(9)] and f["prior_days"].iloc[0] == 3
    assert f["prior_mean"].iloc[0] == pytest.approx(3.0)
    assert A.flare_ups(daily_from([9])).empty
    assert A.flare_ups(A.daily_pain(sessions(), pain())).empty


@settings(max_examples=40, deadline=None)
@given(
    vals=st.lists(st.one_of(st.none(), st.integers(0, 10)), min_size=1, max_size=40),
    shift=st.integers(-5, 5),
)
def test_flare_ups_do_not_change_when_every_score_shifts_by_a_constant(vals, shift):
    d = pd.DataFrame(
        {
            "day": [D(i) for i in range(len(vals))],
            "pain": [np.nan if v is None else float(v) for v in vals],
        }
    )
    shifted = d.assign(pain=d["pain"] + shift)
    assert list(A.flare_ups(d)["day"]) == list(A.flare_ups(shifted)["day"])


# ---- session effect ---------------------------------------------------------------------------
def test_t_quantile_matches_published_tables_and_closed_forms():
    table = {
        1: 12.706,
        2: 4.303,
        3: 3.182,
        4: 2.776,
        5: 2.571,
        10: 2.228,
        20: 2.086,
        30: 2.042,
        60: 2.000,
        120: 1.980,
    }
    for df, t in table.items():
        assert A.t_quantile(0.975, df) == pytest.approx(t, abs=5e-4)
    assert A.t_quantile(0.975, 1) == pytest.approx(math.tan(math.pi * 0.475))
    p = 0.975  # df = 2: t = (2p - 1) / sqrt(2 p (1 - p))
    assert A.t_quantile(p, 2) == pytest.approx((2 * p - 1) / math.sqrt(2 * p * (1 - p)))
    assert A.t_quantile(0.95, 10) == pytest.approx(1.812, abs=5e-4)
    with pytest.raises(ValueError, match="df"):
        A.t_quantile(0.975, 0)


def test_session_effect_overall_and_per_exercise_with_t_interval():
    # after - before: -2, -1, -1, 0, -1 ; plank in all five, walking in the first four only
    s = sessions(
        ("a", D(0), 6, 4),
        ("b", D(1), 5, 4),
        ("c", D(2), 5, 4),
        ("d", D(3), 4, 4),
        ("e", D(4), 6, 5),
        ("f", D(5), 5, None),
    )  # f has no pain_after: left out
    it = items(
        *[(x, D(i), "plank", True) for i, x in enumerate("abcdef")],
        *[(x, D(i), "brisk-walking", True) for i, x in enumerate("abcd")],
        ("e", D(4), "brisk-walking", False),
    )
    eff = A.session_effect(s, it)
    overall = eff[eff["scope"] == "overall"].iloc[0]
    # mean -1; sd = sqrt((1 + 0 + 0 + 1 + 0) / 4) = 0.7071; t(0.975, 4) = 2.7764 (table)
    half = 2.7764 * math.sqrt(0.5) / math.sqrt(5)
    assert overall["n"] == 5 and overall["mean"] == pytest.approx(-1.0)
    assert overall["sd"] == pytest.approx(math.sqrt(0.5))
    assert overall["ci_low"] == pytest.approx(-1 - half, abs=1e-3)
    assert overall["ci_high"] == pytest.approx(-1 + half, abs=1e-3)
    per = eff[eff["scope"] == "exercise"].set_index("exercise_id")
    assert per.loc["plank", "n"] == 5 and not per.loc["plank", "suppressed"]
    # walking: done in a-d only -> n = 4 < 5: suppressed, no numbers
    assert per.loc["brisk-walking", "n"] == 4 and per.loc["brisk-walking", "suppressed"]
    assert per.loc["brisk-walking", ["mean", "ci_low", "ci_high"]].isna().all()


def test_session_effect_with_no_data():
    eff = A.session_effect(sessions(), items())
    assert len(eff) == 1 and eff["suppressed"].iloc[0] and eff["n"].iloc[0] == 0


# ---- adherence against pain -------------------------------------------------------------------
def weeks_daily(weekly_pain: list[float]) -> pd.DataFrame:
    return daily_from([v for v in weekly_pain for _ in range(7)])


def test_adherence_vs_next_week_pain_change():
    # weekly pain 5, 3.5, 1, 1.5, 1, 3.5, 5: changes to the next week -1.5, -2.5, 0.5, -0.5, 2.5, 1.5
    daily = weeks_daily([5, 3.5, 1, 1.5, 1, 3.5, 5])
    wk = pd.DataFrame(
        {"week": [D(7 * i) for i in range(7)], "adherence": [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7]}
    )
    res = A.adherence_vs_pain(wk, daily)
    assert res.n == 6 and res.status == "ok"
    assert list(res.pairs["change"]) == [-1.5, -2.5, 0.5, -0.5, 2.5, 1.5]
    # deviations: x (tenths) -2.5..2.5, y -1.5 -2.5 .5 -.5 2.5 1.5 -> sum xy = 14.5, sum x2 = sum y2 = 17.5
    r = 14.5 / 17.5
    assert res.r == pytest.approx(r)
    z, half = math.atanh(r), 1.959964 / math.sqrt(6 - 3)
    assert res.ci_low == pytest.approx(math.tanh(z - half), abs=1e-5)
    assert res.ci_high == pytest.approx(math.tanh(z + half), abs=1e-5)
    # slope per unit of adherence: 1.45 / 0.175; intercept: mean y (0) - slope * mean x (0.35)
    assert res.slope == pytest.approx(1.45 / 0.175)
    assert res.intercept == pytest.approx(-0.35 * 1.45 / 0.175)
    assert "not proof" in res.caveat


def test_adherence_vs_pain_needs_enough_consecutive_weeks_with_scores():
    daily = weeks_daily([5, 4, 3, 4, 5, 4, 3])
    wk = pd.DataFrame(
        {"week": [D(7 * i) for i in range(7)], "adherence": [0.5] * 3 + [np.nan] + [0.9] * 3}
    )
    res = A.adherence_vs_pain(wk, daily)
    assert res.n == 5 and res.status == A.INSUFFICIENT and res.r is None
    # a week with only two days of scores has no weekly mean, so it pairs with nothing
    vals: list[float | None] = [5.0] * 49
    for i in range(14, 19):
        vals[i] = None
    res = A.adherence_vs_pain(
        pd.DataFrame(
            {"week": [D(7 * i) for i in range(7)], "adherence": [0.1 * i for i in range(7)]}
        ),
        daily_from(vals),
    )
    assert list(res.pairs["week"]) == [D(0), D(21), D(28), D(35)]
    flat = A.adherence_vs_pain(
        pd.DataFrame({"week": [D(7 * i) for i in range(8)], "adherence": [0.8] * 8}),
        weeks_daily([5, 4, 3, 4, 5, 4, 3, 2]),
    )
    assert flat.r is None and flat.status.startswith("undefined")


def test_pearson_ci_of_a_perfect_line():
    n, r, lo, hi = A.pearson_ci([1, 2, 3, 4, 5], [2, 4, 6, 8, 10])
    assert (n, r, lo, hi) == (5, 1.0, 1.0, 1.0)


# ---- progression ------------------------------------------------------------------------------
END = D(27)


def progression(p, it, daily, notes=None):
    out = A.progression_suggestions(p, it, daily, default_catalog(), END, notes)
    return out.set_index("exercise_id")


def done_days(ex: str, days: list[int]) -> list[tuple]:
    return [(f"{ex}{i}", D(i), ex, True) for i in days]


def test_progression_suggests_the_next_ladder_step_when_done_and_pain_stable():
    p = rx(
        (1, D(0), None, "plank", 7, 30),
        (1, D(0), None, "brisk-walking", 3, 10),
        (1, D(0), None, "knee-to-chest", 7),
    )
    # last 14 days = days 14-27: plank done 12 of 14 (86 %), walking 5 of 6 (83 %)
    it = items(
        *done_days("plank", list(range(14, 26))), *done_days("brisk-walking", [14, 16, 18, 21, 23])
    )
    out = progression(p, it, daily_from([4] * 28))
    assert out.loc["plank", ["current", "suggested", "direction"]].tolist() == [30, 45, "up"]
    assert out.loc["brisk-walking", ["current", "suggested", "direction"]].tolist() == [
        10,
        12,
        "up",
    ]
    assert out.loc["knee-to-chest", "direction"] == "hold"
    assert "no progression ladder" in out.loc["knee-to-chest", "reason"]
    assert out.loc["plank", "done_share"] == pytest.approx(12 / 14)


def test_progression_holds_below_80_percent_with_rising_pain_or_at_the_top():
    p = rx((1, D(0), None, "plank", 7, 60), (1, D(0), None, "pelvic-tilt", 7, 10))
    it = items(
        *done_days("plank", list(range(14, 28))), *done_days("pelvic-tilt", list(range(14, 25)))
    )
    out = progression(p, it, daily_from([4] * 28))
    assert out.loc["plank", "direction"] == "hold" and "top" in out.loc["plank", "reason"]
    # pelvic tilt 11 of 14 = 78.6 %: below 80 %
    assert (
        out.loc["pelvic-tilt", "direction"] == "hold"
        and "below 80 %" in out.loc["pelvic-tilt", "reason"]
    )
    p = rx((1, D(0), None, "plank", 7, 30))
    it = items(*done_days("plank", list(range(14, 28))))
    # days 14-20 at 3, days 21-27 at 4: up 1 point (> 0.5): not stable
    out = progression(p, it, daily_from([3] * 21 + [4] * 7))
    assert out.loc["plank", "direction"] == "hold" and "rising" in out.loc["plank", "reason"]
    # up 0.5 exactly: still "stable"
    out = progression(p, it, daily_from([3] * 21 + [3.5] * 7))
    assert out.loc["plank", "direction"] == "up"
    out = progression(p, it, daily_from([None] * 28))
    assert (
        out.loc["plank", "direction"] == "hold" and "not enough pain" in out.loc["plank", "reason"]
    )


def test_progression_steps_back_after_a_flare_up():
    p = rx((1, D(0), None, "plank", 7, 45), (1, D(0), None, "bird-dog", 7, 5))
    it = items(
        *done_days("plank", list(range(14, 28))), *done_days("bird-dog", list(range(14, 28)))
    )
    out = progression(p, it, daily_from([3] * 20 + [6] + [3] * 7))  # flare on day 20
    assert out.loc["plank", ["suggested", "direction"]].tolist() == [30, "down"]
    assert "flare-up on 2024-01-21" in out.loc["plank", "reason"]
    assert out.loc["bird-dog", "direction"] == "hold" and "lowest" in out.loc["bird-dog", "reason"]
    notes = frame(
        "annotations",
        [
            {
                "annotation_id": "n",
                "patient_id": "p1",
                "day": D(25),
                "kind": "flare-up",
                "text": "moving house",
            }
        ],
    )
    out = progression(p, it, daily_from([3] * 28), notes)
    assert out.loc["plank", "direction"] == "down" and "noted" in out.loc["plank", "reason"]


def test_progression_waits_two_full_weeks_after_a_dose_change_and_handles_off_ladder_doses():
    p = rx((1, D(0), D(22), "plank", 7, 30), (2, D(23), None, "plank", 7, 45))
    it = items(*done_days("plank", list(range(14, 28))))
    out = progression(p, it, daily_from([3] * 28))
    assert (
        out.loc["plank", "direction"] == "hold" and "since 2024-01-24" in out.loc["plank", "reason"]
    )
    out = progression(rx((1, D(0), None, "plank", 7, 40)), it, daily_from([3] * 28))
    assert out.loc["plank", ["current", "suggested"]].tolist() == [40, 45]
    assert progression(rx(), it, daily_from([3] * 28)).empty


# ---- summary and guards -----------------------------------------------------------------------
CAUSAL = ("because", "caused", "due to", "thanks to", "helped", "works", "effective", "led to")


def test_summary_sentences():
    wk = A.weekly_adherence(
        rx((1, D(0), None, "plank", 7)),
        items(*done_days("plank", list(range(0, 55, 2)))),
        D(0),
        D(55),
    )
    text = summarise(trend_of([6] * 14 + [5] * 28 + [3] * 14), wk, A.streaks(wk), 0.42)
    assert text.startswith(
        "Pain fell from 6.0 to 3.0 over 8 weeks: a clinically important improvement."
    )
    assert "ticked off 50 % of the prescribed times" in text  # 28 of 56
    assert "Habit strength: 42 out of 100." in text
    assert summarise(trend_of([3] * 14 + [4] * 14 + [5] * 14)).startswith(
        "Pain rose from 3.0 to 5.0 over 6 weeks: a clinically important worsening."
    )
    assert summarise(trend_of([5] * 42)).startswith(
        "Pain stayed at 5.0 over 6 weeks: no clinically"
    )
    assert summarise(trend_of([5] * 10)).startswith("Not enough pain scores to judge a trend yet")
    for t in (text, summarise(trend_of([5] * 10))):
        assert not any(w in t.lower() for w in CAUSAL)


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
