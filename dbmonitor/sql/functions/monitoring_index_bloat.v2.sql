-- monitoring_index_bloat(), version 2: the estimate and the rows of version 1, with each index's
-- size read only for the indexes that have an estimate. pg_relation_size is volatile and stats the
-- index's files: version 1 read it for every btree index before dropping those without column
-- statistics (at 402 indexes, 102 of them partitions' of apm_metrics, ~11 of its 16 ms).
-- Estimated bloat of btree indexes on plain columns of analyzed tables:
-- expected_bytes = (1 metapage + leaf pages for reltuples entries of
-- (8-byte IndexTuple header + sum of the key columns' avg_width, MAXALIGNed,
-- + 4-byte line pointer) on (block_size - 24 - 16)-byte pages at the index
-- fillfactor, default 90) × block_size; same caveats as the table estimate.
CREATE OR REPLACE FUNCTION monitoring_index_bloat()
RETURNS TABLE (
  schema_name text, table_name text, index_name text, index_bytes bigint, expected_bytes bigint,
  bloat_bytes bigint, bloat_ratio double precision
)
LANGUAGE sql STABLE AS $$
  WITH i AS (
    SELECT n.nspname, t.relname AS table_name, ic.oid AS index_oid, ic.relname AS index_name, ic.reltuples,
           coalesce((SELECT substring(o FROM 'fillfactor=(\d+)')::int FROM unnest(ic.reloptions) o
                     WHERE o LIKE 'fillfactor=%'), 90) AS fillfactor,
           (SELECT sum(s.avg_width) FROM unnest(x.indkey::int2[]) AS k(attnum)
              JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum
              JOIN pg_stats s ON s.schemaname = n.nspname AND s.tablename = t.relname AND s.attname = a.attname
                             AND NOT s.inherited) AS key_width,
           current_setting('block_size')::bigint AS bs
    FROM pg_index x
    JOIN pg_class ic ON ic.oid = x.indexrelid
    JOIN pg_class t ON t.oid = x.indrelid
    JOIN pg_namespace n ON n.oid = t.relnamespace
    JOIN pg_am am ON am.oid = ic.relam
    WHERE app_is_platform() AND am.amname = 'btree' AND x.indexprs IS NULL AND ic.reltuples >= 0
      AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast') AND n.nspname NOT LIKE 'pg\_temp\_%'
  ), e AS MATERIALIZED (
    -- MATERIALIZED: the sizes below are read for these rows only, once each.
    SELECT i.*, (1 + ceil(greatest(i.reltuples, 0) * (8 + ceil(i.key_width / 8.0) * 8 + 4)
                         / ((i.bs - 40) * i.fillfactor / 100.0))) * i.bs AS expected
    FROM i WHERE i.key_width IS NOT NULL
  ), sized AS (
    SELECT e.*, pg_relation_size(e.index_oid) AS index_bytes FROM e
  )
  SELECT s.nspname::text, s.table_name::text, s.index_name::text, s.index_bytes, s.expected::bigint,
         greatest(s.index_bytes - s.expected, 0)::bigint,
         CASE WHEN s.index_bytes > 0 THEN greatest(s.index_bytes - s.expected, 0) / s.index_bytes::double precision
              ELSE 0 END
  FROM sized s
  ORDER BY greatest(s.index_bytes - s.expected, 0) DESC, s.index_name
$$;
