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

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from backcare.analysis.adherence import ADHERENT, by_exercise
from backcare.analysis.calendar import (
    EPS,
    InForce,
    as_day,
    day_numbers,
    empty,
    in_force_days,
    one_patient,
    patient_ids,
    round1,
    segment_starts,
)
from backcare.analysis.change import MCID_POINTS, WORSE
from backcare.analysis.pain import (
    STABILITY_WINDOW_DAYS,
    flare_ups,
    flares_between,
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
    w = done[keep]
    main = {e.id: e.main_dose for e in catalog}
    field = w["exercise_id"].astype(str).map(main)
    value = np.full(len(w), np.nan)
    for name in ("hold_s", "reps", "minutes"):
        if name in w.columns:
            mine = (field == name).to_numpy()
            value[mine] = w[name].to_numpy(dtype=float, na_value=np.nan)[mine]
    n = w["n"].to_numpy(dtype=np.int64) if "n" in w.columns else np.ones(len(w), dtype=np.int64)
    ok = ~np.isnan(value) & (n > 0)
    frame = pd.DataFrame(
        {
            "patient_id": patient_ids(w).to_numpy()[ok],
            "exercise_id": w["exercise_id"].astype(str).to_numpy()[ok],
            "value": value[ok],
            "n": n[ok],
        }
    )
    if frame.empty:
        return empty(RECORDED_COLUMNS)
    # the median of each (patient, exercise)'s values, each repeated n times, without
    # expanding them: sort by group and value, then pick the middle position(s) of each
    # group from the cumulative counts (numpy's median: the mean of the two middle values)
    p_code, p_names = pd.factorize(frame["patient_id"], sort=True)
    e_code, e_names = pd.factorize(frame["exercise_id"], sort=True)
    group = p_code.astype(np.int64) * len(e_names) + e_code
    order = np.lexsort((frame["value"].to_numpy(), group))
    g, v, c = group[order], frame["value"].to_numpy()[order], frame["n"].to_numpy()[order]
    starts = segment_starts(g)
    cum = np.cumsum(c)
    total = np.add.reduceat(c, starts)
    before = cum[starts] - c[starts]
    low = np.searchsorted(cum, before + (total - 1) // 2, side="right")
    high = np.searchsorted(cum, before + total // 2, side="right")
    keys = g[starts]
    rows = {
        "patient_id": np.asarray(p_names)[keys // len(e_names)],
        "exercise_id": np.asarray(e_names)[keys % len(e_names)],
        "recorded": (v[low] + v[high]) / 2,
        "recorded_n": total,
        "weeks_from": np.full(len(keys), lo.to_datetime64()),
        "weeks_to": np.full(len(keys), hi.to_datetime64()),
    }
    return pd.DataFrame(rows).astype(RECORDED_COLUMNS)


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
    on_end = exp[exp["day"] == hi]
    if on_end.empty:
        return empty(SUGGESTION_COLUMNS)
    # (patient, exercise) pairs as integer codes
    p_code, p_names = in_force.patient_code, in_force.patients
    e_code, e_names = in_force.exercise_code, in_force.exercises
    width = max(len(e_names), 1)
    pair = p_code * width + e_code
    n_pairs = len(p_names) * width
    # adherence per pair over the window, capped per week (the rule of adherence.by_exercise)
    per = by_exercise(in_force) if per_exercise is None else per_exercise
    per_pair = pd.Index(p_names).get_indexer(per["patient_id"]) * width + pd.Index(
        e_names
    ).get_indexer(per["exercise_id"])
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
    day = day_numbers(exp["day"])
    end_n = day_numbers([hi])[0]
    last = day == end_n
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
    def last_day(frame: pd.DataFrame | None, kind: str | None = None) -> dict[Any, pd.Timestamp]:
        if frame is None or frame.empty:
            return {}
        day = frame["day"].to_numpy(dtype="datetime64[ns]")
        keep = (day >= lo.to_datetime64()) & (day <= hi.to_datetime64())
        if kind is not None:
            keep &= (frame["kind"] == kind).to_numpy()
        order = np.argsort(day[keep], kind="stable")
        pids = np.asarray(frame["patient_id"].astype(str))[keep][order]
        return dict(zip(pids.tolist(), pd.to_datetime(day[keep][order]), strict=True))

    # an episode counts when any of its days is in the window; it is dated from its start
    # (or the window's first day when it began before)
    in_window = flares_between(flares, lo, hi) if flares is not None else None
    last_flare = last_day(
        None
        if in_window is None
        else in_window.assign(day=in_window["start"].where(in_window["start"] >= lo, lo))
    )
    last_note = last_day(annotations, "flare-up")
    stability: dict[str, dict[Any, Any]] = {}
    if daily is not None and len(daily):
        st_frame = pain_stability(daily, hi)
        stability = {str(r["patient_id"]): r for r in st_frame.to_dict("records")}

    # safety: red flags, a worse trend, sessions that raise pain (per patient), and weeks
    # below 80 % (per exercise, complete weeks only)
    red_day: dict[Any, pd.Timestamp] = {}
    if daily is not None and len(daily) and "red_flag_sessions" in daily.columns:
        red_day = last_day(daily[daily["red_flag_sessions"].to_numpy() > 0])
    worse = {str(p) for p, status in (trend_status or {}).items() if status == WORSE}
    rise = _session_rise(sessions, lo, hi)
    week_days = per["days"].to_numpy()
    full = week_days == 7
    low_week = full & (per["adherence"].to_numpy(dtype=float) < ADHERENT - EPS)
    weak_pairs = set(per_pair[low_week].tolist())
    first_low: dict[int, tuple[Any, float]] = {}  # the first complete week below 80 %, per pair
    for code, week, adh in zip(
        per_pair[low_week].tolist(),
        per["week"].to_numpy()[low_week],
        per["adherence"].to_numpy(dtype=float)[low_week],
        strict=True,
    ):
        first_low.setdefault(code, (pd.Timestamp(week).date(), adh))
    order_of = {e.id: i for i, e in enumerate(catalog)}
    name_of = {e.id: e.name for e in catalog}
    dose_of: dict[tuple[str, str], tuple[float, int, Any, Any]] = {}
    if recorded is not None and len(recorded):
        for p, e, v, n, a, b in zip(
            recorded["patient_id"].astype(str).tolist(),
            recorded["exercise_id"].astype(str).tolist(),
            recorded["recorded"].to_numpy(dtype=float).tolist(),
            recorded["recorded_n"].to_numpy(dtype=np.int64).tolist(),
            pd.to_datetime(recorded["weeks_from"]).dt.date.tolist(),
            pd.to_datetime(recorded["weeks_to"]).dt.date.tolist(),
            strict=True,
        ):
            dose_of[(p, e)] = (v, n, a, b)

    keys = np.sort(pair[last])  # codes of sorted names: rows in (patient, exercise) order
    p_list, e_list = list(p_names), list(e_names)
    info = {}  # per exercise: (dose field, ladder) from the catalog, looked up once
    for ex_id in e_list:
        exercise = catalog[ex_id] if ex_id is not None and ex_id in catalog else None
        info[ex_id] = (
            (exercise.main_dose, tuple(exercise.ladder)) if exercise is not None else ("", ())
        )
    cols: dict[str, list[Any]] = {c: [] for c in SUGGESTION_COLUMNS}
    add_patient, add_exercise = cols["patient_id"].append, cols["exercise_id"].append
    add_dose, add_current = cols["dose"].append, cols["current"].append
    add_suggested, add_direction = cols["suggested"].append, cols["direction"].append
    add_reason, add_share = cols["reason"].append, cols["done_share"].append
    for k in keys.tolist():
        p_id, ex_id = p_list[k // width], e_list[k % width]
        now = float(current_dose[k])
        missing = now != now  # NaN
        cur: Any = pd.NA if missing else int(now)
        dose, ladder = info[ex_id]
        presc = float(prescribed[k])
        share = float(capped[k]) / presc if presc > 0 else np.nan
        suggested, direction, why = cur, "hold", ""
        seen = last_flare.get(p_id)
        src = "flare-up"
        if seen is None:
            seen, src = last_note.get(p_id), "flare-up noted on the timeline"
        red = red_day.get(p_id)
        if red is not None:
            if reasons:
                why = f"red flag ticked on {pd.Timestamp(red).date()}: {RED_FLAG_HOLD}"
        elif not ladder:
            why = "no progression ladder in the catalog for this exercise"
        elif missing:
            why = f"no {dose} recorded in the prescription"
        elif seen is not None:
            lower = [v for v in ladder if v < cur]
            if lower:
                suggested, direction = lower[-1], "down"
            if reasons:
                when = pd.Timestamp(seen).date()
                why = (
                    f"{src} on {when}: one step back until it settles"
                    if lower
                    else f"{src} on {when}; already at the lowest step"
                )
        else:
            n_run = int(run[k])
            steady = n_run >= window_days
            adherent = share >= ADHERENT - EPS
            pain_ok, pain_note = (
                _pain_note(stability.get(p_id))
                if steady and adherent
                else (
                    False,
                    "",
                )
            )
            rec = dose_of.get((str(p_id), str(ex_id)))
            base = cur if rec is None else max(rec[0], float(cur))
            short = rec is not None and rec[0] < float(cur) - EPS
            higher = [v for v in ladder if v > base + EPS]
            weeks_ok = k not in weak_pairs
            not_worse = p_id not in worse
            p_rise = rise.get(p_id)
            calm = p_rise is None or p_rise < SESSION_RISE_POINTS - EPS
            ready = steady and adherent and weeks_ok and pain_ok and not_worse and calm
            if ready and higher and not short:
                suggested, direction = higher[0], "up"
            if reasons:
                did = (
                    f"done {int(done[k])} times against {presc:g} prescribed in the last 2 "
                    f"weeks ({share * 100:.0f} %)"
                )
                if not steady:
                    since = (hi - pd.Timedelta(days=n_run - 1)).date()
                    why = (
                        f"current dose in force only since {since}; judge after 2 full weeks at it"
                    )
                elif not adherent:
                    why = f"{did}; below 80 %, keep the current dose"
                elif not weeks_ok:
                    week, adh = first_low[k]
                    why = (
                        f"{did}, but the week of {week} reached only {adh * 100:.0f} %; every "
                        "week needs 80 % before progressing"
                    )
                elif not not_worse:
                    why = f"{did}; pain is worse than at baseline: keep the current dose"
                elif not calm:
                    why = (
                        f"{did}; sessions raise pain (median +{p_rise:.1f} points after "
                        "exercising): keep the current dose and ask your physiotherapist"
                    )
                elif not pain_ok:
                    why = f"{did}; {pain_note}"
                elif short and rec is not None:
                    why = (
                        f"{did}, {pain_note}, but the recorded {dose} (median {rec[0]:g} over "
                        f"{rec[1]} times, {rec[2]} to {rec[3]}) is below the prescribed "
                        f"{cur}: keep the prescription until it is reached"
                    )
                elif higher:
                    src_dose = (
                        f"from the prescribed {dose} {cur} (no {dose} recorded in the complete "
                        "weeks)"
                        if rec is None
                        else f"from the recorded {dose} (median {rec[0]:g} over {rec[1]} "
                        f"times, {rec[2]} to {rec[3]}; prescribed {cur}): the next step "
                        "above what was actually done"
                    )
                    why = f"{did}, {pain_note}, no flare-up; {src_dose}"
                else:
                    why = f"{did}, {pain_note}; already at the top of the range"
        add_patient(p_id)
        add_exercise(ex_id)
        add_dose(dose)
        add_current(cur)
        add_suggested(suggested)
        add_direction(direction)
        add_reason(why)
        add_share(share)
    _one_at_a_time(cols, order_of, name_of, reasons)
    return pd.DataFrame(
        {
            "patient_id": pd.array(cols["patient_id"], dtype="str"),
            "exercise_id": pd.array(cols["exercise_id"], dtype="str"),
            "dose": pd.array(cols["dose"], dtype="str"),
            "current": pd.array(cols["current"], dtype="Int64"),
            "suggested": pd.array(cols["suggested"], dtype="Int64"),
            "direction": pd.array(cols["direction"], dtype="str"),
            "reason": pd.array(cols["reason"], dtype="str"),
            "done_share": np.asarray(cols["done_share"], dtype=float),
        }
    )


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
    diff = pd.Series(after[ok] - before[ok])
    pid = patient_ids(sessions).to_numpy()[ok]
    return {str(p): float(v) for p, v in diff.groupby(pid).median().items()}


def _one_at_a_time(
    cols: dict[str, list[Any]],
    order_of: Mapping[str, int],
    name_of: Mapping[str, str],
    reasons: bool,
) -> None:
    """Keep one "up" per patient (highest done share, then catalog order); hold the others."""
    ups: dict[str, list[int]] = {}
    for i, (p, d) in enumerate(zip(cols["patient_id"], cols["direction"], strict=True)):
        if d == "up":
            ups.setdefault(p, []).append(i)
    for rows in ups.values():
        if len(rows) < 2:
            continue
        best = min(
            rows,
            key=lambda i: (-cols["done_share"][i], order_of.get(cols["exercise_id"][i], 1 << 30)),
        )
        for i in rows:
            if i == best:
                continue
            cols["direction"][i] = "hold"
            cols["suggested"][i] = cols["current"][i]
            if reasons:
                cols["reason"][i] = (
                    "ready to progress, but one change at a time: "
                    f"{name_of.get(cols['exercise_id'][best], cols['exercise_id'][best])} "
                    "is suggested first"
                )


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
