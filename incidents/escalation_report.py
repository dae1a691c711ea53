"""What the next escalation beat pass will take: SQL ``escalate_unacknowledged_alerts`` (WS-259, issue 18 §1).

The beat (``incidents.escalation.escalations_run``) stays the clock and the only writer; this is the
read-only report of the same rules in SQL (``incidents/sql/functions/escalate_unacknowledged_alerts.v1.sql``)
for the platform's own jobs and DBAs, with the configured waits and batch limit of ``incidents.conf``.
``tests/test_ws259_contract.py`` proves the two agree.
"""

from __future__ import annotations

import datetime as dt

from django.db import connection

from . import conf


def escalations_due(*, now: dt.datetime) -> list[dict]:
    """The incidents and critical alerts due for an escalation step at ``now`` (aware), in the caller's context.

    Returns ``[{"kind": "incident" | "alert", "id": UUID, "organization_id": UUID | None, "title": str,
    "step": int (1-based), "of_steps": int, "level": str, "policy": str, "wedding_day": bool,
    "due_at": datetime, "overdue_minutes": Decimal (min), "reason": str}]``, incidents first, each
    kind by due time. Raises ValueError for a naive ``now``.
    """
    if now.tzinfo is None:
        raise ValueError("escalations_due needs an aware datetime")
    with connection.cursor() as cur:
        cur.execute(
            "SELECT * FROM escalate_unacknowledged_alerts(%s, %s, %s, %s)",
            [
                now,
                conf.ESCALATION_DEFAULT_WAIT_MINUTES,
                conf.ESCALATION_WEDDING_DAY_WAIT_MINUTES,
                conf.ESCALATION_BATCH_LIMIT,
            ],
        )
        columns = [c.name for c in cur.description]
        return [dict(zip(columns, row, strict=True)) for row in cur.fetchall()]
