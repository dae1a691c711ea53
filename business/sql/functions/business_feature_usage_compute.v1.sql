-- business_feature_usage_compute(from_day date, to_day date) -> integer
-- Recomputes feature_usage for the organizations' local days from_day..to_day, set-based and idempotent
-- (the days' rows deleted and written again). The feature of an event is properties.feature when set,
-- else its event type (cut to 100 characters); active_users counts the distinct non-empty actor_id, events
-- all of them. Daily active organizations of a feature are its rows of the day. Runs as the caller (RLS).
-- Returns the rows written.
CREATE OR REPLACE FUNCTION business_feature_usage_compute(from_day date, to_day date) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
  written integer;
BEGIN
  PERFORM pg_advisory_xact_lock(hashtext('business_feature_usage_compute'));
  DELETE FROM feature_usage WHERE day BETWEEN from_day AND to_day;
  INSERT INTO feature_usage (organization_id, day, feature, active_users, events)
  SELECT ev.organization_id, ev.local_day, ev.feature,
         count(DISTINCT ev.actor_id) FILTER (WHERE ev.actor_id <> ''), count(*)
  FROM (
    SELECT e.organization_id, (e."timestamp" AT TIME ZONE o.timezone)::date AS local_day,
           left(coalesce(NULLIF(e.properties ->> 'feature', ''), e.event_type), 100) AS feature, e.actor_id
    FROM business_events e JOIN organizations o ON o.id = e.organization_id
    WHERE e."timestamp" >= (from_day - 1)::timestamp AT TIME ZONE 'UTC'
      AND e."timestamp" < (to_day + 2)::timestamp AT TIME ZONE 'UTC'
  ) ev
  WHERE ev.local_day BETWEEN from_day AND to_day
  GROUP BY 1, 2, 3;
  GET DIAGNOSTICS written = ROW_COUNT;
  RETURN written;
END $$;
