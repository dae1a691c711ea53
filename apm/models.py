"""APM data: raw metric points and their per-bucket aggregations."""

import uuid

from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models.functions import Now

from wedsync_ops.choices import ApmProvider, ErrorSeverityType, ServiceStatus
from wedsync_ops.db import EnumField
from wedsync_ops.tenancy.models import Organization


class ApmMetric(models.Model):
    """One metric point. Table ``apm_metrics``, range-partitioned by ``recorded_at`` (daily).

    The table is created by raw SQL (``apm/sql/tables/apm_metrics.v1.sql``): its
    real primary key is ``(recorded_at, id)`` as partitioning requires;
    Django addresses rows by ``id`` alone, which is unique by identity.
    Rows are written with ``COPY`` into a staging table and one ``INSERT …
    SELECT`` (``apm.services.metrics_copy``: COPY FROM refuses RLS tables).
    ``value`` is in ``unit`` (ms for latencies, by convention).
    """

    id = models.BigIntegerField(primary_key=True)
    organization = models.ForeignKey(Organization, on_delete=models.DO_NOTHING, db_constraint=False)
    service = models.CharField(max_length=100)
    metric_name = models.CharField(max_length=200)
    value = models.FloatField()
    unit = models.CharField(max_length=20, blank=True)
    tags = models.JSONField(default=dict, blank=True)
    recorded_at = models.DateTimeField()
    ingested_at = models.DateTimeField()
    # {"is_wedding_day": bool, "is_weekend": bool, "wedding_id": uuid str | None} of the organization's
    # local date at recorded_at, set at ingest (SQL wedding_context(org, day)).
    wedding_context = models.JSONField(null=True, blank=True)

    class Meta:
        managed = False
        db_table = "apm_metrics"
        ordering = ["-recorded_at"]

    def __str__(self):
        return f"{self.service}/{self.metric_name}={self.value} @ {self.recorded_at:%Y-%m-%d %H:%M:%S}"


class ApmMetricHistogram(models.Model):
    """One histogram point (OTLP Histogram / ExponentialHistogram). Table ``apm_metric_histograms``.

    Created by raw SQL (``apm/sql/tables/apm_metric_histograms.v1.sql``),
    written by ``apm.histograms.histograms_copy``. Delta form: ``count``,
    ``sum`` and ``counts`` are the observations of this point's interval
    (a cumulative point's difference to the previous point of its series;
    the values as sent are in ``cumulative_*``). ``counts[i]`` observations
    lie in ``(bounds[i], bounds[i+1]]``, in ``unit``; the open ends of an
    explicit-bucket histogram are ±Infinity. ``aggregate_metrics`` turns
    these into the p50/p95/p99 of ``apm_metric_aggregations``.
    """

    id = models.BigIntegerField(primary_key=True)
    organization = models.ForeignKey(Organization, on_delete=models.DO_NOTHING, db_constraint=False)
    service = models.CharField(max_length=100)
    metric_name = models.CharField(max_length=200)
    unit = models.CharField(max_length=20, blank=True)
    tags = models.JSONField(default=dict, blank=True)
    recorded_at = models.DateTimeField()
    start_at = models.DateTimeField(null=True, blank=True)
    temporality = models.CharField(max_length=10)
    count = models.BigIntegerField()
    sum = models.FloatField()
    min = models.FloatField(null=True, blank=True)
    max = models.FloatField(null=True, blank=True)
    bounds = ArrayField(models.FloatField())
    counts = ArrayField(models.BigIntegerField())
    cumulative_count = models.BigIntegerField(null=True, blank=True)
    cumulative_sum = models.FloatField(null=True, blank=True)
    cumulative_counts = ArrayField(models.BigIntegerField(), null=True, blank=True)
    wedding_context = models.JSONField(null=True, blank=True)
    ingested_at = models.DateTimeField()

    class Meta:
        managed = False
        db_table = "apm_metric_histograms"
        ordering = ["-recorded_at"]

    def __str__(self):
        return f"{self.service}/{self.metric_name} n={self.count} @ {self.recorded_at:%Y-%m-%d %H:%M:%S}"


class ApmMetricAggregation(models.Model):
    """Per-bucket statistics of one (organization, service, metric). Table ``apm_metric_aggregations``.

    Written only by the SQL function ``aggregate_metrics(interval)``.
    ``bucket_seconds`` is the bucket width in seconds (60 for 1-minute
    buckets); percentiles are ``percentile_cont`` (linear interpolation).
    """

    id = models.BigAutoField(primary_key=True)
    # No index of its own: idx_apm_aggregations_bucket_key leads with organization_id.
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+", db_index=False)
    service = models.CharField(max_length=100)
    metric_name = models.CharField(max_length=200)
    bucket_seconds = models.PositiveIntegerField(default=60)
    bucket_start = models.DateTimeField()
    count = models.BigIntegerField()
    sum = models.FloatField()
    min = models.FloatField()
    max = models.FloatField()
    avg = models.FloatField()
    p50 = models.FloatField()
    p95 = models.FloatField()
    p99 = models.FloatField()
    updated_at = models.DateTimeField(db_default=Now())

    class Meta:
        db_table = "apm_metric_aggregations"
        ordering = ["-bucket_start"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "service", "metric_name", "bucket_seconds", "bucket_start"],
                name="idx_apm_aggregations_bucket_key",
            )
        ]
        indexes = [
            models.Index(fields=["bucket_seconds", "bucket_start"], name="idx_apm_aggregations_time"),
            # Newest first across widths: the admin's changelist order, read by a backward index scan.
            models.Index(fields=["bucket_start", "id"], name="idx_apm_aggregations_recent"),
        ]
        # Also idx_apm_aggregations_latency_5m, in raw SQL (migration 0025): a partial index of the
        # 5-minute p95s of latency metrics whose predicate is written as latency_p95_by_five_minutes() writes it.

    def __str__(self):
        return f"{self.service}/{self.metric_name} {self.bucket_start:%H:%M} n={self.count}"


class ErrorLevel(models.TextChoices):
    """How bad a reported error is; ``critical`` on a wedding day opens a p0 incident."""

    INFO = "info"
    WARNING = "warning"
    ERROR = "error"
    CRITICAL = "critical"


# Severity order of ErrorLevel, lowest first (a pattern keeps the worst level seen).
ERROR_LEVEL_RANK = {ErrorLevel.INFO: 0, ErrorLevel.WARNING: 1, ErrorLevel.ERROR: 2, ErrorLevel.CRITICAL: 3}


class ErrorPattern(models.Model):
    """Error reports of one organization grouped by fingerprint. Table ``error_patterns``.

    ``fingerprint`` is the SHA-256 hex of (error type, normalized message,
    top frame) (``apm.errors.fingerprint``). ``occurrence_count`` counts the
    stored reports; ``first_seen``/``last_seen`` are their earliest and
    latest ``occurred_at``. A resolved pattern that recurs after
    ``resolved_at`` becomes unresolved again, with ``regression_count`` + 1
    and ``regressed_at``. Written set-based by ``apm.services.errors_ingest``.
    """

    class Status(models.TextChoices):
        UNRESOLVED = "unresolved"
        RESOLVED = "resolved"
        IGNORED = "ignored"

    id = models.BigAutoField(primary_key=True)
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+", db_index=False)
    fingerprint = models.CharField(max_length=64)
    service = models.CharField(max_length=100)
    error_type = models.CharField(max_length=200)
    normalized_message = models.TextField()
    top_frame = models.CharField(max_length=500, blank=True)
    level = models.CharField(max_length=10, choices=ErrorLevel.choices, default=ErrorLevel.ERROR)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.UNRESOLVED)
    first_seen = models.DateTimeField()
    last_seen = models.DateTimeField()
    occurrence_count = models.BigIntegerField(default=0)
    resolved_at = models.DateTimeField(null=True, blank=True)
    regressed_at = models.DateTimeField(null=True, blank=True)
    regression_count = models.PositiveIntegerField(default=0)
    incident = models.ForeignKey(
        "incidents.Incident", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    public_id = models.UUIDField(
        default=uuid.uuid4,
        editable=False,
        unique=True,
        help_text="The id create_incident_from_critical_error(uuid) takes",
    )

    class Meta:
        db_table = "error_patterns"
        ordering = ["-last_seen"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "fingerprint"], name="error_patterns_org_fingerprint"),
        ]
        indexes = [models.Index(fields=["organization", "status", "last_seen"], name="error_patterns_org_status")]

    def __str__(self):
        return f"{self.error_type}: {self.normalized_message[:80]}"


class ErrorReport(models.Model):
    """One reported error occurrence. Table ``error_reports``; written with COPY by ``errors_ingest``.

    ``message`` is as sent; ``stack_trace`` the trace text (or the frames
    rendered one per line); ``occurred_at`` the sender's time (UTC).
    """

    id = models.BigAutoField(primary_key=True)
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+", db_index=False)
    pattern = models.ForeignKey(ErrorPattern, on_delete=models.CASCADE, related_name="reports")
    service = models.CharField(max_length=100)
    error_type = models.CharField(max_length=200)
    message = models.TextField()
    stack_trace = models.TextField(blank=True)
    level = models.CharField(max_length=10, choices=ErrorLevel.choices, default=ErrorLevel.ERROR)
    environment = models.CharField(max_length=50, blank=True)
    release = models.CharField(max_length=100, blank=True)
    url = models.CharField(max_length=2000, blank=True)
    tags = models.JSONField(default=dict, blank=True)
    occurred_at = models.DateTimeField()
    received_at = models.DateTimeField(db_default=Now())
    # As ApmMetric.wedding_context, of the organization's local date at occurred_at (set at ingest).
    wedding_context = models.JSONField(null=True, blank=True)
    # WS-259's names (issue 18 §1), kept in step with the columns above by the trigger
    # error_reports_spec_columns (apm/sql/functions/error_reports_spec_columns.v1.sql): never set them.
    error_message = models.TextField(null=True, editable=False)
    severity = EnumField(
        enum_type="error_severity_type",
        choices=ErrorSeverityType.choices,
        null=True,
        editable=False,
        help_text="From the level; wedding_emergency: critical on a wedding day",
    )
    created_at = models.DateTimeField(null=True, editable=False, help_text="= received_at")
    is_wedding_day = models.BooleanField(null=True, editable=False)
    public_id = models.UUIDField(
        default=uuid.uuid4, editable=False, help_text="The id create_incident_from_critical_error(uuid) takes"
    )

    class Meta:
        db_table = "error_reports"
        ordering = ["-occurred_at"]
        indexes = [models.Index(fields=["organization", "occurred_at"], name="error_reports_org_time")]

    def __str__(self):
        return f"{self.error_type}: {self.message[:80]}"


class ErrorSuppressionRule(models.Model):
    """Drops matching error reports at ingest (counted as suppressed, not stored). Table ``error_suppression_rules``.

    A report matches when every non-empty criterion matches: ``service``
    and ``error_type`` exactly, ``message_contains`` as a case-insensitive
    substring. ``organization`` NULL: applies to every organization (staff
    only). Active while ``enabled`` and before ``expires_at`` (if set).
    """

    id = models.BigAutoField(primary_key=True)
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    name = models.CharField(max_length=200)
    service = models.CharField(max_length=100, blank=True)
    error_type = models.CharField(max_length=200, blank=True)
    message_contains = models.CharField(max_length=500, blank=True)
    enabled = models.BooleanField(default=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    suppressed_count = models.BigIntegerField(default=0)
    created_at = models.DateTimeField(db_default=Now())

    class Meta:
        db_table = "error_suppression_rules"
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(service="", error_type="", message_contains=""),
                name="error_suppression_rules_not_match_all",
            )
        ]

    def __str__(self):
        return self.name


class ApmConfiguration(models.Model):
    """A monitoring provider polled for metrics. Table ``apm_configurations``.

    ``query`` is provider-specific (PromQL for prometheus/grafana, a metric
    query for datadog, NRQL for newrelic, a check id for pingdom, monitor
    ids for uptime_robot, unused for custom); results are stored as metrics
    of ``organization`` under ``service``. ``credentials_encrypted`` is a
    Fernet token (``apm.crypto``) and is never shown. The poller records
    ``last_polled_at``, ``last_success_at``, ``last_error`` and
    ``consecutive_failures``; an alert fires after
    ``alert_after_failures`` consecutive failures.
    """

    id = models.BigAutoField(primary_key=True)
    # No index of its own: idx_apm_configurations_org leads with organization_id.
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+", db_index=False)
    name = models.CharField(max_length=200)
    provider = EnumField(enum_type="apm_provider", choices=ApmProvider.choices)
    base_url = models.URLField(max_length=500)
    query = models.TextField(blank=True)
    service = models.CharField(max_length=100)
    credentials_encrypted = models.TextField(blank=True, default="", editable=False)
    enabled = models.BooleanField(default=True)
    poll_interval_seconds = models.PositiveIntegerField(default=60)
    timeout_seconds = models.FloatField(default=10.0)
    alert_after_failures = models.PositiveIntegerField(default=3)
    last_polled_at = models.DateTimeField(null=True, blank=True)
    last_success_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    consecutive_failures = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(db_default=Now())

    class Meta:
        db_table = "apm_configurations"
        ordering = ["name"]
        indexes = [models.Index(fields=["organization", "enabled"], name="idx_apm_configurations_org")]

    def __str__(self):
        return f"{self.name} ({self.provider})"


class ServiceHealthCheck(models.Model):
    """An HTTP check of a third-party or platform endpoint, run by beat. Table ``service_health_checks``.

    ``organization`` NULL: a platform-wide check (staff only). A run is a
    success when the endpoint answers ``expected_status`` within
    ``timeout_seconds``. ``status`` (service_status): ``healthy`` after a
    success, ``warning`` after fewer than ``failure_threshold`` consecutive
    failures, ``critical`` from then on; ``maintenance`` is set by people
    and pauses the check; ``unknown`` before the first run. Every run is a
    ``ServiceHealthResult`` (response-time history, uptime %); every status
    change a ``ServiceHealthTransition``.
    """

    class Category(models.TextChoices):
        PAYMENTS = "payments"
        EMAIL = "email"
        STORAGE = "storage"
        PLATFORM = "platform"
        OTHER = "other"

    id = models.BigAutoField(primary_key=True)
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    name = models.CharField(max_length=200)
    category = models.CharField(max_length=20, choices=Category.choices, default=Category.OTHER)
    url = models.URLField(max_length=500)
    method = models.CharField(max_length=4, choices=[("GET", "GET"), ("HEAD", "HEAD")], default="GET")
    expected_status = models.PositiveSmallIntegerField(default=200)
    timeout_seconds = models.FloatField(default=5.0)
    interval_seconds = models.PositiveIntegerField(default=60)
    failure_threshold = models.PositiveSmallIntegerField(default=3)
    enabled = models.BooleanField(default=True)
    status = EnumField(enum_type="service_status", choices=ServiceStatus.choices, default=ServiceStatus.UNKNOWN)
    status_changed_at = models.DateTimeField(null=True, blank=True)
    consecutive_failures = models.PositiveIntegerField(default=0)
    last_checked_at = models.DateTimeField(null=True, blank=True)
    last_response_ms = models.FloatField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(db_default=Now())

    class Meta:
        db_table = "service_health_checks"
        ordering = ["name"]

    def __str__(self):
        return f"{self.name} ({self.status})"


class ServiceHealthResult(models.Model):
    """One run of a health check. Table ``service_health_results``; ``response_ms`` in milliseconds."""

    id = models.BigAutoField(primary_key=True)
    health_check = models.ForeignKey(
        ServiceHealthCheck, on_delete=models.CASCADE, related_name="results", db_index=False, db_column="check_id"
    )
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, null=True, blank=True, related_name="+", db_index=False
    )
    checked_at = models.DateTimeField()
    ok = models.BooleanField()
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    response_ms = models.FloatField(null=True, blank=True)
    error = models.CharField(max_length=500, blank=True)

    class Meta:
        db_table = "service_health_results"
        ordering = ["-checked_at"]
        indexes = [models.Index(fields=["health_check", "checked_at"], name="service_health_results_check")]

    def __str__(self):
        return f"{'ok' if self.ok else 'failed'} @ {self.checked_at:%Y-%m-%d %H:%M:%S}"


class ServiceHealthTransition(models.Model):
    """A status change of a health check. Table ``service_health_transitions``."""

    id = models.BigAutoField(primary_key=True)
    health_check = models.ForeignKey(
        ServiceHealthCheck, on_delete=models.CASCADE, related_name="transitions", db_column="check_id"
    )
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, null=True, blank=True, related_name="+", db_index=False
    )
    from_status = EnumField(enum_type="service_status", choices=ServiceStatus.choices)
    to_status = EnumField(enum_type="service_status", choices=ServiceStatus.choices)
    at = models.DateTimeField()
    reason = models.CharField(max_length=500, blank=True)

    class Meta:
        db_table = "service_health_transitions"
        ordering = ["-at"]

    def __str__(self):
        return f"{self.from_status} → {self.to_status} @ {self.at:%Y-%m-%d %H:%M:%S}"


class ApmDashboard(models.Model):
    """A saved dashboard of an organization: a list of widgets. Table ``apm_dashboards``.

    ``widgets``: ``[{"title": str, "service": str, "metric": str,
    "aggregation": avg|p50|p95|p99|min|max|count|sum, "window": 1h|24h|7d,
    "chart": line|bar}]`` (validated by ``apm.services.dashboard_save``),
    drawn from ``apm_metric_aggregations``. Org admins and staff edit it.
    """

    id = models.BigAutoField(primary_key=True)
    # No index of its own: idx_apm_dashboards_org leads with organization_id.
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+", db_index=False)
    name = models.CharField(max_length=200)
    widgets = models.JSONField(default=list, blank=True)
    updated_by = models.ForeignKey(
        "auth.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+", db_index=False
    )
    updated_at = models.DateTimeField(db_default=Now())

    class Meta:
        db_table = "apm_dashboards"
        ordering = ["name"]
        indexes = [models.Index(fields=["organization", "name"], name="idx_apm_dashboards_org")]

    def __str__(self):
        return self.name


# --- WS-259 performance tables (issue 18 §2), written set-based by apm.performance -------------


# Defined in their own module by concern (this one stays under 600 lines); importable from here as before.

# Defined in their own module by concern (this one stays under 600 lines); importable from here as before.
from apm.performance_models import ApiPerformance, CoreWebVitals, ErrorCorrelation, UserJourneyPerformance  # noqa: E402, F401
