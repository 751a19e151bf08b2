"""The clinic overview: one row per patient, patients needing attention first (pure pandas).

It applies the same rule functions as one patient's dashboard to every patient at once;
nothing here re-implements a rule. Input: the frames services.clinic_frames reads (each
patient's daily pain sums over their whole history, the 14-day window's done counts,
prescriptions, flare-up notes), so a clinic of 1,000 patients never reads item rows
outside the window.

Columns and methods
- last_session, days_since: the last day with a session, and days from it to today.
- adherence_14d: adherence.adherence_per_patient over the 14 days ending today (capped per
  exercise and week, done counted only on days in force). Self-reported.
- baseline, latest, change, pain_class: change.pain_trends, the baseline anchored at the
  start of the programme (see analysis.change for the classes and their sources); taken
  from frames["trends"] when the reader already computed it on the same sums.
- flare_episodes_14d: pain.flare_ups episodes with any day in the last 14 (each episode
  once, however long; judged on the daily pain read from 28 days before the window).
- red_flags_14d: pain.red_flag_counts, sessions in the last 14 days with a red flag ticked.
- suggestions: progression.suggest's up/down suggestions (suggestions only), stepping up
  from the dose recorded in the window's complete weeks (Store.dose_counts).
- rmdq_class, psfs_class, groc_class: questionnaires.questionnaire_outcomes, each
  instrument's class (baseline anchored at the programme's start; sources there).
- adherence_7d, adherence_prev_7d, adherence_falling: adherence.adherence_falling, the
  last 7 days against the 7 before (falling: below 80 % and 30 points or more lower).
- priority / attention, ranked by severity, the most severe reason first:
  1 red flag ticked in the last 14 days (contact the patient);
  2 pain worse than at baseline (change.pain_trends' class "worse");
  3 flare-up episode with a day in the last 14 days;
  4 no session for 7 days or more (or none yet);
  5 adherence falling;
  9 nothing to flag. A steady adherence below 80 % is shown (adherence_14d) but is not by
  itself a reason: "needs attention" marks what changed or what is unsafe, so that the
  list stays short enough to act on.
"""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pandas as pd

from backcare.analysis.adherence import (
    adherence_falling,
    adherence_per_patient,
    by_exercise,
    weekly_totals,
)
from backcare.analysis.calendar import in_force_days, programme_starts, typed_as
from backcare.analysis.change import INSUFFICIENT, WORSE, pain_trends
from backcare.analysis.pain import (
    FLARE_LOOKBACK_DAYS,
    daily_from_sums,
    flare_counts,
    flare_ups,
    red_flag_counts,
)
from backcare.analysis.progression import PROGRESSION_WINDOW_DAYS, recorded_doses, suggest
from backcare.analysis.questionnaires import class_columns, questionnaire_outcomes
from backcare.domain.catalog import Catalog

OVERVIEW_COLUMNS = {
    "patient_id": "str",
    "name": "str",
    "priority": "int64",
    "attention": "str",
    "last_session": "datetime64[ns]",
    "days_since": "Int64",
    "adherence_14d": "float64",
    "adherence_7d": "float64",
    "adherence_prev_7d": "float64",
    "adherence_falling": "bool",
    "baseline": "float64",
    "latest": "float64",
    "change": "float64",
    "pain_class": "str",
    "flare_episodes_14d": "int64",
    "red_flags_14d": "int64",
    "suggestions": "int64",
    "suggestion_text": "str",
    "rmdq_class": "str",
    "psfs_class": "str",
    "groc_class": "str",
}
INACTIVE_DAYS = 7
WINDOW_DAYS = PROGRESSION_WINDOW_DAYS
# the window, the 14 days a flare starting in it is judged against, and 14 more so that an
# episode that began up to 2 weeks before the window is seen from its own start
LOOKBACK_DAYS = WINDOW_DAYS + 2 * FLARE_LOOKBACK_DAYS
CLINIC_FRAMES = ("patients", "prescriptions", "done", "daily", "annotations")


def suggestion_label(name: str, current: object, suggested: object) -> str:
    """The short form of a suggestion in the overview, e.g. 'Plank 30->45'."""
    return f"{name} {int(current)}->{int(suggested)}"  # type: ignore[call-overload]


def clinic_overview(
    frames: dict[str, pd.DataFrame], today: dt.date, catalog: Catalog
) -> pd.DataFrame:
    """One row per patient (columns OVERVIEW_COLUMNS), patients needing attention first."""
    end = pd.Timestamp(today)
    patients = frames["patients"]
    if patients.empty:
        return pd.DataFrame({c: pd.Series(dtype=t) for c, t in OVERVIEW_COLUMNS.items()})
    lo = end - pd.Timedelta(days=WINDOW_DAYS - 1)
    out = patients[["patient_id", "name", "last_session"]].copy()
    out["days_since"] = (end - out["last_session"]).dt.days.astype("Int64")
    pid = out["patient_id"]

    window = in_force_days(frames["prescriptions"], None, lo, end, done=frames["done"])
    per_exercise = by_exercise(window)
    adherence = adherence_per_patient(weekly_totals(per_exercise))
    out["adherence_14d"] = pid.map(adherence).astype("float64")
    halves = adherence_falling(window, WINDOW_DAYS // 2)
    out["adherence_7d"] = pid.map(halves["recent"]).astype("float64")
    out["adherence_prev_7d"] = pid.map(halves["earlier"]).astype("float64")
    out["adherence_falling"] = pid.map(halves["falling"]).fillna(False).astype(bool)

    sums = frames["daily"][frames["daily"]["day"] <= end]
    # each patient's first programme start: read as such when the prescriptions read holds
    # only the programmes in force in the window
    starts = (
        programme_starts(frames["prescriptions"])
        if "starts" not in frames
        else frames["starts"].set_index("patient_id")["start"]
    )
    trends = frames.get("trends")  # pain_trends of these sums, when the reader computed it
    if trends is None:
        trends = pain_trends(daily_from_sums(sums, every_day=False), starts, end)
    trend = trends.set_index("patient_id")
    out["baseline"] = pid.map(trend["baseline"]).astype("float64")
    out["latest"] = pid.map(trend["latest"]).astype("float64")
    out["change"] = pid.map(trend["change"]).astype("float64")
    # astype(object) first: with no trends at all the map is float64 NaN, which no string fills
    out["pain_class"] = pid.map(trend["status"]).astype(object).fillna(INSUFFICIENT).astype("str")

    look = end - pd.Timedelta(days=LOOKBACK_DAYS - 1)
    recent = daily_from_sums(sums[sums["day"] >= look], look, end)
    flares = flare_ups(recent)
    out["flare_episodes_14d"] = pid.map(flare_counts(flares, lo, end)).fillna(0).astype("int64")
    out["red_flags_14d"] = pid.map(red_flag_counts(recent, lo, end)).fillna(0).astype("int64")

    sug = suggest(
        window,
        recent,
        flares,
        frames["annotations"],
        catalog,
        per_exercise=per_exercise,
        reasons=False,
        trend_status=dict(zip(trend.index.astype(str), trend["status"].astype(str), strict=True)),
        sessions=frames.get("sessions"),
        recorded=recorded_doses(frames.get("doses"), catalog, lo, end),
    )
    moves = sug[sug["direction"] != "hold"]
    names = {e.id: e.name for e in catalog}
    labels = pd.Series(
        [
            suggestion_label(names.get(e, e), c, s)
            for e, c, s in zip(
                moves["exercise_id"], moves["current"], moves["suggested"], strict=True
            )
        ],
        index=moves.index,
        dtype="str",
    )
    per_patient: dict[str, list[str]] = {}  # moves are in patient then exercise order
    for p, label in zip(moves["patient_id"].astype(str), labels, strict=True):
        per_patient.setdefault(p, []).append(label)
    ids = pid.astype(str).tolist()
    out["suggestions"] = np.array([len(per_patient.get(p, ())) for p in ids], dtype=np.int64)
    out["suggestion_text"] = pd.array(["; ".join(per_patient.get(p, ())) for p in ids], dtype="str")

    answered = frames.get("questionnaires")
    outcomes = questionnaire_outcomes(
        answered if answered is not None else pd.DataFrame(), starts, end
    )
    for col, values in class_columns(outcomes, pid).items():
        out[col] = values.to_numpy()

    reasons, priority = [], []
    for red, worse, flares_n, since, falling, before, now in zip(
        out["red_flags_14d"].tolist(),
        (out["pain_class"] == WORSE).tolist(),
        out["flare_episodes_14d"].tolist(),
        out["days_since"].astype("float64").tolist(),
        out["adherence_falling"].tolist(),
        out["adherence_prev_7d"].tolist(),
        out["adherence_7d"].tolist(),
        strict=True,
    ):
        why: list[tuple[int, str]] = []
        if red:
            why.append((1, f"RED FLAG in {red} session(s): contact the patient"))
        if worse:
            why.append((2, "pain worse than at baseline"))
        if flares_n:
            why.append((3, f"{flares_n} flare-up episode(s)"))
        if math.isnan(since):
            why.append((4, "no sessions yet"))
        elif since >= INACTIVE_DAYS:
            why.append((4, f"no session for {int(since)} days"))
        if falling:
            why.append((5, f"adherence falling ({before * 100:.0f} % -> {now * 100:.0f} %)"))
        priority.append(min((p for p, _ in why), default=9))
        reasons.append("; ".join(text for _, text in why))
    out["priority"] = np.asarray(priority, dtype=np.int64)
    out["attention"] = reasons
    out = out.sort_values(
        ["priority", "red_flags_14d", "flare_episodes_14d", "adherence_14d", "patient_id"],
        ascending=[True, False, False, True, True],
        na_position="first",
    )
    return typed_as(out, OVERVIEW_COLUMNS).reset_index(drop=True)
