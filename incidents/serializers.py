"""Serializers of the read-only incidents API."""

from rest_framework import serializers

from .models import Incident, IncidentUpdate


class WeddingSummarySerializer(serializers.Serializer):
    """The wedding an incident affects: ``wedding_date`` is the organization's local date, ``ceremony_time`` local."""

    id = serializers.UUIDField()
    couple_name = serializers.CharField()
    wedding_date = serializers.DateField()
    venue_name = serializers.CharField()
    ceremony_time = serializers.TimeField(allow_null=True)


class IncidentUpdateSerializer(serializers.ModelSerializer):
    """One timeline entry: ``{"kind", "message", "created_at", "vendor_visible"}``."""

    class Meta:
        model = IncidentUpdate
        fields = ["kind", "message", "vendor_visible", "created_at"]


class IncidentSerializer(serializers.ModelSerializer):
    """An incident as listed: ``organization`` is the slug (None: platform-wide), ``wedding`` a summary or None.

    Times are ISO 8601 (UTC); MTTA = ``acknowledged_at − detected_at``,
    MTTR = ``resolved_at − detected_at``.
    """

    organization = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    wedding = WeddingSummarySerializer(read_only=True, allow_null=True)

    class Meta:
        model = Incident
        fields = [
            "id",
            "organization",
            "title",
            "description",
            "status",
            "priority",
            "severity",
            "wedding_impact",
            "wedding",
            "escalation_level",
            "escalation_step",
            "last_escalated_at",
            "source",
            "merged_into",
            "detected_at",
            "acknowledged_at",
            "resolved_at",
            "closed_at",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class IncidentDetailSerializer(IncidentSerializer):
    """An incident with its timeline (``updates``, oldest first; vendors see only vendor-visible entries),
    ``source_alerts`` (``[{"id", "title", "status", "severity", "starts_at"}]``, oldest first) and
    ``runbook`` (``{"id", "title", "version", "url"}`` of the matched runbook, or None)."""

    updates = serializers.SerializerMethodField()
    source_alerts = serializers.SerializerMethodField()
    runbook = serializers.SerializerMethodField()

    class Meta(IncidentSerializer.Meta):
        fields = IncidentSerializer.Meta.fields + ["updates", "source_alerts", "runbook"]
        read_only_fields = fields

    def get_source_alerts(self, incident) -> list[dict]:
        from alerts.models import AlertHistory

        rows = AlertHistory.objects.filter(incident_id=incident.pk).order_by("starts_at", "id")
        return [
            {
                "id": str(a.pk),
                "title": a.title,
                "status": a.status,
                "severity": a.severity,
                "starts_at": a.starts_at.isoformat(),
            }
            for a in rows
        ]

    def get_runbook(self, incident) -> dict | None:
        from .notify import portal_url
        from .selectors import runbook_for_incident

        rb = runbook_for_incident(incident)
        if rb is None:
            return None
        return {
            "id": str(rb.pk),
            "title": rb.title,
            "version": rb.version,
            "url": portal_url(f"/ops/runbooks/{rb.pk}/"),
        }

    def get_updates(self, incident) -> list[dict]:
        request = self.context.get("request")
        qs = incident.updates.order_by("created_at", "id")
        if request is None or not request.user.is_staff:
            qs = qs.filter(vendor_visible=True)
        return IncidentUpdateSerializer(qs, many=True).data
