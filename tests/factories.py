"""Builders for tests: the objects most tests need, each in the tenant context it must be written in."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from wedsync_ops.tenancy.context import service_context


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


def make_person(username: str, *, staff: bool = True, organization=None, first_name: str = "", last_name: str = "",
                methods: dict | None = None, rules=(), wedding_rules=()):
    """A person who can be paged: a user (staff, or a member of ``organization``) with contact methods.

    ``methods``: ``{kind: address}``; ``rules``/``wedding_rules``: ``[(kind, delay_minutes)]`` in order.
    Returns the user. Runs in a service context.
    """
    from django.contrib.auth import get_user_model

    from oncall.services import contact_method_add, rule_add
    from wedsync_ops.tenancy.models import UserProfile

    with service_context():
        user = get_user_model().objects.create_user(
            username, f"{username}@example.com", f"pw-{username}-123", is_staff=staff,
            first_name=first_name, last_name=last_name,
        )
        if organization is not None:
            UserProfile.objects.create(user=user, organization=organization, role=UserProfile.Role.MEMBER)
        made = {kind: contact_method_add(user=user, kind=kind, address=address)
                for kind, address in (methods or {}).items()}
        for wedding_day, listing in ((False, rules), (True, wedding_rules)):
            for kind, delay in listing:
                rule_add(user=user, contact_method=made[kind], delay_minutes=delay, wedding_day=wedding_day)
    return user


def make_schedule(name: str, *, organization=None, tz: str = "Europe/London", layers=(), scope=()):
    """A schedule with layers: each ``layers`` item a dict of ``oncall.services.rotation_save`` arguments
    (``participants`` as users). ``scope``: a platform schedule's wedding-day organizations. Returns it."""
    from oncall.services import rotation_save, schedule_save

    with service_context():
        schedule = schedule_save(organization=organization, name=name, timezone_name=tz,
                                 wedding_day_organizations=list(scope) or None)
        for spec in layers:
            rotation_save(schedule=schedule, **spec)
    return schedule


def make_policy(name: str, *, organization=None, wedding_day: bool = False, steps=(), repeat_count: int = 1):
    """An escalation policy with ``steps``: dicts of ``EscalationStep`` fields (``position`` from their order)."""
    from incidents.models import EscalationPolicy, EscalationStep

    with service_context():
        policy = EscalationPolicy.objects.create(organization=organization, name=name, wedding_day=wedding_day,
                                                 repeat_count=repeat_count)
        for position, fields in enumerate(steps, start=1):
            step = EscalationStep(policy=policy, position=position, organization=organization, **fields)
            step.full_clean(exclude=["id"])
            step.save()
    return policy
def make_user_token(user) -> str:
    """A person's API token (django-rest-knox, hashed at rest), as ``drf_create_token`` prints it."""
    from wedsync_ops.tenancy.tokens import user_token_create

    return user_token_create(user=user)[1]
