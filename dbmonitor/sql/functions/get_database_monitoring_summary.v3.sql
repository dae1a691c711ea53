-- get_database_monitoring_summary(), version 3: the shape and the rules of version 2, assembled by
-- monitoring_summary() from the three counts taken here (slow statements by
-- monitoring_slow_query_count() with the settings the view monitoring_slow_queries reads, tables of
-- monitoring_table_health needing vacuum, flagged rows of monitoring_rls_status).
-- get_database_monitoring_summary() -> jsonb:
--   {"status": "ok"|"warning"|"critical"|"unknown", "checked_at": ISO 8601 timestamptz,
--    "connections": {"used": int, "max": int, "idle_in_transaction": int},
--    "slow_queries": int, "pg_stat_statements": bool,
--    "tables_needing_vacuum": int, "rls_unprotected_tables": int, "open_events": int}
-- connections.used and idle_in_transaction count client backends of the whole server
-- (max_connections is server-wide); max is usable_connections (see monitoring_connections);
-- open_events counts unresolved monitoring_events. Status: monitoring_overall_status(). A
-- non-platform context gets status 'unknown', every count 0 and pg_stat_statements false.
CREATE OR REPLACE FUNCTION get_database_monitoring_summary() RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
BEGIN
  IF NOT app_is_platform() THEN
    RETURN monitoring_summary(0, 0, 0);
  END IF;
  RETURN monitoring_summary(
    monitoring_slow_query_count(
      coalesce(NULLIF(current_setting('dbmonitor.slow_query_ms', true), '')::double precision, 100),
      coalesce(NULLIF(current_setting('dbmonitor.slow_query_min_calls', true), '')::bigint, 1))::integer,
    (SELECT count(*)::integer FROM monitoring_table_health h WHERE h.needs_vacuum),
    (SELECT count(*)::integer FROM monitoring_rls_status r WHERE r.flagged));
END $$;
