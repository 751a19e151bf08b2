"""The clinic overview: one row per patient, patients needing attention first (pure pandas).

Input: the frames of ``Store.clinic_frames(today)`` (already aggregated in SQL), so a
clinic of 1,000 patients is a few thousand rows here, not millions. The methods are the
per-patient ones of ``backcare.analysis``, applied to every patient at once; a test checks
that both give the same answers on demo patients.

Columns and methods
- last_session, days_since: the last day with a session, and days from it to today.
- adherence_14d: over the 14 days ending today, per exercise min(done, prescribed) /
  prescribed, summed over exercises (prescribed = times_per_week / 7 for each day the
  exercise is in force), as ``analysis.adherence_by_exercise``. Self-reported.
- baseline, latest, change, pain_class: mean of daily mean pain over the first 14 days
  from the first day with a score, and over the 14 days ending on the last one; each
  needs >= 4 scored days and the first and last scores >= 27 days apart, otherwise
  "insufficient data". Rounded to one decimal, then classified against the minimal
  clinically important change for low back pain (Ostelo et al., Spine 2008;33(1):90-94)
  with ``analysis.classify_change``.
- flare_ups_14d: days in the last 14 whose daily mean pain is >= 2 points above the mean
  of the 7 days before (>= 3 of them scored), as ``analysis.flare_ups``.
- red_flags_14d: sessions in the last 14 days with a red flag ticked.
- suggestions: exercises for which ``analysis.progression_suggestions`` would propose a
  change (up after 2 steady weeks at >= 80 % with pain stable or falling; down after a
  flare-up, detected or annotated). Suggestions only; nothing is applied.
- priority / attention: 1 red flag, 2 pain worse, 3 flare-up, 4 no session for 7 days
  or more, 5 adherence below 80 %, 9 nothing to flag; ``attention`` lists the reasons.
"""

from __future__ import annotations

import datetime as dt
import warnings

import numpy as np
import pandas as pd

from backcare import analysis as A
from backcare.domain.catalog import Catalog

OVERVIEW_COLUMNS = {
    "patient_id": "str",
    "name": "str",
    "priority": "int64",
    "attention": "str",
    "last_session": "datetime64[ns]",
    "days_since": "Int64",
    "adherence_14d": "float64",
    "baseline": "float64",
    "latest": "float64",
    "change": "float64",
    "pain_class": "str",
    "flare_ups_14d": "int64",
    "red_flags_14d": "int64",
    "suggestions": "int64",
    "suggestion_text": "str",
}
INACTIVE_DAYS = 7
WINDOW_DAYS = A.PROGRESSION_WINDOW_DAYS
LOOKBACK_DAYS = WINDOW_DAYS + A.FLARE_LOOKBACK_DAYS


def _pain_classes(trend: pd.DataFrame) -> pd.DataFrame:
    """Baseline, latest, change and MCID class per patient from SQL window means."""
    t = trend.copy()
    span = (t["last_scored"] - t["first_scored"]).dt.days
    enough = (
        (span >= 2 * A.TREND_WINDOW_DAYS - 1)
        & (t["baseline_days"] >= A.TREND_MIN_DAYS)
        & (t["latest_days"] >= A.TREND_MIN_DAYS)
    )
    base = t["baseline_raw"].astype("float64").map(A._round1)
    late = t["latest_raw"].astype("float64").map(A._round1)
    t["baseline"] = base.where(enough)
    t["latest"] = late.where(enough)
    t["change"] = (late - base).round(1).where(enough)
    t["pain_class"] = [
        A.classify_change(b, lt) if ok else A.INSUFFICIENT
        for b, lt, ok in zip(base, late, enough, strict=True)
    ]
    return t[["patient_id", "baseline", "latest", "change", "pain_class"]]


def _window_pain(window: pd.DataFrame, today: pd.Timestamp) -> tuple[pd.DataFrame, pd.Index]:
    """Daily mean pain as a patients x days matrix over the lookback window."""
    days = pd.date_range(today - pd.Timedelta(days=LOOKBACK_DAYS - 1), today, freq="D")
    w = window[window["pain_n"] > 0]
    mean = (w["pain_sum"] / w["pain_n"]).astype("float64")
    wide = pd.DataFrame({"patient_id": w["patient_id"], "day": w["day"], "pain": mean})
    wide = wide.pivot_table(index="patient_id", columns="day", values="pain", aggfunc="mean")
    return wide.reindex(columns=days), days


def _flare_counts(wide: pd.DataFrame) -> pd.Series:
    """Flare-up days among the last WINDOW_DAYS columns (rule of analysis.flare_ups)."""
    m = wide.to_numpy(dtype="float64")
    counts = np.zeros(len(m), dtype=int)
    look = A.FLARE_LOOKBACK_DAYS
    for j in range(m.shape[1] - WINDOW_DAYS, m.shape[1]):
        prior = m[:, j - look:j]
        n = np.sum(~np.isnan(prior), axis=1)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN rows: mean of nothing
            prior_mean = np.nanmean(prior, axis=1)
        rise = m[:, j] - prior_mean
        counts += (~np.isnan(m[:, j]) & (n >= A.FLARE_MIN_PRIOR_DAYS) & (rise >= A.FLARE_POINTS - A.EPS))
    return pd.Series(counts, index=wide.index)


def _pain_stable(wide: pd.DataFrame) -> pd.Series:
    """True when the last 7 days' mean pain is at most 0.5 above the 7 before (>= 3 scored each)."""
    half = WINDOW_DAYS // 2
    early = wide.iloc[:, -WINDOW_DAYS:-half]
    late = wide.iloc[:, -half:]
    ok = (early.notna().sum(axis=1) >= A.PROGRESSION_MIN_HALF_DAYS) & (
        late.notna().sum(axis=1) >= A.PROGRESSION_MIN_HALF_DAYS
    )
    return ok & (late.mean(axis=1) - early.mean(axis=1) <= A.PAIN_STABLE_TOLERANCE + A.EPS)


def _exercise_rows(prescriptions: pd.DataFrame, done: pd.DataFrame, today: pd.Timestamp,
                   catalog: Catalog) -> pd.DataFrame:
    """Per patient and exercise in the window: prescribed, done, dose now, whether steady."""
    lo = today - pd.Timedelta(days=WINDOW_DAYS - 1)
    p = prescriptions
    first = p["valid_from"].clip(lower=lo)
    last = p["valid_to"].fillna(today).clip(upper=today)
    days_in = ((last - first).dt.days + 1).clip(lower=0)
    p = p.assign(days_in=days_in)[days_in > 0]
    main = {e.id: e.main_dose for e in catalog}
    p = p.assign(dose_field=p["exercise_id"].map(main))
    dose = pd.Series(np.nan, index=p.index)
    for field in ("hold_s", "reps", "minutes"):
        mine = (p["dose_field"] == field).to_numpy()
        dose[mine] = p.loc[mine, field].astype("float64")
    p = p.assign(dose=dose)
    p = p.assign(prescribed=p["days_in"] * p["times_per_week"].astype("float64") / 7)
    now = p[(p["valid_from"] <= today) & (p["valid_to"].isna() | (p["valid_to"] >= today))]
    g = p.groupby(["patient_id", "exercise_id"])
    per = pd.DataFrame({
        "prescribed": g["prescribed"].sum(),
        "days_in": g["days_in"].sum(),
        "doses": g["dose"].nunique(dropna=False),
    }).reset_index()
    per = per.merge(now[["patient_id", "exercise_id", "dose", "dose_field"]], on=["patient_id", "exercise_id"],
                    how="left")
    per = per.merge(done, on=["patient_id", "exercise_id"], how="left")
    per["done"] = per["done"].fillna(0).astype("float64")
    per["capped"] = np.minimum(per["done"], per["prescribed"])
    per["in_force_now"] = per["dose_field"].notna()
    per["steady"] = (per["days_in"] == WINDOW_DAYS) & (per["doses"] == 1)
    return per


def _suggest(per: pd.DataFrame, flare: pd.Series, stable: pd.Series, catalog: Catalog) -> pd.DataFrame:
    """Direction of the progression suggestion per exercise in force now (up/down/hold), vectorised."""
    now = per[per["in_force_now"] & per["dose"].notna()].reset_index(drop=True)
    cols = ["patient_id", "exercise_id", "direction", "text"]
    if now.empty:
        return pd.DataFrame(columns=cols)
    steps = pd.DataFrame([(e.id, v) for e in catalog for v in e.ladder], columns=["exercise_id", "step"])
    cur = now["dose"].astype("float64")
    pairs = now[["exercise_id"]].assign(row=now.index, cur=cur).merge(steps, on="exercise_id")
    higher = pairs[pairs["step"] > pairs["cur"]].groupby("row")["step"].min()
    lower = pairs[pairs["step"] < pairs["cur"]].groupby("row")["step"].max()
    up_step = now.index.map(higher)
    down_step = now.index.map(lower)
    flared = now["patient_id"].map(flare).fillna(False).astype(bool).to_numpy()
    steady_ok = (
        now["steady"].to_numpy()
        & (now["prescribed"].to_numpy() > 0)
        & (now["capped"].to_numpy() / now["prescribed"].where(now["prescribed"] > 0, 1).to_numpy()
           >= A.ADHERENT - A.EPS)
        & now["patient_id"].map(stable).fillna(False).astype(bool).to_numpy()
    )
    down = flared & ~pd.isna(down_step)
    up = ~flared & steady_ok & ~pd.isna(up_step)
    step = np.where(down, down_step, np.where(up, up_step, np.nan))
    names = now["exercise_id"].map({e.id: e.name for e in catalog}).fillna(now["exercise_id"])
    text = [
        f"{n} {int(c)}->{int(s)}" if not np.isnan(s) else ""
        for n, c, s in zip(names, cur, step, strict=True)
    ]
    return pd.DataFrame({
        "patient_id": now["patient_id"], "exercise_id": now["exercise_id"],
        "direction": np.where(down, "down", np.where(up, "up", "hold")), "text": text,
    })


def clinic_overview(frames: dict[str, pd.DataFrame], today: dt.date, catalog: Catalog) -> pd.DataFrame:
    """One row per patient (columns OVERVIEW_COLUMNS), patients needing attention first."""
    today = pd.Timestamp(today)
    patients = frames["patients"]
    if patients.empty:
        return pd.DataFrame({c: pd.Series(dtype=t) for c, t in OVERVIEW_COLUMNS.items()})
    out = patients[["patient_id", "name", "last_session"]].copy()
    out["days_since"] = (today - out["last_session"]).dt.days.astype("Int64")

    per = _exercise_rows(frames["prescriptions"], frames["done"], today, catalog)
    adh = per.groupby("patient_id").agg(capped=("capped", "sum"), prescribed=("prescribed", "sum"))
    adh = (adh["capped"] / adh["prescribed"]).where(adh["prescribed"] > 0)
    out["adherence_14d"] = out["patient_id"].map(adh).astype("float64")

    out = out.merge(_pain_classes(frames["trend"]), on="patient_id", how="left")
    out["pain_class"] = out["pain_class"].fillna(A.INSUFFICIENT)

    wide, _ = _window_pain(frames["window"], today)
    flares = _flare_counts(wide) if len(wide) else pd.Series(dtype=int)
    out["flare_ups_14d"] = out["patient_id"].map(flares).fillna(0).astype("int64")
    lo = today - pd.Timedelta(days=WINDOW_DAYS - 1)
    w = frames["window"]
    red = w[w["day"] >= lo].groupby("patient_id")["red_flag_sessions"].sum()
    out["red_flags_14d"] = out["patient_id"].map(red).fillna(0).astype("int64")

    noted = set(frames["flare_notes"]["patient_id"])
    any_flare = pd.Series(
        (out["flare_ups_14d"] > 0).to_numpy() | out["patient_id"].isin(noted).to_numpy(),
        index=out["patient_id"],
    )
    stable = _pain_stable(wide) if len(wide) else pd.Series(dtype=bool)
    sug = _suggest(per, any_flare, stable, catalog)
    changes = sug[sug["direction"] != "hold"]
    out["suggestions"] = out["patient_id"].map(changes.groupby("patient_id").size()).fillna(0).astype("int64")
    out["suggestion_text"] = out["patient_id"].map(
        changes.groupby("patient_id")["text"].agg("; ".join)).fillna("")

    reasons = []
    priority = []
    for r in out.itertuples(index=False):
        why = []
        if r.red_flags_14d:
            why.append((1, f"red flag in {r.red_flags_14d} session(s): contact the patient"))
        if r.pain_class == A.WORSE:
            why.append((2, "pain worse than at baseline"))
        if r.flare_ups_14d:
            why.append((3, f"{r.flare_ups_14d} flare-up day(s)"))
        if pd.isna(r.days_since) or r.days_since >= INACTIVE_DAYS:
            why.append((4, "no session for 7 days or more" if not pd.isna(r.days_since) else "no sessions yet"))
        if not pd.isna(r.adherence_14d) and r.adherence_14d < A.ADHERENT - A.EPS:
            why.append((5, f"adherence {r.adherence_14d * 100:.0f} %"))
        priority.append(min((p for p, _ in why), default=9))
        reasons.append("; ".join(text for _, text in why))
    out["priority"] = priority
    out["attention"] = reasons
    out = out.sort_values(["priority", "red_flags_14d", "flare_ups_14d", "adherence_14d", "patient_id"],
                          ascending=[True, False, False, True, True], na_position="first")
    return out[list(OVERVIEW_COLUMNS)].astype(OVERVIEW_COLUMNS).reset_index(drop=True)
