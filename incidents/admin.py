"""Admin of incidents, their timeline, escalation policies and contacts, runbooks and analyses.

Every change goes through the services, so the timeline, notifications and
rules (validated transitions, published analysis before a p0/p1 closes)
hold in the admin too.
"""

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.utils import timezone

from .escalation import incident_escalate
from .models import (
    EscalationContact,
    EscalationPolicy,
    EscalationStep,
    Incident,
    IncidentUpdate,
    PostIncidentAnalysis,
    Runbook,
    RunbookVersion,
)
from .runbooks import runbook_save
from .services import (
    incident_acknowledge,
    incident_assign,
    incident_close,
    incident_investigate,
    incident_resolve,
)


class IncidentUpdateInline(admin.TabularInline):
    """The timeline, read-only: entries are never edited or deleted (issue 14 §6); a new row is a note,
    written by ``incident_note_add`` as the staff user (``IncidentAdmin.save_formset``)."""

    model = IncidentUpdate
    extra = 0
    fields = ("created_at", "kind", "message", "vendor_visible", "author")
    readonly_fields = ("created_at", "kind", "author")
    ordering = ("created_at",)
    can_delete = False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Incident)
class IncidentAdmin(admin.ModelAdmin):
    """Incidents, most recent first; actions acknowledge/resolve go through the services (timeline rows included)."""

    list_display = (
        "title",
        "organization",
        "status",
        "priority",
        "severity",
        "wedding_impact",
        "wedding",
        "detected_at",
        "acknowledged_at",
        "resolved_at",
    )
    list_filter = ("status", "priority", "wedding_impact", "severity", "organization")
    search_fields = ("title",)
    date_hierarchy = "detected_at"
    ordering = ("-detected_at",)
    list_select_related = ("organization", "wedding")
    autocomplete_fields = ("organization", "wedding", "commander", "assignee")
    readonly_fields = (
        "status",
        "detected_at",
        "acknowledged_at",
        "resolved_at",
        "closed_at",
        "created_at",
        "updated_at",
        "escalation_level",
        "escalation_step",
        "last_escalated_at",
        "merged_into",
        "source",
        "source_ref",
    )
    inlines = [IncidentUpdateInline]
    actions = [
        "acknowledge_selected",
        "investigate_selected",
        "escalate_selected",
        "resolve_selected",
        "close_selected",
        "assign_to_me",
    ]

    def save_model(self, request, obj, form, change):
        """A new incident made here is opened by hand: ``source = manual``, detected now, timeline row written."""
        if change:
            super().save_model(request, obj, form, change)
            return
        from .services import incident_create

        created = incident_create(
            organization=obj.organization,
            title=obj.title,
            by=request.user,
            now=timezone.now(),
            description=obj.description,
            priority=obj.priority,
            severity=obj.severity,
            wedding_impact=obj.wedding_impact,
            wedding=obj.wedding,
            commander=obj.commander,
            assignee=obj.assignee,
        )
        obj.pk = created.pk
        obj._state.adding = False
        obj._state.db = created._state.db

    def _apply(self, request, queryset, service, verb):
        done, refused = 0, []
        now = timezone.now()
        for incident in queryset:
            try:
                service(incident=incident, by=request.user, now=now)
                done += 1
            except ValidationError as exc:
                refused.append(f"{incident.title}: {'; '.join(exc.messages)}")
        if done:
            self.message_user(request, f"{verb} {done} incident(s).", messages.SUCCESS)
        for reason in refused:
            self.message_user(request, f"Not {verb.lower()}: {reason}", messages.WARNING)

    @admin.action(description="Acknowledge selected incidents")
    def acknowledge_selected(self, request, queryset):
        self._apply(request, queryset, incident_acknowledge, "Acknowledged")

    @admin.action(description="Resolve selected incidents")
    def resolve_selected(self, request, queryset):
        self._apply(request, queryset, incident_resolve, "Resolved")

    @admin.action(description="Start investigating selected incidents")
    def investigate_selected(self, request, queryset):
        self._apply(request, queryset, incident_investigate, "Investigating")

    @admin.action(description="Escalate selected incidents now")
    def escalate_selected(self, request, queryset):
        self._apply(request, queryset, incident_escalate, "Escalated")

    @admin.action(description="Close selected incidents")
    def close_selected(self, request, queryset):
        self._apply(request, queryset, incident_close, "Closed")

    @admin.action(description="Assign selected incidents to me")
    def assign_to_me(self, request, queryset):
        self._apply(
            request,
            queryset,
            lambda *, incident, by, now: incident_assign(incident=incident, by=by, now=now, assignee=by),
            "Assigned",
        )

    def save_formset(self, request, form, formset, change):
        """New timeline rows are notes added through ``incident_note_add`` (the staff user as author);
        existing entries are never changed or deleted here."""
        from .services import incident_note_add

        instances = formset.save(commit=False)
        for obj in instances:
            if isinstance(obj, IncidentUpdate):
                if obj._state.adding:
                    incident_note_add(
                        incident=form.instance,
                        by=request.user,
                        message=obj.message,
                        now=timezone.now(),
                        vendor_visible=obj.vendor_visible,
                    )
                continue
            obj.save()
        formset.save_m2m()


@admin.register(IncidentUpdate)
class IncidentUpdateAdmin(admin.ModelAdmin):
    """Timeline entries, read-only: nobody edits, deletes or forges an entry here (issue 14 §6).

    "Add" writes a note through ``incident_note_add`` (the incident's organization, the staff user as
    author, kind ``note`` whatever was chosen): the timeline only grows.
    """

    list_display = ("created_at", "incident", "kind", "vendor_visible", "author", "message")
    list_filter = ("kind", "vendor_visible")
    search_fields = ("message", "incident__title")
    list_select_related = ("incident", "author")
    raw_id_fields = ("incident", "author")
    exclude = ("organization",)
    readonly_fields = ("created_at",)

    def get_fields(self, request, obj=None):
        return ("incident", "message", "vendor_visible") if obj is None else super().get_fields(request, obj)

    def save_model(self, request, obj, form, change):
        """A new entry is a note written by the service (organization, author and time set there)."""
        from .services import incident_note_add

        created = incident_note_add(
            incident=obj.incident,
            by=request.user,
            message=obj.message,
            now=timezone.now(),
            vendor_visible=obj.vendor_visible,
        )
        obj.pk = created.pk
        obj._state.adding = False
        obj._state.db = created._state.db

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class EscalationStepInline(admin.TabularInline):
    """The policy's ordered steps (they take the policy's organization)."""

    model = EscalationStep
    extra = 1
    fields = ("position", "wait_minutes", "level", "target", "schedule", "user", "contact", "channel")
    ordering = ("position",)


@admin.register(EscalationPolicy)
class EscalationPolicyAdmin(admin.ModelAdmin):
    """Escalation policies: the platform default, per-organization policies and their wedding-day variants."""

    list_display = ("name", "organization", "wedding_day", "repeat_count", "enabled")
    list_filter = ("wedding_day", "enabled")
    search_fields = ("name", "organization__slug")
    autocomplete_fields = ("organization",)
    inlines = [EscalationStepInline]

    def save_formset(self, request, form, formset, change):
        instances = formset.save(commit=False)
        for obj in formset.deleted_objects:
            obj.delete()
        for obj in instances:
            obj.organization_id = form.instance.organization_id
            obj.save()
        formset.save_m2m()


@admin.register(EscalationContact)
class EscalationContactAdmin(admin.ModelAdmin):
    """People paged by escalation steps, with their active hours and wedding-day emergency flag."""

    list_display = ("name", "organization", "level", "email", "phone", "slack", "wedding_day_emergency", "is_active")
    list_filter = ("level", "wedding_day_emergency", "is_active")
    search_fields = ("name", "email", "organization__slug")
    autocomplete_fields = ("organization",)


class RunbookVersionInline(admin.TabularInline):
    model = RunbookVersion
    extra = 0
    fields = ("version", "title", "author", "created_at")
    readonly_fields = fields
    can_delete = False
    ordering = ("-version",)

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Runbook)
class RunbookAdmin(admin.ModelAdmin):
    """Runbooks: saving goes through ``runbook_save`` (new version, sanitized HTML)."""

    list_display = ("title", "organization", "service", "alertname", "version", "updated_at")
    list_filter = ("service", "organization")
    search_fields = ("title", "service", "alertname")
    autocomplete_fields = ("organization",)
    fields = ("organization", "title", "service", "alertname", "content")
    inlines = [RunbookVersionInline]

    def save_model(self, request, obj, form, change):
        saved = runbook_save(
            runbook=Runbook.objects.get(pk=obj.pk) if change else None,
            organization=obj.organization,
            title=obj.title,
            content=obj.content,
            service=obj.service,
            alertname=obj.alertname,
            by=request.user,
            now=timezone.now(),
        )
        obj.pk = saved.pk
        obj._state.adding = False
        obj._state.db = saved._state.db


@admin.register(PostIncidentAnalysis)
class PostIncidentAnalysisAdmin(admin.ModelAdmin):
    """Post-incident analyses; start, edit and publish them from the incident page (/ops/incidents/<id>/)."""

    list_display = ("incident", "status", "impact_minutes", "weddings_affected", "published_at")
    list_filter = ("status",)
    search_fields = ("incident__title", "summary")
    list_select_related = ("incident",)
    readonly_fields = ("incident", "status", "timeline", "published_at", "author", "organization")


# --- automated recovery (issue 18 §3) ----------------------------------------------------------
from .models import AutoRecoveryLog, RecoveryAction  # noqa: E402


@admin.register(RecoveryAction)
class RecoveryActionAdmin(admin.ModelAdmin):
    """Automated runbook steps; the target must be on its allow-list (``RecoveryAction.clean``)."""

    list_display = ("name", "runbook", "kind", "target", "wedding_day_policy", "recovery_window_minutes", "enabled")
    list_filter = ("kind", "wedding_day_policy", "enabled")
    search_fields = ("name", "target", "runbook__title")
    list_select_related = ("runbook",)


@admin.register(AutoRecoveryLog)
class AutoRecoveryLogAdmin(admin.ModelAdmin):
    """Every automated run: written by ``incidents.recovery`` only."""

    list_display = ("created_at", "action", "alert", "status", "http_status", "duration_ms", "recovered")
    list_filter = ("status", "recovered", "wedding_day")
    search_fields = ("action__name", "alert__title", "outcome")
    list_select_related = ("action", "alert")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
