"""Reads of APM data that several pages share."""

from __future__ import annotations

import datetime as dt
import uuid

from django.db import connection
from django.utils import timezone

_LATEST_P95_SQL = """
SELECT organization_id, organization_slug, service, metric_name, p95, count, bucket_start
FROM (
    SELECT DISTINCT ON (a.organization_id, a.service, a.metric_name)
           a.organization_id, o.slug AS organization_slug, a.service, a.metric_name,
           a.p95, a.count, a.bucket_start
    FROM apm_metric_aggregations a
    JOIN organizations o ON o.id = a.organization_id
    WHERE a.bucket_seconds = 60
      AND a.bucket_start > %(now)s - interval '1 hour' AND a.bucket_start <= %(now)s
      AND (%(org)s::uuid IS NULL OR a.organization_id = %(org)s::uuid)
    ORDER BY a.organization_id, a.service, a.metric_name, a.bucket_start DESC
) latest
ORDER BY organization_slug, service, metric_name
"""


def latest_p95_by_service(*, organization_id: uuid.UUID | None = None, now: dt.datetime | None = None) -> list[dict]:
    """The latest 1-minute p95 per (organization, service, metric) within the last hour.

    Returns ``[{"organization_id", "organization_slug", "service", "metric_name",
    "p95", "count", "bucket_start"}]`` ordered by organization slug, service; filtered
    to ``organization_id`` when given. RLS applies as usual.

    "Within the last hour": buckets starting in ``(now - 1 h, now]``
    (``now`` defaults to the current time). ``p95`` is in the metric's unit,
    ``count`` the points in that bucket, ``bucket_start`` an aware UTC
    datetime; rows with the same slug and service are ordered by
    metric_name. One query (``apm_metric_aggregations`` joined to
    ``organizations``); a context that sees no organization gets ``[]``.
    """
    now = now or timezone.now()
    with connection.cursor() as cur:
        cur.execute(_LATEST_P95_SQL, {"now": now, "org": str(organization_id) if organization_id else None})
        columns = [c.name for c in cur.description]
        return [dict(zip(columns, row, strict=True)) for row in cur.fetchall()]
