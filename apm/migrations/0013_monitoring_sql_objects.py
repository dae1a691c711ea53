from django.db import migrations

from wedsync_ops.db import run_sql_file


class Migration(migrations.Migration):
    dependencies = [
        ("apm", "0012_service_health_rls"),
        ("incidents", "0005_escalation_runbooks_analysis_rls"),
        ("alerts", "0001_initial"),
    ]
    operations = [
        run_sql_file(
            __file__,
            "tables/system_health_snapshots.v1.sql", "policies/system_health_snapshots.staff_rows.v1.sql", "functions/capture_system_health_snapshot.v1.sql", "functions/cleanup_monitoring_data.v1.sql", "views/system_health_overview.v1.sql", "views/error_trending_analysis.v1.sql", "views/performance_percentile_analysis.v1.sql", "views/saturday_monitoring.v1.sql",
            reverse="DROP VIEW saturday_monitoring, performance_percentile_analysis, error_trending_analysis,"
            " system_health_overview; DROP FUNCTION cleanup_monitoring_data(timestamptz);"
            " DROP FUNCTION capture_system_health_snapshot(timestamptz); DROP TABLE system_health_snapshots;",
        )
    ]
