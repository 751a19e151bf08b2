"""Effects in one person's diary: pain change within sessions, and adherence against next week's
pain.

Methods
* Session effect (``session_effect``). pain_after - pain_before for sessions with both
  scores; overall and per exercise (sessions in which it was done): n, mean, SD and a 95 %
  confidence interval mean +- t(0.975, n - 1) * SD / sqrt(n) (exact Student t quantile).
  Groups with n < 5 are suppressed: no numbers are computed for them.
* Adherence against pain (``adherence_vs_pain``). Pairs (adherence of week w, change in
  weekly mean pain from week w to week w + 1); a weekly mean needs >= 3 days with a score.
  Pearson r with a 95 % CI from Fisher's z (tanh(atanh r +- 1.96 / sqrt(n - 3))), at least
  6 pairs, and the least-squares line. Association in one person's diary, not proof of
  cause (ASSOCIATION_CAVEAT).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from backcare.analysis.calendar import empty as _empty
from backcare.analysis.calendar import one_patient as _one_patient
from backcare.analysis.change import INSUFFICIENT
from backcare.analysis.pain import weekly_pain
from backcare.analysis.stats import mean_ci, pearson_ci
from backcare.domain.wording import ASSOCIATION_CAVEAT

MIN_EFFECT_N = 5
MIN_PAIRS = 6


def session_effect(
    sessions: pd.DataFrame, items: pd.DataFrame, min_n: int = MIN_EFFECT_N
) -> pd.DataFrame:
    """pain_after - pain_before: one 'overall' row then one per exercise, with n, mean, sd, 95 %
    CI, suppressed.

    Method: sessions with both scores; per exercise, those sessions in which it was done;
    CI = mean +- t(0.975, n-1) * sd / sqrt(n). Rows with n < min_n are suppressed (mean,
    sd and CI left empty). Negative means pain was lower after. Source: session scores."""
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

    def row(scope: str, ex: str, diffs: pd.Series | np.ndarray) -> dict[str, Any]:
        n = int(np.count_nonzero(~np.isnan(np.asarray(diffs, dtype=float))))
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
        for ex, diffs in _diffs_by_exercise(items, both):
            rows.append(row("exercise", ex, diffs))
    return pd.DataFrame(rows, columns=list(cols)).astype(cols)


def _diffs_by_exercise(items: pd.DataFrame, both: pd.DataFrame) -> list[tuple[str, Any]]:
    """(exercise id, the diffs of the sessions in which it was done, in item order), by exercise
    id."""
    sid = both["session_id"]
    if not (sid.is_unique and sid.notna().all()):  # the general (slower) join
        done = items[items["done"].astype(bool)][["session_id", "exercise_id"]].drop_duplicates()
        joined = done.merge(both, on="session_id", how="inner")
        return [(str(ex), g["diff"]) for ex, g in joined.groupby("exercise_id", sort=True)]
    ticked = items["done"].to_numpy(dtype=bool)
    s_code, s_names = pd.factorize(items["session_id"])
    e_code, e_names = pd.factorize(items["exercise_id"], sort=True)
    ok = ticked & (s_code >= 0) & (e_code >= 0)
    # each (session, exercise) once, at its first done item
    key = s_code.astype(np.int64) * (len(e_names) + 1) + e_code
    firsts: np.ndarray = (
        np.sort(np.unique(key[ok], return_index=True)[1]) if ok.any() else np.zeros(0, int)
    )
    first = np.flatnonzero(ok)[firsts]
    at = pd.Index(sid).get_indexer(s_names.take(s_code[first]))
    first, at = first[at >= 0], at[at >= 0]
    diff = both["diff"].to_numpy(dtype=float)[at]
    code = e_code[first]
    return [(str(e_names[c]), diff[code == c]) for c in np.unique(code)]


# ---- adherence against pain ------------------------------------------------------------------
@dataclass(frozen=True)
class AdherencePain:
    """Weekly adherence vs next week's change in pain: pairs, Pearson r, 95 % CI and fitted line."""

    pairs: pd.DataFrame
    n: int
    r: float | None
    ci_low: float | None
    ci_high: float | None
    slope: float | None
    intercept: float | None
    status: str
    caveat: str = ASSOCIATION_CAVEAT


def adherence_vs_pain(weekly: pd.DataFrame, daily: pd.DataFrame) -> AdherencePain:
    """Each week's adherence against the change in weekly mean pain to the next week: r,
    Fisher-z 95 % CI, n, line.

    Method: pairs (adherence_w, pain_{w+1} - pain_w) for consecutive weeks with adherence
    and both weekly means (>= 3 days with a score each); Pearson r with CI
    tanh(atanh r +- 1.96/sqrt(n-3)); least-squares line change = intercept + slope *
    adherence; needs >= 6 pairs. Association only (ASSOCIATION_CAVEAT)."""
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
    # each week of `weekly` (in its order) with that week's and the next week's mean pain
    week = weekly["week"].to_numpy(dtype="datetime64[ns]")
    known = wp["week"].to_numpy(dtype="datetime64[ns]")  # sorted, distinct
    known_pain = wp["pain"].to_numpy(dtype=float)

    def pain_of(w: np.ndarray) -> np.ndarray:
        at = np.searchsorted(known, w).clip(max=len(known) - 1)
        return np.where(known[at] == w, known_pain[at], np.nan)

    pain = pain_of(week)
    next_pain = pain_of(week + np.timedelta64(7, "D"))
    adherence = weekly["adherence"].to_numpy(dtype=float, na_value=np.nan)
    ok = ~(np.isnan(adherence) | np.isnan(pain) | np.isnan(next_pain))
    pairs = pd.DataFrame(
        {
            "week": week[ok],
            "adherence": adherence[ok],
            "pain": pain[ok],
            "next_pain": next_pain[ok],
            "change": next_pain[ok] - pain[ok],
        }
    )
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
