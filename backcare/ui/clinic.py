"""The clinic overview view: every patient on one line, needing attention first; a row opens
that patient's trends and programme.

Reads only: services.overview (store -> analysis.clinic) -> clinic_table (display columns)
-> an itables DataTable widget (searchable, sortable, paged in the browser; its JavaScript
ships inside the itables package, so nothing is fetched from the network, and every cell
is escaped by itables before it reaches the page). Selecting a row shows that patient's
TrendsView and PhysioView below the table. Testable without a kernel.

``overview_table_html`` is the same table as a static, escaped HTML table, for outputs that
must read without any JavaScript (exported pages, tests). Static mode (``live=False``, or
environment variable BACKCARE_STATIC=1, as ``backcare export-notebook`` runs it): ``show()``
displays the counts, that table (every row) and the caveat as plain HTML instead of widgets."""

from __future__ import annotations

import datetime as dt
import os
from typing import Any

import ipywidgets as W
import pandas as pd

from backcare import analysis as A
from backcare import services
from backcare.analysis.clinic import INACTIVE_DAYS
from backcare.present.html import esc, message_html
from backcare.store import STORE_ERRORS, Store
from backcare.ui.widgets import callback_boundary

# display column -> header; one line per patient (the table never wraps a cell)
HEADERS = {
    "alert": "Alert",
    "priority": "Rank",
    "patient_id": "Patient",
    "name": "Name",
    "attention": "Needs attention because",
    "last_session": "Last session",
    "adherence_14d": "Adherence 14 d (%)",
    "adherence_change": "Adherence 7 d before -> last 7 d (%)",
    "pain": "Pain at start -> now",
    "pain_class": "Clinically important?",
    "rmdq_class": "RMDQ since start",
    "psfs_class": "PSFS since start",
    "groc_class": "Global rating of change",
    "flare_episodes_14d": "Flare-up episodes 14 d",
    "suggestion_text": "Suggestions (not applied)",
}
RED_FLAG_ALERT = "RED FLAG"
RED_ROW_STYLE = "background:#fde2e1"
# the alert column in red and bold (the table widget's cells get this class)
TABLE_CSS = (
    "<style>.backcare-clinic td.backcare-alert{color:#a40000;font-weight:bold}"
    ".backcare-clinic td{white-space:nowrap}</style>"
)
PAGE_LENGTH = 25
# search first and always shown (itables hides the controls of a short table when the
# layout is its default one)
LAYOUT = {
    "topStart": "search",
    "topEnd": "info",
    "bottomStart": "pageLength",
    "bottomEnd": "paging",
}
CAVEAT = (
    "Rank: 1 red flag (contact the patient today), 2 pain worse than at baseline, "
    "3 flare-up episode, "
    f"4 no session for {INACTIVE_DAYS} days or more, 5 adherence falling (the last 7 days "
    f"below {A.ADHERENT * 100:.0f} % and {A.ADHERENCE_DROP * 100:.0f} points or more under the 7 "
    "before), 9 nothing to flag; the reasons are listed most severe first. Adherence is "
    "self-reported and tends to overestimate what was done. Pain change compares the first "
    "and the latest two weeks with a score since the programme began; the classes and their "
    "sources are in the trends view. Questionnaires: RMDQ important change 5 points or "
    "30 % (Ostelo 2008), PSFS 2 points (Stratford 1995; Abbott & Schmitt 2014), global rating "
    "of change +/-4 (Jaeschke 1989). Suggestions are for the physiotherapist to decide; "
    "nothing is applied."
)


def _pct(v: Any) -> float:
    return float("nan") if pd.isna(v) else round(float(v) * 100)


def clinic_table(df: pd.DataFrame, *, attention_only: bool = False) -> pd.DataFrame:
    """The overview (analysis.clinic columns) as the table's display columns (HEADERS keys),
    in the overview's order. Numbers stay numbers so that the table sorts them as numbers."""
    rows = df[df["priority"] < 9] if attention_only else df
    pain = [
        "-" if pd.isna(b) else f"{b:.1f} -> {lt:.1f} ({c:+.1f})"
        for b, lt, c in zip(rows["baseline"], rows["latest"], rows["change"], strict=True)
    ]
    change = [
        "-" if pd.isna(a) or pd.isna(b) else f"{_pct(a):.0f} -> {_pct(b):.0f}"
        for a, b in zip(rows["adherence_prev_7d"], rows["adherence_7d"], strict=True)
    ]
    out = pd.DataFrame(
        {
            "alert": [RED_FLAG_ALERT if n > 0 else "" for n in rows["red_flags_14d"]],
            "priority": rows["priority"].to_numpy(),
            "patient_id": rows["patient_id"].to_numpy(),
            "name": rows["name"].to_numpy(),
            "attention": rows["attention"].to_numpy(),
            "last_session": rows["last_session"].dt.strftime("%Y-%m-%d").fillna("never"),
            "adherence_14d": [_pct(v) for v in rows["adherence_14d"]],
            "adherence_change": change,
            "pain": pain,
            "pain_class": rows["pain_class"].to_numpy(),
            "rmdq_class": rows["rmdq_class"].to_numpy(),
            "psfs_class": rows["psfs_class"].to_numpy(),
            "groc_class": rows["groc_class"].to_numpy(),
            "flare_episodes_14d": rows["flare_episodes_14d"].to_numpy(),
            "suggestion_text": rows["suggestion_text"].to_numpy(),
        }
    )
    return out.reset_index(drop=True)


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return "-" if pd.isna(value) else f"{value:.0f}"
    return str(value)


def overview_table_html(df: pd.DataFrame, *, attention_only: bool = False) -> str:
    """The table as static HTML (every cell escaped), red-flag rows marked; no JavaScript."""
    table = clinic_table(df, attention_only=attention_only)
    head = "".join(f"<th>{esc(h)}</th>" for h in HEADERS.values())
    rows = []
    for values in table.itertuples(index=False):
        red = values[0] == RED_FLAG_ALERT
        tr = f'<tr class="backcare-red-flag" style="{RED_ROW_STYLE}">' if red else "<tr>"
        rows.append(tr + "".join(f"<td>{esc(_cell(v))}</td>" for v in values) + "</tr>")
    return (
        '<table class="backcare-clinic" style="white-space:nowrap">'
        f"<thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
    )


class ClinicView:
    """The as-of date, an attention filter, the table, and the selected patient's views;
    `widget` is what a notebook displays."""

    def __init__(
        self, store: Store, today: dt.date | None = None, *, live: bool | None = None
    ) -> None:
        from itables.widget import ITable

        self.store = store
        self.live = (os.environ.get("BACKCARE_STATIC", "") in ("", "0")) if live is None else live
        self.today = W.DatePicker(description="As of", value=today or dt.date.today())
        self.attention_only = W.Checkbox(
            description="Only patients needing attention",
            value=False,
            indent=False,
            layout=W.Layout(width="auto"),
        )
        self.status = W.HTML()
        self.overview = pd.DataFrame()
        self.shown = pd.DataFrame()
        self.table = ITable(
            pd.DataFrame({"": []}),
            select={"style": "single"},
            classes="display nowrap compact",
            scrollX=True,
            pageLength=PAGE_LENGTH,
            order=[],  # keep the overview's order: needing attention first
            columnDefs=[{"targets": 0, "className": "backcare-alert"}],
            layout=LAYOUT,
        )
        self.table.add_class("backcare-clinic")
        self.caveat = W.HTML(f'<p style="color:#555;font-size:0.9em">{esc(CAVEAT)}</p>')
        self.detail_header = W.HTML(
            "<p><em>Select a row to open that patient's trends and programme.</em></p>"
        )
        self.detail = W.VBox([])
        self.patient_id: str | None = None
        self.widget = W.VBox(
            [
                W.HTML(TABLE_CSS),
                W.HBox([self.today, self.attention_only]),
                self.status,
                self.table,
                self.caveat,
                self.detail_header,
                self.detail,
            ]
        )
        self.today.observe(lambda _: self._guard(self.reload), "value")
        self.attention_only.observe(lambda _: self._guard(self.render), "value")
        self.table.observe(lambda _: self._guard(self._selected), "selected_rows")
        self._guard(self.reload)

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        return self.widget._repr_mimebundle_(**kwargs)

    def _guard(self, action: Any) -> None:
        callback_boundary(action, self.status, "Could not update the clinic overview")

    def reload(self) -> None:
        """Recompute the overview from the store for the chosen date."""
        day = self.today.value or dt.date.today()
        try:
            self.overview = services.overview(self.store, day)
        except STORE_ERRORS as exc:
            self.overview = pd.DataFrame()
            self.status.value = message_html("error", f"Could not read the store: {exc}")
            return
        self.render()

    def render(self) -> None:
        """Redraw the table and the counts line."""
        o = self.overview
        if o.empty:
            self.shown = pd.DataFrame()
            self.table.update(pd.DataFrame({"": []}), selected_rows=[], layout=LAYOUT)
            self.status.value = "<p>No patients in the store yet.</p>"
            return
        self.shown = clinic_table(o, attention_only=self.attention_only.value)
        self.table.update(self.shown.rename(columns=HEADERS), selected_rows=[], layout=LAYOUT)
        flagged = int((o["red_flags_14d"] > 0).sum())
        worse = int((o["pain_class"] == A.WORSE).sum())
        attention = int((o["priority"] < 9).sum())
        counts = (
            f"{len(o)} patients; {attention} needing attention, {flagged} with a red flag, "
            f"{worse} with pain worse than at the start. Showing {len(self.shown)}."
        )
        alarm = (
            message_html(
                "error",
                f"{flagged} patient(s) ticked a red flag in the last 14 days: contact them "
                "today (rows marked RED FLAG, at the top)",
            )
            if flagged
            else ""
        )
        self.status.value = alarm + f"<p>{esc(counts)}</p>"

    def open_patient(self, patient_id: str) -> None:
        """Show this patient's trends and programme below the table."""
        from backcare.ui.physio import PhysioView
        from backcare.ui.trends import TrendsView

        day = self.today.value or dt.date.today()
        trends = TrendsView(self.store, patient_id, end=day, live=True)
        physio = PhysioView(self.store, patient_id, today=day)
        self.patient_id = patient_id
        self.detail_header.value = f"<h2 style='margin:12px 0 4px'>{esc(patient_id)}</h2>"
        self.detail.children = [
            W.HTML("<h3>Trends</h3>"),
            trends.controls,
            *(trends.outputs[name] for name in trends.outputs),
            W.HTML("<h3>Programme and timeline</h3>"),
            physio.widget,
        ]

    def _selected(self) -> None:
        rows = self.table.selected_rows
        if not rows or self.shown.empty or rows[0] >= len(self.shown):
            return
        self.open_patient(str(self.shown.loc[rows[0], "patient_id"]))

    def static_html(self) -> str:
        """The counts, the table and the caveat as one HTML page fragment that needs no
        server: the same searchable, sortable DataTable as the widget, with its JavaScript
        embedded (itables' offline bundle, nothing fetched), and the whole table as static
        escaped HTML for a reader without JavaScript (<noscript>)."""
        if self.overview.empty:
            return self.status.value
        from itables import options as itables_options
        from itables import to_html_datatable
        from itables.javascript import generate_init_offline_itables_html

        static = overview_table_html(self.overview, attention_only=self.attention_only.value)
        table = clinic_table(self.overview, attention_only=self.attention_only.value)
        interactive = to_html_datatable(
            table.rename(columns=HEADERS),
            connected=False,
            classes="display nowrap compact backcare-clinic",
            order=[],
            columnDefs=[{"targets": 0, "className": "backcare-alert"}],
            layout=LAYOUT,
            pageLength=PAGE_LENGTH,
        )
        return (
            TABLE_CSS
            + generate_init_offline_itables_html(itables_options.dt_bundle)
            + self.status.value
            + interactive
            + f"<noscript>{static}</noscript>"
            + self.caveat.value
        )

    def show(self) -> None:
        """Display the view: the widgets (live) or static_html() (static)."""
        from IPython.display import HTML, display

        if self.live:
            display(self.widget)
        else:
            display(HTML(self.static_html()))
