-- Client connections to THIS database by state and application_name.
-- connections: backends in the group; oldest_idle_in_transaction_s: age (s)
-- of the longest 'idle in transaction' (or aborted) session of the group,
-- NULL if none; longest_active_query_s: runtime (s) of its longest running
-- statement, NULL if none active. max_connections is server-wide;
-- usable_connections = max_connections - superuser_reserved_connections
-- - reserved_connections (PostgreSQL 16+, 0 before).
CREATE VIEW monitoring_connections WITH (security_invoker = true) AS
WITH limits AS (
  SELECT current_setting('max_connections')::integer AS max_connections,
         current_setting('max_connections')::integer
           - current_setting('superuser_reserved_connections')::integer
           - coalesce(NULLIF(current_setting('reserved_connections', true), '')::integer, 0) AS usable_connections
)
SELECT coalesce(a.state, 'unknown') AS state,
       coalesce(a.application_name, '') AS application_name,
       count(*) AS connections,
       max(extract(epoch FROM clock_timestamp() - a.state_change)::double precision)
         FILTER (WHERE a.state LIKE 'idle in transaction%') AS oldest_idle_in_transaction_s,
       max(extract(epoch FROM clock_timestamp() - a.query_start)::double precision)
         FILTER (WHERE a.state = 'active') AS longest_active_query_s,
       l.max_connections,
       l.usable_connections
FROM pg_stat_activity a
CROSS JOIN limits l
WHERE app_is_platform() AND a.datname = current_database() AND a.backend_type = 'client backend'
GROUP BY 1, 2, l.max_connections, l.usable_connections;
