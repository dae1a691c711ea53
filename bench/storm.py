"""Benchmark an alert storm against the served configuration: gunicorn (gunicorn.conf.py), a worker per queue, beat.

Usage (PostgreSQL and Redis up, e.g. after ``make test``)::

    .venv/bin/python bench/storm.py [--alerts 500] [--concurrency 8 32] [--web-workers 5] [--keep]

What it does, in one run:

1. creates a scratch database ``bench_storm_<pid>`` (``bench/_scratch.py``), an
   organization, a platform webhook channel pointing at a local HTTP receiver
   in this process, and one Alertmanager integration per phase (each phase
   starts with a fresh rate-limit window: the default 300 alerts per 5 min);
2. starts the portal as ``make run`` does: gunicorn with ``gunicorn.conf.py``
   (``--web-workers`` sync workers, ``CONN_MAX_AGE`` as configured), Celery
   workers for ``critical`` (2 processes) and ``default`` (1, the backlog
   drain), and beat; broker, beat lock and rate limiter in Redis database 14;
3. baseline: ``--alerts`` distinct alerts posted one at a time (concurrency 1);
   then the same number of new distinct alerts at each ``--concurrency``;
4. per phase prints: answers 200 (stored inline) / 202 (parked over the rate
   limit, ingested by the worker) / 429 / 5xx, request p50/p99 (ms), the peak
   of PostgreSQL connections to the scratch database (sampled every 50 ms
   from ``pg_stat_activity`` during the posts and until the last
   notification) against the bound the configuration allows, and the time
   from the first post until every notification reached the receiver;
   ratios of p99 and of that time to the baseline.

Exits 1 when any answer is a 5xx or 429, or a notification is missing.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import json
import os
import statistics
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import psycopg
import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _scratch import (  # noqa: E402
    PYTHON,
    ROOT,
    SUPERUSER_URL,
    log,
    scratch_database,
    scratch_env,
    stop_processes,
    with_db,
)
from ingest import free_port, percentile, wait_for  # noqa: E402

BROKER_DB = 14
CRITICAL_PROCESSES = 2


class _Receiver(BaseHTTPRequestHandler):
    def do_POST(self):  # noqa: N802 (http.server's naming)
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        with self.server.lock:
            self.server.count += 1
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


def start_receiver() -> ThreadingHTTPServer:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
    server.daemon_threads, server.count, server.lock = True, 0, threading.Lock()
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def redis_url(db: int) -> str:
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"))
    return urlunsplit((parts.scheme, parts.netloc, f"/{db}", "", ""))


def run_env(db_name: str, **extra) -> dict:
    """The portal's environment on ``db_name``, as deployed (DEBUG off, configured CONN_MAX_AGE)."""
    broker = redis_url(BROKER_DB)
    return scratch_env(
        db_name,
        DEBUG="false",
        LOG_LEVEL="WARNING",
        CELERY_BROKER_URL=broker,
        REDBEAT_REDIS_URL=broker,
        INTEGRATION_RATE_LIMIT_REDIS_URL=broker,
        REDBEAT_KEY_PREFIX=f"bench-storm-{os.getpid()}:",
        APM_SELF_SAMPLE_RATE="0",
        # The local receiver is on loopback, which the outbound client refuses unless allowed.
        OUTBOUND_ALLOW_PRIVATE_NETWORKS="127.0.0.1/32",
        **extra,
    )


def setup(db_name: str, receiver_url: str, phases: int) -> list[str]:
    """Organization, platform webhook channel, one Alertmanager integration per phase; returns their tokens."""
    code = (
        "from wedsync_ops.tenancy.context import service_context\n"
        "from wedsync_ops.tenancy.models import Organization\n"
        "from notifications.models import NotificationChannel\n"
        "from alerts.services import integration_create\n"
        "with service_context():\n"
        "    Organization.objects.create(slug='storm-florals', name='Storm Florals', timezone='Europe/London')\n"
        f"    NotificationChannel.objects.create(kind='webhook', name='sink', config={{'url': '{receiver_url}'}})\n"
        f"    for i in range({phases}):\n"
        "        print(integration_create(kind='alertmanager', name=f'storm {i}', organization_id=None)[1])\n"
    )
    out = subprocess.run(
        [PYTHON, "manage.py", "shell", "-c", code],
        cwd=ROOT,
        env=run_env(db_name),
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split()
    return out[-phases:]


def payload(phase: int, i: int) -> bytes:
    """An Alertmanager webhook v4 payload with one firing alert, distinct per (phase, i)."""
    name = f"Storm{phase}x{i:04d}"
    alert = {
        "status": "firing",
        "labels": {
            "alertname": name,
            "organization": "storm-florals",
            "severity": "warning",
            "instance": f"web-{i % 7}",
        },
        "annotations": {"summary": f"storm alert {i} of phase {phase}"},
        "startsAt": "2026-06-13T10:00:00Z",
        "endsAt": "0001-01-01T00:00:00Z",
        "generatorURL": "http://prometheus.local/graph",
        "fingerprint": f"{phase:04x}{i:012x}",
    }
    return json.dumps(
        {
            "version": "4",
            "groupKey": f'{{}}:{{alertname="{name}"}}',
            "truncatedAlerts": 0,
            "status": "firing",
            "receiver": "wedsync-ops",
            "groupLabels": {"alertname": name},
            "commonLabels": alert["labels"],
            "commonAnnotations": alert["annotations"],
            "externalURL": "http://alertmanager.local",
            "alerts": [alert],
        }
    ).encode()


class PeakConnections:
    """Samples the portal's connections to one database (``pg_stat_activity``) every 50 ms in a thread; ``peak``."""

    def __init__(self, db_name: str):
        self.db_name, self.peak, self._stop = db_name, 0, threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        with psycopg.connect(SUPERUSER_URL, autocommit=True) as conn:
            while not self._stop.is_set():
                # The portal's connections (the application role), not this benchmark's own superuser polls.
                n = conn.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND usename <> current_user",
                    [self.db_name],
                ).fetchone()[0]
                self.peak = max(self.peak, n)
                self._stop.wait(0.05)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join(timeout=5)


def deliveries(db_name: str) -> tuple[int, int, int]:
    """``(alerts stored, deliveries, deliveries not delivered yet)`` in the scratch database."""
    with psycopg.connect(with_db(SUPERUSER_URL, db_name)) as conn:
        return conn.execute(
            "SELECT (SELECT count(*) FROM alert_history), count(*), count(*) FILTER (WHERE status <> 'delivered')"
            " FROM notification_deliveries"
        ).fetchone()


def phase(
    port: int, token: str, number: int, alerts: int, concurrency: int, db_name: str, receiver, stored_before: int
) -> dict:
    """Post ``alerts`` distinct alerts at ``concurrency``; wait for every notification; returns the figures."""
    url = f"http://127.0.0.1:{port}/api/v1/integrations/alertmanager/"
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    local = threading.local()
    bodies = [payload(number, i) for i in range(alerts)]

    def post(body: bytes) -> tuple[int, float]:
        session = getattr(local, "session", None) or requests.Session()
        local.session = session
        started = time.perf_counter()
        status = session.post(url, data=body, headers=headers, timeout=60).status_code
        return status, (time.perf_counter() - started) * 1000

    received_before = receiver.count
    with PeakConnections(db_name) as peak:
        started = time.perf_counter()
        with concurrent.futures.ThreadPoolExecutor(concurrency) as pool:
            results = list(pool.map(post, bodies))
        posted_s = time.perf_counter() - started
        log(f"  posted in {posted_s:.1f} s; waiting for every alert to be stored and notified")
        deadline, next_report = time.monotonic() + 600, time.monotonic() + 5
        while time.monotonic() < deadline:
            stored, total, pending = deliveries(db_name)
            if stored - stored_before >= alerts and pending == 0 and receiver.count >= total:
                break
            if time.monotonic() >= next_report:
                log(
                    f"  stored {stored - stored_before}/{alerts}, deliveries {total - pending}/{total} done,"
                    f" receiver got {receiver.count}"
                )
                next_report += 5
            time.sleep(0.1)
        notified_s = time.perf_counter() - started
    statuses = [s for s, _ in results]
    latencies = sorted(ms for _, ms in results)
    stored, total, pending = deliveries(db_name)
    return {
        "concurrency": concurrency,
        "200": statuses.count(200),
        "202": statuses.count(202),
        "429": statuses.count(429),
        "5xx": sum(1 for s in statuses if s >= 500),
        "p50": statistics.median(latencies),
        "p99": percentile(latencies, 0.99),
        "posted_s": posted_s,
        "notified_s": notified_s,
        "peak": peak.peak,
        "stored": stored - stored_before,
        "pending": pending,
        "received": receiver.count - received_before,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--alerts", type=int, default=500, help="distinct alerts per phase (default 500)")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[8, 32], help="client threads (8 32)")
    parser.add_argument("--web-workers", type=int, default=5, help="gunicorn workers (WEB_CONCURRENCY, 5)")
    parser.add_argument("--keep", action="store_true", help="keep the scratch database")
    args = parser.parse_args(argv)
    if args.alerts < 1 or args.web_workers < 1 or min(args.concurrency) < 1:
        parser.error("sizes must be positive")
    import redis

    redis.Redis.from_url(redis_url(BROKER_DB)).flushdb()
    receiver = start_receiver()
    procs: list[subprocess.Popen] = []
    with scratch_database("bench_storm", keep=args.keep) as db_name:
        try:
            return _measure(args, db_name, receiver, procs)
        finally:
            stop_processes(procs)
            receiver.shutdown()


def _measure(args, db_name: str, receiver, procs: list) -> int:
    levels = [1, *args.concurrency]
    tokens = setup(db_name, f"http://127.0.0.1:{receiver.server_address[1]}/hook", len(levels))
    port = free_port()
    env = run_env(db_name, PORT=str(port), WEB_CONCURRENCY=str(args.web_workers))
    celery = [PYTHON, "-m", "celery", "-A", "wedsync_ops", "-q"]
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL, "cwd": ROOT, "env": env}
    procs.append(subprocess.Popen([PYTHON, "-m", "gunicorn", "-c", "gunicorn.conf.py", "wedsync_ops.wsgi"], **quiet))
    procs.append(
        subprocess.Popen(
            [
                *celery,
                "worker",
                "-Q",
                "critical",
                "-n",
                "critical@%h",
                f"--concurrency={CRITICAL_PROCESSES}",
                "--without-gossip",
                "--without-mingle",
            ],
            **quiet,
        )
    )
    procs.append(
        subprocess.Popen(
            [
                *celery,
                "worker",
                "-Q",
                "default",
                "-n",
                "default@%h",
                "--concurrency=1",
                "--without-gossip",
                "--without-mingle",
            ],
            **quiet,
        )
    )
    procs.append(subprocess.Popen([*celery, "beat"], **quiet))
    wait_for(port, procs[0])
    requests.get(f"http://127.0.0.1:{port}/health/ready", timeout=30)
    # Persistent connections: one per gunicorn sync worker and per worker process; one more for a probe.
    bound = args.web_workers + CRITICAL_PROCESSES + 1 + 1
    log(
        f"gunicorn ({args.web_workers} workers) on port {port}, critical x{CRITICAL_PROCESSES} + default x1 workers,"
        f" beat; {args.alerts} alerts per phase"
    )
    figures, stored = [], 0
    for number, (concurrency, token) in enumerate(zip(levels, tokens, strict=True)):
        log(f"phase {number}: {args.alerts} alerts at concurrency {concurrency}")
        result = phase(port, token, number, args.alerts, concurrency, db_name, receiver, stored)
        stored += result["stored"]
        figures.append(result)
    base = figures[0]
    print()
    print(
        f"{args.alerts} distinct Alertmanager alerts per phase, one per post; gunicorn {args.web_workers} sync"
        f" workers; {os.cpu_count()} CPU(s); default rate limit (300 alerts / 5 min per integration)"
    )
    print(
        f"PostgreSQL connection bound of this configuration: {bound} (one per web worker, critical"
        f" x{CRITICAL_PROCESSES}, default x1, and one probe)"
    )
    print(
        f"{'concurrency':>11} {'200':>5} {'202':>5} {'429':>5} {'5xx':>5} {'p50 ms':>8} {'p99 ms':>8} "
        f"{'posts s':>8} {'all notified s':>15} {'peak conns':>11} {'p99 ratio':>10} {'notified ratio':>15}"
    )
    ok = True
    for f in figures:
        print(
            f"{f['concurrency']:>11} {f['200']:>5} {f['202']:>5} {f['429']:>5} {f['5xx']:>5} {f['p50']:>8.1f} "
            f"{f['p99']:>8.1f} {f['posted_s']:>8.2f} {f['notified_s']:>15.2f} {f['peak']:>11} "
            f"{f['p99'] / base['p99']:>10.2f} {f['notified_s'] / base['notified_s']:>15.2f}"
        )
        if f["5xx"] or f["429"] or f["stored"] < args.alerts or f["pending"] or f["peak"] > bound:
            ok = False
    print(f"every alert stored and notified, 0 x 5xx, peak within the bound: {'yes' if ok else 'NO'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
