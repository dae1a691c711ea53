-- alert_heartbeat_evaluation(at): heartbeat rules (alert_type 'heartbeat').
-- Same columns as alert_rule_evaluation. For each (rule, organization,
-- service, metric) series that had a 1-minute bucket in the day before the
-- window end: value = minutes from the end of its latest complete bucket to
-- window_end (the minute `at` is in, floored); threshold = window_minutes
-- (wedding_day_threshold minutes while the wedding-day protocol is on, if
-- set); breaching when value >= threshold: no data for that many minutes. A
-- series never seen in the past day is not watched. aggregation 'heartbeat',
-- comparison 'above', unit 'min', buckets = buckets of the past day.
-- Runs as the invoker (row-level security applies).
CREATE FUNCTION alert_heartbeat_evaluation(at timestamptz)
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
    SELECT r.* FROM alert_configurations r WHERE r.enabled AND r.alert_type = 'heartbeat'
  ),
  targets AS (
    SELECT r.id AS rule_id, o.id AS org_id, o.slug::text AS org_slug, r.service::text AS rule_service,
           r.metric_name::text AS rule_metric, r.window_minutes, r.wedding_day_threshold,
           wp.active AS protocol_on, wp.reason AS protocol_reason
      FROM rules r
      JOIN organizations o ON o.id = r.organization_id
     CROSS JOIN LATERAL wedding_day_protocol(o.id, at) wp
    UNION ALL
    SELECT r.id, o.id, o.slug::text, r.service::text, r.metric_name::text, r.window_minutes,
           r.wedding_day_threshold, wp.active, wp.reason
      FROM rules r CROSS JOIN organizations o
     CROSS JOIN LATERAL wedding_day_protocol(o.id, at) wp
     WHERE r.organization_id IS NULL
  )
  SELECT t.rule_id, t.org_id, t.org_slug, s.service, s.metric_name, 'heartbeat', 'above',
         extract(epoch FROM b.window_end - (s.last_start + interval '1 minute')) / 60.0 AS value,
         th.threshold, th.reason, extract(epoch FROM b.window_end - (s.last_start + interval '1 minute')) / 60.0
           >= th.threshold AS breaching,
         s.buckets, b.window_end - make_interval(mins => th.threshold::integer), b.window_end, 'min'
    FROM targets t
   CROSS JOIN bounds b
   CROSS JOIN LATERAL (
     SELECT CASE WHEN t.protocol_on AND t.wedding_day_threshold IS NOT NULL THEN t.wedding_day_threshold
                 ELSE t.window_minutes::double precision END AS threshold,
            CASE WHEN t.protocol_on AND t.wedding_day_threshold IS NOT NULL THEN t.protocol_reason
                 ELSE 'standard threshold' END AS reason
   ) th
   JOIN LATERAL (
     SELECT a.service::text AS service, a.metric_name::text AS metric_name, max(a.bucket_start) AS last_start,
            count(*) AS buckets
       FROM apm_metric_aggregations a
      WHERE a.organization_id = t.org_id AND a.metric_name = t.rule_metric
        AND (t.rule_service = '' OR a.service = t.rule_service) AND a.bucket_seconds = 60
        AND a.bucket_start >= b.window_end - interval '1 day' AND a.bucket_start < b.window_end
      GROUP BY a.service, a.metric_name
   ) s ON true
   ORDER BY t.org_slug, t.rule_id, s.service, s.metric_name
$$;
