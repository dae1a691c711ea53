-- error_trending_analysis: per error pattern, reports in the last 24 h
-- against the 24 h before; trend = last / previous (NULL when previous is 0).
CREATE VIEW error_trending_analysis WITH (security_invoker = true) AS
SELECT p.organization_id, p.id AS pattern_id, p.service, p.error_type, p.normalized_message, p.status, p.level,
       p.occurrence_count, p.last_seen,
       count(r.id) FILTER (WHERE r.occurred_at > now() - interval '24 hours') AS reports_last_24h,
       count(r.id) FILTER (WHERE r.occurred_at <= now() - interval '24 hours') AS reports_previous_24h,
       round((count(r.id) FILTER (WHERE r.occurred_at > now() - interval '24 hours'))::numeric
             / NULLIF(count(r.id) FILTER (WHERE r.occurred_at <= now() - interval '24 hours'), 0), 2) AS trend
FROM error_patterns p
LEFT JOIN error_reports r ON r.pattern_id = p.id AND r.occurred_at > now() - interval '48 hours'
GROUP BY p.id;
