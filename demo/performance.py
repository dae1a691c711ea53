"""Demo data of WS-259's performance tables and error correlations (issue 18 §4), for ``seed_demo``.

Believable, deterministic (seeded ``random``) points over the ``minutes`` before ``now``, COPYed like any
ingest and then rolled up by the real rollups (``apm.services.performance_rollup``,
``apm.services.error_correlations_run``):

- endpoint timings (``http.server.duration``, tags route and status_code) of the booking-web, checkout-api
  and gallery-web services, lognormal around each endpoint's median, slower under the day's load, ~1.5% 5xx
  (checkout's ``/api/payments/charge`` worse);
- web vitals (``web_vitals.*`` of service ``web-vitals``) per page and device: mobile slower than desktop,
  the gallery's LCP often "needs improvement";
- user journeys (``journey.step``): RSVP (open form → submit → confirmation) ~93% success, booking
  (choose date → pay → confirmed) ~85%, failures at the submit/pay step;
- one cascade of errors a few minutes before ``now``: payments-db deadlocks, then checkout timeouts in
  the same traces and an RSVP-page error shortly after (so the incident page has correlated errors).

Idempotent per window: points carry the tag ``{"source": "seed_demo_perf"}`` and a window already seeded
is skipped.
"""

from __future__ import annotations

import datetime as dt
import math
import random

from django.db import connection

from apm.models import ApmMetric

DEMO_TAG = {"source": "seed_demo_perf"}
ENDPOINTS = {  # service -> {route: median ms}
    "booking-web": {"/api/bookings": 85.0, "/api/bookings/{id}": 40.0, "/api/availability": 120.0},
    "checkout-api": {"/api/payments/charge": 240.0, "/api/payments/refund": 180.0},
    "gallery-web": {"/api/galleries/{id}": 95.0, "/api/uploads": 420.0},
}
PAGES = {"/rsvp": 1600.0, "/gallery": 2600.0, "/timeline": 1400.0, "/book": 1900.0}  # median LCP ms (desktop)
DEVICES = {"desktop": 1.0, "mobile": 1.45, "tablet": 1.2}
JOURNEYS = {
    "rsvp": ([("open_form", 350.0), ("submit", 900.0), ("confirmation", 250.0)], 0.93),
    "booking": ([("choose_date", 1200.0), ("pay", 2400.0), ("confirmed", 400.0)], 0.85),
}


def _load(at: dt.datetime) -> float:
    """0.2 at night to 1.0 mid-afternoon (UTC hour), like the vendors' traffic."""
    return 0.2 + 0.8 * max(0.0, math.sin(math.pi * (at.hour + at.minute / 60 - 6) / 16))


def demo_performance_rows(*, organization, now: dt.datetime, minutes: int):
    """The demo points of ``organization`` (apm.services.MetricRow) over the ``minutes`` before ``now``."""
    from apm.services import MetricRow

    rng = random.Random(f"perf:{organization.slug}:{now.isoformat()}:{minutes}")
    end = now.replace(second=0, microsecond=0)
    start = end - dt.timedelta(minutes=minutes)
    org = organization.id
    for minute in range(minutes):
        at = start + dt.timedelta(minutes=minute)
        load = _load(at)
        for service, routes in ENDPOINTS.items():
            for route, median in routes.items():
                for _ in range(max(1, round(6 * load))):
                    failing = rng.random() < (0.05 if route == "/api/payments/charge" else 0.012)
                    value = rng.lognormvariate(math.log(median * (1 + 0.5 * load) * (3 if failing else 1)), 0.35)
                    yield MetricRow(
                        org,
                        service,
                        "http.server.duration",
                        round(value, 1),
                        at + dt.timedelta(seconds=rng.uniform(0, 59.9)),
                        "ms",
                        {**DEMO_TAG, "route": route, "status_code": "502" if failing else "200"},
                    )
        if minute % 2 == 0:
            for page, lcp in PAGES.items():
                for device, slower in DEVICES.items():
                    if device == "tablet" and rng.random() < 0.6:
                        continue
                    when = at + dt.timedelta(seconds=rng.uniform(0, 59.9))
                    tags = {**DEMO_TAG, "page": page, "device": device}
                    for name, value in (
                        ("LCP", rng.lognormvariate(math.log(lcp * slower), 0.3)),
                        ("FCP", rng.lognormvariate(math.log(lcp * 0.55 * slower), 0.3)),
                        ("TTFB", rng.lognormvariate(math.log(260 * slower), 0.4)),
                        ("INP", rng.lognormvariate(math.log(110 * slower), 0.5)),
                        ("CLS", abs(rng.gauss(0.04 if page != "/gallery" else 0.12, 0.04))),
                    ):
                        yield MetricRow(
                            org,
                            "web-vitals",
                            f"web_vitals.{name}",
                            round(value, 3),
                            when,
                            "" if name == "CLS" else "ms",
                            tags,
                        )
        for journey, (steps, success) in JOURNEYS.items():
            for run in range(1 if rng.random() < load else 0):
                run_id = f"{journey}-{minute}-{run}-{rng.randrange(10**6)}"
                fails_at = None if rng.random() < success else 2
                when = at + dt.timedelta(seconds=rng.uniform(0, 20))
                for index, (step, median) in enumerate(steps, 1):
                    duration = rng.lognormvariate(math.log(median), 0.3)
                    when += dt.timedelta(milliseconds=duration)
                    failed = fails_at == index
                    yield MetricRow(
                        org,
                        "web-app",
                        "journey.step",
                        round(duration, 1),
                        when,
                        "ms",
                        {
                            **DEMO_TAG,
                            "journey": journey,
                            "journey_id": run_id,
                            "step": step,
                            "step_index": str(index),
                            "steps": str(len(steps)),
                            "outcome": "failed" if failed else "ok",
                        },
                    )
                    if failed:
                        break


def demo_error_cascade(*, organization, now: dt.datetime) -> list[dict]:
    """Error reports of a payments outage 6 minutes before ``now``: the database first, then its callers."""
    start = now - dt.timedelta(minutes=6)
    reports = []
    for i in range(6):
        at = start + dt.timedelta(seconds=10 * i)
        reports.append(
            {
                "service": "payments-db",
                "type": "DeadlockDetected",
                "level": "error",
                "message": "deadlock detected while updating bookings",
                "timestamp": at.isoformat(),
                "tags": {"trace_id": f"demo-{organization.slug}-{i}"},
            }
        )
        reports.append(
            {
                "service": "checkout-api",
                "type": "UpstreamTimeout",
                "level": "error",
                "message": "payments-db did not answer within 3000 ms",
                "timestamp": (at + dt.timedelta(seconds=3)).isoformat(),
                "tags": {"trace_id": f"demo-{organization.slug}-{i}"},
            }
        )
    reports.append(
        {
            "service": "rsvp-web",
            "type": "FetchFailed",
            "level": "warning",
            "message": "POST /api/payments/charge failed: 502",
            "timestamp": (start + dt.timedelta(seconds=75)).isoformat(),
        }
    )
    return reports


def demo_performance_seed(*, organizations: dict, now: dt.datetime, minutes: int) -> dict:
    """Seed every organization's demo points and error cascade, then run the rollups; in a service context.

    Returns ``{"points": n, "skipped": organizations already seeded, "rolled_up": {table: rows},
    "correlations": n}``.
    """
    from apm.services import error_correlations_run, errors_ingest, metrics_copy, performance_rollup

    end = now.replace(second=0, microsecond=0)
    points = skipped = 0
    for org in organizations.values():
        if ApmMetric.objects.filter(
            organization_id=org.id,
            recorded_at__gte=end - dt.timedelta(minutes=minutes),
            recorded_at__lt=end,
            tags__contains=DEMO_TAG,
        ).exists():
            skipped += 1
            continue
        points += metrics_copy(rows=list(demo_performance_rows(organization=org, now=now, minutes=minutes)))
        errors_ingest(organization_id=org.id, now=now, payload=demo_error_cascade(organization=org, now=now))
    with connection.cursor() as cur:
        cur.execute("SELECT now()")
        db_now = cur.fetchone()[0]
    # Everything above was ingested just now: one pass over the last minutes rolls it all up.
    rolled = performance_rollup(now=db_now, lookback_minutes=10)
    # The cascade was stored at `now` (received_at): correlate around it.
    correlations = error_correlations_run(now=now + dt.timedelta(seconds=1), lookback=dt.timedelta(minutes=15))
    return {"points": points, "skipped": skipped, "rolled_up": rolled, "correlations": correlations}
