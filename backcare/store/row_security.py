"""PostgreSQL row-level security: a hub user's database role reads and writes only what its
account allows, whatever code runs in that user's kernel.

The schema upgrade to version 7 (``apply``, idempotent) enables row-level security on every
table holding patient rows and gives each two permissive policies:

- ``backcare_patient``: rows whose patient_id is the patient that ``store_roles`` maps the
  connecting role (``current_user``) to;
- ``backcare_clinic``: every row, for a role ``store_roles`` marks as a clinic role.

A table without a patient_id whose rows belong to a parent row (programme_items through
programmes, session_items through sessions) shows a role the rows whose parent it can see.
``store_roles`` itself shows each role its own row only. The owner of the tables (the role
backcare's commands and the hub connect as) is not subject to the policies (no FORCE), nor
is a superuser: nothing changes for them.

A role is made per hub account (``create_role``), NOLOGIN and without a password; the hub
gives it a fresh password when it starts that user's server (``open_login``) and takes it
away again when the server stops (``close_login``). What a role may write is set by table
privileges: a patient's role writes sessions, their items, pain scores, the daily summary and
questionnaires; a clinic role writes everything but the role table. Roles are global to a
PostgreSQL cluster, so their names start with a prefix made once per store (meta
``role_prefix``): two stores in one cluster never share a role.

SQLite has no roles: there the hub is the only wall (docs/deploy.md)."""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator
from typing import Literal

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from backcare.errors import BackcareError, ValidationError
from backcare.store import schema as S

Kind = Literal["patient", "clinic"]
KINDS: tuple[Kind, ...] = ("patient", "clinic")

# Kept out of schema.metadata on purpose: bundles, erase and the table list of every other
# feature derive from that metadata, and this table holds no patient data of its own.
role_metadata = sa.MetaData()
store_roles = sa.Table(
    "store_roles",
    role_metadata,
    sa.Column("role_name", sa.String(63), primary_key=True),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column(
        "patient_id",
        sa.String(64),
        # erasing a patient removes the mapping: their role then sees nothing
        sa.ForeignKey(S.patients.c.patient_id, ondelete="CASCADE"),
    ),
    sa.CheckConstraint(
        "(kind = 'patient' AND patient_id IS NOT NULL) OR (kind = 'clinic' AND patient_id IS NULL)",
        name="ck_store_roles_kind",
    ),
)

# what a patient's role may write (the checklist: Save, quick pain, questionnaires)
PATIENT_WRITES = (
    "sessions",
    "session_items",
    "pain_scores",
    "daily_summary",
    "questionnaire_responses",
)
PREFIX_KEY = "role_prefix"
ROLE_NAME_MAX = 63  # PostgreSQL's identifier limit (NAMEDATALEN - 1)
_ACCOUNT_RE = re.compile(r"^[a-z][a-z0-9_-]{0,31}$")

_MINE = (
    "(SELECT r.patient_id FROM store_roles r "
    "WHERE r.role_name = current_user AND r.kind = 'patient')"
)
_PARENT_ROW = "EXISTS (SELECT 1 FROM %s p WHERE p.%s = %s.%s)"
_CLINIC = "((SELECT r.kind FROM store_roles r WHERE r.role_name = current_user) = 'clinic')"


def quote(conn: Connection, name: str) -> str:
    """name as a quoted SQL identifier."""
    return conn.dialect.identifier_preparer.quote_identifier(name)


def _patient_tables() -> Iterator[tuple[sa.Table, sa.ForeignKey | None]]:
    """(table, None) for each table with a patient_id column, (table, foreign key to its
    parent) for each table whose rows belong to such a parent. Raises BackcareError for a
    table that is neither (a new table must say whose rows it holds), meta excepted."""
    direct = {t.name for t in S.metadata.sorted_tables if "patient_id" in t.c}
    for table in S.metadata.sorted_tables:
        if table.name == S.meta.name:
            continue
        if table.name in direct:
            yield table, None
            continue
        parent = next(
            (
                fk
                for fk in table.foreign_keys
                if fk.column.table.name in direct and fk.column.table.name != "patients"
            ),
            None,
        )
        if parent is None:
            raise BackcareError(
                f"table {table.name}: row-level security needs a patient_id column or a "
                "foreign key to a table with one"
            )
        yield table, parent


def covered_tables() -> list[str]:
    """The names of the tables whose rows the policies limit (every table but meta)."""
    return [t.name for t, _ in _patient_tables()]


def apply(conn: Connection) -> None:
    """Create store_roles and the row-level security policies (PostgreSQL; idempotent).

    Runs in the caller's transaction (the schema upgrade's, or the hub's at start)."""
    if conn.dialect.name != "postgresql":
        return
    store_roles.create(conn, checkfirst=True)
    statements: list[str] = []
    for table, parent in _patient_tables():
        t = quote(conn, table.name)
        statements.append(f"ALTER TABLE {t} ENABLE ROW LEVEL SECURITY")
        for name in ("backcare_patient", "backcare_clinic", "backcare_parent"):
            statements.append(f"DROP POLICY IF EXISTS {name} ON {t}")
        if parent is None:
            statements.append(
                f"CREATE POLICY backcare_patient ON {t} FOR ALL "
                f"USING (patient_id = {_MINE}) WITH CHECK (patient_id = {_MINE})"
            )
            statements.append(
                f"CREATE POLICY backcare_clinic ON {t} FOR ALL USING {_CLINIC} WITH CHECK {_CLINIC}"
            )
        else:
            p = parent.column.table
            # identifiers from the metadata, quoted: no user text reaches this statement
            own = _PARENT_ROW % (
                quote(conn, p.name),
                quote(conn, parent.column.name),
                t,
                quote(conn, parent.parent.name),
            )
            statements.append(
                f"CREATE POLICY backcare_parent ON {t} FOR ALL USING ({own}) WITH CHECK ({own})"
            )
    statements += [
        "ALTER TABLE store_roles ENABLE ROW LEVEL SECURITY",
        "DROP POLICY IF EXISTS backcare_self ON store_roles",
        "CREATE POLICY backcare_self ON store_roles FOR SELECT USING (role_name = current_user)",
    ]
    for ddl in statements:
        conn.exec_driver_sql(ddl)
    if role_prefix(conn) is None:
        conn.execute(sa.insert(S.meta).values(key=PREFIX_KEY, value="bc" + secrets.token_hex(4)))


def role_prefix(conn: Connection) -> str | None:
    """The store's role-name prefix (made by apply), None before it."""
    value = conn.execute(sa.select(S.meta.c.value).where(S.meta.c.key == PREFIX_KEY)).scalar()
    return None if value is None else str(value)


def role_name(conn: Connection, account: str) -> str:
    """The database role of a hub account in this store: '<prefix>_<account>'."""
    if not _ACCOUNT_RE.match(account):
        raise ValidationError(
            "account", account, "a lowercase letter then up to 31 lowercase letters, digits, - or _"
        )
    prefix = role_prefix(conn)
    if prefix is None:
        raise BackcareError("store: row-level security is not set up (schema version 7)")
    return f"{prefix}_{account}"


def role_exists(conn: Connection, role: str) -> bool:
    """Whether the cluster has a role of this name."""
    found = conn.execute(sa.text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": role}).scalar()
    return found is not None


def can_create_roles(conn: Connection) -> bool:
    """Whether the connected role may create roles (superuser or CREATEROLE)."""
    row = conn.execute(
        sa.text("SELECT rolsuper OR rolcreaterole FROM pg_roles WHERE rolname = current_user")
    ).scalar()
    return bool(row)


def create_role(conn: Connection, account: str, kind: Kind, patient_id: str | None) -> str:
    """Make (or update) the NOLOGIN role of a hub account, map it in store_roles and grant it
    its kind's privileges; return the role's name. In the caller's transaction."""
    if kind not in KINDS:
        raise ValidationError("kind", kind, "patient or clinic")
    if (kind == "patient") != (patient_id is not None):
        raise ValidationError("patient_id", patient_id, "a patient id for a patient role only")
    role = role_name(conn, account)
    if not can_create_roles(conn):
        raise BackcareError(
            "store: the database role of BACKCARE_DB cannot create roles; give it CREATEROLE "
            "(ALTER ROLE ... CREATEROLE) to run the hub on PostgreSQL"
        )
    if not role_exists(conn, role):
        conn.exec_driver_sql(f"CREATE ROLE {quote(conn, role)} NOLOGIN")
    conn.execute(sa.delete(store_roles).where(store_roles.c.role_name == role))
    conn.execute(sa.insert(store_roles).values(role_name=role, kind=kind, patient_id=patient_id))
    grant(conn, role, kind)
    return role


def grant(conn: Connection, role: str, kind: Kind) -> None:
    """Give role the table privileges of its kind (idempotent; run again after an upgrade adds
    tables)."""
    r = quote(conn, role)
    tables = [S.meta.name, *covered_tables()]
    stmts = [f"GRANT SELECT ON store_roles TO {r}"]
    if kind == "clinic":
        stmts.append(f"GRANT SELECT, INSERT, UPDATE, DELETE ON {_names(conn, tables)} TO {r}")
        seqs = conn.execute(
            sa.text(
                "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE c.relkind = 'S' AND n.nspname = current_schema()"
            )
        ).scalars()
        names = [str(s) for s in seqs]
        if names:
            stmts.append(f"GRANT USAGE, SELECT ON SEQUENCE {_names(conn, names)} TO {r}")
    else:
        stmts.append(f"GRANT SELECT ON {_names(conn, tables)} TO {r}")
        stmts.append(f"GRANT INSERT, UPDATE, DELETE ON {_names(conn, list(PATIENT_WRITES))} TO {r}")
    for ddl in stmts:
        conn.exec_driver_sql(ddl)


def _names(conn: Connection, names: list[str]) -> str:
    return ", ".join(quote(conn, n) for n in names)


def mapped_roles(conn: Connection) -> list[tuple[str, Kind, str | None]]:
    """(role, kind, patient id) of every role in store_roles."""
    rows = conn.execute(
        sa.select(store_roles.c.role_name, store_roles.c.kind, store_roles.c.patient_id)
    ).all()
    out: list[tuple[str, Kind, str | None]] = []
    for name, kind, pid in rows:
        out.append((str(name), "clinic" if kind == "clinic" else "patient", pid))
    return out


def open_login(conn: Connection, role: str) -> str:
    """Let role log in with a new random password (returned); the previous one stops working."""
    password = secrets.token_urlsafe(32)  # [A-Za-z0-9_-]: safe inside a quoted literal
    conn.exec_driver_sql(f"ALTER ROLE {quote(conn, role)} LOGIN PASSWORD '{password}'")
    return password


def close_login(conn: Connection, role: str) -> None:
    """Take role's password and LOGIN away and end its open connections to this database."""
    if not role_exists(conn, role):
        return
    conn.exec_driver_sql(f"ALTER ROLE {quote(conn, role)} NOLOGIN PASSWORD NULL")
    conn.execute(
        sa.text(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE usename = :r AND datname = current_database()"
        ),
        {"r": role},
    )


def login_url(owner_url: str, role: str, password: str) -> str:
    """owner_url (the store's URL) with role and password as its user: what a server of that
    role connects with."""
    url = sa.make_url(owner_url).set(username=role, password=password)
    return url.render_as_string(hide_password=False)
