"""alert_configurations.alert_type is of WS-259's type alert_type_enum (issue 18 §1)."""

from django.db import migrations

import wedsync_ops.db
from wedsync_ops.db import run_sql_file


class Migration(migrations.Migration):
    dependencies = [("alerts", "0019_alert_history_open_group"), ("tenancy", "0005_ws259_types")]
    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[run_sql_file(__file__, "tables/alert_configurations.v1.sql")],
            state_operations=[
                migrations.AlterField(
                    model_name="alertrule",
                    name="alert_type",
                    field=wedsync_ops.db.EnumField(
                        choices=[("threshold", "Threshold"), ("anomaly", "Anomaly"), ("composite", "Composite"),
                                 ("heartbeat", "Heartbeat"), ("pattern_match", "Pattern Match")],
                        default="threshold", enum_type="alert_type_enum", max_length=20,
                    ),
                ),
            ],
        ),
    ]
