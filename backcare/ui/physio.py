"""The physiotherapist's views: a patient's timeline annotations and the programme editor.

``PhysioView(store)`` puts a patient picker above two views that can also be used alone:

- ``AnnotationView(store, patient_id)``: the patient's timeline, newest first, and a form
  (day, kind, author, text) whose Add button writes through ``Store.add_annotation``.
- ``ProgrammeEditor(store, patient_id)``: the programme in force (or the default one), one
  row per exercise with its dose inputs, times per week and the analysis' progression
  suggestion; Save writes through ``Store.set_programme``, which records a programme-change
  annotation itself, and confirms what changed (``programme.programme_changes``).
- ``TimezoneForm(store, patient_id)``: the patient's time zone and a form (zone, from day)
  that moves them through ``Store.change_timezone`` (the change is noted on the timeline).
- ``QuestionnaireForm(store, on_behalf=True)`` (backcare.ui.questionnaire): RMDQ, PSFS or
  GROC answers entered for the patient, with a day and the name of who enters them (recorded
  as the response's author); Save writes through ``Store.save_questionnaire``.

Rules the views keep:
- Building them only reads the store; Add and Save are the only writes.
- Add holds a client-generated annotation id: clicking again with the same content does
  nothing; any change of day, kind, author or text after a save makes a new annotation
  (an id is only ever sent with the content it was first sent with).
- Save never double-saves nor overwrites unseen changes: an unchanged programme is not sent,
  and the store refuses (in the same transaction) a programme whose editor loaded a programme
  that is no longer the latest, e.g. a second, stale editor; the editor says why.
- A suggestion is only shown; "Use suggestion" fills the input, the physiotherapist saves.
- Errors are shown as messages naming the field, never as tracebacks; nothing is written.
- Everything a user or a catalog file typed is HTML-escaped before it reaches an HTML widget.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import ipywidgets as W
import pandas as pd

from backcare import services
from backcare.analysis.progression import PROGRESSION_WINDOW_DAYS
from backcare.domain.catalog import DOSE_FIELDS, DOSE_LIMITS, Catalog, Exercise
from backcare.domain.programme import (
    SETS_LIMITS,
    TIMES_PER_WEEK_LIMITS,
    Prescription,
    Programme,
    check_start,
    default_programme,
    make_programme,
    programme_changes,
    starting_prescription,
)
from backcare.domain.session import ANNOTATION_KINDS, new_id
from backcare.domain.wording import KIND_LABELS, SUGGESTION_DISCLAIMER
from backcare.errors import ConflictError, ValidationError
from backcare.present.html import esc, message_html
from backcare.present.text import suggestion_sentence
from backcare.store import STORE_ERRORS, Store
from backcare.ui.buttons import ActionButton
from backcare.ui.questionnaire import QuestionnaireForm
from backcare.ui.widgets import PatientPicker, callback_boundary, patient_names

__all__ = [
    "AnnotationView",
    "PhysioView",
    "ProgrammeEditor",
    "ProgrammeRow",
    "TimezoneForm",
    "timeline_html",
]

KIND_COLOURS = {
    "note": "#5f6368",
    "programme-change": "#1a73e8",
    "flare-up": "#c5221f",
    "milestone": "#188038",
}
INPUT_LABELS = {
    "sets": "sets",
    "hold_s": "hold (s)",
    "reps": "reps",
    "minutes": "minutes",
    "times_per_week": "x / week",
}
INPUT_LIMITS = {"sets": SETS_LIMITS, **DOSE_LIMITS, "times_per_week": TIMES_PER_WEEK_LIMITS}
UNITS = {"hold_s": "s hold", "reps": "reps", "minutes": "min"}
FIELD_LABELS = {
    "day": "Date",
    "author": "Author",
    "kind": "Kind",
    "text": "Text",
    "valid_from": "Start date",
    "note": "Note",
    "items": "Exercises",
    "patient_id": "Patient",
    "timezone": "New zone",
    "from_day": "From",
}
SUGGESTION_DAYS = PROGRESSION_WINDOW_DAYS
TIMELINE_MAX = 300


# ---- small HTML helpers (every argument that may carry user text is escaped) -----------------
def _field_label(field: str, names: Mapping[int, str] | None = None) -> str:
    """A ValidationError field in the words of the form: 'items[2].hold_s' -> 'Plank: hold (s)'."""
    m = re.fullmatch(r"items\[(\d+)\]\.(\w+)", field)
    if m and names is not None and int(m.group(1)) in names:
        return f"{names[int(m.group(1))]}: {INPUT_LABELS.get(m.group(2), m.group(2))}"
    return FIELD_LABELS.get(field, field)


def _shown(value: object) -> str:
    if isinstance(value, dt.date):
        return value.isoformat()
    if type(value).__module__ == "numpy" and hasattr(value, "item"):
        value = value.item()
    shown = repr(value)
    return shown if len(shown) <= 80 else shown[:77] + "..."


def problem_text(exc: Exception, names: Mapping[int, str] | None = None) -> str:
    """A refused input as one line: the field as the form names it, the value, what is allowed."""
    if isinstance(exc, ValidationError):
        label = _field_label(exc.field, names)
        value = exc.value
        if value is None or (
            isinstance(value, (str, list, tuple)) and not str(value).strip(" []()")
        ):
            return f"{label}: nothing entered; expected {exc.allowed}"
        return f"{label}: {_shown(value)} is not allowed; expected {exc.allowed}"
    return str(exc) or type(exc).__name__


def _who(patient_id: str, name: str) -> str:
    return f"{esc(name)} ({esc(patient_id)})" if name else esc(patient_id)


# ---- the timeline ------------------------------------------------------------------------------
def timeline_html(annotations: pd.DataFrame, limit: int = TIMELINE_MAX) -> str:
    """The patient's annotations as an HTML list, newest first (by day, then time written).

    All text is escaped."""
    if annotations is None or annotations.empty:
        return '<p class="backcare-timeline-empty" style="color:#5f6368">No annotations yet.</p>'
    order = [c for c in ("day", "created_at", "annotation_id") if c in annotations]
    rows = annotations.sort_values(order, ascending=False).head(limit)
    lis = []
    for _, r in rows.iterrows():
        kind = str(r.get("kind", "note"))
        colour = KIND_COLOURS.get(kind, "#5f6368")
        author = str(r.get("author", "") or "")
        text = esc(r.get("text", ""))  # newlines become <br>
        by = (
            f' <span class="backcare-author" style="color:#5f6368">by {esc(author)}</span>'
            if author
            else ""
        )
        lis.append(
            f'<li class="backcare-annotation" style="margin:4px 0">'
            f"<b>{pd.Timestamp(r['day']):%a %d %b %Y}</b> "
            f'<span class="backcare-kind" style="color:{colour};font-weight:600">'
            f"{esc(KIND_LABELS.get(kind, kind))}</span>{by}"
            f'<div class="backcare-annotation-text" style="margin-left:1em">{text}</div></li>'
        )
    more = (
        f'<p style="color:#5f6368">Latest {limit} of {len(annotations)} annotations shown.</p>'
        if len(annotations) > limit
        else ""
    )
    return f'<ul class="backcare-timeline" style="padding-left:1.2em">{"".join(lis)}</ul>{more}'


@dataclass(frozen=True)
class AnnotationDraft:
    """What the annotation form holds (compared to spot a repeated click)."""

    patient_id: str
    day: dt.date | None
    kind: str
    author: str
    text: str


class AnnotationView:
    """A patient's timeline (newest first) and a form that adds an annotation to it.

    today: the default date of a new annotation (default: today in the patient's time zone).
    on_added(annotation_id) is called after an annotation is stored."""

    def __init__(
        self,
        store: Store,
        patient_id: str | None = None,
        *,
        today: dt.date | None = None,
        on_added: Callable[[str], Any] | None = None,
    ) -> None:
        self.store = store
        self.today = today
        self.on_added = on_added
        self.patient_id: str | None = None
        self.annotation_id = new_id()
        self._sent: AnnotationDraft | None = None  # the content annotation_id was sent with
        self._saved: AnnotationDraft | None = None  # the content last stored

        self.date = W.DatePicker(
            description="Date", style={"description_width": "50px"}, layout=W.Layout(width="230px")
        )
        self.kind = W.Dropdown(
            description="Kind",
            options=[(KIND_LABELS[k], k) for k in ANNOTATION_KINDS],
            value="note",
            style={"description_width": "40px"},
            layout=W.Layout(width="230px"),
        )
        self.author = W.Text(
            description="Author",
            placeholder="your name",
            style={"description_width": "50px"},
            layout=W.Layout(width="260px"),
        )
        self.text = W.Textarea(
            description="Text",
            placeholder="e.g. progressed plank to 45 s",
            style={"description_width": "50px"},
            layout=W.Layout(width="600px", height="70px"),
        )
        self.add_button = ActionButton(
            description="Add to timeline", button_style="primary", icon="plus"
        )
        self.message = W.HTML()
        self.timeline = W.HTML()
        self.add_button.on_click(
            lambda _b: callback_boundary(self.add, self.message, "Adding did not finish")
        )
        self.widget = W.VBox(
            [
                W.HBox([self.date, self.kind, self.author], layout=W.Layout(flex_flow="row wrap")),
                self.text,
                self.add_button,
                self.message,
                W.HTML("<h4 style='margin:10px 0 2px'>Timeline (newest first)</h4>"),
                self.timeline,
            ],
            layout=W.Layout(max_width="980px"),
        )
        self.add_button.wait_for(self.widget)
        self.widget.add_class("backcare-annotations")
        self.set_patient(patient_id if patient_id is not None else _first_patient(store))

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        return self.widget._repr_mimebundle_(**kwargs)

    def set_patient(self, patient_id: str | None) -> None:
        """Show patient_id's timeline; the form is reset (author kept) with today's date."""
        self.patient_id = patient_id
        self.message.value = ""
        self.text.value = ""
        self.kind.value = "note"
        self.annotation_id, self._sent, self._saved = new_id(), None, None
        if patient_id is None:
            self.timeline.value = message_html("info", "No patients in the store yet.")
            return
        try:
            self.date.value = self.today or self.store.local_today(patient_id)
        except STORE_ERRORS as exc:  # shown, never a traceback
            self.message.value = message_html(
                "error", "Could not open this patient", [problem_text(exc)]
            )
            return
        self.refresh()

    def refresh(self) -> None:
        """Re-read and redraw the timeline."""
        if self.patient_id is None:
            return
        try:
            self.timeline.value = timeline_html(self.store.annotations(self.patient_id))
        except STORE_ERRORS as exc:
            self.timeline.value = message_html(
                "error", "Could not read the timeline", [problem_text(exc)]
            )

    def draft(self) -> AnnotationDraft:
        """The form's content."""
        return AnnotationDraft(
            self.patient_id or "",
            self.date.value,
            self.kind.value,
            self.author.value.strip(),
            self.text.value.strip(),
        )

    def add(self) -> str | None:
        """Store the form as an annotation (once, however often clicked); return its id or None."""
        try:
            return self._add()
        except STORE_ERRORS as exc:  # never a traceback in the widget
            self.message.value = message_html("error", "Not added", [problem_text(exc)])
            return None

    def _add(self) -> str | None:
        if self.patient_id is None:
            self.message.value = message_html(
                "error", "Not added", ["Patient: choose a patient first."]
            )
            return None
        d = self.draft()
        if d == self._saved:
            self.message.value = message_html(
                "info",
                "Already on the timeline",
                [
                    "This annotation is already saved; "
                    "change the text (or date, kind) to add another."
                ],
            )
            return self.annotation_id
        if d.day is None:
            self.message.value = message_html(
                "error", "Not added", ["Date: choose the day the note is about."]
            )
            return None
        if self._sent is not None and self._sent != d:
            self.annotation_id = new_id()  # different content: a new annotation, never a reused id
        self._sent = d
        self.store.add_annotation(
            self.patient_id,
            d.text,
            day=d.day,
            author=d.author,
            kind=d.kind,
            annotation_id=self.annotation_id,
        )
        self._saved = d
        self.message.value = message_html(
            "success",
            "Added to the timeline",
            [
                f"{KIND_LABELS[d.kind]} on {d.day:%a %d %b %Y}"
                + (f" by {d.author}" if d.author else "")
            ],
        )
        self.refresh()
        if self.on_added is not None:
            self.on_added(self.annotation_id)
        return self.annotation_id


class TimezoneForm:
    """The patient's time zone and a form that moves them to another from a day on.

    Move writes through ``Store.change_timezone`` (which refuses a day not after the patient's
    last recorded day, and notes the change on the timeline); clicking again after a move is
    told, not written twice: the patient is then already in that zone.
    on_moved() is called after a move is stored."""

    def __init__(
        self,
        store: Store,
        patient_id: str | None = None,
        *,
        on_moved: Callable[[], Any] | None = None,
    ) -> None:
        import zoneinfo

        self.store = store
        self.on_moved = on_moved
        self.patient_id: str | None = None
        self.current = W.HTML()
        self.zone = W.Combobox(
            description="New zone",
            placeholder="e.g. Europe/Paris",
            options=sorted(zoneinfo.available_timezones()),
            ensure_option=False,
            style={"description_width": "70px"},
            layout=W.Layout(width="300px"),
        )
        self.day = W.DatePicker(
            description="From",
            style={"description_width": "40px"},
            layout=W.Layout(width="220px"),
        )
        self.move_button = ActionButton(description="Move to this time zone", icon="globe")
        self.message = W.HTML()
        self.move_button.on_click(
            lambda _b: callback_boundary(self.move, self.message, "Moving did not finish")
        )
        self.widget = W.VBox(
            [
                self.current,
                W.HBox([self.zone, self.day], layout=W.Layout(flex_flow="row wrap")),
                self.move_button,
                self.message,
            ],
            layout=W.Layout(max_width="980px"),
        )
        self.move_button.wait_for(self.widget)
        self.widget.add_class("backcare-timezone")
        self.set_patient(patient_id)

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        return self.widget._repr_mimebundle_(**kwargs)

    def set_patient(self, patient_id: str | None) -> None:
        """Show patient_id's zone; the form is emptied, From set to their today."""
        self.patient_id = patient_id
        self.message.value = ""
        self.zone.value = ""
        self.current.value = ""
        if patient_id is None:
            return
        try:
            self.current.value = (
                f"<p style='margin:2px 0'>Time zone: <b>"
                f"{esc(self.store.patient_timezone(patient_id).key)}</b>. Days are counted in "
                "it; move the patient when they move (days already recorded keep theirs).</p>"
            )
            self.day.value = self.store.local_today(patient_id)
        except STORE_ERRORS as exc:
            self.message.value = message_html(
                "error", "Could not open this patient", [problem_text(exc)]
            )

    def move(self) -> bool:
        """Move the patient to the zone typed, from the day chosen; True when stored."""
        if self.patient_id is None:
            self.message.value = message_html(
                "error", "Not moved", ["Patient: choose a patient first."]
            )
            return False
        zone, day = self.zone.value.strip(), self.day.value
        try:
            if zone and zone == self.store.patient_timezone(self.patient_id).key:
                self.message.value = message_html(
                    "info", "Nothing to move", [f"The patient is already in {zone}."]
                )
                return False
            if day is None:
                raise ValidationError("from_day", "", "the first day to file in the new zone")
            self.store.change_timezone(self.patient_id, zone, day)
        except STORE_ERRORS as exc:  # shown, never a traceback; nothing written
            self.message.value = message_html("error", "Not moved", [problem_text(exc)])
            return False
        self.set_patient(self.patient_id)
        self.message.value = message_html(
            "success",
            "Time zone changed",
            [f"{zone} from {day:%a %d %b %Y}, noted on the timeline"],
        )
        if self.on_moved is not None:
            self.on_moved()
        return True


def _first_patient(store: Store) -> str | None:
    try:
        return next(iter(patient_names(store)), None)
    except STORE_ERRORS:  # the view says so when it tries to read
        return None


# ---- progression suggestions ---------------------------------------------------------------
# ---- the programme editor ------------------------------------------------------------------
class ProgrammeRow:
    """One exercise of the programme being edited: include box, dose inputs, suggestion, remove."""

    def __init__(
        self,
        exercise: Exercise,
        prescription: Prescription | None = None,
        suggestion: Mapping[str, Any] | None = None,
    ) -> None:
        p = prescription or starting_prescription(exercise)
        self.exercise = exercise
        self.exercise_id = exercise.id
        self.each_side = bool(p.each_side)
        self.suggestion = dict(suggestion) if suggestion is not None else None
        self.include = W.Checkbox(
            value=True, description=exercise.name, indent=False, layout=W.Layout(width="220px")
        )
        self.include.add_class("backcare-include")
        fields = [
            "sets",
            *(n for n in DOSE_FIELDS if getattr(exercise, n) is not None),
            "times_per_week",
        ]
        self.inputs: dict[str, W.BoundedIntText] = {}
        for name in fields:
            low, high = INPUT_LIMITS[name]
            value = getattr(p, name)
            if (
                value is None
            ):  # a dose the stored prescription lacks: start at the catalog's low end
                value = getattr(exercise, name)[0]
            box = W.BoundedIntText(
                value=min(max(int(value), low), high),
                min=low,
                max=high,
                description=INPUT_LABELS[name],
                style={"description_width": "58px"},
                layout=W.Layout(width="140px"),
            )
            box.add_class(f"backcare-input-{name.replace('_', '-')}")
            self.inputs[name] = box
        side = "each side" if self.each_side else ""
        self.info = W.HTML(
            f'<span class="backcare-each-side"><b>{esc(side)}</b></span>'
            '<br><span style="color:#5f6368;font-size:90%">'
            f"range: {esc(exercise.dosage_text())}</span>",
            layout=W.Layout(width="190px"),
        )
        self.suggestion_label = W.HTML(layout=W.Layout(flex="1 1 auto"))
        self.suggestion_label.add_class("backcare-suggestion")
        self.use_button = W.Button(
            description="Use suggestion",
            icon="arrow-right",
            tooltip="Fill the suggested dose in (nothing is saved until you press Save)",
            layout=W.Layout(width="auto", flex="0 0 auto"),
        )
        self.remove_button = W.Button(
            description="Remove",
            icon="trash",
            tooltip=f"Remove {exercise.name}",
            layout=W.Layout(width="auto"),
        )
        self.use_button.on_click(lambda _b: self.use_suggestion())
        self.set_suggestion(self.suggestion)
        top = W.HBox(
            [self.include, *self.inputs.values(), self.info, self.remove_button],
            layout=W.Layout(align_items="center", flex_flow="row wrap"),
        )
        self.widget = W.VBox(
            [
                top,
                W.HBox(
                    [self.suggestion_label, self.use_button], layout=W.Layout(align_items="center")
                ),
            ],
            layout=W.Layout(border_bottom="1px solid #e0e0e0", padding="4px 0"),
        )
        self.widget.add_class("backcare-rx-row")

    def set_suggestion(self, suggestion: Mapping[str, Any] | None) -> None:
        """Show the analysis' suggestion (None: there is none); a button for up/down only."""
        self.suggestion = dict(suggestion) if suggestion is not None else None
        text = suggestion_sentence(self.suggestion)
        colour = "#5f6368"
        if self.suggestion is not None and self.suggestion["direction"] in ("up", "down"):
            colour = "#1a73e8"
        self.suggestion_label.value = (
            f'<span style="color:{colour};font-size:90%">{esc(text)}</span>'
        )
        movable = (
            self.suggestion is not None
            and self.suggestion["direction"] in ("up", "down")
            and str(self.suggestion["dose"]) in self.inputs
        )
        self.use_button.layout.display = None if movable else "none"

    def use_suggestion(self) -> bool:
        """Fill the suggested dose into its input (never saves); return whether one was filled."""
        s = self.suggestion
        if s is None or s["direction"] not in ("up", "down") or str(s["dose"]) not in self.inputs:
            return False
        self.inputs[str(s["dose"])].value = int(s["suggested"])
        self.include.value = True
        return True

    def prescription(self) -> Prescription:
        """The row as a Prescription (not yet validated)."""
        doses = {n: self.inputs[n].value for n in DOSE_FIELDS if n in self.inputs}
        return Prescription(
            self.exercise_id,
            sets=self.inputs["sets"].value,
            each_side=self.each_side,
            times_per_week=self.inputs["times_per_week"].value,
            **doses,
        )

    def close(self) -> None:
        """Close the row's widgets."""
        for w in (
            *self.inputs.values(),
            self.include,
            self.info,
            self.suggestion_label,
            self.use_button,
            self.remove_button,
            *self.widget.children,
            self.widget,
        ):
            w.close()


class ProgrammeEditor:
    """Edit a patient's programme: rows per exercise, add/remove, start date, author, note, Save.

    Loads the latest programme (in force on today, or scheduled after it), or the default
    programme when none was prescribed yet. today: the day suggestions are computed for and
    the default start date (default: today in the patient's time zone). on_saved(programme_id)
    is called after a new programme is stored."""

    def __init__(
        self,
        store: Store,
        patient_id: str | None = None,
        *,
        today: dt.date | None = None,
        on_saved: Callable[[int], Any] | None = None,
    ) -> None:
        self.store = store
        self.today = today
        self.on_saved = on_saved
        self.patient_id: str | None = None
        self.previous: Programme | None = None  # the stored programme the edits start from
        self.rows: list[ProgrammeRow] = []
        self.suggestions = pd.DataFrame()
        self.end: dt.date | None = None

        self.title = W.HTML()
        self.disclaimer = W.HTML()
        self.rows_box = W.VBox()
        self.add_choice = W.Dropdown(
            description="Exercise",
            options=[],
            style={"description_width": "70px"},
            layout=W.Layout(width="340px"),
        )
        self.add_button = W.Button(description="Add exercise", icon="plus")
        self.start = W.DatePicker(
            description="Start date",
            style={"description_width": "80px"},
            layout=W.Layout(width="260px"),
        )
        self.author = W.Text(
            description="Author",
            placeholder="your name",
            style={"description_width": "50px"},
            layout=W.Layout(width="260px"),
        )
        self.note = W.Textarea(
            description="Note",
            placeholder="why the programme changes (optional)",
            style={"description_width": "80px"},
            layout=W.Layout(width="600px", height="60px"),
        )
        self.save_button = ActionButton(
            description="Save programme", button_style="primary", icon="check"
        )
        self.reload_button = W.Button(
            description="Reload",
            icon="refresh",
            tooltip="Discard the edits and load the stored programme again",
        )
        self.reload_button.on_click(lambda _b: self.set_patient(self.patient_id))
        self.message = W.HTML()
        self.add_button.on_click(lambda _b: self._guard(self.add_exercise, "Not added"))
        self.save_button.on_click(
            lambda _b: callback_boundary(self.save, self.message, "Saving did not finish")
        )
        self.widget = W.VBox(
            [
                self.title,
                self.disclaimer,
                self.rows_box,
                W.HBox([self.add_choice, self.add_button], layout=W.Layout(align_items="center")),
                W.HBox([self.start, self.author], layout=W.Layout(flex_flow="row wrap")),
                self.note,
                W.HBox([self.save_button, self.reload_button]),
                self.message,
            ],
            layout=W.Layout(max_width="980px"),
        )
        self.save_button.wait_for(self.widget)
        self.widget.add_class("backcare-editor")
        self.set_patient(patient_id if patient_id is not None else _first_patient(store))

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        return self.widget._repr_mimebundle_(**kwargs)

    def _guard(self, action: Callable[[], Any], title: str) -> Any:
        """action(), or None after showing why not in the message line (never a traceback)."""

        def shown() -> Any:
            try:
                return action()
            except STORE_ERRORS as exc:
                self.message.value = message_html("error", title, [problem_text(exc)])
                return None

        return callback_boundary(shown, self.message, title)

    @property
    def catalog(self) -> Catalog:
        return self.store.catalog

    # ---- loading ---------------------------------------------------------------------------
    def set_patient(self, patient_id: str | None) -> None:
        """Load patient_id's latest programme (or the default) into the rows."""
        self.patient_id = patient_id
        self.message.value = ""
        self._clear_rows()
        if patient_id is None:
            self.title.value = message_html("info", "No patients in the store yet.")
            self._refresh_choices()
            return
        self._guard(self._load, "Could not load the programme")

    def _load(self) -> None:
        pid = self.patient_id
        assert pid is not None
        self.end = self.today or self.store.local_today(pid)
        self.previous = self._stored_programme()
        shown = self.previous or default_programme(self.catalog, self.end)
        self.start.value = max(self.end, self.previous.valid_from) if self.previous else self.end
        self.note.value = ""
        warnings = []
        try:
            self.suggestions = services.patient_suggestions(self.store, pid, self.end)
        except STORE_ERRORS as exc:  # the programme can still be edited without them
            self.suggestions = pd.DataFrame()
            warnings.append(
                message_html("warning", "Could not compute suggestions", [problem_text(exc)])
            )
        missing = [p.exercise_id for p in shown.items if p.exercise_id not in self.catalog]
        for p in shown.items:
            if p.exercise_id in self.catalog:
                self._append(
                    ProgrammeRow(self.catalog[p.exercise_id], p, self._suggestion(p.exercise_id))
                )
        if missing:
            warnings.append(
                message_html(
                    "warning",
                    "Exercises missing from the catalog",
                    [
                        f"{', '.join(missing)}: prescribed, but not in the exercise catalog in "
                        "use, so they cannot be edited here and are left out of a programme "
                        "saved from this editor."
                    ],
                )
            )
        self.message.value = "".join(warnings)
        self._refresh_title()
        self._refresh_choices()

    def _latest_start(self) -> dt.date | None:
        rx = self.store.prescriptions(self.patient_id)
        return None if rx.empty else pd.Timestamp(rx["valid_from"].max()).date()

    def _stored_programme(self) -> Programme | None:
        """The latest stored programme: in force on self.end, or scheduled after it."""
        assert self.patient_id is not None and self.end is not None
        latest = self._latest_start()
        return self.store.programme_on(
            self.patient_id, max(self.end, latest) if latest else self.end
        )

    def _refresh_title(self) -> None:
        p = self.previous
        if p is None:
            head = (
                "No programme prescribed yet: the default programme is shown as a starting point."
            )
        else:
            scheduled = self.end is not None and p.valid_from > self.end
            when = "scheduled from" if scheduled else "in force since"
            head = f"Programme {when} {p.valid_from:%a %d %b %Y}" + (
                f", by {p.author}" if p.author else ""
            )
            if p.note:
                head += f" ({p.note})"
            if scheduled:
                head += ". Until then, the programme in force today stays."
        self.title.value = (
            f'<div class="backcare-editor-title" style="margin:4px 0">{esc(head)}</div>'
        )
        self.disclaimer.value = (
            '<div style="color:#5f6368;font-size:90%">Suggestions come from the '
            f"{SUGGESTION_DAYS} days ending {self.end:%a %d %b %Y}. "
            f"{esc(SUGGESTION_DISCLAIMER)}</div>"
            if self.end
            else ""
        )

    def _suggestion(self, exercise_id: str) -> Mapping[str, Any] | None:
        s = self.suggestions
        if s is None or s.empty:
            return None
        hit = s[s["exercise_id"] == exercise_id]
        return None if hit.empty else {str(k): v for k, v in hit.iloc[0].items()}

    def refresh_suggestions(self) -> None:
        """Recompute the progression suggestions (e.g. after a flare-up note) and show them."""
        if self.patient_id is None or self.end is None:
            return
        try:
            self.suggestions = services.patient_suggestions(self.store, self.patient_id, self.end)
        except STORE_ERRORS as exc:
            self.suggestions = pd.DataFrame()
            self.message.value = message_html(
                "warning", "Could not compute suggestions", [problem_text(exc)]
            )
        for row in self.rows:
            row.set_suggestion(self._suggestion(row.exercise_id))

    def _clear_rows(self) -> None:
        for row in self.rows:
            row.close()
        self.rows = []
        self.rows_box.children = ()

    def _append(self, row: ProgrammeRow) -> None:
        row.remove_button.on_click(
            lambda _b, r=row: self._guard(
                lambda: self.remove_exercise(r.exercise_id), "Not removed"
            )
        )
        self.rows.append(row)
        self.rows_box.children = tuple(r.widget for r in self.rows)

    def _refresh_choices(self) -> None:
        have = {r.exercise_id for r in self.rows}
        options = [(ex.name, ex.id) for ex in self.catalog if ex.id not in have]
        self.add_choice.options = options
        self.add_choice.value = options[0][1] if options else None
        self.add_button.disabled = not options

    # ---- editing -----------------------------------------------------------------------------
    def row(self, exercise_id: str) -> ProgrammeRow:
        """The row of exercise_id (KeyError if it is not in the editor)."""
        for r in self.rows:
            if r.exercise_id == exercise_id:
                return r
        raise KeyError(exercise_id)

    def add_exercise(self, exercise_id: str | None = None) -> ProgrammeRow | None:
        """Add a catalog exercise at its starting dose (default: the chosen one) if not yet in."""
        exercise_id = exercise_id or self.add_choice.value
        if exercise_id is None:
            self.message.value = message_html(
                "error", "Not added", ["Exercise: choose one from the list."]
            )
            return None
        if exercise_id not in self.catalog:
            raise ValidationError("exercise", exercise_id, "an exercise id from the catalog")
        if any(r.exercise_id == exercise_id for r in self.rows):
            raise ValidationError("exercise", exercise_id, "an exercise not yet in the programme")
        row = ProgrammeRow(self.catalog[exercise_id], None, self._suggestion(exercise_id))
        self._append(row)
        self._refresh_choices()
        self.message.value = ""
        return row

    def remove_exercise(self, exercise_id: str) -> None:
        """Take exercise_id out of the programme being edited (nothing is saved)."""
        row = self.row(exercise_id)
        self.rows.remove(row)
        self.rows_box.children = tuple(r.widget for r in self.rows)
        row.close()
        self._refresh_choices()
        self.message.value = ""

    def items(self) -> list[Prescription]:
        """The included rows as Prescriptions, in order (not yet validated)."""
        return [r.prescription() for r in self.rows if r.include.value]

    # ---- saving ------------------------------------------------------------------------------
    def save(self) -> int | None:
        """Validate and store the edited programme; its id, or None if nothing was saved."""
        try:
            return self._save()
        except STORE_ERRORS as exc:  # never a traceback in the widget
            self.message.value = message_html(
                "error", "Not saved", [problem_text(exc), "Nothing was written."]
            )
            return None

    def _save(self) -> int | None:
        if self.patient_id is None:
            raise ValidationError("patient_id", None, "a patient: choose one first")
        included = [r for r in self.rows if r.include.value]
        names = {i: r.exercise.name for i, r in enumerate(included)}
        if not included:
            raise ValidationError("items", [], "at least one exercise ticked")
        if self.start.value is None:
            raise ValidationError("valid_from", None, "the day the programme starts")
        try:
            prog = make_programme(
                [r.prescription() for r in included],
                self.start.value,
                self.catalog,
                author=self.author.value.strip(),
                note=self.note.value.strip(),
            )
            check_start(prog.valid_from, self._latest_start())
        except ValidationError as exc:
            self.message.value = message_html(
                "error", "Not saved", [problem_text(exc, names), "Nothing was written."]
            )
            return None
        changes = programme_changes(self.previous, prog)
        if not changes:
            prev = self.previous
            assert prev is not None  # an empty diff needs a previous programme
            same_day = prev.valid_from == prog.valid_from
            self.message.value = message_html(
                "info",
                "Already saved" if same_day else "No change to save",
                [
                    "The exercises and doses are the same as in the programme from "
                    f"{prev.valid_from:%d %b %Y}; nothing was written.",
                    ""
                    if (prev.author, prev.note) == (prog.author, prog.note) or not same_day
                    else (
                        "Author and note are saved with a change of programme; "
                        "to record a remark, add an annotation."
                    ),
                ],
            )
            return prev.programme_id
        # the store refuses, in the same transaction, if the programme changed since it was loaded
        try:
            pid = self.store.set_programme(
                self.patient_id,
                prog.items,
                prog.valid_from,
                author=prog.author,
                note=prog.note,
                expected_current=_pid(self.previous),
            )
        except ConflictError:
            return self._changed_meanwhile(prog)
        old = self.previous
        self.previous = self.store.programme_on(self.patient_id, prog.valid_from)
        self._refresh_title()
        if old is not None and old.programme_id == pid:  # the store found it already saved
            self.message.value = message_html(
                "info",
                "Already saved",
                [
                    f"This programme was already stored from {prog.valid_from:%d %b %Y}; "
                    "nothing was written."
                ],
            )
            return pid
        lines = [c.describe(self.catalog) for c in changes]
        if old is not None:
            lines.append(f"Previous programme: from {old.valid_from:%d %b %Y}.")
        lines.append("A programme-change note was added to the timeline.")
        self.message.value = message_html(
            "success", f"Saved: new programme from {prog.valid_from:%a %d %b %Y}", lines
        )
        self.refresh_suggestions()
        if self.on_saved is not None:
            self.on_saved(pid)
        return pid

    def _changed_meanwhile(self, prog: Programme) -> int | None:
        """Say why the store refused prog: this programme was saved already, or another one."""
        current = self._stored_programme()
        if current is not None and (current.valid_from, current.items) == (
            prog.valid_from,
            prog.items,
        ):
            self.previous = current
            self._refresh_title()
            self.message.value = message_html(
                "info",
                "Already saved",
                [
                    f"This programme was already stored from {prog.valid_from:%d %b %Y}; "
                    "nothing was written."
                ],
            )
            return current.programme_id
        who = f" by {current.author}" if current is not None and current.author else ""
        self.message.value = message_html(
            "warning",
            "Not saved: the programme was changed meanwhile",
            [
                f"A programme was saved{who} after this editor loaded it. Press Reload to see it, "
                "then make your changes again. Nothing was written."
            ],
        )
        return None


def _pid(programme: Programme | None) -> int | None:
    return None if programme is None else programme.programme_id


# ---- both together -----------------------------------------------------------------------------
class PhysioView:
    """A patient picker above the AnnotationView and the ProgrammeEditor, kept in step.

    Saving a programme redraws the timeline (the store added a programme-change note);
    adding an annotation recomputes the suggestions (a flare-up note steps doses back)."""

    def __init__(
        self, store: Store, patient_id: str | None = None, *, today: dt.date | None = None
    ) -> None:
        self.store = store
        self.error = ""
        self.patient = PatientPicker()
        try:
            names = patient_names(store)
        except STORE_ERRORS as exc:  # e.g. no store yet
            self.error = f"Could not read the store: {problem_text(exc)}"
            names = {}
        if patient_id is not None and patient_id not in names:
            self.error = f"Patient: {patient_id!r} is not in the store."
            patient_id = None
        self.patient.set_names(names, patient_id)
        first = self.patient.value
        self.header = W.HTML()
        self.annotations = AnnotationView(
            store, first, today=today, on_added=lambda _id: self.editor.refresh_suggestions()
        )
        self.editor = ProgrammeEditor(
            store, first, today=today, on_saved=lambda _id: self.annotations.refresh()
        )
        self.patient.observe(
            lambda ch: callback_boundary(
                lambda: self._patient_changed(ch), self.header, "Cannot open this patient"
            ),
            names="value",
        )
        self.questionnaire = QuestionnaireForm(store, on_behalf=True)
        self._open_questionnaire(first, today)
        self.timezone = TimezoneForm(store, first, on_moved=self.annotations.refresh)
        self._show_header()
        self.widget = W.VBox(
            [
                self.patient,
                self.header,
                W.HTML("<h3 style='margin:12px 0 4px'>Timeline annotations</h3>"),
                self.annotations.widget,
                W.HTML("<h3 style='margin:12px 0 4px'>Programme</h3>"),
                self.editor.widget,
                W.HTML(
                    "<h3 style='margin:12px 0 4px'>Questionnaires (entered for the patient)</h3>"
                ),
                self.questionnaire.widget,
                W.HTML("<h3 style='margin:12px 0 4px'>Time zone</h3>"),
                self.timezone.widget,
            ],
            layout=W.Layout(max_width="980px"),
        )
        self.widget.add_class("backcare-physio")

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        return self.widget._repr_mimebundle_(**kwargs)

    def _show_header(self) -> None:
        pid = self.patient.value
        if self.error:
            self.header.value = message_html("error", self.error)
        elif pid is None:
            self.header.value = message_html("info", "No patients in the store yet.")
        else:
            self.header.value = (
                '<h2 class="backcare-physio-patient" style="margin:6px 0">'
                f"{_who(pid, self.patient.name(pid))}</h2>"
            )

    def _patient_changed(self, change: dict) -> None:
        self.error = ""
        self._show_header()
        self.annotations.set_patient(change["new"])
        self.editor.set_patient(change["new"])
        self._open_questionnaire(change["new"], self.questionnaire.day)
        self.timezone.set_patient(change["new"])

    def _open_questionnaire(self, patient_id: str | None, day: dt.date | None) -> None:
        """Point the questionnaire form at the patient, on day (default their today)."""
        if patient_id is not None and day is None:
            try:
                day = self.store.local_today(patient_id)
            except STORE_ERRORS as exc:
                self.questionnaire.message.value = message_html(
                    "error", "Cannot open this patient", [problem_text(exc)]
                )
                return
        self.questionnaire.open(patient_id, day)
