from django.db import migrations

from wedsync_ops.db import run_sql_file


class Migration(migrations.Migration):
    dependencies = [("apm", "0007_errors")]
    operations = [run_sql_file(__file__, "policies/error_patterns.tenant_rows.v1.sql", "policies/error_reports.tenant_rows.v1.sql", "policies/error_suppression_rules.tenant_rows.v1.sql", "constraints/error_patterns.v1.sql", "constraints/error_reports.v1.sql", "functions/apm_drop_metric_partitions.v1.sql")]
