from django.db import migrations

from wedsync_ops.db import run_sql_file

_TABLES = ("apm_notification_rules", "apm_notification_rule_channels", "alert_rule_pending")


class Migration(migrations.Migration):
    dependencies = [("alerts", "0008_routing_rule_types_pending")]
    operations = [
        run_sql_file(
            __file__,
            "0009_routing_pending_rls_rule_functions.sql",
            reverse="DROP FUNCTION IF EXISTS alert_anomaly_evaluation(timestamptz);"
            " DROP FUNCTION IF EXISTS alert_heartbeat_evaluation(timestamptz);"
            + "".join(
                f" DROP POLICY IF EXISTS tenant_rows ON {t}; ALTER TABLE {t} NO FORCE ROW LEVEL SECURITY;"
                f" ALTER TABLE {t} DISABLE ROW LEVEL SECURITY;"
                for t in _TABLES
            ),
        )
    ]
