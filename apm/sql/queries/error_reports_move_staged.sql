-- Move the staged error reports into error_reports with their pattern ids and
-- wedding context (the organization-local date at occurred_at), set-based:
-- one wedding_context() per distinct (organization, local date).
-- %(received_at)s: the ingest time.
WITH staged AS (
    DELETE FROM apm_errors_stage RETURNING *
), located AS (
    SELECT s.*, (s.occurred_at AT TIME ZONE o.timezone)::date AS local_day
    FROM staged s LEFT JOIN organizations o ON o.id = s.organization_id
), contexts AS (
    SELECT d.organization_id, d.local_day, wedding_context(d.organization_id, d.local_day) AS wedding_context
    FROM (SELECT DISTINCT organization_id, local_day FROM located) d
)
INSERT INTO error_reports (organization_id, pattern_id, service, error_type, message, stack_trace,
                           level, environment, release, url, tags, occurred_at, received_at, wedding_context)
SELECT s.organization_id, p.id, s.service, s.error_type, s.message, s.stack_trace, s.level,
       s.environment, s.release, s.url, s.tags, s.occurred_at, %(received_at)s, c.wedding_context
FROM located s
JOIN error_patterns p ON p.organization_id = s.organization_id AND p.fingerprint = s.fingerprint
LEFT JOIN contexts c ON c.organization_id = s.organization_id AND c.local_day = s.local_day
