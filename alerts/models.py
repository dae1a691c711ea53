"""Alert rules, alert history, inbound integrations, silences (suppression rules)."""

import uuid

from django.conf import settings
from django.contrib.postgres.functions import RandomUUID
from django.db import models
from django.db.models import JSONField, Q, Value
from django.db.models.functions import Now

from wedsync_ops.choices import AlertPriority, AlertSeverity, AlertType
from wedsync_ops.db import EnumField
from wedsync_ops.tenancy.models import Organization


def _uuid_pk():
    return models.UUIDField(primary_key=True, default=uuid.uuid4, db_default=RandomUUID(), editable=False)


class AlertRule(models.Model):
    """An alert rule. Table ``alert_configurations`` (view ``apm_alerts``).

    Types: ``threshold`` (``aggregation`` of ``metric_name`` over
    ``window_minutes`` compared with ``threshold``); ``anomaly`` (the
    window's average against the same hour of the past ``baseline_weeks``
    weeks: fires beyond ``threshold`` standard deviations); ``heartbeat``
    (no data for ``window_minutes`` minutes from a series seen in the past
    day); ``composite`` (``composite_operator`` of the open alerts of
    ``composite_rule_ids``); ``pattern_match`` (error reports of the
    organization whose message matches ``pattern``, case-insensitive, counted
    over the window: fires at ``threshold`` matches or more). ``for_seconds`` (default 60): a breach must
    last that long before it fires (``wedding_day_for_seconds`` on wedding days, default half: 30 s);
    ``min_samples`` (default 5): threshold and anomaly rules need that many points in the window, so a
    single sample never opens a p0.

    ``organization`` NULL means platform-wide: evaluated for every
    organization, editable by staff only. ``threshold`` and
    ``wedding_day_threshold`` are in the metric's unit (ms for latencies).
    """

    # WS-259's alert_type_enum (wedsync_ops.choices.AlertType), the column's type since alerts 0020.
    AlertType = AlertType

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
        Organization,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="alert_rules",
        help_text="Empty: a platform-wide rule, evaluated for every organization",
    )
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    alert_type = EnumField(
        enum_type="alert_type_enum", choices=AlertType.choices, default=AlertType.THRESHOLD, max_length=20
    )
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
    for_seconds = models.PositiveIntegerField(
        default=60,
        db_default=60,
        help_text="How long (s) the breach must last before it fires (Prometheus' 'for'); 0: at once",
    )
    wedding_day_for_seconds = models.PositiveIntegerField(
        null=True, blank=True, help_text="'for' on wedding days (s); empty: half of for_seconds (30 s by default)"
    )
    min_samples = models.PositiveIntegerField(
        default=5,
        db_default=5,
        help_text="Threshold and anomaly rules: fewest metric points in the window before it can fire "
        "(a single point never fires)",
    )
    baseline_weeks = models.PositiveSmallIntegerField(
        default=4,
        db_default=4,
        help_text="Anomaly: how many past weeks' same hour make the baseline (at least 2 with data)",
    )
    composite_operator = models.CharField(
        max_length=3,
        choices=[("and", "AND"), ("or", "OR")],
        default="and",
        db_default="and",
        help_text="Composite: AND or OR",
    )
    pattern = models.CharField(
        max_length=500,
        blank=True,
        default="",
        db_default="",
        help_text="pattern_match: a PostgreSQL regular expression (case-insensitive) over error messages",
    )
    composite_rule_ids = models.JSONField(
        default=list,
        db_default=Value([], JSONField()),
        blank=True,
        help_text="Composite: ids of the rules combined (their open alerts)",
    )
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


class AlertRulePending(models.Model):
    """A breach waiting out its rule's for-duration. Table ``alert_rule_pending``.

    One row per (organization, rule, fingerprint) while the breach lasts;
    deleted when it fires or clears (``alerts.evaluation.rules_evaluate``).
    """

    id = models.BigAutoField(primary_key=True)
    # No index of its own: alert_rule_pending_once leads with organization_id.
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+", db_index=False)
    rule = models.ForeignKey(AlertRule, on_delete=models.CASCADE, related_name="pending")
    fingerprint = models.CharField(max_length=64)
    pending_since = models.DateTimeField()

    class Meta:
        db_table = "alert_rule_pending"
        constraints = [
            models.UniqueConstraint(fields=["organization", "rule", "fingerprint"], name="alert_rule_pending_once")
        ]

    def __str__(self):
        return f"{self.rule_id} pending since {self.pending_since:%Y-%m-%d %H:%M:%S}"


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
    config = models.JSONField(
        default=dict,
        db_default=Value({}, JSONField()),
        blank=True,
        help_text="Generic webhook only: the field mapping (alerts.integrations.webhook.DEFAULT_MAPPING)",
    )
    rate_limit_alerts = models.PositiveIntegerField(
        default=0,
        db_default=0,
        help_text="Alerts per INTEGRATION_RATE_LIMIT_WINDOW_S inline, beyond which payloads are parked and ingested"
        " in order by a worker; 0: INTEGRATION_RATE_LIMIT_ALERTS (alerts.conf)",
    )
    created_at = models.DateTimeField(db_default=Now(), editable=False)
    last_received_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        db_table = "alert_integrations"

    def __str__(self):
        return f"{self.name} ({self.kind})"


class IntegrationBacklog(models.Model):
    """A payload parked because its integration was over its rate limit. Table ``integration_backlog``.

    Written by ``alerts.integrations.backlog.integration_payload_park`` and
    consumed in ``id`` order by ``integration_backlog_drain`` (one integration at
    a time, so a resolution never overtakes its firing). ``body``: the request
    body exactly as received and validated; ``received_at``: the time the post
    arrived (the ``now`` it is ingested with); ``alerts``: how many it carries.
    """

    id = models.BigAutoField(primary_key=True)
    # No index of its own: integration_backlog_order leads with integration_id.
    integration = models.ForeignKey(AlertIntegration, on_delete=models.CASCADE, related_name="+", db_index=False)
    organization = models.ForeignKey(Organization, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    body = models.BinaryField()
    alerts = models.PositiveIntegerField()
    received_at = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=0, db_default=0)
    last_error = models.TextField(blank=True, default="", db_default="")

    class Meta:
        db_table = "integration_backlog"
        indexes = [models.Index(fields=["integration", "id"], name="integration_backlog_order")]

    def __str__(self):
        return f"parked payload {self.pk} ({self.alerts} alerts)"


class SuppressionRule(models.Model):
    """A silence, a recurring maintenance window or an inhibition rule. Table ``suppression_rules``.

    Matchers are Alertmanager's: a list of ``{"name": label, "op": "=" | "!=" |
    "=~" | "!~", "value": str}``; regexes are anchored (``^(?:value)$``) and a
    missing label matches as ``""`` (``alerts.suppression``).

    - ``silence``: ``matchers`` over ``[starts_at, ends_at)``; pending before,
      active within, expired after.
    - ``maintenance``: ``matchers`` every ``weekdays`` (ISO 1 = Monday .. 7)
      from ``start_time`` to ``end_time`` local to ``timezone``; an end at or
      before the start runs past midnight into the next day (the weekday is
      the start's). ``starts_at``/``ends_at`` optionally bound the series.
    - ``inhibition``: an open, not suppressed alert matching
      ``source_matchers`` mutes alerts matching ``matchers`` of the same
      organization whose ``equal_labels`` have the same values.

    ``organization`` NULL: platform-wide (every organization's alerts and
    unassigned ones); otherwise only that organization's alerts. A
    suppressed alert is recorded (status ``suppressed``) but not notified.
    """

    class Kind(models.TextChoices):
        SILENCE = "silence"
        MAINTENANCE = "maintenance"
        INHIBITION = "inhibition"

    class State(models.TextChoices):
        PENDING = "pending"
        ACTIVE = "active"
        EXPIRED = "expired"

    id = _uuid_pk()
    organization = models.ForeignKey(
        Organization,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="suppression_rules",
        help_text="Empty: platform-wide (every organization's alerts)",
    )
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.SILENCE)
    name = models.CharField(max_length=200, blank=True)
    matchers = models.JSONField(
        default=list,
        blank=True,
        help_text='Target matchers: [{"name": "alertname", "op": "=", "value": "HighLatency"}, …]; '
        'ops =, !=, =~, !~ (regexes anchored); a missing label is ""',
    )
    source_matchers = models.JSONField(default=list, blank=True, help_text="Inhibition only: the inhibiting alerts")
    equal_labels = models.JSONField(default=list, blank=True, help_text='Inhibition only: e.g. ["service"]')
    starts_at = models.DateTimeField(null=True, blank=True)
    ends_at = models.DateTimeField(null=True, blank=True)
    weekdays = models.JSONField(default=list, blank=True, help_text="Maintenance: ISO weekdays, 1 = Monday … 7")
    start_time = models.TimeField(null=True, blank=True, help_text="Maintenance: local start")
    end_time = models.TimeField(null=True, blank=True, help_text="Maintenance: local end (<= start: next day)")
    timezone = models.CharField(max_length=64, default="UTC", help_text="Maintenance: IANA time zone")
    comment = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_by_name = models.CharField(
        max_length=200,
        blank=True,
        default="",
        db_default="",
        help_text="Who created it when not a portal user (Alertmanager API v2's createdBy, e.g. amtool's $USER)",
    )
    enabled = models.BooleanField(default=True)
    created_at = models.DateTimeField(db_default=Now(), editable=False)
    updated_at = models.DateTimeField(db_default=Now(), null=True, blank=True)

    class Meta:
        db_table = "suppression_rules"
        ordering = ["-created_at"]

    def __str__(self):
        return self.name or f"{self.kind} {str(self.id)[:8]}"

    @property
    def author(self) -> str:
        """Who created it: the portal user's name, Alertmanager's ``createdBy``, or ``"unknown"``."""
        if self.created_by_id is not None and self.created_by is not None:
            return self.created_by.get_username()
        return self.created_by_name or "unknown"


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
        APM = "apm"
        PORTAL = "portal"
        HEARTBEAT = "heartbeat"
        BUSINESS = "business"

    id = _uuid_pk()
    # No index of its own: alert_history_fp_start leads with organization_id.
    organization = models.ForeignKey(
        Organization, null=True, blank=True, on_delete=models.CASCADE, related_name="alerts", db_index=False
    )
    rule = models.ForeignKey(AlertRule, null=True, blank=True, on_delete=models.SET_NULL, related_name="alerts")
    integration = models.ForeignKey(
        AlertIntegration, null=True, blank=True, on_delete=models.SET_NULL, related_name="alerts"
    )
    # No index of its own: alert_history_incident leads with incident_id.
    incident = models.ForeignKey(
        "incidents.Incident",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="source_alerts",
        db_index=False,
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
    suppressed_by = models.ForeignKey(
        SuppressionRule, null=True, blank=True, on_delete=models.SET_NULL, related_name="suppressed_alerts"
    )
    suppression_reason = models.CharField(
        max_length=300, blank=True, db_default="", help_text="Why no notification went out"
    )
    flapping = models.BooleanField(
        default=False,
        db_default=False,
        help_text="Opened too often lately (alerts.conf FLAP_*): notifications held until it stays open",
    )
    escalation_clock_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When the portal started waiting for an acknowledgement: first seen, or released from a silence",
    )
    resolved_in_portal = models.BooleanField(
        default=False,
        db_default=False,
        help_text="Resolved by a person in the portal, not by its source: a redelivery of the same firing "
        "(same or earlier startsAt) does not reopen it",
    )
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
            models.Index(fields=["incident", "status"], name="alert_history_incident"),
            models.Index(
                fields=["organization", "group_key"],
                name="alert_history_open_group",
                condition=Q(status__in=["firing", "acknowledged", "escalated", "suppressed"]),
            ),
        ]
        verbose_name_plural = "alert history"

    def __str__(self):
        return f"[{self.status}] {self.title}"

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN_STATUSES
