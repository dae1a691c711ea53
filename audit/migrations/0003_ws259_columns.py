"""The audit trail follows issue 18's columns: incidents' is_saturday_incident is copied into its events, and
alert rules' alert_type is of the type alert_type_enum in their events too (its generated columns are not copied)."""

from django.db import migrations, models

import wedsync_ops.db


class Migration(migrations.Migration):
    dependencies = [("audit", "0002_rls"), ("alerts", "0020_alert_type_enum")]

    operations = [
        migrations.AddField(
            model_name="incidentevent",
            name="is_saturday_incident",
            field=models.BooleanField(
                default=False,
                editable=False,
                help_text="Detected on a local Saturday of its organization (set by the trigger incidents_saturday)",
            ),
        ),
        migrations.SeparateDatabaseAndState(
            # Django casts no varchar to an enum by itself (both are CharFields to it): say how.
            database_operations=[
                migrations.RunSQL(
                    "ALTER TABLE audit_alert_rule_events ALTER COLUMN alert_type DROP DEFAULT,"
                    " ALTER COLUMN alert_type TYPE alert_type_enum USING alert_type::alert_type_enum",
                    reverse_sql="ALTER TABLE audit_alert_rule_events ALTER COLUMN alert_type TYPE varchar(20)"
                    " USING alert_type::text",
                )
            ],
            state_operations=[
                migrations.AlterField(
                    model_name="alertruleevent",
                    name="alert_type",
                    field=wedsync_ops.db.EnumField(
                        choices=[
                            ("threshold", "Threshold"),
                            ("anomaly", "Anomaly"),
                            ("composite", "Composite"),
                            ("heartbeat", "Heartbeat"),
                            ("pattern_match", "Pattern Match"),
                        ],
                        default="threshold",
                        enum_type="alert_type_enum",
                        max_length=20,
                    ),
                ),
            ],
        ),
    ]
