from django.db import migrations

from wedsync_ops.db import run_sql_file


class Migration(migrations.Migration):
    dependencies = [("incidents", "0004_escalation_runbooks_analysis")]
    operations = [run_sql_file(__file__, "policies/escalation_policies.tenant_rows.v1.sql", "policies/escalation_steps.tenant_rows.v1.sql", "policies/escalation_contacts.tenant_rows.v1.sql", "policies/runbooks.tenant_rows.v1.sql", "policies/runbook_versions.tenant_rows.v1.sql", "policies/post_incident_analysis.tenant_rows.v1.sql", "views/apm_incidents.v2.sql")]
