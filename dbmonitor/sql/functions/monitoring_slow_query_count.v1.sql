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
  found bigint;
BEGIN
  IF NOT app_is_platform() OR NOT pg_stat_statements_available() THEN
    RETURN 0;
  END IF;
  -- total_plan_time and total_exec_time: pg_stat_statements 1.8+ (PostgreSQL 13+; the portal runs on 15).
  EXECUTE format($q$
    SELECT count(*) FROM %I.pg_stat_statements(false) s
    WHERE s.dbid = (SELECT d.oid FROM pg_database d WHERE d.datname = current_database())
      AND s.calls > 0 AND s.calls >= $2 AND (s.total_plan_time + s.total_exec_time) / s.calls >= $1
  $q$, pg_stat_statements_schema()) INTO found USING min_mean_ms, min_calls;
  RETURN found;
END $$;
