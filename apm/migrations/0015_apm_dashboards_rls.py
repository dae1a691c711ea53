from django.db import migrations

from wedsync_ops.db import run_sql_file


class Migration(migrations.Migration):
    dependencies = [("apm", "0014_apm_dashboards")]
    operations = [run_sql_file(__file__, "policies/apm_dashboards.tenant_rows.v1.sql")]
