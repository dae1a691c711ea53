"""Admin of the tenancy: organizations, memberships, weddings, API keys.

Staff only (Django admin requires ``is_staff``); the request's staff
context lets RLS show every organization's rows. An API key's hash is never
shown: keys are created (and printed once) by ``manage.py create_api_key``,
so the admin cannot add them, only rename and revoke them.
"""

from django.contrib import admin, messages
from django.utils import timezone

from .models import ApiKey, Organization, UserProfile, Wedding


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin):
    """Organizations: searchable by slug and name, filterable by time zone."""

    list_display = ("name", "slug", "timezone", "status_page_public", "created_at")
    search_fields = ("slug", "name")
    list_filter = ("timezone", "status_page_public")
    prepopulated_fields = {"slug": ("name",)}
    readonly_fields = ("id", "created_at")
    ordering = ("name",)


@admin.register(UserProfile)
class UserProfileAdmin(admin.ModelAdmin):
    """Memberships: a vendor user's organization and role."""

    list_display = ("user", "organization", "role", "created_at")
    list_filter = ("role", "organization")
    search_fields = ("user__username", "user__email", "organization__slug", "organization__name")
    autocomplete_fields = ("user", "organization")
    list_select_related = ("user", "organization")
    readonly_fields = ("id", "created_at")


@admin.register(Wedding)
class WeddingAdmin(admin.ModelAdmin):
    """Weddings; ``wedding_date`` and ``ceremony_time`` are the organization's local date and time."""

    list_display = ("couple_name", "organization", "wedding_date", "ceremony_time", "venue_name", "status")
    list_filter = ("status", "wedding_date")
    search_fields = ("couple_name", "venue_name")
    date_hierarchy = "wedding_date"
    autocomplete_fields = ("organization",)
    list_select_related = ("organization",)
    readonly_fields = ("id", "created_at")


@admin.action(description="Revoke the selected API keys")
def revoke_api_keys(modeladmin, request, queryset):
    """Set ``revoked_at`` on the selected keys that are not revoked yet; already revoked keys keep their date."""
    count = queryset.filter(revoked_at__isnull=True).update(revoked_at=timezone.now())
    modeladmin.message_user(request, f"Revoked {count} API key(s).", messages.SUCCESS)


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    """Organizations' ingest API keys: prefix, last use, revocation. The key hash is never rendered."""

    list_display = ("name", "organization", "prefix", "created_at", "last_used_at", "revoked_at")
    list_filter = ("organization", ("revoked_at", admin.EmptyFieldListFilter))
    search_fields = ("name", "prefix", "organization__slug")
    fields = ("organization", "name", "prefix", "created_at", "last_used_at", "revoked_at")
    readonly_fields = ("organization", "prefix", "created_at", "last_used_at")
    exclude = ("key_hash",)
    list_select_related = ("organization",)
    actions = (revoke_api_keys,)

    def has_add_permission(self, request):
        """Keys are created by ``manage.py create_api_key`` (which prints the key once), not here."""
        return False
