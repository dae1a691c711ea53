"""Reads behind the server-rendered pages: the Saturday dashboard and an organization's page.

Every selector takes ``now`` (an aware datetime) instead of reading the
clock, so pages and tests agree on "today" (PostgreSQL's ``now()`` is the
transaction start and cannot be frozen). Each runs a fixed number of
queries, whatever the number of rows (joins and prefetches, no query per
row). Row-level security applies as usual: the caller's transaction
context decides what the database returns, and the organization page
filters by organization explicitly as well.
"""

from __future__ import annotations

import datetime as dt
import uuid
import zoneinfo
from dataclasses import dataclass, field

from django.db import connection
from django.db.models import DateField, DateTimeField, F, Func, Prefetch, Value

from alerts.models import AlertHistory
from incidents.models import Incident, IncidentUpdate
from notifications.models import NotificationDelivery
from wedsync_ops.tenancy.models import Organization, Wedding

from .panels import Panel, load_panel, load_panels  # noqa: F401 - re-exported: the pages' panel contract

#: Latency p95 at or above this (ms) is marked "slow" on the pages: the
#: platform-wide rule's weekday threshold (seed_demo creates that rule).
SLOW_P95_MS = 800.0
#: Latency p95 at or above this (ms) is marked "watch": the wedding-day threshold.
WATCH_P95_MS = 400.0
#: How far ahead (days, local dates) an organization's page lists weddings.
UPCOMING_WEDDING_DAYS = 60
#: Most rows a dashboard table shows.
PANEL_LIMIT = 100
RECENT_DELIVERIES = 25
# The Saturday dashboard's latest-p95 table: the slowest series, not all of them (20 organizations
# send ~100 series, a thousand would send thousands; each organization's page lists all of its own).
SATURDAY_P95_ROWS = 25


class LocalDate(Func):
    """SQL ``(<timestamptz> AT TIME ZONE <zone>)::date``: the local date of an instant in a zone column."""

    template = "((%(expressions)s))::date"
    arg_joiner = " AT TIME ZONE "
    output_field = DateField()


def local_moment(day: dt.date, time: dt.time | None, tz: zoneinfo.ZoneInfo) -> dt.datetime | None:
    """The aware datetime of local ``day`` + ``time`` in ``tz`` (None when ``time`` is None)."""
    if time is None:
        return None
    return dt.datetime.combine(day, time, tzinfo=tz)


def is_latency_metric(metric_name: str) -> bool:
    """True for metrics whose values are durations (``…duration…``, ``…latency…``, ``…_ms``)."""
    name = metric_name.lower()
    return "duration" in name or "latency" in name or name.endswith("_ms")


def p95_level(p95: float | None) -> str:
    """``"slow"`` (≥ SLOW_P95_MS), ``"watch"`` (≥ WATCH_P95_MS), ``"ok"``, or ``"unknown"`` (None); p95 in ms."""
    if p95 is None:
        return "unknown"
    if p95 >= SLOW_P95_MS:
        return "slow"
    if p95 >= WATCH_P95_MS:
        return "watch"
    return "ok"


# --- weddings -----------------------------------------------------------------


@dataclass
class WeddingRow:
    """A wedding as the pages show it; ``ceremony_at`` is aware in the organization's zone (or None)."""

    wedding: Wedding
    organization: Organization
    ceremony_at: dt.datetime | None
    minutes_to_ceremony: int | None = None  # negative: started that many minutes ago

    @property
    def countdown(self) -> str:
        """``"in 2 h 05 min"``, ``"started 40 min ago"``, or ``""`` without a ceremony time."""
        m = self.minutes_to_ceremony
        if m is None:
            return ""
        span = f"{abs(m) // 60} h {abs(m) % 60:02d} min" if abs(m) >= 60 else f"{abs(m)} min"
        return f"in {span}" if m >= 0 else f"started {span} ago"

    @classmethod
    def of(cls, wedding: Wedding, organization: Organization) -> WeddingRow:
        """The row of ``wedding`` of ``organization``, ceremony time made aware in the organization's zone."""
        return cls(
            wedding=wedding,
            organization=organization,
            ceremony_at=local_moment(wedding.wedding_date, wedding.ceremony_time, organization.tz),
        )

    @property
    def ceremony_local(self) -> str:
        """``"14:30 BST"`` style: the local ceremony time with the zone's abbreviation, or ``""``."""
        if self.ceremony_at is None:
            return ""
        return f"{self.ceremony_at:%H:%M} {self.ceremony_at.tzname()}"

    @property
    def ceremony_utc(self) -> str:
        """The ceremony time in UTC, ``"13:30 UTC"``, or ``""``."""
        if self.ceremony_at is None:
            return ""
        return f"{self.ceremony_at.astimezone(dt.UTC):%H:%M} UTC"


def weddings_today(*, now: dt.datetime, limit: int = PANEL_LIMIT) -> list[WeddingRow]:
    """Non-cancelled weddings on each organization's LOCAL date at ``now``, by organization then ceremony.

    One query (weddings joined to organizations). Returns at most ``limit``
    WeddingRow, ceremony times aware in the organization's zone.
    """
    qs = (
        Wedding.objects.select_related("organization")
        .annotate(local_today=LocalDate(Value(now, output_field=DateTimeField()), F("organization__timezone")))
        .filter(wedding_date=F("local_today"))
        .exclude(status=Wedding.Status.CANCELLED)
        .order_by("organization__name", "ceremony_time", "couple_name")[:limit]
    )
    rows = [WeddingRow.of(w, w.organization) for w in qs]
    for row in rows:
        row.minutes_to_ceremony = (
            None if row.ceremony_at is None else round((row.ceremony_at - now).total_seconds() / 60)
        )
    # Across time zones, by the moment the ceremony starts (no time: last).
    far = dt.datetime.max.replace(tzinfo=dt.UTC)
    rows.sort(key=lambda r: (r.ceremony_at or far, r.organization.name, r.wedding.couple_name))
    return rows


def upcoming_weddings(
    *, organization: Organization, now: dt.datetime, days: int = UPCOMING_WEDDING_DAYS
) -> list[WeddingRow]:
    """``organization``'s non-cancelled weddings from its local today to ``days`` days later, inclusive.

    One query; dates are the organization's local dates.
    """
    today = now.astimezone(organization.tz).date()
    qs = (
        Wedding.objects.filter(
            organization_id=organization.id,
            wedding_date__gte=today,
            wedding_date__lte=today + dt.timedelta(days=days),
        )
        .exclude(status=Wedding.Status.CANCELLED)
        .order_by("wedding_date", "ceremony_time", "couple_name")
    )
    return [WeddingRow.of(w, organization) for w in qs]


# --- wedding-day protocol -------------------------------------------------------


@dataclass
class ProtocolRow:
    """An organization's wedding-day protocol at an instant: ``active``, ``reason`` (None when off)."""

    organization_id: uuid.UUID
    slug: str
    name: str
    timezone: str
    local_date: dt.date | None
    active: bool
    reason: str | None
    local_now: dt.datetime | None = None


def organizations_in_wedding_day_mode(*, now: dt.datetime) -> list[ProtocolRow]:
    """Organizations whose wedding-day protocol is on at ``now`` (SQL ``wedding_day_protocol``), by name.

    One query over the organizations the context can see.
    """
    with connection.cursor() as cur:
        cur.execute(
            """
            SELECT o.id, o.slug, o.name, o.timezone, (%s::timestamptz AT TIME ZONE o.timezone)::date, p.active, p.reason
              FROM organizations o
             CROSS JOIN LATERAL wedding_day_protocol(o.id, %s::timestamptz) p
             WHERE p.active
             ORDER BY o.name
            """,
            [now, now],
        )
        rows = [ProtocolRow(*r) for r in cur.fetchall()]
    for row in rows:
        row.local_now = now.astimezone(zoneinfo.ZoneInfo(row.timezone))
    return rows


def wedding_day_protocol(*, organization: Organization, now: dt.datetime) -> ProtocolRow:
    """``organization``'s wedding-day protocol at ``now`` (``wedsync_ops.tenancy.wedding_day``, one query)."""
    from wedsync_ops.tenancy.wedding_day import wedding_day

    day = wedding_day(organization_id=organization.id, at=now)
    active, reason = day.on, day.reason or None
    local_now = now.astimezone(organization.tz)
    return ProtocolRow(
        organization_id=organization.id,
        slug=organization.slug,
        name=organization.name,
        timezone=organization.timezone,
        local_date=local_now.date(),
        active=bool(active),
        reason=reason,
        local_now=local_now,
    )


# --- incidents and alerts -------------------------------------------------------


def open_incidents(*, organization_id: uuid.UUID | None = None, limit: int = PANEL_LIMIT) -> list[Incident]:
    """Open incidents (open, acknowledged, investigating), most urgent priority first, newest first.

    ``organization_id`` given: that organization's incidents only (platform
    incidents with NULL organization excluded), each with
    ``vendor_updates`` (its vendor-visible timeline, newest first; one
    prefetch query). Otherwise every incident the context can see.
    Organization and wedding come joined. At most ``limit`` rows.
    """
    qs = Incident.objects.filter(status__in=Incident.OPEN_STATUSES).select_related("organization", "wedding")
    if organization_id is not None:
        qs = qs.filter(organization_id=organization_id).prefetch_related(
            Prefetch(
                "updates",
                queryset=IncidentUpdate.objects.filter(vendor_visible=True).order_by("-created_at"),
                to_attr="vendor_updates",
            )
        )
    return list(qs.order_by("priority", "-detected_at")[:limit])


IMPACT_RANK = {"wedding_day_critical": 4, "high": 3, "medium": 2, "low": 1, "none": 0}


def incidents_by_wedding_impact(*, now: dt.datetime, limit: int = PANEL_LIMIT) -> list[Incident]:
    """Open incidents for the Saturday dashboard, ranked for on-call staff.

    Order (issue 14): priority (p0 first), then wedding impact
    (wedding_day_critical first), then the time to the linked wedding's
    ceremony (soonest first; none, or started over 4 h ago, last), then newest.
    Each incident gets ``minutes_to_ceremony`` (int or None). One query.
    """
    incidents = open_incidents(limit=limit)
    far = 10**9
    for incident in incidents:
        incident.minutes_to_ceremony = None
        wedding = incident.wedding
        if wedding is not None and wedding.ceremony_time is not None and incident.organization is not None:
            at = local_moment(wedding.wedding_date, wedding.ceremony_time, incident.organization.tz)
            incident.minutes_to_ceremony = round((at - now).total_seconds() / 60)
    incidents.sort(
        key=lambda i: (
            i.priority,
            -IMPACT_RANK.get(i.wedding_impact, 0),
            far if i.minutes_to_ceremony is None or i.minutes_to_ceremony < -240 else abs(i.minutes_to_ceremony),
            -i.detected_at.timestamp(),
        )
    )
    return incidents


def escalations_under_way(*, limit: int = PANEL_LIMIT) -> list[Incident]:
    """Open incidents that have escalated at least one step, latest escalation first. One query."""
    return list(
        Incident.objects.filter(status__in=Incident.OPEN_STATUSES, escalation_step__gt=0)
        .select_related("organization")
        .order_by("-last_escalated_at")[:limit]
    )


def p95_trend(*, now: dt.datetime, hours: int = 6) -> dict:
    """The platform's latency over the last ``hours``: per 5-minute bucket, the worst and the median service p95 (ms).

    From ``apm_metric_aggregations`` (5-minute buckets) of latency metrics
    (names with ``duration``/``latency`` or ending ``_ms``). Returns
    ``{"times": [datetime], "worst": [float|None], "median": [float|None]}``,
    one entry per 5-minute bucket of the range, None where nothing was
    aggregated (a gap in the chart), oldest first. One query
    (``apm.selectors.latency_p95_by_five_minutes``).
    """
    from apm import selectors as apm_selectors

    rows = apm_selectors.latency_p95_by_five_minutes(start=now - dt.timedelta(hours=hours), end=now)
    found = {r[0]: r for r in rows}
    times = five_minute_buckets(now=now, hours=hours)
    # A bucket without aggregations is a gap (None), never 0 ms: nothing was measured then.
    return {
        "times": times,
        "worst": [found[t][1] if t in found else None for t in times],
        "median": [found[t][2] if t in found else None for t in times],
    }


def five_minute_buckets(*, now: dt.datetime, hours: int) -> list[dt.datetime]:
    """Every 5-minute bucket start (aware, UTC) from ``now - hours`` to ``now``, oldest first (the charts' x axis)."""
    start = (now - dt.timedelta(hours=hours)).astimezone(dt.UTC)
    first = start.replace(minute=start.minute - start.minute % 5, second=0, microsecond=0)
    if first < start:
        first += dt.timedelta(minutes=5)
    out, t = [], first
    while t < now:
        out.append(t)
        t += dt.timedelta(minutes=5)
    return out


STATUS_RANK = {"critical": 0, "warning": 1, "unknown": 2, "maintenance": 3, "healthy": 4}


def service_health(*, limit: int = PANEL_LIMIT) -> list:
    """Enabled service health checks (platform and organizations'), worst status first, then name. One query."""
    from apm.models import ServiceHealthCheck

    checks = list(ServiceHealthCheck.objects.filter(enabled=True).select_related("organization")[: limit * 5])
    checks.sort(key=lambda c: (STATUS_RANK.get(c.status, 2), c.name))
    return checks[:limit]


def error_rate_trend(*, now: dt.datetime, hours: int = 6) -> dict:
    """Errors reported per minute over the last ``hours``, per 5-minute bucket, from ``error_reports``.

    Returns ``{"times": [datetime], "per_minute": [float]}``, every 5-minute bucket of the range (0.0
    without reports), oldest first. One query.
    """
    with connection.cursor() as cur:
        cur.execute(
            """
            SELECT date_bin('5 minutes', occurred_at, timestamptz '1970-01-01 00:00:00+00') AS b, count(*) / 5.0
            FROM error_reports WHERE occurred_at >= %s AND occurred_at < %s
            GROUP BY b ORDER BY b
            """,
            [now - dt.timedelta(hours=hours), now],
        )
        rows = cur.fetchall()
    found = {r[0]: float(r[1]) for r in rows}
    times = five_minute_buckets(now=now, hours=hours)
    # Errors are pushed as they happen: a bucket without reports had none (0/min), unlike a p95 gap.
    return {"times": times, "per_minute": [found.get(t, 0.0) for t in times]}


def open_alerts(*, limit: int = PANEL_LIMIT) -> list[AlertHistory]:
    """Open alerts (firing, acknowledged, escalated, suppressed), most severe first, newest first.

    Includes unassigned alerts (NULL organization), which only staff and
    service contexts can see. Organization and incident come joined.
    """
    qs = (
        AlertHistory.objects.filter(status__in=AlertHistory.OPEN_STATUSES)
        .select_related("organization", "incident")
        .order_by("-severity", "-starts_at")
    )
    return list(qs[:limit])


def recent_deliveries(*, limit: int = RECENT_DELIVERIES) -> list[NotificationDelivery]:
    """The newest notification deliveries (outbox rows), newest first, at most ``limit``.

    The channel comes joined; what a delivery is about (organization slug,
    title) is in its payload (a delivery's own organization is its channel's:
    NULL for platform channels).
    """
    return list(NotificationDelivery.objects.select_related("channel").order_by("-created_at")[:limit])


def failed_deliveries(*, now: dt.datetime, hours: int = 24, limit: int = PANEL_LIMIT) -> list[NotificationDelivery]:
    """Deliveries that failed (attempts used up, or their channel cannot work) in the last ``hours``, newest first."""
    from notifications.selectors import failed_deliveries as failed

    return failed(since=now - dt.timedelta(hours=hours), limit=limit)


# --- APM ------------------------------------------------------------------------


@dataclass
class P95Row:
    """A latest-p95 row of ``apm.selectors.latest_p95_by_service`` with its page level (see p95_level)."""

    organization_id: uuid.UUID
    organization_slug: str
    service: str
    metric_name: str
    p95: float | None
    count: int | None
    bucket_start: dt.datetime | None
    level: str = field(default="unknown")
    organization_name: str = ""


def latest_latency_p95(*, now: dt.datetime, organization_id: uuid.UUID | None = None) -> list[P95Row]:
    """Latency metrics of ``apm.selectors.latest_p95_by_service`` (count metrics dropped), levelled.

    With ``organization_id`` the rows are that organization's only (the
    selector filters, and this filters again).
    """
    from apm import selectors as apm_selectors

    rows = apm_selectors.latest_p95_by_service(organization_id=organization_id, now=now)
    out = []
    for r in rows:
        if organization_id is not None and str(r["organization_id"]) != str(organization_id):
            continue
        if not is_latency_metric(r["metric_name"]):
            continue
        out.append(
            P95Row(
                organization_id=r["organization_id"],
                organization_slug=r["organization_slug"],
                service=r["service"],
                metric_name=r["metric_name"],
                p95=r["p95"],
                count=r.get("count"),
                bucket_start=r.get("bucket_start"),
                level=p95_level(r["p95"]),
                organization_name=r["organization_name"],
            )
        )
    return out


def slowest_first(rows: list[P95Row], *, limit: int) -> tuple[list[P95Row], dict[str, int]]:
    """The ``limit`` slowest ``rows`` (highest p95 first, unknown last; ties by organization, service,
    metric) and how many of all ``rows`` are at each level: ``{"total", "slow", "watch"}``."""
    ranked = sorted(rows, key=lambda r: (r.p95 is None, -(r.p95 or 0.0), r.organization_slug, r.service, r.metric_name))
    levels = {"total": len(rows), "slow": 0, "watch": 0}
    for r in rows:
        if r.level in levels:
            levels[r.level] += 1
    return ranked[:limit], levels


def oncall_today(*, now: dt.datetime) -> list:
    """``oncall.selectors.oncall_today``: each schedule's person on call now and its shifts of the local day."""
    from oncall.selectors import oncall_today as today

    return today(now=now)


def database_summary() -> dict:
    """``dbmonitor.selectors.database_summary()`` (staff-only data; see its contract for the shape)."""
    from dbmonitor import selectors as db_selectors

    return db_selectors.database_summary()


# --- pages ------------------------------------------------------------------------


@dataclass
class SaturdayDashboard:
    """Everything /ops/saturday/ shows, each part a Panel; ``now`` is the data's instant (aware, UTC)."""

    now: dt.datetime
    weddings: Panel
    wedding_day_orgs: Panel
    incidents: Panel
    alerts: Panel
    p95: Panel
    database: Panel
    deliveries: Panel
    failed: Panel
    escalations: Panel
    p95_trend: Panel
    health: Panel
    error_rate: Panel
    organization_count: int = 0
    # Of every latest-p95 series (``p95`` holds the slowest SATURDAY_P95_ROWS): {"total", "slow", "watch"}.
    p95_levels: dict | None = None
    oncall: Panel | None = None
    freshness: Panel | None = None
    firing: Panel | None = None
    health_counts: Panel | None = None
    at_risk: Panel | None = None


def saturday_dashboard(*, now: dt.datetime) -> SaturdayDashboard:
    """The operations Saturday dashboard at ``now``: for staff (RLS shows every organization).

    A fixed number of queries: one per panel plus one count, the panels in one savepoint
    (``load_panels``). The triage panels (``freshness``, ``firing``, ``at_risk``, ``health_counts``,
    from ``wedsync_ops.pages.triage``) come first on the page.
    """
    from .triage import data_freshness, firing_alerts, service_health_counts, weddings_at_risk

    panels = load_panels(
        {
            "weddings": ("weddings today", lambda: weddings_today(now=now)),
            "wedding_day_orgs": ("wedding-day mode", lambda: organizations_in_wedding_day_mode(now=now)),
            "incidents": ("open incidents", lambda: incidents_by_wedding_impact(now=now)),
            "alerts": ("firing alerts", lambda: open_alerts()),
            "p95": ("latest p95", lambda: latest_latency_p95(now=now)),
            "database": ("database", database_summary),
            "deliveries": ("notifications", lambda: recent_deliveries()),
            "failed": ("failed notifications", lambda: failed_deliveries(now=now)),
            "escalations": ("escalations", lambda: escalations_under_way()),
            "p95_trend": ("p95 trend", lambda: p95_trend(now=now)),
            "health": ("service health", lambda: service_health()),
            "error_rate": ("error rate", lambda: error_rate_trend(now=now)),
            "oncall": ("on call today", lambda: oncall_today(now=now)),
            "freshness": ("data freshness", lambda: data_freshness(now=now)),
            "firing": ("firing alerts", lambda: firing_alerts()),
            "health_counts": ("service health", service_health_counts),
        }
    )
    board = SaturdayDashboard(now=now.astimezone(dt.UTC), organization_count=Organization.objects.count(), **panels)
    if board.p95.ok:
        board.p95.rows, board.p95_levels = slowest_first(board.p95.rows, limit=SATURDAY_P95_ROWS)
    board.at_risk = load_panel(
        "weddings at risk",
        lambda: weddings_at_risk(
            weddings=board.weddings.rows if board.weddings.ok else [],
            incidents=board.incidents.rows if board.incidents.ok else [],
            alerts=board.firing.rows if board.firing.ok else [],
        ),
    )
    return board


@dataclass
class OrganizationPage:
    """Everything /org/<slug>/ shows for one organization; never staff-only data."""

    organization: Organization
    now: dt.datetime
    local_now: dt.datetime
    protocol: Panel
    services: Panel
    incidents: Panel
    weddings: Panel
    readiness: Panel  # of wedsync_ops.pages.readiness.ReadinessCheck


def organization_page(*, organization: Organization, now: dt.datetime) -> OrganizationPage:
    """An organization's status page at ``now``: services' latest p95, open incidents, weddings, protocol.

    Every part is filtered by ``organization`` explicitly (a staff viewer's
    context sees all rows), and no part reads staff-only tables.
    """
    panels = load_panels(
        {
            "protocol": ("wedding-day mode", lambda: wedding_day_protocol(organization=organization, now=now)),
            "services": ("services", lambda: latest_latency_p95(now=now, organization_id=organization.id)),
            "incidents": ("incidents", lambda: open_incidents(organization_id=organization.id)),
            "weddings": ("weddings", lambda: upcoming_weddings(organization=organization, now=now)),
        }
    )
    page = OrganizationPage(
        organization=organization,
        now=now.astimezone(dt.UTC),
        local_now=now.astimezone(organization.tz),
        readiness=None,
        **panels,
    )
    from .readiness import wedding_readiness

    page.readiness = load_panel(
        "readiness",
        lambda: wedding_readiness(
            organization=organization, services=page.services.rows if page.services.ok else [], now=now
        ),
    )
    return page
