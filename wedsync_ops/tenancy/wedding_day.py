"""The wedding-day protocol of an organization at an instant: one answer for every app.

docs/design/tenancy-and-rls.md, "Wedding-day rules": the protocol is on when the organization's
local date (``organizations.timezone``) has a wedding that is not cancelled,
or is a Saturday. The SQL function ``wedding_day_protocol(org, at)``
(``wedsync_ops/tenancy/sql/functions/wedding_day_protocol.v1.sql``) is the definition; this module
asks it, in one round trip, together with the day's wedding, and returns a
small value object. Routing, incident opening, escalation, heartbeats and
rule evaluation's Python side all call ``wedding_day``; the set-based threshold
evaluation (``alerts/sql/functions/alert_rule_evaluation.v3.sql``) inlines the same test once per
organization for speed, and ``tests/test_wedding_day.py`` proves the two agree at the same instants.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable
from dataclasses import dataclass

from django.db import connection

_QUERY = """
SELECT p.active, p.reason, d.local_date,
       (SELECT w.id FROM weddings w
         WHERE w.organization_id = %(org)s AND w.wedding_date = d.local_date AND w.status <> 'cancelled'
         ORDER BY w.ceremony_time NULLS LAST, w.created_at, w.id
         LIMIT 1) AS wedding_id
  FROM wedding_day_protocol(%(org)s, %(at)s::timestamptz) p
 CROSS JOIN (SELECT org_local_date(%(org)s, %(at)s::timestamptz) AS local_date) d
"""


@dataclass(frozen=True)
class WeddingDay:
    """The protocol at one instant for one organization.

    ``on``: the protocol is on; ``reason``: why, e.g. ``"wedding day: local
    Saturday 2026-06-13"`` (``""`` when off); ``local_date``: the
    organization's local date at that instant (None without organization);
    ``wedding_id``: that day's non-cancelled wedding with the earliest
    ceremony (None on a Saturday without a wedding, or when off).
    """

    on: bool
    reason: str = ""
    local_date: dt.date | None = None
    wedding_id: uuid.UUID | None = None

    def __bool__(self) -> bool:
        return self.on


OFF = WeddingDay(on=False)


def wedding_day(*, organization_id: uuid.UUID | None, at: dt.datetime) -> WeddingDay:
    """The wedding-day protocol of ``organization_id`` at ``at`` (an aware datetime); one query.

    ``organization_id`` None (a platform-wide alert or incident) is never a
    wedding day: returns ``OFF`` without a query. An organization the
    caller's tenant context cannot see reads as off (row-level security: no
    organization row, no local date). Raises ValueError for a naive ``at``.
    """
    if at.tzinfo is None:
        raise ValueError("wedding_day needs an aware datetime")
    if organization_id is None:
        return OFF
    with connection.cursor() as cur:
        cur.execute(_QUERY, {"org": organization_id, "at": at})
        row = cur.fetchone()
    if row is None or row[2] is None:
        return OFF
    active, reason, local_date, wedding_id = row
    if not active:
        return WeddingDay(on=False, local_date=local_date)
    return WeddingDay(on=True, reason=reason or "", local_date=local_date, wedding_id=wedding_id)


_MANY = """
SELECT o.id, p.active, p.reason, d.local_date,
       (SELECT w.id FROM weddings w
         WHERE w.organization_id = o.id AND w.wedding_date = d.local_date AND w.status <> 'cancelled'
         ORDER BY w.ceremony_time NULLS LAST, w.created_at, w.id
         LIMIT 1) AS wedding_id
  FROM organizations o
 CROSS JOIN LATERAL wedding_day_protocol(o.id, %(at)s::timestamptz) p
 CROSS JOIN LATERAL (SELECT (%(at)s::timestamptz AT TIME ZONE o.timezone)::date AS local_date) d
 WHERE o.id = ANY(%(orgs)s::uuid[])
"""


def wedding_days(*, organization_ids: Iterable[uuid.UUID | None], at: dt.datetime) -> dict[uuid.UUID, WeddingDay]:
    """``wedding_day`` of many organizations at one instant, in one query: ``{organization_id: WeddingDay}``.

    For set-based callers (rule evaluation firing many alerts, routing many notifications). An id
    the caller's context cannot see, and None, map to ``OFF``. Raises ValueError for a naive ``at``.
    """
    if at.tzinfo is None:
        raise ValueError("wedding_days needs an aware datetime")
    wanted = {o for o in organization_ids if o is not None}
    result: dict = dict.fromkeys(organization_ids, OFF)
    if not wanted:
        return result
    with connection.cursor() as cur:
        cur.execute(_MANY, {"orgs": [str(o) for o in wanted], "at": at})
        for org_id, active, reason, local_date, wedding_id in cur.fetchall():
            result[org_id] = (
                WeddingDay(on=True, reason=reason or "", local_date=local_date, wedding_id=wedding_id)
                if active
                else WeddingDay(on=False, local_date=local_date)
            )
    return result
