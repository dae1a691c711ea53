"""Alert rules, alert history, inbound integrations, notification channels and the outbox."""

import uuid

from django.conf import settings
from django.contrib.postgres.functions import RandomUUID
from django.db import models
from django.db.models import Q
from django.db.models.functions import Now

from wedsync_ops.choices import AlertPriority, AlertSeverity, NotificationChannelKind
from wedsync_ops.db import EnumField
from wedsync_ops.tenancy.models import Organization


def _uuid_pk():
    return models.UUIDField(primary_key=True, default=uuid.uuid4, db_default=RandomUUID(), editable=False)


class AlertRule(models.Model):
    """A threshold rule over metric aggregations. Table ``alert_configurations`` (view ``apm_alerts``).

    ``organization`` NULL means platform-wide: evaluated for every
    organization, editable by staff only. ``threshold`` and
    ``wedding_day_threshold`` are in the metric's unit (ms for latencies).
    """

    class AlertType(models.TextChoices):
        THRESHOLD = "threshold"
        ANOMALY = "anomaly"
        HEARTBEAT = "heartbeat"
        PATTERN_MATCH = "pattern_match"
        COMPOSITE = "composite"

    class Aggregation(models.TextChoices):
        AVG = "avg"
        P50 = "p50"
        P95 = "p95"
        P99 = "p99"
        MAX = "max"
        MIN = "min"
        COUNT = "count"
        SUM = "sum"

    class Comparison(models.TextChoices):
        ABOVE = "above"
        BELOW = "below"

    id = _uuid_pk()
    organization = models.ForeignKey(
        Organization, null=True, blank=True, on_delete=models.CASCADE, related_name="alert_rules",
        help_text="Empty: a platform-wide rule, evaluated for every organization",
    )
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    alert_type = models.CharField(max_length=20, choices=AlertType.choices, default=AlertType.THRESHOLD)
    service = models.CharField(max_length=100, blank=True, help_text="Empty: every service")
    metric_name = models.CharField(max_length=200)
    aggregation = models.CharField(max_length=10, choices=Aggregation.choices, default=Aggregation.P95)
    comparison = models.CharField(max_length=10, choices=Comparison.choices, default=Comparison.ABOVE)
    threshold = models.FloatField()
    wedding_day_threshold = models.FloatField(null=True, blank=True)
    wedding_season_adjustment = models.BooleanField(
        default=False, help_text="On wedding days without a wedding_day_threshold: 20% stricter from May to October"
    )
    window_minutes = models.PositiveIntegerField(default=5)
    severity = EnumField(enum_type="alert_severity", choices=AlertSeverity.choices, default=AlertSeverity.WARNING)
    priority = EnumField(enum_type="alert_priority", choices=AlertPriority.choices, default=AlertPriority.MEDIUM)
    labels = models.JSONField(default=dict, blank=True)
    runbook_url = models.URLField(blank=True)
    enabled = models.BooleanField(default=True)
    created_at = models.DateTimeField(db_default=Now(), editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "alert_configurations"
        ordering = ["name"]

    def __str__(self):
        return self.name


class AlertIntegration(models.Model):
    """An inbound webhook integration (Alertmanager …). Table ``alert_integrations``.

    The bearer token is stored as its SHA-256 only and printed once by
    ``manage.py create_integration``. ``organization`` NULL: platform-wide,
    the organization comes from each alert's ``organization`` label.
    """

    class Kind(models.TextChoices):
        ALERTMANAGER = "alertmanager"
        GRAFANA = "grafana"
        PAGERDUTY = "pagerduty"
        WEBHOOK = "webhook"

    id = _uuid_pk()
    organization = models.ForeignKey(Organization, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    name = models.CharField(max_length=100)
    token_prefix = models.CharField(max_length=12, editable=False)
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    enabled = models.BooleanField(default=True)
    created_at = models.DateTimeField(db_default=Now(), editable=False)
    last_received_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        db_table = "alert_integrations"

    def __str__(self):
        return f"{self.name} ({self.kind})"


class AlertHistory(models.Model):
    """One alert, from first firing to resolution. Table ``alert_history``.

    At most one open alert (firing, acknowledged, escalated or suppressed)
    per (organization, fingerprint), NULL organizations included; firing
    again after resolve opens a new row. ``fingerprint`` is Alertmanager's:
    FNV-1a 64 over the sorted labels (``alerts.fingerprint``).
    ``organization`` NULL: unassigned (unknown ``organization`` label), shown
    to staff only.
    """

    class Status(models.TextChoices):
        FIRING = "firing"
        ACKNOWLEDGED = "acknowledged"
        ESCALATED = "escalated"
        SUPPRESSED = "suppressed"
        RESOLVED = "resolved"

    OPEN_STATUSES = ("firing", "acknowledged", "escalated", "suppressed")

    class Source(models.TextChoices):
        RULE = "rule"
        ALERTMANAGER = "alertmanager"
        GRAFANA = "grafana"
        PAGERDUTY = "pagerduty"
        WEBHOOK = "webhook"
        DBMONITOR = "dbmonitor"

    id = _uuid_pk()
    organization = models.ForeignKey(Organization, null=True, blank=True, on_delete=models.CASCADE, related_name="alerts")
    rule = models.ForeignKey(AlertRule, null=True, blank=True, on_delete=models.SET_NULL, related_name="alerts")
    integration = models.ForeignKey(AlertIntegration, null=True, blank=True, on_delete=models.SET_NULL, related_name="alerts")
    incident = models.ForeignKey(
        "incidents.Incident", null=True, blank=True, on_delete=models.SET_NULL, related_name="source_alerts"
    )
    source = models.CharField(max_length=20, choices=Source.choices)
    fingerprint = models.CharField(max_length=64)
    group_key = models.CharField(max_length=500, blank=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.FIRING)
    severity = EnumField(enum_type="alert_severity", choices=AlertSeverity.choices, default=AlertSeverity.WARNING)
    priority = EnumField(enum_type="alert_priority", choices=AlertPriority.choices, default=AlertPriority.MEDIUM)
    title = models.CharField(max_length=500)
    description = models.TextField(blank=True)
    labels = models.JSONField(default=dict, blank=True)
    annotations = models.JSONField(default=dict, blank=True)
    value = models.FloatField(null=True, blank=True)
    threshold = models.FloatField(null=True, blank=True, help_text="The threshold that applied")
    threshold_reason = models.CharField(max_length=200, blank=True, help_text="Why that threshold applied")
    generator_url = models.URLField(max_length=1000, blank=True)
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField(null=True, blank=True)
    last_received_at = models.DateTimeField(db_default=Now())
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    resolved_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(db_default=Now(), editable=False)

    class Meta:
        db_table = "alert_history"
        ordering = ["-starts_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "fingerprint"],
                condition=Q(status__in=["firing", "acknowledged", "escalated", "suppressed"]),
                nulls_distinct=False,
                name="alert_history_one_open_per_fingerprint",
            )
        ]
        indexes = [
            models.Index(fields=["organization", "fingerprint", "starts_at"], name="alert_history_fp_start"),
            models.Index(fields=["status", "starts_at"], name="alert_history_status"),
        ]
        verbose_name_plural = "alert history"

    def __str__(self):
        return f"[{self.status}] {self.title}"

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN_STATUSES


class NotificationChannel(models.Model):
    """Where notifications go. Table ``notification_channels``.

    ``config`` by kind: webhook ``{"url": …}``. ``organization`` NULL: a
    platform channel (the ops team's), which receives every organization's
    notifications. A permanent delivery error disables the channel and
    records why in ``disabled_reason``.
    """

    id = _uuid_pk()
    organization = models.ForeignKey(
        Organization, null=True, blank=True, on_delete=models.CASCADE, related_name="channels"
    )
    kind = EnumField(enum_type="notification_channel", choices=NotificationChannelKind.choices)
    name = models.CharField(max_length=100)
    config = models.JSONField(default=dict, blank=True)
    enabled = models.BooleanField(default=True)
    disabled_reason = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(db_default=Now(), editable=False)

    class Meta:
        db_table = "notification_channels"
        ordering = ["name"]

    def __str__(self):
        return f"{self.name} ({self.kind})"


class NotificationDelivery(models.Model):
    """The outbox: one notification of one event to one channel. Table ``notification_deliveries``.

    Written in the transaction that changes the alert or incident, so a
    notification exists if and only if the change committed. Exactly one row
    per (channel, event, alert, incident). Delivered by
    ``alerts.notifications.services.delivery_attempt`` with exponential
    back-off. ``organization`` is the channel's (NULL for platform channels:
    the ops team's deliveries are staff-only).
    """

    class Event(models.TextChoices):
        ALERT_FIRING = "alert.firing"
        ALERT_RESOLVED = "alert.resolved"
        INCIDENT_OPENED = "incident.opened"

    class Status(models.TextChoices):
        PENDING = "pending"
        SENDING = "sending"
        DELIVERED = "delivered"
        FAILED = "failed"

    id = _uuid_pk()
    organization = models.ForeignKey(Organization, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    channel = models.ForeignKey(NotificationChannel, on_delete=models.CASCADE, related_name="deliveries")
    event = models.CharField(max_length=30, choices=Event.choices)
    alert = models.ForeignKey(AlertHistory, null=True, blank=True, on_delete=models.CASCADE, related_name="deliveries")
    incident = models.ForeignKey(
        "incidents.Incident", null=True, blank=True, on_delete=models.CASCADE, related_name="deliveries"
    )
    payload = models.JSONField()
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(db_default=Now())
    claimed_until = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(db_default=Now(), editable=False)

    class Meta:
        db_table = "notification_deliveries"
        ordering = ["-created_at"]
        verbose_name_plural = "notification deliveries"
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "event", "alert", "incident"],
                nulls_distinct=False,
                name="notification_delivery_once",
            )
        ]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="notification_delivery_due")]

    def __str__(self):
        return f"{self.event} → {self.channel_id} ({self.status})"


class DeliveryAttempt(models.Model):
    """One HTTP attempt of a delivery: outcome, status code, error and duration (ms)."""

    id = models.BigAutoField(primary_key=True)
    organization = models.ForeignKey(Organization, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    delivery = models.ForeignKey(NotificationDelivery, on_delete=models.CASCADE, related_name="attempt_log")
    attempted_at = models.DateTimeField(db_default=Now())
    ok = models.BooleanField()
    status_code = models.PositiveIntegerField(null=True, blank=True)
    error = models.TextField(blank=True)
    duration_ms = models.FloatField()

    class Meta:
        db_table = "notification_delivery_attempts"
        ordering = ["-attempted_at"]

    def __str__(self):
        return f"{'ok' if self.ok else 'failed'} {self.status_code or ''} in {self.duration_ms:.0f} ms"
