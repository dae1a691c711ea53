"""Admin of the on-call app: schedules with their layers and overrides, people's contact methods and rules,
and the acknowledge tokens of pages (read-only). Child rows take their parent's organization on save."""

from django.contrib import admin

from .models import (
    AcknowledgeToken,
    ContactMethod,
    Override,
    PagingProfile,
    PersonalRule,
    Rotation,
    RotationParticipant,
    Schedule,
    ScheduleWeddingDayScope,
)


class RotationInline(admin.TabularInline):
    model = Rotation
    extra = 0
    fields = (
        "position",
        "name",
        "starts_on",
        "handoff_time",
        "period_unit",
        "period_count",
        "days",
        "active_from",
        "active_until",
        "wedding_day_only",
        "ends_on",
    )
    show_change_link = True


class OverrideInline(admin.TabularInline):
    model = Override
    extra = 0
    fields = ("user", "starts_at", "ends_at", "reason")
    autocomplete_fields = ("user",)


class ScopeInline(admin.TabularInline):
    model = ScheduleWeddingDayScope
    extra = 0
    verbose_name = "organization whose wedding days turn the wedding-day layers on"
    autocomplete_fields = ("scoped_organization",)


@admin.register(Schedule)
class ScheduleAdmin(admin.ModelAdmin):
    """On-call schedules: platform (organization empty) and organizations' own."""

    list_display = ("name", "organization", "timezone", "enabled", "created_at")
    list_filter = ("enabled", "timezone", "organization")
    search_fields = ("name", "organization__slug")
    autocomplete_fields = ("organization",)
    readonly_fields = ("ical_token",)
    inlines = [RotationInline, OverrideInline, ScopeInline]


class ParticipantInline(admin.TabularInline):
    model = RotationParticipant
    extra = 1
    fields = ("position", "user")
    autocomplete_fields = ("user",)
    ordering = ("position",)


@admin.register(Rotation)
class RotationAdmin(admin.ModelAdmin):
    """Layers of the schedules with their participants, in turn order."""

    list_display = ("name", "schedule", "position", "period_unit", "period_count", "handoff_time", "wedding_day_only")
    list_filter = ("wedding_day_only", "period_unit", "schedule")
    search_fields = ("name", "schedule__name")
    inlines = [ParticipantInline]


@admin.register(Override)
class OverrideAdmin(admin.ModelAdmin):
    list_display = ("schedule", "user", "starts_at", "ends_at", "reason", "created_by")
    list_filter = ("schedule",)
    search_fields = ("reason", "user__username", "schedule__name")
    autocomplete_fields = ("user",)
    date_hierarchy = "starts_at"


@admin.register(ContactMethod)
class ContactMethodAdmin(admin.ModelAdmin):
    """How people are reached (email, SMS, voice, Slack member id)."""

    list_display = ("user", "kind", "address", "label", "organization")
    list_filter = ("kind", "organization")
    search_fields = ("address", "user__username", "label")
    autocomplete_fields = ("user",)


@admin.register(PersonalRule)
class PersonalRuleAdmin(admin.ModelAdmin):
    """People's own notification rules (ordinary and wedding-day lists)."""

    list_display = ("user", "wedding_day", "position", "contact_method", "delay_minutes")
    list_filter = ("wedding_day", "organization")
    search_fields = ("user__username",)
    list_select_related = ("user", "contact_method")


@admin.register(PagingProfile)
class PagingProfileAdmin(admin.ModelAdmin):
    list_display = ("user", "organization", "created_at")
    list_filter = ("organization",)
    search_fields = ("user__username",)
    readonly_fields = ("ical_token",)


@admin.register(AcknowledgeToken)
class AcknowledgeTokenAdmin(admin.ModelAdmin):
    """The acknowledgement each page carried, and whether and how it was used (read-only)."""

    list_display = ("incident", "user", "contact", "step", "code", "created_at", "expires_at", "used_at", "used_via")
    list_filter = ("used_via", "step")
    search_fields = ("code", "user__username", "contact__name")
    readonly_fields = [f.name for f in AcknowledgeToken._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
