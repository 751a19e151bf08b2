"""Benchmark 2: one patient's dashboard vs DuckDB on Parquet.

backcare: read 365 days of one patient from the clinic store, compute every analysis the
trends notebook shows (load_trends: daily pain, trend, flare-ups, weekly adherence,
completion, habit, streaks, session effect, adherence vs pain, suggestions) and build its
five figures. DuckDB: the same patient's weekly adherence (capped per exercise) and weekly
pain summary from the Parquet copy."""

from __future__ import annotations

import statistics
import time

from common import END, clinic_db, main, parquet_dir

PATIENT = "demo-0500"
REPEAT = 7


def backcare_dashboard(store) -> int:
    from backcare.present.figures import trend_figures
    from backcare.services import load_trends

    data = load_trends(store, PATIENT, "Last year", END)
    figs = trend_figures(data, store.catalog)
    return sum(len(f.to_json()) for f in figs.values())


def duckdb_dashboard(con, parquet) -> int:
    q = f"""
    WITH rx AS (SELECT * FROM read_parquet('{parquet}/prescriptions.parquet')
                WHERE patient_id = $pid),
    progs AS (SELECT programme_id, valid_from,
                     lead(valid_from) OVER (ORDER BY valid_from, programme_id)
                         - INTERVAL 1 DAY AS valid_to
              FROM (SELECT DISTINCT programme_id, valid_from FROM rx)),
    days AS (SELECT CAST(range AS DATE) AS day
             FROM range(DATE '{END}' - INTERVAL 364 DAY,
                        DATE '{END}' + INTERVAL 1 DAY, INTERVAL 1 DAY)),
    inforce AS (SELECT d.day, rx.exercise_id, rx.times_per_week / 7.0 AS presc
                FROM days d JOIN progs g
                     ON d.day >= g.valid_from AND (g.valid_to IS NULL OR d.day <= g.valid_to)
                JOIN rx USING (programme_id)),
    done AS (SELECT day, exercise_id, count(*) AS n
             FROM read_parquet('{parquet}/items.parquet')
             WHERE patient_id = $pid AND done GROUP BY 1, 2),
    weekly_ex AS (SELECT date_trunc('week', f.day) AS week, f.exercise_id, sum(presc) AS prescribed,
                         sum(coalesce(n, 0)) AS done
                  FROM inforce f LEFT JOIN done USING (day, exercise_id) GROUP BY 1, 2),
    adh AS (SELECT week, sum(least(done, prescribed)) / sum(prescribed) AS adherence
            FROM weekly_ex GROUP BY 1),
    scores AS (SELECT day, pain_before AS score FROM read_parquet('{parquet}/sessions.parquet')
               WHERE patient_id = $pid AND pain_before IS NOT NULL
               UNION ALL
               SELECT day, score FROM read_parquet('{parquet}/pain.parquet')
               WHERE patient_id = $pid),
    daily AS (SELECT day, avg(score) AS pain FROM scores GROUP BY 1),
    pain AS (SELECT date_trunc('week', day) AS week, avg(pain) AS pain, count(*) AS pain_days
             FROM daily GROUP BY 1)
    SELECT * FROM adh FULL JOIN pain USING (week) ORDER BY week
    """  # noqa: S608 - our own paths and dates
    return len(con.execute(q, {"pid": PATIENT}).fetchall())


def run() -> dict:
    import duckdb

    from backcare.store import open_store

    store = open_store(f"sqlite:///{clinic_db()}")
    pq = parquet_dir()
    con = duckdb.connect()
    backcare_dashboard(store), duckdb_dashboard(con, pq)  # warm both up once
    ours, ref = [], []
    for _ in range(REPEAT):
        t = time.perf_counter()
        backcare_dashboard(store)
        ours.append(time.perf_counter() - t)
        t = time.perf_counter()
        duckdb_dashboard(con, pq)
        ref.append(time.perf_counter() - t)
    o, r = statistics.median(ours), statistics.median(ref)
    return {"backcare_ms": o * 1e3, "duckdb_ms": r * 1e3, "ratio": o / r}


def memory(which: str) -> None:
    """Run one dashboard in this process and print its peak RSS (MB) for run.py."""
    from common import peak_rss_mb

    if which == "backcare":
        from backcare.store import open_store

        base = peak_rss_mb()
        backcare_dashboard(open_store(f"sqlite:///{clinic_db()}"))
    else:
        import duckdb

        base = peak_rss_mb()
        duckdb_dashboard(duckdb.connect(), parquet_dir())
    print(f"{base:.1f} {peak_rss_mb():.1f}")


if __name__ == "__main__":
    main(run, memory)
