"""Benchmark 10: the clinic store's bytes per patient-year against the same rows as CSV.

    .venv/bin/python benchmarks/bench_store.py    (BENCH_PATIENTS x BENCH_DAYS, default 1,000 x 365)

backcare: the cached clinic store (common.clinic_db(): backcare demo into SQLite). Its size is
printed twice: the file as built (the demo's store after a WAL checkpoint), and a copy made by
``VACUUM INTO`` in a temporary folder (every page full again, no free pages: the true size of
the rows and indexes). The cached file itself is only read (a read-only connection), never
vacuumed. BENCH_STORE_VACUUM=0 skips the copy (it needs as much free disk as the store).
Reference: every table the store has with rows, written as CSV by Python's csv module (a
header line, then one line per row, values as SQLite returns them, NULL as an empty field),
counted in memory rather than written to disk. Patient-years = patients x days of history / 365,
from the store's own rows (patients in `patients`, days from the first to the last day of
`sessions` and `pain_scores`). Target (issue 14): the store at most 2x the CSV.
The split per table and index comes from SQLite's dbstat virtual table (pages and bytes
used), read on the vacuumed copy when there is one."""

from __future__ import annotations

import csv
import os
import sqlite3
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from common import clinic_db

TARGET = 2.0
MB = 1024 * 1024


class _Counter:
    """A file-like object that only counts the UTF-8 bytes written to it."""

    def __init__(self) -> None:
        self.bytes = 0

    def write(self, text: str) -> int:
        self.bytes += len(text.encode())
        return len(text)


def _readonly(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(f"file:{path}?mode=ro", uri=True)


def csv_bytes(con: sqlite3.Connection, table: str) -> tuple[int, int]:
    """(rows, bytes) of the table written as CSV with a header line (csv module defaults)."""
    out = _Counter()
    writer = csv.writer(out)
    cur = con.execute(f'SELECT * FROM "{table}"')  # noqa: S608 - names from sqlite_master
    writer.writerow([d[0] for d in cur.description])
    rows = 0
    while batch := cur.fetchmany(10_000):
        writer.writerows(batch)
        rows += len(batch)
    return rows, out.bytes


def patient_years(con: sqlite3.Connection) -> tuple[int, int, float]:
    """(patients, days of history, patient-years) from the store's rows."""
    patients = con.execute("SELECT count(*) FROM patients").fetchone()[0]
    lo, hi = con.execute(
        "SELECT min(d), max(d) FROM (SELECT min(day) AS d FROM sessions "
        "UNION ALL SELECT max(day) FROM sessions UNION ALL SELECT min(day) FROM pain_scores "
        "UNION ALL SELECT max(day) FROM pain_scores)"
    ).fetchone()
    days = 0
    if lo is not None:
        days = con.execute("SELECT julianday(?) - julianday(?) + 1", (hi, lo)).fetchone()[0]
    return patients, int(days), patients * days / 365


def split(con: sqlite3.Connection) -> dict[str, int] | None:
    """Bytes of pages per table and index ('table x', 'index y on x'), or None without dbstat."""
    try:
        rows = con.execute("SELECT name, sum(pgsize) FROM dbstat GROUP BY name").fetchall()
    except sqlite3.OperationalError:
        return None
    kinds = {
        name: (kind, table)
        for kind, name, table in con.execute("SELECT type, name, tbl_name FROM sqlite_master")
    }
    out = {}
    for name, size in sorted(rows, key=lambda r: -r[1]):
        kind, table = kinds.get(name, ("table", name))  # sqlite_schema is not listed in itself
        label = f"index {name} on {table}" if kind == "index" else f"table {name}"
        out[label] = int(size)
    return out


@contextmanager
def vacuumed(path: Path) -> Iterator[Path | None]:
    """A VACUUM INTO copy of the store in a temporary folder (None with BENCH_STORE_VACUUM=0)."""
    if os.environ.get("BENCH_STORE_VACUUM", "1") == "0":
        yield None
        return
    with tempfile.TemporaryDirectory(prefix="bench-store-") as tmp:
        copy = Path(tmp) / path.name
        con = _readonly(path)
        try:
            con.execute("VACUUM INTO ?", (str(copy),))
        finally:
            con.close()
        yield copy


def run(path: Path | None = None) -> dict:
    """Store and CSV bytes per patient-year, their ratio, and the store's split by table/index."""
    path = path or clinic_db()
    out: dict[str, float | int | str] = {}
    con = _readonly(path)
    try:
        patients, days, years = patient_years(con)
        out["patients (rows of patients)"] = patients
        out["days of history (first to last scored/session day)"] = days
        out["patient-years"] = years
        file_bytes = path.stat().st_size
        wal = path.with_name(path.name + "-wal")
        if wal.exists():
            file_bytes += wal.stat().st_size
        page = con.execute("PRAGMA page_size").fetchone()[0]
        free = con.execute("PRAGMA freelist_count").fetchone()[0]
        tables = [
            r[0]
            for r in con.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' "
                "AND name NOT LIKE 'sqlite_%' ORDER BY name"
            )
        ]
        per_table = {}
        for table in tables:
            rows, size = csv_bytes(con, table)
            if rows:
                per_table[table] = (rows, size)
    finally:
        con.close()
    csv_total = sum(size for _, size in per_table.values())
    out["store file as built, MB (with its -wal)"] = file_bytes / MB
    out["  of which free pages, MB"] = free * page / MB
    out["store file as built, bytes / patient-year"] = file_bytes / years
    with vacuumed(path) as copy:
        if copy is not None:
            true = copy.stat().st_size
            out["store after VACUUM INTO a copy, MB"] = true / MB
            out["store after VACUUM, bytes / patient-year"] = true / years
        else:
            true = file_bytes
            out["store after VACUUM"] = "skipped (BENCH_STORE_VACUUM=0)"
        out["CSV of every table with rows, MB"] = csv_total / MB
        for table, (rows, size) in sorted(per_table.items(), key=lambda kv: -kv[1][1]):
            out[f"  CSV {table} ({rows:,} row{'s' if rows != 1 else ''}), MB"] = size / MB
        out["CSV, bytes / patient-year"] = csv_total / years
        what = "vacuumed" if copy is not None else "as built"
        out[f"ratio store ({what}) / CSV (target <= {TARGET:g})"] = true / csv_total
        if copy is not None:
            out["ratio store (as built) / CSV"] = file_bytes / csv_total
        con = _readonly(copy or path)
        try:
            parts = split(con)
        finally:
            con.close()
    if parts is None:
        out["split by table and index"] = "skipped: this SQLite has no dbstat"
    else:
        out[f"split by table and index ({what} store, dbstat), MB"] = sum(parts.values()) / MB
        for label, size in parts.items():
            out[f"  {label}"] = size / MB
    return out


if __name__ == "__main__":
    for k, v in run().items():
        print(f"  {k:<64} {v:>12.2f}" if isinstance(v, float) else f"  {k:<64} {v!s:>12}")
