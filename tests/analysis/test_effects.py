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
    # plank was done in all five sessions: it has no row of its own (its sessions are all
    # sessions), and the overall row says so
    assert "plank" not in per.index and "plank" in overall["note"]
    # walking: done in a-d only -> n = 4 < 5: suppressed, no numbers
    assert per.loc["brisk-walking", "n"] == 4 and per.loc["brisk-walking", "suppressed"]
    assert per.loc["brisk-walking", ["mean", "ci_low", "ci_high"]].isna().all()


def test_identical_session_changes_give_no_interval_and_say_so():
    # five sessions, each 5 -> 4: every change is exactly -1; sd 0. A t interval would be
    # -1 to -1 (zero width), presenting five identical entries as certainty: none is given.
    s = sessions(*[(f"s{i}", D(i), 5, 4) for i in range(5)])
    it = items(*[(f"s{i}", D(i), "plank", True) for i in range(5)])
    overall = A.session_effect(s, it).iloc[0]
    assert overall["n"] == 5 and overall["mean"] == -1.0 and overall["sd"] == 0.0
    assert math.isnan(overall["ci_low"]) and math.isnan(overall["ci_high"])
    assert overall["note"] == "all 5 sessions changed pain by exactly -1 points; no interval"


def test_exercises_always_done_together_share_one_row():
    # ten sessions; plank and bird-dog together in s0-s5, cat-cow in every one of them.
    # changes: s0-s5: -2, -1, -2, -1, -2, -1 ; s6-s9: 0, 1, 0, 1
    diffs = [-2, -1, -2, -1, -2, -1, 0, 1, 0, 1]
    s = sessions(*[(f"s{i}", D(i), 5, 5 + d) for i, d in enumerate(diffs)])
    it = items(
        *[(f"s{i}", D(i), "cat-cow", True) for i in range(10)],
        *[(f"s{i}", D(i), ex, True) for i in range(6) for ex in ("plank", "bird-dog")],
    )
    eff = A.session_effect(s, it)
    # overall: mean -7/10 = -0.7; cat-cow (in all ten) has no row of its own
    assert list(eff["scope"]) == ["overall", "exercise"]
    assert eff["mean"].iloc[0] == pytest.approx(-0.7) and "cat-cow" in eff["note"].iloc[0]
    # plank and bird-dog cannot be told apart: one row, mean of s0-s5 = -9/6 = -1.5,
    # sd = sqrt(6 * 0.25 / 5) = sqrt(0.3), t(0.975, 5) = 2.5706 (table)
    row = eff.iloc[1]
    assert row["exercise_id"] == "bird-dog+plank" and row["n"] == 6
    assert row["mean"] == pytest.approx(-1.5) and row["sd"] == pytest.approx(math.sqrt(0.3))
    half = 2.5706 * math.sqrt(0.3) / math.sqrt(6)
    assert row["ci_low"] == pytest.approx(-1.5 - half, abs=1e-3)


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
    # neighbouring weeks: lag-1 autocorrelations (lags up to 6 // 5 = 1)
    # x: (6.25*... in tenths) products -2.5*-1.5 + -1.5*-.5 + -.5*.5 + .5*1.5 + 1.5*2.5 = 8.75
    #    -> 8.75 / 17.5 = 0.5
    # y: 3.75 - 1.25 - 0.25 - 1.25 + 3.75 = 4.75 -> 4.75 / 17.5
    # 1 / n_eff = 1/6 + 2/6 * 0.5 * 4.75/17.5 -> n_eff = 4.719; interval with n_eff - 3
    n_eff = 1 / (1 / 6 + 2 / 6 * 0.5 * 4.75 / 17.5)
    assert res.n_eff == pytest.approx(n_eff) and res.note == ""
    z, half = math.atanh(r), 1.959964 / math.sqrt(n_eff - 3)
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


def _ar1(rng: np.random.Generator, n: int, phi: float) -> np.ndarray:
    """A stationary AR(1) series: x_t = phi x_(t-1) + e_t, e_t standard normal."""
    x = np.empty(n)
    x[0] = rng.normal() / math.sqrt(1 - phi**2)
    for t in range(1, n):
        x[t] = phi * x[t - 1] + rng.normal()
    return x


def test_the_interval_holds_zero_as_often_as_it_claims_when_there_is_no_effect():
    """Simulated diaries with no true effect: weekly adherence and the change in pain each
    drift slowly (AR(1), phi 0.8; neighbouring weeks alike) and independently of each other,
    20 pairs of weeks, 400 diaries (about a second). A 95 % interval should hold the true
    r = 0 in about 95 % of them: the effective-n interval (what adherence_vs_pain gives)
    does, within the simulation's error (SE about 1.1 points); Fisher's z with n - 3
    overclaims (about 72 % here)."""
    rng = np.random.default_rng(20261130)
    reps, n = 400, 20
    held_eff = held_fisher = 0
    for _ in range(reps):
        x, y = _ar1(rng, n, 0.8), _ar1(rng, n, 0.8)
        _, _, lo, hi = A.pearson_ci(x, y, n_eff=A.effective_n(x, y))
        held_eff += lo <= 0 <= hi or math.isnan(lo)  # no interval claims nothing
        _, _, lo, hi = A.pearson_ci(x, y)
        held_fisher += lo <= 0 <= hi
    assert 0.90 <= held_eff / reps <= 0.99
    assert held_fisher / reps < 0.85


def test_weeks_on_an_exact_line_give_no_interval_with_a_sentence_why():
    # weekly pain 10.5, 10, 9, 7.5, 5.5, 3, 0: changes -0.5, -1, ..., -3 against adherence
    # 0.1 .. 0.6 (change = -5 * adherence): r = -1; Fisher's z would give the zero-width
    # interval -1 to -1
    weekly_pain = [10.5, 10, 9, 7.5, 5.5, 3, 0]
    daily = weeks_daily(weekly_pain)
    wk = pd.DataFrame(
        {"week": [D(7 * i) for i in range(7)], "adherence": [0.1 * i for i in range(1, 8)]}
    )
    res = A.adherence_vs_pain(wk, daily)
    assert list(res.pairs["change"]) == [-0.5, -1, -1.5, -2, -2.5, -3]
    assert res.r == pytest.approx(-1.0)
    assert res.ci_low is None and res.ci_high is None
    assert res.note == "no interval: the 6 weeks lie exactly on a line"
