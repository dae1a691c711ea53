"""Live query text (pg_stat_activity) is normalised like pg_stat_statements before it is shown
(``dbmonitor/sql/0006_activity_query_normalized.sql``)."""

from django.db import migrations

from wedsync_ops.db import run_sql_file


class Migration(migrations.Migration):
    dependencies = [("dbmonitor", "0005_checks")]
    operations = [run_sql_file(__file__, "0006_activity_query_normalized.sql",
                               reverse="DROP FUNCTION IF EXISTS normalize_query_text(text)")]
