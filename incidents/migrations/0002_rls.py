from django.db import migrations

from wedsync_ops.db import run_sql_file


class Migration(migrations.Migration):
    dependencies = [("incidents", "0001_initial"), ("tenancy", "0002_rls")]
    operations = [run_sql_file(__file__, "policies/incidents.tenant_rows.v1.sql", "policies/incident_updates.tenant_rows.v1.sql", "views/apm_incidents.v1.sql")]
