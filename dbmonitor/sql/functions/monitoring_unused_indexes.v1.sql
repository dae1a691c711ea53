-- Non-unique (so not primary-key) valid indexes of user tables scanned at
-- most max_scans times since the statistics were reset, biggest first
-- (PgHero unused_indexes). An index that only enforces a constraint is
-- unique and never listed.
CREATE FUNCTION monitoring_unused_indexes(max_scans bigint DEFAULT 50)
RETURNS TABLE (schema_name text, table_name text, index_name text, index_scans bigint, index_bytes bigint)
LANGUAGE sql STABLE AS $$
  SELECT s.schemaname::text, s.relname::text, s.indexrelname::text, s.idx_scan, pg_relation_size(s.indexrelid)
  FROM pg_stat_user_indexes s
  JOIN pg_index i ON i.indexrelid = s.indexrelid
  WHERE app_is_platform() AND NOT i.indisunique AND i.indisvalid AND s.idx_scan <= max_scans
    AND s.schemaname NOT LIKE 'pg\_temp\_%'
  ORDER BY pg_relation_size(s.indexrelid) DESC, s.relname, s.indexrelname
$$;
