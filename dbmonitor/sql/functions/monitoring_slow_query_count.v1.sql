-- monitoring_slow_query_count(min_mean_ms, min_calls) -> bigint: how many rows
-- monitoring_slow_query_rows(min_mean_ms, min_calls) would return (same filter: statements of this
-- database with calls >= min_calls and mean time >= min_mean_ms; 0 outside platform contexts or
-- without pg_stat_statements), read with pg_stat_statements(false): without the statement texts,
-- which the extension reads from its text file on every call that asks for them (at 4,908 tracked
-- statements: 6-7 ms against 12-18 ms with them).
CREATE FUNCTION monitoring_slow_query_count(min_mean_ms double precision DEFAULT 100, min_calls bigint DEFAULT 1)
RETURNS bigint
LANGUAGE plpgsql STABLE AS $$
DECLARE
  ext_schema name;
  time_expr text;
  found bigint;
BEGIN
  IF NOT app_is_platform() OR NOT pg_stat_statements_available() THEN
    RETURN 0;
  END IF;
  ext_schema := pg_stat_statements_schema();
  -- pg_stat_statements 1.8+ splits planning and execution time; before it, total_time.
  IF EXISTS (SELECT 1 FROM pg_attribute a
             WHERE a.attrelid = format('%I.pg_stat_statements', ext_schema)::regclass
               AND a.attname = 'total_plan_time' AND NOT a.attisdropped) THEN
    time_expr := '(s.total_plan_time + s.total_exec_time)';
  ELSE
    time_expr := 's.total_time';
  END IF;
  EXECUTE format($q$
    SELECT count(*) FROM %2$I.pg_stat_statements(false) s
    WHERE s.dbid = (SELECT d.oid FROM pg_database d WHERE d.datname = current_database())
      AND s.calls > 0 AND s.calls >= $2 AND %1$s / s.calls >= $1
  $q$, time_expr, ext_schema) INTO found USING min_mean_ms, min_calls;
  RETURN found;
END $$;
