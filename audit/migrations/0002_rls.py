from django.db import migrations

from wedsync_ops.db import run_sql_file


class Migration(migrations.Migration):
    """Event tables under the same row-level security as their sources (audit/sql/policies/)."""

    dependencies = [("audit", "0001_initial"), ("pghistory", "0007_auto_20250421_0444")]

    operations = [
        run_sql_file(
            __file__,
            "policies/audit_alert_rule_events.tenant_rows.v1.sql",
            "policies/audit_suppression_rule_events.tenant_rows.v1.sql",
            "policies/audit_notification_channel_events.tenant_rows.v1.sql",
            "policies/audit_escalation_policy_events.tenant_rows.v1.sql",
            "policies/audit_oncall_schedule_events.tenant_rows.v1.sql",
            "policies/audit_runbook_events.tenant_rows.v1.sql",
            "policies/audit_incident_events.tenant_rows.v1.sql",
            "policies/audit_organization_events.tenant_rows.v1.sql",
            "policies/pghistory_context.staff_rows.v1.sql",
        )
    ]
