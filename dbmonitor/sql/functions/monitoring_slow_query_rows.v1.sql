-- monitoring_slow_query_rows(min_mean_ms, min_calls): statements of THIS
-- database whose mean time (planning + execution, ms) per call is at least
-- min_mean_ms and that ran at least min_calls times. Platform contexts only;
-- zero rows when pg_stat_statements is unavailable (see above).
-- Columns: source ('pg_stat_statements'), queryid, role_name, query (redacted),
-- calls, mean_ms, total_ms, rows, shared_blks_hit, shared_blks_read,
-- cache_hit_ratio (0..1, NULL when no block was touched).
CREATE FUNCTION monitoring_slow_query_rows(min_mean_ms double precision DEFAULT 100, min_calls bigint DEFAULT 1)
RETURNS TABLE (
  source text, queryid bigint, role_name name, query text, calls bigint, mean_ms double precision,
  total_ms double precision, rows bigint, shared_blks_hit bigint, shared_blks_read bigint,
  cache_hit_ratio double precision
)
LANGUAGE plpgsql STABLE AS $$
DECLARE
  ext_schema name;
  time_expr text;
BEGIN
  IF NOT app_is_platform() OR NOT pg_stat_statements_available() THEN
    RETURN;
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
  RETURN QUERY EXECUTE format($q$
    SELECT 'pg_stat_statements'::text, s.queryid, r.rolname, redact_query_text(s.query), s.calls,
           %1$s / s.calls, %1$s, s.rows, s.shared_blks_hit, s.shared_blks_read,
           s.shared_blks_hit::double precision / NULLIF(s.shared_blks_hit + s.shared_blks_read, 0)
    FROM %2$I.pg_stat_statements s
    LEFT JOIN pg_roles r ON r.oid = s.userid
    WHERE s.dbid = (SELECT d.oid FROM pg_database d WHERE d.datname = current_database())
      AND s.calls > 0 AND s.calls >= $2 AND %1$s / s.calls >= $1
    ORDER BY %1$s / s.calls DESC
  $q$, time_expr, ext_schema) USING min_mean_ms, min_calls;
END $$;
