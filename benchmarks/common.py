"""Shared set-up for the benchmarks: a cached clinic store and its Parquet copy.

The size is BENCH_PATIENTS x BENCH_DAYS (default 1,000 x 365; `run.py --large`: 10,000 x 365);
the cache folder is BENCH_CACHE (default benchmarks/.cache). Every cached file is named by its
size, so stores of different sizes live side by side."""

from __future__ import annotations

import datetime as dt
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CACHE = Path(os.environ.get("BENCH_CACHE") or ROOT / "benchmarks" / ".cache").resolve()
END = dt.date(2026, 6, 30)
PATIENTS = int(os.environ.get("BENCH_PATIENTS", "1000"))
DAYS = int(os.environ.get("BENCH_DAYS", "365"))
SEED = 42


def size_label(patients: int = PATIENTS, days: int = DAYS) -> str:
    """'1,000 x 365': a store's size as section titles print it."""
    return f"{patients:,} x {days:,}"


def clinic_db(patients: int = PATIENTS, days: int = DAYS) -> Path:
    """Path of the cached clinic store of that size (built on first use with backcare demo)."""
    CACHE.mkdir(parents=True, exist_ok=True)
    path = CACHE / f"clinic-{patients}x{days}.db"
    if not path.exists():
        print(f"building {path.name} (once; cached for later runs)...", flush=True)
        tmp = path.with_suffix(".tmp.db")
        for p in tmp.parent.glob(tmp.name + "*"):
            p.unlink()
        t0 = time.perf_counter()
        subprocess.run(
            [
                sys.executable,
                "-m",
                "backcare.cli",
                "demo",
                "--patients",
                str(patients),
                "--days",
                str(days),
                "--seed",
                str(SEED),
                "--end",
                END.isoformat(),
                "--db",
                f"sqlite:///{tmp}",
            ],
            check=True,
            cwd=ROOT,
        )
        import sqlite3

        con = sqlite3.connect(tmp)
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        con.close()
        tmp.rename(path)
        print(f"  built in {time.perf_counter() - t0:.1f} s", flush=True)
    return path


# rows read from SQLite into pandas at a time by parquet_dir: its memory stays that of one chunk
# of Python objects (the 10,000-patient store has about 18 million item rows)
PARQUET_CHUNK_ROWS = 1_000_000
PARQUET_QUERIES = {
    "sessions": (
        "SELECT session_id, patient_id, day, pain_before, pain_after, red_flags FROM sessions"
    ),
    "items": (
        "SELECT i.session_id, s.patient_id, s.day, i.exercise_id, i.done "
        "FROM session_items i JOIN sessions s USING (session_id)"
    ),
    "pain": "SELECT patient_id, day, score FROM pain_scores",
    "prescriptions": (
        "SELECT p.programme_id, p.patient_id, p.valid_from, i.exercise_id, "
        "i.times_per_week, i.reps, i.hold_s, i.minutes "
        "FROM programmes p JOIN programme_items i USING (programme_id)"
    ),
}


def export_parquet(con, query: str, path: Path, chunk_rows: int = PARQUET_CHUNK_ROWS) -> None:
    """Write the query's rows to one Parquet file, read in chunks (days as timestamps, done as
    booleans). Column types are unified across chunks: integers with a NULL in one chunk become
    floats, as pandas makes them for the whole; a column entirely NULL in one chunk takes the
    others' type (integers then stay integers, where pandas on the whole would give floats).
    Checked on a 300-patient store read in 50,000-row chunks: the same types and rows as the
    whole read."""
    import pandas as pd
    import pyarrow as pa
    import pyarrow.parquet as pq

    tables = []
    for df in pd.read_sql_query(query, con, chunksize=chunk_rows):
        for col in ("day", "valid_from"):
            if col in df:
                df[col] = pd.to_datetime(df[col])
        if "done" in df:
            df["done"] = df["done"].astype(bool)
        tables.append(pa.Table.from_pandas(df, preserve_index=False).replace_schema_metadata())
    if not tables:  # no rows: the empty frame, as pandas reads it
        pd.read_sql_query(query, con).to_parquet(path, index=False)
        return
    pq.write_table(pa.concat_tables(tables, promote_options="permissive"), path)


def parquet_dir(patients: int = PATIENTS, days: int = DAYS) -> Path:
    """Parquet export of the tables of the clinic store of that size (what DuckDB reads)."""
    out = CACHE / f"parquet-{patients}x{days}"
    if not (out / "done").exists():
        import sqlite3

        out.mkdir(parents=True, exist_ok=True)
        con = sqlite3.connect(clinic_db(patients, days))
        try:
            for name, q in PARQUET_QUERIES.items():
                export_parquet(con, q, out / f"{name}.parquet")
        finally:
            con.close()
        (out / "done").touch()
    return out


def summarise(samples: list[float]) -> dict[str, float]:
    """Median and p99 of samples (seconds)."""
    s = sorted(samples)
    return {
        "median": statistics.median(s),
        "p99": s[min(len(s) - 1, int(round(0.99 * (len(s) - 1))))],
    }


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far, MB (VmHWM: reset by exec, unlike ru_maxrss,
    which a child started from a big parent inherits)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main(run, memory) -> None:
    """Command line of a benchmark script: `--memory WHICH` for run.py, else run()'s figures."""
    if len(sys.argv) > 2 and sys.argv[1] == "--memory":
        memory(sys.argv[2])
    else:
        for k, v in run().items():
            print(f"{k:>30}: {v:.3f}" if isinstance(v, float) else f"{k:>30}: {v}")
