"""The JSON twin of the database health page: ``GET /api/monitoring/performance`` (platform staff only)."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import permissions
from rest_framework.exceptions import NotFound
from rest_framework.response import Response
from rest_framework.views import APIView

from wedsync_ops.tenancy.context import ROLE_STAFF, current_tenant_context

from . import selectors


class IsPlatformStaff(permissions.BasePermission):
    """Authenticated staff in a staff context; other authenticated users get 404 (the endpoint
    does not exist for them), anonymous ones DRF's 401/403."""

    def has_permission(self, request, view):
        user = request.user
        if not (user and user.is_authenticated):
            return False
        if not (user.is_active and user.is_staff and current_tenant_context().role == ROLE_STAFF):
            raise NotFound()
        return True


class PerformanceView(APIView):
    """``GET /api/monitoring/performance``: ``selectors.health_report()`` as JSON (staff only)."""

    permission_classes = [IsPlatformStaff]

    @extend_schema(
        parameters=[OpenApiParameter("limit", int, description="rows of the limited lists, 1..1000 (default 50)")],
        responses={200: OpenApiTypes.OBJECT, 400: OpenApiTypes.OBJECT},
        description="Staff only: database summary, the four monitoring views, checks, findings and thresholds.",
    )
    def get(self, request):
        """200 ``selectors.health_report(limit=…)``; ``?limit=`` 1..1000 (default 50), else 400 naming ``limit``."""
        raw = request.query_params.get("limit", "50")
        try:
            limit = int(raw)
            if not 1 <= limit <= selectors.MAX_LIMIT:
                raise ValueError
        except ValueError:
            return Response({"limit": [f"must be an integer from 1 to {selectors.MAX_LIMIT}"]}, status=400)
        return Response(selectors.health_report(limit=limit))
