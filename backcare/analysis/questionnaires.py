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

from backcare.analysis.calendar import EPS, as_day, empty, typed_as
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


def classify_questionnaires(
    instruments: np.ndarray | Sequence[str], baseline: np.ndarray, latest: np.ndarray
) -> np.ndarray:
    """The class of each (instrument, baseline, latest): 'important improvement', 'no
    important change' or 'worse' (GROC: from the latest rating; see the module docstring).
    The one implementation of the thresholds, for any number of responses at once."""
    inst = np.asarray(instruments, dtype=object)
    base = np.asarray(baseline, dtype=np.float64)
    last = np.asarray(latest, dtype=np.float64)
    fall = base - last  # RMDQ: lower is better
    rise = last - base  # PSFS: higher is better
    with np.errstate(invalid="ignore"):
        better = np.select(
            [inst == GROC, inst == RMDQ, inst == PSFS],
            [
                last >= GROC_IMPORTANT - EPS,
                (fall > EPS) & ((fall >= RMDQ_POINTS - EPS) | (fall >= RMDQ_FRACTION * base - EPS)),
                rise >= PSFS_POINTS - EPS,
            ],
            False,
        )
        worse = np.select(
            [inst == GROC, inst == RMDQ, inst == PSFS],
            [
                last <= -GROC_IMPORTANT + EPS,
                -fall >= RMDQ_POINTS - EPS,
                -rise >= PSFS_POINTS - EPS,
            ],
            False,
        )
    return np.where(better, IMPORTANT_IMPROVEMENT, np.where(worse, WORSE, NO_IMPORTANT_CHANGE))


def classify_questionnaire(instrument: str, baseline: float | None, latest: float) -> str:
    """classify_questionnaires for one response: its class as a string."""
    if instrument not in INSTRUMENT_IDS:
        raise ValueError(
            f"instrument: {instrument!r} is not allowed; expected one of {INSTRUMENT_IDS}"
        )
    if baseline is None and instrument != GROC:
        raise ValueError(f"baseline: None is not allowed for {instrument}; expected a score")
    base = np.nan if baseline is None else baseline
    return str(classify_questionnaires([instrument], np.array([base]), np.array([latest]))[0])


def _activities(answers: str) -> frozenset[str]:
    return frozenset(str(a).casefold() for a, _ in json.loads(answers))


def questionnaire_outcomes(
    responses: pd.DataFrame,
    anchors: pd.Series | None = None,
    end: Any = None,
    *,
    instruments: Sequence[str] = INSTRUMENT_IDS,
) -> pd.DataFrame:
    """One row per patient and instrument answered (columns OUTCOME_COLUMNS, sorted by patient
    and instrument): baseline, latest, change and class. responses: Store.questionnaires rows
    of any patients; anchors: patient_id -> first programme start (analysis.programme_starts);
    end: last day used. Without an 'answers' column (the clinic reads scores only) no note is
    made."""
    if responses is None or responses.empty:
        return empty(OUTCOME_COLUMNS)
    r = responses
    keep = r["instrument"].isin(list(instruments)).to_numpy()
    if end is not None:
        keep = keep & (r["day"] <= as_day(end)).to_numpy()
    if not keep.any():
        return empty(OUTCOME_COLUMNS)
    # (patient, instrument) as one integer key whose order is the names' order
    pcode, pids = pd.factorize(
        r["patient_id"].to_numpy(dtype=object)[keep], sort=True, use_na_sentinel=False
    )
    icode, insts = pd.factorize(r["instrument"].to_numpy(dtype=object)[keep], sort=True)
    key = pcode.astype(np.int64) * len(insts) + icode
    day = r["day"].to_numpy(dtype="datetime64[ns]")[keep]
    rows = np.flatnonzero(keep)
    order = np.lexsort((day, key))  # stable: responses of one day keep their order
    answered = np.unique(key)  # every pair answered up to end, before the anchor
    if anchors is not None and len(anchors):
        at = pd.Series(anchors).reindex(pd.Index(pids, dtype=object))
        anchor = at.to_numpy(dtype="datetime64[ns]")[pcode[order]]
        order = order[np.isnat(anchor) | (day[order] >= anchor)]
    k = key[order]
    lo = np.searchsorted(k, answered, "left")
    hi = np.searchsorted(k, answered, "right")
    count = (hi - lo).astype(np.int64)
    some = count > 0
    first = np.where(some, order[np.minimum(lo, len(k) - 1)] if len(k) else 0, 0)
    last = np.where(some, order[np.maximum(hi - 1, 0)] if len(k) else 0, 0)
    score = r["score"].to_numpy(dtype=np.float64, na_value=np.nan)[keep]
    nat = np.datetime64("NaT", "ns")
    f_score = np.where(some, score[first], np.nan)
    l_score = np.where(some, score[last], np.nan)
    f_day = np.where(some, day[first], nat)
    l_day = np.where(some, day[last], nat)
    inst = np.asarray(insts, dtype=object)[answered % len(insts)]
    is_groc = inst == GROC
    has_pair = ~is_groc & (count >= 2)
    base = np.where(is_groc, np.nan, f_score)
    latest = np.where(is_groc | has_pair, l_score, np.nan)
    change = latest - base
    with np.errstate(divide="ignore", invalid="ignore"):
        pct = np.where(has_pair & (base > EPS), change / base * 100, np.nan)
    status = np.where(
        count == 0,
        NOT_ANSWERED,
        np.where(is_groc | has_pair, classify_questionnaires(inst, base, latest), INSUFFICIENT),
    )
    note = np.full(len(answered), "", dtype=object)
    psfs_pairs = np.flatnonzero((inst == PSFS) & has_pair)
    if len(psfs_pairs) and "answers" in r.columns:
        answers = r["answers"].to_numpy(dtype=object)[rows]
        for i in psfs_pairs:
            if _activities(str(answers[first[i]])) != _activities(str(answers[last[i]])):
                note[i] = "the activities rated differ from the baseline's"
    out = pd.DataFrame(
        {
            "patient_id": pd.array(
                np.asarray(pids, dtype=object)[answered // len(insts)], dtype="str"
            ),
            "instrument": pd.array(inst, dtype="str"),
            "n": count,
            "baseline_day": np.where(is_groc, nat, f_day),
            "baseline": base,
            "latest_day": np.where(is_groc | has_pair, l_day, nat),
            "latest": latest,
            "change": change,
            "change_pct": pct,
            "status": pd.array(status, dtype="str"),
            "note": pd.array(note, dtype="str"),
        },
        index=pd.RangeIndex(len(answered)),
    )
    return typed_as(out, OUTCOME_COLUMNS)


def class_columns(outcomes: pd.DataFrame, patient_ids: pd.Series) -> pd.DataFrame:
    """The class of each instrument per patient (columns '<instrument>_class', 'not
    answered' where none), in the order of patient_ids: the clinic overview's columns."""
    pids = patient_ids.astype(str).tolist()
    columns = {}
    for inst in INSTRUMENT_IDS:
        mine = outcomes[(outcomes["instrument"] == inst).to_numpy()]
        status = dict(zip(mine["patient_id"].astype(str), mine["status"].astype(str), strict=True))
        columns[f"{inst}_class"] = pd.array(
            [status.get(p, NOT_ANSWERED) for p in pids], dtype="str"
        )
    return pd.DataFrame(columns, index=pd.RangeIndex(len(pids)))


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
