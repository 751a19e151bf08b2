"""The straightforward pandas implementations the optimised analysis and store code must match.

backcare.analysis and backcare.store compute these results with fewer, cheaper operations
(numpy grouping where sums are of whole numbers, pandas' own sums and means wherever the
order of floating-point additions matters). These are the plain versions they replaced,
kept only as an oracle: tests/test_fast_paths.py checks that both give identical frames
(values, dtypes, index) on generated histories. Not used by the package."""

# ruff: noqa: E501
from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from backcare.analysis import (
    _BY_EXERCISE_COLS,
    _DAILY_COLS,
    _EXPANDED_COLS,
    _ONE_DAY,
    ADHERENT,
    EPS,
    FLARE_LOOKBACK_DAYS,
    FLARE_MIN_PRIOR_DAYS,
    FLARE_POINTS,
    HABIT_HALF_LIFE_DAYS,
    INSUFFICIENT,
    MIN_EFFECT_N,
    MIN_PAIRS,
    PAIN_STABLE_TOLERANCE,
    PROGRESSION_MIN_HALF_DAYS,
    PROGRESSION_WINDOW_DAYS,
    ROLLING_DAYS,
    ROLLING_MIN_DAYS,
    WEEK_MIN_PAIN_DAYS,
    AdherencePain,
    Streaks,
    _day,
    _empty,
    _one_patient,
    _period,
    _round1,
    mean_ci,
    pearson_ci,
    week_start,
)
from backcare.domain.catalog import Catalog
from backcare.store import DAY, READ_DTYPES, UTC_TS


def expand_prescriptions(prescriptions: pd.DataFrame, start: Any, end: Any) -> pd.DataFrame:
    _one_patient(prescriptions)
    lo, hi = _day(start), _day(end)
    if prescriptions is None or prescriptions.empty or hi < lo:
        return _empty(_EXPANDED_COLS)
    p = prescriptions.reset_index(drop=True)
    first = p["valid_from"].clip(lower=lo)
    last = p["valid_to"].fillna(hi).clip(upper=hi)
    n = ((last - first).dt.days + 1).clip(lower=0).astype(int)
    keep = n > 0
    if not keep.any():
        return _empty(_EXPANDED_COLS)
    p, first, n = p[keep], first[keep], n[keep]
    rep = p.loc[p.index.repeat(n)]
    offset = rep.groupby(level=0).cumcount().to_numpy()
    days = first.loc[rep.index].to_numpy() + offset.astype("timedelta64[D]")
    out = pd.DataFrame(
        {
            "day": pd.to_datetime(days).astype("datetime64[ns]"),
            "exercise_id": rep["exercise_id"].astype("str").to_numpy(),
            "times_per_week": rep["times_per_week"].astype("Int64").to_numpy(),
            "programme_id": rep["programme_id"].astype("Int64").to_numpy(),
            "_from": rep["valid_from"].to_numpy(),
            **{c: rep[c].astype("Int64").to_numpy() for c in ("sets", "reps", "hold_s", "minutes")},
        }
    )
    out = out.sort_values(["day", "exercise_id", "_from", "programme_id"])
    out = out.drop_duplicates(["day", "exercise_id"], keep="last").drop(columns="_from")
    return out[list(_EXPANDED_COLS)].reset_index(drop=True)


def _done_per_day(items: pd.DataFrame | None) -> pd.DataFrame:
    if items is None or items.empty:
        return pd.DataFrame(
            {
                "day": pd.Series([], dtype="datetime64[ns]"),
                "exercise_id": pd.Series([], dtype="str"),
                "done": pd.Series([], dtype="int64"),
            }
        )
    d = items[items["done"].astype(bool)]
    return d.groupby(["day", "exercise_id"]).size().rename("done").reset_index()


def _in_force_with_done(
    prescriptions: pd.DataFrame, items: pd.DataFrame | None, lo: pd.Timestamp, hi: pd.Timestamp
) -> pd.DataFrame:
    exp = expand_prescriptions(prescriptions, lo, hi)
    done = _done_per_day(items)
    exp = exp.merge(done, on=["day", "exercise_id"], how="left")
    exp["done"] = exp["done"].fillna(0).astype("int64")
    exp["tpw"] = exp["times_per_week"].astype("float64")
    exp["week"] = week_start(exp["day"]).to_numpy()
    return exp


def _by_exercise(exp: pd.DataFrame) -> pd.DataFrame:
    if exp.empty:
        return _empty(_BY_EXERCISE_COLS)
    g = (
        exp.groupby(["week", "exercise_id"], sort=True)
        .agg(days=("day", "size"), tpw_sum=("tpw", "sum"), done=("done", "sum"))
        .reset_index()
    )
    g["prescribed"] = g["tpw_sum"] / 7  # integer sum first: full weeks give exact values
    g["done_capped"] = np.minimum(g["done"].astype(float), g["prescribed"])
    g["adherence"] = g["done_capped"] / g["prescribed"]
    g["adherent"] = g["adherence"] >= ADHERENT - EPS
    return g[list(_BY_EXERCISE_COLS)].astype(_BY_EXERCISE_COLS).reset_index(drop=True)


def adherence_by_exercise(
    prescriptions: pd.DataFrame, items: pd.DataFrame, start: Any, end: Any
) -> pd.DataFrame:
    _one_patient(prescriptions, items)
    return _by_exercise(_in_force_with_done(prescriptions, items, _day(start), _day(end)))


def weekly_adherence(
    prescriptions: pd.DataFrame, items: pd.DataFrame, start: Any, end: Any
) -> pd.DataFrame:
    _one_patient(prescriptions, items)
    lo, hi = _day(start), _day(end)
    cols = {
        "week": "datetime64[ns]",
        "days": "int64",
        "days_in_force": "int64",
        "prescribed": "float64",
        "done": "float64",
        "adherence": "float64",
        "adherent": "bool",
        "complete": "bool",
        "sessions_prescribed": "float64",
        "sessions_done": "float64",
        "session_adherence": "float64",
    }
    if hi < lo:
        return _empty(cols)
    cal = pd.DataFrame({"day": pd.date_range(lo, hi, freq="D")})
    cal["week"] = week_start(cal["day"]).to_numpy()
    weeks = cal.groupby("week").size().rename("days").reset_index()

    exp = _in_force_with_done(prescriptions, items, lo, hi)
    ex = (
        _by_exercise(exp)
        .groupby("week")
        .agg(prescribed=("prescribed", "sum"), done=("done_capped", "sum"))
    )
    day_max = exp.groupby("day").agg(tpw_max=("tpw", "max")).reset_index()
    sess_done = pd.Series(0, index=pd.DatetimeIndex([], name="day"), dtype="int64", name="sessions")
    if items is not None and not items.empty:
        in_force = items.merge(exp[["day", "exercise_id"]], on=["day", "exercise_id"], how="inner")
        in_force = in_force[in_force["done"].astype(bool)]
        sess_done = in_force.groupby("day")["session_id"].nunique().rename("sessions")
    day_max = day_max.merge(sess_done.reset_index(), on="day", how="left")
    day_max["sessions"] = day_max["sessions"].fillna(0)
    day_max["week"] = week_start(day_max["day"]).to_numpy()
    ss = day_max.groupby("week").agg(
        days_in_force=("day", "size"), tpw_max=("tpw_max", "sum"), sessions=("sessions", "sum")
    )
    ss["sessions_prescribed"] = ss["tpw_max"] / 7
    ss["sessions_done"] = np.minimum(ss["sessions"], ss["sessions_prescribed"])

    out = weeks.merge(ex.reset_index(), on="week", how="left").merge(
        ss[["days_in_force", "sessions_prescribed", "sessions_done"]].reset_index(),
        on="week",
        how="left",
    )
    out["days_in_force"] = out["days_in_force"].fillna(0)
    for c in ("prescribed", "done", "sessions_prescribed", "sessions_done"):
        out[c] = out[c].fillna(0.0)
    has = out["prescribed"] > 0
    out["adherence"] = np.where(has, out["done"] / out["prescribed"].where(has, 1.0), np.nan)
    out["adherent"] = out["adherence"].fillna(-1) >= ADHERENT - EPS
    out["complete"] = out["days"] == 7
    has_s = out["sessions_prescribed"] > 0
    out["session_adherence"] = np.where(
        has_s, out["sessions_done"] / out["sessions_prescribed"].where(has_s, 1.0), np.nan
    )
    return out[list(cols)].astype(cols).reset_index(drop=True)


def daily_completion(
    prescriptions: pd.DataFrame, items: pd.DataFrame, start: Any, end: Any
) -> pd.DataFrame:
    _one_patient(prescriptions, items)
    lo, hi = _day(start), _day(end)
    cols = {"day": "datetime64[ns]", "due": "int64", "done": "int64", "share": "float64"}
    if hi < lo:
        return _empty(cols)
    exp = _in_force_with_done(prescriptions, items, lo, hi)
    exp["did"] = exp["done"] > 0
    g = exp.groupby("day").agg(due=("exercise_id", "size"), done=("did", "sum"))
    cal = pd.DataFrame(index=pd.date_range(lo, hi, freq="D", name="day"))
    out = cal.join(g).fillna(0).reset_index()
    out["share"] = np.where(
        out["due"] > 0, out["done"] / out["due"].where(out["due"] > 0, 1), np.nan
    )
    return out[list(cols)].astype(cols)


def habit_strength(
    prescriptions: pd.DataFrame,
    items: pd.DataFrame,
    start: Any,
    end: Any,
    half_life: float = HABIT_HALF_LIFE_DAYS,
) -> pd.DataFrame:
    _one_patient(prescriptions, items)
    if half_life <= 0:
        raise ValueError(f"half_life: {half_life!r} must be a positive number of days")
    lo, hi = _day(start), _day(end)
    cols = {"day": "datetime64[ns]", "completion": "float64", "habit": "float64"}
    if hi < lo:
        return _empty(cols)
    cal = pd.date_range(lo, hi, freq="D", name="day")
    exp = _in_force_with_done(prescriptions, items, lo, hi)
    if exp.empty:
        return pd.DataFrame({"day": cal, "completion": np.nan, "habit": 0.0}).astype(cols)
    tpw = exp.pivot_table(index="day", columns="exercise_id", values="tpw", aggfunc="sum")
    done = exp.pivot_table(index="day", columns="exercise_id", values="done", aggfunc="sum")
    tpw = tpw.reindex(cal).fillna(0.0)
    done = done.reindex(index=cal, columns=tpw.columns).fillna(0.0)
    presc_w = tpw.rolling(ROLLING_DAYS, min_periods=1).sum() / 7
    done_w = done.rolling(ROLLING_DAYS, min_periods=1).sum()
    capped = np.minimum(done_w.to_numpy(), presc_w.to_numpy()).sum(axis=1)
    presc = presc_w.to_numpy().sum(axis=1)
    x = np.where(presc > EPS, capped / np.where(presc > EPS, presc, 1.0), np.nan)
    alpha = 1 - 2 ** (-1 / half_life)
    h, habit = 0.0, np.empty(len(cal))
    for i, xi in enumerate(x):
        if not np.isnan(xi):
            h += alpha * (min(1.0, xi) - h)
        habit[i] = h
    return pd.DataFrame({"day": cal, "completion": x, "habit": habit}).astype(cols)


def streaks(weekly: pd.DataFrame, threshold: float = ADHERENT) -> Streaks:
    if weekly is None or weekly.empty:
        return Streaks(0, 0, threshold, None, False)
    w = weekly.sort_values("week").reset_index(drop=True)
    w = w[w["adherence"].notna()]
    in_progress = False
    if len(w) and not bool(w.iloc[-1]["complete"]) and w.iloc[-1]["week"] == weekly["week"].max():
        w, in_progress = w.iloc[:-1], True
    run = longest = 0
    since = None
    for _, row in w.iterrows():
        if row["adherence"] >= threshold - EPS:
            run += 1
            if run == 1:
                since = row["week"]
            longest = max(longest, run)
        else:
            run, since = 0, None
    return Streaks(run, longest, threshold, since if run else None, in_progress)


def daily_pain(
    sessions: pd.DataFrame, pain: pd.DataFrame | None, start: Any = None, end: Any = None
) -> pd.DataFrame:
    _one_patient(sessions, pain)
    s = (
        sessions
        if sessions is not None
        else pd.DataFrame(columns=["day", "pain_before", "pain_after"])
    )
    pain = pain if pain is not None else pd.DataFrame(columns=["day", "score"])
    period = _period(start, end, s.get("day"), pain.get("day"))
    if period is None:
        return _empty(_DAILY_COLS)
    lo, hi = period
    before = s[["day", "pain_before"]].rename(columns={"pain_before": "score"})
    scores = pd.concat([before, pain[["day", "score"]]], ignore_index=True)
    scores = scores[scores["score"].notna()]
    scores = scores.assign(score=scores["score"].astype("float64"))
    scores = scores[(scores["day"] >= lo) & (scores["day"] <= hi)]
    after = s[s["pain_after"].notna()][["day", "pain_after"]]
    after = after.assign(pain_after=after["pain_after"].astype("float64"))
    cal = pd.DataFrame(index=pd.date_range(lo, hi, freq="D", name="day"))
    by_day = (
        scores.groupby("day")["score"]
        .agg(["mean", "size"])
        .rename(columns={"mean": "pain", "size": "n_scores"})
    )
    aft = (
        after.groupby("day")["pain_after"]
        .agg(["mean", "size"])
        .rename(columns={"mean": "pain_after", "size": "n_after"})
    )
    nsess = s.groupby("day").size().rename("sessions")
    out = cal.join(by_day).join(aft).join(nsess)
    out["sessions"] = out["sessions"].fillna(0)
    out["n_scores"] = out["n_scores"].fillna(0)
    out["n_after"] = out["n_after"].fillna(0)
    out["rolling"] = out["pain"].rolling(ROLLING_DAYS, min_periods=ROLLING_MIN_DAYS).mean()
    return out.reset_index()[list(_DAILY_COLS)].astype(_DAILY_COLS)


def flare_ups(daily: pd.DataFrame) -> pd.DataFrame:
    cols = {
        "day": "datetime64[ns]",
        "pain": "float64",
        "prior_mean": "float64",
        "prior_days": "int64",
        "rise": "float64",
    }
    if daily is None or daily.empty:
        return _empty(cols)
    s = daily.set_index("day")["pain"].astype("float64").sort_index()
    s = s[~s.index.duplicated()]
    s = s.reindex(pd.date_range(s.index.min(), s.index.max(), freq="D"))
    prior = s.shift(1).rolling(FLARE_LOOKBACK_DAYS, min_periods=1)
    out = pd.DataFrame({"pain": s, "prior_mean": prior.mean(), "prior_days": prior.count()})
    out["rise"] = out["pain"] - out["prior_mean"]
    ok = (
        out["pain"].notna()
        & (out["prior_days"] >= FLARE_MIN_PRIOR_DAYS)
        & (out["rise"] >= FLARE_POINTS - EPS)
    )
    out = out[ok].rename_axis("day").reset_index()
    return out[list(cols)].astype(cols)


def session_effect(
    sessions: pd.DataFrame, items: pd.DataFrame, min_n: int = MIN_EFFECT_N
) -> pd.DataFrame:
    _one_patient(sessions, items)
    cols = {
        "scope": "str",
        "exercise_id": "str",
        "n": "int64",
        "mean": "float64",
        "sd": "float64",
        "ci_low": "float64",
        "ci_high": "float64",
        "suppressed": "bool",
    }
    rows: list[dict[str, Any]] = []
    if sessions is None or sessions.empty:
        both = pd.DataFrame(
            {"session_id": pd.Series([], dtype="str"), "diff": pd.Series([], dtype=float)}
        )
    else:
        ok = sessions["pain_before"].notna() & sessions["pain_after"].notna()
        both = sessions[ok]
        both = pd.DataFrame(
            {
                "session_id": both["session_id"],
                "diff": both["pain_after"].astype("float64")
                - both["pain_before"].astype("float64"),
            }
        )

    def row(scope: str, ex: str, diffs: pd.Series) -> dict[str, Any]:
        n = int(diffs.notna().sum())
        if n < min_n:
            return {
                "scope": scope,
                "exercise_id": ex,
                "n": n,
                "mean": np.nan,
                "sd": np.nan,
                "ci_low": np.nan,
                "ci_high": np.nan,
                "suppressed": True,
            }
        n, m, sd, lo, hi = mean_ci(diffs)
        return {
            "scope": scope,
            "exercise_id": ex,
            "n": n,
            "mean": m,
            "sd": sd,
            "ci_low": lo,
            "ci_high": hi,
            "suppressed": False,
        }

    rows.append(row("overall", "", both["diff"]))
    if items is not None and not items.empty and len(both):
        done = items[items["done"].astype(bool)][["session_id", "exercise_id"]].drop_duplicates()
        joined = done.merge(both, on="session_id", how="inner")
        for ex, grp in joined.groupby("exercise_id", sort=True):
            rows.append(row("exercise", str(ex), grp["diff"]))
    return pd.DataFrame(rows, columns=list(cols)).astype(cols)


def weekly_pain(daily: pd.DataFrame) -> pd.DataFrame:
    cols = {"week": "datetime64[ns]", "pain": "float64", "pain_days": "int64"}
    if daily is None or daily.empty:
        return _empty(cols)
    d = daily.assign(week=week_start(daily["day"]).to_numpy())
    g = (
        d.groupby("week")["pain"]
        .agg(["mean", "count"])
        .rename(columns={"mean": "pain", "count": "pain_days"})
        .reset_index()
    )
    g.loc[g["pain_days"] < WEEK_MIN_PAIN_DAYS, "pain"] = np.nan
    return g[list(cols)].astype(cols)


def adherence_vs_pain(weekly: pd.DataFrame, daily: pd.DataFrame) -> AdherencePain:
    wp = weekly_pain(daily)
    cols = {
        "week": "datetime64[ns]",
        "adherence": "float64",
        "pain": "float64",
        "next_pain": "float64",
        "change": "float64",
    }
    if weekly is None or weekly.empty or wp.empty:
        return AdherencePain(_empty(cols), 0, None, None, None, None, None, INSUFFICIENT)
    nxt = wp.assign(week=wp["week"] - pd.Timedelta(days=7)).rename(columns={"pain": "next_pain"})
    pairs = (
        weekly[["week", "adherence"]]
        .merge(wp[["week", "pain"]], on="week")
        .merge(nxt[["week", "next_pain"]], on="week")
    )
    pairs = pairs.dropna(subset=["adherence", "pain", "next_pain"])
    pairs = pairs.assign(change=pairs["next_pain"] - pairs["pain"])[list(cols)].astype(cols)
    pairs = pairs.reset_index(drop=True)
    n = len(pairs)
    if n < MIN_PAIRS:
        return AdherencePain(pairs, n, None, None, None, None, None, INSUFFICIENT)
    n, r, lo, hi = pearson_ci(pairs["adherence"], pairs["change"])
    if math.isnan(r):
        return AdherencePain(
            pairs,
            n,
            None,
            None,
            None,
            None,
            None,
            "undefined: adherence or pain change did not vary",
        )
    x, y = pairs["adherence"].to_numpy(), pairs["change"].to_numpy()
    slope = float(((x - x.mean()) * (y - y.mean())).sum() / ((x - x.mean()) ** 2).sum())
    return AdherencePain(pairs, n, r, lo, hi, slope, float(y.mean() - slope * x.mean()), "ok")


def progression_suggestions(
    prescriptions: pd.DataFrame,
    items: pd.DataFrame,
    daily: pd.DataFrame,
    catalog: Catalog,
    end: Any,
    annotations: pd.DataFrame | None = None,
    window_days: int = PROGRESSION_WINDOW_DAYS,
) -> pd.DataFrame:
    _one_patient(prescriptions, items, annotations)
    cols = {
        "exercise_id": "str",
        "dose": "str",
        "current": "Int64",
        "suggested": "Int64",
        "direction": "str",
        "reason": "str",
        "done_share": "float64",
    }
    hi = _day(end)
    lo = hi - pd.Timedelta(days=window_days - 1)
    exp = _in_force_with_done(prescriptions, items, lo, hi)
    today = exp[exp["day"] == hi]
    if today.empty:
        return _empty(cols)

    flares = flare_ups(daily) if daily is not None else flare_ups(None)
    flare_days = sorted(flares.loc[(flares["day"] >= lo) & (flares["day"] <= hi), "day"])
    noted = []
    if annotations is not None and not annotations.empty:
        a = annotations[
            (annotations["kind"] == "flare-up")
            & (annotations["day"] >= lo)
            & (annotations["day"] <= hi)
        ]
        noted = sorted(a["day"])
    half = window_days // 2
    pain_note, pain_ok = "", False
    if daily is not None and not daily.empty:
        win = daily[(daily["day"] >= lo) & (daily["day"] <= hi) & daily["pain"].notna()]
        early = win[win["day"] < hi - pd.Timedelta(days=half - 1)]["pain"]
        late = win[win["day"] >= hi - pd.Timedelta(days=half - 1)]["pain"]
        if len(early) >= PROGRESSION_MIN_HALF_DAYS and len(late) >= PROGRESSION_MIN_HALF_DAYS:
            e, lt = float(early.mean()), float(late.mean())
            pain_ok = lt - e <= PAIN_STABLE_TOLERANCE + EPS
            pain_note = (
                f"pain {'stable or falling' if pain_ok else 'rising'} "
                f"(average {_round1(e):.1f} in the first week, {_round1(lt):.1f} in the second)"
            )
    if not pain_note:
        pain_note = "not enough pain scores in the last 2 weeks to judge the trend"

    rows = []
    for _, rx in today.iterrows():
        ex_id = str(rx["exercise_id"])
        ex = catalog[ex_id] if ex_id in catalog else None
        dose = ex.main_dose if ex is not None else ""
        current = rx[dose] if dose else pd.NA
        ladder = tuple(ex.ladder) if ex is not None else ()
        mine = exp[exp["exercise_id"] == ex_id]
        presc = float(mine["tpw"].sum()) / 7
        done = int(mine["done"].sum())
        share = min(done, presc) / presc if presc > 0 else np.nan
        row = {
            "exercise_id": ex_id,
            "dose": dose,
            "current": current,
            "suggested": current,
            "direction": "hold",
            "done_share": share,
        }
        if ex is None or not ladder:
            row["reason"] = "no progression ladder in the catalog for this exercise"
        elif pd.isna(current):
            row["reason"] = f"no {dose} recorded in the prescription"
        elif flare_days or noted:
            when = (flare_days or noted)[-1].date()
            src = "flare-up" if flare_days else "flare-up noted on the timeline"
            lower = [v for v in ladder if v < current]
            if lower:
                row.update(
                    suggested=lower[-1],
                    direction="down",
                    reason=f"{src} on {when}: one step back until it settles",
                )
            else:
                row["reason"] = f"{src} on {when}; already at the lowest step"
        else:
            since = _dose_since(mine, dose, current, lo, hi)
            did = (
                f"done {done} times against {presc:g} prescribed in the last 2 weeks "
                f"({share * 100:.0f} %)"
            )
            if since > lo:
                row["reason"] = (
                    f"current dose in force only since {since.date()}; "
                    "judge after 2 full weeks at it"
                )
            elif share < ADHERENT - EPS:
                row["reason"] = f"{did}; below 80 %, keep the current dose"
            elif not pain_ok:
                row["reason"] = f"{did}; {pain_note}"
            else:
                higher = [v for v in ladder if v > current]
                if higher:
                    row.update(
                        suggested=higher[0],
                        direction="up",
                        reason=f"{did}, {pain_note}, no flare-up",
                    )
                else:
                    row["reason"] = f"{did}, {pain_note}; already at the top of the range"
        rows.append(row)
    return pd.DataFrame(rows, columns=list(cols)).astype(cols)


def _dose_since(
    mine: pd.DataFrame, dose: str, current: Any, lo: pd.Timestamp, hi: pd.Timestamp
) -> pd.Timestamp:
    by_day = mine.set_index("day")[dose]
    day = hi
    while day >= lo and day in by_day.index:
        value = by_day[day]
        if pd.isna(value) or value != current:
            break
        day -= _ONE_DAY
    return day + _ONE_DAY


def pain_display(
    daily: pd.DataFrame, flares: pd.DataFrame | None = None, max_points: int = 600
) -> tuple[pd.DataFrame, str]:
    cols = {
        "x": "datetime64[ns]",
        "pain": "float64",
        "pain_days": "int64",
        "rolling": "float64",
        "pain_after": "float64",
        "sessions": "int64",
        "flares": "int64",
    }
    if daily is None or daily.empty:
        return _empty(cols), "day"
    d = daily.copy()
    d["flares"] = (
        d["day"].isin(flares["day"]).astype("int64") if flares is not None and len(flares) else 0
    )
    n_days = len(d)
    if n_days <= max_points:
        freq, key = "day", d["day"]
    elif n_days / 7 <= max_points:
        freq, key = "week", week_start(d["day"])
    else:
        freq, key = "month", d["day"].dt.to_period("M").dt.to_timestamp()
    d["x"] = key.to_numpy()
    g = (
        d.groupby("x")
        .agg(
            pain=("pain", "mean"),
            pain_days=("pain", "count"),
            rolling=("rolling", "mean"),
            pain_after=("pain_after", "mean"),
            sessions=("sessions", "sum"),
            flares=("flares", "sum"),
        )
        .reset_index()
    )
    return g[list(cols)].astype(cols), freq


def _frame(rows: Sequence[Any], kind: str) -> pd.DataFrame:
    dtypes = READ_DTYPES[kind]
    # plain tuples: pandas probes each row for namedtuple fields, which costs SQLAlchemy Row
    # an exception per row
    df = pd.DataFrame.from_records([tuple(r) for r in rows], columns=list(dtypes))
    out = {}
    for col, dtype in dtypes.items():
        s = df[col]
        if dtype == DAY:
            out[col] = pd.to_datetime(s).astype(DAY) if len(s) else s.astype(DAY)
        elif dtype == UTC_TS:
            out[col] = pd.to_datetime(s, utc=True).astype(UTC_TS)
        elif dtype == "str":
            out[col] = s.fillna("").astype("str")
        else:
            out[col] = s.astype(dtype)
    return pd.DataFrame(out, index=pd.RangeIndex(len(df)))


def _set_valid_to(df: pd.DataFrame) -> pd.DataFrame:
    if df.empty:
        return df
    progs = df.drop_duplicates("programme_id")[["programme_id", "patient_id", "valid_from"]]
    progs = progs.sort_values(["patient_id", "valid_from", "programme_id"])
    progs = progs.drop_duplicates(["patient_id", "valid_from"], keep="last")
    nxt = progs.groupby("patient_id")["valid_from"].shift(-1)
    progs = progs.assign(valid_to=(nxt - pd.Timedelta(days=1)).astype(DAY))
    df = df[df["programme_id"].isin(progs["programme_id"])].drop(columns="valid_to")
    df = df.merge(progs[["programme_id", "valid_to"]], on="programme_id", how="left")
    return df[list(READ_DTYPES["prescriptions"])].reset_index(drop=True)
