"""Bulk loading of whole frames (demo data, bundle import): vectorised validation, one transaction.

The rules are the same as the single-record writers in store.py; errors name the frame,
the column, the first offending row and value, and what is allowed. Nothing is written
unless every frame passes.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import pandas as pd
import sqlalchemy as sa

from backcare.domain.catalog import DOSE_FIELDS, DOSE_LIMITS
from backcare.domain.programme import SETS_LIMITS
from backcare.domain.rules import ID_ALLOWED, ID_RE, MAX_TEXT
from backcare.domain.wording import RED_FLAGS
from backcare.errors import ValidationError
from backcare.store import schema as S

if TYPE_CHECKING:
    from backcare.store import Store

SESSION_COLUMNS = ["session_id", "patient_id", "day", "started_at", "ended_at", "pain_before",
                   "pain_after", "notes", "red_flags"]
ITEM_COLUMNS = ["session_id", "exercise_id", "done", "sets", "reps", "hold_s", "minutes"]
PAIN_COLUMNS = ["pain_id", "patient_id", "recorded_at", "day", "score", "context"]
ANNOTATION_COLUMNS = ["annotation_id", "patient_id", "day", "author", "kind", "text", "created_at"]
PATIENT_COLUMNS = ["patient_id", "name", "timezone"]
PROGRAMME_COLUMNS = ["programme_key", "patient_id", "valid_from", "author", "note", "exercise_id",
                     "sets", "reps", "hold_s", "minutes", "each_side", "times_per_week"]


def _none(v):
    return None if v is None or (not isinstance(v, str) and pd.isna(v)) else v


def _programmes(frame: pd.DataFrame, catalog) -> list[tuple[str, object, str, str, tuple]]:
    """Group a programmes frame into validated (patient_id, valid_from, author, note, items)."""
    from backcare.domain.programme import validate_programme
    from backcare.domain.rules import check_date, check_text

    out = []
    for key, g in frame.groupby("programme_key", sort=False):
        head = g.iloc[0]
        items = []
        for _, r in g.iterrows():
            item = {"exercise_id": r["exercise_id"], "each_side": _bool(r["each_side"])}
            for col in ("sets", "reps", "hold_s", "minutes", "times_per_week"):
                v = _none(r[col])
                item[col] = int(v) if isinstance(v, (int, float)) and float(v).is_integer() else v
            if item["sets"] is None:
                item["sets"] = 1
            items.append(item)
        try:
            checked = validate_programme(items, catalog)
            day = check_date("valid_from", pd.Timestamp(head["valid_from"]).date(),
                             today=dt.date.today() + dt.timedelta(days=366))
            author = check_text("author", _none(head["author"]) or "", max_len=200)
            note = check_text("note", _none(head["note"]) or "")
        except ValidationError as exc:
            raise ValidationError(f"programmes[{key}].{exc.field}", exc.value, exc.allowed) from None
        out.append((str(head["patient_id"]), day, author, note, checked))
    return out


def _bool(v):
    if isinstance(v, bool):
        return v
    if hasattr(v, "item") and isinstance(v.item(), bool):
        return v.item()
    return {"true": True, "false": False}.get(str(v).lower(), v)


def _bad(frame: str, col: str, df: pd.DataFrame, mask: pd.Series, allowed: str) -> None:
    if bool(mask.any()):
        pos = int(mask.to_numpy().nonzero()[0][0])
        value = df[col].iloc[pos]
        raise ValidationError(f"{frame}[{pos}].{col}", value, allowed)


def _need(frame: str, df: pd.DataFrame, cols: list[str]) -> None:
    missing = [c for c in cols if c not in df.columns]
    if missing:
        raise ValidationError(f"{frame}.columns", missing, "columns " + ", ".join(cols))


def _ids(frame: str, df: pd.DataFrame, col: str, *, unique: bool = False) -> None:
    s = df[col]
    ok = s.map(lambda v: isinstance(v, str), na_action=None).astype(bool)
    ok &= s.astype("str").str.fullmatch(ID_RE.pattern[1:-1]).fillna(False).astype(bool)
    _bad(frame, col, df, ~ok, ID_ALLOWED)
    if unique:
        _bad(frame, col, df, s.duplicated(), "each id once")


def _days(frame: str, df: pd.DataFrame, col: str = "day") -> pd.Series:
    days = pd.to_datetime(df[col], errors="coerce")
    limit = pd.Timestamp(dt.date.today() + dt.timedelta(days=1))
    bad = days.isna() | (days > limit) | (days < pd.Timestamp("1900-01-01"))
    _bad(frame, col, df, bad, "a date (YYYY-MM-DD) not in the future")
    return days.dt.date


def _ints(frame: str, df: pd.DataFrame, col: str, low: int, high: int, *, optional: bool) -> pd.Series:
    raw = df[col]
    num = pd.to_numeric(raw, errors="coerce")
    bad = (num.isna() & raw.notna()) if optional else num.isna()
    bad |= num.notna() & ((num % 1 != 0) | (num < low) | (num > high))
    _bad(frame, col, df, bad.fillna(False).astype(bool),
         f"a whole number from {low} to {high}" + (" or empty" if optional else ""))
    return num.astype("Int64")


def _texts(frame: str, df: pd.DataFrame, col: str, max_len: int = MAX_TEXT) -> pd.Series:
    s = df[col].astype("object").where(df[col].notna(), "")
    bad = s.map(lambda v: not isinstance(v, str) or len(v) > max_len).astype(bool)
    _bad(frame, col, df, bad, f"text of at most {max_len} characters")
    return s


def _utc(frame: str, df: pd.DataFrame, col: str, *, optional: bool) -> pd.Series:
    ts = pd.to_datetime(df[col], utc=True, errors="coerce").astype("datetime64[ns, UTC]")
    bad = (ts.isna() & df[col].notna()) | (ts > pd.Timestamp.now(tz="UTC") + pd.Timedelta(minutes=5))
    if not optional:
        bad |= ts.isna()
    _bad(frame, col, df, bad, "a UTC timestamp not in the future")
    return ts


def _column_values(col: pd.Series, bind) -> list:
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
    data = {}
    for col in cols:
        bind = table.c[col].type.dialect_impl(conn.dialect).bind_processor(conn.dialect)
        data[col] = _column_values(df[col], bind)
    if compiled.positional:
        order = compiled.positiontup
        rows = list(zip(*(data[k] for k in order), strict=True))
    else:
        rows = [dict(zip(cols, r, strict=True)) for r in zip(*(data[c] for c in cols), strict=True)]
    conn.exec_driver_sql(str(compiled), rows)


def load_frames(
    store: Store,
    *,
    patients: pd.DataFrame | None = None,
    programmes: pd.DataFrame | None = None,
    sessions: pd.DataFrame | None = None,
    items: pd.DataFrame | None = None,
    pain: pd.DataFrame | None = None,
    annotations: pd.DataFrame | None = None,
) -> dict[str, int]:
    """Validate and insert whole frames in one transaction; return rows inserted per frame.

    Patients are added when absent (an existing patient is kept as it is); a programme is
    added unless the patient already has one with the same start date and items. Sessions
    get the programme in force on their day. Rows whose id is already stored make the
    database refuse the whole load (import_bundle filters those out first)."""
    from backcare.domain.rules import check_id, check_text
    from backcare.store import _is_timezone

    catalog = store.catalog
    patients = patients if patients is not None else pd.DataFrame(columns=PATIENT_COLUMNS)
    programmes = programmes if programmes is not None else pd.DataFrame(columns=PROGRAMME_COLUMNS)
    _need("patients", patients, PATIENT_COLUMNS)
    _need("programmes", programmes, PROGRAMME_COLUMNS)
    pt = patients.reset_index(drop=True)
    _ids("patients", pt, "patient_id", unique=True)
    for i, r in pt.iterrows():
        check_text(f"patients[{i}].name", _none(r["name"]) or "", max_len=200)
        if not _is_timezone(r["timezone"]):
            raise ValidationError(f"patients[{i}].timezone", r["timezone"], "an IANA time zone name")
    pr = programmes.reset_index(drop=True)
    if len(pr):
        _ids("programmes", pr, "patient_id")
        for v in pr["programme_key"].astype(str):
            check_id("programmes.programme_key", v)
    progs = _programmes(pr, catalog)
    sessions = sessions if sessions is not None else pd.DataFrame(columns=SESSION_COLUMNS)
    items = items if items is not None else pd.DataFrame(columns=ITEM_COLUMNS)
    pain = pain if pain is not None else pd.DataFrame(columns=PAIN_COLUMNS)
    annotations = annotations if annotations is not None else pd.DataFrame(columns=ANNOTATION_COLUMNS)
    for name, df, cols in (("sessions", sessions, SESSION_COLUMNS), ("items", items, ITEM_COLUMNS),
                           ("pain", pain, PAIN_COLUMNS), ("annotations", annotations, ANNOTATION_COLUMNS)):
        _need(name, df, cols)

    # -- sessions
    s = sessions.reset_index(drop=True)
    _ids("sessions", s, "session_id", unique=True)
    _ids("sessions", s, "patient_id")
    s_day = _days("sessions", s)
    s_pb = _ints("sessions", s, "pain_before", 0, 10, optional=True)
    s_pa = _ints("sessions", s, "pain_after", 0, 10, optional=True)
    s_notes = _texts("sessions", s, "notes")
    flags = _texts("sessions", s, "red_flags", 256)
    bad_flag = flags.map(lambda v: any(f not in RED_FLAGS for f in v.split(",") if f)).astype(bool)
    _bad("sessions", "red_flags", s, bad_flag, "comma-separated codes from " + ", ".join(RED_FLAGS))
    s_start = _utc("sessions", s, "started_at", optional=True)
    s_end = _utc("sessions", s, "ended_at", optional=True)
    _bad("sessions", "ended_at", s, (s_end < s_start).fillna(False).astype(bool), "a time at or after started_at")

    # -- items
    it = items.reset_index(drop=True)
    _ids("items", it, "session_id")
    _bad("items", "session_id", it, ~it["session_id"].isin(s["session_id"]), "a session_id of the sessions frame")
    _bad("items", "exercise_id", it, ~it["exercise_id"].isin(catalog.ids()), "an exercise id from the catalog")
    _bad("items", "exercise_id", it, it.duplicated(["session_id", "exercise_id"]), "each exercise once per session")
    done = it["done"].map(lambda v: v if isinstance(v, bool) else {"true": True, "false": False}.get(str(v).lower()))
    _bad("items", "done", it, done.isna(), "True or False")
    it_cols = {"sets": _ints("items", it, "sets", *SETS_LIMITS, optional=True)}
    for dose in DOSE_FIELDS:
        it_cols[dose] = _ints("items", it, dose, 0, DOSE_LIMITS[dose][1], optional=True)

    # -- pain scores
    p = pain.reset_index(drop=True)
    _ids("pain", p, "pain_id", unique=True)
    _ids("pain", p, "patient_id")
    p_day = _days("pain", p)
    p_score = _ints("pain", p, "score", 0, 10, optional=False)
    from backcare.store import ANNOTATION_KINDS, PAIN_CONTEXTS

    p_ctx = _texts("pain", p, "context", 64)
    _bad("pain", "context", p, ~p_ctx.isin(PAIN_CONTEXTS), "one of " + ", ".join(PAIN_CONTEXTS))
    p_at = _utc("pain", p, "recorded_at", optional=False)

    # -- annotations
    a = annotations.reset_index(drop=True)
    _ids("annotations", a, "annotation_id", unique=True)
    _ids("annotations", a, "patient_id")
    a_day = _days("annotations", a)
    a_text = _texts("annotations", a, "text", 4000)
    _bad("annotations", "text", a, a_text.str.strip() == "", "text that is not empty")
    a_author = _texts("annotations", a, "author", 200)
    a_kind = _texts("annotations", a, "kind", 32)
    _bad("annotations", "kind", a, ~a_kind.isin(ANNOTATION_KINDS), "one of " + ", ".join(ANNOTATION_KINDS))
    a_at = _utc("annotations", a, "created_at", optional=True).fillna(pd.Timestamp.now(tz="UTC"))

    patient_ids = set(s["patient_id"]) | set(p["patient_id"]) | set(a["patient_id"]) | set(pt["patient_id"])
    patient_ids |= {g[0] for g in progs}
    now = dt.datetime.now(dt.UTC)
    added = {"patients": 0, "programmes": 0}
    with store._write() as conn:
        known = set(conn.execute(
            sa.select(S.patients.c.patient_id).where(S.patients.c.patient_id.in_(sorted(patient_ids)))
        ).scalars()) if patient_ids else set()
        new_patients = pt[~pt["patient_id"].isin(known)]
        if len(new_patients):
            insert_frame(conn, S.patients, pd.DataFrame({
                "patient_id": new_patients["patient_id"], "name": new_patients["name"].fillna(""),
                "timezone": new_patients["timezone"], "created_at": pd.Timestamp(now),
            }))
            known |= set(new_patients["patient_id"])
            added["patients"] = len(new_patients)
        _bad("programmes", "patient_id", pr, ~pr["patient_id"].isin(known), "a patient already in the store")
        for pid, valid_from, author, note, checked in progs:
            if any(existing == checked for existing in _programmes_on_day(store, conn, pid, valid_from)):
                continue
            prog_id = conn.execute(
                sa.insert(S.programmes).values(patient_id=pid, valid_from=valid_from, author=author,
                                               note=note, created_at=now)
                .returning(S.programmes.c.programme_id)
            ).scalar_one()
            conn.execute(sa.insert(S.programme_items),
                         [{"programme_id": prog_id, "position": i, **vars(x)} for i, x in enumerate(checked)])
            added["programmes"] += 1
        for frame, df in (("sessions", s), ("pain", p), ("annotations", a)):
            _bad(frame, "patient_id", df, ~df["patient_id"].isin(known), "a patient already in the store")
        for pid in sorted(patient_ids):
            store._lock_patient(conn, pid)
        prog = pd.DataFrame(
            conn.execute(
                sa.select(S.programmes.c.programme_id, S.programmes.c.patient_id, S.programmes.c.valid_from)
                .where(S.programmes.c.patient_id.in_(sorted(patient_ids)))
            ).all(),
            columns=["programme_id", "patient_id", "valid_from"],
        )
        programme_ids = _programme_in_force(s["patient_id"], s_day, prog)
        if len(s):
            insert_frame(conn, S.sessions, (pd.DataFrame({
                "session_id": s["session_id"], "patient_id": s["patient_id"], "day": s_day,
                "started_at": s_start, "ended_at": s_end,
                "programme_id": programme_ids, "pain_before": s_pb, "pain_after": s_pa,
                "notes": s_notes, "red_flags": flags, "created_at": now, "updated_at": now,
            })))
        if len(it):
            insert_frame(conn, S.session_items, (pd.DataFrame({
                "session_id": it["session_id"], "exercise_id": it["exercise_id"],
                "done": done.astype(bool), **it_cols,
            })))
        if len(p):
            insert_frame(conn, S.pain_scores, (pd.DataFrame({
                "pain_id": p["pain_id"], "patient_id": p["patient_id"], "recorded_at": p_at,
                "day": p_day, "score": p_score, "context": p_ctx,
            })))
        if len(a):
            insert_frame(conn, S.annotations, (pd.DataFrame({
                "annotation_id": a["annotation_id"], "patient_id": a["patient_id"], "day": a_day,
                "author": a_author, "kind": a_kind, "text": a_text, "created_at": a_at,
            })))
        touched = sorted(set(s["patient_id"]) | set(p["patient_id"]))
        for i in range(0, len(touched), 200):
            chunk = touched[i:i + 200]
            S.refresh_summary(conn, lambda t, chunk=chunk: t.c.patient_id.in_(chunk))
    return {**added, "sessions": len(s), "items": len(it), "pain": len(p), "annotations": len(a)}


def _programmes_on_day(store: Store, conn: sa.Connection, patient_id: str, day) -> list[tuple]:
    ids = conn.execute(
        sa.select(S.programmes.c.programme_id).where(
            S.programmes.c.patient_id == patient_id, S.programmes.c.valid_from == day)
    ).scalars().all()
    return [store._programme_items(conn, i) for i in ids]


def _programme_in_force(patient_ids: pd.Series, days: pd.Series, prog: pd.DataFrame) -> pd.Series:
    """The programme id in force for each (patient, day) row, or NA."""
    if prog.empty or patient_ids.empty:
        return pd.Series(pd.NA, index=patient_ids.index, dtype="Int64")
    left = pd.DataFrame({"patient_id": patient_ids.astype(str), "day": pd.to_datetime(days), "row": range(len(days))})
    right = prog.assign(valid_from=pd.to_datetime(prog["valid_from"]), patient_id=prog["patient_id"].astype(str))
    right = right.sort_values(["valid_from", "programme_id"])
    merged = pd.merge_asof(
        left.sort_values("day"), right, left_on="day", right_on="valid_from", by="patient_id",
        direction="backward",
    )
    return merged.sort_values("row")["programme_id"].astype("Int64").set_axis(patient_ids.index)
