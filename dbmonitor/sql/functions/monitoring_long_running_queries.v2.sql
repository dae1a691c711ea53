-- As in v1, with the query text normalised before it is redacted.
CREATE OR REPLACE FUNCTION monitoring_long_running_queries(min_s double precision DEFAULT 60)
RETURNS TABLE (
  pid integer, role_name name, application_name text, state text, wait_event_type text, wait_event text,
  duration_s double precision, query text
)
LANGUAGE sql STABLE AS $$
  SELECT a.pid, a.usename, a.application_name, a.state, a.wait_event_type, a.wait_event,
         extract(epoch FROM clock_timestamp() - a.query_start)::double precision,
         redact_query_text(normalize_query_text(a.query))
  FROM pg_stat_activity a
  WHERE app_is_platform() AND a.datname = current_database() AND a.backend_type = 'client backend'
    AND a.pid <> pg_backend_pid() AND a.state IN ('active', 'fastpath function call')
    AND a.query_start <= clock_timestamp() - make_interval(secs => min_s)
  ORDER BY a.query_start
$$;
