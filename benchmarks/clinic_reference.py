"""The clinic overview computed by DuckDB and by polars straight from the Parquet copy.

Same methods as backcare.analysis.clinic (last session, 14-day adherence capped per exercise,
baseline/latest pain over the first/last 14 scored days, flare-up days, red flags), so the
three can be compared; the references leave out the progression suggestions and the
attention reasons, which backcare computes on top."""

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
    presc AS (
        SELECT rx.patient_id, exercise_id,
               sum(greatest(0, date_diff('day', greatest(g.valid_from, DATE '{lo}'),
                                         least(coalesce(g.valid_to, DATE '{today}'), DATE '{today}')) + 1)
                   * times_per_week / 7.0) AS prescribed
        FROM rx JOIN progs g USING (programme_id) GROUP BY 1, 2),
    done AS (
        SELECT patient_id, exercise_id, count(*) AS done FROM i
        WHERE done AND day BETWEEN DATE '{lo}' AND DATE '{today}' GROUP BY 1, 2),
    adh AS (
        SELECT presc.patient_id,
               sum(least(coalesce(done.done, 0), prescribed)) / nullif(sum(prescribed), 0) AS adherence_14d
        FROM presc LEFT JOIN done USING (patient_id, exercise_id) GROUP BY 1)
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


def _round1(expr):
    """Half-up rounding to one decimal, as backcare.analysis shows numbers."""
    return (expr * 10 + 0.5).floor() / 10


def polars_overview(parquet: Path, today: dt.date):
    """The overview as a polars DataFrame, computed lazily by polars."""
    import polars as pl

    lo = today - dt.timedelta(days=WINDOW - 1)
    s = pl.scan_parquet(parquet / "sessions.parquet").with_columns(pl.col("day").cast(pl.Date))
    i = pl.scan_parquet(parquet / "items.parquet").with_columns(pl.col("day").cast(pl.Date))
    p = pl.scan_parquet(parquet / "pain.parquet").with_columns(pl.col("day").cast(pl.Date))
    rx = pl.scan_parquet(parquet / "prescriptions.parquet").with_columns(pl.col("valid_from").cast(pl.Date))
    scores = pl.concat([
        s.filter(pl.col("pain_before").is_not_null()).select(
            "patient_id", "day", pl.col("pain_before").cast(pl.Float64).alias("score")),
        p.select("patient_id", "day", pl.col("score").cast(pl.Float64)),
    ])
    daily = scores.group_by("patient_id", "day").agg(pl.col("score").mean().alias("pain"))
    bounds = daily.group_by("patient_id").agg(pl.col("day").min().alias("f"), pl.col("day").max().alias("l"))
    d = daily.join(bounds, on="patient_id")
    in_b = pl.col("day") <= pl.col("f") + pl.duration(days=13)
    in_l = pl.col("day") >= pl.col("l") - pl.duration(days=13)
    trend = d.group_by("patient_id").agg(
        pl.col("pain").filter(in_b).mean().alias("baseline_raw"), in_b.sum().alias("baseline_days"),
        pl.col("pain").filter(in_l).mean().alias("latest_raw"), in_l.sum().alias("latest_days"),
        ((pl.col("l") - pl.col("f")).dt.total_days()).first().alias("span"),
    )
    ok = (pl.col("span") >= 27) & (pl.col("baseline_days") >= 4) & (pl.col("latest_days") >= 4)
    trend = trend.select("patient_id",
                         pl.when(ok).then(_round1(pl.col("baseline_raw"))).alias("baseline"),
                         pl.when(ok).then(_round1(pl.col("latest_raw"))).alias("latest"))
    recent = (daily.filter(pl.col("day") >= lo - dt.timedelta(days=7)).sort("patient_id", "day")
              .rolling(index_column="day", period="7d", offset="-8d", closed="right", group_by="patient_id")
              .agg(pl.col("pain").mean().alias("prior_mean"), pl.col("pain").count().alias("prior_n")))
    recent = recent.join(daily, on=["patient_id", "day"])
    flares = (recent.filter((pl.col("day") >= lo) & (pl.col("prior_n") >= 3)
                            & (pl.col("pain") - pl.col("prior_mean") >= 2 - 1e-9))
              .group_by("patient_id").agg(pl.len().alias("flare_ups_14d")))
    sess = s.group_by("patient_id").agg(
        pl.col("day").max().alias("last_session"),
        ((pl.col("red_flags") != "") & (pl.col("day") >= lo)).sum().alias("red_flags_14d"))
    progs = (rx.select("programme_id", "patient_id", "valid_from").unique()
             .sort("patient_id", "valid_from", "programme_id")
             .with_columns((pl.col("valid_from").shift(-1).over("patient_id") - pl.duration(days=1)).alias("valid_to")))
    presc = (rx.join(progs.select("programme_id", "valid_to"), on="programme_id")
             .with_columns(
                 ((pl.min_horizontal(pl.col("valid_to").fill_null(today), pl.lit(today))
                   - pl.max_horizontal(pl.col("valid_from"), pl.lit(lo))).dt.total_days() + 1)
                 .clip(lower_bound=0).alias("days_in"))
             .group_by("patient_id", "exercise_id")
             .agg((pl.col("days_in") * pl.col("times_per_week") / 7.0).sum().alias("prescribed")))
    done = (i.filter(pl.col("done") & (pl.col("day") >= lo) & (pl.col("day") <= today))
            .group_by("patient_id", "exercise_id").agg(pl.len().alias("done")))
    adh = (presc.join(done, on=["patient_id", "exercise_id"], how="left")
           .with_columns(pl.min_horizontal(pl.col("done").fill_null(0), pl.col("prescribed")).alias("capped"))
           .group_by("patient_id").agg((pl.col("capped").sum() / pl.col("prescribed").sum()).alias("adherence_14d")))
    out = (sess.join(adh, on="patient_id", how="left").join(trend, on="patient_id", how="left")
           .join(flares, on="patient_id", how="left")
           .with_columns(pl.col("flare_ups_14d").fill_null(0))
           .sort(["red_flags_14d", "flare_ups_14d", "adherence_14d"], descending=[True, True, False]))
    return out.collect()
