-- rollup_database_performance(at timestamptz, lookback interval) -> integer (rows written) — issue 18 §2.
--
-- Set-based: every hour with a db_snapshots row taken in (at - lookback, at] is recomputed whole
-- from that hour's db_statement_deltas and upserted into database_performance per query
-- fingerprint (pg_stat_statements' queryid, summed over the roles that ran it): calls, total_ms,
-- mean_ms, rows, shared buffer hits/reads and hit_ratio; query = the redacted text of
-- db_statement_counters. Staff or service context only.
CREATE FUNCTION rollup_database_performance(at timestamptz, lookback interval DEFAULT interval '5 minutes')
RETURNS integer
LANGUAGE plpgsql VOLATILE SET search_path = public AS $$
DECLARE
  written integer;
BEGIN
  IF NOT app_is_platform() THEN
    RAISE EXCEPTION 'rollup_database_performance needs a staff or service context'
      USING ERRCODE = 'insufficient_privilege';
  END IF;
  WITH hours AS (
    SELECT DISTINCT date_trunc('hour', s.taken_at) AS bucket_start
    FROM db_snapshots s WHERE s.taken_at > at - lookback AND s.taken_at <= at
  ), sums AS (
    SELECT h.bucket_start, d.queryid, sum(d.calls) AS calls, sum(d.total_ms) AS total_ms, sum(d.rows) AS rows,
           sum(d.shared_blks_hit) AS hit, sum(d.shared_blks_read) AS read
    FROM hours h
    JOIN db_snapshots s ON s.taken_at >= h.bucket_start AND s.taken_at < h.bucket_start + interval '1 hour'
    JOIN db_statement_deltas d ON d.snapshot_id = s.id
    GROUP BY h.bucket_start, d.queryid
  )
  INSERT INTO database_performance AS p (bucket_start, queryid, query, calls, total_ms, mean_ms, rows,
                                         shared_blks_hit, shared_blks_read, hit_ratio, updated_at)
  SELECT x.bucket_start, x.queryid,
         coalesce((SELECT c.query FROM db_statement_counters c WHERE c.queryid = x.queryid ORDER BY c.last_seen_at DESC
                   LIMIT 1), ''),
         x.calls, x.total_ms, x.total_ms / NULLIF(x.calls, 0), x.rows, x.hit, x.read,
         x.hit::float8 / NULLIF(x.hit + x.read, 0), at
  FROM sums x
  WHERE x.calls > 0
  ON CONFLICT (queryid, bucket_start) DO UPDATE SET
    query = EXCLUDED.query, calls = EXCLUDED.calls, total_ms = EXCLUDED.total_ms, mean_ms = EXCLUDED.mean_ms,
    rows = EXCLUDED.rows, shared_blks_hit = EXCLUDED.shared_blks_hit, shared_blks_read = EXCLUDED.shared_blks_read,
    hit_ratio = EXCLUDED.hit_ratio, updated_at = EXCLUDED.updated_at;
  GET DIAGNOSTICS written = ROW_COUNT;
  RETURN coalesce(written, 0);
END $$;
