"""apm_incidents shows the columns incidents gained since the view was made (``views/apm_incidents.v3.sql``)."""

from django.db import migrations

from wedsync_ops.db import run_sql_file


class Migration(migrations.Migration):
    dependencies = [("incidents", "0008_escalation_step_targets")]
    operations = [run_sql_file(__file__, "views/apm_incidents.v3.sql")]
