"""The clinic's hot reads use indexes, and a store gets planner statistics (EXPLAIN QUERY PLAN)."""

from __future__ import annotations

import datetime as dt
import sqlite3

import sqlalchemy as sa

from backcare.demo import fill_demo
from backcare.store import open_store

END = dt.date(2026, 3, 31)


def _plan(path, sql: str) -> str:
    con = sqlite3.connect(path)
    try:
        return " | ".join(row[3] for row in con.execute("EXPLAIN QUERY PLAN " + sql))
    finally:
        con.close()


def test_a_store_without_statistics_gets_them_when_opened(tmp_path):
    path = tmp_path / "s.db"
    with open_store(f"sqlite:///{path}") as store:
        store.add_patient("p1", "One")
    con = sqlite3.connect(path)
    con.execute("DROP TABLE IF EXISTS sqlite_stat1")
    con.commit()
    con.close()
    open_store(f"sqlite:///{path}").close()
    con = sqlite3.connect(path)
    assert con.execute("SELECT count(*) FROM sqlite_master WHERE name = 'sqlite_stat1'").fetchone()
    con.close()


def _plans_of(store, path, read) -> list[str]:
    """EXPLAIN QUERY PLAN of every statement `read(store)` sends to the database."""
    sent: list[tuple[str, object]] = []

    def capture(conn, cursor, statement, parameters, context, executemany):
        sent.append((statement, parameters))

    sa.event.listen(store.engine, "before_cursor_execute", capture)
    try:
        read(store)
    finally:
        sa.event.remove(store.engine, "before_cursor_execute", capture)
    con = sqlite3.connect(path)
    try:
        return [
            " | ".join(r[3] for r in con.execute("EXPLAIN QUERY PLAN " + sql, params))
            for sql, params in sent
            if sql.lstrip().upper().startswith(("SELECT", "WITH"))
        ]
    finally:
        con.close()


def test_the_clinic_reads_never_scan_the_item_table(tmp_path):
    """The overview's done counts read only the window's sessions, by their day index (each
    session row carries its done exercises); its pain reads seek each patient's summary
    rows by key."""
    path = tmp_path / "c.db"
    with open_store(f"sqlite:///{path}") as store:
        fill_demo(store, patients=30, days=60, seed=2, end=END, progress=False)
        lo = END - dt.timedelta(days=13)
        done = _plans_of(store, path, lambda s: s.done_counts(lo, END))
        anchored = _plans_of(
            store, path, lambda s: s.daily_sums(None, END, scored_only=True, from_anchor=28)
        )
        pains = _plans_of(store, path, lambda s: s.session_pain(lo, END))
    assert done and all("session_items" not in p for p in done), done
    assert any("ix_sessions_day" in p or "ix_sessions_patient_day" in p for p in done), done
    # the anchored read seeks each patient's summary rows by key (no scan of the table)
    assert anchored and all("SCAN daily_summary" not in p for p in anchored), anchored
    assert any("daily_summary" in p and "SEARCH" in p for p in anchored), anchored
    assert pains and all("SCAN sessions" not in p for p in pains), pains
