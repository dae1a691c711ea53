"""The public status page, cold and cached: ``.venv/bin/python bench/status_page.py [--runs 30] [--slug S]``.

Against the demo database (``make run`` or ``manage.py seed_demo`` fills it; the script seeds it when
empty). Requests go in-process through Django's test client as an anonymous visitor, as the
application role. *cold*: the cached page is dropped before every request (what the first visitor
of each minute pays: the queries and the build); *cached*: the page comes from Redis (every other
visitor). Prints median / p95 (ms) and data queries of each, the Atom feed's, the login page as the
baseline (no data), and the ratio cold / cached.
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

NOT_DATA = ("set_config", "current_setting", "SAVEPOINT", "RELEASE SAVEPOINT", "BEGIN", "COMMIT")


def measure(client, path: str, runs: int, *, before=None) -> dict:
    """``runs`` timed GETs of ``path`` after two warm-ups; ``before()`` runs before each (not timed)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for _ in range(2):
        client.get(path)
    times, data_queries, status = [], 0, 0
    for _ in range(runs):
        if before is not None:
            before()
        with CaptureQueriesContext(connection) as queries:
            start = time.perf_counter()
            status = client.get(path).status_code
            times.append((time.perf_counter() - start) * 1000)
        data_queries = sum(
            1
            for q in queries.captured_queries
            if not q["sql"].startswith(NOT_DATA) and not any(word in q["sql"] for word in NOT_DATA[:2])
        )
    times.sort()
    return {
        "status": status,
        "median": statistics.median(times),
        "p95": times[min(len(times) - 1, int(round(0.95 * (len(times) - 1))))],
        "queries": data_queries,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30, help="timed requests per case (default 30)")
    parser.add_argument("--slug", default="rosewood-florals", help="an organization with a public page")
    args = parser.parse_args()
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "wedsync_ops.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.test import Client

    from status.selectors import forget_status_page
    from wedsync_ops.tenancy.context import service_context
    from wedsync_ops.tenancy.models import Organization

    with service_context():
        public = Organization.objects.filter(slug=args.slug, status_page_public=True).exists()
    if not public:
        print(f"{args.slug} has no public page: running seed_demo (a minute or two)…", flush=True)
        call_command("seed_demo", "--quiet")
    from apm.models import ServiceHealthResult

    with service_context():
        runs = ServiceHealthResult.objects.filter(organization__slug=args.slug).count()
    print(f"/status/{args.slug}/: {runs:,} health-check runs behind its 90-day strips; {args.runs} requests per case\n")

    page, feed = f"/status/{args.slug}/", f"/status/{args.slug}/feed.atom"
    anonymous = Client()
    forget = lambda: forget_status_page(args.slug)  # noqa: E731
    rows = [
        ("login page (baseline, no data)", measure(anonymous, "/accounts/login/", args.runs)),
        ("status page, cold (first visitor of the minute)", measure(anonymous, page, args.runs, before=forget)),
        ("status page, cached (every other visitor)", measure(anonymous, page, args.runs)),
        ("Atom feed, cold", measure(anonymous, feed, args.runs, before=forget)),
        ("Atom feed, cached", measure(anonymous, feed, args.runs)),
        ("unknown slug (404, cached)", measure(anonymous, "/status/no-such-organization/", args.runs)),
    ]
    print(f"{'case':50} {'status':>6} {'median':>9} {'p95':>9} {'data queries':>13}")
    for name, m in rows:
        print(f"{name:50} {m['status']:>6} {m['median']:>7.1f}ms {m['p95']:>7.1f}ms {m['queries']:>13}")
    cold, cached = rows[1][1], rows[2][1]
    print(
        f"\ncold / cached: {cold['median'] / cached['median']:.1f}x (median),"
        f" {cold['p95'] / cached['p95']:.1f}x (p95);"
        f" cached / login baseline: {cached['median'] / rows[0][1]['median']:.2f}x"
    )
    forget_status_page(args.slug)
    return 0 if all(m["status"] in (200, 404) for _, m in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
