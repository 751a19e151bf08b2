"""Questionnaires in the views, without a kernel: the weekly prompt in today's checklist (never
blocking it) and entry on the patient's behalf in the physio view; values are set on the
widgets and buttons clicked as a user would."""

from __future__ import annotations

import datetime as dt
import html
import re

import ipywidgets as W

from backcare.ui.physio import PhysioView
from backcare.ui.questionnaire import QuestionnaireForm
from backcare.ui.today import QUESTIONS_TITLE, TodayView
from tests.support.hostile import SCRIPT
from tests.support.loop import FakeLoop
from tests.support.stores import START, row_counts

# Wednesday 7 Jan 2026, 23:59:59.5 in London (UTC in winter): still the 7th there
NOW = dt.datetime(2026, 1, 7, 23, 59, 59, 500000, tzinfo=dt.UTC)
TODAY = dt.date(2026, 1, 7)


def all_widgets(w):
    yield w
    for child in getattr(w, "children", ()) or ():
        yield from all_widgets(child)


def text(widget) -> str:
    return html.unescape(re.sub(r"<[^>]+>", " ", widget.value))


def today_view(store):
    return TodayView(store, now=lambda: NOW, scheduler=FakeLoop())


def test_the_prompt_is_collapsed_and_says_what_is_due(store, patient):
    v = today_view(store)
    assert v.questions_box.selected_index is None  # collapsed: the checklist comes first
    assert v.questions_box.get_title(0) == f"{QUESTIONS_TITLE} (due: RMDQ, PSFS, GROC)"
    assert v.form.children[0] is v.exercise_box  # the checklist is not behind the questions
    assert not v.save_button.disabled
    # the form's 140 widgets are built when the prompt is first opened, for the patient shown
    assert v._questionnaire is None and v.questions_box.panel.children == ()
    v.questions_box.toggle.value = True
    assert v.questions_box.panel.children == (v.questionnaire.widget,)
    assert (v.questionnaire.patient_id, v.questionnaire.day) == (patient, TODAY)


def test_building_the_view_with_the_form_writes_nothing(store, patient):
    before = row_counts(store)
    today_view(store)
    assert row_counts(store) == before


def test_rmdq_answered_in_the_app_is_stored_once_on_a_double_click(store, patient):
    v = today_view(store)
    form = v.questionnaire
    form.instrument.value = "rmdq"
    for n in (1, 3, 10, 24):  # four statements apply
        form.rmdq[n - 1].value = True
    form.save_button.click()
    form.save_button.click()
    rows = store.questionnaires(patient)
    assert len(rows) == 1
    assert rows["score"].tolist() == [4.0]
    assert rows["author"].tolist() == [""]  # the patient answered
    assert rows["day"].iloc[0].date() == TODAY
    assert "Saved RMDQ for Wednesday 07 January: score 4" in text(form.message)
    # the session checklist still saves on its own
    v.row("plank").done.value = True
    assert v.save() is not None
    # reopening: RMDQ no longer due this week
    again = today_view(store)
    assert again.questions_box.get_title(0) == f"{QUESTIONS_TITLE} (due: PSFS, GROC)"


def test_psfs_activities_come_back_for_the_next_rating_and_are_escaped(store, patient):
    v = today_view(store)
    form = v.questionnaire
    form.instrument.value = "psfs"
    form.activities[0].value = SCRIPT
    form.ratings[0].value = 3
    form.activities[1].value = "stairs"
    form.ratings[1].value = 6
    assert form.save() is not None
    assert store.questionnaires(patient)["score"].tolist() == [4.5]  # (3 + 6) / 2
    shown = [w.value for w in all_widgets(v.widget) if isinstance(w, W.HTML)]
    assert not any("<script" in h for h in shown)
    nxt = QuestionnaireForm(store, now=lambda: NOW)
    nxt.open(patient, TODAY + dt.timedelta(days=7))
    assert [a.value for a in nxt.activities[:3]] == [SCRIPT.strip(), "stairs", ""]
    assert [r.value for r in nxt.ratings[:2]] == [None, None]  # rated afresh


def test_errors_are_messages_and_write_nothing(store, patient):
    v = today_view(store)
    form = v.questionnaire
    before = row_counts(store)
    form.instrument.value = "psfs"
    form.activities[0].value = "walking"  # no rating chosen
    assert form.save() is None
    assert text(form.message).split("\n")[0].strip().startswith("Not saved")
    assert "answers[0].score: None is not allowed; expected a whole number from 0 to 10" in text(
        form.message
    )
    form.instrument.value = "groc"
    form.save_button.click()  # nothing chosen
    assert "answers: None is not allowed" in text(form.message)
    assert row_counts(store) == before


def test_physio_enters_for_the_patient_with_their_name_recorded(store, patient):
    view = PhysioView(store, patient, today=START + dt.timedelta(days=14))
    form = view.questionnaire
    assert form.date.value == START + dt.timedelta(days=14)
    form.instrument.value = "groc"
    form.groc.value = 4
    assert form.save() is None  # no name yet
    assert "author: '' is not allowed" in text(form.message)
    form.author.value = "Dr K <b>"
    form.date.value = START + dt.timedelta(days=10)
    form.groc.value = 4  # choosing another day clears the form
    assert form.save() is not None
    rows = store.questionnaires(patient)
    assert rows["author"].tolist() == ["Dr K <b>"]
    assert rows["day"].iloc[0].date() == START + dt.timedelta(days=10)
    assert rows["score"].tolist() == [4.0]


def test_with_no_patient_chosen_nothing_can_be_saved_for_anyone(store, patient):
    from tests.support.stores import add_default_patient

    add_default_patient(store, "p2")
    v = today_view(store)  # two patients: none chosen yet
    assert v.patient_id is None
    assert v.questions_box.layout.display == "none"
    before = row_counts(store)
    v.questionnaire.groc.value = 2
    v.questionnaire.instrument.value = "groc"
    assert v.questionnaire.save() is None
    assert "Choose a patient and a day first." in text(v.questionnaire.message)
    v.patient.value = "p2"
    assert v.questions_box.layout.display is None
    v.patient.value = None  # back to "choose": the form forgets p2
    assert v.questionnaire.patient_id is None
    assert row_counts(store) == before
