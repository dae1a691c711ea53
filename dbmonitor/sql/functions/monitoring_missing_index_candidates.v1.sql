-- Tables with at least min_rows live rows whose scans are mostly
-- sequential: percent_index_used = 100 × idx_scan / (seq_scan + idx_scan)
-- below max_index_pct, or no index scan at all (PgHero missing_indexes:
-- 10,000 rows, 95%). Candidates for an index, not proof.
CREATE FUNCTION monitoring_missing_index_candidates(min_rows bigint DEFAULT 10000, max_index_pct double precision DEFAULT 95)
RETURNS TABLE (
  schema_name text, table_name text, seq_scan bigint, seq_tup_read bigint, idx_scan bigint,
  percent_index_used double precision, n_live_tup bigint
)
LANGUAGE sql STABLE AS $$
  SELECT s.schemaname::text, s.relname::text, s.seq_scan, s.seq_tup_read, coalesce(s.idx_scan, 0),
         100.0 * coalesce(s.idx_scan, 0) / NULLIF(s.seq_scan + coalesce(s.idx_scan, 0), 0),
         s.n_live_tup
  FROM pg_stat_user_tables s
  WHERE app_is_platform() AND s.n_live_tup >= min_rows AND s.seq_scan > 0
    AND 100.0 * coalesce(s.idx_scan, 0) / (s.seq_scan + coalesce(s.idx_scan, 0)) < max_index_pct
    AND s.schemaname NOT LIKE 'pg\_temp\_%'
  ORDER BY s.seq_tup_read DESC, s.relname
$$;
