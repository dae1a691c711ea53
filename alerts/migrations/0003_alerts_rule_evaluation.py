from django.db import migrations

from wedsync_ops.db import run_sql_file


class Migration(migrations.Migration):
    dependencies = [("alerts", "0002_rls"), ("apm", "0002_apm_metrics_table"), ("tenancy", "0002_rls")]
    operations = [
        run_sql_file(
            __file__,
            "functions/alert_rule_evaluation.v1.sql",
            reverse="DROP FUNCTION IF EXISTS alert_rule_evaluation(timestamptz);",
        )
    ]
