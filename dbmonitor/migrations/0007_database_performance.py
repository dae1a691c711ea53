"""database_performance (WS-259, issue 18 §2): per query fingerprint and hour, from the statement history."""

import django.db.models.functions.datetime
from django.db import migrations, models

from wedsync_ops.db import run_sql_file


class Migration(migrations.Migration):

    dependencies = [
        ('dbmonitor', '0006_activity_query_normalized'),
    ]

    operations = [
        migrations.CreateModel(
            name='DatabasePerformance',
            fields=[
                ('id', models.BigAutoField(primary_key=True, serialize=False)),
                ('bucket_start', models.DateTimeField()),
                ('queryid', models.BigIntegerField()),
                ('query', models.TextField(blank=True)),
                ('calls', models.BigIntegerField()),
                ('total_ms', models.FloatField()),
                ('mean_ms', models.FloatField()),
                ('rows', models.BigIntegerField()),
                ('shared_blks_hit', models.BigIntegerField()),
                ('shared_blks_read', models.BigIntegerField()),
                ('hit_ratio', models.FloatField(blank=True, null=True)),
                ('updated_at', models.DateTimeField(db_default=django.db.models.functions.datetime.Now())),
            ],
            options={
                'db_table': 'database_performance',
                'ordering': ['-bucket_start', '-total_ms'],
                'constraints': [models.UniqueConstraint(fields=('queryid', 'bucket_start'), name='database_performance_key')],
            },
        ),
        run_sql_file(__file__, "policies/database_performance.staff_rows.v1.sql"),
        run_sql_file(__file__, "functions/rollup_database_performance.v1.sql"),
    ]
