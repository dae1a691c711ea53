"""WS-259 in apm (issue 18 §1, §2): error_reports' spec columns, performance_metrics, the performance tables."""

import django.db.models.deletion
import django.db.models.functions.datetime
import uuid
import wedsync_ops.db
from django.db import migrations, models

from wedsync_ops.db import run_sql_file


class Migration(migrations.Migration):

    dependencies = [
        ('apm', '0019_partition_rls_and_grants'),
        ('tenancy', '0005_ws259_types'),
    ]

    operations = [
        # The spec's columns of error_reports and error_patterns: schema by SQL (trigger, backfill, indexes).
        run_sql_file(__file__, "functions/error_reports_spec_columns.v1.sql"),
        migrations.SeparateDatabaseAndState(
            database_operations=[run_sql_file(__file__, "tables/error_reports.v2.sql")],
            state_operations=[
            migrations.AddField(
                model_name='errorpattern',
                name='public_id',
                field=models.UUIDField(default=uuid.uuid4, editable=False, help_text='The id create_incident_from_critical_error(uuid) takes', unique=True),
            ),
            migrations.AddField(
                model_name='errorreport',
                name='created_at',
                field=models.DateTimeField(editable=False, help_text='= received_at', null=True),
            ),
            migrations.AddField(
                model_name='errorreport',
                name='error_message',
                field=models.TextField(editable=False, null=True),
            ),
            migrations.AddField(
                model_name='errorreport',
                name='is_wedding_day',
                field=models.BooleanField(editable=False, null=True),
            ),
            migrations.AddField(
                model_name='errorreport',
                name='public_id',
                field=models.UUIDField(default=uuid.uuid4, editable=False, help_text='The id create_incident_from_critical_error(uuid) takes'),
            ),
            migrations.AddField(
                model_name='errorreport',
                name='severity',
                field=wedsync_ops.db.EnumField(choices=[('low', 'Low'), ('medium', 'Medium'), ('high', 'High'), ('critical', 'Critical'), ('wedding_emergency', 'Wedding Emergency')], editable=False, enum_type='error_severity_type', help_text='From the level; wedding_emergency: critical on a wedding day', max_length=32, null=True),
            ),
            ],
        ),
        run_sql_file(__file__, "functions/performance_metric_type_of.v1.sql"),
        run_sql_file(__file__, "views/performance_metrics.v1.sql"),
        run_sql_file(__file__, "tables/apm_metrics.v3.sql"),
        run_sql_file(__file__, "views/performance_percentile_analysis.v2.sql"),
        run_sql_file(__file__, "views/error_trending_analysis.v2.sql"),
        migrations.CreateModel(
            name='ApiPerformance',
            fields=[
                ('id', models.BigAutoField(primary_key=True, serialize=False)),
                ('service', models.CharField(max_length=100)),
                ('endpoint', models.CharField(max_length=500)),
                ('bucket_start', models.DateTimeField()),
                ('request_count', models.BigIntegerField()),
                ('error_count', models.BigIntegerField()),
                ('error_rate', models.FloatField()),
                ('p50_ms', models.FloatField()),
                ('p95_ms', models.FloatField()),
                ('p99_ms', models.FloatField()),
                ('max_ms', models.FloatField()),
                ('updated_at', models.DateTimeField(db_default=django.db.models.functions.datetime.Now())),
                ('organization', models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='tenancy.organization')),
            ],
            options={
                'db_table': 'api_performance',
                'ordering': ['-bucket_start', 'service', 'endpoint'],
                'indexes': [models.Index(fields=['bucket_start'], name='api_performance_time')],
                'constraints': [models.UniqueConstraint(fields=('organization', 'service', 'endpoint', 'bucket_start'), name='api_performance_key')],
            },
        ),
        migrations.CreateModel(
            name='CoreWebVitals',
            fields=[
                ('id', models.BigAutoField(primary_key=True, serialize=False)),
                ('bucket_start', models.DateTimeField()),
                ('page', models.CharField(max_length=500)),
                ('device_class', models.CharField(max_length=20)),
                ('samples', models.PositiveIntegerField()),
                ('lcp_ms', models.FloatField(blank=True, null=True)),
                ('inp_ms', models.FloatField(blank=True, null=True)),
                ('cls', models.FloatField(blank=True, null=True)),
                ('fcp_ms', models.FloatField(blank=True, null=True)),
                ('ttfb_ms', models.FloatField(blank=True, null=True)),
                ('lcp_rating', models.CharField(blank=True, max_length=20)),
                ('inp_rating', models.CharField(blank=True, max_length=20)),
                ('cls_rating', models.CharField(blank=True, max_length=20)),
                ('fcp_rating', models.CharField(blank=True, max_length=20)),
                ('ttfb_rating', models.CharField(blank=True, max_length=20)),
                ('updated_at', models.DateTimeField(db_default=django.db.models.functions.datetime.Now())),
                ('organization', models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='tenancy.organization')),
            ],
            options={
                'db_table': 'core_web_vitals',
                'ordering': ['-bucket_start', 'page'],
                'constraints': [models.UniqueConstraint(fields=('organization', 'bucket_start', 'page', 'device_class'), name='core_web_vitals_key')],
            },
        ),
        migrations.CreateModel(
            name='UserJourneyPerformance',
            fields=[
                ('id', models.BigAutoField(primary_key=True, serialize=False)),
                ('journey', models.CharField(max_length=100)),
                ('bucket_start', models.DateTimeField()),
                ('steps', models.JSONField(default=list)),
                ('journeys_started', models.PositiveIntegerField()),
                ('journeys_completed', models.PositiveIntegerField()),
                ('success_rate', models.FloatField()),
                ('p50_total_ms', models.FloatField(blank=True, null=True)),
                ('updated_at', models.DateTimeField(db_default=django.db.models.functions.datetime.Now())),
                ('organization', models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='tenancy.organization')),
            ],
            options={
                'db_table': 'user_journey_performance',
                'ordering': ['-bucket_start', 'journey'],
                'constraints': [models.UniqueConstraint(fields=('organization', 'journey', 'bucket_start'), name='user_journey_performance_key')],
            },
        ),
        run_sql_file(__file__, "policies/core_web_vitals.tenant_rows.v1.sql"),
        run_sql_file(__file__, "policies/api_performance.tenant_rows.v1.sql"),
        run_sql_file(__file__, "policies/user_journey_performance.tenant_rows.v1.sql"),
        run_sql_file(__file__, "functions/web_vitals_rating.v1.sql"),
        run_sql_file(__file__, "functions/rollup_core_web_vitals.v1.sql"),
        run_sql_file(__file__, "functions/rollup_api_performance.v1.sql"),
        run_sql_file(__file__, "functions/rollup_user_journeys.v1.sql"),
    ]
