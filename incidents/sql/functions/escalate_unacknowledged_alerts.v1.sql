-- escalation_plan_of(org uuid, wedding_day boolean) -> the escalation plan incidents.escalation
-- uses (escalation_plan_for): the first enabled policy with steps among, in order, the
-- organization's wedding-day policy, the platform's wedding-day policy (these two only when
-- wedding_day), the organization's ordinary policy, the platform default. No row: no policy applies
-- (the built-in default: one step to team_lead). waits (minutes) and levels in step order.
CREATE FUNCTION escalation_plan_of(org uuid, wedding_day boolean)
RETURNS TABLE (policy_id uuid, policy_name text, repeat_count integer, waits integer[], levels escalation_level[])
LANGUAGE sql STABLE SET search_path = public AS $$
  SELECT p.id, p.name::text, p.repeat_count::integer, s.waits, s.levels
  FROM escalation_policies p
  CROSS JOIN LATERAL (SELECT array_agg(st.wait_minutes::integer ORDER BY st.position) AS waits,
                             array_agg(st.level ORDER BY st.position) AS levels
                        FROM escalation_steps st WHERE st.policy_id = p.id) s
  WHERE p.enabled AND s.waits IS NOT NULL
    AND (p.organization_id = escalation_plan_of.org OR p.organization_id IS NULL)
    AND (NOT p.wedding_day OR escalation_plan_of.wedding_day)
  ORDER BY p.wedding_day DESC, p.organization_id IS NULL, p.id
  LIMIT 1
$$;

-- escalate_unacknowledged_alerts(at, default_wait_minutes, wedding_day_wait_minutes, batch_limit)
-- -> the unacknowledged incidents and alerts the next escalation beat pass
-- (incidents.escalation.escalations_run) takes at `at`, with the step and why (issue 18 §1).
--
-- Read-only: the beat stays the clock (it claims each step with FOR UPDATE SKIP LOCKED and pages);
-- this is the report for the platform's own jobs and DBAs, and tests/test_ws259_contract.py proves
-- it names exactly what escalations_run then takes. Same rules as incidents/escalation.py:
--   incidents: status open, not merged, not muted, among the batch_limit longest-detected such
--     incidents (detected_at, id); the plan of its organization (escalation_plan_of) with the
--     wedding-day variant while its wedding-day protocol is on at `at` or it is wedding_day_critical;
--     without a policy one step to team_lead after default_wait_minutes (wedding_day_wait_minutes on a
--     wedding day). Step k (0-based, escalation_step) of steps × repeat_count is due `wait` minutes
--     after its escalation clock (escalation_clock_at, else last_escalated_at, else created_at).
--   alerts: firing, severity critical or emergency, among the batch_limit oldest (starts_at, id):
--     due the plan's first wait (no wedding_day_critical for alerts) after its escalation clock
--     (escalation_clock_at, else created_at); it becomes 'escalated'.
-- The defaults are incidents.conf's (ESCALATION_DEFAULT_WAIT_MINUTES 5, ESCALATION_WEDDING_DAY_WAIT_MINUTES 2,
-- ESCALATION_BATCH_LIMIT 500); incidents.escalation_report passes the configured ones. Invoker's
-- rights: call it in a staff or service context to see every organization.
-- Columns: kind ('incident' | 'alert'), id, organization_id, title, step (1-based, the one due),
-- of_steps, level, policy, wedding_day, due_at, overdue_minutes, reason.
CREATE FUNCTION escalate_unacknowledged_alerts(at timestamptz DEFAULT now(), default_wait_minutes integer DEFAULT 5,
                                               wedding_day_wait_minutes integer DEFAULT 2,
                                               batch_limit integer DEFAULT 500)
RETURNS TABLE (kind text, id uuid, organization_id uuid, title text, step integer, of_steps integer,
               level escalation_level, policy text, wedding_day boolean, due_at timestamptz,
               overdue_minutes numeric, reason text)
LANGUAGE sql STABLE SET search_path = public AS $$
  WITH candidates AS (
    SELECT i.* FROM incidents i
    WHERE i.status = 'open' AND i.merged_into_id IS NULL AND i.muted_at IS NULL
    ORDER BY i.detected_at, i.id
    LIMIT batch_limit
  ), incident_plans AS (
    SELECT c.id, c.organization_id, c.title, c.escalation_step AS k,
           coalesce(c.escalation_clock_at, c.last_escalated_at, c.created_at) AS clock,
           wd.on AS wedding_day, pl.policy_name, coalesce(pl.repeat_count, 1) AS repeat_count,
           coalesce(pl.waits, ARRAY[CASE WHEN wd.on THEN wedding_day_wait_minutes ELSE default_wait_minutes END]) AS waits,
           coalesce(pl.levels, ARRAY['team_lead'::escalation_level]) AS levels
    FROM candidates c
    CROSS JOIN LATERAL (
      SELECT c.wedding_impact = 'wedding_day_critical'
             OR coalesce((SELECT p.active FROM wedding_day_protocol(c.organization_id, at) p
                           WHERE c.organization_id IS NOT NULL), false) AS on) wd
    LEFT JOIN LATERAL escalation_plan_of(c.organization_id, wd.on) pl ON true
  ), incident_due AS (
    SELECT ip.*, cardinality(ip.waits) * ip.repeat_count AS total,
           ip.waits[(ip.k % cardinality(ip.waits)) + 1] AS wait,
           ip.levels[(ip.k % cardinality(ip.levels)) + 1] AS next_level
    FROM incident_plans ip
  ), alert_candidates AS (
    SELECT a.* FROM alert_history a
    WHERE a.status = 'firing' AND a.severity IN ('critical', 'emergency')
    ORDER BY a.starts_at, a.id
    LIMIT batch_limit
  ), alert_plans AS (
    SELECT a.id, a.organization_id, a.title, coalesce(a.escalation_clock_at, a.created_at) AS clock, wd.on AS wedding_day,
           pl.policy_name,
           coalesce(pl.waits[1], CASE WHEN wd.on THEN wedding_day_wait_minutes ELSE default_wait_minutes END) AS wait,
           coalesce(pl.levels[1], 'team_lead'::escalation_level) AS next_level
    FROM alert_candidates a
    CROSS JOIN LATERAL (
      SELECT coalesce((SELECT p.active FROM wedding_day_protocol(a.organization_id, at) p
                        WHERE a.organization_id IS NOT NULL), false) AS on) wd
    LEFT JOIN LATERAL escalation_plan_of(a.organization_id, wd.on) pl ON true
  )
  SELECT 'incident', d.id, d.organization_id, d.title::text, d.k + 1, d.total, d.next_level,
         coalesce(d.policy_name, 'built-in default'), d.wedding_day, d.clock + make_interval(mins => d.wait),
         round((extract(epoch FROM at - (d.clock + make_interval(mins => d.wait))) / 60)::numeric, 1),
         format('unacknowledged: step %s of %s (%s after %s min) of policy ''%s''%s, counted from its escalation clock %s',
                d.k + 1, d.total, d.next_level, d.wait, coalesce(d.policy_name, 'built-in default'),
                CASE WHEN d.wedding_day THEN ', wedding day' ELSE '' END, d.clock)
  FROM incident_due d
  WHERE d.k < d.total AND at >= d.clock + make_interval(mins => d.wait)
  UNION ALL
  SELECT 'alert', p.id, p.organization_id, p.title::text, 1, 1, p.next_level,
         coalesce(p.policy_name, 'built-in default'), p.wedding_day, p.clock + make_interval(mins => p.wait),
         round((extract(epoch FROM at - (p.clock + make_interval(mins => p.wait))) / 60)::numeric, 1),
         format('critical alert still firing %s min after the portal saw it (first wait of policy ''%s''%s): becomes escalated',
                round((extract(epoch FROM at - p.clock) / 60)::numeric), coalesce(p.policy_name, 'built-in default'),
                CASE WHEN p.wedding_day THEN ', wedding day' ELSE '' END)
  FROM alert_plans p
  WHERE at >= p.clock + make_interval(mins => p.wait)
  ORDER BY 1 DESC, 10, 2
$$;
