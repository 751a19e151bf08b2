"""The dashboard's fast paths give exactly what the straightforward computations give.

Analysis and store functions are compared with the plain pandas versions they replaced
(tests/reference_impl.py) on generated histories; load_trends with the public functions
called one by one; figures with what plotly's own validated methods build. Equality is
exact: same values, dtypes and index, not approximately equal. No timings here (see
benchmarks/bench_dashboard.py)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import math

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest

from backcare import analysis as A
from backcare.demo import fill_demo
from backcare.domain.catalog import default_catalog
from backcare.present import figures as P
from backcare.store import open_store
from backcare.store.frames import typed_frame, with_valid_to
from backcare.ui.trends import (
    PERIODS,
    TrendsData,
    analyse_frames,
    load_trends,
    read_frames,
    trend_figures,
)
from tests import reference_impl as R
from tests.test_plots import all_figures, history, typed

CATALOG = default_catalog()
EXERCISES = CATALOG.ids()
DAY0 = pd.Timestamp("2024-01-01")


def same(a, b, where: str = "") -> None:
    """Exact equality of frames, dataclasses of frames, and plain values (NaN equals NaN)."""
    if isinstance(a, pd.DataFrame):
        pd.testing.assert_frame_equal(a, b, check_exact=True, obj=where or "frame")
    elif dataclasses.is_dataclass(a):
        assert type(a) is type(b), where
        for f in dataclasses.fields(a):
            same(getattr(a, f.name), getattr(b, f.name), f"{where}.{f.name}")
    elif isinstance(a, tuple):
        assert isinstance(b, tuple) and len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            same(x, y, f"{where}[{i}]")
    elif isinstance(a, float) and math.isnan(a):
        assert isinstance(b, float) and math.isnan(b), where
    else:
        assert type(a) is type(b) and a == b, f"{where}: {a!r} != {b!r}"
        if isinstance(a, pd.Timestamp):
            assert a.unit == b.unit, where


# ---- generated histories --------------------------------------------------------------------
def generated(seed: int) -> dict:
    """One patient's frames: programme changes (some on the same day), gaps, two sessions a
    day, items of unprescribed exercises, missing scores, flare-up notes."""
    rng = np.random.default_rng(seed)
    days = int(rng.integers(1, 240))
    rows = []
    for k in range(int(rng.integers(1, 5))):
        since = DAY0 + pd.Timedelta(days=int(rng.integers(-30, days)))
        for pos, ex in enumerate(
            rng.choice(EXERCISES, size=int(rng.integers(1, 7)), replace=False)
        ):
            dose = CATALOG[ex].main_dose
            rows.append(
                (
                    k + 1,
                    "p",
                    since.date(),
                    None,
                    pos,
                    str(ex),
                    1,
                    *[
                        int(rng.integers(1, 60)) if d == dose and rng.random() < 0.9 else None
                        for d in ("reps", "hold_s", "minutes")
                    ],
                    False,
                    int(rng.integers(1, 15)),
                    "",
                    "",
                )
            )
    rx = with_valid_to(typed_frame(rows, "prescriptions"))
    n_sess = int(rng.integers(0, days + 20))
    sess_day = DAY0 + pd.to_timedelta(np.sort(rng.integers(-20, days + 5, n_sess)), unit="D")
    sid = [f"s{i:04d}" for i in rng.permutation(n_sess)]
    before = [int(v) if rng.random() < 0.8 else None for v in rng.integers(0, 11, n_sess)]
    after = [int(v) if rng.random() < 0.7 else None for v in rng.integers(0, 11, n_sess)]
    sessions = typed(
        "sessions",
        {
            "session_id": sid,
            "patient_id": ["p"] * n_sess,
            "day": sess_day,
            "pain_before": before,
            "pain_after": after,
        },
    )
    it = [
        (s, d, str(e), bool(rng.random() < 0.7))
        for s, d in zip(sid, sess_day, strict=True)
        for e in rng.choice(EXERCISES, size=int(rng.integers(1, 6)), replace=False)
    ]
    items = typed(
        "items",
        {
            "session_id": [r[0] for r in it],
            "patient_id": ["p"] * len(it),
            "day": [r[1] for r in it],
            "exercise_id": [r[2] for r in it],
            "done": [r[3] for r in it],
        },
    )
    n_pain = int(rng.integers(0, days))
    pain = typed(
        "pain",
        {
            "pain_id": [f"x{i}" for i in range(n_pain)],
            "patient_id": ["p"] * n_pain,
            "day": DAY0 + pd.to_timedelta(rng.integers(-10, days, n_pain), unit="D"),
            "score": rng.integers(0, 11, n_pain),
        },
    )
    n_notes = int(rng.integers(0, 4))
    notes = typed(
        "annotations",
        {
            "annotation_id": [f"a{i}" for i in range(n_notes)],
            "patient_id": ["p"] * n_notes,
            "day": DAY0 + pd.to_timedelta(rng.integers(0, days, n_notes), unit="D"),
            "kind": ["flare-up"] * n_notes,
            "text": ["flare"] * n_notes,
        },
    )
    end = DAY0 + pd.Timedelta(days=int(rng.integers(0, days + 10)))
    start = end - pd.Timedelta(days=int(rng.choice([0, 6, 13, 27, 55, 120, 300])))
    return {
        "rx": rx,
        "sessions": sessions,
        "items": items,
        "pain": pain,
        "notes": notes,
        "start": start,
        "end": end,
        "rows": rows,
    }


def in_period(frame: pd.DataFrame, start, end) -> pd.DataFrame:
    return frame[(frame["day"] >= start) & (frame["day"] <= end)].reset_index(drop=True)


SEEDS = range(40)


@pytest.mark.parametrize("seed", SEEDS)
def test_analysis_matches_the_straightforward_pandas_versions(seed):
    g = generated(seed)
    rx, start, end, notes = g["rx"], g["start"], g["end"], g["notes"]
    items = in_period(g["items"], start, end)
    sessions = in_period(g["sessions"], start, end)
    pain = in_period(g["pain"], start, end)
    same(A.expand_prescriptions(rx, start, end), R.expand_prescriptions(rx, start, end), "expand")
    same(A._in_force_with_done(rx, items, start, end), R._in_force_with_done(rx, items, start, end))
    for name in ("weekly_adherence", "adherence_by_exercise", "daily_completion", "habit_strength"):
        same(getattr(A, name)(rx, items, start, end), getattr(R, name)(rx, items, start, end), name)
    daily = R.daily_pain(sessions, pain, start, end)
    same(A.daily_pain(sessions, pain, start, end), daily, "daily_pain")
    same(
        A.daily_pain(g["sessions"], g["pain"]), R.daily_pain(g["sessions"], g["pain"]), "daily_pain"
    )
    weekly = R.weekly_adherence(rx, items, start, end)
    same(A.flare_ups(daily), R.flare_ups(daily), "flare_ups")
    gaps = daily[daily["pain"].notna()].iloc[::-1]  # unordered, with gaps
    same(A.flare_ups(gaps), R.flare_ups(gaps), "flare_ups with gaps")
    same(A.streaks(weekly), R.streaks(weekly), "streaks")
    same(A.weekly_pain(daily), R.weekly_pain(daily), "weekly_pain")
    same(
        A.adherence_vs_pain(weekly, daily), R.adherence_vs_pain(weekly, daily), "adherence_vs_pain"
    )
    same(A.session_effect(sessions, items), R.session_effect(sessions, items), "session_effect")
    same(A.session_effect(sessions, items, min_n=1), R.session_effect(sessions, items, min_n=1))
    same(
        A.progression_suggestions(rx, items, daily, CATALOG, end, notes),
        R.progression_suggestions(rx, items, daily, CATALOG, end, notes),
        "progression_suggestions",
    )
    flares = R.flare_ups(daily)
    for max_points in (600, 30, 5):  # by day, week and month
        same(A.pain_display(daily, flares, max_points), R.pain_display(daily, flares, max_points))


@pytest.mark.parametrize("seed", SEEDS)
def test_a_shared_expansion_gives_the_same_results(seed):
    g = generated(seed)
    rx, start, end, notes = g["rx"], g["start"], g["end"], g["notes"]
    h_start = start - pd.Timedelta(days=40)
    h_items = in_period(g["items"], h_start, end)
    items = in_period(g["items"], start, end)
    shared = A.in_force_days(rx, h_items, h_start, end)
    for name in ("weekly_adherence", "adherence_by_exercise", "daily_completion", "habit_strength"):
        same(
            getattr(A, name)(rx, items, start, end, in_force=shared),
            getattr(A, name)(rx, items, start, end),
            name,
        )
    same(
        A.weekly_adherence(rx, h_items, h_start, end, in_force=shared),
        A.weekly_adherence(rx, h_items, h_start, end),
    )
    daily = A.daily_pain(
        in_period(g["sessions"], start, end), in_period(g["pain"], start, end), start, end
    )
    flares = A.flare_ups(daily)
    # its last 14 days: inside the shared period, with the items it was built from
    same(
        A.progression_suggestions(
            rx, h_items, daily, CATALOG, end, notes, in_force=shared, flares=flares
        ),
        A.progression_suggestions(rx, h_items, daily, CATALOG, end, notes),
    )
    # ... or starting before it: computed afresh from the items given
    late = A.in_force_days(rx, items, end - pd.Timedelta(days=5), end)
    same(
        A.progression_suggestions(
            rx, items, daily, CATALOG, end, notes, in_force=late, flares=flares
        ),
        A.progression_suggestions(rx, items, daily, CATALOG, end, notes),
    )
    # a period outside the shared one is computed afresh, not cut short
    later = end + pd.Timedelta(days=10)
    same(
        A.daily_completion(rx, items, start, later, in_force=shared),
        A.daily_completion(rx, items, start, later),
    )


@pytest.mark.parametrize("seed", SEEDS)
def test_store_frames_match_the_straightforward_conversion(seed):
    g = generated(seed)
    same(typed_frame(g["rows"], "prescriptions"), R._frame(g["rows"], "prescriptions"))
    for kind in ("prescriptions", "items", "sessions"):
        same(typed_frame([], kind), R._frame([], kind), kind)
    utc = dt.UTC
    rows = [
        (
            "s1",
            "p",
            dt.date(2024, 1, 2),
            dt.datetime(2024, 1, 2, 7, 5, 1, 250, tzinfo=utc),
            None,
            None,
            3,
            None,
            "",
            "",
            dt.datetime(2024, 1, 2, tzinfo=utc),
            dt.datetime(2024, 1, 3, tzinfo=utc),
        ),
        ("s2", "p", dt.date(1969, 12, 31), None, None, 4, None, 2, None, "x", None, None),
    ]
    same(typed_frame(rows, "sessions"), R._frame(rows, "sessions"))
    rx = typed_frame(g["rows"], "prescriptions")
    same(with_valid_to(rx), R._set_valid_to(rx))
    several = pd.concat([rx, rx.assign(patient_id="q", programme_id=rx["programme_id"] + 100)])
    shuffled = several.sample(frac=1, random_state=seed).reset_index(drop=True)
    same(with_valid_to(shuffled), R._set_valid_to(shuffled))


# ---- load_trends ------------------------------------------------------------------------------
def straightforward(
    store, patient_id: str, end: dt.date, days: int | None, start: dt.date | None = None
) -> TrendsData:
    """read_frames + analyse_frames as first written: the clinic's patient list, separate
    reads, each analysis afresh (the last `days` days, or from start, or the whole history)."""
    pats = store.patients()
    row = pats[pats["patient_id"] == patient_id]
    end_ts = pd.Timestamp(end)
    rx = store.prescriptions(patient_id)
    if start is not None:
        start_ts = pd.Timestamp(start)
    elif days is None:
        firsts = [rx["valid_from"].min() if len(rx) else pd.NaT, row["first_day"].iloc[0]]
        pain_all = store.pain(patient_id, None, end_ts)
        firsts.append(pain_all["day"].min() if len(pain_all) else pd.NaT)
        firsts = [f for f in firsts if not pd.isna(f)]
        start_ts = min(firsts) if firsts else end_ts
    else:
        start_ts = end_ts - pd.Timedelta(days=days - 1)
    start_ts = min(start_ts, end_ts)
    sessions = store.sessions(patient_id, start_ts, end_ts)
    items = store.items(patient_id, start_ts, end_ts)
    notes = store.annotations(patient_id, start_ts, end_ts)
    daily = A.daily_pain(sessions, store.pain(patient_id, start_ts, end_ts), start_ts, end_ts)
    trend, weekly = A.pain_trend(daily), A.weekly_adherence(rx, items, start_ts, end_ts)
    habit, streak = None, A.streaks(weekly)
    if len(rx):
        h_start = min(rx["valid_from"].min(), start_ts)
        h_items = items if h_start >= start_ts else store.items(patient_id, h_start, end_ts)
        hs = A.habit_strength(rx, h_items, h_start, end_ts)
        habit = float(hs["habit"].iloc[-1]) if len(hs) else None
        streak = A.streaks(A.weekly_adherence(rx, h_items, h_start, end_ts))
    data = TrendsData(
        patient_id=patient_id,
        name=str(row["name"].iloc[0]),
        start=start_ts,
        end=end_ts,
        daily=daily,
        trend=trend,
        flares=A.flare_ups(daily),
        weekly=weekly,
        completion=A.daily_completion(rx, items, start_ts, end_ts),
        effect=A.session_effect(sessions, items),
        adherence_pain=A.adherence_vs_pain(weekly, daily),
        streaks=streak,
        habit=habit,
        annotations=notes,
        suggestions=A.progression_suggestions(rx, items, daily, store.catalog, end_ts, notes),
    )
    data.summary = A.summarise(trend, weekly, data.streaks, habit)
    return data


@pytest.fixture(scope="module")
def demo_store(tmp_path_factory):
    s = open_store(f"sqlite:///{tmp_path_factory.mktemp('demo') / 'demo.db'}")
    fill_demo(s, patients=4, days=240, seed=3, end=dt.date(2024, 6, 30), progress=False)
    s.add_patient("empty", "No data")
    yield s
    s.close()


@pytest.mark.parametrize("period", list(PERIODS))
def test_load_trends_equals_the_straightforward_recomputation(demo_store, period):
    pids = list(demo_store.patients()["patient_id"])
    assert len(demo_store.prescriptions()["programme_id"].unique()) > 4  # some programmes change
    for pid in pids:
        for end in (dt.date(2024, 6, 30), dt.date(2024, 2, 10), dt.date(2023, 11, 5)):
            fast = load_trends(demo_store, pid, period, end)
            plain = straightforward(demo_store, pid, end, PERIODS[period])
            same(fast, plain, f"{pid} {period} {end}")
    figures = trend_figures(fast, demo_store.catalog)  # the same data draws the same figures
    for name, fig in trend_figures(plain, demo_store.catalog).items():
        assert figures[name].to_json() == fig.to_json()


def test_report_frames_give_the_straightforward_analysis(demo_store):
    for pid in list(demo_store.patients()["patient_id"])[:3]:
        for start, end in [
            ((2024, 1, 1), (2024, 6, 30)),
            ((2024, 3, 1), (2024, 3, 6)),
            ((2023, 10, 1), (2023, 11, 20)),
            ((2024, 6, 30), (2024, 6, 30)),
        ]:
            start, end = dt.date(*start), dt.date(*end)
            fast = analyse_frames(read_frames(demo_store, pid, start, end), demo_store.catalog)
            same(fast, straightforward(demo_store, pid, end, None, start), f"{pid} {start} {end}")


def test_store_patient_is_the_patients_row(demo_store):
    pats = demo_store.patients()
    for _, row in pats.iterrows():
        one = demo_store.patient(row["patient_id"])
        assert list(one) == list(pats.columns)
        for k, v in row.items():
            assert (pd.isna(v) and pd.isna(one[k])) or one[k] == v, k
    assert demo_store.patient("nobody") is None


# ---- figures -------------------------------------------------------------------------------------
def content(fig: go.Figure) -> dict:
    return json.loads(fig.to_json())


def test_lines_are_what_add_hline_and_add_vline_draw():
    line = {"color": "#555555", "dash": "dash", "width": 1.5}
    plotly = (
        go.Figure()
        .add_hline(y=0.8, line=line, annotation_text="80 %", annotation_position="top left")
        .add_vline(x=0, line=line)
    )
    ours = P._hline(0.8, line, "80 %")
    ours["shapes"].append(P._vline(0, line))
    without_template = [
        {k: v for k, v in content(f)["layout"].items() if k != "template"}
        for f in (go.Figure(layout=ours), plotly)
    ]
    assert without_template[0] == without_template[1]


def test_the_template_is_what_update_layout_stores():
    plotly = go.Figure().update_layout(template=P.TEMPLATE)
    ours = P._figure([], {})
    assert ours.to_json() == plotly.to_json()  # same content and even the same key order
    ours.layout.template.layout.font.size = 99  # each figure has its own copy
    assert P._figure([], {}).layout.template.layout.font.size is None


@pytest.fixture(scope="module")
def figure_sets():
    return {
        "eight_weeks": all_figures(history(56, notes=3)),
        "ten_years": all_figures(history(3653)),
    }


@pytest.mark.parametrize("span", ["eight_weeks", "ten_years"])
def test_every_figure_is_what_plotly_validation_gives(figure_sets, span):
    empty = {
        "pain": P.pain_figure(A.daily_pain(None, None, "2024-01-01", "2024-01-07")),
        "calendar": P.adherence_calendar(
            pd.DataFrame({"day": [], "due": [], "done": [], "share": []})
        ),
    }
    for name, fig in {**figure_sets[span], **empty}.items():
        assert content(go.Figure(fig.to_dict())) == content(fig), name
