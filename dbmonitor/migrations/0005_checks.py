from django.db import migrations

from wedsync_ops.db import run_sql_file, sql_text

# Back to v1 of the availability probe, then drop what this migration made.
REVERSE = sql_text(__file__, "functions/pg_stat_statements_available.v1.sql", or_replace=True) + """
DROP FUNCTION IF EXISTS cleanup_db_snapshots(timestamptz);
DROP FUNCTION IF EXISTS capture_db_snapshot(timestamptz);
DROP FUNCTION IF EXISTS monitoring_stats_info();
DROP FUNCTION IF EXISTS monitoring_replication();
DROP FUNCTION IF EXISTS monitoring_sequence_usage();
DROP FUNCTION IF EXISTS monitoring_xid_wraparound();
DROP FUNCTION IF EXISTS monitoring_index_bloat();
DROP FUNCTION IF EXISTS monitoring_table_bloat();
DROP FUNCTION IF EXISTS monitoring_missing_index_candidates(bigint, double precision);
DROP FUNCTION IF EXISTS monitoring_duplicate_indexes();
DROP FUNCTION IF EXISTS monitoring_unused_indexes(bigint);
DROP FUNCTION IF EXISTS monitoring_cache_hit_ratios();
DROP FUNCTION IF EXISTS monitoring_blocked_queries();
DROP FUNCTION IF EXISTS monitoring_long_running_queries(double precision);
DROP POLICY IF EXISTS staff_rows ON db_table_snapshots;
DROP POLICY IF EXISTS staff_rows ON db_statement_deltas;
DROP POLICY IF EXISTS staff_rows ON db_statement_counters;
DROP POLICY IF EXISTS staff_rows ON db_snapshots;
"""


class Migration(migrations.Migration):
    dependencies = [("dbmonitor", "0004_history")]
    operations = [run_sql_file(__file__, "policies/db_snapshots.staff_rows.v1.sql", "policies/db_statement_counters.staff_rows.v1.sql", "policies/db_statement_deltas.staff_rows.v1.sql", "policies/db_table_snapshots.staff_rows.v1.sql", "functions/monitoring_long_running_queries.v1.sql", "functions/monitoring_blocked_queries.v1.sql", "functions/monitoring_cache_hit_ratios.v1.sql", "functions/monitoring_unused_indexes.v1.sql", "functions/monitoring_duplicate_indexes.v1.sql", "functions/monitoring_missing_index_candidates.v1.sql", "functions/monitoring_table_bloat.v1.sql", "functions/monitoring_index_bloat.v1.sql", "functions/monitoring_xid_wraparound.v1.sql", "functions/monitoring_sequence_usage.v1.sql", "functions/monitoring_replication.v1.sql", "functions/monitoring_stats_info.v1.sql", "functions/capture_db_snapshot.v1.sql", "functions/cleanup_db_snapshots.v1.sql", "functions/pg_stat_statements_available.v2.sql", reverse=REVERSE)]
