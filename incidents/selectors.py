"""Reads of incidents that several pages and the API share."""

from __future__ import annotations

import uuid

from django.db.models import Case, IntegerField, Q, QuerySet, Value, When
from django.http import Http404

from .models import Incident, IncidentUpdate, Runbook

# Most urgent first: wedding-day impact outranks everything, then priority.
_IMPACT_RANK = Case(
    When(wedding_impact="wedding_day_critical", then=Value(0)),
    When(wedding_impact="high", then=Value(1)),
    When(wedding_impact="medium", then=Value(2)),
    When(wedding_impact="low", then=Value(3)),
    default=Value(4),
    output_field=IntegerField(),
)


def incidents_for_context() -> QuerySet[Incident]:
    """Every incident the current tenant context can see (RLS decides), with organization and wedding joined."""
    return Incident.objects.select_related("organization", "wedding")


def open_incidents(*, organization_id: uuid.UUID | None = None) -> QuerySet[Incident]:
    """Open incidents (open, acknowledged, investigating), most urgent first.

    Order: wedding impact (``wedding_day_critical`` first, ``none`` last),
    then priority (``p0`` first), then ``detected_at`` (oldest first), then
    id. ``organization_id`` narrows to one organization; None: every
    incident the current context can see (staff/service: all, including
    platform-wide ones; a vendor: its own). A lazy queryset with
    organization and wedding joined.
    """
    qs = incidents_for_context().filter(status__in=Incident.OPEN_STATUSES)
    if organization_id is not None:
        qs = qs.filter(organization_id=organization_id)
    return qs.annotate(impact_rank=_IMPACT_RANK).order_by("impact_rank", "priority", "detected_at", "id")


def get_incident_for_user(request, pk) -> Incident:
    """The incident ``pk`` if the request's user may see it, else Http404.

    Staff see every incident; a vendor user only their organization's (the
    ORM filter and row-level security agree); anyone else (anonymous, a
    user without organization) nothing. Another organization's incident, a
    malformed id and an unknown id all answer the same 404.
    """
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        raise Http404("No incident matches the given query.")
    try:
        pk = uuid.UUID(str(pk))
    except ValueError:
        raise Http404("No incident matches the given query.") from None
    qs = incidents_for_context()
    if not user.is_staff:
        org_id = _user_organization_id(request, user)
        if org_id is None:
            raise Http404("No incident matches the given query.")
        qs = qs.filter(organization_id=org_id)
    try:
        return qs.get(pk=pk)
    except Incident.DoesNotExist:
        raise Http404("No incident matches the given query.") from None


def _user_organization_id(request, user) -> uuid.UUID | None:
    tenant = getattr(request, "tenant", None)
    if tenant is not None and tenant.role == "vendor" and tenant.user_id == user.pk:
        return tenant.org_id
    org_id = getattr(user, "organization_id", None)  # API-key callers
    if org_id is not None:
        return org_id
    profile = getattr(user, "profile", None) if hasattr(user, "profile") else None
    return profile.organization_id if profile is not None else None


# --- runbooks ---------------------------------------------------------------


class RunbookIndex:
    """The runbooks of some organizations and the platform, loaded once, matched in memory (``runbooks_matching``).

    For set-based callers (firing thousands of alerts at once): one query whatever the number of alerts.
    """

    def __init__(self, *, organization_ids):
        orgs = {o for o in organization_ids if o is not None}
        self.runbooks = list(
            Runbook.objects.filter(Q(organization__isnull=True) | Q(organization_id__in=orgs)).exclude(
                service="", alertname=""
            )
        )

    def matching(self, *, labels: dict, organization_id) -> list[Runbook]:
        """``runbooks_matching`` over the loaded runbooks."""
        service = str((labels or {}).get("service", ""))
        alertname = str((labels or {}).get("alertname", ""))
        if not service and not alertname:
            return []
        found = [
            r
            for r in self.runbooks
            if (r.organization_id is None or r.organization_id == organization_id)
            and r.service in ("", service)
            and r.alertname in ("", alertname)
        ]
        return sorted(found, key=_runbook_rank)


def _runbook_rank(r) -> tuple:
    specificity = 0 if (r.service and r.alertname) else (1 if r.alertname else 2)
    return (specificity, r.organization_id is None, r.title)


def runbooks_matching(*, labels: dict, organization_id: uuid.UUID | None = None) -> list[Runbook]:
    """Runbooks that match ``labels`` (``service`` and ``alertname``), best first.

    A runbook matches when each of its non-empty ``service``/``alertname``
    equals the label, and it has at least one of them set. Order: both set
    (exact) before alertname only before service only; the organization's
    own runbooks before platform ones; then title. Scope: the organization's
    and platform runbooks the current context can see.
    """
    return RunbookIndex(organization_ids=[organization_id]).matching(labels=labels, organization_id=organization_id)


def incident_labels(incident: Incident) -> dict:
    """The labels of the incident's earliest linked alert (``{}`` without alerts)."""
    from alerts.models import AlertHistory

    return (
        AlertHistory.objects.filter(incident_id=incident.pk)
        .order_by("starts_at", "id")
        .values_list("labels", flat=True)
        .first()
        or {}
    )


def runbook_for_incident(incident: Incident) -> Runbook | None:
    """The best runbook for the incident's alert labels (see ``runbooks_matching``), or None."""
    matches = runbooks_matching(labels=incident_labels(incident), organization_id=incident.organization_id)
    return matches[0] if matches else None


def incident_timeline(incident: Incident, *, vendor: bool) -> QuerySet[IncidentUpdate]:
    """The timeline oldest first, author joined; ``vendor`` True: only vendor-visible entries."""
    qs = IncidentUpdate.objects.filter(incident_id=incident.pk).select_related("author").order_by("created_at", "id")
    return qs.filter(vendor_visible=True) if vendor else qs
