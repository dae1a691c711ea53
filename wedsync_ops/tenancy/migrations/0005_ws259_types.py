"""The WS-259 enum types (issue 18 §1): error_severity_type, performance_metric_type, incident_severity_type,
alert_type_enum (``wedsync_ops/tenancy/sql/types/<type>.v1.sql``)."""

from django.db import migrations

from wedsync_ops.db import run_sql_file


class Migration(migrations.Migration):
    dependencies = [("tenancy", "0004_api_tokens_hashed")]
    operations = [
        run_sql_file(
            __file__, "types/error_severity_type.v1.sql", "types/performance_metric_type.v1.sql",
            "types/incident_severity_type.v1.sql", "types/alert_type_enum.v1.sql",
            reverse="DROP TYPE error_severity_type, performance_metric_type, incident_severity_type, alert_type_enum",
        )
    ]
