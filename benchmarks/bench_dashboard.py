"""Benchmark 2: one patient's dashboard vs DuckDB on Parquet, for 1 year and for 10 years.

backcare: read one patient's days from the store, compute every analysis the trends
notebook shows (load_trends: daily pain, trend, flare-ups, weekly adherence, completion,
habit, streaks, session effect, adherence vs pain, suggestions) and build its five figures.
DuckDB: the same patient's weekly adherence (capped per exercise) and weekly pain summary
from the Parquet copy.

1 year: the middle patient of the clinic store (demo-0500 of 1,000 x 365), period "Last year".
10 years: a patient of a small separate store, DASH10_PATIENTS x 3,650 days (backcare demo,
same seed and end; cached as clinic-3x3650.db beside the clinic store), period "All history",
DuckDB over the same 3,650 days.

What the reference computes, against backcare (it is a yardstick, not the same work):
- both: the days in force of each programme version, prescribed = times_per_week / 7 per day
  in force, done items per (day, exercise), weekly adherence = sum over exercises of
  min(done, prescribed) / sum of prescribed (weeks starting on Monday); daily pain = mean of
  the day's pain_before and pain scores; per week the mean daily pain and its scored days.
- backcare's versions of these hold more: weekly adherence also has session adherence, days
  in force and the largest times per week; daily pain is one row per calendar day (not only
  scored days) with pain after, session and red-flag counts and a rolling mean.
- backcare only: the pain trend anchored at the programme's start (baseline, latest, class),
  flare-up episodes (read from the whole history), daily completion, habit strength and
  streaks over the history since the first programme (a second weekly adherence when the
  period starts later), session effect (pain before/after), adherence vs pain, red-flag
  sessions, annotations, progression suggestions, the summary text, and the five plotly
  figures serialised to JSON (about half of backcare's time).
- not checked against each other: the benchmark times both but compares no values (the
  clinic overview, bench_clinic, is the one compared column by column), so that the weekly
  figures agree is the reference's intent, not something this benchmark verifies."""

from __future__ import annotations

import os
import statistics
import time

from common import END, PATIENTS, clinic_db, main, parquet_dir

# the middle patient of the clinic store: demo-0500 of the 1,000-patient store
PATIENT = f"demo-{max(1, PATIENTS // 2):04d}"
REPEAT = 7
DASH10_DAYS = 3650
DASH10_PATIENTS = int(os.environ.get("BENCH_DASH10_PATIENTS", "3"))
DASH10_PATIENT = f"demo-{(DASH10_PATIENTS + 1) // 2:04d}"


def backcare_dashboard(store, patient: str = PATIENT, period: str = "Last year") -> int:
    from backcare.present.figures import trend_figures
    from backcare.services import load_trends

    data = load_trends(store, patient, period, END)
    figs = trend_figures(data, store.catalog)
    return sum(len(f.to_json()) for f in figs.values())


def duckdb_dashboard(con, parquet, patient: str = PATIENT, days: int = 365) -> int:
    q = f"""
    WITH rx AS (SELECT * FROM read_parquet('{parquet}/prescriptions.parquet')
                WHERE patient_id = $pid),
    progs AS (SELECT programme_id, valid_from,
                     lead(valid_from) OVER (ORDER BY valid_from, programme_id)
                         - INTERVAL 1 DAY AS valid_to
              FROM (SELECT DISTINCT programme_id, valid_from FROM rx)),
    days AS (SELECT CAST(range AS DATE) AS day
             FROM range(DATE '{END}' - INTERVAL {days - 1} DAY,
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
    return len(con.execute(q, {"pid": patient}).fetchall())


def _compare(db, pq, patient: str, period: str, days: int) -> tuple[float, float]:
    """Median seconds of (backcare, DuckDB) for one patient's dashboard, alternating."""
    import duckdb

    from backcare.store import open_store

    store = open_store(f"sqlite:///{db}")
    con = duckdb.connect()
    try:
        backcare_dashboard(store, patient, period), duckdb_dashboard(con, pq, patient, days)
        ours, ref = [], []
        for _ in range(REPEAT):
            t = time.perf_counter()
            backcare_dashboard(store, patient, period)
            ours.append(time.perf_counter() - t)
            t = time.perf_counter()
            duckdb_dashboard(con, pq, patient, days)
            ref.append(time.perf_counter() - t)
    finally:
        con.close()
        store.close()
    return statistics.median(ours), statistics.median(ref)


def run() -> dict:
    o, r = _compare(clinic_db(), parquet_dir(), PATIENT, "Last year", 365)
    out = {"backcare_ms": o * 1e3, "duckdb_ms": r * 1e3, "ratio": o / r}
    db, pq = clinic_db(DASH10_PATIENTS, DASH10_DAYS), parquet_dir(DASH10_PATIENTS, DASH10_DAYS)
    o, r = _compare(db, pq, DASH10_PATIENT, "All history", DASH10_DAYS)
    label = f"{DASH10_DAYS:,} days ({DASH10_PATIENT} of {DASH10_PATIENTS})"
    out.update(
        {
            f"{label}: backcare_ms": o * 1e3,
            f"{label}: duckdb_ms": r * 1e3,
            f"{label}: ratio": o / r,
        }
    )
    return out


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
