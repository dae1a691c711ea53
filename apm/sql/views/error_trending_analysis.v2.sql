-- error_trending_analysis (WS-259), version 2 (issue 18 §1): the columns of version 1
-- (apm/sql/0013_monitoring_sql_objects.sql) and, appended, the pattern's severity
-- (error_severity_type of its worst level) and its wedding-day reports of the last 24 h.
CREATE OR REPLACE VIEW error_trending_analysis WITH (security_invoker = true) AS
SELECT p.organization_id, p.id AS pattern_id, p.service, p.error_type, p.normalized_message, p.status, p.level,
       p.occurrence_count, p.last_seen,
       count(r.id) FILTER (WHERE r.occurred_at > now() - interval '24 hours') AS reports_last_24h,
       count(r.id) FILTER (WHERE r.occurred_at <= now() - interval '24 hours') AS reports_previous_24h,
       round((count(r.id) FILTER (WHERE r.occurred_at > now() - interval '24 hours'))::numeric
             / NULLIF(count(r.id) FILTER (WHERE r.occurred_at <= now() - interval '24 hours'), 0), 2) AS trend,
       (CASE p.level WHEN 'info' THEN 'low' WHEN 'warning' THEN 'medium' WHEN 'error' THEN 'high'
                     ELSE 'critical' END)::error_severity_type AS severity,
       count(r.id) FILTER (WHERE r.occurred_at > now() - interval '24 hours' AND r.is_wedding_day)
         AS wedding_day_reports_last_24h
FROM error_patterns p
LEFT JOIN error_reports r ON r.pattern_id = p.id AND r.occurred_at > now() - interval '48 hours'
GROUP BY p.id;
