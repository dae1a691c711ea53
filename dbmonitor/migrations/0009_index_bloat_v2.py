"""``monitoring_index_bloat()`` version 2: each index's size is read only for the indexes that have an
estimate (same rows as version 1)."""

from django.db import migrations

from wedsync_ops.db import run_sql_file


class Migration(migrations.Migration):
    dependencies = [("dbmonitor", "0008_slow_query_count")]
    operations = [
        run_sql_file(__file__, "functions/monitoring_index_bloat.v2.sql"),  # reversed by version 1
    ]
