from django.db import migrations

from wedsync_ops.db import run_sql_file


class Migration(migrations.Migration):
    dependencies = [("oncall", "0001_initial")]
    operations = [run_sql_file(__file__, "0002_rls.sql")]
