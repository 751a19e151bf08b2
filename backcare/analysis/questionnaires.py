"""Outcome questionnaires: baseline against latest, graded by each instrument's important change.

One implementation for one patient and for the clinic (``questionnaire_outcomes`` takes any
number of patients; the trends view, the report, ``backcare summary`` and the clinic overview
all call it). Instruments, scoring and licences: backcare.domain.questionnaires.

Method
* Baseline: the first response of the instrument on or after the patient's anchor (the start
  of their first programme; without a programme, their first response of that instrument),
  never the period on screen. Responses before the anchor are not used.
* Latest: the last response on or before the end day, after the baseline's day. With no
  second response the status is "insufficient data" (the baseline is still given).
* change = latest - baseline (score points); change_pct = change / baseline * 100 (when the
  baseline is above 0).
* Classes:
  - RMDQ (0-24, lower is better): "important improvement" when the score falls by at least
    5 points OR by at least 30 % of baseline; "worse" when it rises by at least 5 points;
    else "no important change". Ostelo RW et al. Interpreting change scores for pain and
    functional status in low back pain: towards international consensus regarding minimal
    important change. Spine 2008;33(1):90-94 (5 points or 30 %). There is no consensus
    threshold for deterioration: the 5-point threshold is applied upwards too. The 30 % arm
    lets a low baseline (below about 4) count a 1-point fall as important; the points are
    always shown with the class so a clinician can judge.
  - PSFS (mean 0-10, higher is better): "important improvement" when the mean rises by at
    least 2 points, "worse" when it falls by at least 2 points (Stratford P et al. Physiother
    Can 1995;47:258-263: 2 points is the minimal detectable change of the mean, 90 %
    confidence; Abbott JH, Schmitt JS. J Orthop Sports Phys Ther 2014;44(8):560-564: minimum
    important differences 1.3 small, 2.3 medium, 2.7 large change). When the activities
    rated at the latest response differ from the baseline's, ``note`` says so.
  - GROC (15-point, -7..+7; the rating is itself a change since the programme began): the
    latest rating >= +4 ("moderately better" or more) is "important improvement", <= -4
    "worse", else "no important change" (Jaeschke R et al. Control Clin Trials
    1989;10:407-415: 1-3 small, 4-5 moderate, 6-7 large; Kamper SJ et al. J Man Manip Ther
    2009;17(3):163-170). One response is enough; baseline is empty.
  - "not answered": no response of the instrument on or after the anchor.
* Due: an instrument is due when the patient has no response of it in the 7 days ending
  today (a weekly prompt; it never blocks anything).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from backcare.analysis.calendar import EPS, as_day, empty
from backcare.domain.questionnaires import (
    GROC,
    GROC_IMPORTANT,
    INSTRUMENT_IDS,
    INSTRUMENTS,
    PSFS,
    RMDQ,
)

IMPORTANT_IMPROVEMENT = "important improvement"
NO_IMPORTANT_CHANGE = "no important change"
WORSE = "worse"
INSUFFICIENT = "insufficient data"
NOT_ANSWERED = "not answered"
CLASSES = (IMPORTANT_IMPROVEMENT, NO_IMPORTANT_CHANGE, WORSE, INSUFFICIENT, NOT_ANSWERED)
RMDQ_POINTS = INSTRUMENTS[RMDQ].important_points  # 5 (Ostelo 2008)
RMDQ_FRACTION = INSTRUMENTS[RMDQ].important_fraction or 0.30  # 30 % (Ostelo 2008)
PSFS_POINTS = INSTRUMENTS[PSFS].important_points  # 2 (Stratford 1995; Abbott & Schmitt 2014)
DUE_EVERY_DAYS = 7

OUTCOME_COLUMNS = {
    "patient_id": "str",
    "instrument": "str",
    "n": "int64",
    "baseline_day": "datetime64[ns]",
    "baseline": "float64",
    "latest_day": "datetime64[ns]",
    "latest": "float64",
    "change": "float64",
    "change_pct": "float64",
    "status": "str",
    "note": "str",
}


def classify_questionnaire(instrument: str, baseline: float | None, latest: float) -> str:
    """'important improvement', 'no important change' or 'worse' for one instrument's
    baseline and latest score (GROC: latest rating only; see the module docstring)."""
    if instrument == GROC:
        if latest >= GROC_IMPORTANT - EPS:
            return IMPORTANT_IMPROVEMENT
        if latest <= -GROC_IMPORTANT + EPS:
            return WORSE
        return NO_IMPORTANT_CHANGE
    if baseline is None:
        raise ValueError(f"baseline: None is not allowed for {instrument}; expected a score")
    if instrument == RMDQ:
        fall = baseline - latest
        if fall > EPS and (fall >= RMDQ_POINTS - EPS or fall >= RMDQ_FRACTION * baseline - EPS):
            return IMPORTANT_IMPROVEMENT
        if -fall >= RMDQ_POINTS - EPS:
            return WORSE
        return NO_IMPORTANT_CHANGE
    if instrument == PSFS:
        rise = latest - baseline
        if rise >= PSFS_POINTS - EPS:
            return IMPORTANT_IMPROVEMENT
        if -rise >= PSFS_POINTS - EPS:
            return WORSE
        return NO_IMPORTANT_CHANGE
    raise ValueError(f"instrument: {instrument!r} is not allowed; expected one of {INSTRUMENT_IDS}")


def _activities(answers: str) -> frozenset[str]:
    return frozenset(str(a).casefold() for a, _ in json.loads(answers))


def questionnaire_outcomes(
    responses: pd.DataFrame,
    anchors: pd.Series | None = None,
    end: Any = None,
    *,
    instruments: Sequence[str] = INSTRUMENT_IDS,
) -> pd.DataFrame:
    """One row per patient and instrument answered (columns OUTCOME_COLUMNS): baseline,
    latest, change and class. responses: Store.questionnaires rows of any patients; anchors:
    patient_id -> first programme start (analysis.programme_starts); end: last day used."""
    if responses is None or responses.empty:
        return empty(OUTCOME_COLUMNS)
    r = responses
    if end is not None:
        r = r[r["day"] <= as_day(end)]
    r = r[r["instrument"].isin(list(instruments))]
    rows: list[dict[str, Any]] = []
    anchor_of = anchors if anchors is not None else pd.Series([], dtype="datetime64[ns]")
    for (pid, inst), g in r.sort_values(["patient_id", "instrument", "day"], kind="stable").groupby(
        ["patient_id", "instrument"], sort=True
    ):
        pid, inst = str(pid), str(inst)
        anchor = anchor_of.get(pid, pd.NaT)
        if not pd.isna(anchor):
            g = g[g["day"] >= anchor]
        row: dict[str, Any] = {
            "patient_id": pid,
            "instrument": inst,
            "n": len(g),
            "baseline_day": pd.NaT,
            "baseline": np.nan,
            "latest_day": pd.NaT,
            "latest": np.nan,
            "change": np.nan,
            "change_pct": np.nan,
            "status": NOT_ANSWERED,
            "note": "",
        }
        if g.empty:
            rows.append(row)
            continue
        last = g.iloc[-1]
        if inst == GROC:
            row.update(
                latest_day=last["day"],
                latest=float(last["score"]),
                status=classify_questionnaire(GROC, None, float(last["score"])),
            )
            rows.append(row)
            continue
        first = g.iloc[0]
        base = float(first["score"])
        row.update(baseline_day=first["day"], baseline=base)
        if len(g) < 2:
            row["status"] = INSUFFICIENT
            rows.append(row)
            continue
        latest = float(last["score"])
        change = latest - base
        row.update(
            latest_day=last["day"],
            latest=latest,
            change=change,
            change_pct=change / base * 100 if base > EPS else np.nan,
            status=classify_questionnaire(inst, base, latest),
        )
        if inst == PSFS and _activities(first["answers"]) != _activities(last["answers"]):
            row["note"] = "the activities rated differ from the baseline's"
        rows.append(row)
    if not rows:
        return empty(OUTCOME_COLUMNS)
    return pd.DataFrame(rows, columns=list(OUTCOME_COLUMNS)).astype(OUTCOME_COLUMNS)


def class_columns(outcomes: pd.DataFrame, patient_ids: pd.Series) -> pd.DataFrame:
    """The class of each instrument per patient (columns '<instrument>_class', 'not
    answered' where none), in the order of patient_ids: the clinic overview's columns."""
    out = pd.DataFrame(index=pd.RangeIndex(len(patient_ids)))
    for inst in INSTRUMENT_IDS:
        mine = outcomes[outcomes["instrument"] == inst].set_index("patient_id")["status"]
        shown = pd.Series(patient_ids.to_numpy()).map(mine).astype(object)
        out[f"{inst}_class"] = shown.where(shown.notna(), NOT_ANSWERED).astype("str")
    return out


def questionnaires_due(
    responses: pd.DataFrame,
    today: dt.date | pd.Timestamp,
    instruments: Sequence[str] = INSTRUMENT_IDS,
) -> list[str]:
    """The instruments (of one patient's responses) with no response in the 7 days ending
    today: the weekly prompt's list, in catalog order."""
    lo = as_day(today) - pd.Timedelta(days=DUE_EVERY_DAYS - 1)
    recent = (
        set(responses.loc[(responses["day"] >= lo), "instrument"].astype(str))
        if len(responses)
        else set()
    )
    return [i for i in instruments if i not in recent]
