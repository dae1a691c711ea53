"""Routing: which channels a notification goes to (``apm_notification_rules``), one function for every event.

``route_channels`` is called by ``notification_enqueue`` for every event, alert or incident, so a
page and its acknowledgement and resolution reach the same people; see ``NotificationRule`` for the
rules' meaning. Wedding-day emergency channels are chosen only while the organization's wedding-day
protocol is on (``wedsync_ops.tenancy.wedding_day``), never on an ordinary day, whether or not any
routing rule exists.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db.models import Q

from wedsync_ops.matchers import matchers_match, parse_matchers
from wedsync_ops.tenancy.wedding_day import WeddingDay, wedding_day

from .models import NotificationChannel, NotificationRule, NotificationRuleChannel


@dataclass(frozen=True)
class Route:
    """The outcome of routing: ``channel_ids`` (sorted), the ``wedding_day`` it was decided under, and
    ``rules``: the names of the routing rules that matched (empty: the default route)."""

    channel_ids: tuple[uuid.UUID, ...]
    wedding_day: WeddingDay
    rules: tuple[str, ...] = field(default=())


def _scope(organization_id) -> Q:
    scope = Q(organization__isnull=True)
    if organization_id is not None:
        scope |= Q(organization_id=organization_id)
    return scope


def route_channels(*, organization_id: uuid.UUID | None, labels: dict, now: dt.datetime) -> Route:
    """The channels that receive a notification with ``labels`` about ``organization_id`` at ``now``.

    ``labels``: ``{str: str}`` the matchers see (callers add ``severity``, ``priority`` and
    ``organization``). Rules in scope: enabled, platform-wide or of ``organization_id``, in
    ``position`` order.

    - No rule in scope: every channel of the organization and the platform that is not a wedding-day
      emergency channel.
    - The first matching rule's channels, and routing stops, unless it has ``continue_matching``;
      while the wedding-day protocol is on, every matching rule's channels.
    - Rules in scope but none matching: the platform channels that are not emergency channels.
    - While the protocol is on, every ``wedding_day_emergency`` channel of the organization and the
      platform is added; on other days emergency channels are never chosen, even by a rule.

    Disabled channels are chosen too: their deliveries are written ``held`` (sent when the channel
    is enabled again), so a page is never lost to a channel in trouble. Runs in the caller's context
    (call it in a service context: a vendor context cannot see platform channels and rules).
    """
    protocol = wedding_day(organization_id=organization_id, at=now)
    channels = {
        c.pk: c
        for c in NotificationChannel.objects.filter(_scope(organization_id)).only(
            "id", "organization_id", "wedding_day_emergency"
        )
    }
    ordinary = {pk for pk, c in channels.items() if not c.wedding_day_emergency}
    rules = list(
        NotificationRule.objects.filter(_scope(organization_id), enabled=True).order_by("position", "created_at")
    )
    matched: list[NotificationRule] = []
    if not rules:
        chosen = set(ordinary)
    else:
        label_set = {str(k): str(v) for k, v in labels.items()}
        for rule in rules:
            try:
                matchers = parse_matchers(rule.matchers)
            except ValidationError:  # a rule saved around validation matches nothing
                continue
            if matchers_match(matchers, label_set):
                matched.append(rule)
                if not rule.continue_matching and not protocol.on:
                    break
        if matched:
            chosen = set(
                NotificationRuleChannel.objects.filter(rule_id__in=[r.pk for r in matched]).values_list(
                    "channel_id", flat=True
                )
            )
        else:
            chosen = {pk for pk in ordinary if channels[pk].organization_id is None}
    if protocol.on:
        chosen |= {pk for pk, c in channels.items() if c.wedding_day_emergency}
    else:
        chosen -= {pk for pk, c in channels.items() if c.wedding_day_emergency}
    chosen &= set(channels)  # a rule's channel of another scope never leaks in
    return Route(channel_ids=tuple(sorted(chosen, key=str)), wedding_day=protocol, rules=tuple(r.name for r in matched))
