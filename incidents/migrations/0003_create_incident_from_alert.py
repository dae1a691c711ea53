from django.db import migrations

from wedsync_ops.db import run_sql_file


class Migration(migrations.Migration):
    dependencies = [("incidents", "0002_rls"), ("alerts", "0002_rls"), ("tenancy", "0002_rls")]
    operations = [
        run_sql_file(
            __file__,
            "functions/create_incident_from_alert.v1.sql",
            reverse="DROP FUNCTION create_incident_from_alert(uuid);"
            " DROP FUNCTION create_incident_from_alert(uuid, timestamptz);",
        )
    ]
