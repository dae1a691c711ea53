"""error_correlations (WS-259, issue 18 §3) and correlate_error_patterns()."""

import django.db.models.deletion
import django.db.models.functions.datetime
from django.db import migrations, models

from wedsync_ops.db import run_sql_file


class Migration(migrations.Migration):

    dependencies = [
        ('apm', '0021_ws259_views'),
        ('tenancy', '0005_ws259_types'),
    ]

    operations = [
        migrations.CreateModel(
            name='ErrorCorrelation',
            fields=[
                ('id', models.BigAutoField(primary_key=True, serialize=False)),
                ('rule', models.CharField(choices=[('shared_trace', 'Shared Trace'), ('time_window', 'Time Window')], max_length=20)),
                ('score', models.FloatField()),
                ('gap_seconds', models.FloatField()),
                ('shared_traces', models.PositiveIntegerField(default=0)),
                ('detected_at', models.DateTimeField()),
                ('updated_at', models.DateTimeField(db_default=django.db.models.functions.datetime.Now())),
                ('organization', models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='tenancy.organization')),
                ('origin_pattern', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='apm.errorpattern')),
                ('pattern', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='apm.errorpattern')),
                ('related_pattern', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='apm.errorpattern')),
            ],
            options={
                'db_table': 'error_correlations',
                'ordering': ['-score', '-detected_at'],
                'indexes': [models.Index(fields=['organization', 'detected_at'], name='error_correlations_org_time')],
                'constraints': [models.UniqueConstraint(fields=('pattern', 'related_pattern'), name='error_correlations_pair'), models.CheckConstraint(condition=models.Q(('pattern__lt', models.F('related_pattern'))), name='error_correlations_ordered_pair')],
            },
        ),
        run_sql_file(__file__, "policies/error_correlations.tenant_rows.v1.sql"),
        run_sql_file(__file__, "functions/correlate_error_patterns.v1.sql"),
    ]
