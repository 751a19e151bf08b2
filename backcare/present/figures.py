"""Plotly figures built from backcare.analysis results: no statistics are computed here, no I/O.

Every figure aggregates before it plots (long histories are binned by week or month by
analysis.pain_display / analysis.adherence_by_month, annotations are capped), so its JSON
stays small (< 200 KB for 10 years of daily data). Numbers go in as numpy arrays, which
plotly encodes compactly (base64 "bdata").

All user text (annotation text and author, exercise names from user catalogs, titles) is
HTML-escaped before it reaches a label or hover text: plotly renders HTML in text.

``use_offline_renderer()`` makes figures show in JupyterLab, Voila and nbconvert HTML
without fetching plotly.js (or MathJax) from a CDN.
"""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio
from plotly.io.base_renderers import NotebookRenderer

from backcare import analysis as A
from backcare.domain.catalog import Catalog
from backcare.domain.wording import KIND_LABELS
from backcare.present.html import esc

MAX_ANNOTATIONS = 60
ANNOTATION_CHARS = 200
CALENDAR_MAX_WEEKS = 53
BARS_MAX = 104
TEMPLATE = "plotly_white"
COLOURS = {
    "points": "#7f9cc0",
    "rolling": "#1f3f77",
    "band": "rgba(70, 160, 90, 0.15)",
    "baseline": "#3b8a4f",
    "flare": "#c0392b",
    "session": "#7a7a7a",
    "note": "#7d3c98",
    "after": "#e59c3a",
    "met": "#2e8b57",
    "missed": "#d9a441",
    "line": "#555555",
}


# ---- helpers --------------------------------------------------------------------------------
def _dates(s: pd.Series) -> np.ndarray:
    """Naive days as a datetime64[D] array: plotly validates and copies an array whole (a list
    of strings element by element) and writes each day as "YYYY-MM-DD". A missing day is None
    (an object array)."""
    days: np.ndarray = pd.to_datetime(s).to_numpy(dtype="datetime64[D]")
    missing = np.isnat(days)
    if missing.any():
        out = days.astype(object)
        out[missing] = None
        return out
    return days


def _day_text(s: pd.Series) -> list[str]:
    """Naive days as "YYYY-MM-DD" labels."""
    days = pd.to_datetime(s).to_numpy(dtype="datetime64[D]")
    return [str(d) for d in np.datetime_as_string(days, unit="D")]


def _f(s: pd.Series | np.ndarray) -> np.ndarray:
    return np.asarray(pd.Series(s, dtype="float64").to_numpy(dtype="float64", na_value=np.nan))


def _figure(data: list[dict[str, Any]], layout: dict[str, Any]) -> go.Figure:
    """A figure with the TEMPLATE, these traces (dicts with a "type") and this layout.

    Built in one validated construction: ``update_layout``, ``add_trace`` and ``add_hline``
    each validate again and replay their changes property by property, which costs more than
    the figure itself. Assigning a template by name deep-copies and re-validates the whole
    registered template (about 10 ms); ``_template()`` is validated once, and attached the way
    plotly attaches its default template (see ``BaseFigure._initialize_layout_template``).
    Traces and every other layout property are validated as usual."""
    # a placeholder template (validated in no time) keeps plotly from copying its default one
    fig = go.Figure(data=data, layout={**layout, "template": {}})
    built = fig.layout
    built._validate = False
    try:
        built.template = _template()
    finally:
        built._validate = fig._validate
    return fig


# The TEMPLATE's defaults for subplots and trace types that no backcare figure draws (3-D
# scenes, maps, polar and ternary axes; 21 of its 24 trace types) change nothing on these
# figures, yet plotly copies a figure's template whenever it builds or serialises it: they were
# 5 KB of every figure's JSON and about a millisecond of its time.
TRACE_TYPES = ("scatter", "bar", "heatmap")
_UNDRAWN_SUBPLOTS = ("polar", "ternary", "scene", "geo", "coloraxis")
_TEMPLATE_CACHE: list[Any] = [None, None]  # [registered template, the one figures carry]


def _template() -> go.layout.Template:
    """The registered TEMPLATE, keeping only what applies to backcare's figures (TRACE_TYPES
    and the x/y plot's layout). Built and validated once per process."""
    registered = pio.templates[TEMPLATE]
    if _TEMPLATE_CACHE[0] is not registered:  # first use, or the template was re-registered
        full = registered.to_plotly_json()
        kept = go.layout.Template(
            data={t: full["data"][t] for t in TRACE_TYPES if t in full["data"]},
            layout={k: v for k, v in full["layout"].items() if k not in _UNDRAWN_SUBPLOTS},
        )
        _TEMPLATE_CACHE[:] = [registered, kept]
    return _TEMPLATE_CACHE[1]


def _hline(y: float, line: dict[str, Any], text: str | None = None) -> dict[str, Any]:
    """The shape (and "top left" label) ``fig.add_hline(y, ...)`` adds to a single plot."""
    shape = {"type": "line", "x0": 0, "x1": 1, "xref": "x domain", "y0": y, "y1": y, "yref": "y"}
    out: dict[str, Any] = {"shapes": [{**shape, "line": line}]}
    if text is not None:
        out["annotations"] = [
            {
                "showarrow": False,
                "text": text,
                "x": 0,
                "xanchor": "left",
                "xref": "x domain",
                "y": y,
                "yanchor": "bottom",
                "yref": "y",
            }
        ]
    return out


def _vline(x: float, line: dict[str, Any]) -> dict[str, Any]:
    """The shape ``fig.add_vline(x, ...)`` adds to a single plot."""
    shape = {"type": "line", "x0": x, "x1": x, "xref": "x", "y0": 0, "y1": 1, "yref": "y domain"}
    return {**shape, "line": line}


def _empty_figure(title: str, message: str) -> go.Figure:
    return _figure(
        [],
        {
            "title": esc(title),
            "height": 320,
            "xaxis": {"visible": False},
            "yaxis": {"visible": False},
            "annotations": [
                {
                    "text": esc(message),
                    "showarrow": False,
                    "xref": "paper",
                    "yref": "paper",
                    "x": 0.5,
                    "y": 0.5,
                    "font": {"size": 14},
                }
            ],
        },
    )


def _name(exercise_id: str, catalog: Catalog | None) -> str:
    if catalog is not None and exercise_id in catalog:
        return catalog[exercise_id].name
    return exercise_id


# ---- pain over time ---------------------------------------------------------------------------
_BIN_WORDS = {
    "day": ("Daily mean pain", "%{x}"),
    "week": ("Weekly mean pain", "week of %{x}"),
    "month": ("Monthly mean pain", "%{x|%b %Y}"),
}


def pain_figure(
    daily: pd.DataFrame,
    trend: A.PainTrend | None = None,
    flares: pd.DataFrame | None = None,
    annotations: pd.DataFrame | None = None,
    *,
    questionnaires: pd.DataFrame | None = None,
    start: Any = None,
    end: Any = None,
    title: str = "Pain over time",
    max_points: int = 600,
) -> go.Figure:
    """Pain over time: mean pain, 7-day rolling mean, MCID band around the baseline, and more.

    Flare-ups, sessions and annotations are marked too; so are the questionnaire responses
    (Store.questionnaires rows) dated within [start, end] (either bound may be None), as
    ``_questionnaire_parts`` draws them."""
    disp, freq = A.pain_display(daily, flares, max_points)
    if disp.empty or disp["pain"].notna().sum() == 0 and disp["sessions"].sum() == 0:
        return _empty_figure(title, "No pain scores or sessions in this period.")
    x = _dates(disp["x"])
    label, when = _BIN_WORDS[freq]
    traces: list[dict[str, Any]] = []
    if trend is not None and trend.baseline is not None:
        b = trend.baseline
        # the band is the rule itself: between the first level that counts as improved and
        # the first that counts as worse (analysis.change.change_thresholds)
        th = A.change_thresholds(b)
        lo = 0.0 if th.improved_at is None else th.improved_at
        hi = 10.0 if th.worse_at is None else th.worse_at
        traces.append(
            dict(
                type="scatter",
                x=x[[0, -1, -1, 0, 0]],
                y=np.array([lo, lo, hi, hi, lo]),
                fill="toself",
                fillcolor=COLOURS["band"],
                line={"width": 0},
                mode="lines",
                name=f"No important change from baseline {b:.1f}: {lo:.1f} to {hi:.1f}",
                hoverinfo="skip",
            )
        )
        traces.append(
            dict(
                type="scatter",
                x=x[[0, -1]],
                y=np.array([b, b]),
                mode="lines",
                name="Baseline (2 weeks from the programme's start)",
                line={"color": COLOURS["baseline"], "dash": "dash", "width": 1},
                hoverinfo="skip",
            )
        )
    traces.append(
        dict(
            type="scatter",
            x=x,
            y=_f(disp["pain"]),
            mode="markers",
            name=label,
            marker={"color": COLOURS["points"], "size": 6 if freq == "day" else 5},
            customdata=_f(disp["pain_days"]),
            hovertemplate=(
                f"{when}: %{{y:.1f}} (%{{customdata:.0f}} day(s) with a score)<extra></extra>"
            ),
        )
    )
    traces.append(
        dict(
            type="scatter",
            x=x,
            y=_f(disp["rolling"]),
            mode="lines",
            name="7-day rolling mean" + ("" if freq == "day" else f" ({freq}ly average)"),
            line={"color": COLOURS["rolling"], "width": 2.5},
            connectgaps=False,
            hovertemplate=f"{when}: rolling mean %{{y:.1f}}<extra></extra>",
        )
    )
    traces.append(
        dict(
            type="scatter",
            x=x,
            y=_f(disp["pain_after"]),
            mode="markers",
            name="Pain after sessions",
            marker={"color": COLOURS["after"], "size": 5, "symbol": "circle-open"},
            visible="legendonly",
            hovertemplate=f"{when}: after sessions %{{y:.1f}}<extra></extra>",
        )
    )

    fl = disp[disp["flares"] > 0]
    if len(fl):
        traces.append(
            dict(
                type="scatter",
                x=_dates(fl["x"]),
                y=_f(fl["pain"]),
                mode="markers",
                name="Flare-up",
                marker={
                    "color": COLOURS["flare"],
                    "size": 11,
                    "symbol": "triangle-up",
                    "line": {"color": "white", "width": 1},
                },
                customdata=_f(fl["flares"]),
                hovertemplate=(
                    f"Flare-up ({when}): pain %{{y:.1f}}, inside an episode of 2 or more days "
                    f"{A.FLARE_POINTS:g} or more points above the median of the "
                    f"{A.FLARE_BASELINE_DAYS} days before it<extra></extra>"
                )
                if freq == "day"
                else (f"{when}: %{{customdata:.0f}} day(s) in a flare-up episode<extra></extra>"),
            )
        )
    ss = disp[disp["sessions"] > 0]
    if len(ss):
        traces.append(
            dict(
                type="scatter",
                x=_dates(ss["x"]),
                y=np.full(len(ss), -0.6),
                mode="markers",
                name="Session days",
                marker={"color": COLOURS["session"], "symbol": "line-ns-open", "size": 8},
                customdata=_f(ss["sessions"]),
                hovertemplate=f"{when}: %{{customdata:.0f}} session(s)<extra></extra>",
            )
        )
    shown_notes = 0
    if annotations is not None and len(annotations):
        notes = annotations.sort_values(
            ["day", "created_at"] if "created_at" in annotations else ["day"]
        ).tail(MAX_ANNOTATIONS)
        shown_notes = len(notes)
        hover = [
            f"{esc(d.strftime('%Y-%m-%d'))} · {esc(KIND_LABELS.get(k, k))}"
            + (f" · {esc(a, 60)}" if a else "")
            + f"<br>{esc(t, ANNOTATION_CHARS)}"
            for d, k, a, t in zip(
                notes["day"], notes["kind"], notes["author"], notes["text"], strict=True
            )
        ]
        traces.append(
            dict(
                type="scatter",
                x=_dates(notes["day"]),
                y=np.full(len(notes), 10.7),
                mode="markers+text",
                name="Notes on the timeline",
                text=[esc(KIND_LABELS.get(k, k)) for k in notes["kind"]],
                textposition="top center",
                textfont={"size": 9, "color": COLOURS["note"]},
                marker={"color": COLOURS["note"], "symbol": "diamond", "size": 9},
                hovertext=hover,
                hoverinfo="text",
            )
        )
    subtitle = ""
    if annotations is not None and len(annotations) > shown_notes:
        subtitle = f" (latest {shown_notes} of {len(annotations)} notes shown)"
    layout: dict[str, Any] = {
        "title": esc(title + subtitle),
        "height": 460,
        "yaxis": {
            "title": "Pain (0 = none, 10 = worst)",
            "range": [-1.2, 11.6],
            "tickvals": list(range(0, 11, 2)),
        },
        "legend": {"orientation": "h", "yanchor": "top", "y": -0.08},
        "margin": {"t": 60, "r": 20},
    }
    q_traces, q_layout = _questionnaire_parts(questionnaires, start, end)
    if "yaxis2" in q_layout:
        layout["yaxis2"] = q_layout["yaxis2"]
        layout["margin"] = {**layout["margin"], **q_layout["margin"]}
    return _figure(traces + q_traces, layout)


# ---- questionnaires on the pain timeline ------------------------------------------------------
RMDQ_PER_PAIN_POINT = 2.4  # the right axis (RMDQ 0-24) is drawn so that 24 sits level with pain 10


def _questionnaire_parts(
    responses: pd.DataFrame | None, start: Any = None, end: Any = None
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The traces (and the layout they need) that draw questionnaire responses dated within
    [start, end] on the pain figure.

    RMDQ (0-24, higher = more disabled) on a right-hand axis scaled so 24 is level with pain
    10; PSFS means (0-10, higher = better) on the pain axis with their own markers; GROC
    ratings as labelled markers along the top. Scores come from the store as saved (scored
    by domain.questionnaires); nothing is computed here. Author and activities are escaped."""
    traces: list[dict[str, Any]] = []
    layout: dict[str, Any] = {}
    if responses is None or responses.empty:
        return traces, layout
    day = responses["day"].to_numpy(dtype="datetime64[ns]")
    shown = np.ones(len(day), dtype=bool)
    if start is not None:
        shown &= day >= pd.Timestamp(start).to_datetime64()
    if end is not None:
        shown &= day <= pd.Timestamp(end).to_datetime64()
    if not shown.any():
        return traces, layout
    instrument = responses["instrument"].to_numpy(dtype=object)

    def of(name: str) -> pd.DataFrame:
        """The shown responses of one instrument."""
        return responses[shown & (instrument == name)]

    def who(author: str) -> str:
        return f" · entered by {esc(author, 60)}" if author else ""

    rm = of("rmdq")
    if len(rm):
        traces.append(
            dict(
                type="scatter",
                x=_dates(rm["day"]),
                y=_f(rm["score"]),
                yaxis="y2",
                mode="lines+markers",
                name="RMDQ disability (0-24, right axis; lower = better)",
                line={"color": "#6c5ce7", "width": 1.5, "dash": "dot"},
                marker={"symbol": "square", "size": 9, "color": "#6c5ce7"},
                hovertext=[
                    f"{d:%Y-%m-%d}: RMDQ {v:g} / 24{who(a)}"
                    for d, v, a in zip(rm["day"], rm["score"], rm["author"], strict=True)
                ],
                hoverinfo="text",
            )
        )
        layout["yaxis2"] = {
            "title": "RMDQ (0-24)",
            "overlaying": "y",
            "side": "right",
            "range": [-1.2 * RMDQ_PER_PAIN_POINT, 11.6 * RMDQ_PER_PAIN_POINT],
            "tickvals": list(range(0, 25, 6)),
            "showgrid": False,
        }
        layout["margin"] = {"r": 60}
    ps = of("psfs")
    if len(ps):
        acts = [", ".join(f"{esc(a, 40)} {v}" for a, v in json.loads(t)) for t in ps["answers"]]
        traces.append(
            dict(
                type="scatter",
                x=_dates(ps["day"]),
                y=_f(ps["score"]),
                mode="lines+markers",
                name="PSFS function (mean 0-10, pain axis; higher = better)",
                line={"color": "#00897b", "width": 1.5, "dash": "dot"},
                marker={"symbol": "star", "size": 11, "color": "#00897b"},
                hovertext=[
                    f"{d:%Y-%m-%d}: PSFS mean {v:.1f} / 10 ({t}){who(a)}"
                    for d, v, t, a in zip(ps["day"], ps["score"], acts, ps["author"], strict=True)
                ],
                hoverinfo="text",
            )
        )
    gr = of("groc")
    if len(gr):
        traces.append(
            dict(
                type="scatter",
                x=_dates(gr["day"]),
                y=np.full(len(gr), 11.2),
                mode="markers+text",
                name="Global rating of change (-7 to +7)",
                text=[f"{v:+.0f}" for v in gr["score"]],
                textposition="middle right",
                textfont={"size": 9, "color": "#b9770e"},
                marker={"symbol": "circle", "size": 8, "color": "#b9770e"},
                hovertext=[
                    f"{d:%Y-%m-%d}: global rating of change {v:+.0f}{who(a)}"
                    for d, v, a in zip(gr["day"], gr["score"], gr["author"], strict=True)
                ],
                hoverinfo="text",
            )
        )
    return traces, layout


# ---- adherence --------------------------------------------------------------------------------
_WEEKDAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]


def adherence_calendar(
    completion: pd.DataFrame,
    weekly: pd.DataFrame | None = None,
    *,
    title: str = "Exercise calendar",
    max_weeks: int = CALENDAR_MAX_WEEKS,
) -> go.Figure:
    """Heatmap calendar: share of the day's exercises done (weeks x weekdays).

    For long periods, weekly adherence by year instead."""
    if completion is None or completion.empty or completion["due"].sum() == 0:
        return _empty_figure(title, "No programme was in force in this period.")
    weeks = A.week_start(completion["day"])
    if weeks.nunique() <= max_weeks:
        # weekday x week grid of the mean share of each cell (one day per cell)
        week = weeks.to_numpy(dtype="datetime64[ns]")
        ok = ~np.isnat(week)
        columns = np.unique(week[ok])
        cell = completion["day"].dt.day_of_week.to_numpy()[ok] * len(columns) + np.searchsorted(
            columns, week[ok]
        )
        share = completion["share"].to_numpy(dtype="float64", na_value=np.nan)[ok]
        means = pd.Series(share).groupby(cell).mean()
        z = np.full((7, len(columns)), np.nan)
        z.flat[means.index.to_numpy()] = means.to_numpy()
        trace = dict(
            type="heatmap",
            z=z,
            x=_dates(pd.Series(columns)),
            y=_WEEKDAYS,
            zmin=0,
            zmax=1,
            colorscale="Greens",
            xgap=2,
            ygap=2,
            hoverongaps=False,
            colorbar={"title": "done", "tickformat": ".0%"},
            hovertemplate="Week of %{x}, %{y}: %{z:.0%} of the exercises due<extra></extra>",
        )
        axes: dict[str, dict[str, Any]] = {
            "yaxis": {"autorange": "reversed"},
            "xaxis": {"type": "category", "nticks": 12},
        }
        sub = "share of the day's prescribed exercises ticked off"
    else:
        if weekly is None or weekly.empty:
            return _empty_figure(title, "No weekly adherence to show.")
        iso = weekly["week"].dt.isocalendar()
        w = weekly.assign(year=iso["year"].astype(int), wk=iso["week"].astype(int))
        grid = w.pivot_table(
            index="year", columns="wk", values="adherence", aggfunc="mean", dropna=False
        ).reindex(columns=range(1, 54))
        trace = dict(
            type="heatmap",
            z=grid.to_numpy(dtype="float64"),
            x=np.arange(1, 54),
            y=[str(y) for y in grid.index],
            zmin=0,
            zmax=1,
            colorscale="Greens",
            xgap=1,
            ygap=2,
            hoverongaps=False,
            colorbar={"title": "adherence", "tickformat": ".0%"},
            hovertemplate="%{y}, week %{x}: %{z:.0%} adherence<extra></extra>",
        )
        axes = {
            "xaxis": {"title": "ISO week"},
            "yaxis": {"autorange": "reversed", "type": "category"},
        }
        sub = "weekly adherence (long period: one cell per week)"
    layout = {"title": esc(f"{title}: {sub}"), "height": 330, "margin": {"t": 60, "r": 20}}
    return _figure([trace], {**layout, **axes})


def weekly_adherence_figure(
    weekly: pd.DataFrame, *, title: str = "Weekly adherence", max_bars: int = BARS_MAX
) -> go.Figure:
    """Bars of weekly (or, for long periods, monthly) exercise adherence with the 80 % line."""
    if weekly is None or weekly.empty or weekly["adherence"].notna().sum() == 0:
        return _empty_figure(title, "No programme was in force in this period.")
    if len(weekly) > max_bars:
        data = A.adherence_by_month(weekly).rename(columns={"month": "x"})
        when, unit = "%{x|%b %Y}", "Monthly"
        partial = np.zeros(len(data))
    else:
        data = weekly.rename(columns={"week": "x"})
        when, unit = "week of %{x}", "Weekly"
        partial = (~data["complete"]).to_numpy(dtype=float) * data["days"].to_numpy(dtype=float)
    colours = np.where(data["adherent"].to_numpy(), COLOURS["met"], COLOURS["missed"]).tolist()
    traces: list[dict[str, Any]] = [
        dict(
            type="bar",
            x=_dates(data["x"]),
            y=_f(data["adherence"]),
            marker={"color": colours},
            name=f"{unit} adherence",
            customdata=np.column_stack([_f(data["done"]), _f(data["prescribed"]), partial]),
            hovertemplate=(
                f"{when}: %{{y:.0%}} (%{{customdata[0]:.1f}} of %{{customdata[1]:.1f}} "
                "prescribed times)<extra></extra>"
            ),
        )
    ]
    if "session_adherence" in data.columns:
        traces.append(
            dict(
                type="scatter",
                x=_dates(data["x"]),
                y=_f(data["session_adherence"]),
                mode="lines+markers",
                name="Session adherence",
                visible="legendonly",
                line={"color": COLOURS["line"], "width": 1},
                hovertemplate=f"{when}: sessions %{{y:.0%}}<extra></extra>",
            )
        )
    return _figure(
        traces,
        {
            **_hline(
                A.ADHERENT,
                {"color": COLOURS["line"], "dash": "dash", "width": 1.5},
                "80 %: adherent",
            ),
            "title": esc(title),
            "height": 360,
            "bargap": 0.15,
            "yaxis": {"title": "Done / prescribed", "tickformat": ".0%", "range": [0, 1.08]},
            "legend": {"orientation": "h", "yanchor": "top", "y": -0.12},
            "margin": {"t": 60, "r": 20},
        },
    )


# ---- session effect ---------------------------------------------------------------------------
def session_effect_figure(
    effect: pd.DataFrame,
    catalog: Catalog | None = None,
    *,
    title: str = "Pain after minus before a session",
) -> go.Figure:
    """Mean change in pain across a session, overall and per exercise, with 95 % CI error bars.

    Suppressed rows are listed, not shown."""
    if effect is None or effect.empty or (~effect["suppressed"]).sum() == 0:
        n = int(effect["n"].iloc[0]) if effect is not None and len(effect) else 0
        return _empty_figure(
            title,
            f"Not enough sessions with pain before and after (n = {n}; "
            f"at least {A.MIN_EFFECT_N} needed).",
        )
    shown = effect[~effect["suppressed"]]
    labels = [
        (
            "All sessions"
            if s == "overall"
            else esc(" + ".join(_name(x, catalog) for x in str(e).split("+")), 60)
        )
        for s, e in zip(shown["scope"], shown["exercise_id"], strict=True)
    ]
    m = _f(shown["mean"])
    trace = dict(
        type="scatter",
        x=m,
        y=labels,
        mode="markers",
        name="Mean change (95 % CI)",
        marker={"color": COLOURS["rolling"], "size": 9},
        error_x={
            "type": "data",
            "symmetric": False,
            "array": _f(shown["ci_high"]) - m,
            "arrayminus": m - _f(shown["ci_low"]),
            "color": COLOURS["rolling"],
        },
        customdata=np.column_stack([_f(shown["n"]), _f(shown["ci_low"]), _f(shown["ci_high"])]),
        hovertemplate=(
            "%{y}: %{x:+.2f} points (95 % CI %{customdata[1]:+.2f} to "
            "%{customdata[2]:+.2f}), n = %{customdata[0]:.0f}<extra></extra>"
        ),
    )
    hidden = effect[effect["suppressed"]]
    notes = []
    said = [
        f"{label}: {esc(note)}"
        for label, note in zip(
            labels, shown["note"] if "note" in shown.columns else [""] * len(shown), strict=True
        )
        if isinstance(note, str) and note
    ]
    for i, line in enumerate(said[:5]):
        notes.append(
            {
                "text": line,
                "showarrow": False,
                "xref": "paper",
                "yref": "paper",
                "x": 0,
                "y": -0.25 - 0.08 * (i + 1),
                "xanchor": "left",
                "font": {"size": 11},
            }
        )
    if len(hidden):
        names = [
            f"{esc(_name(e, catalog), 60)} (n = {n})"
            for e, n in zip(hidden["exercise_id"], hidden["n"], strict=True)
        ][:20]
        more = f" and {len(hidden) - 20} more" if len(hidden) > 20 else ""
        notes.append(
            {
                "text": f"Not shown (fewer than {A.MIN_EFFECT_N} sessions): "
                + ", ".join(names)
                + more,
                "showarrow": False,
                "xref": "paper",
                "yref": "paper",
                "x": 0,
                "y": -0.25,
                "xanchor": "left",
                "font": {"size": 11},
            }
        )
    return _figure(
        [trace],
        {
            "shapes": [_vline(0, {"color": COLOURS["line"], "width": 1})],
            "title": esc(title),
            **({"annotations": notes} if notes else {}),
            "height": 140 + 38 * len(shown) + 24 * len(said[:5]),
            "margin": {"t": 60, "b": 80 + 24 * len(said[:5]), "l": 160, "r": 20},
            "xaxis": {"title": "Points (negative = less pain after)", "zeroline": False},
            "yaxis": {"autorange": "reversed"},
            "showlegend": False,
        },
    )


# ---- adherence against pain -------------------------------------------------------------------
def adherence_pain_figure(
    result: A.AdherencePain, *, title: str = "Adherence and next week's change in pain"
) -> go.Figure:
    """Each week's adherence against the next week's change in pain, with the fitted line and r."""
    pairs = result.pairs
    if pairs is None or pairs.empty:
        return _empty_figure(title, "No weeks with both adherence and pain scores.")
    traces: list[dict[str, Any]] = [
        dict(
            type="scatter",
            x=_f(pairs["adherence"]),
            y=_f(pairs["change"]),
            mode="markers",
            name="Weeks",
            marker={"color": COLOURS["points"], "size": 8, "line": {"color": "white", "width": 1}},
            text=_day_text(pairs["week"]),
            hovertemplate=(
                "Week of %{text}: adherence %{x:.0%}, pain next week %{y:+.1f}<extra></extra>"
            ),
        )
    ]
    if result.slope is not None and result.intercept is not None:
        xs = np.array([pairs["adherence"].min(), pairs["adherence"].max()], dtype=float)
        traces.append(
            dict(
                type="scatter",
                x=xs,
                y=result.intercept + result.slope * xs,
                mode="lines",
                name="Least-squares line",
                line={"color": COLOURS["rolling"], "width": 2},
                hoverinfo="skip",
            )
        )
    if result.r is not None:
        ci = (
            f", 95 % CI {result.ci_low:+.2f} to {result.ci_high:+.2f}"
            if result.ci_low is not None and not math.isnan(result.ci_low)
            else ""
        )
        sub = f"r = {result.r:+.2f}{ci}, n = {result.n} weeks"
        if result.note:
            sub += f" ({result.note})"
    else:
        sub = f"{result.status} (n = {result.n} weeks; at least {A.MIN_PAIRS} needed)"
    return _figure(
        traces,
        {
            **_hline(0, {"color": COLOURS["line"], "width": 1}),
            "title": esc(f"{title}: {sub}"),
            "height": 380,
            "xaxis": {"title": "Adherence this week", "tickformat": ".0%"},
            "yaxis": {"title": "Change in weekly mean pain to next week"},
            "showlegend": False,
            "margin": {"t": 60, "r": 20},
        },
    )


# ---- rendering --------------------------------------------------------------------------------
class OfflineNotebookRenderer(NotebookRenderer):
    """plotly's 'notebook' renderer that fetches nothing: plotly.js embedded once, no MathJax."""

    _activated = False

    def activate(self) -> None:
        """Embed plotly.js in the current cell's output, once per kernel (only inside IPython)."""
        try:
            from IPython import get_ipython
        except ImportError:  # pragma: no cover - IPython is a dependency of ipykernel
            return
        if OfflineNotebookRenderer._activated or get_ipython() is None:
            return
        super().activate()
        OfflineNotebookRenderer._activated = True

    def to_mimebundle(self, fig_dict: dict) -> dict[str, str]:
        """text/html with the figure's div and script (plotly.js comes from activate())."""
        return {"text/html": figure_html(fig_dict, self.config)}


def figure_html(fig: go.Figure | dict, config: dict | None = None) -> str:
    """A figure's div and the script that draws it, without plotly.js (the page brings it once)."""
    return pio.to_html(
        fig,
        config=config,
        include_plotlyjs=False,
        include_mathjax=False,
        full_html=False,
        default_width="100%",
        default_height=460,
        validate=False,
    )


OFFLINE_RENDERER = "plotly_mimetype+backcare_offline"


def use_offline_renderer() -> str:
    """Set plotly's offline default renderer (JupyterLab, Voila, nbconvert HTML); return its name.

    'plotly_mimetype' is drawn by the jupyterlab-plotly extension (JupyterLab, Voila);
    'backcare_offline' adds text/html that nbconvert keeps, with plotly.js embedded once
    (in the output of the cell that calls this) and nothing loaded from a CDN."""
    if "backcare_offline" not in pio.renderers:
        pio.renderers["backcare_offline"] = OfflineNotebookRenderer()
    pio.renderers.default = OFFLINE_RENDERER
    pio.renderers["backcare_offline"].activate()
    return OFFLINE_RENDERER


def pain_chart(d: Any) -> go.Figure:
    """The pain figure of one patient's TrendsData, questionnaires on it (trends, report, app)."""
    return pain_figure(
        d.daily,
        d.trend,
        d.flares,
        d.annotations,
        questionnaires=getattr(d, "questionnaire_responses", None),
        start=d.start,
        end=d.end,
    )


def trend_figures(d: Any, catalog: Catalog | None) -> dict[str, go.Figure]:
    """The five figures of the trends notebook and the report for one patient's TrendsData."""
    return {
        "pain": pain_chart(d),
        "calendar": adherence_calendar(d.completion, d.weekly),
        "weekly": weekly_adherence_figure(d.weekly),
        "effect": session_effect_figure(d.effect, catalog),
        "adherence_pain": adherence_pain_figure(d.adherence_pain),
    }
