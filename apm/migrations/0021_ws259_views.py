"""WS-259 views of apm that read incidents' new columns (issue 18 §1): saturday_monitoring and
system_health_overview, version 2 (``apm/sql/views/``)."""

from django.db import migrations

from wedsync_ops.db import run_sql_file


class Migration(migrations.Migration):
    dependencies = [("apm", "0020_ws259_error_reports_and_performance"), ("incidents", "0010_ws259_incidents")]
    operations = [
        run_sql_file(__file__, "views/saturday_monitoring.v2.sql"),
        run_sql_file(__file__, "views/system_health_overview.v2.sql"),
    ]
