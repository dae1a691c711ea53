"""Database monitoring events (staff-only) and the live-statistics views."""

import uuid

from django.contrib.postgres.functions import RandomUUID
from django.db import models
from django.db.models.functions import Now

from wedsync_ops.choices import AlertSeverity
from wedsync_ops.db import EnumField


class MonitoringEvent(models.Model):
    """A database health event (slow query, connection pressure …). Table ``monitoring_events``.

    Staff-only RLS: visible to ``staff`` and ``service`` contexts alone.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, db_default=RandomUUID(), editable=False)
    event_type = models.CharField(max_length=50)
    severity = EnumField(enum_type="alert_severity", choices=AlertSeverity.choices, default=AlertSeverity.WARNING)
    message = models.TextField()
    details = models.JSONField(default=dict, blank=True)
    resolved = models.BooleanField(default=False)
    resolved_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(db_default=Now())

    class Meta:
        db_table = "monitoring_events"
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.event_type}: {self.message[:60]}"
