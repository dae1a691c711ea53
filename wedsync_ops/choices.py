"""The PostgreSQL enum types of the SQL contract (docs/design/sql-contract.md) and their Django choices.

Each ``TextChoices`` here matches one ``CREATE TYPE … AS ENUM`` in
``wedsync_ops/tenancy/sql/types/<type>.v1.sql``; a test compares the two.
"""

from django.db import models


class AlertSeverity(models.TextChoices):
    INFO = "info"
    WARNING = "warning"
    CRITICAL = "critical"
    EMERGENCY = "emergency"


class AlertPriority(models.TextChoices):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"


class IncidentStatus(models.TextChoices):
    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    INVESTIGATING = "investigating"
    RESOLVED = "resolved"
    CLOSED = "closed"


class EscalationLevel(models.TextChoices):
    NONE = "none"
    TEAM_LEAD = "team_lead"
    MANAGER = "manager"
    DIRECTOR = "director"
    EXECUTIVE = "executive"


class ApmProvider(models.TextChoices):
    DATADOG = "datadog"
    NEWRELIC = "newrelic"
    PROMETHEUS = "prometheus"
    GRAFANA = "grafana"
    CUSTOM = "custom"
    PINGDOM = "pingdom"
    UPTIME_ROBOT = "uptime_robot"


class ServiceStatus(models.TextChoices):
    HEALTHY = "healthy"
    WARNING = "warning"
    CRITICAL = "critical"
    UNKNOWN = "unknown"
    MAINTENANCE = "maintenance"


class NotificationChannelKind(models.TextChoices):
    EMAIL = "email"
    SMS = "sms"
    SLACK = "slack"
    WEBHOOK = "webhook"
    PAGERDUTY = "pagerduty"


class WeddingImpactLevel(models.TextChoices):
    NONE = "none"
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    WEDDING_DAY_CRITICAL = "wedding_day_critical"


class ErrorSeverityType(models.TextChoices):
    """WS-259 ``error_severity_type``: a report's severity, mapped from its level (``error_reports.severity``)."""

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"
    WEDDING_EMERGENCY = "wedding_emergency"


class PerformanceMetricType(models.TextChoices):
    """WS-259 ``performance_metric_type``: what a metric point measures (``performance_metrics.metric_type``)."""

    RESPONSE_TIME = "response_time"
    THROUGHPUT = "throughput"
    ERROR_RATE = "error_rate"
    CPU_USAGE = "cpu_usage"
    MEMORY_USAGE = "memory_usage"
    DATABASE_QUERY_TIME = "database_query_time"
    CORE_WEB_VITALS = "core_web_vitals"


class IncidentSeverityType(models.TextChoices):
    """WS-259 ``incident_severity_type``: from an incident's priority (``incidents.incident_severity``)."""

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"
    WEDDING_DAY_EMERGENCY = "wedding_day_emergency"


class AlertType(models.TextChoices):
    """WS-259 ``alert_type_enum``: the kind of an alert rule (``alert_configurations.alert_type``)."""

    THRESHOLD = "threshold"
    ANOMALY = "anomaly"
    COMPOSITE = "composite"
    HEARTBEAT = "heartbeat"
    PATTERN_MATCH = "pattern_match"


# pg type name -> choices, for the SQL migration and the agreement test.
PG_ENUMS = {
    "alert_severity": AlertSeverity,
    "alert_priority": AlertPriority,
    "incident_status": IncidentStatus,
    "escalation_level": EscalationLevel,
    "apm_provider": ApmProvider,
    "service_status": ServiceStatus,
    "notification_channel": NotificationChannelKind,
    "wedding_impact_level": WeddingImpactLevel,
    "error_severity_type": ErrorSeverityType,
    "performance_metric_type": PerformanceMetricType,
    "incident_severity_type": IncidentSeverityType,
    "alert_type_enum": AlertType,
}
