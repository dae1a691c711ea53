"""``manage.py seed_demo``: demo data for the portal, idempotent.

Creates about twenty organizations across time zones, their weddings
(several on today's LOCAL date, so wedding-day mode shows whatever day it
runs; the coming four local Saturdays; a few cancelled), demo users, a day
of 1-minute APM metrics per organization and service (written with
``apm.services.metrics_copy``, then aggregated), two alert rules, a few
alerts fired through ``alerts.services.alert_fire`` (critical ones open
incidents) and, when ``DEMO_WEBHOOK_URL`` is set, a platform webhook
channel that receives the notifications. On call: a platform schedule
"Platform primary" (Europe/London) with weekday layers in London and
Sydney, a Sunday layer and a Saturday wedding-day layer driven by Rosewood
(London) and Bloom & Vine (Sydney); Rosewood's own schedule (with gaps);
paging people whose email, SMS, voice and Slack reach the local sinks
``make run`` starts; the platform escalation policy's first step pages
the schedule's on-call person after a minute.

Running it twice leaves the same counts: rows are looked up by natural
keys, metrics are skipped for organizations that already have demo
metrics in the window, and ``alert_fire`` only touches an alert that is
already open. Everything runs in ``service_context()`` (as the application
role, under row-level security), one transaction per step.

Options: ``--now ISO8601`` (an aware instant; default the clock),
``--minutes N`` of metrics (default 1440, one day), ``--samples N``
latency samples per service and minute (default 3), ``--quiet``.
Exit status 1 with a message for bad options.
"""

from __future__ import annotations

import datetime as dt
import math
import os
import random
import zoneinfo

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError

from demo.catalog import (  # noqa: F401  (re-exported for tests)
    CANCELLED_SLUGS,
    CEREMONY_TIMES,
    COUNT_METRIC,
    DEMO_TAG,
    FIRST_NAMES,
    LATENCY_METRIC,
    LATENCY_SPREAD,
    ONCALL_PEOPLE,
    ONCALL_SCHEDULE,
    ORG_RULE,
    ORGANIZATIONS,
    PLATFORM_RULE,
    SATURDAYS_AHEAD,
    SERVICES,
    SPIKE,
    SPIKE_FACTOR,
    SPIKE_MINUTES,
    STAFF_GROUPS,
    STAFF_USER,
    STATUS_PAGE_SLUGS,
    TODAY_SLUGS,
    VENDOR_USER,
    VENUES,
    VIEWER_USER,
    _group_key,
    coming_saturdays,
    couple_name,
    load_factor,
    parse_now,
)
from demo.steps import LaterSteps
from wedsync_ops.tenancy.context import service_context
from wedsync_ops.tenancy.models import Organization, UserProfile, Wedding


class Command(LaterSteps, BaseCommand):
    help = "Load idempotent demo data: organizations, weddings, users, metrics, alert rules, alerts, incidents."

    def add_arguments(self, parser):
        parser.add_argument("--now", help="the instant to seed around, ISO 8601 with offset (default: now)")
        parser.add_argument("--minutes", type=int, default=1440, help="minutes of 1-minute metrics (default 1440)")
        parser.add_argument("--samples", type=int, default=3, help="latency samples per service and minute (default 3)")
        parser.add_argument(
            "--business-weeks",
            type=int,
            default=4,
            help="weeks of hourly business events before now (default 4; 0: none)",
        )
        parser.add_argument("--quiet", action="store_true", help="print nothing")

    def handle(self, *args, **opts):
        now = parse_now(opts["now"])
        minutes, samples = opts["minutes"], opts["samples"]
        if not 1 <= minutes <= 7 * 1440:
            raise CommandError(f"--minutes {minutes}: use 1 to {7 * 1440}")
        if not 1 <= samples <= 100:
            raise CommandError(f"--samples {samples}: use 1 to 100")
        if not 0 <= opts["business_weeks"] <= 12:
            raise CommandError(f"--business-weeks {opts['business_weeks']}: use 0 to 12")
        self.quiet = opts["quiet"]
        self.say(f"Seeding demo data around {now:%Y-%m-%d %H:%M:%S} UTC")

        orgs = self.seed_organizations()
        self.seed_users(orgs)
        self.seed_weddings(orgs, now=now)
        # Before seed_metrics: its aggregation pass takes these points in too (a second seed changes nothing).
        self.seed_performance(orgs, now=now, minutes=minutes)
        self.seed_metrics(orgs, now=now, minutes=minutes, samples=samples)
        self.seed_rules(orgs)
        self.seed_channel()
        self.seed_oncall(orgs, now=now)
        self.seed_escalation(orgs)
        self.seed_runbooks()
        self.seed_alerts(orgs, now=now)
        self.seed_heartbeats(orgs, now=now)
        self.seed_status_pages(orgs, now=now)
        if opts["business_weeks"]:
            self.seed_business(orgs, now=now, weeks=opts["business_weeks"])

        self.say("")
        self.say(f"Staff login:  {STAFF_USER[0]} / {STAFF_USER[1]}  (/ops/saturday/, /ops/db/, /admin/)")
        self.say(f"Vendor login: {VENDOR_USER[0]} / {VENDOR_USER[1]}  (/org/{VENDOR_USER[2]}/)")
        self.say("Open http://127.0.0.1:8000/")

    def say(self, line: str) -> None:
        if not self.quiet:
            self.stdout.write(line)

    # --- steps ---------------------------------------------------------------

    def seed_organizations(self) -> dict[str, Organization]:
        created = 0
        orgs = {}
        with service_context():
            for slug, name, tz in ORGANIZATIONS:
                org, new = Organization.objects.get_or_create(slug=slug, defaults={"name": name, "timezone": tz})
                orgs[slug] = org
                created += new
        zones = len({o.timezone for o in orgs.values()})
        self.say(f"organizations: {len(orgs)} in {zones} time zones ({created} new)")
        return orgs

    def seed_users(self, orgs: dict[str, Organization]) -> None:
        User = get_user_model()
        with service_context():
            groups = {name: Group.objects.get_or_create(name=name)[0] for name in STAFF_GROUPS}
            username, password = STAFF_USER
            ops, _ = User.objects.get_or_create(username=username, defaults={"email": "ops@wedsync.example"})
            ops.is_staff = ops.is_superuser = ops.is_active = True
            ops.set_password(password)
            ops.save()
            ops.groups.add(groups["ops_admin"])
            for username, password, slug, role in (VENDOR_USER, VIEWER_USER):
                user, _ = User.objects.get_or_create(
                    username=username, defaults={"email": f"{username}@{slug}.example"}
                )
                user.is_active = True
                user.set_password(password)
                user.save()
                UserProfile.objects.update_or_create(user=user, defaults={"organization": orgs[slug], "role": role})
        self.say(
            f"users: {STAFF_USER[0]} (staff, ops_admin), {VENDOR_USER[0]} ({VENDOR_USER[3]} of {VENDOR_USER[2]}),"
            f" {VIEWER_USER[0]} ({VIEWER_USER[3]} of {VIEWER_USER[2]})"
        )

    def seed_weddings(self, orgs: dict[str, Organization], *, now: dt.datetime) -> None:
        created = total = 0
        with service_context():
            for slug, org in orgs.items():
                local_today = now.astimezone(zoneinfo.ZoneInfo(org.timezone)).date()
                plan: list[tuple[dt.date, int, str]] = []  # (date, index on that date, status)
                if slug in TODAY_SLUGS:
                    plan += [(local_today, i, Wedding.Status.CONFIRMED) for i in range(1 + (len(slug) % 2))]
                for n, saturday in enumerate(coming_saturdays(local_today, SATURDAYS_AHEAD)):
                    per_day = 1 + (len(slug) + n) % 3
                    plan += [
                        (saturday, 10 + i, Wedding.Status.CONFIRMED if n < 2 else Wedding.Status.PLANNED)
                        for i in range(per_day)
                    ]
                    if n == 1 and slug in CANCELLED_SLUGS:
                        plan.append((saturday, 99, Wedding.Status.CANCELLED))
                for day, index, status in plan:
                    rng = random.Random(f"{slug}:{day.isoformat()}:{index}")
                    _, new = Wedding.objects.get_or_create(
                        organization=org,
                        wedding_date=day,
                        couple_name=couple_name(rng),
                        defaults={
                            "venue_name": rng.choice(VENUES),
                            "ceremony_time": rng.choice(CEREMONY_TIMES),
                            "status": status,
                        },
                    )
                    created += new
                    total += 1
        self.say(
            f"weddings: {total} planned ({created} new); today (local) in {len(TODAY_SLUGS)} organizations,"
            f" the coming {SATURDAYS_AHEAD} Saturdays everywhere, {len(CANCELLED_SLUGS)} cancelled"
        )

    def seed_metrics(self, orgs: dict[str, Organization], *, now: dt.datetime, minutes: int, samples: int) -> None:
        from apm.models import ApmMetric
        from apm.services import metrics_aggregate, metrics_copy

        end = now.replace(second=0, microsecond=0)
        start = end - dt.timedelta(minutes=minutes)
        written = 0
        for slug, org in orgs.items():
            with service_context():
                already = ApmMetric.objects.filter(
                    organization_id=org.id, recorded_at__gte=start, recorded_at__lt=end, tags__contains=DEMO_TAG
                ).exists()
                if already:
                    self.say(f"metrics: {slug}: already seeded for this window, skipped")
                    continue
                rows = list(self._metric_rows(org, start=start, minutes=minutes, samples=samples))
                count = metrics_copy(rows=rows)
                written += count
            self.say(f"metrics: {slug}: {count} points over {minutes} min")
        self.say(f"metrics: aggregating {written} new points into 1-minute buckets (a full day takes a minute or two)")
        with service_context():
            aggregated = metrics_aggregate(bucket_seconds=60)
        self.say(f"metrics: aggregation wrote {aggregated} 1-minute buckets")

    def _metric_rows(self, org: Organization, *, start: dt.datetime, minutes: int, samples: int):
        from apm.services import MetricRow

        rng = random.Random(f"metrics:{org.slug}:{start.isoformat()}")
        tz = zoneinfo.ZoneInfo(org.timezone)
        spike_from = start + dt.timedelta(minutes=minutes - SPIKE_MINUTES)
        for minute in range(minutes):
            at = start + dt.timedelta(minutes=minute)
            load = load_factor(at.astimezone(tz))
            for service, median in SERVICES.items():
                factor = 1.0 + 0.4 * load
                if (org.slug, service) == SPIKE and at >= spike_from:
                    factor *= SPIKE_FACTOR
                for _ in range(samples):
                    yield MetricRow(
                        organization_id=org.id,
                        service=service,
                        metric_name=LATENCY_METRIC,
                        value=round(rng.lognormvariate(math.log(median * factor), LATENCY_SPREAD), 2),
                        recorded_at=at + dt.timedelta(seconds=rng.uniform(0, 59.999)),
                        unit="ms",
                        tags=DEMO_TAG,
                    )
                requests = max(0, round(rng.gauss(200 * load, 15 * load + 2)))
                yield MetricRow(
                    organization_id=org.id,
                    service=service,
                    metric_name=COUNT_METRIC,
                    value=float(requests),
                    recorded_at=at + dt.timedelta(seconds=59),
                    unit="count",
                    tags=DEMO_TAG,
                )

    def seed_rules(self, orgs: dict[str, Organization]) -> None:
        from alerts.models import AlertRule

        with service_context():
            AlertRule.objects.get_or_create(
                organization=None,
                name=PLATFORM_RULE,
                defaults={
                    "description": "p95 latency of any service above 800 ms (400 ms on wedding days)",
                    "metric_name": LATENCY_METRIC,
                    "aggregation": AlertRule.Aggregation.P95,
                    "comparison": AlertRule.Comparison.ABOVE,
                    "threshold": 800.0,
                    "wedding_day_threshold": 400.0,
                    "window_minutes": 5,
                    "severity": "critical",
                    "priority": "high",
                },
            )
            AlertRule.objects.get_or_create(
                organization=orgs["rosewood-florals"],
                name=ORG_RULE,
                defaults={
                    "description": "Rosewood's checkout must stay fast:"
                    " payments p95 above 600 ms (300 ms on wedding days)",
                    "service": "payments",
                    "metric_name": LATENCY_METRIC,
                    "aggregation": AlertRule.Aggregation.P95,
                    "comparison": AlertRule.Comparison.ABOVE,
                    "threshold": 600.0,
                    "wedding_day_threshold": 300.0,
                    "window_minutes": 5,
                    "severity": "warning",
                    "priority": "medium",
                },
            )
        self.say(f"alert rules: {PLATFORM_RULE!r} (platform), {ORG_RULE!r} (rosewood-florals)")

    def seed_channel(self) -> None:
        from notifications.models import NotificationChannel

        url = os.environ.get("DEMO_WEBHOOK_URL", "").strip()
        if not url:
            self.say("notification channel: DEMO_WEBHOOK_URL not set, none created")
            return
        with service_context():
            NotificationChannel.objects.update_or_create(
                organization=None,
                name="Demo webhook",
                defaults={"kind": "webhook", "config": {"url": url}, "enabled": True, "disabled_reason": ""},
            )
        self.say(f"notification channel: platform webhook -> {url}")

    def seed_escalation(self, orgs: dict[str, Organization]) -> None:
        """A platform escalation policy (5 min team lead, 15 min manager), its wedding-day variant
        (2 and 5 minutes), platform on-call contacts, and each organization's wedding-day emergency contact."""
        from incidents.models import EscalationContact, EscalationPolicy, EscalationStep
        from oncall.models import Schedule

        with service_context():
            primary = Schedule.objects.get(organization=None, name=ONCALL_SCHEDULE)
            for wedding_day, waits in ((False, (1, 15)), (True, (1, 5))):
                policy, _ = EscalationPolicy.objects.get_or_create(
                    organization=None,
                    wedding_day=wedding_day,
                    name="Platform wedding-day escalation" if wedding_day else "Platform escalation",
                    defaults={"repeat_count": 2},
                )
                # Step 1 pages whoever is on call for the platform schedule; step 2 the managers' channel route.
                for position, (wait, level) in enumerate(zip(waits, ("team_lead", "manager"), strict=True), 1):
                    target = {"target": "schedule", "schedule": primary} if position == 1 else {"target": "level"}
                    EscalationStep.objects.update_or_create(
                        policy=policy, position=position, defaults={"wait_minutes": wait, "level": level, **target}
                    )
            for name, level, email, emergency in (
                ("Priya (on-call lead)", "team_lead", "priya@ops.example", True),
                ("Marcus (ops manager)", "manager", "marcus@ops.example", True),
                ("Dana (director)", "director", "dana@ops.example", False),
            ):
                EscalationContact.objects.get_or_create(
                    organization=None,
                    name=name,
                    defaults={"level": level, "email": email, "wedding_day_emergency": emergency},
                )
            for org in orgs.values():
                EscalationContact.objects.get_or_create(
                    organization=org,
                    name=f"{org.name} owner",
                    defaults={
                        "level": "team_lead",
                        "email": f"owner@{org.slug}.example",
                        "wedding_day_emergency": True,
                        "timezone": org.timezone,
                    },
                )
        self.say(
            f"escalation: 2 platform policies (step 1 pages the on call of {ONCALL_SCHEDULE!r} after 1 min),"
            f" 3 platform contacts, {len(orgs)} organization emergency contacts"
        )
