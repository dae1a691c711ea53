"""The alerts app's DRF API under ``/api/v1/``: alert rules, alerts and silences.

Alert rules: ``/api/v1/alert-rules/`` (list, create) and ``/api/v1/alert-rules/<uuid>/`` (read, update, delete).
Authentication: the project defaults (``Authorization: Token …`` or the
portal session). Who may do what:

- staff: every rule; create platform-wide rules (``organization`` null) or
  any organization's;
- an organization's owners and admins: read, create, update and delete
  their own organization's rules (``organization`` is always theirs);
- other members of an organization (member, viewer): read only (403 on a
  change);
- anyone else: an empty list.

Another organization's rule answers 404, exactly like an unknown id
(row-level security hides it too). Changes go through
``alerts.rules.alert_rule_create``/``alert_rule_update``; a bad field
answers 400 ``{field: [reason]}``.

Alerts and silences (issue 14 §7):

- ``GET /alerts/`` (filters ``status``, ``severity``, ``source``; newest first), ``GET /alerts/<id>/``;
  ``POST /alerts/<id>/acknowledge/`` and ``POST /alerts/<id>/resolve/`` (``alerts.services``).
- ``GET /silences/`` (filter ``state``: pending, active, expired), ``GET /silences/<id>/``,
  ``POST /silences/`` (``alerts.silences.silence_create``), ``POST /silences/<id>/expire/``
  (``alerts.silences.silence_expire``).

Authentication: a person's token (``Authorization: Token …`` or ``Bearer …``) or the portal session.
Tenancy as everywhere: staff see every organization's rows (and platform-wide ones); a vendor user
sees their own organization's only, and another organization's alert or silence answers 404 like
an unknown id (row-level security hides it as well). Acknowledge and resolve: staff and members
of the alert's organization except viewers; silences: staff and the organization's owners and
admins (as on the portal's silences page). Bad input answers 400 ``{field: [reason]}``, as does
acknowledging an alert already resolved (``{"status": [...]}``).
"""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import exceptions, mixins, permissions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from alerts.models import AlertHistory, AlertRule, SuppressionRule
from alerts.rules import RULE_EDITABLE_FIELDS, alert_rule_create, alert_rule_update
from alerts.services import AlertStateError, alert_acknowledge, alert_resolve
from alerts.silences import silence_create, silence_expire
from alerts.suppression import rule_state
from wedsync_ops.api import request_object
from wedsync_ops.matchers import matchers_text, parse_matcher_text
from wedsync_ops.tenancy.context import current_tenant_context
from wedsync_ops.tenancy.models import Organization, UserProfile

RULE_ADMIN_ROLES = (UserProfile.Role.OWNER, UserProfile.Role.ADMIN)


class AlertRuleSerializer(serializers.ModelSerializer):
    """A rule; ``organization`` is read-only for vendors (always their own)."""

    class Meta:
        model = AlertRule
        fields = ("id", "organization", *RULE_EDITABLE_FIELDS, "created_at", "updated_at")
        read_only_fields = ("id", "created_at", "updated_at")


def _vendor_role(request) -> str | None:
    profile = UserProfile.objects.filter(user_id=request.user.pk).only("role").first()
    return profile.role if profile else None


class CanEditRules(permissions.BasePermission):
    """Reads for any authenticated user (the queryset scopes them); changes for staff and org owners/admins."""

    message = "only staff and your organization's owners and admins may change alert rules"

    def has_permission(self, request, view):
        if request.method in permissions.SAFE_METHODS:
            return True
        return bool(request.user.is_staff or _vendor_role(request) in RULE_ADMIN_ROLES)


def _as_drf(exc: DjangoValidationError) -> exceptions.ValidationError:
    if hasattr(exc, "error_dict"):
        return exceptions.ValidationError(
            {k: [str(m) for e in v for m in e.messages] for k, v in exc.error_dict.items()}
        )
    return exceptions.ValidationError({"non_field_errors": exc.messages})


class AlertRuleViewSet(viewsets.ModelViewSet):
    """Alert rules, by name. Staff: all; vendors: their organization's (platform rules are staff-only)."""

    queryset = AlertRule.objects.none()  # for the schema; get_queryset decides
    serializer_class = AlertRuleSerializer
    permission_classes = [permissions.IsAuthenticated, CanEditRules]
    filterset_fields = ("alert_type", "enabled", "severity")

    def get_queryset(self):
        qs = AlertRule.objects.order_by("name", "id")
        if self.request.user.is_staff:
            return qs
        ctx = current_tenant_context()
        if ctx.role != "vendor" or ctx.org_id is None:
            return qs.none()
        return qs.filter(organization_id=ctx.org_id)

    def _organization_for_create(self, serializer):
        if self.request.user.is_staff:
            org = serializer.validated_data.get("organization")
            return org.pk if org is not None else None
        return current_tenant_context().org_id

    def perform_create(self, serializer):
        data = {k: v for k, v in serializer.validated_data.items() if k in RULE_EDITABLE_FIELDS}
        try:
            with transaction.atomic():
                serializer.instance = alert_rule_create(
                    organization_id=self._organization_for_create(serializer), **data
                )
        except DjangoValidationError as exc:
            raise _as_drf(exc) from None

    def perform_update(self, serializer):
        data = {k: v for k, v in serializer.validated_data.items() if k in RULE_EDITABLE_FIELDS}
        try:
            with transaction.atomic():
                serializer.instance = alert_rule_update(rule=serializer.instance, **data)
        except DjangoValidationError as exc:
            raise _as_drf(exc) from None


WRITE_ROLES = (UserProfile.Role.OWNER, UserProfile.Role.ADMIN, UserProfile.Role.MEMBER)
SILENCE_ROLES = (UserProfile.Role.OWNER, UserProfile.Role.ADMIN)


def _scoped(qs, request):
    """``qs`` limited to what the caller may see: staff all, a vendor their organization's, others nothing."""
    if request.user.is_staff:
        return qs
    ctx = current_tenant_context()
    if ctx.role != "vendor" or ctx.org_id is None:
        return qs.none()
    return qs.filter(organization_id=ctx.org_id)


class AlertSerializer(serializers.ModelSerializer):
    """An alert as the API shows it (``organization``: its slug; null for an unassigned alert)."""

    organization = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    acknowledged_by = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = AlertHistory
        fields = (
            "id",
            "organization",
            "fingerprint",
            "group_key",
            "status",
            "severity",
            "priority",
            "title",
            "description",
            "labels",
            "annotations",
            "value",
            "threshold",
            "threshold_reason",
            "source",
            "generator_url",
            "starts_at",
            "ends_at",
            "acknowledged_at",
            "acknowledged_by",
            "resolved_at",
            "incident",
            "rule",
            "suppression_reason",
            "flapping",
        )
        read_only_fields = fields


class CanActOnAlerts(permissions.BasePermission):
    """Reads for any authenticated user (scoped); acknowledge/resolve for staff and members except viewers."""

    message = "viewers cannot acknowledge or resolve alerts"

    def has_permission(self, request, view):
        if request.method in permissions.SAFE_METHODS:
            return True
        return bool(request.user.is_staff or _vendor_role(request) in WRITE_ROLES)


class AlertViewSet(viewsets.ReadOnlyModelViewSet):
    """Alerts (``alert_history``), newest first; acknowledge and resolve through ``alerts.services``."""

    queryset = AlertHistory.objects.none()  # for the schema; get_queryset decides
    serializer_class = AlertSerializer
    permission_classes = [permissions.IsAuthenticated, CanActOnAlerts]
    filterset_fields = ("status", "severity", "source")

    def get_queryset(self):
        return _scoped(
            AlertHistory.objects.select_related("organization", "acknowledged_by").order_by("-starts_at", "id"),
            self.request,
        )

    @extend_schema(request=None, responses={200: AlertSerializer})
    @action(detail=True, methods=["post"])
    def acknowledge(self, request, pk=None):
        """Acknowledge an open alert (pending notifications cancelled); 400 ``{"status"}`` for a resolved one."""
        alert = self.get_object()
        try:
            alert, _changed = alert_acknowledge(alert=alert, by=request.user, now=timezone.now())
        except AlertStateError as exc:
            raise _as_drf(exc) from None
        return Response(AlertSerializer(self.get_queryset().get(pk=alert.pk)).data)

    @extend_schema(request=None, responses={200: AlertSerializer})
    @action(detail=True, methods=["post"])
    def resolve(self, request, pk=None):
        """Resolve an alert by hand (``resolved_in_portal``: a redelivery of the same firing does not reopen it)."""
        alert = self.get_object()
        try:
            alert_resolve(alert=alert, ends_at=None, now=timezone.now(), by=request.user, in_portal=True)
        except DjangoValidationError as exc:
            raise _as_drf(exc) from None
        return Response(AlertSerializer(self.get_queryset().get(pk=alert.pk)).data)


class SilenceSerializer(serializers.ModelSerializer):
    """A silence: ``matchers`` as Alertmanager's objects and as text, ``state`` at the time of the request."""

    organization = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    matchers_text = serializers.SerializerMethodField()
    state = serializers.SerializerMethodField()
    created_by = serializers.CharField(source="author", read_only=True)

    class Meta:
        model = SuppressionRule
        fields = (
            "id",
            "organization",
            "matchers",
            "matchers_text",
            "starts_at",
            "ends_at",
            "comment",
            "state",
            "created_by",
            "created_at",
            "updated_at",
        )
        read_only_fields = fields

    def get_matchers_text(self, obj) -> str:
        return matchers_text(obj.matchers)

    def get_state(self, obj) -> str:
        return rule_state(obj, timezone.now())


SILENCE_CREATE = inline_serializer(
    "SilenceCreate",
    fields={
        "matchers": serializers.JSONField(
            help_text='Alertmanager text (alertname="X", service=~"pay.*") or [{"name", "op", "value"}]'
        ),
        "starts_at": serializers.DateTimeField(required=False, help_text="ISO 8601 with offset; default now"),
        "ends_at": serializers.DateTimeField(help_text="ISO 8601 with offset, after starts_at"),
        "comment": serializers.CharField(),
        "organization": serializers.CharField(
            required=False, allow_null=True, help_text="Staff only: the organization's slug; null: platform-wide"
        ),
    },
)


class CanSilence(permissions.BasePermission):
    """Reads for any authenticated user (scoped); creating and expiring for staff and org owners/admins."""

    message = "only staff and your organization's owners and admins may create or expire silences"

    def has_permission(self, request, view):
        if request.method in permissions.SAFE_METHODS:
            return True
        return bool(request.user.is_staff or _vendor_role(request) in SILENCE_ROLES)


def _when(data, name: str, *, default: dt.datetime | None = None) -> dt.datetime:
    raw = data.get(name)
    if raw in (None, ""):
        if default is not None:
            return default
        raise exceptions.ValidationError({name: ["this field is required (ISO 8601 with an offset)"]})
    value = parse_datetime(raw) if isinstance(raw, str) else None
    if value is None:
        raise exceptions.ValidationError({name: [f"not an ISO 8601 date-time: {str(raw)[:60]!r}"]})
    if timezone.is_naive(value):
        raise exceptions.ValidationError({name: ["needs a UTC offset (e.g. 2026-06-13T14:00:00+01:00 or Z)"]})
    return value


class SilenceViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Silences (``suppression_rules`` of kind ``silence``): list, read, create, expire."""

    queryset = SuppressionRule.objects.none()  # for the schema; get_queryset decides
    serializer_class = SilenceSerializer
    permission_classes = [permissions.IsAuthenticated, CanSilence]

    def get_queryset(self):
        qs = _scoped(
            SuppressionRule.objects.filter(kind=SuppressionRule.Kind.SILENCE)
            .select_related("organization", "created_by")
            .order_by("-created_at", "id"),
            self.request,
        )
        state = self.request.query_params.get("state")
        if state is not None and self.action == "list":
            if state not in SuppressionRule.State.values:
                raise exceptions.ValidationError(
                    {"state": [f"must be one of {', '.join(SuppressionRule.State.values)}"]}
                )
            now = timezone.now()
            if state == "pending":
                qs = qs.filter(enabled=True, starts_at__gt=now)
            elif state == "active":
                qs = qs.filter(enabled=True, starts_at__lte=now, ends_at__gt=now)
            else:
                qs = qs.exclude(enabled=True, ends_at__gt=now)
        return qs

    @extend_schema(parameters=[OpenApiParameter("state", str, enum=SuppressionRule.State.values)])
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    def _organization_id(self, data):
        if not self.request.user.is_staff:
            if "organization" in data and data["organization"] not in (None, ""):
                ctx = current_tenant_context()
                org = Organization.objects.filter(slug=data["organization"]).values_list("id", flat=True).first()
                if org != ctx.org_id:
                    raise exceptions.ValidationError({"organization": ["you may only silence your own organization"]})
            return current_tenant_context().org_id
        slug = data.get("organization")
        if slug in (None, ""):
            return None
        if not isinstance(slug, str):
            raise exceptions.ValidationError({"organization": ["must be an organization's slug or null"]})
        org = Organization.objects.filter(slug=slug).values_list("id", flat=True).first()
        if org is None:
            raise exceptions.ValidationError({"organization": [f"no organization {slug[:80]!r}"]})
        return org

    @extend_schema(request=SILENCE_CREATE, responses={201: SilenceSerializer})
    def create(self, request, *args, **kwargs):
        """Create a silence; it mutes matching open alerts at once. 400 ``{field: [reason]}`` on bad input."""
        data = request_object(request)
        now = timezone.now()
        raw = data.get("matchers")
        try:
            if isinstance(raw, str):
                matchers = parse_matcher_text(raw, field="matchers")
            elif isinstance(raw, list):
                matchers = raw
            else:
                raise exceptions.ValidationError(
                    {"matchers": ["required: Alertmanager matcher text or a list of {name, op, value}"]}
                )
            comment = data.get("comment")
            if not isinstance(comment, str):
                raise exceptions.ValidationError({"comment": ["required: a text saying why"]})
            starts_at = _when(data, "starts_at", default=now)
            ends_at = _when(data, "ends_at")
            silence = silence_create(
                matchers=matchers,
                starts_at=starts_at,
                ends_at=ends_at,
                comment=comment,
                now=now,
                organization_id=self._organization_id(data),
                created_by=request.user,
            )
        except DjangoValidationError as exc:
            raise _as_drf(exc) from None
        return Response(SilenceSerializer(self.get_queryset().get(pk=silence.pk)).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses={200: SilenceSerializer})
    @action(detail=True, methods=["post"])
    def expire(self, request, pk=None):
        """Expire a silence now (what it muted is released); an expired one is left as it is."""
        silence = self.get_object()
        try:
            silence_expire(silence=silence, now=timezone.now())
        except DjangoValidationError as exc:
            raise _as_drf(exc) from None
        return Response(SilenceSerializer(self.get_queryset().get(pk=silence.pk)).data)
