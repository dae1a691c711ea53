"""Server time of every page: ``.venv/bin/python bench/pages.py [--runs 20] [--rows 10000000] [--keep]``.

Without ``--rows``: against the demo database (``make run`` or ``manage.py
seed_demo`` fills it; the script seeds it when empty). With ``--rows N``: on a
scratch database (``bench/_scratch.py``) that it migrates, seeds with
``seed_demo``, fills with N more metric points (``bench/_metrics_load.py``:
the demo organizations' services over the last 14 days, wedding context
included) and aggregates (1-minute, 5-minute and 1-hour buckets), then drops.

Pages are requested in-process through Django's test client as the
application role, so the figures are the server's own time: URL
resolution, middleware (the tenant-context transaction), queries,
templates. Each page is warmed up, then timed in ``--runs`` rounds of one
GET of every page (so a host whose speed drifts slows every page alike).
Prints per page median / p95 / max (ms), query count, and the ratio of the
p95 to the 100 ms target; the login page (no data) is the baseline.
"""

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

TARGET_MS = 100.0
STAFF_PAGES = [
    "/ops/saturday/",
    "/ops/saturday/?wall=1",
    "/ops/incidents/",
    "/ops/incidents/{incident}/",
    "/ops/incidents/reports/",
    "/ops/runbooks/{runbook}/",
    "/ops/db/",
    "/org/acme-weddings/",
    "/admin/",
    "/admin/alerts/alerthistory/",
    "/admin/incidents/incident/",
    "/admin/apm/apmmetric/",
    "/admin/apm/apmmetricaggregation/",
    "/admin/apm/apmmetrichistogram/",
    "/admin/notifications/notificationdelivery/",
    "/admin/alerts/suppressionrule/",
    "/admin/dbmonitor/monitoringevent/",
    "/api/v1/incidents/",
    "/api/monitoring/performance",
]
VENDOR_PAGES = [
    "/org/rosewood-florals/",
    "/org/rosewood-florals/incidents/",
    "/org/rosewood-florals/apm/",
    "/org/rosewood-florals/alerts/rules/",
    "/org/rosewood-florals/alerts/silences/",
    "/org/rosewood-florals/alerts/channels/",
    "/org/rosewood-florals/dashboards/new/",
]


def count_statements(client, path: str) -> tuple[int, int]:
    """Warm ``path`` up with one GET, then count the statements of a second: ``(status, statements)``.

    The statements are counted by an execute wrapper: recording them
    (Django's debug cursor keeps each statement's text and time) is not
    part of serving a page, so the timed GETs run without it.
    """
    from django.db import connection

    queries = []

    def count(execute, sql, params, many, context):
        queries.append(None)
        return execute(sql, params, many, context)

    client.get(path)
    with connection.execute_wrapper(count):
        response = client.get(path)
    return response.status_code, len(queries)


def measure_in_rounds(pages: list[tuple[str, object, str]], runs: int) -> dict[str, dict]:
    """Time ``runs`` GETs of every page, one GET of each page per round; ``{path: ms figures}``.

    ``pages``: ``(who, client, path)``. Rounds rather than one page's GETs in a row: a shared
    host's speed drifts within a run (the login page's median was seen at 1.8 and 2.6 ms in two runs
    minutes apart), and in rounds every page meets the same drift, so the figures compare. A page
    whose status differs from the warm-up's is reported with the status of its last GET.
    """
    times: dict[str, list[float]] = {path: [] for _, _, path in pages}
    status: dict[str, int] = {}
    for done in range(runs):
        for _, client, path in pages:
            start = time.perf_counter()
            response = client.get(path)
            times[path].append((time.perf_counter() - start) * 1000)
            status[path] = response.status_code
        if (done + 1) % 5 == 0 or done + 1 == runs:
            print(f"  round {done + 1}/{runs}", file=sys.stderr, flush=True)
    out = {}
    for path, ms in times.items():
        ms.sort()
        out[path] = {
            "status": status[path],
            "median": statistics.median(ms),
            "p95": ms[min(len(ms) - 1, int(round(0.95 * (len(ms) - 1))))],
            "max": ms[-1],
        }
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20, help="timed requests per page (default 20)")
    parser.add_argument("--rows", type=int, default=0, help="on a scratch database with this many more metric points")
    parser.add_argument("--keep", action="store_true", help="with --rows: keep the scratch database")
    args = parser.parse_args()
    if args.runs < 1 or args.rows < 0:
        parser.error("--runs must be at least 1, --rows at least 0")
    if args.rows:
        return scratch_run(args)
    return measure_pages(args)


def scratch_run(args) -> int:
    """Seed a scratch database, load ``args.rows`` points, aggregate, measure in a child process, drop it."""
    from _metrics_load import aggregate_all, load_points, seed_query_plans
    from _scratch import log, scratch_database, scratch_env

    with scratch_database("bench_pages", keep=args.keep) as db_name:
        env = scratch_env(db_name, DEBUG="false", LOG_LEVEL="WARNING")
        log("seed_demo (demo organizations, weddings, a day of metrics)")
        subprocess.run([sys.executable, "manage.py", "seed_demo", "--quiet"], cwd=ROOT, env=env, check=True)
        load_points(db_name, args.rows, days=14)
        aggregate_all(db_name)
        from wedding_context import plan_verdict

        for name, (lines, rows) in seed_query_plans(db_name, "rosewood-florals").items():
            log(f"seed query '{name}': {rows} rows; {plan_verdict(lines)[1]}")
        log("measuring the pages")
        return subprocess.run([sys.executable, __file__, "--runs", str(args.runs)], cwd=ROOT, env=env).returncode


def measure_pages(args) -> int:
    """Measure every page against the database of the environment (see the module doc)."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "wedsync_ops.settings")
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.test import Client

    from wedsync_ops.tenancy.context import service_context
    from wedsync_ops.tenancy.models import Organization

    with service_context():
        empty = not Organization.objects.exists()
    if empty:
        print("demo database is empty: running seed_demo (a minute or two)…", flush=True)
        call_command("seed_demo")
    with service_context():
        orgs = Organization.objects.count()
        from apm.models import ApmMetricAggregation

        aggregations = ApmMetricAggregation.objects.count()
        from django.db import connection

        with connection.cursor() as cur:
            # The planner's estimate: exact enough, and no scan of 10M rows (-1: never analyzed, counted 0).
            cur.execute(
                "SELECT coalesce(sum(greatest(reltuples, 0)), 0)::bigint FROM pg_class c JOIN pg_inherits i"
                " ON i.inhrelid = c.oid WHERE i.inhparent = 'apm_metrics'::regclass"
            )
            points = cur.fetchone()[0]
    print(
        f"{orgs} organizations, ~{points:,} metric points (planner estimate), {aggregations:,} aggregation rows; "
        f"{args.runs} runs per page, in rounds\n"
    )

    from incidents.models import Incident, Runbook

    with service_context():
        ids = {
            "incident": Incident.objects.order_by("-detected_at").values_list("pk", flat=True).first(),
            "runbook": Runbook.objects.values_list("pk", flat=True).first(),
        }

    User = get_user_model()
    staff, vendor = Client(), Client()
    staff.force_login(User.objects.get(username="ops"))
    vendor.force_login(User.objects.get(username="rosewood"))

    pages = [("anonymous", Client(), "/accounts/login/")]
    for who, client, paths in (("staff", staff, STAFF_PAGES), ("vendor", vendor, VENDOR_PAGES)):
        pages += [(who, client, p.format(**ids)) for p in paths if "{" not in p or None not in ids.values()]
    counted = {path: count_statements(client, path) for _, client, path in pages}
    print(f"warmed up {len(pages)} pages; {args.runs} rounds of one GET each", file=sys.stderr, flush=True)
    timed = measure_in_rounds(pages, args.runs)
    rows = [(who, path, {**timed[path], "queries": counted[path][1]}) for who, _, path in pages]
    print(f"{'who':9} {'page':52} {'status':>6} {'median':>8} {'p95':>8} {'max':>8} {'queries':>7} {'p95/target':>10}")
    worst = 0.0
    for who, path, m in rows:
        ratio = m["p95"] / TARGET_MS
        worst = max(worst, ratio) if path != "/accounts/login/" else worst
        print(
            f"{who:9} {path:52} {m['status']:>6} {m['median']:>6.1f}ms {m['p95']:>6.1f}ms {m['max']:>6.1f}ms"
            f" {m['queries']:>7} {ratio:>9.2f}x",
            flush=True,
        )
    base = rows[0][2]["median"]
    print(
        f"\nbaseline (login page, no data): median {base:.1f} ms; worst page p95 is {worst:.2f}x the "
        f"{TARGET_MS:.0f} ms target ({'met' if worst < 1 else 'NOT met'})"
    )
    bad = [path for _, path, m in rows if m["status"] != 200]
    if bad:
        print(f"pages that did not answer 200: {', '.join(bad)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
