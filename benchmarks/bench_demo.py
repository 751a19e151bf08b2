"""`backcare demo` throughput against a plain executemany of the same rows.

    .venv/bin/python benchmarks/bench_demo.py          (BENCH_DEMO_PATIENTS, default 200)

backcare: ``fill_demo`` for 200 patients x 365 days into a new SQLite store (generating the
rows, validating every column through domain.rules, inserting, keeping the daily summary).
Reference: every row that store then holds (every table, summaries included) read back as
Python tuples and inserted with sqlite3's ``executemany`` into a new store of the same schema,
one transaction, the same PRAGMAs (WAL, synchronous=FULL, foreign keys on): what inserting
those rows costs with nothing else done. Rows/s counts the rows the demo reports (patients,
programmes, sessions, items, pain scores, annotations, questionnaire responses) for both.
Target: backcare within 1.5x of the reference. Also prints the digest of the rows
(backcare.demo.demo_digest), which is the same on every machine for the same arguments."""

from __future__ import annotations

import datetime as dt
import os
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from backcare.demo import demo_digest, fill_demo  # noqa: E402
from backcare.store import open_store  # noqa: E402

PATIENTS = int(os.environ.get("BENCH_DEMO_PATIENTS", "200"))
DAYS = 365
END = dt.date(2026, 6, 30)
SEED = 42


def _reference(source: Path, target: Path) -> float:
    """Seconds to insert every row of source into an empty store of the same schema at target."""
    with open_store(f"sqlite:///{target}"):
        pass  # the schema, as backcare creates it
    src = sqlite3.connect(source)
    tables = [
        r[0]
        for r in src.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        )
    ]
    dst = sqlite3.connect(target, isolation_level=None)
    for pragma in ("journal_mode = WAL", "synchronous = FULL", "foreign_keys = ON"):
        dst.execute(f"PRAGMA {pragma}")
    kept = {t for (t,) in dst.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    data = {}
    for t in tables:
        if t in kept and t != "meta":
            cols = [r[1] for r in src.execute(f"PRAGMA table_info({t})")]  # noqa: S608
            data[t] = (cols, src.execute(f"SELECT * FROM {t}").fetchall())  # noqa: S608
    src.close()
    order = ["patients", "programmes", "programme_items", "sessions", "session_items"]
    tables = order + sorted(set(data) - set(order))
    t0 = time.perf_counter()
    dst.execute("BEGIN")
    for t in tables:
        if t not in data:
            continue
        cols, rows = data[t]
        marks = ", ".join("?" * len(cols))
        dst.executemany(f"INSERT INTO {t} ({', '.join(cols)}) VALUES ({marks})", rows)  # noqa: S608
    dst.execute("COMMIT")
    took = time.perf_counter() - t0
    dst.close()
    return took


def run() -> dict[str, float | int | str]:
    """Rows/s of backcare demo and of the plain executemany, their ratio, and the digest."""
    out: dict[str, float | int | str] = {}
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "demo.db"
        with open_store(f"sqlite:///{db}") as store:
            t0 = time.perf_counter()
            counts = fill_demo(store, PATIENTS, DAYS, SEED, end=END, progress=False)
            took = time.perf_counter() - t0
            digest = demo_digest(store)
        rows = sum(counts.values())
        ref = _reference(db, Path(tmp) / "reference.db")
        out[f"rows ({PATIENTS} patients x {DAYS} days)"] = rows
        out["backcare demo: rows/s"] = rows / took
        out["plain executemany: rows/s"] = rows / ref
        out["ratio (target <= 1.5)"] = took / ref
        out["digest"] = digest[:16]
    return out


if __name__ == "__main__":
    for k, v in run().items():
        print(f"  {k:<44} {v:>12,.2f}" if isinstance(v, float) else f"  {k:<44} {v:>12}")
