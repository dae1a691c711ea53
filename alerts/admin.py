"""Admin of alert rules, alert history and integrations.

The admin runs in the staff context (TenantContextMiddleware), so staff see
every organization's rows, unassigned alerts (organization NULL) included.
State changes go through ``alerts.services``.
"""

import json
from urllib.parse import urlencode

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models.expressions import DatabaseDefault
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from alerts.forms import MATCHER_HELP, WEEKDAYS, MatchersField
from alerts.models import (
    AlertHistory,
    AlertIntegration,
    AlertRule,
    AlertRulePending,
    IntegrationBacklog,
    SuppressionRule,
)
from alerts.services import (
    alert_acknowledge,
    alert_resolve,
    integration_create,
)
from alerts.silences import suppression_rule_validate, suppressions_apply
from alerts.suppression import alert_label_set, matchers_from_labels, parse_matchers, rule_state, silence_preview
from wedsync_ops.matchers import matchers_text, parse_matcher_text
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
        "name",
        "organization",
        "alert_type",
        "service",
        "metric_name",
        "aggregation",
        "comparison",
        "threshold",
        "wedding_day_threshold",
        "window_minutes",
        "severity",
        "priority",
        "enabled",
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
        "title",
        "status",
        "severity",
        "priority",
        "source",
        "organization_or_unassigned",
        "starts_at",
        "last_received_at",
        "resolved_at",
    )
    list_filter = ("status", "flapping", "severity", "priority", "source", OrganizationOrUnassignedFilter)
    search_fields = ("title", "fingerprint", "group_key")
    date_hierarchy = "starts_at"
    ordering = ("-starts_at",)
    list_select_related = ("organization",)
    actions = ("acknowledge_selected", "resolve_selected", "silence_selected")
    readonly_fields = (
        "suppressed_by",
        "suppression_reason",
        "flapping",
        "organization",
        "rule",
        "integration",
        "incident",
        "source",
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
        "generator_url",
        "starts_at",
        "ends_at",
        "last_received_at",
        "acknowledged_at",
        "acknowledged_by",
        "resolved_at",
        "created_at",
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

    @admin.action(description="Silence this: a silence matching the selected alert's labels (with a preview)")
    def silence_selected(self, request, queryset):
        """Open the silence form pre-filled with equality matchers on the first selected alert's labels."""
        alert = queryset.select_related("organization").first()
        if alert is None:
            return None
        now = timezone.now()
        params = {
            "kind": SuppressionRule.Kind.SILENCE,
            "name": f"Silence {alert.title}"[:200],
            "matchers": matchers_text(matchers_from_labels(alert_label_set(alert))),
            "starts_at": now.isoformat(),
            "comment": f"From alert {alert.pk}",
            "from_alert": str(alert.pk),
        }
        if alert.organization_id:
            params["organization"] = str(alert.organization_id)
        return HttpResponseRedirect(reverse("admin:alerts_suppressionrule_add") + "?" + urlencode(params))

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
        messages.warning(request, f"Token of {created.name!r} (shown only now; only its SHA-256 is stored): {token}")


@admin.register(IntegrationBacklog)
class IntegrationBacklogAdmin(admin.ModelAdmin):
    """Payloads parked over an integration's rate limit, waiting for the worker (read-only; oldest first)."""

    list_display = ("id", "integration", "organization", "alerts", "received_at", "attempts", "last_error")
    list_filter = ("integration", "organization")
    search_fields = ("last_error",)
    list_select_related = ("integration", "organization")
    ordering = ("id",)
    fields = ("integration", "organization", "alerts", "received_at", "attempts", "last_error")
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class EqualLabelsField(forms.CharField):
    """Comma-separated label names in, a list out (an inhibition rule's ``equal_labels``)."""

    def prepare_value(self, value):
        return ", ".join(value) if isinstance(value, list) else value

    def to_python(self, value):
        from wedsync_ops.matchers import LABEL_NAME

        names = [n.strip() for n in (super().to_python(value) or "").split(",") if n.strip()]
        bad = [n for n in names if not LABEL_NAME.match(n)]
        if bad:
            raise ValidationError(f"not a label name: {', '.join(bad)}")
        return names


class SuppressionRuleForm(forms.ModelForm):
    """Matchers in Alertmanager syntax (``alertname="X", service=~"pay.*"``), weekdays as checkboxes, equal labels
    comma-separated; validates through ``alerts.silences.suppression_rule_validate`` (matchers, times, weekdays,
    time zone)."""

    matchers = MatchersField(
        required=False, label="Matchers", help_text=MATCHER_HELP + " A silence needs at least one."
    )
    source_matchers = MatchersField(
        required=False,
        label="Inhibiting alerts (source matchers)",
        help_text="Inhibition only: while an alert matching these is open, the alerts "
        "matching the matchers above are muted.",
    )
    weekdays = forms.TypedMultipleChoiceField(
        choices=WEEKDAYS,
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Maintenance only: the days the window opens",
    )
    equal_labels = EqualLabelsField(
        required=False,
        help_text="Inhibition only: label names both alerts must share, comma-separated, e.g. service, organization",
    )

    class Meta:
        model = SuppressionRule
        fields = (
            "kind",
            "name",
            "organization",
            "matchers",
            "enabled",
            "comment",
            "starts_at",
            "ends_at",
            "weekdays",
            "start_time",
            "end_time",
            "timezone",
            "source_matchers",
            "equal_labels",
        )

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned
        candidate = SuppressionRule(**{k: v for k, v in cleaned.items() if k in _SUPPRESSION_FIELDS})
        try:
            suppression_rule_validate(candidate)
        except ValidationError as exc:
            raise ValidationError(exc.message_dict if hasattr(exc, "error_dict") else exc.messages) from None
        return cleaned


_SUPPRESSION_FIELDS = {f.name for f in SuppressionRule._meta.get_fields() if f.concrete}


def _matchers_from_text(text: str) -> list:
    """Matchers from a query parameter: Alertmanager text (``a="b"``), or the older JSON list form.
    Raises ValidationError (text) or ValueError (JSON) when they do not parse."""
    text = text.strip()
    if text.startswith("["):
        return json.loads(text)
    return parse_matcher_text(text) if text else []


def _is_db_default(value) -> bool:
    """Whether ``value`` is a not-yet-saved ``db_default`` expression rather than a value."""
    return isinstance(value, DatabaseDefault)


@admin.register(SuppressionRule)
class SuppressionRuleAdmin(admin.ModelAdmin):
    """Silences, maintenance windows and inhibition rules.

    The form shows a preview: the open alerts its matchers match now (on the
    add form, from the matchers given in the URL, as "silence this" does).
    Saving applies the rules at once (``suppressions_apply``).
    """

    form = SuppressionRuleForm
    change_form_template = "alerts/admin/suppressionrule_change_form.html"
    list_display = ("__str__", "kind", "organization", "matchers_text", "state", "starts_at", "ends_at", "created_by")
    list_filter = ("kind", "enabled", "organization")
    search_fields = ("name", "comment")
    list_select_related = ("organization", "created_by")
    readonly_fields = ("created_by", "created")
    fieldsets = (
        (None, {"fields": ("kind", "name", "organization", "matchers", "enabled", "comment")}),
        ("Silence (and bounds of the others)", {"fields": ("starts_at", "ends_at")}),
        ("Maintenance window", {"fields": ("weekdays", "start_time", "end_time", "timezone")}),
        ("Inhibition", {"fields": ("source_matchers", "equal_labels")}),
        ("History", {"fields": ("created_by", "created")}),
    )

    @admin.display(description="created at")
    def created(self, obj):
        """The creation time; "—" on the add form, where the database has not set it yet."""
        return obj.created_at if obj is not None and obj.pk and not _is_db_default(obj.created_at) else "—"

    @admin.display(description="matchers")
    def matchers_text(self, obj):
        try:
            return ", ".join(map(str, parse_matchers(obj.matchers))) or "(all)"
        except ValidationError:
            return "(invalid)"

    @admin.display(description="state")
    def state(self, obj):
        return rule_state(obj, timezone.now())

    def _preview(self, request, obj):
        raw = obj.matchers if obj is not None else request.GET.get("matchers")
        org = obj.organization_id if obj is not None else (request.GET.get("organization") or None)
        try:
            if isinstance(raw, str):
                raw = _matchers_from_text(raw)
            matchers = parse_matchers(raw)
        except (ValueError, ValidationError):
            return None, "the matchers are not valid yet"
        if not matchers:
            return None, "no matchers: a silence needs at least one"
        return silence_preview(matchers=matchers, organization_id=org), ""

    def get_changeform_initial_data(self, request):
        initial = super().get_changeform_initial_data(request)
        if isinstance(initial.get("starts_at"), str):
            starts = parse_datetime(initial["starts_at"])
            if starts is None:
                initial.pop("starts_at")
            else:
                initial["starts_at"] = timezone.localtime(starts)
        for name in ("matchers", "source_matchers"):
            if isinstance(initial.get(name), str):
                try:
                    initial[name] = _matchers_from_text(initial[name])
                except (ValueError, ValidationError):
                    pass  # shown as given: the form says what is wrong with it
        for name in ("equal_labels", "weekdays"):
            if isinstance(initial.get(name), str):
                try:
                    initial[name] = json.loads(initial[name])
                except ValueError:
                    initial.pop(name)
        return initial

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        obj = self.get_object(request, object_id) if object_id else None
        alerts, problem = self._preview(request, obj)
        extra_context = dict(extra_context or {}, preview_alerts=alerts, preview_problem=problem)
        return super().changeform_view(request, object_id, form_url, extra_context)

    def save_model(self, request, obj, form, change):
        if not change and getattr(request.user, "pk", None):
            obj.created_by = request.user
        super().save_model(request, obj, form, change)
        counts = suppressions_apply(now=timezone.now())
        if counts["suppressed"] or counts["released"]:
            messages.info(request, f"{counts['suppressed']} open alerts suppressed, {counts['released']} released.")


@admin.register(AlertRulePending)
class AlertRulePendingAdmin(admin.ModelAdmin):
    """Breaches waiting out their rule's for-duration; read-only (the evaluation writes and clears them)."""

    list_display = ("rule", "organization", "fingerprint", "pending_since")
    list_filter = ("organization",)
    search_fields = ("fingerprint", "rule__name")
    list_select_related = ("rule", "organization")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
