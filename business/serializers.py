"""API shapes of ``POST /api/v1/business-events/``, for the OpenAPI schema only.

Ingest validates with plain Python (``business.services.events_validate``), the whole batch before any
write; these serializers describe the body and the answers.
"""

from rest_framework import serializers

from .models import EventType


class BusinessEventSerializer(serializers.Serializer):
    """One business event."""

    event_type = serializers.ChoiceField(choices=EventType.choices)
    timestamp = serializers.CharField(
        required=False,
        help_text="RFC 3339 with a UTC offset (`2026-06-13T12:00:00Z`) or epoch seconds; default "
        "now. At most 90 days old, at most 5 minutes in the future.",
    )
    actor_id = serializers.CharField(
        max_length=100, required=False, help_text="The platform's opaque id of the client or user."
    )
    properties = serializers.DictField(
        required=False, help_text="A JSON object, at most 8 KiB; `feature` names the feature for feature usage."
    )
    revenue_impact = serializers.DecimalField(
        max_digits=18,
        decimal_places=4,
        required=False,
        help_text="The amount the event is about, in `currency`; with it.",
    )
    currency = serializers.CharField(
        min_length=3,
        max_length=3,
        required=False,
        help_text="ISO 4217 code in upper case (`GBP`); with `revenue_impact`.",
    )


class BusinessEventBatchSerializer(serializers.Serializer):
    events = BusinessEventSerializer(many=True, help_text="1 to BUSINESS_EVENTS_MAX_BATCH (5,000) events.")


class BusinessEventsAcceptedSerializer(serializers.Serializer):
    accepted = serializers.IntegerField(help_text="Events stored.")


class BusinessEventErrorSerializer(serializers.Serializer):
    index = serializers.IntegerField(help_text="0-based position of the event in `events`.")
    field = serializers.CharField(help_text="The offending field.")
    reason = serializers.CharField()


class BusinessEventsRefusedSerializer(serializers.Serializer):
    detail = serializers.CharField(required=False, help_text="What is wrong with the batch as a whole.")
    errors = BusinessEventErrorSerializer(many=True, required=False, help_text="Every bad field (first 100).")
    error_count = serializers.IntegerField(required=False)
