-- When the statistics behind the checks started counting: stats_reset of
-- this database (pg_stat_database; NULL if never reset), the server start,
-- and pg_stat_statements' own reset time and deallocation count (entries
-- evicted because pg_stat_statements.max was reached) when it is available.
CREATE FUNCTION monitoring_stats_info() RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
DECLARE
  result jsonb;
  pgss jsonb := NULL;
BEGIN
  IF NOT app_is_platform() THEN
    RETURN NULL;
  END IF;
  SELECT jsonb_build_object(
           'database_stats_reset', d.stats_reset,
           'server_started_at', pg_postmaster_start_time(),
           'pg_stat_statements_max', NULLIF(current_setting('pg_stat_statements.max', true), '')::integer)
    INTO result
    FROM pg_stat_database d WHERE d.datname = current_database();
  IF pg_stat_statements_available() AND to_regclass(format('%I.pg_stat_statements_info', pg_stat_statements_schema())) IS NOT NULL THEN
    EXECUTE format('SELECT jsonb_build_object(''stats_reset'', i.stats_reset, ''dealloc'', i.dealloc)'
                   ' FROM %I.pg_stat_statements_info i', pg_stat_statements_schema()) INTO pgss;
  END IF;
  RETURN result || jsonb_build_object('pg_stat_statements', pgss);
END $$;
