"""Per-patient reports: notebooks/04_patient_report.ipynb run in process, exported as HTML.

Two halves; the notebook never writes to the store:

* Inside the notebook (reads only): ``load_report`` reads one patient's frames for a period
  (``services.read_patient``), pseudonymises them if asked, runs every analysis
  (``services.analyse_patient``) and returns a ``Report`` whose ``show(section)`` displays
  escaped HTML or an offline plotly figure. ``SECTIONS`` lists the sections.
* Outside (``backcare report``): ``report_parameters`` checks a request and, for a
  pseudonymised report, computes the pseudonym (``privacy.pseudonym``; creating the store's
  key on first use is the one write, done here, never by the notebook, and the key never
  reaches the notebook); ``run_report`` runs the notebook's cells in this process
  (``reports.inprocess``: no kernel, so ``report --all`` is one process, not one kernel per
  patient; ``execute_report`` still runs other notebooks with papermill for
  ``export-notebook``); ``to_html`` exports it with code hidden, plotly.js once per page
  (plotly's cartesian bundle, ``reports.plotlyjs``) and nothing fetched from the internet;
  ``write_report`` and ``write_reports`` do it for one or every patient (``--all`` writes
  plotly.js once into the folder, beside the reports).

Escaping: every piece of user text (names, notes, annotation text and author, the
physiotherapist's narrative, exercise names from user catalogs) is HTML-escaped before it
reaches HTML with the one escaper, ``present.html.esc`` (figures use it too); tables use
``DataFrame.to_html(escape=True)``.

Pseudonymised reports (``pseudonymise=True``) are made by ``reports.privacy``, the
pseudonymiser bundles use too. They show the stable pseudonym instead of the
patient's id and name, leave out free text (diary notes, annotation text, programme notes)
unless ``keep_text``, and, unless ``relative_dates=False``, show dates as day numbers: day 1
is the first day of the report's period. Day numbers read better in a clinical report than
shifted calendar dates (which look real); as a second line of defence the dates are first
shifted by whole weeks with the bundles' rule (``privacy.relative_shift``), so a date that
escaped relabelling would still not be a real one. The report's creation date is not shown
and execution timestamps are removed from the notebook, since with day numbers they could
date the period. The physiotherapist's narrative and the report's author are shown as given.
"""

from __future__ import annotations

import copy
import datetime as dt
import os
import re
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, replace
from functools import cache, cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from backcare import analysis as A
from backcare.analysis import questionnaires as Q
from backcare.analysis.progression import RED_FLAG_HOLD
from backcare.domain.catalog import Catalog, dosage_words
from backcare.domain.questionnaires import GROC_IMPORTANT
from backcare.domain.rules import NAME_CHARS, check_choice, check_day_range, check_text
from backcare.domain.wording import (
    ASSOCIATION_CAVEAT,
    CONSULT_ADVICE,
    KIND_LABELS,
    RED_FLAG_MESSAGE,
    RED_FLAGS,
    SELF_REPORT_CAVEAT,
    SESSION_EFFECT_CAVEAT,
    SUGGESTION_DISCLAIMER,
    TREND_CAVEAT,
)
from backcare.errors import BackcareError, NotFoundError, ValidationError
from backcare.owner_only import private_dir, write_private
from backcare.present import figures as P
from backcare.present.html import esc, paragraph, picture_html
from backcare.present.questionnaires import questionnaires_html
from backcare.present.text import CAVEATS
from backcare.present.text import suggestions_html as _suggestions_html
from backcare.reports.inprocess import publish_figure, publish_html, run_notebook
from backcare.reports.plotlyjs import SIGNATURE, PlotlyJS, check_traces, plotly_js
from backcare.reports.privacy import pseudonym, pseudonym_key, pseudonymise
from backcare.resources import REPORT_NOTEBOOK as NOTEBOOK  # shipped in the package
from backcare.services import PatientFrames, TrendsData, analyse_patient, read_patient
from backcare.store import Store

FORMATS = ("html", "ipynb")
PARAMETERS = (
    "patient",
    "period_from",
    "period_to",
    "author",
    "narrative",
    "pseudonymise",
    "pseudonym",
    "relative_dates",
    "keep_text",
)
SECTIONS = (
    "header",
    "summary",
    "red_flags",
    "narrative",
    "pain",
    "annotations",
    "questionnaires",
    "calendar",
    "weekly",
    "effect",
    "adherence_pain",
    "programme",
    "suggestions",
    "notes",
    "pseudonymisation",
    "methods",
)
MAX_TABLE_ROWS = 200
NARRATIVE_CHARS = 20_000
PLOTLY_JS_SIGNATURE = SIGNATURE  # the licence header of a plotly.js bundle: once per bundle


class ReportError(BackcareError):
    """A report that could not be made (the notebook failed, or its HTML would fetch files)."""


# ---- small HTML helpers (escaping: present.html) ------------------------------------------------
def _table(df: pd.DataFrame, cls: str) -> str:
    """An escaped HTML table (pandas escapes every cell and header by default; said explicitly)."""
    return df.to_html(index=False, escape=True, border=0, na_rep="-", classes=f"backcare-{cls}")


def _paragraphs(text: str) -> str:
    """Free text as escaped paragraphs: blank lines separate paragraphs, newlines become <br>."""
    paras = [p.strip() for p in re.split(r"\n\s*\n", text.replace("\r\n", "\n")) if p.strip()]
    return "".join("<p>" + esc(p) + "</p>" for p in paras)  # esc turns newlines into <br>


# ---- dates as day numbers ------------------------------------------------------------------------
_MONTHS = "Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec"
_ISO_RE = re.compile(
    r"\b(\d{4}-\d{2}-\d{2})(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?"
)
_ISO_FULL = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_DMY_RE = re.compile(rf"\b(\d{{1,2}} (?:{_MONTHS})[a-z]* \d{{4}})\b")


@dataclass(frozen=True)
class DayLabels:
    """Dates shown as day numbers: day 1 is `origin` (the first day of the report's period)."""

    origin: pd.Timestamp

    def number(self, day: Any) -> int:
        """The day number of a date (1 for origin; 0 or less before it)."""
        return int((pd.Timestamp(day).normalize() - self.origin).days) + 1

    def label(self, day: Any) -> str:
        """'day 12', or 'before day 1' for dates before the period."""
        if day is None or pd.isna(day):
            return "-"
        n = self.number(day)
        return f"day {n}" if n >= 1 else "before day 1"

    def text(self, s: str) -> str:
        """s with every ISO date ('2026-01-05') and '5 Jan 2026' date replaced by its day label."""
        s = _ISO_RE.sub(lambda m: self.label(m.group(1)), s)
        return _DMY_RE.sub(lambda m: self.label(pd.Timestamp(m.group(1))), s)

    def figure(self, fig: go.Figure) -> go.Figure:
        """A copy of fig whose date axis shows day numbers (labels, hover text and titles too)."""
        fig = go.Figure(fig)
        moved = False
        for tr in fig.data:
            xs = _days_of(getattr(tr, "x", None))
            if xs is not None:
                # a bin that starts before the period (a partial first week) is labelled by day 1
                tr.x = [max(self.number(v), 1) for v in xs]
                moved = True
                if getattr(tr, "hovertemplate", None):
                    tr.hovertemplate = _x_as_day(tr.hovertemplate)
            for attr in ("text", "hovertext"):
                value = getattr(tr, attr, None)
                if isinstance(value, str):
                    setattr(tr, attr, self.text(value))
                elif value is not None and len(value) and all(isinstance(v, str) for v in value):
                    setattr(tr, attr, [self.text(v) for v in value])
            if getattr(tr, "hovertemplate", None):
                tr.hovertemplate = re.sub(
                    r"[Ww]eek of %\{text\}", "Week starting %{text}", self.text(tr.hovertemplate)
                )
            if tr.name:
                tr.name = self.text(tr.name)
        if fig.layout.title.text:
            fig.layout.title.text = self.text(fig.layout.title.text)
        for ann in fig.layout.annotations or ():
            if ann.text:
                ann.text = self.text(ann.text)
        if moved:
            if fig.layout.xaxis.type == "category":
                fig.update_xaxes(tickprefix="day ")
            else:
                hi = max(
                    (
                        max(tr.x)
                        for tr in fig.data
                        if tr.x is not None and len(tr.x) and isinstance(tr.x[0], int)
                    ),
                    default=1,
                )
                # plain day numbers: plotly.js leaves a tickprefix off ticks given as an
                # array, and "day N" on every tick does not fit on a phone (the hover text
                # says "day N")
                fig.update_xaxes(tickmode="array", tickvals=_day_ticks(hi))
        return fig


def _days_of(xs: Any) -> list[str] | None:
    """A trace's x values as ISO days when every one is a day (a numpy datetime64, as
    present.figures draws dates, or an ISO date string), else None."""
    if xs is None or not len(xs):
        return None
    arr = np.asarray(xs)
    if arr.dtype.kind == "M":
        days = arr.astype("datetime64[D]")
        return None if np.isnat(days).any() else np.datetime_as_string(days, unit="D").tolist()
    if all(isinstance(v, str) and _ISO_FULL.match(v) for v in xs):
        return list(xs)
    return None


def _day_ticks(last: int, most: int = 12) -> list[int]:
    """Tick positions 1, step, 2 * step, ... up to last, at most about `most` of them."""
    step = next((k for k in (1, 2, 7, 14, 28, 50, 100, 200, 500, 1000) if last / k <= most), 2000)
    return [1] + list(range(step, last + 1, step)) if step > 1 else list(range(1, last + 1))


def _x_as_day(template: str) -> str:
    t = re.sub(r"%\{x\|[^}]*\}", "month starting day %{x}", template)
    t = re.sub(r"[Ww]eek of %\{x\}", "week starting day %{x}", t)
    t = re.sub(r"(?<!day )%\{x\}", "day %{x}", t)
    return t[:1].upper() + t[1:]


# ---- pseudonymising frames ----------------------------------------------------------------------
_FRAMES = (
    "sessions",
    "items",
    "history_items",
    "pain",
    "annotations",
    "prescriptions",
    "history_sessions",
    "history_pain",
    "questionnaires",
)
_KINDS = {  # as reports.privacy names them
    "history_items": "items",
    "prescriptions": "programmes",
    "history_sessions": "sessions",
    "history_pain": "pain",
}


def pseudonymise_report_frames(
    f: PatientFrames,
    alias: str,
    *,
    relative_dates: bool = True,
    keep_text: bool = False,
    timezone: str | None = None,
) -> PatientFrames:
    """The frames pseudonymised as bundles are (reports.privacy): the pseudonym as patient id, no
    name, free text left out unless keep_text and, with relative_dates, every date shifted by the
    whole-week rule so the report's first day falls in the epoch week."""
    frames, shift = pseudonymise(
        {name: getattr(f, name) for name in _FRAMES},
        alias,
        relative_dates=relative_dates,
        keep_text=keep_text,
        also_days=[pd.Series([f.start])],
        kinds=_KINDS,
        timezone=timezone,
    )
    return replace(f, patient_id=alias, name="", start=f.start - shift, end=f.end - shift, **frames)


# ---- the report (what the notebook shows) -------------------------------------------------------
def _date_param(name: str, value: Any) -> dt.date | None:
    if value is None or value == "":
        return None
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise ValidationError(
            name, value, "a date YYYY-MM-DD, or empty for the whole history"
        ) from None


def check_period(
    period_from: Any = None, period_to: Any = None
) -> tuple[dt.date | None, dt.date | None]:
    """(first day, last day) of a report period from dates or 'YYYY-MM-DD' text (empty: open)."""
    start, end = _date_param("period_from", period_from), _date_param("period_to", period_to)
    return check_day_range(start, end)


@dataclass
class Report:
    """One patient's report for a period: analysis results (already pseudonymised if asked) and
    the physiotherapist's text.

    ``show(section)`` displays a section; ``html(section)`` returns it."""

    data: TrendsData
    sessions: pd.DataFrame
    prescriptions: pd.DataFrame
    catalog: Catalog
    author: str = ""
    narrative: str = ""
    pseudonymised: bool = False
    keep_text: bool = True
    days: DayLabels | None = None

    # -- words -----------------------------------------------------------------------------------
    def when(self, day: Any) -> str:
        """A date as the report shows it: '5 Jan 2026', or 'day 3' with relative dates."""
        if day is None or pd.isna(day):
            return "-"
        if self.days is not None:
            return self.days.label(day)
        ts = pd.Timestamp(day)
        return f"{ts.day} {ts:%b %Y}"

    def words(self, text: str) -> str:
        """Text with any date in it shown as the report shows dates."""
        return self.days.text(text) if self.days is not None else text

    @property
    def title(self) -> str:
        """The report's title (no user text but the name or the pseudonym)."""
        d = self.data
        who = (
            d.patient_id
            if self.pseudonymised
            else (f"{d.name} ({d.patient_id})" if d.name else d.patient_id)
        )
        return f"Exercise and pain report: {who}"

    # -- sections ----------------------------------------------------------------------------------
    def html(self, section: str) -> str:
        """The HTML of a text section (user text escaped); figures have figure()."""
        check_choice("section", section, SECTIONS)
        if section in _FIGURES:
            raise ValidationError(
                "section", section, "a text section; use figure() for " + ", ".join(_FIGURES)
            )
        return getattr(self, f"_{section}")()

    @cached_property
    def figures(self) -> dict[str, go.Figure]:
        """The five figures of the trends notebook, with day numbers if dates are relative."""
        d = self.data
        figs = P.trend_figures(d, self.catalog)
        if self.days is None:
            return figs
        # one cell per day even for long periods: the long-period calendar is labelled by years
        figs["calendar"] = P.adherence_calendar(d.completion, d.weekly, max_weeks=10**6)
        return {name: self.days.figure(fig) for name, fig in figs.items()}

    def figure(self, section: str) -> go.Figure:
        """The plotly figure of a section: pain, calendar, weekly, effect or adherence_pain."""
        return self.figures[check_choice("section", section, tuple(_FIGURES))]

    def show(self, section: str) -> None:
        """Display one section (and its caveat) in the notebook (or, when `backcare report` runs
        the notebook in process, add them to the cell's outputs: reports.inprocess)."""
        check_choice("section", section, SECTIONS)
        if section in _FIGURES:
            publish_figure(self.figure(section))
        else:
            publish_html(self.html(section))
        if section in CAVEATS:
            publish_html(paragraph(CAVEATS[section], "caveat"))

    def _header(self) -> str:
        d = self.data
        rows = []
        if self.pseudonymised:
            rows.append(("Patient", f"{d.patient_id} (pseudonym)"))
        else:
            rows.append(("Patient", f"{d.name} ({d.patient_id})" if d.name else d.patient_id))
        n_days = int((d.end - d.start).days) + 1
        rows.append(("Period", f"{self.when(d.start)} to {self.when(d.end)} ({n_days} days)"))
        if self.author:
            rows.append(("Prepared by", self.author))
        if self.days is None:
            rows.append(("Made on", f"{dt.date.today():%d %b %Y}".lstrip("0")))
        dl = "".join(
            f"<tr><th style='text-align:left;padding-right:1em'>{esc(k)}</th><td>{esc(v)}</td></tr>"
            for k, v in rows
        )
        return (
            f"<h1 style='margin-bottom:0.3em'>{esc(self.title)}</h1>"
            f"<table class='backcare-header'>{dl}</table>"
            + paragraph(
                "backcare records and suggests; it does not diagnose. The physiotherapist and "
                "the patient decide."
            )
        )

    def _summary(self) -> str:
        d = self.data
        weekly_adh = A.period_adherence(d.weekly)
        sessions = int(len(self.sessions))
        flags = int((self.sessions["red_flags"].fillna("") != "").sum()) if sessions else 0
        rows = [
            (
                "Days with a pain score",
                f"{int(d.daily['pain'].notna().sum()) if len(d.daily) else 0}",
            ),
            ("Sessions recorded", f"{sessions}"),
            (
                "Exercises done / prescribed (self-reported)",
                "-" if weekly_adh is None else f"{weekly_adh * 100:.0f} %",
            ),
            (
                "Pain, first 2 weeks with scores",
                "-" if d.trend.baseline is None else f"{d.trend.baseline:.1f} / 10",
            ),
            (
                "Pain, last 2 weeks with scores",
                "-" if d.trend.latest is None else f"{d.trend.latest:.1f} / 10",
            ),
            ("Change against the clinically important difference", d.trend.status),
            ("Flare-up episodes", self._flare_text()),
            ("Sessions with a red flag ticked", f"{flags}"),
            ("Notes on the timeline", f"{len(d.annotations)}"),
        ]
        table = pd.DataFrame(rows, columns=["", "value"])
        return (
            self._red_flag_block()
            + paragraph(self.words(d.summary), "summary")
            + _table(table, "key-numbers")
        )

    def _flare_text(self) -> str:
        """The period's flare-up episodes in words: count, then start, days and peak of each."""
        f = self.data.flares
        if f.empty:
            return "0"
        each = [
            f"from {self.when(s)}, {int(n)} day(s), peak {p:.1f} "
            f"(baseline {b:.1f}{', still going on' if o else ''})"
            for s, n, p, b, o in zip(
                f["start"], f["days"], f["peak"], f["baseline"], f["ongoing"], strict=True
            )
        ]
        return f"{len(f)}: " + "; ".join(each)

    def _red_flag_block(self) -> str:
        """A red block heading the summary when any red flag was ticked in the period."""
        s = self.sessions
        flagged = s[s["red_flags"].fillna("") != ""] if len(s) else s
        if flagged.empty:
            return ""
        last = self.when(flagged["day"].max())
        return (
            "<div class='backcare-red-flag-summary' role='alert' style='border:3px solid #a00;"
            "background:#fdecea;color:#a00;padding:0.5em 1em;font-weight:bold'>"
            f"RED FLAG: {len(flagged)} session(s) with a red flag ticked in this period "
            f"(last on {esc(last)}). For {A.PROGRESSION_WINDOW_DAYS} days after a red flag "
            f"every progression suggestion says: {esc(RED_FLAG_HOLD)}. "
            "See the red-flag section below.</div>"
        )

    def _red_flags(self) -> str:
        s = self.sessions
        flagged = s[s["red_flags"].fillna("") != ""] if len(s) else s
        if flagged.empty:
            return paragraph("No red flag was ticked in this period.")
        rows = [
            (
                self.when(day),
                "; ".join(
                    RED_FLAGS.get(c.strip(), c.strip()) for c in str(codes).split(",") if c.strip()
                ),
            )
            for day, codes in zip(flagged["day"], flagged["red_flags"], strict=True)
        ]
        table = pd.DataFrame(rows, columns=["day", "red flags ticked"])
        return (
            "<p style='color:#a00;font-weight:bold'>"
            f"{len(flagged)} session(s) with a red flag ticked "
            "in this period. Check they were followed up.</p>"
            + _table(table, "red-flags")
            + paragraph(RED_FLAG_MESSAGE, "caveat")
        )

    def _narrative(self) -> str:
        if not self.narrative.strip():
            return paragraph("(No narrative was written for this report.)")
        by = f"<p style='color:#555'>Written by {esc(self.author)}.</p>" if self.author else ""
        return f"<div class='backcare-narrative'>{_paragraphs(self.narrative)}</div>{by}"

    def _annotations(self) -> str:
        a = self.data.annotations
        if a.empty:
            return paragraph("No notes on the timeline in this period.")
        shown = a.tail(MAX_TABLE_ROWS)
        table = pd.DataFrame(
            {
                "day": [self.when(x) for x in shown["day"]],
                "kind": [KIND_LABELS.get(k, k) for k in shown["kind"]],
                "author": shown["author"].fillna("").astype(str).tolist(),
                "note": shown["text"].fillna("").astype(str).tolist(),
            }
        )
        more = (
            paragraph(f"Latest {len(shown)} of {len(a)} notes shown.")
            if len(a) > len(shown)
            else ""
        )
        return more + _table(table, "annotations")

    def _questionnaires(self) -> str:
        return questionnaires_html(self.data.questionnaires, self.when)

    def _programme(self) -> str:
        rx = self.prescriptions
        end = self.data.end
        now = (
            rx[(rx["valid_from"] <= end) & (rx["valid_to"].isna() | (rx["valid_to"] >= end))]
            if len(rx)
            else rx
        )
        if now.empty:
            return paragraph("No programme was in force at the end of the period.")
        names = [self.catalog[e].name if e in self.catalog else e for e in now["exercise_id"]]
        doses = [
            dosage_words(
                sets=_int(r["sets"]),
                reps=_int(r["reps"]),
                hold_s=_int(r["hold_s"]),
                minutes=_int(r["minutes"]),
                each_side=bool(r["each_side"]),
            )
            for _, r in now.iterrows()
        ]
        table = pd.DataFrame(
            {
                "exercise": names,
                "dose": doses,
                "times a week": [_int(v) for v in now["times_per_week"]],
            }
        )
        first = now.iloc[0]
        since = f"In force since {self.when(first['valid_from'])}"
        if first["author"]:
            since += f", prescribed by {first['author']}"
        note = str(first["note"] or "")
        pictures = "".join(
            '<figure style="display:inline-block;margin:4px 12px 4px 0;text-align:center">'
            + picture_html(self.catalog[e].image_svg(), f"Drawing: {self.catalog[e].name}", 160)
            + f'<figcaption style="font-size:90%">{esc(self.catalog[e].name)}</figcaption></figure>'
            for e in now["exercise_id"]
            if e in self.catalog and self.catalog[e].image
        )
        return (
            paragraph(since + ".")
            + _table(table, "programme")
            + (f'<div class="backcare-pictures">{pictures}</div>' if pictures else "")
            + (f"<p><i>Programme note:</i> {esc(note)}</p>" if note else "")
        )

    def _suggestions(self) -> str:
        return self.words(_suggestions_html(self.data.suggestions, self.catalog))

    def _notes(self) -> str:
        if self.pseudonymised and not self.keep_text:
            return paragraph(
                "Left out: this report is pseudonymised and free text can identify a person."
            )
        s = self.sessions
        noted = s[s["notes"].fillna("").str.strip() != ""] if len(s) else s
        if noted.empty:
            return paragraph("No diary notes in this period.")
        shown = noted.tail(MAX_TABLE_ROWS)
        table = pd.DataFrame(
            {
                "day": [self.when(x) for x in shown["day"]],
                "pain before": [_int(v) for v in shown["pain_before"]],
                "pain after": [_int(v) for v in shown["pain_after"]],
                "note": shown["notes"].astype(str).tolist(),
            }
        )
        more = (
            paragraph(f"Latest {len(shown)} of {len(noted)} notes shown.")
            if len(noted) > len(shown)
            else ""
        )
        return more + _table(table, "diary-notes")

    def _pseudonymisation(self) -> str:
        if not self.pseudonymised:
            return paragraph(
                "This report names the patient. Share it only with people who may see their "
                "health record; `backcare report --pseudonymise` makes a pseudonymised one."
            )
        parts = [
            f"{self.data.patient_id} is a pseudonym: "
            "the same patient always gets the same one from "
            "this store, and it cannot be traced back without the store's secret key. The name and "
            "the patient id are left out.",
        ]
        if self.days is not None:
            parts.append(
                "Dates are shown as day numbers: day 1 is the first day of the period "
                "(weekdays are the real ones). The date the report was made is left out."
            )
        else:
            parts.append("Dates are the real calendar dates.")
        if self.keep_text:
            parts.append("Free text (diary notes, annotation text) is included as written.")
        else:
            parts.append(
                "Free text (diary notes, annotation text, programme notes) is left out; "
                "the kind of each timeline note is kept."
            )
        parts.append("The narrative and the author are shown as the physiotherapist gave them.")
        return paragraph(" ".join(parts))

    def _methods(self) -> str:
        return methods_html()


_FIGURES = {
    "pain": "Pain over time",
    "calendar": "Exercise calendar",
    "weekly": "Weekly adherence",
    "effect": "Pain right after a session",
    "adherence_pain": "Adherence and next week's pain",
}


def _int(v: Any) -> int | None:
    return None if v is None or pd.isna(v) else int(v)


def methods_html() -> str:
    """How every number is computed (thresholds from backcare.analysis), and the caveats."""
    pct = round(A.ADHERENT * 100)
    items = [
        (
            "Daily pain",
            "the mean of the day's scores on the 0-10 scale (before sessions and standalone); "
            f"the rolling mean covers {A.ROLLING_DAYS} days and needs {A.ROLLING_MIN_DAYS} "
            "of them with a score.",
        ),
        (
            "Pain trend",
            f"the baseline is the mean daily pain of the first {A.TREND_WINDOW_DAYS}-day window "
            "from the start of the programme (or the first score) that holds at least "
            f"{A.TREND_MIN_DAYS} days with a score, whatever period the report covers; the latest "
            f"is the last such window up to the report's end; they may not overlap. Means are "
            "rounded to one decimal before they are compared. A change is clinically important "
            f"for low back pain when pain falls by at least {A.MCID_POINTS:g} points and "
            f"{A.MCID_FRACTION * 100:.0f} % of baseline (improved; Ostelo RW et al., Spine "
            "2008;33(1):90-94; IMMPACT: >= 30 % is moderately important) and by at least "
            f"{A.SUBSTANTIAL_FRACTION * 100:.0f} % (much improved; IMMPACT: substantially "
            "important, Dworkin RH et al., J Pain 2008;9(2):105-121), or rises by at least "
            f"{A.MCID_POINTS:g} points (worse; the same threshold, as there is no separate "
            "consensus for deterioration). Both conditions of an improvement must hold, so the "
            "2-point rule binds up to a baseline of 6.7 and the 30 % rule above it; from a "
            "baseline below 2 no important improvement can be shown, and the report says so. "
            "The chart's green band is drawn from the same thresholds.",
        ),
        (
            "Questionnaires",
            "each instrument's baseline is its first response on or after the start of the "
            "programme (whatever period the report covers) and the latest its last response "
            "up to the report's end. Roland-Morris Disability Questionnaire (24 items, 0-24, "
            "Roland & Morris, Spine 1983;8:141-144): an important improvement is a fall of at "
            f"least {Q.RMDQ_POINTS:g} points or {Q.RMDQ_FRACTION * 100:.0f} % of baseline, "
            f"worse a rise of at least {Q.RMDQ_POINTS:g} points (Ostelo RW et al., Spine "
            "2008;33(1):90-94; no separate consensus for deterioration). Patient-Specific "
            "Functional Scale (mean of up to 5 activities named by the patient, 0-10): an "
            f"important change is {Q.PSFS_POINTS:g} points on the mean either way (Stratford P "
            "et al., Physiother Can 1995;47:258-263, minimal detectable change of the mean; "
            "Abbott JH & Schmitt JS, J Orthop Sports Phys Ther 2014;44(8):560-564, minimum "
            "important differences 1.3 to 2.7). Global rating of change (15 points, -7 to +7, "
            "Jaeschke R et al., Control Clin Trials 1989;10:407-415; Kamper SJ et al., J Man "
            f"Manip Ther 2009;17(3):163-170): the latest rating of +{GROC_IMPORTANT} "
            f"(moderately better) or more is an important improvement, -{GROC_IMPORTANT} or "
            "less worse. One RMDQ or PSFS response gives no class (insufficient data).",
        ),
        (
            "Adherence",
            "exercises done / prescribed per week, each day contributing its programme's "
            "times per week / 7; doing one exercise more often than prescribed does not make up "
            f"for another; {pct} % or more is called adherent.",
        ),
        (
            "Habit strength",
            f"an exponential moving average of the last 7 days' completion with a "
            f"half-life of {A.HABIT_HALF_LIFE_DAYS:g} days, from 0 to 100.",
        ),
        (
            "Flare-up episode",
            f"starts on a day whose mean pain is at least {A.FLARE_POINTS:g} points (the "
            "minimal important change, Ostelo 2008) above its baseline, the "
            f"median of the {A.FLARE_BASELINE_DAYS} days before it (at least "
            f"{A.FLARE_MIN_PRIOR_DAYS} of them with a score); the baseline stays fixed for the "
            "whole episode, so a long flare cannot absorb itself. It lasts while the scored "
            f"days stay that high (up to {A.FLARE_MAX_GAP_DAYS} days without a score do not "
            f"end it) and counts when it spans at least {A.FLARE_MIN_DAYS} days. Shown: "
            "start, days, peak, baseline. After Costa N et al., J Pain 2019;20(11):1267-75 (a "
            "flare is a worsening lasting hours to weeks) and Setchell J et al., Scand J Pain "
            "2017;17:64-9 (a "
            "flare is more than a one-off rise); the thresholds are backcare's choice for a "
            "daily diary, not a published cut-off. Flare-up notes on the timeline count too.",
        ),
        (
            "Session effect",
            "pain after minus before a session, with a Student-t 95 % confidence "
            "interval, for all sessions and per exercise only where the exercise's presence "
            "varies across sessions (exercises done in every session are judged by the "
            "all-sessions row; exercises always done together share a row); identical "
            "changes get no interval (a zero-width interval would claim certainty); groups "
            f"with fewer than {A.MIN_EFFECT_N} sessions are not shown.",
        ),
        (
            "Adherence and pain",
            "Pearson r between a week's adherence and the change in weekly mean pain "
            f"to the next week (weeks with at least {A.WEEK_MIN_PAIN_DAYS} days of scores), "
            f"given from {A.MIN_PAIRS} pairs of weeks. Neighbouring weeks are alike, so the "
            "95 % interval uses Fisher's z with the effective number of independent pairs "
            "(Bartlett 1935; Bayley & Hammersley 1946; Pyper & Peterman 1998, lags up to "
            "n/5) instead of n; none, with the reason, when that is 3 or fewer or the weeks "
            "lie exactly on a line.",
        ),
        (
            "Progression",
            f"over the last {A.PROGRESSION_WINDOW_DAYS} days, one step up the catalog's range "
            f"only when nothing argues against it: no red flag, pain trend not worse, pain "
            f"not raised by sessions (median after - before below "
            f"{A.SESSION_RISE_POINTS:g} points), the dose kept for all of them, every "
            f"complete week at least {pct} % of the prescribed times, and pain rising by at "
            f"most {A.PAIN_STABLE_TOLERANCE:g} points. The step starts from the dose actually "
            "recorded (median over the done items of the window's complete weeks), not the "
            "prescription (progressive loading builds on the load tolerated: American "
            "College of Sports Medicine, Med Sci Sports Exerc 2009;41:687-708); below the "
            "prescription it holds. One exercise at a time; one "
            "step back after a flare-up episode or note. A red flag replaces every "
            f"suggestion with: {A.RED_FLAG_HOLD}. Never applied automatically.",
        ),
        (
            "Red flags",
            "symptoms ticked in a session (new bladder or bowel problems, saddle numbness, "
            "progressive leg weakness or numbness, fever, unexplained weight loss, severe "
            "night pain, pain after trauma): reasons to stop and seek care, not a diagnosis. "
            "They head the summary and the clinic overview; backcare alerts no one, so the "
            "physiotherapist must look.",
        ),
    ]
    caveats = [
        SELF_REPORT_CAVEAT,
        TREND_CAVEAT,
        SESSION_EFFECT_CAVEAT,
        ASSOCIATION_CAVEAT,
        SUGGESTION_DISCLAIMER + " " + CONSULT_ADVICE,
    ]
    return (
        "<ul class='backcare-methods'>"
        + "".join(f"<li><b>{esc(k)}</b>: {esc(v)}</li>" for k, v in items)
        + "</ul>"
        + "<p><b>Caveats</b></p><ul class='backcare-caveats'>"
        + "".join(f"<li>{esc(c)}</li>" for c in caveats)
        + "</ul>"
        + paragraph("The full description of every method is in help(backcare.analysis).")
    )


def load_report(
    store: Store,
    patient: str = "",
    period_from: Any = "",
    period_to: Any = "",
    *,
    author: str = "",
    narrative: str = "",
    pseudonymise: bool = False,
    pseudonym: str = "",
    relative_dates: bool = True,
    keep_text: bool = False,
) -> Report:
    """Read one patient's period from the store (never writing) and analyse it.

    Pseudonymised if asked. patient "" means the first patient in the store; empty dates mean
    the whole history and today. With pseudonymise, `pseudonym` (from report_parameters) is
    required: the notebook never sees the store's key."""
    start, end = check_period(period_from, period_to)
    author = check_text("author", author, max_len=NAME_CHARS)
    narrative = check_text("narrative", narrative, max_len=NARRATIVE_CHARS)
    if not patient:
        pats = store.patients()
        if pats.empty:
            raise NotFoundError("patient", patient, "a patient in the store (the store has none)")
        patient = str(pats["patient_id"].iloc[0])
    if pseudonymise and not re.fullmatch(r"P-[0-9a-f]{10}", pseudonym or ""):
        raise ValidationError(
            "pseudonym",
            pseudonym,
            "the pseudonym from backcare.reports.report_parameters (P- and 10 hex digits)",
        )
    try:
        frames = read_patient(store, patient, start, end)
    except NotFoundError:
        raise NotFoundError("patient", patient, "a patient in the store") from None
    days = None
    if pseudonymise:
        frames = pseudonymise_report_frames(
            frames,
            pseudonym,
            relative_dates=relative_dates,
            keep_text=keep_text,
            timezone=str(store.patient_timezone(patient)),
        )
        days = DayLabels(frames.start) if relative_dates else None
    return Report(
        data=analyse_patient(frames, store.catalog),
        sessions=frames.sessions,
        prescriptions=frames.prescriptions,
        catalog=store.catalog,
        author=author,
        narrative=narrative,
        pseudonymised=pseudonymise,
        keep_text=keep_text or not pseudonymise,
        days=days,
    )


def use_report_display() -> None:
    """Set up a report kernel: plotly figures offline (plotly.js embedded once), nothing fetched.

    Does nothing when `backcare report` runs the notebook in process (the page brings
    plotly.js; reports.inprocess captures the figures)."""
    from backcare.reports.inprocess import capturing

    if not capturing():
        P.use_offline_renderer()


# ---- running and exporting (the CLI side) -------------------------------------------------------
def report_parameters(
    store: Store,
    patient_id: str,
    *,
    period_from: Any = None,
    period_to: Any = None,
    author: str = "",
    narrative: str = "",
    pseudonymise: bool = False,
    relative_dates: bool = True,
    keep_text: bool = False,
) -> dict[str, Any]:
    """The notebook's parameters for one report, checked; with pseudonymise, the pseudonym is
    computed here (creating the store's pseudonym key on first use: a write to its meta table)."""
    start, end = check_period(period_from, period_to)
    store.patient_timezone(patient_id)  # NotFoundError names the patient
    params = {
        "patient": patient_id,
        "period_from": start.isoformat() if start else "",
        "period_to": end.isoformat() if end else "",
        "author": check_text("author", author, max_len=NAME_CHARS),
        "narrative": check_text("narrative", narrative, max_len=NARRATIVE_CHARS),
        "pseudonymise": bool(pseudonymise),
        "pseudonym": pseudonym(pseudonym_key(store), patient_id) if pseudonymise else "",
        "relative_dates": bool(relative_dates),
        "keep_text": bool(keep_text),
    }
    return params


@contextmanager
def _environ(values: Mapping[str, str]) -> Iterator[None]:
    """Set environment variables for the kernel papermill starts; restore them afterwards."""
    old = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def store_url(store: Store) -> str:
    """The URL the report kernel opens the store with (the same store, password included)."""
    return store.engine.url.render_as_string(hide_password=False)


def execute_report(params: Mapping[str, Any], db_url: str, *, notebook: Path | None = None):
    """Run the report notebook with papermill on the store at db_url; return the executed notebook.

    The store's URL reaches the kernel through BACKCARE_DB (never as a parameter, so no password
    lands in the notebook). Raises ReportError with one line if a cell fails."""
    import logging

    import papermill as pm
    from papermill.exceptions import PapermillExecutionError

    path = Path(notebook or NOTEBOOK)
    if not path.is_file():
        raise ReportError(f"report notebook {path} not found; run backcare from its project folder")
    logging.getLogger("papermill").setLevel(logging.WARNING)
    try:
        with _environ({"BACKCARE_DB": db_url, "BACKCARE_STATIC": "1"}):
            nb = pm.execute_notebook(
                str(path),
                None,
                parameters=dict(params),
                progress_bar=False,
                kernel_name="python3",
                extra_arguments=["--IPKernelApp.log_level=ERROR"],
            )
    except PapermillExecutionError as exc:
        first_line = str(exc.evalue).splitlines()[0] if exc.evalue else ""
        raise ReportError(f"the report notebook failed: {exc.ename}: {first_line}") from None
    if params.get("pseudonymise"):
        nb = _redact(nb, params)
    return nb


def run_report(
    params: Mapping[str, Any],
    db_url: str,
    *,
    notebook: Path | None = None,
    plotly_json: bool = True,
):
    """Run the report notebook in this process (reports.inprocess: no kernel) on the store at
    db_url; return (the executed notebook, the figures it shows).

    The parameters are injected as papermill injects them; the store's URL reaches the
    notebook's code through BACKCARE_DB, as it reached the kernel. plotly_json=False leaves
    plotly's JSON mimetype out of figure outputs (HTML needs only their div and script).
    Raises ReportError with one line if a cell fails."""
    from papermill.iorw import load_notebook_node
    from papermill.parameterize import parameterize_notebook

    path = Path(notebook or NOTEBOOK)
    if not path.is_file():
        raise ReportError(f"report notebook {path} not found; run backcare from its project folder")
    nb = load_notebook_node(str(path))
    nb = parameterize_notebook(nb, dict(params), kernel_name="python3", language="python")
    with _environ({"BACKCARE_DB": db_url, "BACKCARE_STATIC": "1"}):
        figures = run_notebook(nb, plotly_json=plotly_json)
    if params.get("pseudonymise"):
        nb = _redact(nb, params)
    return nb, figures


def _embed_plotly_js(nb, bundle: PlotlyJS):
    """The executed notebook with plotly.js embedded once, in the first output (as plotly's own
    notebook renderer does), so its figures' HTML draws anywhere without fetching it."""
    for cell in nb.cells:
        if cell.cell_type == "code" and cell.outputs:
            import nbformat

            cell.outputs.insert(
                0,
                nbformat.v4.new_output(
                    "display_data", data={"text/html": bundle.inline()}, metadata={}
                ),
            )
            break
    return nb


_TIMING_KEYS = ("start_time", "end_time", "duration")


def _redact(nb, params: Mapping[str, Any]):
    """A pseudonymised notebook: no patient id (in the injected parameters), no timestamps."""
    nb = copy.deepcopy(nb)
    shown = {**params, "patient": params["pseudonym"]}
    for cell in nb.cells:
        if "injected-parameters" in cell.metadata.get("tags", []):
            cell.source = (
                "# Parameters (pseudonymised report: the patient id is left out)\n"
                + "".join(f"{k} = {v!r}\n" for k, v in shown.items())
            )
        cell.metadata.pop("execution", None)
        for key in _TIMING_KEYS + ("exception", "status"):
            cell.metadata.get("papermill", {}).pop(key, None)
    pm_meta = nb.metadata.get("papermill", {})
    pm_meta["parameters"] = shown
    for key in _TIMING_KEYS + ("input_path", "output_path", "environment_variables"):
        pm_meta.pop(key, None)
    return nb


_TEMPLATE = """{%- extends 'index.html.j2' -%}
{#- backcare report: the lab template minus everything it would fetch from a CDN -#}
{%- block html_head_js_requirejs -%}{%- endblock html_head_js_requirejs -%}
{%- block html_head_js_mathjax -%}{%- endblock html_head_js_mathjax -%}
{%- block html_head_js_mermaidjs -%}{%- endblock html_head_js_mermaidjs -%}
{%- block jupyter_widgets -%}{%- endblock jupyter_widgets -%}
{%- block extra_css -%}
<style type="text/css">
main { max-width: 1100px; margin: 0 auto; }
table.backcare-key-numbers td, table.backcare-annotations td,
table.backcare-diary-notes td { vertical-align: top; }
.backcare-narrative { border-left: 4px solid #7d3c98; padding: 0.2em 1em; background: #faf7fc; }
@media print { .js-plotly-plot .modebar { display: none; } }
</style>
{%- endblock extra_css -%}
"""
_EXTERNAL = re.compile(
    r"<(?:script|link|img|iframe)\b[^>]*\b(?:src|href)\s*=\s*[\"']?(?:https?:)?//", re.I
)


@cache
def _exporter():
    """nbconvert's HTML exporter with the report's template: made once per process (compiling
    the lab template takes about a second; every report of `report --all` reuses it)."""
    from jinja2 import DictLoader
    from nbconvert import HTMLExporter
    from nbconvert.preprocessors import TagRemovePreprocessor

    exporter = HTMLExporter(
        template_name="lab",
        template_file="backcare_report.html.j2",
        extra_loaders=[DictLoader({"backcare_report.html.j2": _TEMPLATE})],
        exclude_input=True,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
        exclude_anchor_links=True,
    )
    exporter.register_preprocessor(
        TagRemovePreprocessor(remove_cell_tags={"notebook-only"}), enabled=True
    )
    return exporter


def to_html(nb, title: str = "Patient report", plotly: str = "") -> str:
    """Self-contained HTML of an executed report: code, prompts and stderr hidden, no CDN scripts;
    `plotly` (PlotlyJS.inline() or .linked()) goes at the end of the head, before any figure.

    Raises ReportError if the result would still load anything from the network."""
    nb = copy.deepcopy(nb)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = [
                o
                for o in cell.outputs
                if not (o.get("output_type") == "stream" and o.get("name") == "stderr")
            ]
    nb.metadata["title"] = title
    nb.metadata.pop("widgets", None)
    body, _ = _exporter().from_notebook_node(nb)
    found = _EXTERNAL.search(body)
    if found:
        raise ReportError(
            f"the report's HTML would load {found.group(0)!r} from the network; not written"
        )
    if plotly:
        head = body.index("</head>")
        body = body[:head] + plotly + "\n" + body[head:]
    return body


@dataclass
class ReportResult:
    """One report written: where, for whom (the pseudonym if pseudonymised), its size and time."""

    path: Path
    shown_id: str
    bytes: int
    seconds: float


def report_title(params: Mapping[str, Any]) -> str:
    """The HTML title: the patient id or the pseudonym (never the name: tab lists show titles)."""
    who = params["pseudonym"] if params.get("pseudonymise") else params["patient"]
    return f"Patient report {who}"


def write_report(
    store: Store,
    patient_id: str,
    out: str | Path,
    *,
    fmt: str = "html",
    period_from: Any = None,
    period_to: Any = None,
    author: str = "",
    narrative: str = "",
    pseudonymise: bool = False,
    relative_dates: bool = True,
    keep_text: bool = False,
    notebook: Path | None = None,
    bundle: PlotlyJS | None = None,
    linked: bool = False,
) -> ReportResult:
    """Run the report for one patient and write it to out as HTML or an executed notebook.

    HTML embeds plotly.js (``bundle``, by default reports.plotlyjs.plotly_js()) unless linked:
    then it loads it from the file of that name beside it (write_reports writes it once)."""
    fmt = check_choice("format", fmt, FORMATS)
    out = Path(out)
    if out.is_dir():
        raise ValidationError("out", str(out), f"a file to write (e.g. report.{fmt}), not a folder")
    t0 = time.perf_counter()
    params = report_parameters(
        store,
        patient_id,
        period_from=period_from,
        period_to=period_to,
        author=author,
        narrative=narrative,
        pseudonymise=pseudonymise,
        relative_dates=relative_dates,
        keep_text=keep_text,
    )
    data = render_report(
        params, store_url(store), fmt, notebook=notebook, bundle=bundle, linked=linked
    )
    tmp = out.with_name(out.name + ".part")
    try:
        private_dir(out.parent)
        write_private(tmp, data.encode("utf-8"))  # owner-only from the start
        tmp.replace(out)  # never leave a half-written report under the final name
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise ReportError(f"cannot write {out}: {exc.strerror or exc}") from None
    shown = params["pseudonym"] or patient_id
    return ReportResult(out, shown, out.stat().st_size, time.perf_counter() - t0)


def render_report(
    params: Mapping[str, Any],
    db_url: str,
    fmt: str = "html",
    *,
    notebook: Path | None = None,
    bundle: PlotlyJS | None = None,
    linked: bool = False,
) -> str:
    """One report as text: HTML (plotly.js embedded, or linked) or the executed notebook."""
    bundle = bundle or plotly_js()
    nb, figures = run_report(params, db_url, notebook=notebook, plotly_json=fmt != "html")
    check_traces(figures, bundle)
    if fmt == "html":
        return to_html(
            nb, report_title(params), plotly=bundle.linked() if linked else bundle.inline()
        )
    import nbformat

    return nbformat.writes(_embed_plotly_js(nb, bundle))


def report_filename(store: Store, patient_id: str, fmt: str, pseudonymise: bool) -> str:
    """The file name write_reports uses: the patient id, or the pseudonym, plus .html / .ipynb."""
    who = pseudonym(pseudonym_key(store), patient_id) if pseudonymise else patient_id
    return f"{who}.{fmt}"


def write_reports(
    store: Store,
    out_dir: str | Path,
    *,
    fmt: str = "html",
    progress: bool | None = None,
    **options: Any,
) -> list[ReportResult]:
    """One report per patient in out_dir (named by id, or by pseudonym), with a progress bar.

    Every report runs in this process (no kernel per patient). HTML reports share one copy of
    plotly.js written into out_dir beside them (reports.plotlyjs): the folder opens offline,
    as a whole; a report copied elsewhere alone needs that file beside it."""
    from tqdm.auto import tqdm

    fmt = check_choice("format", fmt, FORMATS)
    if options.get("narrative"):
        raise ValidationError(
            "narrative", options["narrative"], "no narrative with --all (it is one patient's)"
        )
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise ValidationError("out", str(out_dir), "a folder for --all (one file per patient)")
    ids = store.patients()["patient_id"].tolist()
    if not ids:
        raise NotFoundError("patient", "", "at least one patient in the store")
    bundle = plotly_js()
    linked = fmt == "html"
    if linked:  # plotly.js once for the folder: every report loads it from beside itself
        private_dir(out_dir)
        shared = out_dir / bundle.filename
        tmp = shared.with_name(shared.name + ".part")
        try:
            write_private(tmp, bundle.source.encode("utf-8"))
            tmp.replace(shared)
        except OSError as exc:
            tmp.unlink(missing_ok=True)
            raise ReportError(f"cannot write {shared}: {exc.strerror or exc}") from None
    results = []
    for pid in tqdm(
        ids, desc="reports", unit="patient", disable=None if progress is None else not progress
    ):
        name = report_filename(store, pid, fmt, bool(options.get("pseudonymise")))
        results.append(
            write_report(
                store, pid, out_dir / name, fmt=fmt, bundle=bundle, linked=linked, **options
            )
        )
    return results
