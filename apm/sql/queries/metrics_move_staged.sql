-- Move the staged points into apm_metrics with their wedding context, set-based.
--
-- Contexts: per organization of the batch, every local date from its oldest
-- to its newest point (organizations.timezone), one wedding_context() call
-- each. When a batch's points of an organization all fall on one local date
-- (almost always: a batch is the last minute or so), that one context is
-- joined by organization alone; otherwise each row's local date picks its
-- context. RLS checks every inserted row (a vendor context writes only its
-- own organization; an organization it cannot see gets no context and is
-- refused). Rows go in in the batch's order (ids follow it).
WITH staged AS (
    DELETE FROM apm_metrics_stage_v3
    RETURNING n, organization_id, service, metric_name, value, unit, tags, recorded_at
), spans AS (
    SELECT s.organization_id, o.timezone,
           (min(s.recorded_at) AT TIME ZONE o.timezone)::date AS first_day,
           (max(s.recorded_at) AT TIME ZONE o.timezone)::date AS last_day
    FROM staged s JOIN organizations o ON o.id = s.organization_id
    GROUP BY s.organization_id, o.timezone
), contexts AS (
    SELECT p.organization_id, p.timezone, p.first_day = p.last_day AS one_day, d.day::date AS local_day,
           wedding_context(p.organization_id, d.day::date) AS wedding_context
    FROM spans p CROSS JOIN LATERAL generate_series(p.first_day, p.last_day, interval '1 day') AS d(day)
)
INSERT INTO apm_metrics (organization_id, service, metric_name, value, unit, tags, recorded_at, wedding_context)
SELECT s.organization_id, s.service, s.metric_name, s.value, s.unit, s.tags::jsonb, s.recorded_at, c.wedding_context
FROM staged s
LEFT JOIN contexts c
  ON c.organization_id = s.organization_id
 AND (c.one_day OR c.local_day = (s.recorded_at AT TIME ZONE c.timezone)::date)
ORDER BY s.n
