"""Lifecycle: escalation clock, resolved in portal, rules' min_samples and 1-minute default 'for', silences'
createdBy, and the evaluation functions that honour min_samples (``functions/alert_rule_evaluation.v3.sql``, ``alert_anomaly_evaluation.v2.sql``)."""

import django.db.models.functions.datetime
from django.conf import settings
from django.db import migrations, models

from wedsync_ops.db import run_sql_file


class Migration(migrations.Migration):

    dependencies = [
        ('alerts', '0015_move_notifications_to_their_app'),
        ('incidents', '0005_escalation_runbooks_analysis_rls'),
        ('tenancy', '0002_rls'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name='alerthistory',
            name='escalation_clock_at',
            field=models.DateTimeField(blank=True, help_text='When the portal started waiting for an acknowledgement: first seen, or released from a silence', null=True),
        ),
        migrations.AddField(
            model_name='alerthistory',
            name='resolved_in_portal',
            field=models.BooleanField(db_default=False, default=False, help_text='Resolved by a person in the portal, not by its source: a redelivery of the same firing (same or earlier startsAt) does not reopen it'),
        ),
        migrations.AddField(
            model_name='alertrule',
            name='min_samples',
            field=models.PositiveIntegerField(db_default=5, default=5, help_text='Threshold and anomaly rules: fewest metric points in the window before it can fire (a single point never fires)'),
        ),
        migrations.AddField(
            model_name='suppressionrule',
            name='created_by_name',
            field=models.CharField(blank=True, db_default='', default='', help_text="Who created it when not a portal user (Alertmanager API v2's createdBy, e.g. amtool's $USER)", max_length=200),
        ),
        migrations.AddField(
            model_name='suppressionrule',
            name='updated_at',
            field=models.DateTimeField(blank=True, db_default=django.db.models.functions.datetime.Now(), null=True),
        ),
        migrations.AlterField(
            model_name='alerthistory',
            name='source',
            field=models.CharField(choices=[('rule', 'Rule'), ('alertmanager', 'Alertmanager'), ('grafana', 'Grafana'), ('pagerduty', 'Pagerduty'), ('webhook', 'Webhook'), ('dbmonitor', 'Dbmonitor'), ('apm', 'Apm'), ('portal', 'Portal')], max_length=20),
        ),
        migrations.AlterField(
            model_name='alertrule',
            name='for_seconds',
            field=models.PositiveIntegerField(db_default=60, default=60, help_text="How long (s) the breach must last before it fires (Prometheus' 'for'); 0: at once"),
        ),
        migrations.AlterField(
            model_name='alertrule',
            name='wedding_day_for_seconds',
            field=models.PositiveIntegerField(blank=True, help_text="'for' on wedding days (s); empty: half of for_seconds (30 s by default)", null=True),
        ),
        migrations.AddIndex(
            model_name='alerthistory',
            index=models.Index(fields=['incident', 'status'], name='alert_history_incident'),
        ),
        run_sql_file(__file__, "views/apm_alerts.v4.sql", "functions/alert_rule_evaluation.v3.sql", "functions/alert_anomaly_evaluation.v2.sql"),
    ]
