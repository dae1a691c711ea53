-- rollup_api_performance(at timestamptz, lookback interval) -> integer (rows written) — issue 18 §2.
--
-- Set-based: the (organization, service, minute) buckets that got a response_time point
-- (performance_metric_type_of) ingested in (at - lookback, at] are recomputed whole from
-- performance_metrics and upserted into api_performance per endpoint: request_count (points),
-- error_count (status_code >= 500 or tag error true/1), error_rate, p50/p95/p99 (percentile_cont)
-- and max, in ms (points in unit 's' are converted). Points without an endpoint tag are not an
-- endpoint's and are left out. Staff or service context only.
CREATE FUNCTION rollup_api_performance(at timestamptz, lookback interval DEFAULT interval '5 minutes')
RETURNS integer
LANGUAGE plpgsql VOLATILE SET search_path = public AS $$
DECLARE
  written integer;
BEGIN
  IF NOT app_is_platform() THEN
    RAISE EXCEPTION 'rollup_api_performance needs a staff or service context'
      USING ERRCODE = 'insufficient_privilege';
  END IF;
  WITH touched AS (
    SELECT DISTINCT m.organization_id, m.service, date_trunc('minute', m.recorded_at) AS bucket_start
    FROM apm_metrics m
    JOIN organizations o ON o.id = m.organization_id  -- points of a deleted organization are no one's
    WHERE m.ingested_at > at - lookback AND m.ingested_at <= at
      AND performance_metric_type_of(m.metric_name, m.unit) = 'response_time'
  ), points AS (
    SELECT t.organization_id, t.service, t.bucket_start, p.endpoint,
           CASE WHEN p.unit = 's' THEN p.metric_value * 1000 ELSE p.metric_value END AS ms,
           coalesce(p.status_code >= 500, false) OR coalesce(p.tags->>'error', '') IN ('true', '1') AS failed
    FROM touched t
    JOIN performance_metrics p ON p.organization_id = t.organization_id AND p.service_name = t.service
     AND p."timestamp" >= t.bucket_start AND p."timestamp" < t.bucket_start + interval '1 minute'
    WHERE p.metric_type = 'response_time' AND p.endpoint IS NOT NULL AND p.endpoint <> ''
  )
  INSERT INTO api_performance AS a (organization_id, service, endpoint, bucket_start, request_count, error_count,
                                    error_rate, p50_ms, p95_ms, p99_ms, max_ms, updated_at)
  SELECT organization_id, service, left(endpoint, 500), bucket_start, count(*), count(*) FILTER (WHERE failed),
         (count(*) FILTER (WHERE failed))::float8 / count(*),
         percentile_cont(0.5) WITHIN GROUP (ORDER BY ms), percentile_cont(0.95) WITHIN GROUP (ORDER BY ms),
         percentile_cont(0.99) WITHIN GROUP (ORDER BY ms), max(ms), at
  FROM points
  GROUP BY organization_id, service, left(endpoint, 500), bucket_start
  ON CONFLICT (organization_id, service, endpoint, bucket_start) DO UPDATE SET
    request_count = EXCLUDED.request_count, error_count = EXCLUDED.error_count, error_rate = EXCLUDED.error_rate,
    p50_ms = EXCLUDED.p50_ms, p95_ms = EXCLUDED.p95_ms, p99_ms = EXCLUDED.p99_ms, max_ms = EXCLUDED.max_ms,
    updated_at = EXCLUDED.updated_at;
  GET DIAGNOSTICS written = ROW_COUNT;
  RETURN written;
END $$;
