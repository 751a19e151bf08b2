"""backcare.analysis.progression: one-step suggestions on small hand-built frames."""

from __future__ import annotations

import pytest

from backcare import analysis as A
from backcare.domain.catalog import default_catalog
from tests.support.frames import D, daily_from, done_days, frame, items, rx

END = D(27)


def progression(p, it, daily, notes=None):
    out = A.progression_suggestions(p, it, daily, default_catalog(), END, notes)
    return out.set_index("exercise_id")


def test_progression_suggests_the_next_ladder_step_when_done_and_pain_stable():
    p = rx(
        (1, D(0), None, "plank", 7, 30),
        (1, D(0), None, "brisk-walking", 3, 10),
        (1, D(0), None, "knee-to-chest", 7),
    )
    # last 14 days = days 14-27, two complete weeks (D(0) is a Monday). Plank done every day
    # but days 20 and 27: 6 of 7 (86 %) each week, 12 of 14 overall; walking 3 of 3 each
    # week (100 %). Both are ready; one change at a time: walking (the higher share) first.
    plank_days = [d for d in range(14, 28) if d not in (20, 27)]
    it = items(
        *done_days("plank", plank_days), *done_days("brisk-walking", [14, 16, 18, 21, 23, 25])
    )
    out = progression(p, it, daily_from([4] * 28))
    assert out.loc["brisk-walking", ["current", "suggested", "direction"]].tolist() == [
        10,
        12,
        "up",
    ]
    assert out.loc["plank", ["current", "suggested", "direction"]].tolist() == [30, 30, "hold"]
    assert "one change at a time: Brisk Walking is suggested first" in out.loc["plank", "reason"]
    assert out.loc["knee-to-chest", "direction"] == "hold"
    assert "no progression ladder" in out.loc["knee-to-chest", "reason"]
    assert out.loc["plank", "done_share"] == pytest.approx(12 / 14)
    # without walking, plank alone progresses
    alone = progression(p.iloc[[0]], items(*done_days("plank", plank_days)), daily_from([4] * 28))
    assert alone.loc["plank", ["current", "suggested", "direction"]].tolist() == [30, 45, "up"]


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
    # a flare-up episode: days 20-21 at 6, 3 points above the median (3) of the 14 days before
    out = progression(p, it, daily_from([3] * 20 + [6, 6] + [3] * 6))
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
