"""Benchmark the server time of ``/ops/db/`` while pg_stat_statements holds 5,000 distinct statements.

Usage (PostgreSQL up with pg_stat_statements preloaded, e.g. after ``make test``)::

    .venv/bin/python bench/dbpage.py [--statements 5000] [--history-minutes 60] [--runs 15] [--full] [--keep]

What it does, in one run:

1. creates a scratch database ``bench_dbpage_<pid>`` (as the superuser of
   ``PG_SUPERUSER_URL``, only to create and drop it and its
   pg_stat_statements extension), owned by the owner role, and migrates it
   as the owner (never the dev database ``wedsync`` nor a test database);
2. baseline: renders ``/ops/db/`` (Django test client, logged in as staff,
   application role, in this process) ``--runs`` times with only the
   scratch database's own few statements, and records each run's server
   time (ms);
3. load: runs ``--statements`` distinct statements in the scratch database
   (each its own CTE name, so its own pg_stat_statements entry; the server
   keeps at most ``pg_stat_statements.max`` = 5,000, so other databases'
   entries are evicted: the view then holds ~5,000 statements, nearly all
   of them ours), and writes ``--history-minutes`` snapshots one minute
   apart (``capture_db_snapshot``) with a slice of the statements run
   between two snapshots, so the page's history charts and top statements
   have data;
4. renders the page ``--runs`` times again, and times its parts
   (``health_report``, ``trend_charts``, ``migrations_status``) alone;
5. prints median and p95 (ms) of each, the ratio loaded / baseline, and
   drops the scratch database (``--keep`` keeps it).

``--full`` writes 24 hours of history (1,440 snapshots, the charts' full
window) instead of 60 minutes. Exits 1 when a page answer is not 200.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import subprocess
import sys
import time
import urllib.parse
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _scratch import APP_URL, OWNER_URL, PYTHON, ROOT, SUPERUSER_URL, with_db  # noqa: E402


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def percentile(sorted_values: list[float], q: float) -> float:
    """Nearest-rank percentile of an ascending list (q in 0..1)."""
    return sorted_values[min(len(sorted_values) - 1, max(0, round(q * len(sorted_values)) - 1))]


def stats(values: list[float]) -> tuple[float, float]:
    ordered = sorted(values)
    return statistics.median(ordered), percentile(ordered, 0.95)


def create_database(name: str) -> None:
    owner = urllib.parse.urlsplit(OWNER_URL).username
    with psycopg.connect(SUPERUSER_URL, autocommit=True) as su:
        su.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        su.execute(f'CREATE DATABASE "{name}" OWNER "{owner}"')
    with psycopg.connect(with_db(SUPERUSER_URL, name), autocommit=True) as su:
        su.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
        su.execute(f'ALTER SCHEMA public OWNER TO "{owner}"')
    env = dict(
        os.environ,
        DATABASE_URL=with_db(APP_URL, name),
        DATABASE_OWNER_URL=with_db(OWNER_URL, name),
        WEDSYNC_DB_ROLE="owner",
    )
    subprocess.run([PYTHON, "manage.py", "migrate", "--no-input", "-v", "0"], cwd=ROOT, env=env, check=True)


def drop_database(name: str) -> None:
    with psycopg.connect(SUPERUSER_URL, autocommit=True) as su:
        su.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def time_page(client, runs: int, label: str) -> list[float]:
    """Server time (ms) of ``runs`` GETs of /ops/db/ through the whole Django stack, in this process."""
    times = []
    for i in range(runs):
        start = time.perf_counter()
        response = client.get("/ops/db/")
        times.append((time.perf_counter() - start) * 1000)
        if response.status_code != 200:
            log(f"{label}: /ops/db/ answered {response.status_code}")
            sys.exit(1)
        print(f"\r  {label}: run {i + 1}/{runs} {times[-1]:.0f} ms", end="", flush=True)
    print(flush=True)
    return times


def time_call(fn, runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--statements", type=int, default=5000, help="distinct statements to run (default 5000)")
    parser.add_argument("--history-minutes", type=int, default=60, help="snapshots one minute apart (default 60)")
    parser.add_argument("--runs", type=int, default=15, help="page renders per phase (default 15)")
    parser.add_argument("--full", action="store_true", help="24 hours of history (1,440 snapshots)")
    parser.add_argument("--keep", action="store_true", help="keep the scratch database")
    args = parser.parse_args()
    if args.full:
        args.history_minutes = 1440
    name = f"bench_dbpage_{os.getpid()}"

    log(f"creating and migrating scratch database {name}")
    create_database(name)
    try:
        run(name, args)
    finally:
        if args.keep:
            log(f"kept {name}")
        else:
            from django.db import connections

            connections.close_all()
            drop_database(name)
            log(f"dropped {name}")


def run(name: str, args) -> None:
    os.environ.update(
        DATABASE_URL=with_db(APP_URL, name),
        DATABASE_OWNER_URL=with_db(OWNER_URL, name),
        WEDSYNC_DB_ROLE="app",
        DEBUG="false",
        CONN_MAX_AGE="600",
    )
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "wedsync_ops.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client
    from django.utils import timezone

    from dbmonitor import selectors, views
    from wedsync_ops.tenancy.context import service_context, staff_context

    with service_context():
        staff = get_user_model().objects.create_user("bench-staff", "bench@example.com", "x", is_staff=True)
    client = Client()
    client.force_login(staff)

    with connection.cursor() as cur:
        cur.execute("SHOW pg_stat_statements.max")
        pgss_max = cur.fetchone()[0]
    log(f"pg_stat_statements.max = {pgss_max}")

    client.get("/ops/db/")  # warm-up: templates, migration loader imports, connection
    baseline = time_page(client, args.runs, "baseline")

    log(f"running {args.statements} distinct statements and {args.history_minutes} snapshots")
    now = timezone.now().replace(second=0, microsecond=0)
    first_taken = now - dt.timedelta(minutes=args.history_minutes)
    per_minute = max(1, args.statements // max(1, args.history_minutes))
    with connection.cursor() as cur:
        with service_context():
            cur.execute("SELECT capture_db_snapshot(%s)", [first_taken])
        done = 0
        for minute in range(1, args.history_minutes + 1):
            batch = range(done, min(args.statements, done + per_minute)) if done < args.statements else range(0)
            for i in batch:
                cur.execute(f"WITH bench_stmt_{i} AS (SELECT %s::int AS v) SELECT v FROM bench_stmt_{i}", [i])
            done += len(batch)
            # Some activity every minute: repeat a few statements already seen.
            for i in range(0, min(done, 50)):
                cur.execute(f"WITH bench_stmt_{i} AS (SELECT %s::int AS v) SELECT v FROM bench_stmt_{i}", [i])
            with service_context():
                cur.execute("SELECT capture_db_snapshot(%s)", [first_taken + dt.timedelta(minutes=minute)])
            print(f"\r  minute {minute}/{args.history_minutes}, {done} statements", end="", flush=True)
        print(flush=True)
        # Every statement once more, last: the most recently used entries are the ones
        # pg_stat_statements keeps when other databases' statements compete for its slots.
        for i in range(args.statements):
            cur.execute(f"WITH bench_stmt_{i} AS (SELECT %s::int AS v) SELECT v FROM bench_stmt_{i}", [i])
        cur.execute(
            "SELECT count(*), count(*) FILTER (WHERE dbid = (SELECT oid FROM pg_database"
            " WHERE datname = current_database())) FROM pg_stat_statements"
        )
        total, ours = cur.fetchone()
        with service_context():
            cur.execute("SELECT count(*) FROM db_statement_counters")
            counters = cur.fetchone()[0]
    log(
        f"pg_stat_statements holds {total} statements ({ours} of the scratch database);"
        f" {counters} statement baselines stored"
    )

    loaded = time_page(client, args.runs, "5,000 statements")
    with staff_context():
        parts = {
            "health_report": time_call(selectors.health_report, args.runs),
            "trend_charts": time_call(lambda: views.trend_charts(now=timezone.now()), args.runs),
            "migrations_status": time_call(selectors.migrations_status, args.runs),
        }

    b_med, b_p95 = stats(baseline)
    l_med, l_p95 = stats(loaded)
    print()
    print(f"/ops/db/ server time over {args.runs} runs (Django test client, staff, application role)")
    print(f"  baseline (few statements)               median {b_med:8.1f} ms   p95 {b_p95:8.1f} ms")
    print(f"  pg_stat_statements {total:>5} ({ours:>5} here) median {l_med:8.1f} ms   p95 {l_p95:8.1f} ms")
    print(f"  ratio loaded / baseline                 median {l_med / b_med:8.2f}x    p95 {l_p95 / b_p95:8.2f}x")
    print(f"  history: {args.history_minutes} snapshots, {counters} statement baselines")
    print("parts (loaded):")
    for part, values in parts.items():
        med, p95 = stats(values)
        print(f"  {part:<20} median {med:8.1f} ms   p95 {p95:8.1f} ms")


if __name__ == "__main__":
    main()
