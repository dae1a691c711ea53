"""Set-based incident opening (``functions/create_incidents_from_alerts.v1.sql``)."""

from django.db import migrations

from wedsync_ops.db import run_sql_file


class Migration(migrations.Migration):
    dependencies = [("incidents", "0006_incident_lifecycle")]
    operations = [run_sql_file(__file__, "functions/create_incidents_from_alerts.v1.sql", "functions/create_incident_from_alert.v2.sql")]
