from django.db import migrations

from wedsync_ops.db import run_sql_file

REVERSE = """
DROP FUNCTION IF EXISTS cleanup_old_monitoring_data();
DROP FUNCTION IF EXISTS get_db_monitoring_summary();
DROP FUNCTION IF EXISTS get_database_monitoring_summary();
DROP FUNCTION IF EXISTS monitoring_overall_status(integer, integer, integer, integer, integer, integer, integer);
DROP FUNCTION IF EXISTS record_db_monitoring_event(text, alert_severity, text, jsonb);
DROP FUNCTION IF EXISTS record_monitoring_event(text, alert_severity, text, jsonb);
DROP VIEW IF EXISTS monitoring_rls_status;
DROP FUNCTION IF EXISTS monitoring_rls_status_in(name);
DROP VIEW IF EXISTS monitoring_table_health;
DROP VIEW IF EXISTS monitoring_connections;
DROP VIEW IF EXISTS monitoring_slow_queries;
DROP FUNCTION IF EXISTS monitoring_slow_query_rows(double precision, bigint);
DROP FUNCTION IF EXISTS pg_stat_statements_available();
DROP FUNCTION IF EXISTS pg_stat_statements_schema();
DROP FUNCTION IF EXISTS redact_query_text(text);
"""


class Migration(migrations.Migration):
    dependencies = [("dbmonitor", "0002_rls")]
    operations = [run_sql_file(__file__, "functions/redact_query_text.v1.sql", "functions/pg_stat_statements_schema.v1.sql", "functions/pg_stat_statements_available.v1.sql", "functions/monitoring_slow_query_rows.v1.sql", "views/monitoring_slow_queries.v1.sql", "views/monitoring_connections.v1.sql", "views/monitoring_table_health.v1.sql", "functions/monitoring_rls_status_in.v1.sql", "views/monitoring_rls_status.v1.sql", "functions/record_monitoring_event.v1.sql", "functions/record_db_monitoring_event.v1.sql", "functions/monitoring_overall_status.v1.sql", "functions/get_database_monitoring_summary.v1.sql", "functions/get_db_monitoring_summary.v1.sql", "functions/cleanup_old_monitoring_data.v1.sql", reverse=REVERSE)]
