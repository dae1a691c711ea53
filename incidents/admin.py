"""Admin of incidents and their timeline: staff work incidents here (acknowledge, resolve, add notes)."""

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.utils import timezone

from .models import Incident, IncidentUpdate
from .services import incident_acknowledge, incident_resolve


class IncidentUpdateInline(admin.TabularInline):
    """The timeline; new rows are notes by the staff user, in the incident's organization."""

    model = IncidentUpdate
    extra = 0
    fields = ("created_at", "kind", "message", "vendor_visible", "author")
    readonly_fields = ("created_at", "author")
    ordering = ("created_at",)


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
    raw_id_fields = ("wedding", "commander", "assignee")
    readonly_fields = ("acknowledged_at", "resolved_at", "created_at", "updated_at")
    inlines = [IncidentUpdateInline]
    actions = ["acknowledge_selected", "resolve_selected"]

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

    def save_formset(self, request, form, formset, change):
        """New timeline notes belong to the incident's organization and are authored by the staff user."""
        instances = formset.save(commit=False)
        for obj in formset.deleted_objects:
            obj.delete()
        for obj in instances:
            if isinstance(obj, IncidentUpdate):
                obj.organization_id = form.instance.organization_id
                if obj._state.adding:
                    obj.author = request.user
            obj.save()
        formset.save_m2m()


@admin.register(IncidentUpdate)
class IncidentUpdateAdmin(admin.ModelAdmin):
    """Timeline entries; a new entry takes its incident's organization and the staff user as author."""

    list_display = ("created_at", "incident", "kind", "vendor_visible", "author", "message")
    list_filter = ("kind", "vendor_visible")
    search_fields = ("message", "incident__title")
    list_select_related = ("incident", "author")
    raw_id_fields = ("incident", "author")
    exclude = ("organization",)
    readonly_fields = ("created_at",)

    def save_model(self, request, obj, form, change):
        """The entry belongs to its incident's organization (RLS and vendor visibility follow it)."""
        obj.organization_id = obj.incident.organization_id
        if not change and obj.author_id is None:
            obj.author = request.user
        super().save_model(request, obj, form, change)
