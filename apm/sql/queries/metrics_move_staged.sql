-- Move the staged points into apm_metrics with their wedding context, set-based:
-- each row's organization-local date (organizations.timezone at recorded_at),
-- one wedding_context() per distinct (organization, local date), joined back.
-- RLS checks every inserted row (a vendor context writes only its own
-- organization; an organization it cannot see gets no context and is refused).
WITH staged AS (
    DELETE FROM apm_metrics_stage
    RETURNING organization_id, service, metric_name, value, unit, tags, recorded_at
), located AS (
    SELECT s.*, (s.recorded_at AT TIME ZONE o.timezone)::date AS local_day
    FROM staged s LEFT JOIN organizations o ON o.id = s.organization_id
), contexts AS (
    SELECT d.organization_id, d.local_day, wedding_context(d.organization_id, d.local_day) AS wedding_context
    FROM (SELECT DISTINCT organization_id, local_day FROM located) d
)
INSERT INTO apm_metrics (organization_id, service, metric_name, value, unit, tags, recorded_at, wedding_context)
SELECT l.organization_id, l.service, l.metric_name, l.value, l.unit, l.tags, l.recorded_at, c.wedding_context
FROM located l
LEFT JOIN contexts c ON c.organization_id = l.organization_id AND c.local_day = l.local_day
