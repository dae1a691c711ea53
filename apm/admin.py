"""Admin of raw metric points and their aggregations: read-only, fast on huge tables.

Staff reach these pages through TenantContextMiddleware's staff context, so
RLS shows them every organization's rows.
"""

from django.contrib import admin
from django.core.paginator import Paginator
from django.utils.functional import cached_property

from .models import ApmMetric, ApmMetricAggregation, ApmMetricHistogram


class NoCountPaginator(Paginator):
    """A paginator that never runs ``COUNT(*)``.

    ``count`` is known exactly only up to the requested page: it fetches the
    ids of that page plus one row, so the admin shows a "next" page when
    there is one and never scans a partitioned table of billions of rows.
    ``page_hint`` is the 1-based page number being shown.
    """

    def __init__(self, object_list, per_page, *args, page_hint: int = 1, **kwargs):
        self.page_hint = max(1, page_hint)
        super().__init__(object_list, per_page, *args, **kwargs)

    @cached_property
    def count(self) -> int:
        start = (self.page_hint - 1) * self.per_page
        seen = len(self.object_list[start : start + self.per_page + 1].values_list("pk", flat=True))
        if seen == 0 and start:
            # Past the end: report enough rows for the requested page to be
            # invalid, so the admin shows its usual "page not found" redirect.
            return start
        return start + seen


class ReadOnlyAdmin(admin.ModelAdmin):
    """Rows come from ingest and aggregation; nobody adds, edits or deletes them here.

    Lists never count the table: no full result count, NoCountPaginator.
    """

    show_full_result_count = False
    paginator = NoCountPaginator
    list_per_page = 100
    list_max_show_all = 100

    def get_paginator(self, request, queryset, per_page, orphans=0, allow_empty_first_page=True):
        try:
            page_hint = min(int(request.GET.get("p", 1)), 10**6)  # SQL OFFSET stays a bigint
        except ValueError:
            page_hint = 1
        return self.paginator(queryset, per_page, orphans, allow_empty_first_page, page_hint=page_hint)

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class RecentServiceFilter(admin.SimpleListFilter):
    """Filter by service, offering the services of recent hourly aggregations.

    ``SELECT DISTINCT service`` over raw points would scan the whole table;
    the hourly aggregations of the last 7 days name the same services in a
    few thousand rows.
    """

    title = "service"
    parameter_name = "service"

    def lookups(self, request, model_admin):
        from datetime import timedelta

        from django.utils import timezone

        since = timezone.now() - timedelta(days=7)
        services = (
            ApmMetricAggregation.objects.filter(bucket_seconds=3600, bucket_start__gte=since)
            .order_by("service")
            .values_list("service", flat=True)
            .distinct()[:200]
        )
        choices = [(s, s) for s in services]
        if self.value() and self.value() not in services:
            choices.append((self.value(), self.value()))
        return choices

    def has_output(self):
        # Applies even when no recent aggregation names the chosen service.
        return True

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(service=self.value())
        return queryset


@admin.register(ApmMetric)
class ApmMetricAdmin(ReadOnlyAdmin):
    """Raw points, newest first; no COUNT(*), no links to a per-row page."""

    list_display = ("recorded_at", "organization", "service", "metric_name", "value", "unit", "ingested_at")
    list_display_links = None
    list_filter = (RecentServiceFilter,)
    search_fields = ("^metric_name", "^service")
    ordering = ("-recorded_at", "-id")
    # Not list_select_related: under RLS the planner misjudges a join with
    # organizations and sorts every row (300 ms at 460k rows); a separate
    # IN (…) query for the page's organizations keeps the newest-first scan
    # a backward index scan over the partitions (under 1 ms). An empty tuple,
    # not False: False makes the admin join every foreign key it lists.
    list_select_related = ()

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("organization")


class BucketWidthFilter(admin.SimpleListFilter):
    """Filter by bucket width, offering the widths the beat job aggregates (no ``SELECT DISTINCT`` over the table:
    265 ms at 736k aggregation rows)."""

    title = "bucket width"
    parameter_name = "bucket_seconds"

    def lookups(self, request, model_admin):
        from .services import AGGREGATION_BUCKETS

        return [
            (str(width), f"{width // 60} min" if width < 3600 else f"{width // 3600} h")
            for width in AGGREGATION_BUCKETS
        ]

    def queryset(self, request, queryset):
        value = self.value()
        if value and value.isdigit():
            return queryset.filter(bucket_seconds=int(value))
        return queryset


@admin.register(ApmMetricHistogram)
class ApmMetricHistogramAdmin(ReadOnlyAdmin):
    """Histogram points (OTLP), newest first: delta count and sum, the buckets, the wedding context."""

    list_display = (
        "recorded_at",
        "organization",
        "service",
        "metric_name",
        "temporality",
        "count",
        "sum",
        "unit",
        "ingested_at",
    )
    list_display_links = None
    list_filter = ("temporality", RecentServiceFilter)
    search_fields = ("^metric_name", "^service")
    ordering = ("-recorded_at", "-id")
    list_select_related = ()

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("organization")


@admin.register(ApmMetricAggregation)
class ApmMetricAggregationAdmin(ReadOnlyAdmin):
    """Per-bucket statistics, newest bucket first."""

    list_display = (
        "bucket_start",
        "bucket_seconds",
        "organization",
        "service",
        "metric_name",
        "count",
        "avg",
        "p50",
        "p95",
        "p99",
        "min",
        "max",
        "updated_at",
    )
    list_filter = (BucketWidthFilter, "organization", RecentServiceFilter)
    search_fields = ("^metric_name", "^service")
    ordering = ("-bucket_start", "-id")
    # 13 columns: rendering 100 rows costs ~55 ms of CPU in the admin's templates alone; 50 keep it near 30.
    list_per_page = 50
    list_select_related = ()  # see ApmMetricAdmin: a join under RLS sorts every row

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("organization")


# --- provider configurations, errors ---------------------------------------------------------

import json  # noqa: E402

from django import forms  # noqa: E402
from django.contrib import messages  # noqa: E402

from .models import (  # noqa: E402
    ApmConfiguration,
    ApmDashboard,
    ErrorPattern,
    ErrorReport,
    ErrorSuppressionRule,
    ServiceHealthCheck,
    ServiceHealthResult,
    ServiceHealthTransition,
)


class ApmConfigurationForm(forms.ModelForm):
    """Credentials are write-only: a JSON object typed here replaces them; they are never shown back."""

    new_credentials = forms.CharField(
        required=False,
        widget=forms.PasswordInput(render_value=False),
        help_text='Replace the credentials: a JSON object, e.g. {"token": "…"} (see apm.providers). '
        "Leave empty to keep the stored ones. Never shown back.",
    )

    class Meta:
        model = ApmConfiguration
        fields = (
            "organization",
            "name",
            "provider",
            "base_url",
            "query",
            "service",
            "enabled",
            "poll_interval_seconds",
            "timeout_seconds",
            "alert_after_failures",
        )

    def clean_new_credentials(self):
        raw = self.cleaned_data["new_credentials"].strip()
        if not raw:
            return None
        try:
            value = json.loads(raw)
        except ValueError:
            # Say nothing about the content: it is a secret.
            raise forms.ValidationError("must be a JSON object") from None
        if not isinstance(value, dict):
            raise forms.ValidationError("must be a JSON object")
        return value


@admin.register(ApmConfiguration)
class ApmConfigurationAdmin(admin.ModelAdmin):
    form = ApmConfigurationForm
    list_display = (
        "name",
        "organization",
        "provider",
        "enabled",
        "poll_interval_seconds",
        "last_success_at",
        "consecutive_failures",
        "has_credentials",
    )
    list_filter = ("provider", "enabled")
    search_fields = ("name", "service", "organization__slug")
    readonly_fields = ("has_credentials", "last_polled_at", "last_success_at", "last_error", "consecutive_failures")
    list_select_related = ("organization",)

    @admin.display(boolean=True, description="credentials set")
    def has_credentials(self, obj):
        return bool(obj and obj.credentials_encrypted)

    def save_model(self, request, obj, form, change):
        from .crypto import encrypt_credentials

        new = form.cleaned_data.get("new_credentials")
        if new is not None:
            obj.credentials_encrypted = encrypt_credentials(new)
            messages.info(request, "The credentials were replaced.")
        super().save_model(request, obj, form, change)


@admin.register(ErrorPattern)
class ErrorPatternAdmin(admin.ModelAdmin):
    list_display = (
        "error_type",
        "normalized_message",
        "organization",
        "service",
        "level",
        "status",
        "occurrence_count",
        "last_seen",
        "regression_count",
    )
    list_filter = ("status", "level")
    search_fields = ("error_type", "normalized_message", "service")
    readonly_fields = (
        "organization",
        "fingerprint",
        "service",
        "error_type",
        "normalized_message",
        "top_frame",
        "level",
        "first_seen",
        "last_seen",
        "occurrence_count",
        "resolved_at",
        "regressed_at",
        "regression_count",
        "incident",
    )
    list_select_related = ("organization",)
    actions = ["mark_resolved", "mark_ignored"]

    def has_add_permission(self, request):
        return False

    def _set(self, request, queryset, status):
        from django.utils import timezone

        from .services import error_pattern_set_status

        for pattern in queryset:
            error_pattern_set_status(pattern=pattern, status=status, now=timezone.now())

    @admin.action(description="Mark resolved")
    def mark_resolved(self, request, queryset):
        self._set(request, queryset, ErrorPattern.Status.RESOLVED)

    @admin.action(description="Mark ignored")
    def mark_ignored(self, request, queryset):
        self._set(request, queryset, ErrorPattern.Status.IGNORED)


@admin.register(ErrorReport)
class ErrorReportAdmin(ReadOnlyAdmin):
    list_display = ("occurred_at", "organization", "service", "error_type", "level", "message")
    list_filter = ("level",)
    search_fields = ("^error_type", "^service")
    ordering = ("-occurred_at", "-id")
    list_select_related = ("organization",)


@admin.register(ErrorSuppressionRule)
class ErrorSuppressionRuleAdmin(admin.ModelAdmin):
    list_display = (
        "name",
        "organization",
        "service",
        "error_type",
        "message_contains",
        "enabled",
        "expires_at",
        "suppressed_count",
    )
    list_filter = ("enabled",)
    search_fields = ("name", "service", "error_type", "message_contains")
    readonly_fields = ("suppressed_count",)


class ServiceHealthTransitionInline(admin.TabularInline):
    model = ServiceHealthTransition
    extra = 0
    can_delete = False
    fields = ("at", "from_status", "to_status", "reason")
    readonly_fields = fields
    ordering = ("-at",)

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(ServiceHealthCheck)
class ServiceHealthCheckAdmin(admin.ModelAdmin):
    list_display = (
        "name",
        "organization",
        "category",
        "status",
        "consecutive_failures",
        "last_response_ms",
        "last_checked_at",
        "enabled",
    )
    list_filter = ("status", "category", "enabled")
    search_fields = ("name", "url", "organization__slug")
    readonly_fields = ("status_changed_at", "consecutive_failures", "last_checked_at", "last_response_ms", "last_error")
    list_select_related = ("organization",)
    inlines = [ServiceHealthTransitionInline]


@admin.register(ServiceHealthResult)
class ServiceHealthResultAdmin(ReadOnlyAdmin):
    list_display = ("checked_at", "health_check", "ok", "status_code", "response_ms", "error")
    list_filter = ("ok",)
    search_fields = ("^error",)
    ordering = ("-checked_at", "-id")
    list_select_related = ("health_check",)


@admin.register(ApmDashboard)
class ApmDashboardAdmin(admin.ModelAdmin):
    list_display = ("name", "organization", "updated_by", "updated_at")
    list_filter = ("organization",)
    search_fields = ("name", "organization__slug")
    list_select_related = ("organization", "updated_by")


# --- WS-259 performance tables (issue 18 §2): written by apm.performance's rollups only --------
from .models import ApiPerformance, CoreWebVitals, UserJourneyPerformance  # noqa: E402


@admin.register(CoreWebVitals)
class CoreWebVitalsAdmin(ReadOnlyAdmin):
    """p75 of each web vital per page, device class and hour, with web-vitals' ratings."""

    list_display = (
        "bucket_start",
        "organization",
        "page",
        "device_class",
        "samples",
        "lcp_ms",
        "lcp_rating",
        "inp_ms",
        "inp_rating",
        "cls",
        "cls_rating",
    )
    list_filter = ("device_class", "lcp_rating", "inp_rating", "cls_rating", "bucket_start")
    search_fields = ("page", "organization__slug")
    list_select_related = ("organization",)


@admin.register(ApiPerformance)
class ApiPerformanceAdmin(ReadOnlyAdmin):
    """Per endpoint and minute: requests, errors and p50/p95/p99 latency (ms)."""

    list_display = (
        "bucket_start",
        "organization",
        "service",
        "endpoint",
        "request_count",
        "error_rate",
        "p50_ms",
        "p95_ms",
        "p99_ms",
    )
    list_filter = ("service", "bucket_start")
    search_fields = ("endpoint", "service", "organization__slug")
    list_select_related = ("organization",)


@admin.register(UserJourneyPerformance)
class UserJourneyPerformanceAdmin(ReadOnlyAdmin):
    """A named journey's steps and success rate per hour."""

    list_display = (
        "bucket_start",
        "organization",
        "journey",
        "journeys_started",
        "journeys_completed",
        "success_rate",
        "p50_total_ms",
    )
    list_filter = ("journey", "bucket_start")
    search_fields = ("journey", "organization__slug")
    list_select_related = ("organization",)


from .models import ErrorCorrelation  # noqa: E402


@admin.register(ErrorCorrelation)
class ErrorCorrelationAdmin(ReadOnlyAdmin):
    """Pairs of error patterns of different services that are one problem (apm.correlation)."""

    list_display = ("detected_at", "organization", "pattern", "related_pattern", "origin_pattern", "rule", "score")
    list_filter = ("rule", "detected_at")
    search_fields = ("organization__slug", "pattern__error_type", "related_pattern__error_type")
    list_select_related = ("organization", "pattern", "related_pattern", "origin_pattern")
