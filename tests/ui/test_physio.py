"""backcare.ui.physio without a kernel: annotations, the programme editor, suggestions, the view.

Views are built on the `store`/`patient` fixtures (patient p1 on the default programme from
START); values are set on the widgets and buttons are clicked as a user would."""

from __future__ import annotations

import datetime as dt
import html

import pandas as pd
import pytest

from backcare.domain.catalog import DOSE_LIMITS
from backcare.domain.programme import (
    SETS_LIMITS,
    TIMES_PER_WEEK_LIMITS,
    Prescription,
)
from backcare.errors import ValidationError
from backcare.ui.physio import (
    AnnotationView,
    PhysioView,
    ProgrammeEditor,
    problem_text,
    timeline_html,
)
from tests.support import ROOT
from tests.support.hostile import IMG, SCRIPT
from tests.support.stores import START, row_counts

TODAY = START + dt.timedelta(days=40)  # a fixed "today" for every view


def programme_notes(store, patient) -> pd.DataFrame:
    a = store.annotations(patient)
    return a[a["kind"] == "programme-change"]


def programme_ids(store, patient) -> list[int]:
    return sorted(store.prescriptions(patient)["programme_id"].unique().tolist())


# ---- annotations ---------------------------------------------------------------------------
def test_annotation_form_defaults_to_today_and_a_note(store, patient):
    view = AnnotationView(store, patient, today=TODAY)
    assert view.date.value == TODAY
    assert view.kind.value == "note"
    assert [v for _, v in view.kind.options] == [
        "note",
        "programme-change",
        "flare-up",
        "milestone",
    ]
    assert "Programme from 2026-01-05" in view.timeline.value  # set_programme's own note


def test_add_annotation_stores_it_once_on_a_double_click(store, patient):
    view = AnnotationView(store, patient, today=TODAY)
    before = len(store.annotations(patient))
    view.author.value = "Dr K"
    view.kind.value = "milestone"
    view.text.value = "progressed plank to 45 s"
    view.add_button.click()
    view.add_button.click()
    notes = store.annotations(patient)
    assert len(notes) == before + 1
    row = notes[notes["text"] == "progressed plank to 45 s"].iloc[0]
    assert (row["author"], row["kind"], row["day"]) == ("Dr K", "milestone", pd.Timestamp(TODAY))
    assert row["annotation_id"] == view.annotation_id
    assert "Already on the timeline" in view.message.value
    assert "progressed plank to 45 s" in view.timeline.value


def test_changed_text_after_a_save_is_a_new_annotation(store, patient):
    view = AnnotationView(store, patient, today=TODAY)
    before = len(store.annotations(patient))
    view.text.value = "first"
    first_id = view.add()
    view.text.value = "second"
    second_id = view.add()
    assert first_id != second_id
    view.text.value = (
        "first"  # back to what was saved: not a third annotation (it is a new id, though)
    )
    view.add()
    view.add()
    notes = store.annotations(patient)
    assert len(notes) == before + 3  # "first" again after "second" is a new, separate note
    assert sorted(notes["text"][notes["kind"] == "note"]) == ["first", "first", "second"]
    assert notes["annotation_id"].is_unique


def test_a_changed_day_or_kind_is_a_new_annotation_too(store, patient):
    view = AnnotationView(store, patient, today=TODAY)
    before = len(store.annotations(patient))
    view.text.value = "moved house"
    view.add()
    view.kind.value = "flare-up"
    view.add()
    view.date.value = TODAY - dt.timedelta(days=1)
    view.add()
    view.add()
    notes = store.annotations(patient)
    assert len(notes) == before + 3
    assert sorted(notes.loc[notes["text"] == "moved house", "kind"]) == [
        "flare-up",
        "flare-up",
        "note",
    ]


def test_an_id_is_never_reused_for_other_content_after_an_uncertain_failure(
    store, patient, monkeypatch
):
    """A write that committed but reported an error: the retry with the same content reuses the
    id (no duplicate); edited content gets a new id (the store would silently keep the old text)."""
    view = AnnotationView(store, patient, today=TODAY)
    real = store.add_annotation
    calls = []

    def flaky(*args, **kwargs):
        calls.append(kwargs["annotation_id"])
        real(*args, **kwargs)
        if len(calls) == 1:
            raise OSError("connection lost")

    monkeypatch.setattr(store, "add_annotation", flaky)
    before = len(store.annotations(patient))
    view.text.value = "typo"
    assert view.add() is None
    assert "connection lost" in view.message.value and "Traceback" not in view.message.value
    view.add()  # retry, same content: same id, stored once
    assert calls[0] == calls[1]
    assert len(store.annotations(patient)) == before + 1
    view.text.value = "fixed"
    view.add()
    assert calls[2] != calls[0]
    assert set(store.annotations(patient)["text"]) >= {"typo", "fixed"}


def test_invalid_annotation_shows_a_message_and_writes_nothing(store, patient):
    view = AnnotationView(store, patient, today=TODAY)
    before = row_counts(store)
    view.text.value = "   "
    view.add_button.click()
    assert "Text: nothing entered" in view.message.value and "not empty" in view.message.value
    view.text.value = "ok"
    view.date.value = None
    view.add_button.click()
    assert "Date: choose the day" in view.message.value
    view.date.value = dt.date.today() + dt.timedelta(days=30)
    view.add_button.click()
    assert "Date:" in view.message.value and "not in the future" in view.message.value
    view.date.value = TODAY
    view.author.value = "x" * 201
    view.add_button.click()
    assert "Author:" in view.message.value
    assert row_counts(store) == before
    assert "Traceback" not in view.message.value


def test_timeline_is_newest_first_and_escaped(store, patient):
    store.add_annotation(
        patient, SCRIPT, day=START + dt.timedelta(days=3), author=IMG, kind="flare-up"
    )
    store.add_annotation(
        patient, f"line one\n{IMG}", day=START + dt.timedelta(days=9), author="A & B"
    )
    view = AnnotationView(store, patient, today=TODAY)
    html = view.timeline.value
    assert "<script" not in html and "<img" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "by &lt;img src=x onerror=alert(1)&gt;" in html
    assert "A &amp; B" in html and "line one<br>&lt;img" in html
    assert html.index("14 Jan 2026") < html.index("08 Jan 2026") < html.index("05 Jan 2026")


def test_timeline_html_of_nothing_and_its_cap():
    assert "No annotations yet" in timeline_html(pd.DataFrame())
    many = pd.DataFrame(
        {
            "day": pd.date_range("2026-01-01", periods=5),
            "created_at": pd.Timestamp("2026-01-01", tz="UTC"),
            "annotation_id": list("abcde"),
            "kind": "note",
            "author": "",
            "text": [f"n{i}" for i in range(5)],
        }
    )
    out = timeline_html(many, limit=2)
    assert "n4" in out and "n3" in out and "n2" not in out and "Latest 2 of 5" in out


def test_annotation_view_without_patients(tmp_path):
    from backcare.store import open_store

    with open_store(f"sqlite:///{tmp_path / 'empty.db'}") as empty:
        view = AnnotationView(empty)
        assert view.patient_id is None and "No patients" in view.timeline.value
        view.text.value = "hello"
        assert view.add() is None and "choose a patient" in view.message.value


# ---- the programme editor ------------------------------------------------------------------
def test_editor_loads_the_programme_in_force(store, patient):
    store.set_programme(
        patient,
        [
            Prescription("plank", hold_s=45, times_per_week=5),
            Prescription("knee-to-chest", hold_s=30, each_side=True, sets=2, times_per_week=3),
        ],
        START + dt.timedelta(days=10),
        author="Dr K",
        note="fewer, harder",
    )
    ed = ProgrammeEditor(store, patient, today=TODAY)
    assert [r.exercise_id for r in ed.rows] == ["plank", "knee-to-chest"]
    plank, knee = ed.row("plank"), ed.row("knee-to-chest")
    assert {k: b.value for k, b in plank.inputs.items()} == {
        "sets": 1,
        "hold_s": 45,
        "times_per_week": 5,
    }
    assert {k: b.value for k, b in knee.inputs.items()} == {
        "sets": 2,
        "hold_s": 30,
        "times_per_week": 3,
    }
    assert "each side" in knee.info.value and "each side" not in plank.info.value
    assert "range: Hold 30-60 s" in plank.info.value
    assert "in force since Thu 15 Jan 2026, by Dr K (fewer, harder)" in ed.title.value
    assert ed.start.value == TODAY
    assert ed.items() == list(store.programme_on(patient, TODAY).items)
    assert "plank" not in [v for _, v in ed.add_choice.options]


def test_editor_starts_from_the_default_programme_when_none_is_prescribed(store):
    store.add_patient("p2", "New")
    ed = ProgrammeEditor(store, "p2", today=TODAY)
    assert ed.previous is None
    assert "default programme is shown" in ed.title.value
    assert len(ed.rows) == 8
    pid = ed.save()
    assert pid is not None
    assert store.programme_on("p2", TODAY).items == tuple(ed.items())
    assert "Added Plank: Hold 30 s, 7x/week" in ed.message.value


def test_a_prescribed_exercise_missing_from_the_catalog_is_reported(store, patient, tmp_path):
    from backcare.domain.catalog import load_catalog
    from backcare.store import Store

    extra = tmp_path / "extra.toml"
    extra.write_text(
        '[[exercise]]\nid = "wall-sit"\nname = "Wall Sit"\ngroup = "strengthening"\n'
        'position = "Back against a wall."\nsteps = ["Slide down and hold."]\nhold_s = [10, 30]\n'
        'source = "clinic"\n',
        encoding="utf-8",
    )
    Store(store.engine, load_catalog(extra)).set_programme(
        patient,
        [Prescription("plank", hold_s=30), Prescription("wall-sit", hold_s=10)],
        START + dt.timedelta(days=1),
    )
    ed = ProgrammeEditor(store, patient, today=TODAY)  # the store's catalog has no wall-sit
    assert [r.exercise_id for r in ed.rows] == ["plank"]
    assert "wall-sit: prescribed, but not in the exercise catalog" in ed.message.value
    ed.row("plank").inputs["hold_s"].value = 45
    ed.save()
    assert "Removed wall-sit" in ed.message.value


def test_dose_inputs_are_the_exercise_fields_within_sane_bounds(store, patient):
    ed = ProgrammeEditor(store, patient, today=TODAY)
    plank, walk = ed.row("plank"), ed.row("brisk-walking")
    assert set(plank.inputs) == {"sets", "hold_s", "times_per_week"}
    assert set(ed.row("pelvic-tilt").inputs) == {"sets", "reps", "times_per_week"}
    assert set(walk.inputs) == {"sets", "minutes", "times_per_week"}
    for row in ed.rows:
        for name, box in row.inputs.items():
            limits = {"sets": SETS_LIMITS, "times_per_week": TIMES_PER_WEEK_LIMITS}.get(
                name
            ) or DOSE_LIMITS[name]
            assert (box.min, box.max) == limits
    plank.inputs["hold_s"].value = 10_000
    assert plank.inputs["hold_s"].value == DOSE_LIMITS["hold_s"][1]
    plank.inputs["times_per_week"].value = 0
    assert plank.inputs["times_per_week"].value == TIMES_PER_WEEK_LIMITS[0]
    walk.inputs["sets"].value = 99
    assert walk.inputs["sets"].value == SETS_LIMITS[1]


def test_add_and_remove_exercises(store, patient):
    store.set_programme(patient, [Prescription("plank", hold_s=30)], START + dt.timedelta(days=1))
    ed = ProgrammeEditor(store, patient, today=TODAY)
    assert [r.exercise_id for r in ed.rows] == ["plank"]
    ed.add_choice.value = "bird-dog"
    ed.add_button.click()
    bird = ed.row("bird-dog")
    assert {k: b.value for k, b in bird.inputs.items()} == {
        "sets": 1,
        "hold_s": 5,
        "times_per_week": 7,
    }
    assert bird.each_side and "each side" in bird.info.value
    assert "bird-dog" not in [v for _, v in ed.add_choice.options]
    ed.add_exercise("swimming")
    ed.row("swimming").remove_button.click()
    assert [r.exercise_id for r in ed.rows] == ["plank", "bird-dog"]
    assert "swimming" in [v for _, v in ed.add_choice.options]
    ed.row("plank").include.value = False  # unticked: kept on screen, left out of the programme
    ed.save_button.click()
    stored = store.programme_on(patient, TODAY)
    assert stored.exercise_ids() == ["bird-dog"]
    assert "Removed Plank (was Hold 30 s, 7x/week)" in ed.message.value
    assert "Added Bird Dog: Hold 5 s, each side, 7x/week" in ed.message.value
    with pytest.raises(ValidationError):
        ed.add_exercise("bird-dog")


def test_save_creates_a_programme_and_a_programme_change_note_once(store, patient):
    ed = ProgrammeEditor(store, patient, today=TODAY)
    ids, notes = programme_ids(store, patient), len(programme_notes(store, patient))
    ed.row("plank").inputs["hold_s"].value = 45
    ed.row("brisk-walking").inputs["times_per_week"].value = 3
    ed.author.value = "Dr K"
    ed.note.value = "plank up"
    ed.save_button.click()
    ed.save_button.click()  # a double click
    new_ids = programme_ids(store, patient)
    assert len(new_ids) == len(ids) + 1
    assert len(programme_notes(store, patient)) == notes + 1
    prog = store.programme_on(patient, TODAY)
    assert prog.valid_from == TODAY and prog.author == "Dr K" and prog.note == "plank up"
    assert prog.get("plank").hold_s == 45 and prog.get("brisk-walking").times_per_week == 3
    note = programme_notes(store, patient).iloc[-1]
    assert note["author"] == "Dr K" and "Plank (Hold 45 s, 7x/week)" in note["text"]
    assert "Already saved" in ed.message.value
    assert ed.previous == prog


def test_confirmation_lists_what_changed(store, patient):
    ed = ProgrammeEditor(store, patient, today=TODAY)
    ed.row("plank").inputs["hold_s"].value = 45
    ed.row("pelvic-tilt").inputs["sets"].value = 2
    ed.remove_exercise("swimming")
    ed.save()
    msg = ed.message.value
    assert "Saved: new programme from" in msg
    for line in (
        "Plank: hold 30 s to 45 s",
        "Pelvic Tilt: sets 1 to 2",
        "Removed Swimming (was 15 min, 7x/week)",
        "Previous programme: from 05 Jan 2026.",
        "A programme-change note was added",
    ):
        assert line in msg


def test_a_stale_second_editor_cannot_double_save_or_overwrite_unseen(store, patient):
    a = ProgrammeEditor(store, patient, today=TODAY)
    b = ProgrammeEditor(store, patient, today=TODAY)  # opened in another tab before a saved
    for ed in (a, b):
        ed.row("plank").inputs["hold_s"].value = 45
    a.save()
    after_a = row_counts(store)
    assert b.save() == a.previous.programme_id
    assert "Already saved" in b.message.value
    assert row_counts(store) == after_a
    c = ProgrammeEditor(store, patient, today=TODAY)
    a.row("plank").inputs["hold_s"].value = 60
    a.save()
    c.row("swimming").inputs["minutes"].value = 20
    assert c.save() is None
    assert "changed meanwhile" in c.message.value and "Reload" in c.message.value
    assert store.programme_on(patient, TODAY).get("swimming").minutes == 15
    c.reload_button.click()
    assert c.row("plank").inputs["hold_s"].value == 60


def test_unchanged_programme_or_note_only_change_writes_nothing(store, patient):
    ed = ProgrammeEditor(store, patient, today=TODAY)
    before = row_counts(store)
    ed.save_button.click()
    assert "No change to save" in ed.message.value
    ed.start.value = START
    ed.note.value = "just a remark"
    ed.save_button.click()
    assert "Already saved" in ed.message.value and "add an annotation" in ed.message.value
    assert row_counts(store) == before


def test_a_future_start_date_schedules_the_programme(store, patient):
    ed = ProgrammeEditor(store, patient, today=TODAY)
    later = TODAY + dt.timedelta(days=7)
    ed.start.value = later
    ed.row("plank").inputs["hold_s"].value = 45
    ed.save()
    assert store.programme_on(patient, TODAY).get("plank").hold_s == 30
    assert store.programme_on(patient, later).get("plank").hold_s == 45
    again = ProgrammeEditor(store, patient, today=TODAY)
    assert "scheduled from" in again.title.value
    assert again.start.value == later and again.row("plank").inputs["hold_s"].value == 45


def test_invalid_input_shows_a_message_naming_the_field_and_writes_nothing(store, patient):
    ed = ProgrammeEditor(store, patient, today=TODAY)
    ed.row("plank").inputs["hold_s"].value = 45
    before = row_counts(store)
    cases = []
    for row in ed.rows:
        row.include.value = False
    ed.save_button.click()
    cases.append(
        ("Exercises: nothing entered; expected at least one exercise ticked", ed.message.value)
    )
    for row in ed.rows:
        row.include.value = True
    ed.start.value = None
    ed.save_button.click()
    cases.append(("Start date: nothing entered", ed.message.value))
    ed.start.value = START - dt.timedelta(days=1)  # before the programme in force started
    ed.save_button.click()
    cases.append(("Start date:", ed.message.value))
    ed.start.value = dt.date.today() + dt.timedelta(days=400)
    ed.save_button.click()
    cases.append(("Start date:", ed.message.value))
    ed.start.value = TODAY
    ed.author.value = "x" * 201
    ed.save_button.click()
    cases.append(("Author:", ed.message.value))
    for label, msg in cases:
        assert label in msg, msg
        assert "Not saved" in msg and "Nothing was written" in msg and "Traceback" not in msg
    assert "2026-01-05, the start of the latest programme" in cases[2][1]
    assert row_counts(store) == before


def test_problem_text_names_the_exercise_of_a_refused_item():
    exc = ValidationError("items[1].hold_s", 0, "a whole number from 1 to 600")
    assert problem_text(exc, {0: "Bird Dog", 1: "Plank"}) == (
        "Plank: hold (s): 0 is not allowed; expected a whole number from 1 to 600"
    )
    assert (
        problem_text(ValidationError("valid_from", None, "a date"))
        == "Start date: nothing entered; expected a date"
    )
    assert (
        problem_text(ValidationError("text", "  ", "text, not empty"))
        == "Text: nothing entered; expected text, not empty"
    )
    assert problem_text(
        ValidationError("day", dt.date(2030, 1, 2), "a date not in the future")
    ) == ("Date: 2030-01-02 is not allowed; expected a date not in the future")
    assert problem_text(ValidationError("author", "x" * 300, "text")).startswith("Author: 'xxx")
    assert len(problem_text(ValidationError("author", "x" * 300, "text"))) < 120
    assert problem_text(OSError("disk full")) == "disk full"


# ---- suggestions --------------------------------------------------------------------------
def _fortnight_of_planks(store, patient, end):
    """Plank done daily for 3 weeks ending on end, pain steady at 3: plank may progress."""
    for i in range(21):
        day = end - dt.timedelta(days=i)
        store.save_session(
            patient,
            [{"exercise_id": "plank", "done": True}],
            day=day,
            pain_before=3,
            session_id=f"s{i}",
        )


def test_progression_suggestion_shown_and_use_fills_but_never_saves(store, patient):
    _fortnight_of_planks(store, patient, TODAY)
    ed = ProgrammeEditor(store, patient, today=TODAY)
    plank = ed.row("plank")
    assert "Suggestion: progress to 45 s hold (now 30)" in plank.suggestion_label.value
    assert plank.use_button.layout.display is None
    walk = ed.row("brisk-walking")
    assert (
        "No change suggested" in walk.suggestion_label.value
        and "below 80 %" in walk.suggestion_label.value
    )
    assert walk.use_button.layout.display == "none"
    before = row_counts(store)
    plank.use_button.click()
    assert plank.inputs["hold_s"].value == 45
    assert row_counts(store) == before  # filled in, nothing applied
    assert store.programme_on(patient, TODAY).get("plank").hold_s == 30
    ed.save()
    assert store.programme_on(patient, TODAY).get("plank").hold_s == 45
    assert "Plank: hold 30 s to 45 s" in ed.message.value
    assert (
        "in force only since" in ed.row("plank").suggestion_label.value
    )  # recomputed for the new dose


def test_a_flare_up_note_recomputes_the_suggestions(store, patient):
    _fortnight_of_planks(store, patient, TODAY)
    view = PhysioView(store, patient, today=TODAY)
    assert "progress to 45 s" in view.editor.row("plank").suggestion_label.value
    view.annotations.kind.value = "flare-up"
    view.annotations.text.value = "moved house"
    view.annotations.add_button.click()
    label = view.editor.row("plank").suggestion_label.value
    assert "flare-up noted on the timeline" in label and "progress to" not in label


# ---- the whole physio view ------------------------------------------------------------------
def test_physio_view_escapes_the_patient_name_and_follows_the_picker(store, patient):
    store.add_patient("p2", IMG)
    store.add_annotation("p2", SCRIPT, day=START)
    view = PhysioView(store, patient, today=TODAY)
    assert "Test Patient (p1)" in view.header.value
    view.patient.value = "p2"
    assert (
        "<img" not in view.header.value
        and "&lt;img src=x onerror=alert(1)&gt; (p2)" in view.header.value
    )
    assert view.annotations.patient_id == "p2" and view.editor.patient_id == "p2"
    assert "&lt;script&gt;" in view.annotations.timeline.value
    assert view.editor.previous is None  # p2 has no programme yet


def test_saving_a_programme_redraws_the_timeline(store, patient):
    view = PhysioView(store, patient, today=TODAY)
    view.editor.author.value = IMG
    view.editor.note.value = SCRIPT
    view.editor.row("plank").inputs["hold_s"].value = 45
    view.editor.save_button.click()
    timeline = view.annotations.timeline.value
    assert "Plank (Hold 45 s, 7x/week)" in timeline
    assert "<script" not in timeline and "<img" not in timeline and "&lt;script&gt;" in timeline
    assert "<img" not in view.editor.title.value and "<script" not in view.editor.title.value


def test_building_the_views_writes_nothing(store, patient):
    before = row_counts(store)
    PhysioView(store, today=TODAY)
    PhysioView(store)
    assert row_counts(store) == before


def test_physio_view_reports_an_unknown_patient(store, patient):
    view = PhysioView(store, "nobody", today=TODAY)
    assert "is not in the store" in view.header.value


# ---- the notebook ------------------------------------------------------------------------------
def test_the_notebook_runs_top_to_bottom_shows_the_views_and_writes_nothing(
    store, patient, monkeypatch
):
    import nbformat
    from nbclient import NotebookClient

    monkeypatch.setenv("BACKCARE_DB", store.engine.url.render_as_string(hide_password=False))
    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    nb = nbformat.read(ROOT / "notebooks" / "05_physio.ipynb", as_version=4)
    assert not [c for c in nb.cells if c.cell_type == "code" and c.outputs]
    nb.cells.append(
        nbformat.v4.new_code_cell(
            "print(view.patient.value, len(view.editor.rows), "
            "'Programme from' in view.annotations.timeline.value)"
        )
    )
    before = row_counts(store)
    NotebookClient(
        nb,
        timeout=120,
        kernel_name="python3",
        resources={"metadata": {"path": str(ROOT / "notebooks")}},
    ).execute()
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error" or o.get("name") == "stderr"]
    widgets = [
        o for o in outputs if "application/vnd.jupyter.widget-view+json" in o.get("data", {})
    ]
    assert len(widgets) == 4  # picker, header, timeline and editor
    assert nb.cells[-1].outputs[0]["text"].strip() == "p1 8 True"
    assert row_counts(store) == before


# ---- time zone ------------------------------------------------------------------------------
def test_timezone_form_moves_the_patient_once_and_notes_it_on_the_timeline(store, patient):
    # quick pain entered at 23:30 London time on Sun 29 March 2026 (the night the clocks went
    # forward): filed on the 29th, the patient's last recorded day
    store.add_pain(patient, 4, recorded_at=dt.datetime(2026, 3, 29, 22, 30, tzinfo=dt.UTC))
    view = PhysioView(store, patient)
    form = view.timezone
    shown = lambda: html.unescape(form.message.value)  # noqa: E731
    assert "Europe/London" in form.current.value
    form.zone.value = "America/New_York"
    form.day.value = dt.date(2026, 3, 29)  # the last recorded day itself: refused
    form.move_button.click()
    assert "Not moved" in shown()
    assert "From: '2026-03-29' is not allowed; expected a day after 2026-03-29" in shown()
    assert store.patient_timezone(patient).key == "Europe/London"
    form.zone.value = "Mars/Olympus"
    form.day.value = dt.date(2026, 3, 30)
    form.move_button.click()
    assert "New zone: 'Mars/Olympus' is not allowed" in shown()
    assert store.patient_timezone(patient).key == "Europe/London"
    before = len(store.annotations(patient))
    form.zone.value = "America/New_York"
    form.day.value = dt.date(2026, 3, 30)
    form.move_button.click()
    assert "Time zone changed" in shown()
    assert store.patient_timezone(patient).key == "America/New_York"
    assert "America/New_York" in form.current.value
    assert len(store.annotations(patient)) == before + 1  # noted once ...
    assert "America/New_York" in view.annotations.timeline.value  # ... and shown
    form.zone.value = "America/New_York"  # a second click: already there, nothing written
    form.move_button.click()
    assert "already in America/New_York" in shown()
    assert len(store.annotations(patient)) == before + 1


def test_timezone_form_without_a_patient_says_so(tmp_path):
    from backcare.store import open_store
    from backcare.ui.physio import TimezoneForm

    with open_store(f"sqlite:///{tmp_path / 'empty.db'}") as s:
        form = TimezoneForm(s)
        form.zone.value = "Europe/Paris"
        form.move_button.click()
        assert "Patient: choose a patient first." in form.message.value
