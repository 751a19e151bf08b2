"""Today's session: the checklist a person ticks off, as one ipywidgets view.

``TodayView(store)`` shows the programme in force for a patient on a day: one row per
exercise (tick box, dose in words, a "how to do it" panel, inputs prefilled with the
prescribed dose, a hold timer), pain before and after, a red-flag check, notes and Save,
plus a quick pain entry for days without exercise and, collapsed below it, this week's
outcome questionnaires (RMDQ, PSFS, GROC; ui.questionnaire), whose title says when they are
due. The questionnaires never block the checklist: they are saved on their own.

Rules the view keeps:
- Building it only reads the store; Save and "Record pain" are the only writes.
- A session has a client-generated id held by the view: clicking Save again with the same
  content does nothing, with changed content it updates that session (and says so). A view
  opened on a day that already has a session shows that session, so re-running the cell
  or reloading the app page never duplicates it.
- Errors are shown as messages in the widget, never as tracebacks; the store writes a
  session whole or not at all.
- Everything a user or a catalog file typed is escaped before it reaches an HTML widget.
"""

from __future__ import annotations

import base64
import datetime as dt
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypedDict

import ipywidgets as W

from backcare import services
from backcare.analysis.adherence import WeekProgress
from backcare.analysis.questionnaires import questionnaires_due
from backcare.domain.catalog import DOSE_FIELDS, DOSE_LIMITS, Exercise
from backcare.domain.programme import SETS_LIMITS, Prescription, Programme
from backcare.domain.questionnaires import INSTRUMENTS
from backcare.domain.session import PAIN_CONTEXTS, SessionItem, new_id
from backcare.domain.wording import CONSULT_ADVICE, RED_FLAG_MESSAGE, RED_FLAGS
from backcare.errors import BackcareError, NotFoundError
from backcare.present.html import esc, message_html, picture_html
from backcare.present.text import week_progress_lines
from backcare.store import STORE_ERRORS, Store
from backcare.ui.buttons import ActionButton
from backcare.ui.hold_timer import GET_READY_S, HoldSignal
from backcare.ui.questionnaire import QuestionnaireForm
from backcare.ui.week import strip_block_html
from backcare.ui.widgets import (
    Disclosure,
    HoldTimer,
    PainInput,
    PatientPicker,
    Scheduler,
    callback_boundary,
    hold_phases,
    one_line,
    patient_names,
)

__all__ = [
    "TodayView",
]

log = logging.getLogger(__name__)

PATIENT_ENV = "BACKCARE_PATIENT"
PRIVATE_ENV = "BACKCARE_APP"  # "1" in `backcare app`: one patient, never a list of them
QUESTIONS_TITLE = "Answer this week's questions"
DOSE_LABELS = {"sets": "sets", "hold_s": "hold (s)", "reps": "reps", "minutes": "minutes"}

# The view's own style, scoped to it so nothing else on the page changes: labels and buttons
# wrap instead of ending in '...', targets of at least 24 x 24 px, a focus ring you can see,
# rows that stack on a phone (390 px), compact "How to do it" panels, a skip link.
_CSS = """<style>
.backcare-today { box-sizing: border-box; max-width: 100%; }
.backcare-today * { box-sizing: border-box; }
.backcare-today .widget-label-basic, .backcare-today .widget-label-basic span,
.backcare-today .widget-label, .backcare-today .jupyter-button,
.backcare-today .widget-inline-hbox .widget-label {
  white-space: normal; overflow: visible; text-overflow: clip; overflow-wrap: anywhere;
}
.backcare-today .widget-label { line-height: 1.2; align-self: center; }
.backcare-today .widget-checkbox { height: auto; min-height: var(--jp-widgets-inline-height); }
.backcare-today .widget-checkbox .widget-label-basic {
  display: flex; align-items: center; gap: 8px; min-height: 32px; line-height: 1.3;
}
.backcare-today input[type="checkbox"] { width: 24px; height: 24px; margin: 0; flex: none; }
.backcare-today .jupyter-button {
  height: auto; min-height: 32px; min-width: 32px; padding: 4px 12px; line-height: 1.3;
}
.backcare-today .widget-inline-hbox { max-width: 100%; }
.backcare-today .widget-text input, .backcare-today .widget-dropdown select,
.backcare-today .widget-datepicker input { min-height: 28px; }
.backcare-today :is(input, select, textarea, button, summary, a):focus-visible,
.backcare-today input[type="date"]:focus {
  outline: 3px solid #1a73e8 !important; outline-offset: 2px;
}
.backcare-today summary {
  display: list-item; cursor: pointer; color: #1a73e8; padding: 6px 4px; min-height: 32px;
}
.backcare-today details.backcare-howto-panel { width: 100%; }
.backcare-today details.backcare-howto-panel[open] > .backcare-howto {
  padding: 2px 16px; background: #f8f9fa;
}
.backcare-today .backcare-howto p, .backcare-today .backcare-howto ol,
.backcare-today .backcare-howto ul { margin: 4px 0; }
.backcare-today .backcare-sr {
  position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0);
  white-space: nowrap;
}
.backcare-today a.backcare-skip:not(:focus) {
  position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0);
  white-space: nowrap;
}
.backcare-today a.backcare-skip:focus {
  display: inline-block; padding: 6px 12px; background: #1a73e8; color: #fff;
  border-radius: 4px; min-height: 32px;
}
.backcare-today h2.backcare-day { margin: 8px 0 4px; font-size: 1.4em; }
@media (max-width: 600px) {
  .backcare-today .backcare-exercise .backcare-done { flex: 1 1 100% !important; }
  .backcare-today .widget-textarea { flex-wrap: wrap; }
  .backcare-today .widget-textarea textarea { flex: 1 1 100%; }
}
</style>"""


def day_heading(day: dt.date, today: dt.date) -> str:
    """The view's heading: the day shown, 'Today, ' before it when it is today, the year only
    when it is not this year ('Today, Monday 30 November', 'Sunday 29 November')."""
    words = f"{day:%A} {day.day} {day:%B}"
    if day.year != today.year:
        words += f" {day.year}"
    return f"Today, {words}" if day == today else words


# ---- one exercise row --------------------------------------------------------------------
def how_to_html(ex: Exercise) -> str:
    """Position, steps and cautions of an exercise as escaped HTML."""
    steps = "".join(f"<li>{esc(s)}</li>" for s in ex.steps)
    cautions = "".join(f"<li>{esc(c)}</li>" for c in ex.cautions)
    out = picture_html(ex.image_svg(), f"Drawing: {ex.name}", 240)
    out += f"<p><b>Position:</b> {esc(ex.position)}</p><p><b>Steps:</b></p><ol>{steps}</ol>"
    if cautions:
        out += f"<p><b>Take care:</b></p><ul>{cautions}</ul>"
    if ex.dosage_note:
        out += f'<p style="color:#5f6368">Dose: {esc(ex.dosage_note)}</p>'
    return f'<div class="backcare-howto">{out}</div>'


def how_to_details(ex: Exercise) -> str:
    """The how-to panel as a closed <details>: its 'How to do it' summary is focusable and
    opens with Enter or Space in any browser; screen readers hear which exercise it is for."""
    return (
        '<details class="backcare-howto-panel"><summary>How to do it'
        f'<span class="backcare-sr">: {esc(ex.name)}</span></summary>{how_to_html(ex)}</details>'
    )


def dosage_html(ex: Exercise, p: Prescription) -> str:
    """The prescribed dose in words, with the catalog's range beneath when it differs."""
    text = f'<span class="backcare-dosage"><b>{esc(p.dosage_text())}</b></span>'
    if ex.dosage_text() != p.dosage_text():
        text += (
            f'<br><span style="color:#5f6368;font-size:90%">range: {esc(ex.dosage_text())}</span>'
        )
    return text


class ExerciseRow:
    """One prescribed exercise: done box, dose in words, how-to panel, dose inputs, hold timer."""

    def __init__(
        self,
        exercise: Exercise,
        prescription: Prescription,
        *,
        scheduler: Scheduler | Callable[[], Scheduler] | None = None,
        tick: float = 1.0,
        switch_s: float = 5.0,
        get_ready_s: float = 0.0,
        signal: HoldSignal | None = None,
    ) -> None:
        self.exercise = exercise
        self.prescription = prescription
        self.switch_s = switch_s
        self.get_ready_s = get_ready_s
        self.done = W.Checkbox(
            value=False,
            description=exercise.name,
            indent=False,
            layout=W.Layout(width="auto", flex="1 1 230px"),
        )
        self.done.add_class("backcare-done")
        self.dosage = W.HTML(
            dosage_html(exercise, prescription), layout=W.Layout(width="auto", flex="1 1 200px")
        )
        self.inputs: dict[str, W.BoundedIntText] = {}
        if prescription.sets > 1:
            self.inputs["sets"] = self._input("sets", prescription.sets, SETS_LIMITS[1])
        for name in DOSE_FIELDS:
            value = getattr(prescription, name)
            if value is not None:
                self.inputs[name] = self._input(name, value, DOSE_LIMITS[name][1])
        self.details = W.HTML(how_to_details(exercise), layout=W.Layout(width="100%"))
        top: list[W.Widget] = [self.done, self.dosage, *self.inputs.values()]
        self.timer_button: W.Button | None = None
        self.timer_label = W.HTML()
        self.timer: HoldTimer | None = None
        if prescription.hold_s is not None:
            self.timer_button = W.Button(
                description=self._start_text(),
                icon="play",
                tooltip="Count the hold down; the box is ticked at the end",
                layout=W.Layout(width="auto", max_width="100%"),
            )
            self.timer_button.add_class("backcare-timer-button")
            self.timer = HoldTimer(
                self.timer_label,
                self._timer_done,
                scheduler=scheduler,
                tick=tick,
                on_change=self._timer_changed,
                on_cue=(
                    (lambda event, phase, secs: signal.on_timer(exercise.name, event, phase, secs))
                    if signal is not None
                    else None
                ),
            )
            self.timer_button.on_click(self._toggle_timer)
            self.inputs["hold_s"].observe(self._hold_changed, "value")
            top += [self.timer_button, self.timer_label]
        row = W.HBox(top, layout=W.Layout(align_items="center", flex_flow="row wrap"))
        self.widget = W.VBox(
            [row, self.details], layout=W.Layout(border_bottom="1px solid #e0e0e0", padding="4px 0")
        )
        self.widget.add_class("backcare-exercise")

    @staticmethod
    def _input(name: str, value: int, high: int) -> W.BoundedIntText:
        box = W.BoundedIntText(
            value=value,
            min=0,
            max=high,
            description=DOSE_LABELS[name],
            style={"description_width": "62px"},
            layout=W.Layout(width="140px"),
        )
        box.add_class(f"backcare-input-{name.replace('_', '-')}")
        return box

    def _start_text(self) -> str:
        hold = self.inputs["hold_s"].value if "hold_s" in self.inputs else self.prescription.hold_s
        return f"Start {hold} s hold"

    def _toggle_timer(self, _button: W.Button | None = None) -> None:
        assert self.timer is not None
        if self.timer.running:
            self.timer.stop()
            return
        seconds = self.inputs["hold_s"].value
        if seconds < 1:
            self.timer_label.value = '<span class="backcare-timer">Set the hold time first.</span>'
            return
        sets = self.inputs["sets"].value if "sets" in self.inputs else self.prescription.sets
        self.timer.start(
            hold_phases(
                seconds,
                sets=max(1, sets),
                each_side=self.prescription.each_side,
                switch_s=self.switch_s,
                get_ready_s=self.get_ready_s,
            )
        )

    def _hold_changed(self, change: dict) -> None:
        if self.timer is not None and not self.timer.running and self.timer_button is not None:
            self.timer_button.description = self._start_text()

    def _timer_changed(self, running: bool) -> None:
        assert self.timer_button is not None
        self.timer_button.description = "Stop timer" if running else self._start_text()
        self.timer_button.icon = "stop" if running else "play"

    def _timer_done(self) -> None:
        self.done.value = True

    def stop_timer(self) -> None:
        """Cancel a running countdown (quietly)."""
        if self.timer is not None:
            self.timer.stop(quiet=True)

    def problem(self) -> str | None:
        """Why this row cannot be saved as it is (a done exercise with a zero dose), or None."""
        if not self.done.value:
            return None
        for name, box in self.inputs.items():
            if box.value < 1:
                return (
                    f"{self.exercise.name}: {DOSE_LABELS[name]} is 0. Enter what you did "
                    f"(1 to {box.max}), or untick it."
                )
        return None

    def item(self) -> SessionItem:
        """What was done, as a SessionItem (doses only for a done exercise)."""
        p = self.prescription
        if not self.done.value:
            return SessionItem(p.exercise_id, False)
        doses = {name: self.inputs[name].value for name in DOSE_FIELDS if name in self.inputs}
        sets = self.inputs["sets"].value if "sets" in self.inputs else p.sets
        return SessionItem(p.exercise_id, True, sets=sets, **doses)

    def load(self, item: SessionItem | None) -> None:
        """Show a stored item (None: not done, prescribed dose)."""
        self.reset()
        if item is None:
            return
        for name, box in self.inputs.items():
            value = getattr(item, name)
            if value is not None:
                box.value = min(int(value), box.max)
        self.done.value = bool(item.done)

    def reset(self) -> None:
        """Untick and put the prescribed dose back."""
        self.stop_timer()
        self.done.value = False
        p = self.prescription
        for name, box in self.inputs.items():
            box.value = getattr(p, name)
        self.timer_label.value = ""

    def close(self) -> None:
        """Stop the timer and close the widgets."""
        self.stop_timer()
        widgets = [
            self.done,
            self.dosage,
            *self.inputs.values(),
            self.details,
            self.timer_label,
            self.timer_button,
            *self.widget.children,
            self.widget,
        ]
        for w in widgets:
            if w is not None:
                w.close()


# ---- the view ----------------------------------------------------------------------------
@dataclass(frozen=True)
class Draft:
    """What the form holds, in the shape the store takes (compared to spot unchanged saves)."""

    items: tuple[SessionItem, ...]
    pain_before: int | None
    pain_after: int | None
    notes: str
    red_flags: tuple[str, ...]


class _Refused(Exception):
    """Input the view refuses before asking the store (message is for the user)."""


class _TimerOptions(TypedDict):
    """How each exercise row's hold timer runs (see TodayView)."""

    scheduler: Scheduler | Callable[[], Scheduler] | None
    tick: float
    switch_s: float
    get_ready_s: float
    signal: HoldSignal | None


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class TodayView:
    """Today's checklist for one patient and day; display it in a notebook or a Voila app.

    patient_id: default the store's only patient, else $BACKCARE_PATIENT, else a dropdown.
    day: default today in the patient's time zone. scheduler/tick/switch_s/get_ready_s drive
    the hold timer (default: the kernel's asyncio loop, 1 s ticks, 5 s to switch sides, a 3 s
    get-ready count; its sound, vibration and mute switch: ui.hold_timer); now returns the
    current UTC time (tests inject both)."""

    def __init__(
        self,
        store: Store,
        patient_id: str | None = None,
        day: dt.date | None = None,
        *,
        scheduler: Scheduler | Callable[[], Scheduler] | None = None,
        tick: float = 1.0,
        switch_s: float = 5.0,
        get_ready_s: float = GET_READY_S,
        now: Callable[[], dt.datetime] = _utcnow,
    ) -> None:
        self.store = store
        self._now = now
        self.hold_signal = HoldSignal()
        self._timer_opts: _TimerOptions = {
            "scheduler": scheduler,
            "tick": tick,
            "switch_s": switch_s,
            "get_ready_s": get_ready_s,
            "signal": self.hold_signal,
        }
        self.rows: list[ExerciseRow] = []
        self.programme: Programme | None = None
        self.session_id: str = new_id()
        self._saved: Draft | None = None
        self._started_at: dt.datetime | None = None
        self._ended_at: dt.datetime | None = None
        self._extra_items: tuple[SessionItem, ...] = ()
        self._pending_pain: dict[str, Any] | None = None
        self._loading = False
        self._initial_day = day

        self.title = W.HTML(_CSS)
        # keyboard users reach Save in two Tab presses: the skip link, Enter, then Tab
        self._save_anchor = f"backcare-save-{new_id()[:12]}"
        self.skip_link = W.HTML(
            f'<a class="backcare-skip" href="#{self._save_anchor}">Skip to Save</a>',
            layout=W.Layout(margin="0"),
        )
        self.heading = W.HTML()
        self.red_flag_alert = W.HTML()  # the warning signs' message, on its own, above all else
        self.advice = W.HTML(message_html("info", "Before you start", [CONSULT_ADVICE]))
        self.patient_label = W.HTML()
        self.patient = PatientPicker(
            prompt="Choose a patient", layout=W.Layout(width="340px", display="none")
        )
        self.date = W.DatePicker(
            description="Day",
            style={"description_width": "40px"},
            layout=W.Layout(width="230px", max_width="100%"),
        )
        self.status = W.HTML()
        self.new_session_button = W.Button(
            description="Start another session",
            icon="plus",
            layout=W.Layout(width="auto", display="none"),
        )
        self.exercise_box = W.VBox()
        self.pain_before = PainInput("Pain before")
        self.pain_after = PainInput("Pain after")
        self.red_flags = {
            code: W.Checkbox(
                value=False, description=text, indent=False, layout=W.Layout(width="100%")
            )
            for code, text in RED_FLAGS.items()
        }
        self.red_flag_message = W.HTML()
        self.notes = W.Textarea(
            description="Notes",
            placeholder="How did it go? (optional)",
            style={"description_width": "110px"},
            layout=W.Layout(width="100%", max_width="560px", height="auto", min_height="70px"),
        )
        self.save_button = ActionButton(
            description="Save",
            button_style="primary",
            icon="check",
            tooltip="Save this session",
            classes=["backcare-save"],
        )
        self.message = W.HTML()

        self.quick_pain = PainInput("Pain now")
        self.quick_context = W.Dropdown(
            description="When",
            options=[("(no context)" if c == "" else c, c) for c in PAIN_CONTEXTS],
            value="",
            style={"description_width": "110px"},
            layout=W.Layout(width="300px", max_width="100%"),
        )
        self.quick_button = ActionButton(description="Record pain", icon="pencil")
        self.quick_message = W.HTML()
        self.quick_box = Disclosure(
            W.VBox(
                [
                    W.HTML(
                        '<div style="color:#5f6368">No exercise today? '
                        "Record a pain score on its own; "
                        "it is kept apart from sessions.</div>"
                    ),
                    self.quick_pain.widget,
                    self.quick_context,
                    self.quick_button,
                    self.quick_message,
                ]
            ),
            "Quick pain entry (no session)",
        )
        # the weekly questions' form (140 widgets) is built when first opened: most page
        # loads never open it, and every widget built is one more for the page to load
        self._questionnaire: QuestionnaireForm | None = None
        self._questionnaire_now = now
        self._questions_for: tuple[str | None, dt.date | None] = (None, None)
        self.questions_box = Disclosure(lambda: self.questionnaire.widget, QUESTIONS_TITLE)

        self.reminder_time = W.Dropdown(
            description="At",
            options=[f"{h:02d}:{m:02d}" for h in range(6, 23) for m in (0, 30)],
            value="18:00",
            style={"description_width": "30px"},
            layout=W.Layout(width="140px"),
        )
        self.reminder_button = W.Button(
            description="Reminders for my calendar",
            icon="calendar",
            tooltip="Make a calendar file (.ics) with a reminder for each exercise day",
            layout=W.Layout(width="auto"),
        )
        self.reminder_link = W.HTML()
        self.reminder_box = W.HBox(
            [self.reminder_button, self.reminder_time, self.reminder_link],
            layout=W.Layout(align_items="center", flex_flow="row wrap", display="none"),
        )
        self.reminder_box.add_class("backcare-reminders")
        self.reminder_button.on_click(
            lambda _b: callback_boundary(
                self.make_reminders, self.reminder_link, "Cannot make the reminders"
            )
        )
        self.reminder_time.observe(
            lambda _ch: (
                callback_boundary(
                    self.make_reminders, self.reminder_link, "Cannot make the reminders"
                )
                if self.reminder_link.value
                else None
            ),
            "value",
        )

        for box in self.red_flags.values():
            box.observe(self._red_flags_changed, "value")
        # what the pickers and buttons start goes through the views' one catch-all
        self.patient.observe(
            lambda ch: callback_boundary(
                lambda: self._patient_changed(ch), self.status, "Cannot open this patient"
            ),
            "value",
        )
        self.date.observe(
            lambda ch: callback_boundary(
                lambda: self._date_changed(ch), self.status, "Cannot open this day"
            ),
            "value",
        )
        self.save_button.on_click(
            lambda _b: callback_boundary(self.save, self.message, "Saving did not finish")
        )
        self.new_session_button.on_click(lambda _b: self.start_new_session())
        self.quick_button.on_click(
            lambda _b: callback_boundary(
                self.record_pain, self.quick_message, "Recording did not finish"
            )
        )

        self.form = W.VBox(
            [
                self.exercise_box,
                W.HTML(
                    "<h3 style='margin:10px 0 4px'>Pain (0 = no pain, 10 = worst imaginable)</h3>"
                ),
                self.pain_before.widget,
                self.pain_after.widget,
                W.HTML(
                    "<h3 style='margin:10px 0 4px'>Warning signs</h3>"
                    "<div>Tick any of these that is <b>new or getting worse</b>:</div>"
                ),
                W.VBox(list(self.red_flags.values())),
                self.red_flag_message,
                self.notes,
                W.HTML(f'<span id="{self._save_anchor}" tabindex="-1"></span>'),
                W.HBox([self.save_button]),
                self.message,
            ]
        )
        self.widget = W.VBox(
            [
                self.title,
                self.skip_link,
                self.heading,
                self.red_flag_alert,
                self.advice,
                W.HBox(
                    [self.patient_label, self.patient, self.date],
                    layout=W.Layout(align_items="center", flex_flow="row wrap"),
                ),
                W.HBox(
                    [self.status, self.new_session_button],
                    layout=W.Layout(align_items="center", flex_flow="row wrap"),
                ),
                self.form,
                self.quick_box,
                self.questions_box,
                self.reminder_box,
            ],
            layout=W.Layout(max_width="980px", width="100%"),
        )
        self.save_button.wait_for(self.widget)
        self.quick_button.wait_for(self.widget)
        self.widget.add_class("backcare-today")

        self._choose_patient(patient_id, day)

    # ---- display -------------------------------------------------------------------------
    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        return self.widget._repr_mimebundle_(**kwargs)

    # ---- patient and day -----------------------------------------------------------------
    @property
    def patient_id(self) -> str | None:
        """The patient the view is showing, or None until one is chosen."""
        return self.patient.value

    @property
    def day(self) -> dt.date | None:
        """The day the session counts for."""
        return self.date.value

    def row(self, exercise_id: str) -> ExerciseRow:
        """The row of one exercise (KeyError if it is not in the programme shown)."""
        for r in self.rows:
            if r.exercise.id == exercise_id:
                return r
        raise KeyError(exercise_id)

    def _choose_patient(self, requested: str | None, day: dt.date | None) -> None:
        try:
            names = patient_names(self.store)
        except STORE_ERRORS as exc:  # shown as a message, never a traceback
            self._fail(self.status, "Cannot read the store", exc)
            self._set_form_enabled(False)
            return
        problem = ""
        chosen: str | None = None
        pinned = False
        env = os.environ.get(PATIENT_ENV, "").strip()
        private = os.environ.get(PRIVATE_ENV, "") == "1"
        if requested is not None:
            if requested in names:
                chosen, pinned = requested, True
            else:
                problem = f"Patient {requested!r} is not in this store"
        elif len(names) == 1:
            chosen, pinned = next(iter(names)), True
        elif env:
            if env in names:
                chosen, pinned = env, True
            else:
                problem = f"{PATIENT_ENV}={env!r} is not a patient in this store"
        if pinned and chosen is not None:
            # the page holds this patient only: a hidden dropdown's options still reach it
            self._offer({chosen: names[chosen]}, chosen)
            self.patient_label.value = (
                f'<div class="backcare-patient" style="margin-right:16px">Patient: '
                f"<b>{esc(names[chosen] or chosen)}</b></div>"
            )
            self.patient.layout.display = "none"
        elif private and names:
            # the app (backcare app) never lists patients: it names its one patient at start
            self._offer({})
            self.patient_label.value = ""
            self.patient.layout.display = "none"
            self.status.value = message_html(
                "warning",
                (problem + "." if problem else "This app shows one person's checklist."),
                ["Start it for one patient: backcare app --patient ID"],
            )
            self._set_form_enabled(False)
            return
        else:
            self._offer(names)
            if problem:
                problem += "; choose one from the list."
            self.patient_label.value = ""
            self.patient.layout.display = None
        if not names:
            self.status.value = message_html(
                "warning",
                "No patients in this store yet",
                ["Add one with store.add_patient(...), or try the demo: backcare demo"],
            )
            self._set_form_enabled(False)
            return
        if chosen is None:
            self._set_form_enabled(False)
            self.status.value = message_html(
                "warning" if problem else "info",
                problem or "Choose a patient to see their exercises.",
            )
            return
        self._loading = True
        try:
            self.patient.value = chosen
        finally:
            self._loading = False
        self._open(chosen, day)

    def _offer(self, names: dict[str, str], value: str | None = None) -> None:
        """Put names in the dropdown (and value) without opening anyone yet."""
        self._loading = True
        try:
            self.patient.set_names(names, value)
        finally:
            self._loading = False

    def _patient_changed(self, change: dict) -> None:
        if self._loading:
            return
        if change["new"] is None:
            self._clear_rows()
            self._set_form_enabled(False)
            self.status.value = message_html("info", "Choose a patient to see their exercises.")
            return
        self._open(change["new"], self.date.value or self._initial_day)

    def _date_changed(self, change: dict) -> None:
        if self._loading or self.patient_id is None:
            return
        if change["new"] is None:
            self._clear_rows()
            self._set_form_enabled(False)
            self.status.value = message_html("info", "Choose a day.")
            return
        self._open(self.patient_id, change["new"])

    def local_today(self) -> dt.date:
        """Today in the shown patient's time zone."""
        return self._now().astimezone(self.store.patient_timezone(self._shown_patient())).date()

    def _shown_patient(self) -> str:
        """The patient shown (NotFoundError while none is chosen)."""
        if self.patient_id is None:
            raise NotFoundError("patient_id", None, "a patient chosen in the list")
        return self.patient_id

    def _open(self, patient_id: str, day: dt.date | None) -> None:
        """Show patient_id's programme on day (default today); load a session saved that day."""
        self.message.value = ""
        self.quick_message.value = ""
        try:
            today = self._now().astimezone(self.store.patient_timezone(patient_id)).date()
            asked, day = day, min(day or today, today)
            self._loading = True
            try:
                self.date.max = today
                self.date.value = day
            finally:
                self._loading = False
            self.programme = self.store.programme_on(patient_id, day)
            existing = self.store.sessions(patient_id, day, day)
            session = None
            if len(existing):
                latest = existing.sort_values(["created_at", "session_id"]).iloc[-1]
                session = self.store.get_session(str(latest["session_id"]))
        except STORE_ERRORS as exc:
            self._clear_rows()
            self._set_form_enabled(False)
            self._fail(self.status, "Cannot open this day", exc)
            return
        self._build_rows()
        self._reset_form()
        self._set_form_enabled(True)
        self.heading.value = f'<h2 class="backcare-day">{esc(day_heading(day, today))}</h2>'
        self.reminder_link.value = ""
        self.reminder_box.layout.display = None if self.programme is not None else "none"
        notes = []
        if asked is not None and asked > today:
            notes.append(
                message_html(
                    "warning",
                    f"{asked:%A %d %B %Y} is in the future.",
                    [f"Showing today, {today:%A %d %B}, instead."],
                )
            )
        if self.programme is None:
            notes.append(
                message_html(
                    "warning",
                    f"No programme is prescribed for {day:%A %d %B %Y}.",
                    ["You can still record pain. Ask your physiotherapist to set up a programme."],
                )
            )
        if session is not None:
            self._load_session(session, len(existing))
            when = session.ended_at or session.started_at
            at = (
                f" at {when.astimezone(self.store.patient_timezone(patient_id)):%H:%M}"
                if when
                else ""
            )
            more = (
                f" ({len(existing)} sessions that day; showing the latest)"
                if len(existing) > 1
                else ""
            )
            notes.append(
                message_html(
                    "info",
                    f"You already saved a session for this day{at}{more}.",
                    [
                        "It is shown below: saving again updates it. To record a separate session, "
                        "press 'Start another session'."
                    ],
                )
            )
            self.new_session_button.layout.display = None
        else:
            self.new_session_button.layout.display = "none"
        self.status.value = "".join(notes)
        self._open_questions(patient_id, day)

    @property
    def questionnaire(self) -> QuestionnaireForm:
        """The weekly questions' form for the patient and day shown, built on first use."""
        if self._questionnaire is None:
            self._questionnaire = QuestionnaireForm(self.store, now=self._questionnaire_now)
            self._questionnaire.open(*self._questions_for)
        return self._questionnaire

    def _open_questions(self, patient_id: str, day: dt.date) -> None:
        """Point the questionnaire form at the patient and day; its title says what is due."""
        self._questions_for = (patient_id, day)
        if self._questionnaire is not None:
            due = self._questionnaire.open(patient_id, day)
        else:  # the form is not built: read what is due (the form shows a read error, if any)
            try:
                due = questionnaires_due(self.store.questionnaires(patient_id, None, day), day)
            except STORE_ERRORS:
                due = []
        names = ", ".join(INSTRUMENTS[i].short for i in due)
        self.questions_box.set_title(
            0, f"{QUESTIONS_TITLE} (due: {names})" if due else f"{QUESTIONS_TITLE} (all answered)"
        )

    def _build_rows(self) -> None:
        self._clear_rows()
        rows = []
        if self.programme is not None:
            for p in self.programme.items:
                if p.exercise_id not in self.store.catalog:
                    continue
                row = ExerciseRow(self.store.catalog[p.exercise_id], p, **self._timer_opts)
                row.done.observe(self._touched, "value")
                rows.append(row)
        self.rows = rows
        if rows:
            timed = [self.hold_signal] if any(r.timer for r in rows) else []
            self.exercise_box.children = [
                W.HTML(f"<h3 style='margin:10px 0 4px'>Exercises ({len(rows)})</h3>"),
                *timed,
                *[r.widget for r in rows],
            ]
        else:
            self.exercise_box.children = []

    def make_reminders(self) -> bytes | None:
        """Show a download link for the shown programme's reminders (backcare.reminders) at the
        chosen time, starting today; return the file (None while no programme is shown).

        Made on demand: importing icalendar would slow every page load."""
        programme, pid = self.programme, self.patient_id
        if programme is None or pid is None:
            self.reminder_link.value = ""
            return None
        from backcare.reminders import calendar_for, parse_time

        tz = self.store.patient_timezone(pid)
        data = calendar_for(
            programme,
            self.store.catalog,
            str(tz),
            at=parse_time(self.reminder_time.value),
            start=self._now().astimezone(tz).date(),
        )
        href = "data:text/calendar;charset=utf-8;base64," + base64.b64encode(data).decode()
        self.reminder_link.value = (
            f'<a class="backcare-reminders-download" download="back-exercises.ics" '
            f'href="{href}" style="margin-left:8px;padding:4px 10px;border:1px solid #1a73e8;'
            'border-radius:4px;text-decoration:none;color:#1a73e8">'
            "Download reminders (.ics)</a>"
        )
        return data

    def _clear_rows(self) -> None:
        self.reminder_box.layout.display = "none"
        for r in self.rows:
            r.close()
        self.rows = []
        self.exercise_box.children = []

    def _set_form_enabled(self, enabled: bool) -> None:
        if not enabled:
            self.heading.value = ""
        self.form.layout.display = None if enabled else "none"
        self.quick_box.layout.display = None if enabled else "none"
        self.save_button.disabled = not enabled
        self.quick_button.disabled = not enabled
        self.questions_box.layout.display = None if enabled else "none"
        if not enabled:  # no patient or day shown: the questions cannot be saved for anyone
            self._questions_for = (None, None)
            if self._questionnaire is not None:
                self._questionnaire.open(None, None)

    def _reset_form(self) -> None:
        for r in self.rows:
            r.reset()
        self.pain_before.set(None)
        self.pain_after.set(None)
        for box in self.red_flags.values():
            box.value = False
        self.notes.value = ""
        self.quick_pain.set(None)
        self.quick_context.value = ""
        self.session_id = new_id()
        self._saved = None
        self._started_at = self._ended_at = None
        self._extra_items = ()
        self._pending_pain = None

    def _load_session(self, session: Any, count: int) -> None:
        by_id = {it.exercise_id: it for it in session.items}
        shown = {r.exercise.id for r in self.rows}
        for r in self.rows:
            r.load(by_id.get(r.exercise.id))
        self._extra_items = tuple(it for it in session.items if it.exercise_id not in shown)
        self.pain_before.set(session.pain_before)
        self.pain_after.set(session.pain_after)
        for code, box in self.red_flags.items():
            box.value = code in session.red_flags
        self.notes.value = session.notes
        self.session_id = session.session_id
        self._started_at, self._ended_at = session.started_at, session.ended_at
        self._saved = self.draft()
        self._red_flags_changed()

    def start_new_session(self) -> None:
        """Clear the form for a separate session on the same day (a fresh session id)."""
        self._reset_form()
        self.new_session_button.layout.display = "none"
        self.status.value = message_html("info", "New session: tick what you do, then Save.")
        self.message.value = ""

    def _touched(self, change: dict) -> None:
        if change["new"] and self._started_at is None and self._is_today():
            self._started_at = self._now()

    def _is_today(self) -> bool:
        try:
            return self.patient_id is not None and self.day == self.local_today()
        except STORE_ERRORS:
            return False

    def _red_flags_changed(self, change: dict | None = None) -> None:
        """Show the warning signs' message on its own at the top of the view (saved or not),
        and a pointer to it beside the boxes; nothing while no box is ticked."""
        codes = tuple(sorted(c for c, box in self.red_flags.items() if box.value))
        if not codes:
            self.red_flag_alert.value = self.red_flag_message.value = ""
            return
        ticked = [RED_FLAGS[c] for c in codes]
        if self._saved is not None and self._saved.red_flags == codes:
            self.red_flag_alert.value = message_html(
                "error",
                "Saved with warning signs: stop and contact a clinician today.",
                [
                    RED_FLAG_MESSAGE,
                    "Saved in your diary: "
                    + "; ".join(ticked)
                    + ". backcare does not alert anyone: tell your clinician yourself.",
                ],
            )
        else:
            self.red_flag_alert.value = message_html(
                "error",
                "Stop and contact a clinician today.",
                [RED_FLAG_MESSAGE],
                trusted="<div>You ticked:</div><ul>"
                + "".join(f"<li>{esc(t)}</li>" for t in ticked)
                + "</ul><div>Save the session so your physiotherapist sees it.</div>",
            )
        self.red_flag_message.value = (
            '<div class="backcare-red-flag-pointer" style="color:#c5221f;font-weight:bold;'
            'margin:4px 0">Stop and contact a clinician today: read the red message at the '
            "top of the page.</div>"
        )

    # ---- saving --------------------------------------------------------------------------
    def draft(self) -> Draft:
        """What the form holds now, as the store would take it."""
        items = tuple(
            sorted(
                [*(r.item() for r in self.rows), *self._extra_items], key=lambda it: it.exercise_id
            )
        )
        return Draft(
            items=items,
            pain_before=self.pain_before.value,
            pain_after=self.pain_after.value,
            notes=self.notes.value.strip(),
            red_flags=tuple(sorted(c for c, box in self.red_flags.items() if box.value)),
        )

    def _check(self) -> tuple[str, dt.date, Draft]:
        """The patient, the day and the form's draft, or _Refused saying what is missing."""
        patient_id, day = self.patient_id, self.day
        if patient_id is None:
            raise _Refused("Choose a patient first.")
        if day is None:
            raise _Refused("Choose the day this session counts for.")
        if day > self.local_today():
            raise _Refused(f"{day:%d %B %Y} is in the future: choose today or an earlier day.")
        for r in self.rows:
            problem = r.problem()
            if problem:
                raise _Refused(problem)
        d = self.draft()
        if (
            not any(it.done for it in d.items)
            and d.pain_before is None
            and d.pain_after is None
            and not d.red_flags
        ):
            raise _Refused("Nothing to save yet: tick an exercise you did, or record your pain.")
        return patient_id, day, d

    def save(self) -> str | None:
        """Validate and save the session (one transaction); return its id, or None if refused."""
        self.save_button.disabled = True
        try:
            return self._save()
        finally:
            self.save_button.disabled = False

    def _save(self) -> str | None:
        try:
            patient_id, day, d = self._check()
        except _Refused as exc:
            self.message.value = message_html("error", "Not saved", [str(exc)])
            return None
        except STORE_ERRORS as exc:
            self._fail(self.message, "Not saved", exc)
            return None
        if self._saved == d:
            glance_lines, strip = self._glance()
            self.message.value = message_html(
                "info", "Already saved: nothing has changed since.", glance_lines, trusted=strip
            )
            return self.session_id
        update = self._saved is not None
        now = self._now()
        today = self._is_today()
        started = self._started_at or (now if today and not update else None)
        ended = self._ended_at or (now if today else None)
        if started and ended and ended < started:
            ended = started
        try:
            self.store.save_session(
                patient_id,
                d.items,
                day=day,
                pain_before=d.pain_before,
                pain_after=d.pain_after,
                notes=d.notes,
                red_flags=d.red_flags,
                started_at=started,
                ended_at=ended,
                session_id=self.session_id,
                replace=update,
            )
        except STORE_ERRORS as exc:
            self._fail(self.message, "Not saved", exc, nothing_saved=True)
            return None
        self._saved = d
        self._started_at, self._ended_at = started, ended
        self.new_session_button.layout.display = None
        done = [r.exercise.name for r in self.rows if r.done.value]
        lines = [
            f"{len(done)} of {len(self.rows)} exercises done"
            + (f": {', '.join(done)}." if done else "."),
        ]
        if d.pain_before is not None or d.pain_after is not None:
            pb = "-" if d.pain_before is None else d.pain_before
            pa = "-" if d.pain_after is None else d.pain_after
            lines.append(f"Pain before {pb}, after {pa} (0-10).")
        if d.notes:
            lines.append(f"Notes: {d.notes}")
        glance_lines, strip = self._glance()
        lines += glance_lines
        title = (
            f"Updated your session for {day:%A %d %B}."
            if update
            else f"Saved your session for {day:%A %d %B}."
        )
        if d.red_flags:  # the warning itself stands on its own at the top (_red_flags_changed)
            lines.append("Warning signs saved: read the red message at the top of the page.")
        self._red_flags_changed()
        self.message.value = message_html("success", title, lines, trusted=strip)
        return self.session_id

    def progress(self) -> WeekProgress:
        """This week's progress for the shown patient and day (read from the store)."""
        if self.day is None:
            raise NotFoundError("day", None, "a day chosen in the calendar")
        return services.week_progress(self.store, self._shown_patient(), self.day)

    def _glance(self) -> tuple[list[str], str]:
        """This week at a glance (services.week_glance): its sentences and the strip of the
        last 7 days (ui.week) as HTML."""
        try:
            if self.day is None:
                raise NotFoundError("day", None, "a day chosen in the calendar")
            g = services.week_glance(self.store, self._shown_patient(), self.day)
        except STORE_ERRORS as exc:  # the save stands; progress is a bonus
            log.debug("progress failed", exc_info=True)
            return [f"(This week's progress could not be read: {one_line(exc)})"], ""
        return week_progress_lines(g.progress), strip_block_html(g)

    # ---- quick pain entry ----------------------------------------------------------------
    def record_pain(self) -> str | None:
        """Store the quick pain score (no session); a repeat click with one score is a no-op."""
        self.quick_button.disabled = True
        try:
            return self._record_pain()
        finally:
            self.quick_button.disabled = False

    def _record_pain(self) -> str | None:
        score = self.quick_pain.value
        if self.patient_id is None:
            self.quick_message.value = message_html(
                "error", "Not recorded", ["Choose a patient first."]
            )
            return None
        if score is None:
            self.quick_message.value = message_html(
                "error", "Not recorded", ["Choose your pain score first (0 = no pain)."]
            )
            return None
        try:
            if self.day is None or self.day > self.local_today():
                raise _Refused("Choose today or an earlier day.")
            key = (self.patient_id, self.day, score, self.quick_context.value)
            pending = self._pending_pain
            if pending is None or pending["key"] != key:
                pending = {"key": key, "pain_id": new_id(), "recorded_at": self._now()}
            self.store.add_pain(
                self.patient_id,
                score,
                recorded_at=pending["recorded_at"],
                context=self.quick_context.value,
                day=self.day,
                pain_id=pending["pain_id"],
            )
        except _Refused as exc:
            self.quick_message.value = message_html("error", "Not recorded", [str(exc)])
            return None
        except STORE_ERRORS as exc:
            self._fail(self.quick_message, "Not recorded", exc, nothing_saved=True)
            return None
        again = self._pending_pain is not None and self._pending_pain["key"] == key
        self._pending_pain = pending
        title = (
            f"Already recorded: pain {score} / 10 for {self.day:%A %d %B}."
            if again
            else f"Recorded pain {score} / 10 for {self.day:%A %d %B}."
        )
        self.quick_message.value = message_html("success", title)
        return pending["pain_id"]

    # ---- errors --------------------------------------------------------------------------
    def _fail(
        self, target: W.HTML, title: str, exc: BaseException, *, nothing_saved: bool = False
    ) -> None:
        """Show exc as a readable message in target (never a traceback)."""
        log.debug("%s", title, exc_info=True)
        if isinstance(exc, NotFoundError):
            text = f"Not found: {exc}"
        elif isinstance(exc, BackcareError):
            text = str(exc)
        else:
            text = f"The store could not be used ({type(exc).__name__}: {one_line(exc)})."
        lines = [text]
        if nothing_saved:
            lines.append("Nothing was saved; you can try again.")
        target.value = message_html("error", title, lines)
