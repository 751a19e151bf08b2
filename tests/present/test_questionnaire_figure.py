"""Questionnaire responses drawn on the pain timeline (present.figures.pain_figure)."""

from __future__ import annotations

from backcare import analysis as A
from backcare.present import figures as P
from tests.support.frames import D, frame

EVIL = "<script>alert(1)</script>"


def _pain_figure(questionnaires=None, start=None, end=None):
    pain = frame(
        "pain",
        [
            {
                "pain_id": f"p{i}",
                "patient_id": "p1",
                "day": D(i),
                "score": 5,
                "recorded_at": D(i).tz_localize("UTC"),
            }
            for i in range(28)
        ],
    )
    sessions = frame("sessions", [])
    return P.pain_figure(
        A.daily_pain(sessions, pain, D(0), D(27)),
        questionnaires=questionnaires,
        start=start,
        end=end,
    )


def _responses():
    return frame(
        "questionnaires",
        [
            {
                "response_id": "r0",
                "patient_id": "p1",
                "instrument": "rmdq",
                "day": D(0),
                "recorded_at": D(0).tz_localize("UTC"),
                "answers": "[]",
                "score": 12.0,
            },
            {
                "response_id": "r1",
                "patient_id": "p1",
                "instrument": "rmdq",
                "day": D(21),
                "recorded_at": D(21).tz_localize("UTC"),
                "answers": "[]",
                "score": 6.0,
                "author": EVIL,
            },
            {
                "response_id": "r2",
                "patient_id": "p1",
                "instrument": "psfs",
                "day": D(7),
                "recorded_at": D(7).tz_localize("UTC"),
                "answers": f'[["{EVIL}",3],["stairs",6]]',
                "score": 4.5,
            },
            {
                "response_id": "r3",
                "patient_id": "p1",
                "instrument": "groc",
                "day": D(27),
                "recorded_at": D(27).tz_localize("UTC"),
                "answers": "[4]",
                "score": 4.0,
            },
            # outside the period: not drawn
            {
                "response_id": "r4",
                "patient_id": "p1",
                "instrument": "groc",
                "day": D(40),
                "recorded_at": D(40).tz_localize("UTC"),
                "answers": "[1]",
                "score": 1.0,
            },
        ],
    )


def test_each_instrument_is_drawn_with_its_own_scale_and_nothing_else_changes():
    before = [t.name for t in _pain_figure().data]
    fig = _pain_figure(_responses(), D(0), D(27))
    by_name = {t.name: t for t in fig.data}
    assert [t.name for t in fig.data][: len(before)] == before
    rm = by_name["RMDQ disability (0-24, right axis; lower = better)"]
    assert [str(d) for d in rm.x] == ["2024-01-01", "2024-01-22"] and list(rm.y) == [12.0, 6.0]
    assert rm.yaxis == "y2"
    # the right axis is scaled so RMDQ 24 is level with pain 10: 2.4 RMDQ points per pain point
    assert tuple(fig.layout.yaxis2.range) == (-1.2 * 2.4, 11.6 * 2.4)
    assert tuple(fig.layout.yaxis.range) == (-1.2, 11.6)
    # room on the right for that axis; the top margin stays the pain figure's
    assert (fig.layout.margin.r, fig.layout.margin.t) == (60, 60)
    ps = by_name["PSFS function (mean 0-10, pain axis; higher = better)"]
    assert list(ps.y) == [4.5] and ps.yaxis in (None, "y")
    groc = by_name["Global rating of change (-7 to +7)"]
    assert [str(d) for d in groc.x] == ["2024-01-28"] and list(groc.text) == ["+4"]


def test_user_text_in_hovers_is_escaped():
    fig = _pain_figure(_responses(), D(0), D(27))
    text = fig.to_json()
    assert "<script>" not in text and "&lt;script&gt;" in text


def test_no_responses_leave_the_figure_as_it_was():
    fig = _pain_figure()
    n = len(fig.data)
    none_in_period = _pain_figure(frame("questionnaires", []), D(0), D(27))
    assert len(none_in_period.data) == n
    assert "yaxis2" not in none_in_period.layout.to_plotly_json()
    # a response outside the period (day 40) draws nothing either
    late = _responses().iloc[[4]]
    assert len(_pain_figure(late, D(0), D(27)).data) == n
