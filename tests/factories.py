"""Builders for tests: the objects most tests need, each in the tenant context it must be written in.

Each builder opens a service context itself (so a test needs no ``with service_context()`` to set up),
writes through the owning app's services where one exists, and returns the object. Defaults make a
valid object; keyword arguments override any field. Tests then act as whoever they test (a vendor
context, a client logged in as a member, the application role with no context).
"""

from __future__ import annotations

import datetime as dt
import itertools

from django.utils import timezone

from wedsync_ops.tenancy.context import service_context

_serial = itertools.count(1)

#: The labels an alert built by ``fire_alert`` has unless told otherwise.
ALERT_LABELS = {"alertname": "CheckoutSlow", "service": "payments"}


# --- tenancy -----------------------------------------------------------------------------------------


def make_organization(
    slug: str | None = None, *, name: str | None = None, timezone_name: str = "Europe/London", **fields
):
    """An organization (``slug`` default ``org-<n>``; ``timezone_name`` an IANA zone). Returns it."""
    from wedsync_ops.tenancy.models import Organization

    slug = slug or f"org-{next(_serial)}"
    with service_context():
        return Organization.objects.create(
            slug=slug, name=name or slug.replace("-", " ").title(), timezone=timezone_name, **fields
        )


def make_user(
    username: str | None = None,
    *,
    organization=None,
    role: str = "member",
    staff: bool = False,
    password: str | None = None,
    **fields,
):
    """A user (``staff`` or not), a member of ``organization`` with ``role`` (owner, admin, member, viewer)
    when given. The password is ``pw-<username>-123`` unless given. Returns the user."""
    from django.contrib.auth import get_user_model

    from wedsync_ops.tenancy.models import UserProfile

    username = username or f"user{next(_serial)}"
    with service_context():
        user = get_user_model().objects.create_user(
            username, f"{username}@example.com", password or f"pw-{username}-123", is_staff=staff, **fields
        )
        if organization is not None:
            UserProfile.objects.create(user=user, organization=organization, role=role)
    return user


def make_wedding(organization, *, date: dt.date, couple_name: str | None = None, status: str = "confirmed", **fields):
    """A wedding of ``organization`` on its local ``date`` (``status`` confirmed unless told). Returns it."""
    from wedsync_ops.tenancy.models import Wedding

    with service_context():
        return Wedding.objects.create(
            organization=organization,
            wedding_date=date,
            status=status,
            couple_name=couple_name or f"Couple {next(_serial)}",
            **fields,
        )


# --- alerts and incidents ----------------------------------------------------------------------------


def make_rule(organization=None, **fields):
    """An alert rule through ``alerts.rules.alert_rule_create`` (a threshold rule on p95 of
    ``payments.checkout_latency`` above 500 ms over 5 minutes unless told). Returns it."""
    from alerts.rules import alert_rule_create

    values = {
        "name": f"Rule {next(_serial)}",
        "service": "payments",
        "metric_name": "checkout_latency",
        "aggregation": "p95",
        "comparison": "above",
        "threshold": 500.0,
        "window_minutes": 5,
        "severity": "warning",
        "priority": "medium",
        **fields,
    }
    with service_context():
        return alert_rule_create(organization_id=organization.id if organization is not None else None, **values)


def fire_alert(
    organization,
    labels: dict | None = None,
    *,
    now: dt.datetime | None = None,
    severity: str | None = None,
    priority: str = "medium",
    starts_at: dt.datetime | None = None,
    source: str = "alertmanager",
    annotations: dict | None = None,
    **fields,
):
    """Fire an alert of ``organization`` (None: unassigned) through ``alerts.services.alert_fire``.

    Fingerprint from ``labels`` (default ``ALERT_LABELS``); title ``labels["alertname"]``; severity
    ``labels["severity"]`` or warning unless given; ``starts_at`` defaults to ``now`` (default the
    clock). Returns the alert (``alert_fire``'s first value).
    """
    from alerts.fingerprint import labels_fingerprint
    from alerts.services import alert_fire

    labels = ALERT_LABELS if labels is None else labels
    now = now or timezone.now()
    with service_context():
        return alert_fire(
            organization_id=organization.id if organization is not None else None,
            fingerprint=labels_fingerprint(labels),
            source=source,
            title=labels.get("alertname", "alert"),
            labels=labels,
            annotations=annotations or {},
            severity=severity or labels.get("severity", "warning"),
            priority=priority,
            starts_at=starts_at or now,
            now=now,
            **fields,
        )[0]


def make_incident(organization, *, title: str | None = None, by=None, now: dt.datetime | None = None, **fields):
    """An incident opened by hand through ``incidents.services.incident_create`` (p2, warning unless told)."""
    from incidents.services import incident_create

    with service_context():
        return incident_create(
            organization=organization,
            title=title or f"Incident {next(_serial)}",
            by=by,
            now=now or timezone.now(),
            **fields,
        )


# --- notifications -----------------------------------------------------------------------------------


def make_channel(
    organization=None,
    *,
    kind: str = "webhook",
    name: str | None = None,
    config: dict | None = None,
    enabled: bool = True,
    **fields,
):
    """A notification channel through ``notifications.services.channel_create`` (a webhook to the
    tests' local receiver unless told); ``enabled=False`` stores it disabled, as if disabled earlier (no
    ``channel_disabled`` signal, no alert). Returns it."""
    from notifications.models import NotificationChannel
    from notifications.services import channel_create

    with service_context():
        channel = channel_create(
            organization_id=organization.id if organization is not None else None,
            kind=kind,
            name=name or f"{kind} {next(_serial)}",
            config=config if config is not None else {"url": "http://127.0.0.1:9/hook"},
            **fields,
        )
        if not enabled:
            NotificationChannel.objects.filter(pk=channel.pk).update(enabled=False)
            channel.refresh_from_db()
    return channel


def notify(event: str, *, alert=None, incident=None, now: dt.datetime | None = None, **kwargs) -> list:
    """Enqueue ``event`` about an alert or an incident the way the portal does (routing included).

    Alerts go through ``alerts.notify.alert_notify``, incidents through ``incidents.notify.incident_notify``;
    returns the deliveries written. Runs in a service context.
    """
    now = now or timezone.now()
    with service_context():
        if incident is not None:
            from incidents.notify import incident_notify

            return incident_notify(event=event, incident=incident, now=now, **kwargs)
        from alerts.notify import alert_notify

        return alert_notify(event=event, alert=alert, now=now, **kwargs)


# --- on call ---------------------------------------------------------------------------------------


def make_person(
    username: str,
    *,
    staff: bool = True,
    organization=None,
    first_name: str = "",
    last_name: str = "",
    methods: dict | None = None,
    rules=(),
    wedding_rules=(),
):
    """A person who can be paged: a user (staff, or a member of ``organization``) with contact methods.

    ``methods``: ``{kind: address}``; ``rules``/``wedding_rules``: ``[(kind, delay_minutes)]`` in order.
    Returns the user. Runs in a service context.
    """
    from django.contrib.auth import get_user_model

    from oncall.services import contact_method_add, rule_add
    from wedsync_ops.tenancy.models import UserProfile

    with service_context():
        user = get_user_model().objects.create_user(
            username,
            f"{username}@example.com",
            f"pw-{username}-123",
            is_staff=staff,
            first_name=first_name,
            last_name=last_name,
        )
        if organization is not None:
            UserProfile.objects.create(user=user, organization=organization, role=UserProfile.Role.MEMBER)
        made = {
            kind: contact_method_add(user=user, kind=kind, address=address) for kind, address in (methods or {}).items()
        }
        for wedding_day, listing in ((False, rules), (True, wedding_rules)):
            for kind, delay in listing:
                rule_add(user=user, contact_method=made[kind], delay_minutes=delay, wedding_day=wedding_day)
    return user


def make_schedule(name: str, *, organization=None, tz: str = "Europe/London", layers=(), scope=()):
    """A schedule with layers: each ``layers`` item a dict of ``oncall.services.rotation_save`` arguments
    (``participants`` as users). ``scope``: a platform schedule's wedding-day organizations. Returns it."""
    from oncall.services import rotation_save, schedule_save

    with service_context():
        schedule = schedule_save(
            organization=organization, name=name, timezone_name=tz, wedding_day_organizations=list(scope) or None
        )
        for spec in layers:
            rotation_save(schedule=schedule, **spec)
    return schedule


def make_policy(name: str, *, organization=None, wedding_day: bool = False, steps=(), repeat_count: int = 1):
    """An escalation policy with ``steps``: dicts of ``EscalationStep`` fields (``position`` from their order)."""
    from incidents.models import EscalationPolicy, EscalationStep

    with service_context():
        policy = EscalationPolicy.objects.create(
            organization=organization, name=name, wedding_day=wedding_day, repeat_count=repeat_count
        )
        for position, fields in enumerate(steps, start=1):
            step = EscalationStep(policy=policy, position=position, organization=organization, **fields)
            step.full_clean(exclude=["id"])
            step.save()
    return policy


def make_user_token(user) -> str:
    """A person's API token (django-rest-knox, hashed at rest), as ``drf_create_token`` prints it."""
    from wedsync_ops.tenancy.tokens import user_token_create

    return user_token_create(user=user)[1]


def make_business_events(organization, events, *, now=None) -> int:
    """Store business events for ``organization`` through the ingest service (validated, COPYed), in the
    service context. ``events``: dicts as the API takes them (``timestamp`` may be an aware datetime)."""
    from django.utils import timezone

    from business.services import events_copy, events_validate
    from wedsync_ops.tenancy.context import service_context

    now = now or timezone.now()
    payload = {
        "events": [
            {**e, "timestamp": e["timestamp"].isoformat()} if isinstance(e.get("timestamp"), dt.datetime) else e
            for e in events
        ]
    }
    with service_context():
        return events_copy(rows=events_validate(organization_id=organization.id, payload=payload, now=now))


def make_business_rows(organization, *, now=None):
    """One row of every business table for ``organization``: events through a funnel (paid, failed, RSVP), a
    funnel, a segment with a wedding in it, an alert rule, and the day's computations."""
    from django.utils import timezone

    from business.services import alert_rule_save, business_recompute_recent, funnel_save, segment_save
    from wedsync_ops.tenancy.context import service_context
    from wedsync_ops.tenancy.models import Wedding

    now = now or timezone.now()
    at = now - dt.timedelta(minutes=30)
    make_business_events(
        organization,
        [
            {"event_type": "form_submitted", "actor_id": "c1", "timestamp": at},
            {
                "event_type": "booking_created",
                "actor_id": "c1",
                "timestamp": at + dt.timedelta(minutes=1),
                "revenue_impact": "900",
                "currency": "GBP",
            },
            {
                "event_type": "payment_succeeded",
                "actor_id": "c1",
                "timestamp": at + dt.timedelta(minutes=2),
                "revenue_impact": "300",
                "currency": "GBP",
            },
            {
                "event_type": "payment_failed",
                "actor_id": "c2",
                "timestamp": at + dt.timedelta(minutes=3),
                "revenue_impact": "150",
                "currency": "GBP",
            },
            {"event_type": "rsvp_submitted", "actor_id": "g1", "timestamp": at, "properties": {"feature": "rsvp"}},
        ],
        now=now,
    )
    with service_context():
        Wedding.objects.create(
            organization=organization,
            wedding_date=now.astimezone(organization.tz).date() + dt.timedelta(days=10),
            couple_name="Sam & Alex",
        )
        funnel_save(
            organization=organization,
            name="Enquiry to payment",
            steps=["form_submitted", "booking_created", "payment_succeeded"],
        )
        segment_save(
            organization=organization,
            name="Weddings in the next 30 days",
            rule={"wedding_from_days": 0, "wedding_to_days": 30},
        )
        alert_rule_save(organization=organization, name="RSVPs dropping", event_type="rsvp_submitted")
        business_recompute_recent(now=now)
