"""API shapes of the APM endpoints, for the OpenAPI schema only.

Ingest validates with plain Python (``apm.services.metrics_validate``): a
serializer per point would cost more than the COPY of 10,000 points.
"""

from rest_framework import serializers


class MetricPointSerializer(serializers.Serializer):
    """One metric point as sent to ``POST /api/v1/metrics/``."""

    service = serializers.CharField(max_length=100, help_text="The sending service, e.g. `checkout-api`.")
    name = serializers.CharField(max_length=200, help_text="Metric name, e.g. `http.request.duration`.")
    value = serializers.FloatField(help_text="A finite number, in `unit` (ms for latencies).")
    unit = serializers.CharField(max_length=20, required=False, help_text="e.g. `ms`, `count`, `bytes`.")
    timestamp = serializers.CharField(
        required=False,
        help_text="ISO-8601 with a UTC offset (`2026-06-13T12:00:00Z`) or epoch seconds; default: now. "
        "At most 90 days old, at most 5 minutes in the future.",
    )
    tags = serializers.DictField(
        child=serializers.CharField(max_length=200), required=False, help_text="At most 32 string tags."
    )


class MetricBatchSerializer(serializers.Serializer):
    """A batch: ``{"metrics": [...]}`` (a bare list of points is accepted too)."""

    metrics = MetricPointSerializer(many=True, help_text="1 to METRICS_MAX_BATCH (10,000) points.")


class MetricsAcceptedSerializer(serializers.Serializer):
    accepted = serializers.IntegerField(help_text="Points stored.")


class MetricErrorSerializer(serializers.Serializer):
    index = serializers.IntegerField(help_text="0-based position of the point in the batch.")
    field = serializers.CharField(allow_null=True, help_text="The offending field (null: the point itself).")
    reason = serializers.CharField()


class MetricsRefusedSerializer(serializers.Serializer):
    detail = serializers.CharField(required=False, help_text="What is wrong with the batch as a whole.")
    errors = MetricErrorSerializer(many=True, required=False, help_text="Every bad field (first 100).")
    error_count = serializers.IntegerField(required=False)
