"""A DBA session (superuser, owner role, pg_monitor) works as staff when no app.role is set."""

from django.db import migrations

from wedsync_ops.db import run_sql_file


class Migration(migrations.Migration):
    dependencies = [
        ("tenancy", "0002_rls"),
        # The monitoring views granted to pg_monitor.
        ("dbmonitor", "0003_views"),
    ]

    operations = [
        run_sql_file(__file__, "functions/app_session_is_dba.v1.sql", "functions/app_role.v2.sql", "grants/pg_monitor_monitoring_views.v1.sql"),
    ]
