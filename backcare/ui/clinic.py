"""The clinic overview view: every patient in one sortable, filterable, paged table.

Reads only: services.overview (store -> analysis.clinic) -> an escaped HTML table.
Usable with 1,000 patients: the frames are aggregated in SQL and the table shows one
page at a time. Testable without a kernel."""

from __future__ import annotations

import datetime as dt

import ipywidgets as W
import pandas as pd

from backcare import analysis as A
from backcare import services
from backcare.present.html import esc
from backcare.store import Store

SORTS: dict[str, tuple[list[str], list[bool]]] = {
    "Needs attention first": (
        ["priority", "red_flags_14d", "flare_ups_14d", "adherence_14d"],
        [True, False, False, True],
    ),
    "Lowest adherence first": (["adherence_14d"], [True]),
    "Pain worsened most first": (["change"], [False]),
    "Longest since last session": (["days_since"], [False]),
    "Most flare-ups first": (["flare_ups_14d"], [False]),
    "Patient id": (["patient_id"], [True]),
}
PAGE_SIZE = 50
HEADERS = {
    "patient_id": "Patient",
    "name": "Name",
    "attention": "Needs attention because",
    "last_session": "Last session",
    "adherence_14d": "Adherence, 14 d",
    "baseline": "Pain at start",
    "latest": "Pain now",
    "change": "Change",
    "pain_class": "Clinically important?",
    "flare_ups_14d": "Flare-ups, 14 d",
    "red_flags_14d": "Red flags, 14 d",
    "suggestion_text": "Suggestions (not applied)",
}
CAVEAT = (
    "Adherence is self-reported and tends to overestimate what was done. Pain change compares "
    "the first and the latest two weeks with a score; a change of at least 2 points (and 30 % "
    "for an improvement) is clinically important for low back pain (Ostelo et al., Spine 2008). "
    "Red flags mean: contact the patient today. Suggestions are for the physiotherapist to "
    "decide; nothing is applied."
)


def sort_overview(
    df: pd.DataFrame, how: str, *, attention_only: bool = False, search: str = ""
) -> pd.DataFrame:
    """The overview sorted by one of SORTS, filtered by attention_only and search if given."""
    if how not in SORTS:
        raise ValueError(f"sort: {how!r} is not one of {', '.join(SORTS)}")
    out = df
    if attention_only:
        out = out[out["priority"] < 9]
    if search.strip():
        needle = search.strip().lower()
        out = out[
            out["patient_id"].str.lower().str.contains(needle, regex=False)
            | out["name"].str.lower().str.contains(needle, regex=False)
        ]
    cols, asc = SORTS[how]
    return out.sort_values(cols + ["patient_id"], ascending=asc + [True], na_position="last")


def overview_table_html(df: pd.DataFrame) -> str:
    """An HTML table of overview rows; every cell is escaped."""
    shown = df[list(HEADERS)].copy()
    shown["last_session"] = shown["last_session"].dt.strftime("%Y-%m-%d").fillna("never")
    shown["adherence_14d"] = shown["adherence_14d"].map(
        lambda v: "-" if pd.isna(v) else f"{v * 100:.0f} %"
    )
    for col in ("baseline", "latest"):
        shown[col] = shown[col].map(lambda v: "-" if pd.isna(v) else f"{v:.1f}")
    shown["change"] = shown["change"].map(lambda v: "-" if pd.isna(v) else f"{v:+.1f}")
    shown = shown.rename(columns=HEADERS)
    return shown.to_html(index=False, escape=True, border=0, classes="backcare-clinic", na_rep="-")


class ClinicView:
    """Controls plus a paged table of the clinic overview; `widget` is what a notebook displays."""

    def __init__(self, store: Store, today: dt.date | None = None) -> None:
        self.store = store
        self.today = W.DatePicker(description="As of", value=today or dt.date.today())
        self.sort = W.Dropdown(
            description="Sort", options=list(SORTS), value="Needs attention first"
        )
        self.attention_only = W.Checkbox(description="Only patients needing attention", value=False)
        self.search = W.Text(description="Find", placeholder="patient id or name")
        self.page = W.BoundedIntText(description="Page", value=1, min=1, max=1)
        self.status = W.HTML()
        self.table = W.HTML()
        self.caveat = W.HTML(f'<p style="color:#555;font-size:0.9em">{esc(CAVEAT)}</p>')
        self.overview = pd.DataFrame()
        self.controls = W.VBox(
            [W.HBox([self.today, self.sort]), W.HBox([self.attention_only, self.search]), self.page]
        )
        self.widget = W.VBox([self.controls, self.status, self.table, self.caveat])
        self.today.observe(lambda _: self.reload(), "value")
        for w in (self.sort, self.attention_only, self.search):
            w.observe(lambda _: self._first_page(), "value")
        self.page.observe(lambda _: self.render(), "value")
        self.reload()

    def reload(self) -> None:
        """Recompute the overview from the store for the chosen date."""
        day = self.today.value or dt.date.today()
        self.overview = services.overview(self.store, day)
        self._first_page()

    def _first_page(self) -> None:
        if self.page.value != 1:
            self.page.value = 1  # triggers render
        else:
            self.render()

    def rows(self) -> pd.DataFrame:
        """The overview as currently sorted and filtered (all pages)."""
        return sort_overview(
            self.overview,
            self.sort.value,
            attention_only=self.attention_only.value,
            search=self.search.value,
        )

    def render(self) -> None:
        """Draw the current page of the table and the counts line."""
        rows = self.rows()
        pages = max(1, -(-len(rows) // PAGE_SIZE))
        self.page.max = pages
        page = min(self.page.value, pages)
        chunk = rows.iloc[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]
        o = self.overview
        flagged = int((o["red_flags_14d"] > 0).sum()) if len(o) else 0
        worse = int((o["pain_class"] == A.WORSE).sum()) if len(o) else 0
        attention = int((o["priority"] < 9).sum()) if len(o) else 0
        counts = (
            f"{len(o)} patients; {flagged} with a red flag, "
            f"{worse} with pain worse than at the start, "
            f"{attention} needing attention. "
            f"Showing {len(chunk)} of {len(rows)} (page {page} of {pages})."
        )
        self.status.value = f"<p>{esc(counts)}</p>"
        self.table.value = overview_table_html(chunk) if len(chunk) else "<p>No patients match.</p>"
