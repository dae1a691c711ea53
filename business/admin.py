"""Admin of the business app: funnels, segments and alert rules edited through the services; events and the
computed tables (funnel steps, feature usage, revenue metrics, segment counts) read-only."""

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError

from . import services
from .models import (
    BusinessAlertRule,
    BusinessEvent,
    ConversionFunnel,
    ConversionFunnelStep,
    EventType,
    FeatureUsage,
    RevenueMetric,
    UserSegment,
    UserSegmentCount,
)


class _ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(BusinessEvent)
class BusinessEventAdmin(_ReadOnly):
    list_display = ("timestamp", "organization", "event_type", "actor_id", "revenue_impact", "currency")
    list_filter = ("event_type", "currency", "organization")
    search_fields = ("actor_id", "organization__slug")
    date_hierarchy = "timestamp"
    list_select_related = ("organization",)
    show_full_result_count = False


class ConversionFunnelForm(forms.ModelForm):
    """Steps as a comma-separated list of event types, validated by ``services.funnel_save``'s rules."""

    steps = forms.CharField(help_text="Event types in order, comma-separated: " + ", ".join(EventType.values))

    class Meta:
        model = ConversionFunnel
        fields = ("organization", "name", "steps")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.initial["steps"] = ", ".join(self.instance.steps)

    def clean_steps(self):
        steps = [s.strip() for s in self.cleaned_data["steps"].split(",") if s.strip()]
        if not services.FUNNEL_MIN_STEPS <= len(steps) <= services.FUNNEL_MAX_STEPS or set(steps) - set(
            EventType.values
        ):
            raise ValidationError(f"{services.FUNNEL_MIN_STEPS} to {services.FUNNEL_MAX_STEPS} known event types")
        return steps


@admin.register(ConversionFunnel)
class ConversionFunnelAdmin(admin.ModelAdmin):
    form = ConversionFunnelForm
    list_display = ("name", "organization", "steps", "created_at")
    list_filter = ("organization",)
    search_fields = ("name", "organization__slug")

    def save_model(self, request, obj, form, change):
        saved = services.funnel_save(
            organization=form.cleaned_data["organization"],
            name=form.cleaned_data["name"],
            steps=form.cleaned_data["steps"],
            funnel=obj if change else None,
        )
        obj.pk = saved.pk


class UserSegmentForm(forms.ModelForm):
    class Meta:
        model = UserSegment
        fields = ("organization", "name", "rule")

    def clean_rule(self):
        return services.segment_rule_validate(self.cleaned_data["rule"])


@admin.register(UserSegment)
class UserSegmentAdmin(admin.ModelAdmin):
    form = UserSegmentForm
    list_display = ("name", "organization", "rule", "created_at")
    list_filter = ("organization",)
    search_fields = ("name", "organization__slug")

    def save_model(self, request, obj, form, change):
        saved = services.segment_save(
            organization=form.cleaned_data["organization"],
            name=form.cleaned_data["name"],
            rule=form.cleaned_data["rule"],
            segment=obj if change else None,
        )
        obj.pk = saved.pk


@admin.register(BusinessAlertRule)
class BusinessAlertRuleAdmin(admin.ModelAdmin):
    list_display = (
        "name",
        "organization",
        "event_type",
        "direction",
        "threshold_percent",
        "window_minutes",
        "severity",
        "enabled",
    )
    list_filter = ("enabled", "direction", "event_type", "severity", "organization")
    search_fields = ("name", "organization__slug")

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        saved = services.alert_rule_save(
            **{
                k: data[k]
                for k in (
                    "organization",
                    "name",
                    "event_type",
                    "direction",
                    "threshold_percent",
                    "min_baseline",
                    "window_minutes",
                    "severity",
                    "priority",
                    "enabled",
                )
            }
        )
        obj.pk = saved.pk


@admin.register(ConversionFunnelStep)
class ConversionFunnelStepAdmin(_ReadOnly):
    list_display = ("day", "funnel", "step", "event_type", "actors", "conversion", "step_conversion")
    list_filter = ("event_type", "day", "organization")
    search_fields = ("funnel__name",)


@admin.register(FeatureUsage)
class FeatureUsageAdmin(_ReadOnly):
    list_display = ("day", "organization", "feature", "active_users", "events")
    list_filter = ("day", "organization")
    search_fields = ("feature",)


@admin.register(RevenueMetric)
class RevenueMetricAdmin(_ReadOnly):
    list_display = (
        "day",
        "organization",
        "currency",
        "bookings",
        "payments_succeeded",
        "payments_failed",
        "payment_success_rate",
        "revenue",
        "failed_revenue",
    )
    list_filter = ("currency", "day", "organization")
    search_fields = ("organization__slug",)


@admin.register(UserSegmentCount)
class UserSegmentCountAdmin(_ReadOnly):
    list_display = ("day", "segment", "members")
    list_filter = ("day", "organization")
    search_fields = ("segment__name",)
