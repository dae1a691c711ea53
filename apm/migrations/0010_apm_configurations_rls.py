from django.db import migrations

from wedsync_ops.db import run_sql_file


class Migration(migrations.Migration):
    dependencies = [("apm", "0009_apm_configurations")]
    operations = [run_sql_file(__file__, "policies/apm_configurations.tenant_rows.v1.sql", "constraints/apm_configurations.v1.sql")]
