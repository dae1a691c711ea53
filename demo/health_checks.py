"""Demo health checks for ``manage.py seed_demo``: a few services per organization with 90 days of runs.

The checks probe the portal's own ``/health/live`` (``PORTAL_BASE_URL``), so in ``make run`` beat
keeps them running; their seeded history (one run an hour, a few bad hours and one bad day)
fills the public status pages' 90-day strips. Idempotent: a check that already has runs keeps them.
"""

from __future__ import annotations

import datetime as dt
import random

from django.conf import settings

DEMO_SERVICES = (("Booking site", "platform"), ("Payments", "payments"), ("Photo gallery", "storage"))
DAYS = 90


def demo_health_checks_seed(*, organizations: list, now: dt.datetime) -> dict[str, int]:
    """Create the demo checks of ``organizations`` and their hourly runs over the last 90 days.

    Must run in a service context. Returns ``{"checks": n, "created": new checks, "runs": runs written}``.
    """
    from apm.models import ServiceHealthCheck, ServiceHealthResult

    url = f"{settings.PORTAL_BASE_URL}/health/live"
    checks = created = runs = 0
    for org in organizations:
        for name, category in DEMO_SERVICES:
            check, new = ServiceHealthCheck.objects.get_or_create(
                organization=org,
                name=name,
                defaults={
                    "category": category,
                    "url": url,
                    "interval_seconds": 60,
                    "status": "healthy",
                    "status_changed_at": now - dt.timedelta(days=DAYS),
                    "last_checked_at": now,
                },
            )
            checks += 1
            created += new
            if ServiceHealthResult.objects.filter(health_check=check).exists():
                continue
            rng = random.Random(f"{org.slug}:{name}")
            bad_day = rng.randrange(5, DAYS - 5)
            start = now.replace(minute=0, second=0, microsecond=0) - dt.timedelta(days=DAYS)
            rows = []
            for hour in range(DAYS * 24):
                at = start + dt.timedelta(hours=hour)
                ok = not (hour // 24 == bad_day and hour % 24 < 6) and rng.random() > 0.0015
                rows.append(
                    ServiceHealthResult(
                        health_check=check,
                        organization_id=org.id,
                        checked_at=at,
                        ok=ok,
                        status_code=200 if ok else 503,
                        response_ms=round(rng.lognormvariate(4.2, 0.3), 1),
                    )
                )
            ServiceHealthResult.objects.bulk_create(rows, batch_size=2000)
            runs += len(rows)
    return {"checks": checks, "created": created, "runs": runs}
