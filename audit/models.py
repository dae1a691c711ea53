"""The audit trail: one event table per tracked model, written by django-pghistory's triggers only.

Each tracked table (alert rules, channels, silences and other suppression rules, escalation
policies, on-call schedules, runbooks, incidents, organizations) has AFTER INSERT/UPDATE/DELETE
triggers (``pgtrigger``) that copy the row into its event table with ``pgh_label`` ``insert``,
``update`` (only when a column changed) or ``delete``, ``pgh_created_at`` (the statement's
``NOW()``) and ``pgh_context``: the JSON the request set with ``pghistory.context`` (``user``,
``username``, ``url``, ``integration``, ``api_key``; see ``audit.middleware``). Because triggers do
the writing, ``queryset.update()``, raw SQL and SQL functions (``create_incident_from_alert``) are
recorded as well as ``save()``. Event tables are append-only (``PGHISTORY_APPEND_ONLY``: UPDATE and
DELETE raise) and under the same row-level security as their sources (migration 0002): a vendor
reads its own organization's events, staff and services all of them.

Secrets are never copied: a channel's encrypted ``config``, a schedule's iCal token; nor derived
columns (a runbook's rendered HTML).
"""

import pghistory

from alerts.models import AlertRule, SuppressionRule
from incidents.models import EscalationPolicy, Incident, Runbook
from notifications.models import NotificationChannel
from oncall.models import Schedule
from wedsync_ops.tenancy.models import Organization


def _event_model(model, name: str, table: str, *, exclude: list[str] | None = None):
    # Fresh trackers per model: a tracker binds its condition (which columns changed) to one model.
    return pghistory.create_event_model(
        model,
        pghistory.InsertEvent(),
        pghistory.UpdateEvent(),
        pghistory.DeleteEvent(),
        exclude=exclude,
        model_name=name,
        app_label="audit",
        abstract=False,
        meta={
            "db_table": table,
            "verbose_name": f"{model._meta.verbose_name} history",
            "verbose_name_plural": f"{model._meta.verbose_name} history",
        },
    )


AlertRuleEvent = _event_model(AlertRule, "AlertRuleEvent", "audit_alert_rule_events")
SuppressionRuleEvent = _event_model(SuppressionRule, "SuppressionRuleEvent", "audit_suppression_rule_events")
NotificationChannelEvent = _event_model(
    NotificationChannel, "NotificationChannelEvent", "audit_notification_channel_events", exclude=["config"]
)
EscalationPolicyEvent = _event_model(EscalationPolicy, "EscalationPolicyEvent", "audit_escalation_policy_events")
ScheduleEvent = _event_model(Schedule, "ScheduleEvent", "audit_oncall_schedule_events", exclude=["ical_token"])
RunbookEvent = _event_model(Runbook, "RunbookEvent", "audit_runbook_events", exclude=["content_html"])
# auto_created and incident_severity are generated columns (derived from others here): not copied.
IncidentEvent = _event_model(
    Incident, "IncidentEvent", "audit_incident_events", exclude=["auto_created", "incident_severity"]
)
OrganizationEvent = _event_model(Organization, "OrganizationEvent", "audit_organization_events")

# Tracked model -> its event model (selectors and the history pages look events up through this).
EVENT_MODELS = {
    AlertRule: AlertRuleEvent,
    SuppressionRule: SuppressionRuleEvent,
    NotificationChannel: NotificationChannelEvent,
    EscalationPolicy: EscalationPolicyEvent,
    Schedule: ScheduleEvent,
    Runbook: RunbookEvent,
    Incident: IncidentEvent,
    Organization: OrganizationEvent,
}
