"""backcare.analysis.pain on small hand-built frames: daily pain, the trend against the MCID and
flare-up episodes; every expected number is worked out here."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backcare import analysis as A
from backcare.store import open_store
from tests.support.frames import D, daily_from, pain, sessions, trend_of


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


def test_trend_improved_needs_two_points_and_thirty_percent():
    t = trend_of([6] * 14 + [5] * 28 + [3] * 14)
    # 6 -> 3: down 3 points and 50 %: a substantial improvement (IMMPACT >= 50 %)
    assert (t.baseline, t.latest, t.change, t.status) == (6.0, 3.0, -3.0, A.MUCH_IMPROVED)
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
    # the window from day 0 now holds 3 scores; the search moves on and finds the baseline
    # at days 30..43, which the latest window overlaps: not enough history yet
    t = trend_of(vals)
    assert t.status == A.INSUFFICIENT and t.baseline is None and "overlap" in t.reason


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
def test_a_six_day_flare_up_is_one_episode_of_six_days_with_its_peak():
    # 14 days at 3, then 3 -> 7 for six days, then back to 3. Baseline: median of the 14
    # days before day 14 = 3; threshold 3 + 2 = 5. Days 14..19 are all 7 >= 5; day 20 is
    # 3 < 5 and ends it. One episode: start day 14, end day 19, 6 days, peak 7. (A
    # trailing 7-day mean would have absorbed it after four days.)
    f = A.flare_ups(daily_from([3] * 14 + [7] * 6 + [3] * 5))
    assert len(f) == 1
    e = f.iloc[0]
    assert (e["start"], e["end"], e["days"], e["peak"]) == (D(14), D(19), 6, 7.0)
    assert (e["baseline"], e["baseline_days"], bool(e["ongoing"])) == (3.0, 14, False)
    # the chart marks each of the six days
    assert list(A.flare_days(f)) == [D(i) for i in range(14, 20)]


def test_a_flare_up_needs_two_days_two_points_above_the_median():
    # one bad day (3 -> 9 -> 3) is not an episode
    assert A.flare_ups(daily_from([3] * 14 + [9] + [3] * 3)).empty
    # a rise of 1.5 for a week is not one either (threshold 3 + 2 = 5)
    assert A.flare_ups(daily_from([3] * 14 + [4.5] * 7)).empty
    # exactly 2 points for exactly 2 days is
    f = A.flare_ups(daily_from([3] * 14 + [5, 5, 3]))
    assert list(zip(f["start"], f["days"], f["peak"], strict=True)) == [(D(14), 2, 5.0)]


def test_the_median_baseline_ignores_one_stray_day_and_is_fixed_at_the_start():
    # 14 days: thirteen 2s and one stray 9 -> median 2 (a mean would be 33/14 = 2.36, and
    # day 15's 4 would fall short of 4.36). Day 14 at 5 is 3 above: start. The episode keeps
    # the baseline of its start: day 15 at 4 is still >= 4 (2 + 2) although its own 14
    # days before now hold the 5; day 16 at 3.5 ends it -> days 14, 15: 2 days, peak 5.
    vals = [2.0] * 14
    vals[5] = 9.0
    f = A.flare_ups(daily_from(vals + [5, 4, 3.5]))
    assert list(zip(f["start"], f["end"], f["days"], f["peak"], f["baseline"], strict=True)) == [
        (D(14), D(15), 2, 5.0, 2.0)
    ]


def test_flare_up_days_without_scores_and_short_histories():
    # fewer than 14 days of history before the rise: day 13 is not judged (no baseline
    # yet); day 14 is (median 3), but its episode ends on day 15: 1 day, no episode
    assert A.flare_ups(daily_from([3] * 13 + [7, 7, 3])).empty
    # 14 days before but only 3 of them scored: not judged; 4 scored: judged
    vals: list[float | None] = [None] * 14
    vals[0] = vals[4] = vals[9] = 3
    assert A.flare_ups(daily_from(vals + [7, 7])).empty
    vals[12] = 3
    f = A.flare_ups(daily_from(vals + [7, 7]))
    assert list(zip(f["start"], f["days"], f["baseline_days"], strict=True)) == [(D(14), 2, 4)]
    # up to 2 days without a score inside an episode do not end it: 7, -, -, 7 is one
    # episode of 4 days; a gap of 3 days ends it at its first day (1 day: no episode)
    f = A.flare_ups(daily_from([3] * 14 + [7, None, None, 7, 3]))
    assert list(zip(f["start"], f["end"], f["days"], strict=True)) == [(D(14), D(17), 4)]
    assert A.flare_ups(daily_from([3] * 14 + [7, None, None, None, 7, 3])).empty
    # an episode still above the threshold on the last day is ongoing
    f = A.flare_ups(daily_from([3] * 14 + [6, 7, 8]))
    assert list(zip(f["days"], f["peak"], f["ongoing"], strict=True)) == [(3, 8.0, True)]
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
    before, after = A.flare_ups(d), A.flare_ups(shifted)
    assert list(before["start"]) == list(after["start"])
    assert list(before["days"]) == list(after["days"])


def test_prior_median_is_the_median_of_the_scored_days_before_each_day_of_the_same_patient():
    from backcare.analysis.pain import _prior_median

    nan = float("nan")
    values = np.array([1.0, 5.0, nan, 3.0, 9.0, 7.0, 2.0, 4.0])
    patient = np.array([0, 0, 0, 0, 0, 1, 1, 1])
    median, count, covered = _prior_median(values, patient, 3)
    # worked by hand, the 3 days before each position (same patient only):
    # 0: none | 1: [1] -> 1 | 2: [5, 1] -> 3 | 3: [nan, 5, 1] -> 3 | 4: [3, nan, 5] -> 4
    # 5: none (patient 1 starts) | 6: [7] -> 7 | 7: [2, 7] -> 4.5
    expected = [nan, 1.0, 3.0, 3.0, 4.0, nan, 7.0, 4.5]
    np.testing.assert_array_equal(median, expected)
    assert count.tolist() == [0, 1, 2, 2, 2, 0, 1, 2]
    assert covered.tolist() == [False, False, False, True, True, False, False, False]
    # an odd count takes the middle value: [3, 5, 1] -> 3
    odd, _, _ = _prior_median(np.array([1.0, 5.0, 3.0, 0.0]), np.zeros(4, dtype=int), 3)
    assert odd[3] == 3.0
