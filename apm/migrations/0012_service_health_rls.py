from django.db import migrations

from wedsync_ops.db import run_sql_file


class Migration(migrations.Migration):
    dependencies = [("apm", "0011_service_health_checks")]
    operations = [run_sql_file(__file__, "policies/service_health_checks.tenant_rows.v1.sql", "policies/service_health_results.tenant_rows.v1.sql", "policies/service_health_transitions.tenant_rows.v1.sql", "constraints/service_health_checks.v1.sql")]
