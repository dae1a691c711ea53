from django.db import migrations

from wedsync_ops.db import run_sql_file


class Migration(migrations.Migration):
    dependencies = [("alerts", "0001_initial"), ("tenancy", "0002_rls")]
    operations = [run_sql_file(__file__, "policies/alert_configurations.tenant_rows.v1.sql", "policies/alert_history.tenant_rows.v1.sql", "policies/notification_channels.tenant_rows.v1.sql", "policies/notification_deliveries.tenant_rows.v1.sql", "policies/notification_delivery_attempts.tenant_rows.v1.sql", "policies/alert_integrations.tenant_rows.v1.sql", "policies/alert_integrations.token_lookup.v1.sql", "views/apm_alerts.v1.sql")]
