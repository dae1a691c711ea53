-- get_database_monitoring_summary(), version 2: the shape and the rules of version 1; slow_queries
-- is counted by monitoring_slow_query_count() (pg_stat_statements without the statement texts)
-- with the same settings the view monitoring_slow_queries reads, instead of counting that view.
-- get_database_monitoring_summary() -> jsonb:
--   {"status": "ok"|"warning"|"critical"|"unknown", "checked_at": ISO 8601 timestamptz,
--    "connections": {"used": int, "max": int, "idle_in_transaction": int},
--    "slow_queries": int, "pg_stat_statements": bool,
--    "tables_needing_vacuum": int, "rls_unprotected_tables": int, "open_events": int}
-- connections.used and idle_in_transaction count client backends of the
-- whole server (max_connections is server-wide); max is usable_connections
-- (see monitoring_connections). slow_queries, tables_needing_vacuum and
-- rls_unprotected_tables count rows of the views of the same names
-- (flagged, needs_vacuum); open_events counts unresolved monitoring_events.
-- Status: monitoring_overall_status(). A non-platform context gets status
-- 'unknown', every count 0 and pg_stat_statements false.
CREATE OR REPLACE FUNCTION get_database_monitoring_summary() RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
DECLARE
  used integer := 0;
  idle_tx integer := 0;
  usable integer := 0;
  slow integer := 0;
  pgss boolean := false;
  needing_vacuum integer := 0;
  unprotected integer := 0;
  open_all integer := 0;
  open_critical integer := 0;
  open_warning integer := 0;
  status text := 'unknown';
BEGIN
  IF app_is_platform() THEN
    SELECT count(*)::integer, (count(*) FILTER (WHERE a.state LIKE 'idle in transaction%'))::integer
      INTO used, idle_tx
      FROM pg_stat_activity a WHERE a.backend_type = 'client backend';
    usable := current_setting('max_connections')::integer
              - current_setting('superuser_reserved_connections')::integer
              - coalesce(NULLIF(current_setting('reserved_connections', true), '')::integer, 0);
    pgss := pg_stat_statements_available();
    slow := monitoring_slow_query_count(
      coalesce(NULLIF(current_setting('dbmonitor.slow_query_ms', true), '')::double precision, 100),
      coalesce(NULLIF(current_setting('dbmonitor.slow_query_min_calls', true), '')::bigint, 1))::integer;
    SELECT count(*)::integer INTO needing_vacuum FROM monitoring_table_health h WHERE h.needs_vacuum;
    SELECT count(*)::integer INTO unprotected FROM monitoring_rls_status r WHERE r.flagged;
    SELECT count(*)::integer,
           (count(*) FILTER (WHERE e.severity IN ('critical', 'emergency')))::integer,
           (count(*) FILTER (WHERE e.severity = 'warning'))::integer
      INTO open_all, open_critical, open_warning
      FROM monitoring_events e WHERE NOT e.resolved;
    status := monitoring_overall_status(used, usable, slow, needing_vacuum, unprotected, open_critical, open_warning);
  END IF;
  RETURN jsonb_build_object(
    'status', status,
    'checked_at', to_jsonb(clock_timestamp()),
    'connections', jsonb_build_object('used', used, 'max', usable, 'idle_in_transaction', idle_tx),
    'slow_queries', slow,
    'pg_stat_statements', pgss,
    'tables_needing_vacuum', needing_vacuum,
    'rls_unprotected_tables', unprotected,
    'open_events', open_all
  );
END $$;
