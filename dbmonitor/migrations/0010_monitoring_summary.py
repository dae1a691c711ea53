"""``monitoring_summary(slow, needing_vacuum, unprotected)`` and ``get_database_monitoring_summary()``
version 3, which assembles its summary with it: the database page passes the counts it has read
already instead of having them read twice."""

from django.db import migrations

from wedsync_ops.db import run_sql_file

REVERSE_SUMMARY = "DROP FUNCTION IF EXISTS monitoring_summary(integer, integer, integer)"


class Migration(migrations.Migration):
    dependencies = [("dbmonitor", "0009_index_bloat_v2")]
    operations = [
        run_sql_file(__file__, "functions/monitoring_summary.v1.sql", reverse=REVERSE_SUMMARY),
        run_sql_file(__file__, "functions/get_database_monitoring_summary.v3.sql"),  # reversed by version 2
    ]
