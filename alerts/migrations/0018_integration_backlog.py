"""Rate limits count alerts (rate_limit_per_minute -> rate_limit_alerts per 5-minute window), and payloads
over the limit are parked in integration_backlog instead of refused."""

import django.db.models.deletion
from django.db import migrations, models

from wedsync_ops.db import run_sql_file


class Migration(migrations.Migration):
    dependencies = [
        ("alerts", "0017_alert_source_heartbeat"),
        ("tenancy", "0003_dba_context"),  # the owner sees the rows it converts below
    ]

    operations = [
        migrations.RenameField("alertintegration", "rate_limit_per_minute", "rate_limit_alerts"),
        migrations.AlterField(
            model_name="alertintegration",
            name="rate_limit_alerts",
            field=models.PositiveIntegerField(
                db_default=0, default=0,
                help_text="Alerts per INTEGRATION_RATE_LIMIT_WINDOW_S inline, beyond which payloads are parked and"
                " ingested in order by a worker; 0: INTEGRATION_RATE_LIMIT_ALERTS (alerts.conf)",
            ),
        ),
        # A limit of n requests a minute becomes n x 5 alerts per 5 minutes (each request had at least one alert).
        migrations.RunSQL(
            "UPDATE alert_integrations SET rate_limit_alerts = rate_limit_alerts * 5 WHERE rate_limit_alerts > 0",
            reverse_sql="UPDATE alert_integrations SET rate_limit_alerts = rate_limit_alerts / 5",
        ),
        migrations.CreateModel(
            name="IntegrationBacklog",
            fields=[
                ("id", models.BigAutoField(primary_key=True, serialize=False)),
                ("body", models.BinaryField()),
                ("alerts", models.PositiveIntegerField()),
                ("received_at", models.DateTimeField()),
                ("attempts", models.PositiveSmallIntegerField(db_default=0, default=0)),
                ("last_error", models.TextField(blank=True, db_default="", default="")),
                ("integration", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="+",
                                                  to="alerts.alertintegration")),
                ("organization", models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE,
                                                   related_name="+", to="tenancy.organization")),
            ],
            options={
                "db_table": "integration_backlog",
                "indexes": [models.Index(fields=["integration", "id"], name="integration_backlog_order")],
            },
        ),
        run_sql_file(__file__, "policies/integration_backlog.tenant_rows.v1.sql"),
    ]
