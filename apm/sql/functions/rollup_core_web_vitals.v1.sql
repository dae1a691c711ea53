-- rollup_core_web_vitals(at timestamptz, lookback interval) -> integer (rows written) — issue 18 §2.
--
-- Set-based, like aggregate_metrics: the (organization, page, device class, hour) buckets that got
-- a web-vitals point ingested in (at - lookback, at] are recomputed whole from apm_metrics (service
-- 'web-vitals', points web_vitals.<name>, tags page and device) and upserted into core_web_vitals:
-- samples (page loads: the most points of one vital), the p75 of LCP, INP, CLS, FCP and TTFB
-- (percentile_cont) and each one's web_vitals_rating. Staff or service context only.
CREATE FUNCTION rollup_core_web_vitals(at timestamptz, lookback interval DEFAULT interval '5 minutes')
RETURNS integer
LANGUAGE plpgsql VOLATILE SET search_path = public AS $$
DECLARE
  written integer;
BEGIN
  IF NOT app_is_platform() THEN
    RAISE EXCEPTION 'rollup_core_web_vitals needs a staff or service context'
      USING ERRCODE = 'insufficient_privilege';
  END IF;
  WITH touched AS (
    SELECT DISTINCT m.organization_id, coalesce(m.tags->>'page', '') AS page,
           coalesce(nullif(m.tags->>'device', ''), 'unknown') AS device_class,
           date_trunc('hour', m.recorded_at) AS bucket_start
    FROM apm_metrics m
    JOIN organizations o ON o.id = m.organization_id  -- points of a deleted organization are no one's
    WHERE m.ingested_at > at - lookback AND m.ingested_at <= at
      AND m.service = 'web-vitals' AND m.metric_name LIKE 'web\_vitals.%'
  ), points AS (
    SELECT t.organization_id, t.page, t.device_class, t.bucket_start, substr(m.metric_name, 12) AS vital, m.value
    FROM touched t
    JOIN apm_metrics m ON m.organization_id = t.organization_id AND m.service = 'web-vitals'
     AND m.metric_name LIKE 'web\_vitals.%'
     AND m.recorded_at >= t.bucket_start AND m.recorded_at < t.bucket_start + interval '1 hour'
     AND coalesce(m.tags->>'page', '') = t.page AND coalesce(nullif(m.tags->>'device', ''), 'unknown') = t.device_class
  ), per_vital AS (
    SELECT organization_id, page, device_class, bucket_start, vital, count(*) AS n,
           percentile_cont(0.75) WITHIN GROUP (ORDER BY value) AS p75
    FROM points GROUP BY organization_id, page, device_class, bucket_start, vital
  ), wide AS (
    SELECT organization_id, page, device_class, bucket_start, max(n) AS samples,
           max(p75) FILTER (WHERE vital = 'LCP') AS lcp, max(p75) FILTER (WHERE vital = 'INP') AS inp,
           max(p75) FILTER (WHERE vital = 'CLS') AS cls, max(p75) FILTER (WHERE vital = 'FCP') AS fcp,
           max(p75) FILTER (WHERE vital = 'TTFB') AS ttfb
    FROM per_vital GROUP BY organization_id, page, device_class, bucket_start
  )
  INSERT INTO core_web_vitals AS c (organization_id, bucket_start, page, device_class, samples, lcp_ms, inp_ms, cls,
                                    fcp_ms, ttfb_ms, lcp_rating, inp_rating, cls_rating, fcp_rating, ttfb_rating,
                                    updated_at)
  SELECT w.organization_id, w.bucket_start, left(w.page, 500), left(w.device_class, 20), w.samples,
         w.lcp, w.inp, w.cls, w.fcp, w.ttfb,
         coalesce(web_vitals_rating('LCP', w.lcp), ''), coalesce(web_vitals_rating('INP', w.inp), ''),
         coalesce(web_vitals_rating('CLS', w.cls), ''), coalesce(web_vitals_rating('FCP', w.fcp), ''),
         coalesce(web_vitals_rating('TTFB', w.ttfb), ''), at
  FROM wide w
  ON CONFLICT (organization_id, bucket_start, page, device_class) DO UPDATE SET
    samples = EXCLUDED.samples, lcp_ms = EXCLUDED.lcp_ms, inp_ms = EXCLUDED.inp_ms, cls = EXCLUDED.cls,
    fcp_ms = EXCLUDED.fcp_ms, ttfb_ms = EXCLUDED.ttfb_ms, lcp_rating = EXCLUDED.lcp_rating,
    inp_rating = EXCLUDED.inp_rating, cls_rating = EXCLUDED.cls_rating, fcp_rating = EXCLUDED.fcp_rating,
    ttfb_rating = EXCLUDED.ttfb_rating, updated_at = EXCLUDED.updated_at;
  GET DIAGNOSTICS written = ROW_COUNT;
  RETURN written;
END $$;
