from pathlib import Path

from django.db import migrations

from wedsync_ops.db import run_sql_file

_PREVIOUS = (Path(__file__).resolve().parent.parent / "sql" / "functions" / "alert_rule_evaluation.v1.sql").read_text()


class Migration(migrations.Migration):
    dependencies = [("alerts", "0003_alerts_rule_evaluation")]
    operations = [
        run_sql_file(
            __file__,
            "functions/alert_rule_evaluation.v2.sql",
            reverse="DROP FUNCTION IF EXISTS alert_rule_evaluation(timestamptz);\n" + _PREVIOUS,
        )
    ]
