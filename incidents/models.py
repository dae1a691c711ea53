"""Incidents and their timeline."""

import uuid

from django.conf import settings
from django.contrib.postgres.functions import RandomUUID
from django.db import models
from django.db.models.functions import Now

from wedsync_ops.choices import AlertSeverity, EscalationLevel, IncidentStatus, WeddingImpactLevel
from wedsync_ops.db import EnumField
from wedsync_ops.tenancy.models import Organization, Wedding


class Incident(models.Model):
    """An incident. Table ``incidents`` (view ``apm_incidents``).

    Priority ``p0`` is the most urgent. ``detected_at``, ``acknowledged_at``
    and ``resolved_at`` give MTTA (acknowledged − detected) and MTTR
    (resolved − detected). ``organization`` NULL: platform-wide, staff only.
    """

    class Priority(models.TextChoices):
        P0 = "p0"
        P1 = "p1"
        P2 = "p2"
        P3 = "p3"

    OPEN_STATUSES = ("open", "acknowledged", "investigating")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, db_default=RandomUUID(), editable=False)
    organization = models.ForeignKey(
        Organization, null=True, blank=True, on_delete=models.CASCADE, related_name="incidents"
    )
    title = models.CharField(max_length=500)
    description = models.TextField(blank=True)
    status = EnumField(enum_type="incident_status", choices=IncidentStatus.choices, default=IncidentStatus.OPEN)
    priority = models.CharField(max_length=2, choices=Priority.choices, default=Priority.P2)
    severity = EnumField(enum_type="alert_severity", choices=AlertSeverity.choices, default=AlertSeverity.WARNING)
    wedding_impact = EnumField(
        enum_type="wedding_impact_level", choices=WeddingImpactLevel.choices, default=WeddingImpactLevel.NONE
    )
    wedding = models.ForeignKey(Wedding, null=True, blank=True, on_delete=models.SET_NULL, related_name="incidents")
    escalation_level = EnumField(
        enum_type="escalation_level", choices=EscalationLevel.choices, default=EscalationLevel.NONE
    )
    commander = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    detected_at = models.DateTimeField(db_default=Now())
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(db_default=Now(), editable=False)
    updated_at = models.DateTimeField(db_default=Now())

    class Meta:
        db_table = "incidents"
        ordering = ["-detected_at"]
        indexes = [models.Index(fields=["organization", "status"], name="incidents_org_status")]

    def __str__(self):
        return f"[{self.priority}] {self.title}"

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN_STATUSES


class IncidentUpdate(models.Model):
    """One entry of an incident's timeline. Table ``incident_updates``.

    ``vendor_visible`` entries are shown to the organization, status-page style.
    """

    class Kind(models.TextChoices):
        CREATED = "created"
        STATUS_CHANGE = "status_change"
        NOTE = "note"
        ESCALATION = "escalation"
        NOTIFICATION = "notification"
        ASSIGNMENT = "assignment"
        ALERT = "alert"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, db_default=RandomUUID(), editable=False)
    organization = models.ForeignKey(Organization, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="updates")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    message = models.TextField()
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    vendor_visible = models.BooleanField(default=False)
    created_at = models.DateTimeField(db_default=Now())

    class Meta:
        db_table = "incident_updates"
        ordering = ["created_at"]

    def __str__(self):
        return f"{self.kind}: {self.message[:60]}"
