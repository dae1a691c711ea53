"""History pages: one object's audit trail, for the objects whose portal pages are lists or forms.

``/org/<slug>/history/<kind>/<id>/`` (the organization's own objects, and ``organization/<its id>``
for its settings) and ``/ops/history/<kind>/<id>/`` (staff: any object, platform-wide ones
included). ``kind``: ``rule``, ``silence`` (silences, maintenance windows, inhibition rules),
``channel``, ``escalation-policy``, ``schedule``, ``runbook``, ``incident``, ``organization``.
Another organization's object, or an unknown one, answers 404 (the lookup filters by
organization and row-level security filters again); an unknown kind answers 404 too.
"""

from __future__ import annotations

import uuid

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from alerts.models import AlertRule, SuppressionRule
from incidents.models import EscalationPolicy, Incident, Runbook
from notifications.models import NotificationChannel
from oncall.models import Schedule
from wedsync_ops.tenancy.access import get_organization_for_user, is_staff_request
from wedsync_ops.tenancy.models import Organization

from .selectors import object_history

KINDS = {
    "rule": AlertRule,
    "silence": SuppressionRule,
    "channel": NotificationChannel,
    "escalation-policy": EscalationPolicy,
    "schedule": Schedule,
    "runbook": Runbook,
    "incident": Incident,
    "organization": Organization,
}


def _object(kind: str, pk: uuid.UUID, *, organization_id: uuid.UUID | None):
    model = KINDS.get(kind)
    if model is None:
        raise Http404("No such history")
    qs = model.objects.filter(pk=pk)
    if organization_id is not None:
        qs = qs.filter(pk=organization_id) if model is Organization else qs.filter(organization_id=organization_id)
    obj = qs.first()
    if obj is None:
        raise Http404("No such history")
    return obj


def _page(request, obj, kind: str, org) -> HttpResponse:
    return render(
        request,
        "audit/history.html",
        {
            "obj": obj,
            "kind": kind,
            "kind_word": kind.replace("-", " "),
            "org": org,
            "rows": object_history(obj, limit=200),
        },
    )


@require_GET
def org_history(request: HttpRequest, slug: str, kind: str, pk: uuid.UUID) -> HttpResponse:
    """One of the organization's objects' history (its members and staff)."""
    org = get_organization_for_user(request, slug)
    return _page(request, _object(kind, pk, organization_id=org.pk), kind, org)


@require_GET
def ops_history(request: HttpRequest, kind: str, pk: uuid.UUID) -> HttpResponse:
    """Any object's history (staff only; anyone else 404)."""
    if not is_staff_request(request):
        raise Http404("No such history")
    return _page(request, _object(kind, pk, organization_id=None), kind, None)
