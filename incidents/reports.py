"""Incident reports: MTTA, MTTR and counts per week and per organization, Saturdays beside other days.

Definitions (seconds): MTTA = mean of ``acknowledged_at − detected_at`` over
incidents acknowledged; MTTR = mean of ``resolved_at − detected_at`` over
incidents resolved (closed ones included: they were resolved first).
Incidents count in the week and day of their ``detected_at`` in their
organization's time zone (platform-wide incidents: UTC); weeks start on
Monday (ISO). "Saturday" is the organization's local Saturday. Merged
duplicates are left out (their surviving incident counts). Scope: the rows
the current context can see (row-level security), narrowed to one
organization if asked.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict

from django.db import connection

PRIORITIES = ("p0", "p1", "p2", "p3")
IMPACTS = ("none", "low", "medium", "high", "wedding_day_critical")
MAX_RANGE_DAYS = 366

_SQL = """
WITH i AS (
  SELECT i.organization_id, o.slug, o.name, i.priority, i.wedding_impact::text AS impact,
         i.detected_at, i.acknowledged_at, i.resolved_at,
         (i.detected_at AT TIME ZONE coalesce(o.timezone, 'UTC'))::date AS local_day
    FROM incidents i
    LEFT JOIN organizations o ON o.id = i.organization_id
   WHERE i.merged_into_id IS NULL
     AND i.detected_at >= %(start)s AND i.detected_at < %(end)s
     AND (%(org)s::uuid IS NULL OR i.organization_id = %(org)s::uuid)
)
SELECT date_trunc('week', local_day)::date AS week, organization_id, slug, name,
       extract(isodow FROM local_day) = 6 AS saturday, priority, impact,
       count(*) AS n,
       count(acknowledged_at) AS n_ack,
       coalesce(sum(extract(epoch FROM acknowledged_at - detected_at)), 0) AS ack_s,
       count(resolved_at) AS n_res,
       coalesce(sum(extract(epoch FROM resolved_at - detected_at)), 0) AS res_s
  FROM i
 GROUP BY 1, 2, 3, 4, 5, 6, 7
 ORDER BY 1, 3 NULLS FIRST
"""


class _Acc:
    __slots__ = ("n", "n_ack", "ack_s", "n_res", "res_s", "by_priority", "by_impact", "sat", "other")

    def __init__(self, split: bool = True):
        self.n = self.n_ack = self.n_res = 0
        self.ack_s = self.res_s = 0.0
        self.by_priority = dict.fromkeys(PRIORITIES, 0)
        self.by_impact = dict.fromkeys(IMPACTS, 0)
        self.sat = _Acc(split=False) if split else None
        self.other = _Acc(split=False) if split else None

    def add(self, row: dict) -> None:
        self.n += row["n"]
        self.n_ack += row["n_ack"]
        self.ack_s += float(row["ack_s"])
        self.n_res += row["n_res"]
        self.res_s += float(row["res_s"])
        self.by_priority[row["priority"]] = self.by_priority.get(row["priority"], 0) + row["n"]
        self.by_impact[row["impact"]] = self.by_impact.get(row["impact"], 0) + row["n"]
        if self.sat is not None:
            (self.sat if row["saturday"] else self.other).add(row)

    def as_dict(self) -> dict:
        out = {
            "count": self.n,
            "mtta_s": round(self.ack_s / self.n_ack, 1) if self.n_ack else None,
            "mttr_s": round(self.res_s / self.n_res, 1) if self.n_res else None,
            "acknowledged": self.n_ack,
            "resolved": self.n_res,
            "by_priority": self.by_priority,
            "by_impact": self.by_impact,
        }
        if self.sat is not None:
            out["saturday"] = self.sat.as_dict()
            out["other_days"] = self.other.as_dict()
        return out


def incident_report(*, since: dt.date, until: dt.date, organization_id: uuid.UUID | None = None) -> dict:
    """The report for incidents detected from ``since`` to ``until`` (dates, inclusive, UTC day bounds).

    Returns::

        {"since": "YYYY-MM-DD", "until": "YYYY-MM-DD",
         "totals": STATS,
         "weeks": [{"week": "YYYY-MM-DD" (Monday), **STATS}],      # oldest first, only weeks with incidents
         "organizations": [{"organization": slug | None, "name": str | None, **STATS}]}  # None: platform-wide

    where ``STATS`` = ``{"count", "mtta_s", "mttr_s" (float seconds or None),
    "acknowledged", "resolved", "by_priority": {p0..p3: n},
    "by_impact": {none..wedding_day_critical: n}, "saturday": SUB,
    "other_days": SUB}`` and ``SUB`` is the same without the last two keys.
    Raises ValueError when ``until`` is before ``since`` or the range is
    longer than 366 days.
    """
    if until < since:
        raise ValueError("until is before since")
    if (until - since).days >= MAX_RANGE_DAYS:
        raise ValueError(f"the range is longer than {MAX_RANGE_DAYS} days")
    start = dt.datetime.combine(since, dt.time(0), tzinfo=dt.UTC)
    end = dt.datetime.combine(until + dt.timedelta(days=1), dt.time(0), tzinfo=dt.UTC)
    with connection.cursor() as cur:
        cur.execute(_SQL, {"start": start, "end": end, "org": str(organization_id) if organization_id else None})
        cols = [c.name for c in cur.description]
        rows = [dict(zip(cols, r, strict=True)) for r in cur.fetchall()]
    totals = _Acc()
    weeks: dict[dt.date, _Acc] = defaultdict(_Acc)
    orgs: dict = {}
    for row in rows:
        totals.add(row)
        weeks[row["week"]].add(row)
        key = (row["slug"], row["name"])
        orgs.setdefault(key, _Acc()).add(row)
    return {
        "since": since.isoformat(),
        "until": until.isoformat(),
        "totals": totals.as_dict(),
        "weeks": [{"week": w.isoformat(), **acc.as_dict()} for w, acc in sorted(weeks.items())],
        "organizations": [
            {"organization": slug, "name": name, **acc.as_dict()}
            for (slug, name), acc in sorted(orgs.items(), key=lambda kv: (kv[0][0] is not None, kv[0][0] or ""))
        ],
    }
