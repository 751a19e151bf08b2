"""Bulk loading of whole frames (demo data, bundle import): vectorised validation, one transaction.

Every column is checked by the column form of the rule the single-record writers check
(backcare.domain.rules, with the limits of backcare.domain); errors name the frame, the
first offending row and column, the value and what is allowed. Nothing is written unless
every frame passes.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import operator
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import sqlalchemy as sa

from backcare.domain.catalog import DOSE_FIELDS, Catalog
from backcare.domain.programme import (
    PLANNING_DAYS,
    SETS_LIMITS,
    Prescription,
    Programme,
    make_programme,
)
from backcare.domain.questionnaires import answers_json, validate_response
from backcare.domain.rules import (
    ANNOTATION_CHARS,
    NAME_CHARS,
    bool_column,
    choice_column,
    codes_column,
    date_column,
    datetime_column,
    id_column,
    int_column,
    not_before_column,
    refuse_rows,
    text_column,
    timezone_column,
)
from backcare.domain.session import (
    ANNOTATION_KINDS,
    CATALOG_EXERCISE,
    ONCE_PER_SESSION,
    PAIN_CONTEXTS,
    PAIN_RANGE,
    RED_FLAG_CODES,
    done_dose_limits,
)
from backcare.errors import ValidationError
from backcare.store import schema as S
from backcare.store.core import insert_programme, lock_patient, programme_items

if TYPE_CHECKING:
    from backcare.store.core import Store

SESSION_COLUMNS = [
    "session_id",
    "patient_id",
    "day",
    "started_at",
    "ended_at",
    "pain_before",
    "pain_after",
    "notes",
    "red_flags",
]
ITEM_COLUMNS = ["session_id", "exercise_id", "done", "sets", "reps", "hold_s", "minutes"]
PAIN_COLUMNS = ["pain_id", "patient_id", "recorded_at", "day", "score", "context"]
ANNOTATION_COLUMNS = ["annotation_id", "patient_id", "day", "author", "kind", "text", "created_at"]
QUESTIONNAIRE_COLUMNS = [
    "response_id",
    "patient_id",
    "instrument",
    "day",
    "recorded_at",
    "answers",
    "score",
    "author",
]
PATIENT_COLUMNS = ["patient_id", "name", "timezone"]
PROGRAMME_COLUMNS = [
    "programme_key",
    "patient_id",
    "valid_from",
    "author",
    "note",
    "exercise_id",
    "sets",
    "reps",
    "hold_s",
    "minutes",
    "each_side",
    "times_per_week",
]


def _none(v: Any) -> Any:
    return None if v is None or (not isinstance(v, str) and pd.isna(v)) else v


def _programmes(frame: pd.DataFrame, catalog: Catalog) -> list[tuple[str, str, Programme]]:
    """Group a programmes frame into validated (programme_key, patient_id, Programme) triples.

    Programmes are few: each is checked by make_programme, the rules every programme keeps."""
    each_side = bool_column("programmes", frame["each_side"])
    starts = date_column(
        "programmes", frame["valid_from"], today=dt.date.today() + dt.timedelta(days=PLANNING_DAYS)
    )
    out = []
    for key, g in frame.groupby("programme_key", sort=False):
        head = g.iloc[0]
        items = []
        for (_, r), side in zip(g.iterrows(), each_side.loc[g.index], strict=True):
            item = {"exercise_id": r["exercise_id"], "each_side": bool(side)}
            for col in ("sets", "reps", "hold_s", "minutes", "times_per_week"):
                v = _none(r[col])
                item[col] = int(v) if isinstance(v, (int, float)) and float(v).is_integer() else v
            if item["sets"] is None:
                item["sets"] = 1
            items.append(item)
        try:
            prog = make_programme(
                items,
                starts[g.index[0]],
                catalog,
                author=_none(head["author"]) or "",
                note=_none(head["note"]) or "",
            )
        except ValidationError as exc:
            raise ValidationError(
                f"programmes[{key}].{exc.field}", exc.value, exc.allowed
            ) from None
        out.append((str(key), str(head["patient_id"]), prog))
    return out


def _need(frame: str, df: pd.DataFrame, cols: list[str]) -> None:
    missing = [c for c in cols if c not in df.columns]
    if missing:
        raise ValidationError(f"{frame}.columns", missing, "columns " + ", ".join(cols))


def _unknown_patients(frame: str, df: pd.DataFrame, known: set[str]) -> None:
    refuse_rows(
        frame, df["patient_id"], ~df["patient_id"].isin(known), "a patient already in the store"
    )


_PROBE = dt.datetime(2026, 3, 29, 1, 2, 3, 45, tzinfo=dt.UTC)  # a DST day, microseconds set


def _utc_texts(col: pd.Series) -> list[str | None]:
    """Zone-aware timestamps as SQLite's DATETIME stores them ('2026-03-29 01:02:03.000045',
    naive UTC), converted in one numpy pass instead of one Python call per value."""
    utc = col.dt.tz_convert("UTC").dt.tz_localize(None).to_numpy(dtype="datetime64[us]")
    return [
        None if v == "NaT" else v.replace("T", " ", 1)
        for v in np.datetime_as_string(utc, unit="us").tolist()
    ]


def _stores_as_utc_text(bind: Callable[[Any], Any] | None) -> bool:
    """True if bind (a UTCDateTime column's processor) stores what _utc_texts writes."""
    probe = pd.Series([pd.Timestamp(_PROBE)]).dt.tz_convert("Europe/London")
    return bind is not None and bind(_PROBE) == _utc_texts(probe)[0]


def _column_values(col: pd.Series, bind: Callable[[Any], Any] | None) -> list[Any]:
    if (
        col.dtype.kind == "M"
        and getattr(col.dt, "tz", None) is not None
        and _stores_as_utc_text(bind)
    ):
        return _utc_texts(col)  # SQLite: the text its processor would write, all at once
    if col.dtype.kind == "M":
        values = [None if pd.isna(v) else v.to_pydatetime() for v in col]
    else:
        values = col.astype("object").where(col.notna(), None).tolist()
    if not bind:
        return values
    if col.dtype.kind != "M" and col.nunique() < len(col) // 4:
        # repeated values (days, constant timestamps): run the processor once per value
        done = {v: bind(v) for v in set(values) if v is not None}
        return [None if v is None else done[v] for v in values]
    return [None if v is None else bind(v) for v in values]


def insert_frame(conn: sa.Connection, table: sa.Table, df: pd.DataFrame) -> None:
    """INSERT every row of df into table with one executemany.

    Values go through each column type's own bind processor (public SQLAlchemy API), so
    the stored form is exactly what a Core insert would store; skipping SQLAlchemy's
    per-row parameter machinery makes millions of rows take seconds, not minutes."""
    if df.empty:
        return
    cols = list(df.columns)
    compiled = sa.insert(table).compile(dialect=conn.dialect, column_keys=cols)
    data: dict[str, list[Any]] = {}
    for col in cols:
        bind = table.c[col].type.dialect_impl(conn.dialect).bind_processor(conn.dialect)
        data[col] = _column_values(df[col], bind)
    order = compiled.positiontup  # the parameters' order, for a positional paramstyle
    if compiled.positional and order is not None:
        conn.exec_driver_sql(str(compiled), list(zip(*(data[k] for k in order), strict=True)))
    else:
        named = zip(*(data[c] for c in cols), strict=True)
        conn.exec_driver_sql(str(compiled), [dict(zip(cols, r, strict=True)) for r in named])


def _refuse_stored_ids(
    conn: sa.Connection, frame: str, df: pd.DataFrame, table: sa.Table, col: str
) -> None:
    """ValidationError naming the first row whose id is already stored (nothing is written):
    for another patient, or for the same one (callers filter identical rows out first)."""
    owner: dict[str, str] = {}
    ids = df[col].astype(str).tolist()
    for i in range(0, len(ids), 500):
        rows = conn.execute(
            sa.select(table.c[col], table.c.patient_id).where(table.c[col].in_(ids[i : i + 500]))
        ).all()
        owner.update({str(r[0]): str(r[1]) for r in rows})
    if not owner:
        return
    taken = df[col].astype(str).map(lambda v: v in owner)
    first = df[taken].iloc[0]
    whose = "another patient" if owner[str(first[col])] != first["patient_id"] else "this patient"
    refuse_rows(frame, df[col], taken, f"an id not already in the store (it is stored for {whose})")


def load_frames(
    store: Store,
    *,
    patients: pd.DataFrame | None = None,
    programmes: pd.DataFrame | None = None,
    sessions: pd.DataFrame | None = None,
    items: pd.DataFrame | None = None,
    pain: pd.DataFrame | None = None,
    annotations: pd.DataFrame | None = None,
    questionnaires: pd.DataFrame | None = None,
) -> dict[str, int]:
    """Validate and insert whole frames in one transaction; return rows inserted per frame.

    Patients are added when absent (an existing patient is kept as it is); a programme is
    added unless the patient already has one with the same start date and items. Sessions
    get the programme in force on their day. Rows whose id is already stored, and
    questionnaire responses for a patient, instrument and day already answered, refuse the
    whole load (import_bundle filters identical stored rows out first)."""
    catalog = store.catalog
    patients = patients if patients is not None else pd.DataFrame(columns=PATIENT_COLUMNS)
    programmes = programmes if programmes is not None else pd.DataFrame(columns=PROGRAMME_COLUMNS)
    sessions = sessions if sessions is not None else pd.DataFrame(columns=SESSION_COLUMNS)
    items = items if items is not None else pd.DataFrame(columns=ITEM_COLUMNS)
    pain = pain if pain is not None else pd.DataFrame(columns=PAIN_COLUMNS)
    annotations = (
        annotations if annotations is not None else pd.DataFrame(columns=ANNOTATION_COLUMNS)
    )
    questionnaires = (
        questionnaires
        if questionnaires is not None
        else pd.DataFrame(columns=QUESTIONNAIRE_COLUMNS)
    )
    for name, df, cols in (
        ("patients", patients, PATIENT_COLUMNS),
        ("programmes", programmes, PROGRAMME_COLUMNS),
        ("sessions", sessions, SESSION_COLUMNS),
        ("items", items, ITEM_COLUMNS),
        ("pain", pain, PAIN_COLUMNS),
        ("annotations", annotations, ANNOTATION_COLUMNS),
        ("questionnaires", questionnaires, QUESTIONNAIRE_COLUMNS),
    ):
        _need(name, df, cols)

    # -- patients and programmes
    pt = patients.reset_index(drop=True)
    id_column("patients", pt["patient_id"], unique=True)
    pt_name = text_column("patients", pt["name"], max_len=NAME_CHARS)
    timezone_column("patients", pt["timezone"])
    pr = programmes.reset_index(drop=True)
    id_column("programmes", pr["patient_id"])
    id_column("programmes", pr["programme_key"].astype(str))
    progs = _programmes(pr, catalog)

    # -- sessions
    s = sessions.reset_index(drop=True)
    id_column("sessions", s["session_id"], unique=True)
    id_column("sessions", s["patient_id"])
    s_day = date_column("sessions", s["day"])
    s_pb = int_column("sessions", s["pain_before"], *PAIN_RANGE, optional=True)
    s_pa = int_column("sessions", s["pain_after"], *PAIN_RANGE, optional=True)
    s_notes = text_column("sessions", s["notes"])
    flags = codes_column("sessions", s["red_flags"], RED_FLAG_CODES)
    s_start = datetime_column("sessions", s["started_at"], optional=True)
    s_end = datetime_column("sessions", s["ended_at"], optional=True)
    not_before_column("sessions", s_end, s_start, "started_at")

    # -- items
    it = items.reset_index(drop=True)
    id_column("items", it["session_id"])
    refuse_rows(
        "items",
        it["session_id"],
        ~it["session_id"].isin(s["session_id"]),
        "a session_id of the sessions frame",
    )
    refuse_rows(
        "items", it["exercise_id"], ~it["exercise_id"].isin(catalog.ids()), CATALOG_EXERCISE
    )
    refuse_rows(
        "items", it["exercise_id"], it.duplicated(["session_id", "exercise_id"]), ONCE_PER_SESSION
    )
    done = bool_column("items", it["done"])
    it_cols = {"sets": int_column("items", it["sets"], *SETS_LIMITS, optional=True)}
    for dose in DOSE_FIELDS:
        it_cols[dose] = int_column("items", it[dose], *done_dose_limits(dose), optional=True)

    # -- pain scores
    p = pain.reset_index(drop=True)
    id_column("pain", p["pain_id"], unique=True)
    id_column("pain", p["patient_id"])
    p_day = date_column("pain", p["day"])
    p_score = int_column("pain", p["score"], *PAIN_RANGE)
    p_ctx = choice_column("pain", p["context"], PAIN_CONTEXTS)
    p_at = datetime_column("pain", p["recorded_at"])

    # -- annotations
    a = annotations.reset_index(drop=True)
    id_column("annotations", a["annotation_id"], unique=True)
    id_column("annotations", a["patient_id"])
    a_day = date_column("annotations", a["day"])
    a_text = text_column("annotations", a["text"], max_len=ANNOTATION_CHARS, empty=False)
    a_author = text_column("annotations", a["author"], max_len=NAME_CHARS)
    a_kind = choice_column("annotations", a["kind"], ANNOTATION_KINDS)
    a_at = datetime_column("annotations", a["created_at"], optional=True).fillna(
        pd.Timestamp.now(tz="UTC")
    )

    # -- questionnaire responses (few: each is checked and scored by the domain's validator)
    q = questionnaires.reset_index(drop=True)
    id_column("questionnaires", q["response_id"], unique=True)
    id_column("questionnaires", q["patient_id"])
    q_rows = _responses(q)

    patient_ids = (
        set(s["patient_id"])
        | set(p["patient_id"])
        | set(a["patient_id"])
        | set(q["patient_id"])
        | set(pt["patient_id"])
    )
    patient_ids |= {pid for _, pid, _ in progs}
    now = dt.datetime.now(dt.UTC)
    added = {"patients": 0, "programmes": 0}
    with store.transaction() as conn:
        known = (
            set(
                conn.execute(
                    sa.select(S.patients.c.patient_id).where(
                        S.patients.c.patient_id.in_(sorted(patient_ids))
                    )
                ).scalars()
            )
            if patient_ids
            else set()
        )
        new_patients = pt[~pt["patient_id"].isin(known)]
        if len(new_patients):
            insert_frame(
                conn,
                S.patients,
                pd.DataFrame(
                    {
                        "patient_id": new_patients["patient_id"],
                        "name": pt_name[new_patients.index],
                        "timezone": new_patients["timezone"],
                        "created_at": pd.Timestamp(now),
                    }
                ),
            )
            known |= set(new_patients["patient_id"])
            added["patients"] = len(new_patients)
        _unknown_patients("programmes", pr, known)
        key_ids: dict[str, int] = {}  # programme_key -> the stored programme's id
        for key, pid, prog in progs:
            same = [
                i
                for i, items in _programmes_on_day(conn, pid, prog.valid_from)
                if items == prog.items
            ]
            if same:
                key_ids[key] = same[-1]
                continue
            key_ids[key] = insert_programme(conn, pid, prog, now)
            added["programmes"] += 1
        for frame, df in (("sessions", s), ("pain", p), ("annotations", a), ("questionnaires", q)):
            _unknown_patients(frame, df, known)
        for pid in sorted(patient_ids):
            lock_patient(conn, pid)
        for frame, df, table, col in (
            ("sessions", s, S.sessions, "session_id"),
            ("pain", p, S.pain_scores, "pain_id"),
            ("annotations", a, S.annotations, "annotation_id"),
            ("questionnaires", q, S.questionnaire_responses, "response_id"),
        ):
            _refuse_stored_ids(conn, frame, df, table, col)
        _refuse_answered_days(conn, q)
        stored = pd.DataFrame(
            conn.execute(
                sa.select(
                    S.programmes.c.programme_id,
                    S.programmes.c.patient_id,
                    S.programmes.c.valid_from,
                ).where(S.programmes.c.patient_id.in_(sorted(patient_ids)))
            ).all(),
            columns=["programme_id", "patient_id", "valid_from"],
        )
        programme_ids = _programme_in_force(s["patient_id"], s_day, stored)
        if "programme_key" in s:  # the programme the session was saved under (bundles)
            keyed = s["programme_key"].map(lambda k: key_ids.get(str(k)) if _none(k) else None)
            programme_ids = keyed.astype("Int64").fillna(programme_ids)
        if len(s):
            insert_frame(
                conn,
                S.sessions,
                (
                    pd.DataFrame(
                        {
                            "session_id": s["session_id"],
                            "patient_id": s["patient_id"],
                            "day": s_day,
                            "started_at": s_start,
                            "ended_at": s_end,
                            "programme_id": programme_ids,
                            "pain_before": s_pb,
                            "pain_after": s_pa,
                            "notes": s_notes,
                            "red_flags": flags,
                            "created_at": now,
                            "updated_at": now,
                            "done_items": _done_items(s["session_id"], it, done, it_cols),
                        }
                    )
                ),
            )
        if len(it):
            insert_frame(
                conn,
                S.session_items,
                (
                    pd.DataFrame(
                        {
                            "session_id": it["session_id"],
                            "exercise_id": it["exercise_id"],
                            "done": done.astype(bool),
                            **it_cols,
                        }
                    )
                ),
            )
        if len(p):
            insert_frame(
                conn,
                S.pain_scores,
                (
                    pd.DataFrame(
                        {
                            "pain_id": p["pain_id"],
                            "patient_id": p["patient_id"],
                            "recorded_at": p_at,
                            "day": p_day,
                            "score": p_score,
                            "context": p_ctx,
                        }
                    )
                ),
            )
        if len(a):
            insert_frame(
                conn,
                S.annotations,
                (
                    pd.DataFrame(
                        {
                            "annotation_id": a["annotation_id"],
                            "patient_id": a["patient_id"],
                            "day": a_day,
                            "author": a_author,
                            "kind": a_kind,
                            "text": a_text,
                            "created_at": a_at,
                        }
                    )
                ),
            )
        for i in range(0, len(q_rows), 1000):
            conn.execute(sa.insert(S.questionnaire_responses), q_rows[i : i + 1000])
        touched = sorted(set(s["patient_id"]) | set(p["patient_id"]))
        for i in range(0, len(touched), 200):
            chunk = touched[i : i + 200]
            S.refresh_summary(conn, _patients_in(chunk))
    return {
        **added,
        "sessions": len(s),
        "items": len(it),
        "pain": len(p),
        "annotations": len(a),
        "questionnaires": len(q),
    }


def _responses(q: pd.DataFrame) -> list[dict[str, Any]]:
    """The questionnaire frame's rows as the store's rows, each checked and scored by
    domain.questionnaires.validate_response (answers are the stored JSON text); a score that
    is not the answers' score, or a second response for a patient, instrument and day, is
    refused naming the row."""
    rows: list[dict[str, Any]] = []
    days = date_column("questionnaires", q["day"])
    times = datetime_column("questionnaires", q["recorded_at"])
    for i, r in enumerate(q.to_dict("records")):
        try:
            try:
                answers = json.loads(str(r["answers"]))
            except ValueError:
                raise ValidationError("answers", r["answers"], "the answers as JSON text") from None
            resp = validate_response(
                response_id=r["response_id"],
                patient_id=r["patient_id"],
                instrument=r["instrument"],
                day=days.iloc[i],
                recorded_at=times.iloc[i].to_pydatetime(),
                answers=answers,
                author=_none(r["author"]) or "",
            )
        except ValidationError as exc:
            raise ValidationError(
                f"questionnaires[{i}].{exc.field}", exc.value, exc.allowed
            ) from None
        given = _none(r["score"])
        try:
            same = given is not None and float(given) == resp.score
        except (TypeError, ValueError):
            same = False
        if not same:
            raise ValidationError(
                f"questionnaires[{i}].score", given, f"{resp.score!r}, the score of its answers"
            )
        rows.append(
            {
                "response_id": resp.response_id,
                "patient_id": resp.patient_id,
                "instrument": resp.instrument,
                "day": resp.day,
                "recorded_at": resp.recorded_at,
                "answers": answers_json(resp.answers),
                "score": resp.score,
                "author": resp.author,
            }
        )
    keys = [(r["patient_id"], r["instrument"], r["day"]) for r in rows]
    for i, k in enumerate(keys):
        if k in keys[:i]:
            raise ValidationError(
                f"questionnaires[{i}].day", k[2].isoformat(), f"one {k[1]} response per day"
            )
    return rows


def _refuse_answered_days(conn: sa.Connection, q: pd.DataFrame) -> None:
    """ValidationError naming the first response whose patient, instrument and day already
    have a stored response (the store keeps one per day; callers skip identical ones)."""
    if q.empty:
        return
    t = S.questionnaire_responses
    stored = {
        (r.patient_id, r.instrument, r.day): r.response_id
        for r in conn.execute(
            sa.select(t.c.patient_id, t.c.instrument, t.c.day, t.c.response_id).where(
                t.c.patient_id.in_(sorted(set(q["patient_id"])))
            )
        )
    }
    days = date_column("questionnaires", q["day"])
    for i, r in enumerate(q.itertuples(index=False)):
        got = stored.get((r.patient_id, r.instrument, days.iloc[i]))
        if got is not None:
            raise ValidationError(
                f"questionnaires[{i}].day",
                days.iloc[i].isoformat(),
                f"a day without a stored {r.instrument} response (response {got!r} answers it)",
            )


def _done_items(
    session_ids: pd.Series, items: pd.DataFrame, done: pd.Series, doses: dict[str, pd.Series]
) -> pd.Series:
    """sessions.done_items for each session id, from its validated items (the text of
    schema.done_items_text, built column-wise)."""
    ticked = done.to_numpy(dtype=bool)
    text = items["exercise_id"].astype(str)[ticked]
    for f in S.DONE_ITEM_FIELDS:
        value = pd.Series(doses[f]).reset_index(drop=True)[ticked].astype("Int64")
        text = text + ":" + value.astype("string").fillna("").astype(str).to_numpy()
    frame = pd.DataFrame({"session_id": items["session_id"][ticked], "text": text})
    frame = frame.sort_values(["session_id", "text"])
    # joined per session in plain Python: a pandas group-by calling ",".join per group cost
    # seconds for a demo's 45,000 sessions
    joined = {
        sid: ",".join(t for _, t in group)
        for sid, group in itertools.groupby(
            zip(frame["session_id"].tolist(), frame["text"].tolist(), strict=True),
            key=operator.itemgetter(0),
        )
    }
    return session_ids.map(joined).astype(object).fillna("").astype(str)


def _patients_in(patient_ids: list[str]) -> S.RowFilter:
    """A filter for the rows of these patients."""

    def where(t: sa.Table) -> sa.ColumnElement[bool]:
        return t.c.patient_id.in_(patient_ids)

    return where


def _programmes_on_day(
    conn: sa.Connection, patient_id: str, day: dt.date
) -> list[tuple[int, tuple[Prescription, ...]]]:
    ids = (
        conn.execute(
            sa.select(S.programmes.c.programme_id).where(
                S.programmes.c.patient_id == patient_id, S.programmes.c.valid_from == day
            )
        )
        .scalars()
        .all()
    )
    return [(i, programme_items(conn, i)) for i in sorted(ids)]


def _programme_in_force(patient_ids: pd.Series, days: pd.Series, prog: pd.DataFrame) -> pd.Series:
    """The programme id in force for each (patient, day) row, or NA."""
    if prog.empty or patient_ids.empty:
        return pd.Series(pd.NA, index=patient_ids.index, dtype="Int64")
    left = pd.DataFrame(
        {
            "patient_id": patient_ids.astype(str),
            "day": pd.to_datetime(days),
            "row": range(len(days)),
        }
    )
    right = prog.assign(
        valid_from=pd.to_datetime(prog["valid_from"]), patient_id=prog["patient_id"].astype(str)
    )
    right = right.sort_values(["valid_from", "programme_id"])
    merged = pd.merge_asof(
        left.sort_values("day"),
        right,
        left_on="day",
        right_on="valid_from",
        by="patient_id",
        direction="backward",
    )
    return merged.sort_values("row")["programme_id"].astype("Int64").set_axis(patient_ids.index)
