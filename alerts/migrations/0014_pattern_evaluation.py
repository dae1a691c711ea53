from django.db import migrations

from wedsync_ops.db import run_sql_file


class Migration(migrations.Migration):
    dependencies = [("alerts", "0013_rule_pattern"), ("apm", "0007_errors")]
    operations = [
        run_sql_file(
            __file__, "views/apm_alerts.v3.sql", "functions/alert_pattern_evaluation.v1.sql", reverse="DROP FUNCTION IF EXISTS alert_pattern_evaluation(timestamptz)"
        )
    ]
