"""Admin of the audit trail: each event table read-only, filtered by label and object.

pghistory's admin (``pghistory.admin`` in INSTALLED_APPS) adds the object tools on every tracked
model's change form: "<model> history" (this app's event admin, filtered to the object) and
"Events" (all event tables). Nobody adds, changes or deletes an event here (the tables are
append-only as well). Staff only, like the rest of the admin; row-level security still applies.
"""

from django.contrib import admin
from pghistory.admin import EventModelAdmin

from .models import EVENT_MODELS


class AuditEventAdmin(EventModelAdmin):
    """One event table: when, what (insert/update/delete), which object, who (the context)."""

    list_display = ("when", "what", "pgh_obj", "actor", "where")
    search_fields = ("pgh_obj_id", "pgh_context")
    ordering = ("-pgh_created_at",)
    date_hierarchy = "pgh_created_at"

    @admin.display(description="when", ordering="pgh_created_at")
    def when(self, obj):
        return obj.pgh_created_at

    @admin.display(description="what", ordering="pgh_label")
    def what(self, obj) -> str:
        return {"insert": "created", "update": "changed", "delete": "deleted"}.get(obj.pgh_label, obj.pgh_label)

    @admin.display(description="who")
    def actor(self, obj) -> str:
        from .selectors import actor_label

        return actor_label(obj.pgh_context)

    @admin.display(description="from")
    def where(self, obj) -> str:
        return (obj.pgh_context or {}).get("url") or "—"


for _event_model in EVENT_MODELS.values():
    admin.site.register(_event_model, AuditEventAdmin)
