from django.db import migrations

from wedsync_ops.db import run_sql_file


class Migration(migrations.Migration):
    dependencies = [("apm", "0017_wedding_context_and_histograms")]
    operations = [run_sql_file(__file__, "0018_aggregate_metrics_histograms.sql")]
