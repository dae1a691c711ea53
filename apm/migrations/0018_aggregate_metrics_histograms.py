from django.db import migrations

from wedsync_ops.db import run_sql_file


class Migration(migrations.Migration):
    dependencies = [("apm", "0017_wedding_context_and_histograms")]
    operations = [run_sql_file(__file__, "functions/apm_histogram_quantiles.v1.sql", "functions/aggregate_metric_histograms.v1.sql", "functions/aggregate_metrics.v3.sql", "functions/cleanup_monitoring_data.v2.sql")]
