CREATE FUNCTION get_db_monitoring_summary() RETURNS jsonb
LANGUAGE sql STABLE AS $$ SELECT get_database_monitoring_summary() $$;
