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


class Router:
    """Routing for many notifications at one instant, with what it needs loaded once.

    ``Router(organization_ids=…, now=…)`` reads, in four queries whatever the number of notifications,
    the channels and enabled rules of those organizations and the platform, the rules' channels and each
    organization's wedding-day protocol at ``now`` (``protocols``: those the caller already has,
    ``{organization_id: WeddingDay}``); ``route(organization_id, labels)`` then decides in
    memory. ``route_channels`` is a Router of one. Runs in the caller's context (a service context:
    a vendor context cannot see platform channels and rules).
    """

    def __init__(self, *, organization_ids, now: dt.datetime, protocols: dict | None = None):
        from wedsync_ops.tenancy.wedding_day import wedding_days

        orgs = {o for o in organization_ids if o is not None}
        scope = Q(organization__isnull=True) | Q(organization_id__in=orgs)
        self.now = now
        known = protocols or {}
        missing = [o for o in orgs if o not in known]
        self.protocols = {**known, **wedding_days(organization_ids=[*missing, None], at=now)}
        self.channels_by_org: dict = {}  # organization_id (None: the platform's) -> {channel id: channel}
        self.channels: dict = {}
        for c in NotificationChannel.objects.filter(scope).only(
            "id", "organization_id", "wedding_day_emergency", "name", "kind", "enabled"
        ):
            self.channels_by_org.setdefault(c.organization_id, {})[c.pk] = c
            self.channels[c.pk] = c
        self.rules_by_org: dict = {}  # organization_id (None: platform rules) -> rules in position order
        for rule in NotificationRule.objects.filter(scope, enabled=True).order_by("position", "created_at"):
            try:
                rule.parsed = parse_matchers(rule.matchers)
            except ValidationError:  # a rule saved around validation matches nothing
                rule.parsed = None
            self.rules_by_org.setdefault(rule.organization_id, []).append(rule)
        rules = [r for group in self.rules_by_org.values() for r in group]
        self.rule_channels: dict = {}
        for rule_id, channel_id in NotificationRuleChannel.objects.filter(
            rule_id__in=[r.pk for r in rules]
        ).values_list("rule_id", "channel_id"):
            self.rule_channels.setdefault(rule_id, set()).add(channel_id)

    def channel(self, pk):
        """A loaded channel (id, organization, name, kind, enabled, wedding-day emergency) by id, or None."""
        return self.channels.get(pk)

    def route(self, *, organization_id, labels: dict) -> Route:
        """The ``Route`` of one notification (see ``route_channels`` for the rules of routing)."""
        protocol = self.protocols.get(organization_id) or wedding_day(organization_id=None, at=self.now)
        in_scope = dict(self.channels_by_org.get(None, {}))
        if organization_id is not None:
            in_scope.update(self.channels_by_org.get(organization_id, {}))
        ordinary = {pk for pk, c in in_scope.items() if not c.wedding_day_emergency}
        rules = self.rules_by_org.get(None, [])
        if organization_id is not None:
            rules = rules + self.rules_by_org.get(organization_id, [])
        rules.sort(key=lambda r: (r.position, r.created_at))
        matched = []
        if not rules:
            chosen = set(ordinary)
        else:
            label_set = {str(k): str(v) for k, v in labels.items()}
            for rule in rules:
                if rule.parsed is not None and matchers_match(rule.parsed, label_set):
                    matched.append(rule)
                    if not rule.continue_matching and not protocol.on:
                        break
            if matched:
                chosen = set().union(*(self.rule_channels.get(r.pk, set()) for r in matched))
            else:
                chosen = {pk for pk in ordinary if in_scope[pk].organization_id is None}
        emergency = {pk for pk, c in in_scope.items() if c.wedding_day_emergency}
        chosen = (chosen | emergency) if protocol.on else (chosen - emergency)
        chosen &= set(in_scope)  # a rule's channel of another scope never leaks in
        return Route(
            channel_ids=tuple(sorted(chosen, key=str)), wedding_day=protocol, rules=tuple(r.name for r in matched)
        )


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
    return Router(organization_ids=[organization_id], now=now).route(organization_id=organization_id, labels=labels)
