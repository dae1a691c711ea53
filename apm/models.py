"""APM data: raw metric points and their per-bucket aggregations."""

from django.db import models
from django.db.models.functions import Now

from wedsync_ops.tenancy.models import Organization


class ApmMetric(models.Model):
    """One metric point. Table ``apm_metrics``, range-partitioned by ``recorded_at`` (daily).

    The table is created by raw SQL (``apm/sql/0002_apm_metrics.sql``): its
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

    class Meta:
        managed = False
        db_table = "apm_metrics"
        ordering = ["-recorded_at"]

    def __str__(self):
        return f"{self.service}/{self.metric_name}={self.value} @ {self.recorded_at:%Y-%m-%d %H:%M:%S}"


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
        indexes = [models.Index(fields=["bucket_seconds", "bucket_start"], name="idx_apm_aggregations_time")]

    def __str__(self):
        return f"{self.service}/{self.metric_name} {self.bucket_start:%H:%M} n={self.count}"
