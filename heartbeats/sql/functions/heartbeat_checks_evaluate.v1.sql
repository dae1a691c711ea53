-- heartbeat_checks_evaluate(at): one tick of every heartbeat check, set-based.
--
-- Reads only the checks that can change state at `at`: status new/up/late
-- with next_expected_at <= at, or with a run started (last_start_at), through
-- the partial indexes heartbeat_checks_due and heartbeat_checks_started.
-- healthchecks.io's Check.get_status, with late stored, grace_start being
-- least(next_expected_at, last_start_at):
--   down  when at >= grace_start + grace
--         (reason run_timeout when the started run is what ran out, else timeout);
--   late  when at >= next_expected_at (status up);
--   up    when a late check with a started run is no longer past next_expected_at (edited).
-- The grace is grace_s, or while the wedding-day protocol is on the stricter
-- least(coalesce(wedding_day_grace_s, grace_s / 2), grace_s).
-- wedding_day_protocol(org, at) is asked once per distinct organization (not
-- per check), and only for organizations with a check past its wedding-day
-- grace, the only checks whose state (or the time it changed) depends on
-- it. A platform check (organization NULL) uses the wedding-day grace when
-- any organization's protocol is on (asked only when a platform check is
-- past its wedding-day grace, stopping at the first organization that is on).
-- A new check only goes down through a started run. Changed checks are
-- updated in one UPDATE (a row a ping changed meanwhile is left alone: its
-- status, next_expected_at and last_start_at must be those read) and one
-- heartbeat_flips row each is written, flipped_at being when the state really
-- changed (the end of the grace, the expected time); wedding_day: the
-- wedding-day grace applied. Returns the changed checks.
-- Runs as the invoker (row-level security applies: call it in a service context).
CREATE FUNCTION heartbeat_checks_evaluate(at timestamptz)
RETURNS TABLE (
    check_id uuid, organization_id uuid, old_status text, new_status text, reason text,
    flipped_at timestamptz, wedding_day boolean, grace_s integer
)
LANGUAGE sql VOLATILE AS $$
  WITH due AS (
    SELECT c.id, c.organization_id, c.status::text AS status, c.next_expected_at, c.last_start_at,
           c.grace_s, c.wedding_day_grace_s
      FROM heartbeat_checks c
     WHERE c.status IN ('new', 'up', 'late') AND c.next_expected_at <= at
    UNION
    SELECT c.id, c.organization_id, c.status::text, c.next_expected_at, c.last_start_at,
           c.grace_s, c.wedding_day_grace_s
      FROM heartbeat_checks c
     WHERE c.status IN ('new', 'up', 'late') AND c.last_start_at IS NOT NULL
  ),
  candidates AS MATERIALIZED (
    SELECT d.*, least(d.next_expected_at, d.last_start_at) AS grace_start,
           least(coalesce(d.wedding_day_grace_s, d.grace_s / 2), d.grace_s) AS wd_grace,
           at >= least(d.next_expected_at, d.last_start_at)
                 + make_interval(secs => least(coalesce(d.wedding_day_grace_s, d.grace_s / 2), d.grace_s))
             AS past_wd_grace
      FROM due d
  ),
  candidate_orgs AS MATERIALIZED (
    SELECT DISTINCT k.organization_id AS id FROM candidates k
     WHERE k.organization_id IS NOT NULL AND k.past_wd_grace
  ),
  orgs AS MATERIALIZED (
    SELECT co.id, wp.active FROM candidate_orgs co CROSS JOIN LATERAL wedding_day_protocol(co.id, at) wp
  ),
  platform AS MATERIALIZED (
    SELECT CASE WHEN EXISTS (SELECT 1 FROM candidates k WHERE k.organization_id IS NULL AND k.past_wd_grace)
                THEN EXISTS (SELECT 1 FROM organizations o CROSS JOIN LATERAL wedding_day_protocol(o.id, at) wp
                              WHERE wp.active)
                ELSE false END AS active
  ),
  decided AS (
    SELECT k.*, w.wd, g.grace,
           CASE
             WHEN k.grace_start IS NOT NULL AND at >= k.grace_start + make_interval(secs => g.grace) THEN 'down'
             WHEN k.status = 'new' THEN 'new'
             WHEN k.next_expected_at <= at THEN 'late'
             ELSE 'up'
           END AS target
      FROM candidates k
      LEFT JOIN orgs ON orgs.id = k.organization_id
     CROSS JOIN platform p
     CROSS JOIN LATERAL (
       SELECT coalesce(k.past_wd_grace, false)
              AND CASE WHEN k.organization_id IS NULL THEN p.active ELSE coalesce(orgs.active, false) END AS wd
     ) w
     CROSS JOIN LATERAL (SELECT CASE WHEN w.wd THEN k.wd_grace ELSE k.grace_s END AS grace) g
  ),
  changed AS (
    UPDATE heartbeat_checks c
       SET status = d.target,
           status_changed_at = CASE d.target
             WHEN 'down' THEN d.grace_start + make_interval(secs => d.grace)
             WHEN 'late' THEN d.next_expected_at
             ELSE at END
      FROM decided d
     WHERE c.id = d.id AND d.target <> d.status
       AND c.status = d.status
       AND c.next_expected_at IS NOT DISTINCT FROM d.next_expected_at
       AND c.last_start_at IS NOT DISTINCT FROM d.last_start_at
    RETURNING c.id, c.organization_id, d.status AS old_status, d.target AS new_status,
              CASE d.target
                WHEN 'down' THEN CASE WHEN d.last_start_at IS NOT NULL
                                       AND (d.next_expected_at IS NULL OR d.last_start_at < d.next_expected_at)
                                      THEN 'run_timeout' ELSE 'timeout' END
                WHEN 'late' THEN 'late'
                ELSE 'edited' END AS reason,
              c.status_changed_at AS flipped_at, d.wd AS wedding_day, d.grace AS grace_s
  ),
  flips AS (
    INSERT INTO heartbeat_flips (check_id, organization_id, flipped_at, old_status, new_status, reason, wedding_day)
    SELECT x.id, x.organization_id, x.flipped_at, x.old_status, x.new_status, x.reason, x.wedding_day FROM changed x
  )
  SELECT x.id, x.organization_id, x.old_status, x.new_status, x.reason, x.flipped_at, x.wedding_day, x.grace_s
    FROM changed x
$$;
