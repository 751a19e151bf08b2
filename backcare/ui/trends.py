"""The pain-trends view: patient and period pickers that redraw the summary and figures.

Reads only (never writes): store -> analysis -> plots. Each section (summary, pain,
calendar, weekly, effect, adherence_pain, suggestions) lives in its own ipywidgets
``Output``, so notebook cells can place them between markdown and a change of patient or
period redraws them in JupyterLab and Voila. The Output contents are set directly (no
kernel capture), so the view is testable without a kernel.

Static mode (``live=False``, or environment variable BACKCARE_STATIC=1): ``show()``
displays plain outputs instead of Output widgets, so nbconvert HTML keeps the figures
without any widget JavaScript.
"""

from __future__ import annotations

import datetime as dt
import html
import os
from dataclasses import dataclass, field
from typing import Any

import ipywidgets as W
import pandas as pd
import plotly.graph_objects as go
from IPython.display import HTML, display

from backcare import analysis as A
from backcare.domain.wording import CONSULT_ADVICE, SUGGESTION_DISCLAIMER
from backcare.errors import ValidationError
from backcare.present import figures as P
from backcare.present.html import esc
from backcare.present.html import paragraph as _p
from backcare.store import Store
from backcare.ui.widgets import PatientPicker

PERIODS: dict[str, int | None] = {
    "Last 4 weeks": 28,
    "Last 8 weeks": 56,
    "Last 12 weeks": 84,
    "Last 6 months": 182,
    "Last year": 365,
    "All history": None,
}
SECTIONS = ("summary", "pain", "calendar", "weekly", "effect", "adherence_pain", "suggestions")
UNITS = {"hold_s": "s hold", "reps": "reps", "minutes": "min"}
PROGRESSION_SPAN = pd.Timedelta(days=A.PROGRESSION_WINDOW_DAYS - 1)

CAVEATS = {
    "pain": (
        A.TREND_CAVEAT + " The green band is the baseline ± 2 points: a change that "
        "stays inside it is not clinically important."
    ),
    "calendar": (
        "A cell's colour is the share of the programme's exercises ticked off that "
        "day. Exercises prescribed fewer than 7 times a week are not due every day, "
        "so a pale day is not necessarily a missed one: the weekly bars account for "
        "that. " + A.SELF_REPORT_CAVEAT
    ),
    "weekly": (
        "Each bar is done / prescribed for the week, using the programme in force on "
        "each day; doing an exercise more often than prescribed does not make up for "
        "another. Partial weeks at the edges are pro-rated. " + A.SELF_REPORT_CAVEAT
    ),
    "effect": A.SESSION_EFFECT_CAVEAT,
    "adherence_pain": A.ASSOCIATION_CAVEAT,
    "suggestions": SUGGESTION_DISCLAIMER + " " + CONSULT_ADVICE,
}


@dataclass
class TrendsData:
    """Everything the view shows for one patient and period (analysis results, no widgets)."""

    patient_id: str
    name: str
    start: pd.Timestamp
    end: pd.Timestamp
    daily: pd.DataFrame
    trend: A.PainTrend
    flares: pd.DataFrame
    weekly: pd.DataFrame
    completion: pd.DataFrame
    effect: pd.DataFrame
    adherence_pain: A.AdherencePain
    streaks: A.Streaks
    habit: float | None
    suggestions: pd.DataFrame
    annotations: pd.DataFrame
    summary: str = field(default="")


@dataclass
class PatientFrames:
    """One patient's raw frames for [start, end] (store dtypes), as analyse_frames takes them.

    history_items holds the items since the first programme (or start, if earlier): habit
    strength and streaks need the history, not just the period."""

    patient_id: str
    name: str
    start: pd.Timestamp
    end: pd.Timestamp
    prescriptions: pd.DataFrame
    sessions: pd.DataFrame
    items: pd.DataFrame
    history_items: pd.DataFrame
    pain: pd.DataFrame
    annotations: pd.DataFrame


def read_frames(
    store: Store,
    patient_id: str,
    start: dt.date | None = None,
    end: dt.date | None = None,
    *,
    last_days: int | None = None,
) -> PatientFrames:
    """Read one patient's frames for [start, end] (end None: today; start None: the last_days
    days ending on end, or with last_days None too, the whole history)."""
    who = store.patient(patient_id)
    if who is None:
        raise ValueError(f"patient_id: {patient_id!r} is not in the store")
    name = str(who["name"])
    end_ts = pd.Timestamp(end or store.local_today(patient_id))
    rx = store.prescriptions(patient_id)
    pain_all = None
    if start is None and last_days is not None:
        start_ts = end_ts - pd.Timedelta(days=last_days - 1)
    elif start is None:
        firsts = [rx["valid_from"].min() if len(rx) else pd.NaT, who["first_day"]]
        pain_all = store.pain(patient_id, None, end_ts)
        firsts.append(pain_all["day"].min() if len(pain_all) else pd.NaT)
        firsts = [f for f in firsts if not pd.isna(f)]
        start_ts = min(firsts) if firsts else end_ts
    else:
        start_ts = pd.Timestamp(start)
    start_ts = min(start_ts, end_ts)
    # items are read once, for the history (they hold the period's)
    h_start = _history_start(rx, start_ts)
    h_items = store.items(patient_id, h_start, end_ts)
    items = _days(h_items, start_ts) if h_start < start_ts else h_items
    return PatientFrames(
        patient_id=patient_id,
        name=name,
        start=start_ts,
        end=end_ts,
        prescriptions=rx,
        sessions=store.sessions(patient_id, start_ts, end_ts),
        items=items,
        history_items=h_items,
        pain=(
            store.pain(patient_id, start_ts, end_ts) if pain_all is None
            else _days(pain_all, start_ts)
        ),
        annotations=store.annotations(patient_id, start_ts, end_ts),
    )


def _history_start(rx: pd.DataFrame, start: pd.Timestamp) -> pd.Timestamp:
    """The first day of the first programme, or start if earlier (or no programme)."""
    return min(rx["valid_from"].min(), start) if len(rx) else start


def _days(frame: pd.DataFrame, start: pd.Timestamp) -> pd.DataFrame:
    """The rows of a store frame with day >= start, in order: what the store reads from start on."""
    return frame[frame["day"] >= start].reset_index(drop=True)


def analyse_frames(f: PatientFrames, catalog: Any) -> TrendsData:
    """Run every analysis the view (and the report) shows on one patient's frames."""
    start_ts, end_ts, rx, items = f.start, f.end, f.prescriptions, f.items
    daily = A.daily_pain(f.sessions, f.pain, start_ts, end_ts)
    trend = A.pain_trend(daily)
    flares = A.flare_ups(daily)
    # habit strength and streaks need the history since the first programme, not just this
    # period; prescriptions are expanded once, for the history, and shared (in_force)
    h_start, h_items = _history_start(rx, start_ts), f.history_items
    shared = A.in_force_days(rx, h_items, h_start, end_ts) if len(rx) else None
    weekly = A.weekly_adherence(rx, items, start_ts, end_ts, in_force=shared)
    habit, history = None, weekly
    if len(rx):
        hs = A.habit_strength(rx, h_items, h_start, end_ts, in_force=shared)
        habit = float(hs["habit"].iloc[-1]) if len(hs) else None
        if h_start < start_ts:
            history = A.weekly_adherence(rx, h_items, h_start, end_ts, in_force=shared)
    streak = A.streaks(history)
    data = TrendsData(
        patient_id=f.patient_id,
        name=f.name,
        start=start_ts,
        end=end_ts,
        daily=daily,
        trend=trend,
        flares=flares,
        weekly=weekly,
        completion=A.daily_completion(rx, items, start_ts, end_ts, in_force=shared),
        effect=A.session_effect(f.sessions, items),
        adherence_pain=A.adherence_vs_pain(weekly, daily),
        streaks=streak,
        habit=habit,
        annotations=f.annotations,
        suggestions=A.progression_suggestions(
            rx, items, daily, catalog, end_ts, f.annotations, flares=flares,
            # its window must hold only this period's items, as `items` does
            in_force=shared if end_ts - PROGRESSION_SPAN >= start_ts else None,
        ),
    )
    data.summary = A.summarise(trend, weekly, data.streaks, habit)
    return data


def load_trends(
    store: Store, patient_id: str, period: str = "Last 8 weeks", end: dt.date | None = None
) -> TrendsData:
    """Read one patient's frames for the period from the store and run every analysis on them."""
    if period not in PERIODS:
        raise ValueError(f"period: {period!r} is not one of {', '.join(PERIODS)}")
    return analyse_frames(
        read_frames(store, patient_id, end=end, last_days=PERIODS[period]), store.catalog
    )


def trend_figures(d: TrendsData, catalog: Any) -> dict[str, go.Figure]:
    """The five figures of the trends notebook for one patient's TrendsData, by section."""
    return {
        "pain": P.pain_figure(d.daily, d.trend, d.flares, d.annotations),
        "calendar": P.adherence_calendar(d.completion, d.weekly),
        "weekly": P.weekly_adherence_figure(d.weekly),
        "effect": P.session_effect_figure(d.effect, catalog),
        "adherence_pain": P.adherence_pain_figure(d.adherence_pain),
    }


def suggestions_html(suggestions: pd.DataFrame, store_catalog: Any) -> str:
    """The up/down progression suggestions as an HTML list (user text escaped); hold rows summarised."""
    moves = (
        suggestions[suggestions["direction"].isin(["up", "down"])]
        if len(suggestions)
        else suggestions
    )
    if moves is None or moves.empty:
        return _p("No change of dose is suggested at the moment.")
    lis = []
    for _, r in moves.iterrows():
        name = (
            store_catalog[r["exercise_id"]].name
            if r["exercise_id"] in store_catalog
            else r["exercise_id"]
        )
        unit = UNITS.get(r["dose"], r["dose"])
        word = "Consider progressing" if r["direction"] == "up" else "Consider stepping back"
        lis.append(
            f"<li><b>{html.escape(word)}: {html.escape(str(name))}</b> from "
            f"{int(r['current'])} to {int(r['suggested'])} {html.escape(unit)}. "
            f"{html.escape(str(r['reason']).capitalize())}.</li>"
        )
    return "<ul>" + "".join(lis) + "</ul>"


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
            self.patient.load(store, patient_id)  # an unknown patient_id: ValidationError (a ValueError)
        except ValidationError:
            raise
        except Exception as exc:  # e.g. no store yet, or one that needs upgrading
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
        self.redraw()

    def _build(self) -> dict[str, list[Any]]:
        if self.patient.value is None:
            self.data = None
            text = self._store_error or "No patients in the store yet."
            return {name: [HTML(_p(text))] if name == "summary" else [] for name in SECTIONS}
        d = load_trends(self.store, self.patient.value, self.period.value, self.end)
        self.data = d
        who = esc(d.name or d.patient_id)
        head = (
            f"<h3 style='margin:0.2em 0'>{who}: {d.start:%d %b %Y} to {d.end:%d %b %Y}</h3>"
            + _p(d.summary, "summary")
        )
        cat = self.store.catalog
        figs = trend_figures(d, cat)
        return {
            "summary": [HTML(head)],
            **{name: [fig] for name, fig in figs.items()},
            "suggestions": [HTML(suggestions_html(d.suggestions, cat))],
        }

    def redraw(self) -> None:
        """Recompute everything for the chosen patient and period and refill every section."""
        try:
            built = self._build()
            self.error = self._store_error
        except Exception as exc:  # shown to the user instead of a silent blank page
            self.error = f"Could not draw this view: {exc}"
            built = {name: [HTML(_p(self.error))] if name == "summary" else [] for name in SECTIONS}
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
