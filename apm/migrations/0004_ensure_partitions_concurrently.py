from django.db import migrations

from wedsync_ops.db import run_sql_file


class Migration(migrations.Migration):
    dependencies = [("apm", "0003_aggregate_metrics")]
    operations = [run_sql_file(__file__, "functions/apm_ensure_metric_partitions.v2.sql")]
