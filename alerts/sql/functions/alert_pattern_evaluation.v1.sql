-- alert_pattern_evaluation(at): pattern_match rules. Same columns as
-- alert_rule_evaluation. For each (rule, organization, service) with error
-- reports in the rule's window [window_end - window_minutes, window_end)
-- (window_end: the minute `at` is in, floored) whose message matches the
-- rule's pattern (PostgreSQL regular expression, case-insensitive, ~*):
-- value = the number of matching reports; threshold = threshold
-- (wedding_day_threshold while the wedding-day protocol is on, if set);
-- breaching when value >= threshold. aggregation 'count', comparison
-- 'above', metric_name 'error_reports', unit 'errors', buckets = minutes in
-- the window. Series with no matching report give no row (not breaching).
-- Runs as the invoker (row-level security applies).
CREATE FUNCTION alert_pattern_evaluation(at timestamptz)
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
    SELECT r.* FROM alert_configurations r WHERE r.enabled AND r.alert_type = 'pattern_match' AND r.pattern <> ''
  ),
  targets AS (
    SELECT r.id AS rule_id, o.id AS org_id, o.slug::text AS org_slug, r.service::text AS rule_service,
           r.pattern::text AS pattern, r.window_minutes, r.threshold, r.wedding_day_threshold,
           wp.active AS protocol_on, wp.reason AS protocol_reason
      FROM rules r
      JOIN organizations o ON o.id = r.organization_id
     CROSS JOIN LATERAL wedding_day_protocol(o.id, at) wp
    UNION ALL
    SELECT r.id, o.id, o.slug::text, r.service::text, r.pattern::text, r.window_minutes, r.threshold,
           r.wedding_day_threshold, wp.active, wp.reason
      FROM rules r CROSS JOIN organizations o
     CROSS JOIN LATERAL wedding_day_protocol(o.id, at) wp
     WHERE r.organization_id IS NULL
  )
  SELECT t.rule_id, t.org_id, t.org_slug, s.service, 'error_reports', 'count', 'above',
         s.n::double precision, th.threshold, th.reason, s.n >= th.threshold,
         t.window_minutes::bigint, b.window_end - make_interval(mins => t.window_minutes), b.window_end, 'errors'
    FROM targets t
   CROSS JOIN bounds b
   CROSS JOIN LATERAL (
     SELECT CASE WHEN t.protocol_on AND t.wedding_day_threshold IS NOT NULL THEN t.wedding_day_threshold
                 ELSE t.threshold END AS threshold,
            CASE WHEN t.protocol_on AND t.wedding_day_threshold IS NOT NULL THEN t.protocol_reason
                 ELSE 'standard threshold' END AS reason
   ) th
   JOIN LATERAL (
     SELECT e.service::text AS service, count(*) AS n
       FROM error_reports e
      WHERE e.organization_id = t.org_id
        AND (t.rule_service = '' OR e.service = t.rule_service)
        AND e.occurred_at >= b.window_end - make_interval(mins => t.window_minutes)
        AND e.occurred_at < b.window_end
        AND e.message ~* t.pattern
      GROUP BY e.service
   ) s ON true
   ORDER BY t.org_slug, t.rule_id, s.service
$$;
