-- The overall status of the summary, from its counts:
--   critical: connections_used > 90% of connections_max (usable connections),
--             or an unresolved event of severity critical or emergency;
--   warning:  connections_used > 75% of connections_max, or slow_queries > 0,
--             or rls_unprotected_tables > 0, or tables_needing_vacuum > 0,
--             or an unresolved event of severity warning;
--   ok:       otherwise (unresolved info events do not count).
-- (The summary itself answers 'unknown' to non-platform contexts.)
CREATE FUNCTION monitoring_overall_status(
  connections_used integer, connections_max integer, slow_queries integer, tables_needing_vacuum integer,
  rls_unprotected_tables integer, open_critical_events integer, open_warning_events integer
) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT CASE
    WHEN (connections_max > 0 AND connections_used > 0.90 * connections_max) OR open_critical_events > 0
      THEN 'critical'
    WHEN (connections_max > 0 AND connections_used > 0.75 * connections_max) OR slow_queries > 0
         OR rls_unprotected_tables > 0 OR tables_needing_vacuum > 0 OR open_warning_events > 0
      THEN 'warning'
    ELSE 'ok'
  END
$$;
