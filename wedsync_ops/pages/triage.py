"""The Saturday dashboard's triage panels (issue 14 §1): what is wrong first, and how fresh the data is.

``wedsync_ops.pages.selectors.saturday_dashboard`` loads them first; each reads at most two queries.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from alerts.models import AlertHistory

from .selectors import PANEL_LIMIT, WeddingRow

#: The beat jobs whose newest run says how fresh the dashboard's numbers are.
AGGREGATION_JOB = "apm-aggregate"
EVALUATION_JOB = "alerts-evaluate-rules"


@dataclass
class Freshness:
    """How old the data is, not the page: ``aggregated_at``/``evaluated_at`` (aware or None: never ran) are
    the newest successful runs of the aggregation and evaluation jobs; ``data_as_of`` the older of the two;
    ``behind``: one line per beat job whose newest run is older than twice its period (or which never ran
    while runs have been recorded that long), the ``/health/ready`` beat check's own verdict
    (``heartbeats.selectors.beat_jobs_status``)."""

    aggregated_at: dt.datetime | None
    evaluated_at: dt.datetime | None
    behind: list[str]

    @property
    def data_as_of(self) -> dt.datetime | None:
        known = [t for t in (self.aggregated_at, self.evaluated_at) if t is not None]
        return min(known) if len(known) == 2 else None


def data_freshness(*, now: dt.datetime) -> Freshness:
    """``Freshness`` at ``now``: two queries (``beat_jobs_status``), whatever the number of jobs."""
    from heartbeats.selectors import beat_jobs_status

    status = beat_jobs_status(now)
    by_name = {j.job.name: j for j in status.jobs}

    def newest(name: str) -> dt.datetime | None:
        job = by_name.get(name)
        if job is None or job.last_started_at is None:
            return None
        return job.last_finished_at or job.last_started_at

    behind = []
    for j in status.stale:
        if j.last_started_at is None:
            behind.append(f"{j.job.name} has not run (every {j.period_s:g} s)")
        else:
            behind.append(f"{j.job.name} last ran {_age_words(j.age_s)} ago (every {j.period_s:g} s)")
    return Freshness(aggregated_at=newest(AGGREGATION_JOB), evaluated_at=newest(EVALUATION_JOB), behind=behind)


def _age_words(seconds: float | None) -> str:
    if seconds is None:
        return "never"
    s = int(seconds)
    if s < 120:
        return f"{s} s"
    if s < 7200:
        return f"{s // 60} min"
    return f"{s // 3600} h {s % 3600 // 60:02d} min"


def firing_alerts(*, limit: int = PANEL_LIMIT) -> list[AlertHistory]:
    """Alerts that want a person: firing or escalated (not acknowledged, not muted), most severe, then oldest.

    Organization and incident come joined; one query.
    """
    return list(
        AlertHistory.objects.filter(status__in=(AlertHistory.Status.FIRING, AlertHistory.Status.ESCALATED))
        .select_related("organization", "incident")
        .order_by("-severity", "starts_at")[:limit]
    )


@dataclass
class AtRisk:
    """A wedding today whose organization has something open: the wedding row, and what is wrong."""

    row: WeddingRow
    incidents: list
    alerts: list


def weddings_at_risk(*, weddings: list[WeddingRow], incidents: list, alerts: list) -> list[AtRisk]:
    """Today's weddings (``weddings_today`` rows) whose organization has an open incident or firing alert,
    soonest ceremony first (no query: the dashboard's other panels are passed in)."""
    by_org_i: dict = {}
    for i in incidents:
        by_org_i.setdefault(i.organization_id, []).append(i)
    by_org_a: dict = {}
    for a in alerts:
        by_org_a.setdefault(a.organization_id, []).append(a)
    out = []
    for row in weddings:
        org = row.organization.id
        mine = [i for i in by_org_i.get(org, []) if i.wedding_id in (None, row.wedding.id)]
        if mine or by_org_a.get(org):
            out.append(AtRisk(row=row, incidents=mine, alerts=by_org_a.get(org, [])))
    return out


def service_health_counts() -> dict[str, int]:
    """Enabled service health checks per status (``{"healthy": 78, "critical": 1, …}``); one query."""
    from django.db.models import Count

    from apm.models import ServiceHealthCheck

    rows = ServiceHealthCheck.objects.filter(enabled=True).values("status").annotate(n=Count("id"))
    return {r["status"]: r["n"] for r in rows}
