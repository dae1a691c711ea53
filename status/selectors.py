"""The public status page of an organization (issue 14 §5): what it shows, built once a minute.

``status_page(slug, now=…)`` returns a ``StatusPage`` or None (unknown slug, or an organization
whose ``status_page_public`` is off: the two are indistinguishable to the caller). The page is
computed by ``build_status_page`` and kept in the Django cache (Redis) for
``STATUS_PAGE_CACHE_SECONDS`` (60 s), negative answers included, so one set of queries serves
every visitor of that organization in that minute.

What the public sees, and nothing else:

- services: the organization's enabled health checks (``service_health_checks``): name, category
  and current state; never their URL, error text or thresholds;
- 90 days of uptime per service: per local day, successful runs / runs
  (``apm.selectors.health_check_daily_uptime``); a day is *up* when every run succeeded,
  *degraded* at ≥ 95 %, *down* below, *no data* without runs;
- open incidents, and those resolved in the last 14 days: a public title (the incident's own
  title only when a person opened it by hand; otherwise "Service disruption" for critical and
  emergency severities, "Degraded performance" below; alert titles, rule names, labels,
  matchers and ids never appear), the public status (Investigating → Identified → Resolved,
  from the incident's own timestamps), and the timeline's vendor-visible *notes*: text a
  person wrote for the vendor. Machine-written entries (opened from alert "…", status changed
  by <user>, escalations, notifications) are never shown, vendor-visible or not;
- scheduled maintenance: the organization's enabled maintenance windows not yet over: name,
  weekdays and local hours, bounds; never their matchers.

Reads: the organization by slug in a service context (one row, ``status_page_public`` only), then
everything else in that organization's vendor context, so row-level security limits the reads to
that one organization.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.cache import cache

from wedsync_ops.charts import status_strip
from wedsync_ops.tenancy.context import service_context, vendor_context

UPTIME_DAYS = 90
PAST_INCIDENT_DAYS = 14
CACHE_VERSION = "v1"
DEGRADED_AT = 95.0  # % of a day's runs that succeeded: at least this is "degraded", below is "down"
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
PUBLIC_STATUS = {
    "open": "Investigating",
    "acknowledged": "Identified",
    "investigating": "Identified",
    "resolved": "Resolved",
    "closed": "Resolved",
}
SERVICE_WORDS = {
    "healthy": "Operational",
    "warning": "Degraded performance",
    "critical": "Outage",
    "maintenance": "Under maintenance",
    "unknown": "No data yet",
}


@dataclass(frozen=True)
class UptimeDay:
    """One day of a service's strip: ``day`` (local date), ``state`` (up/degraded/down/none), ``percent`` or None."""

    day: dt.date
    state: str
    percent: float | None


@dataclass(frozen=True)
class PublicService:
    """A service as the public sees it; ``uptime_percent`` over the 90 days (None without runs); ``strip``:
    the days as an SVG bar strip (``wedsync_ops.charts.status_strip``), rendered once with the page."""

    id: int
    name: str
    category: str
    state: str
    state_word: str
    days: tuple[UptimeDay, ...]
    uptime_percent: float | None
    strip: str = ""


@dataclass(frozen=True)
class PublicUpdate:
    """A vendor-visible note of an incident: ``at`` (aware), ``message`` (a person's text)."""

    at: dt.datetime
    message: str


@dataclass(frozen=True)
class PublicIncident:
    """An incident as the public sees it (see the module for what is left out); ``ref``: its public
    reference (12 hex of SHA-256 of the id: anchors and feed ids, never the database id)."""

    ref: str
    title: str
    status: str
    is_open: bool
    impact: str
    started_at: dt.datetime
    identified_at: dt.datetime | None
    resolved_at: dt.datetime | None
    updates: tuple[PublicUpdate, ...]

    @property
    def updated_at(self) -> dt.datetime:
        """The newest of its times (the Atom entry's ``updated``)."""
        times = [self.started_at, self.identified_at, self.resolved_at, *(u.at for u in self.updates)]
        return max(t for t in times if t is not None)


@dataclass(frozen=True)
class PublicMaintenance:
    """A maintenance window: ``schedule`` in words ("Sat, Sun 02:00–04:00 Europe/London"), ``active`` now."""

    name: str
    schedule: str
    starts_at: dt.datetime | None
    ends_at: dt.datetime | None
    active: bool


@dataclass(frozen=True)
class StatusPage:
    """Everything ``/status/<slug>/`` and its feed show, computed at ``generated_at``."""

    slug: str
    name: str
    timezone: str
    generated_at: dt.datetime
    overall: str
    overall_word: str
    services: tuple[PublicService, ...]
    incidents: tuple[PublicIncident, ...] = field(default=())
    maintenance: tuple[PublicMaintenance, ...] = field(default=())

    @property
    def open_incidents(self) -> list[PublicIncident]:
        return [i for i in self.incidents if i.is_open]

    @property
    def past_incidents(self) -> list[PublicIncident]:
        return [i for i in self.incidents if not i.is_open]


def cache_key(slug: str) -> str:
    """The cache key of ``slug``'s status page (``status:v1:<slug>``)."""
    return f"status:{CACHE_VERSION}:{slug}"


_NOT_PUBLIC = "not-public"


BUILD_LOCK_SECONDS = 10  # how long one visitor may hold the right to build a page
BUILD_WAIT_SECONDS = 2.0  # how long the others wait for that page before building it themselves
BUILD_POLL_SECONDS = 0.05


def status_page(slug: str, *, now: dt.datetime) -> StatusPage | None:
    """The status page of ``slug``, from the cache or built now (then cached); None: no public page.

    When the cached page has expired, the first visitor takes a build lock (``cache.add``, atomic in
    Redis) and builds it; visitors arriving meanwhile wait up to 2 s for that page instead of
    building it too (a burst at the turn of the minute still costs one set of queries).
    """
    key = cache_key(slug)
    cached = cache.get(key)
    if cached is None and not cache.add(f"{key}:building", 1, BUILD_LOCK_SECONDS):
        import time

        deadline = time.monotonic() + BUILD_WAIT_SECONDS
        while cached is None and time.monotonic() < deadline:
            time.sleep(BUILD_POLL_SECONDS)
            cached = cache.get(key)
    if cached is not None:
        return None if cached == _NOT_PUBLIC else cached
    try:
        page = build_status_page(slug, now=now)
        cache.set(key, page if page is not None else _NOT_PUBLIC, settings.STATUS_PAGE_CACHE_SECONDS)
    finally:
        cache.delete(f"{key}:building")
    return page


def forget_status_page(slug: str) -> None:
    """Drop ``slug``'s cached page and build lock (tests; an operator turning a page off wants it gone now)."""
    cache.delete_many([cache_key(slug), f"{cache_key(slug)}:building"])


def public_title(*, title: str, source: str, severity: str) -> str:
    """The title the public sees: a person's own title for a manual incident, else a generic one."""
    if source == "manual":
        return title
    return "Service disruption" if severity in ("critical", "emergency") else "Degraded performance"


def day_state(ok: int, total: int) -> tuple[str, float | None]:
    """``(state, percent)`` of one day's runs: up (all ok), degraded (≥ 95 %), down, none (no runs)."""
    if total == 0:
        return "none", None
    percent = 100.0 * ok / total
    if ok == total:
        return "up", percent
    return ("degraded" if percent >= DEGRADED_AT else "down"), percent


def maintenance_schedule(*, weekdays, start_time, end_time, timezone: str) -> str:
    """A weekly window in words: ``"Sat, Sun 02:00–04:00 Europe/London"`` (weekdays ISO 1..7)."""
    days = ", ".join(WEEKDAYS[int(d) - 1] for d in sorted({int(d) for d in weekdays or []}) if 1 <= int(d) <= 7)
    if start_time is None or end_time is None:
        return days or "—"
    hours = f"{start_time:%H:%M}–{end_time:%H:%M}" + (" (next day)" if end_time <= start_time else "")
    return f"{days} {hours} {timezone}".strip()


def build_status_page(slug: str, *, now: dt.datetime) -> StatusPage | None:
    """Compute the status page of ``slug`` (uncached): 6 queries, or 1 when it has no public page."""
    from wedsync_ops.tenancy.models import Organization

    with service_context():
        org = (
            Organization.objects.filter(slug=slug, status_page_public=True)
            .values("id", "slug", "name", "timezone")
            .first()
        )
    if org is None:
        return None
    with vendor_context(org["id"]):
        services = _services(org, now=now)
        incidents = _incidents(org, now=now)
        maintenance = _maintenance(org, now=now)
    states = {s.state for s in services}
    if "critical" in states or any(i.is_open and i.title == "Service disruption" for i in incidents):
        overall = "critical"
    elif "warning" in states or any(i.is_open for i in incidents):
        overall = "warning"
    elif "maintenance" in states or any(m.active for m in maintenance):
        overall = "maintenance"
    else:
        overall = "healthy"
    words = {
        "critical": "Major outage",
        "warning": "Some systems are degraded",
        "maintenance": "Maintenance under way",
        "healthy": "All systems operational",
    }
    return StatusPage(
        slug=org["slug"],
        name=org["name"],
        timezone=org["timezone"],
        generated_at=now,
        overall=overall,
        overall_word=words[overall],
        services=tuple(services),
        incidents=tuple(incidents),
        maintenance=tuple(maintenance),
    )


def _services(org: Mapping[str, Any], *, now: dt.datetime) -> list[PublicService]:
    import zoneinfo

    from apm.models import ServiceHealthCheck
    from apm.selectors import health_check_daily_uptime

    checks = list(
        ServiceHealthCheck.objects.filter(organization_id=org["id"], enabled=True)
        .order_by("name")
        .values("id", "name", "category", "status")
    )
    runs = health_check_daily_uptime(check_ids=[c["id"] for c in checks], days=UPTIME_DAYS, now=now, tz=org["timezone"])
    today = now.astimezone(zoneinfo.ZoneInfo(org["timezone"])).date()
    days = [today - dt.timedelta(days=UPTIME_DAYS - 1 - i) for i in range(UPTIME_DAYS)]
    category_words = dict(ServiceHealthCheck.Category.choices)
    out = []
    for check in checks:
        per_day = runs.get(check["id"], {})
        strip = tuple(UptimeDay(day, *day_state(*per_day.get(day, (0, 0)))) for day in days)
        ok = sum(v[0] for v in per_day.values())
        total = sum(v[1] for v in per_day.values())
        svg = status_strip(
            title=f"{check['name']}, last {UPTIME_DAYS} days",
            cells=[
                (f"{d.day:%a %-d %b %Y}", d.state, f"{d.percent:.2f}% up" if d.percent is not None else "")
                for d in strip
            ],
            chart_id=f"uptime-{check['id']}",
            cell_w=6,
            height=28,
        )
        out.append(
            PublicService(
                id=check["id"],
                name=check["name"],
                category=str(category_words.get(check["category"], check["category"])),
                state=check["status"],
                state_word=SERVICE_WORDS.get(check["status"], check["status"]),
                days=strip,
                uptime_percent=(100.0 * ok / total) if total else None,
                strip=str(svg),
            )
        )
    return out


def _incidents(org: Mapping[str, Any], *, now: dt.datetime) -> list[PublicIncident]:
    from django.db.models import Prefetch, Q

    from incidents.models import Incident, IncidentUpdate

    notes = IncidentUpdate.objects.filter(vendor_visible=True, kind=IncidentUpdate.Kind.NOTE).order_by("created_at")
    rows = (
        Incident.objects.filter(organization_id=org["id"], merged_into__isnull=True)
        .filter(Q(status__in=Incident.OPEN_STATUSES) | Q(resolved_at__gte=now - dt.timedelta(days=PAST_INCIDENT_DAYS)))
        .only(
            "id",
            "title",
            "source",
            "severity",
            "status",
            "wedding_impact",
            "detected_at",
            "acknowledged_at",
            "resolved_at",
        )
        .prefetch_related(
            Prefetch("updates", queryset=notes.only("incident_id", "created_at", "message"), to_attr="public_notes")
        )
        .order_by("-detected_at")[:50]
    )
    impact_words = {
        "none": "",
        "low": "Minor impact",
        "medium": "Partial impact",
        "high": "Major impact",
        "wedding_day_critical": "Affects today's weddings",
    }
    out = []
    for incident in rows:
        out.append(
            PublicIncident(
                ref=hashlib.sha256(f"status:{incident.id}".encode()).hexdigest()[:12],
                title=public_title(title=incident.title, source=incident.source, severity=incident.severity),
                status=PUBLIC_STATUS.get(incident.status, "Investigating"),
                is_open=incident.status in Incident.OPEN_STATUSES,
                impact=impact_words.get(incident.wedding_impact, ""),
                started_at=incident.detected_at,
                identified_at=incident.acknowledged_at,
                resolved_at=incident.resolved_at if incident.status not in Incident.OPEN_STATUSES else None,
                updates=tuple(PublicUpdate(at=u.created_at, message=u.message) for u in incident.public_notes),
            )
        )
    return out


def _maintenance(org: Mapping[str, Any], *, now: dt.datetime) -> list[PublicMaintenance]:
    from alerts.selectors import maintenance_windows_current

    out = []
    for rule, in_effect in maintenance_windows_current(organization_id=org["id"], now=now):
        out.append(
            PublicMaintenance(
                name=rule.name or "Scheduled maintenance",
                schedule=maintenance_schedule(
                    weekdays=rule.weekdays, start_time=rule.start_time, end_time=rule.end_time, timezone=rule.timezone
                ),
                starts_at=rule.starts_at,
                ends_at=rule.ends_at,
                active=in_effect,
            )
        )
    return out
