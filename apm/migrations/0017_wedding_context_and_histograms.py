import django.contrib.postgres.fields
import django.db.models.deletion
from django.db import migrations, models

from wedsync_ops.db import run_sql_file


class Migration(migrations.Migration):
    dependencies = [("apm", "0016_aggregations_recent_index"), ("tenancy", "0002_rls")]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[
                run_sql_file(
                    __file__,
                    "functions/wedding_context.v1.sql", "tables/apm_metrics.v2.sql", "tables/error_reports.v1.sql", "data/wedding_context_backfill.sql", "tables/apm_metric_histograms.v1.sql", "policies/apm_metric_histograms.tenant_rows.v1.sql", "tables/apm_aggregation_watermarks.v2.sql",
                    reverse="ALTER TABLE apm_aggregation_watermarks DROP COLUMN last_histogram_ingested_at;"
                    " DROP TABLE apm_metric_histograms; DROP INDEX idx_error_reports_org_wedding_day;"
                    " DROP INDEX idx_apm_metrics_wedding_day; ALTER TABLE error_reports DROP COLUMN wedding_context;"
                    " ALTER TABLE apm_metrics DROP COLUMN wedding_context; DROP FUNCTION wedding_context(uuid, date);",
                )
            ],
            state_operations=[
                migrations.AddField(
                    model_name="errorreport", name="wedding_context", field=models.JSONField(blank=True, null=True)
                ),
                migrations.CreateModel(
                    name="ApmMetricHistogram",
                    fields=[
                        ("id", models.BigIntegerField(primary_key=True, serialize=False)),
                        ("service", models.CharField(max_length=100)),
                        ("metric_name", models.CharField(max_length=200)),
                        ("unit", models.CharField(blank=True, max_length=20)),
                        ("tags", models.JSONField(blank=True, default=dict)),
                        ("recorded_at", models.DateTimeField()),
                        ("start_at", models.DateTimeField(blank=True, null=True)),
                        ("temporality", models.CharField(max_length=10)),
                        ("count", models.BigIntegerField()),
                        ("sum", models.FloatField()),
                        ("min", models.FloatField(blank=True, null=True)),
                        ("max", models.FloatField(blank=True, null=True)),
                        ("bounds", django.contrib.postgres.fields.ArrayField(base_field=models.FloatField(), size=None)),
                        ("counts", django.contrib.postgres.fields.ArrayField(
                            base_field=models.BigIntegerField(), size=None)),
                        ("cumulative_count", models.BigIntegerField(blank=True, null=True)),
                        ("cumulative_sum", models.FloatField(blank=True, null=True)),
                        ("cumulative_counts", django.contrib.postgres.fields.ArrayField(
                            base_field=models.BigIntegerField(), blank=True, null=True, size=None)),
                        ("wedding_context", models.JSONField(blank=True, null=True)),
                        ("ingested_at", models.DateTimeField()),
                        ("organization", models.ForeignKey(
                            db_constraint=False, on_delete=django.db.models.deletion.DO_NOTHING,
                            to="tenancy.organization")),
                    ],
                    options={"db_table": "apm_metric_histograms", "ordering": ["-recorded_at"], "managed": False},
                ),
            ],
        ),
    ]
