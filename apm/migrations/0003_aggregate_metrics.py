from django.db import migrations

from wedsync_ops.db import run_sql_file


class Migration(migrations.Migration):
    dependencies = [("apm", "0002_apm_metrics_table")]
    operations = [
        run_sql_file(
            __file__,
            "tables/apm_aggregation_watermarks.v1.sql", "policies/apm_aggregation_watermarks.staff_rows.v1.sql", "functions/aggregate_metrics.v1.sql",
            reverse="DROP FUNCTION aggregate_metrics(interval); DROP TABLE apm_aggregation_watermarks;",
        )
    ]
