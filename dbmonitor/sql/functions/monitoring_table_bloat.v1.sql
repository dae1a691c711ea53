-- Estimated heap bloat of analyzed user tables: expected_bytes =
-- pages needed for reltuples rows of (23-byte header + null bitmap,
-- MAXALIGNed to 24, + sum of pg_stats.avg_width, MAXALIGNed to 8, + a
-- 4-byte line pointer) on (block_size - 24)-byte pages at the table's
-- fillfactor (default 100); bloat_bytes = greatest(actual - expected, 0).
-- The simplified form of the well-known estimate (ioguix/pgsql-bloat-
-- estimation); it ignores TOAST and alignment padding between columns, so
-- treat small tables and small ratios as noise. Tables without statistics
-- (never analyzed) are left out.
CREATE FUNCTION monitoring_table_bloat()
RETURNS TABLE (
  schema_name text, table_name text, table_bytes bigint, expected_bytes bigint, bloat_bytes bigint,
  bloat_ratio double precision
)
LANGUAGE sql STABLE AS $$
  WITH t AS (
    SELECT c.oid, n.nspname, c.relname, c.reltuples, pg_relation_size(c.oid) AS table_bytes,
           coalesce((SELECT substring(o FROM 'fillfactor=(\d+)')::int FROM unnest(c.reloptions) o
                     WHERE o LIKE 'fillfactor=%'), 100) AS fillfactor,
           (SELECT sum(s.avg_width) FROM pg_stats s WHERE s.schemaname = n.nspname AND s.tablename = c.relname
              AND NOT s.inherited) AS data_width,
           current_setting('block_size')::bigint AS bs
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE app_is_platform() AND c.relkind = 'r'
      AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast') AND n.nspname NOT LIKE 'pg\_temp\_%'
      AND c.reltuples >= 0
  ), e AS (
    SELECT t.*, ceil(greatest(t.reltuples, 0) * (24 + ceil(t.data_width / 8.0) * 8 + 4)
                     / ((t.bs - 24) * t.fillfactor / 100.0)) * t.bs AS expected
    FROM t WHERE t.data_width IS NOT NULL
  )
  SELECT e.nspname::text, e.relname::text, e.table_bytes, e.expected::bigint,
         greatest(e.table_bytes - e.expected, 0)::bigint,
         CASE WHEN e.table_bytes > 0 THEN greatest(e.table_bytes - e.expected, 0) / e.table_bytes::double precision
              ELSE 0 END
  FROM e
  ORDER BY greatest(e.table_bytes - e.expected, 0) DESC, e.relname
$$;
