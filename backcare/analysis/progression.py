"""Progression suggestions: one step up or down the catalog's ladder, or hold, with the reason.

One implementation for one patient and for the clinic: ``suggest`` takes any number of
patients; ``progression_suggestions`` is the one-patient case.

Method, over the last 14 days (the window) ending on ``end``, per exercise in force on
``end``:
* With a flare-up episode with any day in the window (pain.flare_ups: >= 2 points above
  the median of the 14 days before it for >= 2 days), or a timeline annotation of kind
  "flare-up", suggest one step back down the catalog ladder.
* A red flag ticked in any session of the window replaces every suggestion with "contact a
  clinician before changing the programme" (red flags are reasons to stop and seek care;
  see domain.wording).
* Otherwise suggest the next ladder step only when nothing argues against it (the
  conditions physiotherapy progression rests on: no red flag, pain not worse, sessions not
  raising pain, the programme kept every week):
  (a) the current dose has been in force on every day of the window;
  (b) every complete calendar week of the window reached 80 % of the exercise's
      prescribed times on its own (done counted only on days in force, capped per week);
      weeks cut by the window are not judged, as they are partly outside it or in progress;
  (c) pain is stable or falling (pain.pain_stability);
  (d) the pain trend is not classed worse (analysis.change);
  (e) sessions do not raise pain: the median of pain after - pain before over the window's
      sessions with both scores is below +2 (the 2-point minimal important change of
      Ostelo et al., Spine 2008, applied to the change within a session).
  The step up starts from the dose actually recorded, not the prescription: the median
  of the main dose (hold_s, reps or minutes, as the catalog names it) recorded on the done
  items of the window's complete calendar weeks (``recorded_doses``); the suggestion is the
  first ladder step above it. Self-reports are what the patient did; a prescription says
  only what was asked, and progressing from it would skip or repeat a step when the two
  differ (progressive loading builds on the load tolerated: American College of Sports
  Medicine, Med Sci Sports Exerc 2009;41:687-708). When the recorded median is below the
  prescription, it holds ("keep the prescription until it is reached"); with nothing
  recorded it steps up from the prescription and says so.
  At most one exercise is progressed at a time: the one with the highest adherence over
  the window (then catalog order); the others hold, saying which goes first.
* Else hold, saying why. Suggestions only: nothing is ever applied.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from backcare.analysis.adherence import ADHERENT, by_exercise
from backcare.analysis.calendar import (
    EPS,
    InForce,
    as_day,
    codes,
    day_numbers,
    empty,
    in_force_days,
    one_patient,
    patient_ids,
    round1,
    segment_starts,
    typed_as,
)
from backcare.analysis.change import MCID_POINTS, WORSE
from backcare.analysis.pain import (
    STABILITY_WINDOW_DAYS,
    flare_in,
    flare_ups,
    pain_stability,
)
from backcare.domain.catalog import Catalog

PROGRESSION_WINDOW_DAYS = STABILITY_WINDOW_DAYS
SESSION_RISE_POINTS = MCID_POINTS  # the minimal important change (Ostelo 2008)
RED_FLAG_HOLD = "contact a clinician before changing the programme"

SUGGESTION_COLUMNS = {
    "patient_id": "str",
    "exercise_id": "str",
    "dose": "str",
    "current": "Int64",
    "suggested": "Int64",
    "direction": "str",
    "reason": "str",
    "done_share": "float64",
}


def _pain_note(row: dict[str, Any] | None) -> tuple[bool, str]:
    if row is None or not bool(row["judged"]):
        return False, "not enough pain scores in the last 2 weeks to judge the trend"
    ok = bool(row["stable"])
    return ok, (
        f"pain {'stable or falling' if ok else 'rising'} "
        f"(average {round1(float(row['early'])):.1f} in the first week, "
        f"{round1(float(row['late'])):.1f} in the second)"
    )


RECORDED_COLUMNS = {
    "patient_id": "str",
    "exercise_id": "str",
    "recorded": "float64",
    "recorded_n": "int64",
    "weeks_from": "datetime64[ns]",
    "weeks_to": "datetime64[ns]",
}


def complete_weeks(start: Any, end: Any) -> tuple[pd.Timestamp, pd.Timestamp]:
    """The first Monday and last Sunday of the calendar weeks lying wholly in [start, end]."""
    lo, hi = as_day(start), as_day(end)
    first = lo + pd.Timedelta(days=(7 - lo.weekday()) % 7)
    last = hi - pd.Timedelta(days=(hi.weekday() + 1) % 7)
    return first, last


def recorded_doses(
    done: pd.DataFrame | None, catalog: Catalog, start: Any, end: Any
) -> pd.DataFrame:
    """Per (patient, exercise): the median recorded main dose (catalog main_dose: hold_s, reps or
    minutes) of the done items in the complete calendar weeks of [start, end], and how many.

    done: session items (patient_id, day, exercise_id, done and the dose columns; one row
    each) or Store.dose_counts rows (the same with a count n). Items without a recorded
    value are left out; pairs with none recorded get no row (columns RECORDED_COLUMNS)."""
    lo, hi = complete_weeks(start, end)
    if done is None or done.empty or lo > hi:
        return empty(RECORDED_COLUMNS)
    day = done["day"].to_numpy(dtype="datetime64[ns]")
    keep = (day >= lo.to_datetime64()) & (day <= hi.to_datetime64())
    if "done" in done.columns:
        keep &= done["done"].to_numpy(dtype=bool)
    main = {e.id: e.main_dose for e in catalog}
    # patients and exercises as codes into their sorted names (a missing one: code -1)
    p_code, p_names = pd.factorize(patient_ids(done).to_numpy(dtype=object)[keep], sort=True)
    e_code, e_names = pd.factorize(done["exercise_id"].to_numpy(dtype=object)[keep], sort=True)
    field = np.array([main.get(str(e)) for e in e_names] + [None], dtype=object)[e_code]
    value = np.full(len(p_code), np.nan)
    for name in ("hold_s", "reps", "minutes"):
        if name in done.columns:
            mine = field == name
            value[mine] = done[name].to_numpy(dtype=float, na_value=np.nan)[keep][mine]
    n = (
        done["n"].to_numpy(dtype=np.int64)[keep]
        if "n" in done.columns
        else np.ones(len(p_code), dtype=np.int64)
    )
    ok = ~np.isnan(value) & (n > 0) & (p_code >= 0) & (e_code >= 0)
    if not ok.any():
        return empty(RECORDED_COLUMNS)
    group = p_code[ok].astype(np.int64) * len(e_names) + e_code[ok]
    keys, median, total = _medians(group, value[ok], n[ok])
    rows = {
        "patient_id": pd.array(
            np.asarray(p_names, dtype=object)[keys // len(e_names)], dtype="str"
        ),
        "exercise_id": pd.array(
            np.asarray(e_names, dtype=object)[keys % len(e_names)], dtype="str"
        ),
        "recorded": median,
        "recorded_n": total.astype(np.int64),
        "weeks_from": np.full(len(keys), lo.to_datetime64(), dtype="datetime64[ns]"),
        "weeks_to": np.full(len(keys), hi.to_datetime64(), dtype="datetime64[ns]"),
    }
    return typed_as(pd.DataFrame(rows, index=pd.RangeIndex(len(keys))), RECORDED_COLUMNS)


def _medians(
    group: np.ndarray, values: np.ndarray, counts: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per group (its key, in order): the median of its values, each repeated counts times,
    and the total count. Without expanding the repeats: sort by group and value, then pick
    the middle position(s) of each group from the cumulative counts (numpy's median: the
    mean of the two middle values)."""
    order = np.lexsort((values, group))
    g, v, c = group[order], values[order], counts[order]
    starts = segment_starts(g)
    cum = np.cumsum(c)
    total = np.add.reduceat(c, starts)
    before = cum[starts] - c[starts]
    low = np.searchsorted(cum, before + (total - 1) // 2, side="right")
    high = np.searchsorted(cum, before + total // 2, side="right")
    return g[starts], (v[low] + v[high]) / 2, total


def suggest(
    in_force: InForce,
    daily: pd.DataFrame | None,
    flares: pd.DataFrame | None,
    annotations: pd.DataFrame | None,
    catalog: Catalog,
    *,
    per_exercise: pd.DataFrame | None = None,
    reasons: bool = True,
    trend_status: Mapping[str, str] | None = None,
    sessions: pd.DataFrame | None = None,
    recorded: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Per (patient, exercise in force on in_force.end): dose, current, suggested, direction,
    reason, done_share.

    in_force must cover exactly the window (PROGRESSION_WINDOW_DAYS ending on its end);
    flares: pain.flare_ups episodes (those with a day in the window count); annotations: rows
    with patient_id, day and kind; per_exercise: by_exercise(in_force), when already
    computed; reasons=False leaves the reason column empty (the clinic overview shows only
    the suggestions, not why each exercise holds); recorded: recorded_doses over the window
    (a step up starts from the recorded dose where there is one). Method: see the module
    docstring. Rows sorted by patient and exercise."""
    lo, hi = in_force.start, in_force.end
    exp = in_force.frame
    day = day_numbers(exp["day"])
    end_n = day_numbers([hi])[0]
    last = day == end_n
    if not last.any():
        return empty(SUGGESTION_COLUMNS)
    # (patient, exercise) pairs as integer codes
    p_code, p_names = in_force.patient_code, in_force.patients
    e_code, e_names = in_force.exercise_code, in_force.exercises
    width = max(len(e_names), 1)
    pair = p_code * width + e_code
    n_pairs = len(p_names) * width
    # adherence per pair over the window, capped per week (the rule of adherence.by_exercise)
    per = by_exercise(in_force) if per_exercise is None else per_exercise
    per_pair = codes(per["patient_id"], p_names) * width + codes(per["exercise_id"], e_names)
    prescribed = np.bincount(per_pair, weights=per["prescribed"].to_numpy(), minlength=n_pairs)
    done = np.bincount(per_pair, weights=per["done"].to_numpy(dtype=float), minlength=n_pairs)
    capped = np.bincount(per_pair, weights=per["done_capped"].to_numpy(), minlength=n_pairs)
    # the main dose on each in-force row, and the one in force on `end`
    main = {e.id: e.main_dose for e in catalog}
    fields = np.array([main.get(e) for e in e_names], dtype=object)[e_code]
    value = np.full(len(exp), np.nan)
    for name in ("hold_s", "reps", "minutes"):
        mine = fields == name
        value[mine] = exp[name].to_numpy(dtype=float, na_value=np.nan)[mine]
    current_dose = np.full(n_pairs, np.nan)
    current_dose[pair[last]] = value[last]
    # days in an unbroken run ending on `end` at the dose in force on `end`
    same = value == current_dose[pair]
    order = np.lexsort((-day, pair))
    back = end_n - day[order]
    starts = segment_starts(pair[order])
    seg_len = np.diff(np.append(starts, len(order)))
    seg = np.repeat(np.arange(len(starts)), seg_len)
    rank = np.arange(len(order)) - starts[seg]
    in_run = same[order] & (back == rank)
    # the run ends at the first row (from `end` backwards) that is not in it
    never = np.iinfo(np.int64).max
    first_out = np.full(len(starts), never)
    np.minimum.at(first_out, seg, np.where(in_run, never, rank))
    run = np.zeros(n_pairs, dtype=np.int64)
    run[pair[order[starts]]] = np.minimum(first_out, seg_len)
    window_days = (hi - lo).days + 1

    # flare days and flare notes in the window, per patient: the last one of each
    lo64, hi64 = lo.to_datetime64(), hi.to_datetime64()

    def last_day(
        frame: pd.DataFrame | None, keep: np.ndarray | None = None, days: np.ndarray | None = None
    ) -> dict[Any, pd.Timestamp]:
        """Per patient of frame's rows where keep: the last day (frame's day, or days) in the
        window."""
        if frame is None or frame.empty:
            return {}
        day = frame["day"].to_numpy(dtype="datetime64[ns]") if days is None else days
        mine = (day >= lo64) & (day <= hi64)
        if keep is not None:
            mine &= keep
        order = np.argsort(day[mine], kind="stable")
        pids = patient_ids(frame).to_numpy(dtype=object)[mine][order]
        return dict(zip(pids.tolist(), pd.to_datetime(day[mine][order]), strict=True))

    # an episode counts when any of its days is in the window; it is dated from its start
    # (or the window's first day when it began before)
    last_flare = (
        {}
        if flares is None or flares.empty
        else last_day(
            flares,
            flare_in(flares, lo, hi),
            np.maximum(flares["start"].to_numpy(dtype="datetime64[ns]"), lo64),
        )
    )
    last_note = (
        {}
        if annotations is None or annotations.empty
        else last_day(annotations, (annotations["kind"] == "flare-up").to_numpy(dtype=bool))
    )
    stability: dict[str, dict[Any, Any]] = {}  # per patient, for the reasons
    judged_stable: list[str] = []
    if daily is not None and len(daily):
        st_frame = pain_stability(daily, hi)
        if reasons:
            fields = ("judged", "stable", "early", "late")
            stability = {
                str(p): dict(zip(fields, values, strict=True))
                for p, *values in zip(*(st_frame[c] for c in ("patient_id", *fields)), strict=True)
            }
        ok = st_frame["judged"].to_numpy(dtype=bool) & st_frame["stable"].to_numpy(dtype=bool)
        judged_stable = st_frame["patient_id"].astype(str).to_numpy()[ok].tolist()

    # safety: red flags, a worse trend, sessions that raise pain (per patient), and weeks
    # below 80 % (per exercise, complete weeks only)
    red_day: dict[Any, pd.Timestamp] = {}
    if daily is not None and len(daily) and "red_flag_sessions" in daily.columns:
        red_day = last_day(daily, daily["red_flag_sessions"].to_numpy() > 0)
    worse = {str(p) for p, status in (trend_status or {}).items() if status == WORSE}
    rise = _session_rise(sessions, lo, hi)
    week_days = per["days"].to_numpy()
    full = week_days == 7
    low_week = full & (per["adherence"].to_numpy(dtype=float) < ADHERENT - EPS)
    p_list, e_list = list(p_names), list(e_names)
    info = {}  # per exercise: (dose field, ladder) from the catalog, looked up once
    for ex_id in e_list:
        exercise = catalog[ex_id] if ex_id is not None and ex_id in catalog else None
        info[ex_id] = (
            (exercise.main_dose, tuple(exercise.ladder)) if exercise is not None else ("", ())
        )
    weak = np.zeros(n_pairs, dtype=bool)
    weak[per_pair[low_week]] = True
    first_low: dict[int, tuple[Any, float]] = {}  # the first complete week below 80 %, per pair
    if reasons:
        for code, week, adh in zip(
            per_pair[low_week].tolist(),
            per["week"].to_numpy()[low_week],
            per["adherence"].to_numpy(dtype=float)[low_week],
            strict=True,
        ):
            first_low.setdefault(code, (pd.Timestamp(week).date(), adh))

    # one row per (patient, exercise) in force on `end`, in (patient, exercise) order; every
    # rule below is applied to all rows at once (numpy), the per-patient facts through the
    # row's patient code
    keys = np.sort(pair[last])
    kp, ke = keys // width, keys % width
    position = {str(p): i for i, p in enumerate(p_list)}

    def per_patient(values: Iterable[str]) -> np.ndarray:
        """True for the rows whose patient is one of values (or a key of them)."""
        mine = np.zeros(len(p_list), dtype=bool)
        mine[[position[p] for p in values if p in position]] = True
        out: np.ndarray = mine[kp]
        return out

    now = current_dose[keys]
    missing = np.isnan(now)
    presc, did_n = prescribed[keys], done[keys]
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(presc > 0, capped[keys] / np.where(presc > 0, presc, 1), np.nan)
    red = per_patient(red_day)
    seen = per_patient(last_flare) | per_patient(last_note)
    n_run = run[keys]
    steady = n_run >= window_days
    adherent = share >= ADHERENT - EPS  # False where nothing was prescribed (NaN)
    pain_ok = per_patient(judged_stable)
    not_worse = ~per_patient(worse)
    raised = {p: v for p, v in rise.items() if not v < SESSION_RISE_POINTS - EPS}
    calm = ~per_patient(raised)
    weeks_ok = ~weak[keys]
    # the recorded dose of each row (NaN where none): a step up starts from it when higher
    rec = np.full(n_pairs, np.nan)
    rec_n = np.zeros(n_pairs, dtype=np.int64)
    rec_weeks: tuple[Any, Any] = (None, None)
    if recorded is not None and len(recorded):
        rp = codes(recorded["patient_id"], p_names)
        re_ = codes(recorded["exercise_id"], e_names)
        ok = (rp >= 0) & (re_ >= 0)
        at = rp[ok] * width + re_[ok]
        rec[at] = recorded["recorded"].to_numpy(dtype=float)[ok]
        rec_n[at] = recorded["recorded_n"].to_numpy(dtype=np.int64)[ok]
        rec_weeks = (
            pd.Timestamp(recorded["weeks_from"].iloc[0]).date(),
            pd.Timestamp(recorded["weeks_to"].iloc[0]).date(),
        )
    rec = rec[keys]
    has_rec = ~np.isnan(rec)
    base = np.where(has_rec, np.fmax(rec, now), now)
    short = has_rec & (rec < now - EPS)
    # the ladder steps next to each row's dose, exercise by exercise (ladders are increasing)
    dose_names = np.array([info[e][0] for e in e_list], dtype=object)
    has_ladder = np.array([bool(info[e][1]) for e in e_list], dtype=bool)[ke]
    step_down = np.full(len(keys), np.nan)
    step_up = np.full(len(keys), np.nan)
    for code, ex_id in enumerate(e_list):
        ladder = np.asarray(info[ex_id][1], dtype=float)
        rows = np.flatnonzero((ke == code) & ~missing)
        if not len(ladder) or not len(rows):
            continue
        below = np.searchsorted(ladder, now[rows], side="left") - 1
        step_down[rows] = np.where(below >= 0, ladder[np.maximum(below, 0)], np.nan)
        above = np.searchsorted(ladder, base[rows] + EPS, side="right")
        step_up[rows] = np.where(
            above < len(ladder), ladder[np.minimum(above, len(ladder) - 1)], np.nan
        )
    # the rules in their order: a red flag holds; so do no ladder and no prescribed dose; a
    # flare-up steps down one step; else every condition for a step up must hold
    judged = ~red & has_ladder & ~missing
    down = judged & seen & ~np.isnan(step_down)
    ready = steady & adherent & weeks_ok & pain_ok & not_worse & calm
    up = judged & ~seen & ready & ~np.isnan(step_up) & ~short
    # one change at a time: of a patient's steps up, the highest done share, then the
    # catalog's order, is kept; the others hold
    order_of = {e.id: i for i, e in enumerate(catalog)}
    rank = np.array([order_of.get(e, 1 << 30) for e in e_list], dtype=np.int64)[ke]
    ups = np.flatnonzero(up)
    first_up = np.full(len(p_names), -1, dtype=np.int64)
    if len(ups):
        best_first = ups[np.lexsort((ups, rank[ups], -share[ups], kp[ups]))]
        lead = np.append(True, kp[best_first][1:] != kp[best_first][:-1])
        first_up[kp[best_first[lead]]] = best_first[lead]
    second = up & (first_up[kp] != np.arange(len(keys)))
    up &= ~second
    suggested = np.where(down, step_down, np.where(up, step_up, now))
    direction = np.where(down, "down", np.where(up, "up", "hold")).astype(object)

    why = [""] * len(keys)
    if reasons:
        name_of = {e.id: e.name for e in catalog}
        for i, k in enumerate(keys.tolist()):
            p_id, ex_id = str(p_list[k // width]), e_list[k % width]
            dose, steps = info[ex_id]
            cur: Any = None if missing[i] else int(now[i])
            presc_i, share_i = float(presc[i]), float(share[i])
            if red[i]:
                why[i] = f"red flag ticked on {pd.Timestamp(red_day[p_id]).date()}: {RED_FLAG_HOLD}"
            elif not steps:
                why[i] = "no progression ladder in the catalog for this exercise"
            elif missing[i]:
                why[i] = f"no {dose} recorded in the prescription"
            elif seen[i]:
                when_seen = last_flare.get(p_id)
                src = "flare-up"
                if when_seen is None:
                    when_seen, src = last_note[p_id], "flare-up noted on the timeline"
                when = pd.Timestamp(when_seen).date()
                why[i] = (
                    f"{src} on {when}: one step back until it settles"
                    if down[i]
                    else f"{src} on {when}; already at the lowest step"
                )
            else:
                pain_note = _pain_note(stability.get(p_id))[1] if steady[i] and adherent[i] else ""
                did = (
                    f"done {int(did_n[i])} times against {presc_i:g} prescribed in the last 2 "
                    f"weeks ({share_i * 100:.0f} %)"
                )
                r = (float(rec[i]), int(rec_n[k]), *rec_weeks) if has_rec[i] else None
                if not steady[i]:
                    since = (hi - pd.Timedelta(days=int(n_run[i]) - 1)).date()
                    why[i] = (
                        f"current dose in force only since {since}; judge after 2 full weeks at it"
                    )
                elif not adherent[i]:
                    why[i] = f"{did}; below 80 %, keep the current dose"
                elif not weeks_ok[i]:
                    week, adh = first_low[k]
                    why[i] = (
                        f"{did}, but the week of {week} reached only {adh * 100:.0f} %; every "
                        "week needs 80 % before progressing"
                    )
                elif not not_worse[i]:
                    why[i] = f"{did}; pain is worse than at baseline: keep the current dose"
                elif not calm[i]:
                    why[i] = (
                        f"{did}; sessions raise pain (median +{rise[p_id]:.1f} points after "
                        "exercising): keep the current dose and ask your physiotherapist"
                    )
                elif not pain_ok[i]:
                    why[i] = f"{did}; {pain_note}"
                elif short[i] and r is not None:
                    why[i] = (
                        f"{did}, {pain_note}, but the recorded {dose} (median {r[0]:g} over "
                        f"{r[1]} times, {r[2]} to {r[3]}) is below the prescribed "
                        f"{cur}: keep the prescription until it is reached"
                    )
                elif not np.isnan(step_up[i]):
                    if second[i]:
                        best = e_list[int(ke[first_up[kp[i]]])]
                        why[i] = (
                            "ready to progress, but one change at a time: "
                            f"{name_of.get(best, best)} is suggested first"
                        )
                    else:
                        src_dose = (
                            f"from the prescribed {dose} {cur} (no {dose} recorded in the "
                            "complete weeks)"
                            if r is None
                            else f"from the recorded {dose} (median {r[0]:g} over {r[1]} "
                            f"times, {r[2]} to {r[3]}; prescribed {cur}): the next step "
                            "above what was actually done"
                        )
                        why[i] = f"{did}, {pain_note}, no flare-up; {src_dose}"
                else:
                    why[i] = f"{did}, {pain_note}; already at the top of the range"
    return pd.DataFrame(
        {
            "patient_id": pd.array(np.asarray(p_list, dtype=object)[kp], dtype="str"),
            "exercise_id": pd.array(np.asarray(e_list, dtype=object)[ke], dtype="str"),
            "dose": pd.array(dose_names[ke], dtype="str"),
            "current": _whole(now),
            "suggested": _whole(suggested),
            "direction": pd.array(direction, dtype="str"),
            "reason": pd.array(why, dtype="str"),
            "done_share": share.astype(float),
        }
    )


def _whole(values: np.ndarray) -> pd.arrays.IntegerArray:
    """Whole numbers (NaN: missing) as Int64."""
    missing = np.isnan(values)
    return pd.arrays.IntegerArray(np.where(missing, 0, values).astype(np.int64), missing)


def _session_rise(
    sessions: pd.DataFrame | None, lo: pd.Timestamp, hi: pd.Timestamp
) -> dict[str, float]:
    """Per patient: the median of pain after - pain before over the window's sessions with both."""
    if sessions is None or sessions.empty:
        return {}
    day = sessions["day"].to_numpy(dtype="datetime64[ns]")
    before = sessions["pain_before"].to_numpy(dtype=float, na_value=np.nan)
    after = sessions["pain_after"].to_numpy(dtype=float, na_value=np.nan)
    ok = (day >= lo.to_datetime64()) & (day <= hi.to_datetime64())
    ok &= ~np.isnan(before) & ~np.isnan(after)
    if not ok.any():
        return {}
    code, names = pd.factorize(patient_ids(sessions).to_numpy(dtype=object)[ok], sort=True)
    diff = after[ok] - before[ok]
    keys, median, _ = _medians(code, diff, np.ones(len(diff), dtype=np.int64))
    return {str(names[k]): float(m) for k, m in zip(keys, median, strict=True)}


def progression_suggestions(
    prescriptions: pd.DataFrame,
    items: pd.DataFrame,
    daily: pd.DataFrame | None,
    catalog: Catalog,
    end: Any,
    annotations: pd.DataFrame | None = None,
    window_days: int = PROGRESSION_WINDOW_DAYS,
    *,
    in_force: InForce | None = None,
    flares: pd.DataFrame | None = None,
    trend_status: str | None = None,
    sessions: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """One patient's suggestions (the one-patient case of suggest); columns SUGGESTION_COLUMNS.

    Optional in_force (in_force_days over a period holding the window) and flares
    (flare_ups(daily)) save recomputing them."""
    one_patient(prescriptions, items, annotations)
    hi = as_day(end)
    lo = hi - pd.Timedelta(days=window_days - 1)
    if in_force is not None and in_force.start <= lo and hi <= in_force.end:
        window = in_force.between(lo, hi)
    else:
        window = in_force_days(prescriptions, items, lo, hi)
    if flares is None:
        flares = flare_ups(daily) if daily is not None else None
    pid = str(patient_ids(prescriptions).iloc[0]) if len(prescriptions) else ""
    return suggest(
        window,
        daily,
        flares,
        annotations,
        catalog,
        trend_status=None if trend_status is None else {pid: trend_status},
        sessions=sessions,
        recorded=recorded_doses(items, catalog, lo, hi),
    )
