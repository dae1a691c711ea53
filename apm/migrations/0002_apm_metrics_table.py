from django.db import migrations

from wedsync_ops.db import run_sql_file


class Migration(migrations.Migration):
    dependencies = [("apm", "0001_initial"), ("tenancy", "0002_rls")]
    operations = [run_sql_file(__file__, "tables/apm_metrics.v1.sql", "policies/apm_metrics.tenant_rows.v1.sql", "policies/apm_metric_aggregations.tenant_rows.v1.sql", "functions/apm_ensure_metric_partitions.v1.sql")]
