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
            "detected_at",
            "acknowledged_at",
            "resolved_at",
            "closed_at",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class IncidentDetailSerializer(IncidentSerializer):
    """An incident with its timeline (``updates``, oldest first; vendors see only vendor-visible entries)."""

    updates = serializers.SerializerMethodField()

    class Meta(IncidentSerializer.Meta):
        fields = IncidentSerializer.Meta.fields + ["updates"]
        read_only_fields = fields

    def get_updates(self, incident) -> list[dict]:
        request = self.context.get("request")
        qs = incident.updates.order_by("created_at", "id")
        if request is None or not request.user.is_staff:
            qs = qs.filter(vendor_visible=True)
        return IncidentUpdateSerializer(qs, many=True).data
