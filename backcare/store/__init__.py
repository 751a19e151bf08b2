"""The store: backcare's data in SQLite or PostgreSQL, read and written only through Store.

- ``core``: Store (every public method one transaction), open_store, make_engine.
- ``frames``: the fixed dtypes of what readers return (READ_DTYPES) and typed frame building.
- ``schema``: tables, migrations and the daily summary kept on every write.
- ``bulk``: whole frames validated by the column forms of backcare.domain.rules, loaded in one
  transaction.

Sessions, pain scores and annotations as plain data (Session, SessionItem, validate_session)
live in backcare.domain.session; the store only stores them."""

from __future__ import annotations

from backcare.domain.session import (  # kept here for `from backcare.store import ...`
    Session,
    SessionItem,
)
from backcare.store.core import (
    DEFAULT_PATH,
    STORE_ERRORS,
    Store,
    default_url,
    make_engine,
    open_store,
)
from backcare.store.frames import DAY, READ_DTYPES, UTC_TS

__all__ = [
    "DAY",
    "DEFAULT_PATH",
    "READ_DTYPES",
    "STORE_ERRORS",
    "UTC_TS",
    "Session",
    "SessionItem",
    "Store",
    "default_url",
    "make_engine",
    "open_store",
]
