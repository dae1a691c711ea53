"""Automated runbook actions and auto_recovery_logs (WS-259, issue 18 §3)."""

import django.contrib.postgres.functions
import django.db.models.deletion
import django.db.models.functions.datetime
import uuid
from django.conf import settings
from django.db import migrations, models

from wedsync_ops.db import run_sql_file


class Migration(migrations.Migration):

    dependencies = [
        ('alerts', '0020_alert_type_enum'),
        ('incidents', '0010_ws259_incidents'),
        ('tenancy', '0005_ws259_types'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AlterField(
            model_name='incidentupdate',
            name='kind',
            field=models.CharField(choices=[('created', 'Created'), ('status_change', 'Status Change'), ('note', 'Note'), ('escalation', 'Escalation'), ('notification', 'Notification'), ('assignment', 'Assignment'), ('alert', 'Alert'), ('merge', 'Merge'), ('analysis', 'Analysis'), ('mute', 'Mute'), ('recovery', 'Recovery')], max_length=20),
        ),
        migrations.CreateModel(
            name='RecoveryAction',
            fields=[
                ('id', models.UUIDField(db_default=django.contrib.postgres.functions.RandomUUID(), default=uuid.uuid4, editable=False, primary_key=True, serialize=False)),
                ('position', models.PositiveSmallIntegerField(default=1)),
                ('name', models.CharField(max_length=200)),
                ('kind', models.CharField(choices=[('http', 'HTTP call to an allow-listed internal endpoint'), ('task', 'Celery task from the allow-list')], max_length=10)),
                ('target', models.CharField(help_text='http: the URL; task: the Celery task name', max_length=500)),
                ('method', models.CharField(choices=[('POST', 'POST'), ('PUT', 'PUT'), ('GET', 'GET')], default='POST', max_length=6)),
                ('payload', models.JSONField(blank=True, default=dict)),
                ('wedding_day_policy', models.CharField(choices=[('always', 'always'), ('off_wedding_days', 'only off wedding days'), ('approval_on_wedding_days', 'on wedding days only with on-call approval')], default='approval_on_wedding_days', max_length=30)),
                ('recovery_window_minutes', models.PositiveIntegerField(default=5)),
                ('timeout_seconds', models.FloatField(default=10.0)),
                ('enabled', models.BooleanField(default=True)),
                ('created_at', models.DateTimeField(db_default=django.db.models.functions.datetime.Now(), editable=False)),
                ('organization', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='tenancy.organization')),
                ('runbook', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='actions', to='incidents.runbook')),
            ],
            options={
                'db_table': 'recovery_actions',
                'ordering': ['runbook_id', 'position', 'name'],
            },
        ),
        migrations.CreateModel(
            name='AutoRecoveryLog',
            fields=[
                ('id', models.UUIDField(db_default=django.contrib.postgres.functions.RandomUUID(), default=uuid.uuid4, editable=False, primary_key=True, serialize=False)),
                ('status', models.CharField(choices=[('pending', 'Pending'), ('awaiting_approval', 'Awaiting Approval'), ('running', 'Running'), ('succeeded', 'Succeeded'), ('failed', 'Failed'), ('skipped', 'Skipped')], default='pending', max_length=20)),
                ('wedding_day', models.BooleanField(default=False)),
                ('outcome', models.TextField(blank=True)),
                ('http_status', models.PositiveSmallIntegerField(blank=True, null=True)),
                ('duration_ms', models.FloatField(blank=True, null=True)),
                ('started_at', models.DateTimeField(blank=True, null=True)),
                ('finished_at', models.DateTimeField(blank=True, null=True)),
                ('window_ends_at', models.DateTimeField(blank=True, null=True)),
                ('recovered', models.BooleanField(blank=True, null=True)),
                ('created_at', models.DateTimeField()),
                ('alert', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='alerts.alerthistory')),
                ('approved_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('incident', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='incidents.incident')),
                ('organization', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='tenancy.organization')),
                ('action', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='logs', to='incidents.recoveryaction')),
            ],
            options={
                'db_table': 'auto_recovery_logs',
                'ordering': ['-created_at'],
                'indexes': [models.Index(fields=['status', 'window_ends_at'], name='auto_recovery_open_windows')],
                'constraints': [models.UniqueConstraint(fields=('action', 'alert'), name='auto_recovery_once_per_alert')],
            },
        ),
        run_sql_file(__file__, "policies/recovery_actions.tenant_rows.v1.sql"),
        run_sql_file(__file__, "policies/auto_recovery_logs.tenant_rows.v1.sql"),
    ]
