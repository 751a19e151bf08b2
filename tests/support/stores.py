"""Store helpers: the tests' fixed start date, a patient on the default programme, row counts."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from backcare.domain.programme import default_programme
from backcare.store import Store

START = dt.date(2026, 1, 5)  # a Monday, safely in the past


def add_default_patient(
    store: Store,
    patient_id: str = "p1",
    name: str = "Test Patient",
    timezone: str = "Europe/London",
) -> str:
    """Add a patient on the article's default programme from START; return the id."""
    store.add_patient(patient_id, name, timezone)
    store.set_programme(patient_id, default_programme(store.catalog, START), START)
    return patient_id


def row_counts(store: Store) -> dict[str, int]:
    """Rows per table of the store: a write anywhere shows up here."""
    with store.engine.connect() as conn:
        names = sa.inspect(conn).get_table_names()
        count = sa.select(sa.func.count())
        return {n: conn.execute(count.select_from(sa.table(n))).scalar_one() for n in names}
