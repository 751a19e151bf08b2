"""backcare.present.figures: figure structure, escaped user text, size bound, offline renderer."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import plotly.io as pio
import pytest

from backcare import analysis as A
from backcare.domain.catalog import Catalog, Exercise, default_catalog
from backcare.present import figures as P
from tests.support.frames import D, items, sessions, typed

EVIL = "<script>alert(1)</script>"
EVIL_AUTHOR = "<img src=x onerror=alert(2)>"
LIMIT = 200_000


def history(days: int, seed: int = 7, notes: int | None = None):
    """Synthetic frames for one patient: daily sessions of 8 exercises, yearly programme changes."""
    rng = np.random.default_rng(seed)
    start = pd.Timestamp("2015-01-05")
    day = pd.date_range(start, periods=days, freq="D")
    ex = default_catalog().ids()
    sid = [f"s{i}" for i in range(days)]
    before = rng.integers(2, 9, days)
    sessions = typed(
        "sessions",
        {
            "session_id": sid,
            "patient_id": ["p"] * days,
            "day": day,
            "pain_before": before,
            "pain_after": np.clip(before + rng.integers(-2, 2, days), 0, 10),
        },
    )
    done = rng.random((days, len(ex))) < 0.7
    items = typed(
        "items",
        {
            "session_id": np.repeat(sid, len(ex)),
            "patient_id": ["p"] * days * len(ex),
            "day": np.repeat(day, len(ex)),
            "exercise_id": ex * days,
            "done": done.ravel(),
        },
    )
    pain = typed(
        "pain",
        {
            "pain_id": [f"x{i}" for i in range(days // 3)],
            "patient_id": ["p"] * (days // 3),
            "day": day[::3][: days // 3],
            "score": rng.integers(0, 11, days // 3),
        },
    )
    starts = list(pd.date_range(start, periods=max(1, days // 365), freq="365D"))
    rows = []
    cat = default_catalog()
    for k, vf in enumerate(starts):
        vt = starts[k + 1] - pd.Timedelta(days=1) if k + 1 < len(starts) else None
        for e in ex:
            dose = cat[e].main_dose
            rows.append(
                {
                    "programme_id": k + 1,
                    "patient_id": "p",
                    "valid_from": vf,
                    "valid_to": vt,
                    "exercise_id": e,
                    "times_per_week": 7 if k % 2 else 3,
                    dose: getattr(cat[e], dose)[0],
                }
            )
    rx = typed(
        "prescriptions",
        {
            c: [r.get(c) for r in rows]
            for c in (
                "programme_id",
                "patient_id",
                "valid_from",
                "valid_to",
                "exercise_id",
                "times_per_week",
                "hold_s",
                "reps",
                "minutes",
            )
        },
    )
    n_notes = days if notes is None else notes
    notes_df = typed(
        "annotations",
        {
            "annotation_id": [f"a{i}" for i in range(n_notes)],
            "patient_id": ["p"] * n_notes,
            "day": day[:n_notes],
            "author": [EVIL_AUTHOR] * n_notes,
            "kind": ["note"] * n_notes,
            "text": [EVIL + " " + "x" * 3990] * n_notes,
            "created_at": pd.Timestamp("2025-01-01", tz="UTC"),
        },
    )
    return {
        "sessions": sessions,
        "items": items,
        "pain": pain,
        "rx": rx,
        "notes": notes_df,
        "start": day[0],
        "end": day[-1],
    }


def all_figures(h) -> dict:
    daily = A.daily_pain(h["sessions"], h["pain"], h["start"], h["end"])
    trend, flares = A.pain_trend(daily), A.flare_ups(daily)
    weekly = A.weekly_adherence(h["rx"], h["items"], h["start"], h["end"])
    completion = A.daily_completion(h["rx"], h["items"], h["start"], h["end"])
    return {
        "pain": P.pain_figure(daily, trend, flares, h["notes"]),
        "calendar": P.adherence_calendar(completion, weekly),
        "weekly": P.weekly_adherence_figure(weekly),
        "effect": P.session_effect_figure(
            A.session_effect(h["sessions"], h["items"]), default_catalog()
        ),
        "adherence_pain": P.adherence_pain_figure(A.adherence_vs_pain(weekly, daily)),
    }


@pytest.fixture(scope="module")
def ten_years():
    return all_figures(history(3653))


@pytest.fixture(scope="module")
def eight_weeks():
    h = history(56, notes=3)
    return h, all_figures(h)


def strings(obj) -> list[str]:
    """Every string in a decoded figure JSON."""
    if isinstance(obj, str):
        return [obj]
    if isinstance(obj, dict):
        return [s for v in obj.values() for s in strings(v)]
    if isinstance(obj, list):
        return [s for v in obj for s in strings(v)]
    return []


def names(fig) -> list[str]:
    return [t.name for t in fig.data]


# ---- size ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["pain", "calendar", "weekly", "effect", "adherence_pain"])
def test_every_figure_stays_under_200_kb_with_ten_years_of_daily_data(ten_years, name):
    assert len(ten_years[name].to_json()) < LIMIT


def test_long_histories_are_binned_not_plotted_point_by_point(ten_years):
    pain = ten_years["pain"]
    assert "Weekly mean pain" in names(pain)
    points = next(t for t in pain.data if t.name == "Weekly mean pain")
    assert 520 <= len(points.x) <= 523  # 3653 days -> 522 or 523 weeks
    notes = next(t for t in pain.data if t.name == "Notes on the timeline")
    assert len(notes.x) == P.MAX_ANNOTATIONS
    assert f"latest {P.MAX_ANNOTATIONS} of 3653 notes" in pain.layout.title.text
    # more than two years of bars become months; more than a year of calendar becomes year x week
    assert len(ten_years["weekly"].data[0].x) <= 121
    assert ten_years["calendar"].data[0].z.shape[1] == 53


# ---- template -----------------------------------------------------------------------------------
def test_figures_carry_the_templates_settings_for_everything_they_draw(eight_weeks, ten_years):
    """The template each figure carries is plotly_white less the parts for subplots and trace
    types no figure draws; everything it keeps is plotly_white's, unchanged."""
    full = pio.templates[P.TEMPLATE].to_plotly_json()
    dropped = {"polar", "ternary", "scene", "geo", "coloraxis"}
    for fig in [*eight_weeks[1].values(), *ten_years.values()]:
        carried = fig.layout.template.to_plotly_json()
        assert carried["layout"] == {k: v for k, v in full["layout"].items() if k not in dropped}
        for trace in fig.data:
            assert carried["data"][trace.type] == full["data"][trace.type]
        assert set(carried["data"]) == {"scatter", "bar", "heatmap"}


# ---- structure ----------------------------------------------------------------------------------
def test_pain_figure_has_points_rolling_mean_band_flares_sessions_and_notes(eight_weeks):
    h, figs = eight_weeks
    fig = figs["pain"]
    got = names(fig)
    for expected in (
        "Daily mean pain",
        "7-day rolling mean",
        "Pain after sessions",
        "Session days",
        "Notes on the timeline",
    ):
        assert expected in got
    daily = A.daily_pain(h["sessions"], h["pain"], h["start"], h["end"])
    trend = A.pain_trend(daily)
    band = next(t for t in fig.data if t.fill == "toself")
    b = trend.baseline
    # the band is the class rule's own boundaries (analysis.change.change_thresholds)
    th = A.change_thresholds(b)
    assert min(band.y) == pytest.approx(th.improved_at if th.improved_at is not None else 0)
    assert max(band.y) == pytest.approx(th.worse_at if th.worse_at is not None else 10)
    assert band.name.startswith(f"No important change from baseline {b:.1f}")
    points = next(t for t in fig.data if t.name == "Daily mean pain")
    assert len(points.x) == 56
    np.testing.assert_allclose(np.asarray(points.y, dtype=float), daily["pain"].to_numpy())
    flares = A.flare_ups(daily)
    if len(flares):
        marks = next(t for t in fig.data if t.name == "Flare-up")
        assert [str(d) for d in marks.x] == pd.DatetimeIndex(A.flare_days(flares)).strftime(
            "%Y-%m-%d"
        ).tolist()


def test_pain_figure_marks_hand_made_flare_up_and_session_days():
    # 14 days at 3, then 6 on 15 and 16 Jan (3 above the median 3): one 2-day episode
    day = pd.date_range("2024-01-01", periods=18, freq="D")
    daily = pd.DataFrame(
        {
            "day": day,
            "pain": [3.0] * 14 + [6.0, 6.0, 3.0, np.nan],
            "n_scores": 1,
            "pain_after": np.nan,
            "n_after": 0,
            "sessions": [1, 0] * 9,
            "rolling": np.nan,
        }
    )
    fig = P.pain_figure(daily, None, A.flare_ups(daily))
    assert [str(d) for d in next(t for t in fig.data if t.name == "Flare-up").x] == [
        "2024-01-15",
        "2024-01-16",
    ]
    assert [str(d) for d in next(t for t in fig.data if t.name == "Session days").x] == [
        f"2024-01-{d:02d}" for d in (1, 3, 5, 7, 9, 11, 13, 15, 17)
    ]
    assert not any(t.name.startswith("Baseline") for t in fig.data)  # no trend, no band


def test_weekly_bars_have_the_80_percent_line(eight_weeks):
    fig = eight_weeks[1]["weekly"]
    assert fig.data[0].type == "bar"
    lines = [s for s in fig.layout.shapes if s.type == "line"]
    assert any(s.y0 == 0.8 and s.y1 == 0.8 for s in lines)
    assert any("80 %" in (a.text or "") for a in fig.layout.annotations)


def test_calendar_is_a_weekday_by_week_heatmap(eight_weeks):
    fig = eight_weeks[1]["calendar"]
    hm = fig.data[0]
    assert hm.type == "heatmap" and list(hm.y) == ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
    assert np.asarray(hm.z).shape == (7, 8)


def test_session_effect_shows_ci_error_bars_and_lists_suppressed_exercises():
    eff = pd.DataFrame(
        {
            "scope": ["overall", "exercise", "exercise"],
            "exercise_id": ["", "plank", "bird-dog"],
            "n": [20, 12, 3],
            "mean": [-0.8, -1.0, np.nan],
            "sd": [1.0, 1.0, np.nan],
            "ci_low": [-1.3, -1.6, np.nan],
            "ci_high": [-0.3, -0.4, np.nan],
            "suppressed": [False, False, True],
        }
    )
    fig = P.session_effect_figure(eff, default_catalog())
    tr = fig.data[0]
    assert list(tr.y) == ["All sessions", "Plank"]
    np.testing.assert_allclose(tr.error_x.array, [0.5, 0.6])
    np.testing.assert_allclose(tr.error_x.arrayminus, [0.5, 0.6])
    assert "Bird Dog (n = 3)" in fig.layout.annotations[0].text


def test_session_effect_without_an_interval_says_so_and_draws_no_bar():
    eff = A.session_effect(
        sessions(*[(f"s{i}", D(i), 5, 4) for i in range(5)]),
        items(*[(f"s{i}", D(i), "plank", True) for i in range(5)]),
    )
    fig = P.session_effect_figure(eff, default_catalog())
    tr = fig.data[0]
    assert list(tr.y) == ["All sessions"] and list(tr.x) == [-1.0]
    assert np.isnan(np.asarray(tr.error_x.array, dtype=float)).all()
    texts = [a.text for a in fig.layout.annotations]
    assert "All sessions: all 5 sessions changed pain by exactly -1 points; no interval" in texts


def test_adherence_pain_scatter_draws_the_line_passed_in():
    pairs = pd.DataFrame(
        {
            "week": pd.date_range("2024-01-01", periods=6, freq="7D"),
            "adherence": [0.1, 0.2, 0.3, 0.4, 0.5, 0.6],
            "pain": 5.0,
            "next_pain": 5.0,
            "change": [1.0, 0, 0.5, -0.5, -1, -1],
        }
    )
    res = A.AdherencePain(pairs, 6, -0.5, -0.9, 0.4, -4.0, 1.5, "ok")
    fig = P.adherence_pain_figure(res)
    line = next(t for t in fig.data if t.name == "Least-squares line")
    np.testing.assert_allclose(line.x, [0.1, 0.6])
    np.testing.assert_allclose(line.y, [1.5 - 0.4, 1.5 - 2.4])
    assert "r = -0.50" in fig.layout.title.text and "n = 6" in fig.layout.title.text


def test_empty_inputs_give_a_message_not_an_error():
    empty_daily = A.daily_pain(None, None)
    assert P.pain_figure(empty_daily).layout.annotations[0].text.startswith("No pain")
    assert (
        "No programme"
        in P.weekly_adherence_figure(A.weekly_adherence(None, None, "2024-01-01", "2024-01-07"))
        .layout.annotations[0]
        .text
    )
    assert (
        "No programme"
        in P.adherence_calendar(A.daily_completion(None, None, "2024-01-01", "2024-01-07"))
        .layout.annotations[0]
        .text
    )
    eff = A.session_effect(None, None)
    assert "at least 5" in P.session_effect_figure(eff).layout.annotations[0].text
    res = A.adherence_vs_pain(None, None)
    assert "No weeks" in P.adherence_pain_figure(res).layout.annotations[0].text


# ---- escaping -----------------------------------------------------------------------------------
def test_annotation_text_and_author_are_escaped(eight_weeks):
    fig = eight_weeks[1]["pain"]
    texts = strings(json.loads(fig.to_json()))
    assert not any("<script" in s or "<img" in s for s in texts)
    assert any("&lt;script&gt;alert(1)&lt;/script&gt;" in s for s in texts)
    assert any("&lt;img src=x onerror=alert(2)&gt;" in s for s in texts)
    assert not any("x" * 300 in s for s in texts)  # long notes are cut


def test_user_catalog_names_are_escaped():
    evil = Exercise(
        id="evil",
        name="<b onmouseover=alert(3)>Evil</b>",
        group="additional",
        position="p",
        steps=("s",),
        cautions=(),
        source="user",
        reps=(1, 2),
    )
    cat = Catalog([*default_catalog(), evil])
    eff = pd.DataFrame(
        {
            "scope": ["overall", "exercise", "exercise"],
            "exercise_id": ["", "evil", "evil2"],
            "n": [9, 9, 1],
            "mean": [0.0, 0.0, np.nan],
            "sd": [1.0, 1.0, np.nan],
            "ci_low": [-1.0, -1.0, np.nan],
            "ci_high": [1.0, 1.0, np.nan],
            "suppressed": [False, False, True],
        }
    )
    fig = P.session_effect_figure(eff, cat)
    texts = strings(json.loads(fig.to_json()))
    assert not any("<b " in s for s in texts)
    assert "&lt;b onmouseover=alert(3)&gt;Evil&lt;/b&gt;" in fig.data[0].y


def test_esc_truncates_before_escaping():
    assert P.esc("<" * 10, limit=4) == "&lt;&lt;&lt;…"
    assert P.esc(None) == "" and P.esc("a\nb") == "a<br>b"


# ---- rendering ----------------------------------------------------------------------------------
def test_offline_renderer_gives_lab_and_html_bundles_without_a_cdn(restore_renderer, eight_weeks):
    assert P.use_offline_renderer() == "plotly_mimetype+backcare_offline"
    assert pio.renderers.default == "plotly_mimetype+backcare_offline"
    bundle = eight_weeks[1]["weekly"]._repr_mimebundle_()
    assert "application/vnd.plotly.v1+json" in bundle and "text/html" in bundle
    html = bundle["text/html"]
    assert "Plotly.newPlot" in html
    for bad in ("<script src", "cdn.plot.ly", "cdnjs", "mathjax", "https://"):
        assert bad not in html.lower()
