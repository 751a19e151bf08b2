"""A reference for the benchmark only: the clinic overview computed by DuckDB from the Parquet copy.

Not part of backcare (whose rules live once, in backcare.analysis): it is the yardstick
bench_clinic times backcare against, and checks patient by patient before timing. Same
methods: last session, 14-day adherence capped per exercise and week on days in force,
baseline/latest pain over the first/last 14 scored days, flare-up days, red flags. It leaves
out the progression suggestions and the attention reasons, which backcare computes on top."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

WINDOW = 14


def duckdb_overview(parquet: Path, today: dt.date):
    """The overview as a pandas DataFrame, computed by DuckDB."""
    import duckdb

    lo = today - dt.timedelta(days=WINDOW - 1)
    # our own file paths and dates go into the SQL, never user input
    q = f"""
    WITH s AS (SELECT * FROM read_parquet('{parquet}/sessions.parquet')),
    i AS (SELECT * FROM read_parquet('{parquet}/items.parquet')),
    p AS (SELECT * FROM read_parquet('{parquet}/pain.parquet')),
    rx AS (SELECT * FROM read_parquet('{parquet}/prescriptions.parquet')),
    progs AS (
        SELECT programme_id, patient_id, valid_from,
               lead(valid_from) OVER (PARTITION BY patient_id ORDER BY valid_from, programme_id)
                 - INTERVAL 1 DAY AS valid_to
        FROM (SELECT DISTINCT programme_id, patient_id, valid_from FROM rx)),
    scores AS (
        SELECT patient_id, day, pain_before AS score FROM s WHERE pain_before IS NOT NULL
        UNION ALL SELECT patient_id, day, score FROM p),
    daily AS (SELECT patient_id, day, avg(score) AS pain FROM scores GROUP BY 1, 2),
    bounds AS (SELECT patient_id, min(day) AS f, max(day) AS l FROM daily GROUP BY 1),
    trend AS (
        SELECT d.patient_id,
               avg(pain) FILTER (WHERE day <= f + INTERVAL 13 DAY) AS baseline_raw,
               count(*) FILTER (WHERE day <= f + INTERVAL 13 DAY) AS baseline_days,
               avg(pain) FILTER (WHERE day >= l - INTERVAL 13 DAY) AS latest_raw,
               count(*) FILTER (WHERE day >= l - INTERVAL 13 DAY) AS latest_days,
               any_value(date_diff('day', f, l)) AS span
        FROM daily d JOIN bounds b USING (patient_id) GROUP BY 1),
    flares AS (
        SELECT patient_id, count(*) AS flare_ups_14d FROM (
            SELECT patient_id, day, pain,
                   avg(pain) OVER w AS prior_mean, count(pain) OVER w AS prior_n
            FROM daily WHERE day >= DATE '{lo}' - INTERVAL 7 DAY
            WINDOW w AS (PARTITION BY patient_id ORDER BY day
                         RANGE BETWEEN INTERVAL 7 DAY PRECEDING AND INTERVAL 1 DAY PRECEDING))
        WHERE day >= DATE '{lo}' AND prior_n >= 3 AND pain - prior_mean >= 2 - 1e-9 GROUP BY 1),
    sess AS (
        SELECT patient_id, max(day) AS last_session,
               count(*) FILTER (WHERE red_flags <> '' AND day >= DATE '{lo}') AS red_flags_14d
        FROM s GROUP BY 1),
    days AS (SELECT CAST(range AS DATE) AS day
             FROM range(DATE '{lo}', DATE '{today}' + INTERVAL 1 DAY, INTERVAL 1 DAY)),
    inforce AS (
        SELECT g.patient_id, d.day, rx.exercise_id, rx.times_per_week / 7.0 AS presc
        FROM days d JOIN progs g
             ON d.day >= g.valid_from AND (g.valid_to IS NULL OR d.day <= g.valid_to)
        JOIN rx USING (programme_id)),
    done AS (
        SELECT patient_id, day, exercise_id, count(*) AS n FROM i
        WHERE done AND day BETWEEN DATE '{lo}' AND DATE '{today}' GROUP BY 1, 2, 3),
    wk AS (
        SELECT f.patient_id, date_trunc('week', f.day) AS week, f.exercise_id,
               sum(presc) AS prescribed, sum(coalesce(n, 0)) AS done
        FROM inforce f LEFT JOIN done USING (patient_id, day, exercise_id) GROUP BY 1, 2, 3),
    adh AS (
        SELECT patient_id,
               sum(least(done, prescribed)) / nullif(sum(prescribed), 0) AS adherence_14d
        FROM wk GROUP BY 1)
    SELECT sess.patient_id, last_session, adherence_14d,
           CASE WHEN span >= 27 AND baseline_days >= 4 AND latest_days >= 4
                THEN round(baseline_raw, 1) END AS baseline,
           CASE WHEN span >= 27 AND baseline_days >= 4 AND latest_days >= 4
                THEN round(latest_raw, 1) END AS latest,
           coalesce(flare_ups_14d, 0) AS flare_ups_14d, red_flags_14d
    FROM sess LEFT JOIN adh USING (patient_id) LEFT JOIN trend USING (patient_id)
              LEFT JOIN flares USING (patient_id)
    ORDER BY red_flags_14d DESC, flare_ups_14d DESC, adherence_14d
    """  # noqa: S608
    con = duckdb.connect()
    try:
        return con.execute(q).df()
    finally:
        con.close()
