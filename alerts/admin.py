"""Admin of alert rules, alert history and integrations.

The admin runs in the staff context (TenantContextMiddleware), so staff see
every organization's rows, unassigned alerts (organization NULL) included.
State changes go through ``alerts.services``.
"""

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.utils import timezone

from alerts.models import AlertHistory, AlertIntegration, AlertRule
from alerts.notifications import admin as _notifications_admin  # noqa: F401  (registers channel/delivery admins)
from alerts.services import alert_acknowledge, alert_resolve, integration_create
from wedsync_ops.tenancy.models import Organization


class OrganizationOrUnassignedFilter(admin.SimpleListFilter):
    """Filter by organization, with "Unassigned" for alerts whose ``organization`` label matched none."""

    title = "organization"
    parameter_name = "org"
    UNASSIGNED = "unassigned"

    def lookups(self, request, model_admin):
        return [(self.UNASSIGNED, "Unassigned")] + [
            (str(pk), slug) for pk, slug in Organization.objects.order_by("slug").values_list("pk", "slug")
        ]

    def queryset(self, request, queryset):
        value = self.value()
        if value == self.UNASSIGNED:
            return queryset.filter(organization__isnull=True)
        if value:
            return queryset.filter(organization_id=value)
        return queryset


@admin.register(AlertRule)
class AlertRuleAdmin(admin.ModelAdmin):
    list_display = (
        "name", "organization", "alert_type", "service", "metric_name", "aggregation", "comparison",
        "threshold", "wedding_day_threshold", "window_minutes", "severity", "priority", "enabled",
    )
    list_filter = ("enabled", "alert_type", "severity", "priority", "organization")
    search_fields = ("name", "metric_name", "service")
    list_select_related = ("organization",)
    readonly_fields = ("created_at", "updated_at")
    fieldsets = (
        (None, {"fields": ("organization", "name", "description", "alert_type", "enabled")}),
        ("What", {"fields": ("service", "metric_name", "aggregation", "window_minutes")}),
        ("When", {"fields": ("comparison", "threshold", "wedding_day_threshold", "wedding_season_adjustment")}),
        ("Alert", {"fields": ("severity", "priority", "labels", "runbook_url")}),
        ("History", {"fields": ("created_at", "updated_at")}),
    )


@admin.register(AlertHistory)
class AlertHistoryAdmin(admin.ModelAdmin):
    list_display = (
        "title", "status", "severity", "priority", "source", "organization_or_unassigned", "starts_at",
        "last_received_at", "resolved_at",
    )
    list_filter = ("status", "severity", "priority", "source", OrganizationOrUnassignedFilter)
    search_fields = ("title", "fingerprint", "group_key")
    date_hierarchy = "starts_at"
    ordering = ("-starts_at",)
    list_select_related = ("organization",)
    actions = ("acknowledge_selected", "resolve_selected")
    readonly_fields = (
        "organization", "rule", "integration", "incident", "source", "fingerprint", "group_key", "status",
        "severity", "priority", "title", "description", "labels", "annotations", "value", "threshold",
        "threshold_reason", "generator_url", "starts_at", "ends_at", "last_received_at", "acknowledged_at",
        "acknowledged_by", "resolved_at", "created_at",
    )

    def has_add_permission(self, request):
        return False  # alerts come from rules and integrations

    @admin.display(description="organization", ordering="organization__slug")
    def organization_or_unassigned(self, obj):
        return obj.organization.slug if obj.organization_id else "(unassigned)"

    @admin.action(description="Acknowledge selected alerts")
    def acknowledge_selected(self, request, queryset):
        now, changed, refused = timezone.now(), 0, 0
        for alert in queryset:
            try:
                changed += alert_acknowledge(alert=alert, by=request.user, now=now)[1]
            except ValidationError:
                refused += 1
        self.message_user(request, f"{changed} acknowledged, {refused} resolved ones left as they are.")

    @admin.action(description="Resolve selected alerts")
    def resolve_selected(self, request, queryset):
        now = timezone.now()
        changed = sum(alert_resolve(alert=alert, ends_at=now, now=now)[1] for alert in queryset)
        self.message_user(request, f"{changed} resolved.")


@admin.register(AlertIntegration)
class AlertIntegrationAdmin(admin.ModelAdmin):
    """Integrations; the token is shown once, on creation, and never again (only its prefix)."""

    list_display = ("name", "kind", "organization", "token_prefix", "enabled", "created_at", "last_received_at")
    list_filter = ("kind", "enabled", "organization")
    search_fields = ("name", "token_prefix")
    list_select_related = ("organization",)
    fields = ("name", "kind", "organization", "enabled", "token_prefix", "created_at", "last_received_at")
    readonly_fields = ("token_prefix", "created_at", "last_received_at")

    def get_readonly_fields(self, request, obj=None):
        return self.readonly_fields + (("kind",) if obj is not None else ())

    def save_model(self, request, obj, form, change):
        if change:
            return super().save_model(request, obj, form, change)
        created, token = integration_create(kind=obj.kind, name=obj.name, organization_id=obj.organization_id)
        if not obj.enabled:
            AlertIntegration.objects.filter(pk=created.pk).update(enabled=False)
        obj.pk, obj.token_prefix, obj.token_hash = created.pk, created.token_prefix, created.token_hash
        obj._state.adding = False
        messages.warning(
            request, f"Token of {created.name!r} (shown only now; only its SHA-256 is stored): {token}"
        )
