"""Wedding readiness on an organization's page: four checks, each with what to fix."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from incidents.models import Incident
from wedsync_ops.tenancy.models import Organization

from .selectors import SLOW_P95_MS, P95Row


@dataclass
class ReadinessCheck:
    """One wedding-readiness check: ``ok`` and what to do when it is not."""

    name: str
    ok: bool
    detail: str


def _notified_check(*, organization: Organization, now: dt.datetime) -> ReadinessCheck:
    """Green only when an enabled channel of the organization delivered (or passed a test) within 7 days;
    otherwise it names the channels that fail, or says that none has been confirmed yet."""
    from notifications.models import NotificationChannel
    from notifications.selectors import channel_health

    health = channel_health(channels=NotificationChannel.objects.filter(organization=organization), now=now)
    working = [h.channel.name for h in health if h.working]
    if working:
        return ReadinessCheck("you are notified", True, f"{', '.join(working)} delivered within the last 7 days")
    if not health:
        return ReadinessCheck("you are notified", False, "add a channel under Channels and send it a test")
    failing = [
        f"{h.channel.name} ({'disabled' if not h.channel.enabled else h.last_reason or 'failing'})"
        for h in health
        if not h.channel.enabled or h.last_ok is False
    ]
    if failing:
        return ReadinessCheck("you are notified", False, f"failing: {', '.join(failing)}; fix it under Channels")
    return ReadinessCheck("you are notified", False, "no channel has delivered yet: send a test under Channels")


def wedding_readiness(
    *, organization: Organization, services: list[P95Row], now: dt.datetime | None = None
) -> list[ReadinessCheck]:
    """Is the organization ready for its weddings? Four checks, each with what to fix.

    1. no open p0/p1 incident; 2. no service's latest p95 is slow
    (``SLOW_P95_MS``); 3. a channel of the organization's own is enabled and
    delivered (or passed a test) within the last 7 days (``_notified_check``);
    4. a wedding-day emergency contact is on file (its own or the platform's).
    ``services`` are the page's p95 rows.
    """
    from django.utils import timezone

    from incidents.models import EscalationContact

    now = now or timezone.now()
    urgent = Incident.objects.filter(
        organization=organization, status__in=Incident.OPEN_STATUSES, priority__in=("p0", "p1")
    ).count()
    slow = sorted({row.service for row in services if row.level == "slow"})
    contacts = EscalationContact.objects.filter(
        organization=organization, wedding_day_emergency=True, is_active=True
    ).exists()
    return [
        ReadinessCheck(
            "no urgent incident",
            urgent == 0,
            f"{urgent} open p0/p1 incident(s): see Incidents" if urgent else "none open",
        ),
        ReadinessCheck(
            "services fast",
            not slow,
            f"slow p95: {', '.join(slow)}" if slow else f"every p95 under {SLOW_P95_MS:.0f} ms",
        ),
        _notified_check(organization=organization, now=now),
        ReadinessCheck(
            "emergency contact on file",
            contacts,
            "ask the operations team to add your wedding-day emergency contact"
            if not contacts
            else "your wedding-day contact is paged with the operations team",
        ),
    ]
