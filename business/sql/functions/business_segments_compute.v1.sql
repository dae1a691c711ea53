-- business_segments_compute(from_day date, to_day date) -> integer
-- Recomputes user_segment_counts for the days from_day..to_day, set-based and idempotent (the days' rows
-- deleted and written again): for every segment and day d, the organization's weddings whose date lies
-- from d + rule.wedding_from_days to d + rule.wedding_to_days (inclusive) and whose status is one of
-- rule.statuses (business.services.segment_rule_validate writes every rule with all three keys). The days
-- are the organization's local dates, like weddings.wedding_date. Runs as the caller (RLS on segments and
-- weddings). Returns the rows written.
CREATE OR REPLACE FUNCTION business_segments_compute(from_day date, to_day date) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
  written integer;
BEGIN
  PERFORM pg_advisory_xact_lock(hashtext('business_segments_compute'));
  DELETE FROM user_segment_counts WHERE day BETWEEN from_day AND to_day;
  INSERT INTO user_segment_counts (segment_id, organization_id, day, members)
  SELECT s.id, s.organization_id, d.day::date, count(w.id)
  FROM user_segments s
  CROSS JOIN generate_series(from_day, to_day, interval '1 day') AS d(day)
  LEFT JOIN weddings w
    ON w.organization_id = s.organization_id
   AND w.wedding_date BETWEEN d.day::date + (s.rule ->> 'wedding_from_days')::int
                          AND d.day::date + (s.rule ->> 'wedding_to_days')::int
   AND w.status IN (SELECT jsonb_array_elements_text(s.rule -> 'statuses'))
  GROUP BY s.id, s.organization_id, d.day;
  GET DIAGNOSTICS written = ROW_COUNT;
  RETURN written;
END $$;
