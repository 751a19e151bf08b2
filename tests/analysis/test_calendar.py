"""backcare.analysis.calendar: prescriptions in force, day by day; every expected value is
worked out here."""

from __future__ import annotations

from backcare import analysis as A
from tests.support.frames import D, rx


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


def test_take_rows_keeps_the_positions_asked_for_indexed_from_zero():
    import numpy as np
    import pandas as pd

    from backcare.analysis.calendar import take_rows

    frame = pd.DataFrame({"v": [10, 11, 12, 13, 14]}, index=[5, 6, 7, 8, 9])
    cases = {
        (1, 2, 3): [11, 12, 13],  # one run: a slice
        (0, 2, 4): [10, 12, 14],  # not one run
        (0, 1, 2, 3, 4): [10, 11, 12, 13, 14],  # all of them
        (): [],
    }
    for at, values in cases.items():
        out = take_rows(frame, np.array(at, dtype=np.int64))
        assert list(out["v"]) == values
        assert list(out.index) == list(range(len(values)))
