"""The store's tables (SQLAlchemy Core) and its versioned, in-place migrations.

Version history
- 1: patients, programmes, programme_items, sessions, session_items, pain_scores,
     annotations, meta.
- 2: daily_summary, a per-patient per-day summary kept up to date on every write
     (the clinic overview reads it instead of millions of item rows); backfilled on upgrade.
- 3: indexes on sessions(day) and daily_summary(day) for clinic-wide reads of a recent
     window across all patients.
- 4: sessions.done_items, the session's items ticked done with their recorded doses
     (see done_items_text), written with the session; the clinic overview counts done and
     reads recorded doses per patient, day and exercise from the window's session rows
     instead of looking up every item row. Backfilled from session_items on upgrade.
- 5: questionnaire_responses (RMDQ, PSFS, GROC answers with their score; one response per
     patient, instrument and day), created empty on upgrade.
- 6: daily_summary laid out for its two reads (docs/performance.md, "The clinic
     overview"): on SQLite a WITHOUT ROWID table clustered by its key (patient_id, day),
     so that one patient's days are one range of pages; and, on both backends, the index
     on day replaced by a covering index (day, patient_id and the columns the clinic
     reads), so that a window of days across all patients is read from one range of index
     pages without visiting the table. Rebuilt in place on upgrade (SQLite), rows kept.
- 7: PostgreSQL only: row-level security (store.row_security): the store_roles table and
     policies limiting a hub user's database role to its patient's rows (or, for a clinic
     role, every row). Nothing changes on SQLite, nor for the tables' owner.
"""

# No `from __future__ import annotations` here: type checkers would take the `annotations`
# table below for that import's name.
import datetime as dt
import functools
from collections.abc import Callable, Iterable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler

SCHEMA_VERSION = 7

# A filter built for a table, e.g. lambda t: t.c.patient_id == "p1" (used on several tables).
RowFilter = Callable[[sa.Table], sa.ColumnElement[bool]]


class UTCDateTime(sa.types.TypeDecorator[dt.datetime]):
    """Aware datetimes stored as naive UTC; read back as aware UTC on every backend."""

    impl = sa.DateTime
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(dt.UTC).replace(tzinfo=None)

    def process_result_value(self, value: Any | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        stored: dt.datetime = value
        return stored.replace(tzinfo=dt.UTC)


class days_after(sa.sql.expression.FunctionElement[dt.date]):
    """SQL for `date_column + n days` on SQLite and PostgreSQL (n an int, may be negative)."""

    type = sa.Date()
    inherit_cache = True
    name = "days_after"


@compiles(days_after, "sqlite")
def _days_after_sqlite(element: days_after, compiler: SQLCompiler, **kw: Any) -> str:
    col, n = list(element.clauses)
    return f"date({compiler.process(col, **kw)}, printf('%+d days', {compiler.process(n, **kw)}))"


@compiles(days_after)
@compiles(days_after, "postgresql")
def _days_after_pg(element: days_after, compiler: SQLCompiler, **kw: Any) -> str:
    col, n = list(element.clauses)
    return f"({compiler.process(col, **kw)} + CAST({compiler.process(n, **kw)} AS INTEGER))"


metadata = sa.MetaData()

meta = sa.Table(
    "meta",
    metadata,
    sa.Column("key", sa.String(64), primary_key=True),
    sa.Column("value", sa.String(256), nullable=False),
)

patients = sa.Table(
    "patients",
    metadata,
    sa.Column("patient_id", sa.String(64), primary_key=True),
    sa.Column("name", sa.String(200), nullable=False, default=""),
    sa.Column("timezone", sa.String(64), nullable=False, default="UTC"),
    sa.Column("created_at", UTCDateTime, nullable=False),
)

programmes = sa.Table(
    "programmes",
    metadata,
    sa.Column("programme_id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("patient_id", sa.String(64), sa.ForeignKey("patients.patient_id"), nullable=False),
    sa.Column("valid_from", sa.Date, nullable=False),
    sa.Column("author", sa.String(200), nullable=False, default=""),
    sa.Column("note", sa.Text, nullable=False, default=""),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Index("ix_programmes_patient_from", "patient_id", "valid_from"),
)

programme_items = sa.Table(
    "programme_items",
    metadata,
    sa.Column(
        "programme_id",
        sa.Integer,
        sa.ForeignKey("programmes.programme_id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("position", sa.Integer, nullable=False),
    sa.Column("exercise_id", sa.String(64), primary_key=True),
    sa.Column("sets", sa.Integer, nullable=False),
    sa.Column("reps", sa.Integer),
    sa.Column("hold_s", sa.Integer),
    sa.Column("minutes", sa.Integer),
    sa.Column("each_side", sa.Boolean, nullable=False),
    sa.Column("times_per_week", sa.Integer, nullable=False),
)

sessions = sa.Table(
    "sessions",
    metadata,
    sa.Column("session_id", sa.String(64), primary_key=True),
    sa.Column("patient_id", sa.String(64), sa.ForeignKey("patients.patient_id"), nullable=False),
    sa.Column("day", sa.Date, nullable=False),
    sa.Column("started_at", UTCDateTime),
    sa.Column("ended_at", UTCDateTime),
    sa.Column("programme_id", sa.Integer, sa.ForeignKey("programmes.programme_id")),
    sa.Column("pain_before", sa.SmallInteger),
    sa.Column("pain_after", sa.SmallInteger),
    sa.Column("notes", sa.Text, nullable=False, default=""),
    sa.Column("red_flags", sa.String(256), nullable=False, default=""),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    # version 4: derived from session_items (see done_items_text), never edited alone
    sa.Column("done_items", sa.Text, nullable=False, default="", server_default=""),
    sa.Index("ix_sessions_patient_day", "patient_id", "day"),
)

session_items = sa.Table(
    "session_items",
    metadata,
    sa.Column(
        "session_id",
        sa.String(64),
        sa.ForeignKey("sessions.session_id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("exercise_id", sa.String(64), primary_key=True),
    sa.Column("done", sa.Boolean, nullable=False),
    sa.Column("sets", sa.Integer),
    sa.Column("reps", sa.Integer),
    sa.Column("hold_s", sa.Integer),
    sa.Column("minutes", sa.Integer),
)

pain_scores = sa.Table(
    "pain_scores",
    metadata,
    sa.Column("pain_id", sa.String(64), primary_key=True),
    sa.Column("patient_id", sa.String(64), sa.ForeignKey("patients.patient_id"), nullable=False),
    sa.Column("recorded_at", UTCDateTime, nullable=False),
    sa.Column("day", sa.Date, nullable=False),
    sa.Column("score", sa.SmallInteger, nullable=False),
    sa.Column("context", sa.String(64), nullable=False, default=""),
    sa.Index("ix_pain_patient_day", "patient_id", "day"),
)

annotations = sa.Table(
    "annotations",
    metadata,
    sa.Column("annotation_id", sa.String(64), primary_key=True),
    sa.Column("patient_id", sa.String(64), sa.ForeignKey("patients.patient_id"), nullable=False),
    sa.Column("day", sa.Date, nullable=False),
    sa.Column("author", sa.String(200), nullable=False),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Index("ix_annotations_patient_day", "patient_id", "day"),
)

# --- version 2 ---------------------------------------------------------------------------
daily_summary = sa.Table(
    "daily_summary",
    metadata,
    sa.Column("patient_id", sa.String(64), sa.ForeignKey("patients.patient_id"), primary_key=True),
    sa.Column("day", sa.Date, primary_key=True),
    sa.Column("sessions", sa.Integer, nullable=False),
    sa.Column("items_done", sa.Integer, nullable=False),
    sa.Column("pain_sum", sa.Integer, nullable=False),
    sa.Column("pain_n", sa.Integer, nullable=False),
    sa.Column("red_flag_sessions", sa.Integer, nullable=False),
    # SQLite: the rows stored in key order, no rowid table beside the key's index (v6)
    sqlite_with_rowid=False,
)

# --- version 3 ---------------------------------------------------------------------------
# Plain DDL (valid on SQLite and PostgreSQL) so that creating the version-1 tables never
# creates these early.
V3_INDEXES = {
    "ix_sessions_day": "CREATE INDEX IF NOT EXISTS ix_sessions_day ON sessions (day)",
    "ix_daily_summary_day": (
        "CREATE INDEX IF NOT EXISTS ix_daily_summary_day ON daily_summary (day)"
    ),
}

# --- version 5 ---------------------------------------------------------------------------
questionnaire_responses = sa.Table(
    "questionnaire_responses",
    metadata,
    sa.Column("response_id", sa.String(64), primary_key=True),
    sa.Column("patient_id", sa.String(64), sa.ForeignKey("patients.patient_id"), nullable=False),
    sa.Column("instrument", sa.String(16), nullable=False),
    sa.Column("day", sa.Date, nullable=False),
    sa.Column("recorded_at", UTCDateTime, nullable=False),
    sa.Column("answers", sa.Text, nullable=False),  # canonical JSON (domain.questionnaires)
    sa.Column("score", sa.Float, nullable=False),
    sa.Column("author", sa.String(200), nullable=False, default=""),
    # a double click, a retry or a second entry the same day cannot add a second row
    sa.UniqueConstraint("patient_id", "instrument", "day", name="uq_questionnaire_day"),
)

V1_TABLES = (
    meta,
    patients,
    programmes,
    programme_items,
    sessions,
    session_items,
    pain_scores,
    annotations,
)


def patient_tables(patient_id: str) -> list[tuple[sa.Table, sa.ColumnElement[bool]]]:
    """(table, filter) for every row of a patient, children before parents (delete order).

    Derived from the metadata: a table with a patient_id column is filtered on it; a table
    without one whose foreign key points at such a table is filtered on the parent's key
    (programme_items through programmes, session_items through sessions). Tables holding no
    patient data (meta) are left out."""
    direct: dict[str, sa.ColumnElement[bool]] = {}
    for table in metadata.sorted_tables:
        if "patient_id" in table.c:
            direct[table.name] = table.c.patient_id == patient_id
    found: dict[str, sa.ColumnElement[bool]] = dict(direct)
    for table in metadata.sorted_tables:
        if table.name in found:
            continue
        for fk in table.foreign_keys:
            parent = fk.column.table
            if parent.name in direct and parent.name != "patients":
                owned = sa.select(fk.column).where(direct[parent.name])
                found[table.name] = fk.parent.in_(owned)
                break
    ordered = [t for t in reversed(metadata.sorted_tables) if t.name in found]
    return [(t, found[t.name]) for t in ordered]


def summary_select(where: RowFilter | None = None) -> "sa.Select[Any]":
    """SELECT producing daily_summary rows from sessions, items and pain scores.

    Daily pain = every pain observation of the day that is not an after-session score:
    sessions' pain_before plus standalone pain scores.
    """
    n_done = (
        sa.select(sa.func.count())
        .where(session_items.c.session_id == sessions.c.session_id, session_items.c.done)
        .scalar_subquery()
    )  # correlated: uses the items' primary key, never scans the whole table
    s_rows = sa.select(
        sessions.c.patient_id,
        sessions.c.day,
        sa.literal(1).label("n_sessions"),
        n_done.label("n_done"),
        sa.func.coalesce(sessions.c.pain_before, 0).label("p_sum"),
        sa.case((sessions.c.pain_before.is_(None), 0), else_=1).label("p_n"),
        sa.case((sessions.c.red_flags == "", 0), else_=1).label("n_flags"),
    )
    p_rows = sa.select(
        pain_scores.c.patient_id,
        pain_scores.c.day,
        sa.literal(0).label("n_sessions"),
        sa.literal(0).label("n_done"),
        pain_scores.c.score.label("p_sum"),
        sa.literal(1).label("p_n"),
        sa.literal(0).label("n_flags"),
    )
    if where is not None:
        s_rows = s_rows.where(where(sessions))
        p_rows = p_rows.where(where(pain_scores))
    u = sa.union_all(s_rows, p_rows).subquery()
    return sa.select(
        u.c.patient_id,
        u.c.day,
        sa.func.sum(u.c.n_sessions),
        sa.func.sum(u.c.n_done),
        sa.func.sum(u.c.p_sum),
        sa.func.sum(u.c.p_n),
        sa.func.sum(u.c.n_flags),
    ).group_by(u.c.patient_id, u.c.day)


def refresh_summary(conn: Connection, where: RowFilter) -> None:
    """Recompute daily_summary rows matching where(table) (a callable building a filter)."""
    conn.execute(sa.delete(daily_summary).where(where(daily_summary)))
    conn.execute(
        sa.insert(daily_summary).from_select(
            [
                "patient_id",
                "day",
                "sessions",
                "items_done",
                "pain_sum",
                "pain_n",
                "red_flag_sessions",
            ],
            summary_select(where),
        )
    )


@functools.cache
def _day_statements() -> tuple[sa.Delete, sa.Insert]:
    def one_day(t: sa.Table) -> sa.ColumnElement[bool]:
        return sa.and_(t.c.patient_id == sa.bindparam("pid"), t.c.day == sa.bindparam("day"))

    delete = sa.delete(daily_summary).where(one_day(daily_summary))
    insert = sa.insert(daily_summary).from_select(
        ["patient_id", "day", "sessions", "items_done", "pain_sum", "pain_n", "red_flag_sessions"],
        summary_select(one_day),
    )
    return delete, insert


def add_to_day(
    conn: Connection,
    patient_id: str,
    day: dt.date,
    *,
    sessions: int,
    items_done: int,
    pain: int | None,
    red_flag: bool,
) -> None:
    """Add one new record's counts to its daily_summary row in a single upsert.

    Equivalent to refresh_day after inserting a new session or pain score (a test checks
    it), without re-aggregating the day."""
    values = {
        "patient_id": patient_id,
        "day": day,
        "sessions": sessions,
        "items_done": items_done,
        "pain_sum": pain or 0,
        "pain_n": 0 if pain is None else 1,
        "red_flag_sessions": int(red_flag),
    }
    conn.execute(_upsert_statement(conn.dialect.name), values)


_SUMMED = ("sessions", "items_done", "pain_sum", "pain_n", "red_flag_sessions")


@functools.cache
def _upsert_statement(dialect: str) -> sa.Insert:
    """INSERT ... ON CONFLICT (patient_id, day) DO UPDATE adding the counts, once per dialect."""
    from sqlalchemy.dialects import postgresql, sqlite

    insert: Callable[[sa.Table], postgresql.Insert | sqlite.Insert] = (
        postgresql.insert if dialect == "postgresql" else sqlite.insert
    )
    stmt = insert(daily_summary).values(
        {c.name: sa.bindparam(c.name) for c in daily_summary.columns}
    )
    return stmt.on_conflict_do_update(
        index_elements=[daily_summary.c.patient_id, daily_summary.c.day],
        set_={c: daily_summary.c[c] + stmt.excluded[c] for c in _SUMMED},
    )


def refresh_day(conn: Connection, patient_id: str, day: dt.date) -> None:
    """Recompute one patient-day of daily_summary (statements built once, then cached)."""
    delete, insert = _day_statements()
    conn.execute(delete, {"pid": patient_id, "day": day})
    conn.execute(insert, {"pid": patient_id, "day": day})


def _to_v1(conn: Connection) -> None:
    for table in V1_TABLES:
        table.create(conn, checkfirst=True)


def _to_v2(conn: Connection) -> None:
    # the table as version 2 laid it out (a rowid table on SQLite); version 6 rebuilds it
    v2 = sa.MetaData()
    patients.to_metadata(v2)  # the table its foreign key names
    as_in_v2 = daily_summary.to_metadata(v2)
    as_in_v2.dialect_options["sqlite"]["with_rowid"] = True
    as_in_v2.create(conn, checkfirst=True)
    refresh_summary(conn, lambda t: sa.true())


def _to_v3(conn: Connection) -> None:
    for ddl in V3_INDEXES.values():
        conn.exec_driver_sql(ddl)


DONE_ITEM_FIELDS = ("reps", "hold_s", "minutes")  # the doses kept in done_items


def done_items_text(items: Iterable[Any]) -> str:
    """sessions.done_items for a session: each item ticked done as
    'exercise_id:reps:hold_s:minutes' (empty where not recorded), comma-separated, in no
    particular order (readers treat it as a set). items: objects or mappings with those
    fields and done."""
    parts = []
    for it in items:
        if isinstance(it, dict):
            done, ex = it.get("done"), it.get("exercise_id")
            reps, hold_s, minutes = it.get("reps"), it.get("hold_s"), it.get("minutes")
        else:
            done, ex, reps, hold_s, minutes = (
                it.done,
                it.exercise_id,
                it.reps,
                it.hold_s,
                it.minutes,
            )
        if done:  # the fields of DONE_ITEM_FIELDS, in its order
            parts.append(f"{ex}:{_whole(reps)}:{_whole(hold_s)}:{_whole(minutes)}")
    return ",".join(sorted(parts))


def _whole(value: Any) -> str:
    return "" if value is None else str(int(value))


def _to_v4(conn: Connection) -> None:
    if "done_items" not in {c["name"] for c in sa.inspect(conn).get_columns("sessions")}:
        conn.exec_driver_sql("ALTER TABLE sessions ADD COLUMN done_items TEXT NOT NULL DEFAULT ''")
    i = session_items
    one: sa.ColumnElement[Any] = i.c.exercise_id
    for f in DONE_ITEM_FIELDS:
        one = one + ":" + sa.func.coalesce(sa.cast(i.c[f], sa.Text), "")
    joined = (
        sa.select(sa.func.aggregate_strings(one, ","))
        .where(i.c.session_id == sessions.c.session_id, i.c.done)
        .scalar_subquery()
    )
    conn.execute(sa.update(sessions).values(done_items=sa.func.coalesce(joined, "")))


def _to_v5(conn: Connection) -> None:
    questionnaire_responses.create(conn, checkfirst=True)


# --- version 6 ---------------------------------------------------------------------------
# The clinic's window read (Store.daily_sums over a range of days, every patient) finds
# every column it reads in this index: one range of index pages, no table lookups.
WINDOW_INDEX = "ix_daily_summary_window"
WINDOW_INDEX_DDL = (
    f"CREATE INDEX IF NOT EXISTS {WINDOW_INDEX} ON daily_summary "
    "(day, patient_id, pain_sum, pain_n, sessions, red_flag_sessions)"
)


def _to_v6(conn: Connection) -> None:
    if conn.dialect.name == "sqlite" and not _without_rowid(conn, "daily_summary"):
        # a table's rowid layout cannot be altered: copy the rows into the new table
        conn.exec_driver_sql("ALTER TABLE daily_summary RENAME TO daily_summary_v5")
        daily_summary.create(conn)
        names = ", ".join(c.name for c in daily_summary.columns)
        conn.exec_driver_sql(
            f"INSERT INTO daily_summary ({names}) SELECT {names} FROM daily_summary_v5 "  # noqa: S608
            "ORDER BY patient_id, day"
        )
        conn.exec_driver_sql("DROP TABLE daily_summary_v5")  # and its index on day
    conn.exec_driver_sql("DROP INDEX IF EXISTS ix_daily_summary_day")
    conn.exec_driver_sql(WINDOW_INDEX_DDL)
    conn.exec_driver_sql("ANALYZE daily_summary")  # the planner learns the new index


def _without_rowid(conn: Connection, table: str) -> bool:
    """Whether SQLite stores table WITHOUT ROWID (its key is then its only b-tree)."""
    sql = conn.exec_driver_sql(
        "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)
    ).scalar()
    return "WITHOUT ROWID" in str(sql).upper()


# --- version 7 ---------------------------------------------------------------------------
def _to_v7(conn: Connection) -> None:
    from backcare.store import row_security

    row_security.apply(conn)


MIGRATIONS = {1: _to_v1, 2: _to_v2, 3: _to_v3, 4: _to_v4, 5: _to_v5, 6: _to_v6, 7: _to_v7}


def stored_version(conn: Connection) -> int:
    """The schema version of the store behind conn (0 for an empty database)."""
    if not sa.inspect(conn).has_table("meta"):
        return 0
    value = conn.execute(sa.select(meta.c.value).where(meta.c.key == "schema_version")).scalar()
    return int(value) if value is not None else 0


def migrate(conn: Connection, target: int = SCHEMA_VERSION) -> tuple[int, int]:
    """Bring the store up to target in the caller's transaction; return (from, to)."""
    from backcare.errors import BackcareError

    current = stored_version(conn)
    if current > SCHEMA_VERSION:
        raise BackcareError(
            f"this store has schema version {current}, newer than this backcare "
            f"(version {SCHEMA_VERSION}); upgrade backcare to open it"
        )
    for version in range(current + 1, target + 1):
        MIGRATIONS[version](conn)
        conn.execute(sa.delete(meta).where(meta.c.key == "schema_version"))
        conn.execute(sa.insert(meta).values(key="schema_version", value=str(version)))
    return current, max(current, target)
