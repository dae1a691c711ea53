"""Admin of the heartbeats app: checks (edited through the services), their pings and flips, and job runs.

Pings, flips and job runs are written by the ping API, the beat tick and
the Celery signals only: read-only here. Saving a check goes through
``heartbeats.services`` so the same validation (schedule, cron, grace) and
state rules apply as on the pages.
"""

from django import forms
from django.contrib import admin, messages
from django.utils import timezone

from . import services
from .models import HeartbeatCheck, HeartbeatFlip, HeartbeatPing, JobRun


class _ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class HeartbeatCheckForm(forms.ModelForm):
    """Validates like the services (``check_validate``), so an invalid schedule is a form error, not a 500."""

    class Meta:
        model = HeartbeatCheck
        fields = ("organization",) + services.CHECK_EDITABLE_FIELDS

    def clean(self):
        data = super().clean()
        probe = HeartbeatCheck(**{name: data.get(name) for name in services.CHECK_EDITABLE_FIELDS if name in data})
        services.check_validate(probe)
        return data


@admin.register(HeartbeatCheck)
class HeartbeatCheckAdmin(admin.ModelAdmin):
    """Checks of every organization and the platform (staff context: row-level security shows all)."""

    form = HeartbeatCheckForm

    list_display = (
        "name",
        "organization",
        "status",
        "kind",
        "period_s",
        "cron",
        "grace_s",
        "last_ping_at",
        "next_expected_at",
        "n_pings",
    )
    list_filter = ("status", "kind", "severity", ("organization", admin.RelatedOnlyFieldListFilter))
    search_fields = ("name", "description", "=ping_uuid")
    list_select_related = ("organization",)
    readonly_fields = (
        "ping_uuid",
        "ping_url",
        "status",
        "status_changed_at",
        "next_expected_at",
        "last_ping_at",
        "last_start_at",
        "last_duration_ms",
        "last_exit_status",
        "n_pings",
        "watchdog_integration",
        "created_at",
        "updated_at",
    )
    fields = (
        "organization",
        "name",
        "description",
        "kind",
        "period_s",
        "cron",
        "timezone",
        "grace_s",
        "wedding_day_grace_s",
        "severity",
        "priority",
    ) + readonly_fields
    actions = ["pause_selected"]

    @admin.display(description="Ping URL")
    def ping_url(self, obj):
        return "" if obj.pk is None or obj.watchdog_integration_id else obj.ping_url

    def get_readonly_fields(self, request, obj=None):
        # A check never changes organization (its pings and alerts belong to it).
        return self.readonly_fields + (("organization",) if obj is not None else ())

    def save_model(self, request, obj, form, change):
        """Create or update through ``heartbeats.services`` (the form validated it the same way)."""
        fields = {name: getattr(obj, name) for name in services.CHECK_EDITABLE_FIELDS}
        if change:
            saved = services.check_update(check=obj, now=timezone.now(), **fields)
        else:
            saved = services.check_create(
                organization_id=obj.organization_id, now=timezone.now(), created_by=request.user, **fields
            )
        obj.pk = saved.pk

    def delete_model(self, request, obj):
        services.check_delete(check=obj, now=timezone.now())

    @admin.action(description="Pause the selected checks (the next ping resumes each)")
    def pause_selected(self, request, queryset):
        for check in queryset:
            services.check_pause(check=check, now=timezone.now())
        self.message_user(request, f"{queryset.count()} check(s) paused.", messages.SUCCESS)


@admin.register(HeartbeatPing)
class HeartbeatPingAdmin(_ReadOnly):
    list_display = ("received_at", "heartbeat_check", "n", "kind", "exit_status", "via", "remote_addr", "duration_ms")
    list_filter = ("kind", "via", "received_at")
    search_fields = ("heartbeat_check__name", "body", "user_agent")
    list_select_related = ("heartbeat_check",)
    show_full_result_count = False


@admin.register(HeartbeatFlip)
class HeartbeatFlipAdmin(_ReadOnly):
    list_display = ("flipped_at", "heartbeat_check", "old_status", "new_status", "reason", "wedding_day")
    list_filter = ("new_status", "reason", "wedding_day")
    search_fields = ("heartbeat_check__name",)
    list_select_related = ("heartbeat_check",)


@admin.register(JobRun)
class JobRunAdmin(_ReadOnly):
    list_display = ("started_at", "job", "outcome", "duration_ms", "rows_handled", "worker")
    list_filter = ("outcome", "job")
    search_fields = ("job", "task", "error")
    date_hierarchy = "started_at"
    show_full_result_count = False
