"""How alerts open, join, reopen, mute and resolve incidents (the alerts ⇄ incidents edge).

- One problem is one incident: an alert opens an incident only when no incident of its group
  (``incidents.group_key``: the alert's group key, or its fingerprint without one) is open, or resolved
  less than ``INCIDENT_REOPEN_WINDOW_MINUTES`` ago; otherwise it joins the open one, or reopens the
  resolved one, with a timeline row. A rule's alert that re-fires has the same group key, so it too
  joins or reopens its previous incident.
- A resolution ends it: when the last open alert of an incident resolves, the incident resolves
  itself ("all alerts resolved"), unless the incident or its escalation policy resolves manually.
- A silence mutes it: an incident whose open alerts are all muted stops escalating (timeline "Muted by
  silence …"); when one fires again escalation resumes from the step it was on, its wait counted from then.
"""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone

from alerts.models import AlertHistory
from wedsync_ops.tenancy.wedding_day import wedding_day

from .. import conf
from ..models import Incident, IncidentUpdate
from ..notify import incident_notify, incident_pages_cancel, incidents_notify
from .lifecycle import _require_aware, _timeline, _transition


def incident_group_key(alert: AlertHistory) -> str:
    """The problem an alert belongs to: its group key, else ``fingerprint:<fingerprint>`` (500 chars at most)."""
    return (alert.group_key or f"fingerprint:{alert.fingerprint}")[:500]


def incident_open_from_alert(*, alert: AlertHistory, now: dt.datetime | None = None) -> Incident:
    """Open, join or reopen the incident of ``alert``; returns it. Sets ``alert.incident_id``.

    ``alert``: an ``AlertHistory`` the current context can see (service and staff contexts see all;
    a vendor context its organization's). ``now``: the instant at which the wedding-day protocol is
    decided and the escalation clock starts (aware datetime; default the current time).

    - Already linked: returns its incident, writes nothing.
    - Its group (organization, ``incident_group_key``) has an open incident: joins it (timeline row
      ``alert``, no new notification; a muted incident resumes escalating if this alert is unmuted).
    - Its group's newest incident resolved less than ``INCIDENT_REOPEN_WINDOW_MINUTES`` before ``now``:
      reopens it (vendor-visible timeline row, ``incident.reopened`` notified) and joins it.
    - Otherwise SQL ``create_incidents_from_alerts`` opens a new one: on a wedding day of the
      organization a ``p0`` titled ``WEDDING DAY: …`` linked to the day's wedding, else ``p1``
      (critical/emergency) or ``p2``; its ``incident.opened`` notifications go through routing.

    ``incidents_open_from_alerts`` of one alert. Raises ``AlertHistory.DoesNotExist`` when the context
    cannot see the alert.
    """
    opened = incidents_open_from_alerts(alerts=[alert], now=now)
    if alert.pk not in opened:
        raise AlertHistory.DoesNotExist(f"alert {alert.pk} is not visible")
    return opened[alert.pk]


def incidents_open_from_alerts(*, alerts: list, now: dt.datetime | None = None, protocols: dict | None = None) -> dict:
    """Open, join or reopen the incidents of many alerts at once; returns ``{alert_id: Incident}``.

    The meaning of ``incident_open_from_alert`` for each alert, set-based: alerts of one group (the
    same organization and ``incident_group_key``) in the batch make one incident between them (the
    earliest opens it, the others join). Queries per batch, not per alert: the alerts (locked), one
    advisory lock per group, the groups' newest incidents, one ``create_incidents_from_alerts`` call,
    one update linking the joiners, one insert of timeline rows, and the ``incident.opened``
    notifications through ``incidents_notify``; only reopening an incident is done one by one (rare).
    Concurrent callers are serialised per group by transaction advisory locks, taken in key order.
    Sets ``incident_id`` on the given alert objects. ``protocols``: the organizations' ``WeddingDay``
    at ``now`` when the caller has them (for routing the notifications).
    """
    now = now or timezone.now()
    given = {a.pk: a for a in alerts}
    if not given:
        return {}
    with transaction.atomic():
        locked = list(AlertHistory.objects.select_for_update().filter(pk__in=list(given)).order_by("pk"))
        result: dict = {}
        linked = [a for a in locked if a.incident_id is not None]
        existing = Incident.objects.in_bulk([a.incident_id for a in linked])
        for alert in linked:
            result[alert.pk] = existing[alert.incident_id]
        groups: dict[tuple, list] = {}
        order = {a.pk: i for i, a in enumerate(alerts)}  # ties on starts_at: the order the alerts were given
        for alert in sorted((a for a in locked if a.incident_id is None), key=lambda a: (a.starts_at, order[a.pk])):
            groups.setdefault((alert.organization_id, incident_group_key(alert)), []).append(alert)
        if not groups:
            return _set_ids(given, result)
        keys = sorted(f"incident-group:{org or ''}:{key}" for org, key in groups)
        with connection.cursor() as cur:
            cur.execute("SELECT pg_advisory_xact_lock(hashtextextended(k, 0)) FROM unnest(%s::text[]) k", [keys])
        previous = _newest_incidents(groups)
        window = dt.timedelta(minutes=conf.INCIDENT_REOPEN_WINDOW_MINUTES)
        joins: list[tuple] = []  # (alert, incident, how)
        openers = []
        for group_key, members in groups.items():
            incident = previous.get(group_key)
            if incident is not None and incident.status in Incident.OPEN_STATUSES:
                joins += [(a, incident, "joined this incident") for a in members]
            elif (
                incident is not None
                and incident.status == "resolved"
                and incident.resolved_at
                and incident.resolved_at >= now - window
            ):
                _transition(
                    incident=incident,
                    by=None,
                    now=now,
                    allowed_from=("resolved",),
                    to="open",
                    reason=f'alert "{members[0].title}" fired again within '
                    f"{conf.INCIDENT_REOPEN_WINDOW_MINUTES} min of the resolution",
                )
                joins += [(a, incident, "reopened this incident") for a in members]
            else:
                openers.append(members[0])
        created = {}
        if openers:
            with connection.cursor() as cur:
                cur.execute(
                    "SELECT alert_id, incident_id FROM create_incidents_from_alerts(%s::uuid[], %s)",
                    [[str(a.pk) for a in openers], now],
                )
                created = dict(cur.fetchall())
            new_incidents = Incident.objects.in_bulk(list(created.values()))
            for opener in openers:
                incident = new_incidents[created[opener.pk]]
                result[opener.pk] = incident
                members = groups[(opener.organization_id, incident_group_key(opener))]
                joins += [(a, incident, "of the same group joined this incident") for a in members[1:]]
            incidents_notify(
                event="incident.opened",
                incidents=list(new_incidents.values()),
                now=now,
                first_labels={created[o.pk]: o.labels for o in openers},
                protocols=protocols,
            )
        if joins:
            _join_many(joins, now=now)
            for alert, incident, _how in joins:
                result[alert.pk] = incident
            for incident_id in {incident.pk for _a, incident, _h in joins}:
                incident_alerts_changed(incident_id=incident_id, now=now)
            fresh = Incident.objects.in_bulk([i.pk for _a, i, _h in joins])
            result.update({a.pk: fresh[i.pk] for a, i, _h in joins})
        return _set_ids(given, result)


def _set_ids(given: dict, result: dict) -> dict:
    for pk, incident in result.items():
        if pk in given:
            given[pk].incident_id = incident.pk
    return result


def _newest_incidents(groups: dict) -> dict:
    """``{(organization_id, group_key): the group's newest unmerged incident}`` for the given groups, in one query."""
    found = {}
    for assigned in (True, False):  # equality joins (index incidents_group_key), not IS NOT DISTINCT FROM
        part = [(org, key) for org, key in groups if (org is not None) is assigned]
        if not part:
            continue
        match = "i.organization_id = g.org" if assigned else "i.organization_id IS NULL"
        rows = Incident.objects.raw(
            f"""
            SELECT DISTINCT ON (i.organization_id, i.group_key) i.*
              FROM incidents i
              JOIN unnest(%s::uuid[], %s::text[]) AS g(org, key) ON {match} AND i.group_key = g.key
             WHERE i.merged_into_id IS NULL
             ORDER BY i.organization_id, i.group_key, i.created_at DESC, i.id DESC
            """,
            [[str(org) if org else None for org, _key in part], [key for _org, key in part]],
        )
        found.update({(i.organization_id, i.group_key): i for i in rows})
    return found


def _join_many(joins: list[tuple], *, now: dt.datetime) -> None:
    """Link each ``(alert, incident, how)`` and write its timeline row ``Alert "<title>" <how>``; two statements."""
    from alerts.services import alerts_link_incident  # alerts.services imports this package

    alerts_link_incident(links=[(a.pk, i.pk) for a, i, _h in joins])
    IncidentUpdate.objects.bulk_create(
        [
            IncidentUpdate(
                organization_id=i.organization_id,
                incident_id=i.pk,
                kind=IncidentUpdate.Kind.ALERT,
                message=f'Alert "{a.title}" {how}',
                created_at=now,
                vendor_visible=False,
            )
            for a, i, how in joins
        ]
    )


def _resolves_manually(incident: Incident, now: dt.datetime) -> bool:
    if incident.resolve_manually:
        return True
    from ..escalation import plan_for_incident

    plan = plan_for_incident(incident=incident, now=now)
    return plan.resolve_manually


def incident_alerts_changed(*, incident_id, now: dt.datetime, by=None, mute_rule=None) -> Incident | None:
    """Bring an incident in line with its alerts after one of them changed; returns it (None if not open).

    - Every linked alert resolved (and at least one was linked): the incident resolves itself
      ("All alerts resolved"), its pending escalation pages are cancelled and ``incident.resolved``
      goes out through routing; unless it resolves manually (``Incident.resolve_manually`` or its
      escalation policy's), then a timeline row says so and it stays open. A p0/p1 still needs its
      post-incident analysis before it can be closed.
    - Every open linked alert muted (``suppressed``): ``muted_at = now`` (escalation stops), pending
      escalation pages cancelled, timeline "Muted by silence <id> (author, comment, until …)" naming
      ``mute_rule`` or the alerts' rules.
    - Muted, and an alert fires again unmuted: ``muted_at`` cleared and the escalation clock restarted
      at ``now`` (the step it was on waits its full time again), timeline "Unmuted".

    Runs in the caller's transaction; ``by``: the person whose action caused it, if any.
    """
    with transaction.atomic():
        incident = Incident.objects.select_for_update().filter(pk=incident_id).first()
        if incident is None or incident.status not in Incident.OPEN_STATUSES or incident.merged_into_id:
            return None
        statuses = list(AlertHistory.objects.filter(incident_id=incident.pk).values_list("status", flat=True))
        open_statuses = [s for s in statuses if s in AlertHistory.OPEN_STATUSES]
        if statuses and not open_statuses:
            if _resolves_manually(incident, now):
                _timeline(
                    incident,
                    kind=IncidentUpdate.Kind.ALERT,
                    by=None,
                    now=now,
                    message="All alerts resolved; the incident stays open (set to resolve manually)",
                )
                return incident
            return _transition(
                incident=incident,
                by=by,
                now=now,
                allowed_from=Incident.OPEN_STATUSES,
                to="resolved",
                reason="all alerts resolved",
            )
        all_muted = bool(open_statuses) and all(s == AlertHistory.Status.SUPPRESSED for s in open_statuses)
        unmuted_firing = any(s in (AlertHistory.Status.FIRING, AlertHistory.Status.ESCALATED) for s in open_statuses)
        if all_muted and incident.muted_at is None:
            Incident.objects.filter(pk=incident.pk).update(muted_at=now, updated_at=now)
            incident.muted_at = now
            incident_pages_cancel(incident=incident, reason="muted by a silence", now=now)
            _timeline(
                incident, kind=IncidentUpdate.Kind.MUTE, by=None, now=now, message=_muted_text(incident, mute_rule)
            )
        elif incident.muted_at is not None and unmuted_firing:
            Incident.objects.filter(pk=incident.pk).update(muted_at=None, escalation_clock_at=now, updated_at=now)
            incident.muted_at, incident.escalation_clock_at = None, now
            _timeline(
                incident,
                kind=IncidentUpdate.Kind.MUTE,
                by=None,
                now=now,
                message=f"Unmuted: an alert fires again; escalation resumes at step "
                f"{incident.escalation_step + 1}, its wait counted from now",
            )
        return incident


def _muted_text(incident: Incident, rule) -> str:
    from alerts.models import SuppressionRule

    if rule is None:
        rule_id = (
            AlertHistory.objects.filter(incident_id=incident.pk, status="suppressed")
            .exclude(suppressed_by__isnull=True)
            .values_list("suppressed_by_id", flat=True)
            .first()
        )
        rule = SuppressionRule.objects.select_related("created_by").filter(pk=rule_id).first()  # type: ignore[misc]  # None matches no row
    if rule is None:
        return "Muted: every open alert is suppressed; escalation stops"
    until = f"until {rule.ends_at:%Y-%m-%d %H:%M} UTC" if rule.ends_at else "no end"
    comment = (rule.comment or "").strip() or "no comment"
    kind = {"silence": "silence", "maintenance": "maintenance window", "inhibition": "inhibition rule"}[rule.kind]
    return f"Muted by {kind} {rule.pk} ({rule.author}, {comment!r}, {until}); escalation stops"


def incident_open_from_error_pattern(
    *, organization_id, service: str, signature: str, message: str, occurrences: int, now: dt.datetime
) -> tuple[Incident, bool]:
    """Open an incident for a critical error pattern; returns ``(incident, created)``.

    One open incident per (organization, ``service``, ``signature``): while one is open (open,
    acknowledged, investigating) a repeat adds a timeline row ``alert`` with the new count and returns
    it (``created`` False). Concurrent calls are serialised by a transaction advisory lock. New:
    ``source = error_pattern``, ``source_ref = "<service>:<signature>"``, severity ``critical``;
    ``p0`` titled ``WEDDING DAY: …`` with ``wedding_impact = wedding_day_critical`` and linked to that
    day's wedding (``wedsync_ops.tenancy.wedding_day``) when the organization's wedding-day protocol is
    on at ``now``, else ``p1``; its ``incident.opened`` notifications go through routing. Raises
    ValidationError for an empty ``service``/``signature`` or naive ``now``.
    """
    _require_aware(now)
    errors = {k: "required" for k, v in (("service", service), ("signature", signature)) if not (v or "").strip()}
    if errors:
        raise ValidationError(errors)
    ref = f"{service}:{signature}"[:200]
    with transaction.atomic():
        with connection.cursor() as cur:
            cur.execute(
                "SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", [f"incident-ep:{organization_id}:{ref}"]
            )
        existing = (
            Incident.objects.filter(
                source=Incident.Source.ERROR_PATTERN,
                source_ref=ref,
                status__in=Incident.OPEN_STATUSES,
                organization_id=organization_id,
            ).first()
            if organization_id
            else Incident.objects.filter(
                source=Incident.Source.ERROR_PATTERN,
                source_ref=ref,
                status__in=Incident.OPEN_STATUSES,
                organization__isnull=True,
            ).first()
        )
        if existing is not None:
            _timeline(
                existing,
                kind=IncidentUpdate.Kind.ALERT,
                by=None,
                now=now,
                message=f"Error pattern {ref} seen again: {occurrences} occurrences",
            )
            return existing, False
        day = wedding_day(organization_id=organization_id, at=now)
        title = f"Critical error pattern in {service}: {message.strip()[:300]}"
        incident = Incident.objects.create(
            organization_id=organization_id,
            title=(f"WEDDING DAY: {title}" if day.on else title)[:500],
            description=f"{occurrences} occurrences of {signature} in {service}.\n\n{message}",
            priority="p0" if day.on else "p1",
            severity="critical",
            wedding_impact="wedding_day_critical" if day.on else "none",
            wedding_id=day.wedding_id,
            source=Incident.Source.ERROR_PATTERN,
            source_ref=ref,
            group_key=f"error-pattern:{ref}"[:500],
            detected_at=now,
            created_at=now,
            updated_at=now,
            escalation_clock_at=now,
        )
        _timeline(
            incident,
            kind=IncidentUpdate.Kind.CREATED,
            by=None,
            now=now,
            vendor_visible=True,
            message=f"Incident opened from critical error pattern {ref} ({occurrences} occurrences)"
            + (f"; {day.reason}" if day.on else ""),
        )
        incident_notify(event="incident.opened", incident=incident, now=now)
    return incident, True
