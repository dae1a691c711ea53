-- alert_rule_evaluation(at timestamptz): one set-based pass over every enabled
-- threshold rule (alert_configurations) and the 1-minute aggregations
-- (apm_metric_aggregations, bucket_seconds = 60). Read-only; Python
-- (alerts.evaluation.rules_evaluate) fires and resolves alerts from its rows.
--
-- One row per (rule, organization, service, metric) that has data in the window:
-- * targets: an organization's rule applies to that organization; a
--   platform-wide rule (organization_id NULL) to every organization. A rule
--   with service '' covers every service of the metric.
-- * window: complete 1-minute buckets in [window_end - window_minutes, window_end),
--   window_end = `at` floored to the minute (a bucket still filling is skipped).
-- * value by the rule's aggregation over the window: avg = sum(sum)/sum(count);
--   count = sum(count); sum = sum(sum); min = min(min); max = max(max);
--   p50/p95/p99 = the HIGHEST 1-minute percentile in the window (percentiles
--   of buckets cannot be merged exactly; the worst minute is what a
--   threshold on latency means to catch).
-- * threshold: wedding-day protocol of the organization on at `at`
--   (wedding_day_protocol: a local wedding day or local Saturday) and
--   wedding_day_threshold set -> wedding_day_threshold, reason from the
--   protocol ('wedding day: …'); protocol on, no wedding_day_threshold,
--   wedding_season_adjustment and the local month in May..October -> 20%
--   stricter (x0.8 for 'above', x1.2 for 'below'), reason 'wedding season:
--   20% stricter'; otherwise threshold, reason 'standard threshold'.
-- * breaching: value > threshold ('above') or value < threshold ('below');
--   no data in the window means no row (not breaching).
-- * unit: of the latest raw point (apm_metrics) in the window, for breaching
--   rows other than count; '' when unknown.
-- Runs as the invoker: row-level security applies (call it in a service context).
CREATE FUNCTION alert_rule_evaluation(at timestamptz)
RETURNS TABLE (
    rule_id uuid, organization_id uuid, organization_slug text, service text, metric_name text,
    aggregation text, comparison text, value double precision, threshold double precision,
    threshold_reason text, breaching boolean, buckets bigint, window_start timestamptz,
    window_end timestamptz, unit text
)
LANGUAGE sql STABLE AS $$
  WITH bounds AS (
    SELECT date_bin('1 minute', at, timestamptz '1970-01-01 00:00:00+00') AS window_end
  ),
  targets AS (
    SELECT r.id AS rule_id, o.id AS org_id, o.slug::text AS org_slug, r.service::text AS rule_service,
           r.metric_name::text AS rule_metric, r.aggregation::text AS aggregation,
           r.comparison::text AS comparison, r.threshold AS base_threshold, r.wedding_day_threshold,
           r.wedding_season_adjustment,
           b.window_end - make_interval(mins => r.window_minutes::integer) AS window_start, b.window_end
      FROM alert_configurations r
      JOIN organizations o ON o.id = r.organization_id OR r.organization_id IS NULL
     CROSS JOIN bounds b
     WHERE r.enabled AND r.alert_type = 'threshold'
  ),
  protocol AS (
    SELECT t.org_id, coalesce(p.active, false) AS active, p.reason,
           extract(month FROM org_local_date(t.org_id, at)) BETWEEN 5 AND 10 AS in_season
      FROM (SELECT DISTINCT org_id FROM targets) t
     CROSS JOIN LATERAL wedding_day_protocol(t.org_id, at) p
  ),
  windowed AS (
    SELECT t.rule_id, t.org_id, a.service::text AS service, a.metric_name::text AS metric_name,
           count(*) AS buckets,
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
      FROM targets t
      JOIN apm_metric_aggregations a
        ON a.organization_id = t.org_id
       AND a.metric_name = t.rule_metric
       AND (t.rule_service = '' OR a.service = t.rule_service)
       AND a.bucket_seconds = 60
       AND a.bucket_start >= t.window_start
       AND a.bucket_start < t.window_end
     GROUP BY t.rule_id, t.org_id, t.aggregation, a.service, a.metric_name
  ),
  chosen AS (
    SELECT w.rule_id, w.org_id, t.org_slug, w.service, w.metric_name, t.aggregation, t.comparison,
           w.value, w.buckets, t.window_start, t.window_end,
           CASE WHEN p.active AND t.wedding_day_threshold IS NOT NULL THEN t.wedding_day_threshold
                WHEN p.active AND t.wedding_season_adjustment AND p.in_season
                  THEN t.base_threshold * CASE t.comparison WHEN 'below' THEN 1.2 ELSE 0.8 END
                ELSE t.base_threshold
           END AS threshold,
           CASE WHEN p.active AND t.wedding_day_threshold IS NOT NULL THEN p.reason
                WHEN p.active AND t.wedding_season_adjustment AND p.in_season THEN 'wedding season: 20% stricter'
                ELSE 'standard threshold'
           END AS threshold_reason
      FROM windowed w
      JOIN targets t ON t.rule_id = w.rule_id AND t.org_id = w.org_id
      JOIN protocol p ON p.org_id = w.org_id
  ),
  judged AS (
    SELECT c.*,
           coalesce(CASE c.comparison WHEN 'below' THEN c.value < c.threshold ELSE c.value > c.threshold END,
                    false) AS breaching
      FROM chosen c
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
