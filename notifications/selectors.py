"""Reads of the outbox that other apps' pages share: a channel's health, an incident's deliveries."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Max, Min, Q

from .models import DeliveryAttempt, NotificationChannel, NotificationDelivery

Status = NotificationDelivery.Status
READY_WITHIN = dt.timedelta(days=7)


@dataclass(frozen=True)
class ChannelHealth:
    """What a vendor needs to know about one channel.

    ``last_attempt_at``/``last_ok``/``last_reason``: the newest attempt (deliveries and tests), its
    outcome and, when it failed, a fixed reason (status code only, never the receiver's body);
    ``failures_24h``: failed attempts in the 24 h before ``now``; ``last_success_at``: the newest
    successful attempt; ``held``/``stuck``: deliveries held (channel disabled) or waiting to be retried;
    ``working``: enabled and a success within 7 days.
    """

    channel: NotificationChannel
    last_attempt_at: dt.datetime | None
    last_ok: bool | None
    last_reason: str
    failures_24h: int
    last_success_at: dt.datetime | None
    held: int
    stuck: int
    working: bool


def _reason(attempt: DeliveryAttempt | None) -> str:
    if attempt is None or attempt.ok:
        return ""
    if attempt.status_code:
        from .transports import HTTP_REASONS

        return f"HTTP {attempt.status_code} {HTTP_REASONS.get(attempt.status_code, '')}".strip()
    return "the receiver could not be reached"


def channel_health(*, channels, now: dt.datetime) -> list[ChannelHealth]:
    """``ChannelHealth`` of each channel in ``channels`` (a queryset or list), in their order. Four queries."""
    channels = list(channels)
    ids = [c.pk for c in channels]
    attempts = DeliveryAttempt.objects.filter(channel_id__in=ids)
    stats = {
        row["channel_id"]: row
        for row in attempts.values("channel_id").annotate(
            last_at=Max("attempted_at"),
            last_ok_at=Max("attempted_at", filter=Q(ok=True)),
            failures=Count("id", filter=Q(ok=False, attempted_at__gte=now - dt.timedelta(hours=24))),
        )
    }
    newest = {}
    for attempt in attempts.order_by("channel_id", "-attempted_at", "-id").distinct("channel_id"):
        newest[attempt.channel_id] = attempt
    waiting = {
        row["channel_id"]: row
        for row in NotificationDelivery.objects.filter(channel_id__in=ids, status__in=[Status.HELD, Status.PENDING])
        .values("channel_id")
        .annotate(
            held=Count("id", filter=Q(status=Status.HELD)),
            stuck=Count("id", filter=Q(status=Status.PENDING, attempts__gt=0)),
        )
    }
    result = []
    for channel in channels:
        s: Mapping[str, Any] = stats.get(channel.pk, {})
        last = newest.get(channel.pk)
        w: Mapping[str, Any] = waiting.get(channel.pk, {})
        success = s.get("last_ok_at")
        result.append(
            ChannelHealth(
                channel=channel,
                last_attempt_at=s.get("last_at"),
                last_ok=last.ok if last else None,
                last_reason=_reason(last),
                failures_24h=s.get("failures", 0),
                last_success_at=success,
                held=w.get("held", 0),
                stuck=w.get("stuck", 0),
                working=bool(channel.enabled and success and success >= now - READY_WITHIN),
            )
        )
    return result


def deliveries_about(*, incident_id: uuid.UUID | None = None, alert_ids=()) -> list[NotificationDelivery]:
    """The deliveries about an incident or alerts, oldest first, with their channel (the timeline's outcomes)."""
    q = Q(pk__in=[])
    if incident_id is not None:
        q |= Q(incident_id=incident_id)
    if alert_ids:
        q |= Q(alert_id__in=list(alert_ids))
    return list(NotificationDelivery.objects.filter(q).select_related("channel").order_by("created_at", "id"))


def deliveries_by_ids(ids) -> dict:
    """``{id: NotificationDelivery}`` (with its channel) for the given ids."""
    return {d.pk: d for d in NotificationDelivery.objects.filter(pk__in=list(ids)).select_related("channel")}


def group_notification_times(*, group_key: str) -> tuple[dt.datetime | None, dt.datetime | None]:
    """``(first due time of a first-round alert.firing still waiting, newest delivery)`` of an alert group.

    ``group_key``: the deliveries' group (the caller's, e.g. organization and Alertmanager group key).
    Used by the alerts app's Alertmanager-style grouping (group_wait, group_interval). Both None for a
    group never notified.
    """
    rows = NotificationDelivery.objects.filter(group_key=group_key, event="alert.firing")
    waiting = (
        rows.filter(status=Status.PENDING, attempts=0)
        .order_by("next_attempt_at")
        .values_list("next_attempt_at", flat=True)
        .first()
    )
    last = rows.filter(delivered_at__isnull=False).aggregate(m=Max("delivered_at"))["m"]
    return waiting, last


def groups_notification_times(*, group_keys) -> dict:
    """``group_notification_times`` of many groups in one query: ``{group_key: (waiting, last)}``."""
    rows = (
        NotificationDelivery.objects.filter(group_key__in=list(group_keys), event="alert.firing")
        .values("group_key")
        .annotate(waiting=Min("next_attempt_at", filter=Q(status=Status.PENDING, attempts=0)), last=Max("delivered_at"))
    )
    return {r["group_key"]: (r["waiting"], r["last"]) for r in rows}


def any_delivered(*, alert_id: uuid.UUID, events: tuple[str, ...]) -> bool:
    """Whether any delivery of ``events`` about the alert went out (delivered, being sent, or failed trying)."""
    return (
        NotificationDelivery.objects.filter(
            alert_id=alert_id, event__in=events, status__in=[Status.DELIVERED, Status.SENDING, Status.FAILED]
        ).exists()
        or DeliveryAttempt.objects.filter(delivery__alert_id=alert_id, delivery__event__in=events).exists()
    )


def failed_deliveries(*, since: dt.datetime, limit: int = 20) -> list[NotificationDelivery]:
    """Deliveries that failed (attempts used up, or the channel cannot work) since ``since``, newest first."""
    return list(
        NotificationDelivery.objects.filter(status=Status.FAILED, created_at__gte=since)
        .select_related("channel")
        .order_by("-created_at")[:limit]
    )
