"""My progress: the app's second view, beside today's checklist, for the same one person.

``PatientApp(store)`` shows two buttons, "Today" and "My progress" (ViewSwitch: real
<button>s whose aria-pressed says which view is shown; ipywidgets' ToggleButtons say it by
colour only). "Today" is the
checklist (ui.today.TodayView); "My progress" shows, for the checklist's patient only (the
app never offers another), the plain-words summary of the trends notebook, this week at a
glance with the recent weeks as rows of 7 days (ui.week), and the pain chart, drawn by the
same functions as the trends notebook and the report (services.load_trends,
present.text.summarise, present.figures.pain_chart, which trend_figures draws too). Nobody
needs JupyterLab to see whether things are improving.

Reads only. The progress view is computed when it is opened (and again each time, so a
session saved a moment ago is in it), never while the page loads: plotly is imported then.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

import anywidget
import ipywidgets as W
import traitlets

from backcare import services
from backcare.domain.wording import RED_FLAG_MESSAGE
from backcare.present.html import message_html
from backcare.present.html import paragraph as _p
from backcare.store import STORE_ERRORS, Store
from backcare.ui._static import static_text
from backcare.ui.today import TodayView
from backcare.ui.week import glance_html
from backcare.ui.widgets import callback_boundary, one_line

__all__ = ["GRID_WEEKS", "PERIOD", "PatientApp", "ProgressView", "ViewSwitch"]

log = logging.getLogger(__name__)

PERIOD = services.DEFAULT_PERIOD  # the summary's and the chart's period ("Last 8 weeks")
GRID_WEEKS = 6  # calendar weeks in the grid of day statuses
TODAY, PROGRESS = "Today", "My progress"

_CSS = """<style>
.backcare-progress { max-width: 980px; }
.backcare-progress .backcare-text { line-height: 1.4; }
</style>"""


class ProgressView:
    """One person's progress: summary, week at a glance and recent weeks, pain chart."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.patient_id: str | None = None
        self.day: dt.date | None = None
        self.data: services.TrendsData | None = None
        self.glance: services.WeekGlance | None = None
        self.figure: Any = None
        self.heading = W.HTML(_CSS)
        self.summary = W.HTML()
        self.week = W.HTML()
        self.chart = W.Output(layout=W.Layout(width="100%"))
        self.caveat = W.HTML()
        self.widget = W.VBox(
            [self.heading, self.summary, self.week, self.chart, self.caveat],
            layout=W.Layout(width="100%"),
        )
        self.widget.add_class("backcare-progress")

    def show(self, patient_id: str | None, day: dt.date | None) -> None:
        """Read and draw patient_id's progress up to day (their today); a message if none."""
        self.patient_id, self.day = patient_id, day
        self.data = self.glance = self.figure = None
        self.chart.outputs = ()
        self.caveat.value = self.week.value = ""
        self.heading.value = _CSS + "<h2 style='margin:8px 0 4px'>My progress</h2>"
        self.summary.value = message_html("info", "Reading your progress…")
        if patient_id is None or day is None:
            self.summary.value = message_html("info", "Choose a patient on the Today view first.")
            return
        try:
            self.data = services.load_trends(self.store, patient_id, PERIOD, day)
            self.glance = services.week_glance(self.store, patient_id, day, weeks=GRID_WEEKS)
        except STORE_ERRORS as exc:
            log.debug("progress failed", exc_info=True)
            self.summary.value = message_html(
                "error", "Cannot show your progress", [f"{one_line(exc)}"]
            )
            return
        self._draw()

    def _draw(self) -> None:
        from backcare.present import figures as P
        from backcare.present.text import CAVEATS, red_flag_lines

        d, g = self.data, self.glance
        assert d is not None and g is not None
        flags = red_flag_lines(d.red_flag_sessions)
        alarm = (
            message_html(
                "error",
                "Warning signs were ticked in this period: contact a clinician",
                [*flags, RED_FLAG_MESSAGE],
            )
            if flags
            else ""
        )
        self.summary.value = (
            alarm
            + f"<h3 style='margin:6px 0 2px'>{d.start:%d %b %Y} to {d.end:%d %b %Y}</h3>"
            + _p(d.summary, "summary")
        )
        self.week.value = "<h3 style='margin:10px 0 2px'>Your weeks</h3>" + glance_html(
            g, grid=True
        )
        fig = P.pain_chart(d)  # trend_figures' "pain": the trends notebook's chart
        # a phone-sized layout: the chart follows the width it is given
        fig.update_layout(autosize=True, width=None, margin={"l": 40, "r": 10, "t": 50})
        self.figure = fig
        self.chart.outputs = (_figure_output(fig),)
        self.caveat.value = _p(CAVEATS["pain"], "caveat")

    def close(self) -> None:
        """Close the widgets."""
        for w in (self.heading, self.summary, self.week, self.chart, self.caveat, self.widget):
            w.close()


def _figure_output(fig: Any) -> dict[str, Any]:
    """A display_data output of fig drawn by the jupyterlab-plotly extension (JupyterLab and
    Voila), with nothing fetched and no global renderer changed."""
    import plotly.io as pio

    data = dict(pio.renderers["plotly_mimetype"].to_mimebundle(fig.to_dict()))
    data["text/plain"] = "(Pain over time: a chart)"
    return {"output_type": "display_data", "data": data, "metadata": {}}


class ViewSwitch(anywidget.AnyWidget):
    """Buttons choosing one of `options` (value: the chosen one), aria-pressed on the chosen."""

    _esm = static_text("view_switch.js")
    _css = static_text("view_switch.css")
    value = traitlets.Unicode("").tag(sync=True)
    options = traitlets.List(traitlets.Unicode()).tag(sync=True)
    label = traitlets.Unicode("Views").tag(sync=True)

    @traitlets.validate("value")
    def _known(self, proposal: dict[str, Any]) -> str:
        value = str(proposal["value"])
        if self.options and value not in self.options:
            raise traitlets.TraitError(f"value: {value!r} is not one of {self.options}")
        return value


class PatientApp:
    """Today's checklist and My progress for one person, switched by two toggle buttons.

    Takes TodayView's arguments; the progress view always shows the checklist's patient."""

    def __init__(self, store: Store, patient_id: str | None = None, day: Any = None, **kw: Any):
        self.today = TodayView(store, patient_id, day, **kw)
        self.progress = ProgressView(store)
        self.switch = ViewSwitch(options=[TODAY, PROGRESS], value=TODAY, label="Show")
        self.switch.add_class("backcare-app-switch")
        self.message = W.HTML()
        self.progress.widget.layout.display = "none"
        self.switch.observe(
            lambda _ch: callback_boundary(self._switched, self.message, "Cannot switch views"),
            "value",
        )
        self.widget = W.VBox([self.switch, self.message, self.today.widget, self.progress.widget])
        self.widget.add_class("backcare-app")

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        return self.widget._repr_mimebundle_(**kwargs)

    @property
    def day(self) -> Any:
        """The day the checklist shows (None before a patient is chosen)."""
        return self.today.day

    def local_today(self) -> Any:
        """Today in the patient's time zone (what the checklist opens on)."""
        return self.today.local_today()

    def _switched(self) -> None:
        progress = self.switch.value == PROGRESS
        self.message.value = ""
        # the chosen view shows at once; My progress then fills in as it is read
        self.today.widget.layout.display = "none" if progress else None
        self.progress.widget.layout.display = None if progress else "none"
        if not progress:
            return
        pid, day = self.today.patient_id, None
        if pid is not None:
            try:
                day = self.today.local_today()
            except STORE_ERRORS as exc:
                self.message.value = message_html(
                    "error", "Cannot show your progress", [one_line(exc)]
                )
        self.progress.show(pid, day)

    def show_progress(self) -> None:
        """Switch to My progress (as clicking its button does)."""
        self.switch.value = PROGRESS

    def show_today(self) -> None:
        """Switch to today's checklist."""
        self.switch.value = TODAY
