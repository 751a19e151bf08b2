"""backcare.present.text: the plain-words summary of a patient's numbers."""

from __future__ import annotations

from backcare import analysis as A
from backcare.present.text import summarise
from tests.support.frames import D, done_days, items, rx, trend_of

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
        "Pain fell from 6.0 to 3.0 over 8 weeks (3.0 points, 50 %): a substantial, clinically "
        "important improvement."
    )
    assert "ticked off 50 % of the prescribed times" in text  # 28 of 56
    assert "Habit strength: 42 out of 100." in text
    assert summarise(trend_of([3] * 14 + [4] * 14 + [5] * 14)).startswith(
        "Pain rose from 3.0 to 5.0 over 6 weeks (2.0 points, 67 %): a clinically important "
        "worsening."
    )
    assert summarise(trend_of([5] * 42)).startswith(
        "Pain stayed at 5.0 over 6 weeks: no clinically"
    )
    assert summarise(trend_of([5] * 10)).startswith("Not enough pain scores to judge a trend yet")
    for t in (text, summarise(trend_of([5] * 10))):
        assert not any(w in t.lower() for w in CAUSAL)
