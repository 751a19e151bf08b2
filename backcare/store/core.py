"""The store: the one way backcare data is read and written (SQLAlchemy Core; SQLite or PostgreSQL).

Writes are single transactions validated (by backcare.domain) before anything touches the
database. Readers return pandas DataFrames with fixed dtypes (see store.frames.READ_DTYPES)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import gc
import os
import secrets
import threading
import zoneinfo
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from backcare.domain.catalog import Catalog, default_catalog
from backcare.domain.programme import (
    AUTOMATIC_AUTHOR,
    Prescription,
    Programme,
    make_programme,
    programme_change_note,
)
from backcare.domain.questionnaires import (
    Response,
    answers_json,
    validate_response,
)
from backcare.domain.rules import (
    ANNOTATION_CHARS,
    NAME_CHARS,
    check_bool,
    check_choice,
    check_date,
    check_datetime,
    check_db_url,
    check_id,
    check_int,
    check_text,
    check_timezone,
)
from backcare.domain.session import (
    ANNOTATION_KINDS,
    PAIN_CONTEXTS,
    PAIN_RANGE,
    Session,
    SessionItem,
    new_id,
    validate_session,
)
from backcare.errors import BackcareError, ConflictError, NotFoundError, ValidationError
from backcare.owner_only import private_dir, restrict_dir, touch_private
from backcare.store import schema as S
from backcare.store.frames import (
    READ_DTYPES,
    _days,
    texts,
    typed_columns,
    with_valid_to,
)

DEFAULT_PATH = Path("data") / "backcare.db"

# What a Store call can raise other than a bug: backcare's own refusals (BackcareError: input
# not allowed, not found, a conflicting write), the database (SQLAlchemyError: locked,
# unreachable, a table missing), the file system or the network (OSError), a stored value
# that cannot be converted (ValueError), and a stored time zone this machine does not know.
# The views show these as a one-line message.
STORE_ERRORS: tuple[type[Exception], ...] = (
    BackcareError,
    sa.exc.SQLAlchemyError,
    OSError,
    ValueError,
    zoneinfo.ZoneInfoNotFoundError,
)

# An inclusive bound of a day range: a date (or datetime, Timestamp), 'YYYY-MM-DD' text, or
# None for no bound.
DayBound = dt.date | str | None


def default_url() -> str:
    """BACKCARE_DB if set, else the SQLite file data/backcare.db under the working directory."""
    return os.environ.get("BACKCARE_DB") or f"sqlite:///{DEFAULT_PATH}"


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _driver_columns(conn: Connection, stmt: sa.Executable, width: int) -> list[tuple[Any, ...]]:
    """The statement's result as columns of the driver's own values (no per-row conversion).

    SQLAlchemy binds the parameters; rows are then fetched straight from the DBAPI cursor,
    so days come as ISO text (SQLite) or dates (PostgreSQL): frames._days reads both."""
    result = conn.execute(stmt)
    with _no_cyclic_gc():
        try:
            rows = result.cursor.fetchall() if result.cursor is not None else []
        finally:
            result.close()
        return list(zip(*rows, strict=True)) if rows else [()] * width


def _typed_read(conn: Connection, stmt: sa.Executable, kind: str) -> pd.DataFrame:
    """The statement's result (the columns of READ_DTYPES[kind], in order) as that typed
    frame, from the driver's own values (frames.typed_columns reads them)."""
    return typed_columns(_driver_columns(conn, stmt, len(READ_DTYPES[kind])), kind)


def count_done(items: pd.DataFrame) -> pd.DataFrame:
    """Store.done_items rows counted per (patient, day, exercise): column done."""
    return count_items(items)[0]


def count_doses(items: pd.DataFrame) -> pd.DataFrame:
    """Store.done_items rows counted per (patient, day, exercise, reps, hold_s, minutes): n
    (a dose not recorded is NaN and counts as one value, sorted last)."""
    return count_items(items)[1]


def count_items(items: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(count_done, count_doses) of Store.done_items rows, from one sort of the rows."""
    keys = ["patient_id", "day", "exercise_id"]
    fields = list(S.DONE_ITEM_FIELDS)
    if items.empty:
        done = items[keys].assign(done=np.zeros(0, dtype=np.int64))
        return done, items[[*keys, *fields]].assign(n=np.zeros(0, dtype=np.int64))
    p_code, _ = pd.factorize(items["patient_id"], sort=True)
    e_code, _ = pd.factorize(items["exercise_id"], sort=True)
    day = items["day"].to_numpy(dtype="datetime64[ns]").view(np.int64)
    doses = [items[f].to_numpy(dtype=np.float64, na_value=np.nan) for f in fields]
    # numpy sorts NaN last, as groupby(dropna=False) does
    order = np.lexsort((*reversed(doses), e_code, day, p_code))

    def changes(values: np.ndarray) -> np.ndarray:
        """Where each sorted value differs from the one before (NaN equals NaN)."""
        v = values[order]
        out: np.ndarray = v[1:] != v[:-1]
        if v.dtype.kind == "f":
            out &= ~(np.isnan(v[1:]) & np.isnan(v[:-1]))
        return out

    new_item = changes(p_code) | changes(day) | changes(e_code)
    new_dose = new_item.copy()
    for d in doses:
        new_dose |= changes(d)
    dose_at = np.flatnonzero(np.concatenate([[True], new_dose]))
    n = np.diff(np.append(dose_at, len(order)))
    item_at = np.flatnonzero(np.concatenate([[True], new_item]))
    done_n = np.diff(np.append(item_at, len(order)))
    done = items[keys].take(order[item_at]).reset_index(drop=True)
    done["done"] = done_n.astype(np.int64)
    dose = items[[*keys, *fields]].take(order[dose_at]).reset_index(drop=True)
    dose["n"] = n.astype(np.int64)
    return done, dose


@contextmanager
def _no_cyclic_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector while a bulk read builds many small tuples.

    The tuples hold only numbers and text (no reference cycles): reference counting frees
    them; without the pause, CPython runs full collections over every object alive during a
    clinic-wide read (about a sixth of its time, measured in docs/performance.md)."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def _range(
    table: sa.Table, patient_id: str | None, start: DayBound, end: DayBound, col: str = "day"
) -> sa.ColumnElement[bool]:
    conds: list[sa.ColumnElement[bool]] = []
    if patient_id is not None:
        conds.append(table.c.patient_id == patient_id)
    if start is not None:
        conds.append(table.c[col] >= pd.Timestamp(start).date())
    if end is not None:
        conds.append(table.c[col] <= pd.Timestamp(end).date())
    return sa.and_(sa.true(), *conds)


class _Unchecked(enum.Enum):
    """set_programme's default expected_current: write whatever the latest programme is."""

    ANY = "any"


class _Q:
    """Statements on the save path, built once (building a statement costs more than running it)."""

    patient_tz = sa.select(S.patients.c.timezone).where(
        S.patients.c.patient_id == sa.bindparam("pid")
    )
    programme_on = (
        sa.select(S.programmes.c.programme_id)
        .where(
            S.programmes.c.patient_id == sa.bindparam("pid"),
            S.programmes.c.valid_from <= sa.bindparam("day"),
        )
        .order_by(S.programmes.c.valid_from.desc(), S.programmes.c.programme_id.desc())
        .limit(1)
    )
    latest_programme = (
        sa.select(S.programmes.c.programme_id)
        .where(S.programmes.c.patient_id == sa.bindparam("pid"))
        .order_by(S.programmes.c.valid_from.desc(), S.programmes.c.programme_id.desc())
        .limit(1)
    )
    patient_and_programme = sa.select(S.patients.c.timezone, programme_on.scalar_subquery()).where(
        S.patients.c.patient_id == sa.bindparam("pid")
    )
    session = sa.select(S.sessions).where(S.sessions.c.session_id == sa.bindparam("sid"))
    session_items = sa.select(
        S.session_items.c.exercise_id,
        S.session_items.c.done,
        S.session_items.c.sets,
        S.session_items.c.reps,
        S.session_items.c.hold_s,
        S.session_items.c.minutes,
    ).where(S.session_items.c.session_id == sa.bindparam("sid"))


def lock_patient(conn: Connection, patient_id: str) -> None:
    """Serialise writers of one patient's daily summary within conn's transaction (PostgreSQL;
    SQLite's BEGIN IMMEDIATE already serialises every writer)."""
    if conn.dialect.name == "postgresql":
        conn.execute(sa.select(sa.func.pg_advisory_xact_lock(sa.func.hashtext(patient_id))))


def insert_programme(
    conn: Connection, patient_id: str, prog: Programme, created_at: dt.datetime
) -> int:
    """Write one validated programme and its items in the caller's transaction; its new id."""
    programme_id: int = conn.execute(
        sa.insert(S.programmes)
        .values(
            patient_id=patient_id,
            valid_from=prog.valid_from,
            author=prog.author,
            note=prog.note,
            created_at=created_at,
        )
        .returning(S.programmes.c.programme_id)
    ).scalar_one()
    conn.execute(
        sa.insert(S.programme_items),
        [
            {"programme_id": programme_id, "position": i, **vars(p)}
            for i, p in enumerate(prog.items)
        ],
    )
    return programme_id


def programme_items(conn: Connection, programme_id: int) -> tuple[Prescription, ...]:
    """The prescriptions of one stored programme, in programme order."""
    t = S.programme_items
    rows = conn.execute(
        sa.select(
            t.c.exercise_id,
            t.c.sets,
            t.c.reps,
            t.c.hold_s,
            t.c.minutes,
            t.c.each_side,
            t.c.times_per_week,
        )
        .where(t.c.programme_id == programme_id)
        .order_by(t.c.position)
    ).all()
    return tuple(Prescription(**r._mapping) for r in rows)


class Store:
    """A backcare store. Open with open_store(); every public method is one transaction."""

    def __init__(self, engine: Engine, catalog: Catalog | None = None) -> None:
        self.engine = engine
        self.catalog = catalog or default_catalog()
        self.is_sqlite = engine.dialect.name == "sqlite"
        self._snapshots = threading.local()  # this thread's snapshot() connection, if any

    # ---- plumbing ----------------------------------------------------------------------
    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """A write transaction: what is done on the connection commits together or not at all.

        Writers take the write lock up front (SQLite: BEGIN IMMEDIATE). Only the store package
        uses it (bulk loading); everyone else writes through the Store's methods."""
        with self.engine.connect() as conn:
            conn.execution_options(backcare_write=True)
            with conn.begin():
                yield conn

    @contextmanager
    def snapshot(self) -> Iterator[None]:
        """Reads made inside share one read transaction: they all see the store as it was
        when the first of them ran, whatever is saved meanwhile (SQLite: one WAL snapshot;
        PostgreSQL: REPEATABLE READ), and one connection serves them all. A write made
        meanwhile, even by this thread, commits on its own and is not seen by these reads.
        Nests; each thread has its own."""
        if getattr(self._snapshots, "conn", None) is not None:
            yield
            return
        with self.engine.connect() as conn:
            if not self.is_sqlite:
                conn.execution_options(isolation_level="REPEATABLE READ")
            with conn.begin():
                self._snapshots.conn = conn
                try:
                    yield
                finally:
                    self._snapshots.conn = None

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        shared = getattr(self._snapshots, "conn", None)
        if shared is not None:  # inside snapshot(): its transaction
            yield shared
            return
        with self.engine.connect() as conn, conn.begin():
            yield conn

    def schema_version(self) -> int:
        """The schema version stored in the database."""
        with self._read() as conn:
            return S.stored_version(conn)

    def close(self) -> None:
        """Release every pooled connection."""
        self.engine.dispose()

    def optimize(self) -> None:
        """Refresh the query planner's statistics (ANALYZE): run after loading many rows.

        Without statistics SQLite plans the clinic's window joins as full scans of the item
        table (measured: 1.3 s instead of 0.2 s on a 1.77M-item store); ANALYZE on that store
        takes about 0.4 s."""
        with self.transaction() as conn:
            conn.exec_driver_sql("ANALYZE")

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def secret(self, name: str) -> bytes:
        """A random 32-byte secret in the meta table under name, made on first use (a write)."""
        check_id("name", name)
        meta = S.meta
        with self.transaction() as conn:
            value = conn.execute(sa.select(meta.c.value).where(meta.c.key == name)).scalar()
            if value is None:
                value = secrets.token_hex(32)
                conn.execute(sa.insert(meta).values(key=name, value=value))
        return bytes.fromhex(value)

    def _require_patient(self, conn: Connection, patient_id: str) -> str:
        tz: str | None = conn.execute(_Q.patient_tz, {"pid": patient_id}).scalar()
        if tz is None:
            raise NotFoundError("patient_id", patient_id, "a patient already in the store")
        return tz

    # ---- patients ----------------------------------------------------------------------
    def add_patient(self, patient_id: str, name: str = "", timezone: str = "UTC") -> str:
        """Add a patient (no-op if it exists with the same name and time zone); return its id.

        An existing patient's name may change here; their time zone only while they have no
        session or pain score (their days are local to it): otherwise ValidationError, and
        change_timezone records the move from a date."""
        check_id("patient_id", patient_id)
        name = check_text("name", name, max_len=NAME_CHARS)
        check_timezone("timezone", timezone)
        with self.transaction() as conn:
            row = conn.execute(
                sa.select(S.patients.c.name, S.patients.c.timezone).where(
                    S.patients.c.patient_id == patient_id
                )
            ).first()
            if row is None:
                conn.execute(
                    sa.insert(S.patients).values(
                        patient_id=patient_id, name=name, timezone=timezone, created_at=_now()
                    )
                )
            elif (row.name, row.timezone) != (name, timezone):
                if row.timezone != timezone and self._last_recorded_day(conn, patient_id):
                    raise ValidationError(
                        "timezone",
                        timezone,
                        f"the patient's time zone {row.timezone!r}: their sessions and pain "
                        "scores are filed by local days there; record a move with "
                        "Store.change_timezone(patient_id, timezone, from_day)",
                    )
                conn.execute(
                    sa.update(S.patients)
                    .where(S.patients.c.patient_id == patient_id)
                    .values(name=name, timezone=timezone)
                )
        return patient_id

    def _last_recorded_day(self, conn: Connection, patient_id: str) -> dt.date | None:
        """The latest day of the patient's sessions and pain scores (None if they have none)."""
        days = [
            conn.execute(
                sa.select(sa.func.max(t.c.day)).where(t.c.patient_id == patient_id)
            ).scalar()
            for t in (S.sessions, S.pain_scores)
        ]
        found = [d for d in days if d is not None]
        return max(found) if found else None

    def change_timezone(self, patient_id: str, timezone: str, from_day: dt.date) -> str:
        """Move a patient to another time zone from from_day; return the annotation recording it.

        from_day must come after the last day with a session or pain score (those stay filed
        by their days in the old zone) and not be in the future (one day of slack): records
        from then on are filed by local days in the new zone. The change is written on the
        patient's timeline as a note by backcare, in the same transaction."""
        check_id("patient_id", patient_id)
        check_timezone("timezone", timezone)
        from_day = check_date("from_day", from_day)
        with self.transaction() as conn:
            old = self._require_patient(conn, patient_id)
            lock_patient(conn, patient_id)
            if old == timezone:
                raise ValidationError("timezone", timezone, f"a time zone other than {old!r}")
            last = self._last_recorded_day(conn, patient_id)
            if last is not None and from_day <= last:
                raise ValidationError(
                    "from_day",
                    from_day.isoformat(),
                    f"a day after {last.isoformat()}, the patient's last recorded day",
                )
            conn.execute(
                sa.update(S.patients)
                .where(S.patients.c.patient_id == patient_id)
                .values(timezone=timezone)
            )
            annotation_id = new_id()
            conn.execute(
                sa.insert(S.annotations).values(
                    annotation_id=annotation_id,
                    patient_id=patient_id,
                    day=from_day,
                    author=AUTOMATIC_AUTHOR,
                    kind="note",
                    text=f"Time zone changed from {old} to {timezone} from {from_day.isoformat()}",
                    created_at=_now(),
                )
            )
        return annotation_id

    def patients(self) -> pd.DataFrame:
        """One row per patient: id, name, time zone, number of sessions, first and last day."""
        s = S.sessions
        agg = (
            sa.select(
                s.c.patient_id,
                sa.func.count().label("sessions"),
                sa.func.min(s.c.day).label("first_day"),
                sa.func.max(s.c.day).label("last_day"),
            )
            .group_by(s.c.patient_id)
            .subquery()
        )
        p = S.patients
        q = (
            sa.select(
                p.c.patient_id,
                p.c.name,
                p.c.timezone,
                p.c.created_at,
                sa.func.coalesce(agg.c.sessions, 0),
                agg.c.first_day,
                agg.c.last_day,
            )
            .select_from(p.outerjoin(agg, agg.c.patient_id == p.c.patient_id))
            .order_by(p.c.patient_id)
        )
        with self._read() as conn:
            return _typed_read(conn, q, "patients")

    def patient(self, patient_id: str) -> dict[str, Any] | None:
        """One patient's row of patients() as a dict, or None.

        first_day and last_day are Timestamps or NaT. Reads only this patient's sessions (through
        the (patient_id, day) index), so its cost does not grow with the clinic."""
        p, s = S.patients, S.sessions
        mine = s.c.patient_id == p.c.patient_id
        q = sa.select(
            p.c.patient_id,
            p.c.name,
            p.c.timezone,
            p.c.created_at,
            sa.select(sa.func.count()).where(mine).scalar_subquery(),
            sa.select(sa.func.min(s.c.day)).where(mine).scalar_subquery(),
            sa.select(sa.func.max(s.c.day)).where(mine).scalar_subquery(),
        ).where(p.c.patient_id == patient_id)
        with self._read() as conn:
            found = _typed_read(conn, q, "patients")
        if found.empty:
            return None
        return {str(column): value for column, value in found.iloc[0].items()}

    def patient_timezone(self, patient_id: str) -> zoneinfo.ZoneInfo:
        """The patient's time zone (the day a session counts for is local to it)."""
        with self._read() as conn:
            return zoneinfo.ZoneInfo(self._require_patient(conn, patient_id))

    def local_today(self, patient_id: str) -> dt.date:
        """Today's date in the patient's time zone."""
        return dt.datetime.now(self.patient_timezone(patient_id)).date()

    # ---- programmes --------------------------------------------------------------------
    def set_programme(
        self,
        patient_id: str,
        items: Iterable[Prescription | Mapping[str, Any]] | Programme,
        valid_from: dt.date | None = None,
        *,
        author: str = "",
        note: str = "",
        annotate: bool = True,
        expected_current: int | None | _Unchecked = _Unchecked.ANY,
    ) -> int:
        """Prescribe a programme from valid_from (superseding earlier ones); return its id.

        Records a 'programme-change' annotation on the patient's timeline unless annotate=False.
        Storing the same items, note and author for the same start date again is a no-op
        returning the same id. The same items with another note (or author) store a new version
        of that day's programme holding the new note (it supersedes the earlier one, which stays
        in the table); no programme-change annotation is added, as the exercises did not change.

        expected_current: the programme_id an edit started from (None: the patient had no
        programme). If the patient's latest programme (latest start, then latest saved) is
        another one, someone changed it meanwhile: nothing is written and ConflictError is
        raised. The check and the write are one transaction."""
        check_id("patient_id", patient_id)
        if isinstance(items, Programme):
            valid_from = valid_from or items.valid_from
            author = author or items.author
            note = note or items.note
            items = items.items
        prog = make_programme(
            items, valid_from or dt.date.today(), self.catalog, author=author, note=note
        )
        with self.transaction() as conn:
            self._require_patient(conn, patient_id)
            lock_patient(conn, patient_id)
            if not isinstance(expected_current, _Unchecked):
                latest: int | None = conn.execute(_Q.latest_programme, {"pid": patient_id}).scalar()
                if latest != expected_current:
                    raise ConflictError(
                        f"expected_current: {expected_current!r} is no longer the patient's "
                        f"latest programme (it is {latest!r}); the programme was changed "
                        "meanwhile and nothing was written"
                    )
            same_day: int | None = conn.execute(
                sa.select(S.programmes.c.programme_id)
                .where(
                    S.programmes.c.patient_id == patient_id,
                    S.programmes.c.valid_from == prog.valid_from,
                )
                .order_by(S.programmes.c.programme_id.desc())
                .limit(1)
            ).scalar()
            items_changed = True
            if same_day is not None and programme_items(conn, same_day) == prog.items:
                stored = conn.execute(
                    sa.select(S.programmes.c.note, S.programmes.c.author).where(
                        S.programmes.c.programme_id == same_day
                    )
                ).one()
                if (stored.note, stored.author) == (prog.note, prog.author):
                    return same_day
                items_changed = False
            pid = insert_programme(conn, patient_id, prog, _now())
            if annotate and items_changed:
                conn.execute(
                    sa.insert(S.annotations).values(
                        annotation_id=new_id(),
                        patient_id=patient_id,
                        day=min(prog.valid_from, dt.date.today()),
                        author=prog.author or AUTOMATIC_AUTHOR,
                        kind="programme-change",
                        text=programme_change_note(prog, self.catalog),
                        created_at=_now(),
                    )
                )
        return pid

    def _programme_id_on(self, conn: Connection, patient_id: str, day: dt.date) -> int | None:
        return conn.execute(_Q.programme_on, {"pid": patient_id, "day": day}).scalar()

    def programme_on(self, patient_id: str, day: dt.date) -> Programme | None:
        """The programme in force for the patient on day, or None if nothing was prescribed yet."""
        with self._read() as conn:
            pid = self._programme_id_on(conn, patient_id, day)
            if pid is None:
                return None
            row = conn.execute(
                sa.select(S.programmes).where(S.programmes.c.programme_id == pid)
            ).one()
            return Programme(programme_items(conn, pid), row.valid_from, row.author, row.note, pid)

    def prescriptions(
        self,
        patient_id: str | None = None,
        *,
        in_force_from: DayBound = None,
        notes: bool = True,
    ) -> pd.DataFrame:
        """Every programme item with the programme's valid_from and valid_to (NaT while in force).

        valid_to is the day before the next programme starts; programmes superseded on their
        own start day (same valid_from, later id) are dropped. With in_force_from, only the
        programmes still in force on or after that day: those superseded by then are not read
        (the clinic overview's window needs only these). notes=False leaves author and note
        empty (the overview never shows them)."""
        p, i = S.programmes, S.programme_items
        q = (
            sa.select(
                p.c.programme_id,
                p.c.patient_id,
                p.c.valid_from,
                sa.null(),
                i.c.position,
                i.c.exercise_id,
                i.c.sets,
                i.c.reps,
                i.c.hold_s,
                i.c.minutes,
                i.c.each_side,
                i.c.times_per_week,
                p.c.author if notes else sa.literal(""),
                p.c.note if notes else sa.literal(""),
            )
            .select_from(p.join(i, i.c.programme_id == p.c.programme_id))
            .order_by(p.c.patient_id, p.c.valid_from, p.c.programme_id, i.c.position)
        )
        if patient_id is not None:
            q = q.where(p.c.patient_id == patient_id)
        if in_force_from is not None:
            later = S.programmes.alias("later")
            q = q.where(
                ~sa.exists().where(
                    later.c.patient_id == p.c.patient_id,
                    later.c.valid_from <= pd.Timestamp(in_force_from).date(),
                    sa.or_(
                        later.c.valid_from > p.c.valid_from,
                        sa.and_(
                            later.c.valid_from == p.c.valid_from,
                            later.c.programme_id > p.c.programme_id,
                        ),
                    ),
                )
            )
        with self._read() as conn:
            df = _typed_read(conn, q, "prescriptions")
        return with_valid_to(df)

    def programme_starts(self) -> pd.Series:
        """Each patient's first programme start by patient_id (analysis.programme_starts of
        every programme, read as one row per patient)."""
        p = S.programmes
        q = (
            sa.select(p.c.patient_id, sa.type_coerce(sa.func.min(p.c.valid_from), sa.String))
            .group_by(p.c.patient_id)
            .order_by(p.c.patient_id)
        )
        with self._read() as conn:
            c = _driver_columns(conn, q, 2)
        return pd.Series(_days(c[1]), index=pd.Index(texts(c[0]), dtype="str"))

    # ---- sessions ----------------------------------------------------------------------
    def save_session(
        self,
        patient_id: str,
        items: Iterable[SessionItem | Mapping[str, Any]],
        *,
        day: dt.date | None = None,
        pain_before: int | None = None,
        pain_after: int | None = None,
        notes: str = "",
        red_flags: Iterable[str] = (),
        started_at: dt.datetime | None = None,
        ended_at: dt.datetime | None = None,
        session_id: str | None = None,
        replace: bool = False,
    ) -> str:
        """Save one session and its items in one transaction; return the session id.

        Saving the same id again with the same content is a no-op; with different content it
        raises ConflictError unless replace=True, which updates the stored session in place.
        The day defaults to the local date (patient's time zone) of started_at, or today."""
        check_id("patient_id", patient_id)
        session_id = session_id if session_id is not None else new_id()
        check_bool("replace", replace)
        if day is None:
            tz = self.patient_timezone(patient_id)
            ref = check_datetime("started_at", started_at, optional=True) or _now()
            day = ref.astimezone(tz).date()
        sess = validate_session(
            catalog=self.catalog,
            session_id=session_id,
            patient_id=patient_id,
            day=day,
            items=items,
            pain_before=pain_before,
            pain_after=pain_after,
            notes=notes,
            red_flags=red_flags,
            started_at=started_at,
            ended_at=ended_at,
        )
        try:
            return self._save(sess, replace)
        except sa.exc.IntegrityError:
            # Another writer inserted the same id between our check and insert (PostgreSQL):
            # retry once; the check now sees the row and answers no-op or conflict.
            return self._save(sess, replace)

    def _save(self, sess: Session, replace: bool) -> str:
        with self.transaction() as conn:
            # one round trip: does the patient exist, and which programme is in force that day
            row = conn.execute(
                _Q.patient_and_programme, {"pid": sess.patient_id, "day": sess.day}
            ).first()
            if row is None:
                raise NotFoundError("patient_id", sess.patient_id, "a patient already in the store")
            sess = dataclasses.replace(sess, programme_id=row[1])
            lock_patient(conn, sess.patient_id)
            existing = self._load_session(conn, sess.session_id)
            if existing is not None:
                if existing == sess:
                    return sess.session_id
                if not replace:
                    raise ConflictError(
                        f"session_id: {sess.session_id!r} is already saved with different "
                        "content; pass replace=True to update it"
                    )
                if existing.patient_id != sess.patient_id:
                    raise ConflictError(
                        f"session_id: {sess.session_id!r} belongs to another patient"
                    )
                conn.execute(
                    sa.delete(S.session_items).where(
                        S.session_items.c.session_id == sess.session_id
                    )
                )
                conn.execute(
                    sa.delete(S.sessions).where(S.sessions.c.session_id == sess.session_id)
                )
            self._insert_sessions(conn, [sess])
            if existing is None:
                S.add_to_day(
                    conn,
                    sess.patient_id,
                    sess.day,
                    sessions=1,
                    items_done=sum(it.done for it in sess.items),
                    pain=sess.pain_before,
                    red_flag=bool(sess.red_flags),
                )
            else:  # an update may move the session to another day: recompute both days
                for d in {sess.day, existing.day}:
                    self._refresh_day(conn, sess.patient_id, d)
        return sess.session_id

    def _insert_sessions(self, conn: Connection, batch: Sequence[Session]) -> None:
        now = _now()
        rows: list[dict[str, Any]] = []
        items: list[dict[str, Any]] = []
        for s in batch:
            pid = s.programme_id or self._programme_id_on(conn, s.patient_id, s.day)
            rows.append(
                {
                    "session_id": s.session_id,
                    "patient_id": s.patient_id,
                    "day": s.day,
                    "started_at": s.started_at,
                    "ended_at": s.ended_at,
                    "programme_id": pid,
                    "pain_before": s.pain_before,
                    "pain_after": s.pain_after,
                    "notes": s.notes,
                    "red_flags": ",".join(s.red_flags),
                    "created_at": now,
                    "updated_at": now,
                    "done_items": S.done_items_text(s.items),
                }
            )
            items.extend({"session_id": s.session_id, **vars(it)} for it in s.items)
        conn.execute(sa.insert(S.sessions), rows)
        if items:
            conn.execute(sa.insert(S.session_items), items)

    def _refresh_day(self, conn: Connection, patient_id: str, day: dt.date) -> None:
        S.refresh_day(conn, patient_id, day)

    def _load_session(self, conn: Connection, session_id: str) -> Session | None:
        row = conn.execute(_Q.session, {"sid": session_id}).first()
        if row is None:
            return None
        items = conn.execute(_Q.session_items, {"sid": session_id}).all()
        return Session(
            row.session_id,
            row.patient_id,
            row.day,
            tuple(sorted((SessionItem(**r._mapping) for r in items), key=lambda i: i.exercise_id)),
            row.pain_before,
            row.pain_after,
            row.notes,
            tuple(f for f in row.red_flags.split(",") if f),
            row.started_at,
            row.ended_at,
            row.programme_id,
        )

    def get_session(self, session_id: str) -> Session:
        """The stored session with this id (raises NotFoundError)."""
        with self._read() as conn:
            s = self._load_session(conn, session_id)
        if s is None:
            raise NotFoundError("session_id", session_id)
        return s

    def delete_session(self, session_id: str) -> None:
        """Delete a session and its items (raises NotFoundError if absent)."""
        with self.transaction() as conn:
            s = self._load_session(conn, session_id)
            if s is None:
                raise NotFoundError("session_id", session_id)
            lock_patient(conn, s.patient_id)
            conn.execute(
                sa.delete(S.session_items).where(S.session_items.c.session_id == session_id)
            )
            conn.execute(sa.delete(S.sessions).where(S.sessions.c.session_id == session_id))
            self._refresh_day(conn, s.patient_id, s.day)

    # ---- pain scores and annotations ---------------------------------------------------
    def add_pain(
        self,
        patient_id: str,
        score: int,
        *,
        recorded_at: dt.datetime | None = None,
        context: str = "",
        day: dt.date | None = None,
        pain_id: str | None = None,
    ) -> str:
        """Record a pain score outside a session; the same pain_id twice is stored once."""
        check_id("patient_id", patient_id)
        pain_id = check_id("pain_id", pain_id if pain_id is not None else new_id())
        score = check_int("score", score, *PAIN_RANGE)
        context = check_choice("context", context, PAIN_CONTEXTS)
        recorded_at = check_datetime("recorded_at", recorded_at, optional=True) or _now()
        tz = self.patient_timezone(patient_id)
        day = check_date("day", day if day is not None else recorded_at.astimezone(tz).date())
        row = {
            "pain_id": pain_id,
            "patient_id": patient_id,
            "recorded_at": recorded_at,
            "day": day,
            "score": score,
            "context": context,
        }
        with self.transaction() as conn:
            self._require_patient(conn, patient_id)
            lock_patient(conn, patient_id)
            old = conn.execute(
                sa.select(S.pain_scores).where(S.pain_scores.c.pain_id == pain_id)
            ).first()
            if old is not None:
                if dict(old._mapping) != row:
                    raise ConflictError(
                        f"pain_id: {pain_id!r} is already saved with different content"
                    )
                return pain_id
            conn.execute(sa.insert(S.pain_scores).values(**row))
            S.add_to_day(
                conn, patient_id, day, sessions=0, items_done=0, pain=score, red_flag=False
            )
        return pain_id

    def add_annotation(
        self,
        patient_id: str,
        text: str,
        *,
        day: dt.date | None = None,
        author: str = "",
        kind: str = "note",
        annotation_id: str | None = None,
    ) -> str:
        """Add a dated note to the patient's timeline; one annotation_id is stored only once."""
        check_id("patient_id", patient_id)
        annotation_id = check_id(
            "annotation_id", annotation_id if annotation_id is not None else new_id()
        )
        text = check_text("text", text, max_len=ANNOTATION_CHARS, empty=False)
        author = check_text("author", author, max_len=NAME_CHARS)
        kind = check_choice("kind", kind, ANNOTATION_KINDS)
        day = check_date("day", day if day is not None else dt.date.today())
        with self.transaction() as conn:
            self._require_patient(conn, patient_id)
            a = S.annotations
            old = conn.execute(
                sa.select(a.c.patient_id, a.c.day, a.c.author, a.c.kind, a.c.text).where(
                    a.c.annotation_id == annotation_id
                )
            ).first()
            if old is not None and tuple(old) != (patient_id, day, author, kind, text):
                raise ConflictError(
                    f"annotation_id: {annotation_id!r} is already saved with different content"
                )
            if old is None:
                conn.execute(
                    sa.insert(S.annotations).values(
                        annotation_id=annotation_id,
                        patient_id=patient_id,
                        day=day,
                        author=author,
                        kind=kind,
                        text=text,
                        created_at=_now(),
                    )
                )
        return annotation_id

    # ---- questionnaires ----------------------------------------------------------------
    def save_questionnaire(
        self,
        patient_id: str,
        instrument: str,
        answers: Any,
        *,
        day: dt.date | None = None,
        recorded_at: dt.datetime | None = None,
        author: str = "",
        response_id: str | None = None,
        replace: bool = False,
    ) -> str:
        """Validate, score and save one questionnaire response in one transaction; its id.

        One response per patient, instrument and day: saving the same answers again (a double
        click, a retry, with any response_id) is a no-op returning the stored id; different
        answers for a day already answered raise ConflictError unless replace=True, which
        updates the stored response. The day defaults to the local date (patient's time zone)
        of recorded_at, which defaults to now. See domain.questionnaires for the answers."""
        check_id("patient_id", patient_id)
        check_bool("replace", replace)
        recorded_at = check_datetime("recorded_at", recorded_at, optional=True) or _now()
        if day is None:
            day = recorded_at.astimezone(self.patient_timezone(patient_id)).date()
        resp = validate_response(
            response_id=response_id if response_id is not None else new_id(),
            patient_id=patient_id,
            instrument=instrument,
            day=day,
            recorded_at=recorded_at,
            answers=answers,
            author=author,
        )
        try:
            return self._save_responses([resp], replace=replace)[0]
        except sa.exc.IntegrityError:
            # a concurrent writer inserted the same day first (PostgreSQL): the retry sees it
            return self._save_responses([resp], replace=replace)[0]

    def save_questionnaires(self, batch: Iterable[Response]) -> int:
        """Save many validated Responses (domain.questionnaires.validate_response) in one
        transaction; return how many were new. Already stored ones are skipped if identical
        and refused (ConflictError, nothing written) otherwise."""
        batch = list(batch)
        for r in batch:
            if not isinstance(r, Response):
                raise ValidationError("batch", r, "Response objects (see validate_response)")
        ids = self._save_responses(batch, replace=False, count_new=True)
        return len(ids)

    def _save_responses(
        self, batch: Sequence[Response], *, replace: bool, count_new: bool = False
    ) -> list[str]:
        """The ids of the batch as stored (or, with count_new, of the new rows only)."""
        q = S.questionnaire_responses
        out: list[str] = []
        keys = [(r.patient_id, r.instrument, r.day) for r in batch]
        if len(set(keys)) != len(keys) or len({r.response_id for r in batch}) != len(batch):
            raise ValidationError(
                "batch", "duplicate", "each response id, and each patient, instrument and day, once"
            )
        with self.transaction() as conn:
            pids = sorted({r.patient_id for r in batch})
            for pid in pids:
                self._require_patient(conn, pid)
                lock_patient(conn, pid)
            # what is stored for these patients, read once: by day and by id
            by_day: dict[tuple[str, str, dt.date], Any] = {}
            by_id: dict[str, Any] = {}
            for start in range(0, len(pids), 500):
                for got in conn.execute(
                    sa.select(
                        q.c.response_id,
                        q.c.patient_id,
                        q.c.instrument,
                        q.c.day,
                        q.c.answers,
                        q.c.author,
                    ).where(q.c.patient_id.in_(pids[start : start + 500]))
                ):
                    by_day[(got.patient_id, got.instrument, got.day)] = got
                    by_id[got.response_id] = got
            ids = [r.response_id for r in batch]
            for start in range(0, len(ids), 500):
                for got_id in conn.execute(
                    sa.select(q.c.response_id, q.c.patient_id, q.c.instrument, q.c.day).where(
                        q.c.response_id.in_(ids[start : start + 500])
                    )
                ):
                    by_id.setdefault(got_id.response_id, got_id)
            new: list[dict[str, Any]] = []
            for r in batch:
                row = {
                    "response_id": r.response_id,
                    "patient_id": r.patient_id,
                    "instrument": r.instrument,
                    "day": r.day,
                    "recorded_at": r.recorded_at,
                    "answers": answers_json(r.answers),
                    "score": r.score,
                    "author": r.author,
                }
                same_id = by_id.get(r.response_id)
                if same_id is not None and (
                    same_id.patient_id,
                    same_id.instrument,
                    same_id.day,
                ) != (r.patient_id, r.instrument, r.day):
                    raise ConflictError(
                        f"response_id: {r.response_id!r} is already saved for another patient, "
                        "questionnaire or day"
                    )
                old = by_day.get((r.patient_id, r.instrument, r.day))
                if old is None:
                    new.append(row)
                    out.append(r.response_id)
                    continue
                if (old.answers, old.author) == (row["answers"], row["author"]):
                    if not count_new:
                        out.append(old.response_id)
                    continue
                if not replace:
                    raise ConflictError(
                        f"day: {r.day.isoformat()} already has a different {r.instrument} "
                        f"response for {r.patient_id!r}; pass replace=True to update it"
                    )
                conn.execute(
                    sa.update(q)
                    .where(q.c.response_id == old.response_id)
                    .values({k: v for k, v in row.items() if k != "response_id"})
                )
                out.append(old.response_id)
            for start in range(0, len(new), 1000):
                conn.execute(sa.insert(q), new[start : start + 1000])
        return out

    def questionnaire_scores(self, end: DayBound = None) -> pd.DataFrame:
        """Every patient's questionnaire scores up to end: patient_id, instrument, day, score
        (read straight into numpy; what the clinic overview's questionnaire classes need)."""
        t = S.questionnaire_responses
        q = sa.select(
            t.c.patient_id, t.c.instrument, sa.type_coerce(t.c.day, sa.String), t.c.score
        ).where(_range(t, None, None, end))
        with self._read() as conn:
            c = _driver_columns(conn, q, 4)
        return pd.DataFrame(
            {
                "patient_id": pd.array(c[0], dtype="str"),
                "instrument": pd.array(c[1], dtype="str"),
                "day": _days(c[2]),
                "score": np.array(c[3], dtype=np.float64),
            }
        )

    def questionnaires(
        self, patient_id: str | None = None, start: DayBound = None, end: DayBound = None
    ) -> pd.DataFrame:
        """Questionnaire responses (store.frames READ_DTYPES['questionnaires']) for a patient
        and inclusive day range, ordered by patient, day and instrument."""
        t = S.questionnaire_responses
        q = sa.select(*[t.c[c] for c in READ_DTYPES["questionnaires"]]).where(
            _range(t, patient_id, start, end)
        )
        order = (t.c.patient_id, t.c.day, t.c.instrument, t.c.response_id)
        with self._read() as conn:
            return _typed_read(conn, q.order_by(*order), "questionnaires")

    # ---- readers -----------------------------------------------------------------------
    def sessions(
        self, patient_id: str | None = None, start: DayBound = None, end: DayBound = None
    ) -> pd.DataFrame:
        """Sessions (one row each) for a patient and inclusive day range, ordered by day."""
        s = S.sessions
        q = sa.select(*[s.c[c] for c in READ_DTYPES["sessions"]]).where(
            _range(s, patient_id, start, end)
        )
        order = (s.c.patient_id, s.c.day, s.c.started_at.asc().nulls_last(), s.c.session_id)
        with self._read() as conn:
            return _typed_read(conn, q.order_by(*order), "sessions")

    def items(
        self, patient_id: str | None = None, start: DayBound = None, end: DayBound = None
    ) -> pd.DataFrame:
        """Session items joined with their session's patient and day."""
        s, i = S.sessions, S.session_items
        q = (
            sa.select(
                i.c.session_id,
                s.c.patient_id,
                sa.type_coerce(s.c.day, sa.String),  # the driver's day: no per-row parse
                i.c.exercise_id,
                i.c.done,
                i.c.sets,
                i.c.reps,
                i.c.hold_s,
                i.c.minutes,
            )
            .select_from(s.join(i, i.c.session_id == s.c.session_id))
            .where(_range(s, patient_id, start, end))
            .order_by(s.c.patient_id, s.c.day, i.c.session_id, i.c.exercise_id)
        )
        with self._read() as conn:
            return _typed_read(conn, q, "items")

    def pain(
        self, patient_id: str | None = None, start: DayBound = None, end: DayBound = None
    ) -> pd.DataFrame:
        """Pain scores recorded outside sessions."""
        t = S.pain_scores
        q = sa.select(*[t.c[c] for c in READ_DTYPES["pain"]]).where(
            _range(t, patient_id, start, end)
        )
        with self._read() as conn:
            return _typed_read(
                conn, q.order_by(t.c.patient_id, t.c.recorded_at, t.c.pain_id), "pain"
            )

    def annotations(
        self, patient_id: str | None = None, start: DayBound = None, end: DayBound = None
    ) -> pd.DataFrame:
        """Timeline annotations, ordered by day then creation time."""
        t = S.annotations
        q = sa.select(*[t.c[c] for c in READ_DTYPES["annotations"]]).where(
            _range(t, patient_id, start, end)
        )
        order = (t.c.patient_id, t.c.day, t.c.created_at, t.c.annotation_id)
        with self._read() as conn:
            return _typed_read(conn, q.order_by(*order), "annotations")

    def daily(
        self, patient_id: str | None = None, start: DayBound = None, end: DayBound = None
    ) -> pd.DataFrame:
        """The per-patient per-day summary (sessions, items done, pain sum and count, red flags)."""
        t = S.daily_summary
        q = sa.select(*[t.c[c] for c in READ_DTYPES["daily"]]).where(
            _range(t, patient_id, start, end)
        )
        with self._read() as conn:
            return _typed_read(conn, q.order_by(t.c.patient_id, t.c.day), "daily")

    def patient_list(self) -> pd.DataFrame:
        """Every patient's id, name and time zone by id (no aggregates: cheap for a clinic)."""
        p = S.patients
        q = sa.select(p.c.patient_id, p.c.name, p.c.timezone).order_by(p.c.patient_id)
        with self._read() as conn:
            rows = conn.execute(q).all()
        return pd.DataFrame(
            {
                "patient_id": pd.array([r[0] for r in rows], dtype="str"),
                "name": pd.array([r[1] for r in rows], dtype="str"),
                "timezone": pd.array([r[2] for r in rows], dtype="str"),
            }
        )

    def done_items(
        self, start: DayBound, end: DayBound, patient_id: str | None = None
    ) -> pd.DataFrame:
        """One row per item ticked done in [start, end]: patient_id, day, exercise_id and the
        recorded reps, hold_s, minutes (float, NaN when not recorded).

        Read from the window's session rows (their done_items, written with each session)
        through the day index, never from the item rows."""
        return self.window_sessions(start, end, patient_id)[0]

    def window_sessions(
        self, start: DayBound, end: DayBound, patient_id: str | None = None
    ) -> tuple[pd.DataFrame, pd.DataFrame]:
        """(done_items, session_pain) of [start, end] from one read of the window's session
        rows (the clinic overview needs both)."""
        s = S.sessions
        q = sa.select(
            s.c.patient_id,
            sa.type_coerce(s.c.day, sa.String),
            s.c.done_items,
            s.c.pain_before,
            s.c.pain_after,
        ).where(_range(s, patient_id, start, end))
        with self._read() as conn:
            c = _driver_columns(conn, q, 5)
        patients, days = pa.array(c[0], type=pa.string()), _days(c[1])
        before = np.array(c[3], dtype=np.float64)  # None reads as NaN
        after = np.array(c[4], dtype=np.float64)
        scored = np.flatnonzero(~np.isnan(before) & ~np.isnan(after))
        pain = pd.DataFrame(
            {
                "patient_id": texts(patients.take(scored)),
                "day": days[scored],
                "pain_before": before[scored],
                "pain_after": after[scored],
            }
        )
        # split in Arrow (C), not per string in Python: about 50,000 items for 1,000 patients
        text = pa.array(c[2], type=pa.string())
        none_ticked = pc.equal(text, "")
        lists = pc.split_pattern(pc.if_else(none_ticked, pa.scalar(None, pa.string()), text), ",")
        session = pc.list_parent_indices(lists).to_numpy()
        fields = pc.split_pattern(pc.list_flatten(lists), ":")

        def field(i: int) -> pa.Array:
            return pc.list_element(fields, i)

        def dose(i: int) -> np.ndarray:
            text = field(i)
            valid = pc.if_else(pc.equal(text, ""), pa.scalar(None, pa.string()), text)
            out: np.ndarray = pc.cast(valid, pa.float64()).to_numpy(zero_copy_only=False)
            return out

        items = pd.DataFrame(
            {
                "patient_id": texts(patients.take(session)),
                "day": days[session],
                "exercise_id": texts(field(0)),
                **{f: dose(i + 1) for i, f in enumerate(S.DONE_ITEM_FIELDS)},
            }
        )
        return items, pain

    def done_counts(
        self, start: DayBound, end: DayBound, patient_id: str | None = None
    ) -> pd.DataFrame:
        """Items ticked done per (patient, day, exercise) in [start, end] (from done_items).

        Columns patient_id, day, exercise_id, done, ordered by the first three."""
        return count_done(self.done_items(start, end, patient_id))

    def dose_counts(
        self, start: DayBound, end: DayBound, patient_id: str | None = None
    ) -> pd.DataFrame:
        """Done items per (patient, day, exercise, recorded reps, hold_s, minutes) in [start,
        end] (from done_items): the recorded doses progression starts from. Columns
        patient_id, day, exercise_id, reps, hold_s, minutes (NaN when not recorded), n."""
        return count_doses(self.done_items(start, end, patient_id))

    def daily_sums(
        self,
        start: DayBound = None,
        end: DayBound = None,
        *,
        scored_only: bool = False,
        from_anchor: int | None = None,
        patients: Sequence[str] | None = None,
    ) -> pd.DataFrame:
        """daily_summary rows as plain columns (patient_id, day, pain_sum, pain_n, sessions,
        red_flag_sessions), read straight into numpy, ordered by patient and day.

        Rows of [start, end] (through the day index); scored_only keeps days with a pain
        score; patients limits the read to those ids. With from_anchor=N, only the rows of
        the N days from each patient's anchor (their first programme's start, else their
        first score), read by primary-key ranges."""
        d = S.daily_summary
        # the day as the driver returns it (ISO text on SQLite, date on PostgreSQL): no
        # per-row conversion through SQLAlchemy's Date type
        cols = (
            d.c.patient_id,
            sa.type_coerce(d.c.day, sa.String),
            d.c.pain_sum,
            d.c.pain_n,
            d.c.sessions,
            d.c.red_flag_sessions,
        )
        where: list[sa.ColumnElement[bool]] = [_range(d, None, start, end)]
        if scored_only:
            where.append(d.c.pain_n > 0)
        if patients is not None:
            where.append(d.c.patient_id.in_(list(patients)))
        if from_anchor is None:
            q = sa.select(*cols).where(*where)
        else:
            pt, pr = S.patients.c.patient_id, S.programmes
            d2 = d.alias("d2")
            first_programme = (
                sa.select(sa.func.min(pr.c.valid_from))
                .where(pr.c.patient_id == pt)
                .scalar_subquery()
            )
            # the first scored day, as the primary key's first match (min() with a filter
            # would read all of the patient's days)
            first_score = (
                sa.select(d2.c.day)
                .where(d2.c.patient_id == pt, d2.c.pain_n > 0)
                .order_by(d2.c.day)
                .limit(1)
                .scalar_subquery()
            )
            anchors = sa.select(
                pt.label("pid"), sa.func.coalesce(first_programme, first_score).label("a")
            )
        with self._read() as conn:
            if from_anchor is not None:
                if conn.dialect.name == "sqlite":
                    # The patient count as the anchors' LIMIT (the same snapshot: one row per
                    # patient) gives SQLite a row estimate; without one it builds a Bloom
                    # filter by scanning every daily_summary row first (70 ms of 150 on
                    # 1,000 x 365), to skip patients that all have rows anyway.
                    n = conn.execute(sa.select(sa.func.count()).select_from(S.patients))
                    anchors = anchors.limit(sa.literal_column(str(int(n.scalar_one()))))
                # MATERIALIZED: else SQLite inlines it, once per row it scans
                cte = anchors.cte("anchors").prefix_with("MATERIALIZED")
                q = (
                    sa.select(*cols)
                    .select_from(cte.join(d, d.c.patient_id == cte.c.pid))
                    .where(
                        d.c.day >= cte.c.a,
                        d.c.day <= S.days_after(cte.c.a, from_anchor - 1),
                        *where,
                    )
                )
            c = _driver_columns(conn, q, 6)
        patient, day = texts(c[0]), _days(c[1])
        # ordered by patient and day in numpy (codes of the sorted ids), not by a text sort
        order = np.lexsort((day, pd.factorize(pd.Series(patient, copy=False), sort=True)[0]))
        return pd.DataFrame(
            {
                "patient_id": patient.take(order),
                "day": day[order],
                **{
                    name: np.array(v, dtype=np.int64)[order]
                    for name, v in zip(
                        ("pain_sum", "pain_n", "sessions", "red_flag_sessions"), c[2:], strict=True
                    )
                },
            }
        )

    def session_pain(self, start: DayBound, end: DayBound) -> pd.DataFrame:
        """Every patient's sessions of [start, end] with both pain scores: patient_id, day,
        pain_before, pain_after (read straight into numpy through the day index)."""
        return self.window_sessions(start, end)[1]

    def last_session_days(self) -> pd.DataFrame:
        """Every patient's id, name and last day with a session (NaT if none), a seek each."""
        p, d = S.patients, S.daily_summary
        last = (
            sa.select(sa.func.max(d.c.day))
            .where(d.c.patient_id == p.c.patient_id, d.c.sessions > 0)
            .scalar_subquery()
        )
        q = sa.select(p.c.patient_id, p.c.name, sa.type_coerce(last, sa.String)).order_by(
            p.c.patient_id
        )
        with self._read() as conn:
            c = _driver_columns(conn, q, 3)
        return pd.DataFrame(
            {
                "patient_id": texts(c[0]),
                "name": texts(c[1]),
                "last_session": _days(c[2]),
            }
        )

    # ---- bulk --------------------------------------------------------------------------
    def save_sessions(self, batch: Iterable[Session], *, on_existing: str = "skip") -> int:
        """Insert many validated Sessions in one transaction; return how many were new.

        Sessions whose id is already stored are skipped if identical and refused
        (ConflictError, nothing written) otherwise."""
        check_choice("on_existing", on_existing, ("skip",))
        batch = list(batch)
        for s in batch:
            if not isinstance(s, Session):
                raise ValidationError("batch", s, "Session objects (see validate_session)")
        with self.transaction() as conn:
            for pid in sorted({s.patient_id for s in batch}):
                self._require_patient(conn, pid)
                lock_patient(conn, pid)
            new = []
            for chunk_start in range(0, len(batch), 500):
                chunk = batch[chunk_start : chunk_start + 500]
                have = set(
                    conn.execute(
                        sa.select(S.sessions.c.session_id).where(
                            S.sessions.c.session_id.in_([s.session_id for s in chunk])
                        )
                    ).scalars()
                )
                for s in chunk:
                    if s.session_id in have:
                        if self._load_session(conn, s.session_id) != s:
                            raise ConflictError(
                                f"session_id: {s.session_id!r} is already saved "
                                "with different content"
                            )
                    else:
                        new.append(s)
            if len({s.session_id for s in new}) != len(new):
                raise ValidationError(
                    "batch.session_id", "duplicate", "each session id once per batch"
                )
            if new:
                self._insert_sessions(conn, new)
                for pid in {s.patient_id for s in new}:
                    days = sorted({s.day for s in new if s.patient_id == pid})
                    S.refresh_summary(conn, _days_of(pid, days[0], days[-1]))
        return len(new)

    # ---- erasing -----------------------------------------------------------------------
    def erase_patient(self, patient_id: str, *, dry_run: bool = False) -> dict[str, int]:
        """Delete every row of a patient in one transaction; return rows removed per table
        (with dry_run, count what would be removed and write nothing).

        The tables come from the schema (S.patient_tables): every table with a patient_id
        column and every table whose rows hang off one of those by a foreign key, so a table
        added later is erased too. On SQLite, deleted content is overwritten (secure_delete)
        and the write-ahead log is checkpointed afterwards, so the rows do not linger in the
        file. Raises NotFoundError (nothing written) for an unknown patient."""
        check_id("patient_id", patient_id)
        removed: dict[str, int] = {}
        if dry_run:
            with self._read() as conn:
                self._require_patient(conn, patient_id)
                for table, where in S.patient_tables(patient_id):
                    count = sa.select(sa.func.count()).select_from(table).where(where)
                    removed[table.name] = conn.execute(count).scalar_one()
            return removed
        with self.transaction() as conn:
            self._require_patient(conn, patient_id)
            lock_patient(conn, patient_id)
            if self.is_sqlite:
                conn.exec_driver_sql("PRAGMA secure_delete = ON")
            for table, where in S.patient_tables(patient_id):
                removed[table.name] = conn.execute(sa.delete(table).where(where)).rowcount
        if self.is_sqlite:
            with self.engine.connect() as conn:
                conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        return removed


def _days_of(patient_id: str, first: dt.date, last: dt.date) -> S.RowFilter:
    """A filter for one patient's rows from first to last (inclusive)."""

    def where(t: sa.Table) -> sa.ColumnElement[bool]:
        return sa.and_(t.c.patient_id == patient_id, t.c.day >= first, t.c.day <= last)

    return where


SQLITE_CACHE_KIB = 65536  # grows only as pages are read; see docs/performance.md


def _configure_sqlite(engine: Engine) -> None:
    @sa.event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:  # pragma: no cover - every test
        dbapi_conn.isolation_level = None  # we emit BEGIN ourselves (see _on_begin)
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA busy_timeout = 30000")
        cur.execute("PRAGMA journal_mode = WAL")
        cur.execute("PRAGMA synchronous = FULL")
        cur.execute("PRAGMA foreign_keys = ON")
        # a page cache of up to SQLITE_CACHE_KIB per connection (SQLite's default is 2 MiB):
        # clinic-wide reads revisit the summary pages of every patient
        cur.execute(f"PRAGMA cache_size = -{SQLITE_CACHE_KIB}")
        cur.close()

    @sa.event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:  # pragma: no cover
        # Writers take the write lock up front, so concurrent writers queue on busy_timeout
        # instead of failing with "database is locked" when upgrading a read lock.
        immediate = conn.get_execution_options().get("backcare_write")
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def make_engine(url: str) -> Engine:
    """An Engine for url with backcare's connection settings (SQLite: WAL, FULL sync, FKs).

    Refuses (ValidationError, nothing created) a URL of another backend and a SQLite URL naming
    a file that is not a SQLite database."""
    check_db_url("db", url)
    if url.startswith("sqlite"):
        sa_url = sa.make_url(url)
        if sa_url.database and sa_url.database != ":memory:":
            _check_sqlite_file(url, Path(sa_url.database))
            # owner-only from the start: SQLite gives -wal, -shm and -journal the file's mode
            folder = Path(sa_url.database).parent
            private_dir(folder)
            if touch_private(sa_url.database) and folder.resolve() == DEFAULT_PATH.parent.resolve():
                # the checkout's data/ folder comes from git (0755), not from backcare
                restrict_dir(folder)
        engine = sa.create_engine(url, connect_args={"timeout": 30})
        _configure_sqlite(engine)
        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return sa.create_engine(url, pool_pre_ping=True)


SQLITE_HEADER = b"SQLite format 3\x00"  # the first 16 bytes of every SQLite database file


def _check_sqlite_file(url: str, path: Path) -> None:
    """ValidationError unless path is absent, empty, or a SQLite database file."""
    allowed = "a SQLite database file, or a new file name in an existing or new folder"
    if path.is_dir():
        raise ValidationError("db", url, f"{allowed} ({path} is a folder)")
    try:
        with path.open("rb") as f:
            head = f.read(len(SQLITE_HEADER))
    except FileNotFoundError:
        return
    except OSError as exc:
        raise ValidationError("db", url, f"{allowed} ({exc.strerror})") from None
    if head and head != SQLITE_HEADER:
        raise ValidationError("db", url, f"{allowed} ({path} is not a SQLite database)")


def open_store(
    url: str | None = None, *, catalog: Catalog | None = None, upgrade: bool = True
) -> Store:
    """Open (creating or upgrading in place) the store at url, BACKCARE_DB or data/backcare.db.

    upgrade=False (the read-only notebooks) neither creates nor upgrades anything, and
    refuses a store of an older schema version with a message saying how to upgrade it."""
    engine = make_engine(url or default_url())
    store = Store(engine, catalog)
    if not upgrade:
        with store._read() as conn:
            found = S.stored_version(conn)
        if 0 < found < S.SCHEMA_VERSION:
            engine.dispose()
            raise BackcareError(
                f"store: schema version {found} is older than this backcare's "
                f"{S.SCHEMA_VERSION} and this view never upgrades; run any backcare command "
                "on it once (e.g. `backcare patients`), which upgrades it in place"
            )
    if upgrade:
        with store.transaction() as conn:
            if engine.dialect.name == "postgresql":
                conn.exec_driver_sql("SELECT pg_advisory_xact_lock(727274)")
            S.migrate(conn)
        if engine.dialect.name == "sqlite" and not _has_statistics(store):
            store.optimize()  # a store written before statistics were kept: once
    return store


def _has_statistics(store: Store) -> bool:
    """True when the SQLite store holds planner statistics (sqlite_stat1)."""
    with store.transaction() as conn:
        found = conn.exec_driver_sql(
            "SELECT count(*) FROM sqlite_master WHERE name = 'sqlite_stat1'"
        ).scalar()
    return bool(found)
