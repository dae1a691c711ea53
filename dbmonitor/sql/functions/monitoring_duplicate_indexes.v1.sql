-- Indexes made unnecessary by another index of the same table and access
-- method whose key columns start with all of theirs (PgHero
-- duplicate_indexes): neither has expressions or a predicate, both are
-- valid, the redundant one is neither unique nor primary; of two identical
-- indexes the one with the later name is listed.
CREATE FUNCTION monitoring_duplicate_indexes()
RETURNS TABLE (
  schema_name text, table_name text, index_name text, covering_index_name text, index_bytes bigint,
  index_def text, covering_index_def text
)
LANGUAGE sql STABLE AS $$
  SELECT n.nspname::text, t.relname::text, ic.relname::text, cc.relname::text, pg_relation_size(ic.oid),
         pg_get_indexdef(ic.oid), pg_get_indexdef(cc.oid)
  FROM pg_index a
  JOIN pg_index b ON b.indrelid = a.indrelid AND b.indexrelid <> a.indexrelid
  JOIN pg_class ic ON ic.oid = a.indexrelid
  JOIN pg_class cc ON cc.oid = b.indexrelid
  JOIN pg_class t ON t.oid = a.indrelid
  JOIN pg_namespace n ON n.oid = t.relnamespace
  WHERE app_is_platform()
    AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast') AND n.nspname NOT LIKE 'pg\_temp\_%'
    AND NOT a.indisunique AND NOT a.indisprimary AND a.indisvalid AND b.indisvalid
    AND a.indexprs IS NULL AND a.indpred IS NULL AND b.indexprs IS NULL AND b.indpred IS NULL
    AND ic.relam = cc.relam
    AND (' ' || b.indkey::text || ' ') LIKE (' ' || a.indkey::text || ' %')
    AND (a.indkey::text <> b.indkey::text OR ic.relname > cc.relname)
  ORDER BY t.relname, ic.relname
$$;
