"""analysis.change: the baseline anchored at the programme start, classes graded by importance.

Every expected value is worked out by hand in the comments."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from backcare import analysis as A

MON = pd.Timestamp("2024-01-01")


def D(i: int) -> pd.Timestamp:
    return MON + pd.Timedelta(days=i)


def daily(scores: dict[int, float], patient: str = "p1") -> pd.DataFrame:
    """Daily pain on the given day numbers (others have no score)."""
    days = sorted(scores)
    return pd.DataFrame(
        {
            "patient_id": patient,
            "day": [D(d) for d in days],
            "pain": [float(scores[d]) for d in days],
        }
    )


def block(first: int, last: int, value: float) -> dict[int, float]:
    return {d: value for d in range(first, last + 1)}


def test_a_stray_first_score_does_not_block_the_baseline():
    # 9 on day 0, nothing until day 30; 6 on days 30..43, 3 on days 60..73.
    # The window from day 0 holds 1 score (< 4): the baseline is the window from day 30,
    # mean 6.0; latest [60, 73] = 3.0; change -3.0 = -50 %: >= 2 points and >= 50 %.
    t = A.pain_trend(daily({0: 9, **block(30, 43, 6), **block(60, 73, 3)}))
    assert t.status == A.MUCH_IMPROVED
    assert (t.baseline, t.latest, t.change) == (6.0, 3.0, -3.0)
    assert t.baseline_window == (D(30), D(43)) and t.latest_window == (D(60), D(73))


def test_a_stray_last_score_does_not_replace_the_latest_window():
    # as above plus one 8 on day 100: the window ending on day 100 holds 1 score, so the
    # latest window is still [60, 73] (3.0)
    t = A.pain_trend(daily({**block(30, 43, 6), **block(60, 73, 3), 100: 8}))
    assert t.latest_window == (D(60), D(73)) and t.latest == 3.0


def test_the_baseline_is_anchored_at_the_programme_start_not_at_the_period():
    # scores of 9 before the programme (days 0..13), the programme starts on day 20 with
    # 6 for days 20..33 and 4 for days 50..63: the baseline is 6.0, not 9.0
    scores = {**block(0, 13, 9), **block(20, 33, 6), **block(50, 63, 4)}
    t = A.pain_trend(daily(scores), anchor=D(20))
    assert t.baseline == 6.0 and t.baseline_window == (D(20), D(33)) and t.anchor == D(20)
    # -2 points is 33 % of 6 (>= 30 %): improved
    assert (t.latest, t.status) == (4.0, A.IMPROVED)
    # looking at a period that ends earlier moves the latest window, never the baseline
    early = A.pain_trend(daily(scores), anchor=D(20), end=D(40))
    assert early.status == A.INSUFFICIENT and "overlap" in early.reason
    later = A.pain_trend(daily({**scores, **block(64, 80, 4)}), anchor=D(20), end=D(70))
    assert later.baseline == 6.0 and later.latest_window == (D(57), D(70))


@pytest.mark.parametrize(
    ("baseline", "latest", "expected"),
    [
        # baseline 1.5: a 2-point fall is impossible; +2 is worse
        (1.5, 0.0, A.NO_CHANGE),
        (1.5, 3.5, A.WORSE),
        # baseline 5: 2 points bind (30 % = 1.5); 50 % = 2.5
        (5.0, 3.5, A.NO_CHANGE),  # -1.5 (30 %): not 2 points
        (5.0, 3.0, A.IMPROVED),  # -2 (40 %)
        (5.0, 2.5, A.MUCH_IMPROVED),  # -2.5 (50 %)
        (5.0, 7.0, A.WORSE),
        # baseline 8: 30 % (2.4) binds over 2 points; 50 % = 4
        (8.0, 6.0, A.NO_CHANGE),  # -2 is only 25 %
        (8.0, 5.6, A.IMPROVED),  # -2.4 = 30 %
        (8.0, 4.0, A.MUCH_IMPROVED),
        (8.0, 10.0, A.WORSE),
    ],
)
def test_classes_for_low_middle_and_high_baselines(baseline, latest, expected):
    assert A.classify_change(baseline, latest) == expected


def test_the_thresholds_are_the_class_boundaries():
    t = A.change_thresholds(8.0)
    # improved at or below 8 - max(2, 2.4) = 5.6; much improved at or below 8 - 4 = 4;
    # worse at or above 10
    assert (t.improved_at, t.much_improved_at, t.worse_at) == (5.6, 4.0, 10.0)
    low = A.change_thresholds(1.5)
    assert low.improved_at is None and low.much_improved_at is None and low.worse_at == 3.5
    assert A.low_baseline(1.5) and not A.low_baseline(2.0)
    for b in (1.5, 5.0, 8.0):
        th = A.change_thresholds(b)
        if th.improved_at is not None:
            assert A.classify_change(b, th.improved_at) in (A.IMPROVED, A.MUCH_IMPROVED)
            assert A.classify_change(b, th.improved_at + 0.1) == A.NO_CHANGE
        if th.worse_at is not None:
            assert A.classify_change(b, th.worse_at) == A.WORSE
            assert A.classify_change(b, th.worse_at - 0.1) == A.NO_CHANGE


def test_a_low_baseline_is_flagged_with_its_numbers():
    # 1.5 for days 0..13 (three 1s and three 2s per... : 1 and 2 alternating), then 0
    scores = {d: (1 if d % 2 else 2) for d in range(14)} | block(40, 53, 0)
    t = A.pain_trend(daily(scores))
    assert (t.baseline, t.latest, t.status, t.low_baseline) == (1.5, 0.0, A.NO_CHANGE, True)


def test_change_classes_grade_many_pairs_at_once_like_one_pair():
    from backcare.analysis.change import change_classes

    # worked by hand: baseline 6 -> improved at <= 4 (a fall of max(2, 30 % = 1.8) = 2),
    # much improved at <= 3 (max(2, 50 % = 3) = 3), worse at >= 8; baseline 1 cannot
    # improve (1 - 2 < 0); baseline 9 cannot get worse (9 + 2 > 10)
    base = np.array([6.0, 6.0, 6.0, 6.0, 1.0, 9.0])
    late = np.array([3.0, 4.0, 5.0, 8.0, 0.0, 10.0])
    expected = ["much improved", "improved", "no important change", "worse"]
    expected += ["no important change", "no important change"]
    assert change_classes(base, late).tolist() == expected
    assert [A.classify_change(b, v) for b, v in zip(base, late, strict=True)] == expected
