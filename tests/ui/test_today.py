"""Today's checklist (backcare.ui.today): built on a temporary store, driven like a user would.

No kernel and no browser: set widget values, .click() buttons, read what the widgets show."""

from __future__ import annotations

import asyncio
import datetime as dt
import html
from unittest import mock

import ipywidgets as W
import pandas as pd
import pytest
import sqlalchemy as sa

from backcare.domain.programme import Prescription, default_programme
from backcare.domain.wording import CONSULT_ADVICE, RED_FLAG_MESSAGE, RED_FLAGS
from backcare.errors import ConflictError
from backcare.store import open_store
from backcare.store import schema as S
from backcare.ui.today import PATIENT_ENV, PRIVATE_ENV, TodayView
from tests.support import ROOT
from tests.support.loop import FakeLoop
from tests.support.stores import START, add_default_patient, row_counts

NOW = dt.datetime(2026, 1, 7, 10, 0, tzinfo=dt.UTC)  # Wednesday of START's week
TODAY = dt.date(2026, 1, 7)


def clock(when: dt.datetime = NOW):
    return lambda: when


def all_widgets(w):
    yield w
    for child in getattr(w, "children", ()) or ():
        yield from all_widgets(child)


def shown_html(view) -> str:
    """Every HTML fragment the view currently shows, concatenated."""
    return "\n".join(w.value for w in all_widgets(view.widget) if isinstance(w, W.HTML))


def text_of(view, widget=None) -> str:
    """What a reader sees in an HTML widget (tags removed, entities decoded)."""
    import re

    value = (widget or view.message).value
    return html.unescape(re.sub(r"<[^>]+>", " ", value))


@pytest.fixture
def view(store, patient):
    return TodayView(store, now=clock(), scheduler=FakeLoop())


# ---- choosing the patient and the day ---------------------------------------------------
def test_building_the_view_writes_nothing(store, patient):
    before = row_counts(store)
    v = TodayView(store, now=clock())
    v.quick_box.selected_index = 0
    v.date.value = TODAY - dt.timedelta(days=1)
    v.start_new_session()
    TodayView(store, now=clock())  # running the cell again
    assert row_counts(store) == before


def test_the_only_patient_is_chosen_and_the_day_is_today_in_their_time_zone(store):
    store.add_patient("kiwi", "Aroha", "Pacific/Auckland")
    store.set_programme("kiwi", default_programme(store.catalog, START), START)
    late = dt.datetime(2026, 1, 7, 20, 30, tzinfo=dt.UTC)  # already 8 January in Auckland
    v = TodayView(store, now=clock(late))
    assert v.patient_id == "kiwi"
    assert v.day == dt.date(2026, 1, 8)
    assert v.date.max == dt.date(2026, 1, 8)
    assert "Aroha" in text_of(v, v.patient_label)
    assert v.patient.layout.display == "none"  # nothing to choose


def test_several_patients_give_a_dropdown(store, patient):
    store.add_patient("p2", "Second Person", "UTC")
    v = TodayView(store, now=clock())
    assert v.patient_id is None and v.rows == []
    assert v.patient.layout.display != "none"
    assert ("Test Patient (p1)", "p1") in v.patient.options
    assert "Choose a patient" in text_of(v, v.status)
    assert v.save() is None and "Choose a patient" in text_of(v)
    v.patient.value = "p1"
    assert v.day == TODAY and len(v.rows) == 8
    v2 = TodayView(
        store, day=START, now=clock()
    )  # a day asked for is kept when the patient is chosen
    v2.patient.value = "p1"
    assert v2.day == START


def test_backcare_patient_env_var_picks_the_patient(store, patient, monkeypatch):
    store.add_patient("p2", "Second Person", "UTC")
    monkeypatch.setenv(PATIENT_ENV, "p1")
    v = TodayView(store, now=clock())
    assert v.patient_id == "p1" and len(v.rows) == 8
    assert v.patient.layout.display == "none"


def _every_widget_state(view) -> str:
    """Everything the view's widgets would send to a page (values, options, labels)."""
    return "\n".join(repr(w.get_state()) for w in all_widgets(view.widget))


@pytest.mark.parametrize("how", ["argument", "env"])
def test_a_pinned_patient_is_the_only_name_the_page_receives(store, patient, monkeypatch, how):
    store.add_patient("p2", "Second Person", "UTC")
    if how == "env":
        monkeypatch.setenv(PATIENT_ENV, "p1")
        v = TodayView(store, now=clock())
    else:
        v = TodayView(store, "p1", now=clock())
    assert v.patient_id == "p1" and len(v.rows) == 8
    # hidden, and holding p1 only
    assert v.patient.options == (("Choose a patient", None), ("Test Patient (p1)", "p1"))
    state = _every_widget_state(v)
    assert "Test Patient" in state
    assert "Second Person" not in state and "p2" not in state


def test_the_app_without_a_patient_lists_no_one(store, patient, monkeypatch):
    store.add_patient("p2", "Second Person", "UTC")
    monkeypatch.setenv(PRIVATE_ENV, "1")
    v = TodayView(store, now=clock())
    assert v.patient_id is None and v.rows == []
    assert v.patient.layout.display == "none" and v.patient.options == (("Choose a patient", None),)
    assert "backcare app --patient ID" in text_of(v, v.status)
    state = _every_widget_state(v)
    assert "Test Patient" not in state and "Second Person" not in state


def test_the_app_with_an_unknown_patient_lists_no_one(store, patient, monkeypatch):
    store.add_patient("p2", "Second Person", "UTC")
    monkeypatch.setenv(PRIVATE_ENV, "1")
    monkeypatch.setenv(PATIENT_ENV, "nobody")
    v = TodayView(store, now=clock())
    assert v.patient_id is None
    assert "'nobody' is not a patient" in text_of(v, v.status)
    state = _every_widget_state(v)
    assert "Test Patient" not in state and "Second Person" not in state


@pytest.mark.parametrize("how", ["argument", "env"])
def test_an_unknown_patient_is_a_message_not_a_traceback(store, patient, monkeypatch, how):
    store.add_patient("p2", "Second Person", "UTC")
    if how == "env":
        monkeypatch.setenv(PATIENT_ENV, "nobody")
        v = TodayView(store, now=clock())
    else:
        v = TodayView(store, "nobody", now=clock())
    assert v.patient_id is None
    assert "'nobody' is not" in text_of(v, v.status)
    assert v.patient.layout.display != "none"


def test_an_empty_store_says_how_to_start(store):
    v = TodayView(store, now=clock())
    assert "No patients in this store yet" in text_of(v, v.status)
    assert v.form.layout.display == "none"


def test_a_store_that_cannot_be_read_is_a_message(store, patient, monkeypatch):
    def broken(*a, **k):
        raise sa.exc.OperationalError("SELECT", {}, Exception("disk I/O error"))

    monkeypatch.setattr(store, "programme_on", broken)
    v = TodayView(store, now=clock())
    assert "Cannot open this day" in text_of(v, v.status) and "disk I/O error" in text_of(
        v, v.status
    )
    assert "Traceback" not in shown_html(v)


def test_changing_the_day_shows_the_programme_in_force_that_day(store, patient):
    later = START + dt.timedelta(days=1)
    store.set_programme("p1", [Prescription("plank", hold_s=45)], later)
    v = TodayView(store, day=START, now=clock())
    assert len(v.rows) == 8
    v.date.value = later
    assert [r.exercise.id for r in v.rows] == ["plank"]
    assert v.row("plank").inputs["hold_s"].value == 45


def test_a_day_without_a_programme_says_so_and_still_records_pain(store, patient):
    v = TodayView(store, day=START - dt.timedelta(days=3), now=clock())
    assert v.rows == []
    assert "No programme is prescribed" in text_of(v, v.status)
    v.pain_before.score.value = 5
    assert v.save() is not None
    s = store.sessions("p1")
    assert len(s) == 1 and s.loc[0, "pain_before"] == 5


# ---- the exercise rows -----------------------------------------------------------------
def test_one_row_per_prescribed_exercise_with_the_dose_in_words(view, store):
    programme = store.programme_on("p1", TODAY)
    assert [r.exercise.id for r in view.rows] == programme.exercise_ids()
    words = {r.exercise.id: text_of(view, r.dosage) for r in view.rows}
    assert words["knee-to-chest"].strip() == "Hold 30 s, each side"
    assert "10 reps" in words["pelvic-tilt"] and "range: 10-15 reps" in words["pelvic-tilt"]
    assert "10 min" in words["brisk-walking"] and "range: 10-15 min" in words["brisk-walking"]
    assert view.row("knee-to-chest").done.description == "Knee to Chest Stretch"


def test_inputs_are_prefilled_with_the_prescribed_dose(store, patient):
    store.set_programme(
        "p1",
        [
            Prescription("pelvic-tilt", sets=2, reps=12),
            Prescription("plank", hold_s=45),
            Prescription("swimming", minutes=20),
        ],
        START,
    )
    v = TodayView(store, now=clock())
    assert {k: b.value for k, b in v.row("pelvic-tilt").inputs.items()} == {"sets": 2, "reps": 12}
    assert {k: b.value for k, b in v.row("plank").inputs.items()} == {"hold_s": 45}
    assert {k: b.value for k, b in v.row("swimming").inputs.items()} == {"minutes": 20}
    assert v.row("plank").timer_button is not None and v.row("swimming").timer_button is None


def test_the_how_to_panel_opens_on_position_steps_and_cautions(view, store):
    row = view.row("plank")
    panel = row.details.value
    # a closed <details> (no "open"): its summary is focusable and opens with Enter or Space
    assert panel.startswith('<details class="backcare-howto-panel"><summary>How to do it')
    assert "<details open" not in panel
    assert "How to do it: Plank" in text_of(view, row.details).replace(" :", ":")
    shown = text_of(view, row.details)
    ex = store.catalog["plank"]
    assert ex.position in shown
    assert all(step in shown for step in ex.steps)
    assert all(c in shown for c in ex.cautions)


# ---- the hold timer ----------------------------------------------------------------------
def test_the_timer_counts_the_hold_down_and_ticks_the_box(store, patient):
    loop = FakeLoop()
    v = TodayView(store, now=clock(), scheduler=loop)
    row = v.row("plank")
    row.timer_button.click()
    assert row.timer.running and row.timer_button.description == "Stop timer"
    assert "Get ready:  3 s" in text_of(v, row.timer_label)  # a get-ready count first
    loop.advance(3)
    assert "30 s" in text_of(v, row.timer_label)
    loop.advance(29)
    assert not row.done.value and "1 s" in text_of(v, row.timer_label)
    loop.advance(1)
    assert row.done.value and not row.timer.running
    assert "Hold done" in text_of(v, row.timer_label)
    assert row.timer_button.description == "Start 30 s hold"


def test_each_side_holds_count_both_sides_with_a_switch(store, patient):
    loop = FakeLoop()
    v = TodayView(store, now=clock(), scheduler=loop, switch_s=5)
    row = v.row("knee-to-chest")
    row.timer_button.click()
    loop.advance(3)  # get ready
    assert "first side" in text_of(v, row.timer_label)
    loop.advance(30)
    assert "Switch sides" in text_of(v, row.timer_label) and not row.done.value
    loop.advance(5)
    assert "second side" in text_of(v, row.timer_label)
    loop.advance(30)
    assert row.done.value


def test_the_timer_uses_the_hold_the_user_typed_and_can_be_stopped(store, patient):
    loop = FakeLoop()
    v = TodayView(store, now=clock(), scheduler=loop)
    row = v.row("plank")
    row.inputs["hold_s"].value = 10
    assert row.timer_button.description == "Start 10 s hold"
    row.timer_button.click()
    loop.advance(5)
    row.timer_button.click()  # stop
    assert not row.timer.running and "stopped" in text_of(v, row.timer_label)
    loop.advance(60)
    assert not row.done.value
    row.timer_button.click()
    loop.advance(3 + 10)  # get ready, then the hold
    assert row.done.value


def test_a_zero_hold_does_not_start_the_timer(view):
    row = view.row("plank")
    row.inputs["hold_s"].value = 0
    row.timer_button.click()
    assert not row.timer.running and "Set the hold time" in text_of(view, row.timer_label)


def test_the_timer_runs_on_the_asyncio_loop_without_blocking(store, patient):
    async def scenario():
        v = TodayView(store, now=clock())  # default scheduler: the running loop
        row = v.row("plank")
        with mock.patch("time.sleep", side_effect=AssertionError("the timer slept")):
            row.timer.start([("Hold", 0.05)])  # returns at once: nothing sleeps (no clock read)
        assert row.timer.running and not row.done.value
        for _ in range(100):
            await asyncio.sleep(0.01)
            if row.done.value:
                break
        return row.done.value

    assert asyncio.run(scenario()) is True


# ---- pain --------------------------------------------------------------------------------
def test_an_untouched_pain_input_is_not_recorded(view, store):
    assert view.pain_before.value is None and view.pain_before.score.label == "not recorded"
    view.row("plank").done.value = True
    view.save()
    assert pd.isna(store.sessions("p1").loc[0, "pain_before"])


def test_choosing_a_score_records_it_and_zero_can_be_recorded(view, store):
    view.pain_before.score.value = 7
    assert view.pain_before.value == 7
    view.pain_after.score.value = 0  # a real 0, not "not recorded"
    assert view.pain_after.value == 0
    view.row("plank").done.value = True
    view.save()
    s = store.sessions("p1").loc[0]
    assert (s["pain_before"], s["pain_after"]) == (7, 0)
    view.pain_before.set(None)
    assert view.pain_before.value is None


# ---- saving ------------------------------------------------------------------------------
def test_save_writes_one_session_with_what_was_actually_done(view, store):
    view.row("plank").done.value = True
    view.row("plank").inputs["hold_s"].value = 40
    view.row("pelvic-tilt").done.value = True
    view.pain_before.score.value = 6
    view.pain_after.score.value = 4
    view.notes.value = "  stiff in the morning  "
    sid = view.save()
    assert sid == view.session_id
    s = store.sessions("p1")
    assert len(s) == 1 and s.loc[0, "session_id"] == sid
    assert s.loc[0, "day"] == pd.Timestamp(TODAY) and s.loc[0, "notes"] == "stiff in the morning"
    items = store.items("p1").set_index("exercise_id")
    assert len(items) == 8 and items["done"].sum() == 2
    assert items.loc["plank", "hold_s"] == 40 and items.loc["pelvic-tilt", "reps"] == 10
    assert pd.isna(items.loc["cat-cow", "reps"])  # not done: no dose recorded
    shown = text_of(view)
    assert "Saved your session" in shown and "2 of 8 exercises done" in shown
    # Wednesday of the programme's first week: one session of 7, Thursday to Sunday to go
    assert "This week (Mon 05 Jan to Sun 11 Jan): 1 of 7 sessions done; 4 days to go." in shown
    assert (
        "Your run starts with a whole week at 80 % or more of your prescribed exercises; "
        "this week counts once it is complete." in shown
    )
    assert "prescribed exercises done (" not in shown  # no discouraging percentage on day 3
    # the strip of the last 7 days: nothing prescribed before Monday 5 January (the start),
    # Monday and Tuesday without a session (missed, the programme is daily), today partly
    assert "Sunday 4 January: nothing prescribed" in shown
    assert "Monday 5 January: missed" in shown and "Tuesday 6 January: missed" in shown
    assert "Wednesday 7 January: partly done" in shown
    assert "self-reported" in shown


def test_a_second_click_saves_nothing_more(view, store):
    view.row("plank").done.value = True
    first = view.save()
    after_first = row_counts(store)
    assert view.save() == first
    assert row_counts(store) == after_first and len(store.sessions("p1")) == 1
    assert "Already saved" in text_of(view)


def test_a_change_after_saving_updates_the_same_session_and_says_so(view, store):
    view.row("plank").done.value = True
    sid = view.save()
    view.row("bird-dog").done.value = True
    view.pain_after.score.value = 3
    assert view.save() == sid
    assert "Updated your session" in text_of(view)
    s = store.sessions("p1")
    assert len(s) == 1 and s.loc[0, "pain_after"] == 3
    assert store.items("p1")["done"].sum() == 2


def test_running_the_cell_again_shows_the_saved_session_and_never_duplicates(store, patient):
    v1 = TodayView(store, now=clock(), scheduler=FakeLoop())
    v1.row("plank").done.value = True
    v1.pain_before.score.value = 5
    v1.notes.value = "first"
    sid = v1.save()
    v2 = TodayView(store, now=clock(), scheduler=FakeLoop())  # the cell re-run / the page reloaded
    assert v2.session_id == sid
    assert v2.row("plank").done.value and v2.pain_before.value == 5 and v2.notes.value == "first"
    assert "already saved a session for this day" in text_of(v2, v2.status)
    before = row_counts(store)
    assert v2.save() == sid and row_counts(store) == before
    v2.row("cat-cow").done.value = True
    v2.save()
    assert len(store.sessions("p1")) == 1 and "Updated" in text_of(v2)


def test_start_another_session_records_a_second_one(view, store):
    view.row("plank").done.value = True
    first = view.save()
    view.new_session_button.click()
    assert view.session_id != first and not view.row("plank").done.value
    view.row("brisk-walking").done.value = True
    assert view.save() not in (None, first)
    assert len(store.sessions("p1")) == 2
    assert "2 of 7 sessions done" in text_of(view)


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        (lambda v: None, "Nothing to save yet"),
        (
            lambda v: (
                setattr(v.row("pelvic-tilt").done, "value", True),
                setattr(v.row("pelvic-tilt").inputs["reps"], "value", 0),
            ),
            "Pelvic Tilt: reps is 0",
        ),
        (
            lambda v: (
                setattr(v.notes, "value", "x" * 6000) or setattr(v.row("plank").done, "value", True)
            ),
            "notes:",
        ),
    ],
    ids=["empty", "zero-dose", "notes-too-long"],
)
def test_bad_input_is_a_readable_message_and_nothing_is_written(view, store, setup, message):
    before = row_counts(store)
    setup(view)
    assert view.save() is None
    assert message in text_of(view) and "Not saved" in text_of(view)
    assert "Traceback" not in shown_html(view)
    assert row_counts(store) == before


def test_a_future_day_is_not_offered(store, patient):
    v = TodayView(store, day=TODAY + dt.timedelta(days=2), now=clock())
    assert "is in the future" in text_of(v, v.status) and "Showing today" in text_of(v, v.status)
    assert v.day == TODAY and v.date.max == TODAY


def test_a_day_that_became_future_is_refused_on_save(store, patient):
    v = TodayView(store, now=clock())
    v._now = clock(NOW - dt.timedelta(days=3))  # the clock went back (e.g. a time zone trip)
    v.row("plank").done.value = True
    assert v.save() is None and "in the future" in text_of(v)
    assert store.sessions("p1").empty


@pytest.mark.parametrize(
    "error",
    [
        ConflictError("session_id: 'x' is already saved with different content"),
        sa.exc.OperationalError("INSERT", {}, Exception("database is locked")),
    ],
    ids=["conflict", "database-locked"],
)
def test_store_errors_are_messages_and_the_next_save_still_works(view, store, monkeypatch, error):
    real = store.save_session

    def failing(*a, **k):
        raise error

    view.row("plank").done.value = True
    monkeypatch.setattr(store, "save_session", failing)
    sid = view.session_id
    assert view.save() is None
    shown = text_of(view)
    assert "Not saved" in shown and "Nothing was saved" in shown and "Traceback" not in shown
    assert str(error).splitlines()[0][:20] in shown
    assert store.sessions("p1").empty and view.session_id == sid
    monkeypatch.setattr(store, "save_session", real)
    assert view.save() == sid and len(store.sessions("p1")) == 1
    assert "Saved your session" in text_of(view)


def test_the_patient_deleted_under_the_view_is_a_not_found_message(view, store):
    with store.engine.begin() as conn:
        conn.execute(sa.delete(S.programme_items))
        conn.execute(sa.delete(S.programmes))
        conn.execute(sa.delete(S.annotations))
        conn.execute(sa.delete(S.patients))
    view.row("plank").done.value = True
    assert view.save() is None
    assert "not found" in text_of(view).lower() and "'p1'" in text_of(view)


# ---- safety ------------------------------------------------------------------------------
def test_the_advice_to_consult_a_professional_is_shown_once(view):
    assert shown_html(view).count(html.escape(CONSULT_ADVICE)) == 1


def test_a_red_flag_says_stop_and_is_stored_with_the_session(view, store):
    assert view.red_flag_alert.value == "" and view.red_flag_message.value == ""
    view.red_flags["saddle-numbness"].value = True
    shown = text_of(view, view.red_flag_alert)
    assert "Stop and contact a clinician today" in shown and RED_FLAG_MESSAGE in shown
    assert RED_FLAGS["saddle-numbness"] in shown
    assert "read the red message at the top" in text_of(view, view.red_flag_message)
    view.red_flags["night-pain"].value = True
    assert view.save() is not None  # a warning-sign-only session is worth keeping
    s = store.sessions("p1")
    assert s.loc[0, "red_flags"] == "night-pain,saddle-numbness"
    assert store.daily("p1").loc[0, "red_flag_sessions"] == 1
    assert "Saved with warning signs" in text_of(view, view.red_flag_alert)
    view.red_flags["saddle-numbness"].value = False
    view.red_flags["night-pain"].value = False
    assert view.red_flag_alert.value == "" and view.red_flag_message.value == ""


# ---- quick pain entry --------------------------------------------------------------------
def test_quick_pain_entry_records_a_score_without_a_session(view, store):
    assert view.quick_box.selected_index is None
    view.quick_button.click()
    assert "Choose your pain score first" in text_of(view, view.quick_message)
    assert store.pain("p1").empty
    view.quick_pain.score.value = 4
    view.quick_context.value = "evening"
    view.quick_button.click()
    view.quick_button.click()  # double click: still one
    pain = store.pain("p1")
    assert len(pain) == 1 and pain.loc[0, "score"] == 4 and pain.loc[0, "context"] == "evening"
    assert pain.loc[0, "day"] == pd.Timestamp(TODAY)
    assert "Already recorded" in text_of(view, view.quick_message)
    view.quick_pain.score.value = 6  # a later, different reading
    view.quick_button.click()
    assert len(store.pain("p1")) == 2 and store.sessions("p1").empty
    assert "Recorded pain 6 / 10" in text_of(view, view.quick_message)


# ---- escaping ----------------------------------------------------------------------------
def test_user_text_is_escaped_everywhere_it_is_shown(store):
    evil = "<script>alert('x')</script>"
    store.add_patient("p1", f"Sam {evil}", "UTC")
    store.set_programme("p1", default_programme(store.catalog, START), START)
    v = TodayView(store, now=clock())
    v.row("plank").done.value = True
    v.notes.value = f"felt ok {evil} <img src=x onerror=alert(1)>"
    v.save()
    import re

    drawing = r'<img class="backcare-picture" src="data:image/svg\+xml;base64,[A-Za-z0-9+/=]+" '
    drawing += r'alt="Drawing: [A-Za-z -]+" width="\d+" style="[^"<>]*">'
    shown = re.sub(drawing, "", shown_html(v))  # the catalog's own drawings: the only <img>
    assert "<script" not in shown.lower() and "<img" not in shown.lower()
    assert html.escape(f"Sam {evil}") in v.patient_label.value
    assert html.escape(evil) in v.message.value
    assert store.sessions("p1").loc[0, "notes"].startswith("felt ok <script>")  # stored as typed


# ---- the notebook --------------------------------------------------------------------------
def test_the_notebook_runs_top_to_bottom_shows_the_checklist_and_writes_nothing(
    sqlite_url, monkeypatch
):
    import nbformat
    from nbclient import NotebookClient

    store = open_store(sqlite_url)
    add_default_patient(store)
    url = sqlite_url
    monkeypatch.setenv("BACKCARE_DB", url)
    monkeypatch.delenv(PATIENT_ENV, raising=False)
    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    nb = nbformat.read(ROOT / "notebooks" / "01_today.ipynb", as_version=4)
    nb.cells.append(
        nbformat.v4.new_code_cell("print(_.today.patient_id, len(_.today.rows))")
    )  # `_`: the app shown (its checklist)
    before = row_counts(store)
    NotebookClient(
        nb,
        timeout=120,
        kernel_name="python3",
        resources={"metadata": {"path": str(ROOT / "notebooks")}},
    ).execute()
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error" or o.get("name") == "stderr"]
    assert any("application/vnd.jupyter.widget-view+json" in o.get("data", {}) for o in outputs)
    assert nb.cells[-1].outputs[0]["text"].strip() == "p1 8"  # the patient's own checklist
    assert row_counts(store) == before


def test_the_reminders_button_offers_the_programme_as_a_calendar_file(view, store):
    import base64
    import re

    import icalendar

    assert view.reminder_box.layout.display is None and view.reminder_link.value == ""
    view.reminder_button.click()
    href = re.search(
        r'href="data:text/calendar;charset=utf-8;base64,([^"]+)"', view.reminder_link.value
    )
    assert href and 'download="back-exercises.ics"' in view.reminder_link.value
    cal = icalendar.Calendar.from_ical(base64.b64decode(href[1]))
    (event,) = cal.walk("VEVENT")  # the default programme: every exercise 7 times a week
    assert event["rrule"] == {"FREQ": ["DAILY"]}
    assert event["dtstart"].params["TZID"] == "Europe/London"
    # from today (Wednesday 7 January 2026, in the patient's zone) at 18:00 by default
    assert event.decoded("dtstart").replace(tzinfo=None) == dt.datetime(2026, 1, 7, 18, 0)
    assert [tz["TZID"] for tz in cal.walk("VTIMEZONE")] == ["Europe/London"]
    (alarm,) = event.walk("VALARM")  # a reminder at the start
    assert alarm["action"] == "DISPLAY" and alarm.decoded("trigger") == dt.timedelta(0)
    view.reminder_time.value = "07:30"  # a new time: a new link
    href = re.search(r"base64,([^\"]+)\"", view.reminder_link.value)
    (event,) = icalendar.Calendar.from_ical(base64.b64decode(href[1])).walk("VEVENT")
    assert event.decoded("dtstart").time() == dt.time(7, 30)


def test_the_how_to_panel_shows_the_exercise_drawing(view, store):
    import base64
    import re

    from backcare.domain.catalog import svg_problem

    panel = view.row("plank").details.value
    img = re.search(
        r'<img class="backcare-picture" src="data:image/svg\+xml;base64,([^"]+)"', panel
    )
    assert img and 'alt="Drawing: Plank"' in panel
    svg = base64.b64decode(img[1]).decode()
    assert svg == (ROOT / "backcare" / "data" / "images" / "plank.svg").read_text()
    assert svg_problem(svg) == ""


# ---- wording -----------------------------------------------------------------------------
def test_the_heading_names_the_day_shown(view):
    # NOW is Wednesday 7 January 2026 (in London too): today, then the day before
    assert text_of(view, view.heading).strip() == "Today, Wednesday 7 January"
    view.date.value = dt.date(2026, 1, 6)
    assert text_of(view, view.heading).strip() == "Tuesday 6 January"
    view.date.value = dt.date(2025, 12, 31)  # another year: the year is named
    assert text_of(view, view.heading).strip() == "Wednesday 31 December 2025"
    assert "<h2" in view.heading.value  # below the notebook's title, above "Exercises (8)"
    view.date.value = None
    assert view.heading.value == ""  # no day, no heading that names one


def test_one_not_recorded_per_pain_row(view):
    for pain in (view.pain_before, view.pain_after, view.quick_pain):
        texts = [label for label, _ in pain.score.options] + [
            w.description for w in all_widgets(pain.widget) if hasattr(w, "description")
        ]
        texts += [w.value for w in all_widgets(pain.widget) if isinstance(w, W.HTML)]
        assert sum(t.count("not recorded") for t in texts) == 1


def test_the_red_flag_message_stands_alone_above_everything_after_saving(view):
    view.row("plank").done.value = True
    view.red_flags["fever-weight-loss"].value = True
    assert view.save() is not None
    saved, alert = text_of(view), text_of(view, view.red_flag_alert)
    assert "Saved your session" in saved
    assert 'class="backcare-msg backcare-error"' not in view.message.value  # not in "Saved"
    assert view.message.value.count('class="backcare-msg') == 1
    assert "Saved with warning signs: stop and contact a clinician today." in alert
    assert RED_FLAG_MESSAGE in alert and RED_FLAGS["fever-weight-loss"] in alert
    # first in the view after the heading: above the advice, the checklist and Save
    order = list(view.widget.children)
    assert order.index(view.red_flag_alert) < order.index(view.advice) < order.index(view.form)
    assert order.index(view.heading) < order.index(view.red_flag_alert)
    # reopening the day shows the saved warning again, at the top
    again = TodayView(view.store, now=clock(), scheduler=FakeLoop())
    assert "Saved with warning signs" in text_of(again, again.red_flag_alert)


def test_save_is_two_tab_presses_away_through_the_skip_link(view):
    import re

    order = list(view.widget.children)
    assert order.index(view.skip_link) == 1  # after the style: the first thing focusable
    target = re.search(r'href="#([^"]+)"', view.skip_link.value)[1]
    form = list(view.form.children)
    anchor = next(w for w in form if isinstance(w, W.HTML) and f'id="{target}"' in w.value)
    assert form[form.index(anchor) + 1].children == (view.save_button,)  # right before Save
    assert TodayView(view.store, now=clock()).skip_link.value != view.skip_link.value  # ids
