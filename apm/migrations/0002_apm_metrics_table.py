from django.db import migrations

from wedsync_ops.db import run_sql_file


class Migration(migrations.Migration):
    dependencies = [("apm", "0001_initial"), ("tenancy", "0002_rls")]
    operations = [run_sql_file(__file__, "0002_apm_metrics.sql")]
