"""Demo heartbeat checks for ``manage.py seed_demo``: a few up, one late, one down (its alert fired), idempotent.

Checks are looked up by (organization, name) and pinged only when they have
no ping yet, so a second run changes nothing; the states come from pings
placed around ``now`` and one beat tick (``checks_evaluate(now)``), exactly as
in production. Runs in the caller's service context.
"""

from __future__ import annotations

import datetime as dt
import uuid

from heartbeats.models import HeartbeatCheck
from heartbeats.services import check_create, checks_evaluate, ping_record

MIN = dt.timedelta(minutes=1)

#: (organization slug or None, name, schedule fields, pings as (minutes before now, kind, body)).
DEMO_CHECKS = [
    (
        "rosewood-florals",
        "Nightly backup",
        {"kind": "cron", "cron": "0 2 * * *", "grace_s": 3600},
        [
            (60 * 24 + 5, "success", "pg_dump: 1,204 MB written in 312 s"),
            (65, "start", ""),
            (60, "success", "pg_dump: 1,206 MB written in 298 s"),
        ],
    ),
    ("rosewood-florals", "Invoice run", {"period_s": 3600, "grace_s": 900}, [(12, "success", "38 invoices sent")]),
    (
        "rosewood-florals",
        "Gallery export",
        {"period_s": 3600, "grace_s": 3600, "wedding_day_grace_s": 1800},
        [(70, "success", "exported 2 albums")],
    ),
    (
        "brooklyn-bakes",
        "Payments reconciliation",
        {"period_s": 3600, "grace_s": 600, "severity": "critical"},
        [(190, "success", "reconciled 212 payouts"), (130, "fail", "stripe: 503 Service Unavailable")],
    ),
    (
        None,
        "Platform database backup",
        {"kind": "cron", "cron": "30 3 * * *", "grace_s": 7200},
        [(45, "success", "basebackup: 18 GB, WAL archived")],
    ),
]


def demo_checks_seed(*, organizations: dict, now: dt.datetime) -> dict[str, int]:
    """Create the DEMO_CHECKS that are missing (``organizations``: slug -> Organization), ping the new ones,
    run one tick; returns ``{"checks": n, "created": c, "up": u, "late": l, "down": d}``."""
    created = 0
    for slug, name, schedule, pings in DEMO_CHECKS:
        org = organizations[slug] if slug else None
        check = HeartbeatCheck.objects.filter(organization=org, name=name).first()
        if check is None:
            check = check_create(
                organization_id=org.id if org else None, name=name, now=now - 2 * 24 * 60 * MIN, **schedule
            )
            created += 1
        if check.n_pings:
            continue
        rid = uuid.uuid4()
        for minutes_ago, kind, body in pings:
            ping_record(
                check=check,
                kind=kind,
                now=now - minutes_ago * MIN,
                body=body.encode(),
                rid=rid,
                method="POST",
                user_agent="curl/7.88.1",
            )
    checks_evaluate(now=now)
    names = [name for _slug, name, _s, _p in DEMO_CHECKS]
    states = list(HeartbeatCheck.objects.filter(name__in=names).values_list("status", flat=True))
    return {"checks": len(states), "created": created, **{s: states.count(s) for s in ("up", "late", "down")}}


def demo_ping_command(*, organization) -> str:
    """A copy-paste ``curl`` that pings the organization's demo ``Invoice run`` check (empty if missing)."""
    check = HeartbeatCheck.objects.filter(organization=organization, name="Invoice run").first()
    return f"curl -fsS -m 10 --retry 5 {check.ping_url}" if check else ""
