"""``monitoring_slow_query_count()`` and ``get_database_monitoring_summary()`` version 2, which counts
slow statements with it (pg_stat_statements read without the statement texts)."""

from django.db import migrations

from wedsync_ops.db import run_sql_file


class Migration(migrations.Migration):
    dependencies = [("dbmonitor", "0007_database_performance")]
    operations = [
        run_sql_file(
            __file__,
            "functions/monitoring_slow_query_count.v1.sql",
            reverse="DROP FUNCTION IF EXISTS monitoring_slow_query_count(double precision, bigint)",
        ),
        run_sql_file(__file__, "functions/get_database_monitoring_summary.v2.sql"),
    ]
