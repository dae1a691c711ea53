-- business_event_impact(org uuid, window_start timestamptz, window_end timestamptz, weeks integer = 4)
--   -> TABLE (event_type, currency, current_count, baseline_count, current_revenue, baseline_revenue,
--             baseline_weeks)
-- The organization's business events in [window_start, window_end) beside its baseline.
--
-- The baseline rule (the "same hour last week" comparison of seasonal baselines, e.g. Prometheus'
-- `offset 1w` idiom, averaged over several weeks to damp one odd week): the same local window of each of
-- the previous `weeks` weeks (shifted by k x 7 days in the organization's time zone, so a DST change keeps
-- the local hour), averaged over the weeks in which the organization recorded any business event in that
-- window (a week before the organization sent events is no evidence of a normal of zero). baseline_weeks
-- is that number of weeks; with 0 the baseline columns are NULL.
-- One row per event type and currency ('' for events without an amount) seen in any of the windows;
-- counts are events, revenue in the row's currency. Runs as the caller (RLS): a vendor sees only itself.
CREATE OR REPLACE FUNCTION business_event_impact(org uuid, window_start timestamptz, window_end timestamptz,
                                                 weeks integer DEFAULT 4)
RETURNS TABLE (event_type text, currency text, current_count bigint, baseline_count float8,
               current_revenue numeric, baseline_revenue numeric, baseline_weeks integer)
LANGUAGE sql STABLE AS $$
  WITH w AS MATERIALIZED (
    SELECT k, ((window_start AT TIME ZONE o.timezone) - k * interval '7 days') AT TIME ZONE o.timezone AS lo,
              ((window_end AT TIME ZONE o.timezone) - k * interval '7 days') AT TIME ZONE o.timezone AS hi
    FROM organizations o CROSS JOIN generate_series(0, weeks) AS k
    WHERE o.id = org
  ), ev AS (
    -- One range scan of idx_business_events_org_time per window.
    SELECT w.k, e.event_type, e.currency, e.revenue_impact
    FROM w CROSS JOIN LATERAL (
      SELECT b.event_type, b.currency, b.revenue_impact FROM business_events b
      WHERE b.organization_id = org AND b."timestamp" >= w.lo AND b."timestamp" < w.hi
    ) e
  ), n AS (
    SELECT count(DISTINCT ev.k)::integer AS weeks_with_data FROM ev WHERE ev.k > 0
  )
  SELECT ev.event_type::text, ev.currency::text,
         count(*) FILTER (WHERE ev.k = 0),
         (count(*) FILTER (WHERE ev.k > 0))::float8 / NULLIF(n.weeks_with_data, 0),
         coalesce(sum(ev.revenue_impact) FILTER (WHERE ev.k = 0), 0),
         coalesce(sum(ev.revenue_impact) FILTER (WHERE ev.k > 0), 0) / NULLIF(n.weeks_with_data, 0),
         n.weeks_with_data
  FROM ev CROSS JOIN n
  GROUP BY ev.event_type, ev.currency, n.weeks_with_data
$$;
