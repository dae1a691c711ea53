from django.db import migrations

from wedsync_ops.db import run_sql_file


class Migration(migrations.Migration):
    dependencies = [("apm", "0007_errors")]
    operations = [run_sql_file(__file__, "0008_errors_rls_and_retention.sql")]
