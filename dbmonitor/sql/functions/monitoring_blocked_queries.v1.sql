-- Backends of this database waiting for a lock, one row per (blocked,
-- blocking) pair (pg_blocking_pids). Durations in seconds: blocked_s since
-- the blocked statement started, blocking_s since the blocker's transaction
-- started (a lock is held until its transaction ends).
CREATE FUNCTION monitoring_blocked_queries()
RETURNS TABLE (
  blocked_pid integer, blocked_role name, blocked_application text, blocked_s double precision, blocked_query text,
  blocking_pid integer, blocking_role name, blocking_application text, blocking_state text,
  blocking_s double precision, blocking_query text
)
LANGUAGE sql STABLE AS $$
  SELECT w.pid, w.usename, w.application_name,
         extract(epoch FROM clock_timestamp() - w.query_start)::double precision, redact_query_text(w.query),
         b.pid, b.usename, b.application_name, b.state,
         extract(epoch FROM clock_timestamp() - coalesce(b.xact_start, b.query_start))::double precision,
         redact_query_text(b.query)
  FROM pg_stat_activity w
  CROSS JOIN LATERAL unnest(pg_blocking_pids(w.pid)) AS blocker(pid)
  JOIN pg_stat_activity b ON b.pid = blocker.pid
  WHERE app_is_platform() AND w.datname = current_database() AND w.wait_event_type = 'Lock'
  ORDER BY w.query_start, b.pid
$$;
