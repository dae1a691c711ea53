"""Benchmark the escalation beat job: ``escalations_run(now=…)`` over many open incidents.

Usage::

    .venv/bin/python bench/escalation.py            # 100 organizations x 5 open incidents (well under a minute)
    .venv/bin/python bench/escalation.py --full     # 1,000 organizations x 5 open incidents
    .venv/bin/python bench/escalation.py --orgs 300 --incidents-per-org 4 [--keep]

What it does, in a scratch database ``bench_escalation_<pid>`` that it creates
(as the owner role of ``DATABASE_OWNER_URL``, which needs CREATEDB), migrates
and drops at the end (``--keep`` leaves it):

1. Seeds ``--orgs`` organizations (six time zones), each with a two-step
   escalation policy (5 min team lead, 10 min manager), two contacts and a
   webhook channel, and ``--incidents-per-org`` open incidents detected at
   ``AT``; plus one firing critical alert per organization.
2. As the application role (row-level security on) times, with the same
   data: a run where nothing is due yet (``AT + 1 min``: the baseline, the
   cost of scanning), a run where every incident and alert is due
   (``AT + 5 min``: claims, timeline rows, notification outbox rows), and
   two runs at once in two threads on the second step (``AT + 15 min``),
   checking that each step was taken exactly once.
3. Prints incidents/s, the ratio of the escalating run to the baseline and
   whether the default batch (``ESCALATION_BATCH_LIMIT`` incidents) fits one
   beat tick (``ESCALATION_BEAT_SECONDS``).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
from _scratch import pg_connect, with_db  # noqa: E402

APP_URL = "postgres://wedsync_app:wedsync_app@127.0.0.1:5432/wedsync"
OWNER_URL = "postgres://wedsync_owner:wedsync_owner@127.0.0.1:5432/wedsync"
AT = dt.datetime(2026, 6, 17, 10, 0, tzinfo=dt.UTC)  # a Wednesday: no wedding-day protocol anywhere
TIMEZONES = ["Europe/London", "Australia/Sydney", "America/New_York", "Asia/Tokyo", "Europe/Berlin", "UTC"]
MIN = dt.timedelta(minutes=1)


def progress(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def seed(*, orgs: int, per_org: int) -> None:
    from alerts.models import AlertHistory
    from incidents.models import EscalationContact, EscalationPolicy, EscalationStep, Incident
    from notifications.models import NotificationChannel
    from wedsync_ops.tenancy.context import service_context
    from wedsync_ops.tenancy.models import Organization

    with service_context():
        organizations = Organization.objects.bulk_create(
            Organization(slug=f"org-{i:05d}", name=f"Org {i}", timezone=TIMEZONES[i % len(TIMEZONES)])
            for i in range(orgs)
        )
        policies = EscalationPolicy.objects.bulk_create(
            EscalationPolicy(organization=o, name=f"policy {o.slug}") for o in organizations
        )
        EscalationStep.objects.bulk_create(
            [
                EscalationStep(
                    organization_id=p.organization_id, policy=p, position=1, wait_minutes=5, level="team_lead"
                )
                for p in policies
            ]
            + [
                EscalationStep(
                    organization_id=p.organization_id, policy=p, position=2, wait_minutes=10, level="manager"
                )
                for p in policies
            ]
        )
        EscalationContact.objects.bulk_create(
            [
                EscalationContact(organization=o, name=f"lead {o.slug}", level="team_lead", email="l@example.com")
                for o in organizations
            ]
            + [
                EscalationContact(organization=o, name=f"mgr {o.slug}", level="manager", phone="+447700900000")
                for o in organizations
            ]
        )
        NotificationChannel.objects.bulk_create(
            NotificationChannel(
                organization=o, kind="webhook", name=f"hook {o.slug}", config={"url": "http://127.0.0.1:9/"}
            )
            for o in organizations
        )
        Incident.objects.bulk_create(
            Incident(
                organization=o,
                title=f"incident {n} of {o.slug}",
                priority="p1",
                severity="critical",
                source="manual",
                detected_at=AT,
                created_at=AT,
                updated_at=AT,
            )
            for o in organizations
            for n in range(per_org)
        )
        AlertHistory.objects.bulk_create(
            AlertHistory(
                organization=o,
                source="alertmanager",
                fingerprint=f"fp-{o.slug}",
                title="latency",
                severity="critical",
                starts_at=AT,
                escalation_clock_at=AT,  # when the portal first saw it (alert_fire sets it)
            )
            for o in organizations
        )


def run(args, total: int) -> int:
    from django.db import connection

    from incidents import conf, notify
    from incidents.escalation import escalations_run
    from incidents.models import IncidentUpdate
    from wedsync_ops.tenancy.context import service_context

    # The outbox rows are written as in production; queueing them to a broker is left out (no worker here).
    notify._publish = lambda ids: None

    with connection.cursor() as cur:
        cur.execute("SELECT current_user")
        progress(f"escalating as {cur.fetchone()[0]} (row-level security on), {total} open incidents")

    started = time.perf_counter()
    idle = escalations_run(now=AT + MIN, limit=total)
    idle_s = time.perf_counter() - started
    progress(f"baseline, nothing due:      {idle_s:.2f} s {idle}")

    started = time.perf_counter()
    first = escalations_run(now=AT + 5 * MIN, limit=total)
    first_s = time.perf_counter() - started
    progress(f"every incident due (step 1): {first_s:.2f} s {first}")

    results, errors = [], []
    barrier = threading.Barrier(2)

    def worker():
        try:
            barrier.wait(30)
            results.append(escalations_run(now=AT + 15 * MIN, limit=total))
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    race_s = time.perf_counter() - started
    with service_context():
        steps = (
            IncidentUpdate.objects.filter(kind="escalation", incident__isnull=False)
            .exclude(message__startswith="Alert")
            .count()
        )
    taken = sum(r["incidents"] for r in results)
    progress(f"two runs at once (step 2):  {race_s:.2f} s {results} errors={errors}")

    per_s = first["incidents"] / first_s if first_s else float("inf")
    batch_s = conf.ESCALATION_BATCH_LIMIT / per_s if per_s else float("inf")
    exactly_once = not errors and first["incidents"] == total and taken == total and steps == 2 * total
    print()
    print(f"open incidents                     {total}")
    print(f"baseline (scan, nothing due)       {idle_s * 1000:9.0f} ms  ({total / idle_s:,.0f} incidents/s)")
    print(f"escalating run (all due)           {first_s * 1000:9.0f} ms  ({per_s:,.0f} incidents/s)")
    print(f"ratio escalating / baseline        {first_s / idle_s:9.1f} x")
    print(f"two concurrent runs (all due)      {race_s * 1000:9.0f} ms  ({total / race_s:,.0f} incidents/s)")
    print(
        f"steps taken exactly once           {'yes' if exactly_once else 'NO'} "
        f"(step 1: {first['incidents']}, step 2: {taken}, timeline rows: {steps}, expected {2 * total})"
    )
    print(
        f"batch of {conf.ESCALATION_BATCH_LIMIT} incidents               {batch_s:9.1f} s "
        f"({'fits' if batch_s < conf.ESCALATION_BEAT_SECONDS else 'does NOT fit'} a "
        f"{conf.ESCALATION_BEAT_SECONDS:g} s beat tick)"
    )
    return 0 if exactly_once else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true", help="1,000 organizations x 5 open incidents")
    parser.add_argument("--orgs", type=int, default=100)
    parser.add_argument("--incidents-per-org", type=int, default=5)
    parser.add_argument("--keep", action="store_true", help="keep the scratch database")
    args = parser.parse_args(argv)
    if args.full:
        args.orgs = 1000
    if args.orgs < 1 or args.incidents_per_org < 1:
        parser.error("--orgs and --incidents-per-org must be positive")
    total = args.orgs * args.incidents_per_org

    app_url = os.environ.get("DATABASE_URL", APP_URL)
    owner_url = os.environ.get("DATABASE_OWNER_URL", OWNER_URL)
    name = f"bench_escalation_{os.getpid()}"
    progress(f"creating scratch database {name}")
    with pg_connect(owner_url, "postgres") as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        os.environ["DATABASE_URL"] = with_db(app_url, name)
        os.environ["DATABASE_OWNER_URL"] = with_db(owner_url, name)
        os.environ["WEDSYNC_DB_ROLE"] = "owner"
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "wedsync_ops.settings")
        import django

        django.setup()
        from django.conf import settings
        from django.core.management import call_command
        from django.db import connection

        progress("migrating (owner role)")
        call_command("migrate", verbosity=0)
        progress(f"seeding {args.orgs} organizations, {total} open incidents")
        started = time.perf_counter()
        seed(orgs=args.orgs, per_org=args.incidents_per_org)
        progress(f"seeded in {time.perf_counter() - started:.1f} s")
        connection.close()
        for target in (settings.DATABASES["default"], connection.settings_dict):
            target["USER"] = settings.DATABASE_APP["USER"]
            target["PASSWORD"] = settings.DATABASE_APP.get("PASSWORD", "")
        return run(args, total)
    finally:
        try:
            from django.db import connections

            connections.close_all()
        except Exception:  # noqa: BLE001 - django may not be set up yet
            pass
        if args.keep:
            progress(f"kept {name}")
        else:
            with pg_connect(owner_url, "postgres") as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            progress(f"dropped {name}")


if __name__ == "__main__":
    sys.exit(main())
