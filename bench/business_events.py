"""Benchmark business event ingest through the real HTTP endpoint beside a raw COPY of the same rows.

Usage (PostgreSQL up, e.g. after ``make test`` or ``make run``; nothing else needed)::

    .venv/bin/python bench/business_events.py [--batches 200] [--batch-size 1000] [--concurrency 4]
        [--servers 2] [--keep]

What it does, in one run (the harness of ``bench/ingest.py``, imported from it):

1. creates a scratch database ``bench_business_<pid>``, migrates it, and creates one organization and
   its API key (never the dev or a test database);
2. starts ``--servers`` portal processes (gunicorn, one sync worker each, application role,
   ``DEBUG=false``) on free loopback ports;
3. HTTP: POSTs ``--batches`` batches of ``--batch-size`` events (a realistic mix: a third with an
   amount and a currency, properties on every event) to ``/api/v1/business-events/`` from
   ``--concurrency`` client threads, and measures events/s over wall-clock time and the p50/p99
   request latency (ms); every request is validated whole, then COPYed through the staging table;
4. baseline: the same rows again, batch by batch (one transaction each), with a raw
   ``COPY business_events FROM STDIN`` from as many connections (superuser of ``PG_SUPERUSER_URL``:
   PostgreSQL refuses COPY FROM into a table under row-level security for any other role);
5. prints both throughputs and their ratio, checks that each phase stored every row, and drops the
   scratch database. Exits 1 when a request is not a 202 or a row count is off.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _scratch import ROOT, SUPERUSER_URL, log, scratch_database, stop_processes, with_db  # noqa: E402
from ingest import free_port, http_phase, percentile, run_env, setup_org, wait_for  # noqa: E402

TYPES = ("gallery_viewed", "rsvp_submitted", "form_submitted", "booking_created", "payment_succeeded", "payment_failed")
COLUMNS = 'organization_id, event_type, actor_id, properties, revenue_impact, currency, "timestamp"'


def make_batches(count: int, size: int, now: float) -> list[list[dict]]:
    """``count`` batches of ``size`` events in the last 10 minutes."""
    rnd = random.Random(1)
    batches = []
    for _ in range(count):
        batch = []
        for _ in range(size):
            kind = rnd.choice(TYPES)
            event = {
                "event_type": kind,
                "actor_id": f"client-{rnd.randrange(100_000)}",
                "timestamp": round(now - rnd.random() * 600, 3),
                "properties": {"feature": kind.split("_")[0], "page": f"/w/{rnd.randrange(500)}"},
            }
            if kind in ("booking_created", "payment_succeeded", "payment_failed"):
                event["revenue_impact"] = f"{rnd.uniform(50, 3000):.2f}"
                event["currency"] = "GBP"
            batch.append(event)
        batches.append(batch)
    return batches


def copy_rows(org_id: str, batches: list[list[dict]]) -> list[list[tuple]]:
    """The batches as COPY rows (converted before timing, so the baseline times COPY alone)."""
    from decimal import Decimal

    return [
        [
            (
                org_id,
                e["event_type"],
                e["actor_id"],
                json.dumps(e["properties"], separators=(",", ":")),
                Decimal(e["revenue_impact"]) if "revenue_impact" in e else None,
                e.get("currency", ""),
                dt.datetime.fromtimestamp(e["timestamp"], tz=dt.UTC),
            )
            for e in batch
        ]
        for batch in batches
    ]


def copy_phase(db_name: str, batches: list[list[tuple]], concurrency: int) -> tuple[float, list[float]]:
    """Raw COPY of every batch, one transaction each; returns ``(wall s, per-batch ms)``."""
    queue = list(batches)
    lock = threading.Lock()
    latencies: list[float] = []

    def worker() -> None:
        with psycopg.connect(with_db(SUPERUSER_URL, db_name)) as conn:
            while True:
                with lock:
                    if not queue:
                        return
                    batch = queue.pop()
                started = time.perf_counter()
                with conn.transaction(), conn.cursor() as cur:
                    with cur.copy(f"COPY business_events ({COLUMNS}) FROM STDIN") as copy:
                        for row in batch:
                            copy.write_row(row)
                with lock:
                    latencies.append((time.perf_counter() - started) * 1000)

    started = time.perf_counter()
    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - started, sorted(latencies)


def count_rows(db_name: str, org_id: str) -> int:
    with psycopg.connect(with_db(SUPERUSER_URL, db_name)) as conn:
        return conn.execute("SELECT count(*) FROM business_events WHERE organization_id = %s", [org_id]).fetchone()[0]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=int, default=200, help="batches to send (default 200)")
    parser.add_argument("--batch-size", type=int, default=1000, help="events per batch (default 1000)")
    parser.add_argument("--concurrency", type=int, default=4, help="client threads and COPY connections")
    parser.add_argument("--servers", type=int, default=os.cpu_count() or 2, help="portal processes")
    parser.add_argument("--keep", action="store_true", help="keep the scratch database")
    args = parser.parse_args(argv)
    if min(args.batches, args.batch_size, args.concurrency, args.servers) < 1:
        parser.error("sizes must be positive")
    servers: list[subprocess.Popen] = []
    with scratch_database("bench_business", keep=args.keep) as db_name:
        try:
            return _measure(args, db_name, servers)
        finally:
            stop_processes(servers, timeout_s=10)


def _measure(args, db_name: str, servers: list) -> int:
    org_id, key = setup_org(db_name)
    log(f"building {args.batches} batches of {args.batch_size} events")
    batches = make_batches(args.batches, args.batch_size, time.time())
    bodies = [json.dumps({"events": b}).encode() for b in batches]
    total = args.batches * args.batch_size
    ports = [free_port() for _ in range(args.servers)]
    for port in ports:
        servers.append(
            subprocess.Popen(
                [
                    str(ROOT / ".venv" / "bin" / "gunicorn"),
                    "wedsync_ops.wsgi:application",
                    "--bind",
                    f"127.0.0.1:{port}",
                    "--workers",
                    "1",
                    "--log-level",
                    "warning",
                ],
                cwd=ROOT,
                env=run_env(db_name),
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        )
    for port, proc in zip(ports, servers, strict=True):
        wait_for(port, proc)
    log(f"{len(ports)} portal process(es) up on ports {ports}")

    ok = True
    log(f"HTTP phase (/api/v1/business-events/), {args.concurrency} client threads")
    http_wall, http_ms, failed = http_phase(
        ports,
        key,
        bodies,
        args.concurrency,
        path="/api/v1/business-events/",
        content_type="application/json",
        ok_status=202,
    )
    stored = count_rows(db_name, org_id)
    if failed:
        print(f"HTTP: {len(failed)} of {args.batches} requests failed: status {sorted(set(failed))}", file=sys.stderr)
        ok = False
    if stored != total:
        print(f"HTTP: {stored} rows stored, expected {total}", file=sys.stderr)
        ok = False
    log(f"raw COPY phase, {args.concurrency} connections")
    copy_wall, copy_ms = copy_phase(db_name, copy_rows(org_id, batches), args.concurrency)
    if count_rows(db_name, org_id) - stored != total:
        print("COPY: a row count is off", file=sys.stderr)
        ok = False

    copy_rate, http_rate = total / copy_wall, total / http_wall
    print()
    print(
        f"events: {total:,} per phase in batches of {args.batch_size:,}; concurrency {args.concurrency}, "
        f"{args.servers} server process(es), {os.cpu_count()} CPU(s)"
    )
    print(
        f"{'raw COPY business_events':34s}: {copy_rate:>10,.0f} events/s  ({copy_wall:.2f} s)  "
        f"batch latency   p50 {statistics.median(copy_ms):.1f} ms, p99 {percentile(copy_ms, 0.99):.1f} ms"
    )
    print(
        f"{'HTTP /api/v1/business-events/':34s}: {http_rate:>10,.0f} events/s  ({http_wall:.2f} s)  "
        f"request latency p50 {statistics.median(http_ms):.1f} ms, p99 {percentile(http_ms, 0.99):.1f} ms"
    )
    print(f"{'  ratio to raw COPY':34s}: {http_rate / copy_rate:.2f}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
