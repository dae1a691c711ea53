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
from django.utils import timezone

from wedsync_ops.tenancy.context import service_context
from wedsync_ops.tenancy.models import Organization, UserProfile, Wedding

#: (slug, name, IANA time zone). The sample payloads name the first three slugs.
ORGANIZATIONS = [
    ("rosewood-florals", "Rosewood Florals", "Europe/London"),
    ("acme-weddings", "Acme Weddings", "America/New_York"),
    ("bloom-and-vine", "Bloom & Vine", "Australia/Sydney"),
    ("golden-hour-photo", "Golden Hour Photography", "America/Los_Angeles"),
    ("sakura-events", "Sakura Events", "Asia/Tokyo"),
    ("maison-lumiere", "Maison Lumière", "Europe/Paris"),
    ("windy-city-catering", "Windy City Catering", "America/Chicago"),
    ("harbour-view-venue", "Harbour View Venue", "Australia/Sydney"),
    ("thistle-and-lace", "Thistle & Lace Bridal", "Europe/London"),
    ("brooklyn-bakes", "Brooklyn Bakes", "America/New_York"),
    ("pacific-strings", "Pacific Strings Quartet", "America/Los_Angeles"),
    ("kyoto-tea-house", "Kyoto Tea House", "Asia/Tokyo"),
    ("provence-petals", "Provence Petals", "Europe/Paris"),
    ("lakeshore-limos", "Lakeshore Limousines", "America/Chicago"),
    ("kiwi-aisle", "Kiwi Aisle Planners", "Pacific/Auckland"),
    ("cape-cakes", "Cape Cakes", "Africa/Johannesburg"),
    ("spree-brides", "Spree Brides", "Europe/Berlin"),
    ("mile-high-djs", "Mile High DJs", "America/Denver"),
    ("marigold-mehndi", "Marigold Mehndi", "Asia/Kolkata"),
    ("samba-sounds", "Samba Sounds", "America/Sao_Paulo"),
]
#: Organizations with weddings on today's local date (at least four time zones).
TODAY_SLUGS = (
    "rosewood-florals",
    "acme-weddings",
    "bloom-and-vine",
    "golden-hour-photo",
    "sakura-events",
    "maison-lumiere",
)
#: Organizations whose public status page (/status/<slug>/) the demo turns on.
STATUS_PAGE_SLUGS = ("rosewood-florals", "acme-weddings", "bloom-and-vine")
#: Organizations with one cancelled wedding on their second coming Saturday.
CANCELLED_SLUGS = ("windy-city-catering", "thistle-and-lace", "kyoto-tea-house")
#: Services per organization and their typical median latency (ms).
# Median latency (ms) per service. With the spread below, a healthy service's p95 stays under the
# platform rule's wedding-day threshold (400 ms) at peak load: only the seeded spike (and, at peak,
# Rosewood's stricter payments rule) fires, as on a good Saturday.
SERVICES = {"booking-api": 90.0, "payments": 130.0, "gallery": 130.0, "email": 60.0}
LATENCY_SPREAD = 0.2  # sigma of the log-normal latency distribution
#: The organization and service whose latency spikes over the last SPIKE_MINUTES.
SPIKE = ("acme-weddings", "payments")
SPIKE_MINUTES = 30
SPIKE_FACTOR = 6.0
LATENCY_METRIC = "http.request.duration_ms"
COUNT_METRIC = "http.requests"
DEMO_TAG = {"source": "seed_demo"}
SATURDAYS_AHEAD = 4

STAFF_USER = ("ops", "ops-demo-pass")
VENDOR_USER = ("rosewood", "rosewood-demo-pass", "rosewood-florals", UserProfile.Role.OWNER)
VIEWER_USER = ("bloom", "bloom-demo-pass", "bloom-and-vine", UserProfile.Role.VIEWER)
STAFF_GROUPS = ("ops_admin", "support", "on_call", "devops", "emergency_response")

PLATFORM_RULE = "Platform p95 latency"
ONCALL_SCHEDULE = "Platform primary"
#: (username, first, last, email, phone, Slack member id, where they work): the platform's paging people.
ONCALL_PEOPLE = (
    ("priya", "Priya", "Shah", "priya@ops.example", "+447700900123", "U0PRIYA001", "Europe/London"),
    ("marcus", "Marcus", "Webb", "marcus@ops.example", "+447700900456", "U0MARCUS01", "Europe/London"),
    ("kenji", "Kenji", "Tanaka", "kenji@ops.example", "+61491570156", "U0KENJI001", "Australia/Sydney"),
    ("aroha", "Aroha", "Ngata", "aroha@ops.example", "+61491570157", "U0AROHA001", "Australia/Sydney"),
)


def _group_key(labels: dict) -> str:
    """Alertmanager's group key for ``group_by: [alertname, organization]`` (README's receiver)."""
    parts = ",".join(f'{k}="{labels[k]}"' for k in ("alertname", "organization") if k in labels)
    return f"{{}}:{{{parts}}}"


ORG_RULE = "Rosewood payments p95 latency"

FIRST_NAMES = [
    "Amelia",
    "Oliver",
    "Isla",
    "Noah",
    "Maya",
    "Leo",
    "Hana",
    "Ravi",
    "Chloé",
    "Mateo",
    "Yuki",
    "Aroha",
    "Sophie",
    "Liam",
    "Priya",
    "Jonas",
    "Thandi",
    "Lucas",
    "Emma",
    "Kenji",
    "Zara",
    "Finn",
    "Ana",
    "Sam",
]
VENUES = [
    "The Old Orangery",
    "Harbourside Pavilion",
    "St Mary's Church",
    "Lakeside Barn",
    "Rooftop Garden",
    "Château des Vignes",
    "Cherry Blossom Hall",
    "The Glasshouse",
    "Riverside Mill",
    "Cliff Top Chapel",
]
CEREMONY_TIMES = [dt.time(11, 0), dt.time(12, 30), dt.time(13, 0), dt.time(14, 0), dt.time(15, 30), dt.time(16, 0)]


def parse_now(raw: str | None) -> dt.datetime:
    """``--now``: an ISO 8601 instant with a UTC offset (``2026-06-13T12:00:00+00:00`` or ``…Z``).

    Raises CommandError for an unparsable or naive value. None -> the clock.
    """
    if raw is None:
        return timezone.now()
    try:
        value = dt.datetime.fromisoformat(raw)
    except ValueError as exc:
        raise CommandError(f"--now {raw!r}: not an ISO 8601 date-time ({exc})") from exc
    if timezone.is_naive(value):
        raise CommandError(f"--now {raw!r}: give a UTC offset, e.g. {raw}+00:00")
    return value.astimezone(dt.UTC)


def coming_saturdays(local_today: dt.date, count: int) -> list[dt.date]:
    """The next ``count`` Saturdays from ``local_today`` (today included when it is a Saturday)."""
    first = local_today + dt.timedelta(days=(5 - local_today.weekday()) % 7)
    return [first + dt.timedelta(weeks=i) for i in range(count)]


def couple_name(rng: random.Random) -> str:
    """Two distinct first names, ``"Amelia & Noah"``."""
    a, b = rng.sample(FIRST_NAMES, 2)
    return f"{a} & {b}"


def load_factor(local_time: dt.datetime) -> float:
    """Traffic relative to the daily peak (0.15 .. 1.0): quiet at night, busiest mid-afternoon local time."""
    hour = local_time.hour + local_time.minute / 60
    return 0.15 + 0.85 * max(0.0, math.sin(math.pi * (hour - 6) / 18)) if 6 <= hour <= 24 else 0.15


class Command(BaseCommand):
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

    def seed_oncall(self, orgs: dict[str, Organization], *, now: dt.datetime) -> None:
        """Paging people and their rules, the platform schedule (two zones, a wedding-day layer) and Rosewood's."""
        from oncall.models import ContactMethod, PersonalRule, Rotation, Schedule
        from oncall.services import contact_method_add, rotation_save, rule_add, schedule_save

        User = get_user_model()
        people = {}
        with service_context():
            for username, first, last, email, phone, slack, tz in ONCALL_PEOPLE:
                user, created = User.objects.get_or_create(
                    username=username,
                    defaults={"first_name": first, "last_name": last, "email": email, "is_staff": True},
                )
                if created:  # paged, never logging in to the demo
                    user.set_unusable_password()
                    user.save(update_fields=["password"])
                people[username] = user
                for kind, address in (("email", email), ("sms", phone), ("voice", phone), ("slack", slack)):
                    if not ContactMethod.objects.filter(user=user, kind=kind).exists():
                        contact_method_add(user=user, kind=kind, address=address, label=f"demo ({tz})")
                if not PersonalRule.objects.filter(user=user).exists():
                    methods = {m.kind: m for m in ContactMethod.objects.filter(user=user)}
                    for kind, delay in (("email", 0), ("sms", 0), ("slack", 0), ("voice", 3)):
                        rule_add(user=user, contact_method=methods[kind], delay_minutes=delay)
                    for kind in ("sms", "voice", "slack", "email"):
                        rule_add(user=user, contact_method=methods[kind], delay_minutes=0, wedding_day=True)
            vendor = User.objects.get(username=VENDOR_USER[0])
            if not ContactMethod.objects.filter(user=vendor).exists():
                contact_method_add(user=vendor, kind="email", address="owner@rosewood-florals.example")
            # Mondays of the week the demo runs: every layer starts then, so the rota is the same each run.
            london_today = now.astimezone(zoneinfo.ZoneInfo("Europe/London")).date()
            monday = london_today - dt.timedelta(days=london_today.weekday() + 7)
            friday = monday - dt.timedelta(days=3)  # the wedding-day rota changes hands before Sydney's Saturday
            p = people
            schedule = Schedule.objects.filter(organization=None, name=ONCALL_SCHEDULE).first() or schedule_save(
                organization=None,
                name=ONCALL_SCHEDULE,
                timezone_name="Europe/London",
                description="Follow the sun: London days, Sydney nights, and the Saturday wedding-day rota.",
                wedding_day_organizations=[orgs["rosewood-florals"], orgs["bloom-and-vine"]],
            )
            layers = [
                dict(
                    name="Weekdays (London)",
                    position=2,
                    starts_on=monday,
                    handoff_time=dt.time(9),
                    participants=[p["priya"], p["marcus"]],
                    days=[1, 2, 3, 4, 5],
                    active_from=dt.time(8),
                    active_until=dt.time(20),
                ),
                dict(
                    name="London nights (Sydney team)",
                    position=3,
                    starts_on=monday,
                    handoff_time=dt.time(9),
                    participants=[p["kenji"], p["aroha"]],
                    days=[1, 2, 3, 4, 5, 7],
                    active_from=dt.time(20),
                    active_until=dt.time(8),
                ),
                dict(
                    name="Sundays",
                    position=1,
                    starts_on=monday,
                    handoff_time=dt.time(9),
                    participants=[p["marcus"], p["kenji"]],
                    days=[7],
                ),
                dict(
                    name="Saturday wedding day",
                    position=5,
                    starts_on=friday,
                    handoff_time=dt.time(12),
                    participants=[p["priya"], p["kenji"]],
                    wedding_day_only=True,
                ),
            ]
            for layer in layers:
                if not Rotation.objects.filter(schedule=schedule, name=layer["name"]).exists():
                    rotation_save(schedule=schedule, **layer)
            rosewood = orgs["rosewood-florals"]
            own = Schedule.objects.filter(organization=rosewood, name="Rosewood on call").first() or schedule_save(
                organization=rosewood,
                name="Rosewood on call",
                timezone_name="Europe/London",
                description="The shop's own on call: office hours, and the owner on wedding days.",
            )
            for layer in (
                dict(
                    name="Office hours",
                    position=1,
                    starts_on=monday,
                    handoff_time=dt.time(9),
                    participants=[vendor],
                    days=[1, 2, 3, 4, 5],
                    active_from=dt.time(9),
                    active_until=dt.time(18),
                ),
                dict(
                    name="Wedding days",
                    position=2,
                    starts_on=friday,
                    handoff_time=dt.time(6),
                    participants=[vendor],
                    wedding_day_only=True,
                    active_from=dt.time(6),
                    active_until=dt.time(23),
                ),
            ):
                if not Rotation.objects.filter(schedule=own, name=layer["name"]).exists():
                    rotation_save(schedule=own, **layer)
        self.say(
            f"on call: {ONCALL_SCHEDULE!r} (London days, Sydney nights, Sundays, Saturday wedding-day layer"
            f" for Rosewood and Bloom & Vine), 'Rosewood on call'; {len(people)} paging people"
            " (email, SMS, voice, Slack to the local sinks)"
        )

    def seed_runbooks(self) -> None:
        """Platform runbooks for the services and alerts the demo fires."""
        from incidents.models import Runbook

        books = (
            (
                "Checkout latency",
                "payments",
                "HighCheckoutLatency",
                "## Checkout is slow\n\n1. Check the payment provider's status page.\n"
                "2. Look at `/ops/db/` for blocked queries.\n3. On a wedding day, call the vendor first.",
            ),
            (
                "Booking API down",
                "booking-api",
                "VendorBookingAPIDown",
                "## Booking API down\n\n1. Restart the failing instance.\n2. Fail over to the spare.\n"
                "3. Post a vendor-visible note on the incident.",
            ),
            (
                "Gallery uploads",
                "gallery",
                "",
                "## Gallery uploads failing\n\nCheck object-storage credentials and quota.",
            ),
        )
        from incidents.runbooks import runbook_save

        with service_context():
            for title, service, alertname, content in books:
                if not Runbook.objects.filter(organization=None, title=title).exists():
                    runbook_save(
                        title=title, content=content, by=None, now=timezone.now(), service=service, alertname=alertname
                    )
        self.say(f"runbooks: {len(books)} platform runbooks")

    def seed_alerts(self, orgs: dict[str, Organization], *, now: dt.datetime) -> None:
        from alerts.evaluation import rule_alert_labels, rule_group_key
        from alerts.fingerprint import labels_fingerprint
        from alerts.models import AlertRule
        from alerts.services import alert_fire
        from wedsync_ops.tenancy.wedding_day import wedding_day

        fired = created = incidents = 0
        with service_context():
            platform_rule = AlertRule.objects.get(organization=None, name=PLATFORM_RULE)
            acme = orgs[SPIKE[0]]
            day = wedding_day(organization_id=acme.id, at=now)
            on, reason = day.on, day.reason
            specs = [
                {  # the latency spike of the metrics above, with the identity the platform rule gives it, so
                    # the first evaluation after `make run` touches this alert instead of opening another
                    "organization_id": acme.id,
                    "labels": rule_alert_labels(rule=platform_rule, organization_slug=acme.slug, service=SPIKE[1]),
                    "group_key": rule_group_key(rule=platform_rule, organization_slug=acme.slug),
                    "title": f"{SPIKE[1]} p95 latency high for {acme.name}",
                    "source": "rule",
                    "rule": platform_rule,
                    "severity": "critical",
                    "priority": "high",
                    "value": 1480.0,
                    "threshold": 400.0 if on else 800.0,
                    "threshold_reason": reason if on else "weekday threshold",
                    "minutes_ago": SPIKE_MINUTES - 5,
                },
                {
                    "organization_id": orgs["bloom-and-vine"].id,
                    "labels": {
                        "alertname": "PhotoUploadsFailing",
                        "organization": "bloom-and-vine",
                        "service": "gallery",
                    },
                    "title": "Photo uploads failing for Bloom & Vine",
                    "source": "grafana",
                    "severity": "critical",
                    "priority": "critical",
                    "value": 23.0,
                    "minutes_ago": 12,
                },
                {
                    "organization_id": orgs["rosewood-florals"].id,
                    "labels": {
                        "alertname": "EmailQueueBacklog",
                        "organization": "rosewood-florals",
                        "service": "email",
                    },
                    "title": "Email queue backlog growing for Rosewood Florals",
                    "source": "alertmanager",
                    "severity": "warning",
                    "priority": "medium",
                    "value": 340.0,
                    "minutes_ago": 40,
                },
                {  # an alert naming no known organization: unassigned, staff only
                    "organization_id": None,
                    "labels": {"alertname": "DiskPressure", "instance": "db-replica-2"},
                    "title": "Disk 91% full on db-replica-2",
                    "source": "alertmanager",
                    "severity": "warning",
                    "priority": "high",
                    "value": 91.0,
                    "minutes_ago": 55,
                },
            ]
            for spec in specs:
                alert, new = alert_fire(
                    organization_id=spec["organization_id"],
                    fingerprint=labels_fingerprint(spec["labels"]),
                    source=spec["source"],
                    title=spec["title"],
                    labels=spec["labels"],
                    annotations={"summary": spec["title"], "seeded_by": "seed_demo"},
                    severity=spec["severity"],
                    priority=spec["priority"],
                    starts_at=now - dt.timedelta(minutes=spec["minutes_ago"]),
                    now=now,
                    rule=spec.get("rule"),
                    value=spec.get("value"),
                    threshold=spec.get("threshold"),
                    threshold_reason=spec.get("threshold_reason", ""),
                    group_key=spec.get("group_key") or _group_key(spec["labels"]),
                )
                fired += 1
                created += new
                incidents += alert.incident_id is not None
                if spec.get("rule") is not None and alert.incident_id is not None:
                    # Nothing sends metrics after the seed, so the spike's alert resolves once its data
                    # leaves the rule's window (5 min); its incident waits for a person, so the demo
                    # keeps showing it (incidents.services.opening: resolve manually).
                    from incidents.models import Incident

                    Incident.objects.filter(pk=alert.incident_id).update(resolve_manually=True)
        self.say(f"alerts: {fired} firing ({created} new), {incidents} with an incident")

    def seed_status_pages(self, orgs: dict[str, Organization], *, now: dt.datetime) -> None:
        """Public status pages (issue 14 §5) for a few organizations, with health checks and 90 days of runs."""
        from demo.health_checks import demo_health_checks_seed

        public = [orgs[slug] for slug in STATUS_PAGE_SLUGS]
        with service_context():
            Organization.objects.filter(slug__in=STATUS_PAGE_SLUGS).update(status_page_public=True)
            counts = demo_health_checks_seed(organizations=public, now=now)
        self.say(
            f"status pages: {len(public)} public ({', '.join(f'/status/{o.slug}/' for o in public)});"
            f" {counts['checks']} health checks ({counts['created']} new), {counts['runs']} runs"
        )

    def seed_heartbeats(self, orgs: dict[str, Organization], *, now: dt.datetime) -> None:
        """Heartbeat checks (demo.heartbeats): some up, one late, one down with its alert."""
        from demo.heartbeats import demo_checks_seed, demo_ping_command

        with service_context():
            counts = demo_checks_seed(organizations=orgs, now=now)
            ping = demo_ping_command(organization=orgs[VENDOR_USER[2]])
        self.say(
            f"heartbeats: {counts['checks']} checks ({counts['created']} new): {counts['up']} up,"
            f" {counts['late']} late, {counts['down']} down"
        )
        self.say(f"  ping a demo check: {ping}")

    def seed_business(self, orgs: dict[str, Organization], *, now: dt.datetime, weeks: int) -> None:
        """Business events, funnels, segments and alert rules (demo.business), then one rule evaluation."""
        from business.services import business_rules_evaluate
        from demo.business import OUTAGE_SLUG, demo_business_seed

        with service_context():
            counts = demo_business_seed(organizations=orgs, now=now, weeks=weeks)
        with service_context():
            rules = business_rules_evaluate(now=now)
        self.say(
            f"business: {counts['events']} events over {weeks} weeks for {counts['organizations']} organizations"
            f" ({counts['computed']} daily rows computed); {OUTAGE_SLUG}'s payments fail in the last hour;"
            f" {rules['fired']} business alert(s) fired"
        )

    def seed_performance(self, orgs: dict[str, Organization], *, now: dt.datetime, minutes: int) -> None:
        """Endpoint timings, web vitals, journeys and an error cascade of the organizations with a wedding today
        (their last hour at most), rolled up (demo.performance, issue 18)."""
        from demo.performance import demo_performance_seed

        with service_context():
            result = demo_performance_seed(
                organizations={s: orgs[s] for s in TODAY_SLUGS}, now=now, minutes=min(minutes, 60)
            )
        self.say(
            f"performance: {result['points']} points ({result['skipped']} organizations already seeded),"
            f" rolled up {result['rolled_up']}; {result['correlations']} error correlations"
        )
