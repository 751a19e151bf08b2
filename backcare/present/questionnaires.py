"""The questionnaire outcomes (analysis.questionnaires) as a table and words, for the trends
view and the report. Only words numbers computed elsewhere; every cell is escaped."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pandas as pd

from backcare.domain.questionnaires import GROC, INSTRUMENTS
from backcare.present.html import paragraph

NOTHING_ANSWERED = (
    "No questionnaire was answered since the programme began (RMDQ, PSFS or global rating "
    "of change)."
)
SCALES_NOTE = (
    "RMDQ: 0-24, lower is better; PSFS: mean of the patient's activities, 0-10, higher is "
    "better; global rating of change: -7 to +7 since the programme began. Self-reported. The "
    "RMDQ's items are shown by number and topic only (licence terms could not be verified)."
)
TABLE_COLUMNS = [
    "questionnaire",
    "baseline",
    "baseline day",
    "latest",
    "latest day",
    "change",
    "change %",
    "class",
    "responses",
]


def _day(day: Any) -> str:
    return "-" if day is None or pd.isna(day) else f"{pd.Timestamp(day):%d %b %Y}".lstrip("0")


def questionnaire_table(outcomes: pd.DataFrame, when: Callable[[Any], str] = _day) -> pd.DataFrame:
    """One row per instrument answered: baseline, latest (with their days, shown by when),
    change in points and per cent, class (with any note) and number of responses."""
    rows = []
    for r in outcomes.itertuples(index=False):
        inst = INSTRUMENTS[r.instrument]
        unit = "" if r.instrument == GROC else f" / {inst.score_range[1]}"
        if pd.isna(r.latest):
            latest = "-"
        elif r.instrument == GROC:
            latest = f"{r.latest:+.0f}"
        else:
            latest = f"{r.latest:.1f}{unit}"
        rows.append(
            (
                inst.short,
                "-" if pd.isna(r.baseline) else f"{r.baseline:.1f}{unit}",
                when(r.baseline_day) if not pd.isna(r.baseline_day) else "-",
                latest,
                when(r.latest_day) if not pd.isna(r.latest_day) else "-",
                "-" if pd.isna(r.change) else f"{r.change:+.1f}",
                "-" if pd.isna(r.change_pct) else f"{r.change_pct:+.0f} %",
                r.status + (f" ({r.note})" if r.note else ""),
                int(r.n),
            )
        )
    return pd.DataFrame(rows, columns=TABLE_COLUMNS)


def questionnaires_html(outcomes: pd.DataFrame, when: Callable[[Any], str] = _day) -> str:
    """The outcomes as an escaped HTML table with a note on the scales (or a sentence when
    nothing was answered)."""
    if outcomes.empty:
        return paragraph(NOTHING_ANSWERED)
    table = questionnaire_table(outcomes, when).to_html(
        index=False, escape=True, border=0, na_rep="-", classes="backcare-questionnaires"
    )
    return table + paragraph(SCALES_NOTE)
