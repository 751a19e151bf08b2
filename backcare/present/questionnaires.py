"""The questionnaire outcomes (analysis.questionnaires) as a table and words, for the trends
view and the report. Only words numbers computed elsewhere; every cell is escaped."""

from __future__ import annotations

import math
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
    for r in outcomes.to_dict("records"):
        rec: dict[str, Any] = {str(k): v for k, v in r.items()}
        inst = INSTRUMENTS[str(rec["instrument"])]
        unit = "" if inst.id == GROC else f" / {inst.score_range[1]}"
        base, latest, change, pct = (
            float(rec[k]) for k in ("baseline", "latest", "change", "change_pct")
        )
        note = str(rec["note"])
        rows.append(
            (
                inst.short,
                "-" if math.isnan(base) else f"{base:.1f}{unit}",
                "-" if pd.isna(rec["baseline_day"]) else when(rec["baseline_day"]),
                "-"
                if math.isnan(latest)
                else f"{latest:+.0f}"
                if inst.id == GROC
                else f"{latest:.1f}{unit}",
                "-" if pd.isna(rec["latest_day"]) else when(rec["latest_day"]),
                "-" if math.isnan(change) else f"{change:+.1f}",
                "-" if math.isnan(pct) else f"{pct:+.0f} %",
                str(rec["status"]) + (f" ({note})" if note else ""),
                int(rec["n"]),
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
