-- monitoring_summary(slow_queries, tables_needing_vacuum, rls_unprotected_tables) -> jsonb: the
-- summary of get_database_monitoring_summary() (same shape and status rule) from the three counts
-- that cost the most to take, read by the caller: connections, pg_stat_statements' availability and
-- the unresolved monitoring_events are read here. The database page reads the slow statements, the
-- table health and the RLS status in full anyway, so it counts them itself instead of having them
-- read twice (pg_stat_statements, every table's size). A non-platform context gets status
-- 'unknown', every count 0 and pg_stat_statements false, whatever the counts given.
CREATE FUNCTION monitoring_summary(
  slow_queries integer, tables_needing_vacuum integer, rls_unprotected_tables integer
) RETURNS jsonb
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
    slow := coalesce(slow_queries, 0);
    needing_vacuum := coalesce(tables_needing_vacuum, 0);
    unprotected := coalesce(rls_unprotected_tables, 0);
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
