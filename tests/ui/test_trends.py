"""backcare.ui.trends without a kernel: it reads the store, fills its Output widgets, never
writes."""

from __future__ import annotations

import datetime as dt

import pytest

from backcare.errors import NotFoundError
from backcare.services import PERIODS, load_trends
from backcare.store import open_store
from backcare.ui.trends import SECTIONS, TrendsView
from tests.support.stores import row_counts

END = dt.date(2024, 3, 31)
PLOTLY = "application/vnd.plotly.v1+json"


pytestmark = pytest.mark.usefixtures("restore_renderer")  # the view sets the offline renderer


@pytest.fixture(scope="module")
def view_store(tmp_path_factory):
    path = tmp_path_factory.mktemp("view") / "b.db"
    s = open_store(f"sqlite:///{path}")
    s.add_patient("demo-001", name="<b>Al</b>")
    s.add_patient("demo-002", name="Bea")
    s.add_patient("demo-003", name="")  # no data at all
    start = END - dt.timedelta(days=55)
    for pid in ("demo-001", "demo-002"):
        s.set_programme(
            pid,
            [
                {"exercise_id": "plank", "hold_s": 30, "times_per_week": 7},
                {"exercise_id": "brisk-walking", "minutes": 10, "times_per_week": 3},
            ],
            valid_from=start,
            author="physio",
        )
    s.add_annotation(
        "demo-001", "<script>alert(1)</script>", day=start + dt.timedelta(days=9), author="<i>x</i>"
    )
    for i in range(56):
        day = start + dt.timedelta(days=i)
        # demo-001: pain from 6 down to 3, a session on 6 days of 7
        if i % 7 != 6:
            s.save_session(
                "demo-001",
                [
                    {"exercise_id": "plank", "done": True},
                    {"exercise_id": "brisk-walking", "done": i % 2 == 0},
                ],
                day=day,
                pain_before=max(3, 6 - (3 * i) // 41),
                pain_after=max(2, 5 - (3 * i) // 41),
                session_id=f"a{i}",
            )
        if i % 3 == 0:
            s.save_session(
                "demo-002",
                [{"exercise_id": "plank", "done": True}],
                day=day,
                pain_before=4,
                session_id=f"b{i}",
            )
    yield s
    s.close()


def test_view_fills_every_section_and_never_writes(view_store):
    before = row_counts(view_store)
    view = TrendsView(view_store, "demo-001", "Last 8 weeks", end=END)
    assert view.error == ""
    assert row_counts(view_store) == before
    for name in ("pain", "calendar", "weekly", "effect", "adherence_pain"):
        first = view.outputs[name].outputs[0]["data"]
        assert PLOTLY in first and "text/html" in first
        # each figure is followed by its caveat
        assert "backcare-caveat" in view.outputs[name].outputs[-1]["data"]["text/html"]
    summary = view.outputs["summary"].outputs[0]["data"]["text/html"]
    # 6.0 -> 3.0 is 3 points and 50 %: a substantial improvement (analysis.change)
    assert (
        "Pain fell from 6.0 to 3.0 over 8 weeks (3.0 points, 50 %): a substantial, clinically "
        "important improvement." in summary
    )
    assert "&lt;b&gt;Al&lt;/b&gt;" in summary and "<b>Al</b>" not in summary
    assert set(view.figures) == {"pain", "calendar", "weekly", "effect", "adherence_pain"}


def test_changing_patient_or_period_redraws(view_store):
    view = TrendsView(view_store, "demo-001", "Last 8 weeks", end=END)
    old = view.outputs["summary"].outputs
    view.patient.value = "demo-002"
    assert view.data.patient_id == "demo-002" and view.outputs["summary"].outputs != old
    assert "Pain stayed at 4.0" in view.data.summary
    view.period.value = "Last 4 weeks"
    assert view.data.start == view.data.end - dt.timedelta(days=27)
    view.period.value = "All history"
    assert view.data.start.date() == END - dt.timedelta(days=55)


def test_patient_without_data_and_empty_store(view_store, tmp_path):
    view = TrendsView(view_store, "demo-003", end=END)
    assert view.error == "" and "Not enough pain scores" in view.data.summary
    empty = open_store(f"sqlite:///{tmp_path / 'e.db'}")
    view = TrendsView(empty)
    assert "No patients" in view.outputs["summary"].outputs[0]["data"]["text/html"]
    empty.close()


def test_load_trends_checks_its_arguments(view_store):
    with pytest.raises(ValueError, match="period"):
        load_trends(view_store, "demo-001", "fortnight")
    with pytest.raises(NotFoundError, match="patient_id: 'nobody' not found"):
        load_trends(view_store, "nobody")
    assert set(PERIODS) >= {"Last 8 weeks", "All history"} and "summary" in SECTIONS


def test_static_mode_keeps_plain_contents_for_exported_html(view_store):
    view = TrendsView(view_store, "demo-001", end=END, live=False)
    assert view.outputs["pain"].outputs == ()
    kinds = [type(o).__name__ for o in view.contents["pain"]]
    assert kinds == ["Figure", "HTML"]


def test_red_flags_in_the_period_stand_above_the_summary(tmp_path):
    """A red flag ticked on 3 Mar 2026 shows first, with the day and the symptom; none: no alarm."""
    store = open_store(f"sqlite:///{tmp_path / 'red.db'}")
    for pid in ("flagged", "calm"):
        store.add_patient(pid, pid.title())
        store.save_session(
            pid,
            [{"exercise_id": "plank", "done": True, "hold_s": 30}],
            day=dt.date(2026, 3, 3),
            pain_before=4,
            red_flags=["night-pain"] if pid == "flagged" else [],
        )
    end = dt.date(2026, 3, 10)
    flagged = TrendsView(store, "flagged", end=end).outputs["summary"].outputs[0]["data"]
    html = flagged["text/html"]
    assert html.index("Red flags were ticked in this period") < html.index("<h3")
    assert "Tue 03 Mar 2026: Severe pain at night" in html
    assert "contact a clinician" in html
    calm = TrendsView(store, "calm", end=end).outputs["summary"].outputs[0]["data"]
    assert "Red flags were ticked" not in calm["text/html"]
    store.close()
