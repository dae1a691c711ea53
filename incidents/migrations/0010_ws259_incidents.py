"""WS-259 in incidents (issue 18 §1): is_saturday_incident, auto_created, incident_severity,
create_incident_from_critical_error(uuid) and escalate_unacknowledged_alerts()."""

import wedsync_ops.db
from django.db import migrations, models

from wedsync_ops.db import run_sql_file


class Migration(migrations.Migration):

    dependencies = [
        ('apm', '0020_ws259_error_reports_and_performance'),
        ('alerts', '0020_alert_type_enum'),
        ('incidents', '0009_apm_incidents_columns'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[
                run_sql_file(__file__, "functions/incidents_saturday.v1.sql", "tables/incidents.v1.sql"),
            ],
            state_operations=[
                migrations.AddField(
                    model_name='incident',
                    name='auto_created',
                    field=models.GeneratedField(db_persist=True, expression=models.Q(('source', 'manual'), _negated=True), help_text='Opened by the portal (an alert or error pattern), not by a person', output_field=models.BooleanField()),
                ),
                migrations.AddField(
                    model_name='incident',
                    name='incident_severity',
                    field=models.GeneratedField(db_persist=True, expression=models.Case(models.When(then=models.Value('wedding_day_emergency'), wedding_impact='wedding_day_critical'), models.When(priority='p0', then=models.Value('critical')), models.When(priority='p1', then=models.Value('high')), models.When(priority='p2', then=models.Value('medium')), default=models.Value('low')), help_text='WS-259 incident_severity_type, from priority and wedding impact', output_field=wedsync_ops.db.EnumField(choices=[('low', 'Low'), ('medium', 'Medium'), ('high', 'High'), ('critical', 'Critical'), ('wedding_day_emergency', 'Wedding Day Emergency')], enum_type='incident_severity_type', max_length=32)),
                ),
                migrations.AddField(
                    model_name='incident',
                    name='is_saturday_incident',
                    field=models.BooleanField(default=False, editable=False, help_text='Detected on a local Saturday of its organization (set by the trigger incidents_saturday)'),
                ),
            ],
        ),
        # apm_incidents (SELECT * of incidents) shows the three new columns.
        run_sql_file(__file__, "views/apm_incidents.v4.sql"),
        run_sql_file(__file__, "functions/create_incident_from_critical_error.v1.sql"),
        run_sql_file(__file__, "functions/escalate_unacknowledged_alerts.v1.sql"),
    ]
