"""The later steps of ``seed_demo`` (on call, runbooks, alerts, status pages, heartbeats, business events,
performance), as a mixin of its ``Command``: each step runs in ``service_context()`` and says what it wrote."""

from __future__ import annotations

import datetime as dt
import zoneinfo

from django.contrib.auth import get_user_model
from django.utils import timezone

from demo.catalog import (
    ONCALL_PEOPLE,
    ONCALL_SCHEDULE,
    PLATFORM_RULE,
    SPIKE,
    SPIKE_MINUTES,
    STATUS_PAGE_SLUGS,
    TODAY_SLUGS,
    VENDOR_USER,
    _group_key,
)
from wedsync_ops.tenancy.context import service_context
from wedsync_ops.tenancy.models import Organization


class LaterSteps:
    """``seed_demo``'s steps after the escalation policies; mixed into its ``Command`` (``self.say`` prints)."""

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
