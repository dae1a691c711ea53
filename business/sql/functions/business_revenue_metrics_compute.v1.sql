-- business_revenue_metrics_compute(from_day date, to_day date) -> integer
-- Recomputes revenue_metrics for the organizations' local days from_day..to_day (organizations.timezone),
-- set-based and idempotent: the days' rows are deleted and written again from business_events in one
-- statement each. One row per organization, local day and currency (ISO 4217; 'XXX', "no currency", for
-- events without an amount): bookings (booking_created), payments succeeded/failed, the payment success
-- rate succeeded / (succeeded + failed) (NULL without payments), revenue (sum of succeeded payments) and
-- failed-payment revenue. Runs as the caller (RLS: a vendor context recomputes its own rows only).
-- Serialized by a transaction advisory lock. Returns the rows written.
CREATE OR REPLACE FUNCTION business_revenue_metrics_compute(from_day date, to_day date) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
  written integer;
BEGIN
  PERFORM pg_advisory_xact_lock(hashtext('business_revenue_metrics_compute'));
  DELETE FROM revenue_metrics WHERE day BETWEEN from_day AND to_day;
  INSERT INTO revenue_metrics (organization_id, day, currency, bookings, payments_succeeded, payments_failed,
                               payment_success_rate, revenue, failed_revenue)
  SELECT e.organization_id, (e."timestamp" AT TIME ZONE o.timezone)::date AS local_day,
         CASE WHEN e.currency = '' THEN 'XXX' ELSE e.currency END AS cur,
         count(*) FILTER (WHERE e.event_type = 'booking_created'),
         count(*) FILTER (WHERE e.event_type = 'payment_succeeded'),
         count(*) FILTER (WHERE e.event_type = 'payment_failed'),
         (count(*) FILTER (WHERE e.event_type = 'payment_succeeded'))::float8
           / NULLIF(count(*) FILTER (WHERE e.event_type IN ('payment_succeeded', 'payment_failed')), 0),
         coalesce(sum(e.revenue_impact) FILTER (WHERE e.event_type = 'payment_succeeded'), 0),
         coalesce(sum(e.revenue_impact) FILTER (WHERE e.event_type = 'payment_failed'), 0)
  FROM business_events e JOIN organizations o ON o.id = e.organization_id
  WHERE e."timestamp" >= (from_day - 1)::timestamp AT TIME ZONE 'UTC'
    AND e."timestamp" < (to_day + 2)::timestamp AT TIME ZONE 'UTC'
    AND e.event_type IN ('booking_created', 'payment_succeeded', 'payment_failed')
    AND (e."timestamp" AT TIME ZONE o.timezone)::date BETWEEN from_day AND to_day
  GROUP BY 1, 2, 3;
  GET DIAGNOSTICS written = ROW_COUNT;
  RETURN written;
END $$;
