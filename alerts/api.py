"""Alert rules API: ``/api/v1/alert-rules/`` (list, create) and ``/api/v1/alert-rules/<uuid>/`` (read, update, delete).

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
"""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from rest_framework import exceptions, permissions, serializers, viewsets

from alerts.models import AlertRule
from alerts.rules import RULE_EDITABLE_FIELDS, alert_rule_create, alert_rule_update
from wedsync_ops.tenancy.context import current_tenant_context
from wedsync_ops.tenancy.models import UserProfile

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
