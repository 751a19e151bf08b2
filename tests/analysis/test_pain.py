"""backcare.analysis.pain on small hand-built frames: daily pain, the trend against the MCID and
flare-ups; every expected number is worked out here."""

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
