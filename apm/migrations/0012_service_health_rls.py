from django.db import migrations

from wedsync_ops.db import run_sql_file


class Migration(migrations.Migration):
    dependencies = [("apm", "0011_service_health_checks")]
    operations = [run_sql_file(__file__, "0012_service_health_rls.sql")]
