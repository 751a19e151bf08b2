"""The questionnaire form (RMDQ, PSFS, GROC) shared by the today view and the physio view.

``QuestionnaireForm(store)`` answers one instrument for one patient and day: RMDQ as 24
numbered tick boxes with short topics (the licensed wording is not shipped: see
backcare.domain.questionnaires), PSFS as up to 5 activities with a 0-10 rating each (the
activities of the patient's last PSFS are filled in, so the same ones are rated again), GROC
as one choice from -7 to +7. Save validates and writes through Store.save_questionnaire; a
second click with the same answers writes nothing, a changed answer the same day replaces it.
Errors are shown as one-line messages; nothing here runs on building except reads.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Callable
from typing import Any

import ipywidgets as W

from backcare.analysis.questionnaires import questionnaires_due
from backcare.domain.questionnaires import (
    GROC,
    GROC_ANCHORS,
    INSTRUMENTS,
    PSFS,
    PSFS_MAX_ACTIVITIES,
    RMDQ,
    RMDQ_TOPICS,
)
from backcare.domain.session import new_id
from backcare.errors import BackcareError
from backcare.present.html import esc, message_html
from backcare.store import STORE_ERRORS, Store
from backcare.ui.buttons import ActionButton
from backcare.ui.widgets import callback_boundary, one_line

log = logging.getLogger(__name__)

NOT_RATED = "-"


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class QuestionnaireForm:
    """A form answering one questionnaire for one patient and day; ``widget`` is the view.

    on_behalf=False (the patient's app): responses are saved with an empty author. With
    on_behalf=True (the physio view) the form shows a Day picker and an "Entered by" box,
    which must name who enters the answers: that name is recorded as the author. now
    returns the current UTC time (tests inject it)."""

    def __init__(
        self,
        store: Store,
        *,
        on_behalf: bool = False,
        now: Callable[[], dt.datetime] = _utcnow,
    ) -> None:
        self.store = store
        self.on_behalf = on_behalf
        self._now = now
        self.date = W.DatePicker(description="Day", style={"description_width": "40px"})
        self.author = W.Text(
            description="Entered by",
            placeholder="your name (recorded with the answers)",
            style={"description_width": "80px"},
            layout=W.Layout(width="340px"),
        )
        self.date.observe(lambda ch: self._day_picked(ch["new"]), "value")
        self.patient_id: str | None = None
        self.day: dt.date | None = None
        self._pending: dict[str, Any] | None = None

        self.instrument = W.ToggleButtons(
            options=[(INSTRUMENTS[i].short, i) for i in INSTRUMENTS],
            value=RMDQ,
            tooltips=[INSTRUMENTS[i].name for i in INSTRUMENTS],
        )
        self.question = W.HTML()
        self.rmdq = [
            W.Checkbox(
                value=False,
                description=f"{n}. {topic}",
                indent=False,
                layout=W.Layout(width="auto"),
            )
            for n, topic in enumerate(RMDQ_TOPICS, start=1)
        ]
        self.activities = [
            W.Text(placeholder=f"activity {n}", layout=W.Layout(width="300px", max_width="100%"))
            for n in range(1, PSFS_MAX_ACTIVITIES + 1)
        ]
        self.ratings = [
            W.Dropdown(
                options=[(NOT_RATED, None)] + [(str(v), v) for v in range(11)],
                value=None,
                description="0-10",
                style={"description_width": "40px"},
                layout=W.Layout(width="130px"),
            )
            for _ in range(PSFS_MAX_ACTIVITIES)
        ]
        self.groc = W.Dropdown(
            options=[("(choose)", None)] + [(f"{v:+d}  {text}", v) for v, text in GROC_ANCHORS],
            value=None,
            layout=W.Layout(width="340px", max_width="100%"),
        )
        self.save_button = ActionButton(description="Save answers", icon="check")
        self.message = W.HTML()
        self.panels = {
            # three columns on a wide screen, one on a phone
            RMDQ: W.GridBox(
                self.rmdq,
                layout=W.Layout(
                    grid_template_columns="repeat(auto-fill, minmax(min(100%, 260px), 1fr))"
                ),
            ),
            PSFS: W.VBox(
                [
                    W.HBox([a, r], layout=W.Layout(flex_flow="row wrap"))
                    for a, r in zip(self.activities, self.ratings, strict=True)
                ]
            ),
            GROC: self.groc,
        }
        self.body = W.VBox()
        self.widget = W.VBox(
            ([W.HBox([self.date, self.author])] if on_behalf else [])
            + [self.instrument, self.question, self.body, self.save_button, self.message]
        )
        self.save_button.wait_for(self.widget)
        self.instrument.observe(lambda _ch: self._show_instrument(), "value")
        self.save_button.on_click(
            lambda _b: callback_boundary(self.save, self.message, "Saving did not finish")
        )
        self._show_instrument()

    # ---- patient and day ---------------------------------------------------------------
    def open(self, patient_id: str | None, day: dt.date | None) -> list[str]:
        """Show the form for patient_id on day; return the instruments due (weekly).

        Reads only: the patient's responses, to fill in the PSFS activities they named last
        time and to say what is due. A store error is shown as a message (nothing due)."""
        self.patient_id, self.day = patient_id, day
        if self.date.value != day:
            self._opening = True
            try:
                self.date.value = day
            finally:
                self._opening = False
        self.message.value = ""
        self._pending = None
        self.reset()
        if patient_id is None or day is None:
            return []
        try:
            answered = self.store.questionnaires(patient_id, None, day)
        except STORE_ERRORS as exc:
            self._fail("Cannot read earlier answers", exc)
            return []
        psfs = answered[answered["instrument"] == PSFS]
        if len(psfs):
            last = json.loads(str(psfs["answers"].iloc[-1]))
            for box, (activity, _rating) in zip(self.activities, last, strict=False):
                box.value = str(activity)
        return questionnaires_due(answered, day)

    _opening = False

    def _day_picked(self, day: dt.date | None) -> None:
        if not self._opening:
            self.open(self.patient_id, day)

    def reset(self) -> None:
        """Clear every answer (the instrument shown stays)."""
        for box in self.rmdq:
            box.value = False
        for a, r in zip(self.activities, self.ratings, strict=True):
            a.value = ""
            r.value = None
        self.groc.value = None

    def _show_instrument(self) -> None:
        inst = INSTRUMENTS[self.instrument.value]
        note = ""
        if inst.id == RMDQ:
            note = (
                "<div style='color:#5f6368'>Tick the statements of your Roland-Morris form that "
                "apply to you today (shown by number and topic; the form's wording is not "
                "included here).</div>"
            )
        self.question.value = f"<div><b>{esc(inst.name)}</b>: {esc(inst.question)}</div>{note}"
        self.body.children = [self.panels[inst.id]]

    # ---- answers and save --------------------------------------------------------------
    def answers(self) -> Any:
        """The answers on the form for the instrument shown (unchecked; the store checks)."""
        inst = self.instrument.value
        if inst == RMDQ:
            return [box.value for box in self.rmdq]
        if inst == PSFS:
            out = []
            for a, r in zip(self.activities, self.ratings, strict=True):
                if a.value.strip() or r.value is not None:
                    out.append({"activity": a.value, "score": r.value})
            return out
        return self.groc.value

    def save(self) -> str | None:
        """Save the answers shown; return the response id (None and a message if refused)."""
        self.save_button.disabled = True
        try:
            return self._save()
        finally:
            self.save_button.disabled = False

    def _save(self) -> str | None:
        if self.patient_id is None or self.day is None:
            self.message.value = message_html(
                "error", "Not saved", ["Choose a patient and a day first."]
            )
            return None
        author = self.author.value.strip() if self.on_behalf else ""
        if self.on_behalf and not author:
            self.message.value = message_html(
                "error",
                "Not saved",
                ["author: '' is not allowed; expected the name of who enters the answers"],
            )
            return None
        inst = self.instrument.value
        answers = self.answers()
        key = (self.patient_id, self.day, inst, author, json.dumps(answers, default=str))
        pending = self._pending
        if pending is None or pending["key"] != key:
            pending = {"key": key, "response_id": new_id(), "recorded_at": self._now()}
        try:
            rid = self.store.save_questionnaire(
                self.patient_id,
                inst,
                answers,
                day=self.day,
                recorded_at=pending["recorded_at"],
                author=author,
                response_id=pending["response_id"],
                replace=True,
            )
        except STORE_ERRORS as exc:
            self._fail("Not saved", exc, nothing_saved=True)
            return None
        self._pending = pending
        stored = self.store.questionnaires(self.patient_id, self.day, self.day)
        row = stored[stored["instrument"] == inst]
        shown = f"{float(row['score'].iloc[0]):g}" if len(row) else "?"
        self.message.value = message_html(
            "success",
            f"Saved {INSTRUMENTS[inst].short} for {self.day:%A %d %B}: score {shown}.",
        )
        return rid

    def _fail(self, title: str, exc: BaseException, *, nothing_saved: bool = False) -> None:
        log.debug("%s", title, exc_info=True)
        text = (
            str(exc)
            if isinstance(exc, BackcareError)
            else f"The store could not be used ({type(exc).__name__}: {one_line(exc)})."
        )
        lines = [text] + (["Nothing was saved; you can try again."] if nothing_saved else [])
        self.message.value = message_html("error", title, lines)
