-- Backfill what exists: one wedding_context() call per distinct organization
-- and local date, in the service context (the tables FORCE row-level
-- security, which binds their owner too).
SELECT set_config('app.role', 'service', true);
WITH days AS (
  SELECT DISTINCT m.organization_id, (m.recorded_at AT TIME ZONE o.timezone)::date AS day
  FROM apm_metrics m JOIN organizations o ON o.id = m.organization_id
), ctx AS (
  SELECT d.organization_id, d.day, wedding_context(d.organization_id, d.day) AS c FROM days d
)
UPDATE apm_metrics m SET wedding_context = ctx.c
FROM ctx, organizations o
WHERE o.id = m.organization_id AND ctx.organization_id = m.organization_id
  AND ctx.day = (m.recorded_at AT TIME ZONE o.timezone)::date;
WITH days AS (
  SELECT DISTINCT r.organization_id, (r.occurred_at AT TIME ZONE o.timezone)::date AS day
  FROM error_reports r JOIN organizations o ON o.id = r.organization_id
), ctx AS (
  SELECT d.organization_id, d.day, wedding_context(d.organization_id, d.day) AS c FROM days d
)
UPDATE error_reports r SET wedding_context = ctx.c
FROM ctx, organizations o
WHERE o.id = r.organization_id AND ctx.organization_id = r.organization_id
  AND ctx.day = (r.occurred_at AT TIME ZONE o.timezone)::date;
SELECT set_config('app.role', '', true);
