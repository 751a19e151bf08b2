"""My progress (backcare.ui.progress) and the week strip (backcare.ui.week), without a kernel.

Sessions are saved by driving TodayView as a person does (tick, Save) or through
Store.save_session, with real timestamps; every expected figure is worked out here."""

from __future__ import annotations

import datetime as dt
import html
import re

import ipywidgets as W
import pytest

from backcare.ui.progress import PatientApp
from backcare.ui.today import PATIENT_ENV, PRIVATE_ENV
from tests.support.loop import FakeLoop
from tests.support.stores import add_default_patient, row_counts

NOW = dt.datetime(2026, 1, 21, 10, 0, tzinfo=dt.UTC)  # Wednesday of the programme's 3rd week


def text(value: str) -> str:
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", value)))


@pytest.fixture
def history(store, patient):
    """p1 on the default programme (8 exercises, daily) from Monday 5 January 2026: week 1
    every exercise every day (56 of 56), week 2 the same but Plank alone on Thursday 15th (49
    of 56 = 87.5 %), week 3 every exercise on Monday 19th, nothing on Tuesday."""
    ids = store.programme_on("p1", dt.date(2026, 1, 5)).exercise_ids()
    days = [dt.date(2026, 1, 5) + dt.timedelta(days=d) for d in range(15)]
    for day in days:  # 5 to 19 January; none on the 20th
        done = ["plank"] if day == dt.date(2026, 1, 15) else ids
        when = dt.datetime.combine(day, dt.time(18, 0), tzinfo=dt.UTC)
        store.save_session(
            "p1",
            [{"exercise_id": e, "done": e in done} for e in ids],
            day=day,
            started_at=when,
            ended_at=when + dt.timedelta(minutes=25),
            pain_before=5,
            pain_after=4,
        )
    return ids


def app_for(store, **kw) -> PatientApp:
    return PatientApp(store, now=lambda: NOW, scheduler=FakeLoop(), **kw)


def test_the_apps_day_is_its_checklists_so_a_kept_app_is_current_until_midnight(store, history):
    from backcare.servers import _view_is_current

    now = [NOW]
    app = PatientApp(store, now=lambda: now[0], scheduler=FakeLoop())
    assert app.day == app.today.day == app.local_today() == dt.date(2026, 1, 21)
    assert _view_is_current(app)
    now[0] = NOW + dt.timedelta(days=1)  # 10:00 the next day: built yesterday, so stale
    assert app.local_today() == dt.date(2026, 1, 22) and not _view_is_current(app)


def test_the_app_opens_on_today_and_computes_progress_only_when_asked(store, history):
    before = row_counts(store)
    app = app_for(store)
    assert app.switch.options == ["Today", "My progress"] and app.switch.value == "Today"
    assert app.today.widget.layout.display is None
    assert app.progress.widget.layout.display == "none"
    assert app.progress.data is None  # nothing read for it while the page loads
    app.show_progress()
    assert app.today.widget.layout.display == "none" and app.progress.widget.layout.display is None
    assert app.progress.patient_id == "p1" and app.progress.day == dt.date(2026, 1, 21)
    app.show_today()
    assert app.today.widget.layout.display is None
    assert app.progress.widget.layout.display == "none"
    assert row_counts(store) == before  # reads only


def test_my_progress_shows_the_summary_the_weeks_and_the_pain_chart(store, history):
    app = app_for(store)
    app.show_progress()
    summary = text(app.progress.summary.value)
    # "Last 8 weeks" to Wednesday 21 January: 27 November 2025 to 21 January 2026
    assert "27 Nov 2025 to 21 Jan 2026" in summary
    # in force 5-21 January: 17 days x 8 exercises = 136 prescribed; done (capped per week and
    # exercise) 56 + 49 + 8 = 113; 113 / 136 = 83.1 %
    assert "Exercises were ticked off 83 % of the prescribed times in this period" in summary
    week = text(app.progress.week.value)
    assert "This week (Mon 19 Jan to Sun 25 Jan): 1 of 7 sessions done; 4 days to go." in week
    assert (
        "2 weeks in a row with 80 % or more of your prescribed exercises done; "
        "this week counts once it is complete." in week
    )
    # the strip: Thursday 15th to today
    strip = re.findall(r'<li[^>]*data-status="(\w+)"', app.progress.week.value)
    assert strip == ["partly", "done", "done", "done", "done", "missed", "open"]
    assert "Thursday 15 January: partly done" in week and "Tuesday 20 January: missed" in week
    # the grid: 6 weeks read, the three since the programme began drawn as rows of 7
    grid = app.progress.week.value.split('class="backcare-week-grid"')[1]
    rows = re.findall(r"<tr><th scope=\"row\">([^<]+)</th>(.*?)</tr>", grid)
    assert [r[0] for r in rows] == ["5 Jan", "12 Jan", "19 Jan"]
    assert all(len(re.findall(r"<td", r[1])) == 7 for r in rows)
    assert re.findall(r'data-status="(\w+)"', rows[0][1]) == ["done"] * 7
    assert re.findall(r'data-status="(\w+)"', rows[2][1]) == [
        "done",
        "missed",
        "open",
        *["upcoming"] * 4,
    ]
    # the pain chart: the trends notebook's figure, drawn by the plotly extension
    fig = app.progress.figure
    assert fig is not None and fig.layout.title.text.startswith("Pain over time")
    (out,) = app.progress.chart.outputs
    assert "application/vnd.plotly.v1+json" in out["data"]
    session_days = [t for t in fig.data if t.name == "Session days"]
    assert len(session_days) == 1 and len(session_days[0].x) == 15  # 5 to 19 January
    assert "The green band runs" in text(app.progress.caveat.value)


def test_my_progress_follows_a_session_saved_a_moment_ago(store, history):
    app = app_for(store)
    app.show_progress()
    assert "1 of 7 sessions done" in text(app.progress.week.value)
    app.show_today()
    for r in app.today.rows:  # today: every exercise, then Save, as a person does
        r.done.value = True
    assert app.today.save() is not None
    app.show_progress()
    week = text(app.progress.week.value)
    assert "2 of 7 sessions done" in week and "Wednesday 21 January: done" in week


def test_my_progress_before_any_session_is_encouraging_not_a_zero(store, patient):
    app = PatientApp(store, now=lambda: dt.datetime(2026, 1, 5, 9, 0, tzinfo=dt.UTC))
    app.show_progress()
    week = text(app.progress.week.value)
    assert "0 of 7 sessions done; 6 days to go." in week
    assert "Your run starts with a whole week at 80 % or more" in week
    assert "Weeks in a row: 0" not in week


def test_the_app_shows_its_one_patient_and_no_other(store, monkeypatch):
    add_default_patient(store, "kim", "Kim Own", "Europe/Paris")
    add_default_patient(store, "robin", "Robin Stranger", "UTC")
    monkeypatch.setenv(PRIVATE_ENV, "1")
    monkeypatch.setenv(PATIENT_ENV, "kim")
    app = app_for(store)
    app.show_progress()
    assert app.progress.patient_id == "kim"
    shown = "".join(w.value for w in (app.progress.summary, app.progress.week, app.progress.caveat))
    assert "Robin" not in shown and "robin" not in shown
    assert not any(isinstance(w, W.Dropdown) for w in app.progress.widget.children)


def test_without_a_patient_the_progress_view_says_so(store, monkeypatch):
    add_default_patient(store, "kim", "Kim Own", "Europe/Paris")
    add_default_patient(store, "robin", "Robin Stranger", "UTC")
    monkeypatch.delenv(PATIENT_ENV, raising=False)
    monkeypatch.delenv(PRIVATE_ENV, raising=False)
    app = app_for(store)  # JupyterLab: a list to choose from, nobody chosen yet
    app.show_progress()
    assert "Choose a patient on the Today view first." in text(app.progress.summary.value)
    assert app.progress.data is None


def test_the_view_switch_is_real_buttons_shipped_in_the_package():
    from importlib import resources

    import traitlets

    from backcare.ui.progress import ViewSwitch

    js = (resources.files("backcare.ui") / "static" / "view_switch.js").read_text()
    assert ViewSwitch._esm == js and "http" not in js and "import " not in js
    assert 'createElement("button")' in js and "aria-pressed" in js
    switch = ViewSwitch(options=["Today", "My progress"], value="Today")
    switch.value = "My progress"
    with pytest.raises(traitlets.TraitError, match="Elsewhere"):
        switch.value = "Elsewhere"
    assert switch.value == "My progress"
