"""The pain-trends view: patient and period pickers that redraw the summary and figures.

Reads only (never writes): store -> analysis -> plots. Each section (summary, pain,
questionnaires, calendar, weekly, effect, adherence_pain, suggestions) lives in its own ipywidgets
``Output``, so notebook cells can place them between markdown and a change of patient or
period redraws them in JupyterLab and Voila. The Output contents are set directly (no
kernel capture), so the view is testable without a kernel.

Static mode (``live=False``, or environment variable BACKCARE_STATIC=1): ``show()``
displays plain outputs instead of Output widgets, so nbconvert HTML keeps the figures
without any widget JavaScript.
"""

from __future__ import annotations

import datetime as dt
import os
from typing import Any

import ipywidgets as W
import plotly.graph_objects as go
from IPython.display import HTML, display

from backcare.domain.wording import RED_FLAG_MESSAGE
from backcare.errors import ValidationError
from backcare.present import figures as P
from backcare.present.html import esc, message_html
from backcare.present.html import paragraph as _p
from backcare.present.questionnaires import questionnaires_html
from backcare.present.text import CAVEATS, red_flag_lines, suggestions_html
from backcare.services import PERIODS, TrendsData, load_trends
from backcare.store import STORE_ERRORS, Store
from backcare.ui.widgets import PatientPicker, callback_boundary

SECTIONS = (
    "summary",
    "pain",
    "questionnaires",
    "calendar",
    "weekly",
    "effect",
    "adherence_pain",
    "suggestions",
)


class TrendsView:
    """Patient and period dropdowns plus one Output per section, redrawn on every change."""

    def __init__(
        self,
        store: Store,
        patient_id: str | None = None,
        period: str = "Last 8 weeks",
        *,
        end: dt.date | None = None,
        live: bool | None = None,
    ) -> None:
        self.store = store
        self.end = end
        self.live = (os.environ.get("BACKCARE_STATIC", "") in ("", "0")) if live is None else live
        P.use_offline_renderer()
        self._store_error = ""
        self.patient = PatientPicker(layout=W.Layout(width="24em"), style={})
        try:
            self.patient.load(
                store, patient_id
            )  # an unknown patient_id: ValidationError (a ValueError)
        except ValidationError:
            raise
        except STORE_ERRORS as exc:  # e.g. no store yet, or one that needs upgrading
            self._store_error = f"Could not read the store: {exc}"
        self.period = W.Dropdown(options=list(PERIODS), value=period, description="Period")
        self.outputs = {name: W.Output() for name in SECTIONS}
        self.contents: dict[str, list[Any]] = {name: [] for name in SECTIONS}
        self.data: TrendsData | None = None
        self.patient.observe(self._on_change, names="value")
        self.period.observe(self._on_change, names="value")
        self.redraw()

    @property
    def controls(self) -> W.HBox:
        """The patient and period pickers."""
        return W.HBox([self.patient, self.period])

    @property
    def figures(self) -> dict[str, go.Figure]:
        """The figures currently shown, by section."""
        out = {}
        for name, objs in self.contents.items():
            for obj in objs:
                if isinstance(obj, go.Figure):
                    out[name] = obj
        return out

    def _on_change(self, _change: dict) -> None:
        callback_boundary(self.redraw, self._show_error, "Could not draw this view")

    def _build(self) -> dict[str, list[Any]]:
        if self.patient.value is None:
            self.data = None
            text = self._store_error or "No patients in the store yet."
            return {name: [HTML(_p(text))] if name == "summary" else [] for name in SECTIONS}
        d = load_trends(self.store, self.patient.value, self.period.value, self.end)
        self.data = d
        who = esc(d.name or d.patient_id)
        flags = red_flag_lines(d.red_flag_sessions)
        alarm = (
            message_html(
                "error",
                "Red flags were ticked in this period: contact a clinician",
                [*flags, RED_FLAG_MESSAGE],
            )
            if flags
            else _p("No red flag was ticked in this period.", "red-flags")
        )
        head = (
            alarm
            + f"<h3 style='margin:0.2em 0'>{who}: {d.start:%d %b %Y} to {d.end:%d %b %Y}</h3>"
            + _p(d.summary, "summary")
        )
        cat = self.store.catalog
        figs = P.trend_figures(d, cat)
        return {
            "summary": [HTML(head)],
            **{name: [fig] for name, fig in figs.items()},
            "suggestions": [HTML(suggestions_html(d.suggestions, cat))],
            "questionnaires": [HTML(questionnaires_html(d.questionnaires))],
        }

    def redraw(self) -> None:
        """Recompute everything for the chosen patient and period and refill every section."""
        try:
            built = self._build()
            self.error = self._store_error
        except STORE_ERRORS as exc:  # shown to the user instead of a silent blank page
            self._show_error(f"Could not draw this view: {exc}")
            return
        self._fill(built)

    def _show_error(self, text: str) -> None:
        """Show text (plain) in place of the summary; the other sections are emptied."""
        self.error = text
        self._fill({name: [HTML(_p(text))] if name == "summary" else [] for name in SECTIONS})

    def _fill(self, built: dict[str, list[Any]]) -> None:
        for name in SECTIONS:
            objs = built[name]
            if name in CAVEATS and objs:
                objs = [*objs, HTML(_p(CAVEATS[name], "caveat"))]
            self.contents[name] = objs
            if self.live:  # static mode shows plain outputs; no need to fill the widgets
                self.outputs[name].outputs = tuple(_output(o) for o in objs)

    def show(self, name: str) -> None:
        """Display one section: its Output widget (live) or its plain outputs (static)."""
        if name not in SECTIONS:
            raise ValueError(f"name: {name!r} is not one of {', '.join(SECTIONS)}")
        if self.live:
            display(self.outputs[name])
        else:
            for obj in self.contents[name]:
                display(obj)


def _output(obj: Any) -> dict[str, Any]:
    """A display_data output dict for an Output widget's `outputs` trait."""
    if isinstance(obj, go.Figure):
        data = dict(obj._repr_mimebundle_())
        data.setdefault("text/plain", "<Figure>")
    else:
        data = {"text/html": obj.data, "text/plain": "(text)"}
    return {"output_type": "display_data", "data": data, "metadata": {}}
