-- rollup_user_journeys(at timestamptz, lookback interval) -> integer (rows written) — issue 18 §2.
--
-- Points named 'journey.step' (value: the step's duration in ms; tags journey, journey_id, step,
-- step_index 1-based, steps = the journey's number of steps, outcome ok|failed; see
-- apm.models.UserJourneyPerformance). A run (organization, journey, journey_id) belongs to the hour
-- of its first point and succeeded when its last step (step_index = steps) is ok. The
-- (organization, journey, hour) buckets of the runs that got a point ingested in (at - lookback, at]
-- are recomputed whole (a run is assumed to last under 2 hours: its first point is looked for up to 3
-- hours before the new ones, its points up to 3 hours after its hour's start) and upserted:
-- per step its count, failures and p50/p95 duration; runs started and completed, success rate and
-- the median total duration of the completed runs. Staff or service context only.
CREATE FUNCTION rollup_user_journeys(at timestamptz, lookback interval DEFAULT interval '5 minutes')
RETURNS integer
LANGUAGE plpgsql VOLATILE SET search_path = public AS $$
DECLARE
  written integer;
BEGIN
  IF NOT app_is_platform() THEN
    RAISE EXCEPTION 'rollup_user_journeys needs a staff or service context'
      USING ERRCODE = 'insufficient_privilege';
  END IF;
  WITH fresh AS (
    SELECT m.organization_id, m.tags->>'journey' AS journey, m.tags->>'journey_id' AS journey_id,
           min(m.recorded_at) AS seen_at
    FROM apm_metrics m
    JOIN organizations o ON o.id = m.organization_id  -- points of a deleted organization are no one's
    WHERE m.ingested_at > at - lookback AND m.ingested_at <= at AND m.metric_name = 'journey.step'
      AND coalesce(m.tags->>'journey', '') <> '' AND coalesce(m.tags->>'journey_id', '') <> ''
    GROUP BY 1, 2, 3
  ), fresh_buckets AS (
    SELECT DISTINCT f.organization_id, f.journey, date_trunc('hour', s.first_at) AS bucket_start
    FROM fresh f
    CROSS JOIN LATERAL (SELECT min(m.recorded_at) AS first_at FROM apm_metrics m
                        WHERE m.organization_id = f.organization_id AND m.metric_name = 'journey.step'
                          AND m.tags->>'journey' = f.journey AND m.tags->>'journey_id' = f.journey_id
                          AND m.recorded_at >= f.seen_at - interval '3 hours' AND m.recorded_at <= f.seen_at) s
  ), points AS (
    SELECT b.organization_id, b.journey, b.bucket_start, m.tags->>'journey_id' AS journey_id,
           m.tags->>'step' AS step,
           CASE WHEN m.tags->>'step_index' ~ '^[0-9]{1,4}$' THEN (m.tags->>'step_index')::integer END AS step_index,
           CASE WHEN m.tags->>'steps' ~ '^[0-9]{1,4}$' THEN (m.tags->>'steps')::integer END AS steps,
           coalesce(m.tags->>'outcome', 'ok') <> 'failed' AS ok,
           m.value AS ms, m.recorded_at
    FROM fresh_buckets b
    JOIN apm_metrics m ON m.organization_id = b.organization_id AND m.metric_name = 'journey.step'
     AND m.tags->>'journey' = b.journey
     AND m.recorded_at >= b.bucket_start AND m.recorded_at < b.bucket_start + interval '3 hours'
  ), runs AS (
    SELECT organization_id, journey, journey_id, min(recorded_at) AS first_at,
           bool_or(ok AND step_index IS NOT NULL AND step_index = steps) AS completed, sum(ms) AS total_ms
    FROM points GROUP BY organization_id, journey, journey_id
  ), in_bucket AS (
    SELECT p.* FROM points p
    JOIN runs r USING (organization_id, journey, journey_id)
    WHERE date_trunc('hour', r.first_at) = p.bucket_start
  ), step_stats AS (
    SELECT organization_id, journey, bucket_start, step_index, min(step) AS step, count(*) AS n,
           count(*) FILTER (WHERE NOT ok) AS failed,
           percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) AS p50, percentile_cont(0.95) WITHIN GROUP (ORDER BY ms) AS p95
    FROM in_bucket GROUP BY organization_id, journey, bucket_start, step_index
  ), run_stats AS (
    SELECT b.organization_id, b.journey, b.bucket_start, count(r.*) AS started,
           count(r.*) FILTER (WHERE r.completed) AS completed,
           percentile_cont(0.5) WITHIN GROUP (ORDER BY r.total_ms) FILTER (WHERE r.completed) AS p50_total
    FROM fresh_buckets b
    JOIN runs r ON r.organization_id = b.organization_id AND r.journey = b.journey
     AND date_trunc('hour', r.first_at) = b.bucket_start
    GROUP BY b.organization_id, b.journey, b.bucket_start
  )
  INSERT INTO user_journey_performance AS u (organization_id, journey, bucket_start, steps, journeys_started,
                                             journeys_completed, success_rate, p50_total_ms, updated_at)
  SELECT r.organization_id, left(r.journey, 100), r.bucket_start,
         coalesce((SELECT jsonb_agg(jsonb_build_object('index', s.step_index, 'step', s.step, 'count', s.n,
                                                       'failed', s.failed, 'p50_ms', round(s.p50::numeric, 1),
                                                       'p95_ms', round(s.p95::numeric, 1))
                                    ORDER BY s.step_index NULLS LAST, s.step)
                   FROM step_stats s WHERE s.organization_id = r.organization_id AND s.journey = r.journey
                     AND s.bucket_start = r.bucket_start), '[]'::jsonb),
         r.started, r.completed, r.completed::float8 / NULLIF(r.started, 0), r.p50_total, at
  FROM run_stats r
  WHERE r.started > 0
  ON CONFLICT (organization_id, journey, bucket_start) DO UPDATE SET
    steps = EXCLUDED.steps, journeys_started = EXCLUDED.journeys_started,
    journeys_completed = EXCLUDED.journeys_completed, success_rate = EXCLUDED.success_rate,
    p50_total_ms = EXCLUDED.p50_total_ms, updated_at = EXCLUDED.updated_at;
  GET DIAGNOSTICS written = ROW_COUNT;
  RETURN written;
END $$;
