from django.db import migrations

from wedsync_ops.db import run_sql_file


class Migration(migrations.Migration):
    dependencies = [("dbmonitor", "0001_initial"), ("tenancy", "0002_rls")]
    operations = [run_sql_file(__file__, "policies/monitoring_events.staff_rows.v1.sql")]
