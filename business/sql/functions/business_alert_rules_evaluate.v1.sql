-- business_alert_rules_evaluate(at timestamptz) -> TABLE (rule_id, current_count, baseline_count,
--                                                        change_percent, breaching)
-- Every enabled business_alert_rules row against its baseline at `at`: the count of the rule's event type
-- in the last window_minutes before `at` and its baseline (business_event_impact's rule: the same local
-- window of the previous 4 weeks, averaged over the weeks with data). change_percent = 100 x (current -
-- baseline) / baseline (NULL without a baseline). breaching, 'drop': the baseline is at least min_baseline
-- events and the count at least threshold_percent % below it; 'rise': the count is at least
-- threshold_percent % above the baseline, min_baseline being the baseline's floor (a rise over a normal
-- of zero needs a floor to be a percentage of). No baseline week with data: never breaching.
-- Set-based: one LATERAL call of business_event_impact per rule. Runs as the caller (RLS).
CREATE OR REPLACE FUNCTION business_alert_rules_evaluate(at timestamptz)
RETURNS TABLE (rule_id bigint, current_count bigint, baseline_count float8, change_percent float8,
               breaching boolean)
LANGUAGE sql STABLE AS $$
  SELECT r.id, x.current_count, x.baseline_count,
         100.0 * (x.current_count - x.baseline_count) / NULLIF(x.baseline_count, 0),
         coalesce(CASE r.direction
           WHEN 'drop' THEN x.baseline_count >= r.min_baseline AND x.baseline_count > 0
                            AND x.current_count <= x.baseline_count * (1 - r.threshold_percent / 100.0)
           ELSE x.baseline_count IS NOT NULL
                AND x.current_count >= greatest(x.baseline_count, r.min_baseline, 1) * (1 + r.threshold_percent / 100.0)
           END, false)
  FROM business_alert_rules r
  CROSS JOIN LATERAL (
    SELECT coalesce(sum(i.current_count) FILTER (WHERE i.event_type = r.event_type), 0)::bigint AS current_count,
           CASE WHEN max(i.baseline_weeks) > 0
                THEN coalesce(sum(i.baseline_count) FILTER (WHERE i.event_type = r.event_type), 0) END
             AS baseline_count
    FROM business_event_impact(r.organization_id, at - r.window_minutes * interval '1 minute', at) i
  ) x
  WHERE r.enabled
$$;
