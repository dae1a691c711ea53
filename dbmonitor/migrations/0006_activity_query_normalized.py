"""Live query text (pg_stat_activity) is normalised like pg_stat_statements before it is shown
(``functions/normalize_query_text.v1.sql`` and the v2 of the activity functions)."""

from django.db import migrations

from wedsync_ops.db import run_sql_file


class Migration(migrations.Migration):
    dependencies = [("dbmonitor", "0005_checks")]
    operations = [run_sql_file(__file__, "functions/normalize_query_text.v1.sql", "functions/monitoring_long_running_queries.v2.sql", "functions/monitoring_blocked_queries.v2.sql",
                               reverse="DROP FUNCTION IF EXISTS normalize_query_text(text)")]
