"""Benchmark metric ingest through the real HTTP endpoint beside a raw COPY of the same rows.

Usage (PostgreSQL up, e.g. after ``make test`` or ``make run``; nothing else needed)::

    .venv/bin/python bench/ingest.py [--batches 500] [--batch-size 1000] [--concurrency 4]
        [--servers 2] [--formats json,otlp] [--rounds 5] [--full] [--keep]

What it does, in one run:

1. creates a scratch database ``bench_ingest_<pid>`` (owner role of
   ``DATABASE_OWNER_URL``), migrates it, and creates one organization and
   its API key (never touches the dev database ``wedsync`` or a test DB);
2. starts ``--servers`` portal processes (gunicorn, one sync worker each, as
   the portal is deployed; application role, ``DEBUG=false``) on free
   loopback ports;
3. HTTP, for each of ``--formats``: POSTs ``--batches`` batches of
   ``--batch-size`` points from ``--concurrency`` client threads
   (round-robin over the servers) and measures points/s over wall-clock
   time and the p50/p99 request latency (ms). ``json``: the portal's JSON
   batch to ``/api/v1/metrics/``; ``otlp``: the same points as an OTLP
   ``ExportMetricsServiceRequest`` in protobuf (one resource per service,
   gauge points) to ``/v1/metrics``;
4. baseline: the same rows again, batch by batch (one transaction each),
   with a raw ``COPY apm_metrics FROM STDIN`` (wedding_context included,
   computed before timing) from as many connections as client threads
   (superuser of ``PG_SUPERUSER_URL``, since PostgreSQL refuses COPY FROM
   into a table under row-level security for any other role);
5. the phases take turns: the batches are split into ``--rounds`` rounds,
   and each round runs every phase on its share in a rotated order, so that
   a machine whose speed drifts (a shared host's CPU: raw COPY alone was
   seen to vary from 77k to 111k points/s between runs) slows every phase
   alike and each meets tables of the same sizes; a line per round shows
   progress;
6. prints every throughput over all rounds and its ratio to the baseline,
   with the range of the per-round ratios (target: HTTP ≥ 0.70 of COPY,
   p99 < 50 ms), and the CPU each phase cost per batch in PostgreSQL, the
   portal and the client (``/proc``: steadier than throughput on a shared
   host, and it says where the time goes); the server's own time per batch
   (p50/p99 and the share served within 50 ms, from the portal's
   request-duration histogram on ``/metrics``, read before and after each
   HTTP phase: the request latency less gunicorn's queue); checks that
   every phase stored every row, and drops the scratch database.

``--full`` runs 2,000 batches (2 million points) instead of 500. Exits 1 when
any request is not a 202 or a row count is off.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import datetime as dt
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

import psycopg
import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _scratch import (  # noqa: E402
    OWNER_URL,
    PYTHON,
    ROOT,
    SUPERUSER_URL,
    log,
    scratch_database,
    scratch_env,
    stop_processes,
    with_db,
)

COLUMNS = "organization_id, service, metric_name, value, unit, tags, recorded_at, wedding_context"
#: The bearer token the portal processes' /metrics answers to (their own request-duration histogram).
METRICS_TOKEN = "bench-ingest-metrics"
DURATION_FAMILY = "wedsync_ops_http_request_duration_seconds"
TIMEZONE = "Europe/London"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def percentile(sorted_values: list[float], q: float) -> float:
    """Nearest-rank percentile of an ascending list (q in 0..1)."""
    return sorted_values[min(len(sorted_values) - 1, max(0, round(q * len(sorted_values)) - 1))]


def make_batches(count: int, size: int, series: int, now: float) -> list[list[tuple]]:
    """``count`` batches of ``size`` points ``(service, name, value, unit, tags, epoch_s)`` in the last 10 minutes."""
    rnd = random.Random(1)
    return [
        [
            (
                f"svc-{i % series % 5}",
                f"metric.{i % series}",
                round(rnd.lognormvariate(4, 0.7), 3),
                "ms",
                {"host": f"web-{i % 3}"},
                round(now - rnd.random() * 600, 3),
            )
            for i in range(size)
        ]
        for _ in range(count)
    ]


def body_of(batch: list[tuple]) -> bytes:
    return json.dumps(
        {
            "metrics": [
                {"service": s, "name": n, "value": v, "unit": u, "tags": t, "timestamp": ts}
                for s, n, v, u, t, ts in batch
            ]
        }
    ).encode()


def otlp_body_of(batch: list[tuple]) -> bytes:
    """The batch as the OTLP protobuf an SDK would send: a resource per service, a gauge per metric name."""
    from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceRequest

    request = ExportMetricsServiceRequest()
    resources: dict[str, dict] = {}
    for service, name, value, unit, tags, ts in batch:
        metrics = resources.get(service)
        if metrics is None:
            resource = request.resource_metrics.add()
            resource.resource.attributes.add(key="service.name").value.string_value = service
            metrics = resources[service] = {"scope": resource.scope_metrics.add(), "by_name": {}}
        metric = metrics["by_name"].get(name)
        if metric is None:
            metric = metrics["by_name"][name] = metrics["scope"].metrics.add(name=name, unit=unit)
        point = metric.gauge.data_points.add(time_unix_nano=int(ts * 1e9), as_double=value)
        for key, tag in tags.items():
            point.attributes.add(key=key).value.string_value = tag
    return request.SerializeToString()


def run_env(db_name: str, **extra) -> dict:
    """A portal process's environment on ``db_name``, as deployed (no DEBUG, persistent connections)."""
    return scratch_env(db_name, DEBUG="false", LOG_LEVEL="WARNING", CONN_MAX_AGE="600", **extra)


def setup_org(db_name: str) -> tuple[str, str]:
    """Create the organization and its API key in the scratch DB; returns ``(org_id, raw_key)``."""
    code = (
        "from wedsync_ops.tenancy.context import service_context\n"
        "from wedsync_ops.tenancy.models import Organization\n"
        "from apm.services import api_key_create\n"
        "with service_context():\n"
        f"    org = Organization.objects.create(slug='bench-org', name='Bench', timezone='{TIMEZONE}')\n"
        "    key, raw = api_key_create(organization=org, name='bench')\n"
        "print(org.id, raw)\n"
    )
    out = subprocess.run(
        [PYTHON, "manage.py", "shell", "-c", code],
        cwd=ROOT,
        env=run_env(db_name),
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split()
    return out[-2], out[-1]


_TICK_S = 1 / os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 0.01


def cpu_seconds(server_pids: set[int]) -> dict[str, float]:
    """CPU time used so far (s, user + system, from ``/proc/<pid>/stat``) by the portal processes
    (``server_pids`` and their children: gunicorn's master and worker), by every PostgreSQL process
    (command ``postgres``: the backends, WAL writer, checkpointer) and by this client process;
    ``{}`` where there is no ``/proc``. Differences between two calls give a phase's CPU, which a
    drifting shared host changes far less than it changes wall-clock throughput."""
    if not os.path.isdir("/proc"):
        return {}
    stats = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as fh:
                raw = fh.read()
        except OSError:
            continue
        comm = raw[raw.index("(") + 1 : raw.rindex(")")]
        fields = raw[raw.rindex(")") + 2 :].split()
        # Fields after the command (proc(5)): state ppid … utime (14th of the line) stime (15th).
        stats[int(entry)] = (comm, int(fields[1]), (int(fields[11]) + int(fields[12])) * _TICK_S)
    portal = sum(cpu for pid, (_, ppid, cpu) in stats.items() if pid in server_pids or ppid in server_pids)
    postgres = sum(cpu for comm, _, cpu in stats.values() if comm.startswith("postgres"))
    return {"portal": portal, "postgres": postgres, "client": time.process_time()}


def wait_for(port: int, proc: subprocess.Popen, timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server on port {port} exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"server on port {port} did not listen within {timeout_s} s")


def count_rows(db_name: str, org_id) -> int:
    """Points stored for the benchmark's organization (the portal's own sampled request timings,
    filed under its ``wedsync-ops`` organization by the self-metrics middleware, are not counted)."""
    with psycopg.connect(with_db(SUPERUSER_URL, db_name)) as conn:
        return conn.execute("SELECT count(*) FROM apm_metrics WHERE organization_id = %s", [org_id]).fetchone()[0]


def server_buckets(ports: list[int], route: str) -> dict[float, float]:
    """``{upper bound (s): cumulative count}`` of the portal's own request-duration histogram
    (``apm.middleware.REQUEST_DURATION``: the time from the first middleware in to the response out,
    so without gunicorn's queue and HTTP parsing) for successful POSTs to ``route``, summed over the
    processes on ``ports`` (each one's ``/metrics``, bearer ``METRICS_TOKEN``)."""
    from prometheus_client.parser import text_string_to_metric_families

    out: dict[float, float] = {}
    for port in ports:
        text = requests.get(
            f"http://127.0.0.1:{port}/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"}, timeout=30
        ).text
        for family in text_string_to_metric_families(text):
            if family.name != DURATION_FAMILY:
                continue
            for sample in family.samples:
                labels = sample.labels
                if sample.name.endswith("_bucket") and labels.get("route") == route and labels.get("method") == "POST":
                    if labels.get("status") == "2xx":
                        le = float(labels["le"])
                        out[le] = out.get(le, 0.0) + sample.value
    return out


def bucket_quantile(buckets: dict[float, float], q: float) -> float | None:
    """The ``q`` quantile (0..1) of a cumulative histogram ``{upper bound: count}``, in its unit, or None
    when empty: Prometheus' ``histogram_quantile`` (linear interpolation inside the bucket that holds
    the rank, the first bucket starting at 0; a rank in the +Inf bucket answers the largest finite bound)."""
    bounds = sorted(buckets)
    total = buckets[bounds[-1]] if bounds else 0
    if not total:
        return None
    rank, lower, below = q * total, 0.0, 0.0
    for le in bounds:
        count = buckets[le]
        if count >= rank:
            if le == float("inf"):
                return lower
            return lower + (le - lower) * (rank - below) / (count - below) if count > below else le
        lower, below = le, count
    return lower


def http_phase(
    ports: list[int], key: str, bodies: list[bytes], concurrency: int, *, path: str, content_type: str, ok_status: int
) -> tuple[float, list[float], list]:
    """POST every body to ``path``; returns ``(wall seconds, latencies ms, statuses other than ok_status)``."""
    headers = {"Authorization": f"Bearer {key}", "Content-Type": content_type}
    local = threading.local()

    def post(i: int) -> tuple[int, float]:
        session = getattr(local, "session", None)
        if session is None:
            session = local.session = requests.Session()
        url = f"http://127.0.0.1:{ports[i % len(ports)]}{path}"
        started = time.perf_counter()
        response = session.post(url, data=bodies[i], headers=headers, timeout=120)
        elapsed = (time.perf_counter() - started) * 1000
        return response.status_code, elapsed

    # Warm up every server process (first request imports views, opens connections).
    for port in ports:
        requests.get(f"http://127.0.0.1:{port}/api/v1/metrics/", timeout=30)
    started = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(concurrency) as pool:
        results = list(pool.map(post, range(len(bodies))))
    wall = time.perf_counter() - started
    return wall, sorted(ms for _, ms in results), [code for code, _ in results if code != ok_status]


def copy_rows(org_id: str, batches: list[list[tuple]]) -> list[list[tuple]]:
    """The batches as COPY rows with the wedding context ingest stores (the organization has no weddings: only the
    local weekend varies); converted before timing, so the baseline times COPY alone."""
    import zoneinfo

    tz = zoneinfo.ZoneInfo(TIMEZONE)

    def context(at: dt.datetime) -> str:
        weekend = "true" if at.astimezone(tz).isoweekday() >= 6 else "false"
        return f'{{"is_weekend": {weekend}, "wedding_id": null, "is_wedding_day": false}}'

    rows = []
    for batch in batches:
        converted = []
        for service, name, value, unit, tags, ts in batch:
            at = dt.datetime.fromtimestamp(ts, tz=dt.UTC)
            converted.append(
                (org_id, service, name, value, unit, json.dumps(tags, separators=(",", ":")), at, context(at))
            )
        rows.append(converted)
    return rows


def copy_phase(conns: list, batches: list[list[tuple]]) -> tuple[float, list[float]]:
    """Raw COPY of every batch (rows from ``copy_rows``), one transaction each, one thread per connection of
    ``conns`` (open for the whole run, like the portal's persistent ones, so that their backends' CPU is
    still there to be read); returns ``(wall s, per-batch ms)``."""
    queue = list(enumerate(batches))
    lock = threading.Lock()
    latencies: list[float] = []

    def worker(conn) -> None:
        while True:
            with lock:
                if not queue:
                    return
                _, batch = queue.pop()
            started = time.perf_counter()
            with conn.transaction(), conn.cursor() as cur:
                with cur.copy(f"COPY apm_metrics ({COLUMNS}) FROM STDIN") as copy:
                    for row in batch:
                        copy.write_row(row)
            with lock:
                latencies.append((time.perf_counter() - started) * 1000)

    started = time.perf_counter()
    threads = [threading.Thread(target=worker, args=(conn,)) for conn in conns]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - started, sorted(latencies)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=int, default=500, help="batches to send (default 500; --full: 2000)")
    parser.add_argument("--batch-size", type=int, default=1000, help="points per batch (default 1000)")
    parser.add_argument("--concurrency", type=int, default=4, help="client threads and COPY connections")
    parser.add_argument("--servers", type=int, default=os.cpu_count() or 2, help="portal processes")
    parser.add_argument("--series", type=int, default=20, help="(service, metric) pairs")
    parser.add_argument("--formats", default="json,otlp", help="comma-separated: json, otlp (default both)")
    parser.add_argument("--full", action="store_true", help="2,000 batches (2 million points)")
    parser.add_argument(
        "--rounds", type=int, default=5, help="phases take turns in this many rounds of batches/rounds (default 5)"
    )
    parser.add_argument("--keep", action="store_true", help="keep the scratch database")
    args = parser.parse_args(argv)
    if args.full:
        args.batches = 2000
    if min(args.batches, args.batch_size, args.concurrency, args.servers, args.series, args.rounds) < 1:
        parser.error("sizes must be positive")
    args.formats = [f.strip() for f in args.formats.split(",") if f.strip()]
    if not args.formats or set(args.formats) - set(FORMATS):
        parser.error(f"--formats: choose from {', '.join(FORMATS)}")

    servers: list[subprocess.Popen] = []
    with scratch_database("bench_ingest", keep=args.keep) as db_name:
        try:
            return _measure(args, db_name, servers)
        finally:
            # Stop the portal processes before the database is dropped.
            stop_processes(servers, timeout_s=10)


def _measure(args, db_name: str, servers: list) -> int:
    """Both phases on ``db_name``; appends the portal processes it starts to ``servers``."""
    org_id, key = setup_org(db_name)
    now = time.time()
    with psycopg.connect(with_db(OWNER_URL, db_name)) as conn:
        day = dt.datetime.fromtimestamp(now, tz=dt.UTC).date()
        conn.execute("SELECT apm_ensure_metric_partitions(%s, %s)", [day - dt.timedelta(days=1), day])

    log(f"building {args.batches} batches of {args.batch_size} points")
    batches = make_batches(args.batches, args.batch_size, args.series, now)
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
                env=run_env(db_name, APM_METRICS_TOKEN=METRICS_TOKEN),
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        )
    for port, proc in zip(ports, servers, strict=True):
        wait_for(port, proc)
    log(f"{len(ports)} portal process(es) up on ports {ports}")

    bodies = {fmt: [FORMATS[fmt][3](b) for b in batches] for fmt in args.formats}
    rows = copy_rows(org_id, batches)
    phases = [args.formats[0], "copy", *args.formats[1:]]
    walls: dict[str, float] = dict.fromkeys(phases, 0.0)
    server_pids = {proc.pid for proc in servers}
    copy_conns = [psycopg.connect(with_db(SUPERUSER_URL, db_name)) for _ in range(args.concurrency)]
    cpu: dict[str, dict[str, float]] = {p: {} for p in phases}
    latencies_of: dict[str, list[float]] = {p: [] for p in phases}
    round_ratios: dict[str, list[float]] = {fmt: [] for fmt in args.formats}
    served: dict[str, dict[float, float]] = {fmt: {} for fmt in args.formats}
    ok = True
    stored = count_rows(db_name, org_id)
    size = -(-args.batches // args.rounds)
    for r in range(args.rounds):
        lo, hi = r * size, min(args.batches, (r + 1) * size)
        if lo >= hi:
            break
        expected = (hi - lo) * args.batch_size
        # Rotate the order each round, so that no phase always meets the largest table or the machine's
        # slowest moment: the ratios compare phases that took turns.
        order = phases[r % len(phases) :] + phases[: r % len(phases)]
        took: dict[str, float] = {}
        for phase in order:
            before = cpu_seconds(server_pids)
            if phase == "copy":
                wall, ms = copy_phase(copy_conns, rows[lo:hi])
            else:
                path, content_type, ok_status, _ = FORMATS[phase]
                histogram_before = server_buckets(ports, path)
                wall, ms, failed = http_phase(
                    ports,
                    key,
                    bodies[phase][lo:hi],
                    args.concurrency,
                    path=path,
                    content_type=content_type,
                    ok_status=ok_status,
                )
                for le, count in server_buckets(ports, path).items():
                    served[phase][le] = served[phase].get(le, 0.0) + count - histogram_before.get(le, 0.0)
                if failed:
                    print(f"{phase}: {len(failed)} requests failed: status {sorted(set(failed))}", file=sys.stderr)
                    ok = False
            now_stored = count_rows(db_name, org_id)
            if now_stored - stored != expected:
                print(f"{phase}: {now_stored - stored} rows stored, expected {expected}", file=sys.stderr)
                ok = False
            stored = now_stored
            after = cpu_seconds(server_pids)
            for part, seconds in after.items():
                cpu[phase][part] = cpu[phase].get(part, 0.0) + seconds - before[part]
            walls[phase] += wall
            latencies_of[phase] += ms
            took[phase] = wall
        for fmt in args.formats:
            round_ratios[fmt].append(took["copy"] / took[fmt])
        log(
            f"round {r + 1}/{args.rounds} ({hi - lo} batches per phase): "
            + ", ".join(f"{p} {expected / took[p]:,.0f} points/s" for p in order)
        )
    for conn in copy_conns:
        conn.close()
    copy_wall, copy_ms = walls["copy"], sorted(latencies_of["copy"])
    results = {fmt: (walls[fmt], sorted(latencies_of[fmt])) for fmt in args.formats}

    copy_rate = total / copy_wall

    def cpu_line(phase: str) -> str:
        used = cpu[phase]
        if not used:
            return ""
        per = {part: 1000 * seconds / args.batches for part, seconds in used.items()}
        parts = [f"PostgreSQL {per['postgres']:.1f}"]
        if phase != "copy":
            parts.append(f"portal {per['portal']:.1f}")
        parts.append(f"client {per['client']:.1f}")
        return f"\n{'  CPU per batch':34s}: " + ", ".join(parts) + f" ms (total {sum(per.values()):.1f} ms)"

    print()
    print(
        f"points: {total:,} per phase in batches of {args.batch_size:,}; concurrency {args.concurrency}, "
        f"{args.servers} server process(es), {os.cpu_count()} CPU(s)"
    )
    print(
        f"{'raw COPY apm_metrics':34s}: {copy_rate:>10,.0f} points/s  ({copy_wall:.2f} s)  "
        f"batch latency   p50 {statistics.median(copy_ms):.1f} ms, p99 {percentile(copy_ms, 0.99):.1f} ms"
        + cpu_line("copy")
    )
    for fmt, (wall, latencies) in results.items():
        rate = total / wall
        ratio = rate / copy_rate
        p99 = percentile(latencies, 0.99)
        label = f"HTTP {fmt} {FORMATS[fmt][0]}"
        print(
            f"{label:34s}: {rate:>10,.0f} points/s  ({wall:.2f} s)  request latency p50 "
            f"{statistics.median(latencies):.1f} ms, p99 {p99:.1f} ms" + cpu_line(fmt)
        )
        verdict = "met" if ratio >= 0.70 and p99 < 50 else "NOT met"
        spread = round_ratios[fmt]
        print(
            f"{'  ratio to raw COPY':34s}: {ratio:.2f}  (rounds {min(spread):.2f}–{max(spread):.2f}; "
            f"target >= 0.70 and p99 < 50 ms: {verdict})"
        )
        # Little's law (L = lambda * W): closed-loop clients keep `concurrency` requests in flight, so the mean
        # latency is concurrency / batch rate whatever the server does with its time.
        batch_rate = args.batches / wall
        print(
            f"{'  in flight':34s}: {args.concurrency} requests, so mean latency = {args.concurrency} / "
            f"{batch_rate:.1f} batches/s = {1000 * args.concurrency / batch_rate:.1f} ms (measured mean "
            f"{statistics.fmean(latencies):.1f} ms); a mean under 50 ms needs "
            f"{args.concurrency * args.batch_size / 0.050:,.0f} points/s"
        )
        # The server's share of that latency, from the portal's own histogram (no queue, no HTTP parsing).
        buckets = served[fmt]
        total_served = buckets.get(float("inf"), 0.0)
        if total_served:
            p50, p99 = (1000 * bucket_quantile(buckets, q) for q in (0.5, 0.99))
            print(
                f"{'  server time per batch':34s}: p50 {p50:.1f} ms, p99 {p99:.1f} ms (the portal's histogram, "
                f"interpolated in its buckets); {100 * buckets.get(0.05, 0.0) / total_served:.1f}% of "
                f"{total_served:,.0f} batches served in <= 50 ms"
            )
    return 0 if ok else 1


FORMATS = {
    # format: (path, Content-Type, success status, body encoder)
    "json": ("/api/v1/metrics/", "application/json", 202, body_of),
    "otlp": ("/v1/metrics", "application/x-protobuf", 200, otlp_body_of),
}


if __name__ == "__main__":
    sys.exit(main())
