-- alert_anomaly_evaluation(at): anomaly rules (alert_type 'anomaly').
-- Same columns as alert_rule_evaluation. value = the average over the
-- rule's window of complete 1-minute buckets (sum(sum)/sum(count)).
-- Baseline: the 1-hour aggregations (bucket_seconds 3600) of the same hour
-- 1..baseline_weeks weeks before window_end; mean and sample standard
-- deviation of their averages, at least 2 weeks with data (else no row).
-- k = threshold standard deviations (wedding_day_threshold while the
-- wedding-day protocol is on, if set). 'above': breaching when value >
-- mean + k·sd (threshold column = mean + k·sd); 'below': value < mean - k·sd.
-- threshold_reason: 'baseline <mean> ± <k>σ (σ <sd>) over <n> weeks' (and
-- the wedding-day reason when that k applied). aggregation 'anomaly'.
-- Runs as the invoker (row-level security applies).
CREATE FUNCTION alert_anomaly_evaluation(at timestamptz)
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
    SELECT r.* FROM alert_configurations r WHERE r.enabled AND r.alert_type = 'anomaly'
  ),
  targets AS (
    SELECT r.id AS rule_id, o.id AS org_id, o.slug::text AS org_slug, r.service::text AS rule_service,
           r.metric_name::text AS rule_metric, r.window_minutes, r.threshold AS k, r.wedding_day_threshold,
           r.comparison::text AS comparison, r.baseline_weeks, wp.active AS protocol_on, wp.reason AS protocol_reason
      FROM rules r JOIN organizations o ON o.id = r.organization_id
     CROSS JOIN LATERAL wedding_day_protocol(o.id, at) wp
    UNION ALL
    SELECT r.id, o.id, o.slug::text, r.service::text, r.metric_name::text, r.window_minutes, r.threshold,
           r.wedding_day_threshold, r.comparison::text, r.baseline_weeks, wp.active, wp.reason
      FROM rules r CROSS JOIN organizations o
     CROSS JOIN LATERAL wedding_day_protocol(o.id, at) wp
     WHERE r.organization_id IS NULL
  ),
  current AS (
    SELECT t.*, b.window_end, b.window_end - make_interval(mins => t.window_minutes::integer) AS window_start,
           w.service, w.metric_name, w.value, w.buckets,
           CASE WHEN t.protocol_on AND t.wedding_day_threshold IS NOT NULL THEN t.wedding_day_threshold
                ELSE t.k END AS k_used
      FROM targets t CROSS JOIN bounds b
      JOIN LATERAL (
        SELECT a.service::text AS service, a.metric_name::text AS metric_name,
               sum(a.sum) / NULLIF(sum(a.count), 0) AS value, count(*) AS buckets
          FROM apm_metric_aggregations a
         WHERE a.organization_id = t.org_id AND a.metric_name = t.rule_metric
           AND (t.rule_service = '' OR a.service = t.rule_service) AND a.bucket_seconds = 60
           AND a.bucket_start >= b.window_end - make_interval(mins => t.window_minutes::integer)
           AND a.bucket_start < b.window_end
         GROUP BY a.service, a.metric_name
      ) w ON true
  ),
  baseline AS (
    SELECT c.*, bl.mean, bl.sd, bl.weeks
      FROM current c
      JOIN LATERAL (
        SELECT avg(h.avg) AS mean, stddev_samp(h.avg) AS sd, count(*) AS weeks
          FROM generate_series(1, greatest(c.baseline_weeks, 2)) wk
          JOIN apm_metric_aggregations h
            ON h.organization_id = c.org_id AND h.service = c.service AND h.metric_name = c.metric_name
           AND h.bucket_seconds = 3600
           AND h.bucket_start = date_bin('1 hour', c.window_end - make_interval(weeks => wk),
                                         timestamptz '1970-01-01 00:00:00+00')
      ) bl ON bl.weeks >= 2
  )
  SELECT b.rule_id, b.org_id, b.org_slug, b.service, b.metric_name, 'anomaly', b.comparison, b.value,
         CASE b.comparison WHEN 'below' THEN b.mean - b.k_used * b.sd ELSE b.mean + b.k_used * b.sd END,
         (CASE WHEN b.protocol_on AND b.wedding_day_threshold IS NOT NULL THEN b.protocol_reason || '; ' ELSE '' END)
           || 'baseline ' || round(b.mean::numeric, 3) || ' ± ' || round(b.k_used::numeric, 2) || 'σ (σ '
           || round(b.sd::numeric, 3) || ') over ' || b.weeks || ' weeks',
         coalesce(CASE b.comparison WHEN 'below' THEN b.value < b.mean - b.k_used * b.sd
                                    ELSE b.value > b.mean + b.k_used * b.sd END, false),
         b.buckets, b.window_start, b.window_end, ''
    FROM baseline b
   ORDER BY b.org_slug, b.rule_id, b.service, b.metric_name
$$;
