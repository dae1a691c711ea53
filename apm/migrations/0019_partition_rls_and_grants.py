"""Every apm_metrics partition has forced RLS; apm_ensure_metric_partitions is not PUBLIC's and needs a platform
context (``apm/sql/data/apm_metrics_partitions_rls.sql``, ``functions/apm_ensure_metric_partitions.v3.sql``)."""

from django.db import migrations

from wedsync_ops.db import run_sql_file


class Migration(migrations.Migration):
    dependencies = [("apm", "0018_aggregate_metrics_histograms")]
    operations = [run_sql_file(__file__, "data/apm_metrics_partitions_rls.sql", "functions/apm_ensure_metric_partitions.v3.sql")]
