"""backcare.analysis.effects: the session effect and adherence against next week's pain, on
small hand-built frames; every expected number is worked out here."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from backcare import analysis as A
from tests.support.frames import D, daily_from, items, sessions


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


def weeks_daily(weekly_pain: list[float]) -> pd.DataFrame:
    return daily_from([v for v in weekly_pain for _ in range(7)])


def test_adherence_vs_next_week_pain_change():
    # weekly pain 5, 3.5, 1, 1.5, 1, 3.5, 5:
    # changes to the next week -1.5, -2.5, 0.5, -0.5, 2.5, 1.5
    daily = weeks_daily([5, 3.5, 1, 1.5, 1, 3.5, 5])
    wk = pd.DataFrame(
        {"week": [D(7 * i) for i in range(7)], "adherence": [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7]}
    )
    res = A.adherence_vs_pain(wk, daily)
    assert res.n == 6 and res.status == "ok"
    assert list(res.pairs["change"]) == [-1.5, -2.5, 0.5, -0.5, 2.5, 1.5]
    # deviations: x (tenths) -2.5..2.5, y -1.5 -2.5 .5 -.5 2.5 1.5
    # -> sum xy = 14.5, sum x2 = sum y2 = 17.5
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
