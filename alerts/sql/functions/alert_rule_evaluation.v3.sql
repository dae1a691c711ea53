-- A single point never fires: threshold and anomaly rules breach only with at least
-- alert_configurations.min_samples metric points (sum of the 1-minute buckets' counts) in
-- their window (issue 10, "One problem is one incident"). Same signatures and columns as
-- alert_rule_evaluation.v2.sql and alert_anomaly_evaluation.v1.sql; only `breaching` changes.

CREATE OR REPLACE FUNCTION alert_rule_evaluation(at timestamptz)
RETURNS TABLE (
    rule_id uuid, organization_id uuid, organization_slug text, service text, metric_name text,
    aggregation text, comparison text, value double precision, threshold double precision,
    threshold_reason text, breaching boolean, buckets bigint, window_start timestamptz,
    window_end timestamptz, unit text
)
LANGUAGE sql STABLE AS $$
  WITH bounds AS MATERIALIZED (
    SELECT date_bin('1 minute', at, timestamptz '1970-01-01 00:00:00+00') AS window_end
  ),
  rules AS MATERIALIZED (
    SELECT r.* FROM alert_configurations r WHERE r.enabled AND r.alert_type = 'threshold'
  ),
  protocol AS MATERIALIZED (
    SELECT o.id AS org_id, o.slug::text AS org_slug, ld.d,
           EXISTS (SELECT 1 FROM weddings w WHERE w.organization_id = o.id AND w.wedding_date = ld.d
                     AND w.status <> 'cancelled') AS wedding,
           extract(isodow FROM ld.d) = 6 AS saturday,
           extract(month FROM ld.d) BETWEEN 5 AND 10 AS in_season
      FROM organizations o
     CROSS JOIN LATERAL (SELECT (at AT TIME ZONE o.timezone)::date AS d) ld
     WHERE EXISTS (SELECT 1 FROM rules r WHERE r.organization_id IS NULL)
        OR o.id IN (SELECT r.organization_id FROM rules r)
  ),
  targets AS (
    SELECT r.id AS rule_id, r.organization_id AS org_id, r.service::text AS rule_service,
           r.metric_name::text AS rule_metric, r.aggregation::text AS aggregation,
           r.comparison::text AS comparison, r.threshold AS base_threshold, r.wedding_day_threshold,
           r.wedding_season_adjustment, r.window_minutes, r.min_samples
      FROM rules r WHERE r.organization_id IS NOT NULL
    UNION ALL
    SELECT r.id, p.org_id, r.service::text, r.metric_name::text, r.aggregation::text, r.comparison::text,
           r.threshold, r.wedding_day_threshold, r.wedding_season_adjustment, r.window_minutes, r.min_samples
      FROM rules r CROSS JOIN protocol p WHERE r.organization_id IS NULL
  ),
  judged AS (
    SELECT t.rule_id, t.org_id, p.org_slug, w.service, w.metric_name, t.aggregation, t.comparison,
           w.value, th.threshold, th.reason AS threshold_reason, w.buckets,
           b.window_end - make_interval(mins => t.window_minutes::integer) AS window_start, b.window_end,
           coalesce(CASE t.comparison WHEN 'below' THEN w.value < th.threshold ELSE w.value > th.threshold END,
                    false) AND w.samples >= t.min_samples AS breaching
      FROM targets t
      JOIN protocol p ON p.org_id = t.org_id
     CROSS JOIN bounds b
     CROSS JOIN LATERAL (
       SELECT CASE WHEN (p.wedding OR p.saturday) AND t.wedding_day_threshold IS NOT NULL THEN t.wedding_day_threshold
                   WHEN (p.wedding OR p.saturday) AND t.wedding_season_adjustment AND p.in_season
                     THEN t.base_threshold * CASE t.comparison WHEN 'below' THEN 1.2 ELSE 0.8 END
                   ELSE t.base_threshold
              END AS threshold,
              CASE WHEN (p.wedding OR p.saturday) AND t.wedding_day_threshold IS NOT NULL THEN
                     CASE WHEN p.wedding THEN 'wedding day: a wedding on ' || p.d::text || ' (local)'
                          ELSE 'wedding day: local Saturday ' || p.d::text END
                   WHEN (p.wedding OR p.saturday) AND t.wedding_season_adjustment AND p.in_season
                     THEN 'wedding season: 20% stricter'
                   ELSE 'standard threshold'
              END AS reason
     ) th
     JOIN LATERAL (
       SELECT a.service::text AS service, a.metric_name::text AS metric_name, count(*) AS buckets,
              sum(a.count) AS samples,
              CASE t.aggregation
                WHEN 'avg' THEN sum(a.sum) / NULLIF(sum(a.count), 0)
                WHEN 'count' THEN sum(a.count)::double precision
                WHEN 'sum' THEN sum(a.sum)
                WHEN 'min' THEN min(a.min)
                WHEN 'max' THEN max(a.max)
                WHEN 'p50' THEN max(a.p50)
                WHEN 'p95' THEN max(a.p95)
                WHEN 'p99' THEN max(a.p99)
              END AS value
         FROM apm_metric_aggregations a
        WHERE a.organization_id = t.org_id
          AND a.metric_name = t.rule_metric
          AND (t.rule_service = '' OR a.service = t.rule_service)
          AND a.bucket_seconds = 60
          AND a.bucket_start >= b.window_end - make_interval(mins => t.window_minutes::integer)
          AND a.bucket_start < b.window_end
        GROUP BY a.service, a.metric_name
     ) w ON true
  )
  SELECT j.rule_id, j.org_id, j.org_slug, j.service, j.metric_name, j.aggregation, j.comparison,
         j.value, j.threshold, j.threshold_reason::text, j.breaching, j.buckets, j.window_start, j.window_end,
         coalesce(CASE WHEN j.breaching AND j.aggregation <> 'count' THEN
           (SELECT m.unit::text FROM apm_metrics m
             WHERE m.organization_id = j.org_id AND m.service = j.service AND m.metric_name = j.metric_name
               AND m.recorded_at >= j.window_start AND m.recorded_at < j.window_end
             ORDER BY m.recorded_at DESC LIMIT 1)
         END, '') AS unit
    FROM judged j
   ORDER BY j.org_slug, j.rule_id, j.service, j.metric_name
$$;
