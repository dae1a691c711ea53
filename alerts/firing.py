"""Firing alerts set-based: the work of ``alerts.services.alert_fire`` for many alerts in a few statements.

Rule evaluation can find thousands of new breaches in one beat tick (an alert storm); firing them one at
a time costs a dozen queries each. ``alerts_fire_many`` takes them all at once, with the meaning of
``alert_fire`` for each (which is this function with one alert):

1. open alerts of those identities are touched (one UPDATE), redeliveries a resolution covers are left;
2. flapping identities (one counting query) and muted ones (``alerts.suppression.Muter``: the rules in
   force loaded once) are found;
3. the new alerts are written in one ``INSERT … ON CONFLICT DO NOTHING`` on the one-open-per-identity
   index (an identity another transaction opened meanwhile is touched instead);
4. their ``alert.firing`` notifications go out through routing in one outbox insert
   (``alerts.notify.alerts_notify``), and those that open incidents open, join or reopen them
   together (``incidents.services.incidents_open_from_alerts``).

A fixed number of queries per batch (about twenty), whatever its size. Runs in the caller's context
and transaction; callers fire in a service context.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from dataclasses import dataclass, field

from django.db import connection, transaction

from alerts.models import AlertHistory, AlertIntegration, AlertRule
from alerts.suppression import Muter, alert_label_set
from wedsync_ops.tenancy.models import Organization

OPEN = ("firing", "acknowledged", "escalated", "suppressed")
STARTS_AT_SOURCES = (AlertHistory.Source.ALERTMANAGER, AlertHistory.Source.GRAFANA)


@dataclass
class FireCandidate:
    """One alert to fire: the arguments of ``alert_fire`` (see there for their meaning and units)."""

    organization_id: uuid.UUID | None
    fingerprint: str
    source: str
    title: str
    labels: dict
    annotations: dict
    severity: str
    priority: str
    starts_at: dt.datetime
    rule: AlertRule | None = None
    integration: AlertIntegration | None = None
    value: float | None = None
    threshold: float | None = None
    threshold_reason: str = ""
    group_key: str = ""
    generator_url: str = ""
    description: str = ""
    alert: AlertHistory | None = field(default=None, repr=False)
    created: bool = False

    @property
    def identity(self) -> tuple:
        return (self.organization_id, self.fingerprint)


def _identity_rows(sql: str, candidates: list, extra: dict | None = None) -> list:
    """Run ``sql`` (with ``{_JOIN}``) joined to the candidates' identities; the rows of every run.

    ``{_JOIN}`` is ``unnest(orgs, fps, starts, sources) t(org, fp, starts, source)`` joined on the
    identity. Candidates with an organization and unassigned ones run separately, so each join is an
    equality the indexes on ``(organization_id, fingerprint …)`` answer (``IS NOT DISTINCT FROM``
    would scan the table).
    """
    rows = []
    for assigned in (True, False):
        part = [c for c in candidates if (c.organization_id is not None) is assigned]
        if not part:
            continue
        match = "h.organization_id = t.org" if assigned else "h.organization_id IS NULL"
        params = {
            "orgs": [str(c.organization_id) if c.organization_id else None for c in part],
            "fps": [c.fingerprint for c in part],
            "starts": [c.starts_at for c in part],
            "sources": [c.source for c in part],
            **(extra or {}),
        }
        with connection.cursor() as cur:
            cur.execute(sql.replace("{_JOIN}", _JOIN.format(match=match)), params)
            rows += cur.fetchall()
    return rows


_JOIN = """JOIN unnest(%(orgs)s::uuid[], %(fps)s::text[], %(starts)s::timestamptz[], %(sources)s::text[])
              AS t(org, fp, starts, source)
                ON {match} AND h.fingerprint = t.fp"""


def alerts_fire_many(candidates: list[FireCandidate], *, now: dt.datetime) -> list[FireCandidate]:
    """Fire many alerts at once; returns ``candidates`` with ``alert`` and ``created`` filled in.

    For each candidate, what ``alerts.services.alert_fire`` does (touch the open alert; ignore a firing
    its resolution covers; otherwise write it ``firing``, or ``suppressed`` when muted, or ``flapping``;
    notify and open its incident). Two candidates of one identity: the last one counts. Raises
    ValidationError for naive datetimes (``now``, ``starts_at``).
    """
    from alerts.services import alert_opens_incident_many, require_aware

    require_aware("now", now)
    for c in candidates:
        require_aware("starts_at", c.starts_at)
        c.alert, c.created = None, False
    by_identity = {c.identity: c for c in candidates}
    todo = list(by_identity.values())
    if not todo:
        return candidates
    with transaction.atomic():
        # 1. Open alerts of these identities are only touched.
        open_rows = _identity_rows(
            "SELECT h.id, h.organization_id, h.fingerprint FROM alert_history h {_JOIN}"
            " WHERE h.status IN ('firing', 'acknowledged', 'escalated', 'suppressed') FOR UPDATE OF h",
            todo,
        )
        open_ids = {(org, fp): pk for pk, org, fp in open_rows}
        touched = [c for c in todo if c.identity in open_ids]
        _touch([(open_ids[c.identity], c.value) for c in touched], now=now)
        fresh = [c for c in todo if c.identity not in open_ids]
        # 2. A resolution that covers the firing (a redelivery of a resolved alert) leaves it resolved.
        covered = {}
        if fresh:
            for pk, org, fp in _identity_rows(
                """SELECT DISTINCT ON (h.organization_id, h.fingerprint) h.id, h.organization_id, h.fingerprint
                      FROM alert_history h {_JOIN}
                     WHERE h.status = 'resolved'
                       AND (h.starts_at = t.starts OR (t.source = ANY(%(covering)s) AND h.ends_at > t.starts))
                     ORDER BY h.organization_id, h.fingerprint, h.starts_at DESC""",
                fresh,
                {"covering": list(STARTS_AT_SOURCES)},
            ):
                covered[(org, fp)] = pk
        new = [c for c in fresh if c.identity not in covered]
        muted, flapping = _muted_and_flapping(new, now=now)
        inserted = _insert(new, muted=muted, flapping=flapping, now=now)
        raced = [c for c in new if c.identity not in inserted]  # opened by another transaction meanwhile
        if raced:
            for pk, org, fp in _identity_rows(
                "SELECT h.id, h.organization_id, h.fingerprint FROM alert_history h {_JOIN}"
                " WHERE h.status IN ('firing', 'acknowledged', 'escalated', 'suppressed') FOR UPDATE OF h",
                raced,
            ):
                open_ids[(org, fp)] = pk
            _touch([(open_ids[c.identity], c.value) for c in raced if c.identity in open_ids], now=now)
        loaded = AlertHistory.objects.select_related("organization", "rule").in_bulk(
            [*open_ids.values(), *covered.values(), *inserted.values()]
        )
        for c in todo:
            if c.identity in inserted:
                c.alert, c.created = loaded[inserted[c.identity]], True
            elif c.identity in open_ids:
                c.alert = loaded[open_ids[c.identity]]
            elif c.identity in covered:
                c.alert = loaded[covered[c.identity]]
        # 3. Those that neither a rule mutes nor flapping holds are notified and open their incidents.
        loud = [
            loaded[inserted[c.identity]]
            for c in new
            if c.identity in inserted and c.identity not in muted and c.identity not in flapping
        ]
        if loud:
            from alerts.notify import alerts_notify
            from incidents.services import incidents_open_from_alerts
            from wedsync_ops.tenancy.wedding_day import wedding_days

            days = wedding_days(organization_ids={a.organization_id for a in loud}, at=now)  # once for all three
            alerts_notify(event="alert.firing", alerts=loud, now=now, protocols=days)
            opening = alert_opens_incident_many(alerts=loud, now=now, days=days)
            if opening:
                opened = incidents_open_from_alerts(alerts=opening, now=now, protocols=days)
                for alert in opening:
                    if alert.pk in opened:
                        alert.incident_id = opened[alert.pk].pk
    for c in candidates:  # duplicates of an identity share its outcome
        if c.alert is None and c.identity in by_identity:
            twin = by_identity[c.identity]
            c.alert, c.created = twin.alert, False
    return candidates


def _touch(rows: list[tuple], *, now: dt.datetime) -> None:
    """``last_received_at = now`` (and ``value`` when given) of the open alerts ``[(id, value)]``, one UPDATE."""
    if not rows:
        return
    with connection.cursor() as cur:
        cur.execute(
            "UPDATE alert_history h SET last_received_at = %s, value = coalesce(t.value, h.value)"
            " FROM unnest(%s::uuid[], %s::float8[]) AS t(id, value) WHERE h.id = t.id",
            [now, [str(pk) for pk, _ in rows], [value for _, value in rows]],
        )


def _muted_and_flapping(candidates: list, *, now: dt.datetime) -> tuple[dict, dict]:
    """``({identity: (rule, reason)}, {identity: reason})``: what mutes each new alert, and which flap.

    Flapping (``alerts.conf``): at least ``FLAP_MAX_OPENINGS`` openings of the identity, this one
    included, within ``FLAP_WINDOW_S`` before ``now`` (one counting query). Muting: one ``Muter``.
    """
    from alerts import conf

    if not candidates:
        return {}, {}
    counts = {
        (org, fp): n
        for org, fp, n in _identity_rows(
            """SELECT h.organization_id, h.fingerprint, count(*) FROM alert_history h {_JOIN}
                 WHERE h.starts_at >= %(since)s GROUP BY h.organization_id, h.fingerprint""",
            candidates,
            {"since": now - dt.timedelta(seconds=conf.FLAP_WINDOW_S)},
        )
    }
    flapping = {}
    for c in candidates:
        openings = counts.get(c.identity, 0) + (
            1 if c.starts_at >= now - dt.timedelta(seconds=conf.FLAP_WINDOW_S) else 0
        )
        if openings >= conf.FLAP_MAX_OPENINGS:
            flapping[c.identity] = f"flapping: opened {openings} times in {conf.FLAP_WINDOW_S // 60} min"
    slugs = dict(Organization.objects.filter(pk__in={c.organization_id for c in candidates}).values_list("pk", "slug"))
    muter = Muter(organization_ids={c.organization_id for c in candidates}, at=now)
    muted = {}
    for c in candidates:
        probe = AlertHistory(
            organization_id=c.organization_id,
            labels=c.labels,
            severity=c.severity,
            priority=c.priority,
            fingerprint=c.fingerprint,
            title=c.title,
        )
        labels = alert_label_set(probe)
        if c.organization_id in slugs:
            labels.setdefault("organization", slugs[c.organization_id])
        rule, reason = muter.muting(probe, labels)
        if rule is not None:
            muted[c.identity] = (rule, reason)
    return muted, flapping


_INSERT = """
INSERT INTO alert_history
    (id, organization_id, rule_id, integration_id, source, fingerprint, group_key, status, severity, priority,
     title, description, labels, annotations, value, threshold, threshold_reason, generator_url, starts_at,
     last_received_at, suppressed_by_id, suppression_reason, flapping, escalation_clock_at, resolved_in_portal,
     created_at)
SELECT t.id, t.org, t.rule, t.integration, t.source, t.fp, t.group_key, t.status, t.severity::alert_severity,
       t.priority::alert_priority, t.title, t.description, t.labels, t.annotations, t.value, t.threshold,
       t.reason, t.generator_url, t.starts, %(now)s, t.suppressed_by, t.suppression_reason, t.flapping, %(now)s,
       false, statement_timestamp()
  FROM jsonb_to_recordset(%(rows)s::jsonb)
       AS t(id uuid, org uuid, rule uuid, integration uuid, source text, fp text, group_key text, status text,
            severity text, priority text, title text, description text, labels jsonb, annotations jsonb,
            value float8, threshold float8, reason text, generator_url text, starts timestamptz,
            suppressed_by uuid, suppression_reason text, flapping boolean)
 ORDER BY t.org, t.fp
ON CONFLICT (organization_id, fingerprint) WHERE status IN ('firing', 'acknowledged', 'escalated', 'suppressed')
DO NOTHING
RETURNING id, organization_id, fingerprint
"""


def _insert(candidates: list, *, muted: dict, flapping: dict, now: dt.datetime) -> dict:
    """Write the new alerts in one statement; returns ``{identity: id}`` of those written.

    Texts are cut to their column lengths (title 500, group key 500, threshold reason 200, suppression
    reason 300). An identity another transaction opened meanwhile is skipped (the partial unique index).
    """
    if not candidates:
        return {}
    ids = {c.identity: uuid.uuid4() for c in candidates}

    def row(c) -> dict:
        mute = muted.get(c.identity)
        return {
            "id": str(ids[c.identity]),
            "org": str(c.organization_id) if c.organization_id else None,
            "rule": str(c.rule.pk) if c.rule else None,
            "integration": str(c.integration.pk) if c.integration else None,
            "source": c.source,
            "fp": c.fingerprint,
            "group_key": c.group_key[:500],
            "status": "suppressed" if mute else "firing",
            "severity": c.severity,
            "priority": c.priority,
            "title": c.title[:500],
            "description": c.description,
            "labels": c.labels or {},
            "annotations": c.annotations or {},
            "value": c.value,
            "threshold": c.threshold,
            "reason": c.threshold_reason[:200],
            "generator_url": c.generator_url[:1000],
            "starts": c.starts_at.isoformat(),
            "suppressed_by": str(mute[0].pk) if mute else None,
            "suppression_reason": (mute[1] if mute else flapping.get(c.identity, ""))[:300],
            "flapping": c.identity in flapping and not mute,
        }

    params = {"now": now, "rows": json.dumps([row(c) for c in candidates], separators=(",", ":"), default=str)}
    with connection.cursor() as cur:
        cur.execute(_INSERT, params)
        return {(org, fp): pk for pk, org, fp in cur.fetchall()}
