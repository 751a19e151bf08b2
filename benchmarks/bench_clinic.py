"""Benchmark 3: the clinic overview, BENCH_PATIENTS x BENCH_DAYS (default 1,000 x 365).

backcare: services.overview (services.clinic_frames reads the per-day summary kept up to
date on write and the window's done counts; analysis.clinic applies the per-patient rule
functions to every patient), from its own SQLite store.
Reference: the same overview computed by DuckDB from a Parquet export of the same data
(benchmarks/clinic_reference.py). Both results are compared column by column before
anything is timed."""

from __future__ import annotations

import statistics
import time

from common import END, clinic_db, main, parquet_dir

REPEAT = 5


def backcare_overview(store):
    from backcare.services import overview

    return overview(store, END)


def agreement(ours, duck) -> dict[str, float]:
    """Share of patients on which backcare and DuckDB agree, per compared column."""
    a = ours.set_index("patient_id").sort_index()
    b = duck.set_index("patient_id").sort_index()
    out = {}
    # flare-ups are episodes now (analysis.pain.flare_ups); the DuckDB reference still
    # counts days the old way, so they are not compared until the reference is rewritten
    for col in ("adherence_14d", "baseline", "latest", "red_flags_14d"):
        x = a[col].astype(float).round(6).fillna(-1)
        out[f"agree {col}"] = float((x == b[col].astype(float).round(6).fillna(-1)).mean())
    return out


def run() -> dict:
    from clinic_reference import duckdb_overview

    from backcare.store import open_store

    store = open_store(f"sqlite:///{clinic_db()}")
    pq = parquet_dir()
    result = agreement(backcare_overview(store), duckdb_overview(pq, END))
    times: dict[str, list[float]] = {"backcare": [], "duckdb": []}
    for _ in range(REPEAT):
        for name, fn in (
            ("backcare", lambda: backcare_overview(store)),
            ("duckdb", lambda: duckdb_overview(pq, END)),
        ):
            t = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - t)
    med = {k: statistics.median(v) for k, v in times.items()}
    result.update({f"{k}_ms": v * 1e3 for k, v in med.items()})
    result["ratio vs duckdb"] = med["backcare"] / med["duckdb"]
    return result


def memory(which: str) -> None:
    """Compute the overview once in this process and print baseline and peak RSS (MB)."""
    from common import peak_rss_mb

    if which == "backcare":
        from backcare.services import overview  # noqa: F401  (imports before the baseline)
        from backcare.store import open_store

        base = peak_rss_mb()
        backcare_overview(open_store(f"sqlite:///{clinic_db()}"))
    else:
        import clinic_reference as ref
        import duckdb  # noqa: F401

        base = peak_rss_mb()
        ref.duckdb_overview(parquet_dir(), END)
    print(f"{base:.1f} {peak_rss_mb():.1f}")


if __name__ == "__main__":
    main(run, memory)
