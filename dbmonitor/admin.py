"""Admin for monitoring events (staff-only rows: the request's staff context reads them)."""

from django.contrib import admin, messages

from .models import DbSnapshot, DbStatementCounter, DbStatementDelta, DbTableSnapshot, MonitoringEvent
from .services import monitoring_events_resolve


@admin.register(MonitoringEvent)
class MonitoringEventAdmin(admin.ModelAdmin):
    list_display = ("created_at", "severity", "event_type", "message", "resolved", "resolved_at")
    list_filter = ("severity", "resolved", "event_type")
    search_fields = ("message",)
    date_hierarchy = "created_at"
    readonly_fields = ("created_at", "resolved_at")
    actions = ["mark_resolved"]

    @admin.action(description="Mark selected events resolved")
    def mark_resolved(self, request, queryset):
        """Resolve the selected unresolved events (``monitoring_events_resolve``) and report the count."""
        count = monitoring_events_resolve(event_ids=queryset.values_list("id", flat=True))
        self.message_user(request, f"{count} event(s) marked resolved.", messages.SUCCESS)


@admin.register(DbSnapshot)
class DbSnapshotAdmin(admin.ModelAdmin):
    """Per-minute history snapshots, read-only (written by the beat task; staff-only rows)."""

    list_display = (
        "taken_at",
        "connections_used",
        "connections_usable",
        "connections_idle_in_transaction",
        "connections_waiting",
        "statement_calls",
        "statement_total_ms",
        "dead_tuples",
    )
    list_filter = ("taken_at",)
    date_hierarchy = "taken_at"
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class _ReadOnlyHistoryAdmin(admin.ModelAdmin):
    """History rows are written by the snapshot beat job only."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(DbStatementCounter)
class DbStatementCounterAdmin(_ReadOnlyHistoryAdmin):
    """The last cumulative pg_stat_statements counters seen per statement (the baseline of the next delta)."""

    list_display = ("queryid", "calls", "total_ms", "rows", "last_seen_at")
    list_filter = ("last_seen_at",)
    search_fields = ("query",)
    ordering = ("-total_ms",)
    show_full_result_count = False


@admin.register(DbStatementDelta)
class DbStatementDeltaAdmin(_ReadOnlyHistoryAdmin):
    """Per-minute pg_stat_statements deltas: calls, time (ms) and rows since the previous snapshot."""

    list_display = ("snapshot", "queryid", "calls", "total_ms", "rows")
    list_filter = ("snapshot__taken_at",)
    search_fields = ("=queryid",)
    list_select_related = ("snapshot",)
    ordering = ("-snapshot__taken_at", "-total_ms")
    show_full_result_count = False


@admin.register(DbTableSnapshot)
class DbTableSnapshotAdmin(_ReadOnlyHistoryAdmin):
    """Per-minute table health: live and dead tuples per table."""

    list_display = ("snapshot", "schema_name", "table_name", "n_live_tup")
    list_filter = ("schema_name", "snapshot__taken_at")
    search_fields = ("table_name",)
    list_select_related = ("snapshot",)
    ordering = ("-snapshot__taken_at", "table_name")
    show_full_result_count = False


from .models import DatabasePerformance  # noqa: E402


@admin.register(DatabasePerformance)
class DatabasePerformanceAdmin(_ReadOnlyHistoryAdmin):
    """Per query fingerprint (pg_stat_statements queryid) and hour: calls, time (ms), rows, buffer hit ratio."""

    list_display = ("bucket_start", "queryid", "calls", "total_ms", "mean_ms", "rows", "hit_ratio")
    list_filter = ("bucket_start",)
    search_fields = ("query", "=queryid")
    ordering = ("-bucket_start", "-total_ms")
    show_full_result_count = False
