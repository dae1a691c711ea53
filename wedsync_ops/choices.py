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
}
