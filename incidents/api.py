"""Incidents API: ``GET /api/v1/incidents/``, ``GET /api/v1/incidents/<uuid>/``,
``POST /api/v1/incidents/<uuid>/acknowledge/`` and ``…/resolve/`` (staff only).

Authentication: the project defaults (``Authorization: Token …`` or the
portal session). Staff see every incident; a vendor user their
organization's; anyone else an empty list. Another organization's incident
answers 404, exactly like an unknown id.
"""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from wedsync_ops.tenancy.context import current_tenant_context

from .filters import IncidentFilter
from .models import Incident
from .selectors import get_incident_for_user, incidents_for_context
from .serializers import IncidentDetailSerializer, IncidentSerializer
from .services import incident_acknowledge, incident_resolve


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

    def _transition(self, request, service):
        incident = self.get_object()  # 404 for another organization's incident
        if not request.user.is_staff:
            raise exceptions.PermissionDenied("only operations staff can change an incident's status")
        try:
            service(incident=incident, by=request.user, now=timezone.now())
        except DjangoValidationError as exc:
            raise exceptions.ValidationError(exc.message_dict if hasattr(exc, "error_dict") else exc.messages) from None
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
