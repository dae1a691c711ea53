"""Large-scale metric points for the benchmarks that need millions of rows on a seeded scratch database.

``load_points`` writes N points for the organizations already there (after
``seed_demo``), with the wedding context ingest would give them;
``aggregate_all`` runs the beat job's three bucket widths; ``seed_query_plans``
EXPLAINs the seed's wedding-day queries as a vendor would run them.
"""

from __future__ import annotations

import time

import psycopg
from _scratch import APP_URL, SUPERUSER_URL, log, with_db

SERVICES = ("booking-api", "payments", "gallery", "email")
METRIC = "http.request.duration_ms"
CHUNK = 1_000_000

# The seed's wedding-day queries on apm_metrics: by organization and wedding day.
SEED_QUERIES = {
    "newest wedding-day points": (
        "SELECT service, metric_name, value, recorded_at FROM apm_metrics"
        " WHERE organization_id = %(org)s AND (wedding_context->>'is_wedding_day')::boolean = true"
        " ORDER BY recorded_at DESC LIMIT 100"
    ),
    "wedding-day p95 per service, last 7 days": (
        "SELECT service, metric_name, count(*), avg(value),"
        " percentile_cont(0.95) WITHIN GROUP (ORDER BY value) AS p95 FROM apm_metrics"
        " WHERE organization_id = %(org)s AND (wedding_context->>'is_wedding_day')::boolean = true"
        " AND recorded_at > now() - interval '7 days' GROUP BY service, metric_name"
    ),
}


def load_points(db_name: str, rows: int, *, days: int) -> None:
    """Insert ``rows`` latency points spread over the organizations, 4 services and the last ``days`` days.

    As the superuser (bypassing RLS), by ``INSERT … SELECT generate_series``
    in chunks of a million with progress lines; each row's wedding_context
    is that of its organization's local date, computed once per
    (organization, date) by the SQL function ``wedding_context`` and joined
    in, as ingest does. ``ingested_at`` is 2 s after ``recorded_at``. Then
    ``VACUUM ANALYZE``.
    """
    with psycopg.connect(with_db(SUPERUSER_URL, db_name)) as conn:
        conn.execute(
            "SELECT apm_ensure_metric_partitions((now() - make_interval(days => %s + 1))::date,"
            " (now() + interval '1 day')::date)",
            [days],
        )
        conn.execute(
            "CREATE TEMP TABLE bench_contexts AS"
            " SELECT o.id AS organization_id, d::date AS local_day, wedding_context(o.id, d::date) AS ctx"
            " FROM organizations o, generate_series((now() - make_interval(days => %s + 1))::date,"
            " (now() + interval '1 day')::date, interval '1 day') d",
            [days],
        )
        orgs = conn.execute(
            "SELECT array_agg(id ORDER BY slug), array_agg(timezone ORDER BY slug) FROM organizations"
        ).fetchone()
        conn.commit()
        started, done = time.monotonic(), 0
        log(f"loading {rows:,} metric points over {len(orgs[0])} organizations and {days} days")
        while done < rows:
            n = min(CHUNK, rows - done)
            conn.execute(
                """
                INSERT INTO apm_metrics (organization_id, service, metric_name, value, unit, tags, recorded_at,
                                         ingested_at, wedding_context)
                SELECT p.org, (%(services)s::text[])[1 + (g / %(n_orgs)s) %% 4], %(metric)s,
                       round(exp(4.5 + 0.5 * sqrt(-2 * ln(1 - random())) * cos(2 * pi() * random()))::numeric, 2),
                       'ms', '{"bench": "large"}'::jsonb, p.at, p.at + interval '2 seconds', c.ctx
                FROM generate_series(%(lo)s, %(hi)s) g
                CROSS JOIN LATERAL (
                    SELECT (%(orgs)s::uuid[])[1 + g %% %(n_orgs)s] AS org,
                           (%(zones)s::text[])[1 + g %% %(n_orgs)s] AS tz,
                           now() - interval '10 minutes' - random() * make_interval(days => %(days)s)
                           + g * interval '0' AS at
                ) p
                LEFT JOIN bench_contexts c ON c.organization_id = p.org AND c.local_day = (p.at AT TIME ZONE p.tz)::date
                """,
                {
                    "services": list(SERVICES),
                    "metric": METRIC,
                    "lo": done,
                    "hi": done + n - 1,
                    "orgs": orgs[0],
                    "zones": orgs[1],
                    "n_orgs": len(orgs[0]),
                    "days": days,
                },
            )
            conn.commit()
            done += n
            rate = done / (time.monotonic() - started)
            log(f"  loaded {done:,}/{rows:,} points ({rate:,.0f}/s)")
    with psycopg.connect(with_db(SUPERUSER_URL, db_name), autocommit=True) as conn:
        log("VACUUM ANALYZE apm_metrics")
        conn.execute("VACUUM ANALYZE apm_metrics")


def aggregate_all(db_name: str) -> None:
    """``aggregate_metrics`` for 1-minute, 5-minute and 1-hour buckets, as the beat job (application role, service).

    The watermarks are cleared first: the loaded points' ``ingested_at`` lie
    in the past (as if the beat had seen them arrive), so every width
    aggregates every point, as the beat would have done over those days.
    """
    with psycopg.connect(with_db(SUPERUSER_URL, db_name), autocommit=True) as conn:
        conn.execute("TRUNCATE apm_aggregation_watermarks")
    with psycopg.connect(with_db(APP_URL, db_name), autocommit=True) as conn:
        conn.execute("SELECT set_config('app.role', 'service', false)")
        for width in (60, 300, 3600):
            started = time.monotonic()
            written = conn.execute("SELECT aggregate_metrics(make_interval(secs => %s))", [width]).fetchone()[0]
            log(f"aggregate_metrics({width} s): {written:,} rows in {time.monotonic() - started:.1f} s")
    with psycopg.connect(with_db(SUPERUSER_URL, db_name), autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE apm_metric_aggregations")


def seed_query_plans(db_name: str, slug: str) -> dict[str, tuple[list[str], int]]:
    """``{name: (EXPLAIN ANALYZE lines, rows)}`` of SEED_QUERIES for organization ``slug``, in its vendor context."""
    plans = {}
    with psycopg.connect(with_db(APP_URL, db_name)) as conn:
        org = (
            conn.execute("SELECT set_config('app.role', 'service', true)").fetchone()
            and conn.execute("SELECT id FROM organizations WHERE slug = %s", [slug]).fetchone()[0]
        )
        conn.rollback()
        for name, sql in SEED_QUERIES.items():
            conn.execute(
                "SELECT set_config('app.role', 'vendor', true), set_config('app.org_id', %s, true)", [str(org)]
            )
            rows = len(conn.execute(sql, {"org": org}).fetchall())
            lines = [r[0] for r in conn.execute("EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) " + sql, {"org": org})]
            conn.rollback()
            plans[name] = (lines, rows)
    return plans
