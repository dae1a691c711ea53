from django.db import migrations

from wedsync_ops.db import run_sql_file

_TABLES = ("apm_notification_rules", "apm_notification_rule_channels", "alert_rule_pending")


class Migration(migrations.Migration):
    dependencies = [("alerts", "0008_routing_rule_types_pending")]
    operations = [
        run_sql_file(
            __file__,
            "policies/apm_notification_rules.tenant_rows.v1.sql", "policies/apm_notification_rule_channels.tenant_rows.v1.sql", "policies/alert_rule_pending.tenant_rows.v1.sql", "views/apm_alerts.v2.sql", "functions/alert_heartbeat_evaluation.v1.sql", "functions/alert_anomaly_evaluation.v1.sql",
            reverse="DROP FUNCTION IF EXISTS alert_anomaly_evaluation(timestamptz);"
            " DROP FUNCTION IF EXISTS alert_heartbeat_evaluation(timestamptz);"
            + "".join(
                f" DROP POLICY IF EXISTS tenant_rows ON {t}; ALTER TABLE {t} NO FORCE ROW LEVEL SECURITY;"
                f" ALTER TABLE {t} DISABLE ROW LEVEL SECURITY;"
                for t in _TABLES
            ),
        )
    ]
