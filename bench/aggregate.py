"""Benchmark ``aggregate_metrics(interval)`` beside one hand-written ``INSERT … SELECT`` over the same rows.

Usage (PostgreSQL up, e.g. after ``make test`` or ``make run``)::

    .venv/bin/python bench/aggregate.py [--rows 2000000] [--full] [--bucket 60] [--rounds 2] [--keep]

In one run:

1. creates a scratch database ``bench_aggregate_<pid>`` (owner role of
   ``DATABASE_OWNER_URL``) and migrates it (never the dev database);
2. loads ``--rows`` metric points (``--full``: 10 million) spread over 10
   organizations × 5 services × 20 metrics and the 6 hours before the last
   10 minutes (each ingested 1-6 s after it was recorded), with
   ``INSERT … SELECT generate_series`` as the superuser, then ``ANALYZE``;
3. each round, as the application role in the service context (the same
   row-level security for both):
   - hand-written: one ``INSERT INTO apm_metric_aggregations … SELECT …
     GROUP BY organization_id, service, metric_name, date_bin(…)`` with the
     same eight statistics (the least a correct aggregation must do);
   - the aggregation rows are deleted again (and vacuumed), then
   - ``SELECT aggregate_metrics(interval '<bucket> seconds')`` from an empty
     watermark (every row is new: the worst case of the incremental path);
4. then times two incremental runs: with nothing new, and after one more
   minute of data (1/360 of the rows) arrives;
5. prints the best time of each over ``--rounds``, rows written, and the
   ratio function / hand-written (target: at most 1.1), checks that both
   wrote the same rows with the same statistics, and drops the database.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import time
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _scratch import APP_URL, SUPERUSER_URL, log, scratch_database, with_db  # noqa: E402

ORGS, SERVICES, METRICS = 10, 5, 20
SPAN_S = 6 * 3600

HAND_WRITTEN = """
INSERT INTO apm_metric_aggregations
       (organization_id, service, metric_name, bucket_seconds, bucket_start,
        count, sum, min, max, avg, p50, p95, p99, updated_at)
SELECT organization_id, service, metric_name, %(width)s, b, n, total, lo, hi, mean, p[1], p[2], p[3], clock_timestamp()
FROM (
  SELECT organization_id, service, metric_name,
         date_bin(make_interval(secs => %(width)s), recorded_at, timestamptz '1970-01-01 00:00:00+00') AS b,
         count(*) AS n, sum(value) AS total, min(value) AS lo, max(value) AS hi, avg(value) AS mean,
         percentile_cont(ARRAY[0.5, 0.95, 0.99]::float8[]) WITHIN GROUP (ORDER BY value) AS p
  FROM apm_metrics
  GROUP BY 1, 2, 3, 4
) s
"""


def load(db_name: str, rows: int, now: dt.datetime) -> None:
    """Create the organizations and partitions and insert ``rows`` points (superuser, bypasses RLS)."""
    with psycopg.connect(with_db(SUPERUSER_URL, db_name)) as conn:
        day = now.date()
        conn.execute("SELECT apm_ensure_metric_partitions(%s, %s)", [day - dt.timedelta(days=1), day])
        conn.execute(
            "INSERT INTO organizations (id, slug, name, timezone, created_at)"
            " SELECT gen_random_uuid(), 'bench-' || g, 'Bench ' || g, 'UTC', now()"
            " FROM generate_series(1, %s) g",
            [ORGS],
        )
        org_ids = [r[0] for r in conn.execute("SELECT id FROM organizations ORDER BY slug")]
        chunk = 1_000_000
        done = 0
        while done < rows:
            n = min(chunk, rows - done)
            conn.execute(
                """
                INSERT INTO apm_metrics (organization_id, service, metric_name, value, unit, recorded_at, ingested_at)
                SELECT (%(orgs)s::uuid[])[1 + g %% %(n_orgs)s],
                       'svc-' || (g / %(n_orgs)s) %% %(services)s,
                       'metric.' || (g / (%(n_orgs)s * %(services)s)) %% %(metrics)s,
                       exp(4 + 0.7 * sqrt(-2 * ln(1 - random())) * cos(2 * pi() * random())),
                       'ms',
                       r.at, r.at + make_interval(secs => 1 + random() * 5)
                FROM generate_series(%(lo)s, %(hi)s) g
                CROSS JOIN LATERAL (SELECT %(now)s - make_interval(secs => 600 + random() * %(span)s) + g * interval '0'
                                    AS at) r
                """,
                {
                    "orgs": org_ids,
                    "n_orgs": ORGS,
                    "services": SERVICES,
                    "metrics": METRICS,
                    "now": now,
                    "span": SPAN_S,
                    "lo": done,
                    "hi": done + n - 1,
                },
            )
            conn.commit()
            done += n
            log(f"  loaded {done:,}/{rows:,} rows")
    with psycopg.connect(with_db(SUPERUSER_URL, db_name), autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE apm_metrics")


def reset(db_name: str) -> None:
    with psycopg.connect(with_db(SUPERUSER_URL, db_name), autocommit=True) as conn:
        conn.execute("TRUNCATE apm_metric_aggregations, apm_aggregation_watermarks")
        conn.execute("VACUUM ANALYZE apm_metric_aggregations")


def timed(db_name: str, sql: str, params: dict) -> tuple[float, int]:
    """Run ``sql`` as the application role in the service context; returns ``(seconds, rows written)``."""
    with psycopg.connect(with_db(APP_URL, db_name)) as conn:
        conn.execute("SELECT set_config('app.role', 'service', false)")
        conn.commit()
        started = time.perf_counter()
        cur = conn.execute(sql, params)
        written = cur.fetchone()[0] if cur.description else cur.rowcount
        conn.commit()
        return time.perf_counter() - started, written


def snapshot(db_name: str) -> list[tuple]:
    with psycopg.connect(with_db(SUPERUSER_URL, db_name)) as conn:
        return conn.execute(
            "SELECT organization_id, service, metric_name, bucket_start, count,"
            " round(sum::numeric, 6), min, max, round(avg::numeric, 6), round(p50::numeric, 6),"
            " round(p95::numeric, 6), round(p99::numeric, 6)"
            " FROM apm_metric_aggregations ORDER BY 1, 2, 3, 4"
        ).fetchall()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=2_000_000, help="points to aggregate (default 2,000,000)")
    parser.add_argument("--full", action="store_true", help="10 million points, the issue's size")
    parser.add_argument("--bucket", type=int, default=60, help="bucket width in seconds (default 60)")
    parser.add_argument("--rounds", type=int, default=2, help="timed rounds; the best of each is reported")
    parser.add_argument("--keep", action="store_true", help="keep the scratch database")
    args = parser.parse_args(argv)
    if args.full:
        args.rows = 10_000_000
    if args.rows < 1 or args.rounds < 1 or not 1 <= args.bucket <= 86400:
        parser.error("--rows and --rounds must be positive, --bucket 1..86400")

    with scratch_database("bench_aggregate", keep=args.keep) as db_name:
        log(f"loading {args.rows:,} rows")
        load(db_name, args.rows, dt.datetime.now(dt.UTC))

        hand_times, func_times = [], []
        hand_rows = func_rows = 0
        hand_snapshot = func_snapshot = None
        for round_no in range(1, args.rounds + 1):
            reset(db_name)
            seconds, hand_rows = timed(db_name, HAND_WRITTEN, {"width": args.bucket})
            hand_times.append(seconds)
            log(f"round {round_no}: hand-written INSERT … SELECT {seconds:.2f} s, {hand_rows:,} rows")
            if round_no == 1:
                hand_snapshot = snapshot(db_name)
            reset(db_name)
            seconds, func_rows = timed(
                db_name, "SELECT aggregate_metrics(make_interval(secs => %(width)s))", {"width": args.bucket}
            )
            func_times.append(seconds)
            log(f"round {round_no}: aggregate_metrics           {seconds:.2f} s, {func_rows:,} rows")
            if round_no == 1:
                func_snapshot = snapshot(db_name)
        seconds_again, rows_again = timed(
            db_name, "SELECT aggregate_metrics(make_interval(secs => %(width)s))", {"width": args.bucket}
        )
        # Incremental: one more minute of data (1/360 of the rows) arrives now.
        fresh = max(1, args.rows // 360)
        with psycopg.connect(with_db(SUPERUSER_URL, db_name)) as conn:
            conn.execute(
                "INSERT INTO apm_metrics (organization_id, service, metric_name, value, unit, recorded_at)"
                " SELECT organization_id, service, metric_name, value * 1.1, unit,"
                " now() - random() * interval '1 minute'"
                " FROM apm_metrics ORDER BY recorded_at DESC LIMIT %s",
                [fresh],
            )
        seconds_fresh, rows_fresh = timed(
            db_name, "SELECT aggregate_metrics(make_interval(secs => %(width)s))", {"width": args.bucket}
        )

        hand, func = min(hand_times), min(func_times)
        print()
        print(
            f"rows: {args.rows:,} over {ORGS * SERVICES * METRICS} series and {SPAN_S // 3600} h; "
            f"bucket {args.bucket} s; best of {args.rounds}; {os.cpu_count()} CPU(s)"
        )
        print(
            f"hand-written INSERT … SELECT : {hand:8.2f} s  {args.rows / hand:>12,.0f} rows/s  "
            f"({hand_rows:,} aggregation rows)"
        )
        print(
            f"aggregate_metrics(interval)  : {func:8.2f} s  {args.rows / func:>12,.0f} rows/s  "
            f"({func_rows:,} aggregation rows)"
        )
        ratio = func / hand
        print(f"ratio function / hand-written: {ratio:.2f}  (target <= 1.1: {'met' if ratio <= 1.1 else 'NOT met'})")
        print(f"next run, nothing new                : {seconds_again * 1000:8.0f} ms, {rows_again} rows written")
        print(
            f"next run, {fresh:,} new points in the last minute: {seconds_fresh * 1000:8.0f} ms, "
            f"{rows_fresh:,} rows written"
        )
        ok = hand_rows == func_rows and hand_snapshot == func_snapshot
        if not ok:
            print("MISMATCH: the function and the hand-written SQL wrote different aggregations", file=sys.stderr)
        return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
