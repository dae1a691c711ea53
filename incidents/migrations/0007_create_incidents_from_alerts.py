"""Set-based incident opening (``incidents/sql/0007_create_incidents_from_alerts.sql``)."""

from django.db import migrations

from wedsync_ops.db import run_sql_file


class Migration(migrations.Migration):
    dependencies = [("incidents", "0006_incident_lifecycle")]
    operations = [run_sql_file(__file__, "0007_create_incidents_from_alerts.sql")]
