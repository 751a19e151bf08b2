"""Effects in one person's diary: pain change within sessions, and adherence against next week's
pain.

Methods
* Session effect (``session_effect``). pain_after - pain_before for sessions with both
  scores: n, mean, SD and a 95 % confidence interval mean +- t(0.975, n - 1) * SD /
  sqrt(n) (exact Student t quantile), for all sessions, and per exercise only where the
  exercise's presence varies across sessions (exercises done in every session are judged
  by the all-sessions row; exercises always done together share one row). Identical
  changes (SD 0) get no interval, with a note saying so. Groups with n < 5 are
  suppressed: no numbers are computed for them.
* Adherence against pain (``adherence_vs_pain``). Pairs (adherence of week w, change in
  weekly mean pain from week w to week w + 1); a weekly mean needs >= 3 days with a score.
  Pearson r, at least 6 pairs, and the least-squares line. 95 % CI from Fisher's z with
  the effective number of independent pairs instead of n (tanh(atanh r +- 1.96 /
  sqrt(n_eff - 3)), stats.effective_n: Bartlett 1935, Bayley & Hammersley 1946, Pyper &
  Peterman 1998), since neighbouring weeks are not independent; none, with a note, when
  n_eff <= 3 or the weeks lie exactly on a line. Association in one person's diary, not
  proof of cause (ASSOCIATION_CAVEAT).
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
from backcare.analysis.stats import effective_n, mean_ci, pearson_ci
from backcare.domain.wording import ASSOCIATION_CAVEAT

MIN_EFFECT_N = 5
MIN_PAIRS = 6


def session_effect(
    sessions: pd.DataFrame, items: pd.DataFrame, min_n: int = MIN_EFFECT_N
) -> pd.DataFrame:
    """pain_after - pain_before: one 'overall' row, then one row per group of exercises whose
    presence varies across the sessions, with n, mean, sd, 95 % CI, suppressed and a note.

    Method: sessions with both scores; CI = mean +- t(0.975, n-1) * sd / sqrt(n). An
    exercise done in every such session gets no row of its own (its sessions are all
    sessions: the overall row is its effect, and it cannot be told apart from the others);
    exercises done in exactly the same sessions share one row (exercise_id: their ids
    joined by "+"). When every change in a row is the same (sd 0) no interval is given and
    the note says so: a zero-width interval would present n identical diary entries as
    certainty. Rows with n < min_n are suppressed (mean, sd and CI left empty). Negative
    means pain was lower after. Source: session scores."""
    _one_patient(sessions, items)
    if sessions is None or sessions.empty:
        sids: list[str] = []
        diffs = np.zeros(0)
    else:
        before = sessions["pain_before"].to_numpy(dtype=float, na_value=np.nan)
        after = sessions["pain_after"].to_numpy(dtype=float, na_value=np.nan)
        ok = ~np.isnan(before) & ~np.isnan(after)
        sids = [str(v) for v in sessions["session_id"].to_numpy(dtype=object)[ok]]
        diffs = (after - before)[ok]
    groups = _exercise_groups(items, sids) if items is not None and len(sids) else []
    constant = [ex for ex, members in groups if len(members) == len(sids)]
    overall = _effect_row("overall", "", diffs, min_n)
    if constant and overall["note"] == "":
        overall["note"] = (
            "done in every session, so only the session as a whole can be judged: "
            + ", ".join(constant)
        )
    rows = [overall]
    diff_of = dict(zip(sids, diffs.tolist(), strict=True))
    for ex, members in groups:
        if len(members) == len(sids):
            continue
        rows.append(
            _effect_row("exercise", ex, np.array([diff_of[s] for s in sorted(members)]), min_n)
        )
    return pd.DataFrame(
        {
            c: pd.array([r[c] for r in rows], dtype=t)  # type: ignore[call-overload]
            for c, t in EFFECT_COLUMNS.items()
        }
    )


EFFECT_COLUMNS = {
    "scope": "str",
    "exercise_id": "str",
    "n": "int64",
    "mean": "float64",
    "sd": "float64",
    "ci_low": "float64",
    "ci_high": "float64",
    "suppressed": "bool",
    "note": "str",
}


def _effect_row(scope: str, ex: str, diffs: pd.Series | np.ndarray, min_n: int) -> dict[str, Any]:
    """One row of session_effect: n, mean, sd and t interval, or suppressed, or no interval."""
    values = np.asarray(diffs, dtype=float)
    n = int(np.count_nonzero(~np.isnan(values)))
    row: dict[str, Any] = {
        "scope": scope,
        "exercise_id": ex,
        "n": n,
        "mean": np.nan,
        "sd": np.nan,
        "ci_low": np.nan,
        "ci_high": np.nan,
        "suppressed": n < min_n,
        "note": "",
    }
    if n < min_n:
        return row
    n, m, sd, lo, hi = mean_ci(values)
    row.update(mean=m, sd=sd, ci_low=lo, ci_high=hi)
    if sd == 0:
        row.update(
            ci_low=np.nan,
            ci_high=np.nan,
            note=f"all {n} sessions changed pain by exactly {m:+g} points; no interval",
        )
    return row


def _exercise_groups(items: pd.DataFrame, sessions: list[str]) -> list[tuple[str, frozenset[str]]]:
    """Exercises done in these sessions, those done in exactly the same sessions as one group:
    (ids joined by "+", the session ids), by id."""
    wanted = set(sessions)
    members: dict[str, set[str]] = {}
    for sid, ex, done in zip(
        items["session_id"].to_numpy(dtype=object),
        items["exercise_id"].to_numpy(dtype=object),
        items["done"].to_numpy(dtype=bool, na_value=False),
        strict=True,
    ):
        if done and isinstance(ex, str) and isinstance(sid, str) and sid in wanted:
            members.setdefault(ex, set()).add(sid)
    by_set: dict[frozenset[str], list[str]] = {}
    for ex in sorted(members):
        by_set.setdefault(frozenset(members[ex]), []).append(ex)
    return sorted(((("+".join(exs)), sids) for sids, exs in by_set.items()), key=lambda t: t[0])


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
    n_eff: float | None = None
    note: str = ""


def adherence_vs_pain(weekly: pd.DataFrame, daily: pd.DataFrame) -> AdherencePain:
    """Each week's adherence against the change in weekly mean pain to the next week: r, a
    95 % CI allowing for dependence between neighbouring weeks, n, n_eff, line.

    Method: pairs (adherence_w, pain_{w+1} - pain_w) for consecutive weeks with adherence
    and both weekly means (>= 3 days with a score each); Pearson r; least-squares line
    change = intercept + slope * adherence; needs >= 6 pairs. Neighbouring weeks share
    habits and pain levels, so the pairs are not independent and Fisher's interval with
    n - 3 is too narrow (simulated with no true effect and autocorrelated weeks, it held
    0 in about 70-85 % of series instead of 95 %: tests/analysis/test_effects.py). The
    interval is tanh(atanh r +- 1.96 / sqrt(n_eff - 3)) with n_eff = stats.effective_n
    (Bartlett 1935; Bayley & Hammersley 1946; Pyper & Peterman 1998), taken over the pairs
    in week order; with n_eff <= 3 no interval is given and the note says why. Association
    only (ASSOCIATION_CAVEAT)."""
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
    n_eff = effective_n(pairs["adherence"], pairs["change"])
    n, r, lo, hi = pearson_ci(pairs["adherence"], pairs["change"], n_eff=n_eff)
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
    note = ""
    exact = abs(r) >= 1 - 1e-9  # on a line, up to rounding
    if math.isnan(lo) or exact:
        lo = hi = math.nan
        note = (
            f"no interval: neighbouring weeks are so alike that the {n} pairs are worth only "
            f"{n_eff:.1f} independent ones (more than 3 are needed)"
            if not exact
            else f"no interval: the {n} weeks lie exactly on a line"
        )
    return AdherencePain(
        pairs,
        n,
        r,
        None if math.isnan(lo) else lo,
        None if math.isnan(hi) else hi,
        slope,
        float(y.mean() - slope * x.mean()),
        "ok",
        n_eff=n_eff,
        note=note,
    )
