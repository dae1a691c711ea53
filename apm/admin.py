"""Admin of raw metric points and their aggregations: read-only, fast on huge tables.

Staff reach these pages through TenantContextMiddleware's staff context, so
RLS shows them every organization's rows.
"""

from django.contrib import admin
from django.core.paginator import Paginator
from django.utils.functional import cached_property

from .models import ApmMetric, ApmMetricAggregation


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
            page_hint = int(request.GET.get("p", 1))
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
    list_select_related = ("organization",)


@admin.register(ApmMetricAggregation)
class ApmMetricAggregationAdmin(ReadOnlyAdmin):
    """Per-bucket statistics, newest bucket first."""

    list_display = (
        "bucket_start", "bucket_seconds", "organization", "service", "metric_name",
        "count", "avg", "p50", "p95", "p99", "min", "max", "updated_at",
    )
    list_filter = ("bucket_seconds", "organization", RecentServiceFilter)
    search_fields = ("^metric_name", "^service")
    ordering = ("-bucket_start", "-id")
    list_select_related = ("organization",)
