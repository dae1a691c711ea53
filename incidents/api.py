"""Incidents API: ``GET /api/v1/incidents/``, ``GET /api/v1/incidents/<uuid>/``,
``POST /api/v1/incidents/<uuid>/{acknowledge,investigate,resolve,close,reopen,escalate,notes}/``
(staff only) and ``GET /api/v1/incidents/reports/`` (MTTA, MTTR, counts).

Authentication: the project defaults (``Authorization: Token …`` or the
portal session). Staff see every incident; a vendor user their
organization's; anyone else an empty list. Another organization's incident
answers 404, exactly like an unknown id.
"""

import uuid

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from wedsync_ops.api import request_object
from wedsync_ops.tenancy.context import current_tenant_context

from .escalation import incident_escalate
from .filters import IncidentFilter
from .models import Incident
from .reports import incident_report
from .selectors import get_incident_for_user, incidents_for_context
from .serializers import IncidentDetailSerializer, IncidentSerializer
from .services import (
    incident_acknowledge,
    incident_close,
    incident_investigate,
    incident_note_add,
    incident_reopen,
    incident_resolve,
)
from .views import report_params


class IncidentViewSet(viewsets.ReadOnlyModelViewSet):
    """Incidents, newest first (``detected_at`` descending), filterable by status, priority, wedding_impact."""

    queryset = Incident.objects.none()  # for the schema; get_queryset decides
    serializer_class = IncidentSerializer
    filterset_class = IncidentFilter

    def get_queryset(self):
        user = self.request.user
        qs = incidents_for_context().order_by("-detected_at", "id")
        if user.is_staff:
            return qs
        ctx = current_tenant_context()
        if ctx.role != "vendor" or ctx.org_id is None:
            return qs.none()
        return qs.filter(organization_id=ctx.org_id)

    def get_serializer_class(self):
        return IncidentDetailSerializer if self.action != "list" else IncidentSerializer

    def get_object(self):
        return get_incident_for_user(self.request, self.kwargs["pk"])

    def _staff_incident(self, request) -> Incident:
        """The incident (404 for another organization's) if the caller is staff; else 403. Before any body is read."""
        incident = self.get_object()
        if not request.user.is_staff:
            raise exceptions.PermissionDenied("only operations staff can change an incident")
        return incident

    def _transition(self, request, service, **kwargs):
        incident = self._staff_incident(request)
        try:
            service(incident=incident, by=request.user, now=timezone.now(), **kwargs)
        except DjangoValidationError as exc:
            raise exceptions.ValidationError(exc.message_dict if hasattr(exc, "error_dict") else exc.messages) from None
        incident = get_incident_for_user(request, incident.pk)
        return Response(IncidentDetailSerializer(incident, context=self.get_serializer_context()).data)

    @extend_schema(request=None, responses=IncidentDetailSerializer)
    @action(detail=True, methods=["post"])
    def acknowledge(self, request, pk=None):
        """Acknowledge an open incident (staff only). 400 ``{"status": [...]}`` unless it is open; vendors 403."""
        return self._transition(request, incident_acknowledge)

    @extend_schema(request=None, responses=IncidentDetailSerializer)
    @action(detail=True, methods=["post"])
    def resolve(self, request, pk=None):
        """Resolve an open/acknowledged/investigating incident (staff only). 400 when already resolved; vendors 403."""
        return self._transition(request, incident_resolve)

    @extend_schema(request=None, responses=IncidentDetailSerializer)
    @action(detail=True, methods=["post"])
    def investigate(self, request, pk=None):
        """Start investigating an open or acknowledged incident (staff only); 400 from other statuses."""
        return self._transition(request, incident_investigate)

    @extend_schema(request=None, responses=IncidentDetailSerializer)
    @action(detail=True, methods=["post"])
    def close(self, request, pk=None):
        """Close a resolved incident (staff only); 400 for p0/p1 without a published post-incident analysis."""
        return self._transition(request, incident_close)

    @extend_schema(request=None, responses=IncidentDetailSerializer)
    @action(detail=True, methods=["post"])
    def reopen(self, request, pk=None):
        """Reopen a resolved or closed incident (staff only)."""
        return self._transition(request, incident_reopen)

    @extend_schema(request=None, responses=IncidentDetailSerializer)
    @action(detail=True, methods=["post"])
    def escalate(self, request, pk=None):
        """Escalate now (staff only), body ``{"reason": str}`` optional; 400 for a resolved or closed incident."""
        self._staff_incident(request)
        reason = request_object(request).get("reason", "")
        if not isinstance(reason, str):
            raise exceptions.ValidationError({"reason": ["must be a string"]})
        return self._transition(request, incident_escalate, reason=reason[:500])

    @extend_schema(request=None, responses=IncidentDetailSerializer)
    @action(detail=True, methods=["post"])
    def notes(self, request, pk=None):
        """Add a note (staff only): body ``{"message": str, "vendor_visible": bool}``; 400 if the message is empty."""
        self._staff_incident(request)
        body = request_object(request)
        vendor_visible = body.get("vendor_visible", False)
        if not isinstance(vendor_visible, bool):
            raise exceptions.ValidationError({"vendor_visible": ["must be true or false"]})
        message = body.get("message", "")
        if not isinstance(message, str):
            raise exceptions.ValidationError({"message": ["must be a string"]})
        return self._transition(request, incident_note_add, message=message, vendor_visible=vendor_visible)

    @extend_schema(responses=dict)
    @action(detail=False, methods=["get"])
    def reports(self, request):
        """MTTA, MTTR and counts per week and organization, Saturdays beside other days.

        Query: ``since``, ``until`` (YYYY-MM-DD, inclusive; default the last 8
        weeks), ``organization`` (slug; staff only). Staff see every
        organization; a vendor user their own; anyone else an empty report.
        Shape: ``incidents.reports.incident_report``. Bad input: 400 naming the field.
        """
        from wedsync_ops.tenancy.models import Organization

        try:
            since, until = report_params(request.query_params, today=timezone.now().date())
        except DjangoValidationError as exc:
            raise exceptions.ValidationError(exc.message_dict) from None
        ctx = current_tenant_context()
        org_id = None
        if request.user.is_staff:
            slug = request.query_params.get("organization")
            if slug:
                org_id = Organization.objects.filter(slug=slug).values_list("id", flat=True).first()
                if org_id is None:
                    raise exceptions.ValidationError({"organization": [f"no organization {slug!r}"]})
        elif ctx.role == "vendor" and ctx.org_id is not None:
            org_id = ctx.org_id
        else:
            return Response(incident_report(since=since, until=until, organization_id=uuid.UUID(int=0)))
        return Response(incident_report(since=since, until=until, organization_id=org_id))
