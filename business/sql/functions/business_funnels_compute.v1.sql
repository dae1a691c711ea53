-- business_funnels_compute(from_day date, to_day date) -> integer
-- Recomputes conversion_funnel_steps for the organizations' local days from_day..to_day, set-based and
-- idempotent (the days' rows deleted and written again).
--
-- The rule (an ordered, same-day funnel, as product analytics tools count a "closed" funnel): a client
-- (business_events.actor_id, events without one are not counted) enters a funnel on a local day with its
-- first event of the first step's type that day; it reaches step k when it has an event of step k's type
-- at or after the time it reached step k - 1, the same local day. Each step is one set-based INSERT ...
-- SELECT over the clients of the previous step (at most 8 steps), no loop over rows. For every funnel,
-- day (with at least one client entering) and step: actors reaching it, conversion = actors / actors of
-- the first step, step_conversion = actors / actors of the previous step.
-- Runs as the caller (RLS). Returns the rows written.
CREATE OR REPLACE FUNCTION business_funnels_compute(from_day date, to_day date) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
  k integer := 1;
  max_steps integer;
  written integer;
BEGIN
  PERFORM pg_advisory_xact_lock(hashtext('business_funnels_compute'));
  DELETE FROM conversion_funnel_steps WHERE day BETWEEN from_day AND to_day;
  SELECT coalesce(max(cardinality(steps)), 0) INTO max_steps FROM conversion_funnels;
  IF max_steps = 0 THEN
    RETURN 0;
  END IF;

  CREATE TEMP TABLE IF NOT EXISTS business_funnel_events (
    organization_id uuid, actor_id text, event_type text, at timestamptz, local_day date
  ) ON COMMIT DROP;
  CREATE TEMP TABLE IF NOT EXISTS business_funnel_reach (
    funnel_id bigint, organization_id uuid, local_day date, step integer, actor_id text, at timestamptz
  ) ON COMMIT DROP;
  TRUNCATE business_funnel_events, business_funnel_reach;

  INSERT INTO business_funnel_events
  SELECT e.organization_id, e.actor_id, e.event_type, e."timestamp", (e."timestamp" AT TIME ZONE o.timezone)::date
  FROM business_events e JOIN organizations o ON o.id = e.organization_id
  WHERE e."timestamp" >= (from_day - 1)::timestamp AT TIME ZONE 'UTC'
    AND e."timestamp" < (to_day + 2)::timestamp AT TIME ZONE 'UTC'
    AND e.actor_id <> ''
    AND e.organization_id IN (SELECT organization_id FROM conversion_funnels)
    AND (e."timestamp" AT TIME ZONE o.timezone)::date BETWEEN from_day AND to_day;
  ANALYZE business_funnel_events;

  -- Step 0: each client's first event of the first step's type that day.
  INSERT INTO business_funnel_reach
  SELECT f.id, f.organization_id, ev.local_day, 0, ev.actor_id, min(ev.at)
  FROM conversion_funnels f
  JOIN business_funnel_events ev ON ev.organization_id = f.organization_id AND ev.event_type = f.steps[1]
  GROUP BY f.id, f.organization_id, ev.local_day, ev.actor_id;

  -- Step k: the earliest event of step k's type at or after reaching step k - 1, the same day.
  WHILE k < max_steps LOOP
    INSERT INTO business_funnel_reach
    SELECT r.funnel_id, r.organization_id, r.local_day, k, r.actor_id, min(ev.at)
    FROM business_funnel_reach r
    JOIN conversion_funnels f ON f.id = r.funnel_id AND cardinality(f.steps) > k
    JOIN business_funnel_events ev
      ON ev.organization_id = r.organization_id AND ev.actor_id = r.actor_id AND ev.local_day = r.local_day
     AND ev.event_type = f.steps[k + 1] AND ev.at >= r.at
    WHERE r.step = k - 1
    GROUP BY r.funnel_id, r.organization_id, r.local_day, r.actor_id;
    k := k + 1;
  END LOOP;

  INSERT INTO conversion_funnel_steps (funnel_id, organization_id, day, step, event_type, actors, conversion,
                                       step_conversion)
  SELECT x.funnel_id, x.organization_id, x.local_day, x.step, x.event_type, x.actors,
         x.actors::float8 / NULLIF(x.first, 0),
         x.actors::float8 / NULLIF(lag(x.actors, 1, x.first) OVER (PARTITION BY x.funnel_id, x.local_day
                                                                    ORDER BY x.step), 0)
  FROM (
    SELECT d.funnel_id, d.organization_id, d.local_day, s.step, f.steps[s.step + 1] AS event_type, d.first,
           coalesce(c.actors, 0) AS actors
    FROM (SELECT funnel_id, organization_id, local_day, count(*) AS first FROM business_funnel_reach
          WHERE step = 0 GROUP BY 1, 2, 3) d
    JOIN conversion_funnels f ON f.id = d.funnel_id
    CROSS JOIN LATERAL generate_series(0, cardinality(f.steps) - 1) AS s(step)
    LEFT JOIN (SELECT funnel_id, local_day, step, count(*) AS actors FROM business_funnel_reach
               GROUP BY 1, 2, 3) c
      ON c.funnel_id = d.funnel_id AND c.local_day = d.local_day AND c.step = s.step
  ) x;
  GET DIAGNOSTICS written = ROW_COUNT;
  RETURN written;
END $$;
