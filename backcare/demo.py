"""Deterministic synthetic patients for demos, tests and benchmarks.

The model (made up, but shaped like real diaries):
- each patient has a base adherence (0.35-0.95) that drifts over time (a slow random walk
  on the logit scale), so some weeks are better than others;
- a session happens on a day with that probability; each prescribed exercise in it is done
  with a slightly lower one;
- underlying pain starts at 4-8 and falls with the recent adherence (an exponentially
  smoothed habit, half-life 14 days), plus day-to-day noise;
- flare-ups (about one every 60 days) add 3 points that fade over about a week;
- pain after a session differs from before by -2..+1 (mostly a little lower);
- a few sessions (about 1 in 400) carry a red flag; some programmes change mid-way
  (plank progressed, walking made 3 times a week), with an annotation;
- on some days without a session a standalone morning pain score is recorded;
- outcome questionnaires most weeks (RMDQ and PSFS follow the week's pain, with noise; a global
  rating of change every 4 weeks follows the fall in pain since the start), drawn from a
  separate random stream so the other rows are the same with or without them.
The same seed, patients, days and end date always give the same rows (``demo_digest``), on
any machine: numpy Generators seeded with (seed, patient), the programme from the shipped
catalog (never a user's additions), annotations dated by their day rather than by the load, no
dependence on the machine's time zone or hash seed. Only the default end date (yesterday) and
the columns recording when rows were loaded depend on the clock. numpy promises a stable stream
for ``random()`` but not for every distribution across its versions (NEP 19), so the digest is
stated for one numpy version (docs/performance.md).
"""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Iterable
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from backcare.domain.catalog import load_catalog
from backcare.domain.programme import Prescription, default_programme
from backcare.domain.questionnaires import Response, validate_response
from backcare.domain.wording import RED_FLAGS
from backcare.store import Store
from backcare.store.bulk import load_frames

FIRST_NAMES = (
    "Alex",
    "Sam",
    "Jo",
    "Chris",
    "Robin",
    "Kim",
    "Lee",
    "Pat",
    "Nico",
    "Ari",
    "Dana",
    "Eli",
    "Remy",
    "Sasha",
    "Toni",
    "Yuri",
)
CHUNK = 50
LONDON = ZoneInfo("Europe/London")
PSFS_ACTIVITIES = (
    "walking 30 minutes",
    "sitting through a film",
    "lifting shopping",
    "gardening",
    "putting on socks",
    "sleeping through the night",
    "driving an hour",
)


def demo_patient_id(i: int) -> str:
    """The id of the i-th demo patient (1-based): demo-0001, demo-0002, ..."""
    return f"demo-{i:04d}"


def _simulate(
    rng: np.random.Generator, days: int, n_ex: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    base = rng.uniform(0.35, 0.95)
    walk = np.cumsum(rng.normal(0, 0.08, days))
    logit = np.log(base / (1 - base)) + walk
    p_session = 1 / (1 + np.exp(-logit))
    has_session = rng.random(days) < p_session
    done = (rng.random((days, n_ex)) < np.clip(p_session[:, None] + 0.05, 0, 0.98)) & has_session[
        :, None
    ]
    # habit: exponentially smoothed completion, half-life 14 days
    alpha = 1 - 0.5 ** (1 / 14)
    habit = np.empty(days)
    h = 0.0
    frac = done.mean(axis=1)
    for d in range(days):
        h = h + alpha * (frac[d] - h)
        habit[d] = h
    start_pain = rng.uniform(4, 8)
    flare = np.zeros(days)
    for f in np.nonzero(rng.random(days) < 1 / 60)[0].tolist():
        span = np.arange(f, min(days, f + 8))
        flare[span] += 3.0 * np.exp(-(span - f) / 3)
    latent = start_pain * (1 - 0.45 * habit) + flare + rng.normal(0, 0.7, days)
    pain_before = np.clip(np.rint(latent), 0, 10).astype(int)
    delta = rng.choice([-2, -1, -1, 0, 0, 1], size=days)
    pain_after = np.clip(pain_before + delta, 0, 10).astype(int)
    return has_session, done, pain_before, pain_after, flare


def _questionnaires(
    rng: np.random.Generator, pid: str, first: dt.date, pain: np.ndarray, now: dt.datetime
) -> list[Response]:
    """Weekly RMDQ and PSFS responses (most weeks) and a GROC every 4 weeks, at 19:00 London
    time, their scores following the week's mean pain."""
    days = len(pain)
    acts = [PSFS_ACTIVITIES[k] for k in rng.choice(len(PSFS_ACTIVITIES), 3, replace=False)]
    out: list[Response] = []
    start_pain = float(pain[: min(7, days)].mean())
    for d in range(0, days, 7):
        if d and rng.random() > 0.85:
            continue  # a week without answers
        day = first + dt.timedelta(days=d)
        at = dt.datetime.combine(day, dt.time(19, 0), tzinfo=LONDON)  # never in a DST gap
        week = float(pain[max(0, d - 6) : d + 1].mean())
        k = int(np.clip(round(week * 1.8 + rng.normal(0, 1.5)), 0, 24))
        marked = np.zeros(24, dtype=bool)
        marked[rng.choice(24, k, replace=False)] = True
        ratings = np.clip(np.rint(10 - week * 1.1 + rng.normal(0, 1, 3)), 0, 10).astype(int)
        answers: dict[str, object] = {
            "rmdq": [bool(v) for v in marked],
            "psfs": [(a, int(r)) for a, r in zip(acts, ratings, strict=True)],
        }
        if d >= 28 and d % 28 == 0:
            answers["groc"] = int(
                np.clip(round((start_pain - week) * 1.5 + rng.normal(0, 1)), -7, 7)
            )
        for inst, ans in answers.items():
            out.append(
                validate_response(
                    response_id=f"{pid}-q{inst}{d:05d}",
                    patient_id=pid,
                    instrument=inst,
                    day=day,
                    recorded_at=min(at, now),
                    answers=ans,
                )
            )
    return out


def _dose(value: int | None) -> float:
    return np.nan if value is None else float(value)


def _evening(days: Iterable[dt.date] | pd.DatetimeIndex) -> pd.DatetimeIndex:
    """18:00 London time on each day (never in a DST gap), in UTC: when the demo physio wrote
    the day's note."""
    return pd.DatetimeIndex(
        [dt.datetime.combine(d, dt.time(18), tzinfo=LONDON) for d in days]
        if not isinstance(days, pd.DatetimeIndex)
        else [dt.datetime.combine(d.date(), dt.time(18), tzinfo=LONDON) for d in days],
        dtype="datetime64[ns, UTC]",
    )


def _programme_rows(
    key: str, pid: str, valid_from: dt.date, items: Iterable[Prescription], note: str
) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "programme_key": key,
                "patient_id": pid,
                "valid_from": valid_from,
                "author": "demo physio",
                "note": note,
                **vars(p),
            }
            for p in items
        ]
    )


def fill_demo(
    store: Store,
    patients: int = 20,
    days: int = 120,
    seed: int = 1,
    *,
    end: dt.date | None = None,
    progress: bool | None = None,
) -> dict[str, int]:
    """Add `patients` deterministic demo patients with `days` days of history up to `end`.

    `end` defaults to yesterday. Returns how many rows of each kind were written. Patients that
    already exist are skipped, so running it twice adds nothing."""
    if not isinstance(patients, int) or isinstance(patients, bool) or not 1 <= patients <= 100_000:
        from backcare.errors import ValidationError

        raise ValidationError("patients", patients, "a whole number from 1 to 100000")
    if not isinstance(days, int) or isinstance(days, bool) or not 1 <= days <= 36_600:
        from backcare.errors import ValidationError

        raise ValidationError("days", days, "a whole number from 1 to 36600 (100 years)")
    end = end or dt.date.today() - dt.timedelta(days=1)  # leave today for the user to log
    first = end - dt.timedelta(days=days - 1)
    # only a reply recorded "in the future" (an end of today or later) is moved to now
    now = dt.datetime.now(dt.UTC)
    shipped = load_catalog()  # the programme never depends on a user's catalog additions
    existing = set(store.patients()["patient_id"])
    todo = [i for i in range(1, patients + 1) if demo_patient_id(i) not in existing]
    totals = {
        "patients": 0,
        "programmes": 0,
        "sessions": 0,
        "items": 0,
        "pain": 0,
        "annotations": 0,
        "questionnaires": 0,
    }
    show = progress if progress is not None else (len(todo) * days > 20_000 and sys.stderr.isatty())
    bar = tqdm(total=len(todo), desc="demo patients", unit="patient", disable=not show)
    for c in range(0, len(todo), CHUNK):
        chunk = todo[c : c + CHUNK]
        frames: dict[str, list[pd.DataFrame]] = {
            "patients": [],
            "programmes": [],
            "sessions": [],
            "items": [],
            "pain": [],
            "annotations": [],
        }
        responses: list[Response] = []
        for i in chunk:
            pid = demo_patient_id(i)
            rng = np.random.default_rng([seed, i])
            frames["patients"].append(
                pd.DataFrame(
                    {
                        "patient_id": [pid],
                        "name": [f"{FIRST_NAMES[i % len(FIRST_NAMES)]} (demo {i})"],
                        "timezone": ["Europe/London"],
                    }
                )
            )
            base = default_programme(shipped, first)
            # a third of the patients leave swimming out (no pool nearby)
            items = [p for p in base.items if not (i % 3 == 0 and p.exercise_id == "swimming")]
            frames["programmes"].append(
                _programme_rows(f"{pid}-prog1", pid, first, items, "starting programme")
            )
            ex_ids = [p.exercise_id for p in items]
            change_day = None
            if days >= 42 and rng.random() < 0.5:
                change_day = first + dt.timedelta(days=int(rng.integers(21, days - 14)))
                changed = [
                    Prescription(**{**vars(p), "hold_s": 45})
                    if p.exercise_id == "plank"
                    else Prescription(**{**vars(p), "times_per_week": 3})
                    if p.exercise_id == "brisk-walking"
                    else p
                    for p in items
                ]
                note = "plank progressed to 45 s; walking 3 times a week"
                frames["programmes"].append(
                    _programme_rows(f"{pid}-prog2", pid, change_day, changed, note)
                )
                frames["annotations"].append(
                    pd.DataFrame(
                        {
                            "annotation_id": [f"{pid}-a-prog2"],
                            "patient_id": [pid],
                            "day": [change_day],
                            "author": ["demo physio"],
                            "kind": ["programme-change"],
                            "text": [f"Programme changed: {note}"],
                            "created_at": _evening([change_day]),
                        }
                    )
                )
            has_session, done, pb, pa, flare = _simulate(rng, days, len(ex_ids))
            day_index = pd.date_range(first, periods=days, freq="D")
            sess_days = np.nonzero(has_session)[0]
            sids = [f"{pid}-s{d:05d}" for d in sess_days]
            hour = rng.integers(7, 21, size=len(sess_days))
            start = (
                (day_index[sess_days] + pd.to_timedelta(hour, unit="h"))
                .tz_localize("Europe/London", nonexistent="shift_forward", ambiguous=False)
                .tz_convert("UTC")
            )
            minutes = rng.integers(15, 45, size=len(sess_days))
            flags = np.where(
                rng.random(len(sess_days)) < 1 / 400,
                rng.choice(list(RED_FLAGS), size=len(sess_days)),
                "",
            )
            frames["sessions"].append(
                pd.DataFrame(
                    {
                        "session_id": sids,
                        "patient_id": pid,
                        "day": day_index[sess_days],
                        "started_at": start,
                        "ended_at": start + pd.to_timedelta(minutes, unit="min"),
                        "pain_before": pb[sess_days],
                        "pain_after": pa[sess_days],
                        "notes": np.where(flare[sess_days] > 2, "back stiff today", ""),
                        "red_flags": flags,
                    }
                )
            )
            # one row per (session, prescribed exercise), sessions in order; doses where done
            d_idx = np.repeat(np.arange(len(sess_days)), len(ex_ids))
            e_idx = np.tile(np.arange(len(ex_ids)), len(sess_days))
            is_done = done[sess_days].reshape(-1)
            doses = {
                f: pd.array(
                    np.where(
                        is_done,
                        np.array([_dose(getattr(x, f)) for x in items], dtype=float)[e_idx],
                        np.nan,
                    ),
                    dtype="Int64",
                )
                for f in ("sets", "reps", "hold_s", "minutes")
            }
            frames["items"].append(
                pd.DataFrame(
                    {
                        "session_id": np.asarray(sids, dtype=object)[d_idx],
                        "exercise_id": np.asarray(ex_ids, dtype=object)[e_idx],
                        "done": is_done,
                        **doses,
                    }
                )
            )
            quiet = np.nonzero(~has_session & (rng.random(days) < 0.5))[0]
            at = (
                (day_index[quiet] + pd.Timedelta(hours=8))
                .tz_localize("Europe/London", nonexistent="shift_forward", ambiguous=False)
                .tz_convert("UTC")
            )
            frames["pain"].append(
                pd.DataFrame(
                    {
                        "pain_id": [f"{pid}-p{d:05d}" for d in quiet],
                        "patient_id": pid,
                        "recorded_at": at,
                        "day": day_index[quiet],
                        "score": pb[quiet],
                        "context": "morning",
                    }
                )
            )
            q_rng = np.random.default_rng([seed, i, 10])  # its own stream: other rows unchanged
            responses.extend(_questionnaires(q_rng, pid, first, pb, now))
            flare_days = np.nonzero((flare > 2.5) & (np.r_[0, flare[:-1]] <= 2.5))[0]
            frames["annotations"].append(
                pd.DataFrame(
                    {
                        "annotation_id": [f"{pid}-a{d:05d}" for d in flare_days],
                        "patient_id": pid,
                        "day": day_index[flare_days],
                        "author": "demo physio",
                        "kind": "flare-up",
                        "text": "Flare-up reported; advised to keep moving gently",
                        "created_at": _evening(day_index[flare_days]),
                    }
                )
            )
        counts = load_frames(
            store, **{k: pd.concat(v, ignore_index=True) for k, v in frames.items()}
        )
        for k, v in counts.items():
            totals[k] += v
        totals["questionnaires"] += store.save_questionnaires(responses)
        bar.update(len(chunk))
    bar.close()
    store.optimize()  # fresh planner statistics after a bulk load
    return totals


def demo_digest(store: Store) -> str:
    """sha256 (hex) of every demo row's content in a canonical order: the same on every machine
    for the same fill_demo arguments (with an `end` before today), whatever its time zone,
    hash seed or catalog additions.

    Left out: the columns that record when the rows were loaded (patients', programmes' and
    sessions' created_at and updated_at) and the store's own ids (programme_id)."""
    import hashlib
    import json

    import sqlalchemy as sa

    from backcare.store import schema as S

    pr, pi = S.programmes, S.programme_items
    queries = {
        "patients": sa.select(
            S.patients.c.patient_id, S.patients.c.name, S.patients.c.timezone
        ).order_by(S.patients.c.patient_id),
        "programmes": sa.select(
            pr.c.patient_id,
            pr.c.valid_from,
            pr.c.author,
            pr.c.note,
            pi.c.position,
            *(pi.c[c] for c in ("exercise_id", "sets", "reps", "hold_s", "minutes")),
            pi.c.each_side,
            pi.c.times_per_week,
        )
        .join_from(pr, pi, pr.c.programme_id == pi.c.programme_id)
        .order_by(pr.c.patient_id, pr.c.valid_from, pi.c.position),
        "sessions": sa.select(
            *(c for c in S.sessions.c if c.name not in ("created_at", "updated_at", "programme_id"))
        ).order_by(S.sessions.c.session_id),
        "session_programme": sa.select(S.sessions.c.session_id, pr.c.valid_from)
        .join_from(S.sessions, pr, S.sessions.c.programme_id == pr.c.programme_id, isouter=True)
        .order_by(S.sessions.c.session_id),
        "items": sa.select(*S.session_items.c).order_by(
            S.session_items.c.session_id, S.session_items.c.exercise_id
        ),
        "pain": sa.select(*S.pain_scores.c).order_by(S.pain_scores.c.pain_id),
        "annotations": sa.select(*S.annotations.c).order_by(S.annotations.c.annotation_id),
        "questionnaires": sa.select(*S.questionnaire_responses.c).order_by(
            S.questionnaire_responses.c.response_id
        ),
    }

    def text(v: object) -> object:
        if isinstance(v, dt.datetime):
            return v.astimezone(dt.UTC).isoformat() if v.tzinfo else v.isoformat()
        if isinstance(v, dt.date):
            return v.isoformat()
        if isinstance(v, float):
            return repr(v)
        return v

    h = hashlib.sha256()
    with store.engine.connect() as conn:
        for name, query in queries.items():
            h.update(name.encode())
            for row in conn.execute(query):
                h.update(json.dumps([text(v) for v in row], ensure_ascii=True).encode())
                h.update(b"\n")
    return h.hexdigest()
