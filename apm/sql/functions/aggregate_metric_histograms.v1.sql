-- aggregate_metric_histograms(bucket) -> integer: the histogram side of
-- aggregate_metrics (see above), incremental by its own watermark
-- (apm_aggregation_watermarks.last_histogram_ingested_at, same 2-minute
-- overlap): every bucket that received a histogram point since is
-- recomputed from all of its points; unchanged statistics are not
-- rewritten. Staff or service context only; the same advisory lock.
CREATE FUNCTION aggregate_metric_histograms(bucket interval) RETURNS integer
LANGUAGE plpgsql VOLATILE SET search_path = public AS $$
DECLARE
  overlap  constant interval := interval '2 minutes';
  origin   constant timestamptz := timestamptz '1970-01-01 00:00:00+00';
  width    integer := extract(epoch FROM bucket)::integer;
  mark     timestamptz;
  new_mark timestamptz;
  written  integer;
BEGIN
  IF NOT app_is_platform() THEN
    RAISE EXCEPTION 'aggregate_metric_histograms needs a staff or service context (app.role is %)',
      quote_literal(app_role()) USING ERRCODE = 'insufficient_privilege';
  END IF;
  PERFORM pg_advisory_xact_lock(hashtext('aggregate_metrics'), width);
  SELECT w.last_histogram_ingested_at INTO mark FROM apm_aggregation_watermarks w WHERE w.bucket_seconds = width;
  mark := coalesce(mark, '-infinity'::timestamptz);
  SELECT max(h.ingested_at) INTO new_mark FROM apm_metric_histograms h;
  IF new_mark IS NULL OR new_mark <= mark - overlap THEN
    RETURN 0;
  END IF;
  WITH touched AS (
    SELECT DISTINCT h.organization_id, h.service, h.metric_name, date_bin(bucket, h.recorded_at, origin) AS bucket_start
    FROM apm_metric_histograms h
    WHERE h.ingested_at > mark - overlap AND h.ingested_at <= new_mark
  ), pts AS (
    SELECT t.organization_id, t.service, t.metric_name, t.bucket_start, h.count, h.sum, h.min, h.max, h.bounds, h.counts
    FROM touched t
    JOIN apm_metric_histograms h
      ON h.organization_id = t.organization_id AND h.service = t.service AND h.metric_name = t.metric_name
     AND h.recorded_at >= t.bucket_start AND h.recorded_at < t.bucket_start + bucket
    WHERE h.count > 0
  ), totals AS (
    SELECT p.organization_id, p.service, p.metric_name, p.bucket_start, sum(p.count) AS n, sum(p.sum) AS total,
           min(p.min) AS lo, max(p.max) AS hi, bool_and(p.min IS NOT NULL) AS all_min, bool_and(p.max IS NOT NULL) AS all_max
    FROM pts p GROUP BY 1, 2, 3, 4
  ), intervals AS (
    SELECT p.organization_id, p.service, p.metric_name, p.bucket_start,
           p.bounds[i] AS lower, p.bounds[i + 1] AS upper, sum(p.counts[i]) AS n
    FROM pts p CROSS JOIN LATERAL generate_subscripts(p.counts, 1) AS i
    GROUP BY 1, 2, 3, 4, 5, 6
  ), merged AS (
    SELECT organization_id, service, metric_name, bucket_start,
           array_agg(lower ORDER BY upper, lower) AS lowers, array_agg(upper ORDER BY upper, lower) AS uppers,
           array_agg(n::float8 ORDER BY upper, lower) AS ns
    FROM intervals WHERE n > 0 GROUP BY 1, 2, 3, 4
  ), stats AS (
    SELECT t.*, apm_histogram_quantiles(m.lowers, m.uppers, m.ns, ARRAY[0, 0.5, 0.95, 0.99, 1]::float8[],
                                        CASE WHEN t.all_min THEN t.lo END, CASE WHEN t.all_max THEN t.hi END) AS q
    FROM totals t JOIN merged m USING (organization_id, service, metric_name, bucket_start)
  )
  INSERT INTO apm_metric_aggregations AS a
         (organization_id, service, metric_name, bucket_seconds, bucket_start,
          count, sum, min, max, avg, p50, p95, p99, updated_at)
  SELECT s.organization_id, s.service, s.metric_name, width, s.bucket_start, s.n, s.total,
         CASE WHEN s.all_min THEN s.lo ELSE least(s.lo, s.q[1]) END,
         CASE WHEN s.all_max THEN s.hi ELSE greatest(s.hi, s.q[5]) END,
         s.total / s.n, s.q[2], s.q[3], s.q[4], clock_timestamp()
  FROM stats s
  ON CONFLICT ON CONSTRAINT idx_apm_aggregations_bucket_key DO UPDATE
     SET count = EXCLUDED.count, sum = EXCLUDED.sum, min = EXCLUDED.min, max = EXCLUDED.max,
         avg = EXCLUDED.avg, p50 = EXCLUDED.p50, p95 = EXCLUDED.p95, p99 = EXCLUDED.p99,
         updated_at = EXCLUDED.updated_at
   WHERE (a.count, a.min, a.max, a.p50, a.p95, a.p99)
         IS DISTINCT FROM (EXCLUDED.count, EXCLUDED.min, EXCLUDED.max, EXCLUDED.p50, EXCLUDED.p95, EXCLUDED.p99)
      OR abs(a.sum - EXCLUDED.sum) > 1e-12 * greatest(abs(a.sum), abs(EXCLUDED.sum))
      OR abs(a.avg - EXCLUDED.avg) > 1e-12 * greatest(abs(a.avg), abs(EXCLUDED.avg));
  GET DIAGNOSTICS written = ROW_COUNT;
  INSERT INTO apm_aggregation_watermarks AS w (bucket_seconds, last_ingested_at, last_histogram_ingested_at, updated_at)
  VALUES (width, '-infinity', new_mark, clock_timestamp())
  ON CONFLICT (bucket_seconds) DO UPDATE
     SET last_histogram_ingested_at = greatest(w.last_histogram_ingested_at, EXCLUDED.last_histogram_ingested_at),
         updated_at = EXCLUDED.updated_at;
  RETURN written;
END $$;
