-- Per user table of THIS database (temporary tables excluded): live and dead
-- tuples, dead_ratio = dead / (live + dead) (0..1, 0 for an empty table),
-- the last manual/auto vacuum and analyze, vacuum_lag_s = seconds since the
-- later of last_vacuum and last_autovacuum (NULL: never vacuumed),
-- table_bytes (heap) and total_bytes (with indexes and TOAST), and
-- needs_vacuum: dead tuples past the autovacuum trigger point
-- (autovacuum_vacuum_threshold + autovacuum_vacuum_scale_factor × live,
-- server settings; a lasting true means autovacuum is behind or blocked).
CREATE VIEW monitoring_table_health WITH (security_invoker = true) AS
SELECT s.schemaname::text AS schema_name,
       s.relname::text AS table_name,
       s.n_live_tup,
       s.n_dead_tup,
       CASE WHEN s.n_live_tup + s.n_dead_tup > 0
            THEN s.n_dead_tup::double precision / (s.n_live_tup + s.n_dead_tup) ELSE 0 END AS dead_ratio,
       s.last_vacuum,
       s.last_autovacuum,
       s.last_analyze,
       s.last_autoanalyze,
       extract(epoch FROM clock_timestamp() - greatest(s.last_vacuum, s.last_autovacuum))::double precision
         AS vacuum_lag_s,
       pg_relation_size(s.relid) AS table_bytes,
       pg_total_relation_size(s.relid) AS total_bytes,
       s.n_dead_tup > current_setting('autovacuum_vacuum_threshold')::bigint
                      + current_setting('autovacuum_vacuum_scale_factor')::double precision * s.n_live_tup
         AS needs_vacuum
FROM pg_stat_user_tables s
WHERE app_is_platform() AND s.schemaname NOT LIKE 'pg\_temp\_%';
