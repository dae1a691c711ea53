from django.db import migrations

from wedsync_ops.db import run_sql_file


class Migration(migrations.Migration):
    dependencies = [("apm", "0005_aggregation_org_index_covered_by_unique_key")]
    operations = [run_sql_file(__file__, "functions/aggregate_metrics.v2.sql")]
